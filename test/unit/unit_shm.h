/*
 * A shm segment and placements for the unit tests: the segment has room
 * for UNIT_NLSN listener records per slot, UNIT_NCL clusters of
 * UNIT_NHOSTS hosts each (every record given
 * its host range), UNIT_NSPLITS split, fraction and local_ratelimit
 * records (two halves; each split record room for UNIT_NWEIGHTS
 * weights) and CD_MAX_WORKERS workers per generation; a placement is the
 * identity.
 */
#ifndef CANARYD_TEST_UNIT_UNIT_SHM_H
#define CANARYD_TEST_UNIT_UNIT_SHM_H

#include "shared/place-t.h"
#include "shared/shm.h"

#define UNIT_NLSN		64
#define UNIT_NCL		64
#define UNIT_NHOSTS		32	/* host records per cluster */
#define UNIT_NSPLITS		128
#define UNIT_NWEIGHTS		16	/* weights per split record */
#define UNIT_NSLOTS		(2 * CD_MAX_WORKERS + 1)
#define UNIT_MASTER_SLOT	(UNIT_NSLOTS - 1)

struct shm	*unit_shm(void);
/* every index to itself, up to UNIT_NSPLITS (static storage, the last
 * 16 placements each its own) */
void		 unit_place(struct cd_place *);

#endif /* CANARYD_TEST_UNIT_UNIT_SHM_H */
