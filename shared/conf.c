/*
 * Configuration loader: Envoy v3 static bootstrap YAML into the immutable
 * struct cd_conf (conf-t.h).  Master only (start, reload, --mode validate).
 *
 * libyaml builds the document tree (yaml_parser_load: anchors and aliases
 * are resolved there); a schema walker then visits it with one table per
 * protobuf message: field name, kind, flags, bounds, default and where the
 * value goes.  Several Envoy messages may write into one canaryd struct
 * (the HCM's fields live in struct cd_listener), so a table's offsets are
 * relative to the target its parent hands it.
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
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "arena.h"
#include "buf.h"
#include "conf.h"

#define CONF_MAX_ERRORS	100		/* then stop walking */
#define CONF_MAX_FILE	(16 * 1024 * 1024)
#define CONF_MAX_VISITS	200000		/* nodes visited: alias bombs */
#define CONF_MAX_DEPTH	64		/* free-form values, merges */
#define CONF_MAX_PAIRS	128		/* keys of a mapping, merges included */
#define CONF_PATH_MAX	512
#define CONF_QUOTE_MAX	64		/* bytes of a value quoted */

#define CONF_MIB	(1024 * 1024)
#define CONF_MS		CD_NS_PER_MS
#define CONF_S		CD_NS_PER_S

#define CONF_TYPE_PREFIX "type.googleapis.com/"

struct cw;
struct conf_field;

/* How a field's value is read. */
enum conf_kind {
	CK_STR,		/* char *, arena copy */
	CK_UINT,	/* unsigned integer of f_size bytes, [f_min, f_max] */
	CK_INT64,	/* int64_t (printed as a JSON string, as Envoy does) */
	CK_BOOL,	/* bool */
	CK_DUR,		/* Duration "1.5s" into int64_t nanoseconds */
	CK_ENUM,	/* case-insensitive name into an int of f_size bytes */
	CK_PCT,		/* Percent.value 0..100, rounded, f_size bytes */
	CK_DOUBLE,	/* double, [f_dmin, f_dmax]; f_dmax INFINITY: no max */
	CK_MSG,		/* nested message, target base + f_off */
	CK_SEQ,		/* repeated message: arena array f_off, count f_cnt */
	CK_ARR,		/* repeated message into a fixed array at f_off */
	CK_STRSEQ,	/* repeated string: char ** at f_off, count at f_cnt */
	CK_ANY,		/* google.protobuf.Any: "@type" picks the message */
	CK_CLREF,	/* cluster name: int index at f_off, resolved last */
	CK_STRUCT,	/* free-form (google.protobuf.Struct): only rendered */
	CK_FN,		/* a handler of its own (f_fn) */
	CK_REJECT,	/* an Envoy field canaryd does not implement */
};

#define CF_REQUIRED	0x0001	/* error when absent (oneof: the group) */
#define CF_NONEMPTY	0x0002	/* strings: >= 1 byte; lists: >= 1 item */
#define CF_LOWER	0x0004	/* strings: lower-case ASCII */
#define CF_GT		0x0008	/* durations: must be > f_min */
#define CF_DEF		0x0010	/* f_def (numbers) / f_defstr is the default */
#define CF_POS		0x0020	/* store the value's position at f_pos */
#define CF_NOSTORE	0x0040	/* check and render only */
#define CF_ENUMSTR	0x0080	/* CK_ENUM: store the name (char *) */
#define CF_ZERO_UNSET	0x0100	/* durations: 0s means CD_DUR_UNSET */
#define CF_NAME		0x0200	/* CK_CLREF: also store the name at f_cnt */

typedef void conf_fn(struct cw *, const struct conf_field *, yaml_node_t *,
    void *);

#define CONF_ENUM_NOSUP	INT_MIN	/* Envoy value canaryd does not implement */

struct conf_enum_val {
	const char	*ev_name;	/* canonical spelling */
	int		 ev_value;
};

struct conf_enum {
	const char			*e_what;	/* "cluster type" */
	const struct conf_enum_val	*e_vals;	/* { NULL } ends */
};

struct conf_any {
	const char		*an_type;	/* full message name */
	const struct conf_msg	*an_msg;
};

struct conf_field {
	const char		*f_name;
	enum conf_kind		 f_kind;
	unsigned int		 f_flags;
	int			 f_oneof;	/* group number; 0: none */
	int64_t			 f_min;		/* numbers, durations */
	int64_t			 f_max;		/* numbers; bytes; items */
	int64_t			 f_def;		/* CF_DEF numbers */
	const char		*f_defstr;	/* CF_DEF strings */
	size_t			 f_off;
	size_t			 f_size;	/* numbers and enums */
	size_t			 f_cnt;		/* lists: count; CF_NAME */
	size_t			 f_pos;		/* CF_POS: struct cd_pos */
	size_t			 f_elsize;	/* CK_SEQ, CK_ARR */
	const struct conf_msg	*f_msg;
	const struct conf_enum	*f_enum;
	const struct conf_any	*f_any;		/* CK_ANY: { NULL } ends */
	conf_fn			*f_fn;
	const char		*f_why;		/* CK_REJECT, CK_ANY: why */
	double			 f_dmin;	/* CK_DOUBLE */
	double			 f_dmax;
	double			 f_ddef;	/* CK_DOUBLE with CF_DEF */
};

struct conf_msg {
	const char		*m_name;	/* for messages: "Cluster" */
	const struct conf_field	*m_fields;	/* { NULL } ends; <= 64 */
	/* Defaults no table can say (derived ones); runs after the table's. */
	void	(*m_init)(struct cw *, void *);
	/* Cross-field checks once every field was read; seen: bit i set
	 * when m_fields[i] was present. */
	void	(*m_done)(struct cw *, yaml_node_t *, void *, uint64_t);
};

/* A cluster name to resolve once every cluster is known. */
struct conf_ref {
	const char	*r_name;
	int		*r_slot;
	int		 r_line, r_col;
	const char	*r_path;	/* arena copy */
	int		 r_strict;	/* must exist even without
					 * validate_clusters (fallback) */
};

struct conf_domain {
	const char	*d_name;
	size_t		 d_vhost;
	int		 d_line;
};

struct conf_pair {
	yaml_node_t	*p_key;
	yaml_node_t	*p_val;
	int		 p_merged;	/* from a "<<" merge key */
	int		 p_used;
};

/* The walker: everything one conf_load_buf() call needs. */
struct cw {
	struct cd_conf		*w_conf;
	struct cd_arena		*w_arena;
	yaml_document_t		 w_doc;
	struct conf_diags	*w_diags;
	size_t			 w_nerrors;	/* this load's */
	size_t			 w_nwarnings;
	int			 w_stop;	/* error cap or out of memory */
	char			 w_path[CONF_PATH_MAX];
	size_t			 w_plen;
	struct buf		 w_json;
	size_t			 w_visits;

	struct cd_listener	*w_listener;
	struct cd_cluster	*w_cluster;	/* being walked */
	int			 w_cluster_type_bad; /* type refused */
	int			 w_validate_clusters;
	size_t			 w_nsplits;
	struct conf_ref		*w_refs;
	size_t			 w_nrefs, w_refcap;
	struct conf_domain	*w_domains;
	size_t			 w_ndomains, w_domcap;
	size_t			 w_nvhosts;	/* walked so far */
	/* names of routes with a canaryd rollout, to keep them unique */
	const char		*w_rollout_names[CD_MAX_SPLITS];
	int			 w_rollout_lines[CD_MAX_SPLITS];
	size_t			 w_nrollouts;

	size_t			 w_span_listener[2];
	size_t			 w_span_routes[2];
	size_t			 w_span_clusters[CD_MAX_CLUSTERS][2];
};

static void	walk_msg(struct cw *, yaml_node_t *, const struct conf_msg *,
		    void *, const char *);
static void	json_yaml(struct cw *, yaml_node_t *, int);

/* ---- diagnostics ------------------------------------------------------ */

/*
 * A new zeroed entry at the end of d, or NULL.  struct conf_diags keeps
 * no capacity, so it is implied by cd_n: 8, then powers of two.  Every
 * append goes through here, so the rule always holds.
 */
static struct conf_diag *
diag_new(struct conf_diags *d)
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
	if ((dg = diag_new(d)) == NULL) {
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

static void __attribute__((format(printf, 6, 7)))
diag_at(struct cw *w, int warning, int line, int col, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(w, warning, line, col, path, fmt, ap);
	va_end(ap);
}

/* An error at node n about the field the walker is in. */
static void __attribute__((format(printf, 3, 4)))
w_err(struct cw *w, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(w, 0, (int)n->start_mark.line + 1,
	    (int)n->start_mark.column + 1, w->w_path, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
w_warn(struct cw *w, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(w, 1, (int)n->start_mark.line + 1,
	    (int)n->start_mark.column + 1, w->w_path, fmt, ap);
	va_end(ap);
}

static void
w_oom(struct cw *w)
{
	diag_at(w, 0, 0, 0, NULL, "out of memory");
	w->w_stop = 1;
}

/* ---- paths: "static_resources.clusters[1].connect_timeout" ------------ */

static size_t
path_push(struct cw *w, const char *name)
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

static size_t
path_pushn(struct cw *w, const char *name, size_t len)
{
	char tmp[CONF_QUOTE_MAX + 1];

	if (len > CONF_QUOTE_MAX)
		len = CONF_QUOTE_MAX;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	return path_push(w, tmp);
}

static size_t
path_index(struct cw *w, size_t i)
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

static void
path_pop(struct cw *w, size_t len)
{
	w->w_plen = len;
	w->w_path[len] = '\0';
}

/* ---- nodes ------------------------------------------------------------ */

static yaml_node_t *
node_get(struct cw *w, int idx)
{
	return yaml_document_get_node(&w->w_doc, idx);
}

static const char *
sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static size_t
slen(const yaml_node_t *n)
{
	return n->data.scalar.length;
}

static int
is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* What JSON null is in YAML: a protobuf field set to null is unset. */
static int
is_null(const yaml_node_t *n)
{
	const char *s;

	if (!is_plain(n))
		return 0;
	s = sval(n);
	return slen(n) == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *
node_what(const yaml_node_t *n, char *buf, size_t len)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		snprintf(buf, len, "\"%.*s\"", (int)(slen(n) > CONF_QUOTE_MAX ?
		    CONF_QUOTE_MAX : slen(n)), sval(n));
		return buf;
	default:
		return "nothing";
	}
}

/* Count a visited node; false once the document is absurdly large (an
 * alias bomb expands to billions of nodes while the file stays small). */
static int
visit(struct cw *w, const yaml_node_t *n)
{
	if (w->w_stop)
		return 0;
	if (++w->w_visits == CONF_MAX_VISITS) {
		w_err(w, n, "configuration too large (more than %d nodes "
		    "once aliases are expanded)", CONF_MAX_VISITS);
		w->w_stop = 1;
		return 0;
	}
	return 1;
}

static int
want_scalar(struct cw *w, yaml_node_t *n, const char *what)
{
	char wb[CONF_QUOTE_MAX + 8];

	if (n->type == YAML_SCALAR_NODE)
		return 0;
	w_err(w, n, "want %s, got %s", what, node_what(n, wb, sizeof(wb)));
	return -1;
}

static int
want_seq(struct cw *w, yaml_node_t *n)
{
	char wb[CONF_QUOTE_MAX + 8];

	if (n->type == YAML_SEQUENCE_NODE)
		return 0;
	w_err(w, n, "want a list, got %s", node_what(n, wb, sizeof(wb)));
	return -1;
}

static size_t
seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
}

static yaml_node_t *
seq_item(struct cw *w, const yaml_node_t *n, size_t i)
{
	return node_get(w, n->data.sequence.items.start[i]);
}

/*
 * Protobuf JSON accepts a field under its proto name (stat_prefix) and its
 * JSON name (statPrefix); Envoy's YAML inherits both.
 */
static int
key_is(const yaml_node_t *k, const char *name)
{
	const char *s = sval(k);
	size_t i, j, len = slen(k);

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
	return is_plain(k) && slen(k) == 2 && memcmp(sval(k), "<<", 2) == 0;
}

/*
 * The (key, value) pairs of a mapping, explicit ones first, then those of
 * "<<" merge keys (YAML 1.1 merge), which explicit keys override.
 */
static int
map_collect(struct cw *w, yaml_node_t *map, struct conf_pair *pv,
    size_t *np, int merged, int depth)
{
	yaml_node_pair_t *pp;
	yaml_node_t *k, *v, *it;
	char wb[CONF_QUOTE_MAX + 8];
	size_t i;

	for (pp = map->data.mapping.pairs.start;
	    pp < map->data.mapping.pairs.top; pp++) {
		k = node_get(w, pp->key);
		v = node_get(w, pp->value);
		if (k->type != YAML_SCALAR_NODE) {
			w_err(w, k, "want a field name, got %s",
			    node_what(k, wb, sizeof(wb)));
			continue;
		}
		if (is_merge_key(k))
			continue;
		if (*np == CONF_MAX_PAIRS) {
			w_err(w, k, "more than %d fields in one mapping",
			    CONF_MAX_PAIRS);
			return -1;
		}
		pv[*np].p_key = k;
		pv[*np].p_val = v;
		pv[*np].p_merged = merged;
		pv[*np].p_used = 0;
		(*np)++;
	}
	for (pp = map->data.mapping.pairs.start;
	    pp < map->data.mapping.pairs.top; pp++) {
		k = node_get(w, pp->key);
		v = node_get(w, pp->value);
		if (k->type != YAML_SCALAR_NODE || !is_merge_key(k))
			continue;
		if (depth >= 8) {
			w_err(w, k, "merge keys nested too deeply");
			return -1;
		}
		if (v->type == YAML_MAPPING_NODE) {
			if (map_collect(w, v, pv, np, 1, depth + 1) == -1)
				return -1;
			continue;
		}
		if (v->type != YAML_SEQUENCE_NODE) {
			w_err(w, v, "want a mapping to merge (\"<<\"), got %s",
			    node_what(v, wb, sizeof(wb)));
			continue;
		}
		for (i = 0; i < seq_len(v); i++) {
			it = seq_item(w, v, i);
			if (it->type != YAML_MAPPING_NODE) {
				w_err(w, it, "want a mapping to merge "
				    "(\"<<\"), got %s",
				    node_what(it, wb, sizeof(wb)));
				continue;
			}
			if (map_collect(w, it, pv, np, 1, depth + 1) == -1)
				return -1;
		}
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
		k = node_get(w, pp->key);
		if (k->type == YAML_SCALAR_NODE && key_is(k, key))
			return pp;
	}
	return NULL;
}

/* The value of key in mapping n (explicit keys only), or NULL. */
static yaml_node_t *
map_get(struct cw *w, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *pp = map_pair(w, n, key);

	return pp == NULL ? NULL : node_get(w, pp->value);
}

/* ---- JSON output ------------------------------------------------------ */

static void
json_raw(struct cw *w, const char *s)
{
	buf_puts(&w->w_json, s);
}

static void
json_str(struct cw *w, const char *s, size_t len)
{
	buf_json_str(&w->w_json, s, len);
}

static void
json_dur(struct cw *w, int64_t ns)
{
	char tmp[48];

	conf_format_duration(tmp, sizeof(tmp), ns);
	json_str(w, tmp, strlen(tmp));
}

/* Does s spell a JSON number?  Then a plain YAML scalar prints as one. */
static int
is_json_number(const char *s, size_t len)
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

/*
 * Free-form YAML (Struct values, other metadata namespaces) as JSON, the
 * way Envoy's YAML-to-JSON step types plain scalars.
 */
static void
json_yaml(struct cw *w, yaml_node_t *n, int depth)
{
	yaml_node_pair_t *pp;
	yaml_node_t *k;
	size_t i;

	if (!visit(w, n))
		return;
	if (depth > CONF_MAX_DEPTH) {
		w_err(w, n, "nested more than %d levels deep", CONF_MAX_DEPTH);
		return;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (is_null(n))
			json_raw(w, "null");
		else if (is_plain(n) && (strcmp(sval(n), "true") == 0 ||
		    strcmp(sval(n), "false") == 0))
			json_raw(w, sval(n));
		else if (is_plain(n) && is_json_number(sval(n), slen(n)))
			buf_append(&w->w_json, sval(n), slen(n));
		else
			json_str(w, sval(n), slen(n));
		break;
	case YAML_SEQUENCE_NODE:
		json_raw(w, "[");
		for (i = 0; i < seq_len(n) && !w->w_stop; i++) {
			if (i > 0)
				json_raw(w, ",");
			json_yaml(w, seq_item(w, n, i), depth + 1);
		}
		json_raw(w, "]");
		break;
	case YAML_MAPPING_NODE:
		json_raw(w, "{");
		for (pp = n->data.mapping.pairs.start;
		    pp < n->data.mapping.pairs.top && !w->w_stop; pp++) {
			k = node_get(w, pp->key);
			if (k->type != YAML_SCALAR_NODE) {
				w_err(w, k, "want a string key");
				continue;
			}
			if (pp > n->data.mapping.pairs.start)
				json_raw(w, ",");
			json_str(w, sval(k), slen(k));
			json_raw(w, ":");
			json_yaml(w, node_get(w, pp->value), depth + 1);
		}
		json_raw(w, "}");
		break;
	default:
		json_raw(w, "null");
		break;
	}
}

/* ---- scalars ---------------------------------------------------------- */

static void
store_int(void *p, size_t size, int64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)p = (uint32_t)v;
		break;
	case 8:
		*(int64_t *)p = v;
		break;
	default:
		abort();
	}
}

/* Decimal integer, optional '-', nothing else (protobuf JSON also takes
 * it quoted).  0, or -1 when s is not one or overflows int64. */
static int
parse_int(const char *s, size_t len, int64_t *out)
{
	uint64_t v = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i++;
	}
	if (i == len)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

static int
get_int(struct cw *w, yaml_node_t *v, int64_t min, int64_t max, int64_t *out)
{
	if (want_scalar(w, v, "an integer") == -1)
		return -1;
	if (parse_int(sval(v), slen(v), out) == -1) {
		if (is_plain(v) && is_json_number(sval(v), slen(v)) &&
		    strpbrk(sval(v), ".eE") == NULL)
			w_err(w, v, "%.*s is out of range: must be %" PRId64
			    "..%" PRId64, CONF_QUOTE_MAX, sval(v), min, max);
		else
			w_err(w, v, "bad number \"%.*s\": want an integer",
			    CONF_QUOTE_MAX, sval(v));
		return -1;
	}
	if (*out < min || *out > max) {
		w_err(w, v, "%" PRId64 " is out of range: must be %" PRId64
		    "..%" PRId64, *out, min, max);
		return -1;
	}
	return 0;
}

/* YAML 1.1 booleans, as Envoy's YAML reader takes them; quoted "true"
 * is a string, which protobuf JSON refuses for a bool. */
static int
get_bool(struct cw *w, yaml_node_t *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "y", NULL };
	static const char *const no[] = { "false", "no", "off", "n", NULL };
	size_t i;

	if (want_scalar(w, v, "true or false") == -1)
		return -1;
	if (is_plain(v)) {
		for (i = 0; yes[i] != NULL; i++)
			if (strcasecmp(sval(v), yes[i]) == 0) {
				*out = true;
				return 0;
			}
		for (i = 0; no[i] != NULL; i++)
			if (strcasecmp(sval(v), no[i]) == 0) {
				*out = false;
				return 0;
			}
	}
	w_err(w, v, "bad boolean %s\"%.*s\": want true or false",
	    is_plain(v) ? "" : "(quoted) ", CONF_QUOTE_MAX, sval(v));
	return -1;
}

static int
get_dur(struct cw *w, yaml_node_t *v, int64_t *ns)
{
	const char *why;
	char wb[CONF_QUOTE_MAX + 8];

	if (v->type != YAML_SCALAR_NODE) {
		w_err(w, v, "want a duration string like \"1s\" or \"0.25s\", "
		    "got %s", node_what(v, wb, sizeof(wb)));
		return -1;
	}
	if (strlen(sval(v)) != slen(v) ||
	    conf_parse_duration(sval(v), ns, &why) == -1) {
		if (strlen(sval(v)) != slen(v))
			why = "want a string like \"1s\" or \"0.25s\"";
		w_err(w, v, "bad duration \"%.*s\": %s", CONF_QUOTE_MAX,
		    sval(v), why);
		return -1;
	}
	return 0;
}

/*
 * A finite number spelled as JSON spells it (no inf, nan or hex: Envoy's
 * proto JSON would not take them either), in [min, max]; max INFINITY
 * means no upper bound.
 */
static int
get_double(struct cw *w, yaml_node_t *v, double min, double max, double *out)
{
	double d;

	if (want_scalar(w, v, "a number") == -1)
		return -1;
	if (!is_json_number(sval(v), slen(v)) ||
	    strlen(sval(v)) != slen(v)) {
		w_err(w, v, "bad number \"%.*s\"", CONF_QUOTE_MAX, sval(v));
		return -1;
	}
	errno = 0;
	d = strtod(sval(v), NULL);
	if (errno != 0 || !isfinite(d)) {
		w_err(w, v, "bad number \"%.*s\"", CONF_QUOTE_MAX, sval(v));
		return -1;
	}
	if (d < min || d > max) {
		if (isinf(max))
			w_err(w, v, "%g is out of range: must be at least %g",
			    d, min);
		else
			w_err(w, v, "%g is out of range: must be %g..%g", d,
			    min, max);
		return -1;
	}
	*out = d;
	return 0;
}

/* The shortest form of d that reads back the same: 33.3, 0.01. */
static void
json_double(struct cw *w, double d)
{
	char num[32];

	snprintf(num, sizeof(num), "%.15g", d);
	if (strtod(num, NULL) != d)
		snprintf(num, sizeof(num), "%.17g", d);
	json_raw(w, num);
}

static const struct conf_enum_val *
enum_find(const struct conf_enum *e, const char *s)
{
	const struct conf_enum_val *ev;

	for (ev = e->e_vals; ev->ev_name != NULL; ev++)
		if (strcasecmp(ev->ev_name, s) == 0)
			return ev;
	return NULL;
}

static void
enum_list(const struct conf_enum *e, char *buf, size_t len)
{
	const struct conf_enum_val *ev;

	buf[0] = '\0';
	for (ev = e->e_vals; ev->ev_name != NULL; ev++) {
		if (ev->ev_value == CONF_ENUM_NOSUP)
			continue;
		if (buf[0] != '\0')
			strlcat(buf, ", ", len);
		strlcat(buf, ev->ev_name, len);
	}
}

static const struct conf_enum_val *
get_enum(struct cw *w, yaml_node_t *v, const struct conf_enum *e)
{
	const struct conf_enum_val *ev;
	char list[256];

	if (want_scalar(w, v, e->e_what) == -1)
		return NULL;
	enum_list(e, list, sizeof(list));
	if ((ev = enum_find(e, sval(v))) == NULL) {
		w_err(w, v, "unknown %s \"%.*s\": want one of %s", e->e_what,
		    CONF_QUOTE_MAX, sval(v), list);
		return NULL;
	}
	if (ev->ev_value == CONF_ENUM_NOSUP) {
		w_err(w, v, "%s %s is not supported by canaryd (supported: %s)",
		    e->e_what, ev->ev_name, list);
		return NULL;
	}
	return ev;
}

/* A string value; NUL bytes are refused: every consumer is C. */
static char *
get_str(struct cw *w, yaml_node_t *v, unsigned int flags, int64_t max)
{
	char *s;
	size_t i;

	if (want_scalar(w, v, "a string") == -1)
		return NULL;
	if (strlen(sval(v)) != slen(v)) {
		w_err(w, v, "must not contain NUL bytes");
		return NULL;
	}
	if ((flags & CF_NONEMPTY) && slen(v) == 0) {
		w_err(w, v, "must not be empty");
		return NULL;
	}
	if (max > 0 && slen(v) > (size_t)max) {
		w_err(w, v, "too long: %zu bytes, canaryd allows %" PRId64,
		    slen(v), max);
		return NULL;
	}
	if ((s = arena_strndup(w->w_arena, sval(v), slen(v))) == NULL) {
		w_oom(w);
		return NULL;
	}
	if (flags & CF_LOWER)
		for (i = 0; s[i] != '\0'; i++)
			s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

/* ---- regexes ---------------------------------------------------------- */

static void
re_free(void *re)
{
	regfree(re);
}

/* RE2 classes spelled for POSIX; in brackets without the brackets. */
static const char *
re_class(char c, int inside)
{
	switch (c) {
	case 'd':
		return inside ? "0-9" : "[0-9]";
	case 'D':
		return inside ? NULL : "[^0-9]";
	case 'w':
		return inside ? "[:alnum:]_" : "[[:alnum:]_]";
	case 'W':
		return inside ? NULL : "[^[:alnum:]_]";
	case 's':
		return inside ? "[:space:]" : "[[:space:]]";
	case 'S':
		return inside ? NULL : "[^[:space:]]";
	default:
		return NULL;
	}
}

/*
 * Envoy's safe_regex is RE2; canaryd matches with POSIX ERE.  Spell the
 * common RE2 forms the ERE way: \d \w \s (and negations), escaped
 * punctuation inside [], (?:...), lazy quantifiers (the same as greedy
 * for a full match).  Anything else RE2-only (\b, (?i), \pL ...) is an
 * error rather than a silently different match.
 */
/*
 * What RE2 refuses and glibc's regcomp would turn into a tree of
 * exponential or product size (a config could make the master allocate
 * gigabytes; found by test/fuzz/fuzz_conf): a repetition operator right
 * after another ("a++", "a*{2}", "a+?*"), a count over 1000, and nested
 * counts whose product is over 1000, RE2's own limit.
 */
#define RE_MAX_REPEAT	1000
#define RE_MAX_DEPTH	32

static int
re_translate(struct buf *out, const char *re, const char **why)
{
	const char *p = re, *cls;
	struct buf body;
	int quant = 0, prevq = 0, neg, rbr, dash, caret, depth = 0;
	unsigned long lo, hi, w, last = 1, lvl[RE_MAX_DEPTH + 1];
	char *ce;

	lvl[0] = 1;
	for (; *p != '\0'; p++) {
		if (quant && *p == '?') {
			quant = 0;
			continue;	/* lazy; still a repetition */
		}
		quant = 0;
		if (*p == '*' || *p == '+' || *p == '?' || (*p == '{' &&
		    isdigit((unsigned char)p[1]))) {
			if (prevq) {
				*why = "bad repetition operator (a repetition "
				    "of a repetition)";
				return -1;
			}
			prevq = quant = 1;
			if (*p != '{') {
				buf_append(out, p, 1);
				continue;
			}
			lo = hi = strtoul(p + 1, &ce, 10);
			if (*ce == ',') {
				ce++;
				if (isdigit((unsigned char)*ce))
					hi = strtoul(ce, &ce, 10);
			}
			if (*ce != '}') {
				*why = "bad repetition count";
				return -1;
			}
			w = lo > hi ? lo : hi;
			if (w > RE_MAX_REPEAT || (w > 0 && last >
			    RE_MAX_REPEAT / w)) {
				*why = "repetition count over 1000 (RE2's "
				    "limit; nested counts multiply)";
				return -1;
			}
			if (last * w > lvl[depth])
				lvl[depth] = last * w;
			buf_append(out, p, (size_t)(ce + 1 - p));
			p = ce;
			continue;
		}
		prevq = 0;
		if (*p == '(') {
			if (depth == RE_MAX_DEPTH) {
				*why = "groups nested too deeply";
				return -1;
			}
			lvl[++depth] = 1;
		} else if (*p == ')' && depth > 0) {
			/* the group's weight, for a count that follows */
			last = lvl[depth--];
			if (last > lvl[depth])
				lvl[depth] = last;
		} else
			last = 1;
		if (*p == '\\') {
			p++;
			if (*p == '\0') {
				*why = "trailing backslash";
				return -1;
			}
			if ((cls = re_class(*p, 0)) != NULL)
				buf_puts(out, cls);
			else if (strchr(".[](){}*+?|^$\\", *p) != NULL) {
				buf_append(out, p - 1, 2);
			} else if (ispunct((unsigned char)*p))
				buf_append(out, p, 1);
			else {
				*why = "escape not supported (canaryd "
				    "matches with POSIX extended regexes)";
				return -1;
			}
			continue;
		}
		if (*p == '(' && p[1] == '?') {
			if (p[2] != ':') {
				*why = "(?...) groups and flags are not "
				    "supported (POSIX extended regexes)";
				return -1;
			}
			buf_puts(out, "(");
			p += 2;
			continue;
		}
		if (*p != '[') {
			buf_append(out, p, 1);
			continue;
		}
		/* A bracket expression: rebuild it so ']' comes first and
		 * '-' last, which is where POSIX wants them literal. */
		neg = rbr = dash = caret = 0;
		buf_init(&body);
		p++;
		if (*p == '^') {
			neg = 1;
			p++;
		}
		if (*p == ']') {
			rbr = 1;
			p++;
		}
		for (; *p != '\0' && *p != ']'; p++) {
			if (*p == '[' && p[1] == ':') {
				const char *e = strstr(p + 2, ":]");

				if (e == NULL) {
					buf_free(&body);
					*why = "unterminated [: :] class";
					return -1;
				}
				buf_append(&body, p, (size_t)(e + 2 - p));
				p = e + 1;
				continue;
			}
			if (*p != '\\') {
				buf_append(&body, p, 1);
				continue;
			}
			p++;
			if ((cls = re_class(*p, 1)) != NULL)
				buf_puts(&body, cls);
			else if (*p == ']')
				rbr = 1;
			else if (*p == '-')
				dash = 1;
			else if (*p == '^')
				caret = 1;
			else if (*p != '\0' && ispunct((unsigned char)*p))
				buf_append(&body, p, 1);
			else {
				buf_free(&body);
				*why = "escape not supported inside [] (POSIX "
				    "extended regexes)";
				return -1;
			}
		}
		if (*p != ']') {
			buf_free(&body);
			*why = "missing ]";
			return -1;
		}
		if (caret && body.b_len == 0 && !rbr && !dash) {
			/* [\^] alone: a plain escaped caret does it */
			buf_puts(out, neg ? "[^^]" : "\\^");
			buf_free(&body);
			continue;
		}
		buf_puts(out, neg ? "[^" : "[");
		if (rbr)
			buf_puts(out, "]");
		if (body.b_len > 0)
			buf_append(out, body.b_data, body.b_len);
		if (caret)
			buf_puts(out, "^");
		if (dash)
			buf_puts(out, "-");
		buf_puts(out, "]");
		buf_free(&body);
	}
	if (out->b_oom) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/* Compile text as a full-match POSIX ERE into re, freed with the arena. */
static int
re_compile(struct cw *w, yaml_node_t *n, regex_t *re, const char *text,
    bool icase)
{
	struct buf b;
	const char *why;
	char msg[160];
	int rc;

	buf_init(&b);
	buf_puts(&b, "^(");
	if (re_translate(&b, text, &why) == -1) {
		w_err(w, n, "bad regex \"%.*s\": %s", CONF_QUOTE_MAX, text,
		    why);
		buf_free(&b);
		return -1;
	}
	buf_puts(&b, ")$");
	if (b.b_oom) {
		buf_free(&b);
		w_oom(w);
		return -1;
	}
	rc = regcomp(re, b.b_data, REG_EXTENDED | REG_NOSUB |
	    (icase ? REG_ICASE : 0));
	buf_free(&b);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof(msg));
		w_err(w, n, "bad regex \"%.*s\": %s", CONF_QUOTE_MAX, text,
		    msg);
		return -1;
	}
	if (arena_defer(w->w_arena, re_free, re) == -1) {
		regfree(re);
		w_oom(w);
		return -1;
	}
	return 0;
}

/* ---- the generic walk --------------------------------------------------- */

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
	case CK_PCT:
		if (f->f_flags & CF_DEF)
			store_int(p, f->f_size, f->f_def);
		break;
	case CK_ENUM:
		if (!(f->f_flags & CF_DEF))
			break;
		if (f->f_flags & CF_ENUMSTR) {
			if ((*(char **)p = arena_strdup(w->w_arena,
			    f->f_defstr)) == NULL)
				w_oom(w);
		} else
			store_int(p, f->f_size, f->f_def);
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
			w_oom(w);
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
static void
msg_defaults(struct cw *w, const struct conf_msg *m, void *base)
{
	const struct conf_field *f;

	for (f = m->m_fields; f->f_name != NULL; f++) {
		if (f->f_kind == CK_MSG)
			msg_defaults(w, f->f_msg, (char *)base + f->f_off);
		else
			field_default(w, f, base);
	}
	if (m->m_init != NULL)
		m->m_init(w, base);
}

/* Record a cluster reference to resolve when all clusters are known. */
static void
ref_add(struct cw *w, yaml_node_t *v, const char *name, int *slot)
{
	struct conf_ref *r;
	size_t cap;

	if (w->w_nrefs == w->w_refcap) {
		cap = w->w_refcap == 0 ? 16 : w->w_refcap * 2;
		if ((r = reallocarray(w->w_refs, cap, sizeof(*r))) == NULL) {
			w_oom(w);
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
		w_oom(w);
		return;
	}
	w->w_nrefs++;
}

static void
walk_seq(struct cw *w, const struct conf_field *f, yaml_node_t *v, void *p,
    void *base)
{
	size_t n, i, old;
	char *arr;

	if (want_seq(w, v) == -1)
		return;
	n = seq_len(v);
	if ((f->f_flags & CF_NONEMPTY) && n == 0) {
		w_err(w, v, "want at least one item");
		return;
	}
	if (f->f_max > 0 && n > (size_t)f->f_max) {
		w_err(w, v, "too many items: %zu, canaryd supports at most "
		    "%" PRId64 "%s%s", n, f->f_max, f->f_why ? " " : "",
		    f->f_why ? f->f_why : "");
		return;
	}
	if (f->f_kind == CK_ARR)
		arr = p;
	else if (n == 0)
		arr = NULL;
	else if ((arr = arena_allocarray(w->w_arena, n, f->f_elsize)) ==
	    NULL) {
		w_oom(w);
		return;
	}
	json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			json_raw(w, ",");
		old = path_index(w, i);
		walk_msg(w, seq_item(w, v, i), f->f_msg, arr + i * f->f_elsize,
		    NULL);
		path_pop(w, old);
	}
	json_raw(w, "]");
	if (f->f_kind == CK_SEQ)
		*(void **)p = arr;
	*(size_t *)((char *)base + f->f_cnt) = n;
}

static void
walk_strseq(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *p, void *base)
{
	size_t n, i, old;
	char **arr = NULL;
	yaml_node_t *it;

	if (want_seq(w, v) == -1)
		return;
	n = seq_len(v);
	if ((f->f_flags & CF_NONEMPTY) && n == 0) {
		w_err(w, v, "want at least one item");
		return;
	}
	if (n > 0 && (arr = arena_allocarray(w->w_arena, n, sizeof(*arr))) ==
	    NULL) {
		w_oom(w);
		return;
	}
	json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		it = seq_item(w, v, i);
		old = path_index(w, i);
		if (i > 0)
			json_raw(w, ",");
		if (visit(w, it) &&
		    (arr[i] = get_str(w, it, f->f_flags, f->f_max)) != NULL)
			json_str(w, sval(it), slen(it));
		path_pop(w, old);
	}
	json_raw(w, "]");
	*(char ***)p = arr;
	*(size_t *)((char *)base + f->f_cnt) = n;
}

static void
walk_any(struct cw *w, const struct conf_field *f, yaml_node_t *v, void *p)
{
	const struct conf_any *an;
	yaml_node_t *t;
	const char *name, *slash;
	char wb[CONF_QUOTE_MAX + 8], url[256];
	size_t old;

	if (v->type != YAML_MAPPING_NODE) {
		w_err(w, v, "want a mapping with \"@type\", got %s",
		    node_what(v, wb, sizeof(wb)));
		return;
	}
	if ((t = map_get(w, v, "@type")) == NULL) {
		w_err(w, v, "missing \"@type\" (want \"" CONF_TYPE_PREFIX
		    "%s\")", f->f_any[0].an_type);
		return;
	}
	old = path_push(w, "@type");
	if (want_scalar(w, t, "a type URL") == -1) {
		path_pop(w, old);
		return;
	}
	/* Protobuf takes any URL prefix: the message name follows the
	 * last '/'. */
	name = sval(t);
	if ((slash = strrchr(name, '/')) == NULL) {
		w_err(w, t, "bad type URL \"%.*s\": want \"" CONF_TYPE_PREFIX
		    "%s\"", CONF_QUOTE_MAX, name, f->f_any[0].an_type);
		path_pop(w, old);
		return;
	}
	name = slash + 1;
	for (an = f->f_any; an->an_type != NULL; an++)
		if (strcmp(an->an_type, name) == 0)
			break;
	if (an->an_type == NULL) {
		w_err(w, t, "%s %.*s is not supported by canaryd (want %s)",
		    f->f_why, CONF_QUOTE_MAX, name, f->f_any[0].an_type);
		path_pop(w, old);
		return;
	}
	path_pop(w, old);
	snprintf(url, sizeof(url), CONF_TYPE_PREFIX "%s", an->an_type);
	walk_msg(w, v, an->an_msg, p, url);
}

static void
walk_field(struct cw *w, const struct conf_field *f, yaml_node_t *k,
    yaml_node_t *v, void *base)
{
	const struct conf_enum_val *ev;
	void *p = (char *)base + f->f_off;
	struct cd_pos *pos;
	int64_t i64;
	double d;
	char *s, *end, num[32];
	bool b;

	switch (f->f_kind) {
	case CK_STR:
		if ((s = get_str(w, v, f->f_flags, f->f_max)) == NULL)
			return;
		if (!(f->f_flags & CF_NOSTORE))
			*(char **)p = s;
		json_str(w, sval(v), slen(v));	/* as written, like Envoy */
		break;
	case CK_UINT:
	case CK_INT64:
		if (get_int(w, v, f->f_min, f->f_max, &i64) == -1)
			return;
		if (!(f->f_flags & CF_NOSTORE))
			store_int(p, f->f_size, i64);
		/* proto JSON prints 64-bit integers as strings */
		buf_printf(&w->w_json, f->f_kind == CK_INT64 ? "\"%" PRId64
		    "\"" : "%" PRId64, i64);
		break;
	case CK_BOOL:
		if (get_bool(w, v, &b) == -1)
			return;
		if (!(f->f_flags & CF_NOSTORE))
			*(bool *)p = b;
		json_raw(w, b ? "true" : "false");
		break;
	case CK_DUR:
		if (get_dur(w, v, &i64) == -1)
			return;
		if ((f->f_flags & CF_GT) && i64 <= f->f_min) {
			conf_format_duration(num, sizeof(num), f->f_min);
			w_err(w, v, "must be greater than %s", num);
			return;
		}
		if (!(f->f_flags & CF_NOSTORE))
			*(int64_t *)p = (i64 == 0 && (f->f_flags &
			    CF_ZERO_UNSET)) ? CD_DUR_UNSET : i64;
		json_dur(w, i64);
		break;
	case CK_ENUM:
		if ((ev = get_enum(w, v, f->f_enum)) == NULL)
			return;
		if (f->f_flags & CF_NOSTORE)
			;
		else if (f->f_flags & CF_ENUMSTR) {
			if ((*(char **)p = arena_strdup(w->w_arena,
			    ev->ev_name)) == NULL)
				w_oom(w);
		} else
			store_int(p, f->f_size, ev->ev_value);
		json_str(w, ev->ev_name, strlen(ev->ev_name));
		break;
	case CK_PCT:
		if (want_scalar(w, v, "a number") == -1)
			return;
		errno = 0;
		d = strtod(sval(v), &end);
		if (slen(v) == 0 || *end != '\0' || errno != 0 || isnan(d) ||
		    isspace((unsigned char)sval(v)[0])) {
			w_err(w, v, "bad number \"%.*s\"", CONF_QUOTE_MAX,
			    sval(v));
			return;
		}
		if (d < (double)f->f_min || d > (double)f->f_max) {
			w_err(w, v, "%g is out of range: must be %" PRId64
			    "..%" PRId64, d, f->f_min, f->f_max);
			return;
		}
		store_int(p, f->f_size, (int64_t)(d + 0.5));
		/* the shortest form that reads back the same: 33.3 */
		snprintf(num, sizeof(num), "%.15g", d);
		if (strtod(num, NULL) != d)
			snprintf(num, sizeof(num), "%.17g", d);
		json_raw(w, num);
		break;
	case CK_DOUBLE:
		if (get_double(w, v, f->f_dmin, f->f_dmax, &d) == -1)
			return;
		if (!(f->f_flags & CF_NOSTORE))
			*(double *)p = d;
		json_double(w, d);
		break;
	case CK_MSG:
		walk_msg(w, v, f->f_msg, p, NULL);
		break;
	case CK_SEQ:
	case CK_ARR:
		walk_seq(w, f, v, p, base);
		break;
	case CK_STRSEQ:
		walk_strseq(w, f, v, p, base);
		break;
	case CK_ANY:
		walk_any(w, f, v, p);
		break;
	case CK_CLREF:
		if ((s = get_str(w, v, CF_NONEMPTY, CD_NAME_MAX - 1)) == NULL)
			return;
		if (f->f_flags & CF_NAME)
			*(char **)((char *)base + f->f_cnt) = s;
		ref_add(w, v, s, p);
		json_str(w, s, strlen(s));
		break;
	case CK_STRUCT:
		json_yaml(w, v, 0);
		break;
	case CK_FN:
		f->f_fn(w, f, v, base);
		break;
	case CK_REJECT:
		w_err(w, k, "not supported by canaryd%s%s",
		    f->f_why != NULL ? ": " : "", f->f_why != NULL ?
		    f->f_why : "");
		return;
	}
	if (f->f_flags & CF_POS) {
		pos = (struct cd_pos *)((char *)base + f->f_pos);
		pos->p_file = w->w_conf->c_path;
		pos->p_line = (int)v->start_mark.line + 1;
		pos->p_col = (int)v->start_mark.column + 1;
	}
}

/* "a, b or c" of a oneof group, REJECT members left out. */
static void
oneof_names(const struct conf_msg *m, int group, char *buf, size_t len)
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

static void
check_oneofs(struct cw *w, yaml_node_t *n, const struct conf_msg *m,
    uint64_t seen, yaml_node_t **keys)
{
	const struct conf_field *f, *g;
	char names[256];
	size_t i, j, old;
	int cnt, req;

	for (i = 0; m->m_fields[i].f_name != NULL; i++) {
		f = &m->m_fields[i];
		if (f->f_oneof == 0)
			continue;
		/* handle each group once, at its first member */
		for (j = 0; j < i; j++)
			if (m->m_fields[j].f_oneof == f->f_oneof)
				break;
		if (j < i)
			continue;
		cnt = req = 0;
		for (j = i; m->m_fields[j].f_name != NULL; j++) {
			g = &m->m_fields[j];
			if (g->f_oneof != f->f_oneof)
				continue;
			req |= (g->f_flags & CF_REQUIRED) != 0;
			if (!(seen & ((uint64_t)1 << j)))
				continue;
			if (++cnt == 2) {
				oneof_names(m, f->f_oneof, names,
				    sizeof(names));
				old = path_push(w, g->f_name);
				w_err(w, keys[j], "only one of %s may be set",
				    names);
				path_pop(w, old);
			}
		}
		if (cnt == 0 && req) {
			oneof_names(m, f->f_oneof, names, sizeof(names));
			w_err(w, n, "one of %s is required", names);
		}
	}
}

/*
 * Walk mapping n as message m into base.  anytype: the "@type" of an Any
 * whose fields these are (NULL otherwise).
 */
static void
walk_msg(struct cw *w, yaml_node_t *n, const struct conf_msg *m, void *base,
    const char *anytype)
{
	struct conf_pair pairs[CONF_MAX_PAIRS];
	yaml_node_t *keys[64], *vals[64];
	const struct conf_field *f;
	char wb[CONF_QUOTE_MAX + 8];
	size_t np = 0, i, j, old;
	uint64_t seen = 0;
	int first = 1;

	msg_defaults(w, m, base);
	if (!visit(w, n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		w_err(w, n, "want a mapping (%s), got %s", m->m_name,
		    node_what(n, wb, sizeof(wb)));
		return;
	}
	if (map_collect(w, n, pairs, &np, 0, 0) == -1)
		return;

	/* Find each field's value: an explicit key wins over a merged
	 * one; a second explicit one is an error. */
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
				old = path_push(w, f->f_name);
				w_err(w, pairs[j].p_key, "duplicate field");
				path_pop(w, old);
			}
		}
	}
	for (j = 0; j < np; j++) {
		if (pairs[j].p_used || (anytype != NULL &&
		    strcmp(sval(pairs[j].p_key), "@type") == 0))
			continue;
		old = path_pushn(w, sval(pairs[j].p_key),
		    slen(pairs[j].p_key));
		w_err(w, pairs[j].p_key, "unknown field in %s", m->m_name);
		path_pop(w, old);
	}

	json_raw(w, "{");
	if (anytype != NULL) {
		json_raw(w, "\"@type\":");
		json_str(w, anytype, strlen(anytype));
		first = 0;
	}
	for (i = 0; m->m_fields[i].f_name != NULL && !w->w_stop; i++) {
		f = &m->m_fields[i];
		if (vals[i] == NULL || is_null(vals[i]))
			continue;
		seen |= (uint64_t)1 << i;
		if (!first)
			json_raw(w, ",");
		first = 0;
		json_str(w, f->f_name, strlen(f->f_name));
		json_raw(w, ":");
		old = path_push(w, f->f_name);
		if (visit(w, vals[i]))
			walk_field(w, f, keys[i], vals[i], base);
		path_pop(w, old);
	}
	json_raw(w, "}");
	if (w->w_stop)
		return;

	check_oneofs(w, n, m, seen, keys);
	for (i = 0; m->m_fields[i].f_name != NULL; i++) {
		f = &m->m_fields[i];
		if ((f->f_flags & CF_REQUIRED) && f->f_oneof == 0 &&
		    !(seen & ((uint64_t)1 << i))) {
			old = path_push(w, f->f_name);
			w_err(w, n, "missing required field");
			path_pop(w, old);
		}
	}
	if (m->m_done != NULL)
		m->m_done(w, n, base, seen);
}

/* Bit of field name in m's seen mask. */
static uint64_t
field_bit(const struct conf_msg *m, const char *name)
{
	size_t i;

	for (i = 0; m->m_fields[i].f_name != NULL; i++)
		if (strcmp(m->m_fields[i].f_name, name) == 0)
			return (uint64_t)1 << i;
	abort();	/* a typo in this file */
}

/*
 * A list canaryd allows one item in (listeners, filter chains, ...).
 * Walks item 0 into base; span gets its JSON's [start, end).  Returns 1
 * when an item was walked, 0 when the list is empty, -1 on error.
 */
static int
walk_one(struct cw *w, yaml_node_t *v, const struct conf_msg *m, void *base,
    const char *limit, int required, size_t *span)
{
	size_t n, old;

	if (want_seq(w, v) == -1)
		return -1;
	n = seq_len(v);
	if (n == 0) {
		if (required)
			w_err(w, v, "%s", limit);
		json_raw(w, "[]");
		return required ? -1 : 0;
	}
	if (n > 1) {
		old = path_index(w, 1);
		w_err(w, seq_item(w, v, 1), "%s", limit);
		path_pop(w, old);
	}
	json_raw(w, "[");
	old = path_index(w, 0);
	if (span != NULL)
		span[0] = w->w_json.b_len;
	walk_msg(w, seq_item(w, v, 0), m, base, NULL);
	if (span != NULL)
		span[1] = w->w_json.b_len;
	path_pop(w, old);
	json_raw(w, "]");
	return 1;
}

/* Every item of list v walked into the same target. */
static void
walk_each(struct cw *w, yaml_node_t *v, const struct conf_msg *m, void *base)
{
	size_t i, old;

	if (want_seq(w, v) == -1)
		return;
	json_raw(w, "[");
	for (i = 0; i < seq_len(v) && !w->w_stop; i++) {
		if (i > 0)
			json_raw(w, ",");
		old = path_index(w, i);
		walk_msg(w, seq_item(w, v, i), m, base, NULL);
		path_pop(w, old);
	}
	json_raw(w, "]");
}

/* ---- enums ------------------------------------------------------------ */

static const struct conf_enum enum_protocol = { "protocol",
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

static const struct conf_enum enum_not_found = {
    "cluster_not_found_response_code",
    (const struct conf_enum_val[]){ { "SERVICE_UNAVAILABLE", 503 },
    { "NOT_FOUND", 404 }, { "INTERNAL_SERVER_ERROR", 500 },
    { NULL, 0 } } };

/* A Struct value in Envoy, so printed as written: lower case. */
static const struct conf_enum enum_split = { "split mode",
    (const struct conf_enum_val[]){ { "exact", CD_SPLIT_EXACT },
    { "random", CD_SPLIT_RANDOM }, { NULL, 0 } } };

static const struct conf_enum enum_cluster_type = { "cluster type",
    (const struct conf_enum_val[]){ { "STATIC", CD_CT_STATIC },
    { "STRICT_DNS", CD_CT_STRICT_DNS }, { "LOGICAL_DNS", CONF_ENUM_NOSUP },
    { "EDS", CONF_ENUM_NOSUP }, { "ORIGINAL_DST", CONF_ENUM_NOSUP },
    { NULL, 0 } } };

static const struct conf_enum enum_lb = { "lb_policy",
    (const struct conf_enum_val[]){ { "ROUND_ROBIN", CD_LB_ROUND_ROBIN },
    { "LEAST_REQUEST", CONF_ENUM_NOSUP }, { "RING_HASH", CONF_ENUM_NOSUP },
    { "RANDOM", CD_LB_RANDOM }, { "MAGLEV", CONF_ENUM_NOSUP },
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

/* ---- messages walked by handlers (defined with the tables below) ------ */

static const struct conf_msg msg_listener, msg_cluster, msg_filter_chain,
    msg_filter, msg_route_config, msg_http_filter, msg_canaryd,
    msg_locality_eps, msg_lb_endpoint, msg_thresholds, msg_health_check,
    msg_access_log;

/* Targets of messages that have no struct of their own in conf-t.h. */
struct conf_thr {
	int			 t_prio;
	struct cd_thresholds	 t_th;
};

struct conf_hf {
	int	 hf_router;	/* the filter's typed_config was the router */
};

static void
pos_set(struct cw *w, struct cd_pos *pos, const yaml_node_t *n)
{
	pos->p_file = w->w_conf->c_path;
	pos->p_line = (int)n->start_mark.line + 1;
	pos->p_col = (int)n->start_mark.column + 1;
}

/* ---- field handlers (CK_FN) -------------------------------------------- */

static void
fn_listeners(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_conf *conf = base;
	struct cd_listener *l;

	(void)f;
	if ((l = arena_alloc(w->w_arena, sizeof(*l))) == NULL) {
		w_oom(w);
		return;
	}
	w->w_listener = l;
	if (walk_one(w, v, &msg_listener, l,
	    "canaryd needs exactly one listener", 1,
	    w->w_span_listener) == 1)
		conf->c_listener = l;
}

static void
fn_clusters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_conf *conf = base;
	struct cd_cluster *cl;
	yaml_node_t *it, *nn;
	size_t n, i, j, old;

	(void)f;
	if (want_seq(w, v) == -1)
		return;
	n = seq_len(v);
	if (n > CD_MAX_CLUSTERS) {
		w_err(w, v, "too many clusters: %zu, canaryd supports at most "
		    "%d (CD_MAX_CLUSTERS)", n, CD_MAX_CLUSTERS);
		return;
	}
	if (n > 0 && (conf->c_clusters = arena_allocarray(w->w_arena, n,
	    sizeof(*conf->c_clusters))) == NULL) {
		w_oom(w);
		return;
	}
	conf->c_nclusters = n;
	json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			json_raw(w, ",");
		old = path_index(w, i);
		w->w_span_clusters[i][0] = w->w_json.b_len;
		walk_msg(w, seq_item(w, v, i), &msg_cluster,
		    &conf->c_clusters[i], NULL);
		w->w_span_clusters[i][1] = w->w_json.b_len;
		path_pop(w, old);
	}
	json_raw(w, "]");
	w->w_cluster = NULL;

	for (i = 1; i < n && !w->w_stop; i++) {
		cl = &conf->c_clusters[i];
		for (j = 0; j < i && cl->cl_name != NULL; j++) {
			if (conf->c_clusters[j].cl_name == NULL ||
			    strcmp(conf->c_clusters[j].cl_name,
			    cl->cl_name) != 0)
				continue;
			it = seq_item(w, v, i);
			nn = map_get(w, it, "name");
			old = path_index(w, i);
			path_push(w, "name");
			w_err(w, nn != NULL ? nn : it, "duplicate cluster name "
			    "\"%s\" (also static_resources.clusters[%zu])",
			    cl->cl_name, j);
			path_pop(w, old);
			break;
		}
	}
}

/* Cluster.type: an enum, but a refused one must not pass for STATIC
 * (the default) and make every DNS name an error too. */
static void
fn_cluster_type(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct conf_field ef = *f;
	size_t nerr = w->w_nerrors;

	ef.f_kind = CK_ENUM;
	walk_field(w, &ef, NULL, v, base);
	if (w->w_nerrors != nerr)
		w->w_cluster_type_bad = 1;
}

static void
fn_filter_chains(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	(void)f;
	walk_one(w, v, &msg_filter_chain, base,
	    "canaryd supports exactly one filter chain", 1, NULL);
}

static void
fn_filters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	(void)f;
	walk_one(w, v, &msg_filter, base, "canaryd needs exactly one network "
	    "filter, the http_connection_manager", 1, NULL);
}

static void
fn_route_config(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	(void)f;
	w->w_span_routes[0] = w->w_json.b_len;
	walk_msg(w, v, &msg_route_config, base, NULL);
	w->w_span_routes[1] = w->w_json.b_len;
}

static void
fn_http_filters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct conf_hf hf;
	yaml_node_t *it;
	size_t i, n, old, nrouter = 0;

	(void)f;
	(void)base;
	if (want_seq(w, v) == -1)
		return;
	if ((n = seq_len(v)) == 0) {
		w_err(w, v, "the router filter (envoy.filters.http.router) is "
		    "required");
		return;
	}
	json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			json_raw(w, ",");
		it = seq_item(w, v, i);
		old = path_index(w, i);
		hf.hf_router = 0;
		walk_msg(w, it, &msg_http_filter, &hf, NULL);
		/* Only the router is accepted at all, so "router last"
		 * comes down to "one router". */
		if (hf.hf_router && nrouter++ > 0)
			w_err(w, it, "canaryd supports one router filter, the "
			    "last one");
		path_pop(w, old);
	}
	json_raw(w, "]");
}

static void
fn_validate_clusters(struct cw *w, const struct conf_field *f,
    yaml_node_t *v, void *base)
{
	bool b;

	(void)f;
	(void)base;
	if (get_bool(w, v, &b) == -1)
		return;
	w->w_validate_clusters = b;
	json_raw(w, b ? "true" : "false");
}

/* retry_on: comma-separated; tokens canaryd does not know are ignored, as
 * Envoy ignores them (gRPC ones, retriable-headers, ...). */
static void
fn_retry_on(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	static const struct {
		const char	*name;
		uint32_t	 bit;
	} tok[] = {
		{ "5xx", CD_RETRY_5XX },
		{ "gateway-error", CD_RETRY_GATEWAY_ERROR },
		{ "reset", CD_RETRY_RESET },
		{ "connect-failure", CD_RETRY_CONNECT_FAILURE },
		{ "retriable-4xx", CD_RETRY_RETRIABLE_4XX },
		{ "refused-stream", CD_RETRY_REFUSED_STREAM },
		{ "retriable-status-codes", CD_RETRY_RETRIABLE_CODES },
		{ "reset-before-request", CD_RETRY_RESET_BEFORE_REQUEST },
	};
	struct cd_retry_policy *rp = base;
	const char *p, *e, *end;
	size_t i, len;
	char *s;

	(void)f;
	if ((s = get_str(w, v, 0, 0)) == NULL)
		return;
	rp->rp_retry_on = 0;
	for (p = s; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		end = e;
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		len = (size_t)(end - p);
		for (i = 0; i < sizeof(tok) / sizeof(tok[0]); i++)
			if (strlen(tok[i].name) == len &&
			    memcmp(tok[i].name, p, len) == 0)
				rp->rp_retry_on |= tok[i].bit;
	}
	json_str(w, s, strlen(s));
}

static void
fn_retriable_codes(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_retry_policy *rp = base;
	size_t i, n, old;
	int64_t code;

	(void)f;
	if (want_seq(w, v) == -1)
		return;
	if ((n = seq_len(v)) > CD_MAX_RETRIABLE_CODES) {
		w_err(w, v, "too many status codes: %zu, canaryd supports at "
		    "most %d", n, CD_MAX_RETRIABLE_CODES);
		return;
	}
	json_raw(w, "[");
	for (i = 0; i < n; i++) {
		old = path_index(w, i);
		if (get_int(w, seq_item(w, v, i), 100, 599, &code) == 0) {
			rp->rp_codes[rp->rp_ncodes++] = (uint16_t)code;
			buf_printf(&w->w_json, "%s%" PRId64,
			    rp->rp_ncodes > 1 ? "," : "", code);
		}
		path_pop(w, old);
	}
	json_raw(w, "]");
}

/*
 * filter_metadata: namespace -> Struct.  "canaryd" is ours and strict
 * (f_msg says which keys, the route's by default); other namespaces
 * belong to other software and are only carried along.
 */
static void
fn_filter_metadata(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct conf_pair pairs[CONF_MAX_PAIRS];
	char wb[CONF_QUOTE_MAX + 8];
	yaml_node_t *k, *val;
	size_t np = 0, i, j, old;

	if (v->type != YAML_MAPPING_NODE) {
		w_err(w, v, "want a mapping of namespaces, got %s",
		    node_what(v, wb, sizeof(wb)));
		return;
	}
	if (map_collect(w, v, pairs, &np, 0, 0) == -1)
		return;
	json_raw(w, "{");
	for (i = 0; i < np && !w->w_stop; i++) {
		k = pairs[i].p_key;
		val = pairs[i].p_val;
		for (j = 0; j < i; j++)
			if (slen(pairs[j].p_key) == slen(k) &&
			    memcmp(sval(pairs[j].p_key), sval(k),
			    slen(k)) == 0)
				break;
		old = path_pushn(w, sval(k), slen(k));
		if (j < i) {
			if (!pairs[i].p_merged)
				w_err(w, k, "duplicate namespace");
			path_pop(w, old);
			continue;
		}
		if (i > 0)
			json_raw(w, ",");
		json_str(w, sval(k), slen(k));
		json_raw(w, ":");
		if (strcmp(sval(k), "canaryd") == 0)
			walk_msg(w, val, f->f_msg != NULL ? f->f_msg :
			    &msg_canaryd, base, NULL);
		else if (val->type == YAML_MAPPING_NODE)
			json_yaml(w, val, 1);
		else
			w_err(w, val, "want a mapping "
			    "(google.protobuf.Struct), got %s",
			    node_what(val, wb, sizeof(wb)));
		path_pop(w, old);
	}
	json_raw(w, "}");
}

static void
fn_endpoints(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	(void)f;
	walk_each(w, v, &msg_locality_eps, base);
}

/* lb_endpoints of every locality go into one cl_endpoints array. */
static void
fn_lb_endpoints(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_cluster *cl = base;
	yaml_node_t *it;
	size_t i, old;

	(void)f;
	if (want_seq(w, v) == -1)
		return;
	if (cl->cl_endpoints == NULL && (cl->cl_endpoints =
	    arena_allocarray(w->w_arena, CD_MAX_HOSTS,
	    sizeof(*cl->cl_endpoints))) == NULL) {
		w_oom(w);
		return;
	}
	json_raw(w, "[");
	for (i = 0; i < seq_len(v) && !w->w_stop; i++) {
		it = seq_item(w, v, i);
		old = path_index(w, i);
		if (cl->cl_nendpoints == CD_MAX_HOSTS) {
			w_err(w, it, "too many endpoints: canaryd supports at "
			    "most %d per cluster (CD_MAX_HOSTS)", CD_MAX_HOSTS);
			path_pop(w, old);
			break;
		}
		if (i > 0)
			json_raw(w, ",");
		walk_msg(w, it, &msg_lb_endpoint,
		    &cl->cl_endpoints[cl->cl_nendpoints++], NULL);
		path_pop(w, old);
	}
	json_raw(w, "]");
}

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

	(void)f;
	if (want_seq(w, v) == -1)
		return;
	json_raw(w, "[");
	for (i = 0; i < seq_len(v) && !w->w_stop; i++) {
		if (i > 0)
			json_raw(w, ",");
		it = seq_item(w, v, i);
		old = path_index(w, i);
		memset(&t, 0, sizeof(t));
		walk_msg(w, it, &msg_thresholds, &t, NULL);
		if (t.t_prio >= 0 && t.t_prio < CD_NPRIO) {
			if (given[t.t_prio])
				w_warn(w, it, "second thresholds entry for "
				    "priority %s ignored: the first one "
				    "counts, as in Envoy",
				    t.t_prio == CD_PRIO_HIGH ? "HIGH" :
				    "DEFAULT");
			else {
				given[t.t_prio] = true;
				cl->cl_thresholds[t.t_prio] = t.t_th;
			}
		}
		path_pop(w, old);
	}
	json_raw(w, "]");
}

static void
fn_health_checks(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_cluster *cl = base;
	struct cd_health_check *hc;

	(void)f;
	if ((hc = arena_alloc(w->w_arena, sizeof(*hc))) == NULL) {
		w_oom(w);
		return;
	}
	if (walk_one(w, v, &msg_health_check, hc,
	    "canaryd supports one health check per cluster", 0, NULL) == 1)
		cl->cl_hc = hc;
}

static void
fn_access_log(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_admin *a = base;

	(void)f;
	/* the logger tables write into a char * slot: the admin's path */
	walk_one(w, v, &msg_access_log, &a->a_access_log_path,
	    "canaryd supports one admin access log", 0, NULL);
}

/* ---- hooks: derived defaults and cross-field checks -------------------- */

static void
admin_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_admin *a = base;

	(void)w;
	(void)n;
	(void)seen;
	a->a_set = true;
}

static void
router_init(struct cw *w, void *base)
{
	struct conf_hf *hf = base;

	(void)w;
	hf->hf_router = 1;
}

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

static void
vhost_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_vhost *vh = base;
	struct conf_domain *dv, *o;
	yaml_node_t *dn, *it;
	size_t i, k, old, cap;
	const char *d;

	(void)seen;
	dn = map_get(w, n, "domains");
	for (i = 0; i < vh->vh_ndomains && !w->w_stop; i++) {
		if ((d = vh->vh_domains[i]) == NULL)
			continue;
		it = dn != NULL && dn->type == YAML_SEQUENCE_NODE &&
		    i < seq_len(dn) ? seq_item(w, dn, i) : n;
		old = path_push(w, "domains");
		path_index(w, i);
		if (!domain_is_valid(d))
			w_err(w, it, "bad domain \"%s\": a wildcard must be "
			    "the first or last character", d);
		for (k = 0; k < w->w_ndomains; k++) {
			o = &w->w_domains[k];
			if (strcmp(o->d_name, d) != 0)
				continue;
			if (strcmp(d, "*") == 0 && o->d_vhost != w->w_nvhosts)
				w_err(w, it, "only one virtual host may "
				    "contain \"*\" (virtual_hosts[%zu] has it "
				    "too)", o->d_vhost);
			else
				w_err(w, it, "duplicate domain \"%s\" (also in "
				    "virtual_hosts[%zu], line %d)", d,
				    o->d_vhost, o->d_line);
			break;
		}
		path_pop(w, old);
		if (w->w_ndomains == w->w_domcap) {
			cap = w->w_domcap == 0 ? 16 : w->w_domcap * 2;
			if ((dv = reallocarray(w->w_domains, cap,
			    sizeof(*dv))) == NULL) {
				w_oom(w);
				return;
			}
			w->w_domains = dv;
			w->w_domcap = cap;
		}
		dv = &w->w_domains[w->w_ndomains++];
		dv->d_name = d;
		dv->d_vhost = w->w_nvhosts;
		dv->d_line = (int)it->start_mark.line + 1;
	}
	w->w_nvhosts++;
	/* A route without a retry policy of its own takes its vhost's. */
	for (i = 0; i < vh->vh_nroutes; i++)
		if (!vh->vh_routes[i].rt_retry.rp_set)
			vh->vh_routes[i].rt_retry = vh->vh_retry;
}

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

/*
 * The clusters "always" and "never" pick: rollout's canary and stable
 * when set, else the smallest file weight (the last on ties) is the
 * canary and the largest (the first on ties) the stable one, so 90/10
 * and 100/0 both make the second cluster the canary.
 */
static void
route_canary_stable(struct cd_route *rt)
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

static void
route_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route *rt = base;

	(void)seen;
	pos_set(w, &rt->rt_pos, n);
	route_canary_stable(rt);
}

static const struct conf_msg msg_route_action, msg_weighted, msg_match,
    msg_str_match, msg_header, msg_query, msg_backoff;

static void
route_action_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route *rt = base;

	(void)w;
	(void)n;
	rt->rt_action = (seen & field_bit(&msg_route_action,
	    "weighted_clusters")) ? CD_RA_WEIGHTED : CD_RA_CLUSTER;
}

static void
direct_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route *rt = base;

	(void)w;
	(void)n;
	(void)seen;
	rt->rt_action = CD_RA_DIRECT;
	rt->rt_direct_body_len = rt->rt_direct_body != NULL ?
	    strlen(rt->rt_direct_body) : 0;
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
	cn = map_get(w, n, "clusters");
	if (rt->rt_nwc > 0 && (sum == 0 || sum > UINT32_MAX)) {
		old = path_push(w, "clusters");
		w_err(w, cn != NULL ? cn : n, sum == 0 ?
		    "the sum of the weights must be greater than 0" :
		    "the sum of the weights must be at most 4294967295");
		path_pop(w, old);
	}
	if ((seen & field_bit(&msg_weighted, "total_weight")) && sum > 0 &&
	    rt->rt_total_weight != sum &&
	    (tn = map_get(w, n, "total_weight")) != NULL) {
		old = path_push(w, "total_weight");
		w_warn(w, tn, "total_weight %" PRIu64 " differs from the sum "
		    "of the weights %" PRIu64 ": total_weight is deprecated "
		    "(ignored by Envoy since 1.24); the sum is used",
		    rt->rt_total_weight, sum);
		path_pop(w, old);
	}
	rt->rt_total_weight = sum;
	if (w->w_nsplits >= CD_MAX_SPLITS)
		w_err(w, n, "too many weighted_clusters routes: canaryd "
		    "supports at most %d (CD_MAX_SPLITS)", CD_MAX_SPLITS);
	else
		rt->rt_wi = (int)w->w_nsplits++;
}

/* ---- canaryd route metadata (sticky, override, fallback, rollout) ---- */

static const struct conf_msg msg_sticky, msg_rollout;

/* The value node of key in mapping n (explicit keys only), else n. */
static yaml_node_t *
map_val(struct cw *w, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *pp = map_pair(w, n, key);

	return pp == NULL ? n : node_get(w, pp->value);
}

/* An error about field (under the current path), reported at node at. */
static void
field_err(struct cw *w, const yaml_node_t *at, const char *field,
    const char *msg)
{
	size_t old = path_push(w, field);

	w_err(w, at, "%s", msg);
	path_pop(w, old);
}

/* The key node of key in mapping n (explicit keys only), else n. */
static yaml_node_t *
map_key(struct cw *w, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *pp = map_pair(w, n, key);

	return pp == NULL ? n : node_get(w, pp->key);
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

#define CANARY_ROUTE(p, m)						\
	((struct cd_route *)(void *)((char *)(p) -			\
	offsetof(struct cd_route, m)))

/* sticky.seed: any uint64 (proto JSON prints it as a string). */
static void
fn_sticky_seed(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_sticky *st = base;
	const char *s;
	uint64_t x = 0;
	size_t i, len;

	(void)f;
	if (want_scalar(w, v, "an integer") == -1)
		return;
	s = sval(v);
	len = slen(v);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) ||
		    x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			break;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (len == 0 || i < len) {
		w_err(w, v, "bad number \"%.*s\": want an integer "
		    "0..18446744073709551615", CONF_QUOTE_MAX, s);
		return;
	}
	st->st_seed = x;
	buf_printf(&w->w_json, "\"%" PRIu64 "\"", x);
}

static void
sticky_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	static const char sfx[] = ".metadata.filter_metadata.canaryd.sticky";
	struct cd_sticky *st = base;
	struct cd_route *rt = CANARY_ROUTE(base, rt_sticky);
	size_t len, old;

	st->st_set = true;
	if (st->st_cookie != NULL && !is_token(st->st_cookie)) {
		old = path_push(w, "cookie");
		w_err(w, map_get(w, n, "cookie") != NULL ?
		    map_get(w, n, "cookie") : n,
		    "not a valid cookie name: must be an HTTP token");
		path_pop(w, old);
	}
	if (st->st_header != NULL && !is_token(st->st_header)) {
		old = path_push(w, "header");
		w_err(w, map_get(w, n, "header") != NULL ?
		    map_get(w, n, "header") : n,
		    "not a valid header name: must be an HTTP token");
		path_pop(w, old);
	}
	if (st->st_set_cookie && st->st_cookie == NULL) {
		old = path_push(w, "set_cookie");
		w_err(w, map_key(w, n, "set_cookie"),
		    "only allowed with cookie");
		path_pop(w, old);
	}
	if (seen & field_bit(&msg_sticky, "seed"))
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

	if ((s = get_str(w, v, CF_NONEMPTY, CD_NAME_MAX - 1)) == NULL)
		return;
	json_str(w, sval(v), slen(v));
	/* not a weighted route: canaryd_done() says so, once */
	if (rt->rt_action != CD_RA_WEIGHTED)
		return;
	for (i = 0; i < rt->rt_nwc; i++)
		if (rt->rt_wc[i].wc_name != NULL &&
		    strcmp(rt->rt_wc[i].wc_name, s) == 0) {
			*slot = (int)i;
			return;
		}
	w_err(w, v, "\"%.*s\" is not one of this route's weighted_clusters",
	    CONF_QUOTE_MAX, s);
}

/* rollout.steps: canary weights in percent, 1..100, strictly rising. */
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

	(void)f;
	if (want_seq(w, v) == -1)
		return;
	n = seq_len(v);
	if (n == 0) {
		w_err(w, v, "want at least one item");
		return;
	}
	if (n > CD_MAX_ROLLOUT_STEPS) {
		w_err(w, v, "too many items: %zu, canaryd supports at most %d "
		    "(CD_MAX_ROLLOUT_STEPS)", n, CD_MAX_ROLLOUT_STEPS);
		return;
	}
	json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		it = seq_item(w, v, i);
		old = path_index(w, i);
		if (i > 0)
			json_raw(w, ",");
		if (!visit(w, it) || get_int(w, it, 1, 100, &x) == -1) {
			bad = 1;
			json_raw(w, "null");
		} else {
			steps[i] = (uint8_t)x;
			buf_printf(&w->w_json, "%" PRId64, x);
			if (i > 0 && !bad && steps[i] <= steps[i - 1]) {
				w_err(w, it, "%d is not greater than the "
				    "step before it (%d): steps must rise",
				    steps[i], steps[i - 1]);
				bad = 1;
			}
		}
		path_pop(w, old);
	}
	json_raw(w, "]");
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
		field_err(w, map_val(w, n, "stable"), "stable",
		    "must not be the canary cluster");
}

/* Cross-field rules of metadata.filter_metadata.canaryd; base: the route. */
static void
canaryd_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	static const char *const weighted_only[] = { "sticky",
	    "override_header", "override_cookie", "rollout", NULL };
	struct cd_route *rt = base;
	yaml_node_t *k;
	size_t i, old;

	for (i = 0; weighted_only[i] != NULL; i++) {
		if (rt->rt_action != CD_RA_WEIGHTED &&
		    (seen & field_bit(&msg_canaryd, weighted_only[i])))
			field_err(w, map_key(w, n, weighted_only[i]),
			    weighted_only[i], "only allowed on a route with "
			    "weighted_clusters");
	}
	if (rt->rt_action == CD_RA_DIRECT &&
	    (seen & field_bit(&msg_canaryd, "fallback")))
		field_err(w, map_key(w, n, "fallback"), "fallback", "only "
		    "allowed on a route with cluster or weighted_clusters");
	if (rt->rt_override_header != NULL &&
	    !is_token(rt->rt_override_header))
		field_err(w, map_val(w, n, "override_header"),
		    "override_header", "not a valid header name: must be an "
		    "HTTP token");
	if (rt->rt_override_cookie != NULL &&
	    !is_token(rt->rt_override_cookie))
		field_err(w, map_val(w, n, "override_cookie"),
		    "override_cookie", "not a valid cookie name: must be an "
		    "HTTP token");
	if (rt->rt_action != CD_RA_WEIGHTED ||
	    !(seen & field_bit(&msg_canaryd, "rollout")))
		return;
	/* The admin endpoints (/canary/<route>/...) address it by name. */
	k = map_key(w, n, "rollout");
	old = path_push(w, "rollout");
	if (rt->rt_name == NULL)
		w_err(w, k, "the route needs a name: /canary/<name>/... "
		    "addresses the rollout by it");
	else {
		for (i = 0; i < w->w_nrollouts; i++)
			if (strcmp(w->w_rollout_names[i], rt->rt_name) == 0)
				break;
		if (i < w->w_nrollouts)
			w_err(w, k, "another route with a rollout is named "
			    "\"%.*s\" (line %d): names of routes with a "
			    "rollout must be unique", CONF_QUOTE_MAX,
			    rt->rt_name, w->w_rollout_lines[i]);
		else if (w->w_nrollouts < CD_MAX_SPLITS) {
			w->w_rollout_names[w->w_nrollouts] = rt->rt_name;
			w->w_rollout_lines[w->w_nrollouts++] =
			    (int)k->start_mark.line + 1;
		}
	}
	path_pop(w, old);
}

/* fallback: a cluster that must exist even with validate_clusters off,
 * since it is only used when something already went wrong. */
static void
fn_fallback(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	char *s;
	size_t n = w->w_nrefs;

	if ((s = get_str(w, v, CF_NONEMPTY, CD_NAME_MAX - 1)) == NULL)
		return;
	ref_add(w, v, s, (int *)(void *)((char *)base + f->f_off));
	if (w->w_nrefs > n)
		w->w_refs[n].r_strict = 1;
	json_str(w, s, strlen(s));
}

/* The regex node under field (safe_regex.regex), for error positions. */
static yaml_node_t *
regex_node(struct cw *w, yaml_node_t *n, const char *field)
{
	yaml_node_t *r;

	if ((r = map_get(w, map_get(w, n, field), "regex")) != NULL)
		return r;
	return n;
}

static void
match_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route_match *rm = base;
	const char *v;
	size_t old;

	if (seen & field_bit(&msg_match, "prefix"))
		rm->rm_kind = CD_PM_PREFIX;
	else if (seen & field_bit(&msg_match, "path"))
		rm->rm_kind = CD_PM_PATH;
	else if (seen & field_bit(&msg_match, "safe_regex"))
		rm->rm_kind = CD_PM_REGEX;
	else if (seen & field_bit(&msg_match, "path_separated_prefix"))
		rm->rm_kind = CD_PM_SEP_PREFIX;
	if ((v = rm->rm_value) == NULL)
		return;
	rm->rm_len = strlen(v);
	if (rm->rm_kind == CD_PM_REGEX) {
		/* Envoy ignores case_sensitive for safe_regex. */
		old = path_push(w, "safe_regex.regex");
		re_compile(w, regex_node(w, n, "safe_regex"), &rm->rm_re, v,
		    false);
		path_pop(w, old);
	} else if (rm->rm_kind == CD_PM_SEP_PREFIX && (rm->rm_len == 0 ||
	    strpbrk(v, "?#") != NULL || v[rm->rm_len - 1] == '/')) {
		old = path_push(w, "path_separated_prefix");
		w_err(w, map_get(w, n, "path_separated_prefix"), "bad prefix "
		    "\"%s\": must not contain '?' or '#' nor end with '/'", v);
		path_pop(w, old);
	}
}

static void
str_match_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_str_match *sm = base;
	size_t old;

	if (seen & field_bit(&msg_str_match, "exact"))
		sm->sm_kind = CD_SM_EXACT;
	else if (seen & field_bit(&msg_str_match, "prefix"))
		sm->sm_kind = CD_SM_PREFIX;
	else if (seen & field_bit(&msg_str_match, "suffix"))
		sm->sm_kind = CD_SM_SUFFIX;
	else if (seen & field_bit(&msg_str_match, "contains"))
		sm->sm_kind = CD_SM_CONTAINS;
	else if (seen & field_bit(&msg_str_match, "safe_regex"))
		sm->sm_kind = CD_SM_REGEX;
	if (sm->sm_value == NULL)
		return;
	sm->sm_len = strlen(sm->sm_value);
	if (sm->sm_kind == CD_SM_REGEX) {
		old = path_push(w, "safe_regex.regex");
		re_compile(w, regex_node(w, n, "safe_regex"), &sm->sm_re,
		    sm->sm_value, sm->sm_ignore_case);
		path_pop(w, old);
	}
}

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

	if (seen & field_bit(&msg_header, "string_match")) {
		hm->hm_kind = CD_HM_STRING;
		return;
	}
	for (i = 0; i < sizeof(old_forms) / sizeof(old_forms[0]); i++) {
		if (!(seen & field_bit(&msg_header, old_forms[i].field)))
			continue;
		hm->hm_kind = CD_HM_STRING;
		hm->hm_str.sm_kind = old_forms[i].kind;
		if (hm->hm_str.sm_value == NULL)
			return;
		hm->hm_str.sm_len = strlen(hm->hm_str.sm_value);
		if (old_forms[i].kind == CD_SM_REGEX) {
			old = path_push(w, "safe_regex_match.regex");
			re_compile(w, regex_node(w, n, "safe_regex_match"),
			    &hm->hm_str.sm_re, hm->hm_str.sm_value, false);
			path_pop(w, old);
		}
		return;
	}
	if (seen & field_bit(&msg_header, "range_match"))
		hm->hm_kind = CD_HM_RANGE;
	else if (seen & field_bit(&msg_header, "present_match"))
		hm->hm_kind = CD_HM_PRESENT;
	else {
		/* no specifier: Envoy matches on presence */
		hm->hm_kind = CD_HM_PRESENT;
		hm->hm_present = true;
	}
}

static void
query_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_query_match *qm = base;
	size_t old;

	if (seen & field_bit(&msg_query, "string_match")) {
		qm->qm_present = false;
		return;
	}
	if ((seen & field_bit(&msg_query, "present_match")) &&
	    !qm->qm_present) {
		/* Envoy's matcher then never matches: surely a mistake. */
		old = path_push(w, "present_match");
		w_err(w, map_get(w, n, "present_match"), "present_match: "
		    "false never matches (as in Envoy); remove the matcher");
		path_pop(w, old);
		return;
	}
	/* present_match: true, or no specifier: the parameter is there */
	qm->qm_present = true;
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

static void
retry_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_retry_policy *rp = base;

	(void)w;
	(void)n;
	(void)seen;
	rp->rp_set = true;
}

static void
backoff_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_retry_policy *rp = base;
	size_t old;

	if (rp->rp_backoff_base == CD_DUR_UNSET)
		return;
	if (!(seen & field_bit(&msg_backoff, "max_interval")))
		rp->rp_backoff_max = rp->rp_backoff_base > INT64_MAX / 10 ?
		    INT64_MAX : rp->rp_backoff_base * 10;
	else if (rp->rp_backoff_max != CD_DUR_UNSET &&
	    rp->rp_backoff_max < rp->rp_backoff_base) {
		old = path_push(w, "max_interval");
		w_err(w, map_get(w, n, "max_interval"), "must not be less "
		    "than base_interval");
		path_pop(w, old);
	}
}

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
	msg_defaults(w, &msg_thresholds, &t);
	for (p = 0; p < CD_NPRIO; p++)
		cl->cl_thresholds[p] = t.t_th;
	/* Percent's own default is 0 (healthy_panic_threshold: {}). */
	cl->cl_panic_threshold = 50;
}

static void
cluster_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_cluster *cl = base;
	char *p;

	(void)seen;
	pos_set(w, &cl->cl_pos, n);
	if (cl->cl_name == NULL)
		return;
	if ((cl->cl_stat_name = arena_strdup(w->w_arena, cl->cl_name)) ==
	    NULL) {
		w_oom(w);
		return;
	}
	for (p = cl->cl_stat_name; *p != '\0'; p++)
		if (*p == ':')
			*p = '_';
}

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
	an = map_get(w, n, "address");
	old = path_push(w, "address");
	w_err(w, an != NULL ? an : n, "a STATIC cluster needs an IP address, "
	    "not \"%s\" (type: STRICT_DNS resolves names)", ep->ep_address);
	path_pop(w, old);
}

static void
hc_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_health_check *hc = base;

	(void)seen;
	pos_set(w, &hc->hc_pos, n);
	if (hc->hc_unhealthy_interval == CD_DUR_UNSET)
		hc->hc_unhealthy_interval = hc->hc_interval;
	if (hc->hc_unhealthy_edge_interval == CD_DUR_UNSET)
		hc->hc_unhealthy_edge_interval = hc->hc_unhealthy_interval;
	if (hc->hc_healthy_edge_interval == CD_DUR_UNSET)
		hc->hc_healthy_edge_interval = hc->hc_interval;
	if (hc->hc_no_traffic_healthy_interval == CD_DUR_UNSET)
		hc->hc_no_traffic_healthy_interval = hc->hc_no_traffic_interval;
}

static void
status_range_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_status_range *sr = base;

	(void)seen;
	if (sr->sr_start != 0 && sr->sr_end != 0 && sr->sr_start >= sr->sr_end)
		w_err(w, n, "start must be below end ([start, end) is "
		    "half-open)");
}

static void
outlier_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_outlier *od = base;

	(void)w;
	(void)n;
	(void)seen;
	od->od_set = true;
}

/* ---- the schema: one table per message ---------------------------------- */

/* Where a field goes in target type T, and how wide it is. */
#define AT(T, m)	\
	.f_off = offsetof(T, m), .f_size = sizeof(((T *)NULL)->m)
#define LIST(T, m, n, el) \
	.f_off = offsetof(T, m), .f_cnt = offsetof(T, n), .f_elsize = sizeof(el)
#define U32		.f_min = 0, .f_max = UINT32_MAX
#define F_END		{ .f_name = NULL }

/* Shown for every TLS field: canaryd speaks plain HTTP/1.1. */
#define NO_TLS		"TLS is not supported by canaryd"

static const struct conf_field no_fields[] = { F_END };

/* envoy.config.core.v3.SocketAddress into struct cd_sockaddr_conf */
static const struct conf_field sockaddr_fields[] = {
	{ "protocol", CK_ENUM, CF_NOSTORE, .f_enum = &enum_protocol },
	{ "address", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    .f_max = CD_HOSTNAME_MAX - 1,
	    AT(struct cd_sockaddr_conf, sa_address) },
	/* No port 0: each worker's SO_REUSEPORT socket would get its own. */
	{ "port_value", CK_UINT, CF_REQUIRED, .f_min = 1, .f_max = 65535,
	    AT(struct cd_sockaddr_conf, sa_port) },
	{ "named_port", CK_REJECT, 0, .f_why = "use port_value" },
	{ "resolver_name", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_sockaddr = { "SocketAddress",
    sockaddr_fields, NULL, NULL };

static const struct conf_field address_fields[] = {
	{ "socket_address", CK_MSG, CF_REQUIRED, .f_msg = &msg_sockaddr },
	{ "pipe", CK_REJECT, 0, .f_why = "use socket_address" },
	{ "envoy_internal_address", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_address = { "Address", address_fields,
    NULL, NULL };

/* The same two messages for an endpoint: into struct cd_endpoint. */
static const struct conf_field ep_sockaddr_fields[] = {
	{ "protocol", CK_ENUM, CF_NOSTORE, .f_enum = &enum_protocol },
	{ "address", CK_STR, CF_REQUIRED | CF_NONEMPTY | CF_POS,
	    .f_max = CD_HOSTNAME_MAX - 1, .f_pos = offsetof(struct cd_endpoint,
	    ep_pos), AT(struct cd_endpoint, ep_address) },
	{ "port_value", CK_UINT, CF_REQUIRED, .f_min = 1, .f_max = 65535,
	    AT(struct cd_endpoint, ep_port) },
	{ "named_port", CK_REJECT, 0, .f_why = "use port_value" },
	{ "resolver_name", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_ep_sockaddr = { "SocketAddress",
    ep_sockaddr_fields, NULL, ep_sockaddr_done };

static const struct conf_field ep_address_fields[] = {
	{ "socket_address", CK_MSG, CF_REQUIRED, .f_msg = &msg_ep_sockaddr },
	{ "pipe", CK_REJECT, 0, .f_why = "use socket_address" },
	{ "envoy_internal_address", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_ep_address = { "Address",
    ep_address_fields, NULL, NULL };

/* ---- admin ---- */

/*
 * Access loggers (the admin's and the HCM's access_log): each writes the
 * path of its output into the char * slot its parent hands it.
 * envoy.extensions.access_loggers.file.v3.FileAccessLog:
 */
static const struct conf_field file_log_fields[] = {
	{ "path", CK_STR, CF_REQUIRED | CF_NONEMPTY, .f_off = 0 },
	{ "format", CK_REJECT, 0, .f_why = "custom log formats" },
	{ "json_format", CK_REJECT, 0, .f_why = "custom log formats" },
	{ "typed_json_format", CK_REJECT, 0, .f_why = "custom log formats" },
	{ "log_format", CK_REJECT, 0, .f_why = "custom log formats" },
	F_END
};
static const struct conf_msg msg_file_log = { "FileAccessLog",
    file_log_fields, NULL, NULL };

/* StdoutAccessLog and StderrAccessLog: the process's own stream */
static const struct conf_field stream_log_fields[] = {
	{ "log_format", CK_REJECT, 0, .f_why = "custom log formats" },
	F_END
};

static void
stream_log_done(struct cw *w, const char *path, void *base)
{
	if ((*(char **)base = arena_strdup(w->w_arena, path)) == NULL)
		w_oom(w);
}

static void
stdout_log_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	(void)n;
	(void)seen;
	stream_log_done(w, "/dev/stdout", base);
}

static void
stderr_log_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	(void)n;
	(void)seen;
	stream_log_done(w, "/dev/stderr", base);
}

static const struct conf_msg msg_stdout_log = { "StdoutAccessLog",
    stream_log_fields, NULL, stdout_log_done };
static const struct conf_msg msg_stderr_log = { "StderrAccessLog",
    stream_log_fields, NULL, stderr_log_done };

static const struct conf_any any_access_log[] = {
	{ "envoy.extensions.access_loggers.file.v3.FileAccessLog",
	    &msg_file_log },
	{ "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
	    &msg_stdout_log },
	{ "envoy.extensions.access_loggers.stream.v3.StderrAccessLog",
	    &msg_stderr_log },
	{ NULL, NULL }
};

static const struct conf_field access_log_fields[] = {
	{ "name", CK_STR, .f_flags = CF_NOSTORE },
	{ "filter", CK_REJECT, .f_flags = 0 },
	{ "typed_config", CK_ANY, CF_REQUIRED, .f_any = any_access_log,
	    .f_why = "access logger" },
	F_END
};
static const struct conf_msg msg_access_log = { "AccessLog",
    access_log_fields, NULL, NULL };

static const struct conf_field admin_fields[] = {
	{ "access_log_path", CK_STR, CF_NONEMPTY, 1,
	    AT(struct cd_admin, a_access_log_path) },
	{ "profile_path", CK_REJECT, .f_flags = 0 },
	{ "address", CK_MSG, CF_REQUIRED, .f_msg = &msg_address,
	    AT(struct cd_admin, a_addr) },
	{ "access_log", CK_FN, 0, 1, .f_fn = fn_access_log },
	F_END
};
static const struct conf_msg msg_admin = { "Admin", admin_fields, NULL,
    admin_done };

/* ---- routes ---- */

/* envoy.type.matcher.v3.RegexMatcher: the target is the char * slot */
static const struct conf_msg msg_google_re2 = { "RegexMatcher.GoogleRE2",
    no_fields, NULL, NULL };

static const struct conf_field regex_fields[] = {
	{ "google_re2", CK_MSG, 0, .f_msg = &msg_google_re2 },
	{ "regex", CK_STR, CF_REQUIRED | CF_NONEMPTY, .f_off = 0 },
	F_END
};
static const struct conf_msg msg_regex = { "RegexMatcher", regex_fields,
    NULL, NULL };

static const struct conf_field str_match_fields[] = {
	{ "exact", CK_STR, CF_REQUIRED, 1,
	    AT(struct cd_str_match, sm_value) },
	{ "prefix", CK_STR, CF_NONEMPTY, 1,
	    AT(struct cd_str_match, sm_value) },
	{ "suffix", CK_STR, CF_NONEMPTY, 1,
	    AT(struct cd_str_match, sm_value) },
	{ "safe_regex", CK_MSG, 0, 1, .f_msg = &msg_regex,
	    AT(struct cd_str_match, sm_value) },
	{ "ignore_case", CK_BOOL, 0,
	    AT(struct cd_str_match, sm_ignore_case) },
	{ "contains", CK_STR, CF_NONEMPTY, 1,
	    AT(struct cd_str_match, sm_value) },
	{ "custom", CK_REJECT, 0, .f_oneof = 1 },
	F_END
};
static const struct conf_msg msg_str_match = { "StringMatcher",
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

#define HM(m)	AT(struct cd_header_match, m)
static const struct conf_field header_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY | CF_LOWER, HM(hm_name) },
	{ "exact_match", CK_STR, 0, 1, HM(hm_str.sm_value) },
	{ "safe_regex_match", CK_MSG, 0, 1, .f_msg = &msg_regex,
	    HM(hm_str.sm_value) },
	{ "range_match", CK_MSG, 0, 1, .f_msg = &msg_range },
	{ "present_match", CK_BOOL, 0, 1, HM(hm_present) },
	{ "prefix_match", CK_STR, CF_NONEMPTY, 1, HM(hm_str.sm_value) },
	{ "suffix_match", CK_STR, CF_NONEMPTY, 1, HM(hm_str.sm_value) },
	{ "invert_match", CK_BOOL, 0, HM(hm_invert) },
	{ "contains_match", CK_STR, CF_NONEMPTY, 1, HM(hm_str.sm_value) },
	{ "string_match", CK_MSG, 0, 1, .f_msg = &msg_str_match,
	    HM(hm_str) },
	{ "treat_missing_header_as_empty", CK_BOOL, 0,
	    HM(hm_missing_as_empty) },
	F_END
};
#undef HM
static const struct conf_msg msg_header = { "HeaderMatcher", header_fields,
    NULL, header_done };

static const struct conf_field query_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    AT(struct cd_query_match, qm_name) },
	{ "string_match", CK_MSG, 0, 1, .f_msg = &msg_str_match,
	    AT(struct cd_query_match, qm_str) },
	{ "present_match", CK_BOOL, 0, 1,
	    AT(struct cd_query_match, qm_present) },
	F_END
};
static const struct conf_msg msg_query = { "QueryParameterMatcher",
    query_fields, NULL, query_done };

#define RM(m)	AT(struct cd_route_match, m)
static const struct conf_field match_fields[] = {
	{ "prefix", CK_STR, CF_REQUIRED, 1, RM(rm_value) },
	{ "path", CK_STR, 0, 1, RM(rm_value) },
	{ "safe_regex", CK_MSG, 0, 1, .f_msg = &msg_regex, RM(rm_value) },
	{ "connect_matcher", CK_REJECT, 0, .f_oneof = 1 },
	{ "path_separated_prefix", CK_STR, CF_NONEMPTY, 1, RM(rm_value) },
	{ "path_match_policy", CK_REJECT, 0, .f_oneof = 1 },
	{ "case_sensitive", CK_BOOL, CF_DEF, .f_def = 1,
	    RM(rm_case_sensitive) },
	{ "runtime_fraction", CK_REJECT, .f_flags = 0 },
	{ "headers", CK_SEQ, 0, .f_msg = &msg_header,
	    LIST(struct cd_route_match, rm_headers, rm_nheaders,
	    struct cd_header_match) },
	{ "query_parameters", CK_SEQ, 0, .f_msg = &msg_query,
	    LIST(struct cd_route_match, rm_query, rm_nquery,
	    struct cd_query_match) },
	{ "grpc", CK_REJECT, .f_flags = 0 },
	{ "tls_context", CK_REJECT, 0, .f_why = NO_TLS },
	{ "dynamic_metadata", CK_REJECT, .f_flags = 0 },
	{ "filter_state", CK_REJECT, .f_flags = 0 },
	F_END
};
#undef RM
static const struct conf_msg msg_match = { "RouteMatch", match_fields,
    NULL, match_done };

#define RP(m)	AT(struct cd_retry_policy, m)
static const struct conf_field backoff_fields[] = {
	{ "base_interval", CK_DUR, CF_REQUIRED | CF_GT,
	    RP(rp_backoff_base) },
	{ "max_interval", CK_DUR, CF_GT, RP(rp_backoff_max) },
	F_END
};
static const struct conf_msg msg_backoff = { "RetryPolicy.RetryBackOff",
    backoff_fields, NULL, backoff_done };

static const struct conf_field retry_fields[] = {
	{ "retry_on", CK_FN, 0, .f_fn = fn_retry_on },
	{ "num_retries", CK_UINT, CF_DEF, U32, .f_def = 1,
	    RP(rp_num_retries) },
	{ "per_try_timeout", CK_DUR, CF_ZERO_UNSET, RP(rp_per_try_timeout) },
	{ "per_try_idle_timeout", CK_REJECT, 0,
	    .f_why = "per-try idle timeouts (use per_try_timeout)" },
	{ "retry_priority", CK_REJECT, .f_flags = 0 },
	{ "retry_host_predicate", CK_REJECT, .f_flags = 0 },
	{ "host_selection_retry_max_attempts", CK_REJECT, .f_flags = 0 },
	{ "retriable_status_codes", CK_FN, 0, .f_fn = fn_retriable_codes },
	{ "retry_back_off", CK_MSG, 0, .f_msg = &msg_backoff },
	{ "retriable_headers", CK_REJECT, .f_flags = 0 },
	{ "retriable_request_headers", CK_REJECT, .f_flags = 0 },
	{ "rate_limited_retry_back_off", CK_REJECT, .f_flags = 0 },
	{ "retry_options_predicates", CK_REJECT, .f_flags = 0 },
	F_END
};
#undef RP
static const struct conf_msg msg_retry = { "RetryPolicy", retry_fields,
    retry_init, retry_done };

static const struct conf_field cluster_weight_fields[] = {
	{ "name", CK_CLREF, CF_REQUIRED | CF_NAME,
	    .f_off = offsetof(struct cd_weighted_cluster, wc_cluster),
	    .f_cnt = offsetof(struct cd_weighted_cluster, wc_name) },
	{ "cluster_header", CK_REJECT, .f_flags = 0 },
	{ "weight", CK_UINT, 0, U32,
	    AT(struct cd_weighted_cluster, wc_weight) },
	{ "metadata_match", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "response_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "response_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "host_rewrite_literal", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_cluster_weight = {
    "WeightedCluster.ClusterWeight", cluster_weight_fields, NULL, NULL };

#define RT(m)	AT(struct cd_route, m)
static const struct conf_field weighted_fields[] = {
	{ "clusters", CK_SEQ, CF_REQUIRED | CF_NONEMPTY,
	    .f_max = CD_MAX_WEIGHTED, .f_why = "(CD_MAX_WEIGHTED)",
	    .f_msg = &msg_cluster_weight, LIST(struct cd_route, rt_wc, rt_nwc,
	    struct cd_weighted_cluster) },
	/* deprecated: only compared with the sum, see weighted_done() */
	{ "total_weight", CK_UINT, 0, .f_min = 1, .f_max = UINT32_MAX,
	    RT(rt_total_weight) },
	{ "runtime_key_prefix", CK_REJECT, .f_flags = 0 },
	{ "header_name", CK_REJECT, .f_flags = 0 },
	{ "use_hash_policy", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_weighted = { "WeightedCluster",
    weighted_fields, NULL, weighted_done };

static const struct conf_field route_action_fields[] = {
	{ "cluster", CK_CLREF, CF_REQUIRED, 1, RT(rt_cluster) },
	{ "cluster_header", CK_REJECT, 0, .f_oneof = 1 },
	{ "weighted_clusters", CK_MSG, 0, 1, .f_msg = &msg_weighted },
	{ "cluster_specifier_plugin", CK_REJECT, 0, .f_oneof = 1 },
	{ "inline_cluster_specifier_plugin", CK_REJECT, 0, .f_oneof = 1 },
	{ "cluster_not_found_response_code", CK_ENUM, CF_DEF, .f_def = 503,
	    .f_enum = &enum_not_found, RT(rt_cluster_not_found_code) },
	{ "metadata_match", CK_REJECT, .f_flags = 0 },
	{ "prefix_rewrite", CK_REJECT, .f_flags = 0 },
	{ "regex_rewrite", CK_REJECT, .f_flags = 0 },
	{ "host_rewrite_literal", CK_REJECT, .f_flags = 0 },
	{ "auto_host_rewrite", CK_REJECT, .f_flags = 0 },
	{ "timeout", CK_DUR, CF_DEF, .f_def = 15 * CONF_S, RT(rt_timeout) },
	{ "idle_timeout", CK_DUR, 0, RT(rt_idle_timeout) },
	{ "retry_policy", CK_MSG, 0, .f_msg = &msg_retry, RT(rt_retry) },
	{ "request_mirror_policies", CK_REJECT, .f_flags = 0 },
	{ "priority", CK_REJECT, .f_flags = 0 },
	{ "rate_limits", CK_REJECT, .f_flags = 0 },
	{ "hash_policy", CK_REJECT, .f_flags = 0 },
	{ "cors", CK_REJECT, .f_flags = 0 },
	{ "max_grpc_timeout", CK_REJECT, .f_flags = 0 },
	{ "upgrade_configs", CK_REJECT, .f_flags = 0 },
	{ "internal_redirect_policy", CK_REJECT, .f_flags = 0 },
	{ "max_stream_duration", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_route_action = { "RouteAction",
    route_action_fields, NULL, route_action_done };

static const struct conf_field data_source_fields[] = {
	{ "filename", CK_REJECT, 0, 1, .f_why = "use inline_string" },
	{ "inline_bytes", CK_REJECT, 0, 1, .f_why = "use inline_string" },
	{ "inline_string", CK_STR, 0, 1, RT(rt_direct_body) },
	{ "environment_variable", CK_REJECT, 0, 1,
	    .f_why = "use inline_string" },
	F_END
};
static const struct conf_msg msg_data_source = { "DataSource",
    data_source_fields, NULL, NULL };

static const struct conf_field direct_fields[] = {
	{ "status", CK_UINT, CF_REQUIRED, .f_min = 100, .f_max = 599,
	    RT(rt_direct_status) },
	{ "body", CK_MSG, 0, .f_msg = &msg_data_source },
	F_END
};
static const struct conf_msg msg_direct = { "DirectResponseAction",
    direct_fields, NULL, direct_done };

/* canaryd.sticky: { cookie: NAME } | { header: NAME } */
#define ST(m)	AT(struct cd_sticky, m)
static const struct conf_field sticky_fields[] = {
	{ "cookie", CK_STR, CF_REQUIRED | CF_NONEMPTY, 1,
	    .f_max = CD_NAME_MAX - 1, ST(st_cookie) },
	{ "header", CK_STR, CF_NONEMPTY | CF_LOWER, 1,
	    .f_max = CD_NAME_MAX - 1, ST(st_header) },
	{ "set_cookie", CK_BOOL, CF_DEF, .f_def = 0, ST(st_set_cookie) },
	{ "seed", CK_FN, 0, .f_fn = fn_sticky_seed },
	F_END
};
#undef ST
static const struct conf_msg msg_sticky = { "canaryd sticky", sticky_fields,
    NULL, sticky_done };

/* canaryd.rollout: automated promotion and rollback (master) */
#define RO(m)	AT(struct cd_rollout, m)
static const struct conf_field rollout_fields[] = {
	{ "canary", CK_FN, CF_REQUIRED, .f_fn = fn_rollout_wc, RO(ro_canary) },
	{ "stable", CK_FN, CF_REQUIRED, .f_fn = fn_rollout_wc, RO(ro_stable) },
	{ "steps", CK_FN, 0, .f_fn = fn_rollout_steps },
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

/* metadata.filter_metadata.canaryd: canaryd's own route options */
static const struct conf_field canaryd_fields[] = {
	{ "split", CK_ENUM, 0, .f_enum = &enum_split, RT(rt_split_mode) },
	{ "sticky", CK_MSG, 0, .f_msg = &msg_sticky, RT(rt_sticky) },
	{ "override_header", CK_STR, CF_NONEMPTY | CF_LOWER,
	    .f_max = CD_NAME_MAX - 1, RT(rt_override_header) },
	{ "override_cookie", CK_STR, CF_NONEMPTY, .f_max = CD_NAME_MAX - 1,
	    RT(rt_override_cookie) },
	{ "fallback", CK_FN, 0, .f_fn = fn_fallback, RT(rt_fallback) },
	{ "rollout", CK_MSG, 0, .f_msg = &msg_rollout, RT(rt_rollout) },
	F_END
};
static const struct conf_msg msg_canaryd = { "canaryd route metadata",
    canaryd_fields, NULL, canaryd_done };

static const struct conf_field metadata_fields[] = {
	{ "filter_metadata", CK_FN, 0, .f_fn = fn_filter_metadata },
	{ "typed_filter_metadata", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_metadata = { "Metadata", metadata_fields,
    NULL, NULL };

static const struct conf_field route_fields[] = {
	{ "name", CK_STR, 0, .f_max = CD_NAME_MAX - 1, RT(rt_name) },
	{ "match", CK_MSG, CF_REQUIRED, .f_msg = &msg_match, RT(rt_match) },
	{ "route", CK_MSG, CF_REQUIRED, 1, .f_msg = &msg_route_action },
	{ "redirect", CK_REJECT, 0, .f_oneof = 1 },
	{ "direct_response", CK_MSG, 0, 1, .f_msg = &msg_direct },
	{ "filter_action", CK_REJECT, 0, .f_oneof = 1 },
	{ "non_forwarding_action", CK_REJECT, 0, .f_oneof = 1 },
	{ "metadata", CK_MSG, 0, .f_msg = &msg_metadata },
	{ "decorator", CK_REJECT, .f_flags = 0 },
	{ "typed_per_filter_config", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "response_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "response_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "tracing", CK_REJECT, .f_flags = 0 },
	{ "per_request_buffer_limit_bytes", CK_REJECT, .f_flags = 0 },
	F_END
};
#undef RT
static const struct conf_msg msg_route = { "Route", route_fields,
    route_init, route_done };

#define VH(m)	AT(struct cd_vhost, m)
static const struct conf_field vhost_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    .f_max = CD_NAME_MAX - 1, VH(vh_name) },
	{ "domains", CK_STRSEQ, CF_REQUIRED | CF_NONEMPTY | CF_LOWER,
	    .f_max = CD_HOSTNAME_MAX - 1,
	    LIST(struct cd_vhost, vh_domains, vh_ndomains, char *) },
	{ "routes", CK_SEQ, 0, .f_msg = &msg_route,
	    LIST(struct cd_vhost, vh_routes, vh_nroutes, struct cd_route) },
	{ "require_tls", CK_REJECT, 0, .f_why = NO_TLS },
	{ "virtual_clusters", CK_REJECT, .f_flags = 0 },
	{ "rate_limits", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "response_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "response_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "cors", CK_REJECT, .f_flags = 0 },
	{ "typed_per_filter_config", CK_REJECT, .f_flags = 0 },
	{ "include_request_attempt_count", CK_REJECT, .f_flags = 0 },
	{ "include_attempt_count_in_response", CK_REJECT, .f_flags = 0 },
	{ "retry_policy", CK_MSG, 0, .f_msg = &msg_retry, VH(vh_retry) },
	{ "hedge_policy", CK_REJECT, .f_flags = 0 },
	F_END
};
#undef VH
static const struct conf_msg msg_vhost = { "VirtualHost", vhost_fields,
    NULL, vhost_done };

#define L(m)	AT(struct cd_listener, m)
static const struct conf_field route_config_fields[] = {
	{ "name", CK_STR, 0, L(l_route_config_name) },
	{ "virtual_hosts", CK_SEQ, 0, .f_msg = &msg_vhost,
	    LIST(struct cd_listener, l_vhosts, l_nvhosts, struct cd_vhost) },
	{ "internal_only_headers", CK_REJECT, .f_flags = 0 },
	{ "response_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "response_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "validate_clusters", CK_FN, 0, .f_fn = fn_validate_clusters },
	{ "vhds", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "ignore_port_in_host_matching", CK_BOOL, 0,
	    L(l_ignore_port_in_host_matching) },
	F_END
};
static const struct conf_msg msg_route_config = { "RouteConfiguration",
    route_config_fields, NULL, NULL };

/* ---- listener and HTTP connection manager ---- */

static const struct conf_msg msg_router = { "Router", no_fields,
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
	F_END
};
static const struct conf_msg msg_http1 = { "Http1ProtocolOptions",
    http1_fields, NULL, NULL };

static const struct conf_field hcm_fields[] = {
	{ "codec_type", CK_ENUM, CF_NOSTORE, .f_enum = &enum_codec },
	{ "stat_prefix", CK_STR, CF_REQUIRED | CF_NONEMPTY, L(l_stat_prefix) },
	{ "rds", CK_REJECT, 0, 1, .f_why = "use route_config" },
	{ "route_config", CK_FN, CF_REQUIRED, 1, .f_fn = fn_route_config },
	{ "scoped_routes", CK_REJECT, 0, 1, .f_why = "use route_config" },
	{ "http_filters", CK_FN, CF_REQUIRED, .f_fn = fn_http_filters },
	{ "add_user_agent", CK_REJECT, .f_flags = 0 },
	{ "tracing", CK_REJECT, .f_flags = 0 },
	{ "common_http_protocol_options", CK_MSG, 0,
	    .f_msg = &msg_hcm_proto },
	{ "http_protocol_options", CK_MSG, 0, .f_msg = &msg_http1 },
	{ "http2_protocol_options", CK_REJECT, .f_flags = 0 },
	{ "server_name", CK_STR, CF_DEF | CF_NONEMPTY, .f_defstr = "canaryd",
	    L(l_server_name) },
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
	    L(l_drain_timeout) },
	{ "delayed_close_timeout", CK_REJECT, .f_flags = 0 },
	{ "access_log", CK_ARR, 0, .f_max = CD_MAX_ACCESS_LOGS,
	    .f_why = "(CD_MAX_ACCESS_LOGS)", .f_msg = &msg_access_log,
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

static const struct conf_field filter_chain_fields[] = {
	{ "filter_chain_match", CK_REJECT, 0,
	    .f_why = "canaryd has one filter chain" },
	{ "filters", CK_FN, CF_REQUIRED, .f_fn = fn_filters },
	{ "transport_socket", CK_REJECT, 0, .f_why = NO_TLS },
	{ "name", CK_STR, .f_flags = CF_NOSTORE },
	F_END
};
static const struct conf_msg msg_filter_chain = { "FilterChain",
    filter_chain_fields, NULL, NULL };

/* Listener metadata.filter_metadata.canaryd: canaryd's listener options */
static const struct conf_field listener_canaryd_fields[] = {
	{ "max_connections_per_worker", CK_UINT, CF_DEF, .f_min = 0,
	    .f_max = 1048576, .f_def = 0, L(l_max_connections_per_worker) },
	F_END
};
static const struct conf_msg msg_listener_canaryd = {
    "canaryd listener metadata", listener_canaryd_fields, NULL, NULL };

static const struct conf_field listener_metadata_fields[] = {
	{ "filter_metadata", CK_FN, 0, .f_fn = fn_filter_metadata,
	    .f_msg = &msg_listener_canaryd },
	{ "typed_filter_metadata", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_listener_metadata = { "Metadata",
    listener_metadata_fields, NULL, NULL };

static const struct conf_field listener_fields[] = {
	{ "name", CK_STR, 0, .f_max = CD_NAME_MAX - 1, L(l_name) },
	{ "address", CK_MSG, CF_REQUIRED, .f_msg = &msg_address, L(l_addr) },
	{ "filter_chains", CK_FN, CF_REQUIRED, .f_fn = fn_filter_chains },
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
static const struct conf_msg msg_listener = { "Listener", listener_fields,
    NULL, NULL };

/* ---- clusters ---- */

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
	{ "retry_budget", CK_REJECT, 0, .f_why = "use max_retries" },
	{ "track_remaining", CK_BOOL, 0, T(t_th.th_track_remaining) },
	{ "max_connection_pools", CK_REJECT, .f_flags = 0 },
	F_END
};
#undef T
static const struct conf_msg msg_thresholds = { "CircuitBreakers.Thresholds",
    thresholds_fields, NULL, NULL };

static const struct conf_field breakers_fields[] = {
	{ "thresholds", CK_FN, 0, .f_fn = fn_thresholds },
	{ "per_host_thresholds", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_breakers = { "CircuitBreakers",
    breakers_fields, NULL, NULL };

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
	{ "host", CK_STR, CF_NONEMPTY, HC(hc_host) },
	{ "path", CK_STR, CF_REQUIRED | CF_NONEMPTY, HC(hc_path) },
	{ "send", CK_REJECT, .f_flags = 0 },
	{ "receive", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_add", CK_REJECT, .f_flags = 0 },
	{ "request_headers_to_remove", CK_REJECT, .f_flags = 0 },
	{ "expected_statuses", CK_ARR, 0, .f_msg = &msg_status_range,
	    .f_max = CD_MAX_STATUS_RANGES,
	    LIST(struct cd_health_check, hc_expected, hc_nexpected,
	    struct cd_status_range) },
	{ "retriable_statuses", CK_REJECT, .f_flags = 0 },
	{ "codec_client_type", CK_ENUM, CF_NOSTORE,
	    .f_enum = &enum_hc_codec },
	{ "service_name_matcher", CK_REJECT, .f_flags = 0 },
	{ "method", CK_ENUM, CF_DEF | CF_ENUMSTR, .f_defstr = "GET",
	    .f_enum = &enum_method, HC(hc_method) },
	F_END
};
static const struct conf_msg msg_http_hc = { "HealthCheck.HttpHealthCheck",
    http_hc_fields, NULL, NULL };

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
	{ "alt_port", CK_REJECT, .f_flags = 0 },
	{ "reuse_connection", CK_BOOL, CF_DEF, .f_def = 1,
	    HC(hc_reuse_connection) },
	{ "http_health_check", CK_MSG, CF_REQUIRED, 2,
	    .f_msg = &msg_http_hc },
	{ "tcp_health_check", CK_REJECT, 0, 2,
	    .f_why = "canaryd runs HTTP health checks only" },
	{ "grpc_health_check", CK_REJECT, 0, 2,
	    .f_why = "canaryd runs HTTP health checks only" },
	{ "custom_health_check", CK_REJECT, 0, 2,
	    .f_why = "canaryd runs HTTP health checks only" },
	{ "no_traffic_interval", CK_DUR, CF_GT, HC(hc_no_traffic_interval) },
	{ "unhealthy_interval", CK_DUR, CF_GT, HC(hc_unhealthy_interval) },
	{ "unhealthy_edge_interval", CK_DUR, CF_GT,
	    HC(hc_unhealthy_edge_interval) },
	{ "healthy_edge_interval", CK_DUR, CF_GT,
	    HC(hc_healthy_edge_interval) },
	{ "event_log_path", CK_REJECT, .f_flags = 0 },
	{ "always_log_health_check_failures", CK_REJECT, .f_flags = 0 },
	{ "tls_options", CK_REJECT, 0, .f_why = NO_TLS },
	{ "no_traffic_healthy_interval", CK_DUR, CF_GT,
	    HC(hc_no_traffic_healthy_interval) },
	{ "interval_jitter_percent", CK_UINT, 0, U32,
	    HC(hc_interval_jitter_percent) },
	{ "transport_socket_match_criteria", CK_REJECT, 0, .f_why = NO_TLS },
	F_END
};
#undef HC
static const struct conf_msg msg_health_check = { "HealthCheck", hc_fields,
    NULL, hc_done };

#define EP(m)	AT(struct cd_endpoint, m)
static const struct conf_field endpoint_fields[] = {
	{ "address", CK_MSG, CF_REQUIRED, .f_msg = &msg_ep_address },
	{ "health_check_config", CK_REJECT, .f_flags = 0 },
	{ "hostname", CK_STR, CF_NONEMPTY, .f_max = CD_HOSTNAME_MAX - 1,
	    EP(ep_hostname) },
	{ "additional_addresses", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_endpoint = { "Endpoint", endpoint_fields,
    NULL, NULL };

static const struct conf_field lb_endpoint_fields[] = {
	{ "endpoint", CK_MSG, CF_REQUIRED, 1, .f_msg = &msg_endpoint },
	{ "endpoint_name", CK_REJECT, 0, .f_oneof = 1 },
	{ "health_status", CK_REJECT, .f_flags = 0 },
	{ "metadata", CK_REJECT, .f_flags = 0 },
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

static const struct conf_field locality_eps_fields[] = {
	{ "locality", CK_MSG, 0, .f_msg = &msg_locality },
	{ "lb_endpoints", CK_FN, 0, .f_fn = fn_lb_endpoints },
	{ "load_balancing_weight", CK_REJECT, 0,
	    .f_why = "locality weights" },
	{ "priority", CK_REJECT, 0, .f_why = "priority levels" },
	{ "proximity", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_locality_eps = { "LocalityLbEndpoints",
    locality_eps_fields, NULL, NULL };

#define CL(m)	AT(struct cd_cluster, m)
static const struct conf_field cla_fields[] = {
	{ "cluster_name", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    CL(cl_lb_cluster_name) },
	{ "endpoints", CK_FN, 0, .f_fn = fn_endpoints },
	{ "named_endpoints", CK_REJECT, .f_flags = 0 },
	{ "policy", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_cla = { "ClusterLoadAssignment",
    cla_fields, NULL, NULL };

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
	    CL(cl_panic_threshold) },
	{ "zone_aware_lb_config", CK_REJECT, .f_flags = 0 },
	{ "locality_weighted_lb_config", CK_REJECT, .f_flags = 0 },
	{ "update_merge_window", CK_REJECT, .f_flags = 0 },
	{ "ignore_new_hosts_until_first_hc", CK_REJECT, .f_flags = 0 },
	{ "close_connections_on_host_set_change", CK_REJECT, .f_flags = 0 },
	{ "consistent_hashing_lb_config", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_common_lb = { "Cluster.CommonLbConfig",
    common_lb_fields, NULL, NULL };

static const struct conf_field cluster_proto_fields[] = {
	{ "idle_timeout", CK_DUR, CF_DEF, .f_def = 3600 * CONF_S,
	    CL(cl_idle_timeout) },
	{ "max_connection_duration", CK_REJECT, .f_flags = 0 },
	{ "max_headers_count", CK_REJECT, .f_flags = 0 },
	{ "max_stream_duration", CK_REJECT, .f_flags = 0 },
	{ "headers_with_underscores_action", CK_REJECT, .f_flags = 0 },
	{ "max_requests_per_connection", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_cluster_proto = { "HttpProtocolOptions",
    cluster_proto_fields, NULL, NULL };

/* Outlier detection beyond consecutive errors (success rate, failure
 * percentage, local-origin split) is outside canaryd: refused, not
 * silently ignored. */
#define OD(m)	AT(struct cd_outlier, m)
#define OD_NOSUP "only consecutive_5xx and consecutive_gateway_failure " \
	"ejection are implemented"
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
    outlier_fields, NULL, outlier_done };

/* type before load_assignment: ep_sockaddr_done() needs it */
static const struct conf_field cluster_fields[] = {
	{ "name", CK_STR, CF_REQUIRED | CF_NONEMPTY,
	    .f_max = CD_NAME_MAX - 1, CL(cl_name) },
	{ "alt_stat_name", CK_STR, CF_NONEMPTY, .f_max = CD_NAME_MAX - 1,
	    CL(cl_alt_stat_name) },
	{ "type", CK_FN, 0, .f_fn = fn_cluster_type,
	    .f_enum = &enum_cluster_type, CL(cl_type) },
	{ "cluster_type", CK_REJECT, .f_flags = 0 },
	{ "eds_cluster_config", CK_REJECT, .f_flags = 0 },
	{ "connect_timeout", CK_DUR, CF_DEF | CF_GT, .f_def = 5 * CONF_S,
	    CL(cl_connect_timeout) },
	{ "per_connection_buffer_limit_bytes", CK_UINT, CF_DEF, .f_min = 1,
	    .f_max = UINT32_MAX, .f_def = CONF_MIB, CL(cl_buffer_limit) },
	{ "lb_policy", CK_ENUM, CF_DEF, .f_def = CD_LB_ROUND_ROBIN,
	    .f_enum = &enum_lb, CL(cl_lb) },
	{ "load_assignment", CK_MSG, 0, .f_msg = &msg_cla },
	{ "health_checks", CK_FN, 0, .f_fn = fn_health_checks },
	{ "max_requests_per_connection", CK_REJECT, .f_flags = 0 },
	{ "circuit_breakers", CK_MSG, 0, .f_msg = &msg_breakers },
	{ "upstream_http_protocol_options", CK_REJECT, .f_flags = 0 },
	{ "common_http_protocol_options", CK_MSG, 0,
	    .f_msg = &msg_cluster_proto },
	{ "http_protocol_options", CK_REJECT, .f_flags = 0 },
	{ "http2_protocol_options", CK_REJECT, 0,
	    .f_why = "canaryd speaks HTTP/1.1 upstream" },
	{ "typed_extension_protocol_options", CK_REJECT, .f_flags = 0 },
	/* Envoy wants more than 1 ms */
	{ "dns_refresh_rate", CK_DUR, CF_DEF | CF_GT, .f_min = CONF_MS,
	    .f_def = 5 * CONF_S, CL(cl_dns_refresh_rate) },
	{ "dns_failure_refresh_rate", CK_REJECT, .f_flags = 0 },
	{ "respect_dns_ttl", CK_REJECT, .f_flags = 0 },
	{ "dns_lookup_family", CK_ENUM, CF_DEF, .f_def = CD_DNS_AUTO,
	    .f_enum = &enum_dns_family, CL(cl_dns_lookup_family) },
	{ "dns_resolvers", CK_REJECT, .f_flags = 0 },
	{ "typed_dns_resolver_config", CK_REJECT, .f_flags = 0 },
	{ "outlier_detection", CK_MSG, 0, .f_msg = &msg_outlier,
	    CL(cl_outlier) },
	{ "cleanup_interval", CK_REJECT, .f_flags = 0 },
	{ "upstream_bind_config", CK_REJECT, .f_flags = 0 },
	{ "lb_subset_config", CK_REJECT, .f_flags = 0 },
	{ "ring_hash_lb_config", CK_REJECT, .f_flags = 0 },
	{ "least_request_lb_config", CK_REJECT, .f_flags = 0 },
	{ "common_lb_config", CK_MSG, 0, .f_msg = &msg_common_lb },
	{ "transport_socket", CK_REJECT, 0, .f_why = NO_TLS },
	{ "transport_socket_matches", CK_REJECT, 0, .f_why = NO_TLS },
	{ "metadata", CK_REJECT, .f_flags = 0 },
	{ "protocol_selection", CK_REJECT, .f_flags = 0 },
	{ "upstream_connection_options", CK_REJECT, .f_flags = 0 },
	{ "close_connections_on_host_health_failure", CK_REJECT, .f_flags = 0 },
	{ "ignore_health_on_host_removal", CK_REJECT, .f_flags = 0 },
	{ "load_balancing_policy", CK_REJECT, .f_flags = 0 },
	{ "track_cluster_stats", CK_REJECT, .f_flags = 0 },
	{ "hosts", CK_REJECT, 0, .f_why = "use load_assignment" },
	F_END
};
#undef CL
static const struct conf_msg msg_cluster = { "Cluster", cluster_fields,
    cluster_init, cluster_done };

/* ---- bootstrap ---- */

static const struct conf_field static_fields[] = {
	{ "listeners", CK_FN, CF_REQUIRED, .f_fn = fn_listeners },
	{ "clusters", CK_FN, 0, .f_fn = fn_clusters },
	{ "secrets", CK_REJECT, 0, .f_why = NO_TLS },
	F_END
};
static const struct conf_msg msg_static = { "StaticResources",
    static_fields, NULL, NULL };

static const struct conf_field bootstrap_fields[] = {
	{ "node", CK_REJECT, .f_flags = 0 },
	{ "static_resources", CK_MSG, CF_REQUIRED, .f_msg = &msg_static },
	{ "dynamic_resources", CK_REJECT, 0,
	    .f_why = "canaryd loads static configuration only" },
	{ "cluster_manager", CK_REJECT, .f_flags = 0 },
	{ "stats_sinks", CK_REJECT, .f_flags = 0 },
	{ "stats_config", CK_REJECT, .f_flags = 0 },
	{ "admin", CK_MSG, 0, .f_msg = &msg_admin,
	    AT(struct cd_conf, c_admin) },
	{ "overload_manager", CK_REJECT, .f_flags = 0 },
	{ "layered_runtime", CK_REJECT, .f_flags = 0 },
	F_END
};
static const struct conf_msg msg_bootstrap = { "Bootstrap",
    bootstrap_fields, NULL, NULL };

/* ---- loading ------------------------------------------------------------ */

static void
resolve_refs(struct cw *w)
{
	struct conf_ref *r;
	size_t i;
	int idx;

	for (i = 0; i < w->w_nrefs; i++) {
		r = &w->w_refs[i];
		idx = conf_cluster_index(w->w_conf, r->r_name);
		/* validate_clusters: false leaves -1: the route then
		 * answers cluster_not_found_response_code, as in Envoy. */
		if (idx == -1 && (w->w_validate_clusters || r->r_strict))
			diag_at(w, 0, r->r_line, r->r_col, r->r_path,
			    "unknown cluster \"%s\"", r->r_name);
		*r->r_slot = idx;
	}
}

static char *
json_cut(struct cw *w, const size_t *span)
{
	char *s;

	if (span[1] <= span[0] || span[1] > w->w_json.b_len)
		return NULL;
	if ((s = arena_strndup(w->w_arena, w->w_json.b_data + span[0],
	    span[1] - span[0])) == NULL)
		w_oom(w);
	return s;
}

static void
json_finish(struct cw *w)
{
	struct cd_conf *conf = w->w_conf;
	size_t i;
	size_t all[2] = { 0, w->w_json.b_len };

	if (w->w_json.b_oom) {
		w_oom(w);
		return;
	}
	conf->c_json_bootstrap = json_cut(w, all);
	conf->c_json_listener = json_cut(w, w->w_span_listener);
	conf->c_json_route_config = json_cut(w, w->w_span_routes);
	if (conf->c_nclusters > 0 && (conf->c_json_clusters =
	    arena_allocarray(w->w_arena, conf->c_nclusters,
	    sizeof(char *))) == NULL) {
		w_oom(w);
		return;
	}
	for (i = 0; i < conf->c_nclusters; i++)
		conf->c_json_clusters[i] = json_cut(w, w->w_span_clusters[i]);
}

/* This load's diagnostics in file order (the walk follows the tables). */
static void
diags_sort(struct conf_diags *d, size_t from)
{
	struct conf_diag tmp;
	size_t i, j;

	for (i = from + 1; i < d->cd_n; i++) {
		tmp = d->cd_v[i];
		for (j = i; j > from && (d->cd_v[j - 1].d_line > tmp.d_line ||
		    (d->cd_v[j - 1].d_line == tmp.d_line &&
		    d->cd_v[j - 1].d_col > tmp.d_col)); j--)
			d->cd_v[j] = d->cd_v[j - 1];
		d->cd_v[j] = tmp;
	}
}

static void
yaml_error(struct cw *w, const yaml_parser_t *p)
{
	const yaml_mark_t *m = &p->problem_mark;
	const char *what = p->problem != NULL ? p->problem : "syntax error";

	if (p->error == YAML_READER_ERROR) {
		diag_at(w, 0, (int)p->mark.line + 1, (int)p->mark.column + 1,
		    NULL, "yaml: %s (byte %zu)", what, p->problem_offset);
		return;
	}
	if (p->context != NULL)
		diag_at(w, 0, (int)m->line + 1, (int)m->column + 1, NULL,
		    "yaml: %s %s (line %zu, column %zu)", what, p->context,
		    p->context_mark.line + 1, p->context_mark.column + 1);
	else
		diag_at(w, 0, (int)m->line + 1, (int)m->column + 1, NULL,
		    "yaml: %s", what);
}

struct cd_conf *
conf_load_buf(const char *path, const char *buf, size_t len,
    struct conf_diags *diags)
{
	struct conf_diags local = { NULL, 0, 0 };
	struct cw *w;
	struct cd_arena *a;
	struct cd_conf *conf;
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	size_t first;
	int loaded = 0;

	if (diags == NULL)
		diags = &local;
	first = diags->cd_n;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (a = arena_new()) == NULL) {
		free(w);
		return NULL;
	}
	w->w_arena = a;
	w->w_diags = diags;
	w->w_validate_clusters = 1;
	buf_init(&w->w_json);
	if ((conf = arena_alloc(a, sizeof(*conf))) == NULL ||
	    (conf->c_path = arena_strdup(a, path)) == NULL) {
		w_oom(w);
		goto done;
	}
	conf->c_arena = a;
	w->w_conf = conf;

	if (!yaml_parser_initialize(&parser)) {
		w_oom(w);
		goto done;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &w->w_doc)) {
		yaml_error(w, &parser);
		yaml_parser_delete(&parser);
		goto done;
	}
	loaded = 1;
	if ((root = yaml_document_get_root_node(&w->w_doc)) == NULL) {
		diag_at(w, 0, 1, 1, NULL, "empty configuration");
		yaml_parser_delete(&parser);
		goto done;
	}
	/* A second document would be silently ignored: refuse it. */
	if (!yaml_parser_load(&parser, &extra))
		yaml_error(w, &parser);
	else {
		if (yaml_document_get_root_node(&extra) != NULL)
			diag_at(w, 0, (int)extra.start_mark.line + 1,
			    (int)extra.start_mark.column + 1, NULL,
			    "more than one YAML document");
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);

	walk_msg(w, root, &msg_bootstrap, conf, NULL);
	if (w->w_nerrors == 0 && conf->c_listener == NULL)
		diag_at(w, 0, 1, 1, "static_resources.listeners",
		    "canaryd needs exactly one listener");
	if (!w->w_stop)
		resolve_refs(w);
	conf->c_nweighted = w->w_nsplits;
	if (w->w_nerrors == 0)
		json_finish(w);
done:
	if (loaded)
		yaml_document_delete(&w->w_doc);
	buf_free(&w->w_json);
	free(w->w_refs);
	free(w->w_domains);
	diags_sort(diags, first);
	if (w->w_nerrors > 0 || conf == NULL) {
		arena_free(a);
		conf = NULL;
	}
	free(w);
	if (diags == &local)
		conf_diags_free(&local);
	return conf;
}

struct cd_conf *
conf_load(const char *path, struct conf_diags *diags)
{
	struct conf_diags local = { NULL, 0, 0 };
	struct conf_diag *dg;
	struct cd_conf *conf;
	FILE *fp;
	char *data = NULL, *p;
	size_t len = 0, cap = 0, n;
	int saved;

	if (diags == NULL)
		diags = &local;
	if ((fp = fopen(path, "r")) == NULL)
		goto fail;
	for (;;) {
		if (len == cap) {
			if (cap >= CONF_MAX_FILE) {
				errno = EFBIG;
				break;
			}
			cap = cap == 0 ? 64 * 1024 : cap * 2;
			if ((p = realloc(data, cap)) == NULL)
				break;
			data = p;
		}
		n = fread(data + len, 1, cap - len, fp);
		len += n;
		if (n == 0) {
			if (!ferror(fp))
				errno = 0;
			break;
		}
	}
	saved = errno;
	fclose(fp);
	if (saved != 0) {
		free(data);
		errno = saved;
		goto fail;
	}
	conf = conf_load_buf(path, data != NULL ? data : "", len, diags);
	free(data);
	if (diags == &local)
		conf_diags_free(&local);
	return conf;
fail:
	saved = errno;
	if ((dg = diag_new(diags)) != NULL) {
		snprintf(dg->d_text, sizeof(dg->d_text), "cannot read: %s",
		    saved == EFBIG ? "file larger than 16 MiB" :
		    strerror(saved));
		diags->cd_nerrors++;
	}
	if (diags == &local)
		conf_diags_free(&local);
	return NULL;
}

void
conf_free(struct cd_conf *conf)
{
	if (conf == NULL)
		return;
	/* conf itself lives in its arena */
	arena_free(conf->c_arena);
}

void
conf_diags_print(const struct conf_diags *d, const char *path, FILE *fp)
{
	const struct conf_diag *dg;
	size_t i;

	for (i = 0; i < d->cd_n; i++) {
		dg = &d->cd_v[i];
		if (dg->d_line > 0)
			fprintf(fp, "%s:%d:%d: %s: %s\n", path, dg->d_line,
			    dg->d_col, dg->d_warning ? "warning" : "error",
			    dg->d_text);
		else
			fprintf(fp, "%s: %s: %s\n", path,
			    dg->d_warning ? "warning" : "error", dg->d_text);
	}
}

void
conf_diags_free(struct conf_diags *d)
{
	if (d == NULL)
		return;
	free(d->cd_v);
	d->cd_v = NULL;
	d->cd_n = 0;
	d->cd_nerrors = 0;
}

int
conf_parse_duration(const char *s, int64_t *ns, const char **errstr)
{
	static const char fmt[] = "want a string like \"1s\" or \"0.25s\"";
	const char *p = s;
	int64_t sec = 0, frac = 0;
	int neg = 0, nd = 0, nf = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; isdigit((unsigned char)*p); p++, nd++) {
		if (sec > (INT64_MAX - 9) / 10) {
			*errstr = "too large";
			return -1;
		}
		sec = sec * 10 + (*p - '0');
	}
	if (nd == 0) {
		*errstr = fmt;
		return -1;
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, nf++)
			if (nf < 9)
				frac = frac * 10 + (*p - '0');
		if (nf == 0) {
			*errstr = fmt;
			return -1;
		}
	}
	if (p[0] != 's' || p[1] != '\0') {
		*errstr = fmt;
		return -1;
	}
	if (nf > 9) {
		*errstr = "at most 9 fractional digits (nanoseconds)";
		return -1;
	}
	if (neg) {
		*errstr = "must not be negative";
		return -1;
	}
	for (; nf < 9; nf++)
		frac *= 10;
	if (sec > (INT64_MAX - frac) / CD_NS_PER_S) {
		*errstr = "too large";
		return -1;
	}
	*ns = sec * CD_NS_PER_S + frac;
	return 0;
}

int
conf_format_duration(char *buf, size_t len, int64_t ns)
{
	const char *sign = "";
	uint64_t u, sec, frac;

	if (ns < 0) {
		sign = "-";
		u = (uint64_t)0 - (uint64_t)ns;
	} else
		u = (uint64_t)ns;
	sec = u / CD_NS_PER_S;
	frac = u % CD_NS_PER_S;
	if (frac == 0)
		return snprintf(buf, len, "%s%" PRIu64 "s", sign, sec);
	if (frac % 1000000 == 0)
		return snprintf(buf, len, "%s%" PRIu64 ".%03" PRIu64 "s", sign,
		    sec, frac / 1000000);
	if (frac % 1000 == 0)
		return snprintf(buf, len, "%s%" PRIu64 ".%06" PRIu64 "s", sign,
		    sec, frac / 1000);
	return snprintf(buf, len, "%s%" PRIu64 ".%09" PRIu64 "s", sign, sec,
	    frac);
}

int
conf_cluster_index(const struct cd_conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->c_nclusters; i++)
		if (conf->c_clusters[i].cl_name != NULL &&
		    strcmp(conf->c_clusters[i].cl_name, name) == 0)
			return (int)i;
	return -1;
}
