/*
 * Unit tests for the values fleet mode keeps in etcd and on disk
 * (master/fleet_json.c): route states, instances' reports, history
 * records, the snapshot file, key escaping -- and that a value which does
 * not check out against the route is refused whole, so that nothing
 * foreign under the prefix can move a weight.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "shared/hist.h"
#include "master/fleet-int.h"
#include "test/unit/unit.h"

static struct cd_rollout fj_ro;
static struct mst_fleet_route fj_route;

static void
fj_setup(void)
{
	memset(&fj_ro, 0, sizeof(fj_ro));
	fj_ro.ro_canary = 1;
	fj_ro.ro_stable = 0;
	fj_ro.ro_steps[0] = 10;
	fj_ro.ro_steps[1] = 50;
	fj_ro.ro_steps[2] = 100;
	fj_ro.ro_nsteps = 3;
	fj_route.fr_ro = &fj_ro;
	fj_route.fr_nw = 2;
	fj_route.fr_total = 100;
}

/* s zeroed with room for 4 weights, static storage (a few in turn):
 * nothing to free. */
static void
fj_room(struct mst_fleet_state *s)
{
	static uint32_t w[8][4];
	static unsigned next;

	memset(s, 0, sizeof(*s));
	s->fs_w = w[next++ % 8];
	s->fs_wcap = 4;
}

static void
fj_state(struct mst_fleet_state *s)
{
	fj_room(s);
	s->fs_state = MST_RO_PAUSED;
	s->fs_step = 1;
	s->fs_nw = 2;
	s->fs_w[0] = 50;
	s->fs_w[1] = 50;
	s->fs_epoch = 4;
	s->fs_fence = 1234;
	s->fs_decided_ms = 1700000000123LL;
	s->fs_seq = 77;
	strlcpy(s->fs_reason, "paused by the \"operator\"", sizeof(s->fs_reason));
	s->fs_rev = 99;
}

static void
keys_escape_slashes_and_percents(void)
{
	char out[16];

	CU_ASSERT_EQUAL(fl_key_escape("web", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "web");
	CU_ASSERT_EQUAL(fl_key_escape("a/b%c\n", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "a%2Fb%25c%0A");
	CU_ASSERT_EQUAL(fl_key_escape("0123456789abcdef", out, sizeof(out)),
	    -1);
}

static void
states_round_trip(void)
{
	struct mst_fleet_state s, back;
	char why[128], *v;

	fj_setup();
	fj_state(&s);
	fj_room(&back);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v = fl_enc_state(&s));
	CU_ASSERT_EQUAL_FATAL(fl_dec_state(&fj_route, v, strlen(v), &back, why,
	    sizeof(why)), 0);
	CU_ASSERT_EQUAL(back.fs_state, MST_RO_PAUSED);
	CU_ASSERT_EQUAL(back.fs_step, 1);
	CU_ASSERT(back.fs_w[0] == 50 && back.fs_w[1] == 50 && back.fs_nw == 2);
	CU_ASSERT_EQUAL(back.fs_epoch, 4);
	CU_ASSERT_EQUAL(back.fs_fence, 1234);
	CU_ASSERT_EQUAL(back.fs_decided_ms, 1700000000123LL);
	CU_ASSERT_EQUAL(back.fs_seq, 77);
	CU_ASSERT_STRING_EQUAL(back.fs_reason, s.fs_reason);
	/* the revision is etcd's, not part of the value */
	CU_ASSERT_EQUAL(back.fs_rev, 0);
	free(v);
}

/* Any count of clusters goes through etcd's JSON, and what is read is
 * bound by the local route: a state of one cluster more is refused. */
static void
states_of_forty_clusters_round_trip(void)
{
	static uint32_t room[40], back_room[40];
	struct mst_fleet_route r;
	struct mst_fleet_state s, back;
	char why[128], *v, *v41, *at;
	uint32_t i, bad = 0;

	fj_setup();
	r = fj_route;
	r.fr_nw = 40;
	r.fr_total = 40 * 41 / 2;
	memset(&s, 0, sizeof(s));
	s.fs_w = room;
	s.fs_wcap = 40;
	s.fs_state = MST_RO_PROGRESSING;
	s.fs_nw = 40;
	for (i = 0; i < 40; i++)
		s.fs_w[i] = i + 1;
	memset(&back, 0, sizeof(back));
	back.fs_w = back_room;
	back.fs_wcap = 40;
	CU_ASSERT_PTR_NOT_NULL_FATAL(v = fl_enc_state(&s));
	CU_ASSERT_EQUAL_FATAL(fl_dec_state(&r, v, strlen(v), &back, why,
	    sizeof(why)), 0);
	CU_ASSERT_EQUAL(back.fs_nw, 40);
	for (i = 0; i < 40; i++)
		bad += back.fs_w[i] != i + 1;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_PTR_EQUAL(back.fs_w, back_room);	/* its own room */
	/* the same document read for a route of 39: refused */
	r.fr_nw = 39;
	CU_ASSERT_EQUAL(fl_dec_state(&r, v, strlen(v), &back, why,
	    sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "39 clusters wanted"));
	/* a room smaller than the route's count: refused, nothing written */
	r.fr_nw = 40;
	back.fs_wcap = 39;
	memset(back_room, 0, sizeof(back_room));
	CU_ASSERT_EQUAL(fl_dec_state(&r, v, strlen(v), &back, why,
	    sizeof(why)), -1);
	CU_ASSERT_EQUAL(back_room[0], 0);
	/* a peer's record naming 41 clusters for a route of 40 */
	CU_ASSERT_PTR_NOT_NULL_FATAL(at = strstr(v, "40]"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(v41 = malloc(strlen(v) + 8));
	memcpy(v41, v, (size_t)(at - v));
	strcpy(v41 + (at - v), "40,0]");
	strcat(v41, at + 3);
	back.fs_wcap = 40;
	CU_ASSERT_EQUAL(fl_dec_state(&r, v41, strlen(v41), &back, why,
	    sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "40 clusters wanted"));
	free(v41);
	free(v);
}

static void
foreign_states_are_refused(void)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[1,2]",
		"{\"v\":2,\"state\":\"paused\",\"step\":1,\"weights\":[50,50],"
		    "\"epoch\":1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"exploded\",\"step\":1,\"weights\":[50,50],"
		    "\"epoch\":1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"paused\",\"step\":3,\"weights\":[50,50],"
		    "\"epoch\":1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"paused\",\"step\":-2,\"weights\":[50,50],"
		    "\"epoch\":1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"paused\",\"step\":1,\"weights\":[50,50,0],"
		    "\"epoch\":1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"paused\",\"step\":1,\"weights\":[50,51],"
		    "\"epoch\":1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"paused\",\"step\":1,\"weights\":[\"50\",50],"
		    "\"epoch\":1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"paused\",\"step\":1,\"weights\":[-50,150],"
		    "\"epoch\":1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"paused\",\"step\":1,\"weights\":[50,50],"
		    "\"epoch\":-1,\"fence\":1,\"decided_ms\":1,\"seq\":1}",
		"{\"v\":1,\"state\":\"paused\",\"step\":1,\"weights\":[50,50],"
		    "\"epoch\":1,\"fence\":1,\"seq\":1}",
	};
	struct mst_fleet_state s;
	char why[128];
	size_t i;

	fj_setup();
	fj_room(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CU_ASSERT_EQUAL(fl_dec_state(&fj_route, bad[i], strlen(bad[i]),
		    &s, why, sizeof(why)), -1);
		CU_ASSERT(why[0] != '\0');
	}
}

static void
sample(struct mst_judge_snap *s, uint64_t rq, uint64_t err, uint64_t us)
{
	memset(s, 0, sizeof(*s));
	s->js_rq = rq;
	s->js_5xx = err;
	s->js_h.h_b[hist_bucket(us)] = rq / 2;
	s->js_h.h_b[hist_bucket(us * 4)] = rq - rq / 2;
	s->js_h.h_count = rq;
}

static void
reports_carry_windows_and_buckets(void)
{
	const struct mst_judge_snap *vs[2];
	struct mst_judge_snap v1, v2;
	struct fl_rep_route rr;
	const char *names[2];
	struct mst_fleet_input in;
	char why[128], *doc;
	int64_t t;
	void *d;

	sample(&v1, 300, 1, 2000);
	sample(&v2, 30, 3, 9000);
	memset(&rr, 0, sizeof(rr));
	rr.rr_name = "web";
	rr.rr_ack = 41;
	rr.rr_window_ms = 1700000000000LL;
	rr.rr_nv = 2;
	rr.rr_vname = names;
	rr.rr_v = vs;
	rr.rr_vname[0] = "v1";
	rr.rr_vname[1] = "v2";
	rr.rr_v[0] = &v1;
	rr.rr_v[1] = &v2;
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc = fl_enc_report("a", 1700000000500LL,
	    12, &rr, 1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d = fl_report_load(doc, strlen(doc), &t,
	    why, sizeof(why)));
	CU_ASSERT_EQUAL(t, 1700000000500LL);
	CU_ASSERT_EQUAL(fl_report_ack(d, "web"), 41);
	CU_ASSERT_EQUAL(fl_report_ack(d, "other"), -1);
	memset(&in, 0, sizeof(in));
	CU_ASSERT_EQUAL_FATAL(fl_report_input(d, "web", "v2", "v1", &in), 0);
	CU_ASSERT_EQUAL(in.fi_ack_rev, 41);
	CU_ASSERT_EQUAL(in.fi_window_ms, 1700000000000LL);
	CU_ASSERT(in.fi_canary.js_rq == 30 && in.fi_canary.js_5xx == 3);
	CU_ASSERT(in.fi_stable.js_rq == 300 && in.fi_stable.js_5xx == 1);
	CU_ASSERT(memcmp(in.fi_canary.js_h.h_b, v2.js_h.h_b,
	    sizeof(v2.js_h.h_b)) == 0);
	CU_ASSERT_EQUAL(in.fi_canary.js_h.h_count, 30);
	/* a version with no traffic yet counts as zero */
	CU_ASSERT_EQUAL(fl_report_input(d, "web", "v3", "v1", &in), 0);
	CU_ASSERT_EQUAL(in.fi_canary.js_rq, 0);
	CU_ASSERT_EQUAL(fl_report_input(d, "nope", "v2", "v1", &in), -1);
	fl_report_free(d);
	free(doc);
}

static void
foreign_reports_are_refused(void)
{
	static const char *const bad_docs[] = {
		"{",
		"{\"v\":1,\"t\":5}",
		"{\"v\":2,\"t\":5,\"routes\":{}}",
		"{\"v\":1,\"t\":-5,\"routes\":{}}",
		"{\"v\":1,\"t\":5,\"routes\":[]}",
	};
	static const char *const bad_routes[] = {
		/* bucket out of the histogram */
		"{\"v\":1,\"t\":5,\"routes\":{\"web\":{\"ack\":1,\"ws\":1,"
		    "\"vers\":{\"v2\":{\"rq\":1,\"err\":0,\"h\":[[464,1]]}}}}}",
		/* more failures than requests */
		"{\"v\":1,\"t\":5,\"routes\":{\"web\":{\"ack\":1,\"ws\":1,"
		    "\"vers\":{\"v2\":{\"rq\":1,\"err\":2,\"h\":[]}}}}}",
		/* a negative count */
		"{\"v\":1,\"t\":5,\"routes\":{\"web\":{\"ack\":1,\"ws\":1,"
		    "\"vers\":{\"v1\":{\"rq\":1,\"err\":0,\"h\":[[3,-1]]}}}}}",
		/* shapes */
		"{\"v\":1,\"t\":5,\"routes\":{\"web\":{\"ack\":\"1\",\"ws\":1,"
		    "\"vers\":{}}}}",
		"{\"v\":1,\"t\":5,\"routes\":{\"web\":{\"ack\":1,\"ws\":1,"
		    "\"vers\":{\"v2\":{\"rq\":1,\"err\":0,\"h\":[[1]]}}}}}",
	};
	struct mst_fleet_input in;
	char why[128];
	int64_t t;
	size_t i;
	void *d;

	for (i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++)
		CU_ASSERT_PTR_NULL(fl_report_load(bad_docs[i],
		    strlen(bad_docs[i]), &t, why, sizeof(why)));
	for (i = 0; i < sizeof(bad_routes) / sizeof(bad_routes[0]); i++) {
		d = fl_report_load(bad_routes[i], strlen(bad_routes[i]), &t, why,
		    sizeof(why));
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_EQUAL(fl_report_input(d, "web", "v2", "v1", &in), -1);
		fl_report_free(d);
	}
}

static void
history_records_say_what_and_why(void)
{
	struct mst_fleet_state from;
	struct mst_fleet_verdict v;
	json_t *o;
	char *h;

	fj_state(&from);
	memset(&v, 0, sizeof(v));
	v.fv_act = MST_FLEET_A_ROLLBACK;
	v.fv_used = 3;
	v.fv_breaches = 2;
	v.fv_canary.rf_rq = 180;
	v.fv_canary.rf_5xx = 9;
	v.fv_canary.rf_err_rate = 0.05;
	v.fv_canary.rf_p99 = NAN;
	v.fv_stable.rf_err_rate = NAN;
	v.fv_stable.rf_p99 = 12.5;
	fj_room(&v.fv_next);
	mst_fleet_state_copy(&v.fv_next, &from);
	v.fv_next.fs_state = MST_RO_ROLLED_BACK;
	v.fv_next.fs_seq = 78;
	strlcpy(v.fv_why, "2 breaches in a row", sizeof(v.fv_why));
	CU_ASSERT_PTR_NOT_NULL_FATAL(h = fl_enc_hist(&v, &from, "leader", "a",
	    1700000000999LL));
	CU_ASSERT_PTR_NOT_NULL_FATAL(o = json_loads(h, 0, NULL));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "act")),
	    "rollback");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "seq")), 78);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o,
	    "from_revision")), 99);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
	    json_object_get(o, "to"), "state")), "rolled_back");
	CU_ASSERT(json_is_null(json_object_get(json_object_get(
	    json_object_get(o, "inputs"), "canary"), "p99_ms")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(
	    json_object_get(o, "inputs"), "canary"), "rq")), 180);
	json_decref(o);
	free(h);
	/* a first state has nothing it came from */
	from.fs_nw = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(h = fl_enc_hist(&v, &from, "leader", "a",
	    1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(o = json_loads(h, 0, NULL));
	CU_ASSERT(json_is_null(json_object_get(o, "from")));
	json_decref(o);
	free(h);
}

static void
snapshot_file_round_trips_etcd_states_only(void)
{
	struct mst_fleet_rt rt[2];
	struct fl_route r[2], r2[2];
	struct mst_fleet_conf conf;
	struct fleet f, g;
	char why[128], *s;

	fj_setup();
	memset(&conf, 0, sizeof(conf));
	conf.fl_cluster = "shop";
	conf.fl_node_id = "a";
	memset(rt, 0, sizeof(rt));
	strlcpy(rt[0].fr_name, "web", sizeof(rt[0].fr_name));
	strlcpy(rt[1].fr_name, "api", sizeof(rt[1].fr_name));
	memset(r, 0, sizeof(r));
	r[0].r_rt = &rt[0];
	r[0].r_dr = fj_route;
	fj_state(&r[0].r_applied);
	r[1].r_rt = &rt[1];
	r[1].r_dr = fj_route;
	fj_state(&r[1].r_applied);
	r[1].r_local = true;		/* decided here: not etcd's */
	memset(&f, 0, sizeof(f));
	f.f_conf = &conf;
	f.f_routes = r;
	f.f_nroutes = 2;
	f.f_snap_cluster = 15562117517663173632ULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(s = fl_enc_snapshot(&f));
	memcpy(r2, r, sizeof(r2));
	r2[0].r_have = r2[1].r_have = false;
	fj_room(&r2[0].r_cur);
	fj_room(&r2[1].r_cur);
	g = f;
	g.f_routes = r2;
	g.f_snap_cluster = 0;
	CU_ASSERT_EQUAL_FATAL(fl_dec_snapshot(&g, s, strlen(s), why,
	    sizeof(why)), 0);
	CU_ASSERT(g.f_snap_cluster == 15562117517663173632ULL);
	CU_ASSERT_TRUE(r2[0].r_have);
	CU_ASSERT_EQUAL(r2[0].r_cur.fs_rev, 99);
	CU_ASSERT_EQUAL(r2[0].r_cur.fs_state, MST_RO_PAUSED);
	CU_ASSERT_EQUAL(r2[0].r_cur.fs_w[1], 50);
	CU_ASSERT_FALSE(r2[1].r_have);
	/* another fleet's file is not ours */
	conf.fl_cluster = "other";
	CU_ASSERT_EQUAL(fl_dec_snapshot(&g, s, strlen(s), why, sizeof(why)),
	    -1);
	CU_ASSERT_EQUAL(fl_dec_snapshot(&g, "{", 1, why, sizeof(why)), -1);
	free(s);
}

static CU_TestInfo tests[] = {
	{ "keys_escape_slashes_and_percents",
	    keys_escape_slashes_and_percents },
	{ "states_round_trip", states_round_trip },
	{ "states_of_forty_clusters_round_trip",
	    states_of_forty_clusters_round_trip },
	{ "foreign_states_are_refused", foreign_states_are_refused },
	{ "reports_carry_windows_and_buckets",
	    reports_carry_windows_and_buckets },
	{ "foreign_reports_are_refused", foreign_reports_are_refused },
	{ "history_records_say_what_and_why",
	    history_records_say_what_and_why },
	{ "snapshot_file_round_trips_etcd_states_only",
	    snapshot_file_round_trips_etcd_states_only },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/fleet_json", tests);
