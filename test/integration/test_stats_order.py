"""/stats and /stats/prometheus keep the order of their clusters and of each
cluster's stats from one page to the next, sorted once per configuration:
after a structural reload that removes clusters and adds others, both
pages show exactly the new set, still sorted by name (byte order), with
the per status code counters of a new cluster in their places."""

import os
import re
import signal
import sys

from itestlib import eq, expect, parse_stats, settle

HERE = os.path.dirname(os.path.abspath(__file__))
BIGCONF = os.path.join(HERE, "..", "..", "tools", "bench", "bigconf.py")
N = 30


def conf(env, ports):
    argv = [sys.executable, BIGCONF, "--clusters", str(N), "--endpoints",
            "3", "--weighted", "3", "--listen-port", str(env.proxy_port),
            "--admin-port", str(env.admin_port),
            "--ports", ",".join(str(p) for p in ports)]
    st, out, err = env.run(argv, timeout=60)
    eq(st, 0, "bigconf.py: %s" % err)
    path = os.path.join(env.logdir, "order.yaml")
    with open(path, "w") as f:
        f.write(out)
    return path


def text_page(env):
    """The names of /stats (counters and gauges, then histograms), each
    part checked sorted by bytes; the clusters that have stats."""
    r = env.admin("/stats")
    eq(r.status, 200, "/stats")
    lines = r.text.split("\n")[:-1]
    plain = [x for x in lines if re.match(r"^[^ :]+: [0-9]+$", x)]
    hist = lines[len(plain):]
    names = [x.split(":")[0].encode() for x in plain]
    expect(names == sorted(names), "/stats sorted by name")
    hnames = [x.split(":")[0].encode() for x in hist]
    expect(hnames == sorted(hnames), "/stats histograms sorted by name")
    got = set(m.group(1) for m in (re.match(
        r"^cluster\.([^.]+)\.upstream_rq_total$", x.decode()) for x in names)
        if m)
    return r.text, got


def prom_page(env):
    """The clusters of /stats/prometheus, in the order of one family
    (by name), each family's "# TYPE" line once."""
    r = env.admin("/stats/prometheus")
    eq(r.status, 200, "/stats/prometheus")
    fams = re.findall(r"^# TYPE (\S+) ", r.text, re.M)
    eq(len(fams), len(set(fams)), "a # TYPE line per family")
    order = re.findall(r'^envoy_cluster_upstream_rq_total\{'
                       r'envoy_cluster_name="([^"]+)"\}', r.text, re.M)
    expect([x.encode() for x in order] == sorted(x.encode() for x in order),
           "one family's clusters by name: %r" % order)
    return set(order)


def counted(env, cl):
    """Once the worker counted cl's one response."""
    settle(lambda: parse_stats(env.admin(
        "/stats?filter=%s.upstream_rq_200$" % cl).text).get(
        "cluster.%s.upstream_rq_200" % cl), 1, timeout=5.0)


def test_stats_order_follows_a_structural_reload(env):
    b = [env.start_backend("v1"), env.start_backend("v2"),
         env.start_backend("v3")]
    cfg = conf(env, [x.port for x in b])
    p = env.start_canaryd(cfg, concurrency=1)
    eq(env.get("/c5/x").status, 200, "GET /c5/x")
    counted(env, "c5")
    first = set("c%d" % i for i in range(N))
    # twice: the second page comes from the order the first one sorted
    for _ in range(2):
        text, got = text_page(env)
        eq(got, first, "/stats clusters")
        eq(prom_page(env), first, "/stats/prometheus clusters")
    expect("\ncluster.c5.upstream_rq_200: 1\n" in text, "c5's 200")

    # c5 and c12 go; b5 and zz12 come (first and last by name)
    with open(cfg) as f:
        y = f.read()
    y = re.sub(r"\bc5\b", "b5", y)
    y = re.sub(r"\bc12\b", "zz12", y)
    with open(cfg, "w") as f:
        f.write(y)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: parse_stats(env.admin("/stats?filter=config_reload$")
                               .text).get("server.config_reload"), 1,
           timeout=10.0)
    now = (first - {"c5", "c12"}) | {"b5", "zz12"}
    # the new routes exist once the new configuration runs
    settle(lambda: "cluster.b5.upstream_rq_total" in env.admin(
        "/stats?filter=b5.upstream_rq_total$").text, True, timeout=10.0)
    eq(env.get("/b5/x").status, 200, "GET /b5/x")
    eq(env.get("/zz12/x").status, 200, "GET /zz12/x")
    counted(env, "b5")
    counted(env, "zz12")
    text, got = text_page(env)
    eq(got, now, "/stats clusters after the reload")
    eq(prom_page(env), now, "/stats/prometheus clusters after the reload")
    expect("\ncluster.b5.upstream_rq_200: 1\n" in text and
           "\ncluster.zz12.upstream_rq_200: 1\n" in text,
           "the new clusters' codes in their places")
    expect("cluster.c5." not in text and "cluster.c12." not in text,
           "no stat of a removed cluster")
