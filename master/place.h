/*
 * Placement (shared/place-t.h): which shm cluster and split records the
 * running configuration uses, decided by the master at start and by each
 * structural reload; its weights and runtime fractions go to those
 * records through the runtime (runtime.h).  Master only.
 *
 * mst_place_first() and mst_place_next() are pure, for the unit tests;
 * mst_place_prepare() and mst_place_apply() hold the master's placement,
 * which mst.m_place points at.
 */
#ifndef CANARYD_MASTER_PLACE_H
#define CANARYD_MASTER_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "shared/place-t.h"
#include "shared/shm-t.h"
#include "mst.h"

enum mst_place_rc {
	MST_PLACE_OK,
	MST_PLACE_NO_CLUSTER,	/* the two configs need too many records */
	MST_PLACE_NO_LISTENER,	/* ... listener records */
	MST_PLACE_NO_HOSTS,	/* the host pool has no room for the new */
	MST_PLACE_NO_SPLIT,	/* next has more weighted routes than a half */
	MST_PLACE_NO_WEIGHTS,	/* ... more split weights than a half */
	MST_PLACE_NO_FRACTION,	/* ... more runtime_fraction routes */
	MST_PLACE_NO_RATELIMIT,	/* ... more local_ratelimit buckets */
	MST_PLACE_NO_MEMORY,	/* the scratch could not be had */
};

/*
 * What the shm segment must hold for conf and workers per generation:
 * twice its listeners, clusters and their hosts, and headroom, so a
 * reload that renames or adds some fits; bytes: --shm-size, 0 when not
 * given.
 */
void	 mst_place_size(const struct cd_conf *, int workers, size_t bytes,
	    struct shm_size *);

/* The clusters of all conf's weighted_clusters: the split weights it
 * needs. */
size_t	 mst_place_nweights(const struct cd_conf *);

/*
 * Give each weighted route's split record its room in the weight pool:
 * the routes one after the other from the start of the half of the pool
 * that matches the record's half.  No process may be using the records
 * (a new generation's, or the first).
 */
void	 mst_place_split_rooms(struct shm *, const struct cd_conf *,
	    const struct cd_place *);

/* A placement's arrays for conf (zeroed), and their release; -1: no
 * memory. */
int	 mst_place_alloc(struct cd_place *, const struct cd_conf *);
void	 mst_place_free(struct cd_place *);

/* At start: every cluster at its own index, weighted routes from split 0
 * (mst_place_alloc() included). */
int	 mst_place_first(struct cd_place *, const struct cd_conf *);

/* The hosts a cluster's record must have room for: its endpoints when
 * static, one for LOGICAL_DNS, CD_DNS_HOSTS or its endpoints for
 * STRICT_DNS. */
uint32_t mst_place_hcap(const struct cd_cluster *);

/*
 * A structural reload from now (placed at now_pl) to next, in shm's
 * records: a cluster of next that has the name of one of now keeps its
 * records when they have room for its hosts; each other one takes a
 * record none of now's clusters uses, and fresh[record] is set (every
 * other entry of fresh is cleared; fresh has 2 * h_ncl entries, the
 * second half scratch); next's weighted routes take the half of the
 * split records now's do not use (and their weights the matching half of
 * the weight pool), and its routes with a runtime_fraction
 * the half of the fraction records, so the draining generation keeps its
 * own.  next_pl (mst_place_alloc()'d for next) is undefined unless
 * MST_PLACE_OK.
 */
enum mst_place_rc mst_place_next(const struct cd_conf *now,
	    const struct cd_place *now_pl, const struct cd_conf *next,
	    struct cd_place *next_pl, bool *fresh, const struct shm *);

/* Write conf's weights (the file's, or the runtime's where a route's
 * keys say) and runtime fractions to the records pl gives them; each
 * split starts a fresh period. */
void	 mst_place_publish_weights(struct shm *, const struct cd_conf *,
	    const struct cd_place *);

/*
 * Place next, about to become the running configuration by ch (at
 * MST_CH_WEIGHTS the structure, so the placement, stays).  0, or -1 when
 * shm has no room for it (logged: the limit, and the --shm-size knob
 * that raises it); nothing changes until
 * mst_place_apply().
 */
int	 mst_place_prepare(enum mst_change ch, const struct cd_conf *next);
/*
 * mst.m_conf is now the prepared configuration: make the prepared
 * placement mst.m_place, wipe the records it takes anew and publish the
 * weights and runtime fractions (runtime.h).  Before any other module
 * reads mst.m_place.
 */
void	 mst_place_apply(void);

#endif /* CANARYD_MASTER_PLACE_H */
