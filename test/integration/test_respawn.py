"""A worker killed with SIGKILL is replaced, requests keep succeeding, and
the counters never go backwards (canaryd(8): counters survive a worker crash)."""

import os
import signal

from itestlib import TestFailure, V1_BODY, eq, expect, wait_until


def test_worker_respawn_keeps_counters(env):
    n = 2
    env.start_backends()
    p = env.start_canaryd(env.seed_config(), concurrency=n)
    workers = wait_until(lambda: len(p.workers()) == n and p.workers(), 3,
                         "%d workers" % n)
    totals = []

    def sample():
        totals.append(env.stat("http.ingress.downstream_rq_total"))
        return totals[-1]

    for _ in range(20):
        eq(env.get("/health").body, V1_BODY, "GET /health before the kill")
    sample()
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    sample()
    # Within 2 s the victim is gone and a new worker stands in its place.
    try:
        now = wait_until(lambda: (victim not in p.workers() and
                                  len(p.workers()) == n and p.workers()),
                         2.0, "a new worker replacing pid %d" % victim)
    except TestFailure:
        raise TestFailure("2s after killing worker %d the workers are %r" %
                          (victim, p.workers()))
    expect(set(now) - set(workers), "no new worker pid (%r, was %r)" %
           (now, workers))
    sample()
    for i in range(20):
        r = env.get("/health")
        eq((r.status, r.body), (200, V1_BODY), "GET /health %d after "
           "the respawn" % i)
        if i % 5 == 0:
            sample()
    wait_until(lambda: sample() >= totals[0] + 20, 2.0,
               "downstream_rq_total to count the 20 new requests")
    for a, b in zip(totals, totals[1:]):
        expect(b >= a, "downstream_rq_total went backwards: %r" % totals)
    expect(p.alive(), "canaryd master died")


def test_crash_loop_backs_off_and_recovers(env):
    env.start_backends()
    p = env.start_canaryd(env.seed_config(), concurrency=1)
    killed = []
    # kill each new worker as soon as it shows up: quick deaths in a row
    for _ in range(3):
        pid = wait_until(lambda: [w for w in p.workers()
                                  if w not in killed] or None, 3,
                         "a new worker")[0]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
    wait_until(lambda: "crashing in a loop" in p.output(), 3,
               "the crash loop logged at critical")
    # the back-off is bounded: a worker comes back and serves
    wait_until(lambda: [w for w in p.workers() if w not in killed] or None,
               5, "a worker after the back-off")
    r = env.get("/health")
    eq((r.status, r.body), (200, V1_BODY), "GET /health after the back-off")
    expect("[critical]" in p.output(), "a critical line in the log")
