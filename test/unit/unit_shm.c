/*
 * The unit tests' shm segment and identity placement (unit_shm.h).
 */
#include <stddef.h>
#include <string.h>

#include "shared/conf-t.h"
#include "unit_shm.h"

struct shm *
unit_shm(void)
{
	struct shm_size sz;
	struct shm *s;
	int i;

	memset(&sz, 0, sizeof(sz));
	sz.ss_listeners = UNIT_NLSN;
	sz.ss_clusters = UNIT_NCL;
	sz.ss_splits = UNIT_NSPLITS / 2;
	sz.ss_weights = UNIT_NSPLITS / 2 * UNIT_NWEIGHTS;
	sz.ss_fractions = UNIT_NSPLITS / 2;
	sz.ss_ratelimits = UNIT_NSPLITS / 2;
	sz.ss_hosts = UNIT_NCL * UNIT_NHOSTS;
	sz.ss_workers = CD_MAX_WORKERS;
	if ((s = shm_create(&sz)) == NULL)
		return NULL;
	for (i = 0; i < UNIT_NCL; i++)
		if (shm_cluster_hosts(s, i, UNIT_NHOSTS) == -1) {
			shm_destroy(s);
			return NULL;
		}
	for (i = 0; i < UNIT_NSPLITS; i++)
		if (shm_split_room(s, i, (uint32_t)i * UNIT_NWEIGHTS,
		    UNIT_NWEIGHTS) == -1) {
			shm_destroy(s);
			return NULL;
		}
	return s;
}

void
unit_place(struct cd_place *pl)
{
	static int id[16][5][UNIT_NSPLITS];
	static int next;
	int (*a)[UNIT_NSPLITS] = id[next++ % 16];
	int i;

	_Static_assert(UNIT_NLSN <= UNIT_NSPLITS, "one identity array");
	for (i = 0; i < UNIT_NSPLITS; i++)
		a[0][i] = a[1][i] = a[2][i] = a[3][i] = a[4][i] = i;
	pl->pl_cluster = a[0];
	pl->pl_split = a[1];
	pl->pl_fraction = a[2];
	pl->pl_ratelimit = a[3];
	pl->pl_listener = a[4];
}
