/*
 * Unit tests for worker/retry.c: Envoy's fully jittered back-off ranges,
 * the retry decision table (outcome and status x retry_on x budget x
 * bytes already sent either way x replayable body), a rate-limited
 * response (x-envoy-ratelimited) retried by that mark alone, the
 * per-try timeout that applies, the expected-timeout value of each
 * attempt, and the rewrite of that header in an upstream head
 * (worker/hdr.c); the list of hosts a request tried.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "shared/conf-t.h"
#include "worker/hdr.h"
#include "worker/retry.h"
#include "worker/upstream.h"

#define MS	CD_NS_PER_MS

static struct cd_retry_policy
policy(uint32_t on, uint32_t n)
{
	struct cd_retry_policy rp;

	memset(&rp, 0, sizeof(rp));
	rp.rp_set = true;
	rp.rp_retry_on = on;
	rp.rp_num_retries = n;
	rp.rp_per_try_timeout = CD_DUR_UNSET;
	rp.rp_backoff_base = 25 * MS;
	rp.rp_backoff_max = 250 * MS;
	return rp;
}

/* The largest and smallest value over a sweep of random inputs. */
static void
backoff_range(const struct cd_retry_policy *rp, uint32_t n, uint64_t *lo,
    uint64_t *hi)
{
	uint64_t v;
	uint32_t rnd;
	int i;

	*lo = UINT64_MAX;
	*hi = 0;
	for (i = 0; i < 5000; i++) {
		rnd = (uint32_t)i * 2654435761u;	/* spread out */
		v = wrk_retry_backoff_ms(rp, n, rnd);
		if (v < *lo)
			*lo = v;
		if (v > *hi)
			*hi = v;
	}
}

static void
backoff_is_fully_jittered_and_capped(void)
{
	struct cd_retry_policy rp = policy(CD_RETRY_5XX, 3);
	uint64_t lo, hi;

	/* [0, (2^n - 1) x 25): 0-24, 0-74, 0-174, then capped at 250 */
	backoff_range(&rp, 1, &lo, &hi);
	CU_ASSERT_EQUAL(lo, 0);
	CU_ASSERT_EQUAL(hi, 24);
	backoff_range(&rp, 2, &lo, &hi);
	CU_ASSERT_EQUAL(lo, 0);
	CU_ASSERT_EQUAL(hi, 74);
	backoff_range(&rp, 3, &lo, &hi);
	CU_ASSERT_EQUAL(hi, 174);
	backoff_range(&rp, 4, &lo, &hi);
	CU_ASSERT_EQUAL(hi, 249);
	backoff_range(&rp, 60, &lo, &hi);
	CU_ASSERT_EQUAL(hi, 249);
	/* huge n must not overflow the shift */
	CU_ASSERT(wrk_retry_backoff_ms(&rp, 200, UINT32_MAX) < 250);
	/* exact arithmetic: rnd mod the range */
	CU_ASSERT_EQUAL(wrk_retry_backoff_ms(&rp, 1, 24), 24);
	CU_ASSERT_EQUAL(wrk_retry_backoff_ms(&rp, 1, 25), 0);
	CU_ASSERT_EQUAL(wrk_retry_backoff_ms(&rp, 2, 74), 74);
	CU_ASSERT_EQUAL(wrk_retry_backoff_ms(&rp, 2, 75), 0);
}

static void
backoff_custom_base_and_max(void)
{
	struct cd_retry_policy rp = policy(CD_RETRY_5XX, 3);
	uint64_t lo, hi;

	rp.rp_backoff_base = 100 * MS;
	rp.rp_backoff_max = 150 * MS;
	backoff_range(&rp, 1, &lo, &hi);
	CU_ASSERT_EQUAL(hi, 99);
	backoff_range(&rp, 2, &lo, &hi);	/* 300 capped at 150 */
	CU_ASSERT_EQUAL(hi, 149);
	/* a sub-millisecond base counts as 1 ms: retry 1 waits 0 ms */
	rp.rp_backoff_base = MS / 2;
	rp.rp_backoff_max = 5 * MS;
	backoff_range(&rp, 1, &lo, &hi);
	CU_ASSERT_EQUAL(hi, 0);
	backoff_range(&rp, 2, &lo, &hi);
	CU_ASSERT_EQUAL(hi, 2);
}

/* retry_on against an outcome without a response */
static bool
failure_matches(const struct cd_retry_policy *rp, enum wrk_try_result res,
    bool req_sent)
{
	return wrk_retry_on_matches(rp, res, 0, 0, req_sent);
}

static void
retry_on_matches_envoy_tokens(void)
{
	struct cd_retry_policy rp;
	static const uint16_t codes[] = { 200, 404, 409, 429, 500, 501, 502,
	    503, 504, 505 };
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		uint16_t st = codes[i];

		rp = policy(CD_RETRY_5XX, 1);
		CU_ASSERT_EQUAL(wrk_retry_on_matches(&rp, WRK_TRY_RESPONSE,
		    st, 0, true), st >= 500);
		rp = policy(CD_RETRY_GATEWAY_ERROR, 1);
		CU_ASSERT_EQUAL(wrk_retry_on_matches(&rp, WRK_TRY_RESPONSE,
		    st, 0, true), st >= 502 && st <= 504);
		rp = policy(CD_RETRY_RETRIABLE_4XX, 1);
		CU_ASSERT_EQUAL(wrk_retry_on_matches(&rp, WRK_TRY_RESPONSE,
		    st, 0, true), st == 409);
		rp = policy(CD_RETRY_RESET | CD_RETRY_CONNECT_FAILURE |
		    CD_RETRY_REFUSED_STREAM | CD_RETRY_RESET_BEFORE_REQUEST, 1);
		CU_ASSERT_FALSE(wrk_retry_on_matches(&rp, WRK_TRY_RESPONSE,
		    st, 0, true));
		rp = policy(CD_RETRY_RETRIABLE_CODES, 1);
		rp.rp_codes[0] = 429;
		rp.rp_codes[1] = 503;
		rp.rp_ncodes = 2;
		CU_ASSERT_EQUAL(wrk_retry_on_matches(&rp, WRK_TRY_RESPONSE,
		    st, 0, true), st == 429 || st == 503);
	}

	/* failures without a response */
	rp = policy(CD_RETRY_5XX, 1);
	CU_ASSERT(failure_matches(&rp, WRK_TRY_CONNECT_FAIL, false));
	CU_ASSERT(failure_matches(&rp, WRK_TRY_RESET, true));
	CU_ASSERT(failure_matches(&rp, WRK_TRY_PER_TRY_TIMEOUT, true));
	rp = policy(CD_RETRY_GATEWAY_ERROR, 1);
	CU_ASSERT(failure_matches(&rp, WRK_TRY_CONNECT_FAIL, false));
	CU_ASSERT(failure_matches(&rp, WRK_TRY_RESET, true));
	CU_ASSERT(failure_matches(&rp, WRK_TRY_PER_TRY_TIMEOUT, true));
	rp = policy(CD_RETRY_RESET, 1);
	CU_ASSERT(failure_matches(&rp, WRK_TRY_CONNECT_FAIL, false));
	CU_ASSERT(failure_matches(&rp, WRK_TRY_RESET, true));
	CU_ASSERT(failure_matches(&rp, WRK_TRY_PER_TRY_TIMEOUT, true));
	/* connect-failure: only a failed connect */
	rp = policy(CD_RETRY_CONNECT_FAILURE, 1);
	CU_ASSERT(failure_matches(&rp, WRK_TRY_CONNECT_FAIL, false));
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_RESET, false));
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_PER_TRY_TIMEOUT, true));
	/* reset-before-request: only while nothing went upstream */
	rp = policy(CD_RETRY_RESET_BEFORE_REQUEST, 1);
	CU_ASSERT(failure_matches(&rp, WRK_TRY_CONNECT_FAIL, false));
	CU_ASSERT(failure_matches(&rp, WRK_TRY_RESET, false));
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_RESET, true));
	/* refused-stream and 4xx tokens never match a failure on HTTP/1 */
	rp = policy(CD_RETRY_REFUSED_STREAM | CD_RETRY_RETRIABLE_4XX |
	    CD_RETRY_RETRIABLE_CODES, 1);
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_CONNECT_FAIL, false));
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_RESET, true));
	/* never: route timeout, overflow */
	rp = policy(0xffff, 1);
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_ROUTE_TIMEOUT, true));
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_OVERFLOW, false));
}

static void
decide_table(void)
{
	static const struct {
		uint32_t		 on;
		uint32_t		 num;
		enum wrk_try_result	 res;
		uint16_t		 st;
		bool			 resp_started;
		uint32_t		 done;
		bool			 replayable;
		enum wrk_retry_verdict	 want;
	} t[] = {
		/* the user's policy: 5xx, 2 retries */
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 503, false, 0, true,
		    WRK_RETRY_YES },
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 503, false, 1, true,
		    WRK_RETRY_YES },
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 503, false, 2, true,
		    WRK_RETRY_LIMIT },
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 200, false, 1, true,
		    WRK_RETRY_NO },
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 404, false, 0, true,
		    WRK_RETRY_NO },
		{ CD_RETRY_5XX, 2, WRK_TRY_CONNECT_FAIL, 0, false, 0, true,
		    WRK_RETRY_YES },
		{ CD_RETRY_5XX, 2, WRK_TRY_PER_TRY_TIMEOUT, 0, false, 2, true,
		    WRK_RETRY_LIMIT },
		/* a byte went to the client: nothing, whatever else */
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 503, true, 0, true,
		    WRK_RETRY_NO },
		{ CD_RETRY_5XX, 2, WRK_TRY_RESET, 0, true, 0, true,
		    WRK_RETRY_NO },
		/* body over the buffer limit: abandoned, not over limit */
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 503, false, 0, false,
		    WRK_RETRY_ABANDONED },
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 503, false, 2, false,
		    WRK_RETRY_ABANDONED },
		{ CD_RETRY_5XX, 2, WRK_TRY_RESPONSE, 200, false, 0, false,
		    WRK_RETRY_NO },
		/* num_retries 0: retriable outcomes are over the limit */
		{ CD_RETRY_5XX, 0, WRK_TRY_RESPONSE, 500, false, 0, true,
		    WRK_RETRY_LIMIT },
		/* never retried */
		{ 0xffff, 5, WRK_TRY_ROUTE_TIMEOUT, 0, false, 0, true,
		    WRK_RETRY_NO },
		{ 0xffff, 5, WRK_TRY_OVERFLOW, 0, false, 0, true,
		    WRK_RETRY_NO },
		/* other tokens */
		{ CD_RETRY_GATEWAY_ERROR, 1, WRK_TRY_RESPONSE, 500, false, 0,
		    true, WRK_RETRY_NO },
		{ CD_RETRY_GATEWAY_ERROR, 1, WRK_TRY_RESPONSE, 502, false, 0,
		    true, WRK_RETRY_YES },
		{ CD_RETRY_RETRIABLE_4XX, 1, WRK_TRY_RESPONSE, 409, false, 0,
		    true, WRK_RETRY_YES },
		{ CD_RETRY_CONNECT_FAILURE, 1, WRK_TRY_RESET, 0, false, 0,
		    true, WRK_RETRY_NO },
		{ 0, 3, WRK_TRY_RESPONSE, 503, false, 0, true, WRK_RETRY_NO },
	};
	struct cd_retry_policy rp;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rp = policy(t[i].on, t[i].num);
		CU_ASSERT_EQUAL(wrk_retry_decide(&rp, t[i].res, t[i].st, 0,
		    t[i].resp_started, true, t[i].done, t[i].replayable),
		    t[i].want);
	}
	/* no policy at all */
	rp = policy(CD_RETRY_5XX, 3);
	rp.rp_set = false;
	CU_ASSERT_EQUAL(wrk_retry_decide(&rp, WRK_TRY_RESPONSE, 503, 0, false,
	    true, 0, true), WRK_RETRY_NO);
}

/*
 * x-envoy-ratelimited: a response carrying it is retried under
 * envoy-ratelimited whatever its status, and under nothing else, not
 * even 5xx or its status listed (Envoy's wouldRetryFromHeaders()).
 */
static void
envoy_ratelimited_goes_by_the_header(void)
{
	static const uint16_t codes[] = { 200, 409, 429, 500, 503 };
	const uint32_t rl = WRK_RESP_F_RATELIMITED;
	struct cd_retry_policy rp, other;
	size_t i;

	other = policy(CD_RETRY_5XX | CD_RETRY_GATEWAY_ERROR |
	    CD_RETRY_RETRIABLE_4XX | CD_RETRY_RETRIABLE_CODES, 1);
	other.rp_codes[0] = 429;
	other.rp_ncodes = 1;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		uint16_t st = codes[i];

		rp = policy(CD_RETRY_ENVOY_RATELIMITED, 1);
		CU_ASSERT(wrk_retry_on_matches(&rp, WRK_TRY_RESPONSE, st, rl,
		    true));
		CU_ASSERT_FALSE(wrk_retry_on_matches(&rp, WRK_TRY_RESPONSE,
		    st, 0, true));
		CU_ASSERT_FALSE(wrk_retry_on_matches(&other, WRK_TRY_RESPONSE,
		    st, rl, true));
		CU_ASSERT_EQUAL(wrk_retry_on_matches(&other, WRK_TRY_RESPONSE,
		    st, 0, true), st >= 409);
		rp = policy(0xffff, 1);
		CU_ASSERT(wrk_retry_on_matches(&rp, WRK_TRY_RESPONSE, st, rl,
		    false));
	}
	/* a failure without a response has no header */
	rp = policy(CD_RETRY_ENVOY_RATELIMITED, 1);
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_CONNECT_FAIL, false));
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_RESET, false));
	CU_ASSERT_FALSE(failure_matches(&rp, WRK_TRY_PER_TRY_TIMEOUT, true));

	/* the budget, the client's bytes and the body as for any other */
	rp = policy(CD_RETRY_ENVOY_RATELIMITED, 2);
	CU_ASSERT_EQUAL(wrk_retry_decide(&rp, WRK_TRY_RESPONSE, 429, rl, false,
	    true, 0, true), WRK_RETRY_YES);
	CU_ASSERT_EQUAL(wrk_retry_decide(&rp, WRK_TRY_RESPONSE, 429, rl, false,
	    true, 1, true), WRK_RETRY_YES);
	CU_ASSERT_EQUAL(wrk_retry_decide(&rp, WRK_TRY_RESPONSE, 429, rl, false,
	    true, 2, true), WRK_RETRY_LIMIT);
	CU_ASSERT_EQUAL(wrk_retry_decide(&rp, WRK_TRY_RESPONSE, 429, rl, true,
	    true, 0, true), WRK_RETRY_NO);
	CU_ASSERT_EQUAL(wrk_retry_decide(&rp, WRK_TRY_RESPONSE, 429, rl, false,
	    true, 0, false), WRK_RETRY_ABANDONED);
	CU_ASSERT_EQUAL(wrk_retry_decide(&rp, WRK_TRY_RESPONSE, 429, 0, false,
	    true, 0, true), WRK_RETRY_NO);
	CU_ASSERT_EQUAL(wrk_retry_decide(&other, WRK_TRY_RESPONSE, 503, rl,
	    false, true, 0, true), WRK_RETRY_NO);
	CU_ASSERT_EQUAL(wrk_retry_decide(&other, WRK_TRY_RESPONSE, 503, 0,
	    false, true, 0, true), WRK_RETRY_YES);
}

static void
per_try_applies_only_below_route_timeout(void)
{
	struct cd_retry_policy rp = policy(CD_RETRY_5XX, 2);

	CU_ASSERT_EQUAL(wrk_retry_per_try_ms(&rp, 15000), 0);
	rp.rp_per_try_timeout = 1000 * MS;
	CU_ASSERT_EQUAL(wrk_retry_per_try_ms(&rp, 15000), 1000);
	CU_ASSERT_EQUAL(wrk_retry_per_try_ms(&rp, 0), 1000);	/* no route */
	CU_ASSERT_EQUAL(wrk_retry_per_try_ms(&rp, 1000), 0);	/* >= route */
	CU_ASSERT_EQUAL(wrk_retry_per_try_ms(&rp, 800), 0);
	rp.rp_per_try_timeout = 300 * MS + 1;	/* rounds up */
	CU_ASSERT_EQUAL(wrk_retry_per_try_ms(&rp, 15000), 301);
	rp.rp_set = false;
	CU_ASSERT_EQUAL(wrk_retry_per_try_ms(&rp, 15000), 0);
}

static void
expected_timeout_per_attempt(void)
{
	CU_ASSERT_EQUAL(wrk_retry_expected_ms(1000, 15000, 0), 1000);
	CU_ASSERT_EQUAL(wrk_retry_expected_ms(1000, 15000, 14500), 500);
	CU_ASSERT_EQUAL(wrk_retry_expected_ms(1000, 15000, 15000), 1);
	CU_ASSERT_EQUAL(wrk_retry_expected_ms(1000, 15000, 99999), 1);
	CU_ASSERT_EQUAL(wrk_retry_expected_ms(0, 15000, 0), 15000);
	CU_ASSERT_EQUAL(wrk_retry_expected_ms(0, 15000, 2500), 12500);
	CU_ASSERT_EQUAL(wrk_retry_expected_ms(300, 0, 5000), 300);
	CU_ASSERT_EQUAL(wrk_retry_expected_ms(0, 0, 0), -1);
}

static void
expected_header_is_rewritten(void)
{
	char buf[256];
	const char *h1 = "GET / HTTP/1.1\r\nhost: a\r\n"
	    "x-envoy-expected-rq-timeout-ms: 1000\r\n"
	    "transfer-encoding: chunked\r\n\r\n";
	const char *h2 = "GET / HTTP/1.1\r\nhost: a\r\n\r\n";
	size_t n;

	strcpy(buf, h1);
	n = wrk_hdr_set_expected(buf, strlen(h1), sizeof(buf), 750);
	CU_ASSERT_EQUAL(n, strlen(h1) - 1);
	CU_ASSERT_NSTRING_EQUAL(buf, "GET / HTTP/1.1\r\nhost: a\r\n"
	    "x-envoy-expected-rq-timeout-ms: 750\r\n"
	    "transfer-encoding: chunked\r\n\r\n", n);
	n = wrk_hdr_set_expected(buf, n, sizeof(buf), 12345);
	CU_ASSERT_NSTRING_EQUAL(buf, "GET / HTTP/1.1\r\nhost: a\r\n"
	    "x-envoy-expected-rq-timeout-ms: 12345\r\n"
	    "transfer-encoding: chunked\r\n\r\n", n);
	n = wrk_hdr_set_expected(buf, n, sizeof(buf), -1);
	CU_ASSERT_NSTRING_EQUAL(buf, "GET / HTTP/1.1\r\nhost: a\r\n"
	    "transfer-encoding: chunked\r\n\r\n", n);
	/* absent: added before the blank line */
	strcpy(buf, h2);
	n = wrk_hdr_set_expected(buf, strlen(h2), sizeof(buf), 5);
	CU_ASSERT_NSTRING_EQUAL(buf, "GET / HTTP/1.1\r\nhost: a\r\n"
	    "x-envoy-expected-rq-timeout-ms: 5\r\n\r\n", n);
	/* no room, or not a whole head: 0, nothing written past cap */
	strcpy(buf, h2);
	CU_ASSERT_EQUAL(wrk_hdr_set_expected(buf, strlen(h2), strlen(h2) + 3,
	    5), 0);
	CU_ASSERT_EQUAL(wrk_hdr_set_expected(buf, strlen(h2) - 2,
	    sizeof(buf), 5), 0);
}

/* The hosts a request tried, by id, whatever the cluster's size: the
 * last WRK_TRIED_MAX distinct ones are remembered. */
static void
tried_hosts_by_id(void)
{
	struct wrk_tried t;
	uint32_t i;

	memset(&t, 0, sizeof(t));
	CU_ASSERT_FALSE(wrk_tried_has(&t, 0));
	CU_ASSERT_FALSE(wrk_tried_has(NULL, 7));
	wrk_tried_add(&t, 1000);
	wrk_tried_add(&t, 1000);	/* once */
	CU_ASSERT_EQUAL(t.t_n, 1);
	CU_ASSERT(wrk_tried_has(&t, 1000));
	CU_ASSERT_FALSE(wrk_tried_has(&t, 999));
	for (i = 0; i < WRK_TRIED_MAX; i++)
		wrk_tried_add(&t, 5000 + i);
	/* 1000 was the oldest: forgotten; the rest kept */
	CU_ASSERT_FALSE(wrk_tried_has(&t, 1000));
	for (i = 0; i < WRK_TRIED_MAX; i++)
		CU_ASSERT(wrk_tried_has(&t, 5000 + i));
}

static CU_TestInfo tests[] = {
	{ "tried_hosts_by_id", tried_hosts_by_id },
	{ "backoff_is_fully_jittered_and_capped",
	    backoff_is_fully_jittered_and_capped },
	{ "backoff_custom_base_and_max", backoff_custom_base_and_max },
	{ "retry_on_matches_envoy_tokens", retry_on_matches_envoy_tokens },
	{ "decide_table", decide_table },
	{ "envoy_ratelimited_goes_by_the_header",
	    envoy_ratelimited_goes_by_the_header },
	{ "per_try_applies_only_below_route_timeout",
	    per_try_applies_only_below_route_timeout },
	{ "expected_timeout_per_attempt", expected_timeout_per_attempt },
	{ "expected_header_is_rewritten", expected_header_is_rewritten },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("worker/retry", tests);
