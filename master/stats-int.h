/*
 * What the stats files (stats.c, stats_text.c, stats_json.c,
 * stats_prom.c) share beyond stats.h: Envoy's histogram quantiles and
 * bucket bounds, one table each.
 */
#ifndef CANARYD_MASTER_STATS_INT_H
#define CANARYD_MASTER_STATS_INT_H

#include "stats.h"

/* Envoy's supported quantiles as /stats prints them ("99.5"). */
extern const char *const mst_stats_q_names[MST_HIST_NQ];
/* Envoy's default histogram bucket bounds, ms (Prometheus "le"), and
 * the same as hist_fmt() prints them. */
extern const double mst_stats_le[MST_HIST_NLE];
extern const char *const mst_stats_le_names[MST_HIST_NLE];

/*
 * One cluster's stats in a list (stats.c, collect_cluster()), from
 * cb_first: cb_nfixed that its shape fixes, in the order they are
 * collected, then cb_ncodes per code counters and cb_nretry retry ones,
 * each run in name order.
 */
struct mst_cl_block {
	size_t		 cb_first;
	size_t		 cb_nfixed;
	size_t		 cb_ncodes;
	size_t		 cb_nretry;
	int		 cb_shape;	/* < MST_STATS_SHAPES */
};

/* Sort the block of v that blk describes (names in place): the shape's
 * order, sorted the first time so sees the shape, then the codes merged
 * in (stats_order.c).  0, or -1 with errno ENOMEM. */
int	 mst_stats_order_block(struct mst_stats_order *so, struct mst_stat *v,
	    const struct mst_cl_block *blk);

/* A stat as /stats/prometheus prints it (stats_prom.c). */
struct mst_prom_tag {
	int	 t_id;
	size_t	 t_off;		/* value: a slice of the stat name */
	size_t	 t_len;
};

struct mst_prom_ent {
	const struct mst_stat *pe_st;
	size_t		 pe_fam_off;
	const char	*pe_fam;	/* set once fams stops moving */
	struct mst_prom_tag pe_tags[8];
	int		 pe_ntags;
};

/* pe for st: its labels, its family appended to fams (NUL-terminated, at
 * pe_fam_off); rm is scratch.  0, or -1 (out of memory). */
int	 mst_prom_ent(struct mst_prom_ent *pe, const struct mst_stat *st,
	    struct buf *fams, struct buf *rm);
/* pe for st, a stat of a cluster whose name has no dot, its prefix
 * ("cluster.<name>.") plen bytes: tp, mst_prom_ent()'s for the same suffix
 * after "cluster.x.", moved onto st's name.  The family is tp's. */
void	 mst_prom_ent_cluster(struct mst_prom_ent *pe,
	    const struct mst_prom_ent *tp, const struct mst_stat *st,
	    size_t plen);
/* The page's order: counters, gauges, histograms; family; name. */
int	 mst_prom_cmp(const struct mst_prom_ent *, const struct mst_prom_ent *);
/* pe's series (hs: a histogram's values), after a "# TYPE" line when its
 * family or type is not prev's (then prev becomes pe's). */
void	 mst_prom_line(struct buf *, const struct mst_prom_ent *,
	    const struct mst_hist_stat *hs, struct buf *prev, int *prev_type);

#endif /* CANARYD_MASTER_STATS_INT_H */
