"""The HTTP filters before the router (canaryd.yaml(5), HTTP FILTERS), run
from configs written the way Envoy's documentation writes them
(test/configs/filters/): local_ratelimit's token buckets exact across two
workers and many connections, with a route's own bucket; fault aborts and
delays at 100 % and 0 %, and driven by the request's headers; CORS
preflights and actual requests; gzip bodies that decompress to the
original, and Accept-Encoding's negotiation.  Each test checks what the client got,
what the backend received and the statistics Envoy keeps."""

import os
import signal
import socket
import threading
import time
import zlib

from itestlib import Client, eq, expect, pattern, request, settle

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FILTERS = os.path.join(ROOT, "test", "configs", "filters")


def start(env, name, concurrency=2):
    v1 = env.start_backend("v1")
    p = env.start_canaryd(env.file_config(os.path.join(FILTERS, name)),
                          concurrency=concurrency)
    return v1, p


def backend_requests(v1):
    return v1.stats()["requests"]


def parallel(n, fn):
    """fn(i) for i in [0, n) on n threads; their results, in order."""
    out = [None] * n

    def run(i):
        out[i] = fn(i)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


# ---- local_ratelimit ---------------------------------------------------------

def test_local_ratelimit_exact_across_workers(env):
    v1, p = start(env, "local_ratelimit.yaml", concurrency=4)
    expect(len(p.workers()) >= 2, "at least two workers")
    port = env.proxy_port
    # 40 requests at once, each on its own connection, spread over the
    # workers by the kernel: the bucket of 10 lets exactly 10 by
    codes = parallel(40, lambda i: request(port, "GET", "/api/%d" % i))
    ok = [r for r in codes if r.status == 200]
    limited = [r for r in codes if r.status == 429]
    eq(len(ok), 10, "requests let by (max_tokens 10)")
    eq(len(limited), 30, "requests answered 429")
    r = limited[0]
    eq(r.body, b"local_rate_limited", "the 429's body")
    eq(r.header("x-local-rate-limit"), "true",
       "response_headers_to_add on the 429")
    eq(r.header("content-type"), "text/plain", "the 429's content type")
    eq(backend_requests(v1), 10, "requests the backend received")
    s = env.stats()
    pre = "http_local_rate_limiter.http_local_rate_limit."
    eq(env.stat(pre + "enabled", s), 40, pre + "enabled")
    eq(env.stat(pre + "ok", s), 10, pre + "ok")
    eq(env.stat(pre + "rate_limited", s), 30, pre + "rate_limited")
    eq(env.stat(pre + "enforced", s), 30, pre + "enforced")
    eq(env.stat("http.ingress_http.downstream_rq_4xx", s), 30,
       "downstream_rq_4xx")


def test_local_ratelimit_route_bucket_and_shadow(env):
    v1, p = start(env, "local_ratelimit.yaml")
    port = env.proxy_port
    # /limited has a bucket of its own (4, status 503), which replaces
    # the listener's: it does not take from the listener's 10
    codes = parallel(12, lambda i: request(port, "GET", "/limited").status)
    eq(sorted(codes), [200] * 4 + [503] * 8, "/limited: 4 by, then 503")
    codes = [request(port, "GET", "/other").status for _ in range(11)]
    eq(codes, [200] * 10 + [429], "the listener's bucket is still whole")
    # /shadow: enabled, never enforced: counted, let by
    codes = [request(port, "GET", "/shadow").status for _ in range(3)]
    eq(codes, [200] * 3, "/shadow: not enforced")
    s = env.stats()
    eq(env.stat("route_rate_limiter.http_local_rate_limit.rate_limited",
                s), 8, "route bucket rate_limited")
    eq(env.stat("shadow_rate_limiter.http_local_rate_limit.rate_limited",
                s), 2, "shadow rate_limited")
    eq(env.stat("shadow_rate_limiter.http_local_rate_limit.enforced", s),
       0, "shadow enforced")
    eq(backend_requests(v1), 4 + 10 + 3, "requests the backend received")


def many_buckets(env, n):
    """local_ratelimit.yaml with n more routes before its last, /b<i>/,
    each with a bucket of its own (2 tokens, an hour), two by two under
    one stat_prefix (b<i // 2>): far past the 64 buckets canaryd once
    held at most."""
    with open(os.path.join(FILTERS, "local_ratelimit.yaml")) as f:
        text = f.read()
    last = '              - match: { prefix: "/" }\n'
    eq(text.count(last), 1, "the catch-all route in local_ratelimit.yaml")
    routes = "".join(
        '              - match: { prefix: "/b%d/" }\n'
        "                route: { cluster: backend_v1 }\n"
        "                typed_per_filter_config:\n"
        "                  envoy.filters.http.local_ratelimit:\n"
        '                    "@type": type.googleapis.com/envoy.extensions'
        ".filters.http.local_ratelimit.v3.LocalRateLimit\n"
        "                    stat_prefix: b%d\n"
        "                    token_bucket: { max_tokens: 2, "
        "fill_interval: 3600s }\n"
        "                    filter_enabled:\n"
        "                      default_value: { numerator: 100 }\n"
        "                    filter_enforced:\n"
        "                      default_value: { numerator: 100 }\n"
        % (i, i // 2) for i in range(n))
    path = os.path.join(env.logdir, "many-buckets.src.yaml")
    with open(path, "w") as f:
        f.write(text.replace(last, routes + last))
    return env.file_config(path)


def three_tries(port, i):
    return [request(port, "GET", "/b%d/x" % i).status for _ in range(3)]


def test_local_ratelimit_many_buckets_and_reloads(env):
    """Buckets are bounded by the segment, sized from the file: 300
    routes with buckets of their own each let exactly their 2 by; a
    structural reload to 350 gives the new generation fresh buckets; one
    to 1,000 is more than the segment holds and is refused naming the
    knob, the running configuration serving on."""
    v1 = env.start_backend("v1")
    p = env.start_canaryd(many_buckets(env, 300))
    port = env.proxy_port
    for i in (0, 150, 151, 299):
        eq(three_tries(port, i), [200, 200, 429], "/b%d/: 2 by, then 429" % i)
    s = env.stats()
    rl = "b75.http_local_rate_limit."
    eq([env.stat(rl + k, s) for k in ("enabled", "ok", "rate_limited")],
       [6, 4, 2], "b75: the buckets of /b150/ and /b151/ summed")
    eq(env.stat("b149.http_local_rate_limit.rate_limited", s), 1,
       "b149 rate_limited")
    eq(env.stat("b76.http_local_rate_limit.enabled", s), 0,
       "b76 untouched")
    eq(len([k for k in s if k.endswith(".http_local_rate_limit.ok")]),
       150 + 3, "prefixes in /stats (150, the route's, the shadow's, "
       "the listener's)")
    eq(env.get("/other").status, 200, "the listener's bucket")
    many_buckets(env, 350)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1, timeout=10)
    eq(env.stat("server.config_reload_fail"), 0, "reload failures")
    settle(lambda: request(port, "GET", "/b349/x").status, 200, timeout=10)
    eq(three_tries(port, 349)[:2], [200, 429], "/b349/: its bucket of 2")
    eq(three_tries(port, 0), [200, 200, 429],
       "/b0/: the new generation's bucket, whole")
    before = backend_requests(v1)
    many_buckets(env, 1000)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload_fail"), 1, timeout=10)
    expect("local_ratelimit token buckets" in p.output() and
           "--shm-size" in p.output(),
           "the refusal names the limit and --shm-size")
    eq(env.stat("server.config_reload"), 1, "reloads applied")
    eq(three_tries(port, 200), [200, 200, 429],
       "the running configuration serves on")
    eq(request(port, "GET", "/b999/x").status, 200,
       "/b999/ is the catch-all's, as before the refused reload")
    eq(backend_requests(v1) - before, 3, "requests the backend received")


# ---- fault ----------------------------------------------------------------

def test_fault_abort_percentages(env):
    v1, p = start(env, "fault.yaml")
    port = env.proxy_port
    for i in range(5):
        r = request(port, "GET", "/abort")
        eq(r.status, 503, "/abort at 100 %")
        eq(r.body, b"fault filter abort", "the abort's body")
    for i in range(5):
        eq(request(port, "GET", "/never").status, 200, "/never at 0 %")
    eq(backend_requests(v1), 5, "only the 0 % route reached the backend")
    s = env.stats()
    eq(env.stat("http.ingress_http.fault.aborts_injected", s), 5,
       "fault.aborts_injected")
    eq(env.stat("http.ingress_http.fault.delays_injected", s), 0,
       "fault.delays_injected")
    eq(settle(lambda: env.stat("http.ingress_http.fault.active_faults"), 0),
       0, "fault.active_faults back to 0")


def test_fault_header_driven(env):
    v1, p = start(env, "fault.yaml")
    port = env.proxy_port
    eq(request(port, "GET", "/").status, 200, "no header: no fault")
    r = request(port, "GET", "/", headers={
        "x-envoy-fault-abort-request": "429"})
    eq(r.status, 429, "x-envoy-fault-abort-request: 429")
    r = request(port, "GET", "/", headers={
        "x-envoy-fault-abort-request": "429",
        "x-envoy-fault-abort-request-percentage": "0"})
    eq(r.status, 200, "the header's percentage lowers the share to 0")
    r = request(port, "GET", "/", headers={
        "x-envoy-fault-abort-request": "not-a-status"})
    eq(r.status, 200, "a status that is not one: no abort")
    t0 = time.monotonic()
    r = request(port, "GET", "/", headers={
        "x-envoy-fault-delay-request": "250"})
    took = time.monotonic() - t0
    eq(r.status, 200, "delayed request answered")
    expect(took >= 0.25, "x-envoy-fault-delay-request: 250 waited "
           "(%.3f s)" % took)
    # a route's own fault replaces the header-driven one: the header is
    # not read there
    r = request(port, "GET", "/never", headers={
        "x-envoy-fault-abort-request": "429"})
    eq(r.status, 200, "/never's own config ignores the header")
    eq(backend_requests(v1), 5, "requests the backend received")
    s = env.stats()
    eq(env.stat("http.ingress_http.fault.aborts_injected", s), 1,
       "aborts_injected")
    eq(env.stat("http.ingress_http.fault.delays_injected", s), 1,
       "delays_injected")


def test_fault_delay_then_abort_and_body(env):
    v1, p = start(env, "fault.yaml")
    port = env.proxy_port
    t0 = time.monotonic()
    r = request(port, "POST", "/delay", body=b"x" * 5000)
    took = time.monotonic() - t0
    eq(r.status, 200, "/delay answered by the backend")
    eq(r.header("x-body-bytes"), "5000", "the body reached the backend")
    expect(took >= 0.3, "/delay waited its 0.3 s (%.3f s)" % took)
    t0 = time.monotonic()
    r = request(port, "GET", "/both")
    took = time.monotonic() - t0
    eq(r.status, 418, "/both: the abort after the delay")
    expect(took >= 0.2, "/both waited its 0.2 s first (%.3f s)" % took)
    eq(backend_requests(v1), 1, "the abort never reached the backend")
    s = env.stats()
    eq(env.stat("http.ingress_http.fault.delays_injected", s), 2,
       "delays_injected")
    eq(env.stat("http.ingress_http.fault.aborts_injected", s), 1,
       "aborts_injected")
    # the gauge drops when the worker ends the request, a moment after
    # the client has the answer
    eq(settle(lambda: env.stat("http.ingress_http.fault.active_faults"), 0),
       0, "active_faults back to 0")


# ---- cors -------------------------------------------------------------------

def test_cors_preflight(env):
    v1, p = start(env, "cors.yaml")
    port = env.proxy_port
    r = request(port, "OPTIONS", "/api", headers={
        "origin": "http://app.example.com",
        "access-control-request-method": "POST"})
    eq(r.status, 200, "preflight answered")
    eq(r.header("access-control-allow-origin"), "http://app.example.com",
       "allow-origin")
    eq(r.header("access-control-allow-methods"), "GET, POST, PUT",
       "allow-methods")
    eq(r.header("access-control-allow-headers"),
       "content-type, x-grpc-web", "allow-headers")
    eq(r.header("access-control-max-age"), "1728000", "max-age")
    eq(r.header("access-control-allow-credentials"), "true",
       "allow-credentials")
    eq(r.body, b"", "no body")
    # a suffix match, and a route's own policy
    r = request(port, "OPTIONS", "/api", headers={
        "origin": "https://a.trusted.example",
        "access-control-request-method": "GET"})
    eq(r.header("access-control-allow-origin"),
       "https://a.trusted.example", "suffix match")
    r = request(port, "OPTIONS", "/open", headers={
        "origin": "http://anyone.example",
        "access-control-request-method": "GET"})
    eq(r.header("access-control-allow-methods"), "GET",
       "the route's policy replaces the virtual host's")
    eq(r.header("access-control-allow-credentials"), None,
       "no credentials on /open")
    eq(backend_requests(v1), 0, "preflights stay in canaryd")
    # an origin not allowed: the preflight goes on to the backend
    r = request(port, "OPTIONS", "/api", headers={
        "origin": "http://evil.example",
        "access-control-request-method": "POST"})
    eq(r.header("access-control-allow-origin"), None,
       "no CORS headers for a refused origin")
    eq(backend_requests(v1), 1, "the refused preflight was forwarded")
    # legacy route.cors with forward_not_matching_preflights: false
    r = request(port, "OPTIONS", "/legacy", headers={
        "origin": "http://evil.example",
        "access-control-request-method": "DELETE"})
    eq(r.status, 200, "a refused preflight answered by canaryd")
    eq(r.header("access-control-allow-origin"), None, "without headers")
    eq(backend_requests(v1), 1, "and not forwarded")
    s = env.stats()
    eq(env.stat("http.ingress_http.cors.origin_valid", s), 3,
       "cors.origin_valid")
    eq(env.stat("http.ingress_http.cors.origin_invalid", s), 2,
       "cors.origin_invalid")


def test_cors_actual_request(env):
    v1, p = start(env, "cors.yaml")
    port = env.proxy_port
    r = request(port, "GET", "/api", headers={
        "origin": "http://app.example.com"})
    eq(r.status, 200, "proxied")
    eq(r.header("access-control-allow-origin"), "http://app.example.com",
       "allow-origin on the response")
    eq(r.header("access-control-expose-headers"), "x-request-id, x-backend",
       "expose-headers")
    eq(r.header("access-control-allow-credentials"), "true",
       "allow-credentials")
    eq(r.header("access-control-allow-methods"), None,
       "no preflight headers on an actual response")
    r = request(port, "GET", "/api", headers={
        "origin": "http://evil.example"})
    eq(r.status, 200, "a refused origin is still proxied")
    eq(r.header("access-control-allow-origin"), None, "without CORS headers")
    r = request(port, "GET", "/api")
    eq(r.header("access-control-allow-origin"), None, "no origin, no CORS")
    # a local reply passes the filter's encoding too
    r = request(port, "GET", "/legacy", headers={
        "origin": "http://legacy.example"})
    eq(r.header("access-control-allow-origin"), "http://legacy.example",
       "legacy route.cors on an actual request")
    eq(backend_requests(v1), 4, "requests the backend received")


# ---- compressor ---------------------------------------------------------------

GZ = "http.ingress_http.compressor.text_optimized.gzip."


def gunzip(body):
    return zlib.decompress(body, 16 + zlib.MAX_WBITS)


def test_compressor_gzip_bodies(env):
    v1, p = start(env, "compressor.yaml")
    c = Client(env.proxy_port)
    try:
        for path, n in (("/bytes/100000", 100000), ("/chunked/300000",
                        300000), ("/bytes/5000000", 5000000),
                        ("/chunked/1", 1)):
            r = c.get(path, headers={"accept-encoding": "gzip"})
            eq(r.status, 200, path)
            eq(r.header("content-encoding"), "gzip", path +
               " content-encoding")
            eq(r.header("vary"), "Accept-Encoding", path + " vary")
            eq(r.header("content-length"), None, path +
               " content-length removed")
            eq(r.header("transfer-encoding"), "chunked", path + " chunked")
            body = gunzip(r.body)
            eq(len(body), n, path + " decompressed length")
            expect(body == pattern(n), path + ": decompresses to the "
                   "original")
            if n > 1000:
                expect(len(r.body) < n // 4, "%s compressed: %d bytes" %
                       (path, len(r.body)))
        eq(c.connects, 1, "one keep-alive connection for all")
    finally:
        c.close()
    s = env.stats()
    eq(env.stat(GZ + "compressed", s), 4, "compressed")
    eq(env.stat(GZ + "total_uncompressed_bytes", s),
       100000 + 300000 + 5000000 + 1, "total_uncompressed_bytes")
    expect(env.stat(GZ + "total_compressed_bytes", s) > 0,
           "total_compressed_bytes")


def test_compressor_negotiation_and_exclusions(env):
    v1, p = start(env, "compressor.yaml")
    port = env.proxy_port
    cases = (
        (None, False), ("gzip", True), ("*", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("identity;q=1, gzip;q=0.5", False),
        ("gzip;q=0, identity", False),
        ("br", False), ("GZIP", True), ("deflate, gzip;q=0.001", True),
    )
    for ae, want in cases:
        h = {} if ae is None else {"accept-encoding": ae}
        r = request(port, "GET", "/bytes/2000", headers=h)
        eq(r.header("content-encoding"), "gzip" if want else None,
           "accept-encoding %r" % ae)
        body = gunzip(r.body) if want else r.body
        expect(body == pattern(2000), "accept-encoding %r: the bytes" % ae)
        if not want:
            eq(r.header("content-length"), "2000",
               "%r: content-length kept" % ae)
    gz = {"accept-encoding": "gzip"}
    r = request(port, "GET", "/plain/bytes/2000", headers=gz)
    eq(r.header("content-encoding"), None, "CompressorPerRoute disabled")
    r = request(port, "GET", "/api", headers=gz)
    eq(r.header("content-encoding"), None,
       "a body below min_content_length (100)")
    r = request(port, "HEAD", "/bytes/2000", headers=gz)
    eq(r.header("content-encoding"), None, "HEAD: not compressed")
    eq(r.header("content-length"), "2000", "HEAD: its length")
    eq(backend_requests(v1), len(cases) + 3, "requests the backend got")
    s = env.stats()
    # http.client sends "accept-encoding: identity" when told nothing
    eq(env.stat(GZ + "header_identity", s), 3, "header_identity")
    eq(env.stat(GZ + "header_not_valid", s), 1, "header_not_valid (br)")
    eq(env.stat(GZ + "header_wildcard", s), 1, "header_wildcard")
    eq(env.stat(GZ + "content_length_too_small", s), 1,
       "content_length_too_small")


def dechunk(data):
    out, i = [], 0
    while True:
        j = data.index(b"\r\n", i)
        n = int(data[i:j].split(b";")[0], 16)
        if n == 0:
            return b"".join(out)
        out.append(data[j + 2:j + 2 + n])
        i = j + 2 + n + 2


def test_compressor_slow_reader_large_output(env):
    # Huffman-only coding leaves the output large (about 6/8 of the
    # input), so the client's pace holds the compressor back: input
    # waits, and the end of the stream goes out over several turns
    with open(os.path.join(FILTERS, "compressor.yaml")) as f:
        text = f.read().replace("compression_strategy: DEFAULT_STRATEGY",
                                "compression_strategy: HUFFMAN_ONLY")
    src = os.path.join(env.logdir, "compressor-huffman.yaml")
    with open(src, "w") as f:
        f.write(text)
    v1 = env.start_backend("v1")
    env.start_canaryd(env.file_config(src), concurrency=1)
    n = 8 << 20
    for path in ("/bytes/%d" % n, "/chunked/%d" % n):
        raw = socket.create_connection(("127.0.0.1", env.proxy_port),
                                       timeout=10)
        # a small window (not too small: TCP itself would crawl)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        raw.sendall(("GET %s HTTP/1.1\r\nhost: x\r\naccept-encoding: gzip"
                     "\r\nconnection: close\r\n\r\n" % path).encode())
        data, k = [], 0
        while True:
            try:
                d = raw.recv(16384)
            except socket.timeout:
                raise AssertionError("%s: stalled after %d bytes: %r" % (
                    path, sum(len(x) for x in data),
                    b"".join(data)[-60:]))
            if not d:
                break
            data.append(d)
            k += 1
            if k % 16 == 0:
                time.sleep(0.001)
        raw.close()
        data = b"".join(data)
        head, body = data.split(b"\r\n\r\n", 1)
        expect(b"content-encoding: gzip" in head, path + " compressed")
        z = dechunk(body)
        expect(len(z) > n // 2, "%s: Huffman only keeps it large (%d)" %
               (path, len(z)))
        out = gunzip(z)
        eq(len(out), n, path + " decompressed length")
        expect(out == pattern(n), path + ": decompresses to the original")
    eq(backend_requests(v1), 2, "requests the backend received")
