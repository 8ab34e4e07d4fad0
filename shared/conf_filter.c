/*
 * Configuration loader: the HTTP filters before the router (conf-int.h).
 * Master only.
 *
 * cors, fault and local_ratelimit: their messages, each walked into a
 * struct conf_hf and copied into the arena; typed_per_filter_config of a
 * route, a virtual host or the route configuration (keyed by the
 * filter's name, the configuration's "@type" saying which filter it is
 * for); the route's and virtual host's legacy cors field; and, once the
 * connection manager is walked, what applies on each route
 * (conf_hf_resolve(): the most specific level's, for a filter the chain
 * holds).
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "arena.h"
#include "conf.h"
#include "conf-int.h"

#define HF(m)	AT(struct conf_hf, m)
#define PC(m)	AT(struct cd_pct, m)

/* ---- envoy.type.v3.FractionalPercent, RuntimeFractionalPercent ------- */

static const struct conf_field pct_fields[] = {
	{ "numerator", CK_UINT, 0, U32, PC(pc_num) },
	{ "denominator", CK_ENUM, CF_DEF, .f_def = 100,
	    .f_enum = &conf_enum_denominator, PC(pc_den) },
	F_END
};
static const struct conf_msg msg_pct = { "FractionalPercent", pct_fields,
    NULL, NULL };

static const struct conf_field rt_pct_fields[] = {
	{ "default_value", CK_MSG, CF_REQUIRED, .f_msg = &msg_pct },
	{ "runtime_key", CK_STR, CF_NOSTORE, .f_note = "not read: the "
	    "default_value applies" },
	F_END
};
static const struct conf_msg msg_rt_pct = { "RuntimeFractionalPercent",
    rt_pct_fields, NULL, NULL };

/* ---- local_ratelimit --------------------------------------------------- */

#define TB(m)	AT(struct cd_token_bucket, m)
static const struct conf_field token_bucket_fields[] = {
	{ "max_tokens", CK_UINT, CF_REQUIRED, .f_min = 1,
	    .f_max = UINT32_MAX, TB(tb_max_tokens) },
	{ "tokens_per_fill", CK_UINT, CF_DEF, .f_min = 1, .f_max = UINT32_MAX,
	    .f_def = 1, TB(tb_tokens_per_fill) },
	{ "fill_interval", CK_DUR, CF_REQUIRED | CF_GT, .f_min = 0,
	    TB(tb_fill_interval) },
	F_END
};
#undef TB
static const struct conf_msg msg_token_bucket = { "TokenBucket",
    token_bucket_fields, NULL, NULL };

/* envoy.type.v3.HttpStatus.code: a number, or the name Envoy's enum
 * gives it */
static const struct conf_enum enum_status = { "code",
    (const struct conf_enum_val[]){ { "BadRequest", 400 },
    { "Unauthorized", 401 }, { "Forbidden", 403 }, { "NotFound", 404 },
    { "TooManyRequests", 429 }, { "InternalServerError", 500 },
    { "ServiceUnavailable", 503 }, { "GatewayTimeout", 504 },
    { NULL, 0 } } };

static void
fn_status_code(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	const struct conf_enum_val *ev;
	int64_t code;
	char num[8];

	(void)f;
	if (v->type == YAML_SCALAR_NODE && conf_slen(v) > 0 &&
	    conf_sval(v)[0] >= '0' && conf_sval(v)[0] <= '9') {
		if (conf_get_int(w, v, 100, 599, &code) == -1)
			return;
	} else if ((ev = conf_get_enum(w, v, &enum_status)) != NULL)
		code = ev->ev_value;
	else
		return;
	*(uint16_t *)base = (uint16_t)code;
	snprintf(num, sizeof(num), "%d", (int)code);
	conf_json_raw(w, num);
}

static const struct conf_field http_status_fields[] = {
	{ "code", CK_FN, CF_REQUIRED, .f_fn = fn_status_code,
	    .f_like = CK_UINT, .f_note = "a number 100-599, or a name of "
	    "Envoy's StatusCode enum (TooManyRequests ...)" },
	F_END
};
static const struct conf_msg msg_http_status = { "HttpStatus",
    http_status_fields, NULL, NULL };

static void
lrl_init(struct cw *w, void *base)
{
	struct conf_hf *hf = base;

	(void)w;
	hf->hf_kind = CD_HF_LRL;
	hf->hf_lrl.lr_status = 429;
	hf->hf_lrl.lr_index = -1;
}

static void
lrl_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_lrl *lr = &((struct conf_hf *)base)->hf_lrl;
	size_t i;

	lr->lr_has_bucket = (seen & conf_field_bit(&conf_msg_lrl,
	    "token_bucket")) != 0;
	if (lr->lr_has_bucket && lr->lr_tb.tb_fill_interval < 50 * CONF_MS)
		conf_err(w, conf_map_val(w, conf_map_val(w, n, "token_bucket"),
		    "fill_interval"), "fill_interval "
		    "must be at least 50ms, as in Envoy; raise it and scale "
		    "tokens_per_fill to keep the rate");
	if (lr->lr_status < 400)
		lr->lr_status = 429;	/* Envoy's rule for a non-error code */
	for (i = 0; i < lr->lr_resp.ho_nadd; i++)
		if (lr->lr_resp.ho_add[i].ha_value != NULL &&
		    strchr(lr->lr_resp.ho_add[i].ha_value, '%') != NULL)
			conf_err(w, conf_map_val(w, n,
			    "response_headers_to_add"), "a local_ratelimit "
			    "response header value is sent as written, and "
			    "\"%s\" holds a %%: remove the %% (canaryd does not "
			    "expand format commands here)",
			    lr->lr_resp.ho_add[i].ha_value);
}

#define NO_DESCRIPTORS	"canaryd's local rate limit has one token " \
	"bucket per filter and per route override, no descriptors; remove " \
	"it and give the route its own typed_per_filter_config"
static const struct conf_field lrl_fields[] = {
	{ "stat_prefix", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    HF(hf_lrl.lr_stat_prefix) },
	{ "status", CK_MSG, 0, .f_msg = &msg_http_status,
	    HF(hf_lrl.lr_status), .f_defdoc = "429" },
	{ "token_bucket", CK_MSG, 0, .f_msg = &msg_token_bucket,
	    HF(hf_lrl.lr_tb), .f_note = "one bucket, exact across workers" },
	{ "filter_enabled", CK_MSG, 0, .f_msg = &msg_rt_pct,
	    HF(hf_lrl.lr_enabled), .f_defdoc = "0%" },
	{ "filter_enforced", CK_MSG, 0, .f_msg = &msg_rt_pct,
	    HF(hf_lrl.lr_enforced), .f_defdoc = "0%" },
	{ "request_headers_to_add_when_not_enforced", CK_REJECT, 0,
	    .f_why = "canaryd does not mark requests it lets through; remove "
	    "it" },
	CONF_HDR_ADD("response_headers_to_add", struct conf_hf, hf_lrl.lr_resp),
	{ "descriptors", CK_REJECT, 0, .f_why = NO_DESCRIPTORS },
	{ "stage", CK_REJECT, 0, .f_why = NO_DESCRIPTORS },
	{ "local_rate_limit_per_downstream_connection", CK_BOOL,
	    CF_NOSTORE | CF_ONLY_DEF, .f_def = 0, .f_why = "canaryd's bucket "
	    "is shared by every connection and worker; remove it",
	    .f_note = "false only" },
	{ "local_cluster_rate_limit", CK_REJECT, 0, .f_why = "canaryd does "
	    "not share a bucket between instances; remove it and divide "
	    "max_tokens by the number of instances" },
	{ "enable_x_ratelimit_headers", CK_REJECT, 0, .f_why = "canaryd sends "
	    "no x-ratelimit-* headers; remove it" },
	{ "vh_rate_limits", CK_REJECT, 0, .f_why = NO_DESCRIPTORS },
	{ "always_consume_default_token_bucket", CK_BOOL,
	    CF_NOSTORE | CF_ONLY_DEF, .f_def = 1, .f_why = "canaryd has only "
	    "the default bucket, which every request takes from; remove it",
	    .f_note = "true only" },
	{ "rate_limited_as_resource_exhausted", CK_IGNORE, 0,
	    .f_why = "it changes gRPC statuses, which canaryd does not speak" },
	{ "rate_limits", CK_REJECT, 0, .f_why = NO_DESCRIPTORS },
	{ "max_dynamic_descriptors", CK_REJECT, 0, .f_why = NO_DESCRIPTORS },
	F_END
};
const struct conf_msg conf_msg_lrl = { "LocalRateLimit", lrl_fields,
    lrl_init, lrl_done };

/* ---- fault ------------------------------------------------------------- */

#define FT(m)	AT(struct cd_fault, m)
static const struct conf_field header_fault_fields[] = { F_END };
static const struct conf_msg msg_header_fault = { "HeaderFault",
    header_fault_fields, NULL, NULL };

static const struct conf_msg msg_delay, msg_abort;

static void
delay_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_fault *ft = base;

	(void)w;
	(void)n;
	ft->ft_delay = true;
	if (seen & conf_field_bit(&msg_delay, "header_delay"))
		ft->ft_delay_ns = -1;
}

static const struct conf_field delay_fields[] = {
	{ "fixed_delay", CK_DUR, CF_REQUIRED, 1, .f_min = 0,
	    FT(ft_delay_ns) },
	{ "header_delay", CK_MSG, 0, 1, .f_msg = &msg_header_fault,
	    .f_note = "x-envoy-fault-delay-request: milliseconds" },
	{ "percentage", CK_MSG, 0, .f_msg = &msg_pct, FT(ft_delay_pct),
	    .f_defdoc = "0%" },
	{ "type", CK_IGNORE, 0, .f_why = "deprecated; FIXED is the only "
	    "type" },
	F_END
};
static const struct conf_msg msg_delay = { "FaultDelay", delay_fields,
    NULL, delay_done };

static void
abort_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_fault *ft = base;

	(void)w;
	(void)n;
	ft->ft_abort = true;
	if (seen & conf_field_bit(&msg_abort, "header_abort"))
		ft->ft_abort_status = 0;
}

static const struct conf_field abort_fields[] = {
	{ "http_status", CK_UINT, CF_REQUIRED, 1, .f_min = 200, .f_max = 599,
	    FT(ft_abort_status) },
	{ "grpc_status", CK_REJECT, 0, 1, .f_why = NO_GRPC },
	{ "header_abort", CK_MSG, 0, 1, .f_msg = &msg_header_fault,
	    .f_note = "x-envoy-fault-abort-request: the status" },
	{ "percentage", CK_MSG, 0, .f_msg = &msg_pct, FT(ft_abort_pct),
	    .f_defdoc = "0%" },
	F_END
};
#undef FT
static const struct conf_msg msg_abort = { "FaultAbort", abort_fields,
    NULL, abort_done };

static void
fault_init(struct cw *w, void *base)
{
	(void)w;
	((struct conf_hf *)base)->hf_kind = CD_HF_FAULT;
}

static void
fault_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_fault *ft = &((struct conf_hf *)base)->hf_fault;

	(void)w;
	(void)n;
	ft->ft_has_max = (seen & conf_field_bit(&conf_msg_fault,
	    "max_active_faults")) != 0;
}

#define NO_FAULT_RT	"canaryd's runtime feeds no fault keys; the " \
	"configured values apply"
static const struct conf_field fault_fields[] = {
	{ "delay", CK_MSG, 0, .f_msg = &msg_delay, HF(hf_fault) },
	{ "abort", CK_MSG, 0, .f_msg = &msg_abort, HF(hf_fault) },
	{ "upstream_cluster", CK_REJECT, 0, .f_why = "canaryd injects a "
	    "fault before the cluster is known; remove it and put the "
	    "filter's configuration on the routes to that cluster "
	    "(typed_per_filter_config)" },
	{ "headers", CK_REJECT, 0, .f_why = "canaryd does not match headers "
	    "for faults; remove it and put the configuration on a route "
	    "that matches them (typed_per_filter_config)" },
	{ "downstream_nodes", CK_REJECT, 0, .f_why = "canaryd reads no "
	    "x-envoy-downstream-service-node; remove it" },
	{ "max_active_faults", CK_UINT, 0, U32, HF(hf_fault.ft_max_active),
	    .f_note = "counted across workers" },
	{ "response_rate_limit", CK_REJECT, 0, .f_why = "canaryd does not "
	    "slow response bodies; remove it" },
	{ "delay_percent_runtime", CK_IGNORE, 0, .f_why = NO_FAULT_RT },
	{ "abort_percent_runtime", CK_IGNORE, 0, .f_why = NO_FAULT_RT },
	{ "delay_duration_runtime", CK_IGNORE, 0, .f_why = NO_FAULT_RT },
	{ "abort_http_status_runtime", CK_IGNORE, 0, .f_why = NO_FAULT_RT },
	{ "max_active_faults_runtime", CK_IGNORE, 0, .f_why = NO_FAULT_RT },
	{ "response_rate_limit_percent_runtime", CK_IGNORE, 0,
	    .f_why = NO_FAULT_RT },
	{ "abort_grpc_status_runtime", CK_IGNORE, 0, .f_why = NO_FAULT_RT },
	{ "disable_downstream_cluster_stats", CK_IGNORE, 0, .f_why = "canaryd "
	    "keeps no fault statistics per downstream cluster" },
	{ "filter_metadata", CK_IGNORE, 0, .f_why = "canaryd logs no filter "
	    "state" },
	F_END
};
const struct conf_msg conf_msg_fault = { "HTTPFault", fault_fields,
    fault_init, fault_done };

/* ---- cors -------------------------------------------------------------- */

static void
cors_init(struct cw *w, void *base)
{
	struct conf_hf *hf = base;

	(void)w;
	hf->hf_kind = CD_HF_CORS;
	hf->hf_cors.co_enabled.pc_num = hf->hf_cors.co_enabled.pc_den = 100;
	hf->hf_cors.co_forward_preflights = true;
}

static const struct conf_field cors_policy_fields[] = {
	{ "allow_origin_string_match", CK_SEQ, 0, .f_msg = &conf_msg_str_match,
	    LIST(struct conf_hf, hf_cors.co_origins, hf_cors.co_norigins,
	    struct cd_str_match) },
	{ "allow_origin", CK_REJECT, 0, .f_why = "it was removed from Envoy's "
	    "v3 API; use allow_origin_string_match" },
	{ "allow_origin_regex", CK_REJECT, 0, .f_why = "it was removed from "
	    "Envoy's v3 API; use allow_origin_string_match with safe_regex" },
	{ "allow_methods", CK_STR, 0, HF(hf_cors.co_methods) },
	{ "allow_headers", CK_STR, 0, HF(hf_cors.co_headers) },
	{ "expose_headers", CK_STR, 0, HF(hf_cors.co_expose) },
	{ "max_age", CK_STR, 0, HF(hf_cors.co_max_age) },
	{ "allow_credentials", CK_BOOL, 0, HF(hf_cors.co_credentials) },
	{ "filter_enabled", CK_MSG, 0, .f_msg = &msg_rt_pct,
	    HF(hf_cors.co_enabled), .f_defdoc = "100%" },
	{ "shadow_enabled", CK_MSG, 0, .f_msg = &msg_rt_pct,
	    HF(hf_cors.co_shadow), .f_defdoc = "0%" },
	{ "allow_private_network_access", CK_BOOL, CF_NOSTORE | CF_ONLY_DEF,
	    .f_def = 0, .f_why = "canaryd answers no private network access "
	    "preflight; remove it", .f_note = "false only" },
	{ "forward_not_matching_preflights", CK_BOOL, CF_DEF, .f_def = 1,
	    HF(hf_cors.co_forward_preflights) },
	F_END
};
const struct conf_msg conf_msg_cors_policy = { "CorsPolicy",
    cors_policy_fields, cors_init, NULL };

/* The filter itself has no fields: its policies are the routes'. */
const struct conf_msg conf_msg_cors_filter = { "Cors", conf_no_fields,
    cors_init, NULL };

/* ---- keeping a filter's configuration ---------------------------------- */

/* lr has a bucket of its own: number it among the configuration's (one
 * per filter and per typed_per_filter_config override).  False when out
 * of memory. */
static bool
lrl_keep(struct cw *w, struct cd_lrl *lr)
{
	const struct cd_lrl **v;
	size_t cap;

	if (w->w_nlrl == w->w_lrlcap) {
		cap = w->w_lrlcap ? 2 * w->w_lrlcap : 16;
		if (cap > INT_MAX ||
		    (v = reallocarray(w->w_lrl, cap, sizeof(*v))) == NULL)
			return false;
		w->w_lrl = v;
		w->w_lrlcap = cap;
	}
	lr->lr_index = (int)w->w_nlrl;
	w->w_lrl[w->w_nlrl++] = lr;
	return true;
}

bool
conf_hf_keep(struct cw *w, const struct conf_hf *src, struct cd_hf *hf)
{
	struct cd_lrl *lr;
	void *p;

	switch (src->hf_kind) {
	case CD_HF_CORS:
		if ((p = arena_alloc(w->w_arena, sizeof(src->hf_cors))) == NULL)
			break;
		memcpy(p, &src->hf_cors, sizeof(src->hf_cors));
		hf->hf_cors = p;
		hf->hf_on |= 1u << CD_HF_CORS;
		return true;
	case CD_HF_FAULT:
		if ((p = arena_alloc(w->w_arena, sizeof(src->hf_fault))) ==
		    NULL)
			break;
		memcpy(p, &src->hf_fault, sizeof(src->hf_fault));
		hf->hf_fault = p;
		hf->hf_on |= 1u << CD_HF_FAULT;
		return true;
	case CD_HF_LRL:
		if ((lr = arena_alloc(w->w_arena, sizeof(*lr))) == NULL)
			break;
		memcpy(lr, &src->hf_lrl, sizeof(*lr));
		if (lr->lr_has_bucket && !lrl_keep(w, lr))
			break;
		hf->hf_lrl = lr;
		hf->hf_on |= 1u << CD_HF_LRL;
		return true;
	case CD_HF_COMPRESSOR:
		hf->hf_on |= 1u << CD_HF_COMPRESSOR;
		/* a route's CompressorPerRoute without disabled: nothing */
		if (src->hf_router && !src->hf_cmp.cp_route_off)
			return true;
		if ((p = arena_alloc(w->w_arena, sizeof(src->hf_cmp))) == NULL)
			break;
		memcpy(p, &src->hf_cmp, sizeof(src->hf_cmp));
		hf->hf_cmp = p;
		return true;
	default:
		return true;
	}
	conf_oom(w);
	return false;
}

/* ---- typed_per_filter_config, cors ------------------------------------- */

static const struct conf_any any_per_filter[] = {
	{ "envoy.extensions.filters.http.cors.v3.CorsPolicy",
	    &conf_msg_cors_policy, "envoy.filters.http.cors", NULL },
	{ "envoy.extensions.filters.http.fault.v3.HTTPFault",
	    &conf_msg_fault, "envoy.filters.http.fault", NULL },
	{ "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
	    &conf_msg_lrl, "envoy.filters.http.local_ratelimit", NULL },
	{ "envoy.config.route.v3.FilterConfig", NULL, NULL, "canaryd has no "
	    "per-route is_optional or disabled; put the filter's own "
	    "message (its config) directly under the key" },
	{ "envoy.extensions.filters.http.compressor.v3.CompressorPerRoute",
	    &conf_msg_compressor_route, "envoy.filters.http.compressor",
	    NULL },
	{ NULL, NULL, NULL, "canaryd takes per-route configuration for "
	    "compressor, cors, fault and local_ratelimit only; remove it" }
};

static const struct conf_field per_filter_field = { "typed_per_filter_config",
    CK_ANY, 0, .f_any = any_per_filter, .f_why = "per-route filter "
    "configuration" };

/* The struct cd_hf the pointer at f_off of base points to, made (zeroed)
 * on first use; NULL when out of memory. */
static struct cd_hf *
hf_level(struct cw *w, const struct conf_field *f, void *base)
{
	struct cd_hf **pp = (struct cd_hf **)((char *)base + f->f_off);

	if (*pp == NULL && (*pp = arena_alloc(w->w_arena, sizeof(**pp))) !=
	    NULL)
		memset(*pp, 0, sizeof(**pp));
	if (*pp == NULL)
		conf_oom(w);
	return *pp;
}

void
conf_fn_per_filter(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct conf_pair pairs[CONF_MAX_PAIRS];
	struct cd_hf *hf;
	struct conf_hf *hs;
	char wb[CONF_QUOTE_MAX + 8];
	unsigned int had;
	size_t np = 0, i, old;

	if (v->type != YAML_MAPPING_NODE) {
		conf_err(w, v, "want a mapping of filter names, got %s",
		    conf_node_what(v, wb, sizeof(wb)));
		return;
	}
	if (conf_map_collect(w, v, pairs, &np, 0, 0) == -1 ||
	    (hf = hf_level(w, f, base)) == NULL)
		return;
	conf_json_raw(w, "{");
	for (i = 0; i < np && !w->w_stop; i++) {
		if ((hs = conf_scratch(w, sizeof(*hs))) == NULL)
			return;
		hs->hf_kind = -1;
		hs->hf_router = 1;	/* not the chain's */
		if (i > 0)
			conf_json_raw(w, ",");
		conf_json_str(w, conf_sval(pairs[i].p_key),
		    conf_slen(pairs[i].p_key));
		conf_json_raw(w, ":");
		old = conf_path_pushn(w, conf_sval(pairs[i].p_key),
		    conf_slen(pairs[i].p_key));
		conf_walk_field(w, &per_filter_field, pairs[i].p_key,
		    pairs[i].p_val, hs);
		had = hf->hf_on;
		if (hs->hf_kind >= 0 && (had & (1u << hs->hf_kind)))
			conf_err(w, pairs[i].p_key, "a second configuration "
			    "for the same filter here; keep one entry");
		else if (hs->hf_kind >= 0)
			(void)conf_hf_keep(w, hs, hf);
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "}");
}

/* route.cors and virtual_host.cors (envoy.config.route.v3.CorsPolicy):
 * a typed_per_filter_config CorsPolicy of the same level wins. */
void
conf_fn_cors_legacy(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_hf *hf, tmp;
	struct conf_hf *hs;

	if ((hs = conf_scratch(w, sizeof(*hs))) == NULL ||
	    (hf = hf_level(w, f, base)) == NULL)
		return;
	hs->hf_kind = -1;
	hs->hf_router = 1;
	conf_walk_msg(w, v, &conf_msg_cors_policy, hs, NULL);
	memset(&tmp, 0, sizeof(tmp));
	if (hf->hf_cors == NULL && conf_hf_keep(w, hs, &tmp)) {
		hf->hf_cors = tmp.hf_cors;
		hf->hf_on |= tmp.hf_on;
	}
}

/* ---- what applies on each route ---------------------------------------- */

/* Each filter's most specific configuration among levels v[0, n) (NULL
 * ones skipped), none for a filter the chain does not hold. */
static void
hf_pick(struct cd_hf *out, const struct cd_hf *const *v, size_t n,
    unsigned int chain)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = n; i-- > 0;) {
		if (v[i] == NULL)
			continue;
		if (v[i]->hf_cors != NULL)
			out->hf_cors = v[i]->hf_cors;
		if (v[i]->hf_fault != NULL)
			out->hf_fault = v[i]->hf_fault;
		if (v[i]->hf_lrl != NULL)
			out->hf_lrl = v[i]->hf_lrl;
		if (v[i]->hf_cmp != NULL)
			out->hf_cmp = v[i]->hf_cmp;
	}
	if (!(chain & (1u << CD_HF_COMPRESSOR)))
		out->hf_cmp = NULL;
	if (out->hf_cmp != NULL && !out->hf_cmp->cp_route_off &&
	    out->hf_cmp->cp_enabled)
		out->hf_on |= 1u << CD_HF_COMPRESSOR;
	if (!(chain & (1u << CD_HF_CORS)))
		out->hf_cors = NULL;
	if (!(chain & (1u << CD_HF_FAULT)))
		out->hf_fault = NULL;
	if (!(chain & (1u << CD_HF_LRL)))
		out->hf_lrl = NULL;
	if (out->hf_cors != NULL && out->hf_cors->co_norigins > 0)
		out->hf_on |= 1u << CD_HF_CORS;
	if (out->hf_fault != NULL && (out->hf_fault->ft_abort ||
	    out->hf_fault->ft_delay))
		out->hf_on |= 1u << CD_HF_FAULT;
	if (out->hf_lrl != NULL && out->hf_lrl->lr_has_bucket)
		out->hf_on |= 1u << CD_HF_LRL;
}

/*
 * rt's filters: NULL when none has anything to do; else its own struct
 * (reused), or last (the previous route's) when it resolves alike, or a
 * new one.  false when out of memory.
 */
static bool
hf_route(struct cw *w, struct cd_route *rt, const struct cd_hf *lv[4],
    unsigned int chain, struct cd_hf **last)
{
	struct cd_hf res;

	hf_pick(&res, lv, 4, chain);
	if (res.hf_on == 0) {
		rt->rt_hf = NULL;
		return true;
	}
	if (rt->rt_hf == NULL && *last != NULL &&
	    memcmp(*last, &res, sizeof(res)) == 0) {
		rt->rt_hf = *last;
		return true;
	}
	if (rt->rt_hf == NULL && (rt->rt_hf = arena_alloc(w->w_arena,
	    sizeof(res))) == NULL) {
		conf_oom(w);
		return false;
	}
	*rt->rt_hf = res;
	*last = rt->rt_hf;
	return true;
}

void
conf_hf_resolve(struct cw *w, yaml_node_t *n, struct cd_listener *l)
{
	const struct cd_hf *lv[4];
	struct cd_hf *last = NULL;
	unsigned int chain = 0;
	struct cd_vhost *vh;
	struct cd_route *rt;
	size_t i, v, r;

	(void)n;
	for (i = 0; i < l->l_nhf; i++)
		chain |= 1u << l->l_hf_order[i];
	for (v = 0; v < l->l_nvhosts; v++) {
		vh = &l->l_vhosts[v];
		for (r = 0; r < vh->vh_nroutes; r++) {
			rt = &vh->vh_routes[r];
			lv[0] = rt->rt_hf;
			lv[1] = vh->vh_hf;
			lv[2] = l->l_rc_hf;
			lv[3] = &l->l_hf;
			if (!hf_route(w, rt, lv, chain, &last))
				return;
		}
	}
}
