/*
 * /clusters (master only), as Envoy prints it: text lines
 * "<cluster>::<field>::<value>" and, per host, "<cluster>::<ip:port>::
 * <field>::<value>"; or (?format=json) envoy.admin.v3.Clusters,
 * pretty-printed.  Clusters in config order, hosts from shm through the
 * placement, values summed now.  No globals, no I/O.
 *
 * 0, or -1 when the buffer ran out of memory.
 */
#ifndef CANARYD_MASTER_CLUSTERS_H
#define CANARYD_MASTER_CLUSTERS_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/conf-t.h"
#include "shared/place-t.h"
#include "shared/shm-t.h"

int	 mst_clusters_text(struct buf *, const struct cd_conf *,
	    const struct cd_place *, const struct shm *);
int	 mst_clusters_json(struct buf *, const struct cd_conf *,
	    const struct cd_place *, const struct shm *);

/*
 * The same pages a piece at a time, so a page of 10,000 clusters does not
 * stop the master's loop: each call appends the next clusters' text (or
 * pretty JSON) to b, up to about want bytes, and returns 1 (more to
 * come), 0 (that was the end) or -1 (out of memory).  conf, pl and shm
 * must be the same at every call; the pieces make the page whole.
 */
struct mst_clusters_cursor;

struct mst_clusters_cursor *mst_clusters_cursor_new(int json);
int	 mst_clusters_cursor_next(struct mst_clusters_cursor *, struct buf *b,
	    const struct cd_conf *, const struct cd_place *,
	    const struct shm *, size_t want);
void	 mst_clusters_cursor_free(struct mst_clusters_cursor *);

/*
 * The "health_flags" value of a host: "healthy", or "/failed_active_hc..."
 * in Envoy's order.  Writes into buf (truncating) and returns it.
 */
const char *mst_clusters_health_flags(uint32_t flags, char *buf, size_t len);

#endif /* CANARYD_MASTER_CLUSTERS_H */
