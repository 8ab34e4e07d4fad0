/*
 * Unit tests for the order the stats pages keep per configuration
 * (master/stats_order.c): a cluster's stats put in its shape's cached
 * order equal the same stats sorted afresh, for every shape and with per
 * code counters merged in; the cached cluster order equals a fresh sort,
 * and after a reload that removes and adds clusters (the order emptied as
 * the admin empties it) equals the new configuration's fresh sort, a page
 * begun before stops, and the pages show the new cluster set, byte for
 * byte what the pages printed at once show.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/hist.h"
#include "shared/shm.h"
#include "master/stats-int.h"
#include "master/stats.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

/* Cluster names whose order is not the order of the file, nor of the
 * names without their prefix: "a" < "a_b" < "ab" by bytes, "c10" < "c9",
 * upper case first, "x:y" printed as "x_y". */
static const char *const names_a[] = {
	"c9", "c10", "a", "ab", "a_b", "Z", "x:y", "m", "c1", "b-2", "q",
	"c100", "k", "e", "d", "f", "g", "h", "i", "j",
};
/* The reload: "m", "c10", "ab" and "q" gone, four new ones. */
static const char *const names_b[] = {
	"c9", "a", "a_b", "Z", "x:y", "c1", "b-2", "new0", "c100", "k", "e",
	"aa", "d", "f", "g", "h", "i", "j", "zz",
};
#define NA	(sizeof(names_a) / sizeof(names_a[0]))
#define NB	(sizeof(names_b) / sizeof(names_b[0]))

static struct cd_place place;
static struct shm *shm;

/* Cluster i: the optional scopes of shape i % 16 (health check, outlier
 * detection, remaining gauges per priority). */
static void
yaml_cluster(struct buf *y, const char *name, size_t i)
{
	buf_printf(y, "  - name: \"%s\"\n    load_assignment:\n"
	    "      cluster_name: \"%s\"\n      endpoints: [ { lb_endpoints: "
	    "[ { endpoint: { address: { socket_address: { address: "
	    "127.0.0.1, port_value: 8081 } } } } ] } ]\n", name, name);
	if (i & 1)
		buf_puts(y, "    health_checks:\n    - timeout: 1s\n"
		    "      interval: 5s\n      unhealthy_threshold: 3\n"
		    "      healthy_threshold: 1\n"
		    "      http_health_check: { path: \"/health\" }\n");
	if (i & 2)
		buf_puts(y, "    outlier_detection: { consecutive_5xx: 5 }\n");
	if (i & 12)
		buf_puts(y, "    circuit_breakers:\n      thresholds:\n");
	if (i & 4)
		buf_puts(y, "      - { priority: DEFAULT, track_remaining: "
		    "true }\n");
	if (i & 8)
		buf_puts(y, "      - { priority: HIGH, track_remaining: "
		    "true }\n");
}

static struct cd_conf *
load(const char *const *names, size_t n)
{
	struct conf_diags d;
	struct cd_conf *c;
	struct buf y;
	size_t i;

	buf_init(&y);
	buf_puts(&y, HCM_HEAD);
	buf_printf(&y, "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: \"%s\" }\n  clusters:\n",
	    names[0]);
	for (i = 0; i < n; i++)
		yaml_cluster(&y, names[i], i);
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("order.yaml", y.b_data, y.b_len, &d);
	if (c == NULL && d.cd_n > 0)
		fprintf(stderr, "order.yaml:%d: %s\n", d.cd_v[0].d_line,
		    d.cd_v[0].d_text);
	conf_diags_free(&d);
	buf_free(&y);
	return c;
}

/* Counts in two slots; per code counters (and retry ones) on a few
 * records, in classes the other records leave empty. */
static void
setup(void)
{
	static const int codes[] = { 200, 201, 204, 299, 302, 404, 503, 100 };
	struct shm_worker *w0, *w1;
	size_t i, k;

	unit_place(&place);
	shm_destroy(shm);
	CU_ASSERT_FATAL((shm = unit_shm()) != NULL);
	atomic_store(&shm->hdr.h_slots_hwm, 2);
	atomic_store(&shm->hdr.h_state, SHM_S_LIVE);
	w0 = shm_slot(shm, 0);
	w1 = shm_slot(shm, 1);
	for (i = 0; i < 24; i++) {
		shm_add(&w0->w_cl[i].cc_c[CC_RQ_TOTAL], i + 1);
		shm_add(&w1->w_cl[i].cc_c[CC_RQ_TOTAL], 2);
		for (k = 0; i % 3 == 0 && k <= i % 8; k++)
			shm_code_add(&(k & 1 ? w1 : w0)->w_cl[i].cc_code,
			    codes[k]);
		for (k = 0; i % 4 == 1 && k <= i % 5; k++)
			shm_retry_code_add(&w0->w_cl[i].cc_retry_code,
			    codes[7 - k]);
	}
}

static void
src_of(struct mst_stats_src *src, const struct cd_conf *c,
    struct mst_stats_order *so)
{
	memset(src, 0, sizeof(*src));
	src->ss_conf = c;
	src->ss_place = &place;
	src->ss_shm = shm;
	src->ss_uptime_s = 42;
	src->ss_concurrency = 2;
	src->ss_order = so;
}

static int
same_list(const struct mst_stat_list *x, const struct mst_stat_list *y)
{
	size_t i;

	if (x->sl_n != y->sl_n)
		return 0;
	for (i = 0; i < x->sl_n; i++)
		if (strcmp(x->sl_v[i].st_name, y->sl_v[i].st_name) != 0 ||
		    x->sl_v[i].st_value != y->sl_v[i].st_value ||
		    x->sl_v[i].st_type != y->sl_v[i].st_type ||
		    x->sl_v[i].st_used != y->sl_v[i].st_used)
			return 0;
	return 1;
}

/* Every cluster of c, both kinds of collection: the shape's cached
 * order is the order qsort gives. */
static void
blocks_match(const struct cd_conf *c, struct mst_stats_order *so)
{
	static const int whats[] = { MST_CL_ALL, MST_CL_NOHIST };
	struct mst_stats_src fresh, cached;
	struct mst_stat_list x, y;
	size_t i, w;

	src_of(&fresh, c, NULL);
	src_of(&cached, c, so);
	for (w = 0; w < 2; w++)
		for (i = 0; i < c->c_nclusters; i++) {
			CU_ASSERT_FATAL(mst_stats_collect_clusters(&fresh, i, 1,
			    whats[w], &x) == 0);
			CU_ASSERT_FATAL(mst_stats_collect_clusters(&cached, i,
			    1, whats[w], &y) == 0);
			CU_ASSERT(x.sl_n > 20);
			CU_ASSERT(same_list(&x, &y));
			mst_stats_list_free(&x);
			mst_stats_list_free(&y);
		}
}

static void
stats_order_block_equals_fresh_sort(void)
{
	struct mst_stats_order so;
	struct cd_conf *c;
	int s, shapes = 0;

	setup();
	CU_ASSERT_FATAL((c = load(names_a, NA)) != NULL);
	memset(&so, 0, sizeof(so));
	blocks_match(c, &so);
	/* sixteen shapes, each with and without the histogram */
	for (s = 0; s < MST_STATS_SHAPES; s++)
		shapes += so.so_perm[s] != NULL;
	CU_ASSERT_EQUAL(shapes, 32);
	/* and again, from the cache */
	blocks_match(c, &so);
	mst_stats_order_reset(&so);
	conf_free(c);
}

static int
pfx_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* so's cluster order is c's, sorted afresh here. */
static void
order_is_fresh(const struct mst_stats_order *so, const struct cd_conf *c)
{
	char **v, *p;
	size_t i, n = c->c_nclusters;

	CU_ASSERT_FATAL(so->so_conf == c);
	CU_ASSERT_FATAL((v = calloc(n, sizeof(*v))) != NULL);
	for (i = 0; i < n; i++) {
		CU_ASSERT_FATAL((p = calloc(1, CD_NAME_MAX + 16)) != NULL);
		strlcpy(p, "cluster.", CD_NAME_MAX + 16);
		mst_stats_cluster_prefix(&c->c_clusters[i], p + 8,
		    CD_NAME_MAX + 8);
		strlcat(p, ".", CD_NAME_MAX + 16);
		v[i] = p;
	}
	qsort(v, n, sizeof(*v), pfx_cmp);
	CU_ASSERT_FALSE(so->so_nest);
	for (i = 0; i < n; i++) {
		CU_ASSERT_STRING_EQUAL(so->so_pfx + i * so->so_w, v[i]);
		mst_stats_cluster_prefix(&c->c_clusters[so->so_cl[i]],
		    v[i] + 8, CD_NAME_MAX + 8);
		strlcat(v[i], ".", CD_NAME_MAX + 16);
		CU_ASSERT_STRING_EQUAL(so->so_pfx + i * so->so_w, v[i]);
		free(v[i]);
	}
	free(v);
}

/* A page of c through a cursor with order so, and printed at once. */
static void
page_both(const struct cd_conf *c, struct mst_stats_order *so, int prom,
    struct buf *piece, struct buf *whole)
{
	struct mst_stats_src src;
	struct mst_stats_cursor *cur = NULL;
	struct mst_prom_cursor *pc = NULL;
	struct mst_stat_list sl;
	int rc, w = 0;

	src_of(&src, c, so);
	buf_init(piece);
	buf_init(whole);
	CU_ASSERT_FATAL(mst_stats_collect_base(&src, &sl) == 0);
	if (prom)
		pc = mst_prom_cursor_new(&src, NULL, &sl, &w);
	else
		cur = mst_stats_cursor_new(&src, NULL, MST_STATS_TEXT, &sl);
	CU_ASSERT_FATAL(cur != NULL || pc != NULL);
	do
		rc = prom ? mst_prom_cursor_next(pc, &src, piece, 4096) :
		    mst_stats_cursor_next(cur, &src, piece, 4096);
	while (rc == 1);
	CU_ASSERT_EQUAL(rc, 0);
	mst_stats_cursor_free(cur);
	mst_prom_cursor_free(pc);
	CU_ASSERT_FATAL(mst_stats_collect(&src, &sl) == 0);
	CU_ASSERT(prom ? mst_stats_prometheus(whole, &sl, NULL) == 0 :
	    mst_stats_text(whole, &sl, NULL) == 0);
	mst_stats_list_free(&sl);
	buf_append(piece, "", 0);
	buf_append(whole, "", 0);
}

/* Both pages of c with so: the same bytes, every cluster of c in them,
 * none of gone. */
static void
pages_show(const struct cd_conf *c, struct mst_stats_order *so,
    const char *const *gone, size_t ngone)
{
	struct buf piece, whole;
	char want[CD_NAME_MAX + 64], cn[CD_NAME_MAX + 8];
	size_t i;
	int prom;

	for (prom = 0; prom <= 1; prom++) {
		page_both(c, so, prom, &piece, &whole);
		CU_ASSERT_EQUAL(piece.b_len, whole.b_len);
		CU_ASSERT_STRING_EQUAL(piece.b_data, whole.b_data);
		for (i = 0; i < c->c_nclusters; i++) {
			/* "x:y" as "x_y" */
			mst_stats_cluster_prefix(&c->c_clusters[i], cn,
			    sizeof(cn));
			snprintf(want, sizeof(want), prom ?
			    "_rq_total{envoy_cluster_name=\"%s\"} " :
			    "\ncluster.%s.upstream_rq_total: ", cn);
			CU_ASSERT_PTR_NOT_NULL(strstr(piece.b_data, want));
		}
		for (i = 0; i < ngone; i++) {
			snprintf(want, sizeof(want), prom ? "\"%s\"" :
			    "cluster.%s.", gone[i]);
			CU_ASSERT_PTR_NULL(strstr(piece.b_data, want));
		}
		buf_free(&piece);
		buf_free(&whole);
	}
}

/* A text page of c with so begun: its first 100 bytes out. */
static struct mst_stats_cursor *
page_begin(struct mst_stats_src *src, const struct cd_conf *c,
    struct mst_stats_order *so, struct buf *out)
{
	struct mst_stats_cursor *cur;
	struct mst_stat_list sl;

	src_of(src, c, so);
	CU_ASSERT_FATAL(mst_stats_collect_base(src, &sl) == 0);
	CU_ASSERT_FATAL((cur = mst_stats_cursor_new(src, NULL,
	    MST_STATS_TEXT, &sl)) != NULL);
	buf_init(out);
	CU_ASSERT_EQUAL(mst_stats_cursor_next(cur, src, out, 100), 1);
	return cur;
}

static void
stats_order_rebuilt_after_structural_reload(void)
{
	static const char *const gone[] = { "m", "c10", "ab", "q" };
	struct mst_stats_order so;
	struct mst_stats_cursor *cur;
	struct mst_stats_src src;
	struct cd_conf *a, *b;
	struct buf out;
	uint64_t gen;

	setup();
	memset(&so, 0, sizeof(so));
	CU_ASSERT_FATAL((a = load(names_a, NA)) != NULL);
	CU_ASSERT_FATAL((b = load(names_b, NB)) != NULL);
	CU_ASSERT_EQUAL(mst_stats_order_get(&so, a), 0);
	order_is_fresh(&so, a);
	pages_show(a, &so, NULL, 0);
	/* a page of a begins... */
	cur = page_begin(&src, a, &so, &out);

	/* ...and the reload empties the order, as the admin does */
	gen = so.so_gen;
	mst_stats_order_reset(&so);
	CU_ASSERT(so.so_gen > gen);
	CU_ASSERT_PTR_NULL(so.so_conf);
	pages_show(b, &so, gone, sizeof(gone) / sizeof(gone[0]));
	order_is_fresh(&so, b);
	/* the old page stops rather than walk the new order */
	errno = 0;
	CU_ASSERT_EQUAL(mst_stats_cursor_next(cur, &src, &out, 100), -1);
	CU_ASSERT_EQUAL(errno, ESTALE);
	mst_stats_cursor_free(cur);
	buf_free(&out);

	/* an order of another configuration is rebuilt even unreset */
	CU_ASSERT_EQUAL(mst_stats_order_get(&so, a), 0);
	order_is_fresh(&so, a);
	blocks_match(a, &so);
	mst_stats_order_reset(&so);
	conf_free(a);
	conf_free(b);
}

/* A reload of weights alone keeps the order, rebound to the new
 * configuration: nothing sorted again, and a page begun goes on. */
static void
stats_order_kept_by_a_weights_reload(void)
{
	struct mst_stats_order so;
	struct mst_stats_cursor *cur;
	struct mst_stats_src src;
	struct cd_conf *a, *a2;
	struct buf out, piece, whole;
	const size_t *cl;
	uint64_t gen;
	int rc;

	setup();
	memset(&so, 0, sizeof(so));
	CU_ASSERT_FATAL((a = load(names_a, NA)) != NULL);
	CU_ASSERT_FATAL((a2 = load(names_a, NA)) != NULL);
	cur = page_begin(&src, a, &so, &out);
	gen = so.so_gen;
	cl = so.so_cl;
	mst_stats_order_rebind(&so, a2);
	CU_ASSERT_EQUAL(mst_stats_order_get(&so, a2), 0);
	CU_ASSERT(so.so_gen == gen && so.so_cl == cl);
	order_is_fresh(&so, a2);
	src.ss_conf = a2;
	do
		rc = mst_stats_cursor_next(cur, &src, &out, 4096);
	while (rc == 1);
	CU_ASSERT_EQUAL(rc, 0);
	mst_stats_cursor_free(cur);
	page_both(a2, NULL, 0, &piece, &whole);
	buf_append(&out, "", 0);
	CU_ASSERT_STRING_EQUAL(out.b_data, whole.b_data);
	buf_free(&out);
	buf_free(&piece);
	buf_free(&whole);
	mst_stats_order_reset(&so);
	conf_free(a);
	conf_free(a2);
}

/* The bounds as the Prometheus page prints them are hist_fmt()'s. */
static void
stats_le_names_are_hist_fmt(void)
{
	char s[32];
	int i;

	for (i = 0; i < MST_HIST_NLE; i++) {
		hist_fmt(s, sizeof(s), mst_stats_le[i]);
		CU_ASSERT_STRING_EQUAL(mst_stats_le_names[i], s);
	}
}

static void
teardown_last(void)
{
	shm_destroy(shm);
	shm = NULL;
}

static CU_TestInfo tests[] = {
	{ "stats_order_block_equals_fresh_sort",
	    stats_order_block_equals_fresh_sort },
	{ "stats_order_rebuilt_after_structural_reload",
	    stats_order_rebuilt_after_structural_reload },
	{ "stats_order_kept_by_a_weights_reload",
	    stats_order_kept_by_a_weights_reload },
	{ "stats_le_names_are_hist_fmt", stats_le_names_are_hist_fmt },
	{ "teardown_last", teardown_last },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/stats_order", tests);
