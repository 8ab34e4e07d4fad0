/*
 * Unit tests for worker/breaker.c: takes stop exactly at the threshold,
 * every take and give moves the worker's held share with the gauge, a
 * hold gives each of its units back once, the master's reap of a dead
 * worker gives back exactly its share, and processes racing on one
 * segment never get more units than the limit.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"
#include "shared/conf-t.h"
#include "shared/shm.h"
#include "worker/breaker.h"
#include "worker/wrk.h"

static int32_t
gauge(struct shm *s, int ci, int res)
{
	return atomic_load(&shm_cl(s, ci)->sc_cb[CD_PRIO_DEFAULT][res]);
}

static int32_t
held(struct shm *s, int slot, int ci, int res)
{
	return atomic_load(
	    &shm_slot(s, slot)->w_cl[ci].cc_cb_held[CD_PRIO_DEFAULT][res]);
}

/*
 * wrk as the worker counting in slot of s, configured with the two
 * clusters cl (in the shm records pl names); the caller keeps the old wrk
 * and puts it back.
 */
static void
worker_on(struct shm *s, int slot, struct cd_conf *conf,
    struct cd_cluster *cl, struct cd_place *pl)
{
	memset(conf, 0, sizeof(*conf));
	conf->c_clusters = cl;
	conf->c_nclusters = 2;
	wrk.w_conf = conf;
	wrk.w_place = pl;
	wrk.w_shm = s;
	wrk.w_slot = shm_slot(s, slot);
}

static void
take_stops_at_limit(void)
{
	struct shm *s = unit_shm();
	struct shm_cluster *sc;
	struct shm_cluster_ctr *w0;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	sc = shm_cl(s, 0);
	w0 = &shm_slot(s, 0)->w_cl[0];
	for (i = 0; i < 3; i++)
		CU_ASSERT(wrk_breaker_take(sc, w0, CD_PRIO_DEFAULT, SHM_CB_RQ,
		    3));
	CU_ASSERT_FALSE(wrk_breaker_take(sc, w0, CD_PRIO_DEFAULT, SHM_CB_RQ,
	    3));
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_RQ), 3);
	CU_ASSERT_EQUAL(held(s, 0, 0, SHM_CB_RQ), 3);
	/* other resources and priorities are separate */
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_CX), 0);
	CU_ASSERT(wrk_breaker_take(sc, w0, CD_PRIO_HIGH, SHM_CB_RQ, 1));
	CU_ASSERT_EQUAL(atomic_load(&sc->sc_cb[CD_PRIO_HIGH][SHM_CB_RQ]), 1);
	wrk_breaker_give(sc, w0, CD_PRIO_HIGH, SHM_CB_RQ);
	/* a give makes room for exactly one take */
	wrk_breaker_give(sc, w0, CD_PRIO_DEFAULT, SHM_CB_RQ);
	CU_ASSERT_EQUAL(held(s, 0, 0, SHM_CB_RQ), 2);
	CU_ASSERT(wrk_breaker_take(sc, w0, CD_PRIO_DEFAULT, SHM_CB_RQ, 3));
	CU_ASSERT_FALSE(wrk_breaker_take(sc, w0, CD_PRIO_DEFAULT, SHM_CB_RQ,
	    3));
	for (i = 0; i < 3; i++)
		wrk_breaker_give(sc, w0, CD_PRIO_DEFAULT, SHM_CB_RQ);
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(held(s, 0, 0, SHM_CB_RQ), 0);
	/* limit 0 admits nothing and leaves no trace */
	CU_ASSERT_FALSE(wrk_breaker_take(sc, w0, CD_PRIO_DEFAULT,
	    SHM_CB_RETRY, 0));
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_RETRY), 0);
	CU_ASSERT_EQUAL(held(s, 0, 0, SHM_CB_RETRY), 0);
	/* the largest threshold does not wrap */
	CU_ASSERT(wrk_breaker_take(sc, w0, CD_PRIO_DEFAULT, SHM_CB_CX,
	    UINT32_MAX));
	wrk_breaker_give(sc, w0, CD_PRIO_DEFAULT, SHM_CB_CX);
	shm_destroy(s);
}

static void
reap_gives_back_a_dead_workers_share(void)
{
	struct shm *s = unit_shm();
	struct shm_cluster *sc;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	sc = shm_cl(s, 2);
	/* worker slot 0 holds 3 rq and 1 retry, slot 1 holds 2 rq */
	for (i = 0; i < 3; i++)
		CU_ASSERT(wrk_breaker_take(sc, &shm_slot(s, 0)->w_cl[2],
		    CD_PRIO_DEFAULT, SHM_CB_RQ, 5));
	CU_ASSERT(wrk_breaker_take(sc, &shm_slot(s, 0)->w_cl[2],
	    CD_PRIO_DEFAULT, SHM_CB_RETRY, 3));
	for (i = 0; i < 2; i++)
		CU_ASSERT(wrk_breaker_take(sc, &shm_slot(s, 1)->w_cl[2],
		    CD_PRIO_DEFAULT, SHM_CB_RQ, 5));
	CU_ASSERT_FALSE(wrk_breaker_take(sc, &shm_slot(s, 1)->w_cl[2],
	    CD_PRIO_DEFAULT, SHM_CB_RQ, 5));
	CU_ASSERT_EQUAL(gauge(s, 2, SHM_CB_RQ), 5);
	/* slot 0's process dies: the master reaps it */
	shm_slot_reap(s, 0, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(gauge(s, 2, SHM_CB_RQ), 2);
	CU_ASSERT_EQUAL(gauge(s, 2, SHM_CB_RETRY), 0);
	CU_ASSERT_EQUAL(held(s, 0, 2, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(held(s, 1, 2, SHM_CB_RQ), 2);
	/* the survivor may take the freed units, and no more */
	for (i = 0; i < 3; i++)
		CU_ASSERT(wrk_breaker_take(sc, &shm_slot(s, 1)->w_cl[2],
		    CD_PRIO_DEFAULT, SHM_CB_RQ, 5));
	CU_ASSERT_FALSE(wrk_breaker_take(sc, &shm_slot(s, 1)->w_cl[2],
	    CD_PRIO_DEFAULT, SHM_CB_RQ, 5));
	shm_destroy(s);
}

static void
wrappers_use_the_clusters_thresholds(void)
{
	struct shm *s = unit_shm();
	struct cd_cluster cl[2];
	struct cd_conf conf;
	struct cd_place pl;
	struct wrk saved = wrk;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(cl, 0, sizeof(cl));
	unit_place(&pl);
	pl.pl_cluster[0] = 0;
	pl.pl_cluster[1] = 1;
	cl[1].cl_thresholds[CD_PRIO_DEFAULT].th_max_connections = 2;
	cl[1].cl_thresholds[CD_PRIO_DEFAULT].th_max_pending_requests = 3;
	cl[1].cl_thresholds[CD_PRIO_DEFAULT].th_max_requests = 4;
	cl[1].cl_thresholds[CD_PRIO_DEFAULT].th_max_retries = 1;
	cl[1].cl_thresholds[CD_PRIO_HIGH].th_max_requests = 99;
	worker_on(s, 3, &conf, cl, &pl);

	CU_ASSERT_EQUAL(wrk_breaker_limit(1, SHM_CB_CX), 2);
	CU_ASSERT_EQUAL(wrk_breaker_limit(1, SHM_CB_PENDING), 3);
	CU_ASSERT_EQUAL(wrk_breaker_limit(1, SHM_CB_RQ), 4);
	CU_ASSERT_EQUAL(wrk_breaker_limit(1, SHM_CB_RETRY), 1);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_FALSE(wrk_breaker_full(1, SHM_CB_RQ));
		CU_ASSERT(wrk_breaker_acquire(1, SHM_CB_RQ));
	}
	CU_ASSERT(wrk_breaker_full(1, SHM_CB_RQ));
	CU_ASSERT_FALSE(wrk_breaker_acquire(1, SHM_CB_RQ));
	CU_ASSERT_EQUAL(wrk_breaker_used(1, SHM_CB_RQ), 4);
	CU_ASSERT_EQUAL(held(s, 3, 1, SHM_CB_RQ), 4);
	CU_ASSERT(wrk_breaker_acquire(1, SHM_CB_RETRY));
	CU_ASSERT_FALSE(wrk_breaker_acquire(1, SHM_CB_RETRY));
	wrk_breaker_release(1, SHM_CB_RETRY);
	for (i = 0; i < 4; i++)
		wrk_breaker_release(1, SHM_CB_RQ);
	CU_ASSERT_EQUAL(wrk_breaker_used(1, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(held(s, 3, 1, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(held(s, 3, 1, SHM_CB_RETRY), 0);
	/* cluster 0 (all zero thresholds) is untouched */
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_RQ), 0);
	wrk = saved;
	shm_destroy(s);
}

/*
 * A hold takes at most one unit per resource and gives each back once,
 * to the cluster it came from, however many times it is asked to.
 */
static void
hold_gives_each_unit_back_once(void)
{
	struct shm *s = unit_shm();
	struct cd_cluster cl[2];
	struct cd_conf conf;
	struct cd_place pl;
	struct wrk saved = wrk;
	struct wrk_breaker_hold h, other;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(cl, 0, sizeof(cl));
	memset(&h, 0, sizeof(h));
	memset(&other, 0, sizeof(other));
	unit_place(&pl);
	pl.pl_cluster[0] = 0;
	pl.pl_cluster[1] = 1;
	cl[1].cl_thresholds[CD_PRIO_DEFAULT].th_max_pending_requests = 1;
	cl[1].cl_thresholds[CD_PRIO_DEFAULT].th_max_requests = 5;
	cl[1].cl_thresholds[CD_PRIO_DEFAULT].th_max_retries = 5;
	worker_on(s, 1, &conf, cl, &pl);

	CU_ASSERT_FALSE(wrk_breaker_holds(&h, SHM_CB_PENDING));
	CU_ASSERT_FALSE(wrk_breaker_hold_give(&h, SHM_CB_PENDING));
	CU_ASSERT(wrk_breaker_hold_take(&h, 1, SHM_CB_PENDING));
	CU_ASSERT(wrk_breaker_holds(&h, SHM_CB_PENDING));
	/* at the limit: nothing taken, nothing held */
	CU_ASSERT_FALSE(wrk_breaker_hold_take(&other, 1, SHM_CB_PENDING));
	CU_ASSERT_FALSE(wrk_breaker_holds(&other, SHM_CB_PENDING));
	CU_ASSERT(wrk_breaker_hold_take(&h, 1, SHM_CB_RQ));
	CU_ASSERT(wrk_breaker_hold_take(&h, 1, SHM_CB_RETRY));
	CU_ASSERT_EQUAL(gauge(s, 1, SHM_CB_PENDING), 1);
	CU_ASSERT_EQUAL(held(s, 1, 1, SHM_CB_RQ), 1);
	CU_ASSERT_EQUAL(held(s, 1, 1, SHM_CB_RETRY), 1);

	CU_ASSERT(wrk_breaker_hold_give(&h, SHM_CB_PENDING));
	CU_ASSERT_FALSE(wrk_breaker_hold_give(&h, SHM_CB_PENDING));
	CU_ASSERT_EQUAL(gauge(s, 1, SHM_CB_PENDING), 0);
	CU_ASSERT(wrk_breaker_holds(&h, SHM_CB_RQ));
	CU_ASSERT(wrk_breaker_hold_give(&h, SHM_CB_RQ));
	CU_ASSERT(wrk_breaker_hold_give(&h, SHM_CB_RETRY));
	CU_ASSERT_FALSE(wrk_breaker_hold_give(&h, SHM_CB_RQ));
	CU_ASSERT_FALSE(wrk_breaker_hold_give(&h, SHM_CB_RETRY));
	CU_ASSERT_EQUAL(h.bh_units, 0);
	CU_ASSERT_EQUAL(gauge(s, 1, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(gauge(s, 1, SHM_CB_RETRY), 0);
	CU_ASSERT_EQUAL(held(s, 1, 1, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(held(s, 1, 1, SHM_CB_RETRY), 0);
	/* empty again, it may take units of another cluster */
	cl[0].cl_thresholds[CD_PRIO_DEFAULT].th_max_connections = 1;
	CU_ASSERT(wrk_breaker_hold_take(&h, 0, SHM_CB_CX));
	CU_ASSERT_EQUAL(h.bh_cluster, 0);
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_CX), 1);
	CU_ASSERT(wrk_breaker_hold_give(&h, SHM_CB_CX));
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_CX), 0);
	CU_ASSERT_EQUAL(gauge(s, 1, SHM_CB_CX), 0);
	wrk = saved;
	shm_destroy(s);
}

/*
 * After a structural reload conf cluster i may own shm records j != i:
 * breaker units, held shares, counters and response codes must all land
 * in records j, and records i (another generation's cluster) stay zero.
 */
static void
cluster_counts_into_its_shm_slot(void)
{
	struct shm *s = unit_shm();
	struct cd_cluster cl[2];
	struct cd_conf conf;
	struct cd_place pl;
	struct wrk saved = wrk;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(cl, 0, sizeof(cl));
	unit_place(&pl);
	pl.pl_cluster[0] = 5;
	pl.pl_cluster[1] = 0;
	cl[0].cl_thresholds[CD_PRIO_DEFAULT].th_max_requests = 2;
	cl[1].cl_thresholds[CD_PRIO_DEFAULT].th_max_requests = 7;
	worker_on(s, 2, &conf, cl, &pl);

	CU_ASSERT(wrk_breaker_acquire(0, SHM_CB_RQ));
	CU_ASSERT(wrk_breaker_acquire(0, SHM_CB_RQ));
	CU_ASSERT_FALSE(wrk_breaker_acquire(0, SHM_CB_RQ));
	CU_ASSERT_EQUAL(gauge(s, 5, SHM_CB_RQ), 2);
	CU_ASSERT_EQUAL(held(s, 2, 5, SHM_CB_RQ), 2);
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(held(s, 2, 0, SHM_CB_RQ), 0);
	CU_ASSERT(wrk_breaker_acquire(1, SHM_CB_RQ));
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_RQ), 1);
	CU_ASSERT_EQUAL(wrk_breaker_used(0, SHM_CB_RQ), 2);
	CU_ASSERT_EQUAL(wrk_breaker_used(1, SHM_CB_RQ), 1);

	WRK_CC(0, CC_RQ_TOTAL);
	WRK_CC_N(0, CC_RQ_TOTAL, 2);
	WRK_HOC(0, 1, 0);
	CU_ASSERT_EQUAL(atomic_load(
	    &shm_slot(s, 2)->w_cl[5].cc_c[CC_RQ_TOTAL]), 3);
	CU_ASSERT_EQUAL(atomic_load(
	    &shm_slot(s, 2)->w_cl[0].cc_c[CC_RQ_TOTAL]), 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_host_ctr(s, shm_slot(s, 2), shm_cl(s, 5), 1)->hc_c[0]), 1);
	CU_ASSERT_EQUAL(atomic_load(&shm_host_ctr(s, shm_slot(s, 2), shm_cl(s, 0), 1)->hc_c[0]), 0);

	wrk_breaker_release(0, SHM_CB_RQ);
	wrk_breaker_release(0, SHM_CB_RQ);
	wrk_breaker_release(1, SHM_CB_RQ);
	CU_ASSERT_EQUAL(gauge(s, 5, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(held(s, 2, 5, SHM_CB_RQ), 0);
	CU_ASSERT_EQUAL(gauge(s, 0, SHM_CB_RQ), 0);
	wrk = saved;
	shm_destroy(s);
}

/*
 * Four processes race for 5 units on one segment.  Each admitted one
 * bumps an "inside" count in the segment (a spare gauge) and checks it
 * never passes the limit; at the end everything is given back.
 */
#define RACERS		4
#define RACE_ROUNDS	200000
#define RACE_LIMIT	5

static void
racing_processes_never_exceed_the_limit(void)
{
	struct shm *s = unit_shm();
	struct shm_cluster *sc;
	_Atomic int32_t *inside, *worst;
	pid_t pid[RACERS];
	int i, k, status, admitted_ok = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	sc = shm_cl(s, 1);
	/* scratch counters in the shared segment: the HIGH priority row */
	inside = &sc->sc_cb[CD_PRIO_HIGH][SHM_CB_CX];
	worst = &sc->sc_cb[CD_PRIO_HIGH][SHM_CB_PENDING];
	for (i = 0; i < RACERS; i++) {
		if ((pid[i] = fork()) == 0) {
			struct shm_cluster_ctr *me = &shm_slot(s, i)->w_cl[1];
			int32_t n, w;

			for (k = 0; k < RACE_ROUNDS; k++) {
				if (!wrk_breaker_take(sc, me,
				    CD_PRIO_DEFAULT, SHM_CB_RQ, RACE_LIMIT))
					continue;
				n = atomic_fetch_add(inside, 1) + 1;
				w = atomic_load(worst);
				while (n > w &&
				    !atomic_compare_exchange_weak(worst, &w, n))
					;
				atomic_fetch_sub(inside, 1);
				wrk_breaker_give(sc, me, CD_PRIO_DEFAULT,
				    SHM_CB_RQ);
			}
			_exit(0);
		}
		CU_ASSERT_FATAL(pid[i] > 0);
	}
	for (i = 0; i < RACERS; i++) {
		CU_ASSERT_EQUAL(waitpid(pid[i], &status, 0), pid[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			admitted_ok = 0;
	}
	CU_ASSERT(admitted_ok);
	CU_ASSERT(atomic_load(worst) >= 1);
	CU_ASSERT(atomic_load(worst) <= RACE_LIMIT);
	CU_ASSERT_EQUAL(gauge(s, 1, SHM_CB_RQ), 0);
	for (i = 0; i < RACERS; i++)
		CU_ASSERT_EQUAL(held(s, i, 1, SHM_CB_RQ), 0);
	shm_destroy(s);
}

static CU_TestInfo tests[] = {
	{ "take_stops_at_limit", take_stops_at_limit },
	{ "reap_gives_back_a_dead_workers_share",
	    reap_gives_back_a_dead_workers_share },
	{ "wrappers_use_the_clusters_thresholds",
	    wrappers_use_the_clusters_thresholds },
	{ "hold_gives_each_unit_back_once", hold_gives_each_unit_back_once },
	{ "cluster_counts_into_its_shm_slot",
	    cluster_counts_into_its_shm_slot },
	{ "racing_processes_never_exceed_the_limit",
	    racing_processes_never_exceed_the_limit },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("worker/breaker", tests);
