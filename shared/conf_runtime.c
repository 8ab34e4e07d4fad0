/*
 * Configuration loader: the runtime (conf-int.h).  Master only.
 *
 * envoy.config.bootstrap.v3.LayeredRuntime: static layers, whose Struct
 * flattens into dotted keys the way Envoy's ProtoLayer does (a mapping
 * with numerator or denominator, or an empty one, is a value; a list or
 * null is an error), and at most one admin layer, whose values come from
 * POST /runtime_modify.  Disk and RTDS layers are refused with advice.
 * With layers: [] Envoy makes one admin layer of an empty name; so does
 * canaryd.  Also a route's match.runtime_fraction (RuntimeFractionalPercent
 * and FractionalPercent), each numbered for its slot in shm.
 *
 * The keys canaryd reads are those the routes name (runtime_key_prefix,
 * runtime_fraction.runtime_key); what they mean is the master's
 * (master/runtime.c).
 */
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

#define RT_MAX_ENTRIES	65536	/* keys of one static layer */

/* A static layer's keys while they are collected (malloc'd). */
struct rt_walk {
	struct cd_rt_entry	*e_v;
	size_t			 e_n, e_cap;
};

static int
rt_add(struct cw *w, struct rt_walk *e, const char *key, size_t klen,
    const char *val, size_t vlen, const yaml_node_t *at)
{
	struct cd_rt_entry *v;
	size_t i, cap;

	for (i = 0; i < e->e_n; i++)	/* the later one wins, as in a map */
		if (strlen(e->e_v[i].re_key) == klen &&
		    memcmp(e->e_v[i].re_key, key, klen) == 0)
			break;
	if (i == e->e_n && e->e_n == e->e_cap) {
		cap = e->e_cap == 0 ? 16 : e->e_cap * 2;
		if (cap > RT_MAX_ENTRIES || (v = reallocarray(e->e_v, cap,
		    sizeof(*v))) == NULL) {
			conf_oom(w);
			return -1;
		}
		e->e_v = v;
		e->e_cap = cap;
	}
	if ((e->e_v[i].re_key = arena_strndup(w->w_arena, key, klen)) ==
	    NULL || (e->e_v[i].re_value = arena_strndup(w->w_arena, val,
	    vlen)) == NULL) {
		conf_oom(w);
		return -1;
	}
	conf_pos_set(w, &e->e_v[i].re_pos, at);
	if (i == e->e_n)
		e->e_n++;
	return 0;
}

/* A mapping that is one value: empty, or a FractionalPercent. */
static bool
rt_is_value_map(struct cw *w, yaml_node_t *n)
{
	return n->data.mapping.pairs.start == n->data.mapping.pairs.top ||
	    conf_map_get(w, n, "numerator") != NULL ||
	    conf_map_get(w, n, "denominator") != NULL;
}

/* The text of a value mapping, as Envoy's YAML rendering of it. */
static void
rt_map_text(struct cw *w, yaml_node_t *n, struct buf *b)
{
	static const char *const keys[] = { "denominator", "numerator" };
	yaml_node_t *v;
	size_t i;

	for (i = 0; i < 2; i++) {
		if ((v = conf_map_get(w, n, keys[i])) == NULL ||
		    v->type != YAML_SCALAR_NODE)
			continue;
		buf_printf(b, "%s%s: %.*s", b->b_len > 0 ? "\n" : "", keys[i],
		    (int)conf_slen(v), conf_sval(v));
	}
	if (b->b_len == 0)
		buf_puts(b, "{}");
}

static void	rt_walk_value(struct cw *, yaml_node_t *, struct buf *key,
		    struct rt_walk *, int depth);

static void
rt_walk_map(struct cw *w, yaml_node_t *n, struct buf *key, struct rt_walk *e,
    int depth)
{
	yaml_node_pair_t *pp;
	yaml_node_t *k;
	size_t klen = key->b_len, old;

	for (pp = n->data.mapping.pairs.start;
	    pp < n->data.mapping.pairs.top && !w->w_stop; pp++) {
		k = conf_node(w, pp->key);
		if (k->type != YAML_SCALAR_NODE || conf_slen(k) == 0) {
			conf_err(w, k, "want a key name");
			continue;
		}
		key->b_len = klen;
		if (klen > 0)
			buf_puts(key, ".");
		buf_append(key, conf_sval(k), conf_slen(k));
		old = conf_path_pushn(w, conf_sval(k), conf_slen(k));
		rt_walk_value(w, conf_node(w, pp->value), key, e, depth + 1);
		conf_path_pop(w, old);
	}
	key->b_len = klen;
}

static void
rt_walk_value(struct cw *w, yaml_node_t *v, struct buf *key,
    struct rt_walk *e, int depth)
{
	struct buf t;

	if (depth > 32) {
		conf_err(w, v, "nested more than 32 levels deep");
		return;
	}
	if (v->type == YAML_MAPPING_NODE && !rt_is_value_map(w, v)) {
		rt_walk_map(w, v, key, e, depth);
		return;
	}
	if (v->type == YAML_SEQUENCE_NODE || conf_is_null(v) ||
	    (v->type != YAML_SCALAR_NODE && v->type != YAML_MAPPING_NODE)) {
		conf_err(w, v, "invalid runtime value (as in Envoy: a list or "
		    "null is none); give the key a string, number or bool");
		return;
	}
	if (v->type == YAML_SCALAR_NODE) {
		rt_add(w, e, key->b_data, key->b_len, conf_sval(v),
		    conf_slen(v), v);
		return;
	}
	buf_init(&t);
	rt_map_text(w, v, &t);
	if (t.b_oom)
		conf_oom(w);
	else
		rt_add(w, e, key->b_data, key->b_len, t.b_data, t.b_len, v);
	buf_free(&t);
}

static int
rt_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cd_rt_entry *)a)->re_key,
	    ((const struct cd_rt_entry *)b)->re_key);
}

/* static_layer: the Struct's keys into the layer, sorted; rendered. */
static void
fn_static_layer(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_rt_layer *ly = base;
	struct rt_walk e = { NULL, 0, 0 };
	struct buf key;

	(void)f;
	ly->ly_kind = CD_RTL_STATIC;
	if (v->type != YAML_MAPPING_NODE) {
		conf_err(w, v, "want a mapping of keys to values");
		return;
	}
	conf_json_yaml(w, v, 0);
	buf_init(&key);
	rt_walk_map(w, v, &key, &e, 0);
	if (key.b_oom)
		conf_oom(w);
	buf_free(&key);
	if (e.e_n > 0) {
		qsort(e.e_v, e.e_n, sizeof(*e.e_v), rt_entry_cmp);
		if ((ly->ly_entries = arena_allocarray(w->w_arena, e.e_n,
		    sizeof(*e.e_v))) == NULL)
			conf_oom(w);
		else {
			memcpy(ly->ly_entries, e.e_v, e.e_n * sizeof(*e.e_v));
			ly->ly_n = e.e_n;
		}
	}
	free(e.e_v);
}

static void
layer_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_rt_layer *ly = base;

	(void)seen;
	if (conf_map_get(w, n, "admin_layer") != NULL)
		ly->ly_kind = CD_RTL_ADMIN;
}

#define NO_RT_DISK	"canaryd reads no runtime directories; put the values " \
	"in a static_layer, or set them live with an admin_layer and POST " \
	"/runtime_modify"

static const struct conf_field layer_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY, .f_max = CD_NAME_MAX - 1,
	    AT(struct cd_rt_layer, ly_name) },
	{ "static_layer", CK_FN, CF_REQUIRED, 1, .f_fn = fn_static_layer,
	    .f_like = CK_STRUCT, .f_note = "nested keys join with '.'" },
	{ "disk_layer", CK_REJECT, 0, .f_oneof = 1, .f_why = NO_RT_DISK },
	{ "admin_layer", CK_MSG, 0, 1, .f_msg = &(const struct conf_msg){
	    "RuntimeLayer.AdminLayer", conf_no_fields, NULL, NULL },
	    .f_note = "kept across SIGHUP, lost on restart, as Envoy's "
	    "across hot restarts" },
	{ "rtds_layer", CK_REJECT, 0, .f_oneof = 1, .f_why = NO_XDS },
	F_END
};
static const struct conf_msg msg_layer = { "RuntimeLayer", layer_fields,
    NULL, layer_done };

/* Does a route of l read key (runtime_key_prefix, runtime_fraction)? */
static bool
rt_key_read(const struct cd_listener *l, const char *key)
{
	const struct cd_route *rt;
	size_t v, r, i;

	for (v = 0; l != NULL && v < l->l_nvhosts; v++)
		for (r = 0; r < l->l_vhosts[v].vh_nroutes; r++) {
			rt = &l->l_vhosts[v].vh_routes[r];
			if (rt->rt_match.rm_fraction.rf_key != NULL &&
			    strcmp(rt->rt_match.rm_fraction.rf_key, key) == 0)
				return true;
			for (i = 0; i < rt->rt_nwc; i++)
				if (rt->rt_wc[i].wc_runtime_key != NULL &&
				    strcmp(rt->rt_wc[i].wc_runtime_key,
				    key) == 0)
					return true;
			for (i = 0; i < rt->rt_nmirror; i++)
				if (rt->rt_mirror[i].mp_fraction.rf_key !=
				    NULL && strcmp(rt->rt_mirror[i].mp_fraction.
				    rf_key, key) == 0)
					return true;
		}
	return false;
}

/* Does a route of any listener read key? */
static bool
rt_key_read_any(const struct cd_conf *conf, const char *key)
{
	size_t i;

	for (i = 0; i < conf->c_nlisteners; i++)
		if (rt_key_read(&conf->c_listeners[i], key))
			return true;
	return false;
}

/* A static key no route reads changes nothing: say so, once each. */
static void
rt_unread_keys(struct cw *w, const struct cd_runtime *rn)
{
	const struct cd_rt_entry *e;
	char path[64];
	size_t i, j;

	for (i = 0; i < rn->rn_nlayers; i++)
		for (j = 0; j < rn->rn_layers[i].ly_n; j++) {
			e = &rn->rn_layers[i].ly_entries[j];
			snprintf(path, sizeof(path), "layered_runtime.layers[%zu]."
			    "static_layer", i);
			if (!rt_key_read_any(w->w_conf, e->re_key))
				conf_diag_at(w, 1, e->re_pos.p_line,
				    e->re_pos.p_col, path,
				    "ignored by canaryd: no route reads runtime "
				    "key \"%s\" (canaryd reads the keys of "
				    "runtime_key_prefix and runtime_fraction)",
				    e->re_key);
		}
}

/* Layer i's node in layers list ln, or n when there is no such item (a
 * duplicated "layers" key keeps the other list's layers). */
static yaml_node_t *
layer_node(struct cw *w, yaml_node_t *ln, yaml_node_t *n, size_t i)
{
	if (ln == NULL || ln->type != YAML_SEQUENCE_NODE ||
	    i >= conf_seq_len(ln))
		return n;
	return conf_seq_item(w, ln, i);
}

/* Envoy's checks across layers: unique names, one admin layer. */
static void
layered_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_runtime *rn = base;
	yaml_node_t *ln = conf_map_get(w, n, "layers");
	size_t i, j, old;

	(void)seen;
	rn->rn_set = true;
	rn->rn_admin = -1;
	if (rn->rn_nlayers == 0) {
		/* Envoy: no layers is one admin layer */
		if ((rn->rn_layers = arena_alloc(w->w_arena,
		    sizeof(*rn->rn_layers))) == NULL ||
		    (rn->rn_layers->ly_name = arena_strdup(w->w_arena, "")) ==
		    NULL) {
			conf_oom(w);
			return;
		}
		rn->rn_layers->ly_kind = CD_RTL_ADMIN;
		rn->rn_nlayers = 1;
	}
	for (i = 0; i < rn->rn_nlayers; i++) {
		old = conf_path_push(w, "layers");
		conf_path_index(w, i);
		for (j = 0; j < i && rn->rn_layers[i].ly_name != NULL; j++)
			if (rn->rn_layers[j].ly_name != NULL &&
			    strcmp(rn->rn_layers[i].ly_name,
			    rn->rn_layers[j].ly_name) == 0)
				conf_err(w, layer_node(w, ln, n, i),
				    "duplicate layer name \"%s\" (also "
				    "layers[%zu])", rn->rn_layers[i].ly_name, j);
		if (rn->rn_layers[i].ly_kind == CD_RTL_ADMIN) {
			if (rn->rn_admin >= 0)
				conf_err(w, layer_node(w, ln, n, i),
				    "too many admin layers: at most one "
				    "may be specified (layers[%d] is one)",
				    rn->rn_admin);
			else
				rn->rn_admin = (int)i;
		}
		conf_path_pop(w, old);
	}
	/* static_resources comes first in the walk: the routes are known */
	rt_unread_keys(w, rn);
}

static const struct conf_field layered_fields[] = {
	{ "layers", CK_SEQ, 0, .f_msg = &msg_layer,
	    .f_items = CD_MAX_RUNTIME_LAYERS, .f_why = "(CD_MAX_RUNTIME_LAYERS)",
	    LIST(struct cd_runtime, rn_layers, rn_nlayers,
	    struct cd_rt_layer) },
	F_END
};
const struct conf_msg conf_msg_layered_runtime = { "LayeredRuntime",
    layered_fields, NULL, layered_done };

/* ---- runtime_fraction ------------------------------------------------- */

const struct conf_enum conf_enum_denominator = { "denominator",
    (const struct conf_enum_val[]){ { "HUNDRED", 100 },
    { "TEN_THOUSAND", 10000 }, { "MILLION", 1000000 }, { NULL, 0 } } };

#define RF(m)	AT(struct cd_fraction, m)
static const struct conf_field percent_fields[] = {
	{ "numerator", CK_UINT, 0, U32, RF(rf_numerator) },
	{ "denominator", CK_ENUM, CF_DEF, .f_def = 100,
	    .f_enum = &conf_enum_denominator, RF(rf_denominator) },
	F_END
};
static const struct conf_msg msg_percent = { "FractionalPercent",
    percent_fields, NULL, NULL };

static void
fraction_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_fraction *rf = base;

	(void)seen;
	rf->rf_set = true;
	if (rf->rf_key != NULL && rf->rf_key[0] == '\0')
		rf->rf_key = NULL;
	if (w->w_nfractions >= INT_MAX)
		conf_err(w, n, "too many routes with runtime_fraction: canaryd "
		    "supports at most %d", INT_MAX);
	else
		rf->rf_index = (int)w->w_nfractions++;
}

static const struct conf_field fraction_fields[] = {
	{ "default_value", CK_MSG, CF_REQUIRED, .f_msg = &msg_percent },
	{ "runtime_key", CK_STR, 0, RF(rf_key) },
	F_END
};
#undef RF
const struct conf_msg conf_msg_runtime_fraction = {
    "RuntimeFractionalPercent", fraction_fields, NULL, fraction_done };
