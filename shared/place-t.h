/*
 * Placement: which records of the shared-memory segment (shm-t.h) a
 * loaded configuration uses.  A types header: no prototypes.
 *
 * The configuration (conf-t.h) holds only what was loaded and never
 * changes; where its clusters and weighted routes live in shm is the
 * master's decision, kept here.  The master builds a placement at start
 * (every cluster at its own index, weighted routes from split 0) and for
 * each structural reload (master/place.c): a cluster that keeps its name
 * keeps its records, so its counters carry on; a new one takes a record
 * no running cluster uses; and the weighted routes (and the routes with a
 * runtime_fraction) of the new generation use the half of those records
 * the draining one does not.
 *
 * Each generation of workers gets its placement with its configuration
 * (struct wrk_args, worker/worker.h) and reads it, never writes it; the
 * master does not change a placement a generation uses.
 */
#ifndef CANARYD_SHARED_PLACE_T_H
#define CANARYD_SHARED_PLACE_T_H

#include "conf-t.h"

struct cd_place {
	/* conf listener index -> every slot's shm_http(); a listener that
	 * keeps its name keeps its record, as a cluster does */
	int	*pl_listener;
	/* conf cluster index -> shm_cl() and every slot's w_cl[] */
	int	*pl_cluster;
	/* weighted route index (cd_route.rt_wi) -> shm_sp() */
	int	*pl_split;
	/* runtime_fraction index (cd_fraction.rf_index) ->
	 * shm_fraction(), halves as for the splits */
	int	*pl_fraction;
	/* local_ratelimit bucket (cd_lrl.lr_index) -> shm_ratelimit(),
	 * halves as for the splits */
	int	*pl_ratelimit;
	/* one allocation holds pl_cluster, pl_split, pl_fraction,
	 * pl_ratelimit and pl_listener, in that order (the master's, see
	 * place.h) */
};

#endif /* CANARYD_SHARED_PLACE_T_H */
