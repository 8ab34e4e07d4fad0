"""The user's config, unchanged but for ports: the exact 90/10 split and
the /health route (RUN-STEPS.md steps 3 and 5)."""

from itestlib import eq


def split_check(env, concurrency):
    env.start_backends()
    env.start_canaryd(env.seed_config(), concurrency=concurrency)
    # New connection per request, like the user's curl loop: requests
    # land on different workers, and the split must still be exact.
    eq(env.versions(20), {"v1": 18, "v2": 2}, "first 20 GET /api")
    eq(env.versions(100), {"v1": 90, "v2": 10}, "next 100 GET /api")


def test_split_is_exact_concurrency_2(env):
    split_check(env, 2)


def test_split_is_exact_concurrency_4(env):
    split_check(env, 4)


def test_health_route_always_v1(env):
    env.start_backends()
    env.start_canaryd(env.seed_config(), concurrency=2)
    eq(env.versions(50, path="/health"), {"v1": 50}, "50 GET /health")
