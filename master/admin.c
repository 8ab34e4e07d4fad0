/*
 * The admin server (see admin.h): Envoy's admin port, served by the
 * master from its one event loop.  This file is the HTTP/1.1 server:
 * the listener, connections, their limits and timeouts, request heads
 * (parsed by shared/http1), reply bytes and the admin access log.  What
 * each path answers is the endpoint table's business
 * (admin_endpoints.c).
 *
 * Invariant: nothing here blocks the master.  Sockets are non-blocking; a
 * page is rendered in memory in one go (it is small and reads only shm and
 * the config); a connection holds at most one head (64 KiB) and one reply,
 * is closed after ADMIN_IDLE_MS without progress or when a head takes
 * longer than ADMIN_HEAD_MS, and at most ADMIN_MAX_CONNS exist,
 * ADMIN_MAX_PER_PEER from one address.  Pipelined requests are answered in
 * order, one at a time: the next head is parsed only once the reply before
 * it is out.
 *
 * A full server never refuses the newcomer: it closes the connection that
 * has waited longest without a complete request (idle, or a head still
 * coming), so a flood of half-sent heads cannot lock out a load
 * balancer's /ready or the operator.
 *
 * A reply that comes later (a fleet action, answered by the fleet
 * coordinator) parks its connection in ADM_S_WAIT under the request's
 * id: it reads nothing more (pipelined requests wait their turn) and is
 * answered by mst_admin_answer(), or with 504 after MST_ADMIN_WAIT_MS.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "shared/alog.h"
#include "shared/buf.h"
#include "shared/clock.h"
#include "shared/conf-t.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "accesslog.h"
#include "admin-int.h"
#include "admin.h"
#include "loop.h"
#include "mst.h"

#define ADMIN_MAX_CONNS		128
#define ADMIN_MAX_PER_PEER	32	/* connections from one address */
#define ADMIN_IDLE_MS		60000	/* no progress for this long: close */
#define ADMIN_HEAD_MS		10000	/* a request head takes at most this */
#define ADMIN_BACKLOG		4096
#define ADMIN_READ_CHUNK	16384
#define ADMIN_READS_PER_WAKE	16	/* then let the loop serve others */
#define ADMIN_ACCEPTS_PER_WAKE	32
#define ADMIN_ACCEPT_PAUSE_MS	1000	/* after EMFILE and friends */
#define ADMIN_LINGER_MS		1000	/* bound on draining before close */
#define ADMIN_PIECE_KEEP	(1024 * 1024)	/* a larger piece buffer goes */

enum adm_state {
	ADM_S_READ_HEAD,	/* waiting for a complete request head */
	ADM_S_READ_BODY,	/* discarding Content-Length body bytes */
	ADM_S_WRITE,		/* reply partly sent, waiting for EPOLLOUT */
	ADM_S_LINGER,		/* last reply sent: drain input, then close */
	ADM_S_WAIT,		/* the reply comes later (c_wait_id) */
	ADM_S__N
};

static const char *const adm_state_names[ADM_S__N] = {
	"read-head", "read-body", "write", "linger", "wait",
};

struct adm_conn {
	TAILQ_ENTRY(adm_conn) c_entry;
	int		 c_fd;
	enum adm_state	 c_state;
	uint64_t	 c_id;
	struct sockaddr_storage c_peer;
	int		 c_allowed;	/* may POST (admin_acl.c) */
	uint64_t	 c_head_ms;	/* when the head being read began */
	struct buf	 c_rbuf;	/* bytes read, not yet consumed */
	struct mst_admin_parser c_parser;	/* the head at c_rbuf's start */
	struct buf	 c_wbuf;	/* the reply being sent */
	size_t		 c_woff;
	struct buf	 c_req;		/* "METHOD\0/path\0query\0" */
	uint64_t	 c_wait_id;	/* ADM_S_WAIT: the answer awaited */
	uint64_t	 c_body_left;
	int		 c_minor;	/* HTTP/1.<minor> of this request */
	int		 c_keepalive;
	int		 c_close;	/* close once c_wbuf is out */
	enum mst_admin_act c_quit;	/* ... then act (QUIT, DRAIN_QUIT) */
	/* a streamed body (mst_admin_reply's ar_more) still going */
	int		(*c_more)(void *, struct buf *);
	void		(*c_done)(void *);
	void		*c_marg;
	int		 c_chunked;	/* its pieces go out as chunks */
	struct mst_timer *c_timer;
	/* admin access log: the request's head, when it began */
	struct buf	 c_alhead;
	uint64_t	 c_al_start_ms;
	uint64_t	 c_al_rx;	/* body bytes */
	/* a streamed reply's line waits for its end: its status and the
	 * body bytes sent so far */
	int		 c_al_pending;
	int		 c_al_status;
	uint64_t	 c_al_tx;
};

TAILQ_HEAD(adm_conn_list, adm_conn);

static struct adm_conn_list adm_conns = TAILQ_HEAD_INITIALIZER(adm_conns);
static int adm_listen_fd = -1;
static int adm_nconns;
static uint64_t adm_next_id;
static uint64_t adm_next_defer;
static struct buf adm_piece;	/* a streamed body's next piece */
static struct mst_timer *adm_pause_timer;
static struct mst_timer *adm_quit_timer;
static enum mst_admin_act adm_quit_act;	/* what adm_quit_timer does */
static mst_admin_act_fn *adm_actor;	/* who acts on replies' actions */
/* the configured address mst_admin_start() last served, for a reload */
static struct {
	int		 aa_set;
	char		 aa_addr[CD_HOSTNAME_MAX];
	uint16_t	 aa_port;
} adm_addr;
/* http.admin.*: master memory, not shm (no worker touches them) */
static struct mst_admin_ctr adm_ctr;

static void	 conn_io(int, uint32_t, void *);
static void	 conn_al_line(struct adm_conn *, int, uint64_t);
static void	 conn_answer(struct adm_conn *, int, const char *,
		    const char *, size_t);

const struct mst_admin_ctr *
admin_counters(void)
{
	return &adm_ctr;
}

/* ---- request heads ---------------------------------------------------- */

void
mst_admin_parser_init(struct mst_admin_parser *ap)
{
	http1_init(&ap->ap_h1, HTTP1_REQUEST, ap->ap_hdrs,
	    MST_ADMIN_MAX_HEADERS, MST_ADMIN_HEAD_MAX);
	ap->ap_fed = 0;
}

static enum mst_admin_parse
head_err(struct mst_admin_req *rq, int status)
{
	rq->rq_status = status;
	return MST_ADMIN_P_ERR;
}

/* Does the head, as far as parsed, have a Transfer-Encoding header? */
static int
head_has_te(const struct mst_admin_parser *ap, const char *p)
{
	const struct http1 *h = &ap->ap_h1;
	uint16_t i;

	for (i = 0; i < h->h_nhdrs; i++)
		if (h->h_hdrs[i].h_name.s_len == 17 && strncasecmp(p +
		    h->h_hdrs[i].h_name.s_off, "transfer-encoding", 17) == 0)
			return 1;
	return 0;
}

/*
 * A complete head: fill rq, or refuse it.  An admin client can always
 * send a length, so any Transfer-Encoding is 411; a body over
 * MST_ADMIN_BODY_MAX 413; only origin-form targets ("/path?query").
 */
static enum mst_admin_parse
head_done(const struct mst_admin_parser *ap, const char *p,
    struct mst_admin_req *rq)
{
	const struct http1 *h = &ap->ap_h1;
	int major, minor;

	http1_version(h, &major, &minor);
	rq->rq_head_len = h->h_head_end;
	if (h->h_url.s_len > MST_ADMIN_URL_MAX)
		return head_err(rq, 414);
	if (rq->rq_head_len > MST_ADMIN_HEAD_MAX)
		return head_err(rq, 431);
	if (major != 1)
		return head_err(rq, 505);
	if (h->h_url.s_len == 0 || p[h->h_url.s_off] != '/')
		return head_err(rq, 400);
	if (head_has_te(ap, p))
		return head_err(rq, 411);
	if (http1_content_length(h) > MST_ADMIN_BODY_MAX)
		return head_err(rq, 413);
	rq->rq_method = http1_method(h);
	rq->rq_method_len = strlen(rq->rq_method);
	rq->rq_target = p + h->h_url.s_off;
	rq->rq_target_len = h->h_url.s_len;
	rq->rq_minor = minor;
	rq->rq_keepalive = http1_keep_alive(h);
	rq->rq_clen = http1_content_length(h);
	return MST_ADMIN_P_OK;
}

enum mst_admin_parse
mst_admin_parser_feed(struct mst_admin_parser *ap, const char *p,
    size_t len, struct mst_admin_req *rq)
{
	enum http1_ev ev = HTTP1_MORE;
	enum http1_err e;
	uint32_t used;

	memset(rq, 0, sizeof(*rq));
	if (len > ap->ap_fed) {
		ev = http1_feed(&ap->ap_h1, p, ap->ap_fed,
		    (uint32_t)(len - ap->ap_fed), &used);
		ap->ap_fed += used;
	}
	if (ev == HTTP1_HEAD)
		return head_done(ap, p, rq);
	if (ev == HTTP1_ERROR) {
		e = (enum http1_err)ap->ap_h1.h_err;
		if (e == HTTP1_E_TE || head_has_te(ap, p))
			return head_err(rq, 411);
		if (e == HTTP1_E_TOO_LARGE && memchr(p, '\n', len <
		    MST_ADMIN_URL_MAX ? len : MST_ADMIN_URL_MAX) == NULL)
			return head_err(rq, 414);
		if (e == HTTP1_E_TOO_MANY || e == HTTP1_E_TOO_LARGE)
			return head_err(rq, 431);
		return head_err(rq, 400);
	}
	/* no end of the request line in MST_ADMIN_URL_MAX bytes: 414 at
	 * once, not after the whole head */
	if (len > MST_ADMIN_URL_MAX && memchr(p, '\n', MST_ADMIN_URL_MAX) ==
	    NULL)
		return head_err(rq, 414);
	/* no end of head in MST_ADMIN_HEAD_MAX bytes */
	if (len >= MST_ADMIN_HEAD_MAX)
		return head_err(rq, 431);
	return MST_ADMIN_P_AGAIN;
}

enum mst_admin_parse
mst_admin_parse_head(const char *p, size_t len, struct mst_admin_req *rq)
{
	struct mst_admin_parser ap;

	mst_admin_parser_init(&ap);
	return mst_admin_parser_feed(&ap, p, len, rq);
}

/* ---- connections ------------------------------------------------------ */

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 403: return "Forbidden";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

static void
quit_cb(void *arg)
{
	(void)arg;
	adm_quit_timer = NULL;
	if (adm_actor != NULL)
		adm_actor(adm_quit_act);
}

/* From the loop, not from inside a connection's call chain: stopping the
 * server may stop the admin and free that connection. */
static void
admin_schedule_quit(enum mst_admin_act act)
{
	if (adm_quit_timer != NULL)
		return;
	adm_quit_act = act;
	if ((adm_quit_timer = mst_timer_add(0, quit_cb, NULL)) == NULL &&
	    adm_actor != NULL)
		adm_actor(act);
}

static void
conn_close(struct adm_conn *c, const char *why)
{
	enum mst_admin_act quit = c->c_quit;

	log_debug("admin: conn %" PRIu64 ": closed (%s) in %s", c->c_id, why,
	    adm_state_names[c->c_state]);
	if (c->c_al_pending)	/* a streamed body cut short */
		conn_al_line(c, c->c_al_status, c->c_al_tx);
	mst_loop_del(c->c_fd);
	close(c->c_fd);
	mst_timer_cancel(c->c_timer);
	TAILQ_REMOVE(&adm_conns, c, c_entry);
	buf_free(&c->c_rbuf);
	buf_free(&c->c_wbuf);
	buf_free(&c->c_req);
	buf_free(&c->c_alhead);
	if (c->c_done != NULL)
		c->c_done(c->c_marg);
	free(c);
	adm_nconns--;
	adm_ctr.ac_cx_active--;
	/* the client left before its /quitquitquit reply was out */
	if (quit != MST_ADMIN_ACT_NONE)
		admin_schedule_quit(quit);
}

/* A head has been coming (or the connection idle) for ADMIN_HEAD_MS. */
static bool
conn_head_late(const struct adm_conn *c, uint64_t now)
{
	return c->c_state == ADM_S_READ_HEAD && now >= c->c_head_ms +
	    ADMIN_HEAD_MS;
}

static void
conn_timeout(void *arg)
{
	struct adm_conn *c = arg;

	c->c_timer = NULL;	/* the loop has freed it */
	if (c->c_state == ADM_S_WAIT) {
		conn_answer(c, 504, ADMIN_CT_TEXT, "no answer in time\n",
		    strlen("no answer in time\n"));
		return;
	}
	if (conn_head_late(c, mst_now_ms()) && c->c_rbuf.b_len > 0) {
		adm_ctr.ac_header_timeout++;
		conn_close(c, "request headers timeout");
		return;
	}
	conn_close(c, c->c_state == ADM_S_LINGER ? "linger over" :
	    "idle timeout");
}

/*
 * Progress was made: the idle clock starts again; while a head is read,
 * the head's own deadline comes first.  An idle keep-alive connection
 * (no byte of the next head yet) has the idle timeout.
 */
static void
conn_touch(struct adm_conn *c)
{
	uint64_t now = mst_now_ms(), ms = ADMIN_IDLE_MS;

	if (c->c_state == ADM_S_READ_HEAD && c->c_rbuf.b_len > 0)
		ms = c->c_head_ms + ADMIN_HEAD_MS > now ? c->c_head_ms +
		    ADMIN_HEAD_MS - now : 0;
	mst_timer_cancel(c->c_timer);
	c->c_timer = mst_timer_add(ms, conn_timeout, c);
}

/* Allowed moves: a reply may go out at once (READ_* -> READ_HEAD or
 * LINGER), wait for the socket (-> WRITE) or for its answer (-> WAIT,
 * then as READ_BODY would); LINGER only ends. */
static const unsigned char adm_moves[ADM_S__N][ADM_S__N] = {
	[ADM_S_READ_HEAD] = { [ADM_S_READ_HEAD] = 1, [ADM_S_READ_BODY] = 1,
	    [ADM_S_WRITE] = 1, [ADM_S_LINGER] = 1 },
	[ADM_S_READ_BODY] = { [ADM_S_READ_HEAD] = 1, [ADM_S_WRITE] = 1,
	    [ADM_S_LINGER] = 1, [ADM_S_WAIT] = 1 },
	[ADM_S_WRITE] = { [ADM_S_READ_HEAD] = 1, [ADM_S_LINGER] = 1 },
	[ADM_S_WAIT] = { [ADM_S_READ_HEAD] = 1, [ADM_S_WRITE] = 1,
	    [ADM_S_LINGER] = 1 },
};

static void
conn_set_state(struct adm_conn *c, enum adm_state s)
{
	CD_ASSERT(adm_moves[c->c_state][s]);
	if (c->c_state != s)
		log_debug("admin: conn %" PRIu64 ": %s -> %s", c->c_id,
		    adm_state_names[c->c_state], adm_state_names[s]);
	c->c_state = s;
}

static void
http_date(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		strlcpy(buf, "Thu, 01 Jan 1970 00:00:00 GMT", len);
}

/* A streamed body's piece p into c_wbuf, as a chunk when chunked. */
static void
conn_piece(struct adm_conn *c, const struct buf *p)
{
	if (p->b_len == 0)
		return;
	if (c->c_chunked)
		buf_printf(&c->c_wbuf, "%zx\r\n", p->b_len);
	buf_append(&c->c_wbuf, p->b_data, p->b_len);
	if (c->c_chunked)
		buf_puts(&c->c_wbuf, "\r\n");
}

/* Queue the reply's bytes in c_wbuf; head: leave the body out. */
static void
conn_reply(struct adm_conn *c, const struct mst_admin_reply *r, int head)
{
	char date[64], len[64];

	http_date(date, sizeof(date));
	/* a streamed body: chunks, or (HTTP/1.0) up to the close */
	if (r->ar_more == NULL)
		snprintf(len, sizeof(len), "content-length: %zu\r\n",
		    r->ar_body.b_len);
	else
		strlcpy(len, c->c_minor == 0 ? "" :
		    "transfer-encoding: chunked\r\n", sizeof(len));
	buf_printf(&c->c_wbuf, "HTTP/1.1 %d %s\r\n"
	    "content-type: %s\r\n"
	    "cache-control: no-cache, max-age=0\r\n"
	    "x-content-type-options: nosniff\r\n"
	    "date: %s\r\n"
	    "server: canaryd\r\n"
	    "%s"
	    "%s\r\n", r->ar_status, reason(r->ar_status), r->ar_ctype, date,
	    len, c->c_close ? "connection: close\r\n" :
	    c->c_minor == 0 ? "connection: keep-alive\r\n" : "");
	if (!head && r->ar_more != NULL)
		conn_piece(c, &r->ar_body);
	else if (!head && r->ar_body.b_len > 0)
		buf_append(&c->c_wbuf, r->ar_body.b_data, r->ar_body.b_len);
	if (r->ar_status >= 100 && r->ar_status < 600)
		adm_ctr.ac_rq_class[r->ar_status / 100 - 1]++;
	if (r->ar_action == MST_ADMIN_ACT_QUIT ||
	    r->ar_action == MST_ADMIN_ACT_DRAIN_QUIT)
		c->c_quit = r->ar_action;
	c->c_woff = 0;
}

/* An error before the request could be read: reply and close. */
static void
conn_reply_error(struct adm_conn *c, int status)
{
	struct mst_admin_reply r;

	mst_admin_reply_init(&r);
	admin_reply_text(&r, status, reason(status));
	buf_puts(&r.ar_body, "\n");
	c->c_close = 1;
	c->c_minor = 1;
	conn_reply(c, &r, 0);
	mst_admin_reply_free(&r);
}

static void
conn_consume(struct adm_conn *c, size_t n)
{
	struct buf *b = &c->c_rbuf;

	if (n >= b->b_len) {
		buf_reset(b);
		return;
	}
	memmove(b->b_data, b->b_data + n, b->b_len - n);
	b->b_len -= n;
	b->b_data[b->b_len] = '\0';
}

/* Remember method, path and query: the head bytes go before dispatch. */
static void
conn_save_request(struct adm_conn *c, const struct mst_admin_req *rq)
{
	const char *q;
	size_t plen;

	buf_reset(&c->c_req);
	q = memchr(rq->rq_target, '?', rq->rq_target_len);
	plen = q != NULL ? (size_t)(q - rq->rq_target) : rq->rq_target_len;
	buf_append(&c->c_req, rq->rq_method, rq->rq_method_len);
	buf_append(&c->c_req, "", 1);
	buf_append(&c->c_req, rq->rq_target, plen);
	buf_append(&c->c_req, "", 1);
	if (q != NULL)
		buf_append(&c->c_req, q + 1,
		    rq->rq_target_len - plen - 1);
	buf_append(&c->c_req, "", 1);
}

/* Keep the head for the access log line: it is consumed before dispatch. */
/* The peer's address, for logs (a static buffer). */
static const char *
conn_peer_str(const struct adm_conn *c)
{
	static char s[INET6_ADDRSTRLEN];
	const void *a;

	a = c->c_peer.ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)&c->c_peer)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)&c->c_peer)->sin_addr;
	if (inet_ntop(c->c_peer.ss_family, a, s, sizeof(s)) == NULL)
		strlcpy(s, "?", sizeof(s));
	return s;
}

/* May this request use the mutating endpoints (admin_acl.c)?  From its
 * peer, or its Authorization header, read while the head is at hand. */
static void
conn_authorize(struct adm_conn *c)
{
	const struct http1 *h = &c->c_parser.ap_h1;
	const char *p = c->c_rbuf.b_data, *v = NULL;
	size_t vlen = 0;
	uint16_t i;

	for (i = 0; i < h->h_nhdrs; i++)
		if (h->h_hdrs[i].h_name.s_len == 13 && strncasecmp(p +
		    h->h_hdrs[i].h_name.s_off, "authorization", 13) == 0) {
			v = p + h->h_hdrs[i].h_value.s_off;
			vlen = h->h_hdrs[i].h_value.s_len;
			break;
		}
	c->c_allowed = mst_admin_acl_allows((struct sockaddr *)&c->c_peer, v,
	    vlen);
}

static void
conn_al_begin(struct adm_conn *c, const struct mst_admin_req *rq)
{
	buf_reset(&c->c_alhead);
	buf_append(&c->c_alhead, c->c_rbuf.b_data, rq->rq_head_len);
	c->c_al_start_ms = cd_realtime_ms();
	c->c_al_rx = rq->rq_clen;
}

/* The admin access log line of the request just answered. */
static void
conn_al_line(struct adm_conn *c, int status, uint64_t tx)
{
	struct alog_rec ar;
	struct buf target;
	const char *method = c->c_req.b_data;
	const char *path = method + strlen(method) + 1;
	const char *query = path + strlen(path) + 1;
	const char *h = c->c_alhead.b_data;
	size_t hlen = c->c_alhead.b_oom ? 0 : c->c_alhead.b_len;
	uint64_t now = cd_realtime_ms();

	c->c_al_pending = 0;

	buf_init(&target);
	buf_puts(&target, path);
	if (*query != '\0')
		buf_printf(&target, "?%s", query);
	memset(&ar, 0, sizeof(ar));
	ar.ar_start_ms = c->c_al_start_ms;
	ar.ar_duration_ms = now > c->c_al_start_ms ? now - c->c_al_start_ms : 0;
	ar.ar_method.a_p = method;
	ar.ar_method.a_len = strlen(method);
	if (!target.b_oom) {
		ar.ar_path.a_p = target.b_data;
		ar.ar_path.a_len = target.b_len;
	}
	ar.ar_protocol = c->c_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
	ar.ar_code = (uint16_t)status;
	ar.ar_rx = c->c_al_rx;
	ar.ar_tx = tx;
	ar.ar_svc_ms = -1;
	if (hlen > 0) {
		alog_header(h, hlen, "x-forwarded-for", &ar.ar_xff);
		alog_header(h, hlen, "user-agent", &ar.ar_ua);
		alog_header(h, hlen, "x-request-id", &ar.ar_rid);
		alog_header(h, hlen, "host", &ar.ar_authority);
	}
	mst_accesslog_admin(&ar, hlen > 0 ? h : NULL, hlen);
	buf_free(&target);
}

/* The reply r to the request in c_req: queued, logged, acted on. */
static void
conn_respond(struct adm_conn *c, struct mst_admin_reply *r)
{
	const char *method = c->c_req.b_data;
	const char *path = method + strlen(method) + 1;
	const char *query = path + strlen(path) + 1;
	int head = strcmp(method, "HEAD") == 0;

	if (head && r->ar_status == 405) {
		buf_reset(&r->ar_body);
		buf_printf(&r->ar_body, "Method %s not allowed, POST required.",
		    method);
	}
	log_debug("admin: conn %" PRIu64 ": %s %s%s%s: %d", c->c_id, method,
	    path, *query != '\0' ? "?" : "", query, r->ar_status);
	/* the server is going away: say so rather than keep the connection */
	c->c_close = !c->c_keepalive || r->ar_action == MST_ADMIN_ACT_QUIT ||
	    r->ar_action == MST_ADMIN_ACT_DRAIN_QUIT;
	/* HTTP/1.0 has no chunks: a streamed body ends with the connection */
	if (r->ar_more != NULL && c->c_minor == 0)
		c->c_close = 1;
	c->c_chunked = r->ar_more != NULL && c->c_minor != 0;
	if (r->ar_action == MST_ADMIN_ACT_DRAIN_LISTENERS && adm_actor != NULL)
		adm_actor(r->ar_action);
	conn_reply(c, r, head);
	if (!head && r->ar_more != NULL) {
		/* the connection owns the stream now */
		c->c_more = r->ar_more;
		c->c_done = r->ar_done;
		c->c_marg = r->ar_arg;
		r->ar_more = NULL;
		r->ar_done = NULL;
	}
	if (!mst_accesslog_admin_on())
		return;
	if (c->c_more == NULL) {
		conn_al_line(c, r->ar_status, head ? 0 : r->ar_body.b_len);
		return;
	}
	/* a streamed body: the line when its last piece is out (or the
	 * connection ends first), with every piece's bytes */
	c->c_al_pending = 1;
	c->c_al_status = r->ar_status;
	c->c_al_tx = r->ar_body.b_len;
}

/* The reply comes later: read nothing more until it does, or it is too
 * late (conn_timeout()); a client that hangs up ends it. */
static int
conn_wait(struct adm_conn *c, uint64_t id)
{
	conn_set_state(c, ADM_S_WAIT);
	c->c_wait_id = id;
	if (mst_loop_mod(c->c_fd, EPOLLRDHUP, conn_io, c) == -1) {
		conn_close(c, "epoll");
		return -1;
	}
	mst_timer_cancel(c->c_timer);
	c->c_timer = mst_timer_add(MST_ADMIN_WAIT_MS, conn_timeout, c);
	return 1;
}

/* Answer the request in c_req: 0 when the reply is queued, 1 when it
 * comes later (ADM_S_WAIT), -1 when the connection is gone. */
static int
conn_dispatch(struct adm_conn *c)
{
	struct mst_admin_reply r;
	const char *method = c->c_req.b_data;
	const char *path = method + strlen(method) + 1;
	const char *query = path + strlen(path) + 1;
	int head = strcmp(method, "HEAD") == 0, rc;

	mst_admin_reply_init(&r);
	if (strcmp(method, "POST") == 0 && !c->c_allowed) {
		/* only POST changes anything: the rest answers anyone */
		adm_ctr.ac_rbac_denied++;
		admin_reply_text(&r, 403, "RBAC: access denied");
		log_info("admin: conn %" PRIu64 ": POST %s from %s: access "
		    "denied (not in the admin allow list, no valid token)",
		    c->c_id, path, conn_peer_str(c));
	} else
		/* a HEAD is answered as its GET would be, without the body */
		mst_admin_handle(head ? "GET" : method, path, query, &r);
	rc = r.ar_defer != 0 ? conn_wait(c, r.ar_defer) : 0;
	if (rc == 0)
		conn_respond(c, &r);
	mst_admin_reply_free(&r);
	return rc;
}

/*
 * The last reply is out.  Closing now, with request bytes still unread,
 * would make the kernel send a reset that can destroy the reply before the
 * client reads it (a 431 for a head still arriving): half-close, read and
 * drop until the peer closes or ADMIN_LINGER_MS pass, then close.
 */
static void
conn_linger(struct adm_conn *c)
{
	shutdown(c->c_fd, SHUT_WR);
	conn_set_state(c, ADM_S_LINGER);
	buf_free(&c->c_rbuf);
	buf_free(&c->c_wbuf);
	if (mst_loop_mod(c->c_fd, EPOLLIN, conn_io, c) == -1) {
		conn_close(c, "epoll");
		return;
	}
	mst_timer_cancel(c->c_timer);
	c->c_timer = mst_timer_add(ADMIN_LINGER_MS, conn_timeout, c);
}

static void
conn_linger_read(struct adm_conn *c)
{
	char tmp[ADMIN_READ_CHUNK];
	ssize_t n;
	int i;

	for (i = 0; i < ADMIN_READS_PER_WAKE; i++) {
		n = read(c->c_fd, tmp, sizeof(tmp));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c, "reply sent");
			return;
		}
	}
}

/*
 * Send what is queued.  0: all out and the connection reads again;
 * 1: the socket is full (EPOLLOUT armed); -1: the connection is closing
 * or gone, do not touch it.
 */
/* Wait for the socket to take more (EPOLLOUT).  1, or -1: closed. */
static int
conn_wait_out(struct adm_conn *c)
{
	if (c->c_state == ADM_S_WRITE)
		return 1;
	conn_set_state(c, ADM_S_WRITE);
	if (mst_loop_mod(c->c_fd, EPOLLOUT, conn_io, c) == -1) {
		conn_close(c, "epoll");
		return -1;
	}
	return 1;
}

/* A streamed body's next piece into the emptied c_wbuf (and its end, when
 * it was the last).  0, or -1: it failed and the connection is closed. */
static int
conn_more(struct adm_conn *c)
{
	int rc;

	buf_reset(&c->c_wbuf);
	c->c_woff = 0;
	buf_reset(&adm_piece);
	rc = c->c_more(c->c_marg, &adm_piece);
	if (rc == -1 || adm_piece.b_oom) {
		/* no last chunk: the client sees the body cut short */
		conn_close(c, "streamed reply failed");
		return -1;
	}
	conn_piece(c, &adm_piece);
	if (c->c_wbuf.b_oom) {
		conn_close(c, "out of memory");
		return -1;
	}
	c->c_al_tx += adm_piece.b_len;
	if (adm_piece.b_cap > ADMIN_PIECE_KEEP)
		buf_free(&adm_piece);
	if (rc == 0) {
		if (c->c_done != NULL)
			c->c_done(c->c_marg);
		c->c_more = NULL;
		c->c_done = NULL;
		if (c->c_chunked)
			buf_puts(&c->c_wbuf, "0\r\n\r\n");
		if (c->c_al_pending)
			conn_al_line(c, c->c_al_status, c->c_al_tx);
	}
	return 0;
}

/*
 * Send what is queued, and a streamed body a piece per wake-up.  0: all
 * out and the connection reads again; 1: the socket is full or the next
 * piece waits for the next wake-up (EPOLLOUT armed); -1: the connection
 * is closing or gone, do not touch it.
 */
static int
conn_flush(struct adm_conn *c)
{
	ssize_t n;
	int made = 0;

	if (c->c_wbuf.b_oom) {
		conn_close(c, "out of memory");
		return -1;
	}
	while (c->c_woff < c->c_wbuf.b_len || c->c_more != NULL) {
		if (c->c_woff == c->c_wbuf.b_len) {
			/* one piece per wake-up: the loop serves others */
			if (made++ > 0)
				return conn_wait_out(c);
			if (conn_more(c) == -1)
				return -1;
			continue;
		}
		n = send(c->c_fd, c->c_wbuf.b_data + c->c_woff,
		    c->c_wbuf.b_len - c->c_woff, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return conn_wait_out(c);
			conn_close(c, "write error");
			return -1;
		}
		c->c_woff += (size_t)n;
		conn_touch(c);
	}
	buf_reset(&c->c_wbuf);
	c->c_woff = 0;
	if (c->c_quit != MST_ADMIN_ACT_NONE) {
		admin_schedule_quit(c->c_quit);
		c->c_quit = MST_ADMIN_ACT_NONE;
	}
	if (c->c_close) {
		conn_linger(c);
		return -1;
	}
	if (c->c_state == ADM_S_WRITE &&
	    mst_loop_mod(c->c_fd, EPOLLIN, conn_io, c) == -1) {
		conn_close(c, "epoll");
		return -1;
	}
	conn_set_state(c, ADM_S_READ_HEAD);
	c->c_head_ms = mst_now_ms();	/* the next head's clock */
	return 0;
}

/*
 * Serve every complete request in c_rbuf, in order.  0: waiting for more
 * bytes or for the socket; -1: the connection is gone.
 */
static int
conn_process(struct adm_conn *c)
{
	struct mst_admin_req rq;
	size_t n;
	int rc;

	for (;;) {
		switch (c->c_state) {
		case ADM_S_READ_HEAD:
			switch (mst_admin_parser_feed(&c->c_parser,
			    c->c_rbuf.b_data, c->c_rbuf.b_len, &rq)) {
			case MST_ADMIN_P_AGAIN:
				return 0;
			case MST_ADMIN_P_ERR:
				adm_ctr.ac_rq_total++;
				conn_reply_error(c, rq.rq_status);
				/* c_close is set: this ends the connection */
				return conn_flush(c) == -1 ? -1 : 0;
			case MST_ADMIN_P_OK:
				break;
			}
			adm_ctr.ac_rq_total++;
			conn_save_request(c, &rq);
			conn_authorize(c);
			if (mst_accesslog_admin_on())
				conn_al_begin(c, &rq);
			c->c_minor = rq.rq_minor;
			c->c_keepalive = rq.rq_keepalive;
			c->c_body_left = rq.rq_clen;
			conn_consume(c, rq.rq_head_len);
			mst_admin_parser_init(&c->c_parser);
			conn_set_state(c, ADM_S_READ_BODY);
			/* FALLTHROUGH */
		case ADM_S_READ_BODY:
			n = c->c_rbuf.b_len < c->c_body_left ? c->c_rbuf.b_len :
			    (size_t)c->c_body_left;
			conn_consume(c, n);
			c->c_body_left -= n;
			if (c->c_body_left > 0)
				return 0;
			if (c->c_req.b_oom) {
				conn_close(c, "out of memory");
				return -1;
			}
			if ((rc = conn_dispatch(c)) != 0)
				return rc == -1 ? -1 : 0;
			if ((rc = conn_flush(c)) != 0)
				return rc == -1 ? -1 : 0;
			break;
		case ADM_S_WRITE:
		case ADM_S_LINGER:
		case ADM_S_WAIT:
			return 0;
		default:
			CD_ASSERT(!"admin connection in a bad state");
		}
	}
}

/* The answer a waiting connection was waiting for: out it goes, then
 * the requests pipelined behind it. */
static void
conn_answer(struct adm_conn *c, int status, const char *ctype,
    const char *body, size_t len)
{
	struct mst_admin_reply r;

	mst_admin_reply_init(&r);
	r.ar_status = status;
	r.ar_ctype = ctype;
	buf_append(&r.ar_body, body, len);
	c->c_wait_id = 0;
	mst_timer_cancel(c->c_timer);
	c->c_timer = NULL;
	conn_respond(c, &r);
	mst_admin_reply_free(&r);
	if (mst_loop_mod(c->c_fd, EPOLLIN, conn_io, c) == -1) {
		conn_close(c, "epoll");
		return;
	}
	conn_touch(c);
	if (conn_flush(c) == 0)
		(void)conn_process(c);
}

uint64_t
mst_admin_defer_id(void)
{
	return ++adm_next_defer;
}

void
mst_admin_answer(uint64_t id, int status, const char *ctype,
    const char *body, size_t len)
{
	struct adm_conn *c;

	TAILQ_FOREACH(c, &adm_conns, c_entry)
		if (c->c_state == ADM_S_WAIT && c->c_wait_id == id) {
			conn_answer(c, status, ctype, body, len);
			return;
		}
	log_debug("admin: an answer (%d) for a connection gone: dropped",
	    status);
}

static void
conn_read(struct adm_conn *c)
{
	char tmp[ADMIN_READ_CHUNK];
	ssize_t n;
	int i;

	for (i = 0; i < ADMIN_READS_PER_WAKE; i++) {
		n = read(c->c_fd, tmp, sizeof(tmp));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c, "read error");
			return;
		}
		if (n == 0) {
			conn_close(c, "peer closed");
			return;
		}
		/* an idle wait does not count against the head's time */
		if (c->c_state == ADM_S_READ_HEAD && c->c_rbuf.b_len == 0)
			c->c_head_ms = mst_now_ms();
		if (buf_append(&c->c_rbuf, tmp, (size_t)n) == -1) {
			conn_close(c, "out of memory");
			return;
		}
		conn_touch(c);
		if (conn_process(c) == -1 || c->c_state == ADM_S_WRITE)
			return;
	}
}

static void
conn_io(int fd, uint32_t events, void *arg)
{
	struct adm_conn *c = arg;

	(void)fd;
	if (c->c_state == ADM_S_LINGER) {
		conn_linger_read(c);
		return;
	}
	if (c->c_state == ADM_S_WAIT) {
		if (events & (EPOLLRDHUP | EPOLLERR | EPOLLHUP))
			conn_close(c, "peer left before the answer");
		return;
	}
	if (c->c_state == ADM_S_WRITE) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
			if (conn_flush(c) != 0)
				return;
			/* pipelined requests that waited for this reply */
			if (conn_process(c) == -1)
				return;
		}
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c);
}

static void
conn_new(int fd, const struct sockaddr_storage *peer)
{
	struct adm_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("admin: connection");
		close(fd);
		return;
	}
	c->c_fd = fd;
	c->c_id = ++adm_next_id;
	c->c_state = ADM_S_READ_HEAD;
	c->c_peer = *peer;
	c->c_head_ms = mst_now_ms();
	buf_init(&c->c_rbuf);
	mst_admin_parser_init(&c->c_parser);
	buf_init(&c->c_wbuf);
	buf_init(&c->c_req);
	buf_init(&c->c_alhead);
	if (mst_loop_add(fd, EPOLLIN, conn_io, c) == -1) {
		log_warn("admin: epoll add");
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&adm_conns, c, c_entry);
	adm_nconns++;
	adm_ctr.ac_cx_total++;
	adm_ctr.ac_cx_active++;
	conn_touch(c);
}

/* ---- the listener ------------------------------------------------------ */

static void admin_accept(int, uint32_t, void *);

static void
admin_resume(void *arg)
{
	(void)arg;
	adm_pause_timer = NULL;
	if (adm_listen_fd != -1 &&
	    mst_loop_add(adm_listen_fd, EPOLLIN, admin_accept, NULL) == -1)
		log_warn("admin: epoll add");
}

/* Two peers are the same address (the port aside). */
static bool
same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr,
	    sizeof(struct in6_addr)) == 0;
}

/*
 * Room for a newcomer from peer: at ADMIN_MAX_PER_PEER connections from
 * that address, or ADMIN_MAX_CONNS in all, close the one (of that peer,
 * or of anyone) that has waited longest for a complete request.  false
 * when none can go (all busy replying): the newcomer is refused then.
 */
static bool
make_room(const struct sockaddr_storage *peer)
{
	struct adm_conn *c, *old_peer = NULL, *old_any = NULL;
	int npeer = 0;

	TAILQ_FOREACH(c, &adm_conns, c_entry) {
		bool mine = same_peer(&c->c_peer, peer);

		npeer += mine;
		if (c->c_state != ADM_S_READ_HEAD)
			continue;
		if (old_any == NULL || c->c_head_ms < old_any->c_head_ms)
			old_any = c;
		if (mine && (old_peer == NULL ||
		    c->c_head_ms < old_peer->c_head_ms))
			old_peer = c;
	}
	if (npeer >= ADMIN_MAX_PER_PEER) {
		if (old_peer == NULL)
			return false;
		adm_ctr.ac_cx_evicted++;
		conn_close(old_peer, "per-address limit: the oldest waiting "
		    "connection makes room");
	} else if (adm_nconns >= ADMIN_MAX_CONNS) {
		if (old_any == NULL)
			return false;
		adm_ctr.ac_cx_evicted++;
		conn_close(old_any, "connection limit: the oldest waiting "
		    "connection makes room");
	}
	return true;
}

static void
admin_accept(int fd, uint32_t events, void *arg)
{
	struct sockaddr_storage peer;
	socklen_t plen;
	int i, s;

	(void)events;
	(void)arg;
	for (i = 0; i < ADMIN_ACCEPTS_PER_WAKE; i++) {
		plen = sizeof(peer);
		memset(&peer, 0, sizeof(peer));
		s = accept4(fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (s == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			log_warn("admin: accept");
			/* out of descriptors or memory: the socket stays
			 * readable, so stop watching it for a while or the
			 * loop spins */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				mst_loop_del(fd);
				adm_pause_timer = mst_timer_add(
				    ADMIN_ACCEPT_PAUSE_MS, admin_resume, NULL);
			}
			return;
		}
		if (!make_room(&peer)) {
			log_debug("admin: %d connections, none waiting: closing "
			    "the new one", adm_nconns);
			close(s);
			continue;
		}
		conn_new(s, &peer);
	}
}

/* Remember the configured admin address this start serves. */
static void
admin_note_addr(const struct cd_admin *a)
{
	memset(&adm_addr, 0, sizeof(adm_addr));
	adm_addr.aa_set = a->a_set;
	if (a->a_set) {
		strlcpy(adm_addr.aa_addr, a->a_addr.sa_address,
		    sizeof(adm_addr.aa_addr));
		adm_addr.aa_port = a->a_addr.sa_port;
	}
}

/* Does the running configuration name another admin address? */
static int
admin_addr_changed(const struct cd_admin *a)
{
	return a->a_set != adm_addr.aa_set || (a->a_set &&
	    (strcmp(a->a_addr.sa_address, adm_addr.aa_addr) != 0 ||
	    a->a_addr.sa_port != adm_addr.aa_port));
}

static int
admin_listen(void)
{
	const struct cd_admin *a;
	struct addrinfo hints, *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char port[8], host[INET6_ADDRSTRLEN];
	int s = -1, rc, on = 1, saved = 0;
	uint16_t bound = 0;

	if (adm_listen_fd != -1)
		return 0;
	admin_stats_flush_start();
	if (mst.m_conf != NULL)
		admin_note_addr(&mst.m_conf->c_admin);
	if (mst.m_conf == NULL || !mst.m_conf->c_admin.a_set) {
		log_info("admin: no admin address configured");
		return 0;
	}
	a = &mst.m_conf->c_admin;
	snprintf(port, sizeof(port), "%u", a->a_addr.sa_port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(a->a_addr.sa_address, port, &hints, &res)) != 0) {
		log_warnx("admin: %s: %s", a->a_addr.sa_address,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (s == -1) {
			saved = errno;
			continue;
		}
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		/* as Envoy: "::" means IPv6 only */
		if (ai->ai_family == AF_INET6)
			setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(s, ADMIN_BACKLOG) == 0)
			break;
		saved = errno;
		close(s);
		s = -1;
	}
	freeaddrinfo(res);
	if (s == -1) {
		errno = saved;
		log_warn("admin: listen on %s:%s", a->a_addr.sa_address, port);
		return -1;
	}
	if (mst_loop_add(s, EPOLLIN, admin_accept, NULL) == -1) {
		log_warn("admin: epoll add");
		close(s);
		return -1;
	}
	adm_listen_fd = s;
	/* port 0 in the config: say which one the kernel chose */
	strlcpy(host, a->a_addr.sa_address, sizeof(host));
	if (getsockname(s, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET)
			bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	log_info("admin: listening on %s:%u", host, bound);
	return 0;
}

int
mst_admin_start(mst_admin_act_fn *actor)
{
	adm_actor = actor;
	return admin_listen();
}

void
mst_admin_reconfigure(void)
{
	if (!admin_addr_changed(&mst.m_conf->c_admin))
		return;
	mst_admin_stop();
	if (admin_listen() == -1)
		log_error("reload: admin listener did not move");
}

void
mst_admin_stop(void)
{
	struct adm_conn *c;

	while ((c = TAILQ_FIRST(&adm_conns)) != NULL) {
		c->c_quit = MST_ADMIN_ACT_NONE;	/* already stopping */
		conn_close(c, "admin stopped");
	}
	mst_timer_cancel(adm_pause_timer);
	adm_pause_timer = NULL;
	mst_timer_cancel(adm_quit_timer);
	adm_quit_timer = NULL;
	if (adm_listen_fd != -1) {
		mst_loop_del(adm_listen_fd);
		close(adm_listen_fd);
		adm_listen_fd = -1;
	}
}
