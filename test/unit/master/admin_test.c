/*
 * Unit tests for the admin module (master/admin*.c) without sockets:
 * request heads, query strings, and the endpoint dispatch (help, 404,
 * 405, POST-only state changes, /ready, /stats parameters, /server_info,
 * /memory) over the seed config and a fresh shm segment.
 *
 * What a reply asks of the server (stop, drain) is its ar_action; the
 * admin server hands that to state.c, not tested here.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "shared/version.h"
#include "master/admin.h"
#include "master/json.h"
#include "master/memory.h"
#include "master/mst.h"
#include "master/place.h"
#include "master/stats.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"

#define SEED	"etc/canary/envoy-canary.yaml"

static int
starts_with(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* every cluster at its own records, as at start */
static struct cd_place place;

static struct cd_conf *aconf;

static void
setup(void)
{
	struct conf_diags d;
	static char text[65536];
	size_t n;
	FILE *fp;

	if (aconf == NULL) {
		CU_ASSERT_FATAL((fp = fopen(SEED, "r")) != NULL);
		n = fread(text, 1, sizeof(text) - 1, fp);
		fclose(fp);
		memset(&d, 0, sizeof(d));
		aconf = conf_load_buf(SEED, text, n, &d);
		conf_diags_free(&d);
	}
	CU_ASSERT_FATAL(aconf != NULL);
	if (mst.m_shm == NULL)
		CU_ASSERT_FATAL((mst.m_shm = unit_shm()) != NULL);
	mst.m_conf = aconf;
	unit_place(&place);
	mst.m_place = &place;
	mst.m_config_path = SEED;
	mst.m_concurrency = 2;
	mst.m_log_level = LOG_L_INFO;
	mst.m_drain_time_s = 600;
	mst.m_start_mono_ms = 0;
	mst.m_conf_loaded_realtime_ms = 1795687200123ULL;
	atomic_store(&mst.m_shm->hdr.h_state, SHM_S_LIVE);
	atomic_store(&mst.m_shm->hdr.h_live, 1);
}

/* Run one request, a streamed body read to its end into ar_body; the
 * caller frees r with mst_admin_reply_free(). */
static void
req(const char *method, const char *path, const char *query,
    struct mst_admin_reply *r)
{
	int rc = 0;

	mst_admin_reply_init(r);
	mst_admin_handle(method, path, query, r);
	if (r->ar_more != NULL)
		while ((rc = r->ar_more(r->ar_arg, &r->ar_body)) == 1)
			;
	CU_ASSERT_EQUAL(rc, 0);
	buf_append(&r->ar_body, "", 0);
}

static void
help_lists_endpoints_sorted(void)
{
	struct mst_admin_reply r;
	char *p, *nl, prev[128] = "", cur[128];
	int sorted = 1, n = 0;

	setup();
	req("GET", "/help", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_ctype, "text/plain; charset=UTF-8");
	CU_ASSERT(starts_with(r.ar_body.b_data, "admin commands are:\n"
	    "  /: Admin home page\n"
	    "  /canary: weighted routes: weights now, rollout state, "
	    "per-cluster requests, success rate and latency over the window\n"
	    "      format: Output format; One of (json, text)\n"
	    "  /canary/<route>/pause (POST): hold the route's rollout at its "
	    "weights\n"));
	CU_ASSERT(strstr(r.ar_body.b_data, "\n  /canary/<route>/rollback (POST): "
	    "canary to 0 now; rollout rolled_back\n"
	    "  /clusters: upstream cluster status\n"
	    "      format: Output format; One of (text, json)\n") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data,
	    "\n  /quitquitquit (POST): exit the server\n") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data,
	    "\n  /healthcheck/fail (POST): cause the server to fail health "
	    "checks\n") != NULL);
	for (p = r.ar_body.b_data; (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1) {
		size_t len;

		if (strncmp(p, "  /", 3) != 0)
			continue;
		len = strcspn(p + 2, ":( ");
		snprintf(cur, sizeof(cur), "%.*s", (int)len, p + 2);
		if (n > 0 && strcmp(prev, cur) >= 0)
			sorted = 0;
		strlcpy(prev, cur, sizeof(prev));
		n++;
	}
	CU_ASSERT(sorted);
	CU_ASSERT_EQUAL(n, 21);
	mst_admin_reply_free(&r);
}

static void
unknown_path_is_404_with_help(void)
{
	struct mst_admin_reply r;

	setup();
	req("GET", "/nope", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 404);
	CU_ASSERT(starts_with(r.ar_body.b_data,
	    "invalid path. admin commands are:\n  /: Admin home page\n"));
	mst_admin_reply_free(&r);
	/* exact on the path: a trailing slash is another path */
	req("GET", "/stats/", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 404);
	mst_admin_reply_free(&r);
}

static void
get_on_post_endpoint_is_405(void)
{
	struct mst_admin_reply r;

	setup();
	req("GET", "/quitquitquit", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 405);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data,
	    "Method GET not allowed, POST required.");
	CU_ASSERT_EQUAL(r.ar_action, MST_ADMIN_ACT_NONE);
	mst_admin_reply_free(&r);
	req("GET", "/healthcheck/fail", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 405);
	CU_ASSERT_EQUAL(atomic_load(&mst.m_shm->hdr.h_live), 1);
	CU_ASSERT_EQUAL(r.ar_action, MST_ADMIN_ACT_NONE);
	mst_admin_reply_free(&r);
}

static void
post_quitquitquit_asks_for_shutdown(void)
{
	struct mst_admin_reply r;

	setup();
	req("POST", "/quitquitquit", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "OK\n");
	CU_ASSERT_EQUAL(r.ar_action, MST_ADMIN_ACT_QUIT);
	mst_admin_reply_free(&r);
}

static void
drain_listeners_exits_unless_skip_exit(void)
{
	struct mst_admin_reply r;

	setup();
	req("GET", "/drain_listeners", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 405);
	CU_ASSERT_EQUAL(r.ar_action, MST_ADMIN_ACT_NONE);
	mst_admin_reply_free(&r);
	req("POST", "/drain_listeners", "graceful", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_EQUAL(r.ar_action, MST_ADMIN_ACT_DRAIN_QUIT);
	mst_admin_reply_free(&r);
	req("POST", "/drain_listeners", "skip_exit", &r);
	CU_ASSERT_EQUAL(r.ar_status, 400);
	CU_ASSERT_EQUAL(r.ar_action, MST_ADMIN_ACT_NONE);
	mst_admin_reply_free(&r);
	req("POST", "/drain_listeners", "graceful&skip_exit", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "OK\n");
	/* no exit: the listeners drain, the master stays up */
	CU_ASSERT_EQUAL(r.ar_action, MST_ADMIN_ACT_DRAIN_LISTENERS);
	mst_admin_reply_free(&r);
}

static void
healthcheck_fail_and_ok_drive_ready(void)
{
	struct mst_admin_reply r;
	int level = log_level;

	setup();
	log_level = LOG_L_WARN;	/* the state changes log at info */
	req("GET", "/ready", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "LIVE\n");
	mst_admin_reply_free(&r);

	req("POST", "/healthcheck/fail", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "OK\n");
	mst_admin_reply_free(&r);
	CU_ASSERT_EQUAL(atomic_load(&mst.m_shm->hdr.h_live), 0);
	CU_ASSERT_EQUAL(atomic_load(&mst.m_shm->hdr.h_state), SHM_S_DRAINING);
	req("GET", "/ready", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 503);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "DRAINING\n");
	mst_admin_reply_free(&r);
	req("GET", "/stats", "filter=%5Eserver%5C.live%24", &r);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "server.live: 0\n");
	mst_admin_reply_free(&r);

	req("POST", "/healthcheck/ok", "", &r);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "OK\n");
	mst_admin_reply_free(&r);
	CU_ASSERT_EQUAL(atomic_load(&mst.m_shm->hdr.h_live), 1);
	req("GET", "/ready", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	mst_admin_reply_free(&r);

	atomic_store(&mst.m_shm->hdr.h_state, SHM_S_PRE_INITIALIZING);
	req("GET", "/ready", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 503);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "PRE_INITIALIZING\n");
	mst_admin_reply_free(&r);	log_level = level;
}

static void
stats_parameters(void)
{
	struct mst_admin_reply r;

	setup();
	req("GET", "/stats", "filter=(", &r);
	CU_ASSERT_EQUAL(r.ar_status, 400);
	CU_ASSERT(starts_with(r.ar_body.b_data, "Invalid regex: "));
	mst_admin_reply_free(&r);

	req("GET", "/stats", "format=xml", &r);
	CU_ASSERT_EQUAL(r.ar_status, 400);
	mst_admin_reply_free(&r);

	req("GET", "/stats", "type=Sideways", &r);
	CU_ASSERT_EQUAL(r.ar_status, 400);
	mst_admin_reply_free(&r);

	req("GET", "/stats", "format=json&filter=server%5C.concurrency", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_ctype, "application/json");
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data,
	    "{\"stats\":[{\"name\":\"server.concurrency\",\"value\":2}]}");
	mst_admin_reply_free(&r);

	req("GET", "/stats", "type=Gauges&filter=^server%5C.", &r);
	CU_ASSERT(strstr(r.ar_body.b_data, "server.live: 1\n") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data, "static_unknown_fields") == NULL);
	mst_admin_reply_free(&r);

	req("GET", "/stats", "type=Histograms", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data,
	    "cluster.backend_v1.upstream_rq_time: No recorded values\n"
	    "cluster.backend_v2.upstream_rq_time: No recorded values\n");
	mst_admin_reply_free(&r);

	req("GET", "/stats", "type=TextReadouts", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data, "");
	mst_admin_reply_free(&r);

	req("GET", "/stats/prometheus", "filter=server.live", &r);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data,
	    "# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n");
	mst_admin_reply_free(&r);

	req("GET", "/stats", "format=prometheus&filter=server.live", &r);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data,
	    "# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n");
	mst_admin_reply_free(&r);
}

static void
other_pages(void)
{
	struct mst_admin_reply r;
	struct buf v;

	setup();
	req("GET", "/server_info", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_ctype, "application/json");
	CU_ASSERT(strstr(r.ar_body.b_data,
	    "\"version\": \"canaryd/" CANARYD_VERSION
	    "/Clean/RELEASE/no-ssl\"") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data, "\"state\": \"LIVE\"") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data, "\"concurrency\": 2") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data, "\"drain_time\": \"600s\"") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data, "\"mode\": \"Serve\"") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data, "\"config_path\": \"" SEED "\"") !=
	    NULL);
	buf_init(&v);
	CU_ASSERT(mst_json_pretty(&v, r.ar_body.b_data,
	    r.ar_body.b_len) == 0);
	buf_free(&v);
	mst_admin_reply_free(&r);

	req("GET", "/listeners", "", &r);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data,
	    "main_listener::0.0.0.0:10000\n");
	mst_admin_reply_free(&r);

	req("GET", "/clusters", "", &r);
	CU_ASSERT(starts_with(r.ar_body.b_data,
	    "backend_v1::observability_name::backend_v1\n"));
	mst_admin_reply_free(&r);

	req("GET", "/clusters", "format=json", &r);
	CU_ASSERT_STRING_EQUAL(r.ar_ctype, "application/json");
	mst_admin_reply_free(&r);

	req("GET", "/config_dump", "resource=nope", &r);
	CU_ASSERT_EQUAL(r.ar_status, 404);
	CU_ASSERT_STRING_EQUAL(r.ar_body.b_data,
	    "nope not found in config dump\n");
	mst_admin_reply_free(&r);

	req("GET", "/config_dump", "mask=cluster.name", &r);
	CU_ASSERT_EQUAL(r.ar_status, 400);
	mst_admin_reply_free(&r);

	req("GET", "/config_dump", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT(strstr(r.ar_body.b_data, "\"last_updated\": "
	    "\"2026-11-26T10:00:00.123Z\"") != NULL);
	mst_admin_reply_free(&r);

	req("GET", "/", "", &r);
	CU_ASSERT_STRING_EQUAL(r.ar_ctype, "text/html; charset=UTF-8");
	CU_ASSERT(strstr(r.ar_body.b_data, "<a href=\"/stats\">") != NULL);
	CU_ASSERT(strstr(r.ar_body.b_data, "action=\"/quitquitquit\" "
	    "method=\"post\"") != NULL);
	mst_admin_reply_free(&r);
}

/* The value of "key": "<digits>" in a /memory body, or -1. */
static long long
memory_field(const char *body, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\n \"%s\": \"", key);
	if ((p = strstr(body, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if (*p < '0' || *p > '9')
		return -1;
	return strtoll(p, NULL, 10);
}

static void
memory_is_envoys_shape(void)
{
	static const struct mst_memory m = { 7021600, 12582912, 0, 1048576, 0,
	    15405056 };
	struct mst_admin_reply r;
	long long alloc, heap, rss;
	struct buf b;

	/* the layout: Envoy's pretty printer, every uint64 a string */
	buf_init(&b);
	CU_ASSERT_EQUAL(mst_memory_json(&b, &m), 0);
	buf_append(&b, "", 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "{\n"
	    " \"allocated\": \"7021600\",\n"
	    " \"heap_size\": \"12582912\",\n"
	    " \"pageheap_unmapped\": \"0\",\n"
	    " \"pageheap_free\": \"1048576\",\n"
	    " \"total_thread_cache\": \"0\",\n"
	    " \"total_physical_bytes\": \"15405056\"\n"
	    "}\n");
	buf_free(&b);

	/* the endpoint: this process is the master, without children */
	setup();
	req("GET", "/memory", "", &r);
	CU_ASSERT_EQUAL(r.ar_status, 200);
	CU_ASSERT_STRING_EQUAL(r.ar_ctype, "application/json");
	alloc = memory_field(r.ar_body.b_data, "allocated");
	heap = memory_field(r.ar_body.b_data, "heap_size");
	rss = memory_field(r.ar_body.b_data, "total_physical_bytes");
	CU_ASSERT(alloc >= 0 && heap >= alloc);
	CU_ASSERT(memory_field(r.ar_body.b_data, "pageheap_free") >= 0);
	CU_ASSERT_EQUAL(memory_field(r.ar_body.b_data, "pageheap_unmapped"),
	    0);
	CU_ASSERT_EQUAL(memory_field(r.ar_body.b_data, "total_thread_cache"),
	    0);
	/* at least a page resident: the test itself runs */
	CU_ASSERT(rss >= 4096);
	mst_admin_reply_free(&r);
}

static void
url_decode_and_query_lookup(void)
{
	struct buf b;

	buf_init(&b);
	mst_admin_url_decode(&b, "a%20b+c%zz%4%41", 15);
	CU_ASSERT_STRING_EQUAL(b.b_data, "a b c%zz%4A");
	buf_reset(&b);

	CU_ASSERT_EQUAL(mst_admin_query("usedonly&filter=a%2Bb&x=", "usedonly",
	    &b), 1);
	CU_ASSERT_STRING_EQUAL(b.b_data, "");
	CU_ASSERT_EQUAL(mst_admin_query("usedonly&filter=a%2Bb&x=", "filter",
	    &b), 1);
	CU_ASSERT_STRING_EQUAL(b.b_data, "a+b");
	CU_ASSERT_EQUAL(mst_admin_query("usedonly&filter=a%2Bb&x=", "x", &b),
	    1);
	CU_ASSERT_STRING_EQUAL(b.b_data, "");
	CU_ASSERT_EQUAL(mst_admin_query("usedonly&filter=a%2Bb&x=", "y", &b),
	    0);
	CU_ASSERT_EQUAL(mst_admin_query("fil%74er=1&&", "filter", &b), 1);
	CU_ASSERT_STRING_EQUAL(b.b_data, "1");
	CU_ASSERT_EQUAL(mst_admin_query("", "filter", &b), 0);
	/* the first of two wins */
	CU_ASSERT_EQUAL(mst_admin_query("a=1&a=2", "a", &b), 1);
	CU_ASSERT_STRING_EQUAL(b.b_data, "1");
	buf_free(&b);
}

static enum mst_admin_parse
parse(const char *s, struct mst_admin_req *rq)
{
	return mst_admin_parse_head(s, strlen(s), rq);
}

static void
parse_head_requests(void)
{
	struct mst_admin_req rq;
	const char *get = "GET /stats?filter=x HTTP/1.1\r\nHost: a\r\n\r\nNEXT";

	CU_ASSERT_EQUAL(parse(get, &rq), MST_ADMIN_P_OK);
	CU_ASSERT_EQUAL(rq.rq_head_len, strlen(get) - 4);
	CU_ASSERT(rq.rq_method_len == 3 && memcmp(rq.rq_method, "GET", 3) == 0);
	CU_ASSERT(rq.rq_target_len == 15 &&
	    memcmp(rq.rq_target, "/stats?filter=x", 15) == 0);
	CU_ASSERT_EQUAL(rq.rq_minor, 1);
	CU_ASSERT_EQUAL(rq.rq_keepalive, 1);
	CU_ASSERT_EQUAL(rq.rq_clen, 0);

	CU_ASSERT_EQUAL(parse("GET / HTTP/1.1\r\nHost: a\r\n", &rq),
	    MST_ADMIN_P_AGAIN);
	CU_ASSERT_EQUAL(parse("", &rq), MST_ADMIN_P_AGAIN);

	/* bare LF line ends, leading empty line, HTTP/1.0 */
	CU_ASSERT_EQUAL(parse("\r\nGET / HTTP/1.0\nHost: a\n\n", &rq),
	    MST_ADMIN_P_OK);
	CU_ASSERT_EQUAL(rq.rq_keepalive, 0);
	CU_ASSERT_EQUAL(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	    &rq), MST_ADMIN_P_OK);
	CU_ASSERT_EQUAL(rq.rq_keepalive, 1);
	CU_ASSERT_EQUAL(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n",
	    &rq), MST_ADMIN_P_OK);
	CU_ASSERT_EQUAL(rq.rq_keepalive, 0);

	CU_ASSERT_EQUAL(parse("POST /quitquitquit HTTP/1.1\r\n"
	    "Content-Length: 5\r\n\r\nhello", &rq), MST_ADMIN_P_OK);
	CU_ASSERT_EQUAL(rq.rq_clen, 5);
}

static void
parse_head_errors(void)
{
	struct mst_admin_req rq;
	char *big;
	size_t i;

	/* binary garbage: refused before any end of head arrives */
	CU_ASSERT_EQUAL(mst_admin_parse_head("\x16\x03\x01\x02\x00\x01", 6,
	    &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 400);
	CU_ASSERT_EQUAL(parse("GETTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT", &rq),
	    MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 400);
	CU_ASSERT_EQUAL(parse("GE", &rq), MST_ADMIN_P_AGAIN);
	CU_ASSERT_EQUAL(parse("hello\r\n\r\n", &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 400);
	CU_ASSERT_EQUAL(parse("GET stats HTTP/1.1\r\n\r\n", &rq),
	    MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 400);
	CU_ASSERT_EQUAL(parse("GET / HTTP/2.0\r\n\r\n", &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 505);
	CU_ASSERT_EQUAL(parse("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", &rq),
	    MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 400);
	CU_ASSERT_EQUAL(parse("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &rq),
	    MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 400);
	CU_ASSERT_EQUAL(parse("GET / HTTP/1.1\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n", &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 400);
	CU_ASSERT_EQUAL(parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
	    &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 400);
	CU_ASSERT_EQUAL(parse("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n"
	    "\r\n", &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 413);
	CU_ASSERT_EQUAL(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n", &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 411);

	/* 64 KiB without the end of the head */
	CU_ASSERT_FATAL((big = malloc(MST_ADMIN_HEAD_MAX + 16)) != NULL);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'a', MST_ADMIN_HEAD_MAX - 3);
	CU_ASSERT_EQUAL(mst_admin_parse_head(big, MST_ADMIN_HEAD_MAX + 16, &rq),
	    MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 431);

	/* a request line over MST_ADMIN_URL_MAX: 414, before the head ends,
	 * and for a complete head too */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'u', MST_ADMIN_URL_MAX);
	CU_ASSERT_EQUAL(mst_admin_parse_head(big, MST_ADMIN_URL_MAX + 5, &rq),
	    MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 414);
	memcpy(big + MST_ADMIN_URL_MAX + 5, " HTTP/1.1\r\n\r\n", 13);
	CU_ASSERT_EQUAL(mst_admin_parse_head(big, MST_ADMIN_URL_MAX + 18,
	    &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 414);
	free(big);

	/* too many header fields */
	CU_ASSERT_FATAL((big = malloc(8192)) != NULL);
	strlcpy(big, "GET / HTTP/1.1\r\n", 8192);
	for (i = 0; i <= MST_ADMIN_MAX_HEADERS; i++)
		strlcat(big, "X-A: b\r\n", 8192);
	strlcat(big, "\r\n", 8192);
	CU_ASSERT_EQUAL(parse(big, &rq), MST_ADMIN_P_ERR);
	CU_ASSERT_EQUAL(rq.rq_status, 431);
	free(big);
}

static CU_TestInfo tests[] = {
	{ "help_lists_endpoints_sorted", help_lists_endpoints_sorted },
	{ "unknown_path_is_404_with_help", unknown_path_is_404_with_help },
	{ "get_on_post_endpoint_is_405", get_on_post_endpoint_is_405 },
	{ "post_quitquitquit_asks_for_shutdown",
	    post_quitquitquit_asks_for_shutdown },
	{ "drain_listeners_exits_unless_skip_exit",
	    drain_listeners_exits_unless_skip_exit },
	{ "healthcheck_fail_and_ok_drive_ready",
	    healthcheck_fail_and_ok_drive_ready },
	{ "stats_parameters", stats_parameters },
	{ "other_pages", other_pages },
	{ "memory_is_envoys_shape", memory_is_envoys_shape },
	{ "url_decode_and_query_lookup", url_decode_and_query_lookup },
	{ "parse_head_requests", parse_head_requests },
	{ "parse_head_errors", parse_head_errors },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/admin", tests);
