"""request_mirror_policies: a share of live traffic shadowed to the
canary, written as Envoy's documentation writes it.  The share is exact
per worker (like the split), the shadow's host has "-shadow" appended,
bodies go along, the client always gets the primary's answer, and a
dead or slow shadow cluster costs the primary nothing; the shadow is
counted in the shadow cluster's statistics and in /canary."""

import os
import re
import time

import configs
from itestlib import eq, expect, wait_until

MIRROR_10 = configs.one_vhost("""\
              - match: { prefix: "/" }
                route:
                  cluster: backend_v1
                  request_mirror_policies:
                  - cluster: backend_v2
                    runtime_fraction:
                      default_value:
                        numerator: 10
                        denominator: HUNDRED
""")

MIRROR_ALL = configs.one_vhost("""\
              - match: { prefix: "/" }
                route:
                  cluster: backend_v1
                  request_mirror_policies:
                  - cluster: backend_v2
""")

# A canary route at 100/0 with v2 shadowed: a dark launch in /canary.
DARK = configs.one_vhost("""\
              - match: { prefix: "/" }
                name: api
                route:
                  weighted_clusters:
                    clusters:
                    - { name: backend_v1, weight: 100 }
                    - { name: backend_v2, weight: 0 }
                  request_mirror_policies:
                  - cluster: backend_v2
""")


class Recorder:
    """A backend's --record file: the requests it received."""

    def __init__(self, path):
        self.path = path

    def requests(self):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        while data:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                break
            head = data[:end].decode("latin-1")
            data = data[end + 4:]
            m = re.search(r"(?im)^content-length:\s*(\d+)", head)
            n = int(m.group(1)) if m else 0
            body, data = data[:n], data[n:]
            hm = re.search(r"(?im)^host:\s*(\S+)", head)
            out.append((head.split("\r\n")[0], hm.group(1) if hm else None,
                        body))
        return out


def stat0(env, name):
    """A statistic, 0 while /stats does not list it yet (response codes
    appear with their first response)."""
    st = env.stats()
    return env.stat(name, st) if name in st else 0


def start(env, config, v2_args=(), v1_args=(), concurrency=1, v2=True):
    rec1 = Recorder(os.path.join(env.logdir, "v1.raw"))
    rec2 = Recorder(os.path.join(env.logdir, "v2.raw"))
    for r in (rec1, rec2):
        if os.path.exists(r.path):
            os.unlink(r.path)
    env.start_backend("v1", args=["--record", rec1.path] + list(v1_args))
    if v2:
        env.start_backend("v2", args=["--record", rec2.path] +
                          list(v2_args))
    env.start_canaryd(env.write_config(config), concurrency=concurrency)
    return rec1, rec2


def timed_gets(env, n, what):
    """n keep-alive GETs, each answered by v1; the slowest one's time
    and the time of all (seconds)."""
    c = env.client()
    t_all = time.monotonic()
    worst = 0.0
    for i in range(n):
        t0 = time.monotonic()
        r = c.get("/api?i=%d" % i)
        worst = max(worst, time.monotonic() - t0)
        eq(r.status, 200, "GET with " + what)
        expect(b'"v1"' in r.body, "v1's answer")
    spent = time.monotonic() - t_all
    c.close()
    return worst, spent


def test_ten_percent_exact_with_host_suffix_and_bodies(env):
    rec1, rec2 = start(env, MIRROR_10)
    host = "127.0.0.1:%d" % env.proxy_port
    c = env.client()
    n = 200
    for i in range(n):
        r = c.get("/api?i=%d" % i)
        eq(r.status, 200, "GET")
        expect(b'"v1"' in r.body, "the client gets v1's answer")
    for i in range(20):
        r = c.request("POST", "/submit?i=%d" % i, body=b"b%03d" % i * 10)
        eq(r.status, 200, "POST")
        expect(b'"v1"' in r.body, "the client gets v1's answer")
    c.close()
    total = n + 20
    wait_until(lambda: len(rec2.requests()) >= total // 10, 5.0,
               "v2 saw its share")
    time.sleep(0.2)
    got = rec2.requests()
    eq(len(got), total // 10, "v2 got exactly 10% of the requests")
    eq(len(rec1.requests()), total, "v1 got every request")
    for line, h, _ in got:
        eq(h, "127.0.0.1-shadow:%d" % env.proxy_port,
           "the shadow's host: " + line)
    for line, h, _ in rec1.requests():
        eq(h, host, "the primary's host is untouched")
    # the 10th, 20th, ... request of each kind: the POSTs mirrored are
    # the 10th and 20th of the 220 (i = 9 and 19), bodies and all
    posts = [(ln, b) for ln, _, b in got if ln.startswith("POST")]
    eq([ln.split()[1] for ln, _ in posts], ["/submit?i=9", "/submit?i=19"],
       "mirrored POSTs")
    eq([b for _, b in posts], [b"b009" * 10, b"b019" * 10],
       "mirrored bodies")
    wait_until(lambda: env.stat("cluster.backend_v2.upstream_rq_total") ==
               total // 10, 5.0, "v2 upstream_rq_total")
    eq(env.stat("cluster.backend_v2.canary.shadow"), total // 10,
       "cluster.backend_v2.canary.shadow")
    eq(env.stat("cluster.backend_v2.upstream_rq_200"), total // 10,
       "the shadow's answers counted at v2")
    eq(env.stat("cluster.backend_v1.upstream_rq_total"), total,
       "v1 upstream_rq_total")
    eq(env.stat("http.ingress.downstream_rq_2xx"), total,
       "the clients got one answer each")


def test_dead_or_slow_shadow_costs_the_primary_nothing(env):
    # v2 is not started: every shadow fails to connect
    rec1, _ = start(env, MIRROR_ALL, v1_args=["--delay_ms", "40"], v2=False)
    worst, _ = timed_gets(env, 20, "a dead shadow cluster")
    # a 40 ms primary; a shadow that waited for anything would add at
    # least the connect failure's round trip to every request, and a
    # blocked one would fail it: bound it far above 40 ms, far below 1 s
    expect(worst < 0.5, "worst primary latency %.3fs" % worst)
    wait_until(lambda: env.stat(
        "cluster.backend_v2.upstream_rq_pending_failure_eject") == 20,
        5.0, "20 shadow connect failures counted")
    eq(env.stat("cluster.backend_v2.canary.shadow"), 0, "none was sent")
    eq(env.stat("http.ingress.downstream_rq_5xx"), 0, "no 5xx")


def test_three_second_shadow_does_not_delay(env):
    rec1, rec2 = start(env, MIRROR_ALL, v1_args=["--delay_ms", "40"],
                       v2_args=["--delay_ms", "3000"], concurrency=2)
    worst, spent = timed_gets(env, 10, "a 3 s shadow")
    expect(worst < 1.0, "worst primary latency %.3fs (the shadow takes 3 s)"
           % worst)
    expect(spent < 3.0, "10 requests in %.3fs, not waiting for 3 s "
           "shadows" % spent)
    eq(env.stat("cluster.backend_v2.upstream_rq_active"), 10,
       "the shadows are still in flight")
    wait_until(lambda: stat0(env, "cluster.backend_v2.upstream_rq_200") ==
               10, 8.0, "the shadows' answers arrive and are dropped")
    eq(len(rec2.requests()), 10, "v2 saw every request")
    eq(env.stat("cluster.backend_v2.upstream_rq_active"), 0,
       "nothing in flight")


def test_dark_launch_counted_in_canary(env):
    start(env, DARK, concurrency=2)
    for i in range(30):
        r = env.get("/api?i=%d" % i)
        eq(r.status, 200, "GET")
        expect(b'"v1"' in r.body, "every user gets v1")
    wait_until(lambda: env.stat("cluster.backend_v2.canary.shadow") == 30,
               5.0, "30 shadows")
    doc = env.admin_json("/canary")
    routes = doc["routes"] if isinstance(doc, dict) else doc
    api = [rt for rt in routes if rt["name"] == "api"][0]
    eq(api["weights"], {"backend_v1": 100, "backend_v2": 0}, "weights")
    eq(api["clusters"]["backend_v2"]["shadow_requests"], 30,
       "/canary: v2's mirrored requests")
    eq(api["clusters"]["backend_v1"]["shadow_requests"], 0,
       "/canary: none mirrored to v1")


def test_host_options_and_refusals(env):
    cfg = MIRROR_ALL.replace(
        "                  - cluster: backend_v2\n",
        "                  - cluster: backend_v2\n"
        "                    disable_shadow_host_suffix_append: true\n"
        "                    trace_sampled: false\n", 1)
    rec1, rec2 = start(env, cfg)
    eq(env.get("/x").status, 200, "GET")
    wait_until(lambda: len(rec2.requests()) == 1, 5.0, "the shadow")
    eq(rec2.requests()[0][1], "127.0.0.1:%d" % env.proxy_port,
       "disable_shadow_host_suffix_append: host unchanged")
    bad = MIRROR_ALL.replace(
        "                  - cluster: backend_v2\n",
        "                  - cluster_header: x-mirror-to\n"
        "                    request_headers_mutations: []\n", 1)
    st, _, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                          env.write_config(bad, name="bad.yaml")])
    expect(st != 0, "refused")
    for want in ("request_mirror_policies[0].cluster_header",
                 "request_headers_mutations", "use cluster to name"):
        expect(want in err, "%r in %s" % (want, err))


def test_shadow_cluster_breakers_apply(env):
    cfg = MIRROR_ALL.replace(
        "  - name: backend_v2\n    type: STATIC\n",
        "  - name: backend_v2\n    type: STATIC\n"
        "    circuit_breakers:\n"
        "      thresholds:\n"
        "      - priority: DEFAULT\n"
        "        max_requests: 2\n", 1)
    expect(cfg != MIRROR_ALL, "breakers in the config")
    start(env, cfg, v2_args=["--delay_ms", "1500"])
    c = env.client()
    for i in range(10):
        r = c.get("/api?i=%d" % i)
        eq(r.status, 200, "GET while the shadow cluster is full")
        expect(b'"v1"' in r.body, "v1's answer")
    c.close()
    eq(env.stat("cluster.backend_v2.canary.shadow"), 2,
       "two shadows at once (max_requests 2)")
    eq(env.stat("cluster.backend_v2.upstream_rq_pending_overflow"), 8,
       "the others overflowed")
    eq(env.stat("http.ingress.downstream_rq_2xx"), 10, "every client 200")
    wait_until(lambda: env.stat("cluster.backend_v2.upstream_rq_active")
               == 0, 5.0, "the two finish")


def test_body_past_the_buffer_limit_is_not_mirrored(env):
    rec1, rec2 = start(env, MIRROR_ALL)
    big = 3 * 1024 * 1024
    r = env.request("POST", "/big", body=b"z" * big)
    eq(r.status, 200, "POST of 3 MiB")
    eq(r.header("x-body-bytes"), str(big), "v1 got the whole body")
    r = env.request("POST", "/small", body=b"s" * 1000)
    eq(r.status, 200, "POST of 1000 bytes")
    wait_until(lambda: len(rec2.requests()) == 1, 5.0, "one shadow")
    eq(rec2.requests()[0][0].split()[1], "/small", "only the small body")
    eq(env.stat("cluster.backend_v1.retry_or_shadow_abandoned"), 1,
       "the large one abandoned, counted")
