#!/usr/bin/env python3
"""Write a large canaryd configuration: many clusters and routes.

    tools/bench/bigconf.py [--clusters N] [--endpoints E] [--weighted W]
        [--big-endpoints B] [--listen-port P] [--admin-port A]
        [--ports P1,P2,...] [--weights-seed S] > big.yaml

N clusters c0 .. c<N-1> (STATIC, E endpoints each on 127.0.0.1, the ports
of --ports taken in turn), and one route per cluster: "/c<i>/" to c<i>,
except that the first W routes split between c<i> and c<i+1>
(weighted_clusters, weights 90/10 shifted by the seed).  With B > 0 one
more cluster, "big", has B endpoints (the same ports, repeated) and a
route "/big/".  The last route "/" goes to c0.

Used by `make bench` (tools/bench/clusters.sh) and by the integration test
test/integration/test_scale_config.py.  Python standard library only; the
output is block YAML, one weight per line, so a weight-only edit touches
nothing else.
"""
import argparse
import sys


def weights(i, seed):
    a = 90 - (i + seed) % 10
    return a, 100 - a


def write(out, o):
    ports = [int(p) for p in o.ports.split(",")]
    w = out.write
    w("admin:\n  address:\n    socket_address: { address: 127.0.0.1, "
      "port_value: %d }\n" % o.admin_port)
    w("static_resources:\n  listeners:\n  - name: main\n    address:\n"
      "      socket_address: { address: 127.0.0.1, port_value: %d }\n"
      % o.listen_port)
    w("    filter_chains:\n    - filters:\n"
      "      - name: envoy.filters.network.http_connection_manager\n"
      "        typed_config:\n"
      "          \"@type\": type.googleapis.com/envoy.extensions.filters."
      "network.http_connection_manager.v3.HttpConnectionManager\n"
      "          stat_prefix: ingress\n"
      "          http_filters:\n"
      "          - name: envoy.filters.http.router\n"
      "            typed_config:\n"
      "              \"@type\": type.googleapis.com/envoy.extensions."
      "filters.http.router.v3.Router\n"
      "          route_config:\n            name: big\n"
      "            virtual_hosts:\n            - name: all\n"
      "              domains: [\"*\"]\n              routes:\n")
    for i in range(o.clusters):
        w("              - name: r%d\n" % i)
        w("                match: { prefix: \"/c%d/\" }\n" % i)
        if i < o.weighted and o.clusters > 1:
            a, b = weights(i, o.weights_seed)
            w("                route:\n"
              "                  weighted_clusters:\n"
              "                    clusters:\n"
              "                    - name: c%d\n"
              "                      weight: %d\n"
              "                    - name: c%d\n"
              "                      weight: %d\n"
              % (i, a, (i + 1) % o.clusters, b))
        else:
            w("                route: { cluster: c%d }\n" % i)
    if o.big_endpoints > 0:
        w("              - match: { prefix: \"/big/\" }\n"
          "                route: { cluster: big }\n")
    w("              - match: { prefix: \"/\" }\n"
      "                route: { cluster: c0 }\n")
    w("  clusters:\n")
    k = 0
    for i in range(o.clusters):
        w("  - name: c%d\n    connect_timeout: 1s\n    load_assignment:\n"
          "      cluster_name: c%d\n      endpoints:\n      - lb_endpoints:\n"
          % (i, i))
        for _ in range(o.endpoints):
            w("        - endpoint: { address: { socket_address: "
              "{ address: 127.0.0.1, port_value: %d } } }\n"
              % ports[k % len(ports)])
            k += 1
    if o.big_endpoints > 0:
        w("  - name: big\n    connect_timeout: 1s\n    load_assignment:\n"
          "      cluster_name: big\n      endpoints:\n      - lb_endpoints:\n")
        for j in range(o.big_endpoints):
            w("        - endpoint: { address: { socket_address: "
              "{ address: 127.0.0.1, port_value: %d } } }\n"
              % ports[j % len(ports)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clusters", type=int, default=10000)
    ap.add_argument("--endpoints", type=int, default=3)
    ap.add_argument("--weighted", type=int, default=1000)
    ap.add_argument("--big-endpoints", type=int, default=0)
    ap.add_argument("--listen-port", type=int, default=10000)
    ap.add_argument("--admin-port", type=int, default=9901)
    ap.add_argument("--ports", default="8081,8082,8083")
    ap.add_argument("--weights-seed", type=int, default=0)
    write(sys.stdout, ap.parse_args())


if __name__ == "__main__":
    main()
