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

/* ---- HTTP filters ----------------------------------------------------- */

/* The target of an HttpFilter: what its typed_config was. */
struct conf_hf {
	int	 hf_router;	/* the router */
};

static void
router_init(struct cw *w, void *base)
{
	struct conf_hf *hf = base;

	(void)w;
	hf->hf_router = 1;
}

static const struct conf_msg msg_router = { "Router", conf_no_fields,
    router_init, NULL };

static const struct conf_any any_http_filter[] = {
	{ "envoy.extensions.filters.http.router.v3.Router", &msg_router },
	{ NULL, NULL }
};

static const struct conf_field http_filter_fields[] = {
	{ "name", CK_STR, .f_flags = CF_REQUIRED | CF_NONEMPTY | CF_NOSTORE },
	{ "typed_config", CK_ANY, CF_REQUIRED, .f_any = any_http_filter,
	    .f_why = "http filter" },
	{ "config_discovery", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_http_filter = { "HttpFilter",
    http_filter_fields, NULL, NULL };

static void
fn_http_filters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct conf_hf hf;
	yaml_node_t *it;
	size_t i, n, old, nrouter = 0;

	(void)base;
	if (conf_want_seq(w, v) == -1)
		return;
	if ((n = conf_seq_len(v)) == 0) {
		conf_err(w, v, "the router filter (envoy.filters.http.router) "
		    "is required");
		return;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			conf_json_raw(w, ",");
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		hf.hf_router = 0;
		conf_walk_msg(w, it, f->f_msg, &hf, NULL);
		/* Only the router is accepted at all, so "router last"
		 * comes down to "one router". */
		if (hf.hf_router && nrouter++ > 0)
			conf_err(w, it, "canaryd supports one router filter, "
			    "the last one");
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}

/* ---- HTTP connection manager ------------------------------------------ */

static void
fn_route_config(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	w->w_span_routes[0] = w->w_json.b_len;
	conf_walk_msg(w, v, f->f_msg, base, NULL);
	w->w_span_routes[1] = w->w_json.b_len;
}

/* http_protocol_options.allow_custom_methods: false is what canaryd does;
 * true cannot be had, http-parser knows only the methods of its table. */
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
		    "methods of its own table, so any other method gets 400");
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
	{ "max_connection_duration", CK_REJECT, .f_flags = 0 },
	{ "max_stream_duration", CK_REJECT, .f_flags = 0 },
	{ "headers_with_underscores_action", CK_ENUM, CF_DEF,
	    .f_def = CD_US_ALLOW, .f_enum = &enum_underscores,
	    L(l_headers_with_underscores) },
	{ "max_requests_per_connection", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_hcm_proto = { "HttpProtocolOptions",
    hcm_proto_fields, NULL, NULL };

static const struct conf_field http1_fields[] = {
	{ "allow_absolute_url", CK_REJECT, .f_flags = 0 },
	{ "accept_http_10", CK_BOOL, 0, L(l_accept_http_10) },
	{ "default_host_for_http_10", CK_REJECT, .f_flags = 0 },
	{ "header_key_format", CK_REJECT, .f_flags = 0 },
	{ "enable_trailers", CK_REJECT, .f_flags = 0 },
	{ "allow_chunked_length", CK_REJECT, .f_flags = 0 },
	{ "allow_custom_methods", CK_FN, 0, .f_fn = fn_custom_methods,
	    .f_like = CK_BOOL, .f_note = "false only: other methods get 400" },
	F_END
};
static const struct conf_msg msg_http1 = { "Http1ProtocolOptions",
    http1_fields, NULL, NULL };

static const struct conf_field hcm_fields[] = {
	{ "codec_type", CK_ENUM, CF_NOSTORE, .f_enum = &enum_codec },
	{ "stat_prefix", CK_STR, CF_REQUIRED | CF_NONEMPTY, L(l_stat_prefix) },
	{ "rds", CK_REJECT, 0, 1, .f_why = "use route_config" },
	{ "route_config", CK_FN, CF_REQUIRED, 1, .f_fn = fn_route_config,
	    .f_like = CK_MSG, .f_msg = &conf_msg_route_config,
	    .f_note = "inline only: rds and scoped_routes are refused" },
	{ "scoped_routes", CK_REJECT, 0, 1, .f_why = "use route_config" },
	{ "http_filters", CK_FN, CF_REQUIRED, .f_fn = fn_http_filters,
	    .f_like = CK_SEQ, .f_msg = &msg_http_filter,
	    .f_note = "the router only, once" },
	{ "add_user_agent", CK_REJECT, .f_flags = 0 },
	{ "tracing", CK_REJECT, .f_flags = 0 },
	{ "common_http_protocol_options", CK_MSG, 0,
	    .f_msg = &msg_hcm_proto },
	{ "http_protocol_options", CK_MSG, 0, .f_msg = &msg_http1 },
	{ "http2_protocol_options", CK_REJECT, .f_flags = 0 },
	{ "server_name", CK_STR, CF_DEF | CF_NONEMPTY, .f_defstr = "canaryd",
	    L(l_server_name), .f_note = "Envoy's default is \"envoy\"" },
	{ "server_header_transformation", CK_REJECT, .f_flags = 0 },
	{ "max_request_headers_kb", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = 8192, .f_def = 60, L(l_max_request_headers_kb) },
	{ "stream_idle_timeout", CK_DUR, CF_DEF, .f_def = 300 * CONF_S,
	    L(l_stream_idle_timeout) },
	{ "request_timeout", CK_DUR, CF_DEF, .f_def = 0,
	    L(l_request_timeout) },
	{ "request_headers_timeout", CK_DUR, CF_DEF, .f_def = 0,
	    L(l_request_headers_timeout) },
	{ "drain_timeout", CK_DUR, CF_DEF, .f_def = 5 * CONF_S,
	    L(l_drain_timeout), .f_note = "accepted; the HTTP/2 GOAWAY grace "
	    "in Envoy, canaryd's drain is bounded by --drain-time-s" },
	{ "delayed_close_timeout", CK_REJECT, .f_flags = 0 },
	{ "access_log", CK_ARR, 0, .f_items = CD_MAX_ACCESS_LOGS,
	    .f_why = "(CD_MAX_ACCESS_LOGS)", .f_msg = &conf_msg_access_log,
	    LIST(struct cd_listener, l_access_logs, l_naccess_logs,
	    char *) },
	{ "access_log_options", CK_REJECT, .f_flags = 0 },
	{ "use_remote_address", CK_BOOL, 0, L(l_use_remote_address) },
	{ "xff_num_trusted_hops", CK_REJECT, .f_flags = 0 },
	{ "internal_address_config", CK_REJECT, .f_flags = 0 },
	{ "skip_xff_append", CK_REJECT, .f_flags = 0 },
	{ "via", CK_REJECT, .f_flags = 0 },
	{ "generate_request_id", CK_BOOL, CF_DEF, .f_def = 1,
	    L(l_generate_request_id) },
	{ "preserve_external_request_id", CK_REJECT, .f_flags = 0 },
	{ "always_set_request_id_in_response", CK_BOOL, 0,
	    L(l_always_set_request_id_in_response) },
	{ "forward_client_cert_details", CK_REJECT, 0, .f_why = NO_TLS },
	{ "upgrade_configs", CK_REJECT, .f_flags = 0 },
	{ "normalize_path", CK_REJECT, .f_flags = 0 },
	{ "merge_slashes", CK_REJECT, .f_flags = 0 },
	{ "path_with_escaped_slashes_action", CK_REJECT, .f_flags = 0 },
	{ "strip_matching_host_port", CK_REJECT, 0,
	    .f_why = "use strip_any_host_port" },
	{ "strip_any_host_port", CK_BOOL, 0, L(l_strip_any_host_port) },
	F_END
};
static const struct conf_msg msg_hcm = { "HttpConnectionManager",
    hcm_fields, NULL, NULL };

/* ---- filter chain ----------------------------------------------------- */

static const struct conf_any any_network_filter[] = {
	{ "envoy.extensions.filters.network.http_connection_manager.v3."
	    "HttpConnectionManager", &msg_hcm },
	{ NULL, NULL }
};

static const struct conf_field filter_fields[] = {
	{ "name", CK_STR, .f_flags = CF_REQUIRED | CF_NONEMPTY | CF_NOSTORE },
	{ "typed_config", CK_ANY, CF_REQUIRED, .f_any = any_network_filter,
	    .f_why = "network filter" },
	{ "config_discovery", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_filter = { "Filter", filter_fields, NULL,
    NULL };

static void
fn_filters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	conf_walk_one(w, f, v, base, "canaryd needs exactly one network "
	    "filter, the http_connection_manager", NULL);
}

static const struct conf_field filter_chain_fields[] = {
	{ "filter_chain_match", CK_REJECT, 0,
	    .f_why = "canaryd has one filter chain" },
	{ "filters", CK_FN, CF_REQUIRED, .f_fn = fn_filters,
	    .f_like = CK_SEQ, .f_msg = &msg_filter, .f_items = 1,
	    .f_note = "the http_connection_manager only" },
	{ "transport_socket", CK_REJECT, 0, .f_why = NO_TLS },
	{ "name", CK_STR, .f_flags = CF_NOSTORE },
	F_END
};
static const struct conf_msg msg_filter_chain = { "FilterChain",
    filter_chain_fields, NULL, NULL };

static void
fn_filter_chains(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	conf_walk_one(w, f, v, base,
	    "canaryd supports exactly one filter chain", NULL);
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
	{ "typed_filter_metadata", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_listener_metadata = { "Metadata",
    listener_metadata_fields, NULL, NULL };

static const struct conf_field listener_fields[] = {
	{ "name", CK_STR, 0, .f_max = CD_NAME_MAX - 1, L(l_name) },
	{ "address", CK_MSG, CF_REQUIRED, .f_msg = &conf_msg_address,
	    L(l_addr) },
	{ "filter_chains", CK_FN, CF_REQUIRED, .f_fn = fn_filter_chains,
	    .f_like = CK_SEQ, .f_msg = &msg_filter_chain, .f_items = 1,
	    .f_note = "Envoy takes several" },
	{ "per_connection_buffer_limit_bytes", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = UINT32_MAX, .f_def = CONF_MIB, L(l_buffer_limit) },
	{ "listener_filters", CK_REJECT, .f_flags = 0 },
	{ "default_filter_chain", CK_REJECT, .f_flags = 0 },
	{ "socket_options", CK_REJECT, .f_flags = 0 },
	{ "access_log", CK_REJECT, .f_flags = 0 },
	{ "metadata", CK_MSG, 0, .f_msg = &msg_listener_metadata },
	F_END
};
#undef L
const struct conf_msg conf_msg_listener = { "Listener", listener_fields,
    NULL, NULL };
