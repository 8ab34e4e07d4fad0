/*
 * /stats/prometheus a piece at a time (see stats.h).  The page is grouped
 * by family ("envoy_cluster_upstream_rq_total"), each family running over
 * every cluster, so it cannot follow the clusters the way the text page
 * does.  Instead the clusters are collected a few at a time into a small
 * table, one value per (cluster, stat suffix), with each suffix's family
 * worked out once; then the families are printed in the page's order,
 * each over the clusters in the order of their names, merged with the few
 * stats that are not a cluster's.  A cluster name with a dot in it (the
 * family would then depend on the name) or two names that nest make the
 * caller print the page at once (mst_stats_prometheus()).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "stats-int.h"
#include "stats.h"

#define PROM_STEP_CLUSTERS	100	/* collected per call */
#define PROM_NO_HIST		UINT32_MAX

/* A stat suffix some cluster has ("upstream_rq_total"). */
struct psuf {
	char		*ps_name;
	int		 ps_type;
	size_t		 ps_fam;	/* offset into pc_sfams */
	struct mst_prom_ent ps_pe;	/* "cluster.x.<suffix>"'s labels */
};

/* One cluster's value of one suffix. */
struct pval {
	uint32_t	 pv_key;	/* the suffix's id; once ranked, its rank */
	uint32_t	 pv_hist;	/* into pc_h, or PROM_NO_HIST */
	uint64_t	 pv_v;
};

struct mst_prom_cursor {
	struct mst_stats_filter	 pc_f;
	int			 pc_collected;	/* the table is complete */
	/* the stats not a cluster's, in the page's order */
	struct mst_stat_list	 pc_base;
	struct mst_prom_ent	*pc_bents;
	size_t			 pc_nb, pc_bi;
	struct buf		 pc_bfams;
	/* the clusters by name, their prefixes: src's order or pc_own */
	struct mst_stats_order	*pc_so;
	struct mst_stats_order	 pc_own;
	uint64_t		 pc_gen;	/* pc_so's at the start */
	size_t			 pc_ncl;
	/* the table: pc_v[pc_voff[k] .. pc_voff[k + 1]) is cluster k's */
	struct psuf		*pc_suf;
	size_t			 pc_nsuf, pc_sufcap;
	uint32_t		*pc_hash;	/* sid + 1; 0: empty */
	size_t			 pc_hcap;
	struct buf		 pc_sfams;
	struct pval		*pc_v;
	size_t			 pc_nv, pc_vcap;
	size_t			*pc_voff;
	size_t			*pc_pos;	/* printing: cluster k's next */
	struct mst_hist_stat	*pc_h;
	size_t			 pc_nh, pc_hcap2;
	/* printing: suffixes in page order, a family (group) at a time */
	uint32_t		*pc_rank;
	size_t			 pc_g, pc_gn;	/* the group: pc_rank[g .. g+gn) */
	size_t			 pc_ci;		/* the cluster */
	struct buf		 pc_prev;
	int			 pc_prev_type;
	struct buf		 pc_name, pc_rm;	/* scratch */
};

void
mst_prom_cursor_free(struct mst_prom_cursor *c)
{
	size_t i;

	if (c == NULL)
		return;
	mst_stats_list_free(&c->pc_base);
	free(c->pc_bents);
	buf_free(&c->pc_bfams);
	mst_stats_order_reset(&c->pc_own);
	for (i = 0; i < c->pc_nsuf; i++)
		free(c->pc_suf[i].ps_name);
	free(c->pc_suf);
	free(c->pc_hash);
	buf_free(&c->pc_sfams);
	free(c->pc_v);
	free(c->pc_voff);
	free(c->pc_pos);
	free(c->pc_h);
	free(c->pc_rank);
	buf_free(&c->pc_prev);
	buf_free(&c->pc_name);
	buf_free(&c->pc_rm);
	free(c);
}

static const struct mst_prom_cursor *qcur;	/* for rank_cmp */

static int
bent_cmp(const void *a, const void *b)
{
	return mst_prom_cmp(a, b);
}

/* The base list's entries, filtered, in the page's order.  0 or -1. */
static int
pc_base(struct mst_prom_cursor *c)
{
	size_t i;

	if (c->pc_base.sl_n > 0 && (c->pc_bents = calloc(c->pc_base.sl_n,
	    sizeof(*c->pc_bents))) == NULL)
		return -1;
	for (i = 0; i < c->pc_base.sl_n; i++)
		if (mst_stats_match(&c->pc_f, &c->pc_base.sl_v[i]) &&
		    mst_prom_ent(&c->pc_bents[c->pc_nb++],
		    &c->pc_base.sl_v[i], &c->pc_bfams, &c->pc_rm) == -1)
			return -1;
	for (i = 0; i < c->pc_nb; i++)
		c->pc_bents[i].pe_fam = c->pc_bfams.b_data +
		    c->pc_bents[i].pe_fam_off;
	if (c->pc_nb > 0)
		qsort(c->pc_bents, c->pc_nb, sizeof(*c->pc_bents), bent_cmp);
	return 0;
}

/* Cluster k's prefix, "cluster.<name>.", k in name order. */
static const char *
pc_pfx(const struct mst_prom_cursor *c, size_t k)
{
	return c->pc_so->so_pfx + k * c->pc_so->so_w;
}

/* Can the page go a cluster at a time: no dot in a name, none nests. */
static int
pc_streamable(const struct mst_prom_cursor *c)
{
	const char *p;
	size_t k;

	if (c->pc_so->so_nest)
		return 0;
	for (k = 0; k < c->pc_ncl; k++) {
		p = pc_pfx(c, k);
		if (strchr(p + 8, '.') != p + strlen(p) - 1)
			return 0;
	}
	return 1;
}

struct mst_prom_cursor *
mst_prom_cursor_new(const struct mst_stats_src *src,
    const struct mst_stats_filter *f, struct mst_stat_list *base,
    int *whole)
{
	struct mst_prom_cursor *c;
	int rc;

	*whole = 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->pc_base = *base;
	memset(base, 0, sizeof(*base));
	if (f != NULL)
		c->pc_f = *f;
	else
		c->pc_f.sf_types = MST_STAT_ALL;
	buf_init(&c->pc_bfams);
	buf_init(&c->pc_sfams);
	buf_init(&c->pc_prev);
	buf_init(&c->pc_name);
	buf_init(&c->pc_rm);
	c->pc_ncl = src->ss_conf->c_nclusters;
	c->pc_so = src->ss_order != NULL ? src->ss_order : &c->pc_own;
	rc = mst_stats_order_get(c->pc_so, src->ss_conf);
	c->pc_gen = c->pc_so->so_gen;
	if (rc == 0 && !pc_streamable(c))
		rc = 1;
	if (rc == 0 && (c->pc_voff = calloc(c->pc_ncl + 1,
	    sizeof(*c->pc_voff))) == NULL)
		rc = -1;
	if (rc == 0 && pc_base(c) == -1)
		rc = -1;
	if (rc != 0) {
		/* the base list goes back: the caller prints it whole */
		if (rc == 1) {
			*base = c->pc_base;
			memset(&c->pc_base, 0, sizeof(c->pc_base));
			*whole = 1;
		}
		mst_prom_cursor_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

static uint32_t
suf_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* Double the hash table (or make it).  0 or -1. */
static int
suf_rehash(struct mst_prom_cursor *c)
{
	size_t cap = c->pc_hcap != 0 ? c->pc_hcap * 2 : 512, i, j;
	uint32_t *h;

	if ((h = calloc(cap, sizeof(*h))) == NULL)
		return -1;
	for (i = 0; i < c->pc_nsuf; i++) {
		for (j = suf_hash(c->pc_suf[i].ps_name) & (cap - 1); h[j] != 0;
		    j = (j + 1) & (cap - 1))
			;
		h[j] = (uint32_t)i + 1;
	}
	free(c->pc_hash);
	c->pc_hash = h;
	c->pc_hcap = cap;
	return 0;
}

/* The id of suffix s (of a stat of type), added if new; -1: no memory. */
static int64_t
suf_id(struct mst_prom_cursor *c, const char *s, int type)
{
	struct psuf *v;
	size_t j, cap;

	if (c->pc_nsuf * 2 >= c->pc_hcap && suf_rehash(c) == -1)
		return -1;
	for (j = suf_hash(s) & (c->pc_hcap - 1); c->pc_hash[j] != 0;
	    j = (j + 1) & (c->pc_hcap - 1))
		if (strcmp(c->pc_suf[c->pc_hash[j] - 1].ps_name, s) == 0)
			return c->pc_hash[j] - 1;
	if (c->pc_nsuf == c->pc_sufcap) {
		cap = c->pc_sufcap != 0 ? c->pc_sufcap * 2 : 64;
		if ((v = reallocarray(c->pc_suf, cap, sizeof(*v))) == NULL)
			return -1;
		c->pc_suf = v;
		c->pc_sufcap = cap;
	}
	v = &c->pc_suf[c->pc_nsuf];
	if ((v->ps_name = strdup(s)) == NULL)
		return -1;
	v->ps_type = type;
	v->ps_fam = 0;
	c->pc_hash[j] = (uint32_t)++c->pc_nsuf;
	return c->pc_nsuf - 1;
}

/* Room for nv values and nh histograms in all.  0 or -1. */
static int
pc_grow(struct mst_prom_cursor *c, size_t nv, size_t nh)
{
	struct mst_hist_stat *h;
	struct pval *v;

	if (nv > c->pc_vcap) {
		if ((v = reallocarray(c->pc_v, nv, sizeof(*v))) == NULL)
			return -1;
		c->pc_v = v;
		c->pc_vcap = nv;
	}
	if (nh > c->pc_hcap2) {
		if ((h = reallocarray(c->pc_h, nh, sizeof(*h))) == NULL)
			return -1;
		c->pc_h = h;
		c->pc_hcap2 = nh;
	}
	return 0;
}

/* Room for one more value and histogram.  0 or -1. */
static int
pc_room(struct mst_prom_cursor *c)
{
	return pc_grow(c, c->pc_nv < c->pc_vcap ? 0 : c->pc_vcap != 0 ?
	    c->pc_vcap * 2 : 4096, c->pc_nh < c->pc_hcap2 ? 0 :
	    c->pc_hcap2 != 0 ? c->pc_hcap2 * 2 : 256);
}

/*
 * Room for the clusters left, at the rate of those collected so far (a
 * sixteenth more for the codes some add): one allocation, rather than
 * doublings that each copy the table in one go of the loop.  0 or -1.
 */
static int
pc_reserve(struct mst_prom_cursor *c, size_t done)
{
	size_t n = c->pc_ncl + c->pc_ncl / 16;

	if (done == 0)
		return 0;
	return pc_grow(c, c->pc_nv / done * n + 64, c->pc_nh / done * n + 8);
}

/* Cluster k (in name order) into the table.  0 or -1. */
static int
pc_collect(struct mst_prom_cursor *c, const struct mst_stats_src *src,
    size_t k)
{
	const struct mst_stat *st;
	struct mst_stats_src own = *src;
	struct mst_stat_list sl;
	size_t i, plen = strlen(pc_pfx(c, k));
	struct pval *pv;
	int64_t sid;
	int rc = -1;

	own.ss_order = c->pc_so;
	if (mst_stats_collect_clusters(&own, c->pc_so->so_cl[k], 1,
	    MST_CL_ALL, &sl) == -1)
		goto out;
	for (i = 0; i < sl.sl_n; i++) {
		st = &sl.sl_v[i];
		if (!mst_stats_match(&c->pc_f, st))
			continue;
		if (pc_room(c) == -1 ||
		    (sid = suf_id(c, st->st_name + plen, st->st_type)) == -1)
			goto out;
		pv = &c->pc_v[c->pc_nv++];
		pv->pv_key = (uint32_t)sid;
		pv->pv_v = st->st_value;
		pv->pv_hist = PROM_NO_HIST;
		if (st->st_type == MST_STAT_HISTOGRAM) {
			c->pc_h[c->pc_nh] = sl.sl_h[st->st_hist];
			pv->pv_hist = (uint32_t)c->pc_nh++;
		}
	}
	c->pc_voff[k + 1] = c->pc_nv;
	rc = 0;
out:
	mst_stats_list_free(&sl);
	return rc;
}

static int
rank_cmp(const void *a, const void *b)
{
	const struct psuf *x = &qcur->pc_suf[*(const uint32_t *)a];
	const struct psuf *y = &qcur->pc_suf[*(const uint32_t *)b];
	int r;

	if (x->ps_type != y->ps_type)
		return x->ps_type < y->ps_type ? -1 : 1;
	if ((r = strcmp(qcur->pc_sfams.b_data + x->ps_fam,
	    qcur->pc_sfams.b_data + y->ps_fam)) != 0)
		return r;
	return strcmp(x->ps_name, y->ps_name);
}

/* Every suffix's family, and the suffixes in the page's order. */
static int
pc_rank(struct mst_prom_cursor *c)
{
	struct mst_prom_ent pe;
	struct mst_stat st;
	size_t i;

	if (c->pc_nsuf > 0 && (c->pc_rank = calloc(c->pc_nsuf,
	    sizeof(*c->pc_rank))) == NULL)
		return -1;
	for (i = 0; i < c->pc_nsuf; i++) {
		/* the family leaves the cluster's name out: any will do */
		buf_reset(&c->pc_name);
		buf_puts(&c->pc_name, "cluster.x.");
		buf_puts(&c->pc_name, c->pc_suf[i].ps_name);
		memset(&st, 0, sizeof(st));
		st.st_name = c->pc_name.b_data;
		st.st_type = c->pc_suf[i].ps_type;
		if (c->pc_name.b_oom ||
		    mst_prom_ent(&pe, &st, &c->pc_sfams, &c->pc_rm) == -1)
			return -1;
		c->pc_suf[i].ps_fam = pe.pe_fam_off;
		c->pc_suf[i].ps_pe = pe;
		c->pc_rank[i] = (uint32_t)i;
	}
	qcur = c;
	if (c->pc_nsuf > 0)
		qsort(c->pc_rank, c->pc_nsuf, sizeof(*c->pc_rank), rank_cmp);
	qcur = NULL;
	return 0;
}

/* pc_gn: how many suffixes from pc_g share its type and family (the
 * codes of one family, "upstream_rq_200" and "upstream_rq_503"). */
static void
pc_group(struct mst_prom_cursor *c)
{
	const struct psuf *a, *b;

	c->pc_gn = 0;
	if (c->pc_g >= c->pc_nsuf)
		return;
	a = &c->pc_suf[c->pc_rank[c->pc_g]];
	for (c->pc_gn = 1; c->pc_g + c->pc_gn < c->pc_nsuf; c->pc_gn++) {
		b = &c->pc_suf[c->pc_rank[c->pc_g + c->pc_gn]];
		/* each suffix has its copy of the family: by its bytes */
		if (a->ps_type != b->ps_type ||
		    strcmp(c->pc_sfams.b_data + a->ps_fam,
		    c->pc_sfams.b_data + b->ps_fam) != 0)
			break;
	}
}

/*
 * Each cluster's values in the page's order: keyed by their suffix's rank
 * instead of its id, and placed by rank (a cluster has a suffix once), so
 * that printing walks every cluster's values front to back.  0 or -1.
 */
static int
pc_reorder(struct mst_prom_cursor *c)
{
	struct pval *by = NULL, *v;
	uint32_t *rank_of = NULL;
	uint8_t *has = NULL;
	size_t k, i, r, n;
	int rc = -1;

	if (c->pc_nsuf == 0)
		return 0;
	if ((rank_of = calloc(c->pc_nsuf, sizeof(*rank_of))) == NULL ||
	    (by = calloc(c->pc_nsuf, sizeof(*by))) == NULL ||
	    (has = calloc(c->pc_nsuf, 1)) == NULL ||
	    (c->pc_pos = calloc(c->pc_ncl + 1, sizeof(*c->pc_pos))) == NULL)
		goto out;
	for (r = 0; r < c->pc_nsuf; r++)
		rank_of[c->pc_rank[r]] = (uint32_t)r;
	for (k = 0; k < c->pc_ncl; k++) {
		v = c->pc_v + c->pc_voff[k];
		n = c->pc_voff[k + 1] - c->pc_voff[k];
		for (i = 0; i < n; i++) {
			r = rank_of[v[i].pv_key];
			by[r] = v[i];
			by[r].pv_key = (uint32_t)r;
			has[r] = 1;
		}
		for (r = 0, i = 0; i < n; r++)
			if (has[r]) {
				has[r] = 0;
				v[i++] = by[r];
			}
		c->pc_pos[k] = c->pc_voff[k];
	}
	rc = 0;
out:
	free(rank_of);
	free(by);
	free(has);
	return rc;
}

/* The next cluster value to print, cluster pc_ci's next if it is in
 * the group; NULL: none left. */
static const struct pval *
pc_next(struct mst_prom_cursor *c)
{
	size_t p;

	while (c->pc_g < c->pc_nsuf) {
		if (c->pc_ci >= c->pc_ncl) {
			c->pc_g += c->pc_gn;
			pc_group(c);
			c->pc_ci = 0;
			continue;
		}
		p = c->pc_pos[c->pc_ci];
		if (p < c->pc_voff[c->pc_ci + 1] &&
		    c->pc_v[p].pv_key < c->pc_g + c->pc_gn)
			return &c->pc_v[p];
		c->pc_ci++;
	}
	return NULL;
}

/* Print the next entry, the base's or a cluster's.  0: none left. */
static int
pc_emit(struct mst_prom_cursor *c, struct buf *b)
{
	const struct pval *v = pc_next(c);
	const struct mst_prom_ent *be;
	const struct psuf *ps;
	struct mst_prom_ent pe;
	struct mst_stat st;
	size_t plen;

	memset(&pe, 0, sizeof(pe));
	be = c->pc_bi < c->pc_nb ? &c->pc_bents[c->pc_bi] : NULL;
	if (v != NULL) {
		ps = &c->pc_suf[c->pc_rank[v->pv_key]];
		buf_reset(&c->pc_name);
		buf_puts(&c->pc_name, pc_pfx(c, c->pc_ci));
		plen = c->pc_name.b_len;
		buf_puts(&c->pc_name, ps->ps_name);
		if (c->pc_name.b_oom)
			return -1;
		memset(&st, 0, sizeof(st));
		st.st_name = c->pc_name.b_data;
		st.st_type = ps->ps_type;
		st.st_value = v->pv_v;
		/* the suffix's labels, worked out once, on this name */
		mst_prom_ent_cluster(&pe, &ps->ps_pe, &st, plen);
		pe.pe_fam = c->pc_sfams.b_data + ps->ps_fam;
	}
	if (be != NULL && (v == NULL || mst_prom_cmp(be, &pe) <= 0)) {
		mst_prom_line(b, be, be->pe_st->st_type == MST_STAT_HISTOGRAM ?
		    &c->pc_base.sl_h[be->pe_st->st_hist] : NULL, &c->pc_prev,
		    &c->pc_prev_type);
		c->pc_bi++;
		return 1;
	}
	if (v == NULL)
		return 0;
	mst_prom_line(b, &pe, v->pv_hist != PROM_NO_HIST ?
	    &c->pc_h[v->pv_hist] : NULL, &c->pc_prev, &c->pc_prev_type);
	c->pc_pos[c->pc_ci]++;
	return 1;
}

int
mst_prom_cursor_next(struct mst_prom_cursor *c,
    const struct mst_stats_src *src, struct buf *b, size_t want)
{
	size_t start = b->b_len, end;
	int rc = 1;

	if (c->pc_so->so_gen != c->pc_gen ||
	    c->pc_so->so_conf != src->ss_conf) {
		errno = ESTALE;		/* the order was rebuilt: a reload */
		return -1;
	}
	if (!c->pc_collected) {
		/* a few clusters a call, then the order of the page */
		end = c->pc_ci + PROM_STEP_CLUSTERS;
		for (; c->pc_ci < c->pc_ncl && c->pc_ci < end; c->pc_ci++)
			if (pc_collect(c, src, c->pc_ci) == -1)
				return -1;
		if (c->pc_ci < c->pc_ncl)
			return pc_reserve(c, c->pc_ci) == -1 ? -1 : 1;
		if (pc_rank(c) == -1 || pc_reorder(c) == -1)
			return -1;
		c->pc_collected = 1;
		c->pc_ci = 0;
		pc_group(c);
		return 1;
	}
	while (b->b_len - start < want && (rc = pc_emit(c, b)) == 1)
		;
	if (rc == -1 || b->b_oom || c->pc_prev.b_oom)
		return -1;
	return rc;
}
