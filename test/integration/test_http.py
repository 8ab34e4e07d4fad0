"""HTTP/1.1 behaviour of the data path: malformed input, header handling,
large bodies both ways, HEAD, keep-alive reuse upstream, and
max_requests_per_connection on both sides (canaryd-envoy(7), HTTP/1.1)."""

import re

import configs
from itestlib import Client, V1_BODY, eq, expect, pattern, settle

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                   r"[0-9a-f]{12}")


def test_bad_request_is_400_and_closed(env):
    env.start_backends()
    env.start_canaryd(env.seed_config(), concurrency=2)
    for garbage in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03junk"
                    b"\r\n\r\n",
                    b"GET /api HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                    b"NOT HTTP AT ALL\r\n\r\n"):
        c = env.raw(timeout=5.0)
        try:
            c.send(garbage)
            data, closed = c.read_until_close()
        finally:
            c.close()
        expect(data.startswith(b"HTTP/1.1 400"),
               "%r: want a 400, got %r" % (garbage[:30], data[:80]))
        expect(closed, "%r: connection left open after the 400" %
               garbage[:30])
    r = env.get("/api")
    eq(r.status, 200, "GET /api on a new connection afterwards")


def test_request_and_response_headers(env):
    env.start_backends()
    env.start_canaryd(env.write_config(configs.ALL_TO_V1), concurrency=2)
    ids = set()
    for _ in range(2):
        r = env.get("/echo", headers={
            "Connection": "keep-alive, x-hop-test",
            "Keep-Alive": "timeout=7",
            "X-Envoy-Retry-On": "5xx",
            "X-Custom": "kept",
        })
        eq(r.status, 200, "GET /echo status")
        seen = r.json()
        up = {}
        for k, v in seen["headers"]:
            up.setdefault(k.lower(), []).append(v)
        eq(up.get("x-forwarded-proto"), ["http"], "upstream x-forwarded-proto")
        rid = up.get("x-request-id", [""])
        expect(len(rid) == 1 and UUID4.fullmatch(rid[0]),
               "upstream x-request-id %r is not one UUID4" % rid)
        ids.add(rid[0])
        for h in ("keep-alive", "x-envoy-retry-on"):
            expect(h not in up, "upstream got the client's %s: %r" %
                   (h, up.get(h)))
        expect(not any("x-hop-test" in v for v in up.get("connection", [])),
               "upstream got the client's connection header %r" %
               up.get("connection"))
        eq(up.get("x-custom"), ["kept"], "upstream x-custom")
        eq(up.get("host"), ["127.0.0.1:%d" % env.proxy_port], "upstream host")

        # Response: ours, not the backend's.
        eq(r.header("server"), "canaryd", "response server")
        t = r.header("x-envoy-upstream-service-time")
        expect(t is not None and t.isdigit(),
               "x-envoy-upstream-service-time %r" % t)
        expect(not r.has_header("connection"),
               "response carries connection: %r (the backend sent "
               "'connection: keep-alive')" % r.header("connection"))
        eq(r.header("x-backend"), "v1", "response x-backend (passed through)")
    eq(len(ids), 2, "distinct x-request-id for two requests")


def test_large_bodies_both_ways(env):
    env.start_backends()
    env.start_canaryd(env.seed_config(), concurrency=2)
    mib = 1 << 20
    body = pattern(mib)
    c = Client(env.proxy_port)
    try:
        r = c.request("POST", "/api", body=body,
                      headers={"Content-Type": "application/octet-stream"})
        eq(r.status, 200, "POST 1 MiB with content-length")
        eq(r.header("x-body-bytes"), str(mib), "x-body-bytes (content-length)")

        # Odd chunk sizes, so chunk edges fall anywhere in canaryd's reads.
        chunks, off, k = [], 0, 0
        while off < mib:
            n = (1, 7, 4093, 65536, 100000)[k % 5]
            chunks.append(body[off:off + n])
            off += n
            k += 1
        # An iterator has no length: http.client sends it chunked.
        r = c.request("POST", "/api", body=iter(chunks))
        eq(r.status, 200, "POST 1 MiB chunked")
        eq(r.header("x-body-bytes"), str(mib), "x-body-bytes (chunked)")

        for path in ("/bytes/1000000", "/chunked/1000000"):
            r = c.get(path)
            eq(r.status, 200, "GET %s" % path)
            eq(len(r.body), 1000000, "GET %s length" % path)
            expect(r.body == pattern(1000000), "GET %s: body differs" % path)

        r = c.request("HEAD", "/api")
        eq(r.status, 200, "HEAD /api")
        eq(r.body, b"", "HEAD body")
        # The connection is still usable after HEAD (no body expected).
        r = c.get("/health")
        eq((r.status, r.body), (200, V1_BODY), "GET after HEAD")
        eq(c.connects, 1, "client connections for all requests")
    finally:
        c.close()


def test_keepalive_reuses_upstream_connections(env):
    workers = 2
    v1 = env.start_backend("v1")
    env.start_canaryd(env.write_config(configs.ALL_TO_V1),
                      concurrency=workers)
    before = v1.stats()["connections"]
    c = Client(env.proxy_port)
    try:
        for i in range(200):
            r = c.get("/api")
            eq((r.status, r.body), (200, V1_BODY), "request %d" % i)
        eq(c.connects, 1, "client connections")
    finally:
        c.close()
    cx = env.stat("cluster.backend_v1.upstream_cx_total")
    expect(1 <= cx <= workers * 2,
           "cluster.backend_v1.upstream_cx_total %d for 200 requests on "
           "one client connection (want 1..%d)" % (cx, workers * 2))
    # The backend agrees (its own count minus our /_stats connections).
    seen = v1.stats()["connections"] - before - 1
    expect(seen <= workers * 2, "backend accepted %d connections" % seen)
    n = settle(lambda: env.stat("cluster.backend_v1.upstream_rq_total"), 200)
    eq(n, 200, "cluster.backend_v1.upstream_rq_total")


MAX_RQ = 3
GET = b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n"


def test_max_requests_per_connection_downstream(env):
    cfg = configs.ALL_TO_V1.replace("""\
          stat_prefix: ingress
""", """\
          stat_prefix: ingress
          common_http_protocol_options:
            max_requests_per_connection: %d
""" % MAX_RQ)
    env.start_backend("v1")
    env.start_canaryd(env.write_config(cfg), concurrency=2)
    name = "http.ingress.downstream_cx_max_requests_reached"
    before = env.stats()
    conns = 6
    for n in range(conns):
        c = env.raw()
        try:
            if n % 2 == 0:      # one request at a time
                got = []
                for _ in range(MAX_RQ):
                    c.send(GET)
                    got.append(c.read_response())
            else:               # pipelined, one more than it may carry
                c.send(GET * (MAX_RQ + 1))
                got = [c.read_response() for _ in range(MAX_RQ)]
            rest, closed = c.read_until_close()
        finally:
            c.close()
        what = "connection %d" % n
        eq([(r.status, r.body) for r in got], [(200, V1_BODY)] * MAX_RQ,
           what + ": responses")
        eq([r.header("connection") for r in got],
           [None] * (MAX_RQ - 1) + ["close"], what + ": connection headers")
        eq((rest, closed), (b"", True), what + ": after the last response")
    # summed over both workers, whichever took each connection
    want = {name: conns, "http.ingress.downstream_rq_total": conns * MAX_RQ,
            "http.ingress.downstream_cx_destroy_local": conns}

    def deltas():
        s = env.stats()
        return {k: s.get(k, 0) - before.get(k, 0) for k in want}
    eq(settle(deltas, want), want, "stat deltas")
    # the same count in JSON and Prometheus
    j = env.admin_json("/stats?format=json&filter=max_requests_reached")
    eq(j["stats"], [{"name": name, "value": conns}], "/stats JSON")
    r = env.admin("/stats/prometheus?filter=max_requests_reached")
    eq(r.text, "# TYPE envoy_http_downstream_cx_max_requests_reached "
       "counter\nenvoy_http_downstream_cx_max_requests_reached{"
       "envoy_http_conn_manager_prefix=\"ingress\"} %d\n" % conns,
       "/stats/prometheus")


UPSTREAM_MAX_RQ = """\
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.\
HttpProtocolOptions
        common_http_protocol_options: { max_requests_per_connection: 2 }
        explicit_http_config: { http_protocol_options: {} }
"""


def test_max_requests_per_connection_upstream(env):
    cfg = configs.ALL_TO_V1.replace("""\
  - name: backend_v1
    type: STATIC
""", """\
  - name: backend_v1
    type: STATIC
""" + UPSTREAM_MAX_RQ)
    v1 = env.start_backend("v1")
    env.start_canaryd(env.write_config(cfg), concurrency=1)
    before = v1.stats()["connections"]
    c = Client(env.proxy_port)
    try:
        for i in range(6):
            r = c.get("/api")
            eq((r.status, r.body), (200, V1_BODY), "request %d" % i)
    finally:
        c.close()
    p = "cluster.backend_v1."
    want = {p + "upstream_cx_max_requests": 3, p + "upstream_cx_total": 3,
            p + "upstream_rq_total": 6, p + "upstream_cx_destroy_local": 3,
            p + "upstream_cx_active": 0}
    eq(settle(lambda: {k: env.stat(k) for k in want}, want), want,
       "stats after 6 requests, 2 a connection")
    # the backend saw the same three (less our /_stats connection)
    eq(v1.stats()["connections"] - before - 1, 3, "backend connections")



def http10_config(env, default_host):
    opts = "{ accept_http_10: true%s }" % (
        ", default_host_for_http_10: %s" % default_host
        if default_host else "")
    return env.write_config(configs.ALL_TO_V1.replace(
        "          stat_prefix: ingress\n", "          stat_prefix: ingress\n"
        "          http_protocol_options: %s\n" % opts, 1))


def http10_get(env, target, host=None):
    c = env.raw(timeout=5.0)
    try:
        c.send(b"GET %s HTTP/1.0\r\n%s\r\n" % (target.encode(),
               b"Host: %s\r\n" % host.encode() if host else b""))
        data, _ = c.read_until_close()
    finally:
        c.close()
    return data


def test_http10_without_host(env):
    env.start_backends()
    env.start_canaryd(http10_config(env, None), concurrency=1)
    data = http10_get(env, "/echo")
    expect(data.startswith(b"HTTP/1.1 400"), "HTTP/1.0 without Host and "
           "no default: %r" % data[:200])
    eq(http10_get(env, "/echo", "a.example")[:12], b"HTTP/1.1 200",
       "HTTP/1.0 with Host")
    data = http10_get(env, "http://abs.example/echo")
    expect(data.startswith(b"HTTP/1.1 200") and b"abs.example" in data,
           "HTTP/1.0 in absolute form: %r" % data[-300:])


def test_http10_default_host(env):
    env.start_backends()
    env.start_canaryd(http10_config(env, "svc.local"), concurrency=1)
    data = http10_get(env, "/echo")
    expect(data.startswith(b"HTTP/1.1 200"), "status: %r" % data[:100])
    expect(b"host: svc.local" in data.lower(), "the backend saw the "
           "default host: %r" % data[-400:])
