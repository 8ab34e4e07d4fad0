/*
 * The HTTP filters before the router (canaryd.yaml(5), HTTP FILTERS):
 * cors, fault and local_ratelimit, run on a request's head once its
 * route is matched and before the router acts on it, in the order of the
 * connection manager's http_filters, each with the configuration that
 * applies on the route (struct cd_hf, set by the loader).
 *
 * A filter may answer the request (a CORS preflight, a fault's abort, a
 * rate limit), delay it (a fault's delay: the connection waits in
 * BACKOFF, conn_filter_delay_over() takes it on), or note what the
 * response gets (the CORS headers, conn_filter_resp_lines()).  A route
 * no filter applies on costs one test of rt_hf (conn_head.c).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/alog.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "conn-int.h"
#include "hdr.h"
#include "router.h"
#include "wrk.h"

#define FAULT_ABORT_BODY	"fault filter abort"
#define RATE_LIMITED_BODY	"local_rate_limited"
#define CORS_LINES_MAX		2048	/* CORS lines of one response */

/* Does share p take this request?  (0 % when unset.) */
static bool
filter_pct(const struct cd_pct *p)
{
	if (p->pc_den == 0 || p->pc_num == 0)
		return false;
	if (p->pc_num >= p->pc_den)
		return true;
	return wrk_hdr_random() % p->pc_den < p->pc_num;
}

/* The value of r's request header name (a slice of base), or NULL. */
static const char *
filter_hdr(const struct wrk_req *r, const char *base, const char *name,
    size_t *len)
{
	uint16_t i;

	for (i = 0; i < r->rq_p.h_nhdrs; i++)
		if (wrk_hdr_eq(base, r->rq_hdrs[i].h_name, name)) {
			*len = r->rq_hdrs[i].h_value.s_len;
			return base + r->rq_hdrs[i].h_value.s_off;
		}
	return NULL;
}

/* A header's value as a number in [0, max], or -1. */
static int64_t
filter_hdr_num(const struct wrk_req *r, const char *base, const char *name,
    int64_t max)
{
	const char *s;
	size_t len, i;
	int64_t v = 0;

	if ((s = filter_hdr(r, base, name, &len)) == NULL || len == 0 ||
	    len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* ---- local_ratelimit --------------------------------------------------- */

/* The extra lines of the rate limit's reply (response_headers_to_add),
 * in w_scratch; NULL for none. */
static const char *
lrl_lines(const struct cd_lrl *lr)
{
	char *out = wrk.w_scratch;
	size_t cap = wrk.w_scratch_len / 2, len = 0, i;
	int n;

	if (lr->lr_resp.ho_nadd == 0)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < lr->lr_resp.ho_nadd; i++) {
		n = snprintf(out + len, cap - len, "%s: %s\r\n",
		    lr->lr_resp.ho_add[i].ha_name,
		    lr->lr_resp.ho_add[i].ha_value);
		if (n < 0 || (size_t)n >= cap - len) {
			out[len] = '\0';
			break;
		}
		len += (size_t)n;
	}
	return out;
}

/* true: the request goes on; false: it was answered. */
static bool
filter_lrl(struct wrk_conn *c, struct wrk_req *r, const struct cd_lrl *lr)
{
	struct shm_ratelimit *rl = shm_ratelimit(wrk.w_shm,
	    wrk.w_place->pl_ratelimit[lr->lr_index]);

	if (!filter_pct(&lr->lr_enabled))
		return true;
	shm_add(&rl->rl_c[SHM_RL_ENABLED], 1);
	if (shm_ratelimit_take(rl, lr->lr_tb.tb_max_tokens,
	    lr->lr_tb.tb_tokens_per_fill,
	    (uint64_t)CD_NS_TO_MS_CEIL(lr->lr_tb.tb_fill_interval),
	    wrk.w_now)) {
		shm_add(&rl->rl_c[SHM_RL_OK], 1);
		return true;
	}
	shm_add(&rl->rl_c[SHM_RL_RATE_LIMITED], 1);
	if (!filter_pct(&lr->lr_enforced))
		return true;
	shm_add(&rl->rl_c[SHM_RL_ENFORCED], 1);
	r->rq_rflags |= ALOG_RF_RL;
	conn_reply_x(c, r, lr->lr_status, RATE_LIMITED_BODY,
	    sizeof(RATE_LIMITED_BODY) - 1, lrl_lines(lr));
	return false;
}

/* ---- fault ------------------------------------------------------------- */

/* The share of a fault: the configured one, lowered by the request's
 * header where the fault is header-driven. */
static bool
fault_pick(const struct wrk_req *r, const char *base, struct cd_pct p,
    bool by_header, const char *pct_hdr)
{
	int64_t h;

	if (by_header && (h = filter_hdr_num(r, base, pct_hdr,
	    UINT32_MAX)) >= 0 && (uint64_t)h < p.pc_num)
		p.pc_num = (uint32_t)h;
	return filter_pct(&p);
}

enum filter_rc {
	FILTER_GO,	/* on to the next filter, then the router */
	FILTER_DONE,	/* answered, or waiting to be */
};

/* The fault filter: an abort status in *abort_st and a delay in *delay
 * (ms), each 0 for none. */
static void
filter_fault_pick(const struct wrk_req *r, const char *base,
    const struct cd_fault *ft, uint16_t *abort_st, uint64_t *delay)
{
	int64_t v;

	*abort_st = 0;
	*delay = 0;
	if (ft->ft_delay && fault_pick(r, base, ft->ft_delay_pct,
	    ft->ft_delay_ns < 0, "x-envoy-fault-delay-request-percentage")) {
		if (ft->ft_delay_ns >= 0)
			*delay = (uint64_t)CD_NS_TO_MS_CEIL(ft->ft_delay_ns);
		else if ((v = filter_hdr_num(r, base,
		    "x-envoy-fault-delay-request", INT32_MAX)) > 0)
			*delay = (uint64_t)v;
	}
	if (ft->ft_abort && fault_pick(r, base, ft->ft_abort_pct,
	    ft->ft_abort_status == 0,
	    "x-envoy-fault-abort-request-percentage")) {
		if (ft->ft_abort_status != 0)
			*abort_st = ft->ft_abort_status;
		else if ((v = filter_hdr_num(r, base,
		    "x-envoy-fault-abort-request", 599)) >= 200)
			*abort_st = (uint16_t)v;
	}
}

static enum filter_rc
filter_fault(struct wrk_conn *c, struct wrk_req *r, const char *base,
    const struct cd_fault *ft)
{
	uint16_t st;
	uint64_t delay;
	int64_t active;

	filter_fault_pick(r, base, ft, &st, &delay);
	if (st == 0 && delay == 0)
		return FILTER_GO;
	if (ft->ft_has_max && (active = shm_sum_http_g(wrk.w_shm,
	    c->c_lsn->ls_tag, HG_FAULT_ACTIVE)) >= 0 && (uint64_t)active >= ft->ft_max_active) {
		WRK_HC(c, HC_FAULT_OVERFLOW);
		return FILTER_GO;
	}
	r->rq_flags |= RQ_F_FAULT | RQ_F_FILT;
	WRK_HG(c, HG_FAULT_ACTIVE, 1);
	if (delay > 0) {
		WRK_HC(c, HC_FAULT_DELAYS);
		r->rq_rflags |= ALOG_RF_DI;
		r->rq_fault_abort = st;
		r->rq_flags |= RQ_F_FAULT_DELAY;
		r->rq_backoff_dl = wrk.w_now + delay;
		/* the router goes on after the delay (or the abort is sent) */
		return st != 0 ? FILTER_DONE : FILTER_GO;
	}
	WRK_HC(c, HC_FAULT_ABORTS);
	r->rq_rflags |= ALOG_RF_FI;
	conn_reply(c, r, st, FAULT_ABORT_BODY, sizeof(FAULT_ABORT_BODY) - 1);
	return FILTER_DONE;
}

/* ---- cors -------------------------------------------------------------- */

static bool
cors_allowed(const struct cd_cors *co, const char *o, size_t len)
{
	size_t i;

	for (i = 0; i < co->co_norigins; i++)
		if (wrk_router_str_match(&co->co_origins[i], "*", 1,
		    wrk.w_scratch, wrk.w_scratch_len) ||
		    wrk_router_str_match(&co->co_origins[i], o, len,
		    wrk.w_scratch, wrk.w_scratch_len))
			return true;
	return false;
}

/* "name: value\r\n" at out[*len] when value is set (cap bytes in all). */
static void
cors_line(char *out, size_t cap, size_t *len, const char *name,
    const char *v, size_t vlen)
{
	int n;

	if (v == NULL || vlen == 0 || *len >= cap)
		return;
	n = snprintf(out + *len, cap - *len, "%s: %.*s\r\n", name, (int)vlen,
	    v);
	if (n > 0 && (size_t)n < cap - *len)
		*len += (size_t)n;
	else
		out[*len] = '\0';
}

#define CORS_SL(s)	(s), ((s) != NULL ? strlen(s) : 0)

/* The preflight's answer: 200 with the policy's headers. */
static void
cors_preflight(struct wrk_conn *c, struct wrk_req *r, const struct cd_cors *co,
    const char *o, size_t olen)
{
	char *out = wrk.w_scratch;
	size_t cap = CORS_LINES_MAX, len = 0;

	out[0] = '\0';
	cors_line(out, cap, &len, "access-control-allow-origin", o, olen);
	if (co->co_credentials)
		cors_line(out, cap, &len, "access-control-allow-credentials",
		    "true", 4);
	cors_line(out, cap, &len, "access-control-allow-methods",
	    CORS_SL(co->co_methods));
	cors_line(out, cap, &len, "access-control-allow-headers",
	    CORS_SL(co->co_headers));
	cors_line(out, cap, &len, "access-control-max-age",
	    CORS_SL(co->co_max_age));
	conn_reply_x(c, r, 200, NULL, 0, len > 0 ? out : NULL);
}

static enum filter_rc
filter_cors(struct wrk_conn *c, struct wrk_req *r, const char *base,
    const struct cd_cors *co)
{
	const char *o, *m;
	size_t olen, mlen = 0;
	bool enabled, allowed, preflight;

	enabled = filter_pct(&co->co_enabled);
	if ((!enabled && !filter_pct(&co->co_shadow)) ||
	    (o = filter_hdr(r, base, "origin", &olen)) == NULL || olen == 0)
		return FILTER_GO;
	allowed = cors_allowed(co, o, olen);
	WRK_HC(c, allowed ? HC_CORS_ORIGIN_VALID : HC_CORS_ORIGIN_INVALID);
	if (!enabled)
		return FILTER_GO;
	preflight = http1_method(&r->rq_p) != NULL &&
	    strcmp(http1_method(&r->rq_p), "OPTIONS") == 0 &&
	    (m = filter_hdr(r, base, "access-control-request-method",
	    &mlen)) != NULL && mlen > 0;
	if (!allowed) {
		if (preflight && !co->co_forward_preflights) {
			conn_reply_x(c, r, 200, NULL, 0, NULL);
			return FILTER_DONE;
		}
		return FILTER_GO;
	}
	if (preflight) {
		cors_preflight(c, r, co, o, olen);
		return FILTER_DONE;
	}
	/* an actual request: its response gets the headers */
	free(r->rq_cors);
	if ((r->rq_cors = malloc(olen + 1)) != NULL) {
		memcpy(r->rq_cors, o, olen);
		r->rq_cors[olen] = '\0';
		r->rq_cors_co = co;
		r->rq_flags |= RQ_F_FILT;
	}
	return FILTER_GO;
}

size_t
conn_filter_resp_lines(const struct wrk_req *r, char *out, size_t cap)
{
	const struct cd_cors *co = r->rq_cors_co;
	size_t len = 0;

	if (r->rq_cors == NULL || cap == 0)
		return 0;
	out[0] = '\0';
	cors_line(out, cap, &len, "access-control-allow-origin",
	    CORS_SL(r->rq_cors));
	if (co->co_credentials)
		cors_line(out, cap, &len, "access-control-allow-credentials",
		    "true", 4);
	cors_line(out, cap, &len, "access-control-expose-headers",
	    CORS_SL(co->co_expose));
	return len;
}

bool
conn_filter_resp_name(const struct wrk_req *r, const char *base,
    struct http1_slice name)
{
	return r->rq_cors != NULL &&
	    (wrk_hdr_eq(base, name, "access-control-allow-origin") ||
	    wrk_hdr_eq(base, name, "access-control-allow-credentials") ||
	    wrk_hdr_eq(base, name, "access-control-expose-headers"));
}

/* ---- the chain ----------------------------------------------------------- */

bool
conn_filters_decode(struct wrk_conn *c, struct wrk_req *r, const char *base)
{
	const struct cd_hf *hf = r->rq_route->rt_hf;
	const struct cd_listener *l = WRK_L(c);
	enum filter_rc rc = FILTER_GO;
	size_t i;

	for (i = 0; i < l->l_nhf && rc == FILTER_GO; i++) {
		if (!(hf->hf_on & (1u << l->l_hf_order[i])))
			continue;
		switch (l->l_hf_order[i]) {
		case CD_HF_CORS:
			rc = filter_cors(c, r, base, hf->hf_cors);
			break;
		case CD_HF_FAULT:
			rc = filter_fault(c, r, base, hf->hf_fault);
			break;
		case CD_HF_LRL:
			rc = filter_lrl(c, r, hf->hf_lrl) ? FILTER_GO :
			    FILTER_DONE;
			break;
		case CD_HF_COMPRESSOR:
			conn_gz_request(r, base);
			break;
		}
		/* a delay holds the rest of the chain back in Envoy; here
		 * the filters after it run now, before the wait */
	}
	if (rc == FILTER_DONE && (r->rq_flags & RQ_F_FAULT_DELAY) &&
	    !(r->rq_flags & RQ_F_RESP_HEAD)) {
		/* delay, then the fault's abort */
		conn_set_state(c, CONN_S_BACKOFF);
		conn_req_timer_sync(r);
	}
	return rc == FILTER_GO;
}

void
conn_filter_delay_over(struct wrk_conn *c, struct wrk_req *r)
{
	uint16_t st = r->rq_fault_abort;

	r->rq_flags &= ~RQ_F_FAULT_DELAY;
	if (st != 0) {
		WRK_HC(c, HC_FAULT_ABORTS);
		r->rq_rflags |= ALOG_RF_FI;
		conn_reply(c, r, st, FAULT_ABORT_BODY,
		    sizeof(FAULT_ABORT_BODY) - 1);
		return;
	}
	conn_attempt(c, r, false);
}

void
conn_filter_free(struct wrk_req *r)
{
	if (r->rq_flags & RQ_F_FAULT)
		WRK_HG(r->rq_conn, HG_FAULT_ACTIVE, -1);
	free(r->rq_cors);
	r->rq_cors = NULL;
	conn_gz_free(r);
}
