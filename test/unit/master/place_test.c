/*
 * Unit tests for master/place.c: the placement a structural reload gives
 * a new configuration (records kept by cluster name, new records outside
 * the running ones, split halves alternating per generation; listener
 * records the same way, in every slot), the file's
 * weights published into the placed split records, and the master's
 * prepare/apply pair wiping only the records taken anew.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "master/mst.h"
#include "master/place.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

/* A configuration with only what placement reads: names and counts. */
struct fake_conf {
	struct cd_conf	 fc_conf;
	struct cd_cluster fc_cl[UNIT_NCL];
	struct cd_listener fc_l[UNIT_NCL];
	char		 fc_names[UNIT_NCL][16];
};

static const struct cd_conf *
fake(struct fake_conf *f, const char *names, size_t nweighted)
{
	char copy[512], *p, *tok;
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	strlcpy(copy, names, sizeof(copy));
	for (p = copy; (tok = strsep(&p, " ")) != NULL;) {
		if (*tok == '\0')
			continue;
		strlcpy(f->fc_names[n], tok, sizeof(f->fc_names[n]));
		f->fc_cl[n].cl_name = f->fc_names[n];
		n++;
	}
	f->fc_conf.c_clusters = f->fc_cl;
	f->fc_conf.c_nclusters = n;
	f->fc_conf.c_nweighted = nweighted;
	return &f->fc_conf;
}

/* The same with listeners of those names, no cluster. */
static const struct cd_conf *
fake_listeners(struct fake_conf *f, const char *names)
{
	size_t i;

	(void)fake(f, names, 0);
	for (i = 0; i < f->fc_conf.c_nclusters; i++)
		f->fc_l[i].l_name = f->fc_names[i];
	f->fc_conf.c_listeners = f->fc_l;
	f->fc_conf.c_nlisteners = f->fc_conf.c_nclusters;
	f->fc_conf.c_clusters = NULL;
	f->fc_conf.c_nclusters = 0;
	return &f->fc_conf;
}

/* "c0 c1 ... c<n-1>" */
static const char *
many(size_t n, const char *prefix)
{
	static char s[512];
	size_t i;

	s[0] = '\0';
	for (i = 0; i < n; i++) {
		char one[16];

		snprintf(one, sizeof(one), "%s%zu ", prefix, i);
		strlcat(s, one, sizeof(s));
	}
	return s;
}

/* mst_place_next() into static arrays, in a segment of the unit's size. */
static enum mst_place_rc
place_next(const struct cd_conf *now, const struct cd_place *now_pl,
    const struct cd_conf *next, struct cd_place *next_pl, bool *fresh)
{
	static int buf[4][3 * UNIT_NSPLITS];
	static struct shm *s;
	static int k;
	int *a = buf[k++ % 4];

	if (s == NULL)
		s = unit_shm();
	memset(a, 0, sizeof(buf[0]));
	next_pl->pl_cluster = a;
	next_pl->pl_split = a + next->c_nclusters;
	next_pl->pl_fraction = a + next->c_nclusters + next->c_nweighted;
	next_pl->pl_listener = a + 2 * UNIT_NSPLITS;
	return mst_place_next(now, now_pl, next, next_pl, fresh, s);
}

static void
first_placement_is_identity(void)
{
	struct cd_place pl;
	int i;

	unit_place(&pl);
	for (i = 0; i < UNIT_NCL; i++)
		CU_ASSERT_EQUAL(pl.pl_cluster[i], i);
	for (i = 0; i < UNIT_NSPLITS; i++)
		CU_ASSERT_EQUAL(pl.pl_split[i], i);
}

static void
clusters_keep_their_records_by_name(void)
{
	struct fake_conf a, b;
	const struct cd_conf *now = fake(&a, "alpha beta gamma", 0);
	const struct cd_conf *next = fake(&b, "gamma delta alpha", 0);
	struct cd_place now_pl, next_pl;
	bool fresh[2 * UNIT_NCL];
	int k;

	unit_place(&now_pl);
	CU_ASSERT_EQUAL_FATAL(place_next(now, &now_pl, next, &next_pl, fresh),
	    MST_PLACE_OK);
	CU_ASSERT_EQUAL(next_pl.pl_cluster[0], 2);	/* gamma */
	CU_ASSERT_EQUAL(next_pl.pl_cluster[2], 0);	/* alpha */
	/* delta: the first record no running cluster uses, wiped first */
	CU_ASSERT_EQUAL(next_pl.pl_cluster[1], 3);
	for (k = 0; k < UNIT_NCL; k++)
		CU_ASSERT_EQUAL(fresh[k], k == 3);
}

/*
 * beta's record (1) is free in next, but the draining generation still
 * counts into it: a new cluster never takes it in this reload; a reload
 * after that one may.
 */
static void
new_clusters_avoid_the_running_records(void)
{
	struct fake_conf a, b, c;
	const struct cd_conf *gen0 = fake(&a, "alpha beta", 0);
	const struct cd_conf *gen1 = fake(&b, "alpha", 0);
	const struct cd_conf *gen2 = fake(&c, "alpha epsilon", 0);
	struct cd_place p0, p1, p2;
	bool fresh[2 * UNIT_NCL];

	unit_place(&p0);
	CU_ASSERT_EQUAL_FATAL(place_next(gen0, &p0, gen1, &p1, fresh),
	    MST_PLACE_OK);
	CU_ASSERT_EQUAL(p1.pl_cluster[0], 0);
	CU_ASSERT_EQUAL_FATAL(place_next(gen1, &p1, gen2, &p2, fresh),
	    MST_PLACE_OK);
	CU_ASSERT_EQUAL(p2.pl_cluster[0], 0);
	CU_ASSERT_EQUAL(p2.pl_cluster[1], 1);
	CU_ASSERT(fresh[1]);

	/* the same reload straight from gen0: record 1 is beta's */
	CU_ASSERT_EQUAL_FATAL(place_next(gen0, &p0, gen2, &p2, fresh),
	    MST_PLACE_OK);
	CU_ASSERT_EQUAL(p2.pl_cluster[1], 2);
}

static void
too_many_clusters_for_two_generations(void)
{
	struct fake_conf a, b;
	const struct cd_conf *now, *next;
	struct cd_place now_pl, next_pl;
	bool fresh[2 * UNIT_NCL];

	now = fake(&a, many(UNIT_NCL / 2 + 1, "old"), 0);
	next = fake(&b, many(UNIT_NCL / 2, "new"), 0);
	unit_place(&now_pl);
	CU_ASSERT_EQUAL(place_next(now, &now_pl, next, &next_pl, fresh),
	    MST_PLACE_NO_CLUSTER);
	next = fake(&b, many(UNIT_NCL / 2 - 1, "new"), 0);
	CU_ASSERT_EQUAL(place_next(now, &now_pl, next, &next_pl, fresh),
	    MST_PLACE_OK);
	/* a name both share costs no record */
	next = fake(&b, many(UNIT_NCL / 2 + 1, "old"), 0);
	CU_ASSERT_EQUAL(place_next(now, &now_pl, next, &next_pl, fresh),
	    MST_PLACE_OK);
}

/*
 * Listeners keep their records by name too; a new one takes the first
 * record neither configuration uses; the slot's UNIT_NLSN records bound
 * the two configurations' names together.
 */
static void
listeners_keep_their_records_by_name(void)
{
	struct fake_conf a, b;
	const struct cd_conf *now, *next;
	struct cd_place now_pl, next_pl;
	bool fresh[2 * UNIT_NCL];

	now = fake_listeners(&a, "public internal ops");
	next = fake_listeners(&b, "ops edge public");
	unit_place(&now_pl);
	CU_ASSERT_EQUAL_FATAL(place_next(now, &now_pl, next, &next_pl, fresh),
	    MST_PLACE_OK);
	CU_ASSERT_EQUAL(next_pl.pl_listener[0], 2);	/* ops */
	CU_ASSERT_EQUAL(next_pl.pl_listener[1], 3);	/* edge: new */
	CU_ASSERT_EQUAL(next_pl.pl_listener[2], 0);	/* public */

	now = fake_listeners(&a, many(40, "old"));
	next = fake_listeners(&b, many(UNIT_NLSN - 40 + 1, "new"));
	CU_ASSERT_EQUAL(place_next(now, &now_pl, next, &next_pl, fresh),
	    MST_PLACE_NO_LISTENER);
	next = fake_listeners(&b, many(UNIT_NLSN - 40, "new"));
	CU_ASSERT_EQUAL_FATAL(place_next(now, &now_pl, next, &next_pl, fresh),
	    MST_PLACE_OK);
	CU_ASSERT_EQUAL(next_pl.pl_listener[0], 40);
	CU_ASSERT_EQUAL(next_pl.pl_listener[UNIT_NLSN - 41], UNIT_NLSN - 1);
	/* names both have cost no record */
	next = fake_listeners(&b, many(40, "old"));
	CU_ASSERT_EQUAL(place_next(now, &now_pl, next, &next_pl, fresh),
	    MST_PLACE_OK);
}

static void
split_halves_alternate_per_generation(void)
{
	struct fake_conf a, b, c;
	const struct cd_conf *gen0 = fake(&a, "v1 v2", 3);
	const struct cd_conf *gen1 = fake(&b, "v1 v2", 2);
	const struct cd_conf *gen2 = fake(&c, "v1 v2", 4);
	struct cd_place p0, p1, p2;
	bool fresh[2 * UNIT_NCL];
	int half = UNIT_NSPLITS / 2;

	unit_place(&p0);
	CU_ASSERT_EQUAL_FATAL(place_next(gen0, &p0, gen1, &p1, fresh),
	    MST_PLACE_OK);
	CU_ASSERT_EQUAL(p1.pl_split[0], half);
	CU_ASSERT_EQUAL(p1.pl_split[1], half + 1);
	CU_ASSERT_EQUAL_FATAL(place_next(gen1, &p1, gen2, &p2, fresh),
	    MST_PLACE_OK);
	CU_ASSERT_EQUAL(p2.pl_split[0], 0);
	CU_ASSERT_EQUAL(p2.pl_split[3], 3);

	gen2 = fake(&c, "v1 v2", (size_t)half + 1);
	CU_ASSERT_EQUAL(place_next(gen1, &p1, gen2, &p2, fresh),
	    MST_PLACE_NO_SPLIT);
}

static const char two_routes_yaml[] =
    HCM_HEAD
    "              - match: { prefix: \"/a\" }\n"
    "                route:\n"
    "                  weighted_clusters:\n"
    "                    clusters:\n"
    "                    - { name: v1, weight: 90 }\n"
    "                    - { name: v2, weight: 10 }\n"
    "              - match: { prefix: \"/b\" }\n"
    "                route: { cluster: v1 }\n"
    "              - match: { prefix: \"/\" }\n"
    "                route:\n"
    "                  weighted_clusters:\n"
    "                    clusters:\n"
    "                    - { name: v1, weight: 1 }\n"
    "                    - { name: v2, weight: 3 }\n"
    "  clusters:\n"
    "  - name: v1\n"
    "    type: STATIC\n"
    "    load_assignment:\n"
    "      cluster_name: v1\n"
    "      endpoints:\n"
    "      - lb_endpoints:\n"
    "        - endpoint: { address: { socket_address: { address: "
    "127.0.0.1, port_value: 9001 } } }\n"
    "  - name: v2\n"
    "    type: STATIC\n"
    "    load_assignment:\n"
    "      cluster_name: v2\n"
    "      endpoints:\n"
    "      - lb_endpoints:\n"
    "        - endpoint: { address: { socket_address: { address: "
    "127.0.0.1, port_value: 9002 } } }\n";

static struct cd_conf *
load(const char *yaml)
{
	struct conf_diags d;
	struct cd_conf *c;

	memset(&d, 0, sizeof(d));
	c = conf_load_buf("place.yaml", yaml, strlen(yaml), &d);
	conf_diags_free(&d);
	return c;
}

static void
weights_go_to_the_placed_split_records(void)
{
	struct cd_conf *conf = load(two_routes_yaml);
	struct shm *shm = unit_shm();
	struct cd_place pl;
	uint32_t w[UNIT_NWEIGHTS], seq;

	CU_ASSERT_FATAL(conf != NULL && shm != NULL);
	CU_ASSERT_EQUAL(conf->c_nweighted, 2);
	unit_place(&pl);
	pl.pl_split[0] = 70;
	pl.pl_split[1] = 64;
	atomic_store(&shm_sp(shm, 70)->sp_next, 12345);
	mst_place_publish_weights(shm, conf, &pl);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(shm, 70), w,
	    UNIT_NWEIGHTS, &seq), 2);
	CU_ASSERT(w[0] == 90 && w[1] == 10);
	/* a fresh period on the new weights */
	CU_ASSERT_EQUAL(atomic_load(&shm_sp(shm, 70)->sp_next), 0);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(shm, 64), w,
	    UNIT_NWEIGHTS, &seq), 2);
	CU_ASSERT(w[0] == 1 && w[1] == 3);
	CU_ASSERT_EQUAL(shm_split_read(shm_sp(shm, 0), w,
	    UNIT_NWEIGHTS, &seq), 0);
	shm_destroy(shm);
	conf_free(conf);
}

/*
 * Each weighted route's record gets as many weights as it has clusters,
 * one route after the other in its half of the pool; a generation whose
 * weights do not fit a half is refused, naming what ran out.
 */
static void
split_weights_take_their_half_of_the_pool(void)
{
	struct cd_conf *conf = load(two_routes_yaml);
	struct shm_size sz = { .ss_clusters = 8, .ss_splits = 2,
	    .ss_weights = 4, .ss_hosts = 8, .ss_workers = 1 };
	struct cd_place now, next;
	bool fresh[2 * 8];
	struct shm *shm;

	CU_ASSERT_FATAL(conf != NULL);
	CU_ASSERT_EQUAL(mst_place_nweights(conf), 4);
	CU_ASSERT_FATAL((shm = shm_create(&sz)) != NULL);
	CU_ASSERT_FATAL(mst_place_first(&now, conf) == 0);
	mst_place_split_rooms(shm, conf, &now);
	CU_ASSERT_EQUAL(shm_sp(shm, 0)->sp_wcap, 2);
	CU_ASSERT_EQUAL(shm_sp(shm, 1)->sp_wcap, 2);
	CU_ASSERT_EQUAL((char *)shm_sp_weights(shm_sp(shm, 1)),
	    (char *)shm + shm->hdr.h_off_wt + 2 * sizeof(uint32_t));
	/* the next generation: the other half of records and weights */
	CU_ASSERT_FATAL(mst_place_alloc(&next, conf) == 0);
	CU_ASSERT_EQUAL_FATAL(mst_place_next(conf, &now, conf, &next, fresh,
	    shm), MST_PLACE_OK);
	CU_ASSERT_EQUAL(next.pl_split[0], 2);
	mst_place_split_rooms(shm, conf, &next);
	CU_ASSERT_EQUAL((char *)shm_sp_weights(shm_sp(shm, 2)),
	    (char *)shm + shm->hdr.h_off_wt + 4 * sizeof(uint32_t));
	CU_ASSERT_EQUAL(shm_sp(shm, 3)->sp_wcap, 2);
	mst_place_free(&next);
	shm_destroy(shm);
	/* a half of 3 weights holds no generation of 4 */
	sz.ss_weights = 3;
	CU_ASSERT_FATAL((shm = shm_create(&sz)) != NULL);
	CU_ASSERT_FATAL(mst_place_alloc(&next, conf) == 0);
	CU_ASSERT_EQUAL(mst_place_next(conf, &now, conf, &next, fresh, shm),
	    MST_PLACE_NO_WEIGHTS);
	mst_place_free(&next);
	mst_place_free(&now);
	shm_destroy(shm);
	conf_free(conf);
}

/*
 * The master's pair: a structural reload wipes the record a new cluster
 * takes, and only that one; a weights-only reload keeps the placement.
 */
static void
apply_wipes_only_records_taken_anew(void)
{
	struct cd_conf *gen0 = load(two_routes_yaml), *gen1;
	struct mst saved = mst;
	struct buf y;
	int lvl = log_level;

	buf_init(&y);
	/* the same file with v2 renamed v3: v3 takes record 2 */
	buf_puts(&y, two_routes_yaml);
	for (char *p; (p = strstr(y.b_data, "v2")) != NULL;)
		p[1] = '3';
	gen1 = load(y.b_data);
	buf_free(&y);
	CU_ASSERT_FATAL(gen0 != NULL && gen1 != NULL);
	log_level = LOG_L_WARN;
	CU_ASSERT_FATAL((mst.m_shm = unit_shm()) != NULL);
	CU_ASSERT_EQUAL(mst_place_prepare(MST_CH_START, gen0), 0);
	mst.m_conf = gen0;
	mst_place_apply();
	CU_ASSERT_EQUAL(mst.m_place->pl_cluster[1], 1);
	atomic_store(&mst.m_shm->hdr.h_slots_hwm, 1);
	shm_add(&shm_slot(mst.m_shm, 0)->w_cl[0].cc_c[CC_RQ_TOTAL], 7);
	shm_add(&shm_slot(mst.m_shm, 0)->w_cl[2].cc_c[CC_RQ_TOTAL], 5);

	CU_ASSERT_EQUAL(mst_place_prepare(MST_CH_STRUCTURAL, gen1), 0);
	/* nothing moves before apply */
	CU_ASSERT_EQUAL(mst.m_place->pl_cluster[1], 1);
	mst.m_conf = gen1;
	mst_place_apply();
	CU_ASSERT_EQUAL(mst.m_place->pl_cluster[0], 0);
	CU_ASSERT_EQUAL(mst.m_place->pl_cluster[1], 2);
	CU_ASSERT_EQUAL(mst.m_place->pl_split[0], UNIT_NSPLITS / 2);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(mst.m_shm, 0, CC_RQ_TOTAL), 7);
	CU_ASSERT_EQUAL(shm_sum_cluster_c(mst.m_shm, 2, CC_RQ_TOTAL), 0);

	CU_ASSERT_EQUAL(mst_place_prepare(MST_CH_WEIGHTS, gen1), 0);
	mst_place_apply();
	CU_ASSERT_EQUAL(mst.m_place->pl_cluster[1], 2);
	CU_ASSERT_EQUAL(mst.m_place->pl_split[0], UNIT_NSPLITS / 2);

	shm_destroy(mst.m_shm);
	conf_free(gen0);
	conf_free(gen1);
	mst = saved;
	log_level = lvl;
}

static CU_TestInfo tests[] = {
	{ "first_placement_is_identity", first_placement_is_identity },
	{ "clusters_keep_their_records_by_name",
	    clusters_keep_their_records_by_name },
	{ "new_clusters_avoid_the_running_records",
	    new_clusters_avoid_the_running_records },
	{ "too_many_clusters_for_two_generations",
	    too_many_clusters_for_two_generations },
	{ "listeners_keep_their_records_by_name",
	    listeners_keep_their_records_by_name },
	{ "split_halves_alternate_per_generation",
	    split_halves_alternate_per_generation },
	{ "split_weights_take_their_half_of_the_pool",
	    split_weights_take_their_half_of_the_pool },
	{ "weights_go_to_the_placed_split_records",
	    weights_go_to_the_placed_split_records },
	{ "apply_wipes_only_records_taken_anew",
	    apply_wipes_only_records_taken_anew },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/place", tests);
