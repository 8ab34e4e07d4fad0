#!/usr/bin/env python3
"""Check the source tree's layers and include graph (make check-layers).

Layers, bottom up: shared/ (both processes), worker/ (the data plane),
master/ (the parent, which forks workers).  shared/ includes only
shared/; worker/ includes worker/ and shared/, never master/; master/
includes master/ and shared/, and of worker/ only the worker's entry
point, worker/worker.h.

Modules: x.c, x.h, x_part.c (a module cut into files) and x-int.h (the
private header of those files) in one folder are the module "folder/x";
a types header x-t.h is a module of its own and may include only system
headers and other -t.h headers.  Module A depends on module B when a file of A
includes B's header.  The dependency graph must have no cycle: a cycle
means two modules cannot be read, tested or changed one without the
other.

Prints every violation with the chain of includes that makes it, and
exits 1 if there is any; 0 and one summary line otherwise.
"""
import os
import re
import sys

DIRS = ("shared", "worker", "master")
# which folders each folder may include
ALLOWED = {
    "shared": {"shared"},
    "worker": {"worker", "shared"},
    "master": {"master", "shared"},
}
# single files of another layer a layer may include
ALLOWED_FILES = {
    "master": {"worker/worker.h"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def module_of(path):
    """folder/x for x.c, x.h, x_part.c and x-int.h; folder/x-t for x-t.h."""
    folder, name = os.path.split(os.path.splitext(path)[0])
    if name.endswith("-t"):
        return os.path.join(folder, name)
    return os.path.join(folder, re.split(r"[_-]", name)[0])


def resolve(src, inc, root):
    """The repository path an #include "inc" in src names, or None."""
    for cand in (os.path.join(os.path.dirname(src), inc), inc):
        cand = os.path.normpath(cand)
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    files = []
    for d in DIRS:
        for name in sorted(os.listdir(os.path.join(root, d))):
            if name.endswith((".c", ".h")):
                files.append(os.path.join(d, name))

    problems = []
    deps = {}       # module -> {module: (file, line, included path)}
    for f in files:
        layer = f.split("/")[0]
        mod = module_of(f)
        deps.setdefault(mod, {})
        with open(os.path.join(root, f), encoding="utf-8") as fp:
            for lineno, line in enumerate(fp, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = resolve(f, m.group(1), root)
                if target is None:
                    problems.append(f"{f}:{lineno}: #include \"{m.group(1)}\""
                                    " names no file of the tree")
                    continue
                tlayer = target.split("/")[0]
                if (tlayer in ALLOWED and tlayer not in ALLOWED[layer]
                        and target not in ALLOWED_FILES.get(layer, ())):
                    problems.append(f"{f}:{lineno}: {layer}/ includes "
                                    f"{target}: {layer}/ may include only "
                                    + " and ".join(sorted(ALLOWED[layer])))
                if f.endswith("-t.h") and not target.endswith("-t.h"):
                    problems.append(f"{f}:{lineno}: a types header includes"
                                    f" {target}; -t.h headers include only"
                                    " system headers and other -t.h headers")
                tmod = module_of(target)
                if tmod != mod and tmod not in deps[mod]:
                    deps[mod][tmod] = (f, lineno, target)

    # cycles: Tarjan's strongly connected components, then one shortest
    # cycle through each component for the report
    index, low, stack, on, comps = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in deps.get(v, {}):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(deps):
        if v not in index:
            strong(v)

    for comp in comps:
        members = set(comp)
        start = comp[0]
        # breadth-first back to start, inside the component
        prev, queue, seen = {}, [start], {start}
        end = None
        while queue and end is None:
            v = queue.pop(0)
            for w in sorted(deps.get(v, {})):
                if w not in members:
                    continue
                if w == start:
                    end = v
                    break
                if w not in seen:
                    seen.add(w)
                    prev[w] = v
                    queue.append(w)
        chain = [end]
        while chain[-1] != start:
            chain.append(prev[chain[-1]])
        chain.reverse()
        chain.append(start)
        lines = [f"include cycle among {len(comp)} modules: "
                 + ", ".join(comp)]
        for a, b in zip(chain, chain[1:]):
            f, lineno, target = deps[a][b]
            lines.append(f"    {f}:{lineno}: includes {target}")
        problems.append("\n".join(lines))

    for p in problems:
        print(f"check-layers: {p}")
    if problems:
        print(f"check-layers: {len(problems)} problem(s)")
        return 1
    print(f"check-layers: {len(files)} files, {len(deps)} modules: "
          "layers kept, no include cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
