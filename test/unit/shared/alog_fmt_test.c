/*
 * Unit tests for Envoy's substitution formats (shared/alog_fmt.c): the
 * parse of commands, arguments, length limits and %% escapes, the
 * refusals with their positions, and the values written for a record
 * and header lookups (absent values as "" in header mode, "-" else).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/alog.h"
#include "shared/arena.h"
#include "test/unit/unit.h"

static struct cd_arena *arena;

/* Parse s, which must load. */
static struct alog_fmt
parse_ok(const char *s)
{
	struct alog_fmt f;
	const char *why = NULL;
	size_t at = 0;

	if (arena == NULL)
		arena = arena_new();
	CU_ASSERT_EQUAL(alog_fmt_parse(arena, s, strlen(s), &f, &why, &at),
	    0);
	return f;
}

/* s must be refused at byte at, with a reason holding part. */
static void
parse_bad(const char *s, size_t want_at, const char *part)
{
	struct alog_fmt f;
	const char *why = NULL;
	size_t at = 99;

	if (arena == NULL)
		arena = arena_new();
	CU_ASSERT_EQUAL(alog_fmt_parse(arena, s, strlen(s), &f, &why, &at),
	    -1);
	CU_ASSERT_EQUAL(at, want_at);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, part));
}

/* A header set for lookups: "name" -> value, lower-case names. */
static const char *const req_hdrs[][2] = {
	{ "user-agent", "curl/8" }, { "x-user", "ann" },
	{ ":path", "/a?b=1" }, { NULL, NULL },
};
static const char *const resp_hdrs[][2] = {
	{ "x-backend", "v2" }, { NULL, NULL },
};

static bool
lookup(const char *const (*h)[2], const char *name, size_t len,
    struct alog_str *out)
{
	for (; (*h)[0] != NULL; h++)
		if (strlen((*h)[0]) == len && memcmp((*h)[0], name, len) == 0) {
			out->a_p = (*h)[1];
			out->a_len = strlen((*h)[1]);
			return true;
		}
	return false;
}

static bool
get_req(void *arg, const char *name, size_t len, struct alog_str *out)
{
	(void)arg;
	return lookup(req_hdrs, name, len, out);
}

static bool
get_resp(void *arg, const char *name, size_t len, struct alog_str *out)
{
	(void)arg;
	return lookup(resp_hdrs, name, len, out);
}

/* Evaluate s for rec in header mode (omit) or log mode; NUL-terminated. */
static const char *
eval(const char *s, const struct alog_rec *rec, bool omit)
{
	static char out[512];
	struct alog_src src = { rec, get_req, get_resp, NULL };
	struct alog_fmt f = parse_ok(s);
	size_t n;

	n = alog_fmt_eval(out, sizeof(out) - 1, &f, &src,
	    omit ? ALOG_F_OMIT_EMPTY : 0);
	CU_ASSERT_NOT_EQUAL_FATAL(n, (size_t)-1);
	out[n] = '\0';
	return out;
}

#define STR(s)	((struct alog_str){ (s), sizeof(s) - 1 })

static struct alog_rec
record(void)
{
	struct alog_rec r;

	memset(&r, 0, sizeof(r));
	r.ar_start_ms = 1700000000123ULL;	/* 2023-11-14T22:13:20.123Z */
	r.ar_protocol = "HTTP/1.1";
	r.ar_code = 503;
	r.ar_flags = ALOG_RF_UF | ALOG_RF_URX;
	r.ar_rx = 12;
	r.ar_tx = 34;
	r.ar_duration_ms = 56;
	r.ar_upstream = STR("10.0.0.5:8080");
	r.ar_remote = STR("[2001:db8::1]:0");
	r.ar_direct = STR("127.0.0.1:40000");
	r.ar_local = STR("127.0.0.1:10000");
	r.ar_cluster = STR("backend_v2");
	r.ar_route = STR("web");
	r.ar_conn_id = 77;
	return r;
}

static void
parse_splits_text_and_commands(void)
{
	struct alog_fmt f = parse_ok("a%%b %REQ(X-User?User-Agent):3% c");

	CU_ASSERT_EQUAL_FATAL(f.f_ntoks, 3);
	CU_ASSERT_EQUAL(f.f_toks[0].t_cmd, ALOG_C_TEXT);
	CU_ASSERT_EQUAL(f.f_toks[0].t_len, 4);
	CU_ASSERT_EQUAL(memcmp(f.f_toks[0].t_s, "a%b ", 4), 0);
	CU_ASSERT_EQUAL(f.f_toks[1].t_cmd, ALOG_C_REQ);
	CU_ASSERT_STRING_EQUAL(f.f_toks[1].t_s, "x-user");
	CU_ASSERT_STRING_EQUAL(f.f_toks[1].t_alt, "user-agent");
	CU_ASSERT_EQUAL(f.f_toks[1].t_max, 3);
	CU_ASSERT_EQUAL(f.f_needs, ALOG_N_REQ);
	f = parse_ok("%DOWNSTREAM_LOCAL_PORT%%START_TIME%");
	CU_ASSERT_EQUAL(f.f_ntoks, 2);
	CU_ASSERT_EQUAL(f.f_needs, ALOG_N_LOCAL | ALOG_N_TIME);
	f = parse_ok("");
	CU_ASSERT_EQUAL(f.f_ntoks, 0);
}

static void
parse_refuses_with_position_and_advice(void)
{
	parse_bad("ab%", 2, "write %% for a literal %");
	parse_bad("x %lower%", 2, "starts no command");
	parse_bad("%NOPE%", 0, "unknown command");
	parse_bad("1%REQ%", 1, "header name is needed");
	parse_bad("%REQ(a%", 0, "missing ')'");
	parse_bad("%PROTOCOL(x)%", 0, "takes no argument");
	parse_bad("%REQ(x):0%", 0, "bad length");
	parse_bad("%REQ(x)", 0, "closing '%'");
	parse_bad("%DOWNSTREAM_PEER_SUBJECT%", 0, "no TLS");
	parse_bad("%DOWNSTREAM_TLS_VERSION%", 0, "no TLS");
	parse_bad("%UPSTREAM_METADATA([\"a\",\"b\"])%", 0, "metadata");
	parse_bad("%FILTER_STATE(x)%", 0, "filter state");
}

static void
eval_headers_with_alternative_and_limit(void)
{
	struct alog_rec r = record();

	CU_ASSERT_STRING_EQUAL(eval("%REQ(x-user)%", &r, true), "ann");
	CU_ASSERT_STRING_EQUAL(eval("%REQ(X-NONE?user-agent)%", &r, true),
	    "curl/8");
	CU_ASSERT_STRING_EQUAL(eval("%REQ(user-agent):4%!", &r, true),
	    "curl!");
	CU_ASSERT_STRING_EQUAL(eval("%RESP(x-backend)% %REQ(:path)%", &r,
	    true), "v2 /a?b=1");
	/* absent: "" in a header value, "-" in a log line */
	CU_ASSERT_STRING_EQUAL(eval("[%REQ(x-none)%]", &r, true), "[]");
	CU_ASSERT_STRING_EQUAL(eval("[%REQ(x-none)%]", &r, false), "[-]");
}

static void
eval_record_commands(void)
{
	struct alog_rec r = record();

	CU_ASSERT_STRING_EQUAL(eval("%PROTOCOL% %RESPONSE_CODE% "
	    "%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%", &r,
	    true), "HTTP/1.1 503 UF,URX 12 34 56");
	CU_ASSERT_STRING_EQUAL(eval("%UPSTREAM_HOST% "
	    "%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %UPSTREAM_REMOTE_PORT% "
	    "%UPSTREAM_CLUSTER%", &r, true),
	    "10.0.0.5:8080 10.0.0.5 8080 backend_v2");
	CU_ASSERT_STRING_EQUAL(eval("%DOWNSTREAM_REMOTE_ADDRESS% "
	    "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
	    "%DOWNSTREAM_REMOTE_PORT%", &r, true), "[2001:db8::1]:0 "
	    "2001:db8::1 0");
	CU_ASSERT_STRING_EQUAL(eval("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS% "
	    "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_LOCAL_PORT%",
	    &r, true), "127.0.0.1:40000 127.0.0.1 10000");
	CU_ASSERT_STRING_EQUAL(eval("%ROUTE_NAME% %CONNECTION_ID%", &r, true),
	    "web 77");
	CU_ASSERT_STRING_EQUAL(eval("%START_TIME%", &r, true),
	    "2023-11-14T22:13:20.123Z");
	CU_ASSERT_STRING_EQUAL(eval("%START_TIME(%s.%3f)%", &r, true),
	    "1700000000.123");
	CU_ASSERT_STRING_EQUAL(eval("%START_TIME(%Y/%m/%d %H:%M:%S %6f %%)%",
	    &r, true), "2023/11/14 22:13:20 123000 %");
	CU_ASSERT_NOT_EQUAL(strlen(eval("%HOSTNAME%", &r, true)), 0);
}

static void
eval_environment_is_read_at_load(void)
{
	struct alog_rec r = record();

	setenv("CANARYD_UNIT_FMT", "from-env", 1);
	CU_ASSERT_STRING_EQUAL(eval("<%ENVIRONMENT(CANARYD_UNIT_FMT)%>", &r,
	    true), "<from-env>");
	CU_ASSERT_STRING_EQUAL(eval("<%ENVIRONMENT(CANARYD_UNIT_FMT):4%>",
	    &r, true), "<from>");
	unsetenv("CANARYD_UNIT_FMT");
}

static void
eval_says_when_it_does_not_fit(void)
{
	struct alog_rec r = record();
	struct alog_src src = { &r, get_req, get_resp, NULL };
	struct alog_fmt f = parse_ok("%UPSTREAM_CLUSTER%");
	char out[16];

	CU_ASSERT_EQUAL(alog_fmt_eval(out, 8, &f, &src, 0),
	    (size_t)-1);
	CU_ASSERT_EQUAL(alog_fmt_eval(out, 10, &f, &src, 0), 10);
	arena_free(arena);
	arena = NULL;
}

static CU_TestInfo tests[] = {
	{ "parse_splits_text_and_commands", parse_splits_text_and_commands },
	{ "parse_refuses_with_position_and_advice",
	    parse_refuses_with_position_and_advice },
	{ "eval_headers_with_alternative_and_limit",
	    eval_headers_with_alternative_and_limit },
	{ "eval_record_commands", eval_record_commands },
	{ "eval_environment_is_read_at_load",
	    eval_environment_is_read_at_load },
	{ "eval_says_when_it_does_not_fit", eval_says_when_it_does_not_fit },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/alog_fmt", tests)
