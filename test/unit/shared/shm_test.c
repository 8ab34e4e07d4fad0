/*
 * Unit tests for the shared-memory segment (shared/shm.c): a fresh
 * segment, the seqlock publish/read pairs, the sums over slots, a dead
 * worker's slot reaped (gauges and breaker units released, counters
 * kept) and a cluster record wiped for a new owner.
 */
#include <sys/socket.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/shm.h"
#include "test/unit/unit.h"

static void
create_gives_a_zeroed_starting_segment(void)
{
	struct shm *s = shm_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(atomic_load(&s->hdr.h_state), SHM_S_PRE_INITIALIZING);
	CU_ASSERT_EQUAL(atomic_load(&s->hdr.h_live), 1);
	CU_ASSERT_EQUAL(atomic_load(&s->hdr.h_slots_hwm), 0);
	CU_ASSERT_EQUAL(s->clusters[CD_MAX_CLUSTERS - 1].sc_nhosts, 0);
	CU_ASSERT_EQUAL(atomic_load(&s->slots[SHM_MASTER_SLOT].w_state),
	    SHM_W_FREE);
	CU_ASSERT_EQUAL(shm_sum_http_c(s, 0, HC_RQ_TOTAL), 0);
	shm_destroy(s);
	shm_destroy(NULL);
}

static void
hosts_and_splits_round_trip(void)
{
	struct shm *s = shm_create();
	struct shm_host h[2], out[CD_MAX_HOSTS];
	uint32_t w[3] = { 90, 10, 0 }, rw[CD_MAX_WEIGHTED], seq, seq2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(h, 0, sizeof(h));
	h[0].sh_family = AF_INET;
	h[0].sh_port = 8081;
	h[0].sh_id = 7;
	atomic_store(&h[0].sh_flags, SHM_HF_FAILED_ACTIVE_HC);
	h[1].sh_family = AF_INET6;
	h[1].sh_port = 8082;
	h[1].sh_weight = 3;
	seq = shm_hosts_seq(&s->clusters[4]);
	shm_hosts_publish(&s->clusters[4], h, 2);
	CU_ASSERT_EQUAL(shm_hosts_read(&s->clusters[4], out, &seq2), 2);
	CU_ASSERT_EQUAL(seq2, seq + 2);
	CU_ASSERT_EQUAL(shm_hosts_seq(&s->clusters[4]), seq2);
	CU_ASSERT(s->clusters[4].sc_resolved);
	CU_ASSERT_EQUAL(out[0].sh_port, 8081);
	CU_ASSERT_EQUAL(out[0].sh_id, 7);
	CU_ASSERT_EQUAL(atomic_load(&out[0].sh_flags), SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT_EQUAL(out[1].sh_family, AF_INET6);
	CU_ASSERT_EQUAL(out[1].sh_weight, 3);

	atomic_store(&s->splits[9].sp_next, 41);
	shm_split_publish(&s->splits[9], w, 2, 0);
	CU_ASSERT_EQUAL(shm_split_read(&s->splits[9], rw, &seq), 2);
	CU_ASSERT(rw[0] == 90 && rw[1] == 10);
	CU_ASSERT_EQUAL(atomic_load(&s->splits[9].sp_next), 41);
	/* restart: the position goes back to the start of a period */
	shm_split_publish(&s->splits[9], w, 3, 1);
	CU_ASSERT_EQUAL(shm_split_read(&s->splits[9], rw, &seq2), 3);
	CU_ASSERT_EQUAL(seq2, seq + 2);
	CU_ASSERT_EQUAL(shm_split_seq(&s->splits[9]), seq2);
	CU_ASSERT_EQUAL(atomic_load(&s->splits[9].sp_next), 0);
	shm_destroy(s);
}

/* Sums read the slots below the high-water mark, and the master's. */
static void
sums_cover_used_slots_and_the_master(void)
{
	struct shm *s = shm_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	shm_add(&s->slots[0].w_http[0].hc_c[HC_RQ_TOTAL], 5);
	shm_add(&s->slots[2].w_http[0].hc_c[HC_RQ_TOTAL], 7);
	shm_add(&s->slots[SHM_MASTER_SLOT].w_cl[3].cc_c[CC_HC_ATTEMPT], 4);
	shm_add(&s->slots[1].w_cl[3].cc_c[CC_HC_ATTEMPT], 1);
	shm_gauge_add(&s->slots[0].w_http[0].hc_g[HG_CX_ACTIVE], 2);
	shm_gauge_add(&s->slots[1].w_http[0].hc_g[HG_CX_ACTIVE], -1);
	shm_add(&s->slots[1].w_http[0].hc_code[503 - CD_CODE_MIN], 2);
	shm_add(&s->slots[1].w_cl[3].cc_host_c[5][HOC_RQ_TOTAL], 6);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	CU_ASSERT_EQUAL(shm_sum_http_c(s, 0, HC_RQ_TOTAL), 5);	/* not slot 2 */
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 3, CC_HC_ATTEMPT), 5);
	CU_ASSERT_EQUAL(shm_sum_http_g(s, 0, HG_CX_ACTIVE), 1);
	CU_ASSERT_EQUAL(shm_sum_http_code(s, 0, 503), 2);
	CU_ASSERT_EQUAL(shm_sum_http_code(s, 0, 99), 0);	/* out of range */
	CU_ASSERT_EQUAL(shm_sum_host_c(s, 3, 5, HOC_RQ_TOTAL), 6);
	atomic_store(&s->hdr.h_slots_hwm, 3);
	CU_ASSERT_EQUAL(shm_sum_http_c(s, 0, HC_RQ_TOTAL), 12);
	/* a high-water mark past the worker slots still counts each once */
	atomic_store(&s->hdr.h_slots_hwm, SHM_NSLOTS + 5);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 3, CC_HC_ATTEMPT), 5);
	shm_destroy(s);
}

static void
reap_releases_breaker_units_and_keeps_counters(void)
{
	struct shm *s = shm_create();
	struct shm_worker *w;
	struct shm_cluster_ctr *cc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	w = &s->slots[1];
	cc = &w->w_cl[6];
	atomic_store(&w->w_pid, 4242);
	atomic_store(&w->w_state, SHM_W_RUNNING);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	/* worker 1 holds 3 requests and 1 retry of cluster record 6, worker
	 * 0 holds 2 requests */
	atomic_store(&s->clusters[6].sc_cb[CD_PRIO_DEFAULT][SHM_CB_RQ], 5);
	atomic_store(&s->clusters[6].sc_cb[CD_PRIO_HIGH][SHM_CB_RETRY], 1);
	atomic_store(&cc->cc_cb_held[CD_PRIO_DEFAULT][SHM_CB_RQ], 3);
	atomic_store(&cc->cc_cb_held[CD_PRIO_HIGH][SHM_CB_RETRY], 1);
	atomic_store(&s->slots[0].w_cl[6].cc_cb_held[CD_PRIO_DEFAULT]
	    [SHM_CB_RQ], 2);
	shm_gauge_add(&w->w_http[0].hc_g[HG_CX_ACTIVE], 4);
	shm_gauge_add(&cc->cc_g[CG_RQ_ACTIVE], 3);
	shm_gauge_add(&cc->cc_host_g[2][HOG_RQ_ACTIVE], 3);
	shm_add(&cc->cc_c[CC_RQ_TOTAL], 10);

	shm_slot_reap(s, 1);
	CU_ASSERT_EQUAL(atomic_load(&s->clusters[6].sc_cb[CD_PRIO_DEFAULT]
	    [SHM_CB_RQ]), 2);
	CU_ASSERT_EQUAL(atomic_load(&s->clusters[6].sc_cb[CD_PRIO_HIGH]
	    [SHM_CB_RETRY]), 0);
	CU_ASSERT_EQUAL(atomic_load(&cc->cc_cb_held[CD_PRIO_DEFAULT]
	    [SHM_CB_RQ]), 0);
	CU_ASSERT_EQUAL(shm_sum_http_g(s, 0, HG_CX_ACTIVE), 0);
	CU_ASSERT_EQUAL(shm_sum_cluster_g(s, 6, CG_RQ_ACTIVE), 0);
	CU_ASSERT_EQUAL(shm_sum_host_g(s, 6, 2, HOG_RQ_ACTIVE), 0);
	/* totals never go back */
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 6, CC_RQ_TOTAL), 10);
	CU_ASSERT_EQUAL(atomic_load(&w->w_pid), 0);
	CU_ASSERT_EQUAL(atomic_load(&w->w_state), SHM_W_FREE);
	shm_destroy(s);
}

static void
cluster_reset_wipes_one_record_everywhere(void)
{
	struct shm *s = shm_create();
	struct shm_host h;
	uint32_t seq;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(&h, 0, sizeof(h));
	h.sh_port = 80;
	shm_hosts_publish(&s->clusters[2], &h, 1);
	shm_hosts_publish(&s->clusters[3], &h, 1);
	strlcpy(s->clusters[2].sc_name, "gone", sizeof(s->clusters[2].sc_name));
	s->clusters[2].sc_od_enabled = 1;
	atomic_store(&s->clusters[2].sc_cb[0][SHM_CB_CX], 3);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	shm_add(&s->slots[1].w_cl[2].cc_c[CC_RQ_TOTAL], 9);
	shm_add(&s->slots[SHM_MASTER_SLOT].w_cl[2].cc_c[CC_HC_ATTEMPT], 9);
	shm_add(&s->slots[1].w_cl[3].cc_c[CC_RQ_TOTAL], 4);
	seq = shm_hosts_seq(&s->clusters[2]);

	shm_cluster_reset(s, 2);
	CU_ASSERT_EQUAL(s->clusters[2].sc_nhosts, 0);
	CU_ASSERT_FALSE(s->clusters[2].sc_resolved);
	CU_ASSERT_STRING_EQUAL(s->clusters[2].sc_name, "");
	CU_ASSERT_EQUAL(s->clusters[2].sc_od_enabled, 0);
	CU_ASSERT_EQUAL(atomic_load(&s->clusters[2].sc_cb[0][SHM_CB_CX]), 0);
	/* a reader holding a copy sees the list changed */
	CU_ASSERT_EQUAL(shm_hosts_seq(&s->clusters[2]), seq + 2);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 2, CC_RQ_TOTAL), 0);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 2, CC_HC_ATTEMPT), 0);
	/* the neighbour keeps everything */
	CU_ASSERT_EQUAL(s->clusters[3].sc_nhosts, 1);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 3, CC_RQ_TOTAL), 4);
	shm_destroy(s);
}

static CU_TestInfo tests[] = {
	{ "create_gives_a_zeroed_starting_segment",
	    create_gives_a_zeroed_starting_segment },
	{ "hosts_and_splits_round_trip", hosts_and_splits_round_trip },
	{ "sums_cover_used_slots_and_the_master",
	    sums_cover_used_slots_and_the_master },
	{ "reap_releases_breaker_units_and_keeps_counters",
	    reap_releases_breaker_units_and_keeps_counters },
	{ "cluster_reset_wipes_one_record_everywhere",
	    cluster_reset_wipes_one_record_everywhere },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/shm", tests);
