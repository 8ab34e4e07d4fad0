"""Envoy's runtime, run from Envoy's own style of config
(test/configs/envoy-docs/runtime-shifting.yaml): GET /runtime and POST
/runtime_modify with Envoy's formats, weights from runtime keys applied
across all workers at once (the exact split restarting its period), a
runtime_fraction's per-request draw, /canary showing the weights, the
runtime.* stats, and the admin layer kept across a worker respawn and a
SIGHUP, lost on a restart."""

import os
import signal

import configs
from itestlib import eq, expect, settle, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "test", "configs", "envoy-docs")
SHIFT = {"Host": "shift.example.com"}
PREFIX = "routing.traffic_split.helloworld."


def start(env, concurrency=2):
    env.start_backends()
    cfg = env.file_config(os.path.join(DOCS, "runtime-shifting.yaml"))
    return cfg, env.start_canaryd(cfg, concurrency=concurrency)


def modify(env, query):
    return env.admin("/runtime_modify?" + query, method="POST")


def test_runtime_page_and_modify_are_envoys(env):
    start(env)
    rt = env.admin_json("/runtime")
    eq(rt["layers"], ["static_layer_0", "admin_layer_0"], "layers")
    eq(rt["entries"][PREFIX + "helloworld_v1"],
       {"final_value": "90", "layer_values": ["90", ""]}, "an entry")
    eq(sorted(rt["entries"]), ["routing.traffic_shift.helloworld",
                               PREFIX + "helloworld_v1",
                               PREFIX + "helloworld_v2"], "keys")
    r = env.admin("/runtime")
    expect(r.text.startswith('{\n "entries": {\n  "routing.'),
           "Envoy's layout (1-space indent, keys sorted):\n" + r.text)
    eq(r.header("content-type"), "application/json", "content type")

    before = env.stat("runtime.load_success")
    r = modify(env, PREFIX + "helloworld_v2=25&new.key=x%20y")
    eq((r.status, r.text), (200, "OK\n"), "POST /runtime_modify")
    rt = env.admin_json("/runtime")
    eq(rt["entries"][PREFIX + "helloworld_v2"],
       {"final_value": "25", "layer_values": ["10", "25"]},
       "the admin layer over the static one")
    eq(rt["entries"]["new.key"]["final_value"], "x y", "decoded value")
    stats = env.stats()
    eq(env.stat("runtime.load_success", stats) - before, 1,
       "runtime.load_success")
    eq(env.stat("runtime.admin_overrides_active", stats), 1,
       "runtime.admin_overrides_active")
    eq(env.stat("runtime.num_keys", stats), 4, "runtime.num_keys")
    eq(env.stat("runtime.num_layers", stats), 2, "runtime.num_layers")
    # an empty value removes the override
    eq(modify(env, "new.key=&" + PREFIX + "helloworld_v2=").status, 200,
       "removing overrides")
    eq(env.stat("runtime.admin_overrides_active"), 0,
       "no override left")
    eq("new.key" in env.admin_json("/runtime")["entries"], False,
       "new.key removed")
    # Envoy's answers to a bad call
    r = modify(env, "")
    eq(r.status, 400, "no parameters")
    expect(r.text.startswith("usage: /runtime_modify?key1=value1"),
           "usage text: %r" % r.text)
    eq(env.admin("/runtime_modify?a=b").status, 405, "GET runtime_modify")


def test_runtime_weights_apply_at_once_in_every_worker(env):
    start(env, concurrency=2)
    eq(env.versions(20, path="/hello"), {"v1": 18, "v2": 2},
       "90/10 from the static layer")
    eq(modify(env, PREFIX + "helloworld_v1=50&" + PREFIX +
              "helloworld_v2=50").status, 200, "POST /runtime_modify")
    # exact across both workers: the period restarted on the new weights
    eq(env.versions(20, path="/hello"), {"v1": 10, "v2": 10},
       "50/50 after runtime_modify")
    canary = env.admin_json("/canary")["routes"][0]
    eq((canary["weights"], canary["runtime_key_prefix"]),
       ({"helloworld_v1": 50, "helloworld_v2": 50},
        "routing.traffic_split.helloworld"), "/canary weights")
    # a key that is no number: that cluster's file weight (50)
    eq(modify(env, PREFIX + "helloworld_v1=none").status, 200,
       "non-numeric runtime value")
    eq(env.versions(10, path="/hello"), {"v1": 5, "v2": 5},
       "file weight for a non-numeric key")


def test_runtime_fraction_shifts_traffic(env):
    start(env)
    # 100 %: the first route takes everything
    eq(count_shift(env, 20), {"v1": 20}, "runtime_fraction at 100")
    eq(modify(env, "routing.traffic_shift.helloworld=0").status, 200,
       "shift to 0")
    eq(count_shift(env, 20), {"v2": 20}, "runtime_fraction at 0")
    eq(modify(env, "routing.traffic_shift.helloworld=50").status, 200,
       "shift to 50")
    got = count_shift(env, 200)
    expect(60 <= got.get("v1", 0) <= 140 and
           got.get("v1", 0) + got.get("v2", 0) == 200,
           "runtime_fraction at 50: a draw per request, %r" % got)
    # a fraction value, as Envoy's FractionalPercent
    eq(modify(env, "routing.traffic_shift.helloworld=%7Bnumerator%3A%201"
              "%2C%20denominator%3A%20MILLION%7D").status, 200,
       "a fractional percent")
    got = count_shift(env, 30)
    expect(got.get("v2", 0) >= 29, "1 in a million: %r" % got)


def count_shift(env, n):
    count = {}
    for _ in range(n):
        r = env.get("/shift", headers=SHIFT)
        key = r.json()["version"] if r.status == 200 else r.status
        count[key] = count.get(key, 0) + 1
    return count


def test_admin_layer_survives_respawn_and_sighup(env):
    cfg, p = start(env, concurrency=2)
    eq(modify(env, PREFIX + "helloworld_v1=0").status, 200, "v1 to 0")
    eq(env.versions(10, path="/hello"), {"v2": 10}, "all to v2")
    workers = wait_until(lambda: len(p.workers()) == 2 and p.workers(), 3,
                         "2 workers")
    os.kill(workers[0], signal.SIGKILL)
    wait_until(lambda: workers[0] not in p.workers() and
               len(p.workers()) == 2, 3, "a new worker")
    eq(env.versions(10, path="/hello"), {"v2": 10},
       "the new worker reads the weights from shm")
    # SIGHUP with a changed file: the admin layer stays on top
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("helloworld_v2: 10", "helloworld_v2: 30"))
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1)
    rt = env.admin_json("/runtime")
    eq(rt["entries"][PREFIX + "helloworld_v1"]["layer_values"],
       ["90", "0"], "admin value kept across SIGHUP")
    eq(rt["entries"][PREFIX + "helloworld_v2"]["final_value"], "30",
       "the file's new static value")
    eq(env.versions(10, path="/hello"), {"v2": 10}, "still all to v2")
    # a restart loses the admin layer, as Envoy's (cold) restart does
    p.stop()
    env.start_canaryd(cfg, concurrency=1)
    eq(env.admin_json("/runtime")["entries"][PREFIX + "helloworld_v1"],
       {"final_value": "90", "layer_values": ["90", ""]},
       "no admin value after a restart")
    eq(env.stat("runtime.admin_overrides_active"), 0, "no override")
    eq(env.versions(8, path="/hello"), {"v1": 6, "v2": 2},
       "the file's 90/30 split again")


NO_ADMIN = configs.ALL_TO_V1.replace(
    "static_resources:\n",
    "layered_runtime:\n  layers:\n"
    "  - { name: base, static_layer: { a: { b: 1 } } }\n"
    "static_resources:\n", 1)


def test_without_an_admin_layer_runtime_modify_is_503(env):
    env.start_backends()
    env.start_canaryd(env.write_config(NO_ADMIN), concurrency=1)
    r = modify(env, "a.b=2")
    eq((r.status, r.text), (503, "No admin layer specified"),
       "runtime_modify without an admin layer")
    eq(env.admin_json("/runtime")["entries"]["a.b"],
       {"final_value": "1", "layer_values": ["1"]}, "the static value")
