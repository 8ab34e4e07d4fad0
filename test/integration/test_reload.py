"""SIGHUP reload and SIGTERM drain (canaryd(8) SIGNALS): new weights take
effect on the next request with the same worker processes; an invalid file
keeps the running configuration; SIGTERM finishes requests in flight."""

import json
import os
import re
import signal
import threading
import time

from itestlib import (V1_BODY, V2_BODY, children_of, eq, expect,
                      proc_cmdline, settle, wait_until)


def rewrite_weights(path, v1, v2):
    with open(path) as f:
        text = f.read()
    text, n = re.subn(r"(name: backend_v1\n\s+weight: )\d+",
                      r"\g<1>%d" % v1, text)
    eq(n, 1, "backend_v1 weight lines in %s" % path)
    text, n = re.subn(r"(name: backend_v2\n\s+weight: )\d+",
                      r"\g<1>%d" % v2, text)
    eq(n, 1, "backend_v2 weight lines in %s" % path)
    with open(path, "w") as f:
        f.write(text)


def test_weight_reload_changes_split_in_place(env):
    env.start_backends()
    cfg = env.seed_config()
    p = env.start_canaryd(cfg, concurrency=2)
    workers = sorted(wait_until(lambda: len(p.workers()) == 2 and
                                p.workers(), 3, "2 workers"))
    eq(env.versions(20), {"v1": 18, "v2": 2}, "split at 90/10")

    rewrite_weights(cfg, 50, 50)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1)
    eq(env.stat("server.config_reload"), 1, "server.config_reload")
    eq(env.versions(20), {"v1": 10, "v2": 10}, "split after 50/50 reload")
    eq(sorted(p.workers()), workers, "worker pids after a weight reload")

    rewrite_weights(cfg, 0, 100)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 2)
    eq(env.versions(10), {"v2": 10}, "split after 0/100 reload")
    eq(env.stat("server.config_reload_fail"), 0, "reload failures")


def dumped_weights(env):
    """The weights /config_dump shows: the bootstrap's, the listener's
    and its route configuration's (each [v1, v2])."""
    dump = env.admin_json("/config_dump")
    out = {}
    for c in dump["configs"]:
        if "bootstrap" in c:
            text = json.dumps(c["bootstrap"]["static_resources"]
                              ["listeners"])
            out["bootstrap"] = re.findall(r'"weight": (\d+)', text)
        for key, kind in (("static_listeners", "listener"),
                          ("static_route_configs", "route_config")):
            for x in c.get(key, []):
                out[kind] = re.findall(r'"weight": (\d+)',
                                       json.dumps(x[kind]))
    return {k: [int(w) for w in v] for k, v in out.items()}


def test_weight_reload_without_parsing_updates_config_dump(env):
    """Without total_weight the weights are set without parsing the
    file; /config_dump shows each reload's weights when next asked
    (numbers that change their count of digits included, and two
    reloads with no /config_dump between), and a "weight" key that is
    not a weighted cluster's (node metadata) makes the reload parse."""
    env.start_backends()
    text = open(env.seed_config()).read()
    text, n = re.subn(r"\n\s+total_weight: 100", "", text)
    eq(n, 1, "total_weight lines")
    cfg = env.write_config(text)
    p = env.start_canaryd(cfg, concurrency=2)
    eq(dumped_weights(env), {"bootstrap": [90, 10], "listener": [90, 10],
                             "route_config": [90, 10]}, "dump at start")
    # v1 stays the larger (a swap of the canary is structural)
    steps = [(95, 5), (100, 7), (60, 40), (500, 20), (1000, 3), (1000, 3),
             (70, 30)]
    asked = (True, True, True, False, True, True, True)
    for i, ((v1, v2), ask) in enumerate(zip(steps, asked)):
        rewrite_weights(cfg, v1, v2)
        os.kill(p.pid, signal.SIGHUP)
        settle(lambda: env.stat("server.config_reload"), i + 1)
        if ask:
            eq(dumped_weights(env), {k: [v1, v2] for k in
                                     ("bootstrap", "listener",
                                      "route_config")},
               "dump after reload %d to %d/%d" % (i + 1, v1, v2))
    eq(p.output().count("set without parsing"), len(steps),
       "every reload set the weights without parsing")
    eq(env.stat("server.config_reload_fail"), 0, "reload failures")
    eq(env.versions(10), {"v1": 7, "v2": 3}, "split after the reloads")

    # another "weight" in the bootstrap: the file is parsed, the dump
    # right all the same
    text = open(cfg).read().replace(
        "static_resources:", "node:\n  id: n1\n  metadata:\n"
        "    team: { weight: 5 }\nstatic_resources:", 1)
    env.write_config(text)
    os.kill(p.pid, signal.SIGHUP)      # structural: node metadata is new
    settle(lambda: env.stat("server.config_reload"), len(steps) + 1)
    for r, (v1, v2) in enumerate([(80, 20), (91, 9)]):
        rewrite_weights(cfg, v1, v2)
        os.kill(p.pid, signal.SIGHUP)
        settle(lambda: env.stat("server.config_reload"),
               len(steps) + 2 + r)
        d = dumped_weights(env)
        eq((d["listener"], d["route_config"]), ([v1, v2], [v1, v2]),
           "dump after a parsed reload to %d/%d" % (v1, v2))
        eq(d["bootstrap"], [v1, v2], "bootstrap after a parsed reload")
    eq(p.output().count("set without parsing"), len(steps),
       "reloads with a metadata weight parse the file")
    expect("weight-only reloads parse the file" in p.output(),
           "the reason is logged")
    eq(env.stat("server.config_reload_fail"), 0, "reload failures")


def test_invalid_reload_keeps_running_config(env):
    env.start_backends()
    cfg = env.seed_config()
    p = env.start_canaryd(cfg, concurrency=2)
    workers = sorted(wait_until(lambda: len(p.workers()) == 2 and
                                p.workers(), 3, "2 workers"))
    with open(cfg) as f:
        good = f.read()
    with open(cfg, "w") as f:
        f.write(good.replace("connect_timeout: 2s", "connect_timeout: 2",
                             1))
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload_fail"), 1)
    eq(env.stat("server.config_reload_fail"), 1, "reload failures")
    eq(env.stat("server.config_reload"), 0, "successful reloads")
    eq(env.versions(20), {"v1": 18, "v2": 2}, "split after a bad reload")
    eq(sorted(p.workers()), workers, "worker pids after a bad reload")
    log = p.output()
    expect(re.search(r"%s:\d+:\d+: .*connect_timeout" % re.escape(cfg),
                     log), "the bad reload's error with file:line:col "
           "in the log:\n" + log[-2000:])


def test_sigterm_finishes_requests_in_flight(env):
    v1, v2 = env.start_backends(args=("--delay_ms", "700"))
    p = env.start_canaryd(env.seed_config(), concurrency=2)
    results = []

    def one():
        try:
            r = env.get("/api")
            results.append((r.status, r.body in (V1_BODY, V2_BODY)))
        except Exception as e:  # recorded, asserted below
            results.append(("error", repr(e)))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    # every request is on its way to the (slow) backend
    wait_until(lambda: v1.stats()["active"] + v2.stats()["active"] == 6,
               3.0, "6 requests in flight at the backends")
    children = p.workers()
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGTERM)
    for t in threads:
        t.join(5)
    eq(results, [(200, True)] * 6, "answers to the requests in flight")
    status = p.popen.wait(timeout=5)
    eq(status, 0, "canaryd exit status after SIGTERM")
    expect(time.monotonic() - t0 < 3.0, "drain took %.1fs" %
           (time.monotonic() - t0))
    for pid in children:
        expect(not os.path.exists("/proc/%d/stat" % pid) or
               open("/proc/%d/stat" % pid).read().split()[2] == "Z",
               "worker %d still running after the master exited" % pid)


def test_drain_listeners_skip_exit_keeps_admin(env):
    env.start_backends()
    p = env.start_canaryd(env.seed_config(), concurrency=2)
    eq(env.get("/api").status, 200, "a request before the drain")
    eq(env.admin("/drain_listeners?graceful&skip_exit", "POST").status, 200,
       "POST /drain_listeners?graceful&skip_exit")
    wait_until(lambda: not [k for k in children_of(p.pid)
                            if "worker" in proc_cmdline(k)], 3.0,
               "the workers to exit")
    r = env.admin("/ready")
    eq((r.status, r.body), (503, b"DRAINING\n"), "/ready after the drain")
    eq(env.stat("server.live"), 0, "server.live")

    def refused():
        try:
            env.get("/api")
            return False
        except OSError:
            return True
    wait_until(refused, 2.0, "the listener to refuse connections")
    eq(env.admin("/quitquitquit", "POST").status, 200, "POST /quitquitquit")
    eq(p.popen.wait(timeout=5), 0, "exit status after /quitquitquit")


V3_ROUTE = """              - match: { prefix: "/v3" }
                route:
                  cluster: backend_v3
"""
V3_CLUSTER = """  - name: backend_v3
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend_v3
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: %d }
"""


def add_v3(path, port):
    """A new route and a new cluster: a structural change."""
    with open(path) as f:
        text = f.read()
    anchor = '              - match: { prefix: "/" }\n'
    eq(text.count(anchor), 1, "the prefix route in %s" % path)
    text = text.replace(anchor, V3_ROUTE + anchor)
    anchor = "admin:\n"
    eq(text.count(anchor), 1, "admin in %s" % path)
    text = text.replace(anchor, V3_CLUSTER % port + anchor)
    with open(path, "w") as f:
        f.write(text)


def test_structural_reload_swaps_workers_without_failures(env):
    env.start_backends()
    v3 = env.start_backend("v3")
    cfg = env.seed_config()
    p = env.start_canaryd(cfg, concurrency=2)
    first = sorted(wait_until(lambda: len(p.workers()) == 2 and
                              p.workers(), 3, "2 workers"))
    eq(env.versions(20), {"v1": 18, "v2": 2}, "split before the reload")
    before = env.stat("cluster.backend_v1.upstream_rq_total")

    # a bounded load loop runs across the reload: no request may fail
    stop = threading.Event()
    errors, done = [], [0]

    def load():
        c = env.client()
        for i in range(20000):
            if stop.is_set():
                break
            try:
                r = c.get("/api")
                if r.status != 200:
                    errors.append(r.status)
            except Exception as e:  # counted, asserted below
                errors.append(repr(e))
                c = env.client()
            done[0] += 1
            if i % 50 == 49:  # new connections too, not only keep-alive
                c.close()
                c = env.client()
    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    add_v3(cfg, v3.port)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1, timeout=5)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(10)
    eq(env.stat("server.config_reload"), 1, "server.config_reload")
    eq(errors, [], "failed requests during the structural reload (of %d)"
       % done[0])
    expect(done[0] > 50, "requests during the reload: %d" % done[0])

    now = sorted(wait_until(lambda: len(p.workers()) == 2 and
                            not set(p.workers()) & set(first) and
                            p.workers(), 5, "a new generation of workers"))
    r = env.get("/v3/x")
    eq((r.status, b'"version":"v3"' in r.body), (200, True),
       "the new route answers from the new cluster")
    expect(env.stat("cluster.backend_v1.upstream_rq_total") >= before,
           "backend_v1 counters carried on")
    eq(env.stat("cluster.backend_v3.upstream_rq_total"), 1,
       "the new cluster's counters start at zero")
    # the exact split starts a fresh period in the new generation
    eq(env.versions(20), {"v1": 18, "v2": 2}, "split after the reload")
    expect(b"backend_v3::observability_name::backend_v3" in
           env.admin("/clusters").body, "/clusters lists backend_v3")
