"""Active health checks, run by the master: a 503 on /health fails a host
after one check and traffic avoids it; recovery within interval x
healthy_threshold + timeout + 1 s; a stopped backend fails after
unhealthy_threshold network failures, a hanging one with
/active_hc_timeout; one check per host per interval whatever the number
of workers; /ready answers 503 until every host has a first result."""

import time

import configs
from itestlib import eq, expect, wait_until

# Cluster backend_v1 holds two hosts: the "v1" and the "v2" backend, so
# the response body tells which host answered.
TWO_HOSTS = configs.HEAD + """\
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: backend_v1 }
""" + """\
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": %s
  clusters:
  - name: backend_v1
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend_v1
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v1_port} }
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v2_port} }
CHECKS
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: {admin_port} }
""" % configs.ROUTER_TYPE


HEALTH_CHECKS = """\
    health_checks:
    - timeout: %gs
      interval: %gs
      unhealthy_threshold: %d
      healthy_threshold: %d
      http_health_check:
        path: "/health"
"""

OUTLIER = """\
    outlier_detection:
      consecutive_5xx: %d
      interval: %gs
      base_ejection_time: %gs
      max_ejection_percent: 50
"""


def two_hosts(interval, timeout, unhealthy, healthy):
    return TWO_HOSTS.replace("CHECKS\n", HEALTH_CHECKS % (
        timeout, interval, unhealthy, healthy))


def host_flags(env, port):
    """health_flags of backend_v1's host 127.0.0.1:port in /clusters."""
    r = env.admin("/clusters")
    eq(r.status, 200, "admin /clusters status")
    key = "backend_v1::127.0.0.1:%d::health_flags::" % port
    for line in r.text.splitlines():
        if line.startswith(key):
            return line[len(key):]
    return None


def wait_flags(env, port, want, bound, what):
    """Poll until the host's flags read want; returns the seconds taken,
    failing after bound seconds."""
    t0 = time.monotonic()
    wait_until(lambda: host_flags(env, port) == want, bound, what,
               interval=0.02)
    return time.monotonic() - t0


def hc_stats(env):
    s = env.stats()
    return {k: env.stat("cluster.backend_v1." + k, s) for k in (
        "health_check.attempt", "health_check.success",
        "health_check.failure", "health_check.network_failure",
        "health_check.healthy", "membership_healthy",
        "membership_total")}


def test_health_503_fails_host_and_recovers(env):
    interval, timeout, healthy = 0.3, 0.5, 2
    v1, v2 = env.start_backends()
    env.start_canaryd(env.write_config(two_hosts(interval, timeout, 3,
                                                 healthy)), concurrency=2)
    # /ready said LIVE: both hosts had their first (passing) check.
    eq(host_flags(env, env.v1_port), "healthy", "v1 flags at start")
    eq(host_flags(env, env.v2_port), "healthy", "v2 flags at start")
    s = hc_stats(env)
    eq((s["health_check.healthy"], s["membership_healthy"],
        s["membership_total"]), (2, 2, 2), "healthy gauges at start")
    expect(s["health_check.success"] >= 2 and
           s["health_check.failure"] == 0, "stats at start: %r" % s)

    # A non-expected status fails a host at once (unhealthy_threshold 3
    # does not apply): one check, so within interval + timeout + 1 s.
    f0 = hc_stats(env)["health_check.failure"]
    v2.ctl(health_status=503)
    dt = wait_flags(env, env.v2_port, "/failed_active_hc",
                    interval + timeout + 1.0, "v2 to fail its check")
    s = hc_stats(env)
    eq(s["health_check.failure"] - f0, 1,
       "failed checks when v2 was marked (after %.2fs)" % dt)
    eq((s["health_check.healthy"], s["membership_healthy"]), (1, 1),
       "healthy gauges with v2 failed (after %.2fs)" % dt)
    expect(s["health_check.failure"] >= 1 and
           s["health_check.network_failure"] == 0,
           "a 503 is a failure, not a network failure: %r" % s)
    eq(host_flags(env, env.v1_port), "healthy", "v1 flags")
    # 1 of 2 healthy is not below the 50 % panic threshold: all to v1.
    eq(env.versions(20), {"v1": 20}, "versions with v2 failed")

    # Back to 200: healthy_threshold 2 successes, the first after at most
    # one (unhealthy) interval, the second one (edge) interval later.
    v2.ctl(health_status=200)
    bound = interval * healthy + timeout + 1.0
    dt = wait_flags(env, env.v2_port, "healthy", bound,
                    "v2 to pass %d checks again" % healthy)
    expect(dt >= interval * (healthy - 1) - 0.05,
           "v2 healthy after %.2fs: healthy_threshold %d needs one "
           "interval (%.1fs) between two passing checks" %
           (dt, healthy, interval))
    s = hc_stats(env)
    eq((s["health_check.healthy"], s["membership_healthy"]), (2, 2),
       "healthy gauges after recovery")
    log = env.proxy.output()
    for line in ("unhealthy: status 503", "healthy again"):
        line = "cluster backend_v1: host 127.0.0.1:%d %s" % (env.v2_port,
                                                            line)
        expect(line in log, "no %r in canaryd's log" % line)
    got = env.versions(20)
    expect(got.get("v1", 0) > 0 and got.get("v2", 0) > 0 and
           got.get("v1", 0) + got.get("v2", 0) == 20,
           "both hosts serve again: %r" % got)


def test_health_stopped_and_hanging_backends(env):
    interval, timeout, unhealthy = 0.2, 0.3, 3
    v1, v2 = env.start_backends()
    env.start_canaryd(env.write_config(two_hosts(interval, timeout,
                                                 unhealthy, 1)),
                      concurrency=2)
    eq(host_flags(env, env.v2_port), "healthy", "v2 flags at start")
    nf0 = hc_stats(env)["health_check.network_failure"]

    # Connection refused: a network failure, counted towards
    # unhealthy_threshold, so not before 3 checks (2 intervals apart).
    # the clock starts before the stop: checks may fail while the
    # backend is still shutting down (slowly, under the sanitizers)
    t0 = time.monotonic()
    v2.stop()
    wait_flags(env, env.v2_port, "/failed_active_hc",
               unhealthy * (interval + timeout) + 1.0,
               "stopped v2 to fail %d checks" % unhealthy)
    dt = time.monotonic() - t0
    nf = hc_stats(env)["health_check.network_failure"] - nf0
    expect(nf >= unhealthy, "v2 failed after %d network failures, "
           "unhealthy_threshold is %d" % (nf, unhealthy))
    expect(dt >= (unhealthy - 1) * interval - 0.05,
           "v2 failed after %.2fs, before %d checks could run" %
           (dt, unhealthy))

    # A /health that hangs: timeouts count the same way, and a host that
    # failed by timing out shows /active_hc_timeout.
    v1.ctl(health_delay_ms=3000)
    dt = wait_flags(env, env.v1_port, "/failed_active_hc/active_hc_timeout",
                    unhealthy * (interval + timeout) + 1.0,
                    "hanging v1 to time out %d checks" % unhealthy)
    expect(dt >= unhealthy * timeout + (unhealthy - 1) * interval - 0.25,
           "v1 failed after %.2fs: too soon for %d timeouts of %.1fs" %
           (dt, unhealthy, timeout))
    s = hc_stats(env)
    eq((s["health_check.healthy"], s["membership_healthy"]), (0, 0),
       "healthy gauges with both failed")

    # One passing check heals it (healthy_threshold 1), clearing both.
    v1.ctl(health_delay_ms=0)
    wait_flags(env, env.v1_port, "healthy", interval + timeout + 1.0,
               "v1 to pass again")
    eq(host_flags(env, env.v2_port), "/failed_active_hc", "v2 still down")


def test_health_one_check_per_host_per_interval(env):
    interval = 0.25
    v1, v2 = env.start_backends()
    env.start_canaryd(env.write_config(two_hosts(interval, 1, 3, 1)),
                      concurrency=4)
    a0 = hc_stats(env)["health_check.attempt"]
    for b in (v1, v2):
        b.ctl(reset_stats=1)
    t0 = time.monotonic()
    time.sleep(2.0)
    got = [v1.stats()["health"], v2.stats()["health"]]
    dt = time.monotonic() - t0
    s = hc_stats(env)
    # Each check waits a full interval after the previous result, so at
    # most dt / interval (+1 in flight at the start) per host; a check per
    # worker would be 4 times that.
    most = int(dt / interval) + 1
    for name, n in zip(("v1", "v2"), got):
        expect(most - 3 <= n <= most,
               "%s got %d health checks in %.2fs at interval %.2fs with "
               "4 workers: want one per interval (%d..%d)" %
               (name, n, dt, interval, most - 3, most))
    attempts = s["health_check.attempt"] - a0
    expect(abs(attempts - sum(got)) <= 2,
           "health_check.attempt grew by %d, the backends saw %d checks" %
           (attempts, sum(got)))
    eq(s["health_check.failure"], 0, "health_check.failure")


def test_health_ready_waits_for_first_check(env):
    env.start_backend("v1", args=["--health_delay_ms", "1500"])
    env.start_backend("v2")
    t0 = time.monotonic()
    p = env.start_canaryd(env.write_config(two_hosts(5, 3, 3, 1)),
                          concurrency=2, wait=False)

    def admin_up():
        expect(p.alive(), "canaryd exited during start-up")
        return env.admin("/ready")
    r = wait_until(admin_up, 5.0, "the admin port")
    eq(r.status, 503, "/ready while v1's first check is pending")
    expect(r.text in ("INITIALIZING\n", "PRE_INITIALIZING\n"),
           "/ready body %r" % r.text)
    eq(env.stat("server.state"), 3, "server.state (INITIALIZING)")
    # v2 answered at once; v1 still holds the server back.
    eq(host_flags(env, env.v2_port), "healthy", "v2 flags")
    eq(host_flags(env, env.v1_port), "/failed_active_hc", "v1 flags")

    wait_until(lambda: env.admin("/ready").status == 200, 5.0,
               "/ready to turn 200")
    dt = time.monotonic() - t0
    expect(dt >= 1.3, "/ready 200 after %.2fs, before v1's slow check "
           "(1.5s) answered" % dt)
    eq(env.admin("/ready").text, "LIVE\n", "/ready body")
    eq(env.stat("server.state"), 0, "server.state (LIVE)")
    eq(host_flags(env, env.v1_port), "healthy", "v1 flags")
    p.record_children()


def test_health_outlier_consecutive_5xx_ejects_for_a_while(env):
    """Outlier detection (no active checks): the workers count v2's
    consecutive 5xx in shm, the master ejects it within its poll period,
    and brings it back after base_ejection_time (at an interval sweep)."""
    consecutive, interval, base = 3, 0.2, 1.0
    v1, v2 = env.start_backends()
    env.start_canaryd(env.write_config(TWO_HOSTS.replace(
        "CHECKS\n", OUTLIER % (consecutive, interval, base))),
        concurrency=2)
    eq(host_flags(env, env.v2_port), "healthy", "v2 flags at start")
    v2.ctl(status=503)
    seen = {}
    for _ in range(40):
        r = env.get("/api")
        seen[r.status] = seen.get(r.status, 0) + 1
        if host_flags(env, env.v2_port) != "healthy":
            break
    t0 = time.monotonic()
    wait_flags(env, env.v2_port, "/failed_outlier_check", 0.5,
               "v2 to be ejected after %s" % seen)
    expect(seen.get(503, 0) >= consecutive,
           "v2 ejected after %d 503s, consecutive_5xx is %d" %
           (seen.get(503, 0), consecutive))
    s = env.stats()
    for name, want in (("ejections_active", 1),
                       ("ejections_enforced_total", 1),
                       ("ejections_enforced_consecutive_5xx", 1),
                       ("ejections_detected_consecutive_5xx", 1),
                       ("ejections_overflow", 0)):
        eq(env.stat("cluster.backend_v1.outlier_detection." + name, s),
           want, "outlier_detection." + name)
    eq(env.stat("cluster.backend_v1.membership_healthy", s), 1,
       "membership_healthy")
    # 1 of 2 hosts left is not below the panic threshold: all to v1.
    eq(env.versions(10), {"v1": 10}, "versions with v2 ejected")

    # base_ejection_time x 1, seen by a sweep at most one interval later.
    v2.ctl(status=200)
    wait_flags(env, env.v2_port, "healthy", base + interval + 1.0,
               "v2 to come back")
    dt = time.monotonic() - t0
    expect(dt >= base - 0.15, "v2 back after %.2fs, before "
           "base_ejection_time (%.1fs)" % (dt, base))
    eq(env.stat("cluster.backend_v1.outlier_detection.ejections_active"),
       0, "ejections_active after")
    got = env.versions(10)
    expect(got.get("v1", 0) > 0 and got.get("v2", 0) > 0,
           "both hosts serve again: %r" % got)
