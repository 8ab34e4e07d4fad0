"""Upstream failures: nothing listening, a response cut mid-body, a route
timeout."""

import time

import configs
from itestlib import UPSTREAM_RESET_PREFIX, V1_BODY, eq, expect, settle

DEAD_V2 = configs.one_vhost("""\
              - match: { prefix: "/dead" }
                route: { cluster: backend_v2 }
              - match: { prefix: "/" }
                route: { cluster: backend_v1 }
""")


def test_dead_backend_is_503(env):
    # v2's port is reserved for this run but nothing listens on it.
    env.start_backend("v1")
    env.start_canaryd(env.write_config(DEAD_V2), concurrency=2)
    for i in range(3):
        r = env.get("/dead")
        eq(r.status, 503, "GET /dead status")
        expect(r.body.startswith(UPSTREAM_RESET_PREFIX),
               "GET /dead body %r does not start with %r" %
               (r.body, UPSTREAM_RESET_PREFIX))
    fails = settle(
        lambda: env.stat("cluster.backend_v2.upstream_cx_connect_fail"), 3)
    expect(fails > 0, "cluster.backend_v2.upstream_cx_connect_fail is %d"
           % fails)
    # The healthy cluster is not affected.
    r = env.get("/api")
    eq((r.status, r.body), (200, V1_BODY), "GET /api after the failures")


def read_cut_response(env, path):
    """GET path on a raw connection; returns (headers, body, closed)."""
    c = env.raw(timeout=5.0)
    try:
        c.send(b"GET %s HTTP/1.1\r\nHost: test\r\n\r\n" % path.encode())
        data, closed = c.read_until_close()
    finally:
        c.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    return head, sep, body, closed


def test_backend_dies_mid_body_closes_client(env):
    v1 = env.start_backend("v1", args=["--close_after_headers", "1"])
    env.start_canaryd(env.write_config(configs.ALL_TO_V1), concurrency=2)
    for path, full in (("/api", len(V1_BODY)), ("/bytes/200000", 200000)):
        t0 = time.monotonic()
        head, sep, body, closed = read_cut_response(env, path)
        dt = time.monotonic() - t0
        expect(closed, "GET %s: connection still open after %.1fs "
               "(got %d body bytes)" % (path, dt, len(body)))
        expect(dt < 4.0, "GET %s: took %.1fs to close" % (path, dt))
        # The upstream's headers were forwarded before the cut, so the
        # client sees them, then fewer bytes than promised, then EOF.
        expect(sep and head.startswith(b"HTTP/1.1 200"),
               "GET %s: want the 200 head, got %r" % (path, head[:60]))
        expect(b"content-length: %d" % full in head.lower(),
               "GET %s: no content-length %d in %r" % (path, full, head))
        expect(len(body) < full,
               "GET %s: got all %d bytes of a cut response" %
               (path, len(body)))
    # After the upstream is fixed, the same path works again.
    v1.ctl(close_after_headers=0)
    r = env.get("/api")
    eq((r.status, r.body), (200, V1_BODY), "GET /api after the fix")


TIMEOUT_ROUTE = configs.one_vhost("""\
              - match: { prefix: "/" }
                route: { cluster: backend_v1, timeout: 0.5s }
""")


def test_route_timeout_is_504(env):
    env.start_backend("v1", args=["--delay_ms", "2000"])
    env.start_canaryd(env.write_config(TIMEOUT_ROUTE), concurrency=2)
    t0 = time.monotonic()
    r = env.get("/api")
    dt = time.monotonic() - t0
    eq(r.status, 504, "status")
    eq(r.body, b"upstream request timeout", "body")
    expect(0.45 <= dt <= 1.2, "504 after %.2fs, want about 0.5s" % dt)
    n = settle(lambda: env.stat("cluster.backend_v1.upstream_rq_timeout"),
               1)
    eq(n, 1, "cluster.backend_v1.upstream_rq_timeout")
