/*
 * Unit tests for the etcd client's codec (master/etcd_json.c): base64,
 * request bodies as etcd 3.4's JSON gateway reads them, and answers as it
 * writes them -- the canned answers below are copied from a real etcd
 * 3.4.23 -- plus what it must never take: malformed JSON, other shapes,
 * out-of-range numbers, bad base64, oversized values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "master/etcd.h"
#include "test/unit/unit.h"

#define HDR	"\"header\":{\"cluster_id\":\"15562117517663173632\"," \
		"\"member_id\":\"4500585179576364190\",\"revision\":\"2\"," \
		"\"raft_term\":\"2\"}"

/* ---- base64 ------------------------------------------------------------------ */

static void
b64_encodes_the_rfc4648_vectors(void)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob",
	    "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v",
	    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char buf[16], back[16];
	size_t i;
	long n;

	for (i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(mst_etcd_b64_enc(in[i], strlen(in[i]), buf),
		    strlen(out[i]));
		CU_ASSERT_STRING_EQUAL(buf, out[i]);
		n = mst_etcd_b64_dec(buf, strlen(buf), back, sizeof(back));
		CU_ASSERT_EQUAL(n, (long)strlen(in[i]));
		CU_ASSERT(memcmp(back, in[i], strlen(in[i])) == 0);
	}
}

static void
b64_round_trips_every_byte(void)
{
	unsigned char in[256], back[256];
	char enc[MST_ETCD_B64_LEN(256)];
	size_t i;

	for (i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	mst_etcd_b64_enc(in, sizeof(in), enc);
	CU_ASSERT_EQUAL(mst_etcd_b64_dec(enc, strlen(enc), back,
	    sizeof(back)), 256);
	CU_ASSERT(memcmp(in, back, sizeof(in)) == 0);
}

static void
b64_decode_is_strict(void)
{
	static const char *const bad[] = { "Zg=", "Zh==", "Zm9=", "Z===",
	    "=Zg=", "Zg==Zg==", "Zm9v!A==", "Zm 9", "Zg=A" };
	char out[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(mst_etcd_b64_dec(bad[i], strlen(bad[i]), out,
		    sizeof(out)), -1);
	/* a short output buffer is refused, not overrun */
	CU_ASSERT_EQUAL(mst_etcd_b64_dec("Zm9vYmFy", 8, out, 5), -1);
}

static void
prefix_end_covers_the_prefix(void)
{
	char out[8];

	CU_ASSERT_EQUAL(mst_etcd_prefix_end("/a/", 3, out), 3);
	CU_ASSERT(memcmp(out, "/a0", 3) == 0);
	CU_ASSERT_EQUAL(mst_etcd_prefix_end("a\xff", 2, out), 1);
	CU_ASSERT(out[0] == 'b');
	CU_ASSERT_EQUAL(mst_etcd_prefix_end("\xff\xff", 2, out), 1);
	CU_ASSERT(out[0] == '\0');
}

/* ---- requests ------------------------------------------------------------------ */

static void
check_body(char *got, const char *want)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void
requests_leave_zero_fields_out(void)
{
	struct mst_etcd_op op = { .o_kind = MST_ETCD_OP_RANGE, .o_key = "/a/b",
	    .o_klen = 4 };

	check_body(mst_etcd_enc_op(&op), "{\"key\":\"L2EvYg==\"}");
	op.o_end = "/a/c";
	op.o_elen = 4;
	op.o_rev = 12;
	op.o_limit = 1;
	check_body(mst_etcd_enc_op(&op), "{\"key\":\"L2EvYg==\",\"range_end\":"
	    "\"L2EvYw==\",\"revision\":\"12\",\"limit\":\"1\"}");
	op = (struct mst_etcd_op){ .o_kind = MST_ETCD_OP_PUT, .o_key = "/a/b",
	    .o_klen = 4, .o_val = "x", .o_vlen = 1 };
	check_body(mst_etcd_enc_op(&op), "{\"key\":\"L2EvYg==\",\"value\":"
	    "\"eA==\"}");
	/* an empty value and a lease: the value is left out */
	op.o_vlen = 0;
	op.o_lease = 7826871564475766028LL;
	check_body(mst_etcd_enc_op(&op), "{\"key\":\"L2EvYg==\",\"lease\":"
	    "\"7826871564475766028\"}");
	op = (struct mst_etcd_op){ .o_kind = MST_ETCD_OP_DELETE, .o_key = "k",
	    .o_klen = 1 };
	check_body(mst_etcd_enc_op(&op), "{\"key\":\"aw==\"}");
}

static void
requests_over_the_limits_are_refused(void)
{
	struct mst_etcd_op op = { .o_kind = MST_ETCD_OP_PUT, .o_key = "k",
	    .o_klen = 1, .o_val = "", .o_vlen = MST_ETCD_VALUE_MAX + 1 };

	CU_ASSERT_PTR_NULL(mst_etcd_enc_op(&op));
	op.o_vlen = 0;
	op.o_klen = 0;
	CU_ASSERT_PTR_NULL(mst_etcd_enc_op(&op));
	op.o_klen = MST_ETCD_KEY_MAX + 1;
	CU_ASSERT_PTR_NULL(mst_etcd_enc_op(&op));
}

static void
txn_create_if_absent_is_etcd_shaped(void)
{
	struct mst_etcd_cmp cmp = { .c_key = "/a/b", .c_klen = 4,
	    .c_target = MST_ETCD_T_CREATE, .c_result = MST_ETCD_R_EQUAL };
	struct mst_etcd_op put = { .o_kind = MST_ETCD_OP_PUT, .o_key = "/a/b",
	    .o_klen = 4, .o_val = "y", .o_vlen = 1, .o_lease = 5 };
	struct mst_etcd_op get = { .o_kind = MST_ETCD_OP_RANGE,
	    .o_key = "/a/b", .o_klen = 4 };
	struct mst_etcd_txn t = { &cmp, 1, &put, 1, &get, 1 };

	check_body(mst_etcd_enc_txn(&t), "{\"compare\":[{\"key\":\"L2EvYg==\","
	    "\"target\":\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":"
	    "\"0\"}],\"success\":[{\"request_put\":{\"key\":\"L2EvYg==\","
	    "\"value\":\"eQ==\",\"lease\":\"5\"}}],\"failure\":["
	    "{\"request_range\":{\"key\":\"L2EvYg==\"}}]}");
	cmp.c_target = MST_ETCD_T_VALUE;
	cmp.c_result = MST_ETCD_R_NOT_EQUAL;
	cmp.c_val = "x";
	cmp.c_vlen = 1;
	t.t_nfail = 0;
	t.t_nsucc = 0;
	check_body(mst_etcd_enc_txn(&t), "{\"compare\":[{\"key\":\"L2EvYg==\","
	    "\"target\":\"VALUE\",\"result\":\"NOT_EQUAL\",\"value\":\"eA==\"}],"
	    "\"success\":[],\"failure\":[]}");
	cmp.c_target = MST_ETCD_T_MOD;
	cmp.c_result = MST_ETCD_R_LESS;
	cmp.c_num = 42;
	check_body(mst_etcd_enc_txn(&t), "{\"compare\":[{\"key\":\"L2EvYg==\","
	    "\"target\":\"MOD\",\"result\":\"LESS\",\"mod_revision\":\"42\"}],"
	    "\"success\":[],\"failure\":[]}");
}

static void
lease_compact_and_watch_requests(void)
{
	char key[] = "/c/", end[3];
	size_t elen = mst_etcd_prefix_end(key, 3, end);

	check_body(mst_etcd_enc_lease(MST_ETCD_GRANT, 5), "{\"TTL\":\"5\"}");
	check_body(mst_etcd_enc_lease(MST_ETCD_KEEPALIVE, 123),
	    "{\"ID\":\"123\"}");
	check_body(mst_etcd_enc_compact(9), "{\"revision\":\"9\"}");
	check_body(mst_etcd_enc_watch(key, 3, end, elen, 4),
	    "{\"create_request\":{\"key\":\"L2Mv\",\"range_end\":\"L2Mw\","
	    "\"start_revision\":\"4\",\"progress_notify\":true}}");
	check_body(mst_etcd_enc_watch(key, 3, NULL, 0, 0),
	    "{\"create_request\":{\"key\":\"L2Mv\",\"progress_notify\":true}}");
	CU_ASSERT_STRING_EQUAL(mst_etcd_path(MST_ETCD_KEEPALIVE),
	    "/v3/lease/keepalive");
}

/* ---- answers --------------------------------------------------------------------- */

static void
dec(enum mst_etcd_call c, int status, const char *body,
    struct mst_etcd_res *r)
{
	mst_etcd_dec(c, status, body, strlen(body), r);
}

static void
range_answer_with_kvs(void)
{
	struct mst_etcd_res r;

	dec(MST_ETCD_RANGE, 200, "{" HDR ",\"kvs\":[{\"key\":\"L2EvYg==\","
	    "\"create_revision\":\"2\",\"mod_revision\":\"3\",\"version\":\"2\","
	    "\"value\":\"eA==\",\"lease\":\"7826871564475766028\"}],"
	    "\"count\":\"1\"}", &r);
	CU_ASSERT_EQUAL_FATAL(r.r_err, MST_ETCD_OK);
	CU_ASSERT(r.r_hdr.eh_cluster_id == 15562117517663173632ULL);
	CU_ASSERT(r.r_hdr.eh_member_id == 4500585179576364190ULL);
	CU_ASSERT_EQUAL(r.r_hdr.eh_revision, 2);
	CU_ASSERT_EQUAL(r.r_hdr.eh_raft_term, 2);
	CU_ASSERT_EQUAL_FATAL(r.r_nkvs, 1);
	CU_ASSERT_EQUAL(r.r_count, 1);
	CU_ASSERT_EQUAL(r.r_kvs[0].kv_klen, 4);
	CU_ASSERT_STRING_EQUAL(r.r_kvs[0].kv_key, "/a/b");
	CU_ASSERT_STRING_EQUAL(r.r_kvs[0].kv_val, "x");
	CU_ASSERT_EQUAL(r.r_kvs[0].kv_create_rev, 2);
	CU_ASSERT_EQUAL(r.r_kvs[0].kv_mod_rev, 3);
	CU_ASSERT_EQUAL(r.r_kvs[0].kv_version, 2);
	CU_ASSERT_EQUAL(r.r_kvs[0].kv_lease, 7826871564475766028LL);
	mst_etcd_res_clear(&r);
}

static void
empty_range_leaves_every_zero_field_out(void)
{
	struct mst_etcd_res r;

	dec(MST_ETCD_RANGE, 200, "{" HDR "}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_OK);
	CU_ASSERT_EQUAL(r.r_nkvs, 0);
	CU_ASSERT_EQUAL(r.r_count, 0);
	CU_ASSERT_FALSE(r.r_more);
	mst_etcd_res_clear(&r);
	/* a key with an empty value: no "value" field at all */
	dec(MST_ETCD_RANGE, 200, "{" HDR ",\"kvs\":[{\"key\":\"aw==\"}]}", &r);
	CU_ASSERT_EQUAL_FATAL(r.r_nkvs, 1);
	CU_ASSERT_EQUAL(r.r_kvs[0].kv_vlen, 0);
	CU_ASSERT_STRING_EQUAL(r.r_kvs[0].kv_val, "");
	mst_etcd_res_clear(&r);
}

static void
txn_answers_success_and_failure(void)
{
	struct mst_etcd_res r;

	dec(MST_ETCD_TXN, 200, "{" HDR ",\"succeeded\":true,\"responses\":["
	    "{\"response_put\":{\"header\":{\"revision\":\"3\"}}}]}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_OK);
	CU_ASSERT_TRUE(r.r_succeeded);
	CU_ASSERT_EQUAL(r.r_nkvs, 0);
	mst_etcd_res_clear(&r);
	/* the compare failed: no "succeeded"; the failure branch's range */
	dec(MST_ETCD_TXN, 200, "{" HDR ",\"responses\":[{\"response_range\":"
	    "{\"header\":{\"revision\":\"2\"},\"kvs\":[{\"key\":\"L2EvYg==\","
	    "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
	    "\"value\":\"eA==\"}],\"count\":\"1\"}}]}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_OK);
	CU_ASSERT_FALSE(r.r_succeeded);
	CU_ASSERT_EQUAL_FATAL(r.r_nkvs, 1);
	CU_ASSERT_EQUAL(r.r_kvs[0].kv_create_rev, 2);
	mst_etcd_res_clear(&r);
}

static void
lease_answers(void)
{
	struct mst_etcd_res r;

	dec(MST_ETCD_GRANT, 200, "{" HDR ",\"ID\":\"7826871564475766028\","
	    "\"TTL\":\"5\"}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_OK);
	CU_ASSERT_EQUAL(r.r_id, 7826871564475766028LL);
	CU_ASSERT_EQUAL(r.r_ttl, 5);
	mst_etcd_res_clear(&r);
	/* keepalive streams: its one answer comes wrapped */
	dec(MST_ETCD_KEEPALIVE, 200, "{\"result\":{" HDR ",\"ID\":\"9\","
	    "\"TTL\":\"5\"}}\n", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_OK);
	CU_ASSERT_EQUAL(r.r_ttl, 5);
	mst_etcd_res_clear(&r);
	/* the lease is gone: no TTL */
	dec(MST_ETCD_KEEPALIVE, 200, "{\"result\":{" HDR ",\"ID\":\"123\"}}",
	    &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_OK);
	CU_ASSERT_EQUAL(r.r_id, 123);
	CU_ASSERT_EQUAL(r.r_ttl, 0);
	mst_etcd_res_clear(&r);
	/* LeaseGrantResponse's own error field */
	dec(MST_ETCD_GRANT, 200, "{" HDR ",\"error\":\"too many leases\"}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_E_SERVER);
	CU_ASSERT_STRING_EQUAL(r.r_msg, "too many leases");
	mst_etcd_res_clear(&r);
}

static void
error_answers_in_both_gateway_shapes(void)
{
	struct mst_etcd_res r;

	dec(MST_ETCD_REVOKE, 404, "{\"error\":\"etcdserver: requested lease "
	    "not found\",\"message\":\"etcdserver: requested lease not found\","
	    "\"code\":5}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_E_SERVER);
	CU_ASSERT_EQUAL(r.r_code, MST_ETCD_GRPC_NOT_FOUND);
	CU_ASSERT_EQUAL(r.r_status, 404);
	CU_ASSERT_STRING_EQUAL(r.r_msg, "etcdserver: requested lease not found");
	mst_etcd_res_clear(&r);
	dec(MST_ETCD_KEEPALIVE, 503, "{\"error\":{\"grpc_code\":14,"
	    "\"http_code\":503,\"message\":\"etcdserver: no leader\","
	    "\"http_status\":\"Service Unavailable\"}}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_E_SERVER);
	CU_ASSERT_EQUAL(r.r_code, MST_ETCD_GRPC_UNAVAILABLE);
	CU_ASSERT_STRING_EQUAL(r.r_msg, "etcdserver: no leader");
	mst_etcd_res_clear(&r);
	dec(MST_ETCD_RANGE, 400, "{\"error\":\"etcdserver: mvcc: required "
	    "revision has been compacted\",\"code\":11}", &r);
	CU_ASSERT_EQUAL(r.r_code, MST_ETCD_GRPC_OUT_OF_RANGE);
	mst_etcd_res_clear(&r);
	/* a status that is not 200 without an error body */
	dec(MST_ETCD_PUT, 502, "{" HDR "}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_E_SERVER);
	mst_etcd_res_clear(&r);
}

static void
malformed_answers_are_refused(void)
{
	static const char *const bad[] = {
		"",
		"{\"header\":",
		"[]",
		"\"text\"",
		"{}",					/* no header */
		"{\"header\":7}",
		"{\"header\":{\"revision\":\"two\"}}",
		"{\"header\":{\"revision\":\"-3\"}}",
		"{\"header\":{\"revision\":\"99999999999999999999\"}}",
		"{\"header\":{\"cluster_id\":\"-1\"}}",
		"{\"header\":{\"revision\":\"2\"},\"kvs\":{}}",
		"{\"header\":{\"revision\":\"2\"},\"count\":true}",
		"{\"header\":{},\"header\":{}}",	/* duplicate key */
		"{\"header\":{}} trailing",
		"{\"error\":7}",
	};
	struct mst_etcd_res r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dec(MST_ETCD_RANGE, 200, bad[i], &r);
		CU_ASSERT_EQUAL(r.r_err, MST_ETCD_E_BAD);
		CU_ASSERT_EQUAL(r.r_nkvs, 0);
		CU_ASSERT(r.r_msg[0] != '\0');
		mst_etcd_res_clear(&r);
	}
	dec(MST_ETCD_GRANT, 200, "{\"header\":{},\"TTL\":\"-5\"}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_E_BAD);
	mst_etcd_res_clear(&r);
	dec(MST_ETCD_TXN, 200, "{\"header\":{},\"responses\":[7]}", &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_E_BAD);
	mst_etcd_res_clear(&r);
}

static void
bad_kvs_are_dropped_not_the_answer(void)
{
	struct mst_etcd_res r;
	char *body, *big;
	size_t n = MST_ETCD_VALUE_MAX + 3;	/* base64 of a byte over */

	big = malloc(MST_ETCD_B64_LEN(n));
	body = malloc(MST_ETCD_B64_LEN(n) + 512);
	CU_ASSERT_FATAL(big != NULL && body != NULL);
	memset(big, 'A', MST_ETCD_B64_LEN(n) - 1);
	big[MST_ETCD_B64_LEN(n) - 1] = '\0';
	snprintf(body, MST_ETCD_B64_LEN(n) + 512, "{" HDR ",\"kvs\":["
	    "{\"key\":\"L2sx\",\"value\":\"%s\"},"	/* oversized value */
	    "{\"key\":\"!!!!\",\"value\":\"eA==\"},"	/* bad base64 key */
	    "{\"value\":\"eA==\"},"			/* no key */
	    "{\"key\":\"\"},"				/* empty key */
	    "{\"key\":\"L2sy\",\"version\":\"x\"},"	/* bad number */
	    "7,"
	    "{\"key\":\"L2sz\",\"value\":\"eQ==\"}]}", big);
	mst_etcd_dec(MST_ETCD_RANGE, 200, body, strlen(body), &r);
	CU_ASSERT_EQUAL(r.r_err, MST_ETCD_OK);
	CU_ASSERT_EQUAL(r.r_dropped, 6);
	CU_ASSERT_EQUAL_FATAL(r.r_nkvs, 1);
	CU_ASSERT_STRING_EQUAL(r.r_kvs[0].kv_key, "/k3");
	mst_etcd_res_clear(&r);
	free(big);
	free(body);
}

/* ---- watch messages ----------------------------------------------------------------- */

static void
wdec(const char *line, struct mst_etcd_wres *w)
{
	mst_etcd_dec_watch(line, strlen(line), w);
}

static void
watch_messages(void)
{
	struct mst_etcd_wres w;

	wdec("{\"result\":{" HDR ",\"created\":true}}", &w);
	CU_ASSERT_EQUAL(w.w_err, MST_ETCD_OK);
	CU_ASSERT_TRUE(w.w_created);
	CU_ASSERT_EQUAL(w.w_hdr.eh_revision, 2);
	mst_etcd_wres_clear(&w);
	wdec("{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"L2EveA==\","
	    "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
	    "\"value\":\"MQ==\",\"lease\":\"496\"}},{\"type\":\"DELETE\","
	    "\"kv\":{\"key\":\"L2EveA==\",\"mod_revision\":\"4\"}}]}}", &w);
	CU_ASSERT_EQUAL(w.w_err, MST_ETCD_OK);
	CU_ASSERT_EQUAL_FATAL(w.w_nevs, 2);
	CU_ASSERT_EQUAL(w.w_evs[0].ev_type, MST_ETCD_EV_PUT);
	CU_ASSERT_STRING_EQUAL(w.w_evs[0].ev_kv.kv_val, "1");
	CU_ASSERT_EQUAL(w.w_evs[0].ev_kv.kv_lease, 496);
	CU_ASSERT_EQUAL(w.w_evs[1].ev_type, MST_ETCD_EV_DELETE);
	CU_ASSERT_EQUAL(w.w_evs[1].ev_kv.kv_mod_rev, 4);
	mst_etcd_wres_clear(&w);
	/* progress notification: a header and nothing else */
	wdec("{\"result\":{" HDR "}}", &w);
	CU_ASSERT_EQUAL(w.w_err, MST_ETCD_OK);
	CU_ASSERT(!w.w_created && !w.w_canceled && w.w_nevs == 0);
	mst_etcd_wres_clear(&w);
	/* the start revision was compacted */
	wdec("{\"result\":{\"header\":{\"cluster_id\":\"1\",\"member_id\":"
	    "\"2\",\"raft_term\":\"2\"},\"canceled\":true,"
	    "\"compact_revision\":\"3\"}}", &w);
	CU_ASSERT_TRUE(w.w_canceled);
	CU_ASSERT_EQUAL(w.w_compact_rev, 3);
	mst_etcd_wres_clear(&w);
	/* the member lost its leader (Grpc-Metadata-Hasleader) */
	wdec("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
	    "\"etcdserver: no leader\",\"http_status\":\"Service "
	    "Unavailable\"}}", &w);
	CU_ASSERT_EQUAL(w.w_err, MST_ETCD_E_SERVER);
	CU_ASSERT_EQUAL(w.w_code, 14);
	mst_etcd_wres_clear(&w);
}

static void
bad_watch_messages(void)
{
	static const char *const bad[] = {
		"{\"result\":",
		"{\"result\":7}",
		"{\"result\":{}}",
		"{\"header\":{}}",
		"{\"result\":{\"header\":{},\"events\":{}}}",
		"{\"result\":{\"header\":{},\"compact_revision\":\"-1\"}}",
		"{\"result\":{\"header\":{},\"created\":\"yes\"}}",
	};
	struct mst_etcd_wres w;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wdec(bad[i], &w);
		CU_ASSERT_EQUAL(w.w_err, MST_ETCD_E_BAD);
		CU_ASSERT_EQUAL(w.w_nevs, 0);
		mst_etcd_wres_clear(&w);
	}
	/* one bad event among good ones is dropped */
	wdec("{\"result\":{\"header\":{},\"events\":[{\"type\":\"EXPIRE\","
	    "\"kv\":{\"key\":\"aw==\"}},{\"kv\":7},{\"kv\":{\"key\":\"aw==\"}}]}}",
	    &w);
	CU_ASSERT_EQUAL(w.w_err, MST_ETCD_OK);
	CU_ASSERT_EQUAL(w.w_nevs, 1);
	CU_ASSERT_EQUAL(w.w_dropped, 2);
	mst_etcd_wres_clear(&w);
}

/* ---- lines ------------------------------------------------------------------------- */

struct lines_seen {
	char	 l[8][32];
	int	 n;
	int	 stop_at;
};

static int
lines_cb(const char *line, size_t len, void *arg)
{
	struct lines_seen *s = arg;

	if (s->n < 8 && len < 32) {
		memcpy(s->l[s->n], line, len);
		s->l[s->n][len] = '\0';
	}
	s->n++;
	return s->n == s->stop_at ? -1 : 0;
}

static void
lines_split_across_feeds(void)
{
	struct mst_etcd_lines l = { .l_max = 16 };
	struct lines_seen s = { .stop_at = -1 };

	CU_ASSERT_EQUAL(mst_etcd_lines_feed(&l, "ab", 2, lines_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL(mst_etcd_lines_feed(&l, "c\r\n\nde\nf", 8, lines_cb,
	    &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.l[0], "abc");
	CU_ASSERT_STRING_EQUAL(s.l[1], "de");
	CU_ASSERT_EQUAL(mst_etcd_lines_feed(&l, "g\n", 2, lines_cb, &s), 0);
	CU_ASSERT_STRING_EQUAL(s.l[2], "fg");
	mst_etcd_lines_free(&l);
}

static void
lines_oversized_is_dropped_whole(void)
{
	struct mst_etcd_lines l = { .l_max = 4 };
	struct lines_seen s = { .stop_at = -1 };

	/* 3 bytes then 3 more: over 4, dropped up to its newline */
	mst_etcd_lines_feed(&l, "abc", 3, lines_cb, &s);
	mst_etcd_lines_feed(&l, "def", 3, lines_cb, &s);
	mst_etcd_lines_feed(&l, "ghi\nok\n", 7, lines_cb, &s);
	mst_etcd_lines_feed(&l, "toolong\nyes\n", 12, lines_cb, &s);
	CU_ASSERT_EQUAL(l.l_oversized, 2);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.l[0], "ok");
	CU_ASSERT_STRING_EQUAL(s.l[1], "yes");
	mst_etcd_lines_free(&l);
}

static void
lines_callback_can_stop(void)
{
	struct mst_etcd_lines l = { .l_max = 16 };
	struct lines_seen s = { .stop_at = 1 };

	CU_ASSERT_EQUAL(mst_etcd_lines_feed(&l, "a\nb\n", 4, lines_cb, &s), -1);
	CU_ASSERT_EQUAL(s.n, 1);
	mst_etcd_lines_free(&l);
}

static CU_TestInfo tests[] = {
	{ "b64_encodes_the_rfc4648_vectors", b64_encodes_the_rfc4648_vectors },
	{ "b64_round_trips_every_byte", b64_round_trips_every_byte },
	{ "b64_decode_is_strict", b64_decode_is_strict },
	{ "prefix_end_covers_the_prefix", prefix_end_covers_the_prefix },
	{ "requests_leave_zero_fields_out", requests_leave_zero_fields_out },
	{ "requests_over_the_limits_are_refused",
	    requests_over_the_limits_are_refused },
	{ "txn_create_if_absent_is_etcd_shaped",
	    txn_create_if_absent_is_etcd_shaped },
	{ "lease_compact_and_watch_requests", lease_compact_and_watch_requests },
	{ "range_answer_with_kvs", range_answer_with_kvs },
	{ "empty_range_leaves_every_zero_field_out",
	    empty_range_leaves_every_zero_field_out },
	{ "txn_answers_success_and_failure", txn_answers_success_and_failure },
	{ "lease_answers", lease_answers },
	{ "error_answers_in_both_gateway_shapes",
	    error_answers_in_both_gateway_shapes },
	{ "malformed_answers_are_refused", malformed_answers_are_refused },
	{ "bad_kvs_are_dropped_not_the_answer",
	    bad_kvs_are_dropped_not_the_answer },
	{ "watch_messages", watch_messages },
	{ "bad_watch_messages", bad_watch_messages },
	{ "lines_split_across_feeds", lines_split_across_feeds },
	{ "lines_oversized_is_dropped_whole", lines_oversized_is_dropped_whole },
	{ "lines_callback_can_stop", lines_callback_can_stop },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/etcd", tests);
