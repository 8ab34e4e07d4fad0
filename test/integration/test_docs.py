"""The man pages: lint clean, every field the config loader accepts is
documented in canaryd.yaml(5), every field and value it refuses is named in
the Envoy compatibility page, whose sections are the ones the source cites
(as "canaryd-envoy(7), RETRIES"), and `make install` into a DESTDIR gives a
binary, the three pages, the sample config and the systemd unit."""

import glob
import os
import re
import shutil
import subprocess
import tempfile

from itestlib import TestFailure, eq, expect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
YAML_PAGE = os.path.join(ROOT, "man", "canaryd.yaml.5")
ENVOY_PAGE = os.path.join(ROOT, "man", "canaryd-envoy.7")
PAGES = [os.path.join(ROOT, "man", "canaryd.8"), YAML_PAGE, ENVOY_PAGE]

# The sections of canaryd-envoy(7) the source cites, in the page's order.
ENVOY_SECTIONS = [
    "NAME", "DESCRIPTION", "CONFIGURATION", "ROUTING", "WEIGHTED CLUSTERS",
    "RETRIES", "CIRCUIT BREAKERS", "HEALTH CHECKING", "OUTLIER DETECTION",
    "LOCAL REPLIES", "HEADERS", "HTTP/1.1", "ADMIN INTERFACE", "STATISTICS",
    "RELOAD AND DRAIN", "BEYOND ENVOY", "NOT SUPPORTED", "SEE ALSO",
]

# A citation: the page, a comma or colon, then one or more section names
# (upper-case words) joined by commas or "and", as in
# "canaryd-envoy(7), LOCAL REPLIES and HEADERS".
CITATION = re.compile(r"canaryd-envoy\(7\)")
CITATION_SEP = re.compile(r"\s*[,:]\s*")
SECTION_NAME = r"[A-Z][A-Z0-9/.]*(?: [A-Z][A-Z0-9/.]*)*"
SECTION_LIST = re.compile(SECTION_NAME + r"(?:\s*(?:,|\band\b)\s*" +
                          SECTION_NAME + r")*")
SOURCE_SUFFIXES = (".c", ".h", ".py")


def make_build_args(env):
    """Install the binary the suite is testing (plain or sanitizer build)."""
    rel = os.path.relpath(os.path.abspath(env.build), ROOT)
    return (["SANITIZE=1"] if rel == "build/san" else []) + ["BUILD=" + rel]


def test_man_pages_lint_clean(env):
    if shutil.which("mandoc") is None:
        raise TestFailure("mandoc missing: tools/deps.sh installs it")
    st, out, err = env.run(["mandoc", "-Tlint", "-Wwarning"] + PAGES)
    eq((st, out + err), (0, ""), "mandoc -Tlint -Wwarning")


def test_every_config_field_is_documented(env):
    # `canaryd --mode schema` prints every field the loader accepts, from
    # the tables it loads with: a "#" header, then one line a field, its
    # path first ("static_resources.clusters[].connect_timeout"), columns
    # separated by tabs.  A field is documented when its name is a word of
    # the page.
    st, out, err = env.run([env.canaryd_bin, "--mode", "schema"])
    eq(st, 0, "canaryd --mode schema exit status: " + err)
    paths = [line.split("\t")[0] for line in out.splitlines()
             if line and not line.startswith("#")]
    fields = set(p.rsplit(".", 1)[-1].replace("[]", "") for p in paths)
    expect(len(fields) > 100, "field names in the schema: %d" % len(fields))
    with open(YAML_PAGE) as f:
        words = set(re.findall(r"[A-Za-z0-9_]+", f.read()))
    missing = sorted(fields - words)
    eq(missing, [], "fields the loader accepts but canaryd.yaml(5) omits")


def test_every_refused_field_is_named_in_canaryd_envoy(env):
    # CK_REJECT rows and CONF_ENUM_NOSUP values are what the loader
    # refuses as "not supported by canaryd"; the page must say so.
    src = ""
    for fn in sorted(glob.glob(os.path.join(ROOT, "shared", "conf*.c"))):
        with open(fn) as f:
            src += f.read()
    refused = set(re.findall(r'\{\s*"([a-z0-9_]+)",\s*CK_REJECT', src))
    values = set(re.findall(r'\{\s*"([A-Z0-9_]+)",\s*CONF_ENUM_NOSUP', src))
    expect(len(refused) > 100 and len(values) > 5,
           "refusals found in shared/conf*.c: %d fields, %d values" %
           (len(refused), len(values)))
    with open(ENVOY_PAGE) as f:
        words = set(re.findall(r"[A-Za-z0-9_]+", f.read()))
    eq(sorted((refused | values) - words), [],
       "fields and values the loader refuses but canaryd-envoy(7) omits")


def envoy_page_sections():
    with open(ENVOY_PAGE) as f:
        return [s.strip().strip('"') for s in
                re.findall(r"^\.Sh (.+)$", f.read(), re.M)]


def source_citations():
    """[(file, line, section)] for every canaryd-envoy(7) citation in the
    tree's C and Python sources; section is "" for a citation whose comma
    or colon is followed by no section name.  A comment's line breaks and
    leaders ("*", "#", "//") read as spaces, so a citation may wrap."""
    found = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and
                         d != "build")
        for fn in sorted(files):
            if not fn.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.join(top, fn)
            with open(path, errors="replace") as f:
                text = f.read()
            for m in CITATION.finditer(text):
                tail = re.sub(r"\n[ \t]*(?:\*(?!/)|#|//)?[ \t]*", " ",
                              text[m.end():m.end() + 400])
                sep = CITATION_SEP.match(tail)
                if sep is None:
                    continue    # the page named, no section cited
                where = (os.path.relpath(path, ROOT),
                         text.count("\n", 0, m.start()) + 1)
                names = SECTION_LIST.match(tail, sep.end())
                if names is None:
                    found.append(where + ("",))
                    continue
                for n in re.split(r"\s*(?:,|\band\b)\s*", names.group(0)):
                    found.append(where + (n.rstrip("."),))
    return found


def test_canaryd_envoy_has_the_cited_sections(env):
    have = envoy_page_sections()
    missing = [s for s in ENVOY_SECTIONS if s not in have]
    eq(missing, [], "sections canaryd-envoy(7) must have")
    order = [s for s in have if s in ENVOY_SECTIONS]
    eq(order, ENVOY_SECTIONS, "canaryd-envoy(7) section order")


def test_every_citation_names_a_section_of_canaryd_envoy(env):
    have = set(envoy_page_sections())
    cites = source_citations()
    bad = ["%s:%d: %r" % (f, n, s) for f, n, s in cites if s not in have]
    eq(bad, [], "citations of canaryd-envoy(7) sections the page lacks")
    # the scan itself works: the tree cites the page in many places
    expect(len(cites) >= 15, "citations found in the source: %d" %
           len(cites))


def test_install_into_destdir(env):
    dest = tempfile.mkdtemp(prefix="canaryd-install-")
    try:
        st = subprocess.run(["make", "-s", "-C", ROOT, "install",
                             "PREFIX=/usr/local", "DESTDIR=" + dest,
                            ] + make_build_args(env), capture_output=True,
                            timeout=120)
        eq(st.returncode, 0, "make install: %s" % st.stderr.decode()[-500:])
        for rel in ("usr/local/sbin/canaryd",
                    "usr/local/share/man/man8/canaryd.8",
                    "usr/local/share/man/man5/canaryd.yaml.5",
                    "usr/local/share/man/man7/canaryd-envoy.7",
                    "usr/local/lib/systemd/system/canaryd.service",
                    "etc/canary/envoy-canary.yaml"):
            expect(os.path.isfile(os.path.join(dest, rel)),
                   "%s installed" % rel)
        unit = open(os.path.join(dest, "usr/local/lib/systemd/system/"
                                 "canaryd.service")).read()
        expect("ExecStart=/usr/local/sbin/canaryd -f" in unit and
               "ExecReload=/bin/kill -HUP $MAINPID" in unit,
               "unit's ExecStart/ExecReload:\n" + unit)
        # an operator's edited config survives a second install
        cfg = os.path.join(dest, "etc/canary/envoy-canary.yaml")
        with open(cfg, "a") as f:
            f.write("# edited\n")
        subprocess.run(["make", "-s", "-C", ROOT, "install",
                        "PREFIX=/usr/local", "DESTDIR=" + dest,
                       ] + make_build_args(env), capture_output=True,
                       timeout=120, check=True)
        expect(open(cfg).read().endswith("# edited\n"),
               "install overwrote an existing config")
        st, out, err = env.run([os.path.join(dest, "usr/local/sbin/canaryd"),
                                "--mode", "validate", "-f", cfg])
        eq(st, 0, "installed canaryd validates the installed config: " + err)
        # the pages render, and man finds them under the prefix
        st, out, err = env.run(["mandoc", "-Tutf8", os.path.join(
            dest, "usr/local/share/man/man8/canaryd.8")])
        eq(st, 0, "mandoc renders canaryd.8")
        expect("pre-fork HTTP/1.1 reverse proxy" in out, "NAME line")
        envoy7 = os.path.join(dest, "usr/local/share/man/man7/canaryd-envoy.7")
        st, out, err = env.run(["mandoc", "-Tlint", "-Wwarning", envoy7])
        eq((st, out + err), (0, ""), "mandoc -Tlint -Wwarning on the "
           "installed canaryd-envoy.7")
        st, out, err = env.run(["mandoc", "-Tutf8", envoy7])
        eq(st, 0, "mandoc renders canaryd-envoy.7")
        expect("differs on" in out and "purpose" in out,
               "canaryd-envoy.7 NAME line")
        if shutil.which("man"):
            for page in (["canaryd"], ["7", "canaryd-envoy"]):
                p = subprocess.run(["man", "-w"] + page, capture_output=True,
                                   env=dict(os.environ, MANPATH=os.path.join(
                                       dest, "usr/local/share/man")),
                                   timeout=20)
                eq(p.returncode, 0, "man -w %s with MANPATH under DESTDIR" %
                   " ".join(page))
    finally:
        shutil.rmtree(dest, ignore_errors=True)
