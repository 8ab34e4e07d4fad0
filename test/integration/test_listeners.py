"""Several listeners (canaryd.yaml(5), LISTENERS), from the Envoy-style
files of test/configs/listeners/: each listener routes with its own route
table, counts under its own stat_prefix and address, writes its own access
log; /listeners and /config_dump show them all, /canary the routes of
each (a name two listeners have goes by <listener>/<route>); a SIGHUP that
adds or removes a listener leaves the connections of the others alone,
also while a keep-alive client loops on one (and with a backend that
takes 40 ms), and serves a removed one's open connections to their end."""

import os
import re
import signal
import socket
import threading

from itestlib import (LOOPBACK, V1_BODY, V2_BODY, Client, eq, expect,
                      settle, wait_until)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONFIGS = os.path.join(ROOT, "test", "configs", "listeners")
# the file's ports -> the run's
PORTS = (("10000", "proxy_port"), ("10001", "internal_port"),
         ("10002", "ops_port"), ("8081", "v1_port"), ("8082", "v2_port"),
         ("9901", "admin_port"))


def listener_config(env, src, name="canaryd.yaml"):
    """src (a file of CONFIGS) with this run's ports and log directory,
    its listeners on 127.0.0.1."""
    with open(os.path.join(CONFIGS, src)) as f:
        text = f.read()
    for old, key in PORTS:
        text = re.sub(r"port_value: %s\b" % old, "port_value: %d" %
                      env.port(key), text)
    text = text.replace("address: 0.0.0.0", "address: " + LOOPBACK)
    text = text.replace("/var/log/canaryd/", env.logdir + "/")
    return env.write_config(text, name)


def start(env, src, v1_args=(), concurrency=2):
    env.start_backend("v1", args=v1_args)
    env.start_backend("v2")
    cfg = listener_config(env, src)
    p = env.start_canaryd(cfg, concurrency=concurrency)
    return cfg, p


def lstat(env, key, name):
    return "listener.127.0.0.1_%d.%s" % (env.port(key), name)


def log_lines(env, name):
    path = os.path.join(env.logdir, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def test_two_listeners_route_count_and_log_apart(env):
    start(env, "two-listeners.yaml")
    pub, internal = env.port("proxy_port"), env.port("internal_port")
    for i in range(5):
        eq(env.get("/pub/%d" % i, port=pub).body, V1_BODY,
           "public listener's answer")
    for i in range(3):
        eq(env.get("/int/%d" % i, port=internal).body, V2_BODY,
           "internal listener's answer")

    def counted():
        s = env.stats()
        return (s["http.ingress_public.downstream_rq_2xx"],
                s["http.ingress_internal.downstream_rq_2xx"])
    settle(counted, (5, 3))
    s = env.stats()
    eq(s["http.ingress_public.downstream_rq_total"], 5, "public total")
    eq(s["http.ingress_internal.downstream_rq_total"], 3, "internal total")
    eq(s[lstat(env, "proxy_port", "downstream_cx_total")], 5,
       "public listener's connections")
    eq(s[lstat(env, "internal_port", "downstream_cx_total")], 3,
       "internal listener's connections")
    eq(s[lstat(env, "internal_port",
               "http.ingress_internal.downstream_rq_2xx")], 3,
       "internal listener's 2xx")
    eq(s["cluster.service_v1.upstream_rq_total"], 5, "v1 requests")
    eq(s["cluster.service_v2.upstream_rq_total"], 3, "v2 requests")

    # each access log has its listener's lines only, in its own format
    pub_log = wait_until(lambda: len(log_lines(env, "public.log")) == 5
                         and log_lines(env, "public.log"), 5,
                         "5 lines in public.log")
    int_log = wait_until(lambda: len(log_lines(env, "internal.log")) == 3
                         and log_lines(env, "internal.log"), 5,
                         "3 lines in internal.log")
    expect(all('"GET /pub/' in line for line in pub_log),
           "public.log: %r" % pub_log)
    eq(sorted(int_log), ["internal GET /int/%d 200 service_v2" % i
                         for i in range(3)], "internal.log")

    r = env.admin("/listeners")
    eq(r.text, "public::127.0.0.1:%d\ninternal::127.0.0.1:%d\n" %
       (pub, internal), "/listeners")
    j = env.admin_json("/listeners?format=json")
    eq([(x["name"], x["local_address"]["socket_address"]["port_value"])
        for x in j["listener_statuses"]],
       [("public", pub), ("internal", internal)], "/listeners json")


def test_three_listeners_each_its_own_manager(env):
    start(env, "three-listeners.yaml")
    ops = env.port("ops_port")
    eq(env.get("/a", port=env.port("proxy_port")).body, V1_BODY, "public")
    eq(env.get("/b", port=env.port("internal_port")).body, V2_BODY,
       "internal")
    r = env.get("/ping", port=ops)
    eq((r.status, r.body), (200, b"pong\n"), "ops direct response")
    eq(r.header("server"), "ops-edge", "ops server_name")
    eq(env.get("/b").header("server"), "canaryd", "public server header")
    r = env.get("/mirrored", port=ops)
    eq(r.body, V2_BODY, "ops route")
    # the mirror's copy reaches service_v1 (fire and forget)
    settle(lambda: env.stats()["cluster.service_v1.upstream_rq_total"], 2)
    s = env.stats()
    eq(s["http.ops.downstream_rq_total"], 2, "ops requests")
    eq(s["http.ops.rq_direct_response"], 1, "ops direct responses")
    eq(s["http.ingress_public.rq_direct_response"], 0,
       "public direct responses")
    eq(s[lstat(env, "ops_port", "downstream_cx_total")], 2,
       "ops connections")

    d = env.admin_json("/config_dump")
    lsn = [c for c in d["configs"] if c["@type"].endswith(
        ".ListenersConfigDump")][0]
    eq([x["listener"]["name"] for x in lsn["static_listeners"]],
       ["public", "internal", "ops"], "config_dump listeners")
    rts = [c for c in d["configs"] if c["@type"].endswith(
        ".RoutesConfigDump")][0]
    eq([x["route_config"]["name"] for x in rts["static_route_configs"]],
       ["public_routes", "internal_routes", "ops_routes"],
       "config_dump route configs")
    eq(env.admin("/listeners").text.count("\n"), 3, "/listeners lines")


class Loop(threading.Thread):
    """GETs on one keep-alive connection (fresh: a new connection each)
    until stopped; counts answers and errors (a refused or reset
    connection is an error)."""

    def __init__(self, port, body, fresh=False):
        super().__init__(daemon=True)
        self.port, self.body, self.fresh = port, body, fresh
        self.ok = self.errors = 0
        self.reasons = []
        self.stop = threading.Event()

    def run(self):
        c = Client(self.port)
        while not self.stop.is_set():
            try:
                r = c.get("/loop")
                if r.status == 200 and r.body == self.body:
                    self.ok += 1
                else:
                    self.errors += 1
                    self.reasons.append((r.status, r.body[:60]))
            except Exception as e:  # any failure counts
                self.errors += 1
                self.reasons.append(repr(e))
                c.close()
                c = Client(self.port)
            if self.fresh:
                c.close()
                c = Client(self.port)
        c.close()


def refused(port):
    try:
        socket.create_connection((LOOPBACK, port), timeout=1.0).close()
    except ConnectionRefusedError:
        return True
    return False


def reload_to(env, p, src, n):
    listener_config(env, src)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), n, timeout=10)
    eq(env.stat("server.config_reload_fail"), 0, "reload failures")


def remove_internal(env, p, cfg, n):
    """Reload without the internal listener (the n-th reload)."""
    text = open(cfg).read()
    i = text.index("  - name: internal")
    j = text.index("  clusters:")
    with open(cfg + ".tmp", "w") as f:
        f.write(text[:i] + text[j:])
    os.replace(cfg + ".tmp", cfg)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), n, timeout=10)


def add_and_remove_under_load(env, v1_args):
    cfg, p = start(env, "two-listeners.yaml", v1_args=v1_args)
    ops, internal = env.port("ops_port"), env.port("internal_port")
    loops = [Loop(env.port("proxy_port"), V1_BODY),
             Loop(env.port("proxy_port"), V1_BODY, fresh=True)]
    for t in loops:
        t.start()

    def answered(k):
        n = [t.ok for t in loops]
        wait_until(lambda: all(t.ok >= x + k for t, x in zip(loops, n)),
                   10, "%d more answers of each loop" % k)
    try:
        answered(5)
        expect(refused(ops), "ops port before it is configured")

        # add the ops listener: it answers, public keeps its connections
        reload_to(env, p, "three-listeners.yaml", 1)
        r = wait_until(lambda: env.get("/ping", port=ops), 5,
                       "the added listener")
        eq(r.body, b"pong\n", "added listener's answer")
        eq(env.get("/x", port=internal).body, V2_BODY,
           "internal after the first reload")
        answered(5)

        # remove ops, then internal: a connection open on internal is
        # served to its end by the old generation, then the port closes
        reload_to(env, p, "two-listeners.yaml", 2)
        wait_until(lambda: refused(ops), 10, "the removed ops port refused")
        held = Client(internal)
        eq(held.get("/held").body, V2_BODY, "internal, before its removal")
        remove_internal(env, p, cfg, 3)
        r = held.get("/held-after")
        eq((r.status, r.body), (200, V2_BODY),
           "a request on a removed listener's open connection")
        eq(r.header("connection"), "close", "its connection header")
        held.close()
        # ... and logged where the removed listener logged
        wait_until(lambda: "internal GET /held-after 200 service_v2" in
                   log_lines(env, "internal.log"), 5,
                   "the removed listener's last line in internal.log")
        wait_until(lambda: refused(internal), 10,
                   "the removed listener's port refused")
        eq(env.admin("/listeners").text, "public::127.0.0.1:%d\n" %
           env.port("proxy_port"), "/listeners after the removals")
        answered(5)
    finally:
        for t in loops:
            t.stop.set()
        for t in loops:
            t.join(15)
    for t in loops:
        eq(t.errors, 0, "%s loop errors (%r)" % (
            "fresh" if t.fresh else "keep-alive", t.reasons[:5]))
    # the public listener's counts went on across the reloads
    total = sum(t.ok for t in loops)
    s = env.stats()
    expect(s["http.ingress_public.downstream_rq_2xx"] >= total,
           "public 2xx %d, loops %d" % (
               s["http.ingress_public.downstream_rq_2xx"], total))
    return [t.ok for t in loops]


def test_reload_adds_and_removes_listeners_under_keepalive_load(env):
    k, f = add_and_remove_under_load(env, ())
    print("    %d keep-alive and %d one-per-connection requests across 3 "
          "reloads, 0 errors" % (k, f))


def test_reload_adds_and_removes_listeners_with_a_slow_backend(env):
    k, f = add_and_remove_under_load(env, ("--delay_ms", "40"))
    print("    %d keep-alive and %d one-per-connection requests (40 ms "
          "each) across 3 reloads, 0 errors" % (k, f))


def test_canary_routes_of_every_listener(env):
    """Weighted routes called "all" in two listeners: /canary lists both
    with their listener; an action names one as <listener>/all."""
    env.start_backend("v1")
    env.start_backend("v2")
    cfg = listener_config(env, "two-listeners.yaml")
    text = open(cfg).read()
    # public's is a plain split, internal's a rollout of service_v1
    for cl, w, meta in (("service_v1", (90, 10), ""),
                        ("service_v2", (10, 90),
                         "\n                metadata: { filter_metadata: "
                         "{ canaryd: { rollout: { canary: service_v1, "
                         "stable: service_v2 } } } }")):
        text = text.replace(
            "route: { cluster: %s }" % cl,
            "route: { weighted_clusters: { clusters: [ { name: service_v1, "
            "weight: %d }, { name: service_v2, weight: %d } ] } }%s" %
            (w[0], w[1], meta))
    env.write_config(text)
    env.start_canaryd(cfg)
    j = env.admin_json("/canary")
    eq(sorted((r["listener"], r["name"], r["weights"]["service_v1"])
              for r in j["routes"]),
       [("internal", "all", 10), ("public", "all", 90)], "/canary routes")
    r = env.admin("/canary/all/rollback", "POST")
    eq(r.status, 404, "an action on a name two listeners have")
    r = env.admin("/canary/internal/all/rollback", "POST")
    eq(r.status, 200, "rollback of internal/all (%s)" % r.text[:200])
    j = env.admin_json("/canary")
    got = {r["listener"]: r["weights"] for r in j["routes"]}
    eq(got["internal"], {"service_v1": 0, "service_v2": 100},
       "internal/all after its rollback")
    eq(got["public"], {"service_v1": 90, "service_v2": 10},
       "public/all untouched")
    expect("listener internal" in env.admin("/canary?format=text").text,
           "/canary?format=text names the listener")
