/*
 * The stats (master only): the list of every counter, gauge and
 * histogram behind /stats (stats.c), and its three forms: text
 * (stats_text.c), JSON (stats_json.c) and Prometheus with Envoy's tag
 * extraction (stats_prom.c).
 *
 * Nothing here reads a global or does I/O: the config, the shm segment and
 * the few master-only numbers come in through the arguments, so the unit
 * tests drive every form with conf_load_buf() and a hand-filled struct
 * shm.  Every value is summed from shm at the moment of the call (no
 * cache), so the totals equal what clients saw.
 *
 * Functions that append to a struct buf return 0, or -1 when the buffer ran
 * out of memory (b_oom) or, where said, with errno set.
 */
#ifndef CANARYD_MASTER_STATS_H
#define CANARYD_MASTER_STATS_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/conf-t.h"
#include "shared/hist-t.h"
#include "shared/place-t.h"
#include "shared/shm-t.h"

#define MST_STAT_COUNTER	0x1
#define MST_STAT_GAUGE		0x2
#define MST_STAT_HISTOGRAM	0x4
#define MST_STAT_ALL		(MST_STAT_COUNTER | MST_STAT_GAUGE |	\
				    MST_STAT_HISTOGRAM)

struct mst_stat {
	const char	*st_name;	/* into the list's name buffer */
	size_t		 st_off;	/* offset of the name, while collecting */
	uint64_t	 st_value;	/* negative gauge sums print as 0;
					 * a histogram's sample count */
	int		 st_type;	/* MST_STAT_* (one bit) */
	int		 st_used;	/* written since start: ?usedonly */
	size_t		 st_hist;	/* histograms: index into sl_h */
};

/* Envoy's supported quantiles (0 25 50 75 90 95 99 99.5 99.9 100) and
 * Prometheus bucket bounds (0.5 ms .. 3600000 ms, then +Inf). */
#define MST_HIST_NQ		10
#define MST_HIST_NLE		19
#define MST_HIST_FLUSH_MS	5000	/* Envoy's stats_flush_interval */

/* What a page prints for one histogram, computed when collecting. */
struct mst_hist_stat {
	double		 hs_cum[MST_HIST_NQ];	/* ms since start; NaN: empty */
	double		 hs_ival[MST_HIST_NQ];	/* ms, last flush interval */
	uint64_t	 hs_count;
	uint64_t	 hs_sum_us;
	uint64_t	 hs_le[MST_HIST_NLE];	/* cumulative, per bound */
};

/* A snapshot of every stat, sorted by name in byte order. */
struct mst_stat_list {
	struct mst_stat	*sl_v;
	size_t		 sl_n;
	size_t		 sl_cap;
	struct buf	 sl_names;	/* the names, NUL-terminated, back to back */
	int		 sl_oom;
	struct mst_hist_stat *sl_h;	/* histograms' values */
	size_t		 sl_nh;
	size_t		 sl_hcap;
};

/*
 * The histograms as of the last two flushes, per shm cluster record: the
 * interval column of /stats is the difference (Envoy's flush interval).
 * Owned by the admin module, refreshed by mst_stats_hist_flush() every
 * MST_HIST_FLUSH_MS from a master timer.  Zeroed memory is a valid start.
 * Only records whose histogram has samples get an entry.
 */
struct mst_hist_rec {
	char		 hr_name[CD_NAME_MAX];	/* owner */
	struct hist	 hr_last;	/* at the last flush */
	struct hist	 hr_ival;	/* last - previous */
};

struct mst_hist_flush {
	uint64_t	 hf_flushes;
	struct mst_hist_rec **hf_rec;	/* per shm record, or NULL */
	size_t		 hf_n;
};

/* Free what flushes allocated (zeroed after). */
void	 mst_stats_hist_free(struct mst_hist_flush *);

/* The admin listener's own counters (http.admin.*): master memory only. */
struct mst_admin_ctr {
	uint64_t	 ac_cx_total;
	uint64_t	 ac_cx_active;	/* gauge */
	uint64_t	 ac_rq_total;
	uint64_t	 ac_rq_class[5];	/* responses 1xx .. 5xx */
	uint64_t	 ac_rbac_denied;	/* POST refused: 403 */
	uint64_t	 ac_header_timeout;	/* a head took too long */
	uint64_t	 ac_cx_evicted;	/* closed to make room */
};

/*
 * What the order of a page rests on, sorted once per configuration
 * instead of once per page (stats_order.c): the clusters in the order of
 * their stat prefixes ("cluster.<name>."), and, per cluster shape (which
 * optional scopes a cluster has), the order of its stats.  All of one
 * cluster's stats share its prefix, so the order of its stats depends on
 * their suffixes alone, which its shape fixes; the per status code
 * counters, which come and go with traffic, are merged in per page.
 * Zeroed memory is an empty order.  The caller owns it (the admin: one
 * for the running configuration), empties it with mst_stats_order_reset()
 * when a reload changes the configuration's structure and rebinds it with
 * mst_stats_order_rebind() when a reload changes weights alone; a page
 * whose cursor sees the order rebuilt under it stops (ESTALE).
 */
#define MST_STATS_SHAPES	32
struct mst_stats_order {
	uint64_t	 so_gen;	/* bumped by every reset */
	const struct cd_conf *so_conf;	/* so_cl is of it; NULL: none */
	size_t		*so_cl;		/* k-th cluster by prefix: conf index */
	char		*so_pfx;	/* its prefix at so_pfx + k * so_w */
	size_t		 so_w;
	int		 so_nest;	/* a prefix starts another one */
	uint32_t	*so_perm[MST_STATS_SHAPES];	/* per shape, lazily */
	size_t		 so_nperm[MST_STATS_SHAPES];
	struct mst_stat	*so_tmp;	/* scratch for the merge */
	size_t		 so_tmpcap;
};

/* The order of conf's clusters in so (built unless it is already of
 * conf).  0, or -1 with errno ENOMEM (so is then empty). */
int	 mst_stats_order_get(struct mst_stats_order *so,
	    const struct cd_conf *conf);
/* Empty so (zeroed but for the generation, which moves on). */
void	 mst_stats_order_reset(struct mst_stats_order *so);
/* A reload of weights alone: conf has the clusters of the configuration
 * so is of, in the same order with the same options, so so is conf's now
 * (nothing is sorted again; a page begun before goes on). */
void	 mst_stats_order_rebind(struct mst_stats_order *so,
	    const struct cd_conf *conf);

/* Where the stat values come from. */
struct mst_stats_src {
	const struct cd_conf	*ss_conf;
	const struct cd_place	*ss_place;	/* ss_conf's shm records */
	const struct shm	*ss_shm;
	uint64_t		 ss_uptime_s;	/* server.uptime */
	int			 ss_concurrency;	/* server.concurrency */
	const struct mst_admin_ctr *ss_admin;	/* NULL: no http.admin.* */
	const struct mst_hist_flush *ss_hist;	/* NULL: intervals are nan */
	/* NULL: every page sorts its clusters and their stats itself */
	struct mst_stats_order	*ss_order;
};

/* Which stats a page shows. */
struct mst_stats_filter {
	int		 sf_types;	/* MST_STAT_* mask */
	int		 sf_usedonly;
	const regex_t	*sf_re;		/* partial match on the name; NULL: all */
};

/*
 * Build the list of every counter, gauge and histogram with its current
 * value, sorted by full name.  The caller frees it with mst_stats_list_free(), also after
 * a failure.  0, or -1 with errno ENOMEM.
 */
int	 mst_stats_collect(const struct mst_stats_src *, struct mst_stat_list *);
void	 mst_stats_list_free(struct mst_stat_list *);
/*
 * Add one counter or gauge (MST_STAT_COUNTER or MST_STAT_GAUGE) the
 * master keeps outside shm (the rollout engine's) to a collected list,
 * which stays sorted.  0, or -1 with errno ENOMEM.
 */
int	 mst_stats_add(struct mst_stat_list *, int type, uint64_t value,
	    int used, const char *name);

/* Does the filter let st through?  A NULL filter lets everything through. */
int	 mst_stats_match(const struct mst_stats_filter *, const struct mst_stat *);

/*
 * /stats: "name: value\n" per counter and gauge in the list's (sorted)
 * order, then the histograms, "name: P0(i,c) ... P100(i,c)" with i the
 * last flush interval's value (nan when it had no sample) and c the value
 * since start, in ms, or "name: No recorded values".
 */
int	 mst_stats_text(struct buf *, const struct mst_stat_list *,
	    const struct mst_stats_filter *);
/*
 * /stats?format=json: {"stats":[{"name":"...","value":N},...,
 * {"histograms":{"supported_quantiles":[...],"computed_quantiles":
 * [{"name":"...","values":[{"cumulative":C,"interval":I},...]}]}}]}
 * (null for no value); the histograms element only when one matches.
 */
int	 mst_stats_json(struct buf *, const struct mst_stat_list *,
	    const struct mst_stats_filter *);
/*
 * /stats/prometheus: Envoy's default tag extraction (response code and
 * class, cluster name, HTTP connection manager prefix, listener address),
 * "envoy_" names, one "# TYPE" line per family, families sorted by name,
 * counters first, then gauges, then histograms (_bucket with Envoy's
 * bounds and +Inf, cumulative; _sum in ms; _count).
 */
int	 mst_stats_prometheus(struct buf *, const struct mst_stat_list *,
	    const struct mst_stats_filter *);

/* One stat of sl as its page prints it (the text form; the JSON form
 * with first: no element before it, nth: histograms before it). */
void	 mst_stats_text_one(struct buf *, const struct mst_stat_list *,
	    const struct mst_stat *);
void	 mst_stats_json_one(struct buf *, const struct mst_stat_list *,
	    const struct mst_stat *, int first, size_t nth);

/*
 * The pieces of mst_stats_collect(), for the streamed pages: every stat
 * but the clusters', and the stats of the config's clusters i .. i+n-1
 * (what: MST_CL_*), each list sorted (one cluster's by src->ss_order's
 * shapes when there is one).  0, or -1 with errno ENOMEM; the caller
 * frees the list, also after a failure.
 */
#define MST_CL_ALL	0	/* every stat */
#define MST_CL_HIST	1	/* the histogram alone */
#define MST_CL_NOHIST	2	/* every stat but the histogram */
int	 mst_stats_collect_base(const struct mst_stats_src *,
	    struct mst_stat_list *);
int	 mst_stats_collect_clusters(const struct mst_stats_src *, size_t i,
	    size_t n, int what, struct mst_stat_list *);
/* The name cl's stats live under ("cluster.<this>.upstream_rq_total"). */
void	 mst_stats_cluster_prefix(const struct cd_cluster *cl, char *buf,
	    size_t len);

/*
 * A page rendered a piece at a time (stats_stream.c): the stats of one
 * cluster are collected when the output reaches it, so no step holds
 * more than a few clusters' stats, and the output is byte for byte what
 * mst_stats_text() or mst_stats_json() print for the same values.
 * base: mst_stats_collect_base() plus whatever the caller added, taken
 * over (freed with the cursor).  f is copied (its regex must outlive the
 * cursor).  Clusters whose stat names would interleave (one's prefix
 * starts another's, as "a" and "a.b") make the cursor collect the whole
 * list at once first.  NULL with errno ENOMEM.
 */
#define MST_STATS_TEXT	0
#define MST_STATS_JSON	1
struct mst_stats_cursor;
struct mst_stats_cursor *mst_stats_cursor_new(const struct mst_stats_src *,
	    const struct mst_stats_filter *, int form, struct mst_stat_list *base);
/*
 * Append at least want bytes of the page to b (less at its end), with
 * the values of src, the same config the cursor was made with.  1: more
 * to come; 0: the page is complete; -1: out of memory.
 */
int	 mst_stats_cursor_next(struct mst_stats_cursor *,
	    const struct mst_stats_src *, struct buf *b, size_t want);
void	 mst_stats_cursor_free(struct mst_stats_cursor *);

/*
 * /stats/prometheus a piece at a time (stats_prom_stream.c): the clusters
 * collected a few at a time into a table of values (no text until then),
 * then the page, byte for byte mst_stats_prometheus()'s for the same
 * values.  base as for mst_stats_cursor_new().  NULL with *whole 1 when
 * the config's cluster names do not allow it (a dot in one, or two that
 * nest): base is left to the caller, to print at once; NULL with *whole
 * 0: out of memory (base freed).
 */
struct mst_prom_cursor;
struct mst_prom_cursor *mst_prom_cursor_new(const struct mst_stats_src *,
	    const struct mst_stats_filter *, struct mst_stat_list *base,
	    int *whole);
/* As mst_stats_cursor_next(); a call may append nothing and return 1. */
int	 mst_prom_cursor_next(struct mst_prom_cursor *,
	    const struct mst_stats_src *, struct buf *b, size_t want);
void	 mst_prom_cursor_free(struct mst_prom_cursor *);

/*
 * Refresh hf: the interval of every configured cluster becomes what it
 * recorded since the previous call.  A record that changed owner (a
 * structural reload) starts from empty.  Master only; reads shm.
 */
void	 mst_stats_hist_flush(struct mst_hist_flush *hf,
	    const struct cd_conf *, const struct cd_place *,
	    const struct shm *);

/*
 * Cumulative upstream_rq_time quantiles of shm cluster record shm_ci
 * (pl_cluster[]), live from shm: q[i] in [0, 1] (0.99 for p99), out[i] in ms,
 * NaN when the cluster has no sample yet (or q[i] is out of range).
 * 0, or -1 with errno EINVAL for a bad shm_ci.
 */
int	 mst_stats_cluster_quantiles(const struct shm *, int shm_ci,
	    const double *q, size_t nq, double *out);

/* A gauge sum as a page prints it: shm gauges are signed (added and
 * taken from many slots), Envoy's are not, so a negative sum is 0. */
static inline uint64_t
mst_stats_gauge(int64_t v)
{
	return v < 0 ? 0 : (uint64_t)v;
}

#endif /* CANARYD_MASTER_STATS_H */
