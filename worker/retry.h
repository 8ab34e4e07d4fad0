/*
 * Retry policy for the worker (canaryd-envoy(7), RETRIES): whether an attempt's outcome
 * may be retried under a route's retry_policy, Envoy's fully jittered
 * back-off, and the x-envoy-expected-rq-timeout-ms value of an attempt.
 * Pure functions over the configuration and plain numbers, so the
 * decision table is unit-tested without sockets; worker/conn.c applies
 * the verdicts (counters, breakers, timers).
 */
#ifndef CANARYD_WORKER_RETRY_H
#define CANARYD_WORKER_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/conf-t.h"

/* How one upstream attempt ended, before any response byte reached the
 * client. */
enum wrk_try_result {
	WRK_TRY_RESPONSE,	/* a final response head with a status */
	WRK_TRY_CONNECT_FAIL,	/* connect refused, failed or timed out */
	WRK_TRY_RESET,		/* closed, reset or garbled before the head */
	WRK_TRY_PER_TRY_TIMEOUT,	/* per_try_timeout fired */
	WRK_TRY_ROUTE_TIMEOUT,	/* the route timeout: never retried */
	WRK_TRY_OVERFLOW,	/* a circuit breaker refused: never retried */
};

/* What to do about it. */
enum wrk_retry_verdict {
	WRK_RETRY_NO,		/* not retriable: the outcome goes through */
	WRK_RETRY_YES,		/* retry (subject to the max_retries breaker) */
	WRK_RETRY_LIMIT,	/* retriable, but num_retries are used up */
	WRK_RETRY_ABANDONED,	/* retriable, but the request can't be
				 * replayed (body over the buffer limit) */
};

/*
 * What a response head says besides its status that retry_on looks at
 * (WRK_TRY_RESPONSE only), as bits.
 */
#define WRK_RESP_F_RATELIMITED	0x01	/* x-envoy-ratelimited is present */

/*
 * Does retry_on match this outcome?  status and resp (WRK_RESP_F_*) are
 * the response's for WRK_TRY_RESPONSE, ignored otherwise; req_sent:
 * request bytes went upstream on this attempt (reset-before-request only
 * fires without).  A response marked rate limited is retried only under
 * envoy-ratelimited, whatever its status, as Envoy does.
 */
bool		 wrk_retry_on_matches(const struct cd_retry_policy *,
		    enum wrk_try_result, uint16_t status, uint32_t resp,
		    bool req_sent);

/*
 * The verdict for an attempt's outcome.  resp_started: a response byte
 * went to the client already (then nothing is retried, and Envoy counts
 * nothing either); status, resp and req_sent as above; done: retries
 * already made for this request; replayable: the request can still be
 * sent again whole.
 */
enum wrk_retry_verdict wrk_retry_decide(const struct cd_retry_policy *,
		    enum wrk_try_result, uint16_t status, uint32_t resp,
		    bool resp_started, bool req_sent, uint32_t done,
		    bool replayable);

/*
 * Back-off in ms before retry n (1 for the first retry): uniform in
 * [0, min((2^n - 1) x base, max)) from rnd, a uniform 32-bit random
 * number (Envoy's JitteredExponentialBackOffStrategy).  base and max are
 * in ns (a sub-ms base counts as 1 ms, as Envoy rounds it up).
 */
uint64_t	 wrk_retry_backoff_ms(const struct cd_retry_policy *,
		    uint32_t n, uint32_t rnd);

/* The per-try timeout in ms that applies under route timeout route_ms
 * (0 = none): 0 when unset, or when not shorter than the route's. */
uint64_t	 wrk_retry_per_try_ms(const struct cd_retry_policy *,
		    uint64_t route_ms);

/*
 * x-envoy-expected-rq-timeout-ms for an attempt: the per-try timeout if
 * one applies, else the route timeout, clipped to what is left of the
 * route timeout after elapsed ms (at least 1); -1 when neither is set.
 */
int64_t		 wrk_retry_expected_ms(uint64_t per_try_ms, uint64_t route_ms,
		    uint64_t elapsed_ms);

#endif /* CANARYD_WORKER_RETRY_H */
