"""Circuit breakers (canaryd-envoy(7), CIRCUIT BREAKERS), exact across workers: max_requests and
max_connections hold for the whole process group (the backend's own
max_active proves it), overflow answers Envoy's 503 at once, the gauges
read 1 at the limit, pending requests wait for a connection slot, and a
worker killed while holding units gives them back."""

import os
import signal
import threading
import time

import configs
from itestlib import (UPSTREAM_RESET_PREFIX, V1_BODY, TestFailure, eq,
                      expect, settle, wait_until)

OVERFLOW_BODY = UPSTREAM_RESET_PREFIX + b" reset reason: overflow"
CB = "cluster.backend_v1.circuit_breakers.default."


def with_thresholds(thresholds, retry=False):
    """Everything to backend_v1, whose DEFAULT thresholds are given as
    YAML flow-map entries (track_remaining: the exact remaining_* gauges);
    retry: the route retries 5xx and resets twice."""
    cfg = configs.ALL_TO_V1
    if retry:
        cfg = cfg.replace("route: { cluster: backend_v1 }",
                          "route: { cluster: backend_v1, retry_policy: "
                          "{ retry_on: \"5xx,reset\", num_retries: 2 } }")
    return cfg.replace("""  - name: backend_v1
    type: STATIC
""", """  - name: backend_v1
    type: STATIC
    circuit_breakers:
      thresholds:
      - { priority: DEFAULT, track_remaining: true, %s }
""" % thresholds)


def concurrent(env, n, path="/api", timeout=15.0):
    """n GETs at once, each on its own connection; [Resp or exception]."""
    out = [None] * n
    go = threading.Event()

    def one(i):
        go.wait(5)
        try:
            out[i] = env.request("GET", path, timeout=timeout)
        except Exception as e:      # the caller decides
            out[i] = e
    ts = [threading.Thread(target=one, args=(i,), daemon=True)
          for i in range(n)]
    for t in ts:
        t.start()
    go.set()
    return ts, out


def join(ts, timeout=20.0):
    deadline = time.monotonic() + timeout
    for t in ts:
        t.join(max(0.1, deadline - time.monotonic()))
    expect(not any(t.is_alive() for t in ts), "clients still waiting "
           "after %.0fs" % timeout)


def test_max_requests_exact_across_workers(env):
    v1 = env.start_backend("v1", args=["--delay_ms", "1000"])
    # the route retries 5xx: an overflow must not be retried all the same
    env.start_canaryd(env.write_config(with_thresholds("max_requests: 5",
                                                       retry=True)),
                      concurrency=4)
    before = env.stats()
    ts, out = concurrent(env, 20)
    # while the 5 admitted ones are at the backend, the gauge is open
    wait_until(lambda: v1.stats()["active"] == 5, 3.0,
               "5 requests at the backend")
    s = env.stats()
    eq(env.stat(CB + "rq_open", s), 1, "rq_open at the limit")
    eq(env.stat(CB + "remaining_rq", s), 0, "remaining_rq at the limit")
    join(ts)
    ok = [r for r in out if not isinstance(r, Exception) and
          r.status == 200]
    over = [r for r in out if not isinstance(r, Exception) and
            r.status == 503]
    eq(len(ok) + len(over), 20, "answers (%r)" % out)
    for r in ok:
        eq(r.body, V1_BODY, "admitted response body")
    for r in over:
        eq(r.body, OVERFLOW_BODY, "overflow body")
        eq(r.header("x-envoy-overloaded"), "true", "x-envoy-overloaded")
    st = v1.stats()
    eq(st["max_active"], 5, "backend max_active")
    eq(st["requests"], len(ok), "backend requests")
    eq(len(ok), 5, "admitted requests")
    p = "cluster.backend_v1."
    n = settle(lambda: env.stat(p + "upstream_rq_pending_overflow") -
               before.get(p + "upstream_rq_pending_overflow", 0), len(over))
    eq(n, len(over), "upstream_rq_pending_overflow")
    # everything given back
    s = env.stats()
    eq(env.stat(CB + "rq_open", s), 0, "rq_open after")
    eq(env.stat(CB + "remaining_rq", s), 5, "remaining_rq after")
    eq(env.stat(CB + "remaining_pending", s), 1024, "remaining_pending")
    eq(env.stat(p + "upstream_rq_retry", s), 0, "overflow is not retried")


def test_max_connections_pending_requests_wait(env):
    v1 = env.start_backend("v1", args=["--delay_ms", "400"])
    env.start_canaryd(env.write_config(with_thresholds(
        "max_connections: 5")), concurrency=4)
    before = env.stats()
    t0 = time.monotonic()
    ts, out = concurrent(env, 20)
    wait_until(lambda: v1.stats()["active"] == 5, 3.0,
               "5 requests at the backend")
    s = env.stats()
    eq(env.stat(CB + "cx_open", s), 1, "cx_open at the limit")
    eq(env.stat(CB + "remaining_cx", s), 0, "remaining_cx at the limit")
    expect(env.stat("cluster.backend_v1.upstream_rq_pending_active", s) >
           0, "no request pending at the limit")
    join(ts)
    dt = time.monotonic() - t0
    for r in out:
        expect(not isinstance(r, Exception), "request failed: %r" % r)
        eq((r.status, r.body), (200, V1_BODY), "response")
    eq(v1.stats()["max_active"], 5, "backend max_active")
    # 4 rounds of 0.4 s at 5 at a time, plus the slot hand-overs
    expect(dt < 4.0, "20 requests took %.1fs" % dt)
    p = "cluster.backend_v1."
    n = settle(lambda: env.stat(p + "upstream_cx_overflow") -
               before.get(p + "upstream_cx_overflow", 0), 15)
    expect(n >= 15, "upstream_cx_overflow %d, want >= 15" % n)
    s = env.stats()
    eq(env.stat(p + "upstream_rq_pending_overflow", s), 0,
       "pending overflow")
    expect(env.stat(p + "upstream_cx_active", s) <= 5, "cx_active")
    eq(env.stat(CB + "remaining_pending", s), 1024, "remaining_pending")


def test_max_pending_requests_overflow(env):
    v1 = env.start_backend("v1", args=["--delay_ms", "600"])
    env.start_canaryd(env.write_config(with_thresholds(
        "max_connections: 1, max_pending_requests: 1")), concurrency=1)
    ts, out = concurrent(env, 1)
    wait_until(lambda: v1.stats()["active"] == 1, 3.0, "1 request active")
    ts2, out2 = concurrent(env, 1)      # waits for the one connection
    wait_until(lambda: env.stat("cluster.backend_v1."
                                "upstream_rq_pending_active") == 1, 3.0,
               "one pending request")
    eq(env.stat(CB + "rq_pending_open"), 1, "rq_pending_open")
    r = env.get("/api")                 # no room to wait: at once
    eq((r.status, r.body), (503, OVERFLOW_BODY), "third request")
    eq(r.header("x-envoy-overloaded"), "true", "x-envoy-overloaded")
    join(ts + ts2)
    for x in out + out2:
        expect(not isinstance(x, Exception), "request failed: %r" % x)
        eq(x.status, 200, "queued requests")
    s = env.stats()
    eq(env.stat("cluster.backend_v1.upstream_cx_total", s), 1,
       "upstream connections (the second request reused the first's)")
    eq(env.stat("cluster.backend_v1.upstream_rq_pending_overflow", s), 1,
       "upstream_rq_pending_overflow")
    eq(env.stat("cluster.backend_v1.upstream_cx_overflow", s), 1,
       "upstream_cx_overflow")


def test_killed_worker_gives_back_its_units(env):
    v1 = env.start_backend("v1", args=["--delay_ms", "5000"])
    p = env.start_canaryd(env.write_config(with_thresholds(
        "max_requests: 5, max_connections: 8")), concurrency=2)
    workers = wait_until(lambda: len(p.workers()) == 2 and p.workers(), 3,
                         "2 workers")
    ts, out = concurrent(env, 5, timeout=8.0)
    wait_until(lambda: env.stat(CB + "remaining_rq") == 0, 3.0,
               "every max_requests unit taken")
    eq(env.stat(CB + "remaining_cx"), 3, "remaining_cx while held")
    for w in workers:
        os.kill(w, signal.SIGKILL)
    try:
        wait_until(lambda: (len(p.workers()) == 2 and
                            not set(p.workers()) & set(workers)), 3.0,
                   "2 new workers")
    except TestFailure:
        raise TestFailure("workers after the kill: %r (killed %r)" %
                          (p.workers(), workers))
    join(ts, 10)
    s = env.stats()
    for g, want in (("remaining_rq", 5), ("remaining_cx", 8),
                    ("remaining_pending", 1024), ("remaining_retries", 3),
                    ("rq_open", 0), ("cx_open", 0)):
        eq(env.stat(CB + g, s), want, g + " after the respawn")
    # the limit is whole again: 5 new requests are all admitted
    v1.ctl(delay_ms=300)
    ts, out = concurrent(env, 5)
    join(ts)
    for r in out:
        expect(not isinstance(r, Exception), "request failed: %r" % r)
        eq((r.status, r.body), (200, V1_BODY), "request after the respawn")
    expect(p.alive(), "canaryd master died")


def test_idle_connection_elsewhere_yields_its_slot(env):
    # max_connections 1 and 2 workers: the one connection sits idle in
    # the pool of whichever worker served last; a request arriving at the
    # other worker must get the slot (not wait for the idle timeout)
    env.start_backend("v1")
    env.start_canaryd(env.write_config(with_thresholds(
        "max_connections: 1")), concurrency=2)
    for i in range(12):
        t0 = time.monotonic()
        r = env.get("/api")
        dt = time.monotonic() - t0
        eq((r.status, r.body), (200, V1_BODY), "GET /api #%d" % i)
        expect(dt < 1.0, "GET /api #%d took %.2fs" % (i, dt))
    s = env.stats()
    expect(env.stat("cluster.backend_v1.upstream_cx_active", s) <= 1,
           "upstream_cx_active")
    eq(env.stat(CB + "remaining_pending", s), 1024, "remaining_pending")
