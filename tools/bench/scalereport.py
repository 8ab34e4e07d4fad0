#!/usr/bin/env python3
"""Markdown for tools/bench/scale.sh: its TSVs -> tables (stdlib only).

    scalereport.py --tmp DIR --tables conns,bodies --out RESULTS.md

Each cell is the median over rounds; the ratio columns are the median of
the per-round ratios of canaryd to the peer measured in the same round
(req/s, MB/s: higher is better for canaryd above 1; p99, CPU, memory:
lower is better below 1).  Every round's figure is listed after the
medians, so the spread is there to see.
"""

import argparse
import csv
import os
import statistics
import sys


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=0):
    if v is None:
        return "n/a"
    return ("%%.%df" % nd) % v


def ratio(by_round, a, b, key):
    """Median over rounds of row[a][key] / row[b][key]."""
    out = []
    for rnd in by_round.values():
        x = num(rnd.get(a, {}).get(key))
        y = num(rnd.get(b, {}).get(key))
        if x is not None and y:
            out.append(x / y)
    return med(out)


def group(rs, keys):
    """{(keys...): {round: {target: row}}}"""
    g = {}
    for r in rs:
        k = tuple(r[x] for x in keys)
        g.setdefault(k, {}).setdefault(r["round"], {})[r["target"]] = r
    return g


def targets_of(rs):
    seen = []
    for t in ["direct", "nginx", "haproxy", "canaryd"]:
        if any(r["target"] == t for r in rs):
            seen.append(t)
    return seen


def conns_table(rs, out):
    ts = targets_of(rs)
    peers = [t for t in ts if t in ("nginx", "haproxy")]
    g = group(rs, ["conns"])
    out.append("## Connections: 1 / 4 / 50 and many with requests in flight\n")
    out.append("req/s, p99 (ms), proxy CPU per request (µs, master and "
               "workers), memory per connection (B: RSS growth of the "
               "proxy's processes / connections; at the largest count "
               "idle / with a request in flight). Median of rounds.\n")
    hdr = ["conns", "figure"] + ts + ["canaryd/%s" % p for p in peers]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    figures = [("req/s", "rps", 0), ("p99 ms", "p99_us", 2),
               ("CPU µs/req", "cpu_us_per_req", 1),
               ("errors", "errors", 0),
               ("RSS B/conn", "rss_growth_kb", 0),
               ("idle B/conn", "idle_b_per_conn", 0),
               ("in-flight B/conn", "busy_b_per_conn", 0)]
    for (c,), by_round in sorted(g.items(), key=lambda kv: int(kv[0][0])):
        for name, key, nd in figures:
            cells = []
            allna = True
            for t in ts:
                vals = []
                for rnd in by_round.values():
                    v = num(rnd.get(t, {}).get(key))
                    if v is not None and key == "p99_us":
                        v /= 1000
                    if v is not None and key == "rss_growth_kb":
                        v = v * 1024 / int(c)
                    vals.append(v)
                m = med(vals)
                allna = allna and m is None
                cells.append(fmt(m, nd))
            if allna:
                continue
            for p in peers:
                if key == "errors":
                    cells.append("")
                    continue
                rr = ratio(by_round, "canaryd", p, key)
                cells.append(fmt(rr, 2) + "×" if rr is not None else "n/a")
            out.append("| %s | %s | %s |" % (c, name, " | ".join(cells)))
    out.append("")


def paired(pairs, pinned="0"):
    """{(dir, proxy): [per-round ratio of the proxied transfer to the
    direct one beside it]} from pairs.tsv, the pinned pairs or the
    others."""
    by = {}
    for r in pairs:
        if r["beside"] == "direct" or r["errors"] != "0" or \
                r.get("pinned", "0") != pinned:
            continue
        k = (int(r["round"]), r["beside"], r["dir"])
        by.setdefault(k, {})[r["through"]] = num(r["mb_s"])
    out = {}
    for (rnd, t, d), v in sorted(by.items()):
        if v.get(t) is not None and v.get("direct"):
            out.setdefault((d, t), []).append(v[t] / v["direct"])
    return out


def pairs_table(pairs, out):
    shared, own = paired(pairs), paired(pairs, "1")
    if not shared and not own:
        return
    out.append("### The largest body against a direct transfer beside it\n")
    out.append("Each proxied transfer of the largest body has a direct one "
               "right before it (odd rounds) or after it (even rounds); "
               "the figure is the proxied MB/s over that direct MB/s, per "
               "round and their median. *Shared cores*: the proxy, curl "
               "and the backend on all the host's cores (the canaryd/direct "
               "cells of the table above for that body are this median); "
               "on two cores the proxy's CPU is then taken from the "
               "client's and the server's, and the ratio follows the total "
               "CPU per GiB. *Own core*: the proxy on CPU 1, curl and the "
               "backend on CPU 0 (direct too), as a proxy in front of other "
               "hosts runs.\n")
    out.append("| body | proxy | cores | median | every round |")
    out.append("|---|---|---|---|---|")
    for d, t in sorted(set(shared) | set(own)):
        for what, pr in (("shared", shared), ("own", own)):
            v = pr.get((d, t))
            if v:
                out.append("| %s | %s | %s | %.2f× | %s |" % (
                    "GET" if d == "get" else "POST", t, what, med(v),
                    " ".join("%.2f" % x for x in v)))
    out.append("")


def bodies_table(rs, out, pairs=()):
    pr = paired(pairs)
    big = max((int(r["bytes"]) for r in rs), default=0)
    ts = targets_of(rs)
    peers = [t for t in ts if t in ("direct", "nginx", "haproxy")]
    g = group(rs, ["dir", "bytes"])
    out.append("## Body size: 1 KiB / 1 MiB / 1 GiB, download and upload\n")
    out.append("MB/s through each (1 KiB and 1 MiB: wrk -c4, one body per "
               "request, content-length; the largest: one curl, the upload "
               "chunked from a pipe), CPU seconds per GiB moved (all the "
               "proxy's processes; direct: the backend's) and the largest "
               "growth of one proxy process's peak RSS during the transfer (KiB; "
               "direct: the backend's). "
               "Median of rounds; ratios are canaryd to the peer in the same "
               "round.\n")
    hdr = ["body", "figure"] + ts + ["canaryd/%s" % p for p in peers]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))

    def size(n):
        n = int(n)
        for unit, s in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if n >= s and n % s == 0:
                return "%d %s" % (n // s, unit)
        return "%d B" % n
    for (d, n), by_round in sorted(g.items(), key=lambda kv: (kv[0][0],
                                                              int(kv[0][1]))):
        what = "%s %s" % ("GET" if d == "get" else "POST", size(n))
        for name, key, nd in (("MB/s", "mb_s", 1),
                              ("CPU s/GiB", "cpu_s_per_gib", 2),
                              ("RSS growth KiB", "rss_growth_kb", 0),
                              ("errors", "errors", 0)):
            cells = [fmt(med(num(rnd.get(t, {}).get(key))
                             for rnd in by_round.values()), nd) for t in ts]
            for p in peers:
                if key not in ("mb_s", "cpu_s_per_gib") or (
                        p == "direct" and key != "mb_s"):
                    cells.append("")
                    continue
                rr = ratio(by_round, "canaryd", p, key)
                if p == "direct" and int(n) == big and \
                        (d, "canaryd") in pr:
                    rr = med(pr[(d, "canaryd")])
                cells.append(fmt(rr, 2) + "×" if rr is not None else "n/a")
            out.append("| %s | %s | %s |" % (what, name, " | ".join(cells)))
    out.append("")


def per_round(rs, keys, out, title):
    out.append("<details><summary>%s, every round</summary>\n" % title)
    out.append("| " + " | ".join(keys) + " |")
    out.append("|" + "---|" * len(keys))
    for r in rs:
        out.append("| " + " | ".join(r.get(k, "") for k in keys) + " |")
    out.append("\n</details>\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--tables", default="conns,bodies")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    tables = a.tables.split(",")
    out = ["# canaryd scale tables\n", "```"]
    with open(os.path.join(a.tmp, "meta.txt")) as f:
        out.append(f.read().rstrip())
    out.append("```\n")
    if "conns" in tables:
        rs = rows(os.path.join(a.tmp, "conns.tsv"))
        conns_table(rs, out)
        per_round(rs, list(rs[0].keys()) if rs else [], out, "Connections")
    if "bodies" in tables:
        rs = rows(os.path.join(a.tmp, "bodies.tsv"))
        pairs = rows(os.path.join(a.tmp, "pairs.tsv"))
        bodies_table(rs, out, pairs)
        pairs_table(pairs, out)
        per_round(rs, list(rs[0].keys()) if rs else [], out, "Body size")
    text = "\n".join(out) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
