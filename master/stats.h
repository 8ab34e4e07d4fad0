/*
 * Renderers for the admin pages (master only): the stat list behind
 * /stats (text, JSON, Prometheus with Envoy's tag extraction), /clusters
 * (text and JSON), /listeners, /config_dump and the JSON pretty-printer
 * they share.
 *
 * Nothing here reads a global or does I/O: the config, the shm segment and
 * the few master-only numbers come in through the arguments, so the unit
 * tests drive every page with conf_load_buf() and a hand-filled struct shm.
 * Every value is summed from shm at the moment of the call (no cache), so
 * the totals equal what clients saw.
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
#include "shared/shm-t.h"

#define MST_STAT_COUNTER	0x1
#define MST_STAT_GAUGE		0x2
#define MST_STAT_ALL		(MST_STAT_COUNTER | MST_STAT_GAUGE)

struct mst_stat {
	const char	*st_name;	/* into the list's name buffer */
	size_t		 st_off;	/* offset of the name, while collecting */
	uint64_t	 st_value;	/* negative gauge sums print as 0 */
	int		 st_type;	/* MST_STAT_COUNTER or MST_STAT_GAUGE */
	int		 st_used;	/* written since start: ?usedonly */
};

/* A snapshot of every stat, sorted by name in byte order. */
struct mst_stat_list {
	struct mst_stat	*sl_v;
	size_t		 sl_n;
	size_t		 sl_cap;
	struct buf	 sl_names;	/* the names, NUL-terminated, back to back */
	int		 sl_oom;
};

/* The admin listener's own counters (http.admin.*): master memory only. */
struct mst_admin_ctr {
	uint64_t	 ac_cx_total;
	uint64_t	 ac_cx_active;	/* gauge */
	uint64_t	 ac_rq_total;
	uint64_t	 ac_rq_class[5];	/* responses 1xx .. 5xx */
};

/* Where the stat values come from. */
struct mst_stats_src {
	const struct cd_conf	*ss_conf;
	const struct shm	*ss_shm;
	uint64_t		 ss_uptime_s;	/* server.uptime */
	int			 ss_concurrency;	/* server.concurrency */
	const struct mst_admin_ctr *ss_admin;	/* NULL: no http.admin.* */
};

/* Which stats a page shows. */
struct mst_stats_filter {
	int		 sf_types;	/* MST_STAT_* mask */
	int		 sf_usedonly;
	const regex_t	*sf_re;		/* partial match on the name; NULL: all */
};

/*
 * Build the list of every counter and gauge with its current value, sorted
 * by full name.  The caller frees it with mst_stats_list_free(), also after
 * a failure.  0, or -1 with errno ENOMEM.
 */
int	 mst_stats_collect(const struct mst_stats_src *, struct mst_stat_list *);
void	 mst_stats_list_free(struct mst_stat_list *);

/* Does the filter let st through?  A NULL filter lets everything through. */
int	 mst_stats_match(const struct mst_stats_filter *, const struct mst_stat *);

/* /stats: "name: value\n" per stat, in the list's (sorted) order. */
int	 mst_stats_text(struct buf *, const struct mst_stat_list *,
	    const struct mst_stats_filter *);
/* /stats?format=json: {"stats":[{"name":"...","value":N},...]} */
int	 mst_stats_json(struct buf *, const struct mst_stat_list *,
	    const struct mst_stats_filter *);
/*
 * /stats/prometheus: Envoy's default tag extraction (response code and
 * class, cluster name, HTTP connection manager prefix, listener address),
 * "envoy_" names, one "# TYPE" line per family, families sorted by name,
 * counters first, then gauges.
 */
int	 mst_stats_prometheus(struct buf *, const struct mst_stat_list *,
	    const struct mst_stats_filter *);

/*
 * The "health_flags" value of a host: "healthy", or "/failed_active_hc..."
 * in Envoy's order.  Writes into buf (truncating) and returns it.
 */
const char *mst_stats_health_flags(uint32_t flags, char *buf, size_t len);

/* "1.2.3.4:80" or "[::1]:80" for a shm host. */
void	 mst_stats_host_addr(const struct shm_host *, char *buf, size_t len);

/* /clusters text lines (ENVOY.md §7.5), clusters in config order. */
int	 mst_stats_clusters(struct buf *, const struct cd_conf *,
	    const struct shm *);
/* /clusters?format=json: envoy.admin.v3.Clusters, pretty-printed. */
int	 mst_stats_clusters_json(struct buf *, const struct cd_conf *,
	    const struct shm *);

/* /listeners: "<name>::<ip>:<port>\n", or the ListenersHandler JSON. */
int	 mst_stats_listeners(struct buf *, const struct cd_conf *, int json);

/*
 * /config_dump: the six static config dumps in Envoy's order, each with its
 * "@type", pretty-printed.  resource (NULL: all) names a repeated field
 * ("static_clusters" ...): only its elements are printed.  loaded_ms is the
 * realtime ms of the config load (last_updated).  -1 with errno ENOENT for
 * an unknown resource, EINVAL for a field that is not repeated, ENOMEM.
 */
int	 mst_stats_config_dump(struct buf *, const struct cd_conf *,
	    uint64_t loaded_ms, const char *resource);

/*
 * Append json (compact or not) pretty-printed the way Envoy's protobuf
 * printer does it: 1-space indentation, "key": value, one element a line,
 * empty containers as {} and [], a final newline.  -1 with errno EINVAL
 * when json is not valid JSON (out keeps a partial result), ENOMEM.
 */
int	 mst_stats_json_pretty(struct buf *out, const char *json, size_t len);

/* RFC 3339 UTC as protobuf prints a Timestamp: "...T10:00:00.123Z", the
 * fraction left out when it is zero. */
int	 mst_stats_rfc3339(char *buf, size_t len, uint64_t realtime_ms);

#endif /* CANARYD_MASTER_STATS_H */
