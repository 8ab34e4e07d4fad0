"""A configuration of 10,000 clusters of 3 endpoints and 10,001 routes,
1,000 of them weighted, made by tools/bench/bigconf.py: it validates,
loads (the shm segment sized from it), serves the first and the last
cluster and a weighted route at its exact split, answers every admin
page (/stats, /stats/prometheus, /clusters, /config_dump, /canary),
takes a weight-only reload in place and a structural one (one more
cluster), and refuses nothing for its size.  Times and memory are
printed for the record, never asserted (the box is shared)."""

import http.client
import json
import re
import os
import signal
import sys
import threading
import time

from itestlib import eq, expect, parse_stats, request, settle

SERIAL = True
# the size; a sanitizer build (make SANITIZE=1 test) runs the same
# steps at a fifth of it: the code paths are the same, ASan's cost is not
SANITIZED = os.environ.get("ITEST_SANITIZED") == "1"
N = 2000 if SANITIZED else 10000
WEIGHTED = 200 if SANITIZED else 1000
LAST = "c%d" % (N - 1)
NEW = "c%d" % N
HERE = os.path.dirname(os.path.abspath(__file__))
BIGCONF = os.path.join(HERE, "..", "..", "tools", "bench", "bigconf.py")
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "bench"))
from clusters import rollup, shmem_kb  # noqa: E402  (the bench's /proc readers)


def bigconf(env, ports, name="big.yaml", **kw):
    argv = [sys.executable, BIGCONF, "--clusters", str(kw.get("n", N)),
            "--endpoints", "3", "--weighted", str(WEIGHTED),
            "--listen-port", str(env.proxy_port),
            "--admin-port", str(env.admin_port),
            "--ports", ",".join(str(p) for p in ports),
            "--weights-seed", str(kw.get("seed", 0))]
    st, out, err = env.run(argv, timeout=120)
    eq(st, 0, "bigconf.py: %s" % err)
    path = os.path.join(env.logdir, name)
    with open(path + ".tmp", "w") as f:
        f.write(out)
    os.replace(path + ".tmp", path)
    return path


def split(env, n, path="/c0/x"):
    """n GETs on route r0 (c0 90 - seed, c1 the rest): the requests each
    cluster took, from /stats."""
    def two():
        r = page(env, "/stats?filter=^cluster%5C.c[01]%5C."
                      "upstream_rq_total$")
        eq(r.status, 200, "/stats?filter=")
        s = parse_stats(r.text)
        return [s.get("cluster.%s.upstream_rq_total" % cl, 0)
                for cl in ("c0", "c1")]
    before = two()
    c = env.client()
    for _ in range(n):
        eq(c.get(path).status, 200, "GET %s" % path)
    c.close()
    settle(lambda: sum(two()) - sum(before), n, timeout=5.0)
    return [x - y for x, y in zip(two(), before)]


def timed(fn):
    t0 = time.monotonic()
    v = fn()
    return v, time.monotonic() - t0


def page(env, path):
    """An admin page of the whole configuration: slow under sanitizers.
    A page streamed while a reload puts a new configuration in force is
    cut short (canaryd(8): ask again), and this file's polls run across
    reloads: asked again, at most twice."""
    for _ in range(2):
        try:
            return request(env.admin_port, "GET", path, timeout=300)
        except http.client.IncompleteRead:
            pass
    return request(env.admin_port, "GET", path, timeout=300)


def check_stats_text(r):
    """/stats streamed (chunked) and whole: "name: value" lines sorted by
    name, then the histograms sorted, every cluster's there."""
    eq(r.status, 200, "/stats")
    eq(r.header("transfer-encoding"), "chunked", "/stats is streamed")
    lines = r.text.split("\n")
    eq(lines[-1], "", "/stats ends with a newline")
    plain = [x for x in lines[:-1] if not x.endswith(")") and
             not x.endswith("No recorded values")]
    hist = lines[len(plain):-1]
    for x in plain:
        expect(re.match(r"^[^ :]+: [0-9]+$", x) is not None,
               "/stats line %r" % x)
    names = [x.split(":")[0] for x in plain]
    expect(names == sorted(names), "/stats sorted by name")
    hnames = [x.split(":")[0] for x in hist]
    expect(hnames == sorted(hnames) and len(hnames) >= N,
           "/stats histograms sorted, one per cluster")
    totals = set(x for x in names if x.endswith(".upstream_rq_total"))
    expect(all("cluster.c%d.upstream_rq_total" % i in totals
               for i in range(N)), "/stats: every cluster's upstream_rq_total")


def check_stats_prom(r):
    """/stats/prometheus streamed and whole: a "# TYPE" line once per
    family, each family's series together, every cluster's there."""
    eq(r.status, 200, "/stats/prometheus")
    eq(r.header("transfer-encoding"), "chunked", "/stats/prometheus streamed")
    seen, fam, got = set(), None, set()
    for x in r.text.split("\n")[:-1]:
        if x.startswith("# TYPE "):
            fam = x.split()[2]
            expect(fam not in seen, "family %s once" % fam)
            seen.add(fam)
            continue
        expect(re.match(r"^[a-zA-Z_0-9]+\{[^}]*\} [0-9.e+-]+$", x)
               is not None, "/stats/prometheus line %r" % x)
        expect(x.startswith(fam), "%r in its family %s" % (x, fam))
        if x.startswith("envoy_cluster_upstream_rq_total{"):
            got.add(x.split('"')[1])
    expect(all("c%d" % i in got for i in range(N)),
           "/stats/prometheus: every cluster's upstream_rq_total")


def ready_during(env, fn):
    """The longest /ready took while fn ran (printed, not judged: timing
    on a shared box is noise)."""
    stop, lat = threading.Event(), []

    def poll():
        while not stop.is_set():
            t0 = time.monotonic()
            request(env.admin_port, "GET", "/ready", timeout=300)
            lat.append(time.monotonic() - t0)
            stop.wait(0.01)

    th = threading.Thread(target=poll)
    th.start()
    try:
        v = fn()
    finally:
        stop.set()
        th.join()
    return v, max(lat) if lat else 0.0


def check_admin(env):
    (r, t) = timed(lambda: page(env, "/stats"))
    check_stats_text(r)
    print("    /stats: %d lines in %.3f s" % (r.text.count("\n"), t))
    (r, worst) = ready_during(env, lambda: page(env, "/stats"))
    eq(r.status, 200, "/stats")
    print("    /ready at worst %.0f ms while /stats was sent" %
          (worst * 1000))
    js = json.loads(page(env, "/stats?format=json").text)
    got = set(x["name"] for x in js["stats"] if "name" in x)
    expect(all("cluster.c%d.upstream_rq_total" % i in got for i in range(N)),
           "/stats?format=json: every cluster's upstream_rq_total")
    (r, t) = timed(lambda: page(env, "/stats/prometheus"))
    check_stats_prom(r)
    print("    /stats/prometheus: %d lines in %.3f s" %
          (r.text.count("\n"), t))
    (r, worst) = ready_during(env, lambda: page(env, "/stats/prometheus"))
    eq(r.status, 200, "/stats/prometheus")
    print("    /ready at worst %.0f ms while /stats/prometheus was sent" %
          (worst * 1000))
    (r, worst) = ready_during(env, lambda: page(env, "/clusters"))
    eq(r.status, 200, "/clusters")
    print("    /ready at worst %.0f ms while /clusters was sent" %
          (worst * 1000))
    (r, worst) = ready_during(env, lambda: page(env, "/config_dump"))
    eq(r.status, 200, "/config_dump")
    print("    /ready at worst %.0f ms while /config_dump was sent" %
          (worst * 1000))
    (r, t) = timed(lambda: page(env, "/clusters"))
    eq(r.status, 200, "/clusters")
    expect(("\n%s::" % LAST) in r.text and "\nc0::" in r.text,
           "/clusters lists the first and the last cluster")
    print("    /clusters: %d lines in %.3f s" % (r.text.count("\n"), t))
    (r, t) = timed(lambda: page(env, "/config_dump"))
    eq(r.status, 200, "/config_dump")
    dump = json.loads(r.text)
    names = set()
    for c in dump["configs"]:
        for s in c.get("static_clusters", []):
            names.add(s["cluster"]["name"])
    expect(len(names) >= N, "/config_dump: %d clusters" % len(names))
    print("    /config_dump: %d bytes in %.3f s" % (len(r.body), t))
    (r, t) = timed(lambda: page(env, "/canary"))
    eq(r.status, 200, "/canary")
    routes = r.json()["routes"]
    eq(len(routes), WEIGHTED, "/canary routes")
    print("    /canary: %d routes in %.3f s" % (len(routes), t))
    return {x["name"]: x["weights"] for x in routes}


def memory(p):
    """shm resident (the master's mapping of it) and workers' private
    memory, kB, from /proc (the bench's readers)."""
    ws = [rollup(w) for w in p.workers()]
    return shmem_kb(p.pid), [w["Private_Dirty"] + w.get("Private_Clean", 0)
                             for w in ws], [w["Rss"] for w in ws]


def test_ten_thousand_clusters(env):
    b = [env.start_backend("v1"), env.start_backend("v2"),
         env.start_backend("v3")]
    ports = [x.port for x in b]
    cfg = bigconf(env, ports)
    (res, t) = timed(lambda: env.run([env.canaryd_bin, "--mode", "validate",
                                      "-f", cfg], timeout=60))
    eq(res[0], 0, "validate: %s" % res[2])
    print("    validate: %.3f s (%d bytes)" % (t, os.path.getsize(cfg)))
    (p, t) = timed(lambda: env.start_canaryd(cfg, concurrency=2))
    print("    start to ready: %.3f s" % t)

    for path in ("/c0/x", "/%s/x" % LAST, "/c500/x", "/"):
        eq(env.get(path).status, 200, "GET %s" % path)
    eq(split(env, 100), [90, 10], "route r0's exact split")
    weights = check_admin(env)
    eq(weights["r0"], {"c0": 90, "c1": 10}, "/canary weights of r0")
    shm, priv, rss = memory(p)
    print("    shm resident %d kB (%.0f B per cluster); workers' private "
          "%s kB (%.0f B per cluster each), RSS %s kB" %
          (shm, shm * 1024.0 / N, priv, max(priv) * 1024.0 / N, rss))

    # weights only: the same structure, every weighted route moved
    bigconf(env, ports, seed=5)
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: page(env, "/canary").json()["routes"][0]["weights"],
           {"c0": 85, "c1": 15}, timeout=30.0)
    print("    weight-only reload: SIGHUP to the new split in /canary "
          "%.3f s" % (time.monotonic() - t0))
    pat = r"new weights in place \(([0-9.]+) ms after SIGHUP\)"
    settle(lambda: re.search(pat, p.output()) is not None, True)
    m = re.search(pat, p.output())
    print("    weight-only reload: the master's SIGHUP to the weights in "
          "shm %s ms" % (m.group(1) if m else "?"))
    eq(parse_stats(page(env, "/stats?filter=config_reload$").text).get(
        "server.config_reload"), 1, "server.config_reload")
    expect("new weights in place" in p.output(),
           "the reload kept the workers")
    eq(split(env, 100), [85, 15], "route r0's split after the reload")

    # structural: one more cluster and its route
    bigconf(env, ports, n=N + 1, seed=5)
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGHUP)
    # the file is parsed beside the master's loop: while it is, the admin
    # answers (a loop held by the parse would answer only after it, and
    # never show reload_loading true)
    seen = None
    while time.monotonic() - t0 < 60 and seen is None:
        r = page(env, "/server_info")
        if json.loads(r.text)["canaryd"]["reload_loading"]:
            seen = page(env, "/ready").status
    eq(seen, 200, "/ready while the new file is parsed (server_info "
       "reload_loading)")
    # the new cluster exists once the new configuration runs (before,
    # the new route falls through to "/")
    settle(lambda: ("cluster.%s.upstream_rq_total" % NEW) in page(env,
        "/stats?filter=%s.upstream_rq_total$" % NEW).text, True,
        timeout=60.0)
    print("    structural reload: SIGHUP to the new configuration running "
          "%.3f s" % (time.monotonic() - t0))
    eq(settle(lambda: parse_stats(page(env, 
        "/stats?filter=config_reload$").text).get("server.config_reload"),
        2, timeout=10.0), 2, "server.config_reload")
    for path in ("/c0/x", "/%s/x" % LAST, "/%s/x" % NEW):
        eq(env.get(path).status, 200, "GET %s after the reload" % path)
    eq(settle(lambda: parse_stats(page(env,
        "/stats?filter=%s.upstream_rq_total$" % NEW).text).get(
        "cluster.%s.upstream_rq_total" % NEW), 1, timeout=5.0), 1,
       "the new cluster took its route's request")
    eq(split(env, 100), [85, 15], "route r0's split, new generation")
    check_admin(env)


test_ten_thousand_clusters.timeout = 900


def test_sighup_while_the_file_is_read(env):
    """The master parses a reload's file beside its loop: a SIGHUP that
    comes meanwhile is not lost but reads the file again once the first
    read ends, so the newest file wins (here: a structural change, then
    new weights on top of it)."""
    b = [env.start_backend("v1"), env.start_backend("v2"),
         env.start_backend("v3")]
    ports = [x.port for x in b]
    cfg = bigconf(env, ports, name="two.yaml", n=2000)
    grown = bigconf(env, ports, name="grown.yaml", n=2001)
    moved = bigconf(env, ports, name="moved.yaml", n=2001, seed=5)
    p = env.start_canaryd(cfg, concurrency=1)
    os.replace(grown, cfg)
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGHUP)
    loading = False
    while time.monotonic() - t0 < 60 and not loading:
        loading = json.loads(page(env, "/server_info").text)[
            "canaryd"]["reload_loading"]
    eq(loading, True, "/server_info while the structural file is read")
    os.replace(moved, cfg)
    os.kill(p.pid, signal.SIGHUP)
    eq(settle(lambda: "is being read; it is read again after" in
              p.output(), True, timeout=30.0), True,
       "the second SIGHUP waits for the first read")
    settle(lambda: page(env, "/canary").json()["routes"][0]["weights"],
           {"c0": 85, "c1": 15}, timeout=60.0)
    eq(settle(lambda: parse_stats(page(env,
        "/stats?filter=config_reload$").text).get("server.config_reload"),
        2, timeout=30.0), 2, "server.config_reload: both reloads")
    eq(env.get("/c2000/x").status, 200, "GET /c2000/x (the new cluster)")
    eq(settle(lambda: parse_stats(page(env,
        "/stats?filter=c2000.upstream_rq_total$").text).get(
        "cluster.c2000.upstream_rq_total"), 1, timeout=10.0), 1,
       "the new cluster took its route's request")
    eq(split(env, 100), [85, 15], "route r0's split: the newest file")


def test_reload_past_the_segment_names_the_knob(env):
    """The segment is sized from the file at start: a structural reload
    that needs more cluster records than it has is refused, naming
    --shm-size, and the running configuration stays; started with a
    larger --shm-size the same reload goes."""
    b = [env.start_backend("v1"), env.start_backend("v2"),
         env.start_backend("v3")]
    ports = [x.port for x in b]
    small = bigconf(env, ports, name="small.yaml", n=4)
    p = env.start_canaryd(small, concurrency=1)
    eq(env.get("/c3/x").status, 200, "GET /c3/x")
    # 4 clusters: room for 2 x 4 + 64 records; 80 new ones do not fit
    with open(bigconf(env, ports, name="big80.yaml", n=84)) as f:
        text = f.read().replace("name: c", "name: d").replace(
            "cluster: c", "cluster: d")
    with open(small, "w") as f:
        f.write(text)
    os.kill(p.pid, signal.SIGHUP)
    eq(settle(lambda: parse_stats(page(env, 
        "/stats?filter=config_reload_fail$").text).get(
        "server.config_reload_fail"), 1, timeout=10.0), 1,
        "server.config_reload_fail")
    expect("--shm-size" in p.output(), "the refusal names --shm-size")
    eq(env.get("/c3/x").status, 200, "the running configuration stays")
    p.stop()
    env.procs.remove(p)

    with open(small, "w") as f:
        f.write(open(bigconf(env, ports, name="small2.yaml", n=4)).read())
    p = env.start_canaryd(small, concurrency=1, args=("--shm-size", "8m"))
    with open(small, "w") as f:
        f.write(text)
    os.kill(p.pid, signal.SIGHUP)
    eq(settle(lambda: parse_stats(page(env, 
        "/stats?filter=config_reload$").text).get(
        "server.config_reload"), 1, timeout=10.0), 1,
        "server.config_reload with --shm-size 8m")
    settle(lambda: env.get("/c83/x").status, 200, timeout=10.0)
    eq(parse_stats(page(env, "/stats?filter=d83.upstream_rq_total$").text)
       .get("cluster.d83.upstream_rq_total"), 1,
       "a cluster past the first segment's room serves")
