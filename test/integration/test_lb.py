"""Load balancers beyond round robin (canaryd.yaml(5), lb_policy and
route hash_policy): RING_HASH and MAGLEV keep a user on one host, by a
header, a cookie or a query parameter; LEAST_REQUEST sends new requests
to the host with fewer in flight, counted across workers."""

import threading

import configs
from itestlib import V1_BODY, V2_BODY, eq, expect

# one cluster "pool" of two hosts: backend v1 and backend v2
POOL = configs.HEAD + """\
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route:
                  cluster: pool
{hash}""" + """\
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": %s
  clusters:
  - name: pool
    type: STATIC
    lb_policy: {lb}
    load_assignment:
      cluster_name: pool
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v1_port} }
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v2_port} }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: {admin_port} }
""" % configs.ROUTER_TYPE

HASH = """\
                  hash_policy:
                  - header: { header_name: x-user }
                  - cookie: { name: uid }
                  - query_parameter: { name: u }
"""


def who(r):
    return {V1_BODY: "v1", V2_BODY: "v2"}.get(r.body, "%d" % r.status)


def sticky_by_key(env, lb):
    env.start_backends()
    env.start_canaryd(env.write_config(POOL, lb=lb, hash=HASH),
                      concurrency=2)
    seen = {}
    for u in range(60):
        for k, how in enumerate(({"x-user": "u%d" % u}, {"cookie":
                                 "a=b; uid=u%d" % u}, None)):
            path = "/x?u=u%d" % u if how is None else "/x"
            # three ways to say who: each a key of its own
            for _ in range(3):
                v = who(env.get(path, headers=how))
                seen.setdefault((u, k), set()).add(v)
    expect(all(len(v) == 1 for v in seen.values()),
           "a key always on one host: %r" % {k: v for k, v in seen.items()
                                              if len(v) > 1})
    hosts = {next(iter(v)) for v in seen.values()}
    eq(hosts, {"v1", "v2"}, "keys spread over both hosts")


def test_ring_hash_keeps_a_key_on_one_host(env):
    sticky_by_key(env, "RING_HASH")


def test_maglev_keeps_a_key_on_one_host(env):
    sticky_by_key(env, "MAGLEV")


def test_ring_hash_without_a_key_spreads(env):
    env.start_backends()
    env.start_canaryd(env.write_config(POOL, lb="RING_HASH", hash=""),
                      concurrency=1)
    got = {}
    for _ in range(40):
        v = who(env.get("/x"))
        got[v] = got.get(v, 0) + 1
    expect(got.get("v1", 0) > 5 and got.get("v2", 0) > 5,
           "random without a hash_policy: %r" % got)


def test_least_request_avoids_the_busy_host(env):
    v1, v2 = env.start_backends()
    v1.ctl(delay_ms=400)
    env.start_canaryd(env.write_config(POOL, lb="LEAST_REQUEST", hash=""),
                      concurrency=2)
    got, lock = {}, threading.Lock()

    def client():
        for _ in range(10):
            v = who(env.get("/x"))
            with lock:
                got[v] = got.get(v, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    eq(sum(got.values()), 60, "answers: %r" % got)
    # round robin would give the slow host half; the least loaded one of
    # two draws leaves it far fewer
    expect(got.get("v1", 0) < 20, "requests at the slow host: %r" % got)
