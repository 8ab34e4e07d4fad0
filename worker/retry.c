/*
 * Retry decisions and back-off (see retry.h).  Follows Envoy's
 * RetryStateImpl: wouldRetryFromHeaders / wouldRetryFromReset for the
 * retry_on match, then the budget (num_retries); the max_retries breaker
 * is the caller's, as it lives in shared memory.
 */
#include <stdbool.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "retry.h"

static bool
retry_code_listed(const struct cd_retry_policy *rp, uint16_t status)
{
	size_t i;

	for (i = 0; i < rp->rp_ncodes; i++)
		if (rp->rp_codes[i] == status)
			return true;
	return false;
}

bool
wrk_retry_on_matches(const struct cd_retry_policy *rp,
    enum wrk_try_result res, uint16_t status, uint32_t resp, bool req_sent)
{
	uint32_t on = rp->rp_retry_on;

	switch (res) {
	case WRK_TRY_RESPONSE:
		/* an upstream that says it rate limited the request: only
		 * envoy-ratelimited retries it, not 5xx or a status code */
		if (resp & WRK_RESP_F_RATELIMITED)
			return (on & CD_RETRY_ENVOY_RATELIMITED) != 0;
		if ((on & CD_RETRY_5XX) && status >= 500 && status <= 599)
			return true;
		if ((on & CD_RETRY_GATEWAY_ERROR) && status >= 502 &&
		    status <= 504)
			return true;
		if ((on & CD_RETRY_RETRIABLE_4XX) && status == 409)
			return true;
		if ((on & CD_RETRY_RETRIABLE_CODES) &&
		    retry_code_listed(rp, status))
			return true;
		return false;
	case WRK_TRY_CONNECT_FAIL:
		/* nothing was sent: reset-before-request matches too */
		return (on & (CD_RETRY_5XX | CD_RETRY_GATEWAY_ERROR |
		    CD_RETRY_RESET | CD_RETRY_CONNECT_FAILURE |
		    CD_RETRY_RESET_BEFORE_REQUEST)) != 0;
	case WRK_TRY_RESET:
	case WRK_TRY_PER_TRY_TIMEOUT:
		/* Envoy resets the stream on a per-try timeout and asks the
		 * same question as for a remote reset; refused-stream is an
		 * HTTP/2 reset and never happens here */
		if ((on & CD_RETRY_RESET_BEFORE_REQUEST) && !req_sent)
			return true;
		return (on & (CD_RETRY_5XX | CD_RETRY_GATEWAY_ERROR |
		    CD_RETRY_RESET)) != 0;
	case WRK_TRY_ROUTE_TIMEOUT:
	case WRK_TRY_OVERFLOW:
		return false;
	}
	return false;
}

enum wrk_retry_verdict
wrk_retry_decide(const struct cd_retry_policy *rp, enum wrk_try_result res,
    uint16_t status, uint32_t resp, bool resp_started, bool req_sent,
    uint32_t done, bool replayable)
{
	if (!rp->rp_set || resp_started ||
	    !wrk_retry_on_matches(rp, res, status, resp, req_sent))
		return WRK_RETRY_NO;
	/* Envoy drops the retry state when it abandons the buffer, so an
	 * abandoned request never counts as over its limit */
	if (!replayable)
		return WRK_RETRY_ABANDONED;
	if (done >= rp->rp_num_retries)
		return WRK_RETRY_LIMIT;
	return WRK_RETRY_YES;
}

static uint64_t
retry_ns_to_ms(int64_t ns)
{
	if (ns <= 0)
		return 0;
	return (uint64_t)CD_NS_TO_MS_CEIL(ns);
}

uint64_t
wrk_retry_backoff_ms(const struct cd_retry_policy *rp, uint32_t n,
    uint32_t rnd)
{
	uint64_t base = retry_ns_to_ms(rp->rp_backoff_base);
	uint64_t max = retry_ns_to_ms(rp->rp_backoff_max), mult, cap;

	if (base == 0)
		base = 1;
	if (max < base)
		max = base;
	if (n == 0)
		n = 1;
	/* (2^n - 1) x base, saturating at max without overflowing */
	mult = n >= 63 ? UINT64_MAX : ((uint64_t)1 << n) - 1;
	cap = mult > max / base ? max : mult * base;
	return (uint64_t)rnd % cap;
}

uint64_t
wrk_retry_per_try_ms(const struct cd_retry_policy *rp, uint64_t route_ms)
{
	uint64_t t;

	if (!rp->rp_set || rp->rp_per_try_timeout <= 0)
		return 0;
	t = retry_ns_to_ms(rp->rp_per_try_timeout);
	/* Envoy ignores a per-try timeout the route timeout cuts first */
	if (route_ms > 0 && t >= route_ms)
		return 0;
	return t;
}

int64_t
wrk_retry_expected_ms(uint64_t per_try_ms, uint64_t route_ms,
    uint64_t elapsed_ms)
{
	uint64_t t = per_try_ms > 0 ? per_try_ms : route_ms;

	if (t == 0)
		return -1;
	if (route_ms > 0) {
		if (elapsed_ms >= route_ms)
			return 1;	/* out of time; 0 would mean none */
		if (t > route_ms - elapsed_ms)
			t = route_ms - elapsed_ms;
	}
	return (int64_t)t;
}
