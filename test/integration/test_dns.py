"""DNS clusters (canaryd.yaml(5), clusters: type, dns_lookup_family):
STRICT_DNS and LOGICAL_DNS names resolved by the master, the address
families each dns_lookup_family takes, and LOGICAL_DNS's one logical
host."""

import configs
from itestlib import V1_BODY, eq, expect

# backend_v1 by name instead of by address; {kind} and {family} per test
NAMED = configs.ALL_TO_V1.replace(
    "  - name: backend_v1\n    type: STATIC\n",
    "  - name: backend_v1\n    type: {kind}\n    dns_refresh_rate: 0.5s\n"
    "    dns_lookup_family: {family}\n", 1).replace(
    "socket_address: { address: 127.0.0.1, port_value: {v1_port} }",
    "socket_address: { address: localhost, port_value: {v1_port} }", 1)


def hosts(env, cluster="backend_v1"):
    """The hosts /clusters lists for cluster, as "addr:port"."""
    out = set()
    for line in env.admin("/clusters").text.splitlines():
        parts = line.split("::")
        if len(parts) >= 3 and parts[0] == cluster and \
                parts[2] == "health_flags":
            out.add(parts[1])
    return out


def start(env, kind, family):
    env.start_backends()
    cfg = env.write_config(NAMED, kind=kind, family=family)
    return env.start_canaryd(cfg, concurrency=2)


def test_logical_dns_has_one_host_and_serves(env):
    start(env, "LOGICAL_DNS", "V4_PREFERRED")
    eq(hosts(env), {"127.0.0.1:%d" % env.v1_port}, "LOGICAL_DNS hosts")
    for _ in range(10):
        r = env.get("/api")
        eq((r.status, r.body), (200, V1_BODY), "GET /api")
    expect(env.stat("cluster.backend_v1.update_attempt") >= 1,
           "the name is resolved again (update_attempt)")


def test_dns_lookup_family_is_honoured(env):
    # localhost has an IPv4 address only on this machine: V6_ONLY finds
    # nothing, the cluster has no host, requests get Envoy's 503
    start(env, "STRICT_DNS", "V6_ONLY")
    eq(hosts(env), set(), "V6_ONLY hosts for an IPv4-only name")
    r = env.get("/api")
    eq(r.status, 503, "no host")
    expect(b"no healthy upstream" in r.body, "the 503's body: %r" % r.body)


def test_v4_only_strict_dns(env):
    start(env, "STRICT_DNS", "V4_ONLY")
    eq(hosts(env), {"127.0.0.1:%d" % env.v1_port}, "V4_ONLY hosts")
    eq(env.get("/api").status, 200, "GET /api")


def test_logical_dns_takes_one_endpoint(env):
    cfg = env.write_config(NAMED, kind="LOGICAL_DNS", family="AUTO")
    with open(cfg) as f:
        text = f.read()
    # a second endpoint in the same lb_endpoints
    text = text.replace(
        "              socket_address: { address: localhost, port_value: %d"
        " }\n" % env.v1_port,
        "              socket_address: { address: localhost, port_value: %d"
        " }\n        - endpoint:\n            address:\n"
        "              socket_address: { address: localhost, port_value: %d"
        " }\n" % (env.v1_port, env.v2_port), 1)
    with open(cfg, "w") as f:
        f.write(text)
    st, out, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                            cfg])
    eq(st, 1, "validate a LOGICAL_DNS cluster with two endpoints")
    expect("a LOGICAL_DNS cluster takes exactly one endpoint (it has 2)"
           in err, "the message: " + err)
