/*
 * Configuration loader: Envoy v3 static bootstrap YAML into the immutable
 * struct cd_conf (conf-t.h).  Master only (start, reload, --mode validate).
 * This file is the schema walker; conf-int.h lists the loader's other files
 * (one per message family) and the types they share.
 *
 * conf_yaml.c composes the document tree from libyaml's events (anchors
 * and aliases are resolved there); the walker then visits it with one
 * table per protobuf message: field name, kind, flags, bounds, default and
 * where the value goes.  Several Envoy messages may write into one canaryd
 * struct (the HCM's fields live in struct cd_listener), so a table's
 * offsets are relative to the target its parent hands it.
 *
 * Fields are visited in table order, not file order: tables list fields in
 * Envoy's proto order, which is also the order /config_dump prints, and a
 * later field may rely on an earlier one (a Cluster's type is known before
 * its endpoints are checked for IP literals).  Diagnostics are sorted by
 * position at the end, so users still read them top to bottom.
 *
 * The walker never stops at the first error: a bad field is reported and
 * skipped, and the walk goes on until CONF_MAX_ERRORS.  Any error makes
 * conf_load() return NULL; warnings do not.
 *
 * While walking, the walker also renders the config as compact proto JSON
 * for /config_dump (c_json_*): snake_case names, durations normalised,
 * enums in their canonical spelling, fields the user did not write left
 * out.  A message's JSON is a substring of the bootstrap's, so the
 * listener, route configuration and clusters are cut out of it.
 *
 * Invariant: everything reachable from struct cd_conf lives in its arena
 * (regexes are regfree'd by an arena destructor); nothing is changed after
 * conf_load() returns.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
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

#define CONF_MAX_ERRORS	100		/* then stop walking */
/* nodes visited, against alias bombs: this many, or CONF_VISITS_PER_NODE
 * per node the file itself holds, whichever is more (a large file is no
 * bomb; an alias bomb is a small file that expands to billions) */
#define CONF_MAX_VISITS		200000
#define CONF_VISITS_PER_NODE	8
#define CONF_MAX_DEPTH	64		/* free-form values, merges */

/* ---- diagnostics ------------------------------------------------------ */

/*
 * A new zeroed entry at the end of d, or NULL.  struct conf_diags keeps
 * no capacity, so it is implied by cd_n: 8, then powers of two.  Every
 * append goes through here, so the rule always holds.
 */
struct conf_diag *
conf_diag_new(struct conf_diags *d)
{
	struct conf_diag *v;
	size_t n = d->cd_n;

	if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
		if ((v = reallocarray(d->cd_v, n == 0 ? 8 : n * 2,
		    sizeof(*v))) == NULL)
			return NULL;
		d->cd_v = v;
	}
	v = &d->cd_v[d->cd_n++];
	memset(v, 0, sizeof(*v));
	return v;
}

static void
diag_vadd(struct cw *w, int warning, int line, int col, const char *path,
    const char *fmt, va_list ap)
{
	struct conf_diags *d = w->w_diags;
	struct conf_diag *dg;
	int n = 0;

	if (warning ? w->w_nwarnings >= CONF_MAX_ERRORS :
	    w->w_nerrors >= CONF_MAX_ERRORS)
		return;
	if ((dg = conf_diag_new(d)) == NULL) {
		/* still an error: the load must fail */
		w->w_stop = 1;
		w->w_nerrors++;
		return;
	}
	dg->d_line = line;
	dg->d_col = col;
	dg->d_warning = warning;
	if (path != NULL && path[0] != '\0')
		n = snprintf(dg->d_text, sizeof(dg->d_text), "%s: ", path);
	if (n < 0 || (size_t)n >= sizeof(dg->d_text))
		n = 0;
	vsnprintf(dg->d_text + n, sizeof(dg->d_text) - n, fmt, ap);
	if (warning)
		w->w_nwarnings++;
	else {
		d->cd_nerrors++;
		if (++w->w_nerrors >= CONF_MAX_ERRORS)
			w->w_stop = 1;
	}
}

void
conf_diag_at(struct cw *w, int warning, int line, int col, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(w, warning, line, col, path, fmt, ap);
	va_end(ap);
}

/* An error at node n about the field the walker is in. */
void
conf_err(struct cw *w, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(w, 0, (int)n->start_mark.line + 1,
	    (int)n->start_mark.column + 1, w->w_path, fmt, ap);
	va_end(ap);
}

void
conf_warn(struct cw *w, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(w, 1, (int)n->start_mark.line + 1,
	    (int)n->start_mark.column + 1, w->w_path, fmt, ap);
	va_end(ap);
}

void
conf_oom(struct cw *w)
{
	conf_diag_at(w, 0, 0, 0, NULL, "out of memory");
	w->w_stop = 1;
}

/* ---- paths: "static_resources.clusters[1].connect_timeout" ------------ */

size_t
conf_path_push(struct cw *w, const char *name)
{
	size_t old = w->w_plen;
	int n;

	n = snprintf(w->w_path + w->w_plen, sizeof(w->w_path) - w->w_plen,
	    "%s%s", w->w_plen > 0 ? "." : "", name);
	if (n > 0)
		w->w_plen += (size_t)n;
	if (w->w_plen >= sizeof(w->w_path))
		w->w_plen = sizeof(w->w_path) - 1;
	return old;
}

/* A key as written, whole: users must recognise what they wrote. */
size_t
conf_path_pushn(struct cw *w, const char *name, size_t len)
{
	size_t old = w->w_plen;
	int n;

	n = snprintf(w->w_path + w->w_plen, sizeof(w->w_path) - w->w_plen,
	    "%s%.*s", w->w_plen > 0 ? "." : "", (int)len, name);
	if (n > 0)
		w->w_plen += (size_t)n;
	if (w->w_plen >= sizeof(w->w_path))
		w->w_plen = sizeof(w->w_path) - 1;
	return old;
}

size_t
conf_path_index(struct cw *w, size_t i)
{
	size_t old = w->w_plen;
	int n;

	n = snprintf(w->w_path + w->w_plen, sizeof(w->w_path) - w->w_plen,
	    "[%zu]", i);
	if (n > 0)
		w->w_plen += (size_t)n;
	if (w->w_plen >= sizeof(w->w_path))
		w->w_plen = sizeof(w->w_path) - 1;
	return old;
}

void
conf_path_pop(struct cw *w, size_t len)
{
	w->w_plen = len;
	w->w_path[len] = '\0';
}

void
conf_field_err(struct cw *w, const yaml_node_t *at, const char *field,
    const char *msg)
{
	size_t old = conf_path_push(w, field);

	conf_err(w, at, "%s", msg);
	conf_path_pop(w, old);
}

/* ---- nodes ------------------------------------------------------------ */

int
conf_is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* What JSON null is in YAML: a protobuf field set to null is unset. */
int
conf_is_null(const yaml_node_t *n)
{
	const char *s;

	if (!conf_is_plain(n))
		return 0;
	s = conf_sval(n);
	return conf_slen(n) == 0 || strcmp(s, "~") == 0 ||
	    strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0;
}

const char *
conf_node_what(const yaml_node_t *n, char *buf, size_t len)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		snprintf(buf, len, "\"%.*s\"", (int)(conf_slen(n) >
		    CONF_QUOTE_MAX ? CONF_QUOTE_MAX : conf_slen(n)),
		    conf_sval(n));
		return buf;
	default:
		return "nothing";
	}
}

/* Count a visited node; false once the document is absurdly large (an
 * alias bomb expands to billions of nodes while the file stays small). */
int
conf_visit(struct cw *w, const yaml_node_t *n)
{
	size_t max;

	if (w->w_stop)
		return 0;
	max = (size_t)(w->w_doc.nodes.top - w->w_doc.nodes.start) *
	    CONF_VISITS_PER_NODE;
	if (max < CONF_MAX_VISITS)
		max = CONF_MAX_VISITS;
	if (++w->w_visits == max) {
		conf_err(w, n, "configuration too large (more than %zu nodes "
		    "once aliases are expanded, %d for each node of the file)",
		    max, CONF_VISITS_PER_NODE);
		w->w_stop = 1;
		return 0;
	}
	return 1;
}

int
conf_want_scalar(struct cw *w, yaml_node_t *n, const char *what)
{
	char wb[CONF_QUOTE_MAX + 8];

	if (n->type == YAML_SCALAR_NODE)
		return 0;
	conf_err(w, n, "want %s, got %s", what,
	    conf_node_what(n, wb, sizeof(wb)));
	return -1;
}

int
conf_want_seq(struct cw *w, yaml_node_t *n)
{
	char wb[CONF_QUOTE_MAX + 8];

	if (n->type == YAML_SEQUENCE_NODE)
		return 0;
	conf_err(w, n, "want a list, got %s",
	    conf_node_what(n, wb, sizeof(wb)));
	return -1;
}

/*
 * Protobuf JSON accepts a field under its proto name (stat_prefix) and its
 * JSON name (statPrefix); Envoy's YAML inherits both.
 */
static int
key_is(const yaml_node_t *k, const char *name)
{
	const char *s = conf_sval(k);
	size_t i, j, len = conf_slen(k);

	if (strlen(name) == len && memcmp(s, name, len) == 0)
		return 1;
	for (i = 0, j = 0; name[i] != '\0'; i++, j++) {
		if (j >= len)
			return 0;
		if (name[i] == '_' && name[i + 1] != '\0') {
			i++;
			if (s[j] != toupper((unsigned char)name[i]))
				return 0;
		} else if (s[j] != name[i])
			return 0;
	}
	return j == len;
}

static int
is_merge_key(const yaml_node_t *k)
{
	return conf_is_plain(k) && conf_slen(k) == 2 &&
	    memcmp(conf_sval(k), "<<", 2) == 0;
}

/* The explicit pairs of mapping map, appended to pv[*np]. */
static int
map_explicit(struct cw *w, yaml_node_t *map, struct conf_pair *pv,
    size_t *np, int merged)
{
	yaml_node_pair_t *pp;
	yaml_node_t *k;
	char wb[CONF_QUOTE_MAX + 8];

	for (pp = map->data.mapping.pairs.start;
	    pp < map->data.mapping.pairs.top; pp++) {
		k = conf_node(w, pp->key);
		if (k->type != YAML_SCALAR_NODE) {
			conf_err(w, k, "want a field name, got %s",
			    conf_node_what(k, wb, sizeof(wb)));
			continue;
		}
		if (is_merge_key(k))
			continue;
		if (*np == CONF_MAX_PAIRS) {
			conf_err(w, k, "more than %d fields in one mapping",
			    CONF_MAX_PAIRS);
			return -1;
		}
		pv[*np].p_key = k;
		pv[*np].p_val = conf_node(w, pp->value);
		pv[*np].p_merged = merged;
		pv[*np].p_used = 0;
		(*np)++;
	}
	return 0;
}

/* The value of one "<<" key: a mapping, or a list of them, to merge. */
static int
map_merge(struct cw *w, yaml_node_t *v, struct conf_pair *pv, size_t *np,
    int depth)
{
	yaml_node_t *it;
	char wb[CONF_QUOTE_MAX + 8];
	size_t i;

	if (v->type == YAML_MAPPING_NODE)
		return conf_map_collect(w, v, pv, np, 1, depth + 1);
	if (v->type != YAML_SEQUENCE_NODE) {
		conf_err(w, v, "want a mapping to merge (\"<<\"), got %s",
		    conf_node_what(v, wb, sizeof(wb)));
		return 0;
	}
	for (i = 0; i < conf_seq_len(v); i++) {
		it = conf_seq_item(w, v, i);
		if (it->type != YAML_MAPPING_NODE) {
			conf_err(w, it, "want a mapping to merge "
			    "(\"<<\"), got %s",
			    conf_node_what(it, wb, sizeof(wb)));
			continue;
		}
		if (conf_map_collect(w, it, pv, np, 1, depth + 1) == -1)
			return -1;
	}
	return 0;
}

/*
 * The (key, value) pairs of a mapping, explicit ones first, then those of
 * "<<" merge keys (YAML 1.1 merge), which explicit keys override.
 */
int
conf_map_collect(struct cw *w, yaml_node_t *map, struct conf_pair *pv,
    size_t *np, int merged, int depth)
{
	yaml_node_pair_t *pp;
	yaml_node_t *k;

	if (map_explicit(w, map, pv, np, merged) == -1)
		return -1;
	for (pp = map->data.mapping.pairs.start;
	    pp < map->data.mapping.pairs.top; pp++) {
		k = conf_node(w, pp->key);
		if (k->type != YAML_SCALAR_NODE || !is_merge_key(k))
			continue;
		if (depth >= 8) {
			conf_err(w, k, "merge keys nested too deeply");
			return -1;
		}
		if (map_merge(w, conf_node(w, pp->value), pv, np, depth) == -1)
			return -1;
	}
	return 0;
}

/* The pair of key in mapping n (explicit keys only), or NULL. */
static yaml_node_pair_t *
map_pair(struct cw *w, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *pp;
	yaml_node_t *k;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (pp = n->data.mapping.pairs.start;
	    pp < n->data.mapping.pairs.top; pp++) {
		k = conf_node(w, pp->key);
		if (k->type == YAML_SCALAR_NODE && key_is(k, key))
			return pp;
	}
	return NULL;
}

/* The value of key in mapping n (explicit keys only), or NULL. */
yaml_node_t *
conf_map_get(struct cw *w, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *pp = map_pair(w, n, key);

	return pp == NULL ? NULL : conf_node(w, pp->value);
}

/* The value node of key in mapping n (explicit keys only), else n. */
yaml_node_t *
conf_map_val(struct cw *w, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *pp = map_pair(w, n, key);

	return pp == NULL ? n : conf_node(w, pp->value);
}

/* The key node of key in mapping n (explicit keys only), else n. */
yaml_node_t *
conf_map_key(struct cw *w, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *pp = map_pair(w, n, key);

	return pp == NULL ? n : conf_node(w, pp->key);
}

void
conf_pos_set(struct cw *w, struct cd_pos *pos, const yaml_node_t *n)
{
	pos->p_file = w->w_conf->c_path;
	pos->p_line = (int)n->start_mark.line + 1;
	pos->p_col = (int)n->start_mark.column + 1;
}

/* ---- JSON output ------------------------------------------------------ */

void
conf_json_raw(struct cw *w, const char *s)
{
	buf_puts(&w->w_json, s);
}

void
conf_json_str(struct cw *w, const char *s, size_t len)
{
	buf_json_str(&w->w_json, s, len);
}

static void
json_dur(struct cw *w, int64_t ns)
{
	char tmp[48];

	conf_format_duration(tmp, sizeof(tmp), ns);
	conf_json_str(w, tmp, strlen(tmp));
}

/* The shortest form of d that reads back the same: 33.3, 0.01. */
void
conf_json_double(struct cw *w, double d)
{
	char num[32];

	snprintf(num, sizeof(num), "%.15g", d);
	if (strtod(num, NULL) != d)
		snprintf(num, sizeof(num), "%.17g", d);
	conf_json_raw(w, num);
}

/* Does s spell a JSON number?  Then a plain YAML scalar prints as one. */
int
conf_is_json_number(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i == len || !isdigit((unsigned char)s[i]))
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	if (i < len && s[i] == '.') {
		if (++i == len || !isdigit((unsigned char)s[i]))
			return 0;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == len || !isdigit((unsigned char)s[i]))
			return 0;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	return i == len;
}

static void
json_yaml_scalar(struct cw *w, yaml_node_t *n)
{
	const char *s = conf_sval(n);
	size_t len = conf_slen(n);

	if (conf_is_null(n))
		conf_json_raw(w, "null");
	else if (conf_is_plain(n) && (strcmp(s, "true") == 0 ||
	    strcmp(s, "false") == 0))
		conf_json_raw(w, s);
	else if (conf_is_plain(n) && conf_is_json_number(s, len))
		buf_append(&w->w_json, s, len);
	else
		conf_json_str(w, s, len);
}

static void
json_yaml_map(struct cw *w, yaml_node_t *n, int depth)
{
	yaml_node_pair_t *pp;
	yaml_node_t *k;

	conf_json_raw(w, "{");
	for (pp = n->data.mapping.pairs.start;
	    pp < n->data.mapping.pairs.top && !w->w_stop; pp++) {
		k = conf_node(w, pp->key);
		if (k->type != YAML_SCALAR_NODE) {
			conf_err(w, k, "want a string key");
			continue;
		}
		if (pp > n->data.mapping.pairs.start)
			conf_json_raw(w, ",");
		conf_json_str(w, conf_sval(k), conf_slen(k));
		conf_json_raw(w, ":");
		conf_json_yaml(w, conf_node(w, pp->value), depth + 1);
	}
	conf_json_raw(w, "}");
}

/*
 * Free-form YAML (Struct values, other metadata namespaces) as JSON, the
 * way Envoy's YAML-to-JSON step types plain scalars.
 */
void
conf_json_yaml(struct cw *w, yaml_node_t *n, int depth)
{
	size_t i;

	if (!conf_visit(w, n))
		return;
	if (depth > CONF_MAX_DEPTH) {
		conf_err(w, n, "nested more than %d levels deep",
		    CONF_MAX_DEPTH);
		return;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		json_yaml_scalar(w, n);
		break;
	case YAML_SEQUENCE_NODE:
		conf_json_raw(w, "[");
		for (i = 0; i < conf_seq_len(n) && !w->w_stop; i++) {
			if (i > 0)
				conf_json_raw(w, ",");
			conf_json_yaml(w, conf_seq_item(w, n, i), depth + 1);
		}
		conf_json_raw(w, "]");
		break;
	case YAML_MAPPING_NODE:
		json_yaml_map(w, n, depth);
		break;
	default:
		conf_json_raw(w, "null");
		break;
	}
}

/* ---- defaults and references ------------------------------------------ */

static void
field_default(struct cw *w, const struct conf_field *f, void *base)
{
	void *p = (char *)base + f->f_off;

	if (f->f_flags & CF_NOSTORE)
		return;
	switch (f->f_kind) {
	case CK_DUR:
		*(int64_t *)p = (f->f_flags & CF_DEF) ? f->f_def : CD_DUR_UNSET;
		break;
	case CK_UINT:
	case CK_INT64:
	case CK_UINT64:
	case CK_FLAGS:
	case CK_PCT:
		if (f->f_flags & CF_DEF)
			conf_store_int(p, f->f_size, f->f_def);
		break;
	case CK_ENUM:
		if (!(f->f_flags & CF_DEF))
			break;
		if (f->f_flags & CF_ENUMSTR) {
			if ((*(char **)p = arena_strdup(w->w_arena,
			    f->f_defstr)) == NULL)
				conf_oom(w);
		} else
			conf_store_int(p, f->f_size, f->f_def);
		break;
	case CK_BOOL:
		if (f->f_flags & CF_DEF)
			*(bool *)p = f->f_def != 0;
		break;
	case CK_DOUBLE:
		if (f->f_flags & CF_DEF)
			*(double *)p = f->f_ddef;
		break;
	case CK_STR:
		if ((f->f_flags & CF_DEF) && (*(char **)p =
		    arena_strdup(w->w_arena, f->f_defstr)) == NULL)
			conf_oom(w);
		break;
	case CK_CLREF:
		*(int *)p = -1;
		break;
	default:
		break;
	}
}

/*
 * Defaults of m and of its nested messages, present or not: a nested
 * message the user left out still owes its defaults to the target (the
 * HCM's common_http_protocol_options.idle_timeout is 1 h either way).
 * m_init runs last, so it may override a child's table default.
 */
void
conf_msg_defaults(struct cw *w, const struct conf_msg *m, void *base)
{
	const struct conf_field *f;

	for (f = m->m_fields; f->f_name != NULL; f++) {
		if (f->f_kind == CK_MSG)
			conf_msg_defaults(w, f->f_msg, (char *)base + f->f_off);
		else
			field_default(w, f, base);
	}
	if (m->m_init != NULL)
		m->m_init(w, base);
}

void
conf_done_present(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	(void)w;
	(void)n;
	(void)seen;
	*(bool *)base = true;
}

/* Record a cluster reference to resolve when all clusters are known. */
void
conf_ref_add(struct cw *w, yaml_node_t *v, const char *name, int *slot)
{
	struct conf_ref *r;
	size_t cap;

	if (w->w_nrefs == w->w_refcap) {
		cap = w->w_refcap == 0 ? 16 : w->w_refcap * 2;
		if ((r = reallocarray(w->w_refs, cap, sizeof(*r))) == NULL) {
			conf_oom(w);
			return;
		}
		w->w_refs = r;
		w->w_refcap = cap;
	}
	r = &w->w_refs[w->w_nrefs];
	r->r_name = name;
	r->r_slot = slot;
	r->r_strict = 0;
	r->r_line = (int)v->start_mark.line + 1;
	r->r_col = (int)v->start_mark.column + 1;
	if ((r->r_path = arena_strdup(w->w_arena, w->w_path)) == NULL) {
		conf_oom(w);
		return;
	}
	w->w_nrefs++;
}

/* ---- one function a kind ---------------------------------------------- */

/*
 * Read value v of field f into base (the target), render its JSON.
 * -1: nothing was read, so no position is stored either.
 */
typedef int kind_walker(struct cw *, const struct conf_field *, yaml_node_t *,
    void *);

#define FIELD_P(f, base)	((void *)((char *)(base) + (f)->f_off))

static int
kind_str(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	char *s;

	if ((s = conf_get_str(w, v, f->f_flags, f->f_max)) == NULL)
		return -1;
	if (!(f->f_flags & CF_NOSTORE))
		*(char **)FIELD_P(f, base) = s;
	/* as written, like Envoy */
	conf_json_str(w, conf_sval(v), conf_slen(v));
	return 0;
}

static int
kind_int(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	int64_t i64;

	if (conf_get_int(w, v, f->f_min, f->f_max, &i64) == -1)
		return -1;
	if (!(f->f_flags & CF_NOSTORE))
		conf_store_int(FIELD_P(f, base), f->f_size, i64);
	/* proto JSON prints 64-bit integers as strings */
	buf_printf(&w->w_json, f->f_kind == CK_INT64 ? "\"%" PRId64 "\"" :
	    "%" PRId64, i64);
	return 0;
}

static int
kind_uint64(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	uint64_t u;

	if (conf_get_uint64(w, v, &u) == -1)
		return -1;
	if (!(f->f_flags & CF_NOSTORE))
		*(uint64_t *)FIELD_P(f, base) = u;
	buf_printf(&w->w_json, "\"%" PRIu64 "\"", u);
	return 0;
}

static int
kind_bool(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	bool b;

	if (conf_get_bool(w, v, &b) == -1)
		return -1;
	if ((f->f_flags & CF_ONLY_DEF) && b != (f->f_def != 0)) {
		conf_err(w, v, "%s is not supported by canaryd: %s",
		    b ? "true" : "false", f->f_why);
		return -1;
	}
	if (!(f->f_flags & CF_NOSTORE))
		*(bool *)FIELD_P(f, base) = b;
	conf_json_raw(w, b ? "true" : "false");
	return 0;
}

static int
kind_dur(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	int64_t ns;
	char num[32];

	if (conf_get_dur(w, v, &ns) == -1)
		return -1;
	if ((f->f_flags & CF_GT) && ns <= f->f_min) {
		conf_format_duration(num, sizeof(num), f->f_min);
		conf_err(w, v, "must be greater than %s", num);
		return -1;
	}
	if (!(f->f_flags & CF_NOSTORE))
		*(int64_t *)FIELD_P(f, base) = (ns == 0 && (f->f_flags &
		    CF_ZERO_UNSET)) ? CD_DUR_UNSET : ns;
	json_dur(w, ns);
	return 0;
}

static int
kind_enum(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	const struct conf_enum_val *ev;
	void *p = FIELD_P(f, base);

	if ((ev = conf_get_enum(w, v, f->f_enum)) == NULL)
		return -1;
	if (f->f_flags & CF_NOSTORE)
		;
	else if (f->f_flags & CF_ENUMSTR) {
		if ((*(char **)p = arena_strdup(w->w_arena,
		    ev->ev_name)) == NULL)
			conf_oom(w);
	} else
		conf_store_int(p, f->f_size, ev->ev_value);
	conf_json_str(w, ev->ev_name, strlen(ev->ev_name));
	return 0;
}

static int
kind_flags(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	char *s;

	if ((s = conf_get_str(w, v, f->f_flags, f->f_max)) == NULL)
		return -1;
	if (!(f->f_flags & CF_NOSTORE))
		conf_store_int(FIELD_P(f, base), f->f_size,
		    conf_flags_parse(f->f_flagv, s));
	conf_json_str(w, s, strlen(s));
	return 0;
}

static int
kind_pct(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	double d;

	if (conf_get_pct(w, v, f->f_min, f->f_max, &d) == -1)
		return -1;
	conf_store_int(FIELD_P(f, base), f->f_size, (int64_t)(d + 0.5));
	conf_json_double(w, d);
	return 0;
}

static int
kind_double(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	double d;

	if (conf_get_double(w, v, f->f_dmin, f->f_dmax, &d) == -1)
		return -1;
	if (!(f->f_flags & CF_NOSTORE))
		*(double *)FIELD_P(f, base) = d;
	conf_json_double(w, d);
	return 0;
}

static int
kind_msg(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	conf_walk_msg(w, v, f->f_msg, FIELD_P(f, base), NULL);
	return 0;
}

static int
kind_seq(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	void *p = FIELD_P(f, base), *el;
	size_t n, i, old, keep;
	char *arr;

	if (conf_want_seq(w, v) == -1)
		return 0;
	n = keep = conf_seq_len(v);
	if ((f->f_flags & CF_NONEMPTY) && n == 0) {
		conf_err(w, v, "want at least one item");
		return 0;
	}
	if (f->f_items > 0 && n > f->f_items) {
		conf_err(w, v, "too many items: %zu, canaryd supports at most "
		    "%zu%s%s", n, f->f_items, f->f_why ? " " : "",
		    f->f_why ? f->f_why : "");
		/* the rest is still checked, into a scratch item */
		keep = f->f_items;
	}
	if (f->f_kind == CK_ARR)
		arr = p;
	else if (keep == 0)
		arr = NULL;
	else if ((arr = arena_allocarray(w->w_arena, keep, f->f_elsize)) ==
	    NULL) {
		conf_oom(w);
		return 0;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			conf_json_raw(w, ",");
		if (i < keep)
			el = arr + i * f->f_elsize;
		else if ((el = conf_scratch(w, f->f_elsize)) == NULL)
			break;
		old = conf_path_index(w, i);
		conf_walk_msg(w, conf_seq_item(w, v, i), f->f_msg, el, NULL);
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
	if (f->f_kind == CK_SEQ)
		*(void **)p = arr;
	*(size_t *)((char *)base + f->f_cnt) = keep;
	return 0;
}

static int
kind_strseq(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	size_t n, i, old;
	char **arr = NULL;
	yaml_node_t *it;

	if (conf_want_seq(w, v) == -1)
		return 0;
	n = conf_seq_len(v);
	if ((f->f_flags & CF_NONEMPTY) && n == 0) {
		conf_err(w, v, "want at least one item");
		return 0;
	}
	if (n > 0 && (arr = arena_allocarray(w->w_arena, n, sizeof(*arr))) ==
	    NULL) {
		conf_oom(w);
		return 0;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if (i > 0)
			conf_json_raw(w, ",");
		if (conf_visit(w, it) && (arr[i] = conf_get_str(w, it,
		    f->f_flags, f->f_max)) != NULL)
			conf_json_str(w, conf_sval(it), conf_slen(it));
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
	*(char ***)FIELD_P(f, base) = arr;
	*(size_t *)((char *)base + f->f_cnt) = n;
	return 0;
}

static int
kind_any(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	const struct conf_any *an;
	yaml_node_t *t;
	char wb[CONF_QUOTE_MAX + 8], url[512];
	size_t old;

	if (v->type != YAML_MAPPING_NODE) {
		conf_err(w, v, "want a mapping with \"@type\", got %s",
		    conf_node_what(v, wb, sizeof(wb)));
		return 0;
	}
	if ((t = conf_map_get(w, v, "@type")) == NULL) {
		conf_err(w, v, "missing \"@type\": add \"@type\": "
		    CONF_TYPE_PREFIX "%s", conf_any_want(f->f_any));
		return 0;
	}
	old = conf_path_push(w, "@type");
	an = conf_any_type(w, f, t);
	conf_path_pop(w, old);
	if (an == NULL)
		return 0;
	snprintf(url, sizeof(url), CONF_TYPE_PREFIX "%s", an->an_type);
	conf_walk_msg(w, v, an->an_msg, FIELD_P(f, base), url);
	return 0;
}

static int
kind_clref(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	char *s;

	if ((s = conf_get_str(w, v, CF_NONEMPTY, CD_NAME_MAX - 1)) == NULL)
		return -1;
	if (f->f_flags & CF_NAME)
		*(char **)((char *)base + f->f_cnt) = s;
	conf_ref_add(w, v, s, FIELD_P(f, base));
	conf_json_str(w, s, strlen(s));
	return 0;
}

static int
kind_struct(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	(void)f;
	(void)base;
	conf_json_yaml(w, v, 0);
	return 0;
}

static int
kind_handler(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	f->f_fn(w, f, v, base);
	return 0;
}

static kind_walker *const kind_walkers[] = {
	[CK_STR] = kind_str,
	[CK_UINT] = kind_int,
	[CK_INT64] = kind_int,
	[CK_UINT64] = kind_uint64,
	[CK_BOOL] = kind_bool,
	[CK_DUR] = kind_dur,
	[CK_ENUM] = kind_enum,
	[CK_FLAGS] = kind_flags,
	[CK_PCT] = kind_pct,
	[CK_DOUBLE] = kind_double,
	[CK_MSG] = kind_msg,
	[CK_SEQ] = kind_seq,
	[CK_ARR] = kind_seq,
	[CK_STRSEQ] = kind_strseq,
	[CK_ANY] = kind_any,
	[CK_CLREF] = kind_clref,
	[CK_STRUCT] = kind_struct,
	[CK_FN] = kind_handler,
};

/* ---- the generic walk ------------------------------------------------- */

/* Walk value v (key k) of field f into base. */
void
conf_walk_field(struct cw *w, const struct conf_field *f, yaml_node_t *k,
    yaml_node_t *v, void *base)
{
	if (f->f_kind == CK_REJECT) {
		conf_reject(w, f, k, v);
		return;
	}
	if (f->f_kind == CK_IGNORE) {
		conf_warn(w, k, "ignored by canaryd: %s", f->f_why);
		conf_json_yaml(w, v, 0);
		return;
	}
	if ((size_t)f->f_kind >= sizeof(kind_walkers) /
	    sizeof(kind_walkers[0]) || kind_walkers[f->f_kind] == NULL)
		abort();	/* a bad table row */
	if (kind_walkers[f->f_kind](w, f, v, base) == -1)
		return;
	if (f->f_flags & CF_WARN)
		conf_warn(w, k != NULL ? k : v, "accepted, not used by "
		    "canaryd: %s", f->f_why);
	if (f->f_flags & CF_POS)
		conf_pos_set(w, (struct cd_pos *)((char *)base + f->f_pos), v);
}

/* "a, b or c" of a oneof group, REJECT members left out. */
void
conf_oneof_names(const struct conf_msg *m, int group, char *buf, size_t len)
{
	const struct conf_field *f;

	buf[0] = '\0';
	for (f = m->m_fields; f->f_name != NULL; f++) {
		if (f->f_oneof != group || f->f_kind == CK_REJECT)
			continue;
		if (buf[0] != '\0')
			strlcat(buf, ", ", len);
		strlcat(buf, f->f_name, len);
	}
}

/* Group of m->m_fields[i]: at most one member set, one if required. */
static void
check_oneof(struct cw *w, yaml_node_t *n, const struct conf_msg *m,
    size_t i, uint64_t seen, yaml_node_t **keys)
{
	const struct conf_field *f = &m->m_fields[i], *g;
	char names[256];
	size_t j, old;
	int cnt = 0, req = 0;

	for (j = i; m->m_fields[j].f_name != NULL; j++) {
		g = &m->m_fields[j];
		if (g->f_oneof != f->f_oneof)
			continue;
		req |= (g->f_flags & CF_REQUIRED) != 0;
		if (!(seen & ((uint64_t)1 << j)))
			continue;
		if (++cnt == 2) {
			conf_oneof_names(m, f->f_oneof, names, sizeof(names));
			old = conf_path_push(w, g->f_name);
			conf_err(w, keys[j], "only one of %s may be set",
			    names);
			conf_path_pop(w, old);
		}
	}
	if (cnt == 0 && req) {
		conf_oneof_names(m, f->f_oneof, names, sizeof(names));
		conf_err(w, n, "one of %s is required", names);
	}
}

static void
check_oneofs(struct cw *w, yaml_node_t *n, const struct conf_msg *m,
    uint64_t seen, yaml_node_t **keys)
{
	size_t i, j;

	for (i = 0; m->m_fields[i].f_name != NULL; i++) {
		if (m->m_fields[i].f_oneof == 0)
			continue;
		/* handle each group once, at its first member */
		for (j = 0; j < i; j++)
			if (m->m_fields[j].f_oneof == m->m_fields[i].f_oneof)
				break;
		if (j == i)
			check_oneof(w, n, m, i, seen, keys);
	}
}

/* A field given twice: reported, and its second value checked too. */
struct conf_dup {
	size_t		 d_field;
	yaml_node_t	*d_key;
	yaml_node_t	*d_val;
};

/*
 * Each field's key and value: an explicit key wins over a merged one; a
 * second explicit one is an error, kept in dv[*nd] to be walked as well.
 */
static void
msg_match(struct cw *w, const struct conf_msg *m, struct conf_pair *pairs,
    size_t np, yaml_node_t **keys, yaml_node_t **vals, struct conf_dup *dv,
    size_t *nd)
{
	const struct conf_field *f;
	size_t i, j, old;

	for (i = 0; m->m_fields[i].f_name != NULL; i++) {
		if (i == 64)
			abort();	/* a table too long for seen bits */
		f = &m->m_fields[i];
		keys[i] = vals[i] = NULL;
		for (j = 0; j < np; j++) {
			if (!key_is(pairs[j].p_key, f->f_name))
				continue;
			pairs[j].p_used = 1;
			/* explicit pairs come first in pairs[] */
			if (vals[i] == NULL) {
				keys[i] = pairs[j].p_key;
				vals[i] = pairs[j].p_val;
			} else if (!pairs[j].p_merged) {
				old = conf_path_push(w, f->f_name);
				conf_err(w, pairs[j].p_key, "duplicate field "
				    "(also on line %d); remove one",
				    (int)keys[i]->start_mark.line + 1);
				conf_path_pop(w, old);
				dv[*nd].d_field = i;
				dv[*nd].d_key = pairs[j].p_key;
				dv[*nd].d_val = pairs[j].p_val;
				(*nd)++;
			}
		}
	}
}

/*
 * Where a duplicated field's second value is walked: a zeroed scratch
 * copy of the bytes the field writes, so that the first value's target
 * is left as it was (a second walk over it would compile a regex over a
 * compiled one, or leave counts that no longer match their arrays).  A
 * handler (CK_FN) or a message merged into its parent (no size known)
 * still gets base itself.
 */
static void *
dup_base(struct cw *w, const struct conf_field *f, void *base)
{
	size_t need = 0;
	void *t;

	if (f->f_kind == CK_FN || f->f_kind == CK_REJECT ||
	    f->f_kind == CK_IGNORE)
		return base;
	if (f->f_size > 0)
		need = f->f_off + f->f_size;
	if (f->f_cnt > 0 && need < f->f_off + sizeof(void *))
		need = f->f_off + sizeof(void *);
	if (f->f_cnt > 0 && need < f->f_cnt + sizeof(size_t))
		need = f->f_cnt + sizeof(size_t);
	if ((f->f_flags & CF_POS) && need < f->f_pos + sizeof(struct cd_pos))
		need = f->f_pos + sizeof(struct cd_pos);
	if (need == 0 || (t = conf_scratch(w, need)) == NULL)
		return base;
	return t;
}

/*
 * The second values of duplicated fields, walked after the first (the
 * load fails anyway) so that their errors show in this run too, into a
 * scratch target (dup_base()); their JSON is dropped.
 */
static void
msg_dups(struct cw *w, const struct conf_msg *m, const struct conf_dup *dv,
    size_t nd, void *base)
{
	const struct conf_field *f;
	size_t i, old, jlen;

	for (i = 0; i < nd && !w->w_stop; i++) {
		f = &m->m_fields[dv[i].d_field];
		if (conf_is_null(dv[i].d_val))
			continue;
		jlen = w->w_json.b_len;
		old = conf_path_push(w, f->f_name);
		w->w_dup_depth++;
		if (conf_visit(w, dv[i].d_val))
			conf_walk_field(w, f, dv[i].d_key, dv[i].d_val,
			    dup_base(w, f, base));
		w->w_dup_depth--;
		conf_path_pop(w, old);
		w->w_json.b_len = jlen;
	}
}

/* Keys no field claimed (typos: the closest name is suggested); an Any's
 * "@type" is the Any's own. */
static void
msg_unknown(struct cw *w, const struct conf_msg *m,
    const struct conf_pair *pairs, size_t np, const char *anytype)
{
	const char *near;
	size_t j, old;

	for (j = 0; j < np; j++) {
		if (pairs[j].p_used || (anytype != NULL &&
		    strcmp(conf_sval(pairs[j].p_key), "@type") == 0))
			continue;
		old = conf_path_pushn(w, conf_sval(pairs[j].p_key),
		    conf_slen(pairs[j].p_key));
		near = conf_closest(m, conf_sval(pairs[j].p_key),
		    conf_slen(pairs[j].p_key));
		if (near != NULL)
			conf_err(w, pairs[j].p_key, "unknown field in %s; "
			    "did you mean \"%s\"?", m->m_name, near);
		else if (strncmp(m->m_name, "canaryd ", 8) == 0)
			conf_err(w, pairs[j].p_key, "unknown field in %s "
			    "(canaryd.yaml(5) lists its keys)", m->m_name);
		else
			conf_err(w, pairs[j].p_key, "unknown field in %s "
			    "(not an Envoy v3 field there: check its spelling "
			    "and its place)", m->m_name);
		conf_path_pop(w, old);
	}
}

/* Walk and render the fields present, in table order; their seen mask. */
static uint64_t
msg_fields(struct cw *w, const struct conf_msg *m, yaml_node_t **keys,
    yaml_node_t **vals, void *base, const char *anytype)
{
	const struct conf_field *f;
	uint64_t seen = 0;
	size_t i, old;
	int first = 1;

	conf_json_raw(w, "{");
	if (anytype != NULL) {
		conf_json_raw(w, "\"@type\":");
		conf_json_str(w, anytype, strlen(anytype));
		first = 0;
	}
	for (i = 0; m->m_fields[i].f_name != NULL && !w->w_stop; i++) {
		f = &m->m_fields[i];
		if (vals[i] == NULL || conf_is_null(vals[i]))
			continue;
		seen |= (uint64_t)1 << i;
		if (!first)
			conf_json_raw(w, ",");
		first = 0;
		conf_json_str(w, f->f_name, strlen(f->f_name));
		conf_json_raw(w, ":");
		old = conf_path_push(w, f->f_name);
		if (conf_visit(w, vals[i]))
			conf_walk_field(w, f, keys[i], vals[i], base);
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "}");
	return seen;
}

static void
msg_required(struct cw *w, yaml_node_t *n, const struct conf_msg *m,
    uint64_t seen)
{
	const struct conf_field *f;
	size_t i, old;

	for (i = 0; m->m_fields[i].f_name != NULL; i++) {
		f = &m->m_fields[i];
		if (!(f->f_flags & CF_REQUIRED) || f->f_oneof != 0 ||
		    (seen & ((uint64_t)1 << i)))
			continue;
		old = conf_path_push(w, f->f_name);
		/* an Any: which "@type" to add, from the "name" beside it */
		if (f->f_kind == CK_ANY)
			conf_any_missing(w, f, n);
		else
			conf_err(w, n, "missing required field");
		conf_path_pop(w, old);
	}
}

/*
 * Walk mapping n as message m into base.  anytype: the "@type" of an Any
 * whose fields these are (NULL otherwise).
 */
void
conf_walk_msg(struct cw *w, yaml_node_t *n, const struct conf_msg *m,
    void *base, const char *anytype)
{
	struct conf_pair pairs[CONF_MAX_PAIRS];
	struct conf_dup dups[CONF_MAX_PAIRS];
	yaml_node_t *keys[64], *vals[64];
	char wb[CONF_QUOTE_MAX + 8];
	size_t np = 0, nd = 0;
	uint64_t seen;

	conf_msg_defaults(w, m, base);
	if (!conf_visit(w, n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		conf_err(w, n, "want a mapping (%s), got %s", m->m_name,
		    conf_node_what(n, wb, sizeof(wb)));
		return;
	}
	if (conf_map_collect(w, n, pairs, &np, 0, 0) == -1)
		return;
	msg_match(w, m, pairs, np, keys, vals, dups, &nd);
	msg_unknown(w, m, pairs, np, anytype);
	seen = msg_fields(w, m, keys, vals, base, anytype);
	msg_dups(w, m, dups, nd, base);
	if (w->w_stop)
		return;
	check_oneofs(w, n, m, seen, keys);
	msg_required(w, n, m, seen);
	if (m->m_done != NULL)
		m->m_done(w, n, base, seen);
}

/* Bit of field name in m's seen mask. */
uint64_t
conf_field_bit(const struct conf_msg *m, const char *name)
{
	size_t i;

	for (i = 0; m->m_fields[i].f_name != NULL; i++)
		if (strcmp(m->m_fields[i].f_name, name) == 0)
			return (uint64_t)1 << i;
	abort();	/* a typo in a table's hook */
}

/*
 * A list canaryd allows one item in (listeners, filter chains, ...): item
 * 0 of v walked as f's message into base; limit says so when there are
 * more, or none of a CF_REQUIRED field.  Later items are still walked,
 * each into a zeroed scratch target of size bytes, so that their errors
 * show in the same run.  span gets item 0's JSON's [start, end).
 * Returns 1 when an item was walked, 0 when the list is empty, -1 on
 * error.
 */
int
conf_walk_one(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base, size_t size, const char *limit, size_t *span)
{
	int required = (f->f_flags & CF_REQUIRED) != 0;
	size_t n, i, old;
	void *t;

	if (conf_want_seq(w, v) == -1)
		return -1;
	n = conf_seq_len(v);
	if (n == 0) {
		if (required)
			conf_err(w, v, "%s", limit);
		conf_json_raw(w, "[]");
		return required ? -1 : 0;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		old = conf_path_index(w, i);
		if (i == 0) {
			t = base;
			if (span != NULL)
				span[0] = w->w_json.b_len;
		} else {
			conf_err(w, conf_seq_item(w, v, i), "%s", limit);
			conf_json_raw(w, ",");
			if ((t = conf_scratch(w, size)) == NULL)
				break;
		}
		conf_walk_msg(w, conf_seq_item(w, v, i), f->f_msg, t, NULL);
		if (i == 0 && span != NULL)
			span[1] = w->w_json.b_len;
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
	return 1;
}

void *
conf_scratch(struct cw *w, size_t size)
{
	void *p;

	/* arena memory is zeroed */
	if ((p = arena_alloc(w->w_arena, size == 0 ? 1 : size)) == NULL)
		conf_oom(w);
	return p;
}

/* Every item of list v walked into the same target. */
void
conf_walk_each(struct cw *w, yaml_node_t *v, const struct conf_msg *m,
    void *base)
{
	size_t i, old;

	if (conf_want_seq(w, v) == -1)
		return;
	conf_json_raw(w, "[");
	for (i = 0; i < conf_seq_len(v) && !w->w_stop; i++) {
		if (i > 0)
			conf_json_raw(w, ",");
		old = conf_path_index(w, i);
		conf_walk_msg(w, conf_seq_item(w, v, i), m, base, NULL);
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}
