/*
 * YAML pieces the unit tests build configurations from, so that every
 * test file does not carry its own copy of the listener boilerplate.
 */
#ifndef TEST_UNIT_CONF_YAML_H
#define TEST_UNIT_CONF_YAML_H

#define HCM_T	"type.googleapis.com/envoy.extensions.filters.network." \
	"http_connection_manager.v3.HttpConnectionManager"
#define ROUTER_T "type.googleapis.com/envoy.extensions.filters.http." \
	"router.v3.Router"

/*
 * Lines 1-17: a listener on 127.0.0.1:10000 with one HTTP connection
 * manager (stat_prefix ingress, the router filter) and one virtual host
 * "app" for every domain.  Routes follow from line 18, as list items
 * indented 14 spaces; then "  clusters:".
 */
#define HCM_HEAD							\
	"static_resources:\n"						\
	"  listeners:\n"						\
	"  - address: { socket_address: { address: 127.0.0.1, port_value: " \
	    "10000 } }\n"						\
	"    filter_chains:\n"						\
	"    - filters:\n"						\
	"      - name: hcm\n"						\
	"        typed_config:\n"					\
	"          \"@type\": " HCM_T "\n"				\
	"          stat_prefix: ingress\n"				\
	"          http_filters:\n"					\
	"          - name: envoy.filters.http.router\n"			\
	"            typed_config: { \"@type\": " ROUTER_T " }\n"	\
	"          route_config:\n"					\
	"            virtual_hosts:\n"					\
	"            - name: app\n"					\
	"              domains: [\"*\"]\n"				\
	"              routes:\n"

/* Four lines: a list item, cluster v1 with one endpoint, 127.0.0.1:8081
 * (under "  clusters:"). */
#define CLUSTER_V1							\
	"  - name: v1\n"						\
	"    load_assignment:\n"					\
	"      cluster_name: v1\n"					\
	"      endpoints: [ { lb_endpoints: [ { endpoint: { address: "	\
	"{ socket_address: { address: 127.0.0.1, port_value: 8081 } "	\
	"} } } ] } ]\n"

#endif
