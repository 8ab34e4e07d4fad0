/*
 * Mirrored requests; see shadow.h.
 *
 * A shadow is PENDING (on its request's list, its head written), then
 * CONNECT (a new connection is coming up), SEND, RECV, and freed.  It
 * holds breaker units as a request does (shared with conn_attempt.c's
 * rules): max_pending_requests while it waits for its connection,
 * max_requests while attached; both are given back, and every gauge
 * taken, exactly once in sw_free().
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/alog.h"
#include "shared/clock.h"
#include "shared/hist.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "breaker.h"
#include "mem.h"
#include "shadow.h"
#include "timer.h"
#include "upstream.h"
#include "wrk.h"

#define SW_MAXHDRS	128		/* response headers parsed */
#define SW_HDR_LIMIT	(64 * 1024)	/* their bytes */
#define SW_SUFFIX	"-shadow"

enum sw_state {
	SW_PENDING,		/* waiting for the request's body */
	SW_CONNECT,		/* new connection coming up */
	SW_SEND,		/* writing the request */
	SW_RECV,		/* reading the response, to drop it */
};

struct wrk_shadow {
	struct wrk_ups_owner	 sw_uo;
	struct wrk_ups		*sw_ups;
	struct wrk_buf		*sw_out;	/* head, then body */
	uint32_t		 sw_off;	/* bytes of sw_out written */
	struct wrk_buf		*sw_in;		/* response bytes */
	uint32_t		 sw_parsed;
	struct wrk_timer	 sw_timer;	/* the route's timeout */
	uint64_t		 sw_timeout;	/* ms; 0: none */
	uint64_t		 sw_sent_us;	/* request written (monotonic) */
	struct wrk_breaker_hold	 sw_bh;
	int			 sw_cluster;
	int			 sw_hidx;
	struct shm_host		 sw_host;
	uint8_t			 sw_state;	/* enum sw_state */
	bool			 sw_head;	/* HEAD: no response body */
	struct wrk_shadow	*sw_next;	/* its request's list */
	struct http1		 sw_rp;
	struct http1_hdr	 sw_hdrs[SW_MAXHDRS];
};

#define SW_OF_TIMER(t)	((struct wrk_shadow *)(void *)((char *)(t) -	\
	offsetof(struct wrk_shadow, sw_timer)))

static struct wrk_slab	 sw_slab;
static bool		 sw_slab_ready;
static uint32_t		 sw_count;
/* requests each fraction saw, by rf_index: the exact share's position */
static uint64_t		*sw_seq;	/* per runtime_fraction index */
static size_t		 sw_nseq;

static void	sw_ready(void *);
static void	sw_failed(void *, int);
static void	sw_event(void *, uint32_t);
static void	sw_wake(void *);
static void	sw_timeout(struct wrk_timer *);

static const struct wrk_ups_cb sw_cb = {
	.uc_ready = sw_ready,
	.uc_failed = sw_failed,
	.uc_event = sw_event,
	.uc_wake = sw_wake,
};

bool
wrk_shadow_pick(const struct cd_mirror *mp)
{
	const struct cd_fraction *rf = &mp->mp_fraction;
	uint64_t v, n;
	uint32_t num, den;

	if (!rf->rf_set)
		return true;
	v = atomic_load_explicit(shm_fraction(wrk.w_shm,
	    wrk.w_place->pl_fraction[rf->rf_index]), memory_order_relaxed);
	num = v != 0 ? (uint32_t)(v >> 32) : rf->rf_numerator;
	den = v != 0 ? (uint32_t)v : rf->rf_denominator;
	if (den == 0 || num == 0)
		return false;
	if (num >= den)
		return true;
	if ((size_t)rf->rf_index >= sw_nseq) {
		/* one counter per fraction of this worker's configuration */
		sw_nseq = wrk.w_conf->c_nfractions;
		if ((sw_seq = calloc(sw_nseq ? sw_nseq : 1,
		    sizeof(*sw_seq))) == NULL)
			fatal("calloc");
	}
	/* the n-th request is taken when it crosses a multiple of D/N */
	n = sw_seq[rf->rf_index]++ % den;
	return (n + 1) * num / den > n * num / den;
}

uint32_t
wrk_shadow_count(void)
{
	return sw_count;
}

/* Give back the units and gauges sw holds (once each). */
static void
sw_unhold(struct wrk_shadow *sw)
{
	int ci = sw->sw_cluster;

	wrk_ups_unwait(&sw->sw_uo);
	if (wrk_breaker_hold_give(&sw->sw_bh, SHM_CB_PENDING))
		WRK_CG(ci, CG_RQ_PENDING_ACTIVE, -1);
	if (wrk_breaker_hold_give(&sw->sw_bh, SHM_CB_RQ)) {
		WRK_CG(ci, CG_RQ_ACTIVE, -1);
		WRK_HOG(ci, sw->sw_hidx, HOG_RQ_ACTIVE, -1);
	}
}

/* The end of sw, whatever it came to; its connection is gone already
 * (pooled or closed) or is closed here. */
static void
sw_free(struct wrk_shadow *sw)
{
	sw_unhold(sw);
	if (sw->sw_ups != NULL)
		wrk_ups_close(sw->sw_ups, false);
	wrk_timer_del(&sw->sw_timer);
	wrk_buf_put(sw->sw_out);
	wrk_buf_put(sw->sw_in);
	wrk_slab_put(&sw_slab, sw);
	sw_count--;
}

/*
 * The host value with Envoy's shadow suffix: "name-shadow", or
 * "name-shadow:port" (an IPv6 literal keeps its brackets before it).
 * Its length, written to out (room for h + the suffix).
 */
static size_t
sw_host(char *out, const char *h, size_t n)
{
	const char *colon = memrchr(h, ':', n), *rb = memrchr(h, ']', n);
	size_t at = n, sl = sizeof(SW_SUFFIX) - 1;

	if (colon != NULL && (rb == NULL || colon > rb))
		at = (size_t)(colon - h);
	memcpy(out, h, at);
	memcpy(out + at, SW_SUFFIX, sl);
	memcpy(out + at + sl, h + at, n - at);
	return n + sl;
}

bool
wrk_shadow_new(struct wrk_shadow **list, const struct cd_mirror *mp,
    const struct cd_route *rt, const char *uhead, size_t ulen,
    bool head_method)
{
	struct wrk_shadow *sw;
	struct alog_str v;
	struct wrk_buf *b;
	size_t need, vo = ulen, vl = 0, hl, n;
	const char *nh = NULL;

	if (!sw_slab_ready) {
		wrk_slab_init(&sw_slab, "shadow", sizeof(struct wrk_shadow), 16);
		sw_slab_ready = true;
	}
	if (alog_header(uhead, ulen, "host", &v)) {
		vo = (size_t)(v.a_p - uhead);
		vl = v.a_len;
	}
	if (mp->mp_host != NULL) {
		nh = mp->mp_host;
		hl = strlen(nh);
	} else
		hl = mp->mp_no_suffix ? vl : vl + sizeof(SW_SUFFIX) - 1;
	need = ulen - vl + hl;
	b = need <= WRK_BUF_SMALL ? wrk_buf_get() : wrk_buf_get_sized(
	    (uint32_t)need);
	if (b == NULL || (sw = wrk_slab_get(&sw_slab)) == NULL) {
		wrk_buf_put(b);
		return false;
	}
	memset(sw, 0, offsetof(struct wrk_shadow, sw_rp));
	memcpy(b->b_data, uhead, vo);
	n = vo;
	if (nh != NULL)
		memcpy(b->b_data + n, nh, hl);
	else if (mp->mp_no_suffix || vl == 0)
		memcpy(b->b_data + n, uhead + vo, vl);
	else
		hl = sw_host(b->b_data + n, uhead + vo, vl);
	n += hl;
	memcpy(b->b_data + n, uhead + vo + vl, ulen - vo - vl);
	b->b_len = (uint32_t)(n + ulen - vo - vl);
	sw->sw_out = b;
	sw->sw_cluster = mp->mp_cluster;
	sw->sw_hidx = -1;
	sw->sw_head = head_method;
	sw->sw_timeout = wrk_ns_ms(rt->rt_timeout);
	sw->sw_state = SW_PENDING;
	wrk_ups_owner_init(&sw->sw_uo, &sw_cb, sw);
	wrk_timer_init(&sw->sw_timer, sw_timeout);
	sw->sw_next = *list;
	*list = sw;
	sw_count++;
	return true;
}

void
wrk_shadow_drop_all(struct wrk_shadow **list)
{
	struct wrk_shadow *sw;

	while ((sw = *list) != NULL) {
		*list = sw->sw_next;
		sw_free(sw);
	}
}

/* Write what is left of the request; false when sw was freed. */
static bool
sw_send(struct wrk_shadow *sw)
{
	struct wrk_ups *u = sw->sw_ups;
	struct wrk_buf *b = sw->sw_out;
	ssize_t n;

	while (sw->sw_off < b->b_len) {
		n = write(u->u_ev.ev_fd, b->b_data + sw->sw_off,
		    b->b_len - sw->sw_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			u->u_ev.ev_wready = 0;
			return true;
		}
		if (n <= 0) {
			WRK_CC(sw->sw_cluster, CC_RQ_TX_RESET);
			sw_free(sw);
			return false;
		}
		WRK_CC_N(sw->sw_cluster, CC_CX_TX_BYTES, (uint64_t)n);
		sw->sw_off += (uint32_t)n;
	}
	sw->sw_state = SW_RECV;
	sw->sw_sent_us = cd_mono_us();
	wrk_buf_put(sw->sw_out);
	sw->sw_out = NULL;
	http1_init(&sw->sw_rp, HTTP1_RESPONSE, sw->sw_hdrs, SW_MAXHDRS,
	    SW_HDR_LIMIT);
	if (sw->sw_head)
		http1_set_nobody(&sw->sw_rp);
	return true;
}

/* The response is complete: its figures, then the connection back to
 * the pool when it can carry another request. */
static void
sw_done(struct wrk_shadow *sw, bool eof)
{
	struct wrk_ups *u = sw->sw_ups;
	int ci = sw->sw_cluster;
	uint64_t now = cd_mono_us();

	hist_record(wrk.w_shm, wrk.w_slot, WRK_SLOT_CL(ci),
	    now > sw->sw_sent_us ? now - sw->sw_sent_us : 0);
	sw_unhold(sw);
	sw->sw_ups = NULL;
	if (!eof && !u->u_ev.ev_rdhup && http1_keep_alive(&sw->sw_rp) &&
	    sw->sw_in != NULL && sw->sw_parsed == sw->sw_in->b_len)
		wrk_ups_release(u);
	else
		wrk_ups_close(u, eof);
	sw_free(sw);
}

/* A final response head: count its status in the cluster's figures. */
static void
sw_status(struct wrk_shadow *sw, uint16_t st)
{
	int ci = sw->sw_cluster;

	if (st >= CD_CODE_MIN && st <= CD_CODE_MAX)
		WRK_CODE(ci, st);
	WRK_HOC(ci, sw->sw_hidx, st >= 500 ? HOC_RQ_ERROR : HOC_RQ_SUCCESS);
}

/* Parse what sw_in holds; false when sw was freed. */
static bool
sw_parse(struct wrk_shadow *sw)
{
	struct wrk_buf *in = sw->sw_in;
	enum http1_ev ev;
	uint32_t used;
	uint16_t st;

	while (sw->sw_parsed < in->b_len) {
		ev = http1_feed(&sw->sw_rp, in->b_data, sw->sw_parsed,
		    in->b_len - sw->sw_parsed, &used);
		sw->sw_parsed += used;
		switch (ev) {
		case HTTP1_HEAD:
			st = http1_status(&sw->sw_rp);
			if (st >= 100 && st < 200) {
				/* an interim response: the final one follows */
				http1_init(&sw->sw_rp, HTTP1_RESPONSE,
				    sw->sw_hdrs, SW_MAXHDRS, SW_HDR_LIMIT);
				if (sw->sw_head)
					http1_set_nobody(&sw->sw_rp);
				break;
			}
			sw_status(sw, st);
			break;
		case HTTP1_DONE:
			sw_done(sw, false);
			return false;
		case HTTP1_ERROR:
			WRK_CC(sw->sw_cluster, CC_CX_PROTOCOL_ERROR);
			sw_free(sw);
			return false;
		default:
			if (used == 0)
				return true;
			break;
		}
	}
	/* the body is dropped as it comes; a head must fit the buffer */
	if (sw->sw_rp.h_flags & HTTP1_F_HEAD)
		in->b_len = sw->sw_parsed = 0;
	return true;
}

/* Read and drop the response; false when sw was freed. */
static bool
sw_recv(struct wrk_shadow *sw)
{
	struct wrk_ups *u = sw->sw_ups;
	struct wrk_buf *in;
	ssize_t n;

	if (sw->sw_in == NULL && (sw->sw_in = wrk_buf_get()) == NULL) {
		sw_free(sw);
		return false;
	}
	in = sw->sw_in;
	while (u->u_ev.ev_rready) {
		if (in->b_len == in->b_size) {
			/* a head larger than a buffer */
			WRK_CC(sw->sw_cluster, CC_CX_PROTOCOL_ERROR);
			sw_free(sw);
			return false;
		}
		n = read(u->u_ev.ev_fd, in->b_data + in->b_len,
		    in->b_size - in->b_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			u->u_ev.ev_rready = 0;
			return true;
		}
		if (n <= 0) {
			if (n == 0 && http1_eof(&sw->sw_rp) == HTTP1_DONE) {
				sw_done(sw, true);
				return false;
			}
			WRK_CC(sw->sw_cluster, CC_RQ_RX_RESET);
			sw_free(sw);
			return false;
		}
		WRK_CC_N(sw->sw_cluster, CC_CX_RX_BYTES, (uint64_t)n);
		if ((size_t)n < in->b_size - in->b_len)
			wrk_ev_short_read(&u->u_ev);
		in->b_len += (uint32_t)n;
		if (!sw_parse(sw))
			return false;
	}
	return true;
}

/* Move sw on as far as its socket lets it. */
static void
sw_pump(struct wrk_shadow *sw)
{
	if (sw->sw_state == SW_SEND && !sw_send(sw))
		return;
	if (sw->sw_state == SW_RECV)
		(void)sw_recv(sw);
}

/* sw has a connection: take its max_requests unit and send. */
static void
sw_attach(struct wrk_shadow *sw)
{
	int ci = sw->sw_cluster;

	if (!wrk_breaker_hold_take(&sw->sw_bh, ci, SHM_CB_RQ)) {
		WRK_CC(ci, CC_RQ_PENDING_OVERFLOW);
		wrk_ups_release(sw->sw_ups);
		sw->sw_ups = NULL;
		sw_free(sw);
		return;
	}
	if (wrk_breaker_hold_give(&sw->sw_bh, SHM_CB_PENDING))
		WRK_CG(ci, CG_RQ_PENDING_ACTIVE, -1);
	WRK_CC(ci, CC_RQ_TOTAL);
	WRK_CC(ci, CC_CANARY_SHADOW);
	WRK_CG(ci, CG_RQ_ACTIVE, 1);
	WRK_HOC(ci, sw->sw_hidx, HOC_RQ_TOTAL);
	WRK_HOG(ci, sw->sw_hidx, HOG_RQ_ACTIVE, 1);
	sw->sw_state = SW_SEND;
	sw_pump(sw);
}

/* Off on its own: a host, a connection, the request. */
static void
sw_start(struct wrk_shadow *sw)
{
	int ci = sw->sw_cluster, err;
	struct wrk_ups *u;

	if ((sw->sw_hidx = wrk_ups_pick_host(ci, &sw->sw_host, NULL, NULL)) < 0) {
		WRK_CC(ci, CC_CX_NONE_HEALTHY);
		sw_free(sw);
		return;
	}
	if (wrk_breaker_full(ci, SHM_CB_RQ) ||
	    !wrk_breaker_hold_take(&sw->sw_bh, ci, SHM_CB_PENDING)) {
		WRK_CC(ci, CC_RQ_PENDING_OVERFLOW);
		sw_free(sw);
		return;
	}
	WRK_CC(ci, CC_RQ_PENDING_TOTAL);
	WRK_CG(ci, CG_RQ_PENDING_ACTIVE, 1);
	if (sw->sw_timeout > 0)
		wrk_timer_set(&sw->sw_timer, wrk.w_now + sw->sw_timeout);
	if ((u = wrk_ups_pooled(&sw->sw_uo, ci, sw->sw_hidx,
	    &sw->sw_host)) != NULL) {
		sw->sw_ups = u;
		sw_attach(sw);
		return;
	}
	switch (wrk_ups_connect(&sw->sw_uo, ci, sw->sw_hidx, &sw->sw_host,
	    &u, &err)) {
	case CD_OK:
		sw->sw_ups = u;
		sw->sw_state = SW_CONNECT;
		return;
	case CD_AGAIN:
		/* a shadow does not wait for a connection slot */
		sw_free(sw);
		return;
	default:
		log_debug("shadow %s: connect: %s",
		    wrk.w_conf->c_clusters[ci].cl_name, strerror(err));
		WRK_CC(ci, CC_RQ_PENDING_FAILURE_EJECT);
		sw_free(sw);
		return;
	}
}

void
wrk_shadow_send_all(struct wrk_shadow **list, const char *body, size_t n)
{
	struct wrk_shadow *sw;
	struct wrk_buf *b, *nb;

	while ((sw = *list) != NULL) {
		*list = sw->sw_next;
		sw->sw_next = NULL;
		b = sw->sw_out;
		if (n > b->b_size - b->b_len) {
			if ((nb = wrk_buf_get_sized(b->b_len + (uint32_t)n)) ==
			    NULL) {
				sw_free(sw);
				continue;
			}
			memcpy(nb->b_data, b->b_data, b->b_len);
			nb->b_len = b->b_len;
			wrk_buf_put(b);
			b = sw->sw_out = nb;
		}
		memcpy(b->b_data + b->b_len, body, n);
		b->b_len += (uint32_t)n;
		sw_start(sw);
	}
}

/* The pool's uc_ready: the new connection is up. */
static void
sw_ready(void *data)
{
	sw_attach(data);
}

/* The pool's uc_failed: it closed the connection already. */
static void
sw_failed(void *data, int err)
{
	struct wrk_shadow *sw = data;

	(void)err;
	sw->sw_ups = NULL;
	WRK_CC(sw->sw_cluster, CC_RQ_PENDING_FAILURE_EJECT);
	sw_free(sw);
}

static void
sw_event(void *data, uint32_t events)
{
	(void)events;
	sw_pump(data);
}

/* A shadow never waits on a queue: nothing to look at again. */
static void
sw_wake(void *data)
{
	(void)data;
}

/* The route's timeout: the shadow is abandoned, its connection closed. */
static void
sw_timeout(struct wrk_timer *t)
{
	struct wrk_shadow *sw = SW_OF_TIMER(t);

	WRK_CC(sw->sw_cluster, CC_RQ_TIMEOUT);
	if (sw->sw_hidx >= 0)
		WRK_HOC(sw->sw_cluster, sw->sw_hidx, HOC_RQ_TIMEOUT);
	sw_free(sw);
}
