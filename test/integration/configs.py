"""Config templates shared by the integration tests.

Placeholders {v1_port} {v2_port} {proxy_port} {admin_port} are filled in by
itestlib.Env.write_config(); everything else is plain Envoy v3 YAML.
Clusters here have no health checks, so nothing but the test's own
requests reaches the backends.
"""

HCM_TYPE = ("type.googleapis.com/envoy.extensions.filters.network."
            "http_connection_manager.v3.HttpConnectionManager")
ROUTER_TYPE = ("type.googleapis.com/envoy.extensions.filters.http.router."
               "v3.Router")

HEAD = """\
static_resources:
  listeners:
  - name: test_listener
    address:
      socket_address: { address: 127.0.0.1, port_value: {proxy_port} }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": %s
          stat_prefix: ingress
          route_config:
            name: test_routes
            virtual_hosts:
""" % HCM_TYPE

TAIL = """\
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": %s
  clusters:
  - name: backend_v1
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend_v1
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v1_port} }
  - name: backend_v2
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend_v2
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v2_port} }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: {admin_port} }
""" % ROUTER_TYPE


def with_vhosts(vhosts):
    """A full config around virtual_hosts entries (YAML text indented
    for the list under route_config.virtual_hosts)."""
    return HEAD + vhosts + TAIL


def one_vhost(routes):
    """A config with one "*" virtual host holding routes (YAML text of
    the list items, indented 14 spaces)."""
    return with_vhosts("""\
            - name: all
              domains: ["*"]
              routes:
""" + routes)


# Everything to backend_v1: the simplest data path.
ALL_TO_V1 = one_vhost("""\
              - match: { prefix: "/" }
                route: { cluster: backend_v1 }
""")
