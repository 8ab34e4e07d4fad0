"""Rollout decisions survive reloads and restarts (canaryd(8), FILES:
the state file in --state-dir).  A canary rolled back for failing stays
at weight 0 and rolled_back through a SIGHUP with the file unchanged, a
structural reload and a restart, and no request reaches it; a change of
the canary cluster's endpoints starts a fresh rollout; a corrupt state
file is reported loudly and canaryd starts from the configuration."""

import os
import signal

from itestlib import eq, expect, settle, wait_until
from test_rollout import Load, rollout_config, route

EXTRA = """\
              - match: { prefix: "/extra" }
                route: { cluster: backend_v1 }
"""


def state_file(env):
    return os.path.join(env.logdir, "rollout.state")


def roll_back(env, v2):
    """Fail the canary under load until the engine rolls it back."""
    load = Load(env, threads=4, rate=400, max_s=20)
    try:
        v2.ctl(fail_rate=30)
        wait_until(lambda: route(env)["rollout"]["state"] == "rolled_back",
                   12, "the failing canary rolled back", interval=0.1)
    finally:
        load.stop()
    v2.ctl(fail_rate=0)


def v2_requests(v2):
    return v2.stats()["requests"]


def assert_rolled_back(env, v2, what):
    r = route(env)
    eq((r["rollout"]["state"], r["weights"]),
       ("rolled_back", {"backend_v1": 100, "backend_v2": 0}), what)
    before = v2_requests(v2)
    eq(env.versions(200), {"v1": 200}, "200 GET /api " + what)
    eq(v2_requests(v2) - before, 0, "requests at the canary " + what)
    return r


def reload_and_wait(env, p, n):
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), n)
    eq(env.stat("server.config_reload"), n, "server.config_reload")


def test_rollback_survives_reloads_and_a_restart(env):
    v1, v2 = env.start_backends()
    cfg = rollout_config(env, 80, 20, steps="[20, 50, 100]", interval="60s",
                         window="2s", min_requests=50)
    p = env.start_canaryd(cfg, concurrency=2)
    roll_back(env, v2)
    r = assert_rolled_back(env, v2, "after the rollback")
    eq(r["rollout"]["origin"], "decided here", "origin of the state")
    expect(os.path.exists(state_file(env)), "the state file was written")

    # the file unchanged, as config management reloads routinely
    reload_and_wait(env, p, 1)
    r = assert_rolled_back(env, v2, "after a SIGHUP with the same file")
    eq(r["rollout"]["origin"], "kept across a reload", "origin")

    # a structural change elsewhere: a new generation keeps it too
    with open(cfg) as f:
        text = f.read()
    text = text.replace("              - match: { prefix: \"/\" }\n",
                        EXTRA + "              - match: { prefix: \"/\" }\n",
                        1)
    with open(cfg, "w") as f:
        f.write(text)
    reload_and_wait(env, p, 2)
    expect("reload: new generation of workers" in p.output(),
           "the second reload was structural")
    assert_rolled_back(env, v2, "after a structural reload")

    # a restart: the state file brings it back
    p.stop()
    p = env.start_canaryd(cfg, concurrency=2)
    r = assert_rolled_back(env, v2, "after a restart")
    eq(r["rollout"]["origin"], "from the state file", "origin")
    expect("rollout rolled_back at 0.0% (from the state file)" in
           p.output(), "the restored state logged:\n" + p.output()[-1500:])

    # only an operator brings it back
    j = env.admin("/canary/web/resume", method="POST").json()
    eq((j["rollout"]["state"], j["weights"]),
       ("progressing", {"backend_v1": 80, "backend_v2": 20}),
       "resume after the restart")


def test_changed_canary_cluster_starts_a_fresh_rollout(env):
    v1, v2 = env.start_backends()
    cfg = rollout_config(env, 80, 20, steps="[20, 50, 100]", interval="60s",
                         window="2s", min_requests=50)
    p = env.start_canaryd(cfg, concurrency=2)
    eq(env.admin("/canary/web/rollback", method="POST").status, 200,
       "rollback")
    eq(route(env)["weights"]["backend_v2"], 0, "canary weight")

    # the canary's endpoints change: a new build on a new port
    v2b = env.start_backend("v2b")
    with open(cfg) as f:
        text = f.read()
    old = "port_value: %d }" % env.v2_port
    expect(old in text, "the canary endpoint in the config")
    with open(cfg, "w") as f:
        f.write(text.replace(old, "port_value: %d }" % v2b.port))
    reload_and_wait(env, p, 1)
    r = route(env)
    eq((r["rollout"]["state"], r["weights"]),
       ("progressing", {"backend_v1": 80, "backend_v2": 20}),
       "a fresh rollout from the file's weights")
    expect(r["rollout"]["origin"].startswith("the configuration"),
           "origin: %r" % r["rollout"]["origin"])
    expect("the rollout block or the canary/stable clusters changed: a "
           "fresh rollout" in p.output(), "the reason logged:\n" +
           p.output()[-1500:])


def test_corrupt_state_file_starts_from_the_config(env):
    env.start_backends()
    cfg = rollout_config(env, 80, 20, steps="[20, 50, 100]", interval="60s")
    with open(state_file(env), "w") as f:
        f.write("canaryd-rollout-state 1\nroute web not a route line\n")
    p = env.start_canaryd(cfg, concurrency=2)
    r = route(env)
    eq((r["rollout"]["state"], r["weights"]),
       ("progressing", {"backend_v1": 80, "backend_v2": 20}),
       "state from the configuration")
    log = p.output()
    expect("rollout state unusable" in log and "rollout.state:2: not a "
           "route line" in log and "[critical]" in log,
           "the corrupt file reported loudly:\n" + log[-1500:])
    # a decision replaces the bad file with a good one
    eq(env.admin("/canary/web/pause", method="POST").status, 200, "pause")
    with open(state_file(env)) as f:
        lines = f.read().splitlines()
    eq(lines[0], "canaryd-rollout-state 1", "state file header")
    expect(len(lines) == 2 and lines[1].startswith("route web ") and
           " paused " in lines[1], "state file now: %r" % lines)
    # an unreadable directory: canaryd still starts and serves
    p.stop()
    p = env.start_canaryd(cfg, concurrency=2,
                          args=("--state-dir", "/proc/nonexistent/x"))
    eq(sum(env.versions(10).values()), 10, "answers without a usable "
       "state directory")
    eq(env.admin("/canary/web/pause", method="POST").status, 200,
       "pause without a usable state directory")
    expect("cannot write the rollout state in /proc/nonexistent/x" in
           p.output(), "the write failure logged:\n" + p.output()[-1500:])
