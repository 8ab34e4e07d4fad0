#!/usr/bin/env python3
"""The cluster-count table of `make bench`: canaryd with 10, 1,000 and
10,000 clusters.

    tools/bench/clusters.py BUILD_DIR [RESULTS.md]

For each count N (CLUSTER_COUNTS, default "10 1000 10000") the
configuration tools/bench/bigconf.py writes (N clusters of 3 endpoints,
one route each, a tenth of them weighted) is validated (the best of
VALIDATE_RUNS), then served by BUILD_DIR/canaryd with two workers
(CLUSTERS_WORKERS) in front of three build/backend processes: the time
from start to /ready, the shared segment's resident size once /stats has
read every record, each worker's private memory (what it does not share
with the master), /stats and /stats/prometheus (fetched by curl, its time_total; the best of
VALIDATE_RUNS [3], as validation),
the longest /ready took while a /stats (and a /stats/prometheus) was sent (polled every 10 ms: how
long the master's loop stopped), the master's RSS after those pages,
and a weight-only reload: SIGHUP to the new weights in /canary (polled
every 5 ms), and the master's own figure from its log, SIGHUP read to
the weights in shared memory ("new weights in place (N ms after
SIGHUP)"), then a structural reload (one more cluster: SIGHUP to the
new cluster in /stats, the longest /ready meanwhile, the segment after).  Results
go to BUILD_DIR/bench-clusters.md unless given.  Loopback only; every
process started is stopped by PID.  Knobs: CLUSTERS_PORT [11000] (the
listener; admin +1, backends +2 .. +4).
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def get(port, path, timeout=60):
    """status, body.  A streamed page in flight when a reload puts a new
    configuration in force is cut short (canaryd(8)): asked again."""
    for left in (2, 1, 0):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            return r.status, body
        except http.client.IncompleteRead:
            if left == 0:
                raise
        finally:
            c.close()


def page(port, path):
    """Seconds curl took to fetch the page whole (its time_total; status
    200 and a body checked): the time canaryd takes to send it.  Python's
    http.client decodes a chunked body at ~90 MB/s, a third of the speed
    the master sends /stats of 10,000 clusters at, and would hold the GIL
    the /ready poller of ready_during() needs."""
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-m", "120", "-w",
                          "%{http_code} %{size_download} %{time_total}",
                          "http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True, timeout=150)
    code, size, secs = (out.stdout.split() + ["", "", ""])[:3]
    if code != "200" or not size.isdigit() or int(size) == 0:
        raise RuntimeError("%s: %s %s" % (path, out.stdout, out.stderr))
    return float(secs)


def wait(fn, timeout, every=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if fn():
                return True
        except OSError:
            pass
        time.sleep(every)
    return False


def reload_ms(log):
    """The master's last "new weights in place (N ms after SIGHUP)"."""
    with open(log, errors="replace") as f:
        got = re.findall(r"new weights in place \(([0-9.]+) ms after "
                         r"SIGHUP\)", f.read())
    return float(got[-1]) if got else float("nan")


def rollup(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                out[k] = int(v.split()[0])
    return out


def shmem_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssShmem:"):
                return int(line.split()[1])
    return 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def best(fn, n):
    ts = []
    for _ in range(n):
        t0 = time.monotonic()
        fn()
        ts.append(time.monotonic() - t0)
    return min(ts)


def ready_during(port, fn):
    """The longest /ready took, polled every 10 ms while fn() runs: how
    long the admin's loop stops for a page."""
    stop = threading.Event()
    lat = []

    def poll():
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                get(port, "/ready", 30)
            except OSError:
                pass
            lat.append(time.monotonic() - t0)
            stop.wait(0.01)

    th = threading.Thread(target=poll)
    th.start()
    try:
        fn()
    finally:
        stop.set()
        th.join()
    return max(lat) if lat else 0.0


def gen(build, n, seed, path, port, bports):
    with open(path + ".tmp", "w") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "bigconf.py"),
                        "--clusters", str(n), "--weighted", str(max(1, n // 10)),
                        "--listen-port", str(port), "--admin-port",
                        str(port + 1), "--ports",
                        ",".join(str(p) for p in bports),
                        "--weights-seed", str(seed)], stdout=f, check=True)
    os.replace(path + ".tmp", path)


def one(build, n, tmp, port, workers, runs):
    bports = [port + 2, port + 3, port + 4]
    cfg = os.path.join(tmp, "c%d.yaml" % n)
    gen(build, n, 0, cfg, port, bports)
    canaryd = os.path.join(build, "canaryd")
    row = {"n": n, "bytes": os.path.getsize(cfg)}
    row["validate"] = best(lambda: subprocess.run(
        [canaryd, "--mode", "validate", "-f", cfg],
        stdout=subprocess.DEVNULL, check=True), runs)
    procs = []
    try:
        for p in bports:
            procs.append(subprocess.Popen(
                [os.path.join(build, "backend"), "--port", str(p),
                 "--addr", "127.0.0.1"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        t0 = time.monotonic()
        log = os.path.join(tmp, "canaryd-%d.log" % n)
        cd = subprocess.Popen([canaryd, "-f", cfg, "--concurrency",
                               str(workers), "-l", "info", "--log-path",
                               log],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        procs.append(cd)
        if not wait(lambda: get(port + 1, "/ready", 2)[0] == 200, 120):
            raise RuntimeError("canaryd with %d clusters not ready" % n)
        row["ready"] = time.monotonic() - t0
        get(port, "/c0/x")
        row["stats"] = min(page(port + 1, "/stats") for _ in range(runs))
        row["prom"] = min(page(port + 1, "/stats/prometheus")
                          for _ in range(runs))
        row["ready_max"] = ready_during(port + 1,
                                        lambda: page(port + 1, "/stats"))
        row["ready_max_prom"] = ready_during(
            port + 1, lambda: page(port + 1, "/stats/prometheus"))
        row["ready_max_clusters"] = ready_during(
            port + 1, lambda: page(port + 1, "/clusters"))
        row["ready_max_dump"] = ready_during(
            port + 1, lambda: page(port + 1, "/config_dump"))
        row["master_kb"] = rollup(cd.pid)["Rss"]
        row["shm_kb"] = shmem_kb(cd.pid)
        ws = [w for w in children(cd.pid)
              if b"worker" in open("/proc/%d/cmdline" % w, "rb").read()]
        row["priv_kb"] = max(rollup(w)["Private_Dirty"] for w in ws)
        row["rss_kb"] = max(rollup(w)["Rss"] for w in ws)
        gen(build, n, 3, cfg, port, bports)
        t0 = time.monotonic()
        cd.send_signal(signal.SIGHUP)
        want = b'"weights":{"c0":87,"c1":13}'
        wait(lambda: want in get(port + 1, "/canary")[1], 60, 0.005)
        row["reload"] = time.monotonic() - t0
        wait(lambda: reload_ms(log) == reload_ms(log), 10)
        row["reload_master"] = reload_ms(log)
        # structural: one more cluster and its route; SIGHUP to the new
        # cluster's stats, and on until the old generation is gone
        gen(build, n + 1, 3, cfg, port, bports)
        new = "c%d" % n

        def structural():
            t0 = time.monotonic()
            cd.send_signal(signal.SIGHUP)
            key = ("cluster.%s.upstream_rq_total" % new).encode()
            wait(lambda: key in get(port + 1, "/stats?filter=%s."
                                    "upstream_rq_total$" % new)[1], 120, 0.01)
            row["sreload"] = time.monotonic() - t0
            wait(lambda: not json.loads(get(port + 1, "/server_info")[1])
                 ["canaryd"]["generation_draining"], 120)

        row["ready_max_sreload"] = ready_during(port + 1, structural)
        get(port, "/%s/x" % new)
        get(port + 1, "/stats")
        row["shm_kb_after"] = shmem_kb(cd.pid)
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return row


def table(rows, workers):
    out = ["## Cluster count (%d workers)" % workers, "",
           "| clusters | YAML | validate | start to ready | /stats | "
           "/stats/prometheus | max /ready latency during /stats | "
           "max /ready latency during /stats/prometheus | "
           "max /ready latency during /clusters, /config_dump | "
           "weight reload (master: to shm) | structural reload | "
           "max /ready latency during it | shm resident "
           "(per cluster) | after the reload | worker private (per "
           "cluster) | worker RSS | master RSS |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
           "---:|---:|---:|---:|---:|"]
    for r in rows:
        n = r["n"]
        out.append("| %d | %.1f MB | %.3f s | %.3f s | %.3f s | %.3f s | "
                   "%.0f ms | %.0f ms | %.0f ms, %.0f ms | %.3f s (%.1f ms) | "
                   "%.3f s | %.0f ms | "
                   "%.1f MB (%.0f B) | %.1f MB (%.0f B) | "
                   "%.1f MB (%.0f B) "
                   "| %.0f MB | %.0f MB |"
                   % (n, r["bytes"] / 1e6, r["validate"], r["ready"],
                      r["stats"], r["prom"], r["ready_max"] * 1000,
                      r["ready_max_prom"] * 1000,
                      r["ready_max_clusters"] * 1000,
                      r["ready_max_dump"] * 1000, r["reload"],
                      r["reload_master"], r["sreload"],
                      r["ready_max_sreload"] * 1000,
                      r["shm_kb"] / 1024.0, r["shm_kb"] * 1024.0 / n,
                      r["shm_kb_after"] / 1024.0,
                      r["shm_kb_after"] * 1024.0 / n,
                      r["priv_kb"] / 1024.0, r["priv_kb"] * 1024.0 / n,
                      r["rss_kb"] / 1024.0, r["master_kb"] / 1024.0))
    out.append("")
    out.append("The admin pages are fetched by curl and timed by it "
               "(time_total: first byte asked to last byte read); /ready "
               "is polled every 10 ms meanwhile.  "
               "Worker RSS counts the configuration tree it shares with "
               "the master (forked from it); the private column is what "
               "each worker adds.  Master RSS is read after the /stats and "
               "/stats/prometheus pages.  The structural reload adds a "
               "cluster and its route: SIGHUP to the new cluster in /stats; "
               "/ready is polled every 10 ms from SIGHUP until the old "
               "generation is gone; the shared segment is read again after "
               "it (the new generation's slots).")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    build = os.path.abspath(sys.argv[1])
    outp = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        build, "bench-clusters.md")
    counts = [int(x) for x in os.environ.get(
        "CLUSTER_COUNTS", "10 1000 10000").split()]
    if not counts:
        return 0
    port = int(os.environ.get("CLUSTERS_PORT", "11000"))
    workers = int(os.environ.get("CLUSTERS_WORKERS", "2"))
    runs = int(os.environ.get("VALIDATE_RUNS", "3"))
    with tempfile.TemporaryDirectory(prefix="bench-clusters.") as tmp:
        rows = [one(build, n, tmp, port, workers, runs) for n in counts]
    text = table(rows, workers)
    with open(outp, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
