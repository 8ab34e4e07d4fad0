#!/usr/bin/env python3
"""Many keep-alive connections, each with a request in flight (stdlib only).

    inflight.py --port P --conns N [--procs K] [--seconds S] [--ramp R]
                [--path /] [--pids "PID ..."] [--host 127.0.0.1]

K processes (default: one per 2,500 connections) open N connections in
all, R per 100 ms per process (a burst of thousands of SYNs at once
overflows any listen queue and turns into 1 s SYN retries, which is the
kernel's doing, not the proxy's), then for S seconds every connection
sends a GET, waits for the whole answer and sends the next; the first
GETs go out at the same pace, since each makes a proxy open an upstream
connection.  With a
backend that holds each request (backend --delay_ms), all N are in flight
at once.  Then each connection is closed.

Prints one line of key=value pairs:

    conns= opened= requests= rps= p50_ms= p99_ms= max_ms= errors=
    err_connect= err_status= err_closed= err_timeout=
    rss_base_kb= rss_idle_kb= rss_busy_kb= idle_b_per_conn= busy_b_per_conn=

errors is the sum of the err_ fields: a connect that failed, an answer
that was not 200, a connection closed under a request, a request with no
answer within --timeout.  rss_* sum VmRSS over --pids (and their
children): before connecting, once all N are open and idle, and the
largest seen while requests were in flight; the per-connection figures
divide the growth by N.  Bounded: the whole run ends by S + 60 s.
"""

import argparse
import os
import selectors
import socket
import sys
import time


def tree(pids):
    out, todo = [], list(pids)
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                todo.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def rss_kb(pids):
    t = 0
    for p in tree(pids):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        t += int(line.split()[1])
        except OSError:
            pass
    return t


class Conn:
    __slots__ = ("s", "buf", "t0", "want", "sent")

    def __init__(self, s):
        self.s = s
        self.buf = b""
        self.t0 = 0.0
        self.want = None    # bytes of the answer expected in all, once known
        self.sent = False


def answer_len(buf):
    """Total length of the answer at the start of buf, or None if the
    head is not complete yet; -1 for a head we cannot frame."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    for line in buf[:end].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return end + 4 + int(v.strip())
    return -1


def child(a, n, wfd, go_rfd, ready_wfd):
    """Open n connections, report on ready_wfd, wait for go, load, report."""
    sel = selectors.DefaultSelector()
    conns, st = [], dict(err_connect=0, err_status=0, err_closed=0,
                         err_timeout=0, requests=0)
    lat = []
    req = ("GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % a.path).encode()
    deadline = time.monotonic() + a.seconds + 50
    i = 0
    while i < n and time.monotonic() < deadline:
        for _ in range(min(a.ramp, n - i)):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect_ex((a.host, a.port))
            except OSError:
                st["err_connect"] += 1
                s.close()
                continue
            conns.append(Conn(s))
        i += a.ramp
        time.sleep(0.1)
    # wait for every connect to finish (writable), bounded
    pend = {c.s: c for c in conns}
    for c in conns:
        sel.register(c.s, selectors.EVENT_WRITE, c)
    t_end = time.monotonic() + 20
    while pend and time.monotonic() < t_end:
        for key, _ in sel.select(0.5):
            c = key.data
            sel.unregister(c.s)
            if c.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                st["err_connect"] += 1
                c.s.close()
                c.s = None
            pend.pop(key.fileobj, None)
    for s, c in pend.items():
        sel.unregister(s)
        st["err_connect"] += 1
        s.close()
        c.s = None
    live = [c for c in conns if c.s is not None]
    os.write(ready_wfd, b"%d\n" % len(live))
    os.read(go_rfd, 1)

    def send(c):
        c.buf, c.want, c.t0 = b"", None, time.monotonic()
        try:
            c.s.send(req)
            return True
        except OSError:
            st["err_closed"] += 1
            return False

    def start(batch):
        n = 0
        for c in batch:
            if send(c):
                sel.register(c.s, selectors.EVENT_READ, c)
                n += 1
            else:
                c.s.close()
                c.s = None
        return n

    # the first requests go out at the ramp's pace too: all at once they
    # would make the proxy open as many upstream connections at once
    waiting = list(live)
    active = start(waiting[:a.ramp])
    del waiting[:a.ramp]
    next_batch = time.monotonic() + 0.1
    stop = time.monotonic() + a.seconds
    hard = stop + a.timeout
    while (active or waiting) and time.monotonic() < hard:
        now = time.monotonic()
        if waiting and now >= next_batch:
            active += start(waiting[:a.ramp])
            del waiting[:a.ramp]
            next_batch = now + 0.1
        for key, _ in sel.select(0.1 if waiting else 0.2):
            c = key.data
            try:
                d = c.s.recv(65536)
            except OSError:
                d = b""
            if not d:
                st["err_closed"] += 1
                sel.unregister(c.s)
                c.s.close()
                c.s = None
                active -= 1
                continue
            c.buf += d
            if c.want is None:
                c.want = answer_len(c.buf)
                if c.want == -1:
                    c.want = None
                    st["err_status"] += 1
            if c.want is None or len(c.buf) < c.want:
                continue
            t = time.monotonic()
            lat.append(t - c.t0)
            st["requests"] += 1
            if not c.buf.startswith(b"HTTP/1.1 200 "):
                st["err_status"] += 1
            if t < stop and send(c):
                continue
            sel.unregister(c.s)
            c.s.close()
            c.s = None
            active -= 1
        if now > stop:
            for c in live:
                if c.s is not None and now - c.t0 > a.timeout:
                    st["err_timeout"] += 1
                    sel.unregister(c.s)
                    c.s.close()
                    c.s = None
                    active -= 1
    for c in live:
        if c.s is not None:
            st["err_timeout"] += 1
            c.s.close()
    lat.sort()
    # one line: counts, then the latencies (ms, for the parent's percentiles)
    line = " ".join("%s=%d" % kv for kv in sorted(st.items()))
    line += " lat=" + ",".join("%.1f" % (x * 1000) for x in lat)
    os.write(wfd, (line + "\n").encode())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--conns", type=int, required=True)
    ap.add_argument("--procs", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--ramp", type=int, default=250)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--path", default="/")
    ap.add_argument("--pids", default="")
    a = ap.parse_args()
    pids = [int(x) for x in a.pids.split()]
    k = a.procs or max(1, (a.conns + 2499) // 2500)
    base = rss_kb(pids)
    kids, outs, readys, gos = [], [], [], []
    for j in range(k):
        n = a.conns // k + (1 if j < a.conns % k else 0)
        r, w = os.pipe()
        rr, rw = os.pipe()
        gr, gw = os.pipe()
        pid = os.fork()
        if pid == 0:
            for fd in (r, rr, gw):
                os.close(fd)
            try:
                child(a, n, w, gr, rw)
            finally:
                os._exit(0)
        for fd in (w, rw, gr):
            os.close(fd)
        kids.append(pid)
        outs.append(r)
        readys.append(rr)
        gos.append(gw)
    opened = 0
    for rr in readys:
        opened += int(os.read(rr, 64).split()[0] or 0)
    time.sleep(0.5)
    idle = rss_kb(pids)
    for gw in gos:
        os.write(gw, b"g")
    t0 = time.monotonic()
    busy = idle
    # sample RSS while the children run
    texts = {r: b"" for r in outs}
    sel = selectors.DefaultSelector()
    for r in outs:
        sel.register(r, selectors.EVENT_READ)
    while len(sel.get_map()) and time.monotonic() < t0 + a.seconds + 60:
        busy = max(busy, rss_kb(pids))
        for key, _ in sel.select(0.2):
            d = os.read(key.fd, 1 << 20)
            if not d:
                sel.unregister(key.fd)
            else:
                texts[key.fd] += d
    dt = time.monotonic() - t0
    for pid in kids:
        os.waitpid(pid, 0)
    tot, lat = {}, []
    for t in texts.values():
        for f in t.decode().split():
            key, _, v = f.partition("=")
            if key == "lat":
                lat.extend(float(x) for x in v.split(",") if x)
            else:
                tot[key] = tot.get(key, 0) + int(v)
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] if lat else 0.0
    errs = sum(v for key, v in tot.items() if key.startswith("err_"))
    errs += a.conns - opened - tot.get("err_connect", 0)
    out = dict(conns=a.conns, opened=opened, requests=tot.get("requests", 0),
               rps="%.0f" % (tot.get("requests", 0) / min(dt, a.seconds)),
               p50_ms="%.0f" % pct(0.5), p99_ms="%.0f" % pct(0.99),
               max_ms="%.0f" % (lat[-1] if lat else 0), errors=errs)
    for key in ("err_connect", "err_status", "err_closed", "err_timeout"):
        out[key] = tot.get(key, 0)
    out.update(rss_base_kb=base, rss_idle_kb=idle, rss_busy_kb=busy,
               idle_b_per_conn="%.0f" % ((idle - base) * 1024 / a.conns),
               busy_b_per_conn="%.0f" % ((busy - base) * 1024 / a.conns))
    print(" ".join("%s=%s" % kv for kv in out.items()))
    return 0 if errs == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
