"""Automated rollout and rollback (issue 6, part 4) and GET /canary
(part 5): the promote path walks the steps to promoted; a canary failing
30 % under ~500 req/s is rolled back within 10 s of the failures starting,
with the numbers in the log; the operator endpoints; the JSON and text
shapes of /canary; SIGHUP keeps what was decided."""

import os
import re
import signal
import threading
import time

import configs
from itestlib import (Client, TestFailure, V1_BODY, V2_BODY, eq, expect,
                      settle, wait_until)

# One weighted route named "web" with a rollout block; {weights} and
# {rollout} are filled per test.
ROUTE = """\
            - name: app
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                name: web
                route:
                  weighted_clusters:
                    clusters:
                    - name: backend_v1
                      weight: %(v1)d
                    - name: backend_v2
                      weight: %(v2)d
                metadata:
                  filter_metadata:
                    canaryd:
                      rollout:
                        canary: backend_v2
                        stable: backend_v1
                        steps: %(steps)s
                        step_interval: %(interval)s
                        window: %(window)s
                        min_requests: %(min)d
                        max_error_rate_delta: 0.05
                        max_p99_ratio: 5
"""


def rollout_config(env, v1=90, v2=10, steps="[10, 50, 100]", interval="1s",
                   window="2s", min_requests=20):
    route = ROUTE % {"v1": v1, "v2": v2, "steps": steps,
                     "interval": interval, "window": window,
                     "min": min_requests}
    return env.write_config(configs.HEAD + route + configs.TAIL)


class Load:
    """Bounded client load on the proxy: `threads` keep-alive clients,
    together at most `rate` requests a second, for at most `max_s`
    seconds or until stop().  Counts responses by version and status."""

    def __init__(self, env, threads=4, rate=500, max_s=20.0, path="/api"):
        self.env = env
        self.path = path
        self.per_thread = float(rate) / threads
        self.deadline = time.monotonic() + max_s
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.counts = {}
        self.sent = 0
        self.t0 = time.monotonic()
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(threads)]
        for t in self.threads:
            t.start()

    def count(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.sent += 1

    def run(self):
        c = Client(self.env.proxy_port)
        nxt = time.monotonic()
        while not self.done.is_set() and time.monotonic() < self.deadline:
            try:
                r = c.get(self.path)
                key = str(r.status) if r.status != 200 else \
                    {V1_BODY: "v1", V2_BODY: "v2"}.get(r.body, "200 other")
            except Exception:  # counted, then a fresh connection
                key = "error"
                c.close()
                c = Client(self.env.proxy_port)
            self.count(key)
            nxt += 1.0 / self.per_thread
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                nxt = time.monotonic()  # far behind: do not burst
        c.close()

    def rate(self):
        return self.sent / max(time.monotonic() - self.t0, 1e-3)

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(5)
        return dict(self.counts)


def canary(env):
    j = env.admin_json("/canary")
    expect(isinstance(j.get("routes"), list), "/canary routes: %r" % j)
    return j


def route(env, name="web"):
    for r in canary(env)["routes"]:
        if r["name"] == name:
            return r
    raise TestFailure("route %s not in /canary" % name)


def post(env, path):
    return env.admin(path, method="POST")


def test_rollout_promote_path(env):
    env.start_backends()
    p = env.start_canaryd(rollout_config(env), concurrency=2)
    r = route(env)
    eq(r["weights"], {"backend_v1": 90, "backend_v2": 10}, "start weights")
    eq((r["rollout"]["state"], r["rollout"]["step"]), ("progressing", 0),
       "state at start (the file is at the first step)")

    load = Load(env, threads=2, rate=200, max_s=20)
    seen = []   # the canary weights, in the order they were seen
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            r = route(env)
            w = r["weights"]["backend_v2"]
            if not seen or seen[-1] != w:
                seen.append(w)
            if r["rollout"]["state"] == "promoted":
                break
            time.sleep(0.1)
    finally:
        counts = load.stop()
    eq(r["rollout"]["state"], "promoted", "state after the steps (canary "
       "weights seen %r, load %r)" % (seen, counts))
    eq(seen, [10, 50, 100], "canary weights along the way")
    eq(r["weights"], {"backend_v1": 0, "backend_v2": 100}, "final weights")
    eq(r["rollout"]["promotions"], 1, "promotions")
    # Prometheus: the route is a label, so one family for every route
    prom = env.admin("/stats/prometheus").text
    expect('\nenvoy_canary_rollout_promotions{canaryd_route="web"} 1\n' in
           prom and "\n# TYPE envoy_canary_rollout_state gauge\n" in prom,
           "rollout stats in /stats/prometheus:\n%s" % "\n".join(
               l for l in prom.splitlines() if "canary" in l))
    eq(env.versions(10), {"v2": 10}, "10 GET /api after promotion")
    expect(counts.get("v1", 0) > 0 and counts.get("v2", 0) > 0 and
           set(counts) <= {"v1", "v2"}, "load answers: %r" % counts)
    log = p.output()
    expect(re.search(r"canary web: step 2/3: backend_v2 at 50% \(weight 50 "
                     r"of 100\), healthy: 5xx rate canary 0\.0000 stable "
                     r"0\.0000", log), "step 2 logged with its numbers:\n"
           + log[-2000:])
    expect(re.search(r"canary web: promoted: backend_v2 at 100%", log),
           "promotion logged:\n" + log[-2000:])


test_rollout_promote_path.serial = True  # load: runs alone


def test_rollout_rollback_on_30pct_failures(env):
    v1, v2 = env.start_backends()
    p = env.start_canaryd(rollout_config(env, 80, 20, steps="[20, 50, 100]",
                                         interval="60s", window="3s",
                                         min_requests=100), concurrency=2)
    load = Load(env, threads=4, rate=500, max_s=20)
    try:
        time.sleep(2.0)
        r = route(env)
        eq(r["rollout"]["state"], "progressing", "state with v2 healthy")
        v2.ctl(fail_rate=30)
        t0 = time.monotonic()
        w = wait_until(lambda: route(env)["weights"]["backend_v2"] == 0 and
                       time.monotonic(), 10.0, "backend_v2 weight 0 within "
                       "10 s of the failures starting", interval=0.1)
        took = w - t0
        rate = load.rate()
    finally:
        counts = load.stop()
    expect(took <= 10.0, "rolled back after %.1f s" % took)
    expect(rate >= 300, "load rate %.0f req/s (want ~500)" % rate)
    r = route(env)
    eq(r["rollout"]["state"], "rolled_back", "state after the breach")
    eq(r["weights"], {"backend_v1": 100, "backend_v2": 0}, "weights")
    eq(r["rollout"]["rollbacks"], 1, "rollbacks")
    expect("5xx rate canary" in r["rollout"]["reason"],
           "reason: %r" % r["rollout"]["reason"])
    expect(counts.get("503", 0) > 0, "clients saw the failures: %r" % counts)
    log = p.output()
    m = re.search(r"canary web: breach: 5xx rate canary (0\.\d+) \((\d+)/"
                  r"(\d+)\) - stable (0\.\d+) \((\d+)/(\d+)\) = (0\.\d+) > "
                  r"max_error_rate_delta 0\.05: rolling back backend_v2 to 0",
                  log)
    expect(m, "the breach with its numbers in the log:\n" + log[-3000:])
    expect(float(m.group(1)) > 0.05 and int(m.group(3)) >= 100 and
           int(m.group(6)) >= 100, "breach numbers: %r" % (m.groups(),))
    # it stays rolled back: v1 only from now on
    eq(env.versions(20), {"v1": 20}, "20 GET /api after the rollback")
    s = env.stats()
    eq([env.stat("canary.web.rollout." + k, s) for k in
        ("rollbacks", "promotions", "state", "canary_weight")],
       [1, 0, 2, 0], "canary.web.rollout.* in /stats")
    print("    rolled back %.1f s after the failures began, load %.0f "
          "req/s" % (took, rate))


test_rollout_rollback_on_30pct_failures.serial = True  # load: runs alone


def test_canary_operator_endpoints(env):
    env.start_backends()
    env.start_canaryd(rollout_config(env, interval="600s"), concurrency=2)
    r = env.admin("/canary/web/pause")
    eq((r.status, r.body), (405, b"Method GET not allowed, POST required."),
       "GET /canary/web/pause")
    eq(post(env, "/canary/nope/pause").status, 404, "unknown route")
    eq(post(env, "/canary/web/bogus").status, 404, "unknown action")

    r = post(env, "/canary/web/pause")
    eq(r.status, 200, "pause")
    eq(r.json()["rollout"]["state"], "paused", "state after pause")
    eq(post(env, "/canary/web/pause").status, 409, "pause when paused")

    r = post(env, "/canary/web/rollback")
    eq(r.status, 200, "rollback")
    j = r.json()
    eq((j["rollout"]["state"], j["weights"]),
       ("rolled_back", {"backend_v1": 100, "backend_v2": 0}), "rollback")
    eq(env.versions(10), {"v1": 10}, "after rollback")

    j = post(env, "/canary/web/resume").json()
    eq((j["rollout"]["state"], j["rollout"]["step"], j["weights"]),
       ("progressing", 0, {"backend_v1": 90, "backend_v2": 10}),
       "resume after a rollback: the first step")
    eq(env.versions(20), {"v1": 18, "v2": 2}, "after resume")

    j = post(env, "/canary/web/promote").json()
    eq((j["rollout"]["state"], j["weights"]),
       ("promoted", {"backend_v1": 0, "backend_v2": 100}), "promote")
    eq(env.versions(10), {"v2": 10}, "after promote")
    eq(post(env, "/canary/web/resume").status, 409, "resume when promoted")
    eq(route(env)["rollout"]["promotions"], 1, "promotions")


def test_canary_json_and_text(env):
    env.start_backends()
    env.start_canaryd(env.seed_config(), concurrency=2)
    eq(env.versions(20), {"v1": 18, "v2": 2}, "20 GET /api")
    j = canary(env)
    eq(len(j["routes"]), 1, "weighted routes")
    r = j["routes"][0]
    # the seed's route has no name: a generated one, rollout null
    eq((r["name"], r["generated_name"], r["rollout"]),
       ("route_0_1", True, None), "name and rollout")
    eq(r["weights"], {"backend_v1": 90, "backend_v2": 10}, "weights")
    eq(r["window_s"], 60, "window without a rollout")
    for c, n in (("backend_v1", 18), ("backend_v2", 2)):
        f = r["clusters"][c]
        eq((f["requests"], f["errors_5xx"], f["success_rate"],
            f["total_requests"]), (n, 0, 1, n), c)
        for k in ("p50_ms", "p95_ms", "p99_ms", "rq_per_s"):
            expect(isinstance(f[k], (int, float)) and f[k] > 0,
                   "%s %s: %r" % (c, k, f[k]))
        expect(f["p50_ms"] <= f["p95_ms"] <= f["p99_ms"],
               "%s quantiles in order: %r" % (c, f))
    d = r["deltas"]
    eq((d["canary"], d["stable"], d["error_rate_delta"]),
       ("backend_v2", "backend_v1", 0), "deltas")

    t = env.admin("/canary?format=text")
    eq(t.status, 200, "/canary?format=text")
    lines = t.text.splitlines()
    eq(lines[0], "route route_0_1: window 60s", "text first line")
    eq(lines[1], "  rollout: none", "text rollout line")
    head = lines[2]
    expect(head.split() == ["cluster", "weight", "requests", "rq/s",
                            "success", "p50_ms", "p95_ms", "p99_ms"],
           "text header: %r" % head)
    rows = {ln.split()[0]: ln for ln in lines[3:5]}
    for c, w, n in (("backend_v1", "90", "18"), ("backend_v2", "10", "2")):
        ln = rows[c]
        eq(ln.split()[1:3], [w, n], "text row %s" % c)
        # numbers right-aligned under their headings
        ends = [m.end() for m in re.finditer(r"\S+", ln)]
        hends = [m.end() for m in re.finditer(r"\S+", head)]
        eq(ends[1:], hends[1:], "columns of %s:\n%s\n%s" % (c, head, ln))
        expect(ln.split()[4] == "100.00%", "success column: %r" % ln)
    expect(lines[5].startswith("  backend_v2 vs backend_v1: 5xx rate delta "
                               "+0.0000, p99 ratio "), "deltas line: %r"
           % lines[5])


def test_sighup_keeps_the_decided_state(env):
    env.start_backends()
    cfg = rollout_config(env, 80, 20, steps="[20, 50, 100]",
                         interval="600s")
    p = env.start_canaryd(cfg, concurrency=2)
    eq(post(env, "/canary/web/rollback").status, 200, "rollback")
    eq(route(env)["weights"]["backend_v2"], 0, "canary weight")

    # the same file: the decision stands, counters kept
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1)
    r = route(env)
    eq((r["weights"], r["rollout"]["state"], r["rollout"]["rollbacks"]),
       ({"backend_v1": 100, "backend_v2": 0}, "rolled_back", 1),
       "after SIGHUP")
    eq(env.versions(10), {"v1": 10}, "split after SIGHUP")

    # new weights in the file do not undo a decision either
    with open(cfg) as f:
        text = f.read()
    text = text.replace("weight: 80", "weight: 50").replace("weight: 20",
                                                            "weight: 50")
    with open(cfg, "w") as f:
        f.write(text)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 2)
    r = route(env)
    eq((r["weights"], r["rollout"]["state"]),
       ({"backend_v1": 100, "backend_v2": 0}, "rolled_back"),
       "after the second SIGHUP")
    # the operator resumes: the first step, on the file's total
    j = post(env, "/canary/web/resume").json()
    eq((j["rollout"]["state"], j["rollout"]["step"], j["weights"]),
       ("progressing", 0, {"backend_v1": 80, "backend_v2": 20}),
       "resume after the second SIGHUP")
