/*
 * The /config_dump JSON strings after a weight-only reload (see
 * dumpweights.h): the bootstrap and each listener's Listener and
 * RouteConfiguration show the weights the master set (fileweights.h).
 *
 * Where each weight stands in each string is indexed once per
 * configuration, when it is put in force (mst_reload_fast_reserve()) or
 * on its first weight-only reload; a string whose
 * "weight" values do not match the file's weight spans one for one (a
 * "weight" key in metadata, say) makes that configuration parse on
 * every reload instead.  The strings are rewritten when /config_dump
 * next asks for them, not at the reload: the reload's moment is the
 * weights reaching shm, and a page of several MB needs them only then.
 * When no number changes its count of digits a string is rewritten in
 * place; otherwise it is copied once at its new length.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/arena.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "dumpweights.h"
#include "fileweights.h"
#include "mst.h"

/* The JSON strings a weight-only reload rewrites -- the bootstrap, and
 * each listener's Listener and RouteConfiguration. */
#define DW_NJSON(c)	(1 + 2 * (c)->c_nlisteners)

/* Where the weights of one JSON string stand. */
struct dw_jidx {
	size_t	 ji_first;	/* its first span */
	size_t	 ji_n;		/* its spans, consecutive */
	size_t	*ji_at;		/* where each one's digits start */
	size_t	 ji_len;	/* the string's length */
	char	*ji_own;	/* our copy of it, once rewritten longer or
				 * shorter; else the loader's, in place */
};

/* A configuration's JSON bookkeeping, freed with it. */
struct dw_own {
	struct dw_jidx		*fo_j;		/* DW_NJSON() of them */
	size_t			 fo_nj;
	char			**fo_grown;	/* fo_nj: dw_json_grow()'s */
	uint32_t		*fo_shown;	/* the weights the strings show,
						 * per span */
	bool			 fo_stale;	/* fo_shown are not the weights */
	bool			 fo_bad;	/* not indexed: always parse */
};

static char **
dw_json(struct cd_conf *c, int i)
{
	struct cd_listener *l;

	if (i == 0)
		return &c->c_json_bootstrap;
	if ((size_t)(i - 1) / 2 >= c->c_nlisteners)
		return NULL;
	l = &c->c_listeners[(i - 1) / 2];
	return (i - 1) % 2 == 0 ? &l->l_json : &l->l_json_routes;
}

/* Is rt one of l's routes? */
static bool
dw_route_of(const struct cd_listener *l, const struct cd_route *rt)
{
	const struct cd_vhost *vh;
	size_t v;

	for (v = 0; v < l->l_nvhosts; v++) {
		vh = &l->l_vhosts[v];
		if (rt >= vh->vh_routes && rt < vh->vh_routes + vh->vh_nroutes)
			return true;
	}
	return false;
}

/*
 * The spans JSON string i holds: all of them for the bootstrap, a
 * listener's own for its two (a listener's routes are one stretch of the
 * file, so its spans are consecutive).
 */
static void
dw_json_spans(const struct cd_conf *c, int i, size_t *first, size_t *n)
{
	const struct cd_listener *l;

	*first = 0;
	*n = c->c_nwspans;
	if (i == 0)
		return;
	l = &c->c_listeners[(i - 1) / 2];
	while (*first < c->c_nwspans &&
	    !dw_route_of(l, c->c_wspans[*first].ws_rt))
		(*first)++;
	for (*n = 0; *first + *n < c->c_nwspans &&
	    dw_route_of(l, c->c_wspans[*first + *n].ws_rt); (*n)++)
		;
}

static void
dw_own_free(void *arg)
{
	struct dw_own *fo = arg;
	size_t i;

	for (i = 0; i < fo->fo_nj; i++) {
		free(fo->fo_j[i].ji_at);
		free(fo->fo_j[i].ji_own);
	}
	free(fo->fo_j);
	free(fo->fo_grown);
	free(fo->fo_shown);
	free(fo);
}

static uint32_t
dw_weight(const struct cd_conf *c, size_t i)
{
	return mst_fw_weight(c, c->c_wspans[i].ws_rt, c->c_wspans[i].ws_k);
}

/*
 * Index string s, whose spans are first .. first + n: 0, or -1 when it
 * holds another count of "weight" values or one that is not its span's.
 */
static int
dw_index_one(const struct cd_conf *c, const char *s, struct dw_jidx *j)
{
	static const char key[] = "\"weight\":";
	const char *p, *q;
	size_t k = 0;
	uint64_t v;

	if (j->ji_n > 0 && (j->ji_at = calloc(j->ji_n,
	    sizeof(*j->ji_at))) == NULL)
		return -1;
	for (p = s; (q = strstr(p, key)) != NULL; p = q) {
		q += sizeof(key) - 1;
		if (k == j->ji_n)
			return -1;
		j->ji_at[k] = (size_t)(q - s);
		for (v = 0; *q >= '0' && *q <= '9' && v <= UINT32_MAX; q++)
			v = v * 10 + (uint64_t)(*q - '0');
		if (v != dw_weight(c, j->ji_first + k))
			return -1;
		k++;
	}
	j->ji_len = (size_t)(p - s) + strlen(p);
	return k == j->ji_n ? 0 : -1;
}

/* Every string of c indexed in fo: 0, or -1. */
static int
dw_index_all(struct cd_conf *c, struct dw_own *fo)
{
	char **js;
	size_t i;

	if ((fo->fo_shown = calloc(c->c_nwspans, sizeof(uint32_t))) == NULL)
		return -1;
	for (i = 0; i < c->c_nwspans; i++)
		fo->fo_shown[i] = dw_weight(c, i);
	for (i = 0; i < fo->fo_nj; i++) {
		if ((js = dw_json(c, (int)i)) == NULL || *js == NULL)
			continue;
		dw_json_spans(c, (int)i, &fo->fo_j[i].ji_first,
		    &fo->fo_j[i].ji_n);
		if (dw_index_one(c, *js, &fo->fo_j[i]) == -1)
			return -1;
	}
	return 0;
}

int
mst_dumpw_index(struct cd_conf *c)
{
	struct dw_own *fo = c->c_fast;
	size_t i;

	if (fo != NULL)
		return fo->fo_bad ? -1 : 0;
	if ((fo = calloc(1, sizeof(*fo))) == NULL)
		return -1;
	if ((fo->fo_j = calloc(DW_NJSON(c), sizeof(*fo->fo_j))) == NULL ||
	    (fo->fo_grown = calloc(DW_NJSON(c), sizeof(*fo->fo_grown))) ==
	    NULL || arena_defer(c->c_arena, dw_own_free, fo) == -1) {
		free(fo->fo_j);
		free(fo->fo_grown);
		free(fo);
		return -1;
	}
	fo->fo_nj = DW_NJSON(c);
	c->c_fast = fo;
	if (dw_index_all(c, fo) == 0)
		return 0;
	for (i = 0; i < fo->fo_nj; i++) {
		free(fo->fo_j[i].ji_at);
		fo->fo_j[i].ji_at = NULL;
	}
	fo->fo_bad = true;
	log_info("reload: a \"weight\" in the configuration is not a "
	    "weighted cluster's: weight-only reloads parse the file");
	return -1;
}

/* v in decimal at p, no NUL: its length. */
static size_t
dw_utoa(char *p, uint32_t v)
{
	char t[10];
	size_t n = 0, k;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (k = 0; k < n; k++)
		p[k] = t[n - 1 - k];
	return n;
}

static size_t
dw_ndigits(uint32_t v)
{
	char t[10];

	return dw_utoa(t, v);
}

/*
 * String i again with the weights, into *out (malloc'd), when a number's
 * count of digits changed; NULL when none did: then it is rewritten in
 * place by dw_json_put().  0, or -1 out of memory.
 */
static int
dw_json_grow(struct cd_conf *c, int i, char **out)
{
	struct dw_own *fo = c->c_fast;
	struct dw_jidx *j = &fo->fo_j[i];
	const char *s = *dw_json(c, i);
	size_t k, po = 0, pn = 0, old, seg, nd, od;
	ptrdiff_t d = 0;
	bool same = true;
	char *n;

	*out = NULL;
	for (k = 0; k < j->ji_n; k++) {
		nd = dw_ndigits(dw_weight(c, j->ji_first + k));
		od = dw_ndigits(fo->fo_shown[j->ji_first + k]);
		same &= nd == od;
		d += (ptrdiff_t)nd - (ptrdiff_t)od;
	}
	if (same)
		return 0;
	if ((n = malloc(j->ji_len + (size_t)d + 1)) == NULL)
		return -1;
	for (k = 0; k < j->ji_n; k++) {
		seg = j->ji_at[k] - po;
		memcpy(n + pn, s + po, seg);
		pn += seg;
		old = dw_ndigits(fo->fo_shown[j->ji_first + k]);
		pn += dw_utoa(n + pn, dw_weight(c, j->ji_first + k));
		po = j->ji_at[k] + old;
	}
	memcpy(n + pn, s + po, j->ji_len - po + 1);	/* and the NUL */
	*out = n;
	return 0;
}

/* String i shows the weights: in place, or as grown (dw_json_grow()). */
static void
dw_json_put(struct cd_conf *c, int i, char *grown)
{
	struct dw_own *fo = c->c_fast;
	struct dw_jidx *j = &fo->fo_j[i];
	char **js = dw_json(c, i);
	size_t k;
	ptrdiff_t d = 0;
	uint32_t w;

	for (k = 0; k < j->ji_n; k++) {
		w = dw_weight(c, j->ji_first + k);
		j->ji_at[k] = (size_t)((ptrdiff_t)j->ji_at[k] + d);
		if (grown != NULL)
			d += (ptrdiff_t)dw_ndigits(w) - (ptrdiff_t)
			    dw_ndigits(fo->fo_shown[j->ji_first + k]);
		else if (w != fo->fo_shown[j->ji_first + k])
			(void)dw_utoa(*js + j->ji_at[k], w);
	}
	if (grown == NULL)
		return;
	j->ji_len = (size_t)((ptrdiff_t)j->ji_len + d);
	free(j->ji_own);
	j->ji_own = *js = grown;
}

int
mst_dumpw_fresh(void)
{
	/* the running configuration's JSON follows its weights (conf-t.h) */
	struct cd_conf *c = (struct cd_conf *)(uintptr_t)mst.m_conf;
	struct dw_own *fo = c != NULL ? c->c_fast : NULL;
	char **grown;
	size_t k, i;
	int rc = 0;

	if (fo == NULL || fo->fo_bad || !fo->fo_stale)
		return 0;
	grown = fo->fo_grown;
	/* every longer or shorter string made before any is set */
	for (i = 0; i < fo->fo_nj; i++) {
		grown[i] = NULL;
		if (rc == 0 && fo->fo_j[i].ji_at != NULL)
			rc = dw_json_grow(c, (int)i, &grown[i]);
	}
	if (rc == -1) {
		for (i = 0; i < fo->fo_nj; i++) {
			free(grown[i]);
			grown[i] = NULL;
		}
		log_warnx("reload: out of memory for /config_dump's new "
		    "weights; tried again when it is next asked for");
		return -1;
	}
	for (i = 0; i < fo->fo_nj; i++)
		if (fo->fo_j[i].ji_at != NULL)
			dw_json_put(c, (int)i, grown[i]);
	for (k = 0; k < c->c_nwspans; k++)
		fo->fo_shown[k] = dw_weight(c, k);
	if (c->c_listener != NULL) {
		c->c_json_listener = c->c_listener->l_json;
		c->c_json_route_config = c->c_listener->l_json_routes;
	}
	fo->fo_stale = false;
	return 0;
}

void
mst_dumpw_stale(struct cd_conf *c)
{
	struct dw_own *fo = c->c_fast;

	if (fo == NULL || fo->fo_bad)
		return;
	fo->fo_stale = true;
}
