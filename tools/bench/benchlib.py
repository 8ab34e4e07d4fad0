#!/usr/bin/env python3
"""Helpers for run.sh (stdlib only, Python >= 3.9).

  split  --port P --n N --path /api     sequential keep-alive GETs, count v1/v2
  idle   --port P --n N --root PID      RSS/PSS delta of N idle keep-alive conns
  report --tmp DIR --out FILE           aggregate the TSVs run.sh wrote -> markdown
  routes-report --tmp DIR --out FILE    the route-count table of routes.sh -> markdown
  mem    --root PID                     "rss_kb pss_kb max_child_rss_kb" of a process tree
  reload --pid P --port P --config F    SIGHUP to a new route table answering, ms

Only ever talks to 127.0.0.1. Every loop is bounded in count and time.
"""
import argparse
import http.client
import os
import re
import resource
import signal
import socket
import statistics
import sys
import time

HOST = "127.0.0.1"


# --------------------------------------------------------------- processes
def tree(root):
    """root pid + all its descendants (read from /proc)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                parent[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                pass
    keep, changed = {root}, True
    while changed:
        changed = False
        for p, pp in parent.items():
            if p not in keep and pp in keep:
                keep.add(p)
                changed = True
    return sorted(p for p in keep if p in parent)


def mem_kb(pids):
    """(sum VmRSS, sum Pss) in KiB over pids."""
    rss = pss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                rss += sum(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
            with open(f"/proc/{p}/smaps_rollup") as f:
                pss += sum(int(l.split()[1]) for l in f if l.startswith("Pss:"))
        except OSError:
            pass
    return rss, pss


# --------------------------------------------------------------- HTTP bits
def read_response(sock, deadline):
    """Read one HTTP/1.1 response with Content-Length; return (status, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if time.monotonic() > deadline:
            raise TimeoutError("header timeout")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before response")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    clen = 0
    for l in lines[1:]:
        k, _, v = l.partition(":")
        if k.strip().lower() == "content-length":
            clen = int(v.strip())
    while len(body) < clen:
        if time.monotonic() > deadline:
            raise TimeoutError("body timeout")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk
    return status, body


def cmd_split(a):
    """Sequential GETs over one keep-alive connection (reconnect on error)."""
    counts = {"v1": 0, "v2": 0, "other": 0, "errors": 0, "ctype_bad": 0, "conns": 1}
    conn = http.client.HTTPConnection(HOST, a.port, timeout=5)
    t_end = time.monotonic() + a.max_seconds
    for _ in range(a.n):
        if time.monotonic() > t_end:
            counts["errors"] += 1
            break
        try:
            conn.request("GET", a.path)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                counts["other"] += 1
            elif b'"version":"v1"' in body:
                counts["v1"] += 1
            elif b'"version":"v2"' in body:
                counts["v2"] += 1
            else:
                counts["other"] += 1
            if not (r.getheader("Content-Type") or "").startswith("application/json"):
                counts["ctype_bad"] += 1
        except (OSError, http.client.HTTPException):
            counts["errors"] += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, a.port, timeout=5)
            counts["conns"] += 1
    conn.close()
    print("SPLIT " + " ".join(f"{k}={v}" for k, v in counts.items()))


def cmd_idle(a):
    """Open N conns, measure; one request on each (then idle), measure."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.n + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        if min(want, hard) < want:
            sys.exit(f"idle: need {want} fds, hard limit is {hard}")
    req = f"GET {a.path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    deadline = time.monotonic() + a.max_seconds

    time.sleep(a.settle)
    base = mem_kb(tree(a.root))
    socks = []
    for _ in range(a.n):
        if time.monotonic() > deadline:
            break
        s = socket.create_connection((HOST, a.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    time.sleep(a.settle)
    pids = tree(a.root)
    connected = mem_kb(pids)

    ok = bad = 0
    for s in socks:
        if time.monotonic() > deadline:
            break
        try:
            s.sendall(req)
            st, _ = read_response(s, deadline)
            ok += st == 200
            bad += st != 200
        except (OSError, ValueError):
            bad += 1
    time.sleep(a.settle)
    after = mem_kb(tree(a.root))

    # how many are still open (peer did not close)?
    still_open = 0
    for s in socks:
        s.setblocking(False)
        try:
            still_open += s.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
    for s in socks:
        s.close()

    n = max(len(socks), 1)
    print(f"IDLE conns={len(socks)} ok={ok} bad={bad} still_open={still_open} "
          f"rss_base_kb={base[0]} rss_connected_kb={connected[0]} rss_after_req_kb={after[0]} "
          f"pss_base_kb={base[1]} pss_connected_kb={connected[1]} pss_after_req_kb={after[1]} "
          f"rss_per_conn_connected_b={(connected[0] - base[0]) * 1024 // n} "
          f"rss_per_conn_after_req_b={(after[0] - base[0]) * 1024 // n} "
          f"pss_per_conn_after_req_b={(after[1] - base[1]) * 1024 // n} "
          f"nprocs={len(pids)}")


# --------------------------------------------------------------- report
def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    hdr, body = rows[0], rows[1:]
    return [dict(zip(hdr, r)) for r in body]


def read_meta(tmp):
    """The key=value lines of TMP/meta.txt, as a dict."""
    meta = {}
    mp = os.path.join(tmp, "meta.txt")
    if os.path.exists(mp):
        for l in open(mp):
            k, _, v = l.rstrip("\n").partition("=")
            meta[k] = v
    return meta


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def med(vals):
    v = [x for x in vals if x is not None]
    return statistics.median(v) if v else None


def fmt(x, nd=0, unit=""):
    if x is None:
        return "-"
    return f"{x:,.{nd}f}{unit}"


def cpu_per_req(r):
    """Proxy CPU microseconds per request of one run, or None."""
    cpu, n = num(r.get("proxy_cpu_s")), num(r.get("requests"))
    return cpu / n * 1e6 if cpu is not None and n else None


def paired(runs, test, key, a, b):
    """Median over rounds of key(a) / key(b), both measured in one round."""
    by_round = {}
    for r in runs:
        if r["test"] == test:
            by_round.setdefault(r["round"], {})[r["target"]] = r
    vals = []
    for v in by_round.values():
        if a in v and b in v:
            x, y = key(v[a]), key(v[b])
            if x is not None and y:
                vals.append(x / y)
    return med(vals)


def peer_ratios(runs, meta, w):
    """The headline: canaryd over each peer, paired by round (< 1 = less)."""
    targets = {r["target"] for r in runs}
    if "canaryd" not in targets:
        w("## canaryd against its peers\n")
        w("canaryd was not run (CANARYD_CMD empty): no ratios.\n")
        return
    peers = [p for p in ("nginx", "haproxy", "direct") if p in targets]
    w("## canaryd against its peers (median of per-round ratios canaryd / peer)\n")
    w("| run | peer | req/s ratio | p99 ratio | proxy CPU us/req ratio |")
    w("|---|---|---|---|---|")
    for test, title in (("thr", f"throughput c={meta.get('conns', '?')}"), ("lat", "latency")):
        for p in peers:
            rps = paired(runs, test, lambda r: num(r["rps"]), "canaryd", p)
            p99 = paired(runs, test, lambda r: num(r["p99_us"]), "canaryd", p)
            cpr = paired(runs, test, cpu_per_req, "canaryd", p) if p != "direct" else None
            w(f"| {title} | {p} | {fmt(rps, 2, 'x')} | {fmt(p99, 2, 'x')} | {fmt(cpr, 2, 'x')} |")
    w("")
    w("req/s above 1x and p99 / CPU below 1x favour canaryd. `direct` = wrk straight to v1 "
      "(no proxy), the upper bound.\n")


def cmd_report(a):
    meta = read_meta(a.tmp)
    runs = read_tsv(os.path.join(a.tmp, "runs.tsv"))
    order = []
    for r in runs:
        if r["target"] not in order:
            order.append(r["target"])
    out = []
    w = out.append
    w(f"# Peer proxy benchmark ({meta.get('date', '?')})\n")
    w("## Setup\n")
    for k in ("host", "kernel", "cpu", "nginx", "haproxy", "wrk", "python", "canaryd_cmd",
              "workers", "rounds", "wrk_thr", "wrk_lat", "ports"):
        if k in meta:
            w(f"- {k}: `{meta[k]}`")
    w("")

    peer_ratios(runs, meta, w)

    for test, title in (("thr", "Throughput run"), ("lat", "Latency run")):
        rs = [r for r in runs if r["test"] == test]
        if not rs:
            continue
        conns = rs[0]["conns"]
        w(f"## {title} (wrk -t{meta.get('wrk_threads', '1')} -c{conns} "
          f"-d{meta.get('duration', '?')}s --latency, GET /api) - median of "
          f"{meta.get('rounds', '?')} interleaved rounds\n")
        w("| target | req/s | min-max req/s | spread | vs nginx (paired) | p50 ms | p99 ms "
          "| p99 vs nginx | errors (sum) | proxy RSS max MiB | proxy PSS MiB | proxy CPU s "
          "| proxy CPU usr+sys s | proxy CPU us/req | backend CPU s | host CPU busy |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for t in order:
            tr = [r for r in rs if r["target"] == t]
            if not tr:
                continue
            rps = [num(r["rps"]) for r in tr]
            p50 = med(num(r["p50_us"]) for r in tr)
            p99 = med(num(r["p99_us"]) for r in tr)
            errs = sum(int(r[k]) for r in tr for k in
                       ("err_connect", "err_read", "err_write", "err_timeout", "err_status"))
            ratio = paired(runs, test, lambda r: num(r["rps"]), t, "nginx")
            p99r = paired(runs, test, lambda r: num(r["p99_us"]), t, "nginx")
            rss = med(num(r["proxy_rss_max_kb"]) for r in tr)
            pss = med(num(r["proxy_pss_kb"]) for r in tr)
            cpu = med(num(r["proxy_cpu_s"]) for r in tr)
            usr = med(num(r.get("proxy_usr_s")) for r in tr)
            sys_ = med(num(r.get("proxy_sys_s")) for r in tr)
            us = f"{fmt(usr, 2)}+{fmt(sys_, 2)}" if usr is not None else "-"
            cpr = med(cpu_per_req(r) for r in tr)
            bcpu = med(num(r["backend_cpu_s"]) for r in tr)
            busy = med(num(r.get("host_busy_pct")) for r in tr)
            m = med(rps)
            spread = (max(rps) - min(rps)) / m * 100 if m else None
            w(f"| {t} | {fmt(m)} | {fmt(min(rps))}-{fmt(max(rps))} | {fmt(spread, 1, '%')} "
              f"| {fmt(ratio, 2, 'x')} | {fmt(p50 and p50 / 1000, 3)} | {fmt(p99 and p99 / 1000, 3)} "
              f"| {fmt(p99r, 2, 'x')} | {errs} | {fmt(rss and rss / 1024, 1)} "
              f"| {fmt(pss and pss / 1024, 1)} | {fmt(cpu, 2)} | {us} | {fmt(cpr, 1)} | {fmt(bcpu, 2)} "
              f"| {fmt(busy, 0, '%')} |")
        w("")

    split = read_tsv(os.path.join(a.tmp, "split.tsv"))
    if split:
        w("## Split / routing check (sequential keep-alive GETs, python http.client)\n")
        w("| target | path | requests | v1 | v2 | v2 share | other/non-200 | errors | bad Content-Type |")
        w("|---|---|---|---|---|---|---|---|---|")
        for r in split:
            n = int(r["v1"]) + int(r["v2"])
            share = 100.0 * int(r["v2"]) / n if n else None
            w(f"| {r['target']} | {r['path']} | {r['n']} | {r['v1']} | {r['v2']} | {fmt(share, 1, '%')} "
              f"| {r['other']} | {r['errors']} | {r['ctype_bad']} |")
        w("")

    idle = read_tsv(os.path.join(a.tmp, "idle.tsv"))
    if idle:
        w("## Idle keep-alive connection memory (RSS/PSS summed over the proxy's processes)\n")
        w("| target | conns | still open | RSS base MiB | RSS +conns (no req) MiB | RSS +conns after 1 req MiB "
          "| RSS B/conn (no req) | RSS B/conn (after req) | PSS B/conn (after req) |")
        w("|---|---|---|---|---|---|---|---|---|")
        for r in idle:
            w(f"| {r['target']} | {r['conns']} | {r['still_open']} | {fmt(num(r['rss_base_kb']) / 1024, 1)} "
              f"| {fmt(num(r['rss_connected_kb']) / 1024, 1)} | {fmt(num(r['rss_after_req_kb']) / 1024, 1)} "
              f"| {fmt(num(r['rss_per_conn_connected_b']))} | {fmt(num(r['rss_per_conn_after_req_b']))} "
              f"| {fmt(num(r['pss_per_conn_after_req_b']))} |")
        w("")

    rel = read_tsv(os.path.join(a.tmp, "reload.tsv"))
    if rel:
        w(f"## Reload under load (wrk -c{meta.get('conns', '?')} -d{meta.get('duration', '?')}s, "
          f"{meta.get('reloads', '?')} reloads spread over the run)\n")
        w("| target | reload method | reloads seen | requests | req/s | p99 ms | max ms | non-2xx/3xx | connect err "
          "| read err | write err | timeouts | answers after |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rel:
            w(f"| {r['target']} | {r['method']} | {r['reloads_seen']}/{r['reloads']} | {r['requests']} "
              f"| {fmt(num(r['rps']))} | {fmt(num(r.get('p99_us')) and num(r['p99_us']) / 1000, 2)} "
              f"| {fmt(num(r.get('max_us')) and num(r['max_us']) / 1000, 1)} | {r['err_status']} | {r['err_connect']} | {r['err_read']} "
              f"| {r['err_write']} | {r['err_timeout']} | {r['ok_after']} |")
        w("")

    w("Column notes: *spread* = (max-min)/median over rounds; *vs nginx (paired)* = median over rounds of "
      "target/nginx measured in the same round; *errors* = wrk connect+read+write+timeout+non-2xx/3xx; "
      "*RSS max* = max of VmRSS summed over the proxy's processes (sampled every 0.5 s; shared pages count once "
      "per process); *PSS* = proportional set size at the end of the run; *CPU* = utime+stime of the proxy's "
      "processes during the run; *host CPU busy* = all cores (2 cores = 100%).\n")
    w("## Raw runs\n")
    w("```")
    rp = os.path.join(a.tmp, "runs.tsv")
    if os.path.exists(rp):
        w(open(rp).read().rstrip("\n"))
    w("```")
    text = "\n".join(out) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)


def load_table(w, rows, targets):
    """routes.sh's load.tsv (target, routes, validate_ms, rss_kb, pss_kb,
    worker_rss_kb, reload_ms) -> the validation, memory and reload table."""
    if not rows:
        return
    by = {(r["target"], int(r["routes"])): r for r in rows}
    w("## Validation, memory and reload by route count\n")
    w("| proxy | routes | validate ms | RSS KiB | PSS KiB | worker RSS KiB | "
      "bytes/route | reload ms |")
    w("|---" * 8 + "|")
    for t in targets:
        counts = sorted(n for (x, n) in by if x == t)
        for n in counts:
            r, r0 = by[(t, n)], by[(t, counts[0])]
            per = None
            if n > counts[0] and num(r["pss_kb"]) is not None and num(r0["pss_kb"]) is not None:
                per = (num(r["pss_kb"]) - num(r0["pss_kb"])) * 1024 / (n - counts[0])
            w(f"| {t} | {n:,} | {fmt(num(r['validate_ms']))} | {fmt(num(r['rss_kb']))} | "
              f"{fmt(num(r['pss_kb']))} | {fmt(num(r['worker_rss_kb']))} | {fmt(per)} | "
              f"{fmt(num(r['reload_ms']))} |")
    w("")
    w("validate: the median wall time of the proxy checking its config (canaryd --mode "
      "validate, nginx -t, haproxy -c), process start included. RSS and PSS: the whole "
      "process tree after a warm-up on the last route; bytes/route: PSS over the first "
      "count's, per added route. reload: canaryd's median time from SIGHUP to a config with "
      "one more route answering on a new connection (its workers are replaced).\n")


def cmd_routes_report(a):
    """routes.sh's runs.tsv (one row per SLICE-second wrk run: round,
    routes, path, target, requests, duration_s, p99_us, errors, cpu_s)
    -> the route-count table."""
    meta = read_meta(a.tmp)
    runs = read_tsv(os.path.join(a.tmp, "runs.tsv"))
    counts = sorted({int(r["routes"]) for r in runs})
    targets = [t for t in ("canaryd", "nginx", "haproxy") if any(r["target"] == t for r in runs)]
    cell = {}   # (round, routes, path, target) -> the round's slices summed
    for r in runs:
        c = cell.setdefault((r["round"], int(r["routes"]), r["path"], r["target"]),
                            {"requests": 0.0, "duration": 0.0, "cpu": 0.0, "errors": 0, "p99": []})
        c["requests"] += num(r["requests"]) or 0
        c["duration"] += num(r["duration_s"]) or 0
        c["cpu"] += num(r["cpu_s"]) or 0
        c["errors"] += int(num(r["errors"]) or 0)
        c["p99"].append(num(r["p99_us"]))
    rounds = sorted({k[0] for k in cell})

    def rps(c):
        return c["requests"] / c["duration"] if c and c["duration"] and not c["errors"] else None

    def cpu_us(c):
        return c["cpu"] * 1e6 / c["requests"] if c and c["requests"] and not c["errors"] else None

    def paired_ratio(key_a, key_b, f=rps):
        vals = []
        for rd in rounds:
            x, y = f(cell.get((rd,) + key_a)), f(cell.get((rd,) + key_b))
            if x is not None and y:
                vals.append(x / y)
        return med(vals)

    def median_of(n, path, t, f):
        return med([f(cell[k]) for k in cell if k[1:] == (n, path, t)])

    out = []
    w = out.append
    w("# Route count: canaryd, nginx and HAProxy on the same route table\n")
    w(f"{meta.get('rounds', '?')} rounds; in each, every proxy x count instance runs at once and "
      f"each is measured {meta.get('duration', '?')} times {meta.get('slice', '?')} s per path, in "
      f"turn; wrk -t{meta.get('wrk_threads', '1')} -c{meta.get('conns', '?')}, "
      f"{meta.get('workers', '?')} worker each; {meta.get('host', '')}; {meta.get('nginx', '')}, "
      f"{meta.get('haproxy', '')}.\n")
    w("Table: N prefix routes `/svc1/` ... `/svcN/` before the seed's `/health` and `/` "
      "(canaryd: routes in order; nginx: `location /svcI/` prefix locations; HAProxy: "
      "`map_beg` over a map of the N prefixes). `/api` goes past all N to the seed's "
      "weighted `/` route; `last` is `/svcN/api`, the N-th route.\n")
    first = counts[0] if counts else None
    peers = [t for t in targets if t != "canaryd"] if "canaryd" in targets else []
    cols = (["routes", "path"] + [f"{t} req/s" for t in targets] + [f"canaryd/{t}" for t in peers] +
            [f"{t} vs {first}" for t in targets])
    if "canaryd" in targets:
        cols += ["canaryd CPU us/req", f"its CPU vs {first}"]
    w("| " + " | ".join(cols) + " |")
    w("|---" * len(cols) + "|")
    for n in counts:
        for path in ("api", "last"):
            row = [f"{n:,}", "/api" if path == "api" else f"/svc{n}/api"]
            row += [fmt(median_of(n, path, t, rps), 0) for t in targets]
            row += [fmt(paired_ratio((n, path, "canaryd"), (n, path, t)), 2, "x") for t in peers]
            row += [fmt(paired_ratio((n, path, t), (first, path, t)), 2, "x") for t in targets]
            if "canaryd" in targets:
                row.append(fmt(median_of(n, path, "canaryd", cpu_us), 1))
                row.append(fmt(paired_ratio((n, path, "canaryd"), (first, path, "canaryd"), cpu_us),
                               2, "x"))
            w("| " + " | ".join(row) + " |")
    w("")
    w(f"req/s: median over rounds of a round's requests over its wrk time. Ratios: medians of "
      f"per-round ratios (the slices of one round interleave, so both sides saw the same load); "
      f"`vs {first}` is "
      f"a proxy's req/s with N routes over its own with {first}. CPU is the proxy's user + system time "
      "over the run (clock ticks), per request: it moves less than req/s when other work shares the "
      "box. A run with errors counts as missing.\n")
    if "canaryd" in targets and len(counts) > 1:
        last = counts[-1]
        for path, name in (("api", "/api"), ("last", "the last route")):
            x = paired_ratio((last, path, "canaryd"), (first, path, "canaryd"))
            verdict = "-" if x is None else ("met" if x >= 0.9 else "NOT met")
            c = paired_ratio((last, path, "canaryd"), (first, path, "canaryd"), cpu_us)
            w(f"- target: canaryd with {last:,} routes, {name}: {fmt(x, 2, 'x')} of its req/s "
              f"with {first} (>= 0.90x): {verdict}; CPU per request {fmt(c, 2, 'x')}")
        w("")
    errs = [(k, c["errors"]) for k, c in sorted(cell.items()) if c["errors"]]
    if errs:
        w(f"Rounds with errors (left out): {len(errs)} (" + ", ".join(
            f"r{k[0]} {k[3]} {k[1]} {k[2]}: {e}" for k, e in errs[:8]) + ")\n")
    load_table(w, read_tsv(os.path.join(a.tmp, "load.tsv")), targets)
    text = "\n".join(out) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)

def cmd_mem(a):
    """Memory of a proxy's process tree: RSS and PSS summed, and the
    largest RSS of one child (a worker)."""
    pids = tree(a.root)
    rss, pss = mem_kb(pids)
    child = max([mem_kb([p])[0] for p in pids if p != a.root] or [0])
    print(f"{rss} {pss} {child}")


def cmd_reload(a):
    """A structural reload's time: for each of N reloads, write the config
    with one more route first ("/reloadK/", a direct 204), SIGHUP the
    master and poll that path on new connections until it answers 204;
    print the median ms from the signal, then put the config back."""
    with open(a.config) as f:
        orig = f.read()
    m = re.search(r"^( *)routes:\n", orig, re.M)
    if m is None:
        sys.exit(f"reload: no 'routes:' line in {a.config}")
    ind = m.group(1)
    times = []
    try:
        for k in range(1, a.n + 1):
            route = (f'{ind}- match: {{ prefix: "/reload{k}/" }}\n'
                     f'{ind}  direct_response: {{ status: 204 }}\n')
            with open(a.config, "w") as f:
                f.write(orig[:m.end()] + route + orig[m.end():])
            t0 = time.monotonic()
            os.kill(a.pid, signal.SIGHUP)
            for _ in range(int(a.max_seconds * 1000)):
                if time.monotonic() - t0 > a.max_seconds:
                    sys.exit(f"reload: /reload{k}/ not served after {a.max_seconds} s")
                try:
                    c = http.client.HTTPConnection(HOST, a.port, timeout=2)
                    c.request("GET", f"/reload{k}/x")
                    st = c.getresponse().status
                    c.close()
                except (OSError, http.client.HTTPException):
                    st = 0
                if st == 204:
                    break
                time.sleep(0.001)
            times.append((time.monotonic() - t0) * 1000)
            time.sleep(a.settle)
    finally:
        with open(a.config, "w") as f:
            f.write(orig)
    print(f"{statistics.median(times):.0f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("split")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--n", type=int, default=2000)
    s.add_argument("--path", default="/api")
    s.add_argument("--max-seconds", type=float, default=60)
    s.set_defaults(fn=cmd_split)
    s = sub.add_parser("idle")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--n", type=int, default=5000)
    s.add_argument("--root", type=int, required=True, help="proxy's top pid")
    s.add_argument("--path", default="/api")
    s.add_argument("--settle", type=float, default=1.5)
    s.add_argument("--max-seconds", type=float, default=60)
    s.set_defaults(fn=cmd_idle)
    s = sub.add_parser("report")
    s.add_argument("--tmp", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_report)
    s = sub.add_parser("routes-report")
    s.add_argument("--tmp", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_routes_report)
    s = sub.add_parser("mem")
    s.add_argument("--root", type=int, required=True, help="proxy's top pid")
    s.set_defaults(fn=cmd_mem)
    s = sub.add_parser("reload")
    s.add_argument("--pid", type=int, required=True, help="the master's pid")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--config", required=True, help="the file the master reads")
    s.add_argument("--n", type=int, default=3)
    s.add_argument("--settle", type=float, default=1.0)
    s.add_argument("--max-seconds", type=float, default=60)
    s.set_defaults(fn=cmd_reload)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
