"""The admin interface: totals across workers equal what clients saw, and
the formats of /stats, /stats/prometheus, /clusters, /config_dump, /ready,
/server_info, /help, /memory (canaryd-envoy(7), ADMIN INTERFACE)."""

import json
import os
import re
import threading

from itestlib import Client, children_of, eq, expect, request, settle

THREADS = 8
PER_THREAD = 50


def client_thread(env, t, seen, errors):
    """50 GET /api; even threads on one keep-alive connection, odd ones
    on a new connection each time."""
    ok2xx = total = 0
    keep = Client(env.proxy_port) if t % 2 == 0 else None
    try:
        for _ in range(PER_THREAD):
            r = keep.get("/api") if keep else env.get("/api")
            total += 1
            ok2xx += 200 <= r.status < 300
    except Exception as e:
        errors.append("thread %d after %d requests: %r" % (t, total, e))
    finally:
        if keep:
            keep.close()
        seen[t] = (total, ok2xx)


def test_admin_totals_equal_client_counts(env):
    env.start_backends()
    env.start_canaryd(env.seed_config(), concurrency=4)
    names = ("cluster.backend_v1.upstream_rq_total",
             "cluster.backend_v2.upstream_rq_total",
             "http.ingress.downstream_rq_2xx",
             "http.ingress.downstream_rq_total")
    s = env.stats()
    before = {n: s.get(n, 0) for n in names}
    seen, errors = {}, []
    threads = [threading.Thread(target=client_thread,
                                args=(env, t, seen, errors), daemon=True)
               for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    expect(not any(th.is_alive() for th in threads),
           "client threads still running after 30s")
    expect(not errors, "client errors: %s" % errors)
    total = sum(v[0] for v in seen.values())
    ok2xx = sum(v[1] for v in seen.values())
    eq(total, THREADS * PER_THREAD, "responses the clients got")

    def deltas():
        s = env.stats()
        return {n: s.get(n, 0) - before[n] for n in names}
    want = {
        "upstream_rq_total v1+v2": total,
        "http.ingress.downstream_rq_2xx": ok2xx,
        "http.ingress.downstream_rq_total": total,
    }

    def summary():
        d = deltas()
        return {
            "upstream_rq_total v1+v2": d[names[0]] + d[names[1]],
            "http.ingress.downstream_rq_2xx": d[names[2]],
            "http.ingress.downstream_rq_total": d[names[3]],
        }
    eq(settle(summary, want), want, "admin totals")


def test_admin_formats(env):
    env.start_backends()
    env.start_canaryd(env.seed_config(), concurrency=2)
    for _ in range(10):
        eq(env.get("/api").status, 200, "GET /api")

    # /stats: "name: value" lines; counters and gauges sorted by name.
    r = env.admin("/stats")
    eq(r.status, 200, "/stats status")
    lines = r.text.splitlines()
    expect(len(lines) > 20, "/stats has only %d lines" % len(lines))
    for ln in lines:
        expect(re.fullmatch(r"[A-Za-z0-9_.:\-]+: .+", ln),
               "/stats line %r is not 'name: value'" % ln)
    ints = [ln.split(": ")[0] for ln in lines
            if re.fullmatch(r"[^ ]+: [0-9]+", ln)]
    eq(ints, sorted(ints), "/stats counters and gauges in byte order")
    for name in ("cluster.backend_v1.upstream_rq_total",
                 "cluster.backend_v2.upstream_rq_total",
                 "http.ingress.downstream_rq_total"):
        expect(name in ints, "/stats has no %s" % name)

    # ?filter= is a regex on the name.
    r = env.admin("/stats?filter=cluster.backend_v1")
    eq(r.status, 200, "/stats?filter status")
    fl = r.text.splitlines()
    expect(fl, "/stats?filter=cluster.backend_v1 is empty")
    for ln in fl:
        expect("cluster.backend_v1" in ln.split(": ")[0],
               "filtered line %r" % ln)
    # Unencoded, the way curl sends it.
    fl = env.admin("/stats?filter=^server\\.").text.splitlines()
    expect(fl and all(ln.startswith("server.") for ln in fl),
           "/stats?filter=^server\\. gave %r" % fl[:5])

    # ?format=json
    j = env.admin_json("/stats?format=json")
    expect(isinstance(j.get("stats"), list), "no stats list in JSON")
    by_name = {e["name"]: e.get("value") for e in j["stats"] if "name" in e}
    expect("cluster.backend_v1.upstream_rq_total" in by_name,
           "JSON stats lack cluster.backend_v1.upstream_rq_total")

    # /stats/prometheus
    r = env.admin("/stats/prometheus")
    eq(r.status, 200, "/stats/prometheus status")
    expect(re.search(r"^# TYPE envoy_\w+ (counter|gauge|histogram)$",
                     r.text, re.M), "no '# TYPE' line")
    expect(re.search(r"^envoy_\w+\{\} [0-9]", r.text, re.M),
           "no series with an empty label set '{}'")
    expect('envoy_cluster_upstream_rq_total{envoy_cluster_name='
           '"backend_v1"}' in r.text,
           "no envoy_cluster_upstream_rq_total for backend_v1")

    # /clusters
    r = env.admin("/clusters")
    eq(r.status, 200, "/clusters status")
    cl = r.text.splitlines()
    for want in ("backend_v1::observability_name::backend_v1",
                 "backend_v2::observability_name::backend_v2",
                 "backend_v1::default_priority::max_connections::100"):
        expect(want in cl, "/clusters has no line %r" % want)
    host = "backend_v1::127.0.0.1:%d::health_flags::" % env.v1_port
    expect(any(ln.startswith(host) for ln in cl),
           "/clusters has no line starting %r" % host)

    # /config_dump: the six static dump types, in Envoy's order.
    j = env.admin_json("/config_dump")
    types = [c.get("@type") for c in j.get("configs", [])]
    eq(types, ["type.googleapis.com/envoy.admin.v3." + t for t in (
        "BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump",
        "ScopedRoutesConfigDump", "RoutesConfigDump", "SecretsConfigDump")],
       "/config_dump types")

    r = env.admin("/ready")
    eq((r.status, r.body), (200, b"LIVE\n"), "/ready")

    j = env.admin_json("/server_info")
    eq(j.get("state"), "LIVE", "/server_info state")
    expect("command_line_options" in j, "/server_info lacks "
           "command_line_options: %s" % json.dumps(j)[:200])

    r = env.admin("/help")
    eq(r.status, 200, "/help status")
    eq(r.text.splitlines()[0] if r.text else "", "admin commands are:",
       "/help first line")

    eq(env.admin("/no/such/page").status, 404, "unknown admin path")
    eq(env.admin("/quitquitquit").status, 405, "GET /quitquitquit")
    # ... and the server is still there.
    r = request(env.admin_port, "GET", "/ready")
    eq(r.status, 200, "/ready after GET /quitquitquit")


MEMORY_KEYS = ["allocated", "heap_size", "pageheap_unmapped", "pageheap_free",
               "total_thread_cache", "total_physical_bytes"]


def resident(pids):
    """Resident bytes of pids, from /proc/<pid>/statm as canaryd reads it."""
    total = 0
    for pid in pids:
        with open("/proc/%d/statm" % pid) as f:
            total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return total


def test_memory_covers_every_process(env):
    env.start_backends()
    p = env.start_canaryd(env.seed_config(), concurrency=2)
    for _ in range(10):
        eq(env.get("/api").status, 200, "GET /api")
    # the master, its two workers and its resolver
    pids = [p.pid] + children_of(p.pid)
    eq(len(pids), 4, "canaryd processes")
    lo = resident(pids)
    r = env.admin("/memory")
    hi = resident(pids)
    eq(r.status, 200, "/memory status")
    eq(r.header("content-type"), "application/json", "content-type")
    expect(r.text.startswith('{\n "allocated": "'),
           "/memory is not pretty-printed as Envoy's: %r" % r.text[:40])
    j = r.json()
    eq(list(j), MEMORY_KEYS, "/memory fields, in Envoy's order")
    for k in MEMORY_KEYS:
        expect(isinstance(j[k], str) and j[k].isdigit(),
               "/memory %s is %r, want a uint64 as a string" % (k, j[k]))
    m = {k: int(v) for k, v in j.items()}
    eq((m["pageheap_unmapped"], m["total_thread_cache"]), (0, 0),
       "figures glibc does not have")
    expect(0 < m["allocated"] <= m["heap_size"],
           "allocated %(allocated)d, heap_size %(heap_size)d" % m)
    # the sum of every process's resident set, read in between
    own = resident([p.pid])
    expect(m["total_physical_bytes"] > own,
           "total_physical_bytes %d is no more than the master's %d" %
           (m["total_physical_bytes"], own))
    expect(min(lo, hi) * 0.9 <= m["total_physical_bytes"] <=
           max(lo, hi) * 1.1, "total_physical_bytes %d, the processes' "
           "resident sets %d then %d" % (m["total_physical_bytes"], lo, hi))
