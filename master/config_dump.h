/*
 * /config_dump (master only): the six static config dumps in Envoy's
 * order, each with its "@type", pretty-printed.
 */
#ifndef CANARYD_MASTER_CONFIG_DUMP_H
#define CANARYD_MASTER_CONFIG_DUMP_H

#include <stdint.h>

#include "shared/buf.h"
#include "shared/conf-t.h"

/*
 * resource (NULL: all) names a repeated field ("static_clusters" ...):
 * only its elements are printed.  loaded_ms is the realtime ms of the
 * config load (last_updated).  0, or -1 with errno ENOENT for an unknown
 * resource, EINVAL for a field that is not repeated, ENOMEM.
 */
int	 mst_config_dump(struct buf *, const struct cd_conf *,
	    uint64_t loaded_ms, const char *resource);
/* The same document compact (not pretty-printed), for a page that is
 * pretty-printed a piece at a time (json.h's mst_json_pp). */
int	 mst_config_dump_compact(struct buf *, const struct cd_conf *,
	    uint64_t loaded_ms, const char *resource);

#endif /* CANARYD_MASTER_CONFIG_DUMP_H */
