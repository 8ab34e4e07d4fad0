/*
 * Unit tests for the access log: shared/alog.c formats a line from a
 * request record exactly as Envoy's default format (fields, dashes for
 * absent values, response flags in Envoy's order, quoting, the length
 * bound), finds header values in a raw head; worker/accesslog.c sends
 * whole lines through a pipe and drops and counts them when it is full.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"
#include "shared/alog.h"
#include "shared/conf.h"
#include "shared/shm.h"
#include "shared/stats-t.h"
#include "worker/accesslog.h"
#include "worker/wrk.h"

/* 2026-11-26T10:00:00.123Z */
#define T0_MS	(1795687200ULL * 1000 + 123)

static struct alog_str
S(const char *s)
{
	struct alog_str a = { s, s != NULL ? strlen(s) : 0 };

	return a;
}

static char line[ALOG_TAG_LEN + ALOG_LINE_MAX];

static const char *
fmt(const struct alog_rec *r)
{
	size_t n = alog_format(line, sizeof(line), r);

	CU_ASSERT(n > 0 && n <= ALOG_LINE_MAX);
	line[n < sizeof(line) ? n : sizeof(line) - 1] = '\0';
	return line;
}

static void
full_record(void)
{
	struct alog_rec r;

	memset(&r, 0, sizeof(r));
	r.ar_start_ms = T0_MS;
	r.ar_method = S("POST");
	r.ar_path = S("/api/v1?x=1");
	r.ar_protocol = "HTTP/1.1";
	r.ar_code = 201;
	r.ar_rx = 17;
	r.ar_tx = 4096;
	r.ar_duration_ms = 35;
	r.ar_svc_ms = 33;
	r.ar_xff = S("10.0.0.1, 10.0.0.2");
	r.ar_ua = S("curl/8.5.0");
	r.ar_rid = S("5f0e-rid");
	r.ar_authority = S("example.com:10000");
	r.ar_upstream = S("127.0.0.1:8081");
	CU_ASSERT_STRING_EQUAL(fmt(&r),
	    "[2026-11-26T10:00:00.123Z] \"POST /api/v1?x=1 HTTP/1.1\" 201 - "
	    "17 4096 35 33 \"10.0.0.1, 10.0.0.2\" \"curl/8.5.0\" "
	    "\"5f0e-rid\" \"example.com:10000\" \"127.0.0.1:8081\"\n");
	/* the next second, and a millisecond part with zeros */
	r.ar_start_ms = T0_MS + 1000 - 123 + 7;
	fmt(&r);
	CU_ASSERT(strncmp(line, "[2026-11-26T10:00:01.007Z] ", 27) == 0);
}

static void
absent_values_are_dashes(void)
{
	struct alog_rec r;

	memset(&r, 0, sizeof(r));
	r.ar_start_ms = T0_MS;
	r.ar_svc_ms = -1;
	/* a client that hung up before its head was read: code 0, DC */
	r.ar_flags = ALOG_RF_DC;
	r.ar_duration_ms = 2;
	CU_ASSERT_STRING_EQUAL(fmt(&r),
	    "[2026-11-26T10:00:00.123Z] \"- - -\" 0 DC 0 0 2 - \"-\" \"-\" "
	    "\"-\" \"-\" \"-\"\n");
	/* present but empty is not absent */
	r.ar_ua = S("");
	fmt(&r);
	CU_ASSERT(strstr(line, " \"-\" \"\" \"-\" ") != NULL);
}

static void
flags_in_envoy_order(void)
{
	char b[64];

	CU_ASSERT_EQUAL(alog_flags(b, sizeof(b), 0), 1);
	CU_ASSERT_STRING_EQUAL(b, "-");
	alog_flags(b, sizeof(b), ALOG_RF_URX | ALOG_RF_UF);
	CU_ASSERT_STRING_EQUAL(b, "UF,URX");
	alog_flags(b, sizeof(b), ALOG_RF_NR);
	CU_ASSERT_STRING_EQUAL(b, "NR");
	alog_flags(b, sizeof(b), ALOG_RF_DC | ALOG_RF_UC | ALOG_RF_UT);
	CU_ASSERT_STRING_EQUAL(b, "UT,UC,DC");
	CU_ASSERT_EQUAL(alog_flags(b, sizeof(b), (1u << ALOG_RF__N) - 1),
	    strlen("UH,UT,UF,UC,UO,NR,DI,FI,RL,DC,URX,SI,DPE,UPE,NC"));
	CU_ASSERT_STRING_EQUAL(b,
	    "UH,UT,UF,UC,UO,NR,DI,FI,RL,DC,URX,SI,DPE,UPE,NC");
}

static void
quoting_and_control_bytes(void)
{
	struct alog_rec r;

	memset(&r, 0, sizeof(r));
	r.ar_start_ms = T0_MS;
	r.ar_svc_ms = -1;
	r.ar_method = S("GET");
	r.ar_path = S("/a\"b");
	r.ar_ua = S("evil\r\n[fake line]\x7f\tok");
	fmt(&r);
	/* a quote is printed raw, as Envoy does; no byte breaks the line */
	CU_ASSERT(strstr(line, "\"GET /a\"b -\"") != NULL);
	CU_ASSERT(strstr(line, "\"evil??[fake line]??ok\"") != NULL);
	CU_ASSERT_PTR_EQUAL(strchr(line, '\n'), line + strlen(line) - 1);
}

static void
long_values_are_cut_to_one_pipe_write(void)
{
	struct alog_rec r;
	char *big = malloc(64 * 1024);
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'a', 64 * 1024);
	memset(&r, 0, sizeof(r));
	r.ar_start_ms = T0_MS;
	r.ar_svc_ms = UINT32_MAX;
	r.ar_rx = r.ar_tx = r.ar_duration_ms = UINT64_MAX;
	r.ar_flags = (1u << ALOG_RF__N) - 1;
	r.ar_protocol = "HTTP/1.1";
	r.ar_method.a_p = r.ar_path.a_p = r.ar_xff.a_p = r.ar_ua.a_p =
	    r.ar_rid.a_p = r.ar_authority.a_p = r.ar_upstream.a_p = big;
	r.ar_method.a_len = r.ar_path.a_len = r.ar_xff.a_len =
	    r.ar_ua.a_len = r.ar_rid.a_len = r.ar_authority.a_len =
	    r.ar_upstream.a_len = 64 * 1024;
	n = alog_format(line, sizeof(line), &r);
	CU_ASSERT(n <= ALOG_LINE_MAX);
	CU_ASSERT(n > 2500);
	CU_ASSERT_EQUAL(line[n - 1], '\n');
	CU_ASSERT_PTR_EQUAL(memchr(line, '\n', n), line + n - 1);
	CU_ASSERT(memmem(line, n, "18446744073709551615", 20) != NULL);
	free(big);
}

static void
addresses(void)
{
	struct in_addr a4;
	struct in6_addr a6;
	char b[64];

	inet_pton(AF_INET, "10.1.2.3", &a4);
	inet_pton(AF_INET6, "::1", &a6);
	CU_ASSERT_EQUAL(alog_addr(b, sizeof(b), AF_INET, &a4, 8081), 13);
	CU_ASSERT_STRING_EQUAL(b, "10.1.2.3:8081");
	alog_addr(b, sizeof(b), AF_INET6, &a6, 443);
	CU_ASSERT_STRING_EQUAL(b, "[::1]:443");
	CU_ASSERT_EQUAL(alog_addr(b, sizeof(b), AF_UNIX, &a4, 1), 0);
}

static void
header_in_a_raw_head(void)
{
	static const char head[] =
	    "GET /ready HTTP/1.1\r\n"
	    "Host:  127.0.0.1:9901 \r\n"
	    "USER-Agent: probe/1\r\n"
	    "X-Empty:\r\n"
	    "\r\n"
	    "X-Request-Id: in-the-body\r\n";
	struct alog_str v;

	CU_ASSERT(alog_header(head, sizeof(head) - 1, "host", &v));
	CU_ASSERT(v.a_len == 14 && memcmp(v.a_p, "127.0.0.1:9901", 14) == 0);
	CU_ASSERT(alog_header(head, sizeof(head) - 1, "user-agent", &v));
	CU_ASSERT(v.a_len == 7 && memcmp(v.a_p, "probe/1", 7) == 0);
	CU_ASSERT(alog_header(head, sizeof(head) - 1, "x-empty", &v));
	CU_ASSERT_EQUAL(v.a_len, 0);
	CU_ASSERT_FALSE(alog_header(head, sizeof(head) - 1, "x-request-id",
	    &v));
	CU_ASSERT_FALSE(alog_header(head, sizeof(head) - 1, "hos", &v));
	/* LF-only line ends too */
	CU_ASSERT(alog_header("GET / HTTP/1.0\nHost: h\n\n", 24, "host", &v));
	CU_ASSERT(v.a_len == 1 && v.a_p[0] == 'h');
}

/* Lines queued in a worker arrive whole; a full pipe drops and counts. */
static void
worker_pipe_whole_lines_then_drops(void)
{
	struct shm *s = unit_shm();
	struct wrk saved = wrk;
	struct alog_rec r;
	struct alog_src src = { NULL, NULL, NULL, NULL };
	char *got;
	size_t total = 0, one, sent, i;
	uint64_t dropped;
	ssize_t n;
	int p[2], nul;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
	/* the smallest pipe the kernel gives: one page */
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	wrk.w_shm = s;
	wrk.w_slot = shm_slot(s, 1);
	nul = open("/dev/null", O_WRONLY);
	CU_ASSERT_EQUAL(wrk_alog_init(nul), -1);	/* not a pipe */
	CU_ASSERT_FALSE(wrk_alog_on());
	close(nul);
	CU_ASSERT_EQUAL_FATAL(wrk_alog_init(p[1]), 0);
	CU_ASSERT(wrk_alog_on());

	memset(&r, 0, sizeof(r));
	r.ar_start_ms = T0_MS;
	r.ar_svc_ms = -1;
	r.ar_method = S("GET");
	r.ar_path = S("/0123456789abcdef0123456789abcdef0123456789abcdef");
	src.as_rec = &r;
	/* a tag (listener record 0, its first file), then the line */
	alog_tag_put(line, 0, 0);
	one = ALOG_TAG_LEN + alog_format(line + ALOG_TAG_LEN,
	    sizeof(line) - ALOG_TAG_LEN, &r);
	/* more than the pipe holds, queued in one loop turn */
	for (i = 0; i < 200; i++)
		wrk_alog_write(NULL, &src);
	CU_ASSERT(wrk_alog_pending() > 0);
	wrk_alog_flush();
	CU_ASSERT_EQUAL(wrk_alog_pending(), 0);
	got = malloc(200 * one);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	while ((n = read(p[0], got + total, 200 * one - total)) > 0)
		total += (size_t)n;
	dropped = atomic_load(&shm_http(s, shm_slot(s, 1),
	    0)->hc_c[HC_ACCESS_LOG_DROPPED]);
	sent = total / one;
	CU_ASSERT_EQUAL(total % one, 0);	/* whole lines only */
	CU_ASSERT(sent > 0 && sent < 200);
	CU_ASSERT_EQUAL(sent + dropped, 200);
	for (i = 0; i < sent; i++)
		CU_ASSERT(memcmp(got + i * one, line, one) == 0);

	/* the master caught up: nothing more is lost */
	wrk_alog_write(NULL, &src);
	wrk_alog_flush();
	CU_ASSERT_EQUAL(read(p[0], got, one), (ssize_t)one);
	CU_ASSERT_EQUAL(atomic_load(
	    &shm_http(s, shm_slot(s, 1), 0)->hc_c[HC_ACCESS_LOG_DROPPED]),
	    dropped);

	free(got);
	close(p[0]);
	close(p[1]);
	wrk_alog_fd = -1;
	wrk = saved;
	shm_destroy(s);
}

/* ---- config: HttpConnectionManager access_log ------------------------ */

#define AL_HEAD								\
	"static_resources:\n"						\
	"  listeners:\n"						\
	"  - address: { socket_address: { address: 127.0.0.1, port_value: " \
	    "10000 } }\n"						\
	"    filter_chains:\n"						\
	"    - filters:\n"						\
	"      - name: hcm\n"						\
	"        typed_config:\n"					\
	"          \"@type\": type.googleapis.com/envoy.extensions.filters." \
	    "network.http_connection_manager.v3.HttpConnectionManager\n" \
	"          stat_prefix: ingress\n"				\
	"          http_filters:\n"					\
	"          - name: envoy.filters.http.router\n"			\
	"            typed_config: { \"@type\": type.googleapis.com/envoy." \
	    "extensions.filters.http.router.v3.Router }\n"		\
	"          route_config:\n"					\
	"            virtual_hosts:\n"					\
	"            - { name: app, domains: [\"*\"], routes: [ { match: " \
	    "{ prefix: \"/\" }, direct_response: { status: 200 } } ] }\n"
#define AL_T	"type.googleapis.com/envoy.extensions.access_loggers."
#define AL_FILE(p) "          - { name: f, typed_config: { \"@type\": "	\
	AL_T "file.v3.FileAccessLog, path: " p " } }\n"

static struct cd_conf *
al_load(const char *yaml, struct conf_diags *d)
{
	memset(d, 0, sizeof(*d));
	return conf_load_buf("t.yaml", yaml, strlen(yaml), d);
}

static bool
al_diag_has(const struct conf_diags *d, const char *s)
{
	size_t i;

	for (i = 0; i < d->cd_n; i++)
		if (strstr(d->cd_v[i].d_text, s) != NULL)
			return true;
	return false;
}

static void
config_access_logs(void)
{
	struct conf_diags d;
	struct cd_conf *c;

	/* none: off */
	c = al_load(AL_HEAD, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_listener->l_naccess_logs, 0);
	conf_free(c);
	conf_diags_free(&d);

	c = al_load(AL_HEAD "          access_log:\n" AL_FILE("/tmp/a.log")
	    "          - name: out\n"
	    "            typed_config: { \"@type\": " AL_T
	    "stream.v3.StdoutAccessLog }\n"
	    "          - name: err\n"
	    "            typed_config: { \"@type\": " AL_T
	    "stream.v3.StderrAccessLog }\n", &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->c_listener->l_naccess_logs, 3);
	CU_ASSERT_STRING_EQUAL(c->c_listener->l_access_logs[0].al_path, "/tmp/a.log");
	CU_ASSERT_STRING_EQUAL(c->c_listener->l_access_logs[1].al_path, "/dev/stdout");
	CU_ASSERT_STRING_EQUAL(c->c_listener->l_access_logs[2].al_path, "/dev/stderr");
	CU_ASSERT_PTR_NULL(c->c_admin.a_log.al_path);
	conf_free(c);
	conf_diags_free(&d);
}

static void
config_access_log_errors(void)
{
	struct conf_diags d;
	struct cd_conf *c;

	c = al_load(AL_HEAD "          access_log:\n"
	    "          - name: f\n"
	    "            typed_config:\n"
	    "              \"@type\": " AL_T "file.v3.FileAccessLog\n"
	    "              path: /tmp/a.log\n"
	    "              log_format: { text_format: \"%NO_SUCH%\" }\n",
	    &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(al_diag_has(&d, "log_format.text_format"));
	CU_ASSERT(al_diag_has(&d, "unknown command"));
	conf_diags_free(&d);

	c = al_load(AL_HEAD "          access_log:\n"
	    "          - name: f\n"
	    "            typed_config: { \"@type\": " AL_T
	    "file.v3.FileAccessLog }\n", &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(al_diag_has(&d, "path"));
	conf_diags_free(&d);

	c = al_load(AL_HEAD "          access_log:\n"
	    "          - name: g\n"
	    "            typed_config: { \"@type\": " AL_T
	    "grpc.v3.HttpGrpcAccessLogConfig }\n", &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(al_diag_has(&d, "HttpGrpcAccessLogConfig"));
	conf_diags_free(&d);

	c = al_load(AL_HEAD "          access_log:\n" AL_FILE("/tmp/1")
	    AL_FILE("/tmp/2") AL_FILE("/tmp/3") AL_FILE("/tmp/4")
	    AL_FILE("/tmp/5"), &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(al_diag_has(&d, "at most 4"));
	conf_diags_free(&d);
}


/* ---- layouts: text and JSON lines --------------------------------------- */

/* as_req for the layout tests: x-tenant and :path only */
static bool
lay_req(void *arg, const char *name, size_t len, struct alog_str *v)
{
	(void)arg;
	if (len == 8 && memcmp(name, "x-tenant", 8) == 0) {
		*v = S("a\"b\\c\x01\xc3\xa9\xff");
		return true;
	}
	if (len == 5 && memcmp(name, ":path", 5) == 0) {
		*v = S("/p");
		return true;
	}
	return false;
}

/* The layout of the first access log of yaml's config (kept loaded). */
static const struct alog_layout *
lay_load(const char *logger, struct cd_conf **c)
{
	char yaml[4096];
	struct conf_diags d;

	snprintf(yaml, sizeof(yaml), "%s          access_log:\n"
	    "          - name: f\n"
	    "            typed_config:\n"
	    "              \"@type\": %sfile.v3.FileAccessLog\n"
	    "              path: /tmp/a.log\n%s", AL_HEAD, AL_T, logger);
	*c = al_load(yaml, &d);
	conf_diags_free(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*c);
	return (*c)->c_listener->l_access_logs[0].al_layout;
}

static void
json_values_are_typed_escaped_and_omitted(void)
{
	static char out[ALOG_LINE_MAX];
	const struct alog_layout *lo;
	struct alog_rec r;
	struct alog_src src = { &r, lay_req, NULL, NULL };
	struct cd_conf *c;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.ar_start_ms = T0_MS;
	r.ar_code = 503;
	r.ar_rx = 7;
	r.ar_svc_ms = -1;
	r.ar_upstream = S("127.0.0.1:8081");
	lo = lay_load("              log_format:\n"
	    "                json_format:\n"
	    "                  code: \"%RESPONSE_CODE%\"\n"
	    "                  t: \"%REQ(X-TENANT)%\"\n"
	    "                  gone: \"%REQ(X-NONE)%\"\n"
	    "                  mixed: \"[%REQ(X-NONE)%]\"\n"
	    "                  up: { port: \"%UPSTREAM_REMOTE_PORT%\", "
	    "rx: \"%BYTES_RECEIVED%\" }\n"
	    "                  lit: 1.5\n", &c);
	CU_ASSERT_FATAL(lo != NULL && lo->lo_kind == ALOG_L_JSON);
	n = alog_layout_line(out, sizeof(out), lo, &src);
	out[n] = '\0';
	CU_ASSERT_STRING_EQUAL(out, "{\"code\":503,\"t\":\"a\\\"b\\\\c\\u0001"
	    "\xc3\xa9\\ufffd\",\"gone\":null,\"mixed\":\"[-]\",\"up\":{"
	    "\"port\":8081,\"rx\":7},\"lit\":1.5}\n");
	conf_free(c);

	lo = lay_load("              log_format:\n"
	    "                omit_empty_values: true\n"
	    "                json_format: { a: \"%REQ(X-NONE)%\", "
	    "b: \"x%REQ(X-NONE)%y\", c: \"%REQ(:PATH)%\" }\n", &c);
	CU_ASSERT_FATAL(lo != NULL);
	n = alog_layout_line(out, sizeof(out), lo, &src);
	out[n] = '\0';
	CU_ASSERT_STRING_EQUAL(out, "{\"b\":\"xy\",\"c\":\"/p\"}\n");
	conf_free(c);
}

static void
text_lines_end_once_and_long_json_stays_valid(void)
{
	static char out[ALOG_LINE_MAX], big[3000];
	const struct alog_layout *lo;
	struct alog_rec r;
	struct alog_src src = { &r, NULL, NULL, NULL };
	struct cd_conf *c;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.ar_code = 200;
	memset(big, 'x', sizeof(big));
	r.ar_route = (struct alog_str){ big, sizeof(big) };
	lo = lay_load("              log_format:\n"
	    "                text_format_source: { inline_string: "
	    "\"%RESPONSE_CODE%\\n%RESPONSE_CODE%\" }\n", &c);
	CU_ASSERT_FATAL(lo != NULL && lo->lo_kind == ALOG_L_TEXT);
	n = alog_layout_line(out, sizeof(out), lo, &src);
	CU_ASSERT(n == 8 && memcmp(out, "200 200\n", 8) == 0);
	conf_free(c);

	lo = lay_load("              log_format:\n"
	    "                json_format: { a: \"%ROUTE_NAME%\", "
	    "b: \"%ROUTE_NAME%\" }\n", &c);
	CU_ASSERT_FATAL(lo != NULL);
	n = alog_layout_line(out, sizeof(out), lo, &src);
	CU_ASSERT(n < ALOG_LINE_MAX && out[n - 1] == '\n');
	CU_ASSERT_EQUAL(n, strlen("{\"a\":\"\",\"b\":\"\"}\n") +
	    2 * ALOG_JSON_CUT);
	conf_free(c);
}

/*
 * A line's tag names any listener record up to ALOG_TAG_RECORDS and any
 * of its logs, in bytes that are never a newline; what does not start
 * with a tag is not read as one.
 */
static void
tags_name_any_record(void)
{
	static const uint32_t recs[] = { 0, 15, 47, 48, 1000, 65535,
	    ALOG_TAG_RECORDS - 1 };
	char t[ALOG_TAG_LEN];
	uint32_t r, i, k, gr, gi;

	for (k = 0; k < sizeof(recs) / sizeof(recs[0]); k++)
		for (i = 0; i < ALOG_TAG_LOGS; i++) {
			r = recs[k];
			alog_tag_put(t, r, i);
			CU_ASSERT(memchr(t, '\n', sizeof(t)) == NULL);
			CU_ASSERT_FATAL(alog_tag_get(t, sizeof(t), &gr, &gi));
			CU_ASSERT_EQUAL(gr, r);
			CU_ASSERT_EQUAL(gi, i);
		}
	CU_ASSERT_FALSE(alog_tag_get(t, ALOG_TAG_LEN - 1, &gr, &gi));
	CU_ASSERT_FALSE(alog_tag_get("[2026-", 6, &gr, &gi));
	CU_ASSERT_FALSE(alog_tag_get("@@@\n@", 5, &gr, &gi));
}

static CU_TestInfo tests[] = {
	{ "tags_name_any_record", tags_name_any_record },
	{ "full_record", full_record },
	{ "absent_values_are_dashes", absent_values_are_dashes },
	{ "flags_in_envoy_order", flags_in_envoy_order },
	{ "quoting_and_control_bytes", quoting_and_control_bytes },
	{ "long_values_are_cut_to_one_pipe_write",
	    long_values_are_cut_to_one_pipe_write },
	{ "addresses", addresses },
	{ "header_in_a_raw_head", header_in_a_raw_head },
	{ "worker_pipe_whole_lines_then_drops",
	    worker_pipe_whole_lines_then_drops },
	{ "config_access_logs", config_access_logs },
	{ "config_access_log_errors", config_access_log_errors },
	{ "json_values_are_typed_escaped_and_omitted",
	    json_values_are_typed_escaped_and_omitted },
	{ "text_lines_end_once_and_long_json_stays_valid",
	    text_lines_end_once_and_long_json_stays_valid },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("worker/accesslog", tests);
