/*
 * The order of the stats pages, sorted once per configuration (see
 * stats.h, struct mst_stats_order): the clusters by their stat prefixes,
 * and per cluster shape the order of the stats the shape fixes.  A page
 * then sorts nothing per cluster but the few per status code counters
 * traffic created, which it merges in.
 *
 * Why a shape's order holds for every cluster of that shape: each of a
 * cluster's stats is "cluster.<name>." followed by a suffix, and
 * collect_cluster() (stats.c) adds the suffixes of one shape in one
 * sequence whatever the name; with the prefix shared, byte order over the
 * names is byte order over the suffixes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats-int.h"
#include "stats.h"

struct pfx {
	char	*p_name;	/* "cluster.<name>." */
	size_t	 p_i;		/* in the config */
};

static int
pfx_cmp(const void *a, const void *b)
{
	const struct pfx *x = a, *y = b;

	return strcmp(x->p_name, y->p_name);
}

void
mst_stats_order_reset(struct mst_stats_order *so)
{
	uint64_t gen = so->so_gen;
	int s;

	free(so->so_cl);
	free(so->so_pfx);
	for (s = 0; s < MST_STATS_SHAPES; s++)
		free(so->so_perm[s]);
	free(so->so_tmp);
	memset(so, 0, sizeof(*so));
	so->so_gen = gen + 1;
}

void
mst_stats_order_rebind(struct mst_stats_order *so, const struct cd_conf *conf)
{
	if (so->so_conf != NULL)
		so->so_conf = conf;
}

/* The prefixes of conf's clusters sorted into so.  0 or -1. */
static int
order_build(struct mst_stats_order *so, const struct cd_conf *conf)
{
	size_t i, n = conf->c_nclusters, w = CD_NAME_MAX + 16;
	struct pfx *v;
	char *tmp;

	v = calloc(n, sizeof(*v));
	tmp = calloc(n, w);
	so->so_pfx = calloc(n, w);
	so->so_cl = calloc(n, sizeof(*so->so_cl));
	if (v == NULL || tmp == NULL || so->so_pfx == NULL ||
	    so->so_cl == NULL) {
		free(v);
		free(tmp);
		return -1;
	}
	so->so_w = w;
	for (i = 0; i < n; i++) {
		v[i].p_name = tmp + i * w;
		v[i].p_i = i;
		memcpy(v[i].p_name, "cluster.", 8);
		mst_stats_cluster_prefix(&conf->c_clusters[i], v[i].p_name + 8,
		    w - 9);
		strlcat(v[i].p_name, ".", w);
	}
	qsort(v, n, sizeof(*v), pfx_cmp);
	for (i = 0; i < n; i++) {
		so->so_cl[i] = v[i].p_i;
		strlcpy(so->so_pfx + i * w, v[i].p_name, w);
		if (i > 0 && strncmp(v[i - 1].p_name, v[i].p_name,
		    strlen(v[i - 1].p_name)) == 0)
			so->so_nest = 1;
	}
	free(v);
	free(tmp);
	return 0;
}

int
mst_stats_order_get(struct mst_stats_order *so, const struct cd_conf *conf)
{
	if (so->so_conf == conf)
		return 0;
	mst_stats_order_reset(so);
	if (conf->c_nclusters > 0 && order_build(so, conf) == -1) {
		mst_stats_order_reset(so);
		errno = ENOMEM;
		return -1;
	}
	so->so_conf = conf;
	return 0;
}

/* Room for n stats in so_tmp.  0 or -1. */
static int
tmp_room(struct mst_stats_order *so, size_t n)
{
	struct mst_stat *t;

	if (n <= so->so_tmpcap)
		return 0;
	if ((t = reallocarray(so->so_tmp, n, sizeof(*t))) == NULL)
		return -1;
	so->so_tmp = t;
	so->so_tmpcap = n;
	return 0;
}

/* The order of shape's n fixed stats b[0 .. n): sorted the first time,
 * by insertion (a few dozen names, once).  NULL: out of memory. */
static const uint32_t *
shape_perm(struct mst_stats_order *so, int shape, const struct mst_stat *b,
    size_t n)
{
	uint32_t *p, x;
	size_t i, j;

	if (so->so_perm[shape] != NULL && so->so_nperm[shape] == n)
		return so->so_perm[shape];
	if ((p = reallocarray(so->so_perm[shape], n, sizeof(*p))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		x = (uint32_t)i;
		for (j = i; j > 0 && strcmp(b[p[j - 1]].st_name,
		    b[x].st_name) > 0; j--)
			p[j] = p[j - 1];
		p[j] = x;
	}
	so->so_perm[shape] = p;
	so->so_nperm[shape] = n;
	return p;
}

/* b[0 .. na) and b[na .. na + nb), each sorted, merged in place. */
static void
merge(struct mst_stat *b, size_t na, size_t nb, struct mst_stat *t)
{
	size_t i = 0, j = na, k = 0;

	if (nb == 0)
		return;
	while (i < na && j < na + nb)
		t[k++] = strcmp(b[i].st_name, b[j].st_name) <= 0 ? b[i++] :
		    b[j++];
	while (i < na)
		t[k++] = b[i++];
	while (j < na + nb)
		t[k++] = b[j++];
	memcpy(b, t, k * sizeof(*b));
}

int
mst_stats_order_block(struct mst_stats_order *so, struct mst_stat *v,
    const struct mst_cl_block *blk)
{
	struct mst_stat *b = v + blk->cb_first;
	size_t nf = blk->cb_nfixed, k;
	const uint32_t *perm;

	if (tmp_room(so, nf + blk->cb_ncodes + blk->cb_nretry) == -1 ||
	    (perm = shape_perm(so, blk->cb_shape, b, nf)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (k = 0; k < nf; k++)
		so->so_tmp[k] = b[perm[k]];
	memcpy(b, so->so_tmp, nf * sizeof(*b));
	merge(b, nf, blk->cb_ncodes, so->so_tmp);
	merge(b, nf + blk->cb_ncodes, blk->cb_nretry, so->so_tmp);
	return 0;
}
