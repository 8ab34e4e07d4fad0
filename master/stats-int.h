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
/* Envoy's default histogram bucket bounds, ms (Prometheus "le"). */
extern const double mst_stats_le[MST_HIST_NLE];

/*
 * The config's clusters in the order of their stat prefixes
 * ("cluster.<name>."): (*order)[k] the k-th cluster in the config, its
 * prefix at *names + k * *w.  1 when a prefix starts another one (their
 * stats interleave), else 0; -1 when out of memory.  The caller frees
 * *order and *names.
 */
int	 mst_stats_cluster_order(const struct cd_conf *, size_t **order,
	    char **names, size_t *w);

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
/* The page's order: counters, gauges, histograms; family; name. */
int	 mst_prom_cmp(const struct mst_prom_ent *, const struct mst_prom_ent *);
/* pe's series (hs: a histogram's values), after a "# TYPE" line when its
 * family or type is not prev's (then prev becomes pe's). */
void	 mst_prom_line(struct buf *, const struct mst_prom_ent *,
	    const struct mst_hist_stat *hs, struct buf *prev, int *prev_type);

#endif /* CANARYD_MASTER_STATS_INT_H */
