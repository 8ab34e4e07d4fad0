#!/usr/bin/env python3
"""The load and the bookkeeping of tools/soak.sh (python3 standard library).

    python3 tools/soak.py --build build/san --run RUNDIR [--seconds N]

Starts two backends and canaryd (--concurrency 2) on the user's config
(etc/canary/envoy-canary.yaml) with this run's loopback ports and three
HCM timeouts added for the slow clients (stream_idle_timeout 2s,
request_headers_timeout 2s, idle_timeout 5s).  Then, for N seconds,
threads make a mixed load:

    keepalive   GET /api/... on kept-alive connections
    newconn     GET on a new connection each, connection: close
    abort       POST /echo announcing 200000 bytes, cut after 50000
                (half with a FIN, half with a reset)
    post1m      POST /echo of 1 MiB on a kept-alive connection
    slow_head   a head trickled at 10 bytes/s: 408 after 2s
    slow_body   a body that stalls: 408 "stream timeout" after 2s
    slow_read   GET /bytes/20000000, never read: closed by canaryd

Every 10 s it samples VmRSS of canaryd's master and of each child.  At
the end it stops canaryd with SIGTERM (a graceful drain) and waits for it
by PID, then prints requests and errors by kind, canaryd's own counters,
and RSS first/last/max per process.  An error is any answer the load did
not ask for (a 5xx, a wrong body, a 408 on a normal request) or any
client-side failure other than the aborts it made itself.  Exit status 0
only with no error, canaryd exiting 0 and no worker replaced.

Every loop is bounded in count and in time; every socket has a timeout;
processes are stopped by PID only (itestlib.Env).
"""

import argparse
import http.client
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itestlib  # noqa: E402
from itestlib import LOOPBACK, V1_BODY, V2_BODY  # noqa: E402

SAMPLE_S = 10           # RSS sampling period
STOP_S = 60             # canaryd's drain after SIGTERM, at most
JOIN_S = 30             # a load thread to finish after the end
SOCK_TIMEOUT = 10.0     # any single socket operation
BIG = 1 << 20           # post1m body
PATTERN = bytes(range(33, 122)) * (BIG // 89 + 1)

TIMEOUTS = ("          stream_idle_timeout: 2s\n"
            "          request_headers_timeout: 2s\n"
            "          common_http_protocol_options:\n"
            "            idle_timeout: 5s\n")


class Tally:
    """Requests and errors by kind, from every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok = {}
        self.err = {}
        self.samples = []       # first error messages

    def good(self, kind):
        with self.lock:
            self.ok[kind] = self.ok.get(kind, 0) + 1

    def bad(self, kind, why):
        with self.lock:
            self.err[kind] = self.err.get(kind, 0) + 1
            if len(self.samples) < 20:
                self.samples.append("%s: %s" % (kind, why))


def status_of(data):
    parts = data.split(b"\r\n", 1)[0].split(b" ")
    try:
        return int(parts[1]) if parts[0].startswith(b"HTTP/1.") else None
    except (IndexError, ValueError):
        return None


def read_until_close(s, limit_s):
    """Bytes until EOF or reset within limit_s; (data, closed)."""
    s.settimeout(0.2)
    got = b""
    t_end = time.monotonic() + limit_s
    while time.monotonic() < t_end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return got, True
        if not d:
            return got, True
        got += d
    return got, False


class Load:
    def __init__(self, port, tally, t_end):
        self.port = port
        self.tally = tally
        self.t_end = t_end

    def running(self):
        return time.monotonic() < self.t_end

    def loop(self, kind, step, pause, max_n=10 ** 7):
        """step() until the end, at most max_n times."""
        n = 0
        state = {}
        while n < max_n and self.running():
            try:
                step(state)
            except Exception as e:  # counted, and the loop goes on
                self.tally.bad(kind, repr(e))
                c = state.pop("conn", None)
                if c is not None:
                    c.close()
            n += 1
            if pause:
                time.sleep(pause)
        c = state.pop("conn", None)
        if c is not None:
            c.close()

    def conn(self, state):
        if "conn" not in state:
            state["conn"] = http.client.HTTPConnection(LOOPBACK, self.port,
                                                       timeout=SOCK_TIMEOUT)
        return state["conn"]

    def keepalive(self, state):
        c = self.conn(state)
        state["n"] = state.get("n", 0) + 1
        c.request("GET", "/api/ka%d" % (state["n"] % 1000))
        r = c.getresponse()
        body = r.read()
        if r.status == 200 and body in (V1_BODY, V2_BODY):
            self.tally.good("keepalive")
        else:
            self.tally.bad("keepalive", "%d %r" % (r.status, body[:80]))

    def newconn(self, state):
        r = itestlib.request(self.port, "GET", "/api/new",
                             headers={"Connection": "close"},
                             timeout=SOCK_TIMEOUT)
        if r.status == 200 and r.body in (V1_BODY, V2_BODY):
            self.tally.good("newconn")
        else:
            self.tally.bad("newconn", "%d %r" % (r.status, r.body[:80]))

    def abort(self, state):
        state["n"] = state.get("n", 0) + 1
        s = socket.create_connection((LOOPBACK, self.port),
                                     timeout=SOCK_TIMEOUT)
        try:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Length: 200000\r\n\r\n" + PATTERN[:50000])
            if state["n"] % 2:
                # close with a reset rather than a FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        finally:
            s.close()
        self.tally.good("abort")

    def post1m(self, state):
        c = self.conn(state)
        c.request("POST", "/echo", body=PATTERN[:BIG],
                  headers={"Content-Type": "application/octet-stream"})
        r = c.getresponse()
        r.read()
        n = r.getheader("x-body-bytes")
        if r.status == 200 and n == str(BIG):
            self.tally.good("post1m")
        else:
            self.tally.bad("post1m", "%d x-body-bytes %r" % (r.status, n))

    def slow_head(self, state):
        s = socket.create_connection((LOOPBACK, self.port),
                                     timeout=SOCK_TIMEOUT)
        head = b"GET /slow HTTP/1.1\r\nHost: t\r\n" + \
            b"".join(b"x-drip-%d: %d\r\n" % (i, i) for i in range(60))
        try:
            got, closed = b"", False
            for i in range(len(head)):      # 10 bytes/s: ~2s is 20 bytes
                try:
                    s.sendall(head[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                d, closed = read_until_close(s, 0.1)
                got += d
                if closed or not self.running():
                    break
            if not closed and self.running():
                d, closed = read_until_close(s, 3.0)
                got += d
        finally:
            s.close()
        if not self.running() and not closed:
            return          # cut by the end of the run: not counted
        if closed and status_of(got) in (None, 408):
            self.tally.good("slow_head")
        else:
            self.tally.bad("slow_head", "closed=%s %r" % (closed, got[:80]))

    def slow_body(self, state):
        s = socket.create_connection((LOOPBACK, self.port),
                                     timeout=SOCK_TIMEOUT)
        try:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Length: 1000\r\n\r\n" + PATTERN[:10])
            got, closed = read_until_close(s, 4.0)
        finally:
            s.close()
        if status_of(got) == 408 and got.endswith(b"stream timeout") and \
                closed:
            self.tally.good("slow_body")
        elif self.running():
            self.tally.bad("slow_body", "closed=%s %r" % (closed, got[:80]))

    def slow_read(self, state):
        s = socket.create_connection((LOOPBACK, self.port),
                                     timeout=SOCK_TIMEOUT)
        total = 20000000
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: t\r\n\r\n" % total)
            time.sleep(4.0)
            n, closed = 0, False
            s.settimeout(2.0)
            for _ in range(10000):
                try:
                    d = s.recv(1 << 20)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    closed = True
                    break
                if not d:
                    closed = True
                    break
                n += len(d)
        finally:
            s.close()
        if closed and n < total:
            self.tally.good("slow_read")
        elif self.running():
            self.tally.bad("slow_read", "closed=%s after %d bytes" %
                           (closed, n))

    def slow(self, state):
        """The three slow kinds in turn."""
        state["i"] = state.get("i", 0) + 1
        (self.slow_head, self.slow_body, self.slow_read)[state["i"] % 3](
            state)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def procs_of(master):
    """{label: pid}: the master and each child, by its title."""
    out = {"master": master}
    for k in itestlib.children_of(master):
        # setproctitle pads the title with blanks and a dot
        title = " ".join(itestlib.proc_cmdline(k).split()).rstrip(" .")
        label = title.replace("canaryd: ", "").split(" (")[0] or str(k)
        if label in out:
            label = "%s/%d" % (label, k)
        out[label] = k
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/san")
    ap.add_argument("--backend", default=None,
                    help="backend binary (default: BUILD/backend)")
    ap.add_argument("--run", required=True, help="run directory (logs)")
    ap.add_argument("--seconds", type=int,
                    default=int(os.environ.get("SOAK_SECONDS", "600")))
    ap.add_argument("--canaryd-env", action="append", default=[],
                    help="NAME=VALUE for canaryd only (ASAN_OPTIONS=...)")
    a = ap.parse_args()

    env = itestlib.Env(a.build, a.run)
    if a.backend:
        env.backend_bin = a.backend
    tally = Tally()
    rc = 0
    try:
        env.start_backends()
        text = open(env.seed_config()).read()
        key = "          stat_prefix: ingress\n"
        if text.count(key) != 1:
            raise SystemExit("soak: the seed config changed shape")
        cfg = env.write_config(text.replace(key, key + TIMEOUTS),
                               "soak.yaml")
        saved = dict(os.environ)
        for kv in a.canaryd_env:
            k, _, v = kv.partition("=")
            os.environ[k] = v
        try:
            cd = env.start_canaryd(cfg, concurrency=2,
                                   args=("--drain-time-s", "20"))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        procs0 = procs_of(cd.pid)
        print("soak: canaryd %d (%s) on 127.0.0.1:%d, admin %d, %d s" %
              (cd.pid, ", ".join("%s %d" % kv for kv in procs0.items()),
               env.proxy_port, env.admin_port, a.seconds), flush=True)

        t0 = time.monotonic()
        load = Load(env.proxy_port, tally, t0 + a.seconds)
        plan = [("keepalive", load.keepalive, 0.004)] * 3 + \
            [("newconn", load.newconn, 0.01)] * 2 + \
            [("abort", load.abort, 0.05), ("post1m", load.post1m, 0.05)] + \
            [("slow", load.slow, 0.0)] * 2
        threads = [threading.Thread(target=load.loop, args=p, daemon=True)
                   for p in plan]
        for t in threads:
            t.start()

        samples = []    # (t, {label: kb})
        for _ in range(a.seconds // SAMPLE_S + 2):
            now = time.monotonic() - t0
            samples.append((now, {k: rss_kb(p) for k, p in
                                  procs_of(cd.pid).items()}))
            if now >= a.seconds:
                break
            time.sleep(max(0.0, min(SAMPLE_S, a.seconds - now)))
        for t in threads:
            t.join(JOIN_S)
        stuck = sum(t.is_alive() for t in threads)
        procs1 = procs_of(cd.pid)
        stats = env.stats()

        cd.record_children()
        cd.popen.send_signal(signal.SIGTERM)
        try:
            status = cd.popen.wait(STOP_S)
        except Exception:
            status = None
    finally:
        env.stop()

    # ---- report
    labels = sorted({k for _, s in samples for k in s},
                    key=lambda k: (k != "master", k))
    print("\nRSS (KiB) every %d s:" % SAMPLE_S)
    print("  %6s  %s" % ("t", "  ".join("%12s" % k[:12] for k in labels)))
    for t, s in samples:
        print("  %6.0f  %s" % (t, "  ".join(
            "%12s" % (s.get(k) if s.get(k) is not None else "-")
            for k in labels)))
    print("\nRSS per process (KiB): first / last / max")
    rss = {}
    for k in labels:
        v = [s[k] for _, s in samples if s.get(k) is not None]
        if v:
            rss[k] = (v[0], v[-1], max(v))
            print("  %-14s %8d / %8d / %8d" % ((k,) + rss[k]))
    kinds = ("keepalive", "newconn", "abort", "post1m", "slow_head",
             "slow_body", "slow_read")
    print("\nrequests by kind (ok / errors):")
    for k in kinds:
        print("  %-10s %8d / %d" % (k, tally.ok.get(k, 0),
                                    tally.err.get(k, 0)))
    nerr = sum(tally.err.values())
    print("  %-10s %8d / %d" % ("total", sum(tally.ok.values()), nerr))
    for m in tally.samples:
        print("  error: " + m)
    p = "http.ingress."
    print("\ncanaryd counters at the end:")
    for n in ("downstream_rq_total", "downstream_rq_2xx",
              "downstream_rq_4xx", "downstream_rq_5xx",
              "downstream_rq_rx_reset", "downstream_rq_idle_timeout",
              "downstream_rq_header_timeout", "downstream_cx_total",
              "downstream_cx_destroy_active_rq",
              "downstream_cx_idle_timeout", "downstream_cx_protocol_error",
              "log_dropped"):
        if p + n in stats:
            print("  %s%s %d" % (p, n, stats[p + n]))
    for n in sorted(stats):
        if n.startswith("cluster.") and (n.endswith("upstream_rq_5xx") or
                                         n.endswith("upstream_rq_retry")):
            print("  %s %d" % (n, stats[n]))
    five = stats.get(p + "downstream_rq_5xx", 0)
    workers0 = sorted(v for k, v in procs0.items() if "worker" in k)
    workers1 = sorted(v for k, v in procs1.items() if "worker" in k)
    print("\ncanaryd exit status: %s; workers %s -> %s; threads stuck: %d"
          % (status, workers0, workers1, stuck))
    with open(os.path.join(a.run, "summary.json"), "w") as f:
        json.dump({"seconds": a.seconds, "ok": tally.ok, "errors": tally.err,
                   "error_samples": tally.samples, "rss_kb": rss,
                   "samples": samples, "stats": stats, "exit": status},
                  f, indent=1)
    if nerr or five or status != 0 or workers0 != workers1 or stuck:
        print("soak: FAILED (errors %d, 5xx %d, exit %s)" %
              (nerr, five, status))
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
