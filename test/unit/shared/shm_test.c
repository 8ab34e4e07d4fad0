/*
 * Unit tests for the shared-memory segment (shared/shm.c): a fresh
 * segment, the seqlock publish/read pairs, the sums over slots, a dead
 * worker's slot reaped (gauges and breaker units released, counters
 * kept), a cluster record wiped for a new owner, the sparse status
 * codes, histograms placed on first use, and the layout sized at start.
 */
#include <sys/socket.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/hist.h"
#include "shared/shm.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

static void
create_gives_a_zeroed_starting_segment(void)
{
	struct shm *s = unit_shm();

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(atomic_load(&s->hdr.h_state), SHM_S_PRE_INITIALIZING);
	CU_ASSERT_EQUAL(atomic_load(&s->hdr.h_live), 1);
	CU_ASSERT_EQUAL(atomic_load(&s->hdr.h_slots_hwm), 0);
	CU_ASSERT_EQUAL(shm_cl(s, UNIT_NCL - 1)->sc_nhosts, 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_slot(s, UNIT_MASTER_SLOT)->w_state),
	    SHM_W_FREE);
	CU_ASSERT_EQUAL(shm_sum_http_c(s, 0, HC_RQ_TOTAL), 0);
	shm_destroy(s);
	shm_destroy(NULL);
}

static void
hosts_and_splits_round_trip(void)
{
	struct shm *s = unit_shm();
	struct shm_host h[2], out[UNIT_NHOSTS];
	uint32_t w[3] = { 90, 10, 0 }, rw[UNIT_NWEIGHTS], seq, seq2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(h, 0, sizeof(h));
	h[0].sh_family = AF_INET;
	h[0].sh_port = 8081;
	h[0].sh_id = 7;
	atomic_store(&h[0].sh_flags, SHM_HF_FAILED_ACTIVE_HC);
	h[1].sh_family = AF_INET6;
	h[1].sh_port = 8082;
	h[1].sh_weight = 3;
	seq = shm_hosts_seq(shm_cl(s, 4));
	shm_hosts_publish(shm_cl(s, 4), h, 2);
	CU_ASSERT_EQUAL(shm_hosts_read(shm_cl(s, 4), out, &seq2), 2);
	CU_ASSERT_EQUAL(seq2, seq + 2);
	CU_ASSERT_EQUAL(shm_hosts_seq(shm_cl(s, 4)), seq2);
	CU_ASSERT(shm_cl(s, 4)->sc_resolved);
	CU_ASSERT_EQUAL(out[0].sh_port, 8081);
	CU_ASSERT_EQUAL(out[0].sh_id, 7);
	CU_ASSERT_EQUAL(atomic_load(&out[0].sh_flags), SHM_HF_FAILED_ACTIVE_HC);
	CU_ASSERT_EQUAL(out[1].sh_family, AF_INET6);
	CU_ASSERT_EQUAL(out[1].sh_weight, 3);

	atomic_store(&shm_sp(s, 9)->sp_next, 41);
	shm_split_publish(shm_sp(s, 9), w, 2, 0);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(s, 9), rw, UNIT_NWEIGHTS, &seq), 2);
	CU_ASSERT(rw[0] == 90 && rw[1] == 10);
	CU_ASSERT_EQUAL(atomic_load(&shm_sp(s, 9)->sp_next), 41);
	/* restart: the position goes back to the start of a period */
	shm_split_publish(shm_sp(s, 9), w, 3, 1);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(s, 9), rw, UNIT_NWEIGHTS, &seq2), 3);
	CU_ASSERT_EQUAL(seq2, seq + 2);
	CU_ASSERT_EQUAL(shm_split_seq(shm_sp(s, 9)), seq2);
	CU_ASSERT_EQUAL(atomic_load(&shm_sp(s, 9)->sp_next), 0);
	shm_destroy(s);
}

/* Sums read the slots below the high-water mark, and the master's. */
static void
sums_cover_used_slots_and_the_master(void)
{
	struct shm *s = unit_shm();

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	shm_add(&shm_http(s, shm_slot(s, 0), 0)->hc_c[HC_RQ_TOTAL], 5);
	shm_add(&shm_http(s, shm_slot(s, 2), 0)->hc_c[HC_RQ_TOTAL], 7);
	shm_add(&shm_slot(s, UNIT_MASTER_SLOT)->w_cl[3].cc_c[CC_HC_ATTEMPT], 4);
	shm_add(&shm_slot(s, 1)->w_cl[3].cc_c[CC_HC_ATTEMPT], 1);
	shm_gauge_add(&shm_http(s, shm_slot(s, 0), 0)->hc_g[HG_CX_ACTIVE], 2);
	shm_gauge_add(&shm_http(s, shm_slot(s, 1), 0)->hc_g[HG_CX_ACTIVE], -1);
	shm_add(&shm_http(s, shm_slot(s, 1), 0)->hc_code[503 - CD_CODE_MIN], 2);
	shm_add(&shm_host_ctr(s, shm_slot(s, 1), shm_cl(s, 3), 5)->hc_c[HOC_RQ_TOTAL],
	    6);
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
	atomic_store(&s->hdr.h_slots_hwm, UNIT_NSLOTS + 5);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 3, CC_HC_ATTEMPT), 5);
	shm_destroy(s);
}

static void
reap_releases_breaker_units_and_keeps_counters(void)
{
	struct shm *s = unit_shm();
	struct shm_worker *w;
	struct shm_cluster_ctr *cc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	w = shm_slot(s, 1);
	cc = &w->w_cl[6];
	atomic_store(&w->w_pid, 4242);
	atomic_store(&w->w_state, SHM_W_RUNNING);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	/* worker 1 holds 3 requests and 1 retry of cluster record 6, worker
	 * 0 holds 2 requests */
	atomic_store(&shm_cl(s, 6)->sc_cb[CD_PRIO_DEFAULT][SHM_CB_RQ], 5);
	atomic_store(&shm_cl(s, 6)->sc_cb[CD_PRIO_HIGH][SHM_CB_RETRY], 1);
	atomic_store(&cc->cc_cb_held[CD_PRIO_DEFAULT][SHM_CB_RQ], 3);
	atomic_store(&cc->cc_cb_held[CD_PRIO_HIGH][SHM_CB_RETRY], 1);
	atomic_store(&shm_slot(s, 0)->w_cl[6].cc_cb_held[CD_PRIO_DEFAULT]
	    [SHM_CB_RQ], 2);
	shm_gauge_add(&shm_http(s, w, 0)->hc_g[HG_CX_ACTIVE], 4);
	shm_gauge_add(&cc->cc_g[CG_RQ_ACTIVE], 3);
	shm_gauge_add(&shm_host_ctr(s, w, shm_cl(s, 6), 2)->hc_g[HOG_RQ_ACTIVE],
	    3);
	shm_add(&cc->cc_c[CC_RQ_TOTAL], 10);

	shm_slot_reap(s, 1, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl(s, 6)->sc_cb[CD_PRIO_DEFAULT]
	    [SHM_CB_RQ]), 2);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl(s, 6)->sc_cb[CD_PRIO_HIGH]
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

/* The reap walks the records it is given; a worker that released its
 * own on the way out is not walked again; mapping rows in keeps them. */
static void
reap_walks_given_records_and_skips_a_released_slot(void)
{
	struct shm *s = unit_shm();
	struct shm_worker *w;
	const int six[] = { 6 }, both[] = { 6, 9 }, lsn[] = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	w = shm_slot(s, 1);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	shm_add(&w->w_cl[9].cc_c[CC_RQ_TOTAL], 7);
	shm_gauge_add(&w->w_cl[6].cc_g[CG_RQ_ACTIVE], 2);
	shm_gauge_add(&w->w_cl[9].cc_g[CG_RQ_ACTIVE], 5);
	shm_slot_populate(s, 1, both, 2);
	shm_slot_populate(s, UNIT_MASTER_SLOT, both, 2);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 9, CC_RQ_TOTAL), 7);
	CU_ASSERT_EQUAL(shm_sum_cluster_g(s, 9, CG_RQ_ACTIVE), 5);

	/* only record 6 was the worker's */
	atomic_store(&w->w_state, SHM_W_RUNNING);
	shm_slot_reap(s, 1, six, 1, lsn, 1);
	CU_ASSERT_EQUAL(shm_sum_cluster_g(s, 6, CG_RQ_ACTIVE), 0);
	CU_ASSERT_EQUAL(shm_sum_cluster_g(s, 9, CG_RQ_ACTIVE), 5);
	CU_ASSERT_EQUAL(atomic_load(&w->w_state), SHM_W_FREE);

	/* the worker gives its holdings back itself ... */
	atomic_store(&w->w_state, SHM_W_RUNNING);
	atomic_store(&shm_cl(s, 9)->sc_cb[CD_PRIO_DEFAULT][SHM_CB_RQ], 4);
	atomic_store(&w->w_cl[9].cc_cb_held[CD_PRIO_DEFAULT][SHM_CB_RQ], 4);
	shm_slot_release(s, w, both, 2, lsn, 1);
	CU_ASSERT_EQUAL(atomic_load(&w->w_released), 1);
	CU_ASSERT_EQUAL(shm_sum_cluster_g(s, 9, CG_RQ_ACTIVE), 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl(s, 9)->sc_cb[CD_PRIO_DEFAULT]
	    [SHM_CB_RQ]), 0);
	/* ... so the master's reap does not walk (a gauge set after the
	 * release stays: nothing looked), and the slot is free again */
	shm_gauge_add(&w->w_cl[6].cc_g[CG_RQ_ACTIVE], 1);
	shm_slot_reap(s, 1, both, 2, lsn, 1);
	CU_ASSERT_EQUAL(shm_sum_cluster_g(s, 6, CG_RQ_ACTIVE), 1);
	CU_ASSERT_EQUAL(atomic_load(&w->w_released), 0);
	CU_ASSERT_EQUAL(atomic_load(&w->w_state), SHM_W_FREE);
	/* the next process in the slot is walked again */
	atomic_store(&w->w_state, SHM_W_RUNNING);
	shm_slot_reap(s, 1, both, 2, lsn, 1);
	CU_ASSERT_EQUAL(shm_sum_cluster_g(s, 6, CG_RQ_ACTIVE), 0);
	/* totals never go back */
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 9, CC_RQ_TOTAL), 7);
	shm_destroy(s);
}

static void
cluster_reset_wipes_one_record_everywhere(void)
{
	struct shm *s = unit_shm();
	struct shm_host h;
	uint32_t seq;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(&h, 0, sizeof(h));
	h.sh_port = 80;
	shm_hosts_publish(shm_cl(s, 2), &h, 1);
	shm_hosts_publish(shm_cl(s, 3), &h, 1);
	strlcpy(shm_cl(s, 2)->sc_name, "gone", sizeof(shm_cl(s, 2)->sc_name));
	shm_cl(s, 2)->sc_od_enabled = 1;
	atomic_store(&shm_cl(s, 2)->sc_cb[0][SHM_CB_CX], 3);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	shm_add(&shm_slot(s, 1)->w_cl[2].cc_c[CC_RQ_TOTAL], 9);
	shm_add(&shm_slot(s, UNIT_MASTER_SLOT)->w_cl[2].cc_c[CC_HC_ATTEMPT], 9);
	shm_add(&shm_slot(s, 1)->w_cl[3].cc_c[CC_RQ_TOTAL], 4);
	seq = shm_hosts_seq(shm_cl(s, 2));

	shm_cluster_reset(s, 2);
	CU_ASSERT_EQUAL(shm_cl(s, 2)->sc_nhosts, 0);
	CU_ASSERT_FALSE(shm_cl(s, 2)->sc_resolved);
	CU_ASSERT_STRING_EQUAL(shm_cl(s, 2)->sc_name, "");
	CU_ASSERT_EQUAL(shm_cl(s, 2)->sc_od_enabled, 0);
	CU_ASSERT_EQUAL(atomic_load(&shm_cl(s, 2)->sc_cb[0][SHM_CB_CX]), 0);
	/* a reader holding a copy sees the list changed */
	CU_ASSERT_EQUAL(shm_hosts_seq(shm_cl(s, 2)), seq + 2);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 2, CC_RQ_TOTAL), 0);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 2, CC_HC_ATTEMPT), 0);
	/* the neighbour keeps everything */
	CU_ASSERT_EQUAL(shm_cl(s, 3)->sc_nhosts, 1);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(s, 3, CC_RQ_TOTAL), 4);
	shm_destroy(s);
}

/* A few distinct codes get entries; the rest count in their class. */
static void
sparse_codes_keep_class_totals_exact(void)
{
	uint64_t out[CD_NCODES], cls[5], other;
	struct shm_cluster_ctr *c0, *c1;
	struct shm *s = unit_shm();
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	atomic_store(&s->hdr.h_slots_hwm, 2);
	c0 = &shm_slot(s, 0)->w_cl[4];
	c1 = &shm_slot(s, 1)->w_cl[4];
	/* slot 0: more distinct codes than it has entries */
	for (i = 0; i < SHM_CODES + 3; i++)
		shm_code_add(&c0->cc_code, 200 + i);
	shm_code_add(&c0->cc_code, 200);
	shm_code_add(&c0->cc_code, 503);	/* no entry left */
	shm_code_add(&c0->cc_code, 99);		/* out of range: ignored */
	shm_code_add(&c1->cc_code, 503);
	shm_retry_code_add(&c1->cc_retry_code, 502);
	shm_sum_cluster_codes(s, 4, 0, out, cls, &other);
	CU_ASSERT_EQUAL(out[200 - CD_CODE_MIN], 2);
	CU_ASSERT_EQUAL(out[200 + SHM_CODES - 1 - CD_CODE_MIN], 1);
	CU_ASSERT_EQUAL(out[200 + SHM_CODES - CD_CODE_MIN], 0);	/* other */
	CU_ASSERT_EQUAL(out[503 - CD_CODE_MIN], 1);	/* slot 1's entry */
	CU_ASSERT_EQUAL(cls[1], SHM_CODES + 3 + 1);	/* 2xx: exact */
	CU_ASSERT_EQUAL(cls[4], 2);			/* 5xx: exact */
	CU_ASSERT_EQUAL(other, 3 + 1);
	CU_ASSERT_EQUAL(shm_sum_cluster_code(s, 4, 200), 2);
	CU_ASSERT_EQUAL(shm_sum_cluster_retry_code(s, 4, 502), 1);
	shm_sum_cluster_codes(s, 4, 1, out, cls, &other);
	CU_ASSERT_EQUAL(cls[4], 1);
	CU_ASSERT_EQUAL(out[502 - CD_CODE_MIN], 1);
	/* a reset forgets the codes with the counters */
	shm_cluster_reset(s, 4);
	shm_sum_cluster_codes(s, 4, 0, out, cls, &other);
	CU_ASSERT_EQUAL(cls[1] + cls[4] + other + out[200 - CD_CODE_MIN], 0);
	shm_destroy(s);
}

/* A histogram is placed on a cluster's first sample, once per slot. */
static void
histograms_are_placed_on_first_sample(void)
{
	struct shm *s = unit_shm();
	struct shm_worker *w;
	struct hist h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	atomic_store(&s->hdr.h_slots_hwm, 1);
	w = shm_slot(s, 0);
	CU_ASSERT_EQUAL(atomic_load(&w->w_cl[7].cc_hist), 0);
	hist_collect(s, 7, &h);
	CU_ASSERT_EQUAL(h.h_count, 0);
	hist_record(s, w, &w->w_cl[7], 1000);
	hist_record(s, w, &w->w_cl[7], 10);
	hist_record(s, w, &w->w_cl[2], 5);
	CU_ASSERT_EQUAL(atomic_load(&w->w_cl[7].cc_hist), 1);
	CU_ASSERT_EQUAL(atomic_load(&w->w_cl[2].cc_hist), 2);
	CU_ASSERT_EQUAL(atomic_load(&w->w_hist_used), 2);
	hist_collect(s, 7, &h);
	CU_ASSERT_EQUAL(h.h_count, 2);
	CU_ASSERT_EQUAL(h.h_sum_us, 1010);
	/* a reset keeps the placement, zeroes the buckets */
	shm_cluster_reset(s, 7);
	CU_ASSERT_EQUAL(atomic_load(&w->w_cl[7].cc_hist), 1);
	hist_collect(s, 7, &h);
	CU_ASSERT_EQUAL(h.h_count, 0);
	CU_ASSERT_EQUAL(h.h_sum_us, 0);
	shm_destroy(s);
}

/*
 * A split of many clusters: its weights in the pool, at the room the
 * master gave the record; a reader takes at most what it asks for and
 * learns the count; a record without room holds nothing.
 */
static void
a_split_of_a_thousand_round_trips(void)
{
	struct shm_size sz = { .ss_clusters = 4, .ss_splits = 2,
	    .ss_weights = 1040, .ss_hosts = 4, .ss_workers = 1 };
	static uint32_t w[1000], rw[1000];
	struct shm *s;
	uint32_t i, seq, bad = 0;

	CU_ASSERT_FATAL((s = shm_create(&sz)) != NULL);
	CU_ASSERT_EQUAL(s->hdr.h_nweights, 2080);	/* two halves */
	for (i = 0; i < 1000; i++)
		w[i] = 7 * i + 1;
	/* the second half's first record, as a structural reload gives */
	CU_ASSERT_EQUAL(shm_split_room(s, 2, 1040, 1000), 0);
	CU_ASSERT_EQUAL(shm_split_room(s, 3, 2040, 40), 0);
	CU_ASSERT_EQUAL(shm_split_room(s, 1, 2041, 40), -1);	/* past it */
	CU_ASSERT_EQUAL(shm_split_room(s, 1, UINT32_MAX, 2), -1);
	shm_split_publish_epoch(shm_sp(s, 2), w, 1000, 1, 9);
	shm_split_publish(shm_sp(s, 3), w + 500, 40, 1);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(s, 2), rw, 1000, &seq), 1000);
	for (i = 0; i < 1000; i++)
		bad += rw[i] != 7 * i + 1;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(shm_split_seq(shm_sp(s, 2)), seq);
	CU_ASSERT_EQUAL((char *)shm_sp_weights(shm_sp(s, 2)),
	    (char *)s + s->hdr.h_off_wt + 1040 * sizeof(uint32_t));
	/* the neighbour's weights did not touch these */
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(s, 3), rw, 40, &seq), 40);
	CU_ASSERT(rw[0] == w[500] && rw[39] == w[539]);
	/* a reader with less room: cut, and told how many there are */
	memset(rw, 0, sizeof(rw));
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(s, 2), rw, 2, &seq), 1000);
	CU_ASSERT(rw[0] == 1 && rw[1] == 8 && rw[2] == 0);
	/* more than the room: only the room is published */
	shm_split_publish(shm_sp(s, 3), w, 1000, 1);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(s, 3), rw, 1000, &seq), 40);
	/* a record never given room publishes and holds nothing */
	shm_split_publish(shm_sp(s, 0), w, 2, 1);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(s, 0), rw, 1000, &seq), 0);
	shm_destroy(s);
}

/* The layout follows the sizes asked; --shm-size scales the records. */
static void
layout_follows_the_configuration(void)
{
	struct shm_size sz = { .ss_clusters = 10000, .ss_splits = 1000,
	    .ss_fractions = 10, .ss_hosts = 30000, .ss_workers = 2 };
	struct shm *s;
	size_t base;

	base = shm_layout_size(&sz);
	CU_ASSERT_FATAL((s = shm_create(&sz)) != NULL);
	CU_ASSERT_EQUAL(s->hdr.h_ncl, 10000);
	CU_ASSERT_EQUAL(s->hdr.h_nsplits, 2000);	/* two halves */
	CU_ASSERT_EQUAL(s->hdr.h_nweights, 2);	/* none asked: one a half */
	CU_ASSERT_EQUAL(s->hdr.h_nslots, 5);	/* 2 x 2 workers + master */
	CU_ASSERT_EQUAL(s->hdr.h_size, base);
	/* records and slots do not overlap, slots are whole pages */
	CU_ASSERT(s->hdr.h_off_sp >= s->hdr.h_off_cl + 10000 *
	    sizeof(struct shm_cluster));
	CU_ASSERT_EQUAL(s->hdr.h_slot_size % 4096, 0);
	CU_ASSERT((char *)&shm_slot(s, 4)->w_cl[9999] + sizeof(struct
	    shm_cluster_ctr) <= (char *)s + s->hdr.h_size);
	/* host ranges: a record keeps one big enough, else gets a new one */
	CU_ASSERT_EQUAL(shm_cluster_hosts(s, 0, 3), 0);
	CU_ASSERT_EQUAL(shm_cl(s, 0)->sc_hbase, 0);
	CU_ASSERT_EQUAL(shm_cluster_hosts(s, 1, 1000), 0);
	CU_ASSERT_EQUAL(shm_cl(s, 1)->sc_hbase, 3);
	CU_ASSERT_EQUAL(shm_cluster_hosts(s, 0, 2), 0);
	CU_ASSERT_EQUAL(shm_cl(s, 0)->sc_hbase, 0);
	CU_ASSERT_EQUAL(shm_cluster_hosts(s, 0, 4), 0);
	CU_ASSERT_EQUAL(shm_cl(s, 0)->sc_hbase, 1003);
	CU_ASSERT_EQUAL((char *)shm_cl_hosts(shm_cl(s, 1)),
	    (char *)s + s->hdr.h_off_hosts + 3 * sizeof(struct shm_host));
	CU_ASSERT_EQUAL(shm_cluster_hosts(s, 2, 30000), -1);	/* full */
	shm_destroy(s);
	sz.ss_bytes = 4 * base;
	CU_ASSERT_FATAL((s = shm_create(&sz)) != NULL);
	CU_ASSERT_EQUAL(s->hdr.h_ncl, 40000);
	CU_ASSERT_EQUAL(s->hdr.h_nhosts, 120000);
	shm_destroy(s);
}

static CU_TestInfo tests[] = {
	{ "create_gives_a_zeroed_starting_segment",
	    create_gives_a_zeroed_starting_segment },
	{ "hosts_and_splits_round_trip", hosts_and_splits_round_trip },
	{ "a_split_of_a_thousand_round_trips",
	    a_split_of_a_thousand_round_trips },
	{ "sums_cover_used_slots_and_the_master",
	    sums_cover_used_slots_and_the_master },
	{ "reap_releases_breaker_units_and_keeps_counters",
	    reap_releases_breaker_units_and_keeps_counters },
	{ "reap_walks_given_records_and_skips_a_released_slot",
	    reap_walks_given_records_and_skips_a_released_slot },
	{ "cluster_reset_wipes_one_record_everywhere",
	    cluster_reset_wipes_one_record_everywhere },
	{ "sparse_codes_keep_class_totals_exact",
	    sparse_codes_keep_class_totals_exact },
	{ "histograms_are_placed_on_first_sample",
	    histograms_are_placed_on_first_sample },
	{ "layout_follows_the_configuration",
	    layout_follows_the_configuration },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/shm", tests);
