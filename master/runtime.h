/*
 * Envoy's runtime for the master: the file's layers (layered_runtime's
 * static layers) and the admin layer's values (POST /runtime_modify),
 * the keys routes read -- a weighted route's runtime_key_prefix gives
 * each cluster's weight, a route's runtime_fraction its share -- turned
 * into what workers act on and published in shm, GET /runtime, and the
 * runtime.* statistics.  Master only.
 *
 * The admin layer lives in master memory: it survives SIGHUP (while the
 * file keeps an admin layer) and worker respawns, and is lost on restart,
 * as Envoy's is on a hot restart.  A change applies to every worker at
 * once through shm: a weight change restarts the split's period, as a
 * SIGHUP weight change does.
 *
 * Values keep Envoy's meanings (SnapshotImpl): a number (floored) is an
 * integer, "true"/"false" a bool, a mapping "numerator: N, denominator: D"
 * a fraction.  Everything but the glue at the end takes its inputs as
 * arguments, so the unit tests need no master.
 */
#ifndef CANARYD_MASTER_RUNTIME_H
#define CANARYD_MASTER_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/conf-t.h"
#include "shared/place-t.h"
#include "shared/shm-t.h"
#include "stats.h"

#define MST_RT_MAX_ADMIN	4096	/* keys the admin layer holds */
#define MST_RT_MAX_KEY		512	/* bytes of one key */
#define MST_RT_MAX_VALUE	4096	/* bytes of one value */

/* One admin value; the layer's array is sorted by key. */
struct mst_rt_kv {
	char		*kv_key;
	char		*kv_val;
};

struct mst_rt_admin {
	struct mst_rt_kv *ad_v;		/* malloc'd, each string too */
	size_t		 ad_n;
	size_t		 ad_cap;
};

/* The value of key: the last layer that has it (admin values where the
 * admin layer stands), or NULL. */
const char	*mst_runtime_value(const struct cd_runtime *,
		    const struct mst_rt_admin *, const char *key);
/* Envoy's getInteger(): a non-negative number, floored; false for
 * anything else (a bool, a fraction, text). */
bool		 mst_runtime_uint(const char *val, uint64_t *out);
/*
 * rf's share now: the key's fraction, or its integer as a percentage
 * (above 100: always), or the default -- as the shm word
 * numerator << 32 | denominator.
 */
uint64_t	 mst_runtime_fraction(const struct cd_runtime *,
		    const struct mst_rt_admin *, const struct cd_fraction *);
/*
 * c's route rt's weights now into w (rt_nwc of them): each cluster's key
 * when it holds an integer, else its file weight (fileweights.h).  False
 * (w: the file's) when they could not split traffic: all 0, or over
 * 4294967295 together.
 */
bool		 mst_runtime_weights(const struct cd_conf *,
		    const struct mst_rt_admin *, const struct cd_route *,
		    uint32_t *w);
/* Set key to val in the admin layer ("" removes it, as in Envoy);
 * -1 with errno ENOMEM, or E2BIG past MST_RT_MAX_ADMIN keys. */
int		 mst_runtime_set(struct mst_rt_admin *, const char *key,
		    const char *val);
void		 mst_runtime_admin_free(struct mst_rt_admin *);
/* Distinct keys over every layer (runtime.num_keys). */
size_t		 mst_runtime_nkeys(const struct cd_runtime *,
		    const struct mst_rt_admin *);
/* GET /runtime: Envoy's {"entries":{key:{"final_value","layer_values"}},
 * "layers":[names]}, compact, keys sorted. */
int		 mst_runtime_json(struct buf *, const struct cd_runtime *,
		    const struct mst_rt_admin *);
/*
 * Write into shm (at pl's records) every weighted route's weights and
 * every runtime_fraction of conf.  all: every split, each starting a
 * new period (a configuration applied); else only those that changed.
 * Returns how many splits it wrote.
 */
size_t		 mst_runtime_publish(struct shm *, const struct cd_conf *,
		    const struct cd_place *, const struct mst_rt_admin *,
		    bool all);

/* ---- the master's runtime ------------------------------------------------ */

/* The admin layer's values now. */
const struct mst_rt_admin *mst_runtime_admin(void);
/* A configuration became the running one (start or reload): a new
 * snapshot; admin values are forgotten when it has no admin layer. */
void		 mst_runtime_loaded(void);
/*
 * POST /runtime_modify: the query's key=value pairs into the admin layer
 * and out to shm.  Returns the HTTP status and writes the body into b:
 * 200 "OK\n", 400 Envoy's usage text, 503 when there is no admin layer.
 */
int		 mst_runtime_modify(const char *query, struct buf *b);
/* The runtime.* statistics into a collected list; 0 or -1 (ENOMEM). */
int		 mst_runtime_stats(struct mst_stat_list *);

#endif /* CANARYD_MASTER_RUNTIME_H */
