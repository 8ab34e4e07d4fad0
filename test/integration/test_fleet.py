"""Fleet mode's coordinator (master/fleet*.c) against a real 3-member
etcd cluster, each instance a build/fleet-probe (the coordinator child
with a stand-in master and counters for shm), some reaching etcd through
fault-injecting relays: one leader and its fence, a new leader within 6 s
of the old one's death with a higher fence, a partitioned ex-leader that
cannot write once its lease is over, a watch that resyncs after
compaction, an endpoint switch away from an isolated member, one fleet
decision from merged numbers, operators' actions everywhere, etcd away
and back, and etcd wiped."""

import json
import os
import time

from itestlib import LOOPBACK, TestFailure, eq, expect, wait_until
from probes import Probe

PREFIX = "/canaryd/t"


def _route(**kw):
    r = {"name": "web", "clusters": ["v1", "v2"], "weights": [90, 10],
         "canary": 1, "stable": 0, "steps": [1, 10, 50, 100],
         "step_interval_ms": 60000, "window_ms": 5000,
         "min_requests": 20, "max_error_rate_delta": 0.05,
         "max_p99_ratio": 2.0}
    r.update(kw)
    return r


def _instance(env, name, endpoints, ttl=5, report_ms=500, route=None):
    state = os.path.join(env.logdir, "state-" + name)
    os.makedirs(state, exist_ok=True)
    cfg = {"id": name, "cluster": "t", "etcd": endpoints, "prefix": PREFIX,
           "lease_ttl_s": ttl, "report_ms": report_ms, "state_dir": state,
           "routes": [route or _route()]}
    path = os.path.join(env.logdir, "fleet-%s.json" % name)
    with open(path, "w") as f:
        json.dump(cfg, f)
    return Probe(env, "fleet", [path], "event", "fleet-" + name)


def _fleet(env, c, names="abc", relays=False, **kw):
    """One instance per name; with relays, each reaches each member
    through a relay of its own (returned per instance)."""
    out, rel = [], {}
    for n in names:
        if relays:
            rel[n] = [env.relay(m.client_port, "relay-%s-m%d" % (n, m.idx))
                      for m in c.members]
            eps = ["http://%s:%d" % (LOOPBACK, r.port) for r in rel[n]]
        else:
            eps = c.endpoints
        out.append(_instance(env, n, eps, **kw))
    return out, rel


def _leader(c):
    """(id, fence) of P/ctl/leader, or None."""
    kv = c.get_kv(PREFIX + "/ctl/leader")
    return (kv["value"].decode(), kv["create_revision"]) if kv else None


def _view(p):
    return p.ok("view")["view"]


def _state(c):
    v = c.get(PREFIX + "/ctl/route/web/state")
    return json.loads(v) if v else None


def _history(c):
    recs = c.range_prefix(PREFIX + "/ctl/route/web/hist/")
    return [json.loads(recs[k]) for k in sorted(recs)]


def _traffic(instances, rq=40, err=0, canary_us=20000, canary_err=None,
             seconds=1.0):
    for p in instances:
        p.ok("traffic v1 %d 0 20000" % (rq * 3))
        p.ok("traffic v2 %d %d %d" % (rq, err if canary_err is None else
                                       canary_err, canary_us))
    time.sleep(seconds)


def _finish(instances):
    """End every instance; each must exit cleanly (sanitizer reports
    fail the test under SANITIZE=1)."""
    for p in instances:
        if p.alive():
            p.finish()


def _all_applied(instances, pred, timeout, what):
    def done():
        return all(pred(p.ok("applied web")) for p in instances)
    wait_until(done, timeout, what, 0.1)


def test_fleet_one_leader_new_one_within_6s_higher_fence(env):
    c = env.etcd(3)
    inst, _ = _fleet(env, c)
    first = wait_until(lambda: _leader(c), 6, "a leader")
    # every instance names the same leader, and applies the same state
    wait_until(lambda: all(_view(p)["leader"]["id"] == first[0]
                           for p in inst), 5, "everyone sees the leader")
    _all_applied(inst, lambda a: a["weights"] == [90, 10] and
                 not a["local"], 5, "the fleet state applied everywhere")
    eq(sum(_view(p)["leader"]["me"] for p in inst), 1, "one leader")
    # kill -9 the leader's coordinator
    lp = [p for p in inst if p.name == "fleet-" + first[0]][0]
    rev_before = _state(c)["seq"]
    lp.ok("kill")
    t0 = time.monotonic()
    second = wait_until(lambda: (_leader(c) or (None, 0))[1] > first[1] and
                        _leader(c), 8, "a new leader")
    dt = time.monotonic() - t0
    print("    leader's coordinator killed -9: a new leader after %.2f s, "
          "fence %d -> %d" % (dt, first[1], second[1]))
    expect(dt <= 6.0, "new leader after %.1fs (6 s allowed)" % dt)
    expect(second[0] != first[0], "another instance leads")
    expect(second[1] > first[1], "fence %d after %d" % (second[1],
                                                       first[1]))
    eq(_state(c)["seq"], rev_before, "no decision during the gap")
    others = [p for p in inst if p is not lp]
    wait_until(lambda: sum(_view(p)["leader"]["me"] for p in others) == 1,
               3, "the new leader knows it")
    _finish(others)


def test_fleet_partitioned_leader_cannot_write(env):
    c = env.etcd(3)
    inst, rel = _fleet(env, c, relays=True, route=_route(
        steps=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 100],
        weights=[100, 0], step_interval_ms=500, min_requests=5))
    old = wait_until(lambda: _leader(c), 6, "a leader")
    # keep the leader deciding: healthy traffic, a step every second or so
    for _ in range(4):
        _traffic(inst, rq=20, seconds=0.5)
    wait_until(lambda: _state(c) and _state(c)["step"] >= 1, 10,
               "the rollout moving")
    t_part = int(time.time() * 1000)
    for r in rel[old[0]]:
        r.partition()
    t0 = time.monotonic()
    others = [p for p in inst if p.name != "fleet-" + old[0]]
    new = None
    for _ in range(100):
        _traffic(others, rq=20, seconds=0.1)
        lk = _leader(c)
        if lk and lk[1] > old[1]:
            new = lk
            break
    expect(new is not None, "no new leader while the old one was cut off")
    dt = time.monotonic() - t0
    expect(dt <= 6.0, "new leader after %.1fs (6 s allowed)" % dt)
    # the old leader's held calls land now; none of its writes may
    for r in rel[old[0]]:
        r.heal()
    for _ in range(4):
        _traffic(inst, rq=20, seconds=0.5)
    late = [h for h in _history(c) if h["fence"] == old[1] and
            h["t"] > t_part + 1000]
    print("    leader partitioned from etcd: a new leader after %.2f s "
          "(fence %d -> %d); %d writes of the old leader after the cut" % (
              dt, old[1], new[1], len(late)))
    eq(late, [], "decisions under the old fence after the partition")
    fences = [h["fence"] for h in _history(c)]
    eq(fences, sorted(fences), "fences never go back")
    eq(_state(c)["fence"], new[1], "the state is the new leader's")
    lp = [p for p in inst if p.name == "fleet-" + old[0]][0]
    v = _view(lp)
    expect(not v["leader"]["me"], "the old leader stepped down: %r" %
           v["leader"])
    expect(v["stats"]["resigns"] >= 1, "stats %r" % v["stats"])
    _finish(inst)


def test_fleet_watch_resyncs_after_compaction(env):
    # a's watch is away FLEET_WATCH_OUTAGE_S (default 6 s; 30 s by hand)
    # while the state changes and etcd compacts every
    # FLEET_COMPACT_EVERY_S (default 2 s; 10 s by hand)
    outage = float(os.environ.get("FLEET_WATCH_OUTAGE_S", "6"))
    every = float(os.environ.get("FLEET_COMPACT_EVERY_S", "2"))
    c = env.etcd(3)
    inst, rel = _fleet(env, c, names="ab", relays=True)
    wait_until(lambda: _leader(c), 6, "a leader")
    a, b = inst
    _all_applied(inst, lambda x: x["weights"] == [90, 10], 5, "applied")
    applies_before = a.ok("applied web")["applies"]
    # a loses etcd; meanwhile b's operator pauses, resumes, pauses
    t_cut = time.monotonic()
    for r in rel["a"]:
        r.refuse(True)
        r.cut()
    for op in ("pause", "resume", "pause"):
        b.ok("op web %s" % op)
        ev, _ = b.wait_event(lambda e: e["event"] == "op_done", 8,
                             "the %s answered" % op)
        eq(ev["status"], 200, "%s: %r" % (op, ev))
    compactions = 0
    while True:
        c.compact()
        compactions += 1
        left = outage - (time.monotonic() - t_cut)
        if left <= 0:
            break
        time.sleep(min(every, left))
    want = c.get_kv(PREFIX + "/ctl/route/web/state")["mod_revision"]
    t0 = time.monotonic()
    for r in rel["a"]:
        r.refuse(False)
    wait_until(lambda: a.ok("applied web")["rev"] == want, 8,
               "a at the latest state")
    dt = time.monotonic() - t0
    got = a.ok("applied web")
    print("    watch away %.1f s, %d compactions (every %.0f s): "
          "resynced %.2f s after etcd came back, %d apply" % (
              time.monotonic() - t0 + (t0 - t_cut) - dt, compactions, every,
              dt, got["applies"] - applies_before))
    eq((got["weights"], got["state"]), ([90, 10], 1),
       "paused at 10 %, as the fleet is")
    # one apply for the resync: the states a missed are never applied
    eq(got["applies"], applies_before + 1, "applies (no spurious change)")
    expect(_view(a)["stats"]["resyncs"] >= 2, "resynced")
    expect(dt <= 2.0, "resynced %.2f s after etcd came back" % dt)
    _finish(inst)


test_fleet_watch_resyncs_after_compaction.timeout = 90


def test_fleet_instance_leaves_an_isolated_member(env):
    c = env.etcd(3)
    inst, rel = _fleet(env, c, names="ab", relays=True)
    wait_until(lambda: _leader(c), 6, "a leader")
    a = inst[0]
    eq(_view(a)["etcd"]["index"], 0, "a starts on member 0")
    lease = _view(a)["lease"]["id"]
    rel["a"][0].blackhole()
    t0 = time.monotonic()
    wait_until(lambda: _view(a)["etcd"]["index"] != 0, 6,
               "a on another member")
    dt = time.monotonic() - t0
    print("    member cut off: switched endpoint after %.2f s" % dt)
    expect(dt <= 5.0, "switched after %.1fs (5 s allowed)" % dt)
    time.sleep(1.0)
    v = _view(a)
    eq(v["lease"]["id"], lease, "the lease survived the switch")
    expect(c.get(PREFIX + "/met/a") is not None, "a still reports")
    # a member that stops answering altogether (SIGSTOP) too
    idx = v["etcd"]["index"]
    c.pause_member(idx)
    try:
        wait_until(lambda: _view(a)["etcd"]["index"] != idx, 6,
                   "a away from the stopped member")
    finally:
        c.resume_member(idx)
    _finish(inst)


def test_fleet_rolls_back_what_no_instance_sees_alone(env):
    c = env.etcd(3)
    inst, _ = _fleet(env, c, route=_route(min_requests=60,
                                          window_ms=2000))
    wait_until(lambda: _leader(c), 6, "a leader")
    _all_applied(inst, lambda x: x["rev"] > 0 and not x["local"], 5,
                 "applied")
    # each instance: 16 canary requests a second, 2 failing (12.5 %):
    # in a 2 s window no instance has 60, the fleet has 96
    t0 = time.monotonic()
    for _ in range(16):
        _traffic(inst, rq=8, canary_err=1, seconds=0.5)
        st = _state(c)
        if st["state"] == "rolled_back":
            break
    eq(_state(c)["state"], "rolled_back", "the fleet rolled back")
    dt = time.monotonic() - t0
    expect(dt <= 2.0 + 2.0, "rolled back after %.1fs (window + 2 s)" % dt)
    rb = [h for h in _history(c) if h["act"] == "rollback"]
    eq(len(rb), 1, "exactly one rollback record")
    eq(rb[0]["inputs"]["instances"], 3, "decided on three instances")
    expect(rb[0]["inputs"]["canary"]["rq"] >= 60, "the fleet's sum")
    _all_applied(inst, lambda x: x["weights"] == [100, 0], 3,
                 "canary at 0 everywhere")
    for p in inst:
        expect(_view(p)["stats"]["local_rollbacks"] == 0,
               "nobody rolled back alone")
    _finish(inst)


def test_fleet_operator_actions_apply_everywhere(env):
    c = env.etcd(3)
    inst, _ = _fleet(env, c)
    wait_until(lambda: _leader(c), 6, "a leader")
    _all_applied(inst, lambda x: x["rev"] > 0 and not x["local"], 5,
                 "applied")
    worst = 0.0
    for i, op in enumerate(["pause", "resume"] * 5):
        p = inst[i % 3]
        t = time.monotonic()
        p.ok("op web %s wait" % op)
        ev, _ = p.wait_event(lambda e: e["event"] == "op_done", 8, op)
        worst = max(worst, time.monotonic() - t)
        eq(ev["status"], 200, "%s with ?wait=ack: %r" % (op, ev))
        expect("acknowledged by 3" in ev["body"]["result"], ev["body"])
    expect(worst <= 2.0, "slowest acknowledged action %.2fs" % worst)
    ev = None
    inst[0].ok("op web pause")
    inst[0].wait_event(lambda e: e["event"] == "op_done", 8, "pause")
    inst[1].ok("op web pause")
    ev, _ = inst[1].wait_event(lambda e: e["event"] == "op_done", 8,
                               "a second pause")
    eq(ev["status"], 409, "pause of a paused route: %r" % ev)
    inst[2].ok("op nope pause")
    ev, _ = inst[2].wait_event(lambda e: e["event"] == "op_done", 8, "404")
    eq(ev["status"], 404, "unknown route")
    _finish(inst)


def test_fleet_etcd_away_and_back(env):
    c = env.etcd(3)
    inst, _ = _fleet(env, c, names="ab", ttl=3,
                     route=_route(min_requests=30))
    wait_until(lambda: _leader(c), 6, "a leader")
    a, b = inst
    _all_applied(inst, lambda x: x["weights"] == [90, 10], 5, "applied")
    c.stop_all()
    time.sleep(3.5)             # a lease TTL: etcd counts as away
    a.ok("op web promote")
    ev, _ = a.wait_event(lambda e: e["event"] == "op_done", 8, "promote")
    eq(ev["status"], 503, "promote needs the fleet: %r" % ev)
    b.ok("op web pause")
    ev, _ = b.wait_event(lambda e: e["event"] == "op_done", 8, "pause")
    eq(ev["status"], 202, "pause applies here: %r" % ev)
    eq(b.ok("applied web")["local"], True, "b paused locally")
    # a broken canary on a alone: rolled back there within window + 1 s
    t0 = time.monotonic()
    for _ in range(16):
        _traffic([a], rq=40, canary_err=20, seconds=0.5)
        if a.ok("applied web")["weights"] == [100, 0]:
            break
    eq(a.ok("applied web")["weights"], [100, 0], "a rolled back alone")
    expect(time.monotonic() - t0 <= 5.0 + 1.0 + 1.0, "in time")
    eq(b.ok("applied web")["weights"], [90, 10], "b kept its weights")
    c.start_all()
    t1 = time.monotonic()
    # the rollback decided on a and the pause on b reach the fleet
    wait_until(lambda: (_state(c) or {}).get("state") == "rolled_back",
               10, "the fleet rolled back")
    _all_applied(inst, lambda x: x["weights"] == [100, 0] and
                 not x["local"], 6, "converged")
    expect(time.monotonic() - t1 <= 8, "converged %.1fs after etcd "
           "returned" % (time.monotonic() - t1))
    acts = [(h["act"], h["by"]) for h in _history(c)]
    expect(("local", "local") in acts, "history %r" % acts)
    _finish(inst)


def test_fleet_wiped_etcd_gets_the_last_state_back(env):
    c = env.etcd(3)
    inst, _ = _fleet(env, c, names="ab")
    wait_until(lambda: _leader(c), 6, "a leader")
    _all_applied(inst, lambda x: x["rev"] > 0 and not x["local"], 5,
                 "the fleet's state applied")
    inst[0].ok("op web pause")
    ev, _ = inst[0].wait_event(lambda e: e["event"] == "op_done", 8,
                               "pause")
    eq(ev["status"], 200, "pause: %r" % ev)
    _all_applied(inst, lambda x: x["state"] == 1 and not x["local"] and
                 x["weights"] == [90, 10], 5, "paused everywhere")
    t0 = time.monotonic()
    c.wipe_all()
    t1 = time.monotonic()
    wait_until(lambda: _state(c) is not None, 12, "a state in etcd again")
    print("    etcd wiped and restarted empty (%.1f s): the last state back "
          "in etcd %.2f s after it was up" % (t1 - t0,
                                              time.monotonic() - t1))
    st = _state(c)
    eq((st["state"], st["weights"]), ("paused", [90, 10]),
       "the fleet's last state, not the file's start")
    _all_applied(inst, lambda x: x["state"] == 1 and
                 x["weights"] == [90, 10], 5, "still paused at 10 %")
    # a restart without etcd comes back at the snapshot
    c.stop_all()
    inst[1].ok("kill")
    inst[1].ok("start")
    time.sleep(0.5)
    got = inst[1].ok("applied web")
    eq((got["weights"], got["state"], got["local"]), ([90, 10], 1, False),
       "the snapshot's state, before etcd answers")
    c.start_all()
    _finish(inst)
