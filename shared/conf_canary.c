/*
 * Configuration loader: canaryd's own route options (conf-int.h).  Master
 * only.
 *
 * They live where Envoy keeps other software's data, in the route's
 * metadata.filter_metadata under the "canaryd" namespace, so the same file
 * still loads in Envoy: split (exact or random), sticky (cookie or header
 * key, seed), override_header / override_cookie, fallback, and rollout
 * (canary, stable, steps, thresholds).  All but fallback need a route with
 * weighted_clusters; the rules across them are checked in canaryd_done().
 * Other namespaces belong to other software and are only carried along
 * into /config_dump.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <yaml.h>

#include "arena.h"
#include "buf.h"
#include "conf.h"
#include "conf-int.h"

/* The route a canaryd option struct is embedded in. */
#define CANARY_ROUTE(p, m)						\
	((struct cd_route *)(void *)((char *)(p) -			\
	offsetof(struct cd_route, m)))

/* A Struct value in Envoy, so printed as written: lower case. */
static const struct conf_enum enum_split = { "split mode",
    (const struct conf_enum_val[]){ { "exact", CD_SPLIT_EXACT },
    { "random", CD_SPLIT_RANDOM }, { NULL, 0 } } };

/*
 * filter_metadata: namespace -> Struct.  "canaryd" is ours and strict
 * (f_msg says which keys); other namespaces belong to other software and
 * are only carried along.
 */
void
conf_fn_filter_metadata(struct cw *w, const struct conf_field *f,
    yaml_node_t *v, void *base)
{
	struct conf_pair pairs[CONF_MAX_PAIRS];
	char wb[CONF_QUOTE_MAX + 8];
	yaml_node_t *k, *val;
	size_t np = 0, i, j, old, jlen;

	if (v->type != YAML_MAPPING_NODE) {
		conf_err(w, v, "want a mapping of namespaces, got %s",
		    conf_node_what(v, wb, sizeof(wb)));
		return;
	}
	if (conf_map_collect(w, v, pairs, &np, 0, 0) == -1)
		return;
	conf_json_raw(w, "{");
	for (i = 0; i < np && !w->w_stop; i++) {
		k = pairs[i].p_key;
		val = pairs[i].p_val;
		for (j = 0; j < i; j++)
			if (conf_slen(pairs[j].p_key) == conf_slen(k) &&
			    memcmp(conf_sval(pairs[j].p_key), conf_sval(k),
			    conf_slen(k)) == 0)
				break;
		old = conf_path_pushn(w, conf_sval(k), conf_slen(k));
		if (j < i) {
			if (!pairs[i].p_merged)
				conf_err(w, k, "duplicate namespace (also on "
				    "line %d); remove one",
				    (int)pairs[j].p_key->start_mark.line + 1);
			/* canaryd's second one is checked all the same */
			if (!pairs[i].p_merged &&
			    strcmp(conf_sval(k), CONF_NS) == 0) {
				jlen = w->w_json.b_len;
				conf_walk_msg(w, val, f->f_msg, base, NULL);
				w->w_json.b_len = jlen;
			}
			conf_path_pop(w, old);
			continue;
		}
		if (i > 0)
			conf_json_raw(w, ",");
		conf_json_str(w, conf_sval(k), conf_slen(k));
		conf_json_raw(w, ":");
		if (strcmp(conf_sval(k), CONF_NS) == 0)
			conf_walk_msg(w, val, f->f_msg, base, NULL);
		else if (val->type == YAML_MAPPING_NODE ||
		    (f->f_flags & CF_FREEFORM))
			conf_json_yaml(w, val, 1);
		else
			conf_err(w, val, "want a mapping "
			    "(google.protobuf.Struct), got %s",
			    conf_node_what(val, wb, sizeof(wb)));
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "}");
}

/* RFC 9110 token: what a header or cookie name may be made of. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	return 1;
}

/*
 * The clusters "always" and "never" pick: rollout's canary and stable
 * when set, else the smallest file weight (the last on ties) is the
 * canary and the largest (the first on ties) the stable one, so 90/10
 * and 100/0 both make the second cluster the canary.
 */
void
conf_canary_pick(struct cd_route *rt)
{
	size_t i;
	int c = 0, s = 0;

	if (rt->rt_action != CD_RA_WEIGHTED || rt->rt_nwc == 0)
		return;
	if (rt->rt_rollout.ro_set && rt->rt_rollout.ro_canary >= 0 &&
	    rt->rt_rollout.ro_stable >= 0) {
		rt->rt_canary_wc = rt->rt_rollout.ro_canary;
		rt->rt_stable_wc = rt->rt_rollout.ro_stable;
		return;
	}
	for (i = 1; i < rt->rt_nwc; i++) {
		if (rt->rt_wc[i].wc_weight <= rt->rt_wc[c].wc_weight)
			c = (int)i;
		if (rt->rt_wc[i].wc_weight > rt->rt_wc[s].wc_weight)
			s = (int)i;
	}
	rt->rt_canary_wc = c;
	rt->rt_stable_wc = s;
}

/* ---- sticky ----------------------------------------------------------- */

/*
 * FNV-1a folded through splitmix64's finaliser: the default sticky seed
 * of a route.  Only needs to be stable across loads and differ between
 * routes, so two routes do not put the same users on their canaries.
 */
static uint64_t
canary_seed_of(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static const struct conf_msg msg_sticky;

static void
sticky_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	static const char sfx[] = ".metadata.filter_metadata.canaryd.sticky";
	struct cd_sticky *st = base;
	struct cd_route *rt = CANARY_ROUTE(base, rt_sticky);
	size_t len, old;

	st->st_set = true;
	if (st->st_cookie != NULL && !is_token(st->st_cookie)) {
		old = conf_path_push(w, "cookie");
		conf_err(w, conf_map_val(w, n, "cookie"),
		    "not a valid cookie name: must be an HTTP token");
		conf_path_pop(w, old);
	}
	if (st->st_header != NULL && !is_token(st->st_header)) {
		old = conf_path_push(w, "header");
		conf_err(w, conf_map_val(w, n, "header"),
		    "not a valid header name: must be an HTTP token");
		conf_path_pop(w, old);
	}
	if (st->st_set_cookie && st->st_cookie == NULL) {
		old = conf_path_push(w, "set_cookie");
		conf_err(w, conf_map_key(w, n, "set_cookie"),
		    "only allowed with cookie");
		conf_path_pop(w, old);
	}
	if (seen & conf_field_bit(&msg_sticky, "seed"))
		return;
	/* The route's name, else its place in the file ("...routes[2]"):
	 * both survive a reload that leaves the route alone. */
	if (rt->rt_name != NULL) {
		st->st_seed = canary_seed_of(rt->rt_name,
		    strlen(rt->rt_name));
		return;
	}
	len = w->w_plen;
	if (len >= sizeof(sfx) - 1 && memcmp(w->w_path + len -
	    (sizeof(sfx) - 1), sfx, sizeof(sfx) - 1) == 0)
		len -= sizeof(sfx) - 1;
	st->st_seed = canary_seed_of(w->w_path, len);
}

/* canaryd.sticky: { cookie: NAME } | { header: NAME } */
#define ST(m)	AT(struct cd_sticky, m)
static const struct conf_field sticky_fields[] = {
	{ "cookie", CK_STR, CF_REQUIRED | CF_NONEMPTY, 1,
	    .f_max = CD_NAME_MAX - 1, ST(st_cookie) },
	{ "header", CK_STR, CF_NONEMPTY | CF_LOWER, 1,
	    .f_max = CD_NAME_MAX - 1, ST(st_header) },
	{ "set_cookie", CK_BOOL, CF_DEF, .f_def = 0, ST(st_set_cookie) },
	{ "seed", CK_UINT64, 0, ST(st_seed),
	    .f_defdoc = "a hash of the route's name, else of its place" },
	F_END
};
#undef ST
static const struct conf_msg msg_sticky = { "canaryd sticky", sticky_fields,
    NULL, sticky_done };

/* ---- rollout ---------------------------------------------------------- */

/* rollout.canary / rollout.stable: a cluster of this route's
 * weighted_clusters, stored as its rt_wc index. */
static void
fn_rollout_wc(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_route *rt = CANARY_ROUTE(base, rt_rollout);
	int *slot = (int *)(void *)((char *)base + f->f_off);
	char *s;
	size_t i;

	if ((s = conf_get_str(w, v, CF_NONEMPTY, CD_NAME_MAX - 1)) == NULL)
		return;
	conf_json_str(w, conf_sval(v), conf_slen(v));
	/* not a weighted route: canaryd_done() says so, once */
	if (rt->rt_action != CD_RA_WEIGHTED)
		return;
	for (i = 0; i < rt->rt_nwc; i++)
		if (rt->rt_wc[i].wc_name != NULL &&
		    strcmp(rt->rt_wc[i].wc_name, s) == 0) {
			*slot = (int)i;
			return;
		}
	conf_err(w, v, "\"%.*s\" is not one of this route's "
	    "weighted_clusters", CONF_QUOTE_MAX, s);
}

/* rollout.steps: canary weights in percent, f_min..f_max, strictly
 * rising. */
static void
fn_rollout_steps(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_rollout *ro = base;
	uint8_t steps[CD_MAX_ROLLOUT_STEPS];
	yaml_node_t *it;
	int64_t x;
	size_t n, i, old;
	int bad = 0;

	if (conf_want_seq(w, v) == -1)
		return;
	n = conf_seq_len(v);
	if (n == 0) {
		conf_err(w, v, "want at least one item");
		return;
	}
	if (n > CD_MAX_ROLLOUT_STEPS) {
		conf_err(w, v, "too many items: %zu, canaryd supports at most "
		    "%d (CD_MAX_ROLLOUT_STEPS)", n, CD_MAX_ROLLOUT_STEPS);
		return;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if (i > 0)
			conf_json_raw(w, ",");
		if (!conf_visit(w, it) || conf_get_int(w, it, f->f_min,
		    f->f_max, &x) == -1) {
			bad = 1;
			conf_json_raw(w, "null");
		} else {
			steps[i] = (uint8_t)x;
			buf_printf(&w->w_json, "%" PRId64, x);
			if (i > 0 && !bad && steps[i] <= steps[i - 1]) {
				conf_err(w, it, "%d is not greater than the "
				    "step before it (%d): steps must rise",
				    steps[i], steps[i - 1]);
				bad = 1;
			}
		}
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
	if (bad)
		return;
	memcpy(ro->ro_steps, steps, n);
	ro->ro_nsteps = n;
}

static void
rollout_init(struct cw *w, void *base)
{
	static const uint8_t def[] = { 1, 5, 10, 25, 50, 100 };
	struct cd_rollout *ro = base;

	(void)w;
	ro->ro_canary = -1;
	ro->ro_stable = -1;
	memcpy(ro->ro_steps, def, sizeof(def));
	ro->ro_nsteps = sizeof(def);
}

static void
rollout_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_rollout *ro = base;

	(void)seen;
	ro->ro_set = true;
	if (ro->ro_canary >= 0 && ro->ro_canary == ro->ro_stable)
		conf_field_err(w, conf_map_val(w, n, "stable"), "stable",
		    "must not be the canary cluster");
}

/* canaryd.rollout: automated promotion and rollback (master) */
#define RO(m)	AT(struct cd_rollout, m)
static const struct conf_field rollout_fields[] = {
	{ "canary", CK_FN, CF_REQUIRED, .f_fn = fn_rollout_wc, RO(ro_canary),
	    .f_like = CK_CLREF, .f_note = "one of the route's "
	    "weighted_clusters" },
	{ "stable", CK_FN, CF_REQUIRED, .f_fn = fn_rollout_wc, RO(ro_stable),
	    .f_like = CK_CLREF, .f_note = "one of the route's "
	    "weighted_clusters, not the canary" },
	{ "steps", CK_FN, 0, .f_fn = fn_rollout_steps, .f_like = CK_SEQ,
	    .f_min = 1, .f_max = 100, .f_items = CD_MAX_ROLLOUT_STEPS,
	    .f_defdoc = "1, 5, 10, 25, 50, 100", .f_note = "percent of the "
	    "route's weight, strictly rising" },
	{ "step_interval", CK_DUR, CF_DEF | CF_GT, .f_def = 60 * CONF_S,
	    RO(ro_step_interval) },
	{ "window", CK_DUR, CF_DEF | CF_GT, .f_def = 30 * CONF_S,
	    RO(ro_window) },
	{ "min_requests", CK_UINT, CF_DEF, U32, .f_def = 200,
	    RO(ro_min_requests) },
	{ "max_error_rate_delta", CK_DOUBLE, CF_DEF, .f_dmin = 0,
	    .f_dmax = 1, .f_ddef = 0.01, RO(ro_max_error_rate_delta) },
	{ "max_p99_ratio", CK_DOUBLE, CF_DEF, .f_dmin = 1,
	    .f_dmax = INFINITY, .f_ddef = 1.5, RO(ro_max_p99_ratio) },
	F_END
};
#undef RO
static const struct conf_msg msg_rollout = { "canaryd rollout",
    rollout_fields, rollout_init, rollout_done };

/* ---- the namespace ---------------------------------------------------- */

/* fallback: a cluster that must exist even with validate_clusters off,
 * since it is only used when something already went wrong. */
static void
fn_fallback(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	char *s;
	size_t n = w->w_nrefs;

	if ((s = conf_get_str(w, v, CF_NONEMPTY, CD_NAME_MAX - 1)) == NULL)
		return;
	conf_ref_add(w, v, s, (int *)(void *)((char *)base + f->f_off));
	if (w->w_nrefs > n)
		w->w_refs[n].r_strict = 1;
	conf_json_str(w, s, strlen(s));
}

/* Room for one more rollout name (the arrays double, in the arena). */
static int
rollout_room(struct cw *w)
{
	const char **names;
	int *lines;
	size_t cap;

	if (w->w_nrollouts < w->w_rollout_cap)
		return 0;
	cap = w->w_rollout_cap == 0 ? 16 : 2 * w->w_rollout_cap;
	if ((names = arena_allocarray(w->w_arena, cap, sizeof(*names))) ==
	    NULL || (lines = arena_allocarray(w->w_arena, cap,
	    sizeof(*lines))) == NULL) {
		conf_oom(w);
		return -1;
	}
	if (w->w_nrollouts > 0) {
		memcpy(names, w->w_rollout_names,
		    w->w_nrollouts * sizeof(*names));
		memcpy(lines, w->w_rollout_lines,
		    w->w_nrollouts * sizeof(*lines));
	}
	w->w_rollout_names = names;
	w->w_rollout_lines = lines;
	w->w_rollout_cap = cap;
	return 0;
}

/* A rollout's route has a name no other rollout's route has: the admin
 * endpoints (/canary/<route>/...) address it by name. */
static void
canaryd_rollout_name(struct cw *w, yaml_node_t *k, const struct cd_route *rt)
{
	size_t i;

	if (rt->rt_name == NULL) {
		conf_err(w, k, "the route needs a name: /canary/<name>/... "
		    "addresses the rollout by it");
		return;
	}
	for (i = 0; i < w->w_nrollouts; i++)
		if (strcmp(w->w_rollout_names[i], rt->rt_name) == 0)
			break;
	if (i < w->w_nrollouts)
		conf_err(w, k, "another route with a rollout is named "
		    "\"%.*s\" (line %d): names of routes with a "
		    "rollout must be unique", CONF_QUOTE_MAX,
		    rt->rt_name, w->w_rollout_lines[i]);
	else if (rollout_room(w) == 0) {
		w->w_rollout_names[w->w_nrollouts] = rt->rt_name;
		w->w_rollout_lines[w->w_nrollouts++] =
		    (int)k->start_mark.line + 1;
	}
}

/* Cross-field rules of metadata.filter_metadata.canaryd; base: the route. */
static void
canaryd_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	static const char *const weighted_only[] = { "sticky",
	    "override_header", "override_cookie", "rollout", NULL };
	const struct conf_msg *m = &conf_msg_canaryd;
	struct cd_route *rt = base;
	size_t i, old;

	for (i = 0; weighted_only[i] != NULL; i++) {
		if (rt->rt_action != CD_RA_WEIGHTED &&
		    (seen & conf_field_bit(m, weighted_only[i])))
			conf_field_err(w, conf_map_key(w, n, weighted_only[i]),
			    weighted_only[i], "only allowed on a route with "
			    "weighted_clusters");
	}
	if ((rt->rt_action == CD_RA_DIRECT ||
	    rt->rt_action == CD_RA_REDIRECT) &&
	    (seen & conf_field_bit(m, "fallback")))
		conf_field_err(w, conf_map_key(w, n, "fallback"), "fallback",
		    "only allowed on a route with cluster or "
		    "weighted_clusters");
	if (rt->rt_override_header != NULL &&
	    !is_token(rt->rt_override_header))
		conf_field_err(w, conf_map_val(w, n, "override_header"),
		    "override_header", "not a valid header name: must be an "
		    "HTTP token");
	if (rt->rt_override_cookie != NULL &&
	    !is_token(rt->rt_override_cookie))
		conf_field_err(w, conf_map_val(w, n, "override_cookie"),
		    "override_cookie", "not a valid cookie name: must be an "
		    "HTTP token");
	if (rt->rt_action != CD_RA_WEIGHTED ||
	    !(seen & conf_field_bit(m, "rollout")))
		return;
	if (rt->rt_runtime_prefix != NULL)
		conf_field_err(w, conf_map_key(w, n, "rollout"), "rollout",
		    "the weights come from the runtime already "
		    "(weighted_clusters.runtime_key_prefix); keep one of the "
		    "two");
	old = conf_path_push(w, "rollout");
	canaryd_rollout_name(w, conf_map_key(w, n, "rollout"), rt);
	conf_path_pop(w, old);
}

/* metadata.filter_metadata.canaryd: canaryd's own route options */
#define RT(m)	AT(struct cd_route, m)
static const struct conf_field canaryd_fields[] = {
	{ "split", CK_ENUM, 0, .f_enum = &enum_split, RT(rt_split_mode),
	    .f_defdoc = "exact", .f_note = "exact: one shared counter splits "
	    "exactly by weight; random: Envoy's per-request draw" },
	{ "sticky", CK_MSG, 0, .f_msg = &msg_sticky, RT(rt_sticky) },
	{ "override_header", CK_STR, CF_NONEMPTY | CF_LOWER,
	    .f_max = CD_NAME_MAX - 1, RT(rt_override_header) },
	{ "override_cookie", CK_STR, CF_NONEMPTY, .f_max = CD_NAME_MAX - 1,
	    RT(rt_override_cookie) },
	{ "fallback", CK_FN, 0, .f_fn = fn_fallback, RT(rt_fallback),
	    .f_like = CK_CLREF, .f_note = "must exist even with "
	    "validate_clusters: false" },
	{ "rollout", CK_MSG, 0, .f_msg = &msg_rollout, RT(rt_rollout) },
	F_END
};
#undef RT
const struct conf_msg conf_msg_canaryd = { "canaryd route metadata",
    canaryd_fields, NULL, canaryd_done };
