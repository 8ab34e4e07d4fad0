"""Reloads and stops that lose nothing (canaryd(8) SIGNALS), under a load
where every busy connection has a request in flight when a drain starts:
backends answering in 40 ms and a long poll answering in 3 s, 64
keep-alive clients that send the next request the moment an answer
arrives, 8 pipelining clients with 2 requests in flight, a chunked 10 MiB
upload at 1 MiB/s, and new connections opened throughout (loadmix.py).

No client retries: every request must get a complete 2xx answer, through
structural reloads every second and weight reloads every 0.2 s, and
through SIGTERM, after which a connection attempt is either served or
refused, never accepted and then reset."""

import os
import signal
import threading
import time

import configs
import loadmix
from itestlib import eq, expect, wait_until

# the slow cluster beside configs.TAIL's two
SLOW = """\
  - name: slow
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: slow
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {slow_port} }
"""

CONFIG = configs.HEAD + """\
            - name: app
              domains: ["*"]
              routes:
              - match: { prefix: "/poll" }
                route: { cluster: slow, timeout: 10s }
              - match: { prefix: "/upload" }
                route: { cluster: backend_v1, timeout: 0s }
{extra_route}              - match: { prefix: "/" }
                route:
                  weighted_clusters:
                    clusters:
                    - name: backend_v1
                      weight: {w1}
                    - name: backend_v2
                      weight: {w2}
""" + configs.TAIL.replace("admin:\n", SLOW + "admin:\n", 1)

EXTRA_ROUTE = """\
              - match: { prefix: "/extra" }
                route: { cluster: backend_v1 }
"""

DRAIN_S = 30

# Load tests: they run alone (tools/itest.py -j).
SERIAL = True


def write(env, structural_on, w1):
    return env.write_config(CONFIG, extra_route=EXTRA_ROUTE if
                            structural_on else "", w1=w1, w2=100 - w1,
                            slow_port=env.port("slow_port"))


def start(env):
    env.start_backends(args=("--delay_ms", "40"))
    env.start_backend("slow", args=("--delay_ms", "3000"))
    cfg = write(env, False, 90)
    p = env.start_canaryd(cfg, concurrency=2,
                          args=("--drain-time-s", str(DRAIN_S)))
    return p


def mix(env, tally, stop, stopping):
    port = env.proxy_port
    a = (port, tally, stop, stopping)
    clients = [loadmix.KeepAlive(*a) for _ in range(64)]
    clients += [loadmix.KeepAlive(*a, path="/poll") for _ in range(4)]
    clients += [loadmix.Pipeline(*a, depth=2) for _ in range(8)]
    clients += [loadmix.NewConn(*a) for _ in range(4)]
    upload = loadmix.Upload(*a, timeout=30.0)
    return clients + [upload], upload


def report(name, tally, extra=""):
    s = tally.summary()
    print("    %s: %d ok, %d non-2xx, %d lost, %d refused, %d answers "
          "with connection: close%s" % (name, s["ok"], s["non2xx"],
                                        s["lost"], s["refused"],
                                        s["closes"], extra))
    for kind, outcome, why in tally.why:
        print("      %s %s: %s" % (kind, outcome, why))


def test_reload_torture_loses_nothing(env):
    p = start(env)
    tally, stop, stopping = loadmix.Tally(), threading.Event(), \
        threading.Event()
    clients, upload = mix(env, tally, stop, stopping)
    state = {"tick": 0, "structural": 0, "weights": 0}

    def during(elapsed):
        # every 0.2 s a reload; every 5th one adds or removes a route
        want = int(elapsed / 0.2)
        while state["tick"] < want:
            state["tick"] += 1
            k = state["tick"]
            structural = k % 5 == 0
            write(env, (k // 5) % 2 == 1, 90 if k % 2 else 80)
            os.kill(p.pid, signal.SIGHUP)
            state["structural" if structural else "weights"] += 1

    loadmix.run_mix(clients, 20.0, during)
    # let the upload (10 s at 1 MiB/s, started at once) and the last
    # long polls finish; the reloads have stopped
    upload.join(30)
    stop.set()
    for c in clients:
        c.join(20)
    report("reload torture", tally, ", %d structural and %d weight "
           "reloads, upload body %s bytes" % (state["structural"],
                                              state["weights"],
                                              upload.body_bytes))
    eq(upload.body_bytes, 10 << 20, "bytes of the chunked upload the "
       "backend received")
    s = tally.summary()
    eq((s["lost"], s["non2xx"], s["refused"]), (0, 0, 0),
       "requests lost, non-2xx answers, refused connections "
       "(first reasons: %r)" % tally.why)
    expect(s["ok"] > 5000, "answers in 20 s: %d" % s["ok"])
    expect(p.alive(), "canaryd still running")
    eq(env.stat("server.config_reload_fail"), 0, "failed reloads")


def test_sigterm_under_load_serves_or_refuses(env):
    p = start(env)
    tally, stop, stopping = loadmix.Tally(), threading.Event(), \
        threading.Event()
    clients, upload = mix(env, tally, stop, stopping)
    loadmix.run_mix(clients, 3.0)
    t0 = time.monotonic()
    stopping.set()
    os.kill(p.pid, signal.SIGTERM)
    status = p.popen.wait(timeout=DRAIN_S + 5)
    took = time.monotonic() - t0
    # whoever still runs now meets a closed port: refused, or was served
    wait_until(lambda: all(c.gone or not c.is_alive() for c in clients),
               10, "every client to be refused or done")
    stop.set()
    for c in clients:
        c.join(10)
    report("SIGTERM under load", tally, ", exit %s after %.1fs, upload "
           "body %s bytes" % (status, took, upload.body_bytes))
    eq(status, 0, "canaryd exit status")
    expect(took < DRAIN_S, "stopped within the drain deadline (%.1fs)"
           % took)
    eq(upload.body_bytes, 10 << 20, "the upload in flight at SIGTERM "
       "completes")
    s = tally.summary()
    eq((s["lost"], s["non2xx"]), (0, 0), "requests lost or non-2xx "
       "(first reasons: %r)" % tally.why)
    expect(s["refused"] > 0, "connection attempts after the stop were "
           "refused")
