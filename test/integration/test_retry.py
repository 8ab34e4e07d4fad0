"""Retries (canaryd-envoy(7), RETRIES): a flaky canary masked by retries
with exact attempt counts, rate-limited answers (x-envoy-ratelimited)
retried under envoy-ratelimited and only there, connect failures retried
into Envoy's 503 body and the §9.5 counters, per-try timeouts into 504,
retries kept in the chosen cluster and on a host not tried yet, the
request body replayed (and not, past the buffer limit), the per-attempt
expected-timeout header, and the max_retries breaker."""

import json
import threading
import time

import configs
from itestlib import (UPSTREAM_RESET_PREFIX, V1_BODY, V2_BODY, eq, expect,
                      settle, wait_until)

RETRY_5XX = """\
                  retry_policy:
                    retry_on: "5xx"
                    num_retries: 2
"""


def to_v2(extra=""):
    return configs.one_vhost("""\
              - match: { prefix: "/" }
                route:
                  cluster: backend_v2
%s""" % (extra or RETRY_5XX))


def stat_delta(env, before, names, want, timeout=2.0):
    """Poll until every stat in names moved by want[name] since before;
    returns {name: delta} as last read (the caller compares)."""
    got = {}

    def read():
        s = env.stats()
        for n in names:
            got[n] = s.get(n, 0) - before.get(n, 0)
        return got == want
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.05) + 2):
        if read() or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    return dict(got)


def test_flaky_canary_masked_by_retries(env):
    v2 = env.start_backend("v2", args=["--fail_rate", "50"])
    env.start_canaryd(env.write_config(to_v2()), concurrency=2)
    before = env.stats()
    n = 30
    c = env.client()
    for i in range(n):
        r = c.get("/api")
        eq((r.status, r.body), (200, V2_BODY), "GET /api #%d" % i)
    c.close()
    attempts = v2.stats()["requests"]
    # every 2nd backend request fails: request 1 succeeds at once, each
    # later one fails first and succeeds on its retry
    eq(attempts, 2 * n - 1, "backend requests for %d client requests" % n)
    retries = attempts - n
    p = "cluster.backend_v2."
    names = [p + "upstream_rq_retry", p + "retry.upstream_rq_503",
             p + "upstream_rq_retry_success", p + "upstream_rq_total",
             p + "upstream_rq_200", p + "upstream_rq_503",
             p + "upstream_rq_retry_limit_exceeded",
             p + "upstream_rq_retry_overflow",
             "http.ingress.downstream_rq_5xx"]
    want = {p + "upstream_rq_retry": retries,
            p + "retry.upstream_rq_503": retries,
            p + "upstream_rq_retry_success": retries,
            p + "upstream_rq_total": attempts,
            p + "upstream_rq_200": n, p + "upstream_rq_503": 0,
            p + "upstream_rq_retry_limit_exceeded": 0,
            p + "upstream_rq_retry_overflow": 0,
            "http.ingress.downstream_rq_5xx": 0}
    eq(stat_delta(env, before, names, want), want, "stat deltas")


def test_all_attempts_fail_gives_last_response(env):
    v2 = env.start_backend("v2", args=["--status", "502"])
    env.start_canaryd(env.write_config(to_v2()), concurrency=2)
    before = env.stats()
    r = env.get("/api")
    # the last upstream response, unchanged, not a local reply
    eq((r.status, r.body), (502, V2_BODY), "response after 3 attempts")
    eq(r.header("x-envoy-overloaded"), None, "x-envoy-overloaded")
    eq(v2.stats()["requests"], 3, "backend attempts")
    p = "cluster.backend_v2."
    want = {p + "upstream_rq_retry": 2, p + "retry.upstream_rq_502": 2,
            p + "upstream_rq_502": 1, p + "upstream_rq_retry_success": 0,
            p + "upstream_rq_retry_limit_exceeded": 1}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")


RATELIMITED = """\
                  retry_policy:
                    retry_on: "envoy-ratelimited"
                    num_retries: 2
"""


def test_envoy_ratelimited_retried_by_the_header(env):
    # every 2nd answer is a 503 with x-envoy-ratelimited: each is retried
    # (under envoy-ratelimited alone) into the next, a 200
    v2 = env.start_backend("v2", args=["--fail_rate", "50",
                                       "--ratelimited", "1"])
    env.start_canaryd(env.write_config(to_v2(RATELIMITED)), concurrency=2)
    before = env.stats()
    n = 10
    c = env.client()
    for i in range(n):
        r = c.get("/api")
        eq((r.status, r.body), (200, V2_BODY), "GET /api #%d" % i)
    c.close()
    eq(v2.stats()["requests"], 2 * n - 1, "backend requests")
    p = "cluster.backend_v2."
    want = {p + "upstream_rq_retry": n - 1,
            p + "retry.upstream_rq_503": n - 1,
            p + "upstream_rq_retry_success": n - 1,
            p + "upstream_rq_200": n, p + "upstream_rq_503": 0}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")


def test_ratelimited_response_retried_only_under_its_name(env):
    v2 = env.start_backend("v2", args=["--status", "429",
                                       "--ratelimited", "1"])
    codes = RETRY_5XX.replace('"5xx"', '"5xx,gateway-error,'
                              'retriable-status-codes"') + \
        "                    retriable_status_codes: [ 429, 503 ]\n"
    env.start_canaryd(env.write_config(to_v2(codes)), concurrency=1)
    before = env.stats()
    # a 429 and a 503 the retry_on names would retry, but marked rate
    # limited: answered as they are, as Envoy does
    for st in (429, 503):
        v2.ctl(status=st, reset_stats=1)
        r = env.get("/api")
        eq((r.status, r.body), (st, V2_BODY), "marked %d" % st)
        eq(r.header("x-envoy-ratelimited"), "true", "passed to the client")
        eq(v2.stats()["requests"], 1, "backend requests for a marked %d" %
           st)
    # unmarked, the same 503 is retried
    v2.ctl(ratelimited=0, reset_stats=1)
    eq(env.get("/api").status, 503, "unmarked 503")
    eq(v2.stats()["requests"], 3, "backend requests for an unmarked 503")
    p = "cluster.backend_v2."
    want = {p + "upstream_rq_retry": 2, p + "upstream_rq_429": 1,
            p + "upstream_rq_503": 2}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")


def test_envoy_ratelimited_runs_out_of_retries(env):
    v2 = env.start_backend("v2", args=["--status", "429",
                                       "--ratelimited", "1"])
    env.start_canaryd(env.write_config(to_v2(RATELIMITED)), concurrency=1)
    before = env.stats()
    r = env.get("/api")
    eq((r.status, r.body), (429, V2_BODY), "the last 429, unchanged")
    eq(v2.stats()["requests"], 3, "backend attempts")
    # unmarked, envoy-ratelimited does not retry a 429
    v2.ctl(ratelimited=0, reset_stats=1)
    eq(env.get("/api").status, 429, "unmarked 429")
    eq(v2.stats()["requests"], 1, "backend requests for an unmarked 429")
    p = "cluster.backend_v2."
    want = {p + "upstream_rq_retry": 2, p + "retry.upstream_rq_429": 2,
            p + "upstream_rq_429": 2,
            p + "upstream_rq_retry_limit_exceeded": 1}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")


def test_connect_failure_retried_then_503(env):
    # v2's port is reserved for the run, nothing listens on it (§9.5)
    env.start_canaryd(env.write_config(to_v2()), concurrency=2)
    before = env.stats()
    r = env.get("/api")
    eq(r.status, 503, "status")
    eq(r.body, UPSTREAM_RESET_PREFIX + b" retried and the latest reset "
       b"reason: remote connection failure, transport failure reason: "
       b"delayed connect error: Connection refused", "body")
    eq(r.header("content-length"), str(len(r.body)), "content-length")
    eq(r.header("x-envoy-overloaded"), None, "x-envoy-overloaded")
    p = "cluster.backend_v2."
    want = {p + "upstream_cx_connect_fail": 3, p + "upstream_rq_retry": 2,
            p + "upstream_rq_retry_limit_exceeded": 1,
            p + "upstream_rq_pending_failure_eject": 3,
            p + "upstream_rq_503": 1, p + "upstream_rq_5xx": 1,
            p + "upstream_rq_retry_success": 0,
            "http.ingress.downstream_rq_5xx": 1}
    eq(stat_delta(env, before, list(want), want), want, "§9.5 deltas")


PER_TRY = RETRY_5XX + """\
                    per_try_timeout: 0.3s
"""


def test_per_try_timeout_retried_then_504(env):
    v2 = env.start_backend("v2", args=["--delay_ms", "1000"])
    env.start_canaryd(env.write_config(to_v2(PER_TRY)), concurrency=2)
    before = env.stats()
    t0 = time.monotonic()
    r = env.get("/api")
    dt = time.monotonic() - t0
    eq((r.status, r.body), (504, b"upstream request timeout"), "reply")
    # three tries of 0.3 s and two back-offs (< 25 ms, < 75 ms)
    expect(0.88 <= dt <= 1.4, "504 after %.2fs, want 0.9s + back-offs" % dt)
    p = "cluster.backend_v2."
    want = {p + "upstream_rq_per_try_timeout": 3, p + "upstream_rq_retry": 2,
            p + "upstream_rq_retry_limit_exceeded": 1,
            p + "upstream_rq_504": 1, p + "upstream_rq_timeout": 0,
            p + "upstream_rq_total": 3}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")
    settle(lambda: v2.stats()["requests"], 3)
    eq(v2.stats()["requests"], 3, "backend saw every attempt")


def test_route_timeout_covers_retries(env):
    # per-try 0.3 s, but the route allows 0.5 s in all: the second try
    # is cut by the route timeout, which is never retried
    cfg = to_v2("                  timeout: 0.5s\n" + PER_TRY)
    env.start_backend("v2", args=["--delay_ms", "1000"])
    env.start_canaryd(env.write_config(cfg), concurrency=1)
    before = env.stats()
    t0 = time.monotonic()
    r = env.get("/api")
    dt = time.monotonic() - t0
    eq((r.status, r.body), (504, b"upstream request timeout"), "reply")
    expect(0.45 <= dt <= 0.8, "504 after %.2fs, want 0.5s" % dt)
    p = "cluster.backend_v2."
    want = {p + "upstream_rq_per_try_timeout": 1, p + "upstream_rq_retry": 1,
            p + "upstream_rq_timeout": 1,
            p + "upstream_rq_retry_limit_exceeded": 0}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")


def test_expected_timeout_header_per_attempt(env):
    # /echo fails every 2nd time: the retry's echo shows its own header
    v2 = env.start_backend("v2", args=["--fail_rate", "50",
                                       "--delay_ms", "100"])
    cfg = to_v2("                  timeout: 2s\n" + RETRY_5XX)
    env.start_canaryd(env.write_config(cfg), concurrency=1)
    c = env.client()
    first = json.loads(c.get("/echo").body)     # backend request 1: ok
    second = c.get("/echo")                     # 2 fails, 3 answers
    c.close()
    eq(second.status, 200, "retried /echo")

    def expected(echo):
        vals = [v for k, v in echo["headers"]
                if k.lower() == "x-envoy-expected-rq-timeout-ms"]
        eq(len(vals), 1, "x-envoy-expected-rq-timeout-ms headers")
        return int(vals[0])
    eq(expected(first), 2000, "first attempt's expected timeout")
    v = expected(json.loads(second.body))
    # 2000 less the failed try (100 ms) and its back-off (< 25 ms)
    expect(1860 <= v <= 1901, "retry's expected timeout %d, want about "
           "1900" % v)
    eq(v2.stats()["requests"], 3, "backend requests")


def test_retries_stay_in_the_chosen_cluster(env):
    # v2 always fails; a request split to v2 is retried on v2 only
    cfg = configs.one_vhost("""\
              - match: { prefix: "/" }
                route:
                  weighted_clusters:
                    clusters:
                    - { name: backend_v1, weight: 50 }
                    - { name: backend_v2, weight: 50 }
%s""" % RETRY_5XX)
    v1 = env.start_backend("v1")
    v2 = env.start_backend("v2", args=["--status", "503"])
    env.start_canaryd(env.write_config(cfg), concurrency=2)
    got = {}
    for _ in range(20):
        r = env.get("/api")
        key = (r.status, r.body)
        got[key] = got.get(key, 0) + 1
    eq(got, {(200, V1_BODY): 10, (503, V2_BODY): 10}, "responses")
    eq(v1.stats()["requests"], 10, "v1 requests (never a retry)")
    eq(v2.stats()["requests"], 30, "v2 requests (3 attempts each)")


def test_retry_prefers_a_host_not_tried(env):
    # one cluster, two hosts, random pick: the bad host is never tried
    # twice for one request, so one retry always reaches the good one
    cfg = configs.one_vhost("""\
              - match: { prefix: "/" }
                route:
                  cluster: backend_v1
                  retry_policy: { retry_on: "5xx", num_retries: 1 }
""").replace("""  - name: backend_v1
    type: STATIC
    connect_timeout: 1s
""", """  - name: backend_v1
    type: STATIC
    lb_policy: RANDOM
    connect_timeout: 1s
""").replace("""        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v1_port} }
""", """        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v1_port} }
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v3_port} }
""")
    good = env.start_backend("v1")
    bad = env.start_backend("v3", args=["--status", "500"])
    env.start_canaryd(env.write_config(cfg, v3_port=env.port("v3_port")),
                      concurrency=1)
    for i in range(30):
        r = env.get("/api")
        eq((r.status, r.body), (200, V1_BODY), "GET /api #%d" % i)
    nbad = bad.stats()["requests"]
    eq(good.stats()["requests"], 30, "good host requests")
    expect(nbad > 0, "the random pick never chose the bad host")
    n = settle(lambda: env.stat("cluster.backend_v1.upstream_rq_retry"),
               nbad)
    eq(n, nbad, "retries (one per bad first try)")


def post_body(env, size, path="/api"):
    body = bytes(33 + i % 89 for i in range(size))
    return env.request("POST", path, body=body,
                       headers={"content-type": "application/octet-stream"})


def test_request_body_replayed_on_retry(env):
    v2 = env.start_backend("v2", args=["--fail_rate", "50"])
    env.start_canaryd(env.write_config(to_v2()), concurrency=1)
    for size in (0, 1000, 20000, 300000):
        r = post_body(env, size)
        eq(r.status, 200, "POST %d bytes" % size)
        eq(r.header("x-body-bytes"), str(size), "body bytes the backend "
           "read on the answering attempt (%d)" % size)
    eq(v2.stats()["requests"], 7, "backend requests: 1 + 3 x 2")
    n = settle(lambda: env.stat("cluster.backend_v2.upstream_rq_retry"), 3)
    eq(n, 3, "retries")


def test_body_over_buffer_limit_not_retried(env):
    cfg = to_v2().replace("""    filter_chains:""", """\
    per_connection_buffer_limit_bytes: 32768
    filter_chains:""")
    v2 = env.start_backend("v2", args=["--status", "503"])
    env.start_canaryd(env.write_config(cfg), concurrency=1)
    before = env.stats()
    r = post_body(env, 100000)
    eq(r.status, 503, "POST 100000 bytes")
    eq(r.header("x-body-bytes"), "100000", "body the backend read")
    eq(v2.stats()["requests"], 1, "backend requests (no retry)")
    p = "cluster.backend_v2."
    want = {p + "retry_or_shadow_abandoned": 1, p + "upstream_rq_retry": 0,
            p + "upstream_rq_503": 1}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")
    # under the limit it is still retried
    r = post_body(env, 20000)
    eq(r.status, 503, "POST 20000 bytes")
    eq(v2.stats()["requests"], 4, "backend requests (1 + 3)")


def test_retry_overflow_passes_original_failure(env):
    # max_retries 1: of 4 concurrent failing requests one retries, the
    # other three get their first 503 as it is
    cfg = to_v2(RETRY_5XX.replace("num_retries: 2", "num_retries: 1")
                ).replace("""  - name: backend_v2
    type: STATIC
""", """  - name: backend_v2
    type: STATIC
    circuit_breakers:
      thresholds:
      - { priority: DEFAULT, max_retries: 1 }
""")
    v2 = env.start_backend("v2", args=["--status", "503",
                                       "--delay_ms", "400"])
    env.start_canaryd(env.write_config(cfg), concurrency=2)
    before = env.stats()
    out = []

    def one():
        try:
            out.append(env.get("/api"))
        except Exception as e:      # reported below
            out.append(e)
    ts = [threading.Thread(target=one, daemon=True) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(10)
    eq(len(out), 4, "responses")
    for r in out:
        expect(not isinstance(r, Exception), "request failed: %r" % r)
        eq((r.status, r.body), (503, V2_BODY), "response")
        eq(r.header("x-envoy-overloaded"), None, "x-envoy-overloaded")
    p = "cluster.backend_v2."
    want = {p + "upstream_rq_retry": 1, p + "upstream_rq_retry_overflow": 3,
            p + "upstream_rq_retry_limit_exceeded": 1,
            p + "retry.upstream_rq_503": 1, p + "upstream_rq_503": 4}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")
    eq(v2.stats()["requests"], 5, "backend requests")
    eq(env.stat("cluster.backend_v2.circuit_breakers.default."
                "rq_retry_open"), 0, "rq_retry_open after")


def test_bad_backends_cost_one_request(env):
    # resets, garbage: each attempt fails on its own connection (never
    # pooled), the retries run out, the client gets the right 5xx, and
    # the workers live on
    v2 = env.start_backend("v2", args=["--reset", "1"])
    p = env.start_canaryd(env.write_config(to_v2()), concurrency=2)
    workers = wait_until(lambda: len(p.workers()) == 2 and p.workers(), 3,
                         "2 workers")
    before = env.stats()
    r = env.get("/api")
    eq((r.status, r.body), (503, UPSTREAM_RESET_PREFIX + b" retried and "
       b"the latest reset reason: connection termination"), "reset")
    v2.ctl(reset=0, garbage=1)
    r = env.get("/api")
    eq((r.status, r.body), (502, UPSTREAM_RESET_PREFIX + b" retried and "
       b"the latest reset reason: protocol error"), "garbage")
    v2.ctl(garbage=0)
    r = env.get("/api")
    eq((r.status, r.body), (200, V2_BODY), "after the faults")
    q = "cluster.backend_v2."
    want = {q + "upstream_rq_retry": 4, q + "upstream_cx_protocol_error": 3,
            q + "upstream_rq_retry_limit_exceeded": 2,
            q + "upstream_rq_503": 1, q + "upstream_rq_502": 1,
            q + "upstream_rq_200": 1}
    eq(stat_delta(env, before, list(want), want), want, "stat deltas")
    # 3 + 3 failed connections closed, the good one pooled at most
    n = env.stat(q + "upstream_cx_total") - before.get(
        q + "upstream_cx_total", 0)
    eq(n, 7, "upstream connections (a failed one is never reused)")
    eq(sorted(p.workers()), sorted(workers), "workers (none died)")
