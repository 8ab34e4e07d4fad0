/*
 * Unit tests for how the loader meets Envoy files (shared/conf*.c): type
 * names never cut short, transport sockets (raw_buffer taken, TLS and the
 * PROXY protocol refused, each with its reason), every error reported in
 * one run (every listener, list item past a limit and duplicated key is
 * walked), typos told apart from Envoy fields canaryd refuses, refusals
 * that say what to do, the fields taken with a warning, and the request
 * handling fields that canaryd now acts on or warns about.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "test/unit/conf_check.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

/* lines 1-17 HCM_HEAD, 18-19 the route, 20 clusters, 21-24 cluster v1 */
#define ROUTE_V1							\
	"              - match: { prefix: \"/\" }\n"			\
	"                route: { cluster: v1 }\n"
/* "clusters:" and conf_yaml.h's cluster v1 */
#define CLUSTERS_V1	"  clusters:\n" CLUSTER_V1
#define BASE	HCM_HEAD ROUTE_V1 CLUSTERS_V1

/* a listener from line 1, its filter chain's name on line 4: what a test
 * adds to the filter chain goes on line 5, at column 7 */
#define LSN_HEAD							\
	"static_resources:\n"						\
	"  listeners:\n"						\
	"  - address: { socket_address: { address: 127.0.0.1, port_value: " \
	    "10000 } }\n"						\
	"    filter_chains:\n"						\
	"    - name: main\n"
#define LSN_FILTERS							\
	"      filters:\n"						\
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
	"              routes:\n" ROUTE_V1
#define FC	"static_resources.listeners[0].filter_chains[0]"
#define HCM	FC ".filters[0].typed_config"
#define CL0	"static_resources.clusters[0]"

/*
 * A listener whose connection manager has one more line (hcm, line 10;
 * "" for none) and whose router's typed_config has more fields (router,
 * ", a: 1"), then the route and cluster v1.  With hcm, the router's
 * typed_config is on line 13.
 */
#define HCM_WITH(hcm, router)						\
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
	hcm								\
	"          http_filters:\n"					\
	"          - name: envoy.filters.http.router\n"			\
	"            typed_config: { \"@type\": " ROUTER_T router " }\n" \
	"          route_config:\n"					\
	"            virtual_hosts:\n"					\
	"            - name: app\n"					\
	"              domains: [\"*\"]\n"				\
	"              routes:\n" ROUTE_V1 CLUSTERS_V1

#define RAW_T	"type.googleapis.com/envoy.extensions.transport_sockets." \
	"raw_buffer.v3.RawBuffer"
#define TLS_T	"type.googleapis.com/envoy.extensions.transport_sockets." \
	"tls.v3.DownstreamTlsContext"
#define NO_TLS_TEXT "canaryd speaks plain HTTP/1.1 and does no TLS; " \
	"terminate TLS in front of it (a TCP load balancer, stunnel or an " \
	"edge proxy) and send plain HTTP to its listener"
#define NO_PP_TEXT "canaryd does not speak the PROXY protocol; remove it " \
	"and let the client address come from the connection (or " \
	"x-forwarded-for from the proxy in front)"

/* yaml loads with exactly this one warning. */
static void
expect_warning(const char *yaml, int line, int col, const char *text)
{
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load(yaml, &d);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_nerrors, 0);
	CU_ASSERT_EQUAL(d.cd_n, 1);
	CU_ASSERT(ut_has(&d, line, col, 1, text));
	conf_free(c);
	conf_diags_free(&d);
}

/* ---- names whole --------------------------------------------------- */

static void
type_names_and_keys_are_never_cut(void)
{
	/* a type canaryd does not know, longer than 64 bytes */
	ut_expect_error(HCM_WITH("          http_filters:\n"
	    "          - name: x\n"
	    "            typed_config: { \"@type\": type.googleapis.com/"
	    "com.example.filters.http.a_rather_long_name.v1.SomeFilterConfig }"
	    "\n", ""), 12, 38, HCM ".http_filters[0].typed_config.@type: "
	    "http filter com.example.filters.http.a_rather_long_name.v1."
	    "SomeFilterConfig is not supported by canaryd: canaryd runs "
	    "compressor, cors, fault, local_ratelimit and the router only; "
	    "remove the filter "
	    "(canaryd takes type.googleapis.com/envoy.extensions.filters.http."
	    "router.v3.Router or type.googleapis.com/envoy.extensions.filters."
	    "http.cors.v3.Cors or type.googleapis.com/envoy.extensions.filters."
	    "http.fault.v3.HTTPFault or type.googleapis.com/envoy.extensions."
	    "filters.http.local_ratelimit.v3.LocalRateLimit or type."
	    "googleapis.com/envoy.extensions.filters.http.compressor.v3."
	    "Compressor)");
	/* a key longer than 64 bytes stays whole in the path */
	ut_expect_error(BASE "    a_key_that_goes_on_and_on_well_past_sixty_four_"
	    "bytes_of_name: 1\n", 25, 5, CL0 ".a_key_that_goes_on_and_on_well_"
	    "past_sixty_four_bytes_of_name: unknown field in Cluster (not an "
	    "Envoy v3 field there: check its spelling and its place)");
}

/* ---- transport sockets --------------------------------------------- */

static void
raw_buffer_transport_socket_is_taken(void)
{
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load(LSN_HEAD
	    "      transport_socket:\n"
	    "        name: envoy.transport_sockets.raw_buffer\n"
	    "        typed_config: { \"@type\": " RAW_T " }\n"
	    LSN_FILTERS CLUSTERS_V1
	    "    transport_socket: { name: raw, typed_config: "
	    "{ \"@type\": " RAW_T " } }\n", &d);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_n, 0);
	if (c != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_listener,
		    "\"transport_socket\":{\"name\":\"envoy.transport_sockets."
		    "raw_buffer\",\"typed_config\":{\"@type\":\"" RAW_T
		    "\"}}"));
	conf_free(c);
	conf_diags_free(&d);
}

static void
tls_and_proxy_protocol_are_refused_with_their_reasons(void)
{
	ut_expect_error(LSN_HEAD
	    "      transport_socket:\n"
	    "        name: envoy.transport_sockets.tls\n"
	    "        typed_config: { \"@type\": " TLS_T " }\n"
	    LSN_FILTERS CLUSTERS_V1, 8, 34, FC ".transport_socket."
	    "typed_config.@type: transport socket envoy.extensions."
	    "transport_sockets.tls.v3.DownstreamTlsContext is not supported "
	    "by canaryd: " NO_TLS_TEXT);
	/* by name alone, as older files write it */
	ut_expect_error(LSN_HEAD
	    "      transport_socket: { name: envoy.transport_sockets.tls }\n"
	    LSN_FILTERS CLUSTERS_V1, 6, 33, FC ".transport_socket."
	    "typed_config: transport socket envoy.transport_sockets.tls is "
	    "not supported by canaryd: " NO_TLS_TEXT);
	ut_expect_error(BASE
	    "    transport_socket:\n"
	    "      name: envoy.transport_sockets.upstream_proxy_protocol\n"
	    "      typed_config: { \"@type\": type.googleapis.com/envoy."
	    "extensions.transport_sockets.proxy_protocol.v3."
	    "ProxyProtocolUpstreamTransport }\n", 27, 32, CL0
	    ".transport_socket.typed_config.@type: transport socket envoy."
	    "extensions.transport_sockets.proxy_protocol.v3."
	    "ProxyProtocolUpstreamTransport is not supported by canaryd: "
	    "canaryd does not send the PROXY protocol upstream; remove it and "
	    "read the client address from x-forwarded-for at the backend");
	/* the listener filter, and the filter chain's flag */
	ut_expect_error(
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, port_value: "
	    "10000 } }\n"
	    "    listener_filters:\n"
	    "    - name: envoy.filters.listener.proxy_protocol\n"
	    "      typed_config: { \"@type\": type.googleapis.com/envoy."
	    "extensions.filters.listener.proxy_protocol.v3.ProxyProtocol }\n"
	    "    - name: envoy.filters.listener.tls_inspector\n"
	    "    filter_chains:\n"
	    "    - name: main\n" LSN_FILTERS CLUSTERS_V1, 6, 32,
	    "static_resources.listeners[0].listener_filters[0]: "
	    "type.googleapis.com/envoy.extensions.filters.listener."
	    "proxy_protocol.v3.ProxyProtocol is not supported by canaryd: "
	    NO_PP_TEXT);
	ut_expect_error(
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, port_value: "
	    "10000 } }\n"
	    "    listener_filters:\n"
	    "    - name: envoy.filters.listener.tls_inspector\n"
	    "    filter_chains:\n"
	    "    - name: main\n" LSN_FILTERS CLUSTERS_V1, 5, 13,
	    "static_resources.listeners[0].listener_filters[0]: "
	    "envoy.filters.listener.tls_inspector is not supported by "
	    "canaryd: " NO_TLS_TEXT);
	ut_expect_error(LSN_HEAD "      use_proxy_proto: true\n" LSN_FILTERS
	    CLUSTERS_V1, 6, 24, FC ".use_proxy_proto: true is not supported "
	    "by canaryd: " NO_PP_TEXT);
}

/* ---- every error, every time --------------------------------------- */

static void
every_listener_and_item_past_a_limit_is_checked(void)
{
	struct buf b;
	int i;

	/* the second listener's own mistakes are reported too */
	buf_init(&b);
	buf_puts(&b, "static_resources:\n  listeners:\n");
	buf_puts(&b, "  - address: { socket_address: { address: 127.0.0.1, "
	    "port_value: 10000 } }\n    filter_chains:\n    - name: a\n"
	    LSN_FILTERS);
	buf_puts(&b, "  - address: { socket_address: { address: 127.0.0.1, "
	    "port_value: 0 } }\n    filter_chains: []\n");
	buf_puts(&b, CLUSTERS_V1);
	ut_expect_error(b.b_data, 21, 5, "static_resources.listeners[1]: "
	    "a listener needs a name when there are several; add name: "
	    "listener_1");
	ut_expect_error(b.b_data, 21, 66, "static_resources.listeners[1]."
	    "address.socket_address.port_value: 0 is out of range: must be "
	    "1..65535");
	ut_expect_error(b.b_data, 22, 20, "static_resources.listeners[1]."
	    "filter_chains: canaryd supports exactly one filter chain; put "
	    "every route in its connection manager's route_config");

	/* a cluster past the 64th is still checked */
	buf_reset(&b);
	buf_puts(&b, BASE);
	for (i = 1; i < 64 + 1; i++)
		buf_printf(&b, "  - name: c%d\n", i);
	buf_puts(&b, "    connect_timeout: 5\n");
	ut_expect_error(b.b_data, 89, 22, "static_resources.clusters[64]."
	    "connect_timeout: bad duration \"5\": want a string like \"1s\" "
	    "or \"0.25s\"");
	/* so is a second health check */
	ut_expect_error(BASE "    health_checks:\n"
	    "    - { timeout: 1s, interval: 1s, unhealthy_threshold: 1, "
	    "healthy_threshold: 1, http_health_check: { path: / } }\n"
	    "    - { timeout: 1m, interval: 1s, unhealthy_threshold: 1, "
	    "healthy_threshold: 1, http_health_check: { path: / } }\n",
	    27, 18, CL0 ".health_checks[1].timeout: bad duration \"1m\": "
	    "want a string like \"1s\" or \"0.25s\"");
	buf_free(&b);
}

static void
the_value_of_a_duplicated_key_is_checked(void)
{
	ut_expect_error(BASE "    connect_timeout: 1s\n    connect_timeout: 2\n",
	    26, 5, CL0 ".connect_timeout: duplicate field (also on line 25); "
	    "remove one");
	ut_expect_error(BASE "    connect_timeout: 1s\n    connect_timeout: 2\n",
	    26, 22, CL0 ".connect_timeout: bad duration \"2\": want a string "
	    "like \"1s\" or \"0.25s\"");
	/* a duplicated message is walked whole */
	ut_expect_error(BASE "    outlier_detection: {}\n"
	    "    outlier_detection: { interval: 0s, wibble: 1 }\n", 26, 40,
	    CL0 ".outlier_detection.wibble: unknown field in OutlierDetection "
	    "(not an Envoy v3 field there: check its spelling and its "
	    "place)");
}

/* ---- typos and Envoy fields ---------------------------------------- */

static void
typos_and_refused_envoy_fields_get_different_messages(void)
{
	/* Envoy fields once called "unknown field": taken with a warning,
	 * or refused with what to do */
	expect_warning("static_resources:\n  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, port_value: "
	    "10000 } }\n    traffic_direction: OUTBOUND\n"
	    "    filter_chains:\n    - name: a\n" LSN_FILTERS CLUSTERS_V1, 4, 5,
	    "static_resources.listeners[0].traffic_direction: ignored by "
	    "canaryd: it only labels traffic for tracing and statistics");
	expect_warning(HCM_WITH("", ", start_child_span: true"), 12, 106,
	    HCM ".http_filters[0].typed_config.start_child_span: ignored by "
	    "canaryd: the connection manager's tracing, which makes spans, "
	    "is refused");
	ut_expect_error(HCM_WITH("          local_reply_config: {}\n", ""), 10,
	    11, HCM ".local_reply_config: not supported by canaryd: canaryd "
	    "answers local replies with Envoy's default bodies; remove it (or "
	    "send the page from a direct_response route)");
	/* a typo: the closest name, also for a camelCase key */
	ut_expect_error(HCM_WITH("          stat_prefx: a\n", ""), 10, 11,
	    HCM ".stat_prefx: unknown field in HttpConnectionManager; did you "
	    "mean \"stat_prefix\"?");
	ut_expect_error(HCM_WITH("          routeConfg: {}\n", ""), 10, 11,
	    HCM ".routeConfg: unknown field in HttpConnectionManager; did you "
	    "mean \"route_config\"?");
}

/* ---- what to do instead -------------------------------------------- */

static void
refusals_point_at_canaryds_equivalent(void)
{
	/* an aggregate cluster: the route's fallback */
	ut_expect_error(BASE "    cluster_type:\n"
	    "      name: envoy.clusters.aggregate\n"
	    "      typed_config: { \"@type\": type.googleapis.com/envoy."
	    "extensions.clusters.aggregate.v3.ClusterConfig, clusters: "
	    "[v1] }\n", 27, 32, CL0 ".cluster_type: type.googleapis.com/"
	    "envoy.extensions.clusters.aggregate.v3.ClusterConfig is not "
	    "supported by canaryd: canaryd has no aggregate clusters; use the "
	    "route's fallback option (metadata.filter_metadata.canaryd."
	    "fallback: <cluster>) to send requests on when the picked cluster "
	    "fails");
	/* a pick by a header: the canary sticky option */
	ut_expect_error(HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters: [ { name: v1, weight: 1 } ]\n"
	    "                    header_name: x-pick\n"
	    CLUSTERS_V1, 22, 21, HCM ".route_config.virtual_hosts[0].routes[0]"
	    ".route.weighted_clusters.header_name: not supported by canaryd: "
	    "use the canary sticky option (metadata.filter_metadata.canaryd."
	    "sticky: { header: <name> }) to keep a client on one cluster");
	/* rds: inline, and SIGHUP */
	ut_expect_error(HCM_WITH("          rds: { route_config_name: r }\n", ""),
	    10, 11, HCM ".rds: not supported by canaryd: canaryd loads "
	    "static configuration only; put the route table inline as "
	    "route_config and reload with SIGHUP");
	/* the connection manager's tracing changes requests */
	ut_expect_error(HCM_WITH("          tracing: {}\n", ""), 10, 11,
	    HCM ".tracing: not supported by canaryd: Envoy's tracing changes "
	    "requests (trace context headers upstream, a sampled "
	    "x-request-id), and canaryd makes no spans; remove it and trace at "
	    "the backends");
	/* an empty http_filters: the router's line to add */
	ut_expect_error(
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, port_value: "
	    "1 } }\n"
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": " HCM_T "\n"
	    "          stat_prefix: x\n"
	    "          route_config: {}\n"
	    "          http_filters: []\n", 11, 25, HCM ".http_filters: the "
	    "router filter is required: add - name: envoy.filters.http.router, "
	    "typed_config: { \"@type\": type.googleapis.com/envoy.extensions."
	    "filters.http.router.v3.Router }");
}

/* ---- ignored, with a warning --------------------------------------- */

static void
fields_that_change_nothing_load_with_one_warning_each(void)
{
	const char *yaml =
	    "node: { id: n1 }\n"
	    "stats_sinks: [ { name: envoy.stat_sinks.statsd } ]\n"
	    "stats_config: { use_all_default_tags: false }\n"
	    "overload_manager: { refresh_interval: 0.25s }\n"
	    "tracing: { http: { name: envoy.tracers.zipkin } }\n"
	    "admin:\n"
	    "  profile_path: /tmp/envoy.prof\n"
	    "  address: { socket_address: { address: 127.0.0.1, port_value: "
	    "9901 } }\n"
	    BASE;
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load(yaml, &d);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_nerrors, 0);
	CU_ASSERT_EQUAL(d.cd_n, 5);
	CU_ASSERT(ut_has(&d, 2, 1, 1, "stats_sinks: ignored by canaryd: "
	    "canaryd's statistics are read from its admin port (/stats, "
	    "/stats/prometheus), not pushed"));
	CU_ASSERT(ut_has(&d, 3, 1, 1, "stats_config: ignored by canaryd: "
	    "canaryd's statistic names and histograms are fixed (no tags, no "
	    "inclusion lists)"));
	CU_ASSERT(ut_has(&d, 4, 1, 1, "overload_manager: ignored by canaryd: "
	    "canaryd has no overload manager; circuit_breakers and "
	    "max_connections_per_worker bound its load"));
	CU_ASSERT(ut_has(&d, 5, 1, 1, "tracing: ignored by canaryd: the "
	    "connection manager's tracing, which would use it, is refused"));
	CU_ASSERT(ut_has(&d, 7, 3, 1, "admin.profile_path: ignored by canaryd: "
	    "canaryd has no CPU profiler"));
	/* rendered as written for /config_dump */
	if (c != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_bootstrap,
		    "\"stats_config\":{\"use_all_default_tags\":false}"));
	conf_free(c);
	conf_diags_free(&d);
}

/* ---- fields once taken silently ------------------------------------ */

static void
fields_canaryd_does_not_act_on_warn(void)
{
	struct conf_diags d;
	struct cd_conf *c;

	/* use_remote_address is done (worker/hdr.c): no warning */
	c = ut_load(HCM_WITH("          use_remote_address: true\n"
	    "          skip_xff_append: true\n", ""), &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(d.cd_n, 0);
	CU_ASSERT(c->c_listener->l_use_remote_address);
	CU_ASSERT(c->c_listener->l_skip_xff_append);
	conf_free(c);
	conf_diags_free(&d);
	expect_warning(HCM_WITH("          drain_timeout: 2s\n", ""), 10, 11,
	    HCM ".drain_timeout: accepted, not used by canaryd: it is the "
	    "HTTP/2 GOAWAY grace in Envoy; canaryd's drain is bounded by "
	    "--drain-time-s");
	/* dns_lookup_family is acted on (master/dns.c): no warning */
	c = ut_load(BASE "    dns_lookup_family: V4_ONLY\n", &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(d.cd_n, 0);
	CU_ASSERT_EQUAL(c->c_clusters[0].cl_dns_lookup_family, CD_DNS_V4_ONLY);
	conf_free(c);
	conf_diags_free(&d);
	/* what canaryd does: no warning */
	expect_warning(BASE "    dns_lookup_family: V4_PREFERRED\n"
	    "    per_connection_buffer_limit_bytes: 1024\n", 26, 5, CL0
	    ".per_connection_buffer_limit_bytes: accepted, not used by "
	    "canaryd: upstream buffers have fixed sizes; the listener's "
	    "per_connection_buffer_limit_bytes bounds a request");
	expect_warning(BASE "    circuit_breakers: { thresholds: [ { "
	    "priority: HIGH } ] }\n", 25, 39, CL0 ".circuit_breakers."
	    "thresholds[0]: accepted, not used by canaryd: its routes have no "
	    "priority, so every request counts against the DEFAULT "
	    "thresholds");
}

static void
false_only_and_true_only_fields(void)
{
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load(HCM_WITH("          normalize_path: false\n", ""), &d);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_n, 0);
	conf_free(c);
	conf_diags_free(&d);
	ut_expect_error(HCM_WITH("          normalize_path: true\n", ""), 10, 27,
	    HCM ".normalize_path: true is not supported by canaryd: canaryd "
	    "routes on the path as sent; remove it");
	ut_expect_error(HCM_WITH("          server_header_transformation: "
	    "PASS_THROUGH\n", ""), 10, 41, HCM ".server_header_"
	    "transformation: server_header_transformation PASS_THROUGH is not "
	    "supported by canaryd; use OVERWRITE");
}

static CU_TestInfo tests[] = {
	{ "type_names_and_keys_are_never_cut",
	    type_names_and_keys_are_never_cut },
	{ "raw_buffer_transport_socket_is_taken",
	    raw_buffer_transport_socket_is_taken },
	{ "tls_and_proxy_protocol_are_refused_with_their_reasons",
	    tls_and_proxy_protocol_are_refused_with_their_reasons },
	{ "every_listener_and_item_past_a_limit_is_checked",
	    every_listener_and_item_past_a_limit_is_checked },
	{ "the_value_of_a_duplicated_key_is_checked",
	    the_value_of_a_duplicated_key_is_checked },
	{ "typos_and_refused_envoy_fields_get_different_messages",
	    typos_and_refused_envoy_fields_get_different_messages },
	{ "refusals_point_at_canaryds_equivalent",
	    refusals_point_at_canaryds_equivalent },
	{ "fields_that_change_nothing_load_with_one_warning_each",
	    fields_that_change_nothing_load_with_one_warning_each },
	{ "fields_canaryd_does_not_act_on_warn",
	    fields_canaryd_does_not_act_on_warn },
	{ "false_only_and_true_only_fields", false_only_and_true_only_fields },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_envoy", tests);
