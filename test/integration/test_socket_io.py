"""The worker's socket reads and writes, both ways they are made
(canaryd(8), ENVIRONMENT): queued and issued together through io_uring
where the kernel allows it, and read(2) and write(2) each where it does
not or CANARYD_IO_URING=0 says so.  The rest of the suite runs whichever
this machine gives; these tests run the same traffic under each:
pipelined and keep-alive requests, a large response to a client that
reads slowly (full socket buffers), an upload, a client that leaves in
the middle of a response, idle keep-alive connections that send again,
and concurrent clients on a backend that takes 40 ms."""

import socket
import threading
import time

from itestlib import (Client, V1_BODY, V2_BODY, eq, expect, pattern,
                      settle)

RING = "socket I/O: io_uring"
PLAIN = "socket I/O: read(2), write(2)"


def _io_lines(p):
    return [ln for ln in p.output().splitlines() if "] socket I/O: " in ln]


def _start(env, environ):
    v1, v2 = env.start_backends()
    p = env.start_canaryd(env.seed_config(), concurrency=2,
                          environ=environ)
    settle(lambda: len(_io_lines(p)), 2, timeout=5.0)
    lines = _io_lines(p)
    eq(len(lines), 2, "one 'socket I/O:' line per worker: %r" % lines)
    return p, v1, v2, lines


def _pipelined(env, n=32):
    c = env.raw(timeout=10.0)
    try:
        c.send(b"GET /api HTTP/1.1\r\nHost: pipe\r\n\r\n" * n)
        for i in range(n):
            r = c.read_response()
            eq(r.status, 200, "pipelined response %d" % i)
            expect(r.body in (V1_BODY, V2_BODY),
                   "pipelined response %d body %r" % (i, r.body[:60]))
    finally:
        c.close()


def _slow_reader(env, size=4 << 20):
    """A client with a small receive buffer that pauses a millisecond
    every four reads: the proxy's writes find the socket full again and
    again (within the seed route's 1 s per-try timeout)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.settimeout(10.0)
    try:
        s.connect(("127.0.0.1", env.proxy_port))
        s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: slow\r\n\r\n" % size)
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            expect(d, "EOF before the response head")
            buf += d
        head, _, body = buf.partition(b"\r\n\r\n")
        expect(head.startswith(b"HTTP/1.1 200"), "head %r" % head[:40])
        parts = [body]
        got = len(body)
        for i in range(size // 1024 + 10):
            if got >= size:
                break
            d = s.recv(65536)
            expect(d, "EOF after %d of %d body bytes" % (got, size))
            parts.append(d)
            got += len(d)
            if i % 4 == 3:
                time.sleep(0.001)
        eq(got, size, "body bytes to the slow reader")
        expect(b"".join(parts) == pattern(size), "slow reader's body differs")
    finally:
        s.close()


def _leaves_mid_response(env):
    s = socket.create_connection(("127.0.0.1", env.proxy_port), timeout=10)
    try:
        s.sendall(b"GET /bytes/67108864 HTTP/1.1\r\nHost: gone\r\n\r\n")
        got = 0
        while got < (1 << 20):
            d = s.recv(65536)
            expect(d, "EOF before 1 MiB")
            got += len(d)
    finally:
        s.close()


def _concurrent(env, clients=8, each=5):
    errors = []

    def run():
        c = Client(env.proxy_port)
        try:
            for _ in range(each):
                r = c.get("/api")
                if r.status != 200 or r.body not in (V1_BODY, V2_BODY):
                    errors.append((r.status, r.body[:60]))
        except Exception as e:      # noqa: BLE001 (reported below)
            errors.append(repr(e))
        finally:
            c.close()

    ts = [threading.Thread(target=run) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    expect(not any(t.is_alive() for t in ts), "a client still waits")
    eq(errors, [], "concurrent clients on a 40 ms backend")


def _idle_and_split_heads(env, n=20):
    """Keep-alive connections that go idle and send again, some of their
    heads in pieces with pauses between (one read per piece)."""
    conns = [env.raw(timeout=10.0) for _ in range(n)]
    try:
        for c in conns:
            c.send(b"GET /api HTTP/1.1\r\nHost: idle\r\n\r\n")
        for c in conns:
            eq(c.read_response().status, 200, "first GET")
        time.sleep(0.2)
        for i, c in enumerate(conns):
            if i % 2:
                c.send(b"GET /api HTTP/1.1\r\nHost: idle\r\n\r\n")
                continue
            c.send(b"GET /api HT")
        time.sleep(0.05)
        for i, c in enumerate(conns):
            if i % 2 == 0:
                c.send(b"TP/1.1\r\nHost: id")
        time.sleep(0.05)
        for i, c in enumerate(conns):
            if i % 2 == 0:
                c.send(b"le\r\n\r\n")
        for i, c in enumerate(conns):
            r = c.read_response()
            eq(r.status, 200, "second GET on connection %d" % i)
            expect(r.body in (V1_BODY, V2_BODY), "second GET body")
    finally:
        for c in conns:
            c.close()


def _traffic(env, p, v1, v2):
    workers = sorted(p.workers())
    _pipelined(env)
    c = Client(env.proxy_port)
    try:
        for i in range(100):
            r = c.get("/api")
            eq(r.status, 200, "keep-alive GET %d" % i)
        body = pattern(4 << 20)
        r = c.request("POST", "/api", body=body,
                      headers={"Content-Type": "application/octet-stream"})
        eq(r.status, 200, "POST 4 MiB")
        eq(r.header("x-body-bytes"), str(len(body)), "upload bytes")
        eq(c.connects, 1, "one client connection for all of them")
    finally:
        c.close()
    _idle_and_split_heads(env)
    _slow_reader(env)
    _leaves_mid_response(env)
    v1.ctl(delay_ms=40)
    v2.ctl(delay_ms=40)
    _concurrent(env)
    v1.ctl(delay_ms=0)
    v2.ctl(delay_ms=0)
    r = env.get("/api")
    eq(r.status, 200, "GET after all of it")
    eq(sorted(p.workers()), workers, "the same workers serve (none died)")


def test_socket_io_through_io_uring(env):
    # "1" over a CANARYD_IO_URING=0 the whole run may have been given
    p, v1, v2, lines = _start(env, {"CANARYD_IO_URING": "1"})
    if not all(RING in ln for ln in lines):
        # a kernel or a seccomp filter without io_uring, or one whose
        # io_uring would wait on a socket: the log says why, and the
        # worker makes its own calls
        expect(all(PLAIN + " (io_uring" in ln for ln in lines),
               "neither io_uring nor a reason: %r" % lines)
        print("    io_uring unavailable here: %s" %
              lines[0].split("] ", 1)[-1])
    _traffic(env, p, v1, v2)


def test_socket_io_with_read2_write2_when_told(env):
    p, v1, v2, lines = _start(env, {"CANARYD_IO_URING": "0"})
    expect(all(PLAIN + " (CANARYD_IO_URING=0)" in ln for ln in lines),
           "read(2), write(2) by the environment: %r" % lines)
    _traffic(env, p, v1, v2)
