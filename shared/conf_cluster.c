/*
 * Configuration loader: clusters (conf-int.h).  Master only.
 *
 * envoy.config.cluster.v3.Cluster into struct cd_cluster: its type (a
 * STATIC cluster's endpoints are IP literals), its endpoints (every
 * locality's in one array, any number), circuit breaker
 * thresholds by priority, at most one HTTP health check, and outlier
 * detection by consecutive errors.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <yaml.h>

#include "arena.h"
#include "conf.h"
#include "conf-int.h"

static const struct conf_enum enum_cluster_type = { "cluster type",
    (const struct conf_enum_val[]){ { "STATIC", CD_CT_STATIC },
    { "STRICT_DNS", CD_CT_STRICT_DNS }, { "LOGICAL_DNS", CD_CT_LOGICAL_DNS },
    { "EDS", CONF_ENUM_NOSUP }, { "ORIGINAL_DST", CONF_ENUM_NOSUP },
    { NULL, 0 } } };

static const struct conf_enum enum_lb = { "lb_policy",
    (const struct conf_enum_val[]){ { "ROUND_ROBIN", CD_LB_ROUND_ROBIN },
    { "LEAST_REQUEST", CD_LB_LEAST_REQUEST }, { "RING_HASH", CD_LB_RING_HASH },
    { "RANDOM", CD_LB_RANDOM }, { "MAGLEV", CD_LB_MAGLEV },
    { "CLUSTER_PROVIDED", CONF_ENUM_NOSUP },
    { "LOAD_BALANCING_POLICY_CONFIG", CONF_ENUM_NOSUP }, { NULL, 0 } } };

static const struct conf_enum enum_dns_family = { "dns_lookup_family",
    (const struct conf_enum_val[]){ { "AUTO", CD_DNS_AUTO },
    { "V4_ONLY", CD_DNS_V4_ONLY }, { "V6_ONLY", CD_DNS_V6_ONLY },
    { "V4_PREFERRED", CD_DNS_V4_PREFERRED }, { "ALL", CD_DNS_ALL },
    { NULL, 0 } } };

static const struct conf_enum enum_priority = { "priority",
    (const struct conf_enum_val[]){ { "DEFAULT", CD_PRIO_DEFAULT },
    { "HIGH", CD_PRIO_HIGH }, { NULL, 0 } } };

/* Envoy refuses CONNECT for health checks. */
static const struct conf_enum enum_method = { "health check method",
    (const struct conf_enum_val[]){ { "GET", 0 }, { "HEAD", 0 },
    { "POST", 0 }, { "PUT", 0 }, { "DELETE", 0 }, { "OPTIONS", 0 },
    { "TRACE", 0 }, { "PATCH", 0 }, { "CONNECT", CONF_ENUM_NOSUP },
    { NULL, 0 } } };

static const struct conf_enum enum_hc_codec = { "codec_client_type",
    (const struct conf_enum_val[]){ { "HTTP1", 0 },
    { "HTTP2", CONF_ENUM_NOSUP }, { "HTTP3", CONF_ENUM_NOSUP },
    { NULL, 0 } } };

/* ---- endpoints -------------------------------------------------------- */

/* STATIC clusters take IP literals only; the cluster's type was read
 * before load_assignment (table order). */
static void
ep_sockaddr_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_endpoint *ep = base;
	struct in6_addr a6;
	yaml_node_t *an;
	size_t old;

	(void)seen;
	if (w->w_cluster == NULL || w->w_cluster->cl_type != CD_CT_STATIC ||
	    w->w_cluster_type_bad || ep->ep_address == NULL)
		return;
	if (inet_pton(AF_INET, ep->ep_address, &a6) == 1 ||
	    inet_pton(AF_INET6, ep->ep_address, &a6) == 1)
		return;
	an = conf_map_get(w, n, "address");
	old = conf_path_push(w, "address");
	conf_err(w, an != NULL ? an : n, "a STATIC cluster needs an IP "
	    "address, not \"%s\" (type: STRICT_DNS resolves names)",
	    ep->ep_address);
	conf_path_pop(w, old);
}

/* The endpoint's SocketAddress and Address: into struct cd_endpoint. */
static const struct conf_field ep_sockaddr_fields[] = {
	CONF_SOCKADDR_FIELDS(struct cd_endpoint, ep_address, ep_port, CF_POS,
	    offsetof(struct cd_endpoint, ep_pos))
};
static const struct conf_msg msg_ep_sockaddr = { "SocketAddress",
    ep_sockaddr_fields, NULL, ep_sockaddr_done };

static const struct conf_field ep_address_fields[] = {
	CONF_ADDRESS_FIELDS(&msg_ep_sockaddr)
};
static const struct conf_msg msg_ep_address = { "Address",
    ep_address_fields, NULL, NULL };

#define EP(m)	AT(struct cd_endpoint, m)
static const struct conf_field endpoint_fields[] = {
	{ "address", CK_MSG, CF_REQUIRED, .f_msg = &msg_ep_address },
	{ "health_check_config", CK_REJECT, 0, .f_why = "health checks go "
	    "to the endpoint's own address; remove it (or run the check's "
	    "target on the endpoint's port)" },
	{ "hostname", CK_STR, CF_NONEMPTY, .f_max = CD_HOSTNAME_MAX - 1,
	    EP(ep_hostname) },
	{ "additional_addresses", CK_REJECT, 0, .f_why = "an endpoint has one "
	    "address in canaryd; list each address as an endpoint of its "
	    "own" },
	F_END
};
static const struct conf_msg msg_endpoint = { "Endpoint", endpoint_fields,
    NULL, NULL };

static const struct conf_field lb_endpoint_fields[] = {
	{ "endpoint", CK_MSG, CF_REQUIRED, 1, .f_msg = &msg_endpoint },
	{ "endpoint_name", CK_REJECT, 0, .f_oneof = 1, .f_why = "it names "
	    "an endpoint of named_endpoints, which are refused; use "
	    "endpoint" },
	{ "health_status", CK_REJECT, 0, .f_why = "an endpoint's health "
	    "comes from health checks and outlier detection only; remove "
	    "it" },
	{ "metadata", CK_IGNORE, 0, .f_why = "only subset load balancing and "
	    "filters read endpoint metadata, and canaryd has neither" },
	{ "load_balancing_weight", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = UINT32_MAX, .f_def = 1, EP(ep_weight) },
	F_END
};
#undef EP
static const struct conf_msg msg_lb_endpoint = { "LbEndpoint",
    lb_endpoint_fields, NULL, NULL };

static const struct conf_field locality_fields[] = {
	{ "region", CK_STR, .f_flags = CF_NOSTORE },
	{ "zone", CK_STR, .f_flags = CF_NOSTORE },
	{ "sub_zone", CK_STR, .f_flags = CF_NOSTORE },
	F_END
};
static const struct conf_msg msg_locality = { "Locality", locality_fields,
    NULL, NULL };

/* lb_endpoints of every locality go into one cl_endpoints array. */
static void
fn_lb_endpoints(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_cluster *cl = base;
	struct cd_endpoint *ep;
	yaml_node_t *it;
	size_t i, old, n;

	if (conf_want_seq(w, v) == -1)
		return;
	/* every locality's endpoints in one array, grown per locality */
	n = conf_seq_len(v);
	if (n > 0) {
		if ((ep = arena_allocarray(w->w_arena, cl->cl_nendpoints + n,
		    sizeof(*ep))) == NULL) {
			conf_oom(w);
			return;
		}
		if (cl->cl_nendpoints > 0)
			memcpy(ep, cl->cl_endpoints, cl->cl_nendpoints *
			    sizeof(*ep));
		cl->cl_endpoints = ep;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if (i > 0)
			conf_json_raw(w, ",");
		conf_walk_msg(w, it, f->f_msg,
		    &cl->cl_endpoints[cl->cl_nendpoints++], NULL);
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}

#define NO_LOCALITY_LB	"canaryd balances over every endpoint of a " \
	"cluster alike, whatever their locality; remove it"
static const struct conf_field locality_eps_fields[] = {
	{ "locality", CK_MSG, 0, .f_msg = &msg_locality },
	{ "metadata", CK_IGNORE, 0, .f_why = "only filters read locality "
	    "metadata, and canaryd runs none" },
	{ "lb_endpoints", CK_FN, 0, .f_fn = fn_lb_endpoints,
	    .f_like = CK_SEQ, .f_msg = &msg_lb_endpoint,
	    .f_note = "any number, over all the cluster's localities; "
	    "each takes one host record of the shared memory segment" },
	{ "load_balancer_endpoints", CK_REJECT, 0, .f_why = NO_XDS },
	{ "leds_cluster_locality_config", CK_REJECT, 0, .f_why = NO_XDS },
	{ "load_balancing_weight", CK_REJECT, 0, .f_why = "locality weights "
	    "are not supported: " NO_LOCALITY_LB },
	{ "priority", CK_REJECT, 0, .f_why = "priority levels are not "
	    "supported; remove it and use the route's fallback option "
	    "(metadata.filter_metadata.canaryd.fallback) for a backup "
	    "cluster" },
	{ "proximity", CK_REJECT, 0, .f_why = NO_LOCALITY_LB },
	F_END
};
static const struct conf_msg msg_locality_eps = { "LocalityLbEndpoints",
    locality_eps_fields, NULL, NULL };

static void
fn_endpoints(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	conf_walk_each(w, v, f->f_msg, base);
}

#define CL(m)	AT(struct cd_cluster, m)
static const struct conf_field cla_fields[] = {
	{ "cluster_name", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    CL(cl_lb_cluster_name) },
	{ "endpoints", CK_FN, 0, .f_fn = fn_endpoints, .f_like = CK_SEQ,
	    .f_msg = &msg_locality_eps },
	{ "named_endpoints", CK_REJECT, 0, .f_why = "list the endpoints "
	    "under endpoints[].lb_endpoints instead" },
	{ "policy", CK_REJECT, 0, .f_why = "canaryd does no overload drops "
	    "nor priority overprovisioning; remove it" },
	F_END
};
static const struct conf_msg msg_cla = { "ClusterLoadAssignment",
    cla_fields, NULL, NULL };

/* ---- circuit breakers ------------------------------------------------- */

/* The target of a Thresholds entry: its priority, then its limits. */
struct conf_thr {
	int			 t_prio;
	struct cd_thresholds	 t_th;
};

#define T(m)	AT(struct conf_thr, m)
static const struct conf_field thresholds_fields[] = {
	{ "priority", CK_ENUM, CF_DEF, .f_def = CD_PRIO_DEFAULT,
	    .f_enum = &enum_priority, T(t_prio) },
	{ "max_connections", CK_UINT, CF_DEF, U32, .f_def = 1024,
	    T(t_th.th_max_connections) },
	{ "max_pending_requests", CK_UINT, CF_DEF, U32, .f_def = 1024,
	    T(t_th.th_max_pending_requests) },
	{ "max_requests", CK_UINT, CF_DEF, U32, .f_def = 1024,
	    T(t_th.th_max_requests) },
	{ "max_retries", CK_UINT, CF_DEF, U32, .f_def = 3,
	    T(t_th.th_max_retries) },
	{ "retry_budget", CK_REJECT, 0, .f_why = "retry budgets are not "
	    "supported; use max_retries" },
	{ "track_remaining", CK_BOOL, 0, T(t_th.th_track_remaining) },
	{ "max_connection_pools", CK_REJECT, 0, .f_why = "canaryd keeps one "
	    "connection pool per worker and cluster; remove it" },
	F_END
};
#undef T
static const struct conf_msg msg_thresholds = { "CircuitBreakers.Thresholds",
    thresholds_fields, NULL, NULL };

/* thresholds[]: by priority; the first entry of a priority counts. */
static void
fn_thresholds(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_cluster *cl = base;
	struct conf_thr t;
	bool given[CD_NPRIO] = { false };
	yaml_node_t *it;
	size_t i, old;

	if (conf_want_seq(w, v) == -1)
		return;
	conf_json_raw(w, "[");
	for (i = 0; i < conf_seq_len(v) && !w->w_stop; i++) {
		if (i > 0)
			conf_json_raw(w, ",");
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		memset(&t, 0, sizeof(t));
		conf_walk_msg(w, it, f->f_msg, &t, NULL);
		if (t.t_prio == CD_PRIO_HIGH && !given[t.t_prio])
			conf_warn(w, it, "accepted, not used by canaryd: its "
			    "routes have no priority, so every request counts "
			    "against the DEFAULT thresholds");
		if (t.t_prio >= 0 && t.t_prio < CD_NPRIO) {
			if (given[t.t_prio])
				conf_warn(w, it, "second thresholds entry for "
				    "priority %s ignored: the first one "
				    "counts, as in Envoy",
				    t.t_prio == CD_PRIO_HIGH ? "HIGH" :
				    "DEFAULT");
			else {
				given[t.t_prio] = true;
				cl->cl_thresholds[t.t_prio] = t.t_th;
			}
		}
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}

static const struct conf_field breakers_fields[] = {
	{ "thresholds", CK_FN, 0, .f_fn = fn_thresholds, .f_like = CK_SEQ,
	    .f_msg = &msg_thresholds },
	{ "per_host_thresholds", CK_REJECT, 0, .f_why = "canaryd's breakers "
	    "count per cluster; remove it (outlier_detection ejects a "
	    "failing host)" },
	F_END
};
static const struct conf_msg msg_breakers = { "CircuitBreakers",
    breakers_fields, NULL, NULL };

/* ---- health checks ---------------------------------------------------- */

static void
status_range_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_status_range *sr = base;

	(void)seen;
	if (sr->sr_start != 0 && sr->sr_end != 0 && sr->sr_start >= sr->sr_end)
		conf_err(w, n, "start must be below end ([start, end) is "
		    "half-open)");
}

static const struct conf_field status_range_fields[] = {
	{ "start", CK_UINT, CF_REQUIRED, .f_min = 100, .f_max = 599,
	    AT(struct cd_status_range, sr_start) },
	{ "end", CK_UINT, CF_REQUIRED, .f_min = 101, .f_max = 600,
	    AT(struct cd_status_range, sr_end) },
	F_END
};
static const struct conf_msg msg_status_range = { "Int64Range",
    status_range_fields, NULL, status_range_done };

#define HC(m)	AT(struct cd_health_check, m)
static const struct conf_field http_hc_fields[] = {
	{ "host", CK_STR, CF_NONEMPTY, HC(hc_host),
	    .f_defdoc = "the cluster's name" },
	{ "path", CK_STR, CF_REQUIRED | CF_NONEMPTY, HC(hc_path) },
	{ "send", CK_REJECT, 0, .f_why = "an HTTP check sends a request "
	    "without a body; remove it" },
	{ "receive", CK_REJECT, 0, .f_why = "an HTTP check judges the "
	    "status only; remove it and use expected_statuses" },
	{ "response_buffer_size", CK_IGNORE, 0, .f_why = "canaryd reads no "
	    "response body (receive is refused)" },
	{ "request_headers_to_add", CK_REJECT, 0, .f_why = "the check sends "
	    "Host and User-Agent only; remove it" },
	{ "request_headers_to_remove", CK_REJECT, 0, .f_why = "the check "
	    "sends Host and User-Agent only; remove it" },
	{ "expected_statuses", CK_ARR, 0, .f_msg = &msg_status_range,
	    .f_items = CD_MAX_STATUS_RANGES,
	    LIST(struct cd_health_check, hc_expected, hc_nexpected,
	    struct cd_status_range), .f_defdoc = "200 only" },
	{ "retriable_statuses", CK_REJECT, 0, .f_why = "any status outside "
	    "expected_statuses is a failure; remove it and raise "
	    "unhealthy_threshold instead" },
	{ "codec_client_type", CK_ENUM, CF_NOSTORE,
	    .f_enum = &enum_hc_codec },
	{ "service_name_matcher", CK_REJECT, 0, .f_why = "canaryd checks "
	    "every host of the cluster; remove it" },
	{ "method", CK_ENUM, CF_DEF | CF_ENUMSTR, .f_defstr = "GET",
	    .f_enum = &enum_method, HC(hc_method) },
	F_END
};
static const struct conf_msg msg_http_hc = { "HealthCheck.HttpHealthCheck",
    http_hc_fields, NULL, NULL };

static void
hc_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_health_check *hc = base;

	(void)seen;
	conf_pos_set(w, &hc->hc_pos, n);
	if (hc->hc_unhealthy_interval == CD_DUR_UNSET)
		hc->hc_unhealthy_interval = hc->hc_interval;
	if (hc->hc_unhealthy_edge_interval == CD_DUR_UNSET)
		hc->hc_unhealthy_edge_interval = hc->hc_unhealthy_interval;
	if (hc->hc_healthy_edge_interval == CD_DUR_UNSET)
		hc->hc_healthy_edge_interval = hc->hc_interval;
	if (hc->hc_no_traffic_healthy_interval == CD_DUR_UNSET)
		hc->hc_no_traffic_healthy_interval = hc->hc_no_traffic_interval;
}

/* The three checks canaryd does not run share their refusal. */
#define HC_HTTP_ONLY	"canaryd runs HTTP health checks only; use " \
	"http_health_check with a path the backend answers"
#define HC_NO_LOG	"health check events go to canaryd's own log"

static const struct conf_field hc_fields[] = {
	{ "timeout", CK_DUR, CF_REQUIRED | CF_GT, HC(hc_timeout) },
	{ "interval", CK_DUR, CF_REQUIRED | CF_GT, HC(hc_interval) },
	{ "initial_jitter", CK_DUR, CF_DEF, .f_def = 0,
	    HC(hc_initial_jitter) },
	{ "interval_jitter", CK_DUR, CF_DEF, .f_def = 0,
	    HC(hc_interval_jitter) },
	{ "unhealthy_threshold", CK_UINT, CF_REQUIRED, .f_min = 1,
	    .f_max = UINT32_MAX, HC(hc_unhealthy_threshold) },
	{ "healthy_threshold", CK_UINT, CF_REQUIRED, .f_min = 1,
	    .f_max = UINT32_MAX, HC(hc_healthy_threshold) },
	{ "alt_port", CK_REJECT, 0, .f_why = "checks go to the endpoint's "
	    "own port; remove it" },
	{ "reuse_connection", CK_BOOL, CF_DEF, .f_def = 1,
	    HC(hc_reuse_connection) },
	{ "http_health_check", CK_MSG, CF_REQUIRED, 2,
	    .f_msg = &msg_http_hc },
	{ "tcp_health_check", CK_REJECT, 0, 2, .f_why = HC_HTTP_ONLY },
	{ "grpc_health_check", CK_REJECT, 0, 2, .f_why = HC_HTTP_ONLY },
	{ "custom_health_check", CK_REJECT, 0, 2, .f_why = HC_HTTP_ONLY },
	{ "no_traffic_interval", CK_DUR, CF_GT, HC(hc_no_traffic_interval) },
	{ "unhealthy_interval", CK_DUR, CF_GT, HC(hc_unhealthy_interval),
	    .f_defdoc = "interval" },
	{ "unhealthy_edge_interval", CK_DUR, CF_GT,
	    HC(hc_unhealthy_edge_interval),
	    .f_defdoc = "unhealthy_interval" },
	{ "healthy_edge_interval", CK_DUR, CF_GT,
	    HC(hc_healthy_edge_interval), .f_defdoc = "interval" },
	{ "event_log_path", CK_IGNORE, 0, .f_why = HC_NO_LOG },
	{ "event_logger", CK_IGNORE, 0, .f_why = HC_NO_LOG },
	{ "event_service", CK_IGNORE, 0, .f_why = HC_NO_LOG },
	{ "always_log_health_check_failures", CK_IGNORE, 0,
	    .f_why = HC_NO_LOG },
	{ "always_log_health_check_success", CK_IGNORE, 0,
	    .f_why = HC_NO_LOG },
	{ "tls_options", CK_REJECT, 0, .f_why = NO_TLS },
	{ "no_traffic_healthy_interval", CK_DUR, CF_GT,
	    HC(hc_no_traffic_healthy_interval),
	    .f_defdoc = "no_traffic_interval" },
	{ "interval_jitter_percent", CK_UINT, 0, U32,
	    HC(hc_interval_jitter_percent) },
	{ "transport_socket_match_criteria", CK_REJECT, 0, .f_why = NO_TLS },
	F_END
};
#undef HC
static const struct conf_msg msg_health_check = { "HealthCheck", hc_fields,
    NULL, hc_done };

static void
fn_health_checks(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_cluster *cl = base;
	struct cd_health_check *hc;

	if ((hc = arena_alloc(w->w_arena, sizeof(*hc))) == NULL) {
		conf_oom(w);
		return;
	}
	if (conf_walk_one(w, f, v, hc, sizeof(*hc), "canaryd supports one "
	    "health check per cluster; keep the HTTP one", NULL) == 1)
		cl->cl_hc = hc;
}

/* ---- load balancing and upstream connections -------------------------- */

/* healthy_panic_threshold (Percent) into cl_panic_threshold */
static const struct conf_field percent_fields[] = {
	{ "value", CK_PCT, CF_DEF, .f_min = 0, .f_max = 100, .f_def = 0,
	    .f_off = 0, .f_size = sizeof(uint32_t) },
	F_END
};
static const struct conf_msg msg_percent = { "Percent", percent_fields,
    NULL, NULL };

static const struct conf_field common_lb_fields[] = {
	{ "healthy_panic_threshold", CK_MSG, 0, .f_msg = &msg_percent,
	    CL(cl_panic_threshold), .f_defdoc = "50" },
	{ "zone_aware_lb_config", CK_REJECT, 0, .f_why = NO_LOCALITY_LB },
	{ "locality_weighted_lb_config", CK_REJECT, 0,
	    .f_why = NO_LOCALITY_LB },
	{ "update_merge_window", CK_IGNORE, 0, .f_why = "a STRICT_DNS "
	    "cluster's hosts change at once on each resolution" },
	{ "ignore_new_hosts_until_first_hc", CK_REJECT, 0, .f_why = "a new "
	    "host takes traffic before its first check in canaryd; remove "
	    "it" },
	{ "close_connections_on_host_set_change", CK_REJECT, 0,
	    .f_why = "pooled connections to hosts that stay are kept; remove "
	    "it" },
	{ "consistent_hashing_lb_config", CK_REJECT, 0, .f_why = "canaryd has "
	    "no hashing load balancer; remove it (the canary sticky option "
	    "keeps a user on one version)" },
	{ "override_host_status", CK_REJECT, 0, .f_why = "canaryd has no "
	    "host override; remove it" },
	F_END
};
static const struct conf_msg msg_common_lb = { "Cluster.CommonLbConfig",
    common_lb_fields, NULL, NULL };

/* envoy.config.core.v3.HttpProtocolOptions of a cluster: in
 * typed_extension_protocol_options, or in the deprecated field */
static const struct conf_field cluster_proto_fields[] = {
	{ "idle_timeout", CK_DUR, CF_DEF, .f_def = 3600 * CONF_S,
	    CL(cl_idle_timeout) },
	{ "max_connection_duration", CK_REJECT, 0, .f_why = "pooled upstream "
	    "connections live until idle_timeout; remove it" },
	{ "max_headers_count", CK_REJECT, 0, .f_why = "canaryd's upstream "
	    "response header limit is fixed; remove it" },
	{ "max_response_headers_kb", CK_REJECT, 0, .f_why = "canaryd's "
	    "upstream response header limit is fixed; remove it" },
	{ "max_stream_duration", CK_REJECT, 0, .f_why = "use the route's "
	    "timeout" },
	{ "headers_with_underscores_action", CK_REJECT, 0, .f_why = "canaryd "
	    "passes response headers with underscores; remove it" },
	{ "max_requests_per_connection", CK_UINT, CF_DEF, U32, .f_def = 0,
	    CL(cl_max_requests_per_connection) },
	F_END
};
static const struct conf_msg msg_cluster_proto = { "HttpProtocolOptions",
    cluster_proto_fields, NULL, NULL };

#define HTTP11_ONLY	"canaryd speaks HTTP/1.1 upstream; remove it " \
	"(http_protocol_options is the one protocol)"

/* Http1ProtocolOptions upstream: canaryd's HTTP/1.1 has no options. */
static const struct conf_msg msg_upstream_http1 = { "Http1ProtocolOptions",
    conf_no_fields, NULL, NULL };

/* ExplicitHttpConfig and UseDownstreamHttpConfig: HTTP/1.1 either way
 * (the downstream side speaks nothing else). */
static const struct conf_field explicit_http_fields[] = {
	{ "http_protocol_options", CK_MSG, CF_REQUIRED, 1,
	    .f_msg = &msg_upstream_http1 },
	{ "http2_protocol_options", CK_REJECT, 0, 1, .f_why = HTTP11_ONLY },
	{ "http3_protocol_options", CK_REJECT, 0, 1, .f_why = HTTP11_ONLY },
	F_END
};
static const struct conf_msg msg_explicit_http = {
    "HttpProtocolOptions.ExplicitHttpConfig", explicit_http_fields, NULL,
    NULL };
static const struct conf_field downstream_http_fields[] = {
	{ "http_protocol_options", CK_MSG, 0, .f_msg = &msg_upstream_http1 },
	{ "http2_protocol_options", CK_REJECT, 0, .f_why = HTTP11_ONLY },
	{ "http3_protocol_options", CK_REJECT, 0, .f_why = HTTP11_ONLY },
	F_END
};
static const struct conf_msg msg_downstream_http = {
    "HttpProtocolOptions.UseDownstreamHttpConfig", downstream_http_fields,
    NULL, NULL };

/* envoy.extensions.upstreams.http.v3.HttpProtocolOptions */
static const struct conf_field upstream_http_fields[] = {
	{ "common_http_protocol_options", CK_MSG, 0,
	    .f_msg = &msg_cluster_proto },
	{ "upstream_http_protocol_options", CK_REJECT, 0, .f_why = NO_TLS },
	{ "explicit_http_config", CK_MSG, CF_REQUIRED, 1,
	    .f_msg = &msg_explicit_http },
	{ "use_downstream_protocol_config", CK_MSG, CF_REQUIRED, 1,
	    .f_msg = &msg_downstream_http },
	{ "auto_config", CK_REJECT, 0, 1, .f_why = HTTP11_ONLY },
	{ "http_filters", CK_REJECT, 0, .f_why = "canaryd has no upstream HTTP "
	    "filters; remove it" },
	{ "header_validation_config", CK_REJECT, 0, .f_why = "canaryd checks "
	    "headers by RFC 9110 rules of its own; remove it" },
	F_END
};
static const struct conf_msg msg_upstream_http = { "HttpProtocolOptions",
    upstream_http_fields, NULL, NULL };

#define UPSTREAM_HTTP	"envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

static const struct conf_any any_upstream_http[] = {
	{ UPSTREAM_HTTP, &msg_upstream_http, NULL, NULL },
	{ NULL, NULL, NULL, "canaryd's upstream protocol options are "
	    UPSTREAM_HTTP "; use that @type" },
};

/* A map from extension name to its Any: one name canaryd knows. */
static const struct conf_field typed_options_fields[] = {
	{ UPSTREAM_HTTP, CK_ANY, 0, .f_any = any_upstream_http,
	    .f_why = "protocol options" },
	{ "envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions", CK_REJECT,
	    0, .f_why = "canaryd proxies HTTP/1.1, not TCP; remove it" },
	F_END
};
static const struct conf_msg msg_typed_options = {
    "typed_extension_protocol_options", typed_options_fields, NULL, NULL };

/* ---- outlier detection ------------------------------------------------ */

_Static_assert(offsetof(struct cd_outlier, od_set) == 0,
    "conf_done_present() sets od_set");

/* Outlier detection beyond consecutive errors (success rate, failure
 * percentage, local-origin split) is outside canaryd: refused, not
 * silently ignored. */
#define OD(m)	AT(struct cd_outlier, m)
#define OD_NOSUP "only consecutive_5xx and consecutive_gateway_failure " \
	"ejection are implemented; remove it"
static const struct conf_field outlier_fields[] = {
	{ "consecutive_5xx", CK_UINT, CF_DEF, U32, .f_def = 5,
	    OD(od_consecutive_5xx) },
	{ "interval", CK_DUR, CF_DEF | CF_GT, .f_def = 10 * CONF_S,
	    OD(od_interval) },
	{ "base_ejection_time", CK_DUR, CF_DEF | CF_GT, .f_def = 30 * CONF_S,
	    OD(od_base_ejection_time) },
	{ "max_ejection_percent", CK_UINT, CF_DEF, .f_min = 0, .f_max = 100,
	    .f_def = 10, OD(od_max_ejection_percent) },
	{ "enforcing_consecutive_5xx", CK_UINT, CF_DEF, .f_min = 0,
	    .f_max = 100, .f_def = 100, OD(od_enforcing_consecutive_5xx) },
	{ "enforcing_success_rate", CK_REJECT, 0, .f_why = OD_NOSUP },
	{ "success_rate_minimum_hosts", CK_REJECT, 0, .f_why = OD_NOSUP },
	{ "success_rate_request_volume", CK_REJECT, 0, .f_why = OD_NOSUP },
	{ "success_rate_stdev_factor", CK_REJECT, 0, .f_why = OD_NOSUP },
	{ "consecutive_gateway_failure", CK_UINT, CF_DEF, U32, .f_def = 5,
	    OD(od_consecutive_gateway_failure) },
	{ "enforcing_consecutive_gateway_failure", CK_UINT, CF_DEF,
	    .f_min = 0, .f_max = 100, .f_def = 0,
	    OD(od_enforcing_consecutive_gateway_failure) },
	{ "split_external_local_origin_errors", CK_REJECT, 0,
	    .f_why = OD_NOSUP },
	{ "consecutive_local_origin_failure", CK_REJECT, 0,
	    .f_why = OD_NOSUP },
	{ "enforcing_consecutive_local_origin_failure", CK_REJECT, 0,
	    .f_why = OD_NOSUP },
	{ "enforcing_local_origin_success_rate", CK_REJECT, 0,
	    .f_why = OD_NOSUP },
	{ "failure_percentage_threshold", CK_REJECT, 0, .f_why = OD_NOSUP },
	{ "enforcing_failure_percentage", CK_REJECT, 0, .f_why = OD_NOSUP },
	{ "enforcing_failure_percentage_local_origin", CK_REJECT, 0,
	    .f_why = OD_NOSUP },
	{ "failure_percentage_minimum_hosts", CK_REJECT, 0,
	    .f_why = OD_NOSUP },
	{ "failure_percentage_request_volume", CK_REJECT, 0,
	    .f_why = OD_NOSUP },
	{ "max_ejection_time", CK_DUR, CF_DEF | CF_GT, .f_def = 300 * CONF_S,
	    OD(od_max_ejection_time) },
	{ "max_ejection_time_jitter", CK_REJECT, 0, .f_why = OD_NOSUP },
	{ "successful_active_health_check_uneject_host", CK_REJECT, 0,
	    .f_why = OD_NOSUP },
	{ "monitors", CK_REJECT, 0, .f_why = OD_NOSUP },
	{ "always_eject_one_host", CK_REJECT, 0, .f_why = OD_NOSUP },
	F_END
};
#undef OD
static const struct conf_msg msg_outlier = { "OutlierDetection",
    outlier_fields, NULL, conf_done_present };

/* ---- cluster ---------------------------------------------------------- */

/* Cluster.type: an enum, but a refused one must not pass for STATIC
 * (the default) and make every DNS name an error too. */
static void
fn_cluster_type(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct conf_field ef = *f;
	size_t nerr = w->w_nerrors;

	ef.f_kind = CK_ENUM;
	conf_walk_field(w, &ef, NULL, v, base);
	if (w->w_nerrors != nerr)
		w->w_cluster_type_bad = 1;
}

/* the load balancers' settings: their defaults apply without them */
static const struct conf_msg msg_least_request, msg_ring_hash, msg_maglev;

static void
cluster_init(struct cw *w, void *base)
{
	struct cd_cluster *cl = base;
	struct conf_thr t;
	int p;

	w->w_cluster = cl;
	w->w_cluster_type_bad = 0;
	cl->cl_type = CD_CT_STATIC;
	memset(&t, 0, sizeof(t));
	conf_msg_defaults(w, &msg_thresholds, &t);
	for (p = 0; p < CD_NPRIO; p++)
		cl->cl_thresholds[p] = t.t_th;
	/* Percent's own default is 0 (healthy_panic_threshold: {}). */
	cl->cl_panic_threshold = 50;
	conf_msg_defaults(w, &msg_least_request, cl);
	conf_msg_defaults(w, &msg_ring_hash, cl);
	conf_msg_defaults(w, &msg_maglev, cl);
}

static void
cluster_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_cluster *cl = base;
	uint64_t both = conf_field_bit(&conf_msg_cluster,
	    "common_http_protocol_options") | conf_field_bit(&conf_msg_cluster,
	    "typed_extension_protocol_options");
	size_t old;
	char *p;

	conf_pos_set(w, &cl->cl_pos, n);
	/* Envoy would take the typed options and ignore the other */
	if ((seen & both) == both) {
		old = conf_path_push(w, "common_http_protocol_options");
		conf_err(w, conf_map_key(w, n, "common_http_protocol_options"),
		    "deprecated: set it in typed_extension_protocol_options, "
		    "which Envoy reads instead of this");
		conf_path_pop(w, old);
	}
	if (cl->cl_type == CD_CT_LOGICAL_DNS && cl->cl_nendpoints != 1)
		conf_err(w, conf_map_val(w, n, "load_assignment"), "a "
		    "LOGICAL_DNS cluster takes exactly one endpoint (it has "
		    "%zu), as in Envoy; use STRICT_DNS for several",
		    cl->cl_nendpoints);
	if (cl->cl_name == NULL)
		return;
	if ((cl->cl_stat_name = arena_strdup(w->w_arena, cl->cl_name)) ==
	    NULL) {
		conf_oom(w);
		return;
	}
	for (p = cl->cl_stat_name; *p != '\0'; p++)
		if (*p == ':')
			*p = '_';
}

/* Cluster.cluster_type: custom cluster types, by their extension. */
static const struct conf_any any_cluster_type[] = {
	{ "envoy.extensions.clusters.aggregate.v3.ClusterConfig", NULL,
	    "envoy.clusters.aggregate", "canaryd has no aggregate clusters; "
	    "use the route's fallback option "
	    "(metadata.filter_metadata.canaryd.fallback: <cluster>) to send "
	    "requests on when the picked cluster fails" },
	{ "envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig",
	    NULL, "envoy.clusters.dynamic_forward_proxy", "canaryd routes to "
	    "the clusters of the file only; list the backends as STRICT_DNS "
	    "clusters" },
	{ NULL, NULL, NULL, NULL }
};

static const struct conf_enum enum_protocol_selection = {
    "protocol_selection", (const struct conf_enum_val[]){
    { "USE_CONFIGURED_PROTOCOL", 0 }, { "USE_DOWNSTREAM_PROTOCOL", 0 },
    { NULL, 0 } } };

#define NO_POLICY	"canaryd's load balancers are ROUND_ROBIN, RANDOM, " \
	"LEAST_REQUEST, RING_HASH and MAGLEV; remove it"
#define NO_HOSTNAME_HASH "canaryd hashes a host by its address; remove it"

static const struct conf_enum enum_hash_function = { "hash_function",
    (const struct conf_enum_val[]){ { "XX_HASH", 0 },
    { "MURMUR_HASH_2", CONF_ENUM_NOSUP }, { NULL, 0 } } };

static const struct conf_field least_request_fields[] = {
	{ "choice_count", CK_UINT, CF_DEF, .f_min = 2, .f_max = 100,
	    .f_def = 2, CL(cl_lr_choices) },
	{ "active_request_bias", CK_REJECT, 0, .f_why = "canaryd weighs "
	    "hosts by their active requests as the default bias 1.0 does; "
	    "remove it" },
	{ "slow_start_config", CK_REJECT, 0, .f_why = "canaryd has no slow "
	    "start; remove it" },
	{ "locality_lb_config", CK_REJECT, 0, .f_why = "canaryd does no "
	    "zone-aware balancing; remove it" },
	{ "selection_method", CK_REJECT, 0, .f_why = "canaryd draws "
	    "choice_count hosts at random; remove it" },
	F_END
};
static const struct conf_msg msg_least_request = {
    "Cluster.LeastRequestLbConfig", least_request_fields, NULL, NULL };

static void
ring_hash_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_cluster *cl = base;

	(void)seen;
	if (cl->cl_ring_min > cl->cl_ring_max)
		conf_err(w, n, "minimum_ring_size %" PRIu64 " is over "
		    "maximum_ring_size %" PRIu64 "; make it at most that",
		    cl->cl_ring_min, cl->cl_ring_max);
}

static const struct conf_field ring_hash_fields[] = {
	{ "minimum_ring_size", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = 8388608, .f_def = 1024, CL(cl_ring_min) },
	{ "hash_function", CK_ENUM, CF_NOSTORE, .f_enum = &enum_hash_function },
	{ "maximum_ring_size", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = 8388608, .f_def = 8388608, CL(cl_ring_max) },
	{ "use_hostname_for_hashing", CK_REJECT, 0, .f_why =
	    NO_HOSTNAME_HASH },
	{ "hash_balance_factor", CK_REJECT, 0, .f_why = "canaryd does no "
	    "bounded-load hashing; remove it" },
	{ "consistent_hashing_lb_config", CK_REJECT, 0, .f_why =
	    NO_HOSTNAME_HASH },
	{ "locality_weighted_lb_config", CK_REJECT, 0, .f_why = "canaryd does "
	    "no zone-aware balancing; remove it" },
	F_END
};
static const struct conf_msg msg_ring_hash = { "Cluster.RingHashLbConfig",
    ring_hash_fields, NULL, ring_hash_done };

/* A prime, as Envoy wants the table size (the permutations need it). */
static void
maglev_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_cluster *cl = base;
	uint64_t d;
	size_t old;

	(void)seen;
	for (d = 2; d * d <= cl->cl_maglev_size; d++)
		if (cl->cl_maglev_size % d == 0) {
			old = conf_path_push(w, "table_size");
			conf_err(w, conf_map_val(w, n, "table_size"), "%" PRIu64
			    " is not a prime; use a prime such as 65537",
			    cl->cl_maglev_size);
			conf_path_pop(w, old);
			return;
		}
}

static const struct conf_field maglev_fields[] = {
	{ "table_size", CK_UINT, CF_DEF, .f_min = 2, .f_max = 5000011,
	    .f_def = 65537, CL(cl_maglev_size) },
	{ "use_hostname_for_hashing", CK_REJECT, 0, .f_why =
	    NO_HOSTNAME_HASH },
	{ "consistent_hashing_lb_config", CK_REJECT, 0, .f_why =
	    NO_HOSTNAME_HASH },
	{ "locality_weighted_lb_config", CK_REJECT, 0, .f_why = "canaryd does "
	    "no zone-aware balancing; remove it" },
	F_END
};
static const struct conf_msg msg_maglev = { "Cluster.MaglevLbConfig",
    maglev_fields, NULL, maglev_done };
#define NO_UP_H1OPTS	"canaryd speaks plain HTTP/1.1 upstream with fixed " \
	"options; remove it (the pool's idle_timeout goes in " \
	"common_http_protocol_options)"

/* type before load_assignment: ep_sockaddr_done() needs it */
static const struct conf_field cluster_fields[] = {
	{ "transport_socket_matches", CK_REJECT, 0, .f_why = NO_TLS },
	{ "transport_socket_matcher", CK_REJECT, 0, .f_why = NO_TLS },
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    .f_max = CD_NAME_MAX - 1, CL(cl_name) },
	{ "alt_stat_name", CK_STR, CF_NONEMPTY, .f_max = CD_NAME_MAX - 1,
	    CL(cl_alt_stat_name) },
	{ "type", CK_FN, 0, .f_fn = fn_cluster_type, .f_like = CK_ENUM,
	    .f_enum = &enum_cluster_type, CL(cl_type), .f_defdoc = "STATIC" },
	{ "cluster_type", CK_REJECT, 0, .f_any = any_cluster_type,
	    .f_why = "canaryd has no custom cluster types; use type: STATIC "
	    "or STRICT_DNS" },
	{ "eds_cluster_config", CK_REJECT, 0, .f_why = NO_XDS },
	{ "connect_timeout", CK_DUR, CF_DEF | CF_GT, .f_def = 5 * CONF_S,
	    CL(cl_connect_timeout) },
	{ "per_connection_buffer_limit_bytes", CK_UINT, CF_DEF | CF_WARN,
	    .f_min = 1, .f_max = UINT32_MAX, .f_def = CONF_MIB,
	    CL(cl_buffer_limit), .f_why = "upstream buffers have fixed "
	    "sizes; the listener's per_connection_buffer_limit_bytes bounds "
	    "a request", .f_note = "accepted, not used (a warning)" },
	{ "lb_policy", CK_ENUM, CF_DEF, .f_def = CD_LB_ROUND_ROBIN,
	    .f_enum = &enum_lb, CL(cl_lb) },
	{ "load_assignment", CK_MSG, 0, .f_msg = &msg_cla },
	{ "health_checks", CK_FN, 0, .f_fn = fn_health_checks,
	    .f_like = CK_SEQ, .f_msg = &msg_health_check, .f_items = 1,
	    .f_note = "Envoy takes several" },
	{ "max_requests_per_connection", CK_REJECT, 0, .f_why = "Envoy "
	    "deprecated it here; set common_http_protocol_options."
	    "max_requests_per_connection instead" },
	{ "circuit_breakers", CK_MSG, 0, .f_msg = &msg_breakers },
	{ "upstream_http_protocol_options", CK_REJECT, 0, .f_why = NO_TLS },
	{ "common_http_protocol_options", CK_MSG, 0,
	    .f_msg = &msg_cluster_proto },
	{ "http_protocol_options", CK_REJECT, 0, .f_why = NO_UP_H1OPTS },
	{ "http2_protocol_options", CK_REJECT, 0, .f_why = NO_H2 },
	{ "typed_extension_protocol_options", CK_MSG, 0,
	    .f_msg = &msg_typed_options, .f_note = "only "
	    UPSTREAM_HTTP ", for HTTP/1.1" },
	/* Envoy wants more than 1 ms */
	{ "dns_refresh_rate", CK_DUR, CF_DEF | CF_GT, .f_min = CONF_MS,
	    .f_def = 5 * CONF_S, CL(cl_dns_refresh_rate) },
	{ "dns_jitter", CK_IGNORE, 0, .f_why = "names are re-resolved at "
	    "dns_refresh_rate exactly" },
	{ "dns_failure_refresh_rate", CK_IGNORE, 0, .f_why = "a failed "
	    "resolution is tried again at dns_refresh_rate, the last "
	    "addresses kept meanwhile" },
	{ "respect_dns_ttl", CK_IGNORE, 0, .f_why = "names are re-resolved "
	    "at dns_refresh_rate whatever their TTL" },
	{ "dns_lookup_family", CK_ENUM, CF_DEF, .f_enum = &enum_dns_family,
	    .f_def = CD_DNS_V4_PREFERRED, CL(cl_dns_lookup_family),
	    .f_note = "Envoy's default is AUTO (IPv6 first)" },
	{ "dns_resolvers", CK_REJECT, 0, .f_why = NO_DNS_CONF },
	{ "use_tcp_for_dns_lookups", CK_IGNORE, 0, .f_why = "canaryd resolves "
	    "names with the system resolver" },
	{ "dns_resolution_config", CK_REJECT, 0, .f_why = NO_DNS_CONF },
	{ "typed_dns_resolver_config", CK_REJECT, 0, .f_why = NO_DNS_CONF },
	{ "wait_for_warm_on_init", CK_IGNORE, 0, .f_why = "canaryd resolves "
	    "every STRICT_DNS cluster before it serves" },
	{ "outlier_detection", CK_MSG, 0, .f_msg = &msg_outlier,
	    CL(cl_outlier) },
	{ "cleanup_interval", CK_IGNORE, 0, .f_why = "it is for "
	    "ORIGINAL_DST clusters, which canaryd does not have" },
	{ "upstream_bind_config", CK_REJECT, 0, .f_why = "the kernel picks "
	    "the source address of upstream connections; remove it" },
	{ "lb_subset_config", CK_REJECT, 0, .f_why = "canaryd has no subset "
	    "load balancing; make each subset a cluster of its own and split "
	    "with weighted_clusters" },
	{ "ring_hash_lb_config", CK_MSG, 0, .f_msg = &msg_ring_hash },
	{ "maglev_lb_config", CK_MSG, 0, .f_msg = &msg_maglev },
	{ "original_dst_lb_config", CK_REJECT, 0, .f_why = NO_POLICY },
	{ "least_request_lb_config", CK_MSG, 0, .f_msg = &msg_least_request },
	{ "round_robin_lb_config", CK_REJECT, 0, .f_why = "canaryd has no "
	    "slow start; remove it" },
	{ "common_lb_config", CK_MSG, 0, .f_msg = &msg_common_lb },
	{ "transport_socket", CK_MSG, 0, .f_msg = &conf_msg_transport_socket,
	    .f_note = "raw_buffer (plain TCP) only" },
	{ "metadata", CK_IGNORE, 0, .f_why = "only filters and transport "
	    "socket matches read cluster metadata, and canaryd has neither" },
	{ "protocol_selection", CK_ENUM, CF_NOSTORE,
	    .f_enum = &enum_protocol_selection,
	    .f_note = "HTTP/1.1 either way" },
	{ "upstream_connection_options", CK_IGNORE, 0, .f_why = "canaryd sets "
	    "no TCP keepalive upstream; idle pooled connections close after "
	    "idle_timeout" },
	{ "close_connections_on_host_health_failure", CK_REJECT, 0,
	    .f_why = "connections to a host that fails its checks drain on "
	    "their own; remove it" },
	{ "ignore_health_on_host_removal", CK_IGNORE, 0, .f_why = "it is for "
	    "hosts removed by discovery; a STRICT_DNS host that disappears "
	    "is removed at once" },
	{ "filters", CK_REJECT, 0, .f_why = "canaryd runs no upstream network "
	    "filters; remove them" },
	{ "load_balancing_policy", CK_REJECT, 0, .f_why = "use lb_policy: "
	    "ROUND_ROBIN, RANDOM, LEAST_REQUEST, RING_HASH or MAGLEV" },
	{ "lrs_server", CK_REJECT, 0, .f_why = "canaryd sends no load "
	    "reports; remove it and read /stats" },
	{ "lrs_report_endpoint_metrics", CK_REJECT, 0, .f_why = "canaryd "
	    "sends no load reports; remove it and read /stats" },
	{ "track_timeout_budgets", CK_IGNORE, 0, .f_why = "canaryd keeps no "
	    "timeout budget histograms" },
	{ "upstream_config", CK_REJECT, 0, .f_why = "canaryd's upstream is "
	    "HTTP/1.1 over TCP; remove it" },
	{ "track_cluster_stats", CK_IGNORE, 0, .f_why = "canaryd's cluster "
	    "statistics are fixed" },
	{ "preconnect_policy", CK_IGNORE, 0, .f_why = "canaryd opens "
	    "upstream connections when requests need them" },
	{ "connection_pool_per_downstream_connection", CK_REJECT, 0,
	    .f_why = "canaryd pools upstream connections per worker; remove "
	    "it" },
	{ "hosts", CK_REJECT, 0, .f_why = "the field was removed from Envoy's "
	    "v3 API; use load_assignment" },
	F_END
};
#undef CL
const struct conf_msg conf_msg_cluster = { "Cluster", cluster_fields,
    cluster_init, cluster_done };
