"""One STATIC cluster of 1,000 endpoints (four backends listening on 250
ports each, --more_ports) and one dead endpoint, health checked: it
loads, the dead host fails its checks and takes no request, round robin
serves every live host, a weight-only reload keeps the workers, a
structural one (one more endpoint) gives 1,001 hosts, and /clusters,
/stats, /stats/prometheus, /config_dump and /canary answer for it all.
A STRICT_DNS cluster of 300 endpoints has room for all its hosts.
Times are printed for the record, never asserted (the box is shared)."""

import json
import os
import re
import signal
import time

import configs
from itestlib import eq, expect, parse_stats, request, settle

SERIAL = True
BACKENDS = 4
PORTS_EACH = 250    # 1,000 endpoints that answer

HEAD = configs.HEAD + """\
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/split/" }
                route:
                  weighted_clusters:
                    clusters:
                    - { name: big, weight: %d }
                    - { name: small, weight: %d }
              - match: { prefix: "/" }
                route: { cluster: big }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": %s
  clusters:
  - name: small
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: small
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: %d }
  - name: big
    type: STATIC
    connect_timeout: 1s
    health_checks:
    - timeout: 2s
      interval: 5s
      unhealthy_threshold: 1
      healthy_threshold: 1
      http_health_check: { path: "/health" }
    load_assignment:
      cluster_name: big
      endpoints:
"""

ENDPOINT = """\
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: %d }
"""

ADMIN = """\
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: %d }
"""


def config(env, ports, dead, w=(90, 10), extra=()):
    """The YAML: big over ports (one locality per backend), dead and
    extra; weights w for big and small on /split/."""
    out = [HEAD % (w[0], w[1], configs.ROUTER_TYPE, ports[0][0])]
    for group in ports:
        out.append("      - lb_endpoints:\n")
        out.extend(ENDPOINT % p for p in group)
    out.append("      - lb_endpoints:\n")
    out.extend(ENDPOINT % p for p in [dead] + list(extra))
    out.append(ADMIN % env.admin_port)
    text = "".join(out).replace("{proxy_port}", str(env.proxy_port))
    path = os.path.join(env.logdir, "hosts.yaml")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return path


def start_backends(env):
    """BACKENDS backends of PORTS_EACH ports each: [[port, ...], ...]."""
    groups = []
    for i in range(BACKENDS):
        b = env.start_backend("h%d" % i,
                              args=("--more_ports", str(PORTS_EACH - 1)))
        m = re.search(r"more ports: ([0-9,]+)", b.output())
        expect(m is not None, "backend h%d printed its ports" % i)
        groups.append([b.port] + [int(x) for x in m.group(1).split(",")])
        eq(len(groups[-1]), PORTS_EACH, "backend h%d's ports" % i)
    return groups


def page(env, path):
    return request(env.admin_port, "GET", path, timeout=300)


def hosts(env):
    """/clusters for big: {"127.0.0.1:port": {stat: value}}."""
    r = page(env, "/clusters")
    eq(r.status, 200, "/clusters")
    out = {}
    for line in r.text.splitlines():
        parts = line.split("::")
        if len(parts) == 4 and parts[0] == "big" and ":" in parts[1]:
            out.setdefault(parts[1], {})[parts[2]] = parts[3]
    return out


def served(env, n, path="/x"):
    """n GETs on one keep-alive connection, all 200."""
    c = env.client()
    for _ in range(n):
        eq(c.get(path).status, 200, "GET %s" % path)
    c.close()


def split(env, n):
    """n GETs on /split/: what big and small took, from /stats."""
    def two():
        s = parse_stats(page(env, "/stats?filter=upstream_rq_total$").text)
        return [s.get("cluster.%s.upstream_rq_total" % c, 0)
                for c in ("big", "small")]
    before = two()
    served(env, n, "/split/x")
    settle(lambda: sum(two()) - sum(before), n, timeout=5.0)
    return [x - y for x, y in zip(two(), before)]


def check_admin(env, nhosts):
    t0 = time.monotonic()
    h = hosts(env)
    eq(len(h), nhosts, "/clusters lists big's hosts")
    print("    /clusters: %d hosts in %.3f s" % (len(h),
                                                 time.monotonic() - t0))
    s = parse_stats(page(env, "/stats").text)
    eq(s.get("cluster.big.membership_total"), nhosts,
       "/stats membership_total")
    eq(s.get("cluster.big.membership_healthy"), nhosts - 1,
       "/stats membership_healthy (the dead one fails)")
    r = page(env, "/stats/prometheus")
    eq(r.status, 200, "/stats/prometheus")
    expect('envoy_cluster_membership_total{envoy_cluster_name="big"} %d'
           % nhosts in r.text, "/stats/prometheus membership_total")
    r = page(env, "/config_dump")
    eq(r.status, 200, "/config_dump")
    n = 0
    for c in json.loads(r.text)["configs"]:
        for s in c.get("static_clusters", []):
            if s["cluster"]["name"] == "big":
                for loc in s["cluster"]["load_assignment"]["endpoints"]:
                    n += len(loc["lb_endpoints"])
    eq(n, nhosts, "/config_dump: big's endpoints")
    r = page(env, "/canary")
    eq(r.status, 200, "/canary")
    return {x["name"]: x["weights"] for x in r.json()["routes"]}


def test_thousand_hosts(env):
    groups = start_backends(env)
    dead = env.port("dead")     # nothing listens there
    cfg = config(env, groups, dead)
    res = env.run([env.canaryd_bin, "--mode", "validate", "-f", cfg],
                  timeout=60)
    eq(res[0], 0, "validate: %s" % res[2])
    t0 = time.monotonic()
    p = env.start_canaryd(cfg, concurrency=2)
    print("    start to ready: %.3f s" % (time.monotonic() - t0))
    deadname = "127.0.0.1:%d" % dead
    settle(lambda: "/failed_active_hc" in hosts(env)[deadname].get(
        "health_flags", ""), True, timeout=30.0)

    # round robin on one connection (one worker): every live host twice
    served(env, 2 * PORTS_EACH * BACKENDS)
    h = hosts(env)
    used = [a for a, v in h.items() if int(v.get("rq_total", 0)) > 0]
    eq(len(used), PORTS_EACH * BACKENDS, "hosts that served")
    expect(deadname not in used, "the dead host took no request")
    weights = check_admin(env, PORTS_EACH * BACKENDS + 1)
    expect({"big": 90, "small": 10} in weights.values(),
           "/canary has /split/'s weights: %s" % weights)
    eq(split(env, 100), [90, 10], "/split/'s exact split")

    # weights only: the workers stay
    config(env, groups, dead, w=(80, 20))
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: "new weights in place" in p.output(), True,
           timeout=30.0)
    eq(split(env, 100), [80, 20], "/split/ after a weight-only reload")

    # structural: one more endpoint, a fifth backend's second port
    extra = env.start_backend("h9", args=("--more_ports", "1"))
    m = re.search(r"more ports: ([0-9]+)", extra.output())
    config(env, groups, dead, w=(80, 20), extra=(int(m.group(1)),))
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: len(hosts(env)), PORTS_EACH * BACKENDS + 2,
           timeout=60.0)
    print("    structural reload: %.3f s" % (time.monotonic() - t0))
    settle(lambda: "/failed_active_hc" in hosts(env)[deadname].get(
        "health_flags", ""), True, timeout=30.0)
    settle(lambda: hosts(env)["127.0.0.1:%s" % m.group(1)].get(
        "health_flags"), "healthy", timeout=30.0)
    served(env, 2 * (PORTS_EACH * BACKENDS + 1))
    weights = check_admin(env, PORTS_EACH * BACKENDS + 2)
    expect({"big": 80, "small": 20} in weights.values(),
           "/canary has /split/'s new weights: %s" % weights)
    eq(split(env, 100), [80, 20], "/split/, new generation")


test_thousand_hosts.timeout = 900


def test_strict_dns_of_many_endpoints(env):
    """A STRICT_DNS cluster of 300 endpoints (localhost, V4_ONLY, one
    backend's 300 ports): room for every one of its hosts, each served."""
    b = env.start_backend("d0", args=("--more_ports", "299"))
    m = re.search(r"more ports: ([0-9,]+)", b.output())
    ports = [b.port] + [int(x) for x in m.group(1).split(",")]
    text = (HEAD % (50, 50, configs.ROUTER_TYPE, ports[0])).replace(
        "  - name: big\n    type: STATIC\n",
        "  - name: big\n    type: STRICT_DNS\n"
        "    dns_lookup_family: V4_ONLY\n")
    text += "      - lb_endpoints:\n" + "".join(
        ENDPOINT.replace("127.0.0.1", "localhost") % p for p in ports)
    text += ADMIN % env.admin_port
    path = os.path.join(env.logdir, "dns.yaml")
    with open(path, "w") as f:
        f.write(text.replace("{proxy_port}", str(env.proxy_port)))
    env.start_canaryd(path, concurrency=1)
    settle(lambda: sum(v.get("health_flags") == "healthy"
                       for v in hosts(env).values()), 300, timeout=30.0)
    served(env, 600)
    h = hosts(env)
    eq(len(h), 300, "/clusters: big's hosts")
    eq(sum(int(v.get("rq_total", 0)) == 2 for v in h.values()), 300,
       "round robin: every host twice")


test_strict_dns_of_many_endpoints.timeout = 300
