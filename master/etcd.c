/*
 * The etcd client's connections, calls, watches and failover (see
 * etcd.h; the codec is etcd_json.c).
 *
 * A connection is a small state machine (enum ec_state) that carries one
 * call at a time: connect, send the whole request, read the whole answer
 * (shared/http1.h in collect mode de-chunks it into c_body), hand it to
 * the codec, keep the connection for the next call when HTTP allows.  A
 * watch owns one connection whose answer never ends: its body goes
 * through the line splitter, one JSON message a line.
 *
 * Invariants: a callback is never called from inside a public call (work
 * that may fail is started from a 0 ms timer, e_kick); every connection
 * has a timer while a call or a watch start is in flight; a failure
 * counts towards the endpoint switch only if the connection belongs to
 * the current endpoint (c_gen == e_gen), so the stragglers of an endpoint
 * already left cannot push the client off the next one.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/buf.h"
#include "shared/cd-t.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "etcd.h"

#define EC_IN_MIN	16384
#define EC_HEAD_MAX	65536
#define EC_MAXHDRS	64
#define EC_URL_MAX	256
#define EC_BACKOFF_MIN_MS 100
#define EC_BACKOFF_MAX_MS 2000

struct ec_endpoint {
	char		 ep_url[EC_URL_MAX];
	char		 ep_host[EC_URL_MAX];	/* Host header: host:port */
	struct sockaddr_storage ep_sa;
	socklen_t	 ep_salen;
};

enum ec_state {
	EC_S_CLOSED,	/* no socket */
	EC_S_CONNECT,	/* non-blocking connect in progress */
	EC_S_SEND,	/* writing the request */
	EC_S_RECV,	/* reading the answer, or a watch's stream */
	EC_S_IDLE,	/* keep-alive, no call */
};

struct ec_req {
	TAILQ_ENTRY(ec_req) rq_entry;
	enum mst_etcd_call rq_call;
	int64_t		 rq_floor;	/* highest revision seen when sent */
	char		*rq_body;
	mst_etcd_cb	*rq_cb;
	void		*rq_arg;
};
TAILQ_HEAD(ec_reqs, ec_req);

struct ec_conn {
	struct mst_etcd	*c_e;
	int		 c_fd;
	enum ec_state	 c_state;
	uint64_t	 c_gen;		/* endpoint generation at connect */
	struct ec_req	*c_req;		/* the call in flight (pool) */
	struct mst_etcd_watch *c_watch;	/* the watch it serves, or NULL */
	void		*c_timer;
	struct buf	 c_out;		/* request bytes */
	size_t		 c_outoff;
	char		*c_in;		/* bytes read, [c_inoff, c_inlen) new */
	size_t		 c_inlen;
	size_t		 c_incap;
	size_t		 c_inoff;
	struct http1	 c_h1;
	struct http1_hdr c_hdrs[EC_MAXHDRS];
	bool		 c_head;	/* the answer's head is parsed */
	struct buf	 c_body;	/* de-chunked answer (pool) */
};

struct mst_etcd_watch {
	TAILQ_ENTRY(mst_etcd_watch) w_entry;
	struct mst_etcd	*w_e;
	char		*w_key;
	size_t		 w_klen;
	char		*w_end;		/* NULL: the key alone */
	size_t		 w_elen;
	int64_t		 w_next_rev;	/* where a restart begins; 0: now */
	bool		 w_up;		/* "created" seen on this stream */
	bool		 w_reported;	/* the stream's end was reported */
	bool		 w_over;	/* compacted: no restart */
	bool		 w_dead;	/* unwatched inside its callback */
	bool		 w_unreached;	/* the last stream could not reach
					 * etcd (restarted when a call does) */
	int		 w_in_cb;
	uint32_t	 w_backoff_ms;
	void		*w_start;	/* timer: (re)start the stream */
	struct ec_conn	 w_conn;
	struct mst_etcd_lines w_lines;
	mst_etcd_watch_cb *w_cb;
	void		*w_arg;
};
TAILQ_HEAD(ec_watches, mst_etcd_watch);

struct mst_etcd {
	struct mst_evl_ops e_loop;
	struct ec_endpoint e_ep[MST_ETCD_MAX_ENDPOINTS];
	size_t		 e_nep;
	size_t		 e_cur;
	uint64_t	 e_gen;		/* bumped at each endpoint switch */
	unsigned	 e_fails;	/* failed calls in a row on e_cur */
	uint32_t	 e_timeout_ms;
	struct ec_conn	 e_pool[MST_ETCD_POOL];
	struct ec_reqs	 e_queue;
	size_t		 e_nqueue;
	struct ec_watches e_watches;
	void		*e_kick;	/* timer: dispatch from the loop */
	mst_etcd_reset_cb *e_reset_cb;
	void		*e_arg;
	uint64_t	 e_cluster_id;
	int64_t		 e_rev;
	struct mst_etcd_stats e_st;
};

static void	ec_io(int, uint32_t, void *);
static void	ec_fail(struct ec_conn *, enum mst_etcd_err, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	ec_kick(struct mst_etcd *);
static void	ec_watch_schedule(struct mst_etcd_watch *, uint32_t);
static void	ec_watch_end(struct mst_etcd_watch *, enum mst_etcd_wkind,
		    const struct mst_etcd_wres *);

/* ---- endpoints ------------------------------------------------------------ */

static int
ec_endpoint_init(struct ec_endpoint *ep, const char *url, char *err,
    size_t errlen)
{
	struct addrinfo hints, *ai;
	char host[EC_URL_MAX], *port, *p;
	const char *hp;
	int rc;

	if (strncmp(url, "http://", 7) != 0) {
		snprintf(err, errlen, "%s: only http:// endpoints", url);
		return -1;
	}
	hp = url + 7;
	if (strlcpy(ep->ep_url, url, sizeof(ep->ep_url)) >=
	    sizeof(ep->ep_url) || strlcpy(host, hp, sizeof(host)) >=
	    sizeof(host)) {
		snprintf(err, errlen, "%.64s...: too long", url);
		return -1;
	}
	if ((p = strchr(host, '/')) != NULL)
		*p = '\0';
	strlcpy(ep->ep_host, host, sizeof(ep->ep_host));
	port = NULL;
	if (host[0] == '[' && (p = strchr(host, ']')) != NULL) {
		*p = '\0';
		port = p[1] == ':' ? p + 2 : NULL;
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if ((p = strrchr(host, ':')) != NULL) {
		*p = '\0';
		port = p + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port != NULL && *port != '\0' ? port :
	    "2379", &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s: %s", url, gai_strerror(rc));
		return -1;
	}
	memcpy(&ep->ep_sa, ai->ai_addr, ai->ai_addrlen);
	ep->ep_salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

const char *
mst_etcd_endpoint(const struct mst_etcd *e, size_t *idx)
{
	if (idx != NULL)
		*idx = e->e_cur;
	return e->e_ep[e->e_cur].ep_url;
}

const struct mst_etcd_stats *
mst_etcd_stats(const struct mst_etcd *e)
{
	return &e->e_st;
}

int64_t
mst_etcd_revision(const struct mst_etcd *e)
{
	return e->e_rev;
}

uint64_t
mst_etcd_cluster_id(const struct mst_etcd *e)
{
	return e->e_cluster_id;
}

/* ---- connections ---------------------------------------------------------- */

static void
ec_conn_init(struct mst_etcd *e, struct ec_conn *c,
    struct mst_etcd_watch *w)
{
	memset(c, 0, sizeof(*c));
	c->c_e = e;
	c->c_fd = -1;
	c->c_watch = w;
	buf_init(&c->c_out);
	buf_init(&c->c_body);
}

static void
ec_timer_off(struct mst_etcd *e, void **t)
{
	if (*t != NULL)
		e->e_loop.eo_timer_cancel(e->e_loop.eo_ctx, *t);
	*t = NULL;
}

/* Close the socket; buffers stay (a caller may still be reading c_in). */
static void
ec_close(struct ec_conn *c)
{
	struct mst_etcd *e = c->c_e;

	ec_timer_off(e, &c->c_timer);
	if (c->c_fd != -1) {
		e->e_loop.eo_del(e->e_loop.eo_ctx, c->c_fd);
		close(c->c_fd);
		c->c_fd = -1;
	}
	c->c_state = EC_S_CLOSED;
	c->c_inlen = c->c_inoff = 0;
}

static void
ec_conn_free(struct ec_conn *c)
{
	ec_close(c);
	free(c->c_in);
	c->c_in = NULL;
	c->c_incap = 0;
	buf_free(&c->c_out);
	buf_free(&c->c_body);
}

static void
ec_on_timeout(void *arg)
{
	struct ec_conn *c = arg;

	c->c_timer = NULL;
	ec_fail(c, MST_ETCD_E_TIMEOUT, "no answer in %" PRIu32 " ms",
	    c->c_e->e_timeout_ms);
}

/* Build the request of c: POST path with body.  -1: out of memory. */
static int
ec_request(struct ec_conn *c, const char *path, const char *body)
{
	const struct ec_endpoint *ep = &c->c_e->e_ep[c->c_e->e_cur];
	size_t blen = strlen(body);

	buf_reset(&c->c_out);
	c->c_outoff = 0;
	/* Hasleader: a member that lost its quorum refuses the call (and
	 * ends a watch) at once instead of timing out */
	buf_printf(&c->c_out, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Grpc-Metadata-Hasleader: true\r\n"
	    "Content-Length: %zu\r\n\r\n", path, ep->ep_host, blen);
	buf_append(&c->c_out, body, blen);
	buf_reset(&c->c_body);
	http1_init(&c->c_h1, HTTP1_RESPONSE, c->c_hdrs, EC_MAXHDRS,
	    EC_HEAD_MAX);
	http1_set_collect(&c->c_h1);
	c->c_head = false;
	c->c_inlen = c->c_inoff = 0;
	return c->c_out.b_oom ? -1 : 0;
}

/* Start sending c's request: connect first unless c is idle.  0, or
 * -1 with errno (the caller fails the call). */
static int
ec_send_start(struct ec_conn *c)
{
	struct mst_etcd *e = c->c_e;
	const struct ec_endpoint *ep = &e->e_ep[e->e_cur];
	int one = 1, fd;

	c->c_timer = e->e_loop.eo_timer_add(e->e_loop.eo_ctx,
	    e->e_timeout_ms, ec_on_timeout, c);
	if (c->c_timer == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (c->c_state == EC_S_IDLE) {
		c->c_state = EC_S_SEND;
		return e->e_loop.eo_mod(e->e_loop.eo_ctx, c->c_fd, EPOLLOUT,
		    ec_io, c);
	}
	if ((fd = socket(ep->ep_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	c->c_fd = fd;
	c->c_gen = e->e_gen;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&ep->ep_sa, ep->ep_salen) ==
	    -1 && errno != EINPROGRESS)
		return -1;
	c->c_state = EC_S_CONNECT;
	return e->e_loop.eo_add(e->e_loop.eo_ctx, fd, EPOLLOUT, ec_io, c);
}

/* ---- failure accounting ----------------------------------------------------- */

static bool
ec_is_failure(enum mst_etcd_err err, int status, int code)
{
	switch (err) {
	case MST_ETCD_OK:
	case MST_ETCD_E_NOMEM:
		return false;
	case MST_ETCD_E_SERVER:
		/* the member cannot serve; a 4xx is an answer about the call */
		return status >= 500 || code == MST_ETCD_GRPC_UNAVAILABLE;
	default:
		return true;
	}
}

/* Move to the next endpoint: calls in flight fail, watches restart. */
static void
ec_switch(struct mst_etcd *e, const char *why)
{
	struct mst_etcd_res res;
	struct mst_etcd_watch *w;
	struct ec_reqs gone;
	struct ec_req *rq;
	size_t i, from = e->e_cur;

	e->e_cur = (e->e_cur + 1) % e->e_nep;
	e->e_gen++;
	e->e_fails = 0;
	e->e_st.es_switches++;
	log_warnx("etcd: %s: switching to %s after %d failed calls (%s)",
	    e->e_ep[from].ep_url, e->e_ep[e->e_cur].ep_url,
	    MST_ETCD_FAILS_TO_SWITCH, why);
	TAILQ_INIT(&gone);
	for (i = 0; i < MST_ETCD_POOL; i++) {
		if (e->e_pool[i].c_req != NULL)
			TAILQ_INSERT_TAIL(&gone, e->e_pool[i].c_req, rq_entry);
		e->e_pool[i].c_req = NULL;
		ec_close(&e->e_pool[i]);
	}
	TAILQ_FOREACH(w, &e->e_watches, w_entry)
		if (!w->w_over && !w->w_dead) {
			if (w->w_conn.c_fd != -1)
				e->e_st.es_watch_restarts++;
			ec_close(&w->w_conn);
			ec_timer_off(e, &w->w_start);
			ec_watch_schedule(w, 0);
		}
	while ((rq = TAILQ_FIRST(&gone)) != NULL) {
		TAILQ_REMOVE(&gone, rq, rq_entry);
		memset(&res, 0, sizeof(res));
		res.r_call = rq->rq_call;
		res.r_err = MST_ETCD_E_TRANSPORT;
		snprintf(res.r_msg, sizeof(res.r_msg), "left endpoint %s",
		    e->e_ep[from].ep_url);
		rq->rq_cb(e, &res, rq->rq_arg);
		free(rq->rq_body);
		free(rq);
	}
	ec_kick(e);
}

static void	ec_watches_reached(struct mst_etcd *);

/* Count a call's (or a watch start's) outcome on generation gen; may
 * switch the endpoint. */
static void
ec_account(struct mst_etcd *e, uint64_t gen, enum mst_etcd_err err,
    int status, int code, const char *what, const char *msg)
{
	char why[MST_ETCD_MSG_MAX + 64];

	if (err == MST_ETCD_E_TIMEOUT)
		e->e_st.es_timeouts++;
	else if (err == MST_ETCD_E_SERVER)
		e->e_st.es_server_errors++;
	else if (err == MST_ETCD_E_BAD)
		e->e_st.es_bad++;
	if (!ec_is_failure(err, status, code)) {
		if (gen == e->e_gen && err == MST_ETCD_OK) {
			e->e_fails = 0;
			ec_watches_reached(e);
		}
		return;
	}
	e->e_st.es_failed++;
	log_warnx("etcd: %s: %s: %s", e->e_ep[e->e_cur].ep_url, what, msg);
	if (gen != e->e_gen)
		return;
	if (++e->e_fails >= MST_ETCD_FAILS_TO_SWITCH) {
		e->e_fails = 0;
		if (e->e_nep > 1) {
			snprintf(why, sizeof(why), "%s: %s", what, msg);
			ec_switch(e, why);
		}
	}
}

/*
 * etcd's data went back?  Check a header of the current endpoint.  floor
 * is the highest revision seen before the call was sent (-1: do not
 * check the revision): a linearizable answer is never below it, whereas
 * answers to calls in flight together may come back in any order.
 */
static void
ec_check_hdr(struct mst_etcd *e, const struct mst_etcd_hdr *h, int64_t floor)
{
	char why[128];
	size_t i;

	why[0] = '\0';
	if (h->eh_cluster_id != 0 && e->e_cluster_id != 0 &&
	    h->eh_cluster_id != e->e_cluster_id)
		snprintf(why, sizeof(why), "cluster id %" PRIu64 ", was %"
		    PRIu64, h->eh_cluster_id, e->e_cluster_id);
	else if (floor >= 0 && h->eh_revision > 0 && h->eh_revision < floor)
		snprintf(why, sizeof(why), "revision %" PRId64 " after %"
		    PRId64, h->eh_revision, floor);
	if (h->eh_cluster_id != 0)
		e->e_cluster_id = h->eh_cluster_id;
	if (why[0] == '\0') {
		if (floor >= 0 && h->eh_revision > e->e_rev)
			e->e_rev = h->eh_revision;
		return;
	}
	/* the revisions start over: calls in flight were sent against the
	 * old ones and must not report the same again */
	e->e_rev = h->eh_revision;
	for (i = 0; i < MST_ETCD_POOL; i++)
		if (e->e_pool[i].c_req != NULL)
			e->e_pool[i].c_req->rq_floor = -1;
	e->e_st.es_resets++;
	log_warnx("etcd: %s: the store went back: %s",
	    e->e_ep[e->e_cur].ep_url, why);
	if (e->e_reset_cb != NULL)
		e->e_reset_cb(e, why, e->e_arg);
}

/* ---- one-shot calls ------------------------------------------------------- */

/* Hand rq its result and free it. */
static void
ec_finish(struct mst_etcd *e, struct ec_req *rq, struct mst_etcd_res *res)
{
	rq->rq_cb(e, res, rq->rq_arg);
	mst_etcd_res_clear(res);
	free(rq->rq_body);
	free(rq);
}

/* The call on pool connection c failed (or the watch's stream did). */
static void
ec_fail(struct ec_conn *c, enum mst_etcd_err err, const char *fmt, ...)
{
	struct mst_etcd *e = c->c_e;
	struct mst_etcd_res res;
	struct ec_req *rq = c->c_req;
	va_list ap;

	memset(&res, 0, sizeof(res));
	res.r_err = err;
	res.r_status = c->c_head ? http1_status(&c->c_h1) : 0;
	va_start(ap, fmt);
	vsnprintf(res.r_msg, sizeof(res.r_msg), fmt, ap);
	va_end(ap);
	c->c_req = NULL;
	ec_close(c);
	if (c->c_watch != NULL) {
		struct mst_etcd_wres w;

		memset(&w, 0, sizeof(w));
		w.w_err = err;
		strlcpy(w.w_msg, res.r_msg, sizeof(w.w_msg));
		ec_account(e, c->c_gen, err, res.r_status, 0, "watch",
		    res.r_msg);
		ec_watch_end(c->c_watch, MST_ETCD_W_BROKEN, &w);
		return;
	}
	if (rq == NULL)
		return;
	res.r_call = rq->rq_call;
	ec_account(e, c->c_gen, err, res.r_status, 0,
	    mst_etcd_call_name(rq->rq_call), res.r_msg);
	ec_finish(e, rq, &res);
	ec_kick(e);
}

/* A whole answer is in c_body. */
static void
ec_answer(struct ec_conn *c)
{
	struct mst_etcd *e = c->c_e;
	struct ec_req *rq = c->c_req;
	struct mst_etcd_res res;
	uint64_t gen = c->c_gen;
	int status = http1_status(&c->c_h1);

	c->c_req = NULL;
	ec_timer_off(e, &c->c_timer);
	if (http1_keep_alive(&c->c_h1) && c->c_inoff == c->c_inlen &&
	    e->e_loop.eo_mod(e->e_loop.eo_ctx, c->c_fd, EPOLLIN, ec_io,
	    c) == 0) {
		c->c_state = EC_S_IDLE;
		c->c_inlen = c->c_inoff = 0;
	} else
		ec_close(c);
	mst_etcd_dec(rq->rq_call, status, c->c_body.b_data, c->c_body.b_len,
	    &res);
	if (res.r_dropped > 0) {
		e->e_st.es_dropped_kvs += res.r_dropped;
		log_warnx("etcd: %s: %s answer: %zu key-values left out "
		    "(malformed or over the limits)", e->e_ep[e->e_cur].ep_url,
		    mst_etcd_call_name(rq->rq_call), res.r_dropped);
	}
	ec_account(e, gen, res.r_err, res.r_status, res.r_code,
	    mst_etcd_call_name(rq->rq_call), res.r_msg);
	/* lease calls answer with the member's own revision, unordered */
	if (res.r_err == MST_ETCD_OK && gen == e->e_gen)
		ec_check_hdr(e, &res.r_hdr, rq->rq_call == MST_ETCD_GRANT ||
		    rq->rq_call == MST_ETCD_KEEPALIVE ||
		    rq->rq_call == MST_ETCD_REVOKE ? -1 : rq->rq_floor);
	ec_finish(e, rq, &res);
	ec_kick(e);
}

/* Start queued calls on free pool connections. */
static void
ec_dispatch(struct mst_etcd *e)
{
	struct ec_conn *c;
	struct ec_req *rq;
	size_t i;

	while ((rq = TAILQ_FIRST(&e->e_queue)) != NULL) {
		c = NULL;
		for (i = 0; i < MST_ETCD_POOL && c == NULL; i++)
			if (e->e_pool[i].c_state == EC_S_IDLE)
				c = &e->e_pool[i];
		for (i = 0; i < MST_ETCD_POOL && c == NULL; i++)
			if (e->e_pool[i].c_state == EC_S_CLOSED)
				c = &e->e_pool[i];
		if (c == NULL)
			return;
		TAILQ_REMOVE(&e->e_queue, rq, rq_entry);
		e->e_nqueue--;
		c->c_req = rq;
		rq->rq_floor = e->e_rev;
		e->e_st.es_calls++;
		if (ec_request(c, mst_etcd_path(rq->rq_call), rq->rq_body) ==
		    -1)
			ec_fail(c, MST_ETCD_E_NOMEM, "out of memory");
		else if (ec_send_start(c) == -1)
			ec_fail(c, MST_ETCD_E_TRANSPORT, "connect: %s",
			    strerror(errno));
	}
}

static void
ec_on_kick(void *arg)
{
	struct mst_etcd *e = arg;

	e->e_kick = NULL;
	ec_dispatch(e);
}

static void
ec_kick(struct mst_etcd *e)
{
	if (e->e_kick == NULL && !TAILQ_EMPTY(&e->e_queue))
		e->e_kick = e->e_loop.eo_timer_add(e->e_loop.eo_ctx, 0,
		    ec_on_kick, e);
}

/* Queue a call whose body is built; takes body (freed on error). */
static int
ec_call(struct mst_etcd *e, enum mst_etcd_call call, char *body,
    mst_etcd_cb *cb, void *arg)
{
	struct ec_req *rq;

	if (body == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (e->e_nqueue >= MST_ETCD_QUEUE_MAX) {
		free(body);
		errno = ENOBUFS;
		return -1;
	}
	if ((rq = calloc(1, sizeof(*rq))) == NULL) {
		free(body);
		return -1;
	}
	rq->rq_call = call;
	rq->rq_body = body;
	rq->rq_cb = cb;
	rq->rq_arg = arg;
	TAILQ_INSERT_TAIL(&e->e_queue, rq, rq_entry);
	e->e_nqueue++;
	ec_kick(e);
	if (e->e_kick == NULL) {
		TAILQ_REMOVE(&e->e_queue, rq, rq_entry);
		e->e_nqueue--;
		free(body);
		free(rq);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
mst_etcd_op(struct mst_etcd *e, const struct mst_etcd_op *op,
    mst_etcd_cb *cb, void *arg)
{
	static const enum mst_etcd_call calls[] = {
		[MST_ETCD_OP_RANGE] = MST_ETCD_RANGE,
		[MST_ETCD_OP_PUT] = MST_ETCD_PUT,
		[MST_ETCD_OP_DELETE] = MST_ETCD_DELETE,
	};

	if ((size_t)op->o_kind >= sizeof(calls) / sizeof(calls[0])) {
		errno = EINVAL;
		return -1;
	}
	return ec_call(e, calls[op->o_kind], mst_etcd_enc_op(op), cb, arg);
}

int
mst_etcd_txn(struct mst_etcd *e, const struct mst_etcd_txn *t,
    mst_etcd_cb *cb, void *arg)
{
	return ec_call(e, MST_ETCD_TXN, mst_etcd_enc_txn(t), cb, arg);
}

int
mst_etcd_lease(struct mst_etcd *e, enum mst_etcd_call call, int64_t v,
    mst_etcd_cb *cb, void *arg)
{
	if (call != MST_ETCD_GRANT && call != MST_ETCD_KEEPALIVE &&
	    call != MST_ETCD_REVOKE) {
		errno = EINVAL;
		return -1;
	}
	return ec_call(e, call, mst_etcd_enc_lease(call, v), cb, arg);
}

int
mst_etcd_compact(struct mst_etcd *e, int64_t rev, mst_etcd_cb *cb,
    void *arg)
{
	return ec_call(e, MST_ETCD_COMPACT, mst_etcd_enc_compact(rev), cb,
	    arg);
}

/* ---- reading ------------------------------------------------------------------- */

/* Room to read into c_in: drop what is parsed once the head is (body
 * slices are copied out after each feed), grow up to the head limit. */
static int
ec_in_room(struct ec_conn *c)
{
	size_t cap;
	char *n;

	if (c->c_head && c->c_inoff > 0) {
		memmove(c->c_in, c->c_in + c->c_inoff, c->c_inlen - c->c_inoff);
		c->c_inlen -= c->c_inoff;
		c->c_inoff = 0;
	}
	if (c->c_inlen < c->c_incap)
		return 0;
	cap = c->c_incap > 0 ? c->c_incap * 2 : EC_IN_MIN;
	if (cap > EC_HEAD_MAX + EC_IN_MIN)
		return -1;
	if ((n = realloc(c->c_in, cap)) == NULL)
		return -1;
	c->c_in = n;
	c->c_incap = cap;
	return 0;
}

static int	ec_watch_line(const char *, size_t, void *);

/* The body slices of the last feed: into c_body, or through the watch's
 * line splitter.  CD_OK, or CD_ERR when c is closed (or its watch gone). */
static enum cd_rc
ec_take_body(struct ec_conn *c)
{
	const struct http1_slice *s;
	uint8_t i;

	for (i = 0; i < c->c_h1.h_nbody; i++) {
		s = &c->c_h1.h_body[i];
		if (c->c_watch != NULL) {
			if (mst_etcd_lines_feed(&c->c_watch->w_lines,
			    c->c_in + s->s_off, s->s_len, ec_watch_line,
			    c->c_watch) != 0)
				return CD_ERR;
			continue;
		}
		if (c->c_body.b_len + s->s_len > MST_ETCD_BODY_MAX) {
			ec_fail(c, MST_ETCD_E_BAD, "answer over %d bytes",
			    MST_ETCD_BODY_MAX);
			return CD_ERR;
		}
		if (buf_append(&c->c_body, c->c_in + s->s_off, s->s_len) ==
		    -1) {
			ec_fail(c, MST_ETCD_E_NOMEM, "out of memory");
			return CD_ERR;
		}
	}
	return CD_OK;
}

/* The end of a watch's answer: a stream never ends by itself. */
static void
ec_watch_eos(struct ec_conn *c)
{
	int status = http1_status(&c->c_h1);

	if (status != 200)
		ec_fail(c, MST_ETCD_E_SERVER, "watch: HTTP status %d", status);
	else
		ec_fail(c, MST_ETCD_E_TRANSPORT, "watch stream ended");
}

/* Feed what was read.  CD_OK: wants more; anything else: c is done
 * with (answered, failed, or its watch gone). */
static enum cd_rc
ec_parse(struct ec_conn *c)
{
	enum http1_ev ev;
	uint32_t used;

	while (c->c_inoff < c->c_inlen) {
		ev = http1_feed(&c->c_h1, c->c_in, (uint32_t)c->c_inoff,
		    (uint32_t)(c->c_inlen - c->c_inoff), &used);
		c->c_inoff += used;
		if (ec_take_body(c) != CD_OK)
			return CD_ERR;
		switch (ev) {
		case HTTP1_HEAD:
			c->c_head = true;
			break;
		case HTTP1_BODY:
			break;
		case HTTP1_MORE:
			if (used == 0)
				return CD_OK;
			break;
		case HTTP1_DONE:
			if (c->c_watch != NULL)
				ec_watch_eos(c);
			else
				ec_answer(c);
			return CD_DONE;
		case HTTP1_ERROR:
			ec_fail(c, MST_ETCD_E_TRANSPORT, "bad HTTP answer: %s",
			    http1_errstr(&c->c_h1));
			return CD_ERR;
		}
	}
	return CD_OK;
}

static void
ec_eof(struct ec_conn *c)
{
	if (http1_eof(&c->c_h1) == HTTP1_DONE) {
		if (c->c_watch != NULL)
			ec_watch_eos(c);
		else
			ec_answer(c);
		return;
	}
	ec_fail(c, MST_ETCD_E_TRANSPORT, "connection closed%s",
	    c->c_head ? " inside the answer" : " before an answer");
}

static void
ec_recv(struct ec_conn *c)
{
	ssize_t n;

	for (;;) {
		if (ec_in_room(c) == -1) {
			ec_fail(c, MST_ETCD_E_BAD, "answer head too large");
			return;
		}
		n = read(c->c_fd, c->c_in + c->c_inlen, c->c_incap -
		    c->c_inlen);
		if (n > 0) {
			c->c_inlen += (size_t)n;
			if (ec_parse(c) != CD_OK)
				return;
		} else if (n == 0) {
			ec_eof(c);
			return;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		else if (errno != EINTR) {
			ec_fail(c, MST_ETCD_E_TRANSPORT, "read: %s",
			    strerror(errno));
			return;
		}
	}
}

/* ---- writing ------------------------------------------------------------------- */

static void
ec_send(struct ec_conn *c)
{
	struct mst_etcd *e = c->c_e;
	ssize_t n;

	while (c->c_outoff < c->c_out.b_len) {
		n = send(c->c_fd, c->c_out.b_data + c->c_outoff,
		    c->c_out.b_len - c->c_outoff, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ec_fail(c, MST_ETCD_E_TRANSPORT, "send: %s",
			    strerror(errno));
			return;
		}
		c->c_outoff += (size_t)n;
	}
	c->c_state = EC_S_RECV;
	if (e->e_loop.eo_mod(e->e_loop.eo_ctx, c->c_fd, EPOLLIN, ec_io, c) ==
	    -1)
		ec_fail(c, MST_ETCD_E_TRANSPORT, "epoll: %s", strerror(errno));
}

static void
ec_io(int fd, uint32_t events, void *arg)
{
	struct ec_conn *c = arg;
	socklen_t len = sizeof(int);
	char junk[64];
	int err = 0;

	(void)events;
	switch (c->c_state) {
	case EC_S_CONNECT:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			ec_fail(c, MST_ETCD_E_TRANSPORT, "connect: %s",
			    strerror(err));
			return;
		}
		c->c_state = EC_S_SEND;
		ec_send(c);
		break;
	case EC_S_SEND:
		ec_send(c);
		break;
	case EC_S_RECV:
		ec_recv(c);
		break;
	case EC_S_IDLE:
		/* etcd closed a kept connection (or sent what nobody asked) */
		if (read(fd, junk, sizeof(junk)) != -1 || errno != EAGAIN)
			ec_close(c);
		break;
	case EC_S_CLOSED:
		break;
	}
}

/* ---- watches --------------------------------------------------------------------- */

static void
ec_watch_free(struct mst_etcd_watch *w)
{
	struct mst_etcd *e = w->w_e;

	ec_timer_off(e, &w->w_start);
	ec_conn_free(&w->w_conn);
	mst_etcd_lines_free(&w->w_lines);
	TAILQ_REMOVE(&e->e_watches, w, w_entry);
	free(w->w_key);
	free(w->w_end);
	free(w);
}

/* Call w's callback; false when w was unwatched in it (w is freed). */
static bool
ec_watch_call(struct mst_etcd_watch *w, enum mst_etcd_wkind k,
    const struct mst_etcd_wres *r)
{
	w->w_in_cb++;
	w->w_cb(w, k, r, w->w_arg);
	w->w_in_cb--;
	if (w->w_dead && w->w_in_cb == 0) {
		ec_watch_free(w);
		return false;
	}
	return !w->w_dead;
}

static void
ec_on_watch_start(void *arg)
{
	struct mst_etcd_watch *w = arg;
	struct ec_conn *c = &w->w_conn;
	char *body;

	w->w_start = NULL;
	w->w_up = w->w_reported = false;
	mst_etcd_lines_reset(&w->w_lines);
	body = mst_etcd_enc_watch(w->w_key, w->w_klen, w->w_end, w->w_elen,
	    w->w_next_rev);
	if (body == NULL || ec_request(c, "/v3/watch", body) == -1) {
		free(body);
		ec_fail(c, MST_ETCD_E_NOMEM, "out of memory");
		return;
	}
	free(body);
	if (ec_send_start(c) == -1)
		ec_fail(c, MST_ETCD_E_TRANSPORT, "connect: %s",
		    strerror(errno));
}

/* (Re)start w's stream after ms. */
static void
ec_watch_schedule(struct mst_etcd_watch *w, uint32_t ms)
{
	struct mst_etcd *e = w->w_e;

	if (w->w_start != NULL || w->w_over || w->w_dead)
		return;
	w->w_start = e->e_loop.eo_timer_add(e->e_loop.eo_ctx, ms,
	    ec_on_watch_start, w);
	if (w->w_start == NULL)
		log_warnx("etcd: no timer to restart a watch: it stays down");
}

/*
 * A call reached etcd: a watch waiting out its backoff because etcd
 * could not be reached starts again now, so a watch comes back as soon
 * as etcd does rather than up to EC_BACKOFF_MAX_MS later.
 */
static void
ec_watches_reached(struct mst_etcd *e)
{
	struct mst_etcd_watch *w;

	TAILQ_FOREACH(w, &e->e_watches, w_entry) {
		if (!w->w_unreached || w->w_start == NULL)
			continue;
		w->w_unreached = false;
		ec_timer_off(e, &w->w_start);
		w->w_backoff_ms = EC_BACKOFF_MIN_MS;
		ec_watch_schedule(w, 0);
	}
}

/* The stream of w ended (BROKEN: restart it later; COMPACTED: over). */
static void
ec_watch_end(struct mst_etcd_watch *w, enum mst_etcd_wkind k,
    const struct mst_etcd_wres *r)
{
	struct mst_etcd *e = w->w_e;

	ec_close(&w->w_conn);
	if (w->w_reported)
		return;
	w->w_reported = true;
	if (k == MST_ETCD_W_COMPACTED)
		w->w_over = true;
	else {
		e->e_st.es_watch_restarts++;
		w->w_unreached = r->w_err == MST_ETCD_E_TRANSPORT ||
		    r->w_err == MST_ETCD_E_TIMEOUT;
		log_info("etcd: %s: watch stream ended (%s): restarting "
		    "from revision %" PRId64 " in %" PRIu32 " ms",
		    e->e_ep[e->e_cur].ep_url, r->w_msg, w->w_next_rev,
		    w->w_backoff_ms);
		ec_watch_schedule(w, w->w_backoff_ms);
		w->w_backoff_ms = w->w_backoff_ms * 2 > EC_BACKOFF_MAX_MS ?
		    EC_BACKOFF_MAX_MS : w->w_backoff_ms * 2;
	}
	(void)ec_watch_call(w, k, r);
}

/* One message of w's stream, decoded. */
static int
ec_watch_msg(struct mst_etcd_watch *w, const struct mst_etcd_wres *r)
{
	struct mst_etcd *e = w->w_e;
	struct ec_conn *c = &w->w_conn;
	enum mst_etcd_wkind k;

	if (r->w_err != MST_ETCD_OK) {
		ec_account(e, c->c_gen, r->w_err, http1_status(&c->c_h1),
		    r->w_code, "watch", r->w_msg);
		ec_watch_end(w, MST_ETCD_W_BROKEN, r);
		return -1;
	}
	if (c->c_gen == e->e_gen) {
		/* the reset callback may unwatch this very watch */
		w->w_in_cb++;
		ec_check_hdr(e, &r->w_hdr, -1);
		w->w_in_cb--;
		if (w->w_dead) {
			if (w->w_in_cb == 0)
				ec_watch_free(w);
			return -1;
		}
	}
	if (r->w_canceled) {
		ec_watch_end(w, r->w_compact_rev > 0 ? MST_ETCD_W_COMPACTED :
		    MST_ETCD_W_BROKEN, r);
		return -1;
	}
	if (r->w_created) {
		ec_timer_off(e, &c->c_timer);
		ec_account(e, c->c_gen, MST_ETCD_OK, 200, 0, "watch", "");
		w->w_up = true;
		w->w_backoff_ms = EC_BACKOFF_MIN_MS;
		if (w->w_next_rev == 0)
			w->w_next_rev = r->w_hdr.eh_revision + 1;
		k = MST_ETCD_W_CREATED;
	} else if (r->w_nevs > 0) {
		w->w_next_rev = r->w_evs[r->w_nevs - 1].ev_kv.kv_mod_rev + 1;
		e->e_st.es_watch_events += r->w_nevs;
		k = MST_ETCD_W_EVENTS;
	} else {
		if (r->w_hdr.eh_revision + 1 > w->w_next_rev)
			w->w_next_rev = r->w_hdr.eh_revision + 1;
		k = MST_ETCD_W_PROGRESS;
	}
	if (r->w_dropped > 0) {
		e->e_st.es_dropped_kvs += r->w_dropped;
		log_warnx("etcd: watch: %zu events left out (malformed or "
		    "over the limits)", r->w_dropped);
	}
	return ec_watch_call(w, k, r) ? 0 : -1;
}

static int
ec_watch_line(const char *line, size_t len, void *arg)
{
	struct mst_etcd_watch *w = arg;
	struct mst_etcd_wres r;
	int rc;

	mst_etcd_dec_watch(line, len, &r);
	rc = ec_watch_msg(w, &r);
	mst_etcd_wres_clear(&r);
	return rc;
}

struct mst_etcd_watch *
mst_etcd_watch(struct mst_etcd *e, const char *key, size_t klen,
    const char *end, size_t elen, int64_t start_rev, mst_etcd_watch_cb *cb,
    void *arg)
{
	struct mst_etcd_watch *w;

	if (klen == 0 || klen > MST_ETCD_KEY_MAX || elen > MST_ETCD_KEY_MAX ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->w_e = e;
	w->w_key = malloc(klen);
	w->w_end = end != NULL ? malloc(elen > 0 ? elen : 1) : NULL;
	if (w->w_key == NULL || (end != NULL && w->w_end == NULL)) {
		free(w->w_key);
		free(w->w_end);
		free(w);
		return NULL;
	}
	memcpy(w->w_key, key, klen);
	w->w_klen = klen;
	if (end != NULL)
		memcpy(w->w_end, end, elen);
	w->w_elen = elen;
	w->w_next_rev = start_rev;
	w->w_backoff_ms = EC_BACKOFF_MIN_MS;
	w->w_lines.l_max = MST_ETCD_BODY_MAX;
	w->w_cb = cb;
	w->w_arg = arg;
	ec_conn_init(e, &w->w_conn, w);
	TAILQ_INSERT_TAIL(&e->e_watches, w, w_entry);
	ec_watch_schedule(w, 0);
	if (w->w_start == NULL) {
		ec_watch_free(w);
		return NULL;
	}
	return w;
}

void
mst_etcd_unwatch(struct mst_etcd_watch *w)
{
	if (w == NULL)
		return;
	if (w->w_in_cb > 0) {
		w->w_dead = true;
		ec_timer_off(w->w_e, &w->w_start);
		ec_close(&w->w_conn);
		return;
	}
	ec_watch_free(w);
}

int64_t
mst_etcd_watch_next_rev(const struct mst_etcd_watch *w)
{
	return w->w_next_rev;
}

/* ---- life ---------------------------------------------------------------------- */

struct mst_etcd *
mst_etcd_new(const struct mst_etcd_conf *conf, char *err, size_t errlen)
{
	struct mst_etcd *e;
	size_t i;

	if (conf->ec_nendpoints == 0 || conf->ec_nendpoints >
	    MST_ETCD_MAX_ENDPOINTS) {
		snprintf(err, errlen, "%zu etcd endpoints: 1 to %d allowed",
		    conf->ec_nendpoints, MST_ETCD_MAX_ENDPOINTS);
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < conf->ec_nendpoints; i++)
		if (ec_endpoint_init(&e->e_ep[i], conf->ec_endpoints[i], err,
		    errlen) == -1) {
			free(e);
			return NULL;
		}
	e->e_nep = conf->ec_nendpoints;
	e->e_loop = *conf->ec_loop;
	e->e_timeout_ms = conf->ec_timeout_ms > 0 ? conf->ec_timeout_ms :
	    MST_ETCD_TIMEOUT_MS;
	e->e_reset_cb = conf->ec_reset_cb;
	e->e_arg = conf->ec_arg;
	TAILQ_INIT(&e->e_queue);
	TAILQ_INIT(&e->e_watches);
	for (i = 0; i < MST_ETCD_POOL; i++)
		ec_conn_init(e, &e->e_pool[i], NULL);
	return e;
}

void
mst_etcd_free(struct mst_etcd *e)
{
	struct mst_etcd_watch *w;
	struct ec_req *rq;
	size_t i;

	if (e == NULL)
		return;
	ec_timer_off(e, &e->e_kick);
	for (i = 0; i < MST_ETCD_POOL; i++) {
		if (e->e_pool[i].c_req != NULL)
			TAILQ_INSERT_TAIL(&e->e_queue, e->e_pool[i].c_req,
			    rq_entry);
		ec_conn_free(&e->e_pool[i]);
	}
	while ((rq = TAILQ_FIRST(&e->e_queue)) != NULL) {
		TAILQ_REMOVE(&e->e_queue, rq, rq_entry);
		free(rq->rq_body);
		free(rq);
	}
	while ((w = TAILQ_FIRST(&e->e_watches)) != NULL)
		ec_watch_free(w);
	free(e);
}
