/*
 * Random route tables, requests and domain sets for the differential
 * tests of the router's index: test/unit/worker/router_index_test.c
 * draws them from a seeded generator, test/fuzz/fuzz_route.c from the
 * fuzzer's bytes.  Small alphabets, so that keys share prefixes, differ
 * in case, repeat, and requests land on them; every match kind, both
 * case_sensitive settings, header and query matchers, runtime_fraction.
 * The structs are
 * filled the way the loader leaves them (values NUL-terminated, rm_len
 * their length); the checks compare the index's answer with the plain
 * scan's, so any table is a fair question.
 */
#ifndef TEST_UNIT_ROUTE_GEN_H
#define TEST_UNIT_ROUTE_GEN_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/conf-t.h"
#include "shared/http1.h"
#include "worker/router.h"

#define RG_MAXROUTES	40
#define RG_MAXVAL	10	/* bytes of a route's value */
#define RG_MAXPATH	24
#define RG_MAXVH	6
#define RG_MAXDOM	4	/* domains per virtual host */
#define RG_MAXHOST	12

/*
 * The source of randomness: the bytes of in[0, inlen) when in is set
 * (zeros once they run out), else xorshift64* from the seed in x.
 */
struct rg {
	const uint8_t	*rg_in;
	size_t		 rg_inlen;
	size_t		 rg_pos;
	uint64_t	 rg_x;
};

static inline uint32_t
rg_next(struct rg *g)
{
	uint32_t v = 0;
	int i;

	if (g->rg_in != NULL) {
		for (i = 0; i < 2; i++)
			v = v << 8 | (g->rg_pos < g->rg_inlen ?
			    g->rg_in[g->rg_pos++] : 0);
		return v;
	}
	g->rg_x ^= g->rg_x >> 12;
	g->rg_x ^= g->rg_x << 25;
	g->rg_x ^= g->rg_x >> 27;
	return (uint32_t)((g->rg_x * 0x2545f4914f6cdd1dULL) >> 32);
}

/* A number in [0, n), n >= 1. */
static inline uint32_t
rg_below(struct rg *g, uint32_t n)
{
	return rg_next(g) % n;
}

/* s[0, len) of random bytes of the alphabet a, NUL-terminated. */
static inline void
rg_str(struct rg *g, const char *a, char *s, size_t len)
{
	size_t i, n = strlen(a);

	for (i = 0; i < len; i++)
		s[i] = a[rg_below(g, (uint32_t)n)];
	s[len] = '\0';
}

/* Flip the case of some letters of s[0, len). */
static inline void
rg_flip_case(struct rg *g, char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (rg_below(g, 4) == 0 && ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			s[i] ^= 0x20;
}

/* ---- route tables ------------------------------------------------------ */

/* Patterns of the safe_regex routes, compiled once (anchored). */
static const char *const rg_patterns[] = {
	"/a.*", "/[ab]+", ".*b", "/A", "/(a|b)/?x?", "", "/b/.*",
};
#define RG_NPATTERNS	(sizeof(rg_patterns) / sizeof(rg_patterns[0]))

struct rg_table {
	struct cd_vhost		 t_vh;
	struct cd_route		 t_routes[RG_MAXROUTES];
	char			 t_vals[RG_MAXROUTES][RG_MAXVAL + 1];
	struct cd_header_match	 t_hm[RG_MAXROUTES];
	struct cd_query_match	 t_qm[RG_MAXROUTES];
	regex_t			 t_re[RG_NPATTERNS];
};

/* Compile the patterns into t; 0, or -1 when regcomp fails. */
static inline int
rg_table_init(struct rg_table *t)
{
	char buf[64];
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < RG_NPATTERNS; i++) {
		snprintf(buf, sizeof(buf), "^(%s)$", rg_patterns[i]);
		if (regcomp(&t->t_re[i], buf, REG_EXTENDED | REG_NOSUB) != 0)
			return -1;
	}
	return 0;
}

static inline void
rg_table_free(struct rg_table *t)
{
	size_t i;

	for (i = 0; i < RG_NPATTERNS; i++)
		regfree(&t->t_re[i]);
}

/* Route i's value: new bytes, or an earlier value cut, extended or
 * repeated (so keys nest and collide), or an earlier one in other case. */
static inline void
rg_value(struct rg *g, struct rg_table *t, size_t i)
{
	char *v = t->t_vals[i];
	size_t len, keep;

	if (i > 0 && rg_below(g, 2) == 0) {
		memcpy(v, t->t_vals[rg_below(g, (uint32_t)i)], RG_MAXVAL + 1);
		keep = strlen(v);
		keep = rg_below(g, (uint32_t)keep + 1);
		len = keep + rg_below(g, (uint32_t)(RG_MAXVAL - keep + 1));
		if (rg_below(g, 3) == 0)
			len = keep = strlen(v);
		rg_str(g, "/abA?=", v + keep, len - keep);
		rg_flip_case(g, v, keep);
		return;
	}
	len = rg_below(g, 6);
	v[0] = '/';
	rg_str(g, "/abBA?=#", v + (len > 0), len - (len > 0));
}

/* Route i: its path match, sometimes a header or a query matcher and a
 * runtime_fraction. */
static inline void
rg_route(struct rg *g, struct rg_table *t, size_t i)
{
	struct cd_route_match *m = &t->t_routes[i].rt_match;
	struct cd_header_match *hm = &t->t_hm[i];
	struct cd_query_match *qm = &t->t_qm[i];
	uint32_t r;

	memset(&t->t_routes[i], 0, sizeof(t->t_routes[i]));
	rg_value(g, t, i);
	r = rg_below(g, 20);
	m->rm_kind = r < 8 ? CD_PM_PREFIX : r < 13 ? CD_PM_PATH : r < 17 ?
	    CD_PM_SEP_PREFIX : CD_PM_REGEX;
	m->rm_value = t->t_vals[i];
	m->rm_case_sensitive = rg_below(g, 4) != 0;
	if (m->rm_kind == CD_PM_REGEX) {
		r = rg_below(g, RG_NPATTERNS);
		memcpy(&m->rm_re, &t->t_re[r], sizeof(m->rm_re));
		snprintf(t->t_vals[i], RG_MAXVAL + 1, "%s", rg_patterns[r]);
	}
	m->rm_len = strlen(m->rm_value);
	if (rg_below(g, 5) == 0) {
		memset(hm, 0, sizeof(*hm));
		hm->hm_name = "x-a";
		hm->hm_name_len = 3;
		hm->hm_kind = rg_below(g, 2) ? CD_HM_PRESENT : CD_HM_STRING;
		hm->hm_present = rg_below(g, 2);
		hm->hm_invert = rg_below(g, 4) == 0;
		hm->hm_str.sm_kind = CD_SM_EXACT;
		hm->hm_str.sm_value = "1";
		hm->hm_str.sm_len = 1;
		m->rm_headers = hm;
		m->rm_nheaders = 1;
	}
	if (rg_below(g, 6) == 0) {
		m->rm_fraction.rf_set = true;
		m->rm_fraction.rf_numerator = rg_below(g, 101);
		m->rm_fraction.rf_denominator = 100;
	}
	if (rg_below(g, 8) == 0) {
		memset(qm, 0, sizeof(*qm));
		qm->qm_name = "a";
		qm->qm_present = true;
		m->rm_query = qm;
		m->rm_nquery = 1;
	}
}

/* A table of 1..max routes (max <= RG_MAXROUTES) in t->t_vh. */
static inline void
rg_table(struct rg *g, struct rg_table *t, size_t max)
{
	size_t i, n = 1 + rg_below(g, (uint32_t)max);

	memset(&t->t_vh, 0, sizeof(t->t_vh));
	for (i = 0; i < n; i++)
		rg_route(g, t, i);
	t->t_vh.vh_routes = t->t_routes;
	t->t_vh.vh_nroutes = n;
}

/* A request for the table: a path (often a route's value with more after
 * it, in other case), maybe the header "x-a", and its random draw for
 * runtime_fraction (one per request, as the worker draws it). */
struct rg_req {
	char			 q_path[RG_MAXPATH + RG_MAXVAL + 1];
	char			 q_buf[8];
	struct http1_hdr	 q_hdr;
	struct wrk_rq_view	 q_rv;
	char			 q_scratch[256];
	uint32_t		 q_draw;
};

static inline bool
rg_fraction(const struct cd_fraction *rf, void *arg)
{
	const uint32_t *draw = arg;

	return rf->rf_denominator != 0 &&
	    *draw % rf->rf_denominator < rf->rf_numerator;
}

static inline void
rg_req(struct rg *g, const struct rg_table *t, struct rg_req *q)
{
	size_t len = 0, tail;

	memset(q, 0, sizeof(*q));
	if (rg_below(g, 4) != 0) {
		snprintf(q->q_path, sizeof(q->q_path), "%s",
		    t->t_vals[rg_below(g, (uint32_t)t->t_vh.vh_nroutes)]);
		len = strlen(q->q_path);
		rg_flip_case(g, q->q_path, len);
	}
	tail = rg_below(g, 3) == 0 ? 0 : rg_below(g, RG_MAXPATH - 8);
	rg_str(g, "/abAB?=#&", q->q_path + len, tail);
	len += tail;
	q->q_rv.rv_base = q->q_buf;
	q->q_rv.rv_path = q->q_path;
	q->q_rv.rv_path_len = len;
	q->q_rv.rv_scratch = q->q_scratch;
	q->q_rv.rv_scratch_len = sizeof(q->q_scratch);
	q->q_draw = rg_next(g);
	q->q_rv.rv_fraction = rg_fraction;
	q->q_rv.rv_fraction_arg = &q->q_draw;
	if (rg_below(g, 2) == 0) {
		memcpy(q->q_buf, "x-a", 3);
		q->q_buf[3] = rg_below(g, 2) ? '1' : '0';
		q->q_hdr.h_name.s_off = 0;
		q->q_hdr.h_name.s_len = 3;
		q->q_hdr.h_value.s_off = 3;
		q->q_hdr.h_value.s_len = 1;
		q->q_rv.rv_hdrs = &q->q_hdr;
		q->q_rv.rv_nhdrs = 1;
	}
}

/* ---- domain sets ------------------------------------------------------- */

struct rg_domains {
	struct cd_listener	 d_l;
	struct cd_vhost		 d_vh[RG_MAXVH];
	char			*d_ptr[RG_MAXVH][RG_MAXDOM];
	char			 d_str[RG_MAXVH][RG_MAXDOM][8];
};

/* 1..RG_MAXVH virtual hosts of 1..RG_MAXDOM domains each: exact names,
 * "*suffix", "prefix*", "*", sometimes repeated. */
static inline void
rg_domains(struct rg *g, struct rg_domains *ds)
{
	size_t i, j, n, len;
	char *d;

	memset(ds, 0, sizeof(*ds));
	n = 1 + rg_below(g, RG_MAXVH);
	for (i = 0; i < n; i++) {
		ds->d_vh[i].vh_domains = ds->d_ptr[i];
		ds->d_vh[i].vh_ndomains = 1 + rg_below(g, RG_MAXDOM);
		for (j = 0; j < ds->d_vh[i].vh_ndomains; j++) {
			d = ds->d_ptr[i][j] = ds->d_str[i][j];
			len = rg_below(g, 6);
			rg_str(g, "ab.-", d, len);
			switch (rg_below(g, 8)) {
			case 0:
			case 1:
				memmove(d + 1, d, len + 1);
				d[0] = '*';
				break;
			case 2:
			case 3:
				d[len] = '*';
				d[len + 1] = '\0';
				break;
			case 4:
				strcpy(d, "*");
				break;
			case 5:
				rg_flip_case(g, d, len);
				break;
			}
		}
	}
	ds->d_l.l_vhosts = ds->d_vh;
	ds->d_l.l_nvhosts = n;
}

/* A host for the set: random bytes, or a domain with the star replaced
 * by a few bytes (or by none), in other case. */
static inline size_t
rg_host(struct rg *g, const struct rg_domains *ds, char *h)
{
	const struct cd_vhost *vh;
	const char *d, *star;
	size_t len, w;

	if (rg_below(g, 4) == 0) {
		len = rg_below(g, RG_MAXHOST);
		rg_str(g, "ab.-*:A", h, len);
		return len;
	}
	vh = &ds->d_vh[rg_below(g, (uint32_t)ds->d_l.l_nvhosts)];
	d = vh->vh_domains[rg_below(g, (uint32_t)vh->vh_ndomains)];
	w = rg_below(g, 3);
	if ((star = strchr(d, '*')) == NULL) {
		len = strlen(d);
		memcpy(h, d, len);
	} else {
		len = (size_t)(star - d);
		memcpy(h, d, len);
		rg_str(g, "ab.", h + len, w);
		memcpy(h + len + w, star + 1, strlen(star + 1));
		len += w + strlen(star + 1);
	}
	rg_flip_case(g, h, len);
	return len;
}

#endif /* TEST_UNIT_ROUTE_GEN_H */
