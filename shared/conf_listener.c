/*
 * Configuration loader: the listener (conf-int.h).  Master only.
 *
 * envoy.config.listener.v3.Listener with exactly one filter chain holding
 * exactly one network filter, the HttpConnectionManager, whose fields land
 * in struct cd_listener too; its route_config is walked by conf_route.c.
 * Also the Address and SocketAddress the listener and the admin share.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "conf.h"
#include "conf-int.h"

const struct conf_field conf_no_fields[] = { F_END };

const struct conf_enum conf_enum_protocol = { "protocol",
    (const struct conf_enum_val[]){ { "TCP", 0 },
    { "UDP", CONF_ENUM_NOSUP }, { NULL, 0 } } };

static const struct conf_enum enum_codec = { "codec_type",
    (const struct conf_enum_val[]){ { "AUTO", 0 }, { "HTTP1", 1 },
    { "HTTP2", CONF_ENUM_NOSUP }, { "HTTP3", CONF_ENUM_NOSUP },
    { NULL, 0 } } };

static const struct conf_enum enum_underscores = {
    "headers_with_underscores_action",
    (const struct conf_enum_val[]){ { "ALLOW", CD_US_ALLOW },
    { "REJECT_REQUEST", CD_US_REJECT_REQUEST },
    { "DROP_HEADER", CD_US_DROP_HEADER }, { NULL, 0 } } };

static const struct conf_enum enum_server_header = {
    "server_header_transformation",
    (const struct conf_enum_val[]){ { "OVERWRITE", 0 },
    { "APPEND_IF_ABSENT", CONF_ENUM_NOSUP },
    { "PASS_THROUGH", CONF_ENUM_NOSUP }, { NULL, 0 } } };

static const struct conf_enum enum_escaped_slashes = {
    "path_with_escaped_slashes_action",
    (const struct conf_enum_val[]){ { "IMPLEMENTATION_SPECIFIC_DEFAULT", 0 },
    { "KEEP_UNCHANGED", 0 }, { "REJECT_REQUEST", CONF_ENUM_NOSUP },
    { "UNESCAPE_AND_REDIRECT", CONF_ENUM_NOSUP },
    { "UNESCAPE_AND_FORWARD", CONF_ENUM_NOSUP }, { NULL, 0 } } };

/* ---- addresses: into struct cd_sockaddr_conf -------------------------- */

static const struct conf_field sockaddr_fields[] = {
	CONF_SOCKADDR_FIELDS(struct cd_sockaddr_conf, sa_address, sa_port,
	    0, 0)
};
static const struct conf_msg msg_sockaddr = { "SocketAddress",
    sockaddr_fields, NULL, NULL };

static const struct conf_field address_fields[] = {
	CONF_ADDRESS_FIELDS(&msg_sockaddr)
};
const struct conf_msg conf_msg_address = { "Address", address_fields,
    NULL, NULL };

/* ---- transport sockets ------------------------------------------------ */

/* envoy.config.core.v3.TransportSocket of a filter chain or a cluster:
 * raw_buffer is plain TCP, what canaryd speaks; the rest is refused. */
static const struct conf_msg msg_raw_buffer = { "RawBuffer", conf_no_fields,
    NULL, NULL };

static const struct conf_any any_transport_socket[] = {
	{ "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer",
	    &msg_raw_buffer, "envoy.transport_sockets.raw_buffer", NULL },
	{ "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
	    NULL, "envoy.transport_sockets.tls", NO_TLS },
	{ "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
	    NULL, NULL, NO_TLS },
	{ "envoy.extensions.transport_sockets.proxy_protocol.v3."
	    "ProxyProtocolUpstreamTransport", NULL,
	    "envoy.transport_sockets.upstream_proxy_protocol",
	    "canaryd does not send the PROXY protocol upstream; remove it and "
	    "read the client address from x-forwarded-for at the backend" },
	{ "envoy.extensions.transport_sockets.quic.v3."
	    "QuicDownstreamTransport", NULL, "envoy.transport_sockets.quic",
	    NO_H2 },
	{ "envoy.extensions.transport_sockets.starttls.v3."
	    "StartTlsConfig", NULL, "envoy.transport_sockets.starttls",
	    NO_TLS },
	{ NULL, NULL, NULL, "canaryd speaks plain TCP; use raw_buffer or "
	    "remove transport_socket" }
};

static const struct conf_field transport_socket_fields[] = {
	{ "name", CK_STR, .f_flags = CF_NOSTORE },
	{ "typed_config", CK_ANY, CF_REQUIRED, .f_any = any_transport_socket,
	    .f_why = "transport socket" },
	F_END
};
const struct conf_msg conf_msg_transport_socket = { "TransportSocket",
    transport_socket_fields, NULL, NULL };

/* ---- HTTP filters ----------------------------------------------------- */

static void
router_init(struct cw *w, void *base)
{
	struct conf_hf *hf = base;

	(void)w;
	hf->hf_router = 1;
}

#define NO_SPAN		"the connection manager's tracing, which makes " \
	"spans, is refused"
static const struct conf_field router_fields[] = {
	{ "dynamic_stats", CK_IGNORE, 0, .f_why = "canaryd's statistics are "
	    "fixed; it keeps upstream_rq_<code> and latency histograms "
	    "always" },
	{ "start_child_span", CK_IGNORE, 0, .f_why = NO_SPAN },
	{ "upstream_log", CK_REJECT, 0, .f_why = "canaryd logs each request "
	    "once, with %UPSTREAM_HOST%; use the connection manager's "
	    "access_log" },
	{ "upstream_log_options", CK_REJECT, 0, .f_why = "upstream_log is "
	    "refused; use the connection manager's access_log" },
	{ "suppress_envoy_headers", CK_REJECT, 0, .f_why = "canaryd always "
	    "sends x-envoy-upstream-service-time and its other x-envoy "
	    "headers; remove it (strip them in front if they must not "
	    "reach clients)" },
	{ "strict_check_headers", CK_REJECT, 0, .f_why = "canaryd removes "
	    "clients' x-envoy-* headers unread; remove it" },
	{ "respect_expected_rq_timeout", CK_REJECT, 0, .f_why = "canaryd "
	    "removes clients' x-envoy-* headers unread; remove it and set "
	    "the route's timeout" },
	{ "suppress_grpc_request_failure_code_stats", CK_IGNORE, 0,
	    .f_why = "canaryd keeps no gRPC statistics" },
	{ "upstream_http_filters", CK_REJECT, 0, .f_why = "canaryd runs no "
	    "upstream HTTP filters; remove them" },
	{ "reject_connect_request_early_data", CK_IGNORE, 0, .f_why = "a "
	    "CONNECT request is never routed by canaryd (404)" },
	F_END
};
static const struct conf_msg msg_router = { "Router", router_fields,
    router_init, NULL };

/* HTTP filters canaryd knows and refuses, each with what to do instead.
 * REMOVE_AT_BACKEND: the filter's job belongs to the backend. */
#define AT_BACKEND(what) "canaryd does not run this filter; " what \
	" at the backend or in a proxy in front, and remove the filter"
#define HF(name, type)	"envoy.extensions.filters.http." type, NULL, \
	"envoy.filters.http." name
static const struct conf_any any_http_filter[] = {
	{ "envoy.extensions.filters.http.router.v3.Router", &msg_router,
	    "envoy.filters.http.router", NULL },
	{ "envoy.extensions.filters.http.cors.v3.Cors", &conf_msg_cors_filter,
	    "envoy.filters.http.cors", NULL },
	{ "envoy.extensions.filters.http.fault.v3.HTTPFault", &conf_msg_fault,
	    "envoy.filters.http.fault", NULL },
	{ "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
	    &conf_msg_lrl, "envoy.filters.http.local_ratelimit", NULL },
	{ HF("lua", "lua.v3.Lua"), "canaryd runs no scripts; do the work at "
	    "the backend or in a proxy in front, and remove the filter" },
	{ HF("wasm", "wasm.v3.Wasm"), "canaryd runs no Wasm modules; do the "
	    "work at the backend or in a proxy in front, and remove the "
	    "filter" },
	{ HF("rbac", "rbac.v3.RBAC"), "canaryd does no request "
	    "authorization; restrict access at the network or at the "
	    "backend, and remove the filter" },
	{ HF("ext_authz", "ext_authz.v3.ExtAuthz"), AT_BACKEND("authorize "
	    "requests") },
	{ HF("jwt_authn", "jwt_authn.v3.JwtAuthentication"),
	    AT_BACKEND("check tokens") },
	{ HF("oauth2", "oauth2.v3.OAuth2"), AT_BACKEND("run the OAuth2 "
	    "flow") },
	{ HF("basic_auth", "basic_auth.v3.BasicAuth"),
	    AT_BACKEND("check credentials") },
	{ HF("stateful_session", "stateful_session.v3.StatefulSession"),
	    "canaryd's sticky route option keeps a client on one version; "
	    "remove the filter and set the route's "
	    "metadata.filter_metadata.canaryd.sticky: { cookie: <name>, "
	    "set_cookie: true }" },
	{ HF("health_check", "health_check.v3.HealthCheck"), "answer health "
	    "checks with a route instead: match the path and give it "
	    "direct_response: { status: 200 }, then remove the filter" },
	{ HF("buffer", "buffer.v3.Buffer"), "canaryd streams bodies and "
	    "keeps up to per_connection_buffer_limit_bytes for retries; "
	    "remove the filter" },
	{ "envoy.extensions.filters.http.compressor.v3.Compressor",
	    &conf_msg_compressor, "envoy.filters.http.compressor", NULL },
	{ HF("decompressor", "decompressor.v3.Decompressor"),
	    AT_BACKEND("decompress bodies") },
	{ HF("ratelimit", "ratelimit.v3.RateLimit"), NO_RATELIMIT },
	{ HF("grpc_json_transcoder", "grpc_json_transcoder.v3."
	    "GrpcJsonTranscoder"), NO_GRPC },
	{ HF("grpc_web", "grpc_web.v3.GrpcWeb"), NO_GRPC },
	{ HF("grpc_stats", "grpc_stats.v3.FilterConfig"), NO_GRPC },
	{ HF("grpc_http1_bridge", "grpc_http1_bridge.v3.Config"), NO_GRPC },
	{ HF("dynamic_forward_proxy", "dynamic_forward_proxy.v3."
	    "FilterConfig"), "canaryd routes to the clusters of the file "
	    "only; list the backends as clusters and remove the filter" },
	{ HF("header_mutation", "header_mutation.v3.HeaderMutation"),
	    NO_HDR_MUT },
	{ HF("csrf", "csrf.v3.CsrfPolicy"), AT_BACKEND("check request "
	    "origins") },
	{ HF("ext_proc", "ext_proc.v3.ExternalProcessor"),
	    AT_BACKEND("process requests") },
	{ HF("cache", "cache.v3.CacheConfig"), "canaryd caches nothing; put "
	    "a cache in front or at the backend and remove the filter" },
	{ HF("tap", "tap.v3.Tap"), "canaryd records no traffic; use the "
	    "access log and remove the filter" },
	{ HF("adaptive_concurrency", "adaptive_concurrency.v3."
	    "AdaptiveConcurrency"), "use the clusters' circuit_breakers "
	    "and remove the filter" },
	{ HF("admission_control", "admission_control.v3.AdmissionControl"),
	    "use the clusters' circuit_breakers and outlier_detection and "
	    "remove the filter" },
	{ NULL, NULL, NULL, "canaryd runs compressor, cors, fault, "
	    "local_ratelimit and the router only; remove the filter" }
};
#undef HF

static const struct conf_field http_filter_fields[] = {
	{ "name", CK_STR, .f_flags = CF_REQUIRED | CF_NONEMPTY | CF_NOSTORE },
	{ "typed_config", CK_ANY, CF_REQUIRED, .f_any = any_http_filter,
	    .f_why = "http filter" },
	{ "config_discovery", CK_REJECT, 0, .f_why = NO_XDS },
	{ "is_optional", CK_BOOL, CF_NOSTORE, .f_note = "accepted; canaryd "
	    "refuses a filter it does not run either way" },
	{ "disabled", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF, .f_def = 0,
	    .f_why = "a disabled filter is enabled per route through a "
	    "FilterConfig, which canaryd does not take; remove the filter or "
	    "leave it enabled" },
	F_END
};
static const struct conf_msg msg_http_filter = { "HttpFilter",
    http_filter_fields, NULL, NULL };

/* Keep what filter it (item i of the chain) was, in base's listener
 * when there is one (the manager's chain, not an upgrade's). */
static void
http_filter_keep(struct cw *w, yaml_node_t *it, const struct conf_hf *hf,
    struct cd_listener *l, size_t *nrouter)
{
	size_t i;

	if (hf->hf_router) {
		if ((*nrouter)++ > 0)
			conf_err(w, it, "canaryd supports one router filter, "
			    "the last one; remove the others");
		return;
	}
	if (hf->hf_kind < 0)
		return;
	if (*nrouter > 0) {
		conf_err(w, it, "a filter after the router never runs; move "
		    "it before the router");
		return;
	}
	if (l == NULL) {
		conf_err(w, it, "an upgrade's filters may be the router only; "
		    "remove this one (the connection manager's chain runs "
		    "before an upgrade is routed)");
		return;
	}
	for (i = 0; i < l->l_nhf; i++)
		if (l->l_hf_order[i] == hf->hf_kind) {
			conf_err(w, it, "canaryd runs each filter once; remove "
			    "this one and put per-route settings in "
			    "typed_per_filter_config");
			return;
		}
	if (conf_hf_keep(w, hf, &l->l_hf))
		l->l_hf_order[l->l_nhf++] = (uint8_t)hf->hf_kind;
}

static void
fn_http_filters_of(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    struct cd_listener *l)
{
	struct conf_hf *hf;
	yaml_node_t *it;
	size_t i, n, old, nrouter = 0, nerr = w->w_nerrors;

	if (conf_want_seq(w, v) == -1)
		return;
	if ((n = conf_seq_len(v)) == 0) {
		conf_err(w, v, "the router filter is required: add - name: "
		    "envoy.filters.http.router, typed_config: { \"@type\": "
		    CONF_TYPE_PREFIX "%s }", conf_any_want(any_http_filter));
		return;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			conf_json_raw(w, ",");
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if ((hf = conf_scratch(w, sizeof(*hf))) == NULL)
			return;
		hf->hf_kind = -1;
		conf_walk_msg(w, it, f->f_msg, hf, NULL);
		http_filter_keep(w, it, hf, l, &nrouter);
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
	if (nrouter == 0 && w->w_nerrors == nerr)
		conf_err(w, v, "the router filter is required, last: add - "
		    "name: envoy.filters.http.router, typed_config: { "
		    "\"@type\": " CONF_TYPE_PREFIX "%s }",
		    conf_any_want(any_http_filter));
}

static void
fn_http_filters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	fn_http_filters_of(w, f, v, base);
}

/* ---- upgrade_configs -------------------------------------------------- */

/* UpgradeConfig.filters: none means the connection manager's own chain,
 * which is the router; a list of its own may hold the router only. */
static void
fn_upgrade_filters(struct cw *w, const struct conf_field *f,
    yaml_node_t *v, void *base)
{
	if (v->type == YAML_SEQUENCE_NODE && conf_seq_len(v) == 0) {
		conf_json_raw(w, "[]");
		return;
	}
	(void)base;
	fn_http_filters_of(w, f, v, NULL);
}

/* One UpgradeConfig, of the manager or of a route: a type canaryd can
 * tunnel.  CONNECT is a method, not an Upgrade value, and takes a
 * forward proxy. */
void
conf_upgrade_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_upgrade *ug = base;
	yaml_node_t *t;

	(void)seen;
	if (ug->ug_type == NULL)
		return;
	t = conf_map_val(w, n, "upgrade_type");
	if (!conf_text_ok(w, t != NULL ? t : n, ug->ug_type))
		return;
	if (strcasecmp(ug->ug_type, "CONNECT") == 0)
		conf_err(w, t != NULL ? t : n, "upgrade_type CONNECT: canaryd "
		    "does not proxy CONNECT (it has no connect_matcher routes); "
		    "remove this entry and tunnel through a forward proxy");
}

/*
 * The upgrade_configs list of message node n (v[0, nv) as walked): each
 * type once, ignoring case, as Envoy requires.
 */
void
conf_upgrade_check(struct cw *w, yaml_node_t *n, const struct cd_upgrade *v,
    size_t nv)
{
	yaml_node_t *seq, *it, *t;
	size_t i, j, old;

	if ((seq = conf_map_val(w, n, "upgrade_configs")) == NULL ||
	    seq->type != YAML_SEQUENCE_NODE)
		return;
	for (i = 1; i < nv && i < conf_seq_len(seq); i++)
		for (j = 0; j < i; j++) {
			if (v[i].ug_type == NULL || v[j].ug_type == NULL ||
			    strcasecmp(v[i].ug_type, v[j].ug_type) != 0)
				continue;
			it = conf_seq_item(w, seq, i);
			t = it->type == YAML_MAPPING_NODE ?
			    conf_map_val(w, it, "upgrade_type") : NULL;
			old = conf_path_push(w, "upgrade_configs");
			(void)conf_path_index(w, i);
			conf_err(w, t != NULL ? t : it, "upgrade_type \"%s\" "
			    "is listed twice (upgrade_configs[%zu] has it, "
			    "case aside); keep one entry", v[i].ug_type, j);
			conf_path_pop(w, old);
			break;
		}
}

#define UG(m)	AT(struct cd_upgrade, m)
static const struct conf_field hcm_upgrade_fields[] = {
	{ "upgrade_type", CK_STR, CF_REQUIRED | CF_NONEMPTY, UG(ug_type),
	    .f_note = "matched against the Upgrade header ignoring case" },
	{ "filters", CK_FN, 0, .f_fn = fn_upgrade_filters, .f_like = CK_SEQ,
	    .f_msg = &msg_http_filter, .f_note = "empty, or the router only" },
	{ "enabled", CK_BOOL, CF_DEF, .f_def = 1, UG(ug_enabled) },
	F_END
};
#undef UG
static const struct conf_msg msg_hcm_upgrade = { "UpgradeConfig",
    hcm_upgrade_fields, NULL, conf_upgrade_done };

/* ---- HTTP connection manager ------------------------------------------ */

static void
fn_route_config(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	/* each route table has domains of its own */
	w->w_ndomains = 0;
	w->w_nvhosts = 0;
	w->w_span_routes[w->w_li][0] = w->w_json.b_len;
	conf_walk_msg(w, v, f->f_msg, base, NULL);
	w->w_span_routes[w->w_li][1] = w->w_json.b_len;
}

/* http_protocol_options.allow_custom_methods: false is what canaryd does;
 * true cannot be had, the HTTP/1 parser knows only the methods of
 * http-parser's table (shared/http1.c; the words below, which a test
 * pins, still name that library). */
static void
fn_custom_methods(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	bool b;

	(void)f;
	(void)base;
	if (conf_get_bool(w, v, &b) == -1)
		return;
	if (b) {
		conf_err(w, v, "allow_custom_methods: true is not supported by "
		    "canaryd: its HTTP/1 parser (http-parser) reads only the "
		    "methods of its own table, so any other method gets 400; "
		    "remove it");
		return;
	}
	conf_json_raw(w, "false");
}

#define L(m)	AT(struct cd_listener, m)

/* envoy.config.core.v3.HttpProtocolOptions of the HCM */
static const struct conf_field hcm_proto_fields[] = {
	{ "idle_timeout", CK_DUR, CF_DEF, .f_def = 3600 * CONF_S,
	    L(l_idle_timeout) },
	{ "max_headers_count", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = UINT32_MAX, .f_def = 100, L(l_max_headers_count) },
	{ "max_response_headers_kb", CK_REJECT, 0, .f_why = "canaryd's "
	    "response header limit is fixed; remove it" },
	{ "max_connection_duration", CK_REJECT, 0, .f_why = "a client "
	    "connection lives until idle_timeout; remove it" },
	{ "max_stream_duration", CK_REJECT, 0, .f_why = "use the routes' "
	    "timeout" },
	{ "headers_with_underscores_action", CK_ENUM, CF_DEF,
	    .f_def = CD_US_ALLOW, .f_enum = &enum_underscores,
	    L(l_headers_with_underscores) },
	{ "max_requests_per_connection", CK_UINT, CF_DEF, U32, .f_def = 0,
	    L(l_max_requests_per_connection) },
	F_END
};
static const struct conf_msg msg_hcm_proto = { "HttpProtocolOptions",
    hcm_proto_fields, NULL, NULL };

static const struct conf_field http1_fields[] = {
	{ "allow_absolute_url", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF,
	    .f_def = 1, .f_why = "canaryd always takes absolute-form "
	    "request targets; remove it", .f_note = "true only" },
	{ "accept_http_10", CK_BOOL, 0, L(l_accept_http_10) },
	{ "default_host_for_http_10", CK_STR, CF_NONEMPTY, .f_max = 255,
	    L(l_default_host_http10) },
	{ "header_key_format", CK_REJECT, 0, .f_why = "canaryd sends header "
	    "names in lower case; remove it" },
	{ "enable_trailers", CK_REJECT, 0, .f_why = "canaryd passes no "
	    "chunked trailers; remove it" },
	{ "allow_chunked_length", CK_REJECT, 0, .f_why = "canaryd refuses a "
	    "request with both Content-Length and chunked framing, as RFC "
	    "9112 allows; remove it" },
	{ "override_stream_error_on_invalid_http_message", CK_BOOL,
	    CF_NOSTORE | CF_ONLY_DEF, .f_def = 0, .f_why = "canaryd answers "
	    "an invalid request with 400 and closes the connection; remove "
	    "it", .f_note = "false only" },
	{ "send_fully_qualified_url", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF,
	    .f_def = 0, .f_why = "canaryd sends the origin form upstream; "
	    "remove it", .f_note = "false only" },
	{ "use_balsa_parser", CK_IGNORE, 0, .f_why = "canaryd has one HTTP/1 "
	    "parser of its own" },
	{ "allow_custom_methods", CK_FN, 0, .f_fn = fn_custom_methods,
	    .f_like = CK_BOOL, .f_note = "false only: other methods get 400" },
	{ "ignore_http_11_upgrade", CK_REJECT, 0, .f_why = "canaryd does not "
	    "serve an Upgrade request as a plain one (h2c aside); remove it "
	    "and leave the type out of upgrade_configs, which answers 403" },
	F_END
};
static const struct conf_msg msg_http1 = { "Http1ProtocolOptions",
    http1_fields, NULL, NULL };

#define NO_XFF_TRUST	"canaryd passes x-forwarded-for on as the client " \
	"sent it and trusts none of its hops; remove it"
#define NO_CLIENT_CERT	NO_TLS
static const struct conf_field hcm_fields[] = {
	{ "codec_type", CK_ENUM, CF_NOSTORE, .f_enum = &enum_codec },
	{ "stat_prefix", CK_STR, CF_REQUIRED | CF_NONEMPTY, L(l_stat_prefix) },
	{ "rds", CK_REJECT, 0, 1, .f_why = "canaryd loads static "
	    "configuration only; put the route table inline as route_config "
	    "and reload with SIGHUP" },
	{ "route_config", CK_FN, CF_REQUIRED, 1, .f_fn = fn_route_config,
	    .f_like = CK_MSG, .f_msg = &conf_msg_route_config,
	    .f_note = "inline only: rds and scoped_routes are refused" },
	{ "scoped_routes", CK_REJECT, 0, 1, .f_why = "canaryd has one route "
	    "table; put it inline as route_config" },
	{ "http_filters", CK_FN, CF_REQUIRED, .f_fn = fn_http_filters,
	    .f_like = CK_SEQ, .f_msg = &msg_http_filter,
	    .f_note = "cors, fault, local_ratelimit (each once), then the "
	    "router" },
	{ "add_user_agent", CK_REJECT, 0, .f_why = "canaryd adds no "
	    "user-agent nor x-envoy-downstream-service-cluster header; "
	    "remove it" },
	{ "tracing", CK_REJECT, 0, .f_why = "Envoy's tracing changes "
	    "requests (trace context headers upstream, a sampled "
	    "x-request-id), and canaryd makes no spans; remove it and trace "
	    "at the backends" },
	{ "common_http_protocol_options", CK_MSG, 0,
	    .f_msg = &msg_hcm_proto },
	{ "http1_safe_max_connection_duration", CK_IGNORE, 0, .f_why = "it "
	    "goes with max_connection_duration, which canaryd refuses" },
	{ "http_protocol_options", CK_MSG, 0, .f_msg = &msg_http1 },
	{ "http2_protocol_options", CK_REJECT, 0, .f_why = NO_H2 },
	{ "http3_protocol_options", CK_REJECT, 0, .f_why = NO_H2 },
	{ "server_name", CK_STR, CF_DEF | CF_NONEMPTY, .f_defstr = "canaryd",
	    L(l_server_name), .f_note = "Envoy's default is \"envoy\"" },
	{ "server_header_transformation", CK_ENUM, CF_NOSTORE,
	    .f_enum = &enum_server_header,
	    .f_note = "OVERWRITE only: the server header is server_name" },
	{ "scheme_header_transformation", CK_REJECT, 0, .f_why = "canaryd "
	    "speaks http only and keeps the scheme; remove it" },
	{ "max_request_headers_kb", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = 8192, .f_def = 60, L(l_max_request_headers_kb) },
	{ "stream_idle_timeout", CK_DUR, CF_DEF, .f_def = 300 * CONF_S,
	    L(l_stream_idle_timeout) },
	{ "stream_flush_timeout", CK_IGNORE, 0, .f_why = "it bounds HTTP/2 "
	    "flow control waits, which HTTP/1.1 has none of" },
	{ "request_timeout", CK_DUR, CF_DEF, .f_def = 0,
	    L(l_request_timeout) },
	{ "request_headers_timeout", CK_DUR, CF_DEF, .f_def = 0,
	    L(l_request_headers_timeout) },
	{ "drain_timeout", CK_DUR, CF_DEF | CF_WARN, .f_def = 5 * CONF_S,
	    L(l_drain_timeout), .f_why = "it is the HTTP/2 GOAWAY grace in "
	    "Envoy; canaryd's drain is bounded by --drain-time-s",
	    .f_note = "accepted, not used (a warning)" },
	{ "delayed_close_timeout", CK_IGNORE, 0, .f_why = "canaryd closes a "
	    "connection once its last response is written" },
	{ "access_log", CK_ARR, 0, .f_items = CD_MAX_ACCESS_LOGS,
	    .f_why = "(CD_MAX_ACCESS_LOGS)", .f_msg = &conf_msg_access_log,
	    LIST(struct cd_listener, l_access_logs, l_naccess_logs,
	    struct cd_alog) },
	{ "access_log_flush_interval", CK_IGNORE, 0, .f_why = "canaryd logs "
	    "a request when it ends" },
	{ "flush_access_log_on_new_request", CK_IGNORE, 0, .f_why = "canaryd "
	    "logs a request when it ends" },
	{ "access_log_options", CK_IGNORE, 0, .f_why = "canaryd logs a "
	    "request when it ends" },
	{ "use_remote_address", CK_BOOL, 0, L(l_use_remote_address),
	    .f_note = "no address is internal, as in Envoy since 1.33" },
	{ "xff_num_trusted_hops", CK_REJECT, 0, .f_why = NO_XFF_TRUST },
	{ "original_ip_detection_extensions", CK_REJECT, 0,
	    .f_why = NO_XFF_TRUST },
	{ "early_header_mutation_extensions", CK_REJECT, 0,
	    .f_why = NO_HDR_MUT },
	{ "internal_address_config", CK_REJECT, 0, .f_why = NO_XFF_TRUST },
	{ "skip_xff_append", CK_BOOL, 0, L(l_skip_xff_append) },
	{ "via", CK_REJECT, 0, .f_why = "canaryd adds no via header; remove "
	    "it" },
	{ "generate_request_id", CK_BOOL, CF_DEF, .f_def = 1,
	    L(l_generate_request_id) },
	{ "preserve_external_request_id", CK_REJECT, 0, .f_why = "canaryd "
	    "keeps a client's x-request-id and makes one when there is none; "
	    "remove it" },
	{ "always_set_request_id_in_response", CK_BOOL, 0,
	    L(l_always_set_request_id_in_response) },
	{ "forward_client_cert_details", CK_REJECT, 0,
	    .f_why = NO_CLIENT_CERT },
	{ "set_current_client_cert_details", CK_REJECT, 0,
	    .f_why = NO_CLIENT_CERT },
	{ "forward_client_cert_matcher", CK_REJECT, 0,
	    .f_why = NO_CLIENT_CERT },
	{ "proxy_100_continue", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF, .f_def = 0,
	    .f_why = "canaryd answers Expect: 100-continue itself; remove "
	    "it", .f_note = "false only" },
	{ "represent_ipv4_remote_address_as_ipv4_mapped_ipv6", CK_BOOL,
	    CF_NOSTORE | CF_ONLY_DEF, .f_def = 0, .f_why = "canaryd writes an "
	    "IPv4-mapped client address as IPv4; remove it",
	    .f_note = "false only" },
	{ "upgrade_configs", CK_ARR, 0, .f_msg = &msg_hcm_upgrade,
	    .f_items = CD_MAX_UPGRADES, .f_why = "(CD_MAX_UPGRADES)",
	    LIST(struct cd_listener, l_upgrades, l_nupgrades,
	    struct cd_upgrade), .f_note = "after 101 the connection is a "
	    "byte tunnel both ways" },
	{ "normalize_path", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF, .f_def = 0,
	    .f_why = "canaryd routes on the path as sent; remove it",
	    .f_note = "false only" },
	{ "merge_slashes", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF, .f_def = 0,
	    .f_why = "canaryd routes on the path as sent; remove it",
	    .f_note = "false only" },
	{ "path_with_escaped_slashes_action", CK_ENUM, CF_NOSTORE,
	    .f_enum = &enum_escaped_slashes,
	    .f_note = "paths are routed as sent" },
	{ "request_id_extension", CK_REJECT, 0, .f_why = "canaryd's request "
	    "ids are random UUIDs; remove it" },
	{ "local_reply_config", CK_REJECT, 0, .f_why = "canaryd answers local "
	    "replies with Envoy's default bodies; remove it (or send the "
	    "page from a direct_response route)" },
	{ "strip_matching_host_port", CK_REJECT, 0, .f_why = "use "
	    "strip_any_host_port, which canaryd has" },
	{ "strip_any_host_port", CK_BOOL, 0, L(l_strip_any_host_port) },
	{ "stream_error_on_invalid_http_message", CK_BOOL,
	    CF_NOSTORE | CF_ONLY_DEF, .f_def = 0, .f_why = "canaryd answers "
	    "an invalid request with 400 and closes the connection; remove "
	    "it", .f_note = "false only" },
	{ "path_normalization_options", CK_REJECT, 0, .f_why = "canaryd "
	    "routes on the path as sent; remove it" },
	{ "strip_trailing_host_dot", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF,
	    .f_def = 0, .f_why = "canaryd matches the host as sent; remove "
	    "it", .f_note = "false only" },
	{ "proxy_status_config", CK_REJECT, 0, .f_why = "canaryd adds no "
	    "proxy-status header; remove it" },
	{ "typed_header_validation_config", CK_REJECT, 0, .f_why = "canaryd "
	    "validates headers by RFC 9110 and 9112 itself; remove it" },
	{ "append_x_forwarded_port", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF,
	    .f_def = 0, .f_why = "canaryd adds no x-forwarded-port; remove "
	    "it", .f_note = "false only" },
	{ "append_local_overload", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF,
	    .f_def = 0, .f_why = "canaryd has no overload manager; remove it",
	    .f_note = "false only" },
	{ "add_proxy_protocol_connection_state", CK_IGNORE, 0, .f_why =
	    "canaryd does not speak the PROXY protocol" },
	{ "forward_proto_config", CK_REJECT, 0, .f_why = "canaryd sets "
	    "x-forwarded-proto: http when the client did not; remove it" },
	F_END
};
static void
hcm_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_listener *l = base;

	(void)seen;
	conf_upgrade_check(w, n, l->l_upgrades, l->l_nupgrades);
	conf_hf_resolve(w, n, l);
}

static const struct conf_msg msg_hcm = { "HttpConnectionManager",
    hcm_fields, NULL, hcm_done };

/* ---- filter chain ----------------------------------------------------- */

#define NF(name, type)	"envoy.extensions.filters.network." type, NULL, \
	"envoy.filters.network." name
#define NO_L4		"canaryd proxies HTTP/1.1 only; serve this " \
	"protocol through another proxy and remove the filter"
static const struct conf_any any_network_filter[] = {
	{ "envoy.extensions.filters.network.http_connection_manager.v3."
	    "HttpConnectionManager", &msg_hcm,
	    "envoy.filters.network.http_connection_manager", NULL },
	{ NF("tcp_proxy", "tcp_proxy.v3.TcpProxy"), NO_L4 },
	{ NF("redis_proxy", "redis_proxy.v3.RedisProxy"), NO_L4 },
	{ NF("mongo_proxy", "mongo_proxy.v3.MongoProxy"), NO_L4 },
	{ NF("thrift_proxy", "thrift_proxy.v3.ThriftProxy"), NO_L4 },
	{ NF("dubbo_proxy", "dubbo_proxy.v3.DubboProxy"), NO_L4 },
	{ NF("echo", "echo.v3.Echo"), NO_L4 },
	{ NF("rbac", "rbac.v3.RBAC"), "canaryd does no connection "
	    "authorization; restrict access at the network and remove the "
	    "filter" },
	{ NF("ext_authz", "ext_authz.v3.ExtAuthz"), "canaryd does no "
	    "connection authorization; restrict access at the network and "
	    "remove the filter" },
	{ NF("local_ratelimit", "local_ratelimit.v3.LocalRateLimit"),
	    "canaryd does not rate limit connections; remove it and limit "
	    "requests with the HTTP local_ratelimit filter (or connections "
	    "with max_connections_per_worker)" },
	{ NF("connection_limit", "connection_limit.v3.ConnectionLimit"),
	    "use the listener's max_connections_per_worker "
	    "(metadata.filter_metadata.canaryd) and remove the filter" },
	{ NULL, NULL, NULL, "canaryd runs the HTTP connection manager "
	    "only; remove the filter" }
};
#undef NF

static const struct conf_field filter_fields[] = {
	{ "name", CK_STR, .f_flags = CF_REQUIRED | CF_NONEMPTY | CF_NOSTORE },
	{ "typed_config", CK_ANY, CF_REQUIRED, .f_any = any_network_filter,
	    .f_why = "network filter" },
	{ "config_discovery", CK_REJECT, 0, .f_why = NO_XDS },
	F_END
};
static const struct conf_msg msg_filter = { "Filter", filter_fields, NULL,
    NULL };

static void
fn_filters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	conf_walk_one(w, f, v, base, sizeof(struct cd_listener), "canaryd "
	    "needs exactly one network filter, the http_connection_manager; "
	    "remove the others", NULL);
}

static const struct conf_field filter_chain_fields[] = {
	{ "filter_chain_match", CK_REJECT, 0, .f_why = "canaryd has one "
	    "filter chain, used for every connection; remove it" },
	{ "filters", CK_FN, CF_REQUIRED, .f_fn = fn_filters,
	    .f_like = CK_SEQ, .f_msg = &msg_filter, .f_items = 1,
	    .f_note = "the http_connection_manager only" },
	{ "use_proxy_proto", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF, .f_def = 0,
	    .f_why = NO_PROXY_PROTO, .f_note = "false only" },
	{ "metadata", CK_IGNORE, 0, .f_why = "only filters read filter chain "
	    "metadata, and canaryd runs none" },
	{ "transport_socket", CK_MSG, 0, .f_msg = &conf_msg_transport_socket,
	    .f_note = "raw_buffer (plain TCP) only" },
	{ "transport_socket_connect_timeout", CK_IGNORE, 0, .f_why = "plain "
	    "TCP has no handshake to time" },
	{ "name", CK_STR, .f_flags = CF_NOSTORE },
	F_END
};
static const struct conf_msg msg_filter_chain = { "FilterChain",
    filter_chain_fields, NULL, NULL };

static void
fn_filter_chains(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	conf_walk_one(w, f, v, base, sizeof(struct cd_listener), "canaryd "
	    "supports exactly one filter chain; put every route in its "
	    "connection manager's route_config", NULL);
}

/* ---- listener --------------------------------------------------------- */

/* Listener metadata.filter_metadata.canaryd: canaryd's listener options */
static const struct conf_field listener_canaryd_fields[] = {
	{ "max_connections_per_worker", CK_UINT, CF_DEF, .f_min = 0,
	    .f_max = 1048576, .f_def = 0, L(l_max_connections_per_worker) },
	F_END
};
static const struct conf_msg msg_listener_canaryd = {
    "canaryd listener metadata", listener_canaryd_fields, NULL, NULL };

static const struct conf_field listener_metadata_fields[] = {
	{ "filter_metadata", CK_FN, 0, .f_fn = conf_fn_filter_metadata,
	    .f_like = CK_STRUCT, .f_msg = &msg_listener_canaryd },
	{ "typed_filter_metadata", CK_REJECT, 0, .f_why = "canaryd reads "
	    "filter_metadata only; move the values there" },
	F_END
};
static const struct conf_msg msg_listener_metadata = { "Metadata",
    listener_metadata_fields, NULL, NULL };

/* Listener filters: none runs; each known one says what to do. */
#define LF(name, type)	"envoy.extensions.filters.listener." type, NULL, \
	"envoy.filters.listener." name
static const struct conf_any any_listener_filter[] = {
	{ LF("proxy_protocol", "proxy_protocol.v3.ProxyProtocol"),
	    NO_PROXY_PROTO },
	{ LF("tls_inspector", "tls_inspector.v3.TlsInspector"), NO_TLS },
	{ LF("http_inspector", "http_inspector.v3.HttpInspector"), "canaryd "
	    "speaks HTTP/1.1 on every connection; remove the filter" },
	{ LF("original_dst", "original_dst.v3.OriginalDst"), "canaryd routes "
	    "to the clusters of the file only; remove the filter" },
	{ LF("original_src", "original_src.v3.OriginalSrc"), "the kernel "
	    "picks the source address of upstream connections; remove the "
	    "filter" },
	{ NULL, NULL, NULL, NULL }
};
#undef LF

#define NO_LF_RUN	"no listener filter runs in canaryd"
static const struct conf_field listener_fields[] = {
	{ "name", CK_STR, 0, .f_max = CD_NAME_MAX - 1, L(l_name) },
	{ "address", CK_MSG, CF_REQUIRED, .f_msg = &conf_msg_address,
	    L(l_addr) },
	{ "additional_addresses", CK_REJECT, 0, .f_why = "a listener has one "
	    "address in canaryd; bind 0.0.0.0 (or ::) to take them all" },
	{ "stat_prefix", CK_REJECT, 0, .f_why = "listener statistics are "
	    "named listener.<address>_<port>; remove it" },
	{ "filter_chains", CK_FN, CF_REQUIRED, .f_fn = fn_filter_chains,
	    .f_like = CK_SEQ, .f_msg = &msg_filter_chain, .f_items = 1,
	    .f_note = "Envoy takes several" },
	{ "fcds_config", CK_REJECT, 0, .f_why = NO_XDS },
	{ "filter_chain_matcher", CK_REJECT, 0, .f_why = "canaryd has one "
	    "filter chain, used for every connection; remove it" },
	{ "use_original_dst", CK_REJECT, 0, .f_why = "canaryd routes to the "
	    "clusters of the file only; remove it" },
	{ "default_filter_chain", CK_REJECT, 0, .f_why = "canaryd has one "
	    "filter chain; move it into filter_chains" },
	{ "per_connection_buffer_limit_bytes", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = UINT32_MAX, .f_def = CONF_MIB, L(l_buffer_limit) },
	{ "metadata", CK_MSG, 0, .f_msg = &msg_listener_metadata },
	{ "deprecated_v1", CK_REJECT, 0, .f_why = "the field was removed from "
	    "Envoy's v3 API; remove it" },
	{ "drain_type", CK_IGNORE, 0, .f_why = "canaryd drains on SIGTERM "
	    "and /drain_listeners only, never on a reload" },
	{ "listener_filters", CK_REJECT, 0, .f_any = any_listener_filter,
	    .f_why = "canaryd runs no listener filters; remove them" },
	{ "listener_filters_timeout", CK_IGNORE, 0, .f_why = NO_LF_RUN },
	{ "continue_on_listener_filters_timeout", CK_IGNORE, 0,
	    .f_why = NO_LF_RUN },
	{ "transparent", CK_REJECT, 0, .f_why = "canaryd binds its own "
	    "address only; remove it" },
	{ "freebind", CK_REJECT, 0, .f_why = "canaryd binds addresses the "
	    "host has; remove it" },
	{ "socket_options", CK_REJECT, 0, .f_why = NO_SOCKOPT },
	{ "tcp_fast_open_queue_length", CK_IGNORE, 0, .f_why = "canaryd does "
	    "not enable TCP Fast Open; clients connect as usual" },
	{ "traffic_direction", CK_IGNORE, 0, .f_why = "it only labels "
	    "traffic for tracing and statistics" },
	{ "udp_listener_config", CK_REJECT, 0, .f_why = "canaryd listens on "
	    "TCP only; remove it" },
	{ "api_listener", CK_REJECT, 0, .f_why = "canaryd has no API "
	    "listeners; give the listener an address" },
	{ "connection_balance_config", CK_IGNORE, 0, .f_why = "each worker "
	    "has its own SO_REUSEPORT socket, and the kernel spreads "
	    "connections over them" },
	{ "reuse_port", CK_IGNORE, 0, .f_why = "each worker always has its "
	    "own SO_REUSEPORT socket" },
	{ "enable_reuse_port", CK_IGNORE, 0, .f_why = "each worker always "
	    "has its own SO_REUSEPORT socket" },
	{ "access_log", CK_REJECT, 0, .f_why = "canaryd logs requests, not "
	    "connections; use the connection manager's access_log" },
	{ "tcp_backlog_size", CK_IGNORE, 0, .f_why = "canaryd's listen "
	    "backlog is the kernel's maximum (somaxconn)" },
	{ "max_connections_to_accept_per_socket_event", CK_IGNORE, 0,
	    .f_why = "a worker accepts until its socket has no connection "
	    "left" },
	{ "bind_to_port", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF, .f_def = 1,
	    .f_why = "canaryd's listener binds its address; remove it",
	    .f_note = "true only" },
	{ "internal_listener", CK_REJECT, 0, .f_why = "canaryd has no "
	    "internal listeners; give the listener an address" },
	{ "enable_mptcp", CK_REJECT, 0, .f_why = "canaryd listens with plain "
	    "TCP; remove it" },
	{ "ignore_global_conn_limit", CK_IGNORE, 0, .f_why = "canaryd has no "
	    "global connection limit" },
	{ "bypass_overload_manager", CK_IGNORE, 0, .f_why = "canaryd has no "
	    "overload manager" },
	{ "tcp_keepalive", CK_IGNORE, 0, .f_why = "canaryd sets no TCP "
	    "keepalive on client connections; idle ones close after "
	    "idle_timeout" },
	F_END
};
#undef L
const struct conf_msg conf_msg_listener = { "Listener", listener_fields,
    NULL, NULL };
