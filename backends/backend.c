/*
 * backend: the demo origin server behind canaryd, and the integration
 * tests' programmable upstream.  One process, one epoll loop, non-blocking
 * sockets, no threads.
 *
 *   backend --port P [--name v1|v2] [--addr 127.0.0.1] [--record FILE]
 *           [--more_ports N]
 *           [--status N] [--delay_ms N] [--fail_rate P] [--health_status N]
 *           [--health_delay_ms N] [--close_after_headers 0|1]
 *           [--chunked 0|1] [--reset 0|1] [--garbage 0|1] [--frame 0|1|2]
 *           [--ratelimited 0|1] [--extra_headers 0|1] [--upgrade 0|1]
 *
 * Every request gets the version body
 *   {"version":"v1","message":"This is stable version"}\n
 * (v2: "This is canary version"; any other name: "This is <name> version")
 * with content-type application/json, and the size of the request body it
 * read in x-body-bytes.  Special paths:
 *   GET  /health      status health_status (default 200), version body
 *   GET  /_stats      {"requests":N,"active":N,"max_active":N,"health":N,
 *                      "connections":N,"open":N}
 *   POST /_ctl?k=v&.. change the switches above at run time (same keys,
 *                     plus reset_stats=1); answers the switches as JSON
 *   GET  /echo        the request line and headers exactly as received
 *   GET  /bytes/N     N bytes of pattern, content-length
 *   GET  /chunked/N   the same N bytes, chunked
 * --more_ports N listens on N more ports of the same address as well,
 * ports the kernel picks, all serving alike; they are printed, before
 * "listening on", as one line "more ports: P1,P2,...".
 * /_stats and /_ctl are neither counted nor recorded... in "requests"; they
 * are recorded by --record like everything else received.
 *
 * frame=1 answers with both content-length and transfer-encoding: chunked
 * (the length counts the chunked bytes, so the two framings disagree about
 * where the response ends); frame=2 sends, right after a correct response,
 * an unsolicited second one whose body is "smuggled": a proxy that pools
 * the connection would hand it to the next client.
 *
 * ratelimited=1 marks every failed answer (status 400 or more: the status
 * switch, or a fail_rate pick) with x-envoy-ratelimited: true, as an
 * upstream Envoy whose rate limit refused the request would.
 *
 * extra_headers=1 adds "x-powered-by: canary-backend" and
 * "cache-control: max-age=60" to every answer, headers a proxy's
 * configured mutations may remove or overwrite.
 *
 * Upgrades (upgrade=1, the default): a request with "Connection: upgrade"
 * and an Upgrade header is answered "101 Switching Protocols" (with
 * x-backend, and for "Upgrade: websocket" the Sec-WebSocket-Accept of
 * its key, RFC 6455), then the connection is an echo: a WebSocket one
 * (each data frame sent back unmasked as it came, ping answered with
 * pong, a close frame answered with a close frame and the end of the
 * connection) or, for any other type, every byte sent back as it came.
 * The client's end of stream is answered, once everything echoed went
 * out, with ours.  The echo stops reading while BE_TUNNEL_MAX bytes wait
 * to be sent, so a slow reader holds it back through TCP.  upgrade=0
 * answers an upgrade request like any other request.
 *
 * The fault switches (status, delay_ms, fail_rate, close_after_headers,
 * chunked, reset, garbage, frame, ratelimited) apply to every path except
 * /health, /_stats and /_ctl, so a test can break the data path without
 * the master's health checks noticing; /health has its own health_status
 * and health_delay_ms.
 * fail_rate=P is deterministic: counting requests from the moment it was
 * set, request n is answered 503 when floor(n*P/100) > floor((n-1)*P/100),
 * i.e. exactly P of every 100, evenly spread (P=10: the 10th, 20th, ...;
 * P=50: every 2nd; P=100: all).
 *
 * Pattern bodies (/bytes, /chunked): byte i is 33 + i % 89, printable and
 * with a prime period, so a lost or repeated block shows in a comparison.
 * /echo escapes bytes >= 0x80 as \u00XX: decode the JSON and encode the
 * strings as latin-1 to get the wire bytes back.
 *
 * Invariant: a connection handles one request at a time, in order; input
 * that arrives while a response is pending (pipelining) waits in c_in and
 * is not read further, so a slow reader cannot make us buffer without bound.
 */

#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BE_HEAD_MAX	(64 * 1024)	/* request line + headers */
#define BE_HDR_MAX	200		/* header lines per request */
#define BE_READ_CHUNK	(64 * 1024)
#define BE_GEN_CHUNK	(64 * 1024)	/* pattern bytes generated at once */
#define BE_REC_MAX	(64 * 1024 * 1024) /* raw bytes recorded per request */
#define BE_BYTES_MAX	((uint64_t)1 << 32) /* /bytes/N and /chunked/N */
#define BE_EVENTS	64
#define BE_TUNNEL_MAX	(256 * 1024)	/* echo bytes waiting: stop reading */
#define BE_WS_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Growable byte buffer; r is the read offset so consuming is cheap. */
struct bbuf {
	char	*b_p;
	size_t	 b_r;
	size_t	 b_len;
	size_t	 b_cap;
};

/* The switches, settable from argv and from /_ctl. */
struct settings {
	long	 s_status;
	long	 s_delay_ms;
	long	 s_fail_rate;
	long	 s_health_status;
	long	 s_health_delay_ms;
	long	 s_close_after_headers;
	long	 s_chunked;
	long	 s_reset;
	long	 s_garbage;	/* answer a head that is not HTTP */
	long	 s_frame;	/* 1: CL and TE; 2: an extra response */
	long	 s_ratelimited;	/* x-envoy-ratelimited on failures */
	long	 s_extra_headers;	/* x-powered-by, cache-control */
	long	 s_upgrade;	/* 101 and an echo for upgrades */
};

static const struct setting_key {
	const char	*k_name;
	size_t		 k_off;
	long long	 k_min;
	long long	 k_max;
} setting_keys[] = {
	{ "status", offsetof(struct settings, s_status), 200, 599 },
	{ "delay_ms", offsetof(struct settings, s_delay_ms), 0, 600000 },
	{ "fail_rate", offsetof(struct settings, s_fail_rate), 0, 100 },
	{ "health_status", offsetof(struct settings, s_health_status),
	    200, 599 },
	{ "health_delay_ms", offsetof(struct settings, s_health_delay_ms),
	    0, 600000 },
	{ "close_after_headers",
	    offsetof(struct settings, s_close_after_headers), 0, 1 },
	{ "chunked", offsetof(struct settings, s_chunked), 0, 1 },
	{ "reset", offsetof(struct settings, s_reset), 0, 1 },
	{ "garbage", offsetof(struct settings, s_garbage), 0, 1 },
	{ "frame", offsetof(struct settings, s_frame), 0, 2 },
	{ "ratelimited", offsetof(struct settings, s_ratelimited), 0, 1 },
	{ "extra_headers", offsetof(struct settings, s_extra_headers), 0, 1 },
	{ "upgrade", offsetof(struct settings, s_upgrade), 0, 1 },
};
#define NSETTINGS	(sizeof(setting_keys) / sizeof(setting_keys[0]))

enum conn_state {
	CONN_S_READ_HEAD,	/* waiting for a complete request head */
	CONN_S_READ_BODY,	/* reading and discarding the request body */
	CONN_S_DELAY,		/* delay_ms timer running, nothing armed */
	CONN_S_WRITE,		/* sending the response */
	CONN_S_TUNNEL,		/* after a 101: echoing */
};

enum req_kind {
	REQ_K_NORMAL,
	REQ_K_HEALTH,
	REQ_K_STATS,
	REQ_K_CTL,
	REQ_K_ECHO,
	REQ_K_BYTES,
	REQ_K_CHUNKED,
};

/* Request body framing, and the chunked decoder's position. */
enum body_state {
	BODY_S_NONE,
	BODY_S_LENGTH,		/* c_body_left bytes to go */
	BODY_S_CHUNK_SIZE,	/* reading "hex[;ext]\r\n" */
	BODY_S_CHUNK_DATA,	/* c_body_left bytes of chunk data */
	BODY_S_CHUNK_CRLF,	/* the CRLF after chunk data */
	BODY_S_TRAILER,		/* trailer lines up to an empty one */
};

struct conn {
	TAILQ_ENTRY(conn) c_timer;	/* on delayed while CONN_S_DELAY */
	LIST_ENTRY(conn) c_all;		/* on conns while open */
	int		 c_fd;
	enum conn_state	 c_state;
	uint32_t	 c_events;	/* what epoll is armed for */
	struct bbuf	 c_in;
	struct bbuf	 c_out;
	struct bbuf	 c_rec;		/* raw bytes of this request */
	struct bbuf	 c_echo;	/* /echo body, built from the head */

	/* the request being handled */
	enum req_kind	 c_kind;
	int		 c_counted;	/* counted in st_active */
	int		 c_keepalive;
	int		 c_head;	/* HEAD: no response body */
	int		 c_fail;	/* fail_rate picked this one */
	int		 c_ratelimited;	/* answer with x-envoy-ratelimited */
	enum body_state	 c_body;
	uint64_t	 c_body_left;
	uint64_t	 c_body_bytes;
	uint64_t	 c_nbytes;	/* /bytes/N, /chunked/N */
	char		 c_query[1024];
	uint64_t	 c_deadline;	/* CLOCK_MONOTONIC ms */

	/* the response body still to generate into c_out */
	uint64_t	 c_gen_off;
	uint64_t	 c_gen_left;
	int		 c_gen_chunked;	/* emit as chunks, then 0\r\n\r\n */
	unsigned	 c_gen_seq;	/* chunks emitted, picks the next size */
	int		 c_close;	/* close once c_out is written */

	/* upgrades */
	char		 c_upgrade[64];	/* the Upgrade value; "" for none */
	char		 c_ws_key[64];	/* Sec-WebSocket-Key */
	int		 c_conn_upgrade;	/* Connection lists upgrade */
	int		 c_ws;		/* the tunnel speaks WebSocket */
	int		 c_eof;		/* the client ended its side */
};

static TAILQ_HEAD(conn_tq, conn) delayed = TAILQ_HEAD_INITIALIZER(delayed);
/* Every open connection: the process exits with some open (on a signal),
 * and they stay reachable rather than leaked. */
static LIST_HEAD(conn_all, conn) conns = LIST_HEAD_INITIALIZER(conns);

static struct settings	 set = { 200, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const char	*be_name = "v1";
static char		 be_body[256];
static int		 be_epfd = -1;
static int		 be_lfd = -1;
static int		*be_more;		/* --more_ports listeners */
static int		 be_nmore;
static int		 be_recfd = -1;
static uint64_t		 be_accept_resume;	/* 0: accepting */

/* /_stats */
static uint64_t		 st_requests;
static uint64_t		 st_active;
static uint64_t		 st_max_active;
static uint64_t		 st_health;
static uint64_t		 st_connections;
static uint64_t		 st_open;
static uint64_t		 st_fail_seq;	/* requests since fail_rate was set */

static void	conn_advance(struct conn *);
static void	conn_close(struct conn *, int);
static int	conn_flush(struct conn *);
static void	delay_insert(struct conn *);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
bbuf_free(struct bbuf *b)
{
	free(b->b_p);
	memset(b, 0, sizeof(*b));
}

static size_t
bbuf_avail(const struct bbuf *b)
{
	return b->b_len - b->b_r;
}

static const char *
bbuf_data(const struct bbuf *b)
{
	return b->b_p + b->b_r;
}

static void
bbuf_consume(struct bbuf *b, size_t n)
{
	b->b_r += n;
	if (b->b_r == b->b_len)
		b->b_r = b->b_len = 0;
}

/* Make room for n more bytes; dies on ENOMEM (a test tool, not a server). */
static char *
bbuf_reserve(struct bbuf *b, size_t n)
{
	size_t	 cap;
	char	*p;

	if (b->b_r > 0 && b->b_len + n > b->b_cap) {
		memmove(b->b_p, b->b_p + b->b_r, b->b_len - b->b_r);
		b->b_len -= b->b_r;
		b->b_r = 0;
	}
	if (b->b_len + n > b->b_cap) {
		cap = b->b_cap ? b->b_cap : 4096;
		while (cap < b->b_len + n)
			cap *= 2;
		if ((p = realloc(b->b_p, cap)) == NULL)
			err(1, "realloc");
		b->b_p = p;
		b->b_cap = cap;
	}
	return b->b_p + b->b_len;
}

static void
bbuf_add(struct bbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(bbuf_reserve(b, n), p, n);
	b->b_len += n;
}

static void
bbuf_printf(struct bbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bbuf_printf(struct bbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		errx(1, "vsnprintf");
	bbuf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->b_p + b->b_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->b_len += (size_t)n;
}

/* JSON string literal; bytes >= 0x80 as \u00XX (latin-1, see top). */
static void
bbuf_json_str(struct bbuf *b, const char *s, size_t n)
{
	size_t		 i;
	unsigned char	 ch;

	bbuf_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			bbuf_add(b, "\\", 1);
			bbuf_add(b, &s[i], 1);
		} else if (ch < 0x20 || ch >= 0x7f)
			bbuf_printf(b, "\\u%04x", ch);
		else
			bbuf_add(b, &s[i], 1);
	}
	bbuf_add(b, "\"", 1);
}

static unsigned char
pattern_byte(uint64_t i)
{
	return (unsigned char)(33 + i % 89);
}

/*
 * n <= BE_GEN_CHUNK pattern bytes from offset off, copied from one period
 * laid out ahead of time: a 1 GiB body costs memcpy, not a division a
 * byte, so the backend is not what a large-body benchmark measures.
 */
static void
pattern_fill(char *p, uint64_t off, size_t n)
{
	static char	 pat[BE_GEN_CHUNK + 89];
	static int	 ready;
	size_t		 i;

	if (!ready) {
		for (i = 0; i < sizeof(pat); i++)
			pat[i] = (char)pattern_byte(i);
		ready = 1;
	}
	memcpy(p, pat + off % 89, n);
}

static const char *
reason(long status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

static void
conn_arm(struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	if (c->c_events == events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(be_epfd, EPOLL_CTL_MOD, c->c_fd, &ev) == -1)
		err(1, "epoll_ctl mod");
	c->c_events = events;
}

/* Append what this connection received for the current request to FILE. */
static void
record_flush(struct conn *c)
{
	const char	*p = bbuf_data(&c->c_rec);
	size_t		 n = bbuf_avail(&c->c_rec);
	ssize_t		 w;

	if (be_recfd == -1 || n == 0)
		return;
	/* One write per request with O_APPEND: requests from different
	 * connections never interleave inside each other. */
	while (n > 0) {
		if ((w = write(be_recfd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			warn("record");
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	bbuf_consume(&c->c_rec, bbuf_avail(&c->c_rec));
}

static void
record_add(struct conn *c, const char *p, size_t n)
{
	if (be_recfd == -1)
		return;
	if (bbuf_avail(&c->c_rec) + n > BE_REC_MAX)
		n = BE_REC_MAX - bbuf_avail(&c->c_rec);
	bbuf_add(&c->c_rec, p, n);
}

static void
request_done(struct conn *c)
{
	if (c->c_counted) {
		st_active--;
		c->c_counted = 0;
	}
}

/*
 * Close the connection.  abortive: SO_LINGER 0, so the peer sees a reset
 * rather than an orderly end of stream.
 */
static void
conn_close(struct conn *c, int abortive)
{
	struct linger	 l = { 1, 0 };
	char		 drain[4096];
	int		 i;

	if (c->c_state == CONN_S_DELAY)
		TAILQ_REMOVE(&delayed, c, c_timer);
	request_done(c);
	/* Garbage or a partial request still counts as received. */
	record_add(c, bbuf_data(&c->c_in), bbuf_avail(&c->c_in));
	record_flush(c);
	if (abortive)
		(void)setsockopt(c->c_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	else {
		/* Unread input makes close(2) send a reset, which could
		 * destroy the response we just sent; read it away first
		 * (bounded: whatever is queued now). */
		for (i = 0; i < 64; i++)
			if (read(c->c_fd, drain, sizeof(drain)) <= 0)
				break;
		(void)shutdown(c->c_fd, SHUT_WR);
	}
	close(c->c_fd);
	bbuf_free(&c->c_in);
	bbuf_free(&c->c_out);
	bbuf_free(&c->c_rec);
	bbuf_free(&c->c_echo);
	LIST_REMOVE(c, c_all);
	free(c);
	st_open--;
}

/* Find the end of the head ("\r\n\r\n", or "\n\n" from sloppy clients). */
static size_t
head_end(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < n && p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int
token_eq(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

/* Does the comma-separated header value contain token s? */
static int
list_has(const char *v, size_t n, const char *s)
{
	size_t	 i = 0, b, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		b = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > b && token_eq(v + b, e - b, s))
			return 1;
	}
	return 0;
}

/* Is the last transfer coding "chunked"? */
static int
te_is_chunked(const char *v, size_t n)
{
	size_t	 e = n, b;

	while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	b = e;
	while (b > 0 && v[b - 1] != ',' && v[b - 1] != ' ' && v[b - 1] != '\t')
		b--;
	return token_eq(v + b, e - b, "chunked");
}

static int
parse_u64(const char *p, size_t n, int base, uint64_t max, uint64_t *out)
{
	uint64_t d, v = 0;
	size_t	 i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (isdigit((unsigned char)p[i]))
			d = (uint64_t)(p[i] - '0');
		else if (base == 16 && isxdigit((unsigned char)p[i]))
			d = (uint64_t)(tolower((unsigned char)p[i]) - 'a' + 10);
		else
			return -1;
		if (v > (max - d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + d;
	}
	*out = v;
	return 0;
}

/* Start a response: status line and headers into c_out. */
static void
resp_head(struct conn *c, long status, const char *ctype, int64_t clen,
    int chunked)
{
	char		 date[64];
	time_t		 t = time(NULL);
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	bbuf_printf(&c->c_out, "HTTP/1.1 %ld %s\r\n"
	    "server: canary-backend/%s\r\n"
	    "date: %s\r\n"
	    "content-type: %s\r\n"
	    "x-backend: %s\r\n"
	    "x-body-bytes: %" PRIu64 "\r\n",
	    status, reason(status), be_name, date, ctype, be_name,
	    c->c_body_bytes);
	if (c->c_ratelimited)
		bbuf_printf(&c->c_out, "x-envoy-ratelimited: true\r\n");
	if (set.s_extra_headers)
		bbuf_printf(&c->c_out, "x-powered-by: canary-backend\r\n"
		    "cache-control: max-age=60\r\n");
	if (chunked)
		bbuf_printf(&c->c_out, "transfer-encoding: chunked\r\n");
	else if (clen >= 0)
		bbuf_printf(&c->c_out, "content-length: %" PRId64 "\r\n", clen);
	bbuf_printf(&c->c_out, "connection: %s\r\n\r\n",
	    c->c_keepalive ? "keep-alive" : "close");
}

/*
 * Queue a complete response with body b (n bytes), honouring HEAD and the
 * chunked and close_after_headers switches when faults apply.
 */
static void
resp_body(struct conn *c, long status, const char *ctype, const char *b,
    size_t n, int faults)
{
	int	 chunked = faults && set.s_chunked;
	int	 cut = faults && set.s_close_after_headers;
	size_t	 full = n;

	if (status == 204 || status == 304) {
		resp_head(c, status, ctype, -1, 0);
		return;
	}
	resp_head(c, status, ctype, (int64_t)n, chunked);
	if (c->c_head)
		return;
	if (cut) {
		/* The promised length is never delivered: half, then EOF. */
		n /= 2;
		c->c_close = 1;
	}
	if (chunked && !cut) {
		if (n > 0)
			bbuf_printf(&c->c_out, "%zx\r\n", n);
		bbuf_add(&c->c_out, b, n);
		bbuf_printf(&c->c_out, "%s0\r\n\r\n", n > 0 ? "\r\n" : "");
	} else if (chunked) {
		bbuf_printf(&c->c_out, "%zx\r\n", full);
		bbuf_add(&c->c_out, b, n);
	} else
		bbuf_add(&c->c_out, b, n);
}

/* Pattern body of c_nbytes, generated as c_out drains. */
static void
resp_pattern(struct conn *c, long status, int chunked, int faults)
{
	int	 cut = faults && set.s_close_after_headers;

	chunked = chunked || (faults && set.s_chunked);
	resp_head(c, status, "application/octet-stream", (int64_t)c->c_nbytes,
	    chunked);
	if (c->c_head)
		return;
	c->c_gen_off = 0;
	c->c_gen_seq = 0;
	c->c_gen_left = c->c_nbytes;
	c->c_gen_chunked = chunked;
	if (chunked && c->c_gen_left == 0 && !cut)
		bbuf_add(&c->c_out, "0\r\n\r\n", 5);	/* gen_fill won't run */
	if (cut) {
		c->c_gen_left /= 2;
		c->c_gen_chunked = 0;	/* a bare partial chunk is enough */
		if (chunked)
			bbuf_printf(&c->c_out, "%" PRIx64 "\r\n", c->c_nbytes);
		c->c_close = 1;
	}
}

/*
 * Refill c_out from the pattern generator.  Chunk sizes cycle through a
 * few odd values so the chunked decoder on the other side sees small,
 * large and unaligned chunks.
 */
static void
gen_fill(struct conn *c)
{
	static const size_t sizes[] = { 1, 10, 999, 4096, 16411, BE_GEN_CHUNK };
	size_t		 n;
	char		*p;

	if (c->c_gen_left == 0)
		return;
	n = c->c_gen_chunked ? sizes[c->c_gen_seq++ % 6] : BE_GEN_CHUNK;
	if (n > c->c_gen_left)
		n = (size_t)c->c_gen_left;
	if (c->c_gen_chunked)
		bbuf_printf(&c->c_out, "%zx\r\n", n);
	p = bbuf_reserve(&c->c_out, n);
	pattern_fill(p, c->c_gen_off, n);
	c->c_out.b_len += n;
	c->c_gen_off += n;
	c->c_gen_left -= n;
	if (c->c_gen_chunked) {
		bbuf_add(&c->c_out, "\r\n", 2);
		if (c->c_gen_left == 0)
			bbuf_add(&c->c_out, "0\r\n\r\n", 5);
	}
}

static void
settings_json(struct bbuf *b)
{
	size_t	 i;

	bbuf_printf(b, "{\"name\":");
	bbuf_json_str(b, be_name, strlen(be_name));
	for (i = 0; i < NSETTINGS; i++)
		bbuf_printf(b, ",\"%s\":%ld", setting_keys[i].k_name,
		    *(long *)((char *)&set + setting_keys[i].k_off));
	bbuf_printf(b, "}\n");
}

/* Set key=value in *s; -1 with *errstr on an unknown key or bad value. */
static int
settings_set(struct settings *s, const char *key, const char *val,
    const char **errstr)
{
	size_t		 i;
	long long	 v;

	for (i = 0; i < NSETTINGS; i++) {
		if (strcmp(setting_keys[i].k_name, key) != 0)
			continue;
		v = strtonum(val, setting_keys[i].k_min, setting_keys[i].k_max,
		    errstr);
		if (*errstr != NULL)
			return -1;
		*(long *)((char *)s + setting_keys[i].k_off) = (long)v;
		return 0;
	}
	*errstr = "unknown key";
	return -1;
}

/*
 * POST /_ctl?k=v&...: validate every pair, then apply them all, so a typo
 * never leaves half a change behind.
 */
static void
handle_ctl(struct conn *c)
{
	struct settings	 s = set;
	struct bbuf	 b = { 0 };
	char		 q[sizeof(c->c_query)], *p, *kv, *v;
	const char	*errstr = NULL;
	int		 reset_stats = 0, fail_set = 0;

	if (strlcpy(q, c->c_query, sizeof(q)) >= sizeof(q))
		errstr = "query too long";
	p = q;
	while (errstr == NULL && (kv = strsep(&p, "&")) != NULL) {
		if (*kv == '\0')
			continue;
		if ((v = strchr(kv, '=')) == NULL) {
			errstr = "expected key=value";
			break;
		}
		*v++ = '\0';
		if (strcmp(kv, "reset_stats") == 0) {
			reset_stats = strtonum(v, 0, 1, &errstr);
			continue;
		}
		if (strcmp(kv, "fail_rate") == 0)
			fail_set = 1;
		if (settings_set(&s, kv, v, &errstr) == -1)
			break;
	}
	if (errstr != NULL) {
		bbuf_printf(&b, "{\"error\":");
		bbuf_json_str(&b, errstr, strlen(errstr));
		bbuf_printf(&b, ",\"query\":");
		bbuf_json_str(&b, c->c_query, strlen(c->c_query));
		bbuf_printf(&b, "}\n");
		resp_body(c, 400, "application/json", b.b_p, b.b_len, 0);
		bbuf_free(&b);
		return;
	}
	set = s;
	if (fail_set)
		st_fail_seq = 0;
	if (reset_stats) {
		st_requests = st_health = st_connections = 0;
		st_max_active = st_active;
	}
	settings_json(&b);
	resp_body(c, 200, "application/json", b.b_p, b.b_len, 0);
	bbuf_free(&b);
}

/* ---- upgrades ---------------------------------------------------------- */

static uint32_t
rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

/* SHA-1 of p[0, n) into out (RFC 3174): the WebSocket accept key only. */
static void
sha1(const unsigned char *p, size_t n, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
	    0xC3D2E1F0 };
	uint32_t w[80], a, b, c, d, e, f, k, t;
	unsigned char blk[64];
	uint64_t bits = (uint64_t)n * 8;
	size_t off = 0, i, j, take;
	int last = 0, padded = 0;

	while (!last) {
		take = n - off < 64 ? n - off : 64;
		memset(blk, 0, sizeof(blk));
		memcpy(blk, p + off, take);
		off += take;
		if (take < 64 && !padded) {
			blk[take] = 0x80;
			padded = 1;
		}
		if (take < 56 && padded) {
			for (j = 0; j < 8; j++)
				blk[63 - j] = (unsigned char)(bits >> (8 * j));
			last = 1;
		}
		for (i = 0; i < 16; i++)
			w[i] = (uint32_t)blk[4 * i] << 24 |
			    (uint32_t)blk[4 * i + 1] << 16 |
			    (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
		for (i = 16; i < 80; i++)
			w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16],
			    1);
		a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
		for (i = 0; i < 80; i++) {
			if (i < 20) {
				f = (b & c) | (~b & d);
				k = 0x5A827999;
			} else if (i < 40) {
				f = b ^ c ^ d;
				k = 0x6ED9EBA1;
			} else if (i < 60) {
				f = (b & c) | (b & d) | (c & d);
				k = 0x8F1BBCDC;
			} else {
				f = b ^ c ^ d;
				k = 0xCA62C1D6;
			}
			t = rol32(a, 5) + f + e + k + w[i];
			e = d; d = c; c = rol32(b, 30); b = a; a = t;
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
	}
	for (i = 0; i < 5; i++)
		for (j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

/* Sec-WebSocket-Accept for key (RFC 6455 4.2.2), NUL-terminated. */
static void
ws_accept(const char *key, char out[32])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[128], d[21];
	size_t n = strlen(key), i, o = 0;
	uint32_t v;

	n = n > 64 ? 64 : n;
	memcpy(in, key, n);
	memcpy(in + n, BE_WS_GUID, sizeof(BE_WS_GUID) - 1);
	sha1(in, n + sizeof(BE_WS_GUID) - 1, d);
	d[20] = 0;
	for (i = 0; i < 21; i += 3) {
		v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 |
		    (i + 2 < 21 ? d[i + 2] : 0);
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < 20 ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < 20 ? b64[v & 63] : '=';
	}
	out[28] = '\0';
}

/* Answer an upgrade: 101, then the echo (CONN_S_TUNNEL). */
static void
upgrade_accept(struct conn *c)
{
	char acc[32];

	c->c_ws = strcasecmp(c->c_upgrade, "websocket") == 0;
	bbuf_printf(&c->c_out, "HTTP/1.1 101 Switching Protocols\r\n"
	    "upgrade: %s\r\nconnection: Upgrade\r\nx-backend: %s\r\n",
	    c->c_upgrade, be_name);
	if (c->c_ws) {
		ws_accept(c->c_ws_key, acc);
		bbuf_printf(&c->c_out, "sec-websocket-accept: %s\r\n", acc);
	}
	bbuf_printf(&c->c_out, "\r\n");
	c->c_state = CONN_S_TUNNEL;
}

/* One WebSocket frame header (server side: unmasked) into c_out. */
static void
ws_frame_head(struct conn *c, unsigned char b0, uint64_t len)
{
	unsigned char h[10];
	size_t n = 2;
	int i;

	h[0] = b0;
	if (len < 126)
		h[1] = (unsigned char)len;
	else if (len < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		n = 4;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)(len >> (56 - 8 * i));
		n = 10;
	}
	bbuf_add(&c->c_out, h, n);
}

/*
 * Echo the whole frames c_in holds: data frames as they came (unmasked),
 * ping as pong, close as close and the end.  -1 on a frame no client may
 * send.
 */
static int
ws_feed(struct conn *c)
{
	unsigned char *p, *pl, op;
	uint64_t len;
	size_t n, hl, i;

	while (!c->c_close) {
		p = (unsigned char *)c->c_in.b_p + c->c_in.b_r;
		n = bbuf_avail(&c->c_in);
		if (n < 2)
			return 0;
		op = p[0] & 0x0f;
		len = p[1] & 0x7f;
		hl = 2;
		if (len == 126) {
			if (n < 4)
				return 0;
			len = (uint64_t)p[2] << 8 | p[3];
			hl = 4;
		} else if (len == 127) {
			if (n < 10)
				return 0;
			for (len = 0, i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			hl = 10;
		}
		if (!(p[1] & 0x80) || len > 16 * 1024 * 1024)
			return -1;	/* unmasked, or absurd */
		if (n < hl + 4 + len)
			return 0;
		pl = p + hl + 4;
		for (i = 0; i < len; i++)
			pl[i] ^= p[hl + i % 4];
		switch (op) {
		case 0x8:	/* close: the same status back, then the end */
			ws_frame_head(c, 0x88, len > 125 ? 125 : len);
			bbuf_add(&c->c_out, pl, len > 125 ? 125 : len);
			c->c_close = 1;
			break;
		case 0x9:	/* ping */
			ws_frame_head(c, 0x8a, len);
			bbuf_add(&c->c_out, pl, len);
			break;
		case 0xa:	/* pong */
			break;
		default:
			ws_frame_head(c, p[0], len);
			bbuf_add(&c->c_out, pl, len);
			break;
		}
		bbuf_consume(&c->c_in, hl + 4 + len);
	}
	return 0;
}

/* CONN_S_TUNNEL: echo what c_in holds, write what waits, close at the
 * end; read again only while little waits. */
static void
tunnel_step(struct conn *c)
{
	size_t pending;
	uint32_t ev;
	int r;

	if (c->c_ws) {
		if (ws_feed(c) == -1) {
			conn_close(c, 0);
			return;
		}
	} else if (bbuf_avail(&c->c_in) > 0) {
		bbuf_add(&c->c_out, bbuf_data(&c->c_in), bbuf_avail(&c->c_in));
		bbuf_consume(&c->c_in, bbuf_avail(&c->c_in));
	}
	if ((r = conn_flush(c)) == -1 || (r == 1 && (c->c_close ||
	    c->c_eof))) {
		conn_close(c, 0);
		return;
	}
	pending = bbuf_avail(&c->c_out);
	ev = pending > 0 ? EPOLLOUT : 0;
	if (pending < BE_TUNNEL_MAX && !c->c_eof && !c->c_close)
		ev |= EPOLLIN;
	conn_arm(c, ev);
}

/*
 * The request is complete: decide the answer and queue it in c_out.
 * Returns -1 when the answer was to reset the connection (c is gone).
 */
static int
respond(struct conn *c)
{
	struct bbuf	 b = { 0 };
	int		 faults = c->c_kind != REQ_K_HEALTH &&
			    c->c_kind != REQ_K_STATS && c->c_kind != REQ_K_CTL;
	long		 status = set.s_status;

	record_flush(c);
	if (faults && set.s_reset) {
		conn_close(c, 1);
		return -1;
	}
	if (c->c_fail)
		status = 503;
	if (set.s_upgrade && c->c_conn_upgrade && c->c_upgrade[0] != '\0' &&
	    c->c_kind == REQ_K_NORMAL && status == 200) {
		upgrade_accept(c);
		return 0;
	}
	c->c_ratelimited = faults && set.s_ratelimited && status >= 400;
	c->c_state = CONN_S_WRITE;
	if (faults && set.s_garbage) {
		/* a status line no parser takes; the connection stays open,
		 * so a proxy that pooled it would be caught */
		bbuf_printf(&c->c_out, "HTTP/1.1 2x0 Garbage\r\n\r\n");
		return 0;
	}
	if (faults && set.s_frame == 1) {
		/* chunked says 0 bytes then a new message; the length says
		 * it is all body */
		bbuf_printf(&c->c_out, "HTTP/1.1 200 OK\r\n"
		    "content-length: %zu\r\ntransfer-encoding: chunked\r\n"
		    "\r\n0\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 8\r\n"
		    "\r\nsmuggled", (size_t)(5 + 38 + 8));
		return 0;
	}
	if (faults && set.s_frame == 2) {
		resp_body(c, status, "application/json", be_body,
		    strlen(be_body), 0);
		bbuf_printf(&c->c_out, "HTTP/1.1 200 OK\r\n"
		    "content-length: 8\r\n\r\nsmuggled");
		return 0;
	}
	switch (c->c_kind) {
	case REQ_K_STATS:
		bbuf_printf(&b, "{\"requests\":%" PRIu64 ",\"active\":%" PRIu64
		    ",\"max_active\":%" PRIu64 ",\"health\":%" PRIu64
		    ",\"connections\":%" PRIu64 ",\"open\":%" PRIu64 "}\n",
		    st_requests, st_active, st_max_active, st_health,
		    st_connections, st_open);
		resp_body(c, 200, "application/json", b.b_p, b.b_len, 0);
		break;
	case REQ_K_CTL:
		handle_ctl(c);
		break;
	case REQ_K_ECHO:
		resp_body(c, status, "application/json", c->c_echo.b_p,
		    c->c_echo.b_len, 1);
		break;
	case REQ_K_BYTES:
	case REQ_K_CHUNKED:
		resp_pattern(c, status, c->c_kind == REQ_K_CHUNKED, 1);
		break;
	case REQ_K_HEALTH:
		status = set.s_health_status;
		/* FALLTHROUGH */
	case REQ_K_NORMAL:
		resp_body(c, status, "application/json", be_body,
		    strlen(be_body), faults);
		break;
	}
	bbuf_free(&b);
	return 0;
}

/* Build the /echo body from the raw head. */
static void
echo_build(struct conn *c, const char *h, size_t n, const char *rl,
    size_t rln)
{
	struct bbuf	*b = &c->c_echo;
	const char	*p = rl + rln, *end = h + n, *eol, *colon, *v, *ve;
	int		 first = 1;

	c->c_echo.b_r = c->c_echo.b_len = 0;
	bbuf_printf(b, "{\"request_line\":");
	bbuf_json_str(b, rl, rln);
	bbuf_printf(b, ",\"headers\":[");
	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if (*p == '\n' || (*p == '\r' && p + 1 == eol))
			continue;	/* the request line's end, or the blank line */
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			continue;
		v = colon + 1;
		ve = eol;
		if (ve > v && ve[-1] == '\r')
			ve--;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		bbuf_printf(b, "%s[", first ? "" : ",");
		bbuf_json_str(b, p, (size_t)(colon - p));
		bbuf_add(b, ",", 1);
		bbuf_json_str(b, v, (size_t)(ve - v));
		bbuf_add(b, "]", 1);
		first = 0;
	}
	bbuf_printf(b, "],\"raw_head\":");
	bbuf_json_str(b, h, n);
	bbuf_printf(b, "}\n");
}

/* An error in the request itself: answer, and close after it. */
static void
reject(struct conn *c, long status)
{
	static const char body[] = "{\"error\":\"bad request\"}\n";

	c->c_keepalive = 0;
	c->c_close = 1;
	c->c_head = 0;
	c->c_state = CONN_S_WRITE;
	resp_body(c, status, "application/json", body, sizeof(body) - 1, 0);
}

/*
 * Parse the head at the front of c_in (n bytes, complete).  Returns 0, or
 * the status to reject the request with.
 */
static long
parse_head(struct conn *c, const char *h, size_t n)
{
	const char	*end = h + n, *p, *eol, *sp1, *sp2, *colon, *v, *ve;
	const char	*path, *q;
	size_t		 rln, pathn, nhdr = 0;
	int		 http10, have_cl = 0, te = 0, expect = 0;
	uint64_t	 cl = 0, x;

	/* Request line: METHOD SP target SP HTTP/1.x */
	eol = memchr(h, '\n', n);
	rln = (size_t)(eol - h);
	if (rln > 0 && h[rln - 1] == '\r')
		rln--;
	if ((sp1 = memchr(h, ' ', rln)) == NULL || sp1 == h)
		return 400;
	if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(h + rln - sp1 - 1))) == NULL ||
	    sp2 == sp1 + 1)
		return 400;
	if (token_eq(sp2 + 1, (size_t)(h + rln - sp2 - 1), "HTTP/1.1"))
		http10 = 0;
	else if (token_eq(sp2 + 1, (size_t)(h + rln - sp2 - 1), "HTTP/1.0"))
		http10 = 1;
	else
		return 400;
	c->c_keepalive = !http10;
	c->c_head = token_eq(h, (size_t)(sp1 - h), "HEAD");
	c->c_upgrade[0] = c->c_ws_key[0] = '\0';
	c->c_conn_upgrade = 0;

	/* Headers. */
	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == p || (eol == p + 1 && *p == '\r'))
			break;
		if (++nhdr > BE_HDR_MAX)
			return 431;
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon == p)
			return 400;
		v = colon + 1;
		ve = eol;
		if (ve > v && ve[-1] == '\r')
			ve--;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (token_eq(p, (size_t)(colon - p), "content-length")) {
			if (parse_u64(v, (size_t)(ve - v), 10, UINT64_MAX,
			    &x) == -1 || (have_cl && x != cl))
				return 400;
			cl = x;
			have_cl = 1;
		} else if (token_eq(p, (size_t)(colon - p),
		    "transfer-encoding")) {
			if (!te_is_chunked(v, (size_t)(ve - v)))
				return 501;
			te = 1;
		} else if (token_eq(p, (size_t)(colon - p), "connection")) {
			if (list_has(v, (size_t)(ve - v), "close"))
				c->c_keepalive = 0;
			else if (list_has(v, (size_t)(ve - v), "keep-alive"))
				c->c_keepalive = 1;
			if (list_has(v, (size_t)(ve - v), "upgrade"))
				c->c_conn_upgrade = 1;
		} else if (token_eq(p, (size_t)(colon - p), "upgrade")) {
			if ((size_t)(ve - v) >= sizeof(c->c_upgrade))
				return 400;
			memcpy(c->c_upgrade, v, (size_t)(ve - v));
			c->c_upgrade[ve - v] = '\0';
		} else if (token_eq(p, (size_t)(colon - p),
		    "sec-websocket-key")) {
			if ((size_t)(ve - v) >= sizeof(c->c_ws_key))
				return 400;
			memcpy(c->c_ws_key, v, (size_t)(ve - v));
			c->c_ws_key[ve - v] = '\0';
		} else if (token_eq(p, (size_t)(colon - p), "expect"))
			expect = token_eq(v, (size_t)(ve - v), "100-continue");
	}

	/* Body framing: chunked wins over content-length (RFC 9112 6.3). */
	c->c_body_bytes = 0;
	if (te)
		c->c_body = BODY_S_CHUNK_SIZE;
	else if (have_cl && cl > 0) {
		c->c_body = BODY_S_LENGTH;
		c->c_body_left = cl;
	} else
		c->c_body = BODY_S_NONE;
	if (expect && c->c_body != BODY_S_NONE)
		bbuf_printf(&c->c_out, "HTTP/1.1 100 Continue\r\n\r\n");

	/* Route on the path. */
	path = sp1 + 1;
	pathn = (size_t)(sp2 - path);
	c->c_query[0] = '\0';
	if ((q = memchr(path, '?', pathn)) != NULL) {
		if ((size_t)(sp2 - q - 1) >= sizeof(c->c_query))
			return 400;
		memcpy(c->c_query, q + 1, (size_t)(sp2 - q - 1));
		c->c_query[sp2 - q - 1] = '\0';
		pathn = (size_t)(q - path);
	}
#define PATH_IS(s)	(pathn == sizeof(s) - 1 && memcmp(path, s, pathn) == 0)
#define PATH_UNDER(s)	(pathn > sizeof(s) - 1 && \
			    memcmp(path, s, sizeof(s) - 1) == 0)
	c->c_kind = REQ_K_NORMAL;
	if (PATH_IS("/health"))
		c->c_kind = REQ_K_HEALTH;
	else if (PATH_IS("/_stats"))
		c->c_kind = REQ_K_STATS;
	else if (PATH_IS("/_ctl")) {
		if (!token_eq(h, (size_t)(sp1 - h), "POST"))
			return 405;
		c->c_kind = REQ_K_CTL;
	} else if (PATH_IS("/echo") || PATH_UNDER("/echo/")) {
		c->c_kind = REQ_K_ECHO;
		echo_build(c, h, n, h, rln);
	} else if (PATH_UNDER("/bytes/") || PATH_UNDER("/chunked/")) {
		c->c_kind = path[1] == 'b' ? REQ_K_BYTES : REQ_K_CHUNKED;
		x = c->c_kind == REQ_K_BYTES ? sizeof("/bytes/") - 1 :
		    sizeof("/chunked/") - 1;
		if (parse_u64(path + x, pathn - x, 10, BE_BYTES_MAX,
		    &c->c_nbytes) == -1)
			return 400;
	}
#undef PATH_IS
#undef PATH_UNDER
	return 0;
}

/* Count the request once its head is known good. */
static void
request_count(struct conn *c)
{
	c->c_fail = 0;
	if (c->c_kind == REQ_K_STATS || c->c_kind == REQ_K_CTL)
		return;
	st_requests++;
	if (c->c_kind == REQ_K_HEALTH)
		st_health++;
	c->c_counted = 1;
	if (++st_active > st_max_active)
		st_max_active = st_active;
	if (c->c_kind != REQ_K_HEALTH && set.s_fail_rate > 0) {
		st_fail_seq++;
		c->c_fail = st_fail_seq * (uint64_t)set.s_fail_rate / 100 >
		    (st_fail_seq - 1) * (uint64_t)set.s_fail_rate / 100;
	}
}

/*
 * Consume request body bytes from c_in.  Returns 1 when the body is
 * complete, 0 when more input is needed, -1 on a framing error.
 */
static int
body_feed(struct conn *c)
{
	const char	*p, *eol;
	size_t		 n, ln;
	uint64_t	 x;

	for (;;) {
		p = bbuf_data(&c->c_in);
		n = bbuf_avail(&c->c_in);
		switch (c->c_body) {
		case BODY_S_NONE:
			return 1;
		case BODY_S_LENGTH:
		case BODY_S_CHUNK_DATA:
			if (n == 0)
				return 0;
			if (n > c->c_body_left)
				n = (size_t)c->c_body_left;
			record_add(c, p, n);
			bbuf_consume(&c->c_in, n);
			c->c_body_left -= n;
			c->c_body_bytes += n;
			if (c->c_body_left > 0)
				return 0;
			c->c_body = c->c_body == BODY_S_LENGTH ? BODY_S_NONE :
			    BODY_S_CHUNK_CRLF;
			break;
		case BODY_S_CHUNK_CRLF:
		case BODY_S_CHUNK_SIZE:
		case BODY_S_TRAILER:
			if ((eol = memchr(p, '\n', n)) == NULL)
				return n > 4096 ? -1 : 0;
			ln = (size_t)(eol - p);
			record_add(c, p, ln + 1);
			bbuf_consume(&c->c_in, ln + 1);
			if (ln > 0 && p[ln - 1] == '\r')
				ln--;
			if (c->c_body == BODY_S_CHUNK_CRLF) {
				if (ln != 0)
					return -1;
				c->c_body = BODY_S_CHUNK_SIZE;
			} else if (c->c_body == BODY_S_TRAILER) {
				if (ln == 0)
					c->c_body = BODY_S_NONE;
			} else {
				const char *semi = memchr(p, ';', ln);

				if (semi != NULL)
					ln = (size_t)(semi - p);
				while (ln > 0 && (p[ln - 1] == ' ' ||
				    p[ln - 1] == '\t'))
					ln--;
				if (parse_u64(p, ln, 16, BE_BYTES_MAX * 16,
				    &x) == -1)
					return -1;
				c->c_body_left = x;
				c->c_body = x == 0 ? BODY_S_TRAILER :
				    BODY_S_CHUNK_DATA;
			}
			break;
		}
	}
}

/* Write what c_out holds; 1 when the response is fully sent. */
static int
conn_flush(struct conn *c)
{
	ssize_t	 w;

	for (;;) {
		if (bbuf_avail(&c->c_out) == 0)
			gen_fill(c);
		if (bbuf_avail(&c->c_out) == 0)
			return 1;
		w = write(c->c_fd, bbuf_data(&c->c_out),
		    bbuf_avail(&c->c_out));
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		bbuf_consume(&c->c_out, (size_t)w);
	}
}

/* Run the connection's state machine as far as the input allows. */
static void
conn_advance(struct conn *c)
{
	size_t	 n;
	long	 bad;
	int	 r;
	uint64_t delay;

	for (;;) {
		switch (c->c_state) {
		case CONN_S_READ_HEAD:
			/* Empty lines before a request line are ignored
			 * (RFC 9112 2.2): some clients end a body with an
			 * extra CRLF. */
			for (n = 0; n < bbuf_avail(&c->c_in) &&
			    (bbuf_data(&c->c_in)[n] == '\r' ||
			    bbuf_data(&c->c_in)[n] == '\n'); n++)
				;
			record_add(c, bbuf_data(&c->c_in), n);
			bbuf_consume(&c->c_in, n);
			n = head_end(bbuf_data(&c->c_in),
			    bbuf_avail(&c->c_in));
			if (n == 0) {
				if (bbuf_avail(&c->c_in) > BE_HEAD_MAX) {
					reject(c, 431);
					break;
				}
				goto wait_input;
			}
			if (n > BE_HEAD_MAX) {
				reject(c, 431);
				break;
			}
			c->c_close = 0;
			c->c_gen_left = 0;
			record_add(c, bbuf_data(&c->c_in), n);
			bad = parse_head(c, bbuf_data(&c->c_in), n);
			bbuf_consume(&c->c_in, n);
			if (bad != 0) {
				record_flush(c);
				reject(c, bad);
				break;
			}
			request_count(c);
			c->c_state = CONN_S_READ_BODY;
			break;
		case CONN_S_READ_BODY:
			if ((r = body_feed(c)) == -1) {
				record_flush(c);
				reject(c, 400);
				break;
			}
			if (r == 0)
				goto wait_input;
			delay = c->c_kind == REQ_K_HEALTH ?
			    (uint64_t)set.s_health_delay_ms :
			    c->c_kind == REQ_K_STATS || c->c_kind == REQ_K_CTL ?
			    0 : (uint64_t)set.s_delay_ms;
			if (delay > 0) {
				c->c_state = CONN_S_DELAY;
				c->c_deadline = now_ms() + delay;
				delay_insert(c);
				conn_arm(c, 0);
				return;
			}
			if (respond(c) == -1)
				return;
			break;
		case CONN_S_DELAY:
			return;
		case CONN_S_TUNNEL:
			tunnel_step(c);
			return;
		case CONN_S_WRITE:
			if ((r = conn_flush(c)) == -1) {
				conn_close(c, 0);
				return;
			}
			if (r == 0) {
				conn_arm(c, EPOLLOUT);
				return;
			}
			request_done(c);
			if (c->c_close || !c->c_keepalive) {
				conn_close(c, 0);
				return;
			}
			c->c_state = CONN_S_READ_HEAD;
			break;
		}
	}

wait_input:
	/* A pending "100 Continue" may still be queued while we read. */
	if (bbuf_avail(&c->c_out) > 0 && conn_flush(c) == -1) {
		conn_close(c, 0);
		return;
	}
	conn_arm(c, EPOLLIN | (bbuf_avail(&c->c_out) > 0 ? EPOLLOUT : 0));
}

static void
conn_read(struct conn *c)
{
	ssize_t	 r;

	if (c->c_state == CONN_S_TUNNEL && (c->c_eof || c->c_close ||
	    bbuf_avail(&c->c_out) >= BE_TUNNEL_MAX)) {
		conn_advance(c);	/* held back: write first */
		return;
	}
	r = read(c->c_fd, bbuf_reserve(&c->c_in, BE_READ_CHUNK),
	    BE_READ_CHUNK);
	if (r == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		conn_close(c, 0);
		return;
	}
	if (r == 0) {
		if (c->c_state == CONN_S_TUNNEL) {
			/* echo the rest, then end ours */
			c->c_eof = 1;
			conn_advance(c);
			return;
		}
		/* Orderly end: fine between requests, a truncation inside
		 * one; either way nothing more can be answered. */
		conn_close(c, 0);
		return;
	}
	c->c_in.b_len += (size_t)r;
	conn_advance(c);
}

static void
listeners_ctl(int op)
{
	struct epoll_event ev;
	int i;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;		/* NULL: the listener */
	if (epoll_ctl(be_epfd, op, be_lfd, &ev) == -1)
		err(1, "epoll_ctl listener");
	for (i = 0; i < be_nmore; i++) {
		ev.data.ptr = &be_more[i];	/* in be_more: one more */
		if (epoll_ctl(be_epfd, op, be_more[i], &ev) == -1)
			err(1, "epoll_ctl listener");
	}
}

static void
accept_conns(int lfd)
{
	struct epoll_event ev;
	struct conn	*c;
	int		 fd, i, one = 1;

	/* Bounded per wake-up so one busy listener cannot starve the rest. */
	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Level-triggered: the listener would wake us
				 * forever; pause accepting for a moment. */
				warn("accept");
				listeners_ctl(EPOLL_CTL_DEL);
				be_accept_resume = now_ms() + 100;
			}
			return;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL)
			err(1, "calloc");
		LIST_INSERT_HEAD(&conns, c, c_all);
		c->c_fd = fd;
		c->c_state = CONN_S_READ_HEAD;
		c->c_events = EPOLLIN;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(be_epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			err(1, "epoll_ctl add");
		st_connections++;
		st_open++;
	}
}

/*
 * delayed is kept in deadline order, so a timer pass looks only at what is
 * due: with thousands of requests held (a 10,000-connection test) a scan
 * of the whole list on every wake-up would be the bottleneck.  Deadlines
 * mostly arrive in order (one delay_ms for all), so the walk from the tail
 * is short.
 */
static void
delay_insert(struct conn *c)
{
	struct conn	*p;

	p = TAILQ_LAST(&delayed, conn_tq);
	while (p != NULL && p->c_deadline > c->c_deadline)
		p = TAILQ_PREV(p, conn_tq, c_timer);
	if (p == NULL)
		TAILQ_INSERT_HEAD(&delayed, c, c_timer);
	else
		TAILQ_INSERT_AFTER(&delayed, p, c, c_timer);
}

static void
timers_run(void)
{
	struct conn	*c;
	uint64_t	 now = now_ms();

	while ((c = TAILQ_FIRST(&delayed)) != NULL && c->c_deadline <= now) {
		TAILQ_REMOVE(&delayed, c, c_timer);
		c->c_state = CONN_S_WRITE;	/* off the list: conn_close() */
		/* respond() may close c; next was taken before. */
		if (respond(c) == 0)
			conn_advance(c);
	}
	if (be_accept_resume != 0 && be_accept_resume <= now) {
		be_accept_resume = 0;
		listeners_ctl(EPOLL_CTL_ADD);
	}
}

static int
timers_timeout(void)
{
	struct conn	*c;
	uint64_t	 now = now_ms(), next = UINT64_MAX;

	if ((c = TAILQ_FIRST(&delayed)) != NULL)
		next = c->c_deadline;
	if (be_accept_resume != 0 && be_accept_resume < next)
		next = be_accept_resume;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static int
listen_on(const char *addr, const char *port, char *shown, size_t len)
{
	struct addrinfo	 hints, *res;
	struct sockaddr_storage ss;
	socklen_t	 sl = sizeof(ss);
	char		 host[NI_MAXHOST], serv[NI_MAXSERV];
	int		 fd, one = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((e = getaddrinfo(addr, port, &hints, &res)) != 0)
		errx(1, "%s port %s: %s", addr, port, gai_strerror(e));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		err(1, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		err(1, "SO_REUSEADDR");
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		err(1, "bind %s:%s", addr, port);
	if (listen(fd, SOMAXCONN) == -1)
		err(1, "listen");
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		err(1, "getsockname");
	if ((e = getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) != 0)
		errx(1, "getnameinfo: %s", gai_strerror(e));
	snprintf(shown, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, serv);
	return fd;
}

/* --more_ports: n more listeners on addr, their ports printed. */
static void
listen_more(const char *addr, int n)
{
	char	 shown[NI_MAXHOST + 16], *p;
	int	 i;

	if (n == 0)
		return;
	if ((be_more = calloc((size_t)n, sizeof(*be_more))) == NULL)
		err(1, "calloc");
	fprintf(stderr, "more ports: ");
	for (i = 0; i < n; i++) {
		be_more[i] = listen_on(addr, "0", shown, sizeof(shown));
		p = strrchr(shown, ':');
		fprintf(stderr, "%s%s", i > 0 ? "," : "", p + 1);
	}
	fprintf(stderr, "\n");
	be_nmore = n;
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: backend --port P [--name v1|v2] "
	    "[--addr 127.0.0.1] [--record FILE] [--more_ports N]\n"
	    "               [--status N] [--delay_ms N] [--fail_rate P] "
	    "[--health_status N]\n"
	    "               [--health_delay_ms N] [--close_after_headers 0|1] "
	    "[--chunked 0|1]\n"
	    "               [--reset 0|1] [--garbage 0|1] [--frame 0|1|2]\n"
	    "               [--ratelimited 0|1] [--extra_headers 0|1] "
	    "[--upgrade 0|1]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	/* Fixed options, then each switch spelled with '_' and with '-'. */
	struct option	 opts[6 + 2 * NSETTINGS + 1];
	char		 dashed[NSETTINGS][32], shown[NI_MAXHOST + 16];
	struct epoll_event ev, evs[BE_EVENTS];
	struct conn	*c;
	const char	*port = NULL, *addr = "127.0.0.1", *errstr;
	const char	*record = NULL;
	sigset_t	 mask;
	size_t		 i, k;
	int		 ch, idx, n, sfd, nmore = 0;

	memset(opts, 0, sizeof(opts));
	opts[0] = (struct option){ "port", required_argument, NULL, 'p' };
	opts[1] = (struct option){ "name", required_argument, NULL, 'n' };
	opts[2] = (struct option){ "addr", required_argument, NULL, 'a' };
	opts[3] = (struct option){ "record", required_argument, NULL, 'r' };
	opts[4] = (struct option){ "more_ports", required_argument, NULL,
	    'm' };
	opts[5] = (struct option){ "more-ports", required_argument, NULL,
	    'm' };
	for (i = 0, k = 6; i < NSETTINGS; i++) {
		strlcpy(dashed[i], setting_keys[i].k_name, sizeof(dashed[i]));
		for (n = 0; dashed[i][n] != '\0'; n++)
			if (dashed[i][n] == '_')
				dashed[i][n] = '-';
		opts[k++] = (struct option){ setting_keys[i].k_name,
		    required_argument, NULL, 's' };
		if (strcmp(dashed[i], setting_keys[i].k_name) != 0)
			opts[k++] = (struct option){ dashed[i],
			    required_argument, NULL, 's' };
	}
	while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (ch) {
		case 'p':
			strtonum(optarg, 0, 65535, &errstr);
			if (errstr != NULL)
				errx(1, "--port %s: %s", optarg, errstr);
			port = optarg;
			break;
		case 'n':
			be_name = optarg;
			for (n = 0; be_name[n] != '\0'; n++)
				if (!isalnum((unsigned char)be_name[n]) &&
				    be_name[n] != '_' && be_name[n] != '-')
					errx(1, "--name: letters, digits, "
					    "'-' and '_' only");
			if (n == 0 || n > 32)
				errx(1, "--name: 1 to 32 characters");
			break;
		case 'a':
			addr = optarg;
			break;
		case 'r':
			record = optarg;
			break;
		case 'm':
			nmore = (int)strtonum(optarg, 0, 4096, &errstr);
			if (errstr != NULL)
				errx(1, "--more_ports %s: %s", optarg, errstr);
			break;
		case 's':
			/* The table spells keys with '_'; argv may use '-'. */
			strlcpy(shown, opts[idx].name, sizeof(shown));
			for (n = 0; shown[n] != '\0'; n++)
				if (shown[n] == '-')
					shown[n] = '_';
			if (settings_set(&set, shown, optarg, &errstr) == -1)
				errx(1, "--%s %s: %s", opts[idx].name, optarg,
				    errstr);
			break;
		default:
			usage();
		}
	}
	if (port == NULL || optind != argc)
		usage();
	snprintf(be_body, sizeof(be_body),
	    "{\"version\":\"%s\",\"message\":\"This is %s version\"}\n",
	    be_name, strcmp(be_name, "v1") == 0 ? "stable" :
	    strcmp(be_name, "v2") == 0 ? "canary" : be_name);
	if (record != NULL && (be_recfd = open(record,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) == -1)
		err(1, "%s", record);

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		err(1, "sigprocmask");
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(1, "signalfd");

	be_lfd = listen_on(addr, port, shown, sizeof(shown));
	listen_more(addr, nmore);
	if ((be_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	listeners_ctl(EPOLL_CTL_ADD);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &sfd;		/* &sfd: a signal */
	if (epoll_ctl(be_epfd, EPOLL_CTL_ADD, sfd, &ev) == -1)
		err(1, "epoll_ctl signalfd");

	fprintf(stderr, "listening on %s\n", shown);
	fflush(stderr);

	for (;;) {
		n = epoll_wait(be_epfd, evs, BE_EVENTS, timers_timeout());
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (idx = 0; idx < n; idx++) {
			if (evs[idx].data.ptr == NULL) {
				accept_conns(be_lfd);
				continue;
			}
			if (be_nmore > 0 && (uintptr_t)evs[idx].data.ptr >=
			    (uintptr_t)be_more && (uintptr_t)evs[idx].data.ptr <
			    (uintptr_t)(be_more + be_nmore)) {
				accept_conns(*(int *)evs[idx].data.ptr);
				continue;
			}
			if (evs[idx].data.ptr == &sfd) {
				fprintf(stderr, "backend %s: exiting on "
				    "signal\n", be_name);
				return 0;
			}
			c = evs[idx].data.ptr;
			if (c->c_state == CONN_S_WRITE)
				conn_advance(c);
			else if (evs[idx].events & (EPOLLIN | EPOLLHUP |
			    EPOLLERR))
				conn_read(c);
			else if (evs[idx].events & EPOLLOUT)
				conn_advance(c);
			/*
			 * A connection closed above may still have events
			 * later in evs; its memory is gone.  The case can't
			 * arise: epoll returns one event per fd per wait.
			 */
		}
		timers_run();
	}
}
