"""Fleets of real canaryd instances for the fleet-mode tests
(test_fleet_canaryd.py): a real 3-member etcd cluster (tools/etcdlib.py),
the two backends, and n canaryd instances with their own node id,
listener and admin ports and state directories, all with the same route
"web" (90/10 over backend_v1/backend_v2, a rollout block, stickiness keyed
by the x-user header: requests without it take the exact split) and a node block
naming the fleet; optionally each instance reaches each etcd member
through a fault-injecting relay of its own (tools/tcprelay.py).  Plus a
load generator that spreads requests over the instances and counts what
each answered, and readers for what etcd and /canary hold."""

import json
import os
import threading
import time

import configs
from itestlib import (LOOPBACK, V1_BODY, V2_BODY, Canaryd, Client,
                      TestFailure, eq, request, wait_until)

PREFIX = "/canaryd/t"
STATE_KEY = PREFIX + "/ctl/route/web/state"

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
                      sticky: { header: x-user }
                      rollout:
                        canary: backend_v2
                        stable: backend_v1
                        steps: %(steps)s
                        step_interval: %(interval)s
                        window: %(window)s
                        min_requests: %(min)d
                        max_error_rate_delta: %(delta)s
                        max_p99_ratio: 50
"""

NODE = """\
node:
  id: %(id)s
  cluster: t
  metadata:
    canaryd:
      fleet:
        etcd: [%(etcd)s]
        prefix: %(prefix)s
        lease_ttl: %(ttl)s
        report_interval: %(report)s
        state_dir: %(state)s
"""


class Instance:
    """One canaryd of the fleet: its process, ports and relays."""

    def __init__(self, env, name, config, proxy_port, admin_port, relays,
                 state):
        self.name = name
        self.proxy_port = proxy_port
        self.admin_port = admin_port
        self.relays = relays
        self.state = state
        self.proc = Canaryd(env, config, 1, ["--state-dir", state],
                            os.path.join(env.logdir, "canaryd-%s.log" % name))
        self.proc.name = "canaryd-" + name
        env.procs.append(self.proc)
        wait_until(self.ready, 20, "canaryd %s ready" % name, 0.1)
        self.proc.record_children()

    def ready(self):
        if not self.proc.alive():
            raise TestFailure("canaryd %s exited: %s" % (
                self.name, self.proc.output()[-2000:]))
        try:
            return request(self.admin_port, "GET", "/ready",
                           timeout=1.0).status == 200
        except OSError:
            return False

    def admin(self, path, method="GET", timeout=10.0):
        return request(self.admin_port, method, path, timeout=timeout)

    def canary(self):
        r = self.admin("/canary")
        eq(r.status, 200, "%s /canary" % self.name)
        return r.json()

    def route(self):
        """The web route of /canary: weights, rollout (origin, state)."""
        return [r for r in self.canary()["routes"] if r["name"] == "web"][0]

    def view(self):
        """The fleet part of /canary (the coordinator's view)."""
        return self.canary().get("fleet") or {}

    def weights(self):
        w = self.route()["weights"]
        return [w["backend_v1"], w["backend_v2"]]

    def stats(self):
        r = self.admin("/stats")
        out = {}
        for line in r.text.splitlines():
            k, _, v = line.partition(": ")
            if v.isdigit():
                out[k] = int(v)
        return out

    def pids(self):
        """The master and every child it has now."""
        return [self.proc.pid] + self.proc.record_children()

    def kill9(self):
        """SIGKILL the whole instance: master, workers, coordinator."""
        for pid in self.pids():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        self.proc.popen.wait(5)


class Fleet:
    """n instances of one fleet on a fresh etcd cluster, both backends
    running.  relays: every instance reaches every member through a relay
    of its own (inst.relays[m])."""

    def __init__(self, env, n=3, relays=False, ttl="5s", report="0.2s",
                 v1=90, v2=10, steps="[10, 50, 100]", interval="600s",
                 window="3s", min_requests=20, delta="0.05"):
        self.env = env
        self.etcd = env.etcd(3)
        env.start_backends()
        self.instances = []
        route = ROUTE % {"v1": v1, "v2": v2, "steps": steps,
                         "interval": interval, "window": window,
                         "min": min_requests, "delta": delta}
        for i in range(n):
            name = "n%d" % i
            rel = []
            if relays:
                rel = [env.relay(m.client_port, "relay-%s-m%d" % (name,
                                                                  m.idx))
                       for m in self.etcd.members]
                eps = ["http://%s:%d" % (LOOPBACK, r.port) for r in rel]
            else:
                eps = self.etcd.endpoints
            state = os.path.join(env.logdir, "state-" + name)
            os.makedirs(state, exist_ok=True)
            node = NODE % {"id": name, "etcd": ", ".join(eps),
                           "prefix": PREFIX, "ttl": ttl, "report": report,
                           "state": state}
            proxy, admin = env.ports.get(), env.ports.get()
            cfg = env.write_config(node + configs.HEAD + route +
                                   configs.TAIL, name="%s.yaml" % name,
                                   proxy_port=proxy, admin_port=admin)
            self.instances.append(Instance(env, name, cfg, proxy, admin,
                                           rel, state))

    def __getitem__(self, i):
        return self.instances[i]

    def __iter__(self):
        return iter(self.instances)

    # -- what etcd holds --
    def state(self):
        v = self.etcd.get(STATE_KEY)
        return json.loads(v) if v else None

    def state_rev(self):
        kv = self.etcd.get_kv(STATE_KEY)
        return kv["mod_revision"] if kv else 0

    def history(self):
        recs = self.etcd.range_prefix(PREFIX + "/ctl/route/web/hist/")
        return [json.loads(recs[k]) for k in sorted(recs)]

    def leader(self):
        """(id, fence) of the leader key, or None."""
        kv = self.etcd.get_kv(PREFIX + "/ctl/leader")
        return (kv["value"].decode(), kv["create_revision"]) if kv else None

    def by_name(self, name):
        return [i for i in self.instances if i.name == name][0]

    # -- what the instances apply --
    def applied_everywhere(self, pred, insts=None):
        return all(pred(i.route()) for i in (insts or self.instances))

    def wait_applied(self, pred, timeout, what, insts=None):
        wait_until(lambda: self.applied_everywhere(pred, insts), timeout,
                   what, 0.1)

    def wait_settled(self, timeout=15):
        """A leader, and every instance at etcd's state (not a local
        one)."""
        wait_until(self.leader, timeout, "a leader", 0.1)
        wait_until(lambda: self.state_rev() > 0, timeout, "a state", 0.1)
        rev = self.state_rev()
        self.wait_applied(lambda r: "etcd revision %d" % rev in
                          r["rollout"]["origin"], timeout,
                          "revision %d applied everywhere" % rev)


def fleet_origin_rev(route):
    """The etcd revision a route's state came from, or 0."""
    o = route["rollout"]["origin"]
    key = "etcd revision "
    if key not in o:
        return 0
    return int(o.split(key, 1)[1].split()[0].rstrip(")"))


class Load:
    """Requests spread over instances: threads[i] keep-alive clients on
    instance i, as fast as they go, until `total` requests were sent (or
    stop()), at most `rate` a second per thread when given.  Counts
    answers per instance: v1, v2, error (an exception or a status other
    than 200)."""

    def __init__(self, fleet, threads, total=None, rate=None, path="/api"):
        self.lock = threading.Lock()
        self.left = total
        self.rate = rate
        self.path = path
        self.done = threading.Event()
        self.counts = {i.name: {"v1": 0, "v2": 0, "error": 0}
                       for i in fleet}
        self.errors = []
        self.threads = []
        for inst, n in zip(fleet, threads):
            for _ in range(n):
                t = threading.Thread(target=self.run, args=(inst,),
                                     daemon=True)
                self.threads.append(t)
        self.t0 = time.monotonic()
        for t in self.threads:
            t.start()

    def ticket(self):
        with self.lock:
            if self.done.is_set():
                return False
            if self.left is None:
                return True
            if self.left <= 0:
                return False
            self.left -= 1
            return True

    def run(self, inst):
        c = Client(inst.proxy_port)
        nxt = time.monotonic()
        while self.ticket():
            try:
                r = c.get(self.path)
                key = "error" if r.status != 200 else \
                    {V1_BODY: "v1", V2_BODY: "v2"}.get(r.body, "error")
                if key == "error":
                    self.note(inst, "status %d" % r.status)
            except Exception as e:  # counted, then a fresh connection
                key = "error"
                self.note(inst, repr(e))
                c.close()
                c = Client(inst.proxy_port)
            with self.lock:
                self.counts[inst.name][key] += 1
            if self.rate:
                nxt += 1.0 / self.rate
                delay = nxt - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        c.close()

    def note(self, inst, what):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append("%s: %s" % (inst.name, what))

    def total(self, key):
        with self.lock:
            return sum(c[key] for c in self.counts.values())

    def errors_on(self, names):
        with self.lock:
            return sum(self.counts[n]["error"] for n in names)

    def wait(self, timeout):
        for t in self.threads:
            t.join(max(0.1, timeout - (time.monotonic() - self.t0)))
        return dict(self.counts)

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(10)
        return dict(self.counts)
