"""Canary routing (issue 6, canaryd.yaml(5) "canaryd route metadata"):
version-sticky split by header and by cookie (same key same version,
distinct keys split by the weights, monotone when a SIGHUP raises the
canary's weight, set_cookie round trip), overrides (always, never, a
cluster's name, unknown values counted, a weight-0 cluster reachable only
this way), fallback to another cluster when the canary fails every
attempt, overflows its max_retries breaker or is down (the fallback's own
breakers answer the usual overflow 503; the access log names the
fallback's host), and the loader's errors for the bad forms."""

import os
import re
import signal
import threading
import time

import configs
from itestlib import (UPSTREAM_RESET_PREFIX, V1_BODY, V2_BODY, eq, expect,
                      settle)
from test_accesslog import ACCESS_LOG, lines_when

RETRY = """\
                  retry_policy:
                    retry_on: "5xx"
                    num_retries: 1
"""


def weighted(w1, w2, canaryd, retry=RETRY, name="web"):
    """One weighted route over backend_v1/backend_v2 with canaryd
    metadata (YAML lines indented 22 spaces)."""
    return configs.one_vhost("""\
              - name: %s
                match: { prefix: "/" }
                route:
                  weighted_clusters:
                    clusters:
                    - name: backend_v1
                      weight: %d
                    - name: backend_v2
                      weight: %d
%s                metadata:
                  filter_metadata:
                    canaryd:
%s""" % (name, w1, w2, retry, canaryd))


def version(r):
    return {V1_BODY: "v1", V2_BODY: "v2"}.get(
        r.body, "%d %r" % (r.status, r.body[:60]))


def versions_by_key(client, n, header="x-user", fmt="user-%d"):
    """{key: version} for n distinct keys sent in header."""
    out = {}
    for i in range(n):
        key = fmt % i
        out[key] = version(client.get("/api", headers={header: key}))
    return out


def count(d):
    c = {}
    for v in d.values():
        c[v] = c.get(v, 0) + 1
    return c


STICKY_HEADER = """\
                      sticky: { header: X-User }
"""


def test_same_key_same_version(env):
    env.start_backends()
    env.start_canaryd(env.write_config(weighted(90, 10, STICKY_HEADER)))
    c = env.client()
    seen = {}
    for key in ("alice", "bob", "carol", "dave", "erin"):
        got = [version(c.get("/api", headers={"x-user": key}))
               for _ in range(100)]
        eq(len(set(got)), 1, "versions for key %s over 100 requests: %s"
           % (key, count(dict(enumerate(got)))))
        expect(got[0] in ("v1", "v2"), "key %s answered %s" %
               (key, got[0]))
        seen[key] = got[0]
    # a new connection (maybe another worker) agrees
    for key, v in seen.items():
        eq(version(env.get("/api", headers={"X-User": key})), v,
           "key %s on a new connection" % key)
    c.close()
    stats = env.stats()
    total = sum(stats.get("cluster.backend_v%d.canary.sticky" % i, 0)
                for i in (1, 2))
    eq(total, 505, "canary.sticky over both clusters")


def test_thousand_keys_split_by_weights(env):
    env.start_backends()
    env.start_canaryd(env.write_config(weighted(90, 10, STICKY_HEADER)))
    c = env.client()
    got = count(versions_by_key(c, 1000))
    c.close()
    eq(sorted(got), ["v1", "v2"], "versions seen: %s" % got)
    expect(70 <= got["v2"] <= 130, "v2 share of 1000 keys at 90/10: "
           "%s (want 10 %% +- 3 %%)" % got)


def test_weight_raise_keeps_every_canary_user(env):
    env.start_backends()
    cfg = env.write_config(weighted(90, 10, STICKY_HEADER))
    p = env.start_canaryd(cfg)
    c = env.client()
    before = versions_by_key(c, 1000)
    with open(cfg) as f:
        text = f.read()
    text, n = re.subn(r"(name: backend_v1\n\s+weight: )90", r"\g<1>80",
                      text)
    eq(n, 1, "backend_v1 weight lines")
    text, n = re.subn(r"(name: backend_v2\n\s+weight: )10", r"\g<1>20",
                      text)
    eq(n, 1, "backend_v2 weight lines")
    with open(cfg, "w") as f:
        f.write(text)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1)
    eq(env.stat("server.config_reload"), 1, "server.config_reload")
    c.close()
    c = env.client()
    after = versions_by_key(c, 1000)
    c.close()
    lost = [k for k, v in before.items() if v == "v2" and after[k] != "v2"]
    eq(lost, [], "keys on v2 at 90/10 that left v2 at 80/20")
    moved = [k for k, v in before.items() if v == "v1" and after[k] == "v2"]
    expect(60 <= len(moved) <= 140, "keys moved to v2: %d of 1000 "
           "(want about 10 %%)" % len(moved))
    eq(count(after).get("v2", 0), count(before).get("v2", 0) + len(moved),
       "v2 keys after = before + moved")


def test_set_cookie_round_trip(env):
    env.start_backends()
    env.start_canaryd(env.write_config(weighted(50, 50, """\
                      sticky: { cookie: uid, set_cookie: true }
""")))
    c = env.client()
    r = c.get("/api")
    eq(r.status, 200, "first request status")
    sc = r.header_all("set-cookie")
    eq(len(sc), 1, "set-cookie headers: %r" % sc)
    m = re.fullmatch(r"uid=([0-9a-f]{32}); Path=/; Max-Age=2592000; "
                     r"HttpOnly; SameSite=Lax", sc[0])
    expect(m, "set-cookie value: %r" % sc[0])
    first = version(r)
    for i in range(50):
        r = c.get("/api", headers={"cookie": "theme=dark; uid=" +
                                   m.group(1)})
        eq(version(r), first, "request %d with the cookie" % i)
        eq(r.header_all("set-cookie"), [], "no new cookie when sent one")
    # every new browser gets its own key
    keys = set()
    for _ in range(20):
        r = c.get("/api")
        keys.add(r.header("set-cookie"))
    eq(len(keys), 20, "distinct keys for 20 cookie-less requests")
    c.close()


OVERRIDE = """\
                      override_header: X-Canary
                      override_cookie: canary
                      sticky: { header: x-user }
"""


def test_override_always_never_name_unknown(env):
    env.start_backends()
    # v2 has weight 0: reachable only by an override
    env.start_canaryd(env.write_config(weighted(100, 0, OVERRIDE)))
    c = env.client()
    eq(env.versions(30, client=c), {"v1": 30}, "no override at 100/0")
    eq(count({i: version(c.get("/api", headers={"x-user": "u%d" % i}))
              for i in range(30)}), {"v1": 30}, "sticky keys at 100/0")
    before = env.stats()
    for value, want in (("always", "v2"), ("never", "v1"),
                        ("backend_v2", "v2"), ("backend_v1", "v1"),
                        ("ALWAYS", "v2")):
        for _ in range(5):
            eq(version(c.get("/api", headers={"x-canary": value})),
               want, "x-canary: %s" % value)
    for _ in range(5):
        eq(version(c.get("/api", headers={"cookie": "canary=always"})),
           "v2", "cookie canary=always")
    # the override wins over a sticky key
    eq(version(c.get("/api", headers={"x-canary": "always",
                                      "x-user": "u1"})), "v2",
       "override with a sticky key")
    # unknown values: ignored (normal split) and counted
    for value in ("v3", "backend_v9", "sometimes"):
        eq(version(c.get("/api", headers={"x-canary": value})), "v1",
           "x-canary: %s" % value)
    eq(version(c.get("/api", headers={"cookie": "canary=nope"})), "v1",
       "cookie canary=nope")
    c.close()
    want = {"http.ingress.canary.override_unknown": 4,
            "cluster.backend_v2.canary.override": 21,
            "cluster.backend_v1.canary.override": 10}
    got = {}

    def deltas():
        s = env.stats()
        for k in want:
            got[k] = s.get(k, 0) - before.get(k, 0)
        return got == want
    settle(deltas, True)
    eq(got, want, "override counters")


def test_sighup_reloads_canary_options(env):
    env.start_backends()
    cfg = env.write_config(weighted(100, 0, OVERRIDE))
    p = env.start_canaryd(cfg)
    eq(version(env.get("/api", headers={"x-canary": "always"})), "v2",
       "always at 100/0")
    # weights only, but the canary (smallest weight) becomes backend_v1
    env.write_config(weighted(0, 100, OVERRIDE), os.path.basename(cfg))
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1)
    eq(env.stat("server.config_reload"), 1, "server.config_reload")
    settle(lambda: version(env.get("/api", headers={"x-canary":
                                                    "always"})), "v1")
    eq(version(env.get("/api", headers={"x-canary": "always"})), "v1",
       "always at 0/100")
    eq(version(env.get("/api", headers={"x-canary": "never"})), "v2",
       "never at 0/100")
    expect("reload: new generation of workers" in p.output(),
           "a swap of canary and stable needs new workers; log:\n" +
           p.output()[-1500:])
    # options added by a reload: a new header name
    env.write_config(weighted(0, 100, """\
                      override_header: x-force
"""), os.path.basename(cfg))
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 2)
    settle(lambda: version(env.get("/api", headers={"x-force":
                                                    "backend_v1"})), "v1")
    eq(version(env.get("/api", headers={"x-force": "backend_v1"})), "v1",
       "x-force after the reload")
    eq(version(env.get("/api", headers={"x-canary": "backend_v1"})), "v2",
       "x-canary is gone after the reload")
    eq(env.stat("server.config_reload_fail"), 0, "reload failures")


FALLBACK = """\
                      fallback: backend_v1
"""


def fallback_check(env, n=200):
    c = env.client()
    bad = {}
    for i in range(n):
        r = c.get("/api")
        if r.status != 200 or r.body != V1_BODY:
            bad[i] = (r.status, r.body[:80])
    c.close()
    eq(bad, {}, "client errors (or non-v1 answers) over %d requests" % n)
    # the exact split sends every 2nd request to v2: all fell back
    settle(lambda: env.stat("cluster.backend_v2.canary.fallback"), n // 2,
           timeout=3.0)
    eq(env.stat("cluster.backend_v2.canary.fallback"), n // 2,
       "cluster.backend_v2.canary.fallback")
    eq(env.stat("cluster.backend_v1.canary.fallback"), 0,
       "cluster.backend_v1.canary.fallback")
    eq(env.stat("http.ingress.downstream_rq_5xx"), 0, "downstream 5xx")


def test_fallback_when_canary_fails_every_attempt(env):
    env.start_backend("v1")
    v2 = env.start_backend("v2", args=["--fail_rate", "100"])
    env.start_canaryd(env.write_config(weighted(50, 50, FALLBACK)))
    fallback_check(env)
    # each v2 request was tried twice (num_retries 1) before falling back
    eq(v2.stats()["requests"], 200, "v2 backend requests")


def test_fallback_when_canary_is_down(env):
    env.start_backend("v1")
    env.port("v2_port")     # allocated, nothing listens: refused
    env.start_canaryd(env.write_config(weighted(50, 50, FALLBACK)))
    fallback_check(env)


def test_fallback_when_canary_has_no_healthy_host(env):
    env.start_backend("v1")
    env.start_backend("v2", args=["--health_status", "503"])
    text = weighted(50, 50, FALLBACK, retry="")
    old = ("  - name: backend_v2\n    type: STATIC\n"
           "    connect_timeout: 1s\n")
    eq(text.count(old), 1, "backend_v2 cluster head in the template")
    text = text.replace(old, old + """\
    common_lb_config: { healthy_panic_threshold: { value: 0 } }
    health_checks:
    - timeout: 1s
      interval: 0.2s
      unhealthy_threshold: 1
      healthy_threshold: 1
      http_health_check: { path: "/health" }
""")
    env.start_canaryd(env.write_config(text))
    settle(lambda: env.stat("cluster.backend_v2.health_check.failure") > 0,
           True)
    # no retry policy needed: nothing was sent anywhere yet
    fallback_check(env)
    expect(env.stat("cluster.backend_v2.upstream_cx_none_healthy") >= 100,
           "upstream_cx_none_healthy on backend_v2")


def test_fallback_replays_the_body_and_keeps_service_time(env):
    env.start_backend("v1")
    env.start_backend("v2", args=["--fail_rate", "100"])
    env.start_canaryd(env.write_config(weighted(0, 100, FALLBACK)))
    body = b"x" * 5000
    r = env.request("POST", "/api", body=body)
    eq((r.status, r.body), (200, V1_BODY), "POST via the fallback")
    eq(r.header("x-body-bytes"), "5000", "body bytes v1 read")
    expect(r.header("x-envoy-upstream-service-time") is not None,
           "x-envoy-upstream-service-time after a fallback")


def test_no_fallback_without_retry_left_on_the_fallback_itself(env):
    # v1 is the fallback and fails: nothing to fall back to
    env.start_backend("v1", args=["--fail_rate", "100"])
    env.start_backend("v2")
    env.start_canaryd(env.write_config(weighted(100, 0, FALLBACK)))
    r = env.get("/api")
    eq(r.status, 503, "v1 (the fallback) failing")
    eq(env.stat("cluster.backend_v1.canary.fallback"), 0,
       "cluster.backend_v1.canary.fallback")


def with_breakers(text, cluster, thresholds):
    """text with the DEFAULT circuit breaker thresholds of cluster
    (YAML flow-map entries) added."""
    old = "  - name: %s\n    type: STATIC\n" % cluster
    eq(text.count(old), 1, "%s cluster head in the template" % cluster)
    return text.replace(old, old + """\
    circuit_breakers:
      thresholds:
      - { priority: DEFAULT, %s }
""" % thresholds)


def test_fallback_when_retry_breaker_overflows(env):
    # num_retries 1 would allow a retry, but v2's max_retries breaker is
    # 0: each v2 failure overflows it and falls back at once
    env.start_backend("v1")
    v2 = env.start_backend("v2", args=["--fail_rate", "100"])
    env.start_canaryd(env.write_config(with_breakers(
        weighted(50, 50, FALLBACK), "backend_v2", "max_retries: 0")))
    fallback_check(env)
    p = "cluster.backend_v2."
    s = env.stats()
    eq({k: env.stat(p + k, s) for k in ("upstream_rq_retry_overflow",
                                         "upstream_rq_retry",
                                         "upstream_rq_retry_limit_exceeded")},
       {"upstream_rq_retry_overflow": 100, "upstream_rq_retry": 0,
        "upstream_rq_retry_limit_exceeded": 0}, "backend_v2 retry stats")
    eq(v2.stats()["requests"], 100, "v2 backend requests (none retried)")
    eq(env.stat("cluster.backend_v2.circuit_breakers.default."
                "rq_retry_open", s), 1, "rq_retry_open at max_retries 0")


OVERFLOW_BODY = UPSTREAM_RESET_PREFIX + b" reset reason: overflow"


def fallback_full_check(env, thresholds):
    """Every request goes to v2, fails, falls back to v1, which holds one
    request at a time for 800 ms (thresholds: v1's breakers): the others
    overflow there with the usual 503, at once, never past the route
    timeout.  Returns the number of 200s."""
    n = 6
    v1 = env.start_backend("v1", args=["--delay_ms", "800"])
    v2 = env.start_backend("v2", args=["--fail_rate", "100"])
    route_timeout = 3.0
    env.start_canaryd(env.write_config(with_breakers(
        weighted(0, 100, FALLBACK, retry=RETRY + "                  "
                 "timeout: %ds\n" % route_timeout), "backend_v1",
        thresholds)), concurrency=2)
    out = [None] * n
    took = [None] * n
    go = threading.Event()

    def one(i):
        go.wait(5)
        t0 = time.monotonic()
        try:
            out[i] = env.request("GET", "/api", timeout=10.0)
        except Exception as e:      # reported below
            out[i] = e
        took[i] = time.monotonic() - t0
    ts = [threading.Thread(target=one, args=(i,), daemon=True)
          for i in range(n)]
    for t in ts:
        t.start()
    go.set()
    deadline = time.monotonic() + 15.0
    for t in ts:
        t.join(max(0.1, deadline - time.monotonic()))
    expect(not any(t.is_alive() for t in ts), "clients still waiting")
    errs = [r for r in out if isinstance(r, Exception)]
    eq(errs, [], "client errors")
    slow = [t for t in took if t >= route_timeout]
    eq(slow, [], "answers at or past the %.0fs route timeout" %
       route_timeout)
    ok = [r for r in out if (r.status, r.body) == (200, V1_BODY)]
    over = [r for r in out if r.status == 503]
    eq(len(ok) + len(over), n, "answers: %r" % out)
    expect(len(ok) >= 1, "no request got into v1: %r" % out)
    for r in over:
        eq(r.body, OVERFLOW_BODY, "overflow body")
        eq(r.header("x-envoy-overloaded"), "true", "x-envoy-overloaded")
    # at once: before the admitted one's 800 ms at v1 are over
    late = [t for r, t in zip(out, took) if r.status == 503 and t >= 0.75]
    eq(late, [], "overflow answers that waited")
    eq(v1.stats()["max_active"], 1, "v1 backend max_active")
    eq(v1.stats()["requests"], len(ok), "v1 backend requests")
    p = "cluster.backend_v1."
    # each request failed on v2 first, then either was retried there once
    # (num_retries 1) or overflowed v2's max_retries (default 3)
    s = env.stats()
    retried = env.stat("cluster.backend_v2.upstream_rq_retry", s)
    eq(retried + env.stat("cluster.backend_v2.upstream_rq_retry_overflow",
                          s), n, "backend_v2 retries + retry overflows")
    eq(v2.stats()["requests"], n + retried, "v2 backend requests")
    got = settle(lambda: env.stat(p + "upstream_rq_pending_overflow"),
                 len(over))
    eq(got, len(over), "backend_v1 upstream_rq_pending_overflow")
    s = env.stats()
    eq(env.stat("cluster.backend_v2.canary.fallback", s), n,
       "cluster.backend_v2.canary.fallback")
    # overflow is never retried, not even with the fallback's fresh budget
    eq(env.stat(p + "upstream_rq_retry", s), 0, "backend_v1 retries")
    eq(env.stat(p + "circuit_breakers.default.rq_open", s), 0,
       "backend_v1 rq_open after")
    eq(env.stat("cluster.backend_v2.circuit_breakers.default."
                "rq_retry_open", s), 0, "backend_v2 rq_retry_open after")
    eq(env.stat(p + "upstream_rq_pending_active", s), 0,
       "backend_v1 upstream_rq_pending_active after")
    return len(ok)


def test_fallback_cluster_full_max_requests(env):
    eq(fallback_full_check(env, "max_requests: 1"), 1,
       "requests admitted into v1 by max_requests 1")


def test_fallback_cluster_full_max_pending_requests(env):
    # one connection to v1; a request waiting for it is pending, and
    # max_pending_requests 1 admits one such at a time
    fallback_full_check(env, "max_connections: 1, max_pending_requests: 1")


def test_fallback_access_log_names_fallback_host(env):
    env.start_backend("v1")
    env.start_backend("v2", args=["--fail_rate", "100"])
    alog = os.path.join(env.logdir, "access.log")
    if os.path.exists(alog):
        os.unlink(alog)
    text = weighted(0, 100, FALLBACK).replace(
        "          stat_prefix: ingress\n",
        "          stat_prefix: ingress\n" + ACCESS_LOG, 1)
    env.start_canaryd(env.write_config(text, alog=alog))
    r = env.get("/api", headers={"X-Request-Id": "rid-fb"})
    eq((r.status, r.body), (200, V1_BODY), "GET via the fallback")
    lines = lines_when(alog, 1, "the access log line")
    eq(len(lines), 1, "access log lines")
    ln = lines[0]
    eq((ln["rid"], ln["code"], ln["flags"], ln["upstream"]),
       ("rid-fb", "200", "-", "127.0.0.1:%d" % env.v1_port),
       "rid, code, flags, upstream host of the fallen-back request")
    eq(ln["tx"], str(len(V1_BODY)), "bytes sent")
    eq(env.stat("cluster.backend_v2.canary.fallback"), 1,
       "cluster.backend_v2.canary.fallback")


def bad_config_check(env, canaryd, want_line, msg, route=None):
    text = route if route is not None else weighted(90, 10, canaryd)
    path = env.write_config(text, "bad.yaml")
    st, out, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                            path])
    eq(st, 1, "exit status for %r (stderr: %r)" % (msg, err[-500:]))
    lines = text.splitlines()
    ln = next(i + 1 for i, l in enumerate(lines) if want_line in l)
    pat = r"^%s:%d:\d+: error: .*%s" % (re.escape(path), ln,
                                        re.escape(msg))
    expect(re.search(pat, err, re.M), "no %r in stderr:\n%s" % (pat, err))


def test_config_errors_name_file_line_col(env):
    bad_config_check(env, "                      sticky: { cookie: uid, "
                     "header: x-uid }\n", "sticky:",
                     "only one of cookie, header may be set")
    bad_config_check(env, "                      sticky: { header: x, "
                     "set_cookie: true }\n", "sticky:",
                     "set_cookie: only allowed with cookie")
    bad_config_check(env, "                      fallback: backend_v9\n",
                     "fallback:", 'unknown cluster "backend_v9"')
    bad_config_check(env, "                      rollout: { canary: "
                     "backend_v2, stable: backend_v2 }\n", "rollout:",
                     "must not be the canary cluster")
    bad_config_check(env, "                      rollout: { canary: "
                     "backend_v2, stable: backend_v1, steps: [5, 1] }\n",
                     "rollout:", "steps must rise")
    bad_config_check(env, "                      rollout: { canary: "
                     "backend_v2, stable: backend_v1, max_p99_ratio: "
                     "0.9 }\n", "rollout:", "must be at least 1")
    bad_config_check(env, None, "override_header:", "only allowed on a "
                     "route with weighted_clusters",
                     route=configs.one_vhost("""\
              - match: { prefix: "/" }
                route: { cluster: backend_v1 }
                metadata:
                  filter_metadata:
                    canaryd:
                      override_header: x-canary
"""))
    bad_config_check(env, None, "rollout:", "the route needs a name",
                     route=configs.one_vhost("""\
              - match: { prefix: "/" }
                route:
                  weighted_clusters:
                    clusters:
                    - { name: backend_v1, weight: 90 }
                    - { name: backend_v2, weight: 10 }
                metadata:
                  filter_metadata:
                    canaryd:
                      rollout: { canary: backend_v2, stable: backend_v1 }
"""))
    # and a good one loads: every option at once
    path = env.write_config(weighted(90, 10, """\
                      sticky: { cookie: uid, set_cookie: true, seed: 7 }
                      override_header: x-canary
                      override_cookie: canary
                      fallback: backend_v1
                      rollout:
                        canary: backend_v2
                        stable: backend_v1
                        steps: [1, 10, 100]
                        step_interval: 10s
                        window: 5s
                        min_requests: 50
                        max_error_rate_delta: 0.02
                        max_p99_ratio: 2
"""), "good.yaml")
    st, out, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                            path])
    eq(st, 0, "exit status of a good config (stderr: %r)" % err[-500:])
