/*
 * Configuration loader: what is refused and what was meant (conf-int.h).
 * Master only.
 *
 * A google.protobuf.Any ("typed_config") picks its message by "@type";
 * its table (struct conf_any) lists the types canaryd takes and the ones
 * it knows and refuses, each with its reason and what to do instead.
 * A refused field (CK_REJECT) says the same, refined by the type its
 * value names when its table has one (a listener filter, a cluster type),
 * and a typo gets the closest field name.  Type names are never cut
 * short: they are what the user searches the file for.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "conf.h"
#include "conf-int.h"

const char *
conf_any_want(const struct conf_any *av)
{
	for (; av->an_type != NULL; av++)
		if (av->an_msg != NULL)
			return av->an_type;
	return "";
}

/* "type.googleapis.com/A or type.googleapis.com/B" into buf. */
static void
any_list(const struct conf_any *av, char *buf, size_t len)
{
	const struct conf_any *an;

	buf[0] = '\0';
	for (an = av; an->an_type != NULL; an++) {
		if (an->an_msg == NULL)
			continue;
		if (buf[0] != '\0')
			strlcat(buf, " or ", len);
		strlcat(buf, CONF_TYPE_PREFIX, len);
		strlcat(buf, an->an_type, len);
	}
}

/* The entry whose message name (by_name 0) or extension name (1) is s,
 * else the list's end. */
static const struct conf_any *
any_find(const struct conf_any *av, const char *s, size_t len, int by_name)
{
	const char *x;

	for (; av->an_type != NULL; av++) {
		x = by_name ? av->an_name : av->an_type;
		if (x != NULL && strlen(x) == len && memcmp(x, s, len) == 0)
			break;
	}
	return av;
}

/* The refusal of entry an (a known type, or the end of the list) of
 * field f's table, about what (a type or extension name), at node at. */
static void
any_refuse(struct cw *w, const struct conf_field *f, yaml_node_t *at,
    const struct conf_any *an, const char *what, size_t len)
{
	char takes[1024];

	if (an->an_type != NULL) {
		conf_err(w, at, "%s %.*s is not supported by canaryd: %s",
		    f->f_why, (int)len, what, an->an_why);
		return;
	}
	any_list(f->f_any, takes, sizeof(takes));
	conf_err(w, at, "%s %.*s is not supported by canaryd: %s%s%s%s",
	    f->f_why, (int)len, what, an->an_why != NULL ? an->an_why :
	    "remove it", takes[0] != '\0' ? " (canaryd takes " : "", takes,
	    takes[0] != '\0' ? ")" : "");
}

const struct conf_any *
conf_any_type(struct cw *w, const struct conf_field *f, yaml_node_t *t)
{
	const struct conf_any *an;
	const char *name, *slash;

	if (conf_want_scalar(w, t, "a type URL") == -1)
		return NULL;
	/* Protobuf takes any URL prefix: the message name follows the
	 * last '/'. */
	name = conf_sval(t);
	if ((slash = strrchr(name, '/')) == NULL) {
		conf_err(w, t, "bad type URL \"%s\": want \"" CONF_TYPE_PREFIX
		    "%s\"", name, conf_any_want(f->f_any));
		return NULL;
	}
	name = slash + 1;
	an = any_find(f->f_any, name, strlen(name), 0);
	if (an->an_msg != NULL)
		return an;
	any_refuse(w, f, t, an, name, strlen(name));
	return NULL;
}

void
conf_any_missing(struct cw *w, const struct conf_field *f, yaml_node_t *n)
{
	const struct conf_any *an = NULL;
	yaml_node_t *nn;
	const char *type;

	nn = conf_map_get(w, n, "name");
	if (nn != NULL && nn->type == YAML_SCALAR_NODE)
		an = any_find(f->f_any, conf_sval(nn), conf_slen(nn), 1);
	if (an != NULL && an->an_type != NULL && an->an_msg == NULL) {
		any_refuse(w, f, nn, an, conf_sval(nn), conf_slen(nn));
		return;
	}
	type = an != NULL && an->an_type != NULL ? an->an_type :
	    conf_any_want(f->f_any);
	conf_err(w, n, "missing required field: add %s: { \"@type\": "
	    CONF_TYPE_PREFIX "%s }", f->f_name, type);
}

/* The entry of f's f_any that mapping v names by typed_config."@type",
 * else by "name"; NULL when it names none; *what: the name. */
static const struct conf_any *
reject_match(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    yaml_node_t **at)
{
	const struct conf_any *an;
	yaml_node_t *t;
	const char *s, *slash;

	if (v->type != YAML_MAPPING_NODE)
		return NULL;
	t = conf_map_get(w, conf_map_get(w, v, "typed_config"), "@type");
	if (t != NULL && t->type == YAML_SCALAR_NODE) {
		s = conf_sval(t);
		if ((slash = strrchr(s, '/')) != NULL)
			s = slash + 1;
		an = any_find(f->f_any, s, strlen(s), 0);
		if (an->an_type != NULL) {
			*at = t;
			return an;
		}
	}
	t = conf_map_get(w, v, "name");
	if (t != NULL && t->type == YAML_SCALAR_NODE) {
		an = any_find(f->f_any, conf_sval(t), conf_slen(t), 1);
		if (an->an_type != NULL) {
			*at = t;
			return an;
		}
	}
	return NULL;
}

void
conf_reject(struct cw *w, const struct conf_field *f, yaml_node_t *k,
    yaml_node_t *v)
{
	const struct conf_any *an;
	yaml_node_t *at, *it;
	size_t i, old;
	int told = 0;

	if (f->f_any != NULL && v->type == YAML_SEQUENCE_NODE) {
		for (i = 0; i < conf_seq_len(v); i++) {
			it = conf_seq_item(w, v, i);
			if ((an = reject_match(w, f, it, &at)) == NULL)
				continue;
			old = conf_path_index(w, i);
			conf_err(w, at, "%.*s is not supported by canaryd: %s",
			    (int)conf_slen(at), conf_sval(at), an->an_why);
			conf_path_pop(w, old);
			told = 1;
		}
	} else if (f->f_any != NULL &&
	    (an = reject_match(w, f, v, &at)) != NULL) {
		conf_err(w, at, "%.*s is not supported by canaryd: %s",
		    (int)conf_slen(at), conf_sval(at), an->an_why);
		return;
	}
	if (!told)
		conf_err(w, k != NULL ? k : v, "not supported by canaryd: %s",
		    f->f_why);
}

/* ---- typos ------------------------------------------------------------ */

/* Optimal string alignment distance of a[0..n) and b[0..m); names
 * longer than NEAR_MAX are never "close". */
#define NEAR_MAX	64
static size_t
edit_distance(const char *a, size_t n, const char *b, size_t m)
{
	size_t d0[NEAR_MAX + 1], d1[NEAR_MAX + 1], d2[NEAR_MAX + 1];
	size_t i, j, c;

	if (n > NEAR_MAX || m > NEAR_MAX)
		return SIZE_MAX;
	for (j = 0; j <= m; j++)
		d0[j] = d1[j] = j;
	/* d0: row i - 2, d1: row i - 1, d2: row i */
	for (i = 1; i <= n; i++) {
		d2[0] = i;
		for (j = 1; j <= m; j++) {
			c = d1[j - 1] + (a[i - 1] != b[j - 1]);
			if (d1[j] + 1 < c)
				c = d1[j] + 1;
			if (d2[j - 1] + 1 < c)
				c = d2[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d0[j - 2] + 1 < c)
				c = d0[j - 2] + 1;
			d2[j] = c;
		}
		memcpy(d0, d1, sizeof(d0));
		memcpy(d1, d2, sizeof(d1));
	}
	return d1[m];
}

/* s as snake_case, lower case ("statPrefix", "Stat-Prefix": stat_prefix). */
static size_t
near_fold(const char *s, size_t len, char *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 2 < cap; i++) {
		if (isupper((unsigned char)s[i]) && i > 0 &&
		    islower((unsigned char)s[i - 1]))
			out[n++] = '_';
		out[n++] = s[i] == '-' ? '_' :
		    (char)tolower((unsigned char)s[i]);
	}
	out[n] = '\0';
	return n;
}

const char *
conf_closest(const struct conf_msg *m, const char *s, size_t len)
{
	const struct conf_field *f, *best = NULL;
	char key[NEAR_MAX + 2];
	size_t n, d, bd = SIZE_MAX, lim;

	n = near_fold(s, len, key, sizeof(key));
	/* one edit in a short name, two in a longer, three past 12 */
	lim = n <= 4 ? 1 : n <= 12 ? 2 : 3;
	for (f = m->m_fields; f->f_name != NULL; f++) {
		d = edit_distance(key, n, f->f_name, strlen(f->f_name));
		/* a field canaryd takes wins a tie */
		if (d < bd || (d == bd && best != NULL &&
		    best->f_kind == CK_REJECT && f->f_kind != CK_REJECT)) {
			bd = d;
			best = f;
		}
	}
	return bd <= lim ? best->f_name : NULL;
}
