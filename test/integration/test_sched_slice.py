"""The scheduler slice each worker asks for (canaryd(8),
--worker-slice-us): by default 300 us, read back from the kernel's own
account of the worker (/proc/PID/sched, se.slice); 0 leaves the kernel's
(the master's, which never asks); out of range is refused before
anything starts.  A kernel before 6.12 keeps no slice per task, and a
sandbox may refuse sched_setattr(2): the workers then say so and the
tests are skipped."""

import re

from itestlib import Skip, eq, expect, settle

def _slice_ns(pid):
    with open("/proc/%d/sched" % pid) as f:
        m = re.search(r"^se\.slice\s*:\s*(\d+)", f.read(), re.M)
    if m is None:
        raise Skip("/proc/PID/sched has no se.slice")
    return int(m.group(1))


def _lines(p):
    return [ln for ln in p.output().splitlines()
            if "] scheduler slice: " in ln]


def _start(env, args=()):
    env.start_backends()
    p = env.start_canaryd(env.seed_config(), concurrency=2, args=args)
    settle(lambda: len(_lines(p)), 2, timeout=5.0)
    lines = _lines(p)
    eq(len(lines), 2, "one 'scheduler slice:' line per worker: %r" % lines)
    refused = [ln for ln in lines if "slice: the kernel's (" in ln and
               "(--worker-slice-us 0)" not in ln]
    if refused:
        # a kernel before 6.12, or a sandbox refusing sched_setattr
        raise Skip("the workers could not set a slice: %s" %
                   refused[0].split("] ", 1)[-1])
    return p, lines


def test_workers_ask_for_a_short_slice(env):
    p, lines = _start(env)
    expect(all(ln.endswith("scheduler slice: 300 us") for ln in lines),
           "each worker says its slice: %r" % lines)
    for w in p.workers():
        eq(_slice_ns(w), 300000, "se.slice of worker %d" % w)
    master = _slice_ns(p.pid)
    expect(master != 300000, "the master keeps the kernel's slice "
           "(%d ns)" % master)
    eq(env.get("/api").status, 200, "GET /api")


def test_slice_is_a_knob(env):
    p, lines = _start(env, args=("--worker-slice-us", "1500"))
    for w in p.workers():
        eq(_slice_ns(w), 1500000, "se.slice of worker %d" % w)
    p.stop()
    p = env.start_canaryd(env.seed_config(), concurrency=2,
                          args=("--worker-slice-us", "0"))
    settle(lambda: len(_lines(p)), 2, timeout=5.0)
    lines = _lines(p)
    expect(len(lines) == 2 and
           all(ln.endswith("(--worker-slice-us 0)") for ln in lines),
           "each worker keeps the kernel's: %r" % lines)
    master = _slice_ns(p.pid)
    for w in p.workers():
        eq(_slice_ns(w), master, "se.slice of worker %d, as the "
           "master's" % w)
    for bad in ("99", "100001", "-1", "x"):
        rc, out, err = env.run([env.canaryd_bin, "--worker-slice-us", bad,
                                "-f", env.seed_config()], timeout=10)
        expect(rc != 0 and "--worker-slice-us %s" % bad in err,
               "--worker-slice-us %s refused: rc %s, %r" % (bad, rc, err))
