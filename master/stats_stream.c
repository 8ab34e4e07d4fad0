/*
 * /stats a piece at a time (see stats.h): the clusters in the order of
 * their stat names, each cluster's stats collected when the page reaches
 * it, merged with the few stats that are not a cluster's.  Envoy sorts a
 * page by name; as long as no cluster's "cluster.<name>." starts another
 * one's, the stats of one cluster sit together in that order, so walking
 * the clusters by that prefix and merging in the rest gives the sorted
 * page without holding every stat at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "stats-int.h"
#include "stats.h"

/* stats looked at per piece at most: a filter that keeps few of them
 * would otherwise walk every cluster in one piece (126 ms of the loop at
 * 10,000 clusters); a piece may then be empty, and the next one comes at
 * the loop's next turn */
#define CURSOR_LOOK_MAX	8192

#define PASS_STATS	0	/* counters and gauges */
#define PASS_HIST	1	/* then the histograms */
#define PASS_DONE	2

struct mst_stats_cursor {
	struct mst_stats_filter	 sc_f;
	int			 sc_form;	/* MST_STATS_TEXT, _JSON */
	int			 sc_pass;
	int			 sc_begun;	/* the page's head is out */
	struct mst_stat_list	 sc_base;	/* the stats not a cluster's */
	size_t			 sc_bi;		/* next in sc_base */
	struct mst_stats_order	*sc_so;		/* src's, or sc_own */
	struct mst_stats_order	 sc_own;
	uint64_t		 sc_gen;	/* sc_so's when the page began */
	size_t			 sc_ncl;	/* blocks per pass: 1 or all */
	size_t			 sc_ci;		/* next block */
	struct mst_stat_list	 sc_blk;	/* the block being printed */
	size_t			 sc_ki;		/* next in sc_blk */
	int			 sc_ahead;	/* sc_blk's last < sc_base's next */
	int			 sc_first;	/* JSON: no element yet */
	size_t			 sc_nh;		/* JSON: histograms out */
};

/*
 * The clusters in the order of their stat prefixes: src's order, or the
 * cursor's own when src has none; none when two prefixes nest (their
 * stats interleave): then the clusters are one block.  0, or -1 (out of
 * memory).
 */
static int
cur_order(struct mst_stats_cursor *c, const struct mst_stats_src *src)
{
	const struct cd_conf *conf = src->ss_conf;

	c->sc_so = src->ss_order != NULL ? src->ss_order : &c->sc_own;
	c->sc_ncl = conf->c_nclusters > 0 ? 1 : 0;
	c->sc_gen = c->sc_so->so_gen;
	if (conf->c_nclusters < 2)
		return 0;
	if (mst_stats_order_get(c->sc_so, conf) == -1)
		return -1;
	c->sc_gen = c->sc_so->so_gen;
	if (!c->sc_so->so_nest)
		c->sc_ncl = conf->c_nclusters;
	return 0;
}

struct mst_stats_cursor *
mst_stats_cursor_new(const struct mst_stats_src *src,
    const struct mst_stats_filter *f, int form, struct mst_stat_list *base)
{
	struct mst_stats_cursor *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		mst_stats_list_free(base);
		return NULL;
	}
	c->sc_base = *base;
	memset(base, 0, sizeof(*base));
	buf_init(&c->sc_blk.sl_names);
	if (f != NULL)
		c->sc_f = *f;
	else
		c->sc_f.sf_types = MST_STAT_ALL;
	c->sc_form = form;
	c->sc_first = 1;
	if (cur_order(c, src) == -1) {
		mst_stats_cursor_free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->sc_pass = PASS_STATS - 1;
	return c;
}

void
mst_stats_cursor_free(struct mst_stats_cursor *c)
{
	if (c == NULL)
		return;
	mst_stats_list_free(&c->sc_base);
	mst_stats_list_free(&c->sc_blk);
	mst_stats_order_reset(&c->sc_own);
	free(c);
}

/* On to the next pass this filter prints anything in. */
static void
cur_next_pass(struct mst_stats_cursor *c)
{
	int want;

	mst_stats_list_free(&c->sc_blk);
	c->sc_bi = c->sc_ki = c->sc_ci = 0;
	for (c->sc_pass++; c->sc_pass < PASS_DONE; c->sc_pass++) {
		want = c->sc_pass == PASS_HIST ? MST_STAT_HISTOGRAM :
		    MST_STAT_COUNTER | MST_STAT_GAUGE;
		if (c->sc_f.sf_types & want)
			break;
	}
}

/* The next block's stats into sc_blk.  0, or -1 (out of memory). */
static int
cur_load(struct mst_stats_cursor *c, const struct mst_stats_src *src)
{
	struct mst_stats_src own;
	size_t i, n;

	mst_stats_list_free(&c->sc_blk);
	c->sc_ki = 0;
	if (c->sc_ncl > 1) {
		i = c->sc_so->so_cl[c->sc_ci];
		n = 1;
	} else {
		i = 0;
		n = src->ss_conf->c_nclusters;
	}
	c->sc_ci++;
	own = *src;
	own.ss_order = c->sc_so;
	if (mst_stats_collect_clusters(&own, i, n, c->sc_pass == PASS_HIST ?
	    MST_CL_HIST : MST_CL_NOHIST, &c->sc_blk) == -1)
		return -1;
	/* the base's next stat after the whole block: no compare per stat */
	c->sc_ahead = c->sc_bi >= c->sc_base.sl_n || (c->sc_blk.sl_n > 0 &&
	    strcmp(c->sc_base.sl_v[c->sc_bi].st_name,
	    c->sc_blk.sl_v[c->sc_blk.sl_n - 1].st_name) > 0);
	return 0;
}

/* The next stat of the pass in name order, *owner its list; NULL at the
 * pass's end or, with *rc -1, out of memory. */
static const struct mst_stat *
cur_pick(struct mst_stats_cursor *c, const struct mst_stats_src *src,
    const struct mst_stat_list **owner, int *rc)
{
	const struct mst_stat *b, *k;

	while (c->sc_ki >= c->sc_blk.sl_n && c->sc_ci < c->sc_ncl)
		if (cur_load(c, src) == -1) {
			*rc = -1;
			return NULL;
		}
	b = c->sc_bi < c->sc_base.sl_n ? &c->sc_base.sl_v[c->sc_bi] : NULL;
	k = c->sc_ki < c->sc_blk.sl_n ? &c->sc_blk.sl_v[c->sc_ki] : NULL;
	if (b != NULL && (k == NULL || (!c->sc_ahead &&
	    strcmp(b->st_name, k->st_name) <= 0))) {
		c->sc_bi++;
		*owner = &c->sc_base;
		return b;
	}
	if (k != NULL) {
		c->sc_ki++;
		*owner = &c->sc_blk;
	}
	return k;
}

static void
cur_emit(struct mst_stats_cursor *c, struct buf *b,
    const struct mst_stat_list *owner, const struct mst_stat *st)
{
	if (c->sc_form == MST_STATS_TEXT) {
		mst_stats_text_one(b, owner, st);
		return;
	}
	mst_stats_json_one(b, owner, st, c->sc_first,
	    st->st_type == MST_STAT_HISTOGRAM ? c->sc_nh++ : 0);
	c->sc_first = 0;
}

int
mst_stats_cursor_next(struct mst_stats_cursor *c,
    const struct mst_stats_src *src, struct buf *b, size_t want)
{
	const struct mst_stat_list *owner = NULL;
	const struct mst_stat *st;
	size_t start = b->b_len, looked = 0;
	int rc = 0;

	if (c->sc_pass == PASS_DONE)
		return 0;
	if (c->sc_so != NULL && (c->sc_so->so_gen != c->sc_gen ||
	    (c->sc_ncl > 1 && c->sc_so->so_conf != src->ss_conf))) {
		errno = ESTALE;		/* the order was rebuilt: a reload */
		return -1;
	}
	if (!c->sc_begun) {
		c->sc_begun = 1;
		if (c->sc_form == MST_STATS_JSON)
			buf_puts(b, "{\"stats\":[");
		cur_next_pass(c);
	}
	while (c->sc_pass < PASS_DONE && b->b_len - start < want &&
	    looked++ < CURSOR_LOOK_MAX) {
		if ((st = cur_pick(c, src, &owner, &rc)) == NULL) {
			if (rc == -1)
				return -1;
			cur_next_pass(c);
			continue;
		}
		if ((st->st_type == MST_STAT_HISTOGRAM) ==
		    (c->sc_pass == PASS_HIST) && mst_stats_match(&c->sc_f, st))
			cur_emit(c, b, owner, st);
	}
	if (c->sc_pass == PASS_DONE && c->sc_form == MST_STATS_JSON)
		buf_puts(b, c->sc_nh > 0 ? "]}}]}" : "]}");
	if (b->b_oom)
		return -1;
	return c->sc_pass < PASS_DONE ? 1 : 0;
}
