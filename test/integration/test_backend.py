"""The test backend itself (build/backend), without canaryd: if it is
wrong, every other test is.  Each check is quick."""

import threading
import time

from itestlib import (Client, V1_BODY, V2_BODY, eq, expect, pattern,
                      request)


def test_backend_bodies_and_switches(env):
    v1 = env.start_backend("v1")
    v2 = env.start_backend("v2")
    for b, body in ((v1, V1_BODY), (v2, V2_BODY)):
        r = request(b.port, "GET", "/api")
        eq((r.status, r.body), (200, body), "backend %s GET /api" % b.version)
        eq(r.header("content-type"), "application/json", "content-type")
        eq(r.header("x-body-bytes"), "0", "x-body-bytes")
    v1.ctl(status=502)
    eq(request(v1.port, "GET", "/x").status, 502, "status=502")
    eq(request(v1.port, "GET", "/health").status, 200,
       "/health ignores status")
    v1.ctl(status=200, health_status=503)
    eq(request(v1.port, "GET", "/health").status, 503, "health_status=503")
    # A bad key changes nothing, not even the good keys before it.
    r = request(v1.port, "POST", "/_ctl?status=500&nonsense=1")
    eq(r.status, 400, "unknown /_ctl key")
    eq(request(v1.port, "GET", "/x").status, 200, "status after a bad /_ctl")
    eq(request(v1.port, "GET", "/_ctl?status=500").status, 405, "GET /_ctl")

    # fail_rate is deterministic, counted from when it is set.
    v1.ctl(fail_rate=50)
    got = [request(v1.port, "GET", "/x").status for _ in range(6)]
    eq(got, [200, 503] * 3, "fail_rate=50")
    v1.ctl(fail_rate=10)
    got = [request(v1.port, "GET", "/x").status for _ in range(20)]
    eq([i + 1 for i, s in enumerate(got) if s == 503], [10, 20],
       "fail_rate=10: failing request numbers")
    # ratelimited marks failures only, not /health or successes.
    v1.ctl(fail_rate=50, ratelimited=1)
    got = [request(v1.port, "GET", "/x") for _ in range(2)]
    eq([(r.status, r.header("x-envoy-ratelimited")) for r in got],
       [(200, None), (503, "true")], "fail_rate=50 with ratelimited=1")
    v1.ctl(fail_rate=0, status=429)
    eq(request(v1.port, "GET", "/x").header("x-envoy-ratelimited"), "true",
       "status=429 with ratelimited=1")
    eq(request(v1.port, "GET", "/health").header("x-envoy-ratelimited"),
       None, "/health with ratelimited=1")
    v1.ctl(status=200, ratelimited=0, extra_headers=1)
    r = request(v1.port, "GET", "/x")
    eq((r.header("x-powered-by"), r.header("cache-control")),
       ("canary-backend", "max-age=60"), "extra_headers=1")
    v1.ctl(extra_headers=0, reset_stats=1)
    eq(v1.stats()["requests"], 0, "requests after reset_stats")


def test_backend_delay_does_not_block(env):
    v1 = env.start_backend("v1", args=["--delay_ms", "600"])
    out = {}

    def slow():
        t = time.monotonic()
        out["r"] = request(v1.port, "GET", "/slow")
        out["dt"] = time.monotonic() - t
    th = threading.Thread(target=slow, daemon=True)
    th.start()
    time.sleep(0.2)
    t = time.monotonic()
    st = v1.stats()     # /_stats is never delayed
    expect(time.monotonic() - t < 0.3, "/_stats waited for the delay")
    eq((st["active"], st["max_active"]), (1, 1), "active while delayed")
    th.join(5)
    eq(out["r"].status, 200, "delayed request")
    expect(0.55 <= out["dt"] < 2.0, "delay %.2fs, want 0.6s" % out["dt"])
    eq(v1.stats()["active"], 0, "active after")


def test_backend_pipelining_partial_and_bodies(env):
    v1 = env.start_backend("v1")
    c = env.raw(v1.port)
    try:
        # Three requests in one write, the second with a chunked body
        # (with an extension and a trailer), the third cut in pieces.
        c.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
               b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
               b"\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"
               b"POST /c HTTP/1.1\r\nHost: x\r\nContent-")
        time.sleep(0.05)
        c.send(b"Length: 5\r\n\r\nhel")
        time.sleep(0.05)
        c.send(b"lo")
        for want in ("0", "3", "5"):
            r = c.read_response()
            eq((r.status, r.body), (200, V1_BODY), "pipelined response")
            eq(r.header("x-body-bytes"), want, "x-body-bytes")
        c.send(b"GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /chunked/100000 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"HEAD /bytes/7 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /echo HTTP/1.1\r\nHost: x\r\nX-MiXed: a \r\n"
               b"Connection: close\r\n\r\n")
        r = c.read_response()
        eq(r.body, pattern(100000), "/bytes/100000")
        r = c.read_response()
        eq(r.header("transfer-encoding"), "chunked", "/chunked framing")
        eq(r.body, pattern(100000), "/chunked/100000")
        r = c.read_response(head=True)
        eq((r.header("content-length"), r.body), ("7", b""), "HEAD")
        r = c.read_response()
        j = r.json()
        eq(j["request_line"], "GET /echo HTTP/1.1", "echo request line")
        eq(j["headers"], [["Host", "x"], ["X-MiXed", "a"],
                          ["Connection", "close"]], "echo headers")
        rest, closed = c.read_until_close()
        expect(closed and rest == b"", "connection: close not honoured")
    finally:
        c.close()


def test_backend_faults_and_record(env):
    rec = env.logdir + "/record.raw"
    v1 = env.start_backend("v1", args=["--record", rec,
                                       "--close_after_headers", "1"])
    c = env.raw(v1.port)
    try:
        c.send(b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
        data, closed = c.read_until_close()
    finally:
        c.close()
    head, _, body = data.partition(b"\r\n\r\n")
    expect(closed, "close_after_headers: connection not closed")
    expect(b"content-length: %d" % len(V1_BODY) in head, "no content-length")
    eq(body, V1_BODY[:len(V1_BODY) // 2], "close_after_headers body")

    v1.ctl(close_after_headers=0, chunked=1)
    r = request(v1.port, "GET", "/api")
    eq((r.header("transfer-encoding"), r.body), ("chunked", V1_BODY),
       "chunked=1")
    v1.ctl(chunked=0, reset=1)
    c = env.raw(v1.port)
    try:
        c.send(b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
        data, closed = c.read_until_close()
    finally:
        c.close()
    expect(closed and data == b"", "reset=1: got %r" % data[:60])
    v1.ctl(reset=0)

    cl = Client(v1.port)
    try:
        r = cl.request("POST", "/rec", body=b"xyz")
        eq(r.header("x-body-bytes"), "3", "POST body")
    finally:
        cl.close()
    with open(rec, "rb") as f:
        raw = f.read()
    expect(b"POST /rec HTTP/1.1\r\n" in raw and raw.endswith(b"\r\n\r\nxyz"),
           "record file tail %r" % raw[-120:])
