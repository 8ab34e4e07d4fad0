/*
 * Configuration loader: routes (conf-int.h).  Master only.
 *
 * envoy.config.route.v3.RouteConfiguration into struct cd_listener: its
 * virtual hosts (domains unique across them, one "*" at most), their
 * routes and matchers (path, headers, query parameters; regexes go to
 * conf_regex.c), the route actions (one cluster, weighted clusters whose
 * weights must not sum to 0, a direct response), timeouts and the retry
 * policy a route inherits from its virtual host.  A route's canaryd
 * metadata is conf_canary.c's.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "arena.h"
#include "buf.h"
#include "conf.h"
#include "conf-int.h"

/* Route decorators and tracing name spans; canaryd makes none. */
#define NO_SPANS	"only the connection manager's tracing reads it, and " \
	"canaryd refuses that"
#define NO_INT_REDIR	"canaryd passes redirects on to the client; remove it"
#define NO_HEDGE	"canaryd does not hedge requests; remove it and use " \
	"retry_policy"
#define NO_RQ_BUF	"the listener's per_connection_buffer_limit_bytes " \
	"bounds the body kept for retries; set that"
#define NO_REWRITE	"canaryd does not evaluate formats or extensions in " \
	"rewrites; use prefix_rewrite or regex_rewrite for the path and " \
	"host_rewrite_literal, host_rewrite_header or host_rewrite_path_regex " \
	"for Host"

static const struct conf_enum enum_not_found = {
    "cluster_not_found_response_code",
    (const struct conf_enum_val[]){ { "SERVICE_UNAVAILABLE", 503 },
    { "NOT_FOUND", 404 }, { "INTERNAL_SERVER_ERROR", 500 },
    { NULL, 0 } } };

/* ---- matchers --------------------------------------------------------- */

/* The regex node under field (safe_regex.regex), for error positions. */
static yaml_node_t *
regex_node(struct cw *w, yaml_node_t *n, const char *field)
{
	yaml_node_t *r;

	if ((r = conf_map_get(w, conf_map_get(w, n, field), "regex")) != NULL)
		return r;
	return n;
}

/* envoy.type.matcher.v3.RegexMatcher: the target is the char * slot */
static const struct conf_field google_re2_fields[] = {
	{ "max_program_size", CK_IGNORE, 0, .f_why = "canaryd bounds a "
	    "regex's cost itself (no repetition of a repetition, counts up "
	    "to 1000)" },
	F_END
};
static const struct conf_msg msg_google_re2 = { "RegexMatcher.GoogleRE2",
    google_re2_fields, NULL, NULL };

static const struct conf_field regex_fields[] = {
	{ "google_re2", CK_MSG, 0, .f_msg = &msg_google_re2,
	    .f_note = "accepted; canaryd matches with POSIX extended "
	    "regexes" },
	{ "regex", CK_STR, CF_REQUIRED | CF_NONEMPTY, .f_off = 0,
	    .f_note = "RE2's common forms, translated to POSIX extended "
	    "regexes; other RE2-only forms are refused" },
	F_END
};
const struct conf_msg conf_msg_regex = { "RegexMatcher", regex_fields,
    NULL, NULL };

static void
str_match_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	const struct conf_msg *m = &conf_msg_str_match;
	struct cd_str_match *sm = base;
	size_t old;

	if (seen & conf_field_bit(m, "exact"))
		sm->sm_kind = CD_SM_EXACT;
	else if (seen & conf_field_bit(m, "prefix"))
		sm->sm_kind = CD_SM_PREFIX;
	else if (seen & conf_field_bit(m, "suffix"))
		sm->sm_kind = CD_SM_SUFFIX;
	else if (seen & conf_field_bit(m, "contains"))
		sm->sm_kind = CD_SM_CONTAINS;
	else if (seen & conf_field_bit(m, "safe_regex"))
		sm->sm_kind = CD_SM_REGEX;
	if (sm->sm_value == NULL)
		return;
	sm->sm_len = strlen(sm->sm_value);
	if (sm->sm_kind == CD_SM_REGEX) {
		old = conf_path_push(w, "safe_regex.regex");
		conf_re_compile(w, regex_node(w, n, "safe_regex"), &sm->sm_re,
		    sm->sm_value, sm->sm_ignore_case);
		conf_path_pop(w, old);
	}
}

#define SM(m)	AT(struct cd_str_match, m)
static const struct conf_field str_match_fields[] = {
	{ "exact", CK_STR, CF_REQUIRED, 1, SM(sm_value) },
	{ "prefix", CK_STR, CF_NONEMPTY, 1, SM(sm_value) },
	{ "suffix", CK_STR, CF_NONEMPTY, 1, SM(sm_value) },
	{ "safe_regex", CK_MSG, 0, 1, .f_msg = &conf_msg_regex, SM(sm_value) },
	{ "ignore_case", CK_BOOL, 0, SM(sm_ignore_case) },
	{ "contains", CK_STR, CF_NONEMPTY, 1, SM(sm_value) },
	{ "custom", CK_REJECT, 0, .f_oneof = 1, .f_why = NO_EXTENSION },
	F_END
};
#undef SM
const struct conf_msg conf_msg_str_match = { "StringMatcher",
    str_match_fields, NULL, str_match_done };

/* envoy.type.v3.Int64Range of a HeaderMatcher: into cd_header_match */
static const struct conf_field range_fields[] = {
	{ "start", CK_INT64, 0, .f_min = INT64_MIN, .f_max = INT64_MAX,
	    AT(struct cd_header_match, hm_range_start) },
	{ "end", CK_INT64, 0, .f_min = INT64_MIN, .f_max = INT64_MAX,
	    AT(struct cd_header_match, hm_range_end) },
	F_END
};
static const struct conf_msg msg_range = { "Int64Range", range_fields,
    NULL, NULL };

static const struct conf_msg msg_header;

static void
header_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	static const struct {
		const char		*field;
		enum cd_str_match_kind	 kind;
	} old_forms[] = {
		{ "exact_match", CD_SM_EXACT },
		{ "prefix_match", CD_SM_PREFIX },
		{ "suffix_match", CD_SM_SUFFIX },
		{ "contains_match", CD_SM_CONTAINS },
		{ "safe_regex_match", CD_SM_REGEX },
	};
	struct cd_header_match *hm = base;
	size_t i, old;

	/* Envoy matches Host as :authority; HTTP/1.1 only has Host. */
	if (hm->hm_name != NULL && strcmp(hm->hm_name, ":authority") == 0)
		strlcpy(hm->hm_name, "host", strlen(hm->hm_name) + 1);
	hm->hm_name_len = hm->hm_name != NULL ? strlen(hm->hm_name) : 0;

	if (seen & conf_field_bit(&msg_header, "string_match")) {
		hm->hm_kind = CD_HM_STRING;
		return;
	}
	for (i = 0; i < sizeof(old_forms) / sizeof(old_forms[0]); i++) {
		if (!(seen & conf_field_bit(&msg_header, old_forms[i].field)))
			continue;
		hm->hm_kind = CD_HM_STRING;
		hm->hm_str.sm_kind = old_forms[i].kind;
		if (hm->hm_str.sm_value == NULL)
			return;
		hm->hm_str.sm_len = strlen(hm->hm_str.sm_value);
		if (old_forms[i].kind == CD_SM_REGEX) {
			old = conf_path_push(w, "safe_regex_match.regex");
			conf_re_compile(w, regex_node(w, n, "safe_regex_match"),
			    &hm->hm_str.sm_re, hm->hm_str.sm_value, false);
			conf_path_pop(w, old);
		}
		return;
	}
	if (seen & conf_field_bit(&msg_header, "range_match"))
		hm->hm_kind = CD_HM_RANGE;
	else if (seen & conf_field_bit(&msg_header, "present_match"))
		hm->hm_kind = CD_HM_PRESENT;
	else {
		/* no specifier: Envoy matches on presence */
		hm->hm_kind = CD_HM_PRESENT;
		hm->hm_present = true;
	}
}

#define HM(m)	AT(struct cd_header_match, m)
static const struct conf_field header_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY | CF_LOWER, HM(hm_name),
	    .f_note = ":authority matches the Host header" },
	{ "exact_match", CK_STR, 0, 1, HM(hm_str.sm_value) },
	{ "safe_regex_match", CK_MSG, 0, 1, .f_msg = &conf_msg_regex,
	    HM(hm_str.sm_value) },
	{ "range_match", CK_MSG, 0, 1, .f_msg = &msg_range },
	{ "present_match", CK_BOOL, 0, 1, HM(hm_present) },
	{ "prefix_match", CK_STR, CF_NONEMPTY, 1, HM(hm_str.sm_value) },
	{ "suffix_match", CK_STR, CF_NONEMPTY, 1, HM(hm_str.sm_value) },
	{ "invert_match", CK_BOOL, 0, HM(hm_invert) },
	{ "contains_match", CK_STR, CF_NONEMPTY, 1, HM(hm_str.sm_value) },
	{ "string_match", CK_MSG, 0, 1, .f_msg = &conf_msg_str_match,
	    HM(hm_str) },
	{ "treat_missing_header_as_empty", CK_BOOL, 0,
	    HM(hm_missing_as_empty) },
	F_END
};
#undef HM
static const struct conf_msg msg_header = { "HeaderMatcher", header_fields,
    NULL, header_done };

static const struct conf_msg msg_query;

static void
query_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_query_match *qm = base;
	size_t old;

	if (seen & conf_field_bit(&msg_query, "string_match")) {
		qm->qm_present = false;
		return;
	}
	if ((seen & conf_field_bit(&msg_query, "present_match")) &&
	    !qm->qm_present) {
		/* Envoy's matcher then never matches: surely a mistake. */
		old = conf_path_push(w, "present_match");
		conf_err(w, conf_map_val(w, n, "present_match"),
		    "present_match: false never matches (as in Envoy); "
		    "remove the matcher");
		conf_path_pop(w, old);
		return;
	}
	/* present_match: true, or no specifier: the parameter is there */
	qm->qm_present = true;
}

static const struct conf_field query_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    AT(struct cd_query_match, qm_name) },
	{ "string_match", CK_MSG, 0, 1, .f_msg = &conf_msg_str_match,
	    AT(struct cd_query_match, qm_str) },
	{ "present_match", CK_BOOL, 0, 1,
	    AT(struct cd_query_match, qm_present) },
	F_END
};
static const struct conf_msg msg_query = { "QueryParameterMatcher",
    query_fields, NULL, query_done };

static const struct conf_msg msg_match;

static void
match_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route_match *rm = base;
	const char *v;
	size_t old;

	if (seen & conf_field_bit(&msg_match, "prefix"))
		rm->rm_kind = CD_PM_PREFIX;
	else if (seen & conf_field_bit(&msg_match, "path"))
		rm->rm_kind = CD_PM_PATH;
	else if (seen & conf_field_bit(&msg_match, "safe_regex"))
		rm->rm_kind = CD_PM_REGEX;
	else if (seen & conf_field_bit(&msg_match, "path_separated_prefix"))
		rm->rm_kind = CD_PM_SEP_PREFIX;
	if ((v = rm->rm_value) == NULL)
		return;
	rm->rm_len = strlen(v);
	if (rm->rm_kind == CD_PM_REGEX) {
		/* Envoy ignores case_sensitive for safe_regex. */
		old = conf_path_push(w, "safe_regex.regex");
		conf_re_compile(w, regex_node(w, n, "safe_regex"), &rm->rm_re,
		    v, false);
		conf_path_pop(w, old);
	} else if (rm->rm_kind == CD_PM_SEP_PREFIX && (rm->rm_len == 0 ||
	    strpbrk(v, "?#") != NULL || v[rm->rm_len - 1] == '/')) {
		old = conf_path_push(w, "path_separated_prefix");
		conf_err(w, conf_map_val(w, n, "path_separated_prefix"),
		    "bad prefix \"%s\": must not contain '?' or '#' nor end "
		    "with '/'", v);
		conf_path_pop(w, old);
	}
}

#define RM(m)	AT(struct cd_route_match, m)
static const struct conf_field match_fields[] = {
	{ "prefix", CK_STR, CF_REQUIRED, 1, RM(rm_value) },
	{ "path", CK_STR, 0, 1, RM(rm_value) },
	{ "safe_regex", CK_MSG, 0, 1, .f_msg = &conf_msg_regex, RM(rm_value) },
	{ "connect_matcher", CK_REJECT, 0, .f_oneof = 1,
	    .f_why = "canaryd never routes CONNECT (404); remove the route" },
	{ "path_separated_prefix", CK_STR, CF_NONEMPTY, 1, RM(rm_value) },
	{ "path_match_policy", CK_REJECT, 0, .f_oneof = 1, .f_why = "canaryd "
	    "loads no path matcher extensions; use prefix, path, safe_regex "
	    "or path_separated_prefix" },
	{ "case_sensitive", CK_BOOL, CF_DEF, .f_def = 1,
	    RM(rm_case_sensitive) },
	{ "runtime_fraction", CK_MSG, 0, .f_msg = &conf_msg_runtime_fraction,
	    RM(rm_fraction), .f_note = "one random draw per request for "
	    "every route, as Envoy's" },
	{ "headers", CK_SEQ, 0, .f_msg = &msg_header,
	    LIST(struct cd_route_match, rm_headers, rm_nheaders,
	    struct cd_header_match) },
	{ "query_parameters", CK_SEQ, 0, .f_msg = &msg_query,
	    LIST(struct cd_route_match, rm_query, rm_nquery,
	    struct cd_query_match) },
	{ "cookies", CK_REJECT, 0, .f_why = "match the cookie header "
	    "instead: headers: [ { name: cookie, string_match: { contains: "
	    "\"name=value\" } } ]" },
	{ "grpc", CK_REJECT, 0, .f_why = NO_GRPC },
	{ "tls_context", CK_REJECT, 0, .f_why = NO_TLS },
	{ "dynamic_metadata", CK_REJECT, 0, .f_why = "canaryd runs no filter "
	    "that sets dynamic metadata; match on headers or "
	    "query_parameters" },
	{ "filter_state", CK_REJECT, 0, .f_why = "canaryd runs no filter that "
	    "sets filter state; match on headers or query_parameters" },
	F_END
};
#undef RM
static const struct conf_msg msg_match = { "RouteMatch", match_fields,
    NULL, match_done };

/* ---- retry policy ----------------------------------------------------- */

static const struct conf_msg msg_backoff;

static void
backoff_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_retry_policy *rp = base;
	size_t old;

	if (rp->rp_backoff_base == CD_DUR_UNSET)
		return;
	if (!(seen & conf_field_bit(&msg_backoff, "max_interval")))
		rp->rp_backoff_max = rp->rp_backoff_base > INT64_MAX / 10 ?
		    INT64_MAX : rp->rp_backoff_base * 10;
	else if (rp->rp_backoff_max != CD_DUR_UNSET &&
	    rp->rp_backoff_max < rp->rp_backoff_base) {
		old = conf_path_push(w, "max_interval");
		conf_err(w, conf_map_val(w, n, "max_interval"), "must not be "
		    "less than base_interval");
		conf_path_pop(w, old);
	}
}

#define RP(m)	AT(struct cd_retry_policy, m)
static const struct conf_field backoff_fields[] = {
	{ "base_interval", CK_DUR, CF_REQUIRED | CF_GT,
	    RP(rp_backoff_base) },
	{ "max_interval", CK_DUR, CF_GT, RP(rp_backoff_max),
	    .f_defdoc = "10 x base_interval" },
	F_END
};
static const struct conf_msg msg_backoff = { "RetryPolicy.RetryBackOff",
    backoff_fields, NULL, backoff_done };

static void
fn_retriable_codes(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_retry_policy *rp = base;
	size_t i, n, old;
	int64_t code;

	if (conf_want_seq(w, v) == -1)
		return;
	if ((n = conf_seq_len(v)) > CD_MAX_RETRIABLE_CODES) {
		conf_err(w, v, "too many status codes: %zu, canaryd supports "
		    "at most %d", n, CD_MAX_RETRIABLE_CODES);
		return;
	}
	/* a duplicated key walks a second list into the same policy */
	rp->rp_ncodes = 0;
	conf_json_raw(w, "[");
	for (i = 0; i < n; i++) {
		old = conf_path_index(w, i);
		if (conf_get_int(w, conf_seq_item(w, v, i), f->f_min, f->f_max,
		    &code) == 0) {
			rp->rp_codes[rp->rp_ncodes++] = (uint16_t)code;
			buf_printf(&w->w_json, "%s%" PRId64,
			    rp->rp_ncodes > 1 ? "," : "", code);
		}
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}

static void
retry_init(struct cw *w, void *base)
{
	struct cd_retry_policy *rp = base;

	(void)w;
	/* retry_back_off absent: Envoy's 25 ms base, 250 ms cap */
	rp->rp_backoff_base = 25 * CONF_MS;
	rp->rp_backoff_max = 250 * CONF_MS;
}

_Static_assert(offsetof(struct cd_retry_policy, rp_set) == 0,
    "conf_done_present() sets rp_set");

/* retry_on names, Envoy's spelling (canaryd-envoy(7), RETRIES) */
static const struct conf_flag retry_on_flags[] = {
	{ "5xx", CD_RETRY_5XX },
	{ "gateway-error", CD_RETRY_GATEWAY_ERROR },
	{ "reset", CD_RETRY_RESET },
	{ "connect-failure", CD_RETRY_CONNECT_FAILURE },
	{ "retriable-4xx", CD_RETRY_RETRIABLE_4XX },
	{ "refused-stream", CD_RETRY_REFUSED_STREAM },
	{ "retriable-status-codes", CD_RETRY_RETRIABLE_CODES },
	{ "reset-before-request", CD_RETRY_RESET_BEFORE_REQUEST },
	{ "envoy-ratelimited", CD_RETRY_ENVOY_RATELIMITED },
	{ NULL, 0 }
};

static const struct conf_field retry_fields[] = {
	{ "retry_on", CK_FLAGS, 0, .f_flagv = retry_on_flags,
	    RP(rp_retry_on) },
	{ "num_retries", CK_UINT, CF_DEF, U32, .f_def = 1,
	    RP(rp_num_retries) },
	{ "per_try_timeout", CK_DUR, CF_ZERO_UNSET, RP(rp_per_try_timeout) },
	{ "per_try_idle_timeout", CK_REJECT, 0, .f_why = "canaryd has no "
	    "per-try idle timeout; use per_try_timeout" },
	{ "retry_priority", CK_REJECT, 0, .f_why = "canaryd has one priority "
	    "per cluster; remove it (a retry already prefers a host not yet "
	    "tried)" },
	{ "retry_host_predicate", CK_REJECT, 0, .f_why = "a retry goes to a "
	    "host not yet tried when there is one; remove it" },
	{ "host_selection_retry_max_attempts", CK_REJECT, 0, .f_why = "a "
	    "retry goes to a host not yet tried when there is one; remove it" },
	{ "retriable_status_codes", CK_FN, 0, .f_fn = fn_retriable_codes,
	    .f_like = CK_SEQ, .f_min = 100, .f_max = 599,
	    .f_items = CD_MAX_RETRIABLE_CODES },
	{ "retry_back_off", CK_MSG, 0, .f_msg = &msg_backoff,
	    .f_defdoc = "base 0.025s, max 0.250s" },
	{ "retriable_headers", CK_REJECT, 0, .f_why = "retry on status codes "
	    "with retriable_status_codes; remove it" },
	{ "retriable_request_headers", CK_REJECT, 0, .f_why = "canaryd "
	    "retries by the route's policy for every request; remove it" },
	{ "rate_limited_retry_back_off", CK_REJECT, 0, .f_why = "canaryd "
	    "reads no rate limit headers; use retry_back_off" },
	{ "retry_options_predicates", CK_REJECT, 0, .f_why = "a retry goes to "
	    "a host not yet tried when there is one; remove it" },
	F_END
};
#undef RP
static const struct conf_msg msg_retry = { "RetryPolicy", retry_fields,
    retry_init, conf_done_present };

/* ---- route actions ---------------------------------------------------- */

static const struct conf_field cluster_weight_fields[] = {
	{ "name", CK_CLREF, CF_REQUIRED | CF_NAME,
	    .f_off = offsetof(struct cd_weighted_cluster, wc_cluster),
	    .f_cnt = offsetof(struct cd_weighted_cluster, wc_name) },
	{ "cluster_header", CK_REJECT, 0, .f_why = "canaryd picks clusters "
	    "from the route; use cluster or weighted_clusters (and the canary "
	    "override_header option to let a header pick)" },
	{ "weight", CK_UINT, 0, U32,
	    AT(struct cd_weighted_cluster, wc_weight) },
	{ "metadata_match", CK_REJECT, 0, .f_why = "canaryd has no subset "
	    "load balancing; make each subset a cluster of its own" },
	CONF_HDR_ADD("request_headers_to_add", struct cd_weighted_cluster,
	    wc_hdrs.hm_req),
	CONF_HDR_REMOVE("request_headers_to_remove",
	    struct cd_weighted_cluster, wc_hdrs.hm_req),
	CONF_HDR_ADD("response_headers_to_add", struct cd_weighted_cluster,
	    wc_hdrs.hm_resp),
	CONF_HDR_REMOVE("response_headers_to_remove",
	    struct cd_weighted_cluster, wc_hdrs.hm_resp),
	{ "typed_per_filter_config", CK_REJECT, 0, .f_why = NO_FILTER_CFG },
	{ "host_rewrite_literal", CK_STR, 0,
	    AT(struct cd_weighted_cluster, wc_host) },
	F_END
};
static const struct conf_msg msg_cluster_weight = {
    "WeightedCluster.ClusterWeight", cluster_weight_fields, NULL, NULL };

static const struct conf_msg msg_weighted;

/* runtime_key_prefix: each cluster's key, "<prefix>.<name>". */
static void
runtime_keys(struct cw *w, struct cd_route *rt)
{
	struct cd_weighted_cluster *wc;
	size_t i, len;

	if (rt->rt_runtime_prefix != NULL && rt->rt_runtime_prefix[0] == '\0')
		rt->rt_runtime_prefix = NULL;
	for (i = 0; rt->rt_runtime_prefix != NULL && i < rt->rt_nwc; i++) {
		wc = &rt->rt_wc[i];
		if (wc->wc_name == NULL)
			continue;
		len = strlen(rt->rt_runtime_prefix) + strlen(wc->wc_name) + 2;
		if ((wc->wc_runtime_key = arena_alloc(w->w_arena, len)) ==
		    NULL) {
			conf_oom(w);
			return;
		}
		snprintf(wc->wc_runtime_key, len, "%s.%s",
		    rt->rt_runtime_prefix, wc->wc_name);
	}
}

/* Where each weight of rt is in the file (struct cd_wspan). */
static void
weight_spans(struct cw *w, yaml_node_t *cn, struct cd_route *rt)
{
	struct cd_wspan *s;
	yaml_node_t *it, *wn;
	size_t i, j, cap;

	for (i = 0; i < rt->rt_nwc && !w->w_wfast_off; i++) {
		it = cn != NULL ? conf_seq_item(w, cn, i) : NULL;
		wn = it != NULL ? conf_map_get(w, it, "weight") : NULL;
		if (wn == NULL || wn->type != YAML_SCALAR_NODE ||
		    wn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    wn->end_mark.index - wn->start_mark.index !=
		    wn->data.scalar.length || rt->rt_wc[i].wc_weight == 0) {
			w->w_wfast_off = 1;
			return;
		}
		for (j = 0; j < wn->data.scalar.length; j++)
			if (wn->data.scalar.value[j] < '0' ||
			    wn->data.scalar.value[j] > '9') {
				w->w_wfast_off = 1;
				return;
			}
		if (w->w_nwspans == w->w_wspcap) {
			cap = w->w_wspcap ? 2 * w->w_wspcap : 64;
			if ((s = reallocarray(w->w_wspans, cap,
			    sizeof(*s))) == NULL) {
				w->w_wfast_off = 1;
				return;
			}
			w->w_wspans = s;
			w->w_wspcap = cap;
		}
		s = &w->w_wspans[w->w_nwspans++];
		s->ws_off = wn->start_mark.index;
		s->ws_len = wn->data.scalar.length;
		s->ws_rt = rt;
		s->ws_k = (uint32_t)i;
	}
}

static void
weighted_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route *rt = base;
	yaml_node_t *cn, *tn;
	uint64_t sum = 0;
	size_t i, old;

	for (i = 0; i < rt->rt_nwc; i++)
		sum += rt->rt_wc[i].wc_weight;
	cn = conf_map_get(w, n, "clusters");
	if (rt->rt_nwc > 0 && (sum == 0 || sum > UINT32_MAX)) {
		old = conf_path_push(w, "clusters");
		conf_err(w, cn != NULL ? cn : n, sum == 0 ?
		    "the sum of the weights must be greater than 0" :
		    "the sum of the weights must be at most 4294967295");
		conf_path_pop(w, old);
	}
	if ((seen & conf_field_bit(&msg_weighted, "total_weight")) &&
	    sum > 0 && rt->rt_total_weight != sum &&
	    (tn = conf_map_get(w, n, "total_weight")) != NULL) {
		old = conf_path_push(w, "total_weight");
		conf_warn(w, tn, "total_weight %" PRIu64 " differs from the "
		    "sum of the weights %" PRIu64 ": total_weight is "
		    "deprecated (ignored by Envoy since 1.24); the sum is used",
		    rt->rt_total_weight, sum);
		conf_path_pop(w, old);
	}
	rt->rt_total_weight = sum;
	if (seen & conf_field_bit(&msg_weighted, "total_weight"))
		w->w_wfast_off = 1;
	weight_spans(w, cn, rt);
	runtime_keys(w, rt);
	if (w->w_nsplits >= INT_MAX)
		conf_err(w, n, "too many weighted_clusters routes: canaryd "
		    "supports at most %d", INT_MAX);
	else
		rt->rt_wi = (int)w->w_nsplits++;
}

/* ---- hash_policy ------------------------------------------------------ */

#define HP(m)	AT(struct cd_hash_policy, m)
static const struct conf_field hash_header_fields[] = {
	{ "header_name", CK_STR, CF_REQUIRED | CF_NONEMPTY | CF_LOWER,
	    HP(hp_name) },
	{ "regex_rewrite", CK_REJECT, 0, .f_why = "canaryd hashes the "
	    "header's value as it is; remove it" },
	F_END
};
static const struct conf_msg msg_hash_header = { "HashPolicy.Header",
    hash_header_fields, NULL, NULL };

static const struct conf_field hash_cookie_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY, HP(hp_name) },
	{ "ttl", CK_IGNORE, 0, .f_why = "canaryd generates no cookie: a "
	    "request without it goes on to the next hash policy, or to any "
	    "host (the canary sticky option hands out cookies)" },
	{ "path", CK_IGNORE, 0, .f_why = "it is the path of a generated "
	    "cookie, and canaryd generates none" },
	{ "attributes", CK_IGNORE, 0, .f_why = "they are a generated "
	    "cookie's, and canaryd generates none" },
	F_END
};
static const struct conf_msg msg_hash_cookie = { "HashPolicy.Cookie",
    hash_cookie_fields, NULL, NULL };

static const struct conf_field hash_conn_fields[] = {
	{ "source_ip", CK_BOOL, 0, HP(hp_source_ip) },
	F_END
};
static const struct conf_msg msg_hash_conn = {
    "HashPolicy.ConnectionProperties", hash_conn_fields, NULL, NULL };

static const struct conf_field hash_query_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY, HP(hp_name) },
	F_END
};
static const struct conf_msg msg_hash_query = {
    "HashPolicy.QueryParameter", hash_query_fields, NULL, NULL };

/* Which of the oneof it is; source_ip: false hashes nothing. */
static void
hash_policy_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_hash_policy *hp = base;
	static const uint8_t kind[] = { CD_HASH_HEADER, CD_HASH_COOKIE,
	    CD_HASH_SOURCE_IP, CD_HASH_QUERY };
	size_t i;

	(void)w;
	(void)n;
	for (i = 0; i < sizeof(kind); i++)
		if (seen & ((uint64_t)1 << i))
			hp->hp_kind = kind[i];
	if (hp->hp_kind == CD_HASH_SOURCE_IP && !hp->hp_source_ip)
		hp->hp_kind = 0;
}

/* The first four rows are the oneof, in enum cd_hash_kind's order. */
static const struct conf_field hash_policy_fields[] = {
	{ "header", CK_MSG, 0, 1, .f_msg = &msg_hash_header },
	{ "cookie", CK_MSG, 0, 1, .f_msg = &msg_hash_cookie },
	{ "connection_properties", CK_MSG, 0, 1, .f_msg = &msg_hash_conn },
	{ "query_parameter", CK_MSG, 0, 1, .f_msg = &msg_hash_query },
	{ "filter_state", CK_REJECT, 0, 1, .f_why = "canaryd runs no filters "
	    "that leave state; use a header, cookie, query parameter or the "
	    "source address instead" },
	{ "terminal", CK_BOOL, 0, HP(hp_terminal) },
	F_END
};
static const struct conf_msg msg_hash_policy = { "RouteAction.HashPolicy",
    hash_policy_fields, NULL, hash_policy_done };

/* ---- request_mirror_policies -------------------------------------------- */

#define MP(m)	AT(struct cd_mirror, m)
static const struct conf_field mirror_fields[] = {
	{ "cluster", CK_CLREF, CF_REQUIRED, 1, MP(mp_cluster) },
	{ "cluster_header", CK_REJECT, 0, .f_oneof = 1, .f_why = "canaryd "
	    "mirrors to the clusters the route names; use cluster to name "
	    "the cluster (one policy per cluster)" },
	{ "runtime_fraction", CK_MSG, 0, .f_msg = &conf_msg_runtime_fraction,
	    MP(mp_fraction), .f_defdoc = "every request",
	    .f_note = "an exact share, like the split (Envoy draws at "
	    "random)" },
	{ "trace_sampled", CK_IGNORE, 0, .f_why = "canaryd traces nothing, "
	    "so there is no span to sample" },
	{ "disable_shadow_host_suffix_append", CK_BOOL, 0,
	    MP(mp_no_suffix) },
	{ "request_headers_mutations", CK_REJECT, 0, .f_why = "canaryd sends "
	    "the mirrored request with the route's own header mutations; "
	    "remove it, or add the headers with the route's "
	    "request_headers_to_add" },
	{ "host_rewrite_literal", CK_STR, CF_NONEMPTY, MP(mp_host),
	    .f_note = "no -shadow suffix then" },
	F_END
};
#undef MP
const struct conf_msg conf_msg_mirror = { "RequestMirrorPolicy",
    mirror_fields, NULL, NULL };

#define CONF_MIRRORS(T, m, n)						\
	{ "request_mirror_policies", CK_SEQ, 0, .f_msg = &conf_msg_mirror, \
	    .f_items = CD_MAX_MIRRORS, .f_why = "(CD_MAX_MIRRORS)",	\
	    LIST(T, m, n, struct cd_mirror), .f_note = "bodies past the "	\
	    "listener's buffer limit are not mirrored" }

#define RT(m)	AT(struct cd_route, m)
static const struct conf_field weighted_fields[] = {
	{ "clusters", CK_SEQ, CF_REQUIRED | CF_NONEMPTY,
	    .f_msg = &msg_cluster_weight, LIST(struct cd_route, rt_wc, rt_nwc,
	    struct cd_weighted_cluster) },
	/* deprecated: only compared with the sum, see weighted_done() */
	{ "total_weight", CK_UINT, 0, .f_min = 1, .f_max = UINT32_MAX,
	    RT(rt_total_weight), .f_defdoc = "the sum of the weights",
	    .f_note = "deprecated: a value other than the sum is a warning, "
	    "the sum is used" },
	{ "runtime_key_prefix", CK_STR, 0, RT(rt_runtime_prefix),
	    .f_note = "the split restarts its period when a key changes" },
	{ "header_name", CK_REJECT, 0, .f_why = "use the canary sticky option "
	    "(metadata.filter_metadata.canaryd.sticky: { header: <name> }) to "
	    "keep a client on one cluster" },
	{ "use_hash_policy", CK_REJECT, 0, .f_why = "use the canary sticky "
	    "option (metadata.filter_metadata.canaryd.sticky) to keep a "
	    "client on one cluster" },
	F_END
};
static const struct conf_msg msg_weighted = { "WeightedCluster",
    weighted_fields, NULL, weighted_done };

static const struct conf_msg msg_route_action;

#define UG(m)	AT(struct cd_upgrade, m)
static const struct conf_field route_upgrade_fields[] = {
	{ "upgrade_type", CK_STR, CF_REQUIRED | CF_NONEMPTY, UG(ug_type),
	    .f_note = "matched against the Upgrade header ignoring case" },
	{ "enabled", CK_BOOL, CF_DEF, .f_def = 1, UG(ug_enabled) },
	{ "connect_config", CK_REJECT, 0, .f_why = "canaryd does not proxy "
	    "CONNECT; remove it and tunnel through a forward proxy" },
	F_END
};
#undef UG
static const struct conf_msg msg_route_upgrade = {
    "RouteAction.UpgradeConfig", route_upgrade_fields, NULL,
    conf_upgrade_done };

static void
route_action_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route *rt = base;

	conf_rewrite_check(w, n, rt);
	conf_upgrade_check(w, n, rt->rt_upgrades, rt->rt_nupgrades);
	rt->rt_action = (seen & conf_field_bit(&msg_route_action,
	    "weighted_clusters")) ? CD_RA_WEIGHTED : CD_RA_CLUSTER;
}

static const struct conf_field route_action_fields[] = {
	{ "cluster", CK_CLREF, CF_REQUIRED, 1, RT(rt_cluster) },
	{ "cluster_header", CK_REJECT, 0, .f_oneof = 1, .f_why = "canaryd "
	    "picks clusters from the route; use cluster or weighted_clusters "
	    "(and the canary override_header option to let a header pick)" },
	{ "weighted_clusters", CK_MSG, 0, 1, .f_msg = &msg_weighted },
	{ "cluster_specifier_plugin", CK_REJECT, 0, .f_oneof = 1,
	    .f_why = NO_EXTENSION },
	{ "inline_cluster_specifier_plugin", CK_REJECT, 0, .f_oneof = 1,
	    .f_why = NO_EXTENSION },
	{ "cluster_not_found_response_code", CK_ENUM, CF_DEF, .f_def = 503,
	    .f_enum = &enum_not_found, RT(rt_cluster_not_found_code) },
	{ "metadata_match", CK_REJECT, 0, .f_why = "canaryd has no subset "
	    "load balancing; make each subset a cluster of its own" },
	{ "prefix_rewrite", CK_STR, 0, RT(rt_rw.rw_prefix),
	    .f_note = "sent with x-envoy-original-path" },
	{ "regex_rewrite", CK_MSG, 0, .f_msg = &conf_msg_regex_sub,
	    RT(rt_rw.rw_regex) },
	{ "path_rewrite_policy", CK_REJECT, 0, .f_why = NO_REWRITE },
	{ "path_rewrite", CK_REJECT, 0, .f_why = NO_REWRITE },
	{ "host_rewrite_literal", CK_STR, 0, 2, RT(rt_rw.rw_host) },
	{ "auto_host_rewrite", CK_BOOL, 0, 2, RT(rt_rw.rw_auto_host),
	    .f_note = "the first attempt's host names it; a retry keeps it" },
	{ "host_rewrite_header", CK_STR, CF_LOWER, 2,
	    RT(rt_rw.rw_host_header) },
	{ "host_rewrite_path_regex", CK_MSG, 0, 2,
	    .f_msg = &conf_msg_regex_sub, RT(rt_rw.rw_host_regex) },
	{ "host_rewrite", CK_REJECT, 0, .f_oneof = 2, .f_why = NO_REWRITE },
	{ "append_x_forwarded_host", CK_BOOL, 0, RT(rt_rw.rw_append_xfh) },
	{ "timeout", CK_DUR, CF_DEF, .f_def = 15 * CONF_S, RT(rt_timeout) },
	{ "idle_timeout", CK_DUR, 0, RT(rt_idle_timeout) },
	{ "flush_timeout", CK_IGNORE, 0, .f_why = "it bounds HTTP/2 flow "
	    "control waits, which HTTP/1.1 has none of" },
	{ "early_data_policy", CK_IGNORE, 0, .f_why = "canaryd takes no TLS "
	    "early data" },
	{ "retry_policy", CK_MSG, 0, .f_msg = &msg_retry, RT(rt_retry),
	    .f_defdoc = "the virtual host's" },
	{ "retry_policy_typed_config", CK_REJECT, 0, .f_why = NO_EXTENSION },
	CONF_MIRRORS(struct cd_route, rt_mirror, rt_nmirror),
	{ "priority", CK_REJECT, 0,
	    .f_why = "canaryd's routes have one priority; remove it" },
	{ "rate_limits", CK_REJECT, 0, .f_why = NO_RATELIMIT },
	{ "include_vh_rate_limits", CK_IGNORE, 0, .f_why = "rate_limits are "
	    "refused, so there are none to include" },
	{ "hash_policy", CK_ARR, 0, .f_msg = &msg_hash_policy,
	    .f_items = CD_MAX_HASH_POLICIES, LIST(struct cd_route, rt_hash,
	    rt_nhash, struct cd_hash_policy), .f_note = "for RING_HASH and "
	    "MAGLEV clusters; the canary sticky option keeps a client on one "
	    "version" },
	{ "cors", CK_FN, 0, .f_fn = conf_fn_cors_legacy, .f_like = CK_MSG,
	    .f_msg = &conf_msg_cors_policy, .f_off = offsetof(struct cd_route,
	    rt_hf), .f_note = "deprecated by Envoy; the route's "
	    "typed_per_filter_config wins" },
	{ "max_grpc_timeout", CK_REJECT, 0, .f_why = NO_GRPC },
	{ "grpc_timeout_offset", CK_REJECT, 0, .f_why = NO_GRPC },
	{ "upgrade_configs", CK_ARR, 0, .f_msg = &msg_route_upgrade,
	    .f_items = CD_MAX_UPGRADES, .f_why = "(CD_MAX_UPGRADES)",
	    LIST(struct cd_route, rt_upgrades, rt_nupgrades,
	    struct cd_upgrade), .f_note = "overrides the connection "
	    "manager's entry of the same type" },
	{ "internal_redirect_policy", CK_REJECT, 0, .f_why = NO_INT_REDIR },
	{ "internal_redirect_action", CK_REJECT, 0, .f_why = NO_INT_REDIR },
	{ "max_internal_redirects", CK_REJECT, 0, .f_why = NO_INT_REDIR },
	{ "hedge_policy", CK_REJECT, 0, .f_why = NO_HEDGE },
	{ "max_stream_duration", CK_REJECT, 0, .f_why = "canaryd bounds a "
	    "request by the route's timeout; use timeout" },
	F_END
};
static const struct conf_msg msg_route_action = { "RouteAction",
    route_action_fields, NULL, route_action_done };

/* ---- routes ----------------------------------------------------------- */

static const struct conf_field metadata_fields[] = {
	{ "filter_metadata", CK_FN, 0, .f_fn = conf_fn_filter_metadata,
	    .f_like = CK_STRUCT, .f_msg = &conf_msg_canaryd },
	{ "typed_filter_metadata", CK_REJECT, 0, .f_why = "canaryd reads "
	    "filter_metadata only; move the values there" },
	F_END
};
static const struct conf_msg msg_metadata = { "Metadata", metadata_fields,
    NULL, NULL };

static void
route_init(struct cw *w, void *base)
{
	struct cd_route *rt = base;

	(void)w;
	rt->rt_wi = -1;
	rt->rt_canary_wc = -1;
	rt->rt_stable_wc = -1;
	rt->rt_fallback = -1;
}

static void
route_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route *rt = base;

	(void)seen;
	conf_pos_set(w, &rt->rt_pos, n);
	conf_canary_pick(rt);
}

static const struct conf_field route_fields[] = {
	{ "name", CK_STR, 0, .f_max = CD_NAME_MAX - 1, RT(rt_name) },
	{ "match", CK_MSG, CF_REQUIRED, .f_msg = &msg_match, RT(rt_match) },
	{ "route", CK_MSG, CF_REQUIRED, 1, .f_msg = &msg_route_action },
	{ "redirect", CK_MSG, 0, 1, .f_msg = &conf_msg_redirect },
	{ "direct_response", CK_MSG, 0, 1, .f_msg = &conf_msg_direct },
	{ "filter_action", CK_REJECT, 0, .f_oneof = 1,
	    .f_why = NO_FILTER_ACTION },
	{ "non_forwarding_action", CK_REJECT, 0, .f_oneof = 1,
	    .f_why = NO_FILTER_ACTION },
	{ "metadata", CK_MSG, 0, .f_msg = &msg_metadata },
	{ "decorator", CK_IGNORE, 0, .f_why = NO_SPANS },
	{ "typed_per_filter_config", CK_FN, 0, .f_fn = conf_fn_per_filter,
	    .f_like = CK_STRUCT, .f_off = offsetof(struct cd_route, rt_hf),
	    .f_note = "cors, fault, local_ratelimit" },
	CONF_HDR_ADD("request_headers_to_add", struct cd_route,
	    rt_hdrs.hm_req),
	CONF_HDR_REMOVE("request_headers_to_remove", struct cd_route,
	    rt_hdrs.hm_req),
	CONF_HDR_ADD("response_headers_to_add", struct cd_route,
	    rt_hdrs.hm_resp),
	CONF_HDR_REMOVE("response_headers_to_remove", struct cd_route,
	    rt_hdrs.hm_resp),
	{ "tracing", CK_IGNORE, 0, .f_why = NO_SPANS },
	{ "per_request_buffer_limit_bytes", CK_REJECT, 0, .f_why = NO_RQ_BUF },
	{ "stat_prefix", CK_IGNORE, 0, .f_why = "canaryd keeps no per-route "
	    "statistics" },
	{ "request_body_buffer_limit", CK_REJECT, 0, .f_why = NO_RQ_BUF },
	F_END
};
#undef RT
static const struct conf_msg msg_route = { "Route", route_fields,
    route_init, route_done };

/* ---- virtual hosts ---------------------------------------------------- */

/* Envoy's wildcards: "*", "*suffix" or "prefix*", never in the middle. */
static int
domain_is_valid(const char *d)
{
	const char *star = strchr(d, '*');
	size_t len = strlen(d);

	if (star == NULL || len == 1)
		return 1;
	if (star != d && star != d + len - 1)
		return 0;
	return strchr(star + 1, '*') == NULL;
}

/* Domain d (node it) of the virtual host being walked: valid, and in no
 * other virtual host. */
static void
vhost_domain_check(struct cw *w, const char *d, yaml_node_t *it)
{
	const struct conf_domain *o;
	size_t k;

	if (!domain_is_valid(d))
		conf_err(w, it, "bad domain \"%s\": a wildcard must be "
		    "the first or last character", d);
	for (k = 0; k < w->w_ndomains; k++) {
		o = &w->w_domains[k];
		if (strcmp(o->d_name, d) != 0)
			continue;
		if (strcmp(d, "*") == 0 && o->d_vhost != w->w_nvhosts)
			conf_err(w, it, "only one virtual host may "
			    "contain \"*\" (virtual_hosts[%zu] has it "
			    "too)", o->d_vhost);
		else
			conf_err(w, it, "duplicate domain \"%s\" (also in "
			    "virtual_hosts[%zu], line %d)", d,
			    o->d_vhost, o->d_line);
		break;
	}
}

/* Keep domain d (node it) for the virtual hosts that follow. */
static int
vhost_domain_add(struct cw *w, const char *d, const yaml_node_t *it)
{
	struct conf_domain *dv;
	size_t cap;

	if (w->w_ndomains == w->w_domcap) {
		cap = w->w_domcap == 0 ? 16 : w->w_domcap * 2;
		if ((dv = reallocarray(w->w_domains, cap,
		    sizeof(*dv))) == NULL) {
			conf_oom(w);
			return -1;
		}
		w->w_domains = dv;
		w->w_domcap = cap;
	}
	dv = &w->w_domains[w->w_ndomains++];
	dv->d_name = d;
	dv->d_vhost = w->w_nvhosts;
	dv->d_line = (int)it->start_mark.line + 1;
	return 0;
}

static void
vhost_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_vhost *vh = base;
	yaml_node_t *dn, *it;
	size_t i, old;
	const char *d;

	(void)seen;
	dn = conf_map_get(w, n, "domains");
	for (i = 0; i < vh->vh_ndomains && !w->w_stop; i++) {
		if ((d = vh->vh_domains[i]) == NULL)
			continue;
		it = dn != NULL && dn->type == YAML_SEQUENCE_NODE &&
		    i < conf_seq_len(dn) ? conf_seq_item(w, dn, i) : n;
		old = conf_path_push(w, "domains");
		conf_path_index(w, i);
		vhost_domain_check(w, d, it);
		conf_path_pop(w, old);
		if (vhost_domain_add(w, d, it) == -1)
			return;
	}
	w->w_nvhosts++;
	/* A route without a retry policy of its own takes its vhost's,
	 * and its mirror policies too. */
	for (i = 0; i < vh->vh_nroutes; i++) {
		if (!vh->vh_routes[i].rt_retry.rp_set)
			vh->vh_routes[i].rt_retry = vh->vh_retry;
		if (vh->vh_routes[i].rt_nmirror == 0) {
			vh->vh_routes[i].rt_mirror = vh->vh_mirror;
			vh->vh_routes[i].rt_nmirror = vh->vh_nmirror;
		}
	}
}

#define VH(m)	AT(struct cd_vhost, m)
static const struct conf_field vhost_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    .f_max = CD_NAME_MAX - 1, VH(vh_name) },
	{ "domains", CK_STRSEQ, CF_REQUIRED | CF_NONEMPTY | CF_LOWER,
	    .f_max = CD_HOSTNAME_MAX - 1,
	    LIST(struct cd_vhost, vh_domains, vh_ndomains, char *) },
	{ "routes", CK_SEQ, 0, .f_msg = &msg_route,
	    LIST(struct cd_vhost, vh_routes, vh_nroutes, struct cd_route) },
	{ "matcher", CK_REJECT, 0, .f_why = "canaryd matches routes only; use "
	    "routes" },
	{ "require_tls", CK_REJECT, 0, .f_why = NO_TLS },
	{ "virtual_clusters", CK_REJECT, 0, .f_why = "canaryd keeps "
	    "statistics per cluster and virtual host prefix; remove it" },
	{ "rate_limits", CK_REJECT, 0, .f_why = NO_RATELIMIT },
	CONF_HDR_ADD("request_headers_to_add", struct cd_vhost,
	    vh_hdrs.hm_req),
	CONF_HDR_REMOVE("request_headers_to_remove", struct cd_vhost,
	    vh_hdrs.hm_req),
	CONF_HDR_ADD("response_headers_to_add", struct cd_vhost,
	    vh_hdrs.hm_resp),
	CONF_HDR_REMOVE("response_headers_to_remove", struct cd_vhost,
	    vh_hdrs.hm_resp),
	{ "cors", CK_FN, 0, .f_fn = conf_fn_cors_legacy, .f_like = CK_MSG,
	    .f_msg = &conf_msg_cors_policy, .f_off = offsetof(struct cd_vhost,
	    vh_hf), .f_note = "deprecated by Envoy; typed_per_filter_config "
	    "wins" },
	{ "typed_per_filter_config", CK_FN, 0, .f_fn = conf_fn_per_filter,
	    .f_like = CK_STRUCT, .f_off = offsetof(struct cd_vhost, vh_hf),
	    .f_note = "cors, fault, local_ratelimit" },
	{ "include_request_attempt_count", CK_REJECT, 0, .f_why = "canaryd "
	    "adds no x-envoy-attempt-count header; remove it" },
	{ "include_attempt_count_in_response", CK_REJECT, 0, .f_why = "canaryd "
	    "adds no x-envoy-attempt-count header; remove it" },
	{ "retry_policy", CK_MSG, 0, .f_msg = &msg_retry, VH(vh_retry) },
	{ "retry_policy_typed_config", CK_REJECT, 0, .f_why = NO_EXTENSION },
	{ "hedge_policy", CK_REJECT, 0, .f_why = NO_HEDGE },
	{ "include_is_timeout_retry_header", CK_REJECT, 0, .f_why = "canaryd "
	    "adds no x-envoy-is-timeout-retry header; remove it" },
	{ "per_request_buffer_limit_bytes", CK_REJECT, 0, .f_why = NO_RQ_BUF },
	{ "request_body_buffer_limit", CK_REJECT, 0, .f_why = NO_RQ_BUF },
	CONF_MIRRORS(struct cd_vhost, vh_mirror, vh_nmirror),
	{ "metadata", CK_IGNORE, 0, .f_why = "only filters read virtual host "
	    "metadata, and canaryd runs none" },
	F_END
};
#undef VH
static const struct conf_msg msg_vhost = { "VirtualHost", vhost_fields,
    NULL, vhost_done };

/* ---- route configuration ---------------------------------------------- */

static void
fn_validate_clusters(struct cw *w, const struct conf_field *f,
    yaml_node_t *v, void *base)
{
	bool b;

	(void)f;
	(void)base;
	if (conf_get_bool(w, v, &b) == -1)
		return;
	w->w_validate_clusters = b;
	conf_json_raw(w, b ? "true" : "false");
}

#define L(m)	AT(struct cd_listener, m)
static const struct conf_field route_config_fields[] = {
	{ "name", CK_STR, 0, L(l_route_config_name) },
	{ "virtual_hosts", CK_SEQ, 0, .f_msg = &msg_vhost,
	    LIST(struct cd_listener, l_vhosts, l_nvhosts, struct cd_vhost) },
	{ "vhds", CK_REJECT, 0, .f_why = NO_XDS },
	{ "internal_only_headers", CK_REJECT, 0, .f_why = "canaryd removes no "
	    "headers by configuration; remove it and drop them at the "
	    "backend" },
	CONF_HDR_ADD("response_headers_to_add", struct cd_listener,
	    l_hdrs.hm_resp),
	CONF_HDR_REMOVE("response_headers_to_remove", struct cd_listener,
	    l_hdrs.hm_resp),
	CONF_HDR_ADD("request_headers_to_add", struct cd_listener,
	    l_hdrs.hm_req),
	CONF_HDR_REMOVE("request_headers_to_remove", struct cd_listener,
	    l_hdrs.hm_req),
	{ "most_specific_header_mutations_wins", CK_BOOL, 0,
	    L(l_most_specific_hdrs) },
	{ "validate_clusters", CK_FN, 0, .f_fn = fn_validate_clusters,
	    .f_like = CK_BOOL, .f_defdoc = "true" },
	{ "max_direct_response_body_size_bytes", CK_IGNORE, 0, .f_why =
	    "canaryd sends direct_response bodies of any size" },
	{ "cluster_specifier_plugins", CK_REJECT, 0, .f_why = NO_EXTENSION },
	CONF_MIRRORS(struct cd_listener, l_mirror, l_nmirror),
	{ "ignore_port_in_host_matching", CK_BOOL, 0,
	    L(l_ignore_port_in_host_matching) },
	{ "vhost_header", CK_REJECT, 0, .f_why = "virtual hosts match the "
	    "Host header; remove it" },
	{ "ignore_path_parameters_in_path_matching", CK_REJECT, 0,
	    .f_why = "canaryd matches the path as sent; remove it" },
	{ "typed_per_filter_config", CK_FN, 0, .f_fn = conf_fn_per_filter,
	    .f_like = CK_STRUCT, .f_off = offsetof(struct cd_listener,
	    l_rc_hf), .f_note = "cors, fault, local_ratelimit" },
	{ "metadata", CK_IGNORE, 0, .f_why = "only filters read route table "
	    "metadata, and canaryd's read none" },
	F_END
};
#undef L
static void
route_config_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_listener *l = base;
	struct cd_route *rt;
	size_t v, r;

	(void)w;
	(void)n;
	(void)seen;
	conf_hdr_levels(base);
	/* mirror policies: a route with none of its own or its virtual
	 * host's takes the route configuration's */
	for (v = 0; v < l->l_nvhosts; v++)
		for (r = 0; r < l->l_vhosts[v].vh_nroutes; r++) {
			rt = &l->l_vhosts[v].vh_routes[r];
			if (rt->rt_nmirror == 0) {
				rt->rt_mirror = l->l_mirror;
				rt->rt_nmirror = l->l_nmirror;
			}
		}
}

const struct conf_msg conf_msg_route_config = { "RouteConfiguration",
    route_config_fields, NULL, route_config_done };
