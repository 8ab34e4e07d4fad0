"""One route split over 50 clusters (any count goes: there is no fixed
limit of clusters in one weighted_clusters), each cluster one endpoint,
the clusters sharing the two backends: over one period of the exact
sequence every cluster takes exactly its weight in requests (counted by
its own /stats counter), /canary shows every weight, a weight-only
reload moves to new weights in place and a structural one (one cluster
more) runs a new generation with its own exact split."""

import os
import re
import signal

from configs import HEAD, ROUTER_TYPE
from itestlib import eq, expect, parse_stats, request, settle

N = 50


def weights_a(n):
    """1..7 over and over: 50 clusters sum to 197, one period."""
    return [i % 7 + 1 for i in range(n)]


def weights_b(n):
    """Another split of the same clusters, its smallest weight still the
    last cluster's and its largest still c6's, so "always" and "never"
    pick the same ones and the reload stays weight-only."""
    w = [2 + i * 3 % 5 for i in range(n)]
    w[6], w[n - 1] = 9, 1
    return w


def config(env, w, name="wide.yaml"):
    lines = [HEAD + """\
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                name: wide
                route:
                  weighted_clusters:
                    clusters:
"""]
    for i, x in enumerate(w):
        lines.append("                    - { name: c%d, weight: %d }\n"
                     % (i, x))
    lines.append("""\
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": %s
  clusters:
""" % ROUTER_TYPE)
    for i in range(len(w)):
        lines.append("""\
  - name: c%d
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: c%d
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {%s} }
""" % (i, i, "v1_port" if i % 2 == 0 else "v2_port"))
    lines.append("""\
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: {admin_port} }
""")
    return env.write_config("".join(lines), name)


def totals(env, n):
    """Each cluster's upstream_rq_total, c0 .. c<n-1>."""
    r = request(env.admin_port, "GET",
                "/stats?filter=^cluster%5C.c[0-9]*%5C.upstream_rq_total$")
    eq(r.status, 200, "/stats?filter=")
    s = parse_stats(r.text)
    return [s.get("cluster.c%d.upstream_rq_total" % i, 0) for i in range(n)]


def one_period(env, w, what):
    """sum(w) GETs over two connections (so both workers take some): each
    cluster took exactly its weight."""
    n = len(w)
    before = totals(env, n)
    clients = [env.client(), env.client()]
    for k in range(sum(w)):
        eq(clients[k % 2].get("/x").status, 200, "GET /x (%s)" % what)
    for c in clients:
        c.close()
    settle(lambda: sum(totals(env, n)) - sum(before), sum(w), timeout=5.0)
    got = [a - b for a, b in zip(totals(env, n), before)]
    eq(got, w, "requests per cluster over one period (%s)" % what)


def canary_weights(env):
    r = request(env.admin_port, "GET", "/canary")
    eq(r.status, 200, "/canary")
    return r.json()["routes"][0]["weights"]


def reloads(env):
    r = request(env.admin_port, "GET", "/stats?filter=config_reload$")
    return parse_stats(r.text).get("server.config_reload")


def test_fifty_clusters_split_exactly_and_reload(env):
    env.start_backends()
    w = weights_a(N)
    cfg = config(env, w)
    p = env.start_canaryd(cfg, concurrency=2)
    eq(canary_weights(env), {"c%d" % i: x for i, x in enumerate(w)},
       "/canary: every cluster's weight")
    one_period(env, w, "as loaded")

    # weights only: same clusters, each its new weight, workers kept
    w = weights_b(N)
    config(env, w)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: canary_weights(env),
           {"c%d" % i: x for i, x in enumerate(w)}, timeout=30.0)
    eq(reloads(env), 1, "server.config_reload")
    expect("new weights in place" in p.output(),
           "the weight-only reload kept the workers")
    one_period(env, w, "after a weight-only reload")

    # structural: one cluster more, a new generation
    w = weights_a(N + 1)
    config(env, w)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: len(canary_weights(env)), N + 1, timeout=60.0)
    eq(settle(lambda: reloads(env), 2, timeout=10.0), 2,
       "server.config_reload")
    # the old generation splits on its own record: count once it left
    settle(lambda: re.search(r"generation \d+ drained", p.output()) is not
           None, True, timeout=60.0)
    one_period(env, w, "after a structural reload")
