/*
 * Unit tests for the data plane's state machine (worker/conn*.c with
 * worker/upstream.c): a connection is driven through its states by the
 * worker's own event loop, one turn at a time.  The client is one end of
 * a socketpair the test holds, the worker has the other; the cluster's
 * host is a loopback listener the test accepts on and answers from, so
 * every byte either side sees is the test's to check.
 *
 * One configuration and one shm segment serve the whole suite; each test
 * reads counters before and after, and ends with nothing open and every
 * gauge and circuit breaker unit given back.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "shared/clock.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "test/unit/unit_shm.h"
#include "worker/conn-int.h"
#include "worker/conn.h"
#include "worker/timer.h"
#include "worker/upstream.h"
#include "worker/wrk.h"

/*
 * A cluster allowed one connection at a time (for the slot wait tests).
 * The endpoint's port only names it: the test publishes the host it
 * listens on in shm, as the master would.
 */
#define CLUSTER(name, port)						\
	"  - name: " name "\n"						\
	"    type: STATIC\n"						\
	"    connect_timeout: 1s\n"					\
	"    circuit_breakers:\n"					\
	"      thresholds:\n"						\
	"      - { priority: DEFAULT, max_connections: 1 }\n"		\
	"    load_assignment:\n"					\
	"      cluster_name: " name "\n"				\
	"      endpoints:\n"						\
	"      - lb_endpoints:\n"					\
	"        - endpoint:\n"						\
	"            address:\n"					\
	"              socket_address: { address: 127.0.0.1, "	\
	    "port_value: " port " }\n"

static const char conn_yaml[] =
    HCM_HEAD
    "              - match: { prefix: \"/retry\" }\n"
    "                route:\n"
    "                  cluster: svc\n"
    "                  retry_policy: { retry_on: \"reset\", "
	"num_retries: 1 }\n"
    "              - match: { prefix: \"/slow\" }\n"
    "                route: { cluster: svc, timeout: 0.05s }\n"
    "              - match: { prefix: \"/empty\" }\n"
    "                route: { cluster: nohost }\n"
    "              - match: { prefix: \"/dead\" }\n"
    "                route: { cluster: dead }\n"
    "              - match: { prefix: \"/api\" }\n"
    "                route: { cluster: svc }\n"
    "  clusters:\n"
    CLUSTER("svc", "9001")
    CLUSTER("nohost", "9002")
    CLUSTER("dead", "9003");

/* conf cluster indices, in the order above */
#define CI_SVC		0
#define CI_NOHOST	1
#define CI_DEAD		2

#define WAIT_MS		3000	/* longest any step may take */

static struct cd_conf	*tconf;
static struct cd_place	 tplace;	/* as the master places a first config */
static struct shm	*tshm;
static int		 ups_lfd = -1;	/* svc's host: the test listens */
static bool		 ready;
static struct wrk	 conn_wrk;	/* the suite's worker context */
static struct wrk	 saved_wrk;	/* other suites' */
static int		 saved_level;

/* ---- the worker's loop, one turn at a time ----------------------------- */

/* One turn of wrk_main()'s loop, waiting for events at most ms. */
static void
turn(int ms)
{
	struct epoll_event evs[64];
	int i, n;

	n = epoll_wait(wrk.w_epfd, evs, 64, ms);
	wrk_clock();
	for (i = 0; i < n; i++) {
		struct wrk_ev *ev = evs[i].data.ptr;

		ev->ev_cb(ev, evs[i].events);
	}
	wrk_timer_run(wrk.w_now);
	wrk_conn_reap();
	wrk_ups_reap();
}

/* This worker's counters and gauges: http, and of conf cluster ci. */
static uint64_t
hc(int id)
{
	return atomic_load(&shm_http(wrk.w_shm, wrk.w_slot, 0)->hc_c[id]);
}

static int64_t
hg(int id)
{
	return atomic_load(&shm_http(wrk.w_shm, wrk.w_slot, 0)->hc_g[id]);
}

static uint64_t
cc(int ci, int id)
{
	return atomic_load(&WRK_SLOT_CL(ci)->cc_c[id]);
}

static int64_t
cg(int ci, int id)
{
	return atomic_load(&WRK_SLOT_CL(ci)->cc_g[id]);
}

/* ---- set-up -------------------------------------------------------------- */

/*
 * A listening loopback socket on a free port, and in *h the shm record
 * of a host at that address (id 1), as the master publishes it.
 */
static int
listener(struct shm_host *h)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CU_ASSERT_FATAL(listen(fd, 16) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	memset(h, 0, sizeof(*h));
	h->sh_family = AF_INET;
	memcpy(h->sh_addr, &sin.sin_addr, sizeof(sin.sin_addr));
	h->sh_port = ntohs(sin.sin_port);
	h->sh_weight = 1;
	h->sh_id = 1;
	return fd;
}

/*
 * The start of each test: the suite's worker context in place of the
 * global one.  Built the first time: the configuration, a segment, the
 * context as wrk_main() builds it (no listener: connections come from
 * socketpairs), svc's host on a test listener and dead's on a port
 * nobody listens on.
 */
static void
setup(void)
{
	struct conf_diags d;
	struct shm_host h;

	saved_wrk = wrk;
	saved_level = log_level;
	log_level = LOG_L_WARN;		/* codec errors log at info */
	if (ready) {
		wrk = conn_wrk;
		return;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&d, 0, sizeof(d));
	tconf = conf_load_buf("conn.yaml", conn_yaml, strlen(conn_yaml), &d);
	conf_diags_print(&d, "conn.yaml", stderr);
	conf_diags_free(&d);
	CU_ASSERT_FATAL(tconf != NULL);
	CU_ASSERT_FATAL((tshm = unit_shm()) != NULL);

	memset(&wrk, 0, sizeof(wrk));
	unit_place(&tplace);
	wrk.w_conf = tconf;
	wrk.w_place = &tplace;
	wrk.w_shm = tshm;
	wrk.w_slot = shm_slot(tshm, 0);
	wrk_clock();
	wrk_setup();
	CU_ASSERT_FATAL((wrk.w_epfd = epoll_create1(EPOLL_CLOEXEC)) != -1);
	CU_ASSERT_FATAL(wrk_ups_init() == 0);
	CU_ASSERT_FATAL(wrk_conn_init() == 0);

	ups_lfd = listener(&h);
	shm_hosts_publish(shm_cl(tshm, CI_SVC), &h, 1);
	close(listener(&h));
	shm_hosts_publish(shm_cl(tshm, CI_DEAD), &h, 1);
	ready = true;
}

/*
 * The end of each test: pooled connections closed, nothing left open,
 * no timer left (the pool's watch fires once more and stops), and every
 * gauge and breaker unit the requests took given back; then the global
 * context is the other suites' again.
 */
static void
settle(void)
{
	uint64_t end = cd_mono_ms() + WAIT_MS;
	int ci, res;

	wrk_ups_close_idle();
	while ((wrk.w_nconns > 0 || wrk_ups_count() > 0 ||
	    wrk_timer_count() > 0) && cd_mono_ms() < end)
		turn(5);
	turn(0);
	CU_ASSERT_EQUAL(wrk.w_nconns, 0);
	CU_ASSERT_EQUAL(wrk_ups_count(), 0);
	CU_ASSERT_EQUAL(wrk_timer_count(), 0);
	CU_ASSERT_EQUAL(hg(HG_CX_ACTIVE), 0);
	CU_ASSERT_EQUAL(hg(HG_RQ_ACTIVE), 0);
	for (ci = 0; ci < 3; ci++) {
		CU_ASSERT_EQUAL(cg(ci, CG_CX_ACTIVE), 0);
		CU_ASSERT_EQUAL(cg(ci, CG_RQ_ACTIVE), 0);
		CU_ASSERT_EQUAL(cg(ci, CG_RQ_PENDING_ACTIVE), 0);
		for (res = 0; res < SHM_CB__N; res++) {
			CU_ASSERT_EQUAL(atomic_load(&WRK_SHM_CL(ci)->
			    sc_cb[CD_PRIO_DEFAULT][res]), 0);
			CU_ASSERT_EQUAL(atomic_load(&WRK_SLOT_CL(ci)->
			    cc_cb_held[CD_PRIO_DEFAULT][res]), 0);
		}
	}
	conn_wrk = wrk;
	wrk = saved_wrk;
	log_level = saved_level;
}

/* ---- the two ends the test holds --------------------------------------- */

struct client {
	int		 fd;		/* the test's end */
	struct wrk_conn	*c;		/* the worker's connection */
};

static void
client_open(struct client *cl)
{
	int sv[2];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv) == 0);
	cl->fd = sv[0];
	CU_ASSERT_FATAL((cl->c = wrk_conn_new(sv[1], &wrk.w_lsn[0])) != NULL);
	CU_ASSERT_EQUAL(cl->c->c_state, CONN_S_IDLE);
}

static void
send_str(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, s + off, len - off);
		if (n > 0)
			off += (size_t)n;
		else
			CU_ASSERT_FATAL(n == -1 && errno == EAGAIN);
		turn(0);
	}
}

/*
 * Run the loop and read fd until buf holds want (or, want NULL, until
 * EOF).  Returns the bytes read; buf is NUL-terminated.
 */
static size_t
recv_until(int fd, char *buf, size_t size, const char *want, bool *eof)
{
	uint64_t end = cd_mono_ms() + WAIT_MS;
	size_t len = 0;
	ssize_t n;

	*eof = false;
	buf[0] = '\0';
	while (cd_mono_ms() < end) {
		n = read(fd, buf + len, size - 1 - len);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (want != NULL && strstr(buf, want) != NULL)
				break;
			continue;
		}
		if (n == 0 || (n == -1 && errno == ECONNRESET)) {
			*eof = true;
			break;
		}
		turn(2);
	}
	return len;
}

/* Everything until the worker closes the connection. */
static size_t
recv_to_eof(int fd, char *buf, size_t size, bool *eof)
{
	return recv_until(fd, buf, size, NULL, eof);
}

/* The next connection to svc's host, accepted by the test. */
static int
ups_accept(void)
{
	uint64_t end = cd_mono_ms() + WAIT_MS;
	int fd;

	while (cd_mono_ms() < end) {
		fd = accept4(ups_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1)
			return fd;
		CU_ASSERT_FATAL(errno == EAGAIN);
		turn(2);
	}
	CU_FAIL_FATAL("no upstream connection");
	return -1;
}

/* Read one request head from the upstream side into buf. */
static void
ups_read_head(int fd, char *buf, size_t size)
{
	bool eof;

	recv_until(fd, buf, size, "\r\n\r\n", &eof);
	CU_ASSERT_FATAL(strstr(buf, "\r\n\r\n") != NULL);
}

/*
 * A new client sends req; the test accepts the worker's connection to
 * svc's host and reads the request head there into buf.  Returns that
 * connection.
 */
static int
send_upstream(struct client *cl, const char *req, char *buf, size_t size)
{
	int u;

	client_open(cl);
	send_str(cl->fd, req);
	u = ups_accept();
	ups_read_head(u, buf, size);
	return u;
}

/* Close with a reset (SO_LINGER 0), as a crashing backend does. */
static void
ups_reset(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Run turns until the worker's connection is in state s (or time out). */
static bool
await_state(struct wrk_conn *c, enum conn_state s)
{
	uint64_t end = cd_mono_ms() + WAIT_MS;

	while (c->c_state != s && cd_mono_ms() < end)
		turn(2);
	return c->c_state == s;
}

static bool
starts(const char *buf, const char *prefix)
{
	return strncmp(buf, prefix, strlen(prefix)) == 0;
}

#define OK_RESPONSE	"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"

/* The host answers OK_RESPONSE on u: the client gets it whole, and its
 * connection goes back to IDLE. */
static void
answer_ok(struct client *cl, int u)
{
	char buf[4096];
	bool eof;

	send_str(u, OK_RESPONSE);
	recv_until(cl->fd, buf, sizeof(buf), "hello", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	CU_ASSERT(strstr(buf, "\r\n\r\nhello") != NULL);
	CU_ASSERT_FALSE(eof);
	CU_ASSERT(await_state(cl->c, CONN_S_IDLE));
}

/* The test's ends close (u: -1 for none), then settle(). */
static void
finish(struct client *cl, int u)
{
	close(cl->fd);
	if (u != -1)
		close(u);
	settle();
}

/* ---- tests ------------------------------------------------------------- */

/*
 * A request goes to svc's host with the proxy's head, the answer comes
 * back to the client, the connection goes back to IDLE and the next
 * request reuses the pooled upstream connection.
 */
static void
proxied_request_then_keep_alive_reuses_the_upstream(void)
{
	struct client cl;
	char buf[4096];
	uint64_t cx0, rq0;
	bool eof;
	int u;

	setup();
	cx0 = cc(CI_SVC, CC_CX_TOTAL);
	rq0 = cc(CI_SVC, CC_RQ_TOTAL);
	u = send_upstream(&cl, "GET /api/one HTTP/1.1\r\nHost: example.com\r\n"
	    "x-test: 1\r\n\r\n", buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /api/one HTTP/1.1\r\n"));
	CU_ASSERT(strstr(buf, "\r\nx-test: 1\r\n") != NULL);
	CU_ASSERT(strcasestr(buf, "\r\nx-forwarded-proto: http\r\n") != NULL);
	CU_ASSERT(strcasestr(buf, "\r\nx-request-id: ") != NULL);
	CU_ASSERT_EQUAL(cl.c->c_state, CONN_S_PROXY);
	send_str(u, OK_RESPONSE);
	recv_until(cl.fd, buf, sizeof(buf), "hello", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	CU_ASSERT(strcasestr(buf, "\r\nserver: canaryd\r\n") != NULL);
	CU_ASSERT(strcasestr(buf, "\r\nx-envoy-upstream-service-time: ") !=
	    NULL);
	CU_ASSERT(strstr(buf, "\r\n\r\nhello") != NULL);
	CU_ASSERT_FALSE(eof);
	CU_ASSERT(await_state(cl.c, CONN_S_IDLE));
	CU_ASSERT_PTR_NULL(cl.c->c_req);
	CU_ASSERT_EQUAL(hg(HG_RQ_ACTIVE), 0);

	/* the same client again: the pooled connection takes it */
	send_str(cl.fd, "GET /api/two HTTP/1.1\r\nHost: example.com\r\n\r\n");
	ups_read_head(u, buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /api/two HTTP/1.1\r\n"));
	answer_ok(&cl, u);
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_CX_TOTAL) - cx0, 1);
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_RQ_TOTAL) - rq0, 2);
	CU_ASSERT_EQUAL(wrk_ups_count(), 1);

	finish(&cl, u);
}

/* Two requests in one write: answered in order on one connection. */
static void
pipelined_requests_are_answered_in_order(void)
{
	struct client cl;
	char buf[4096];
	bool eof;
	int u;

	setup();
	u = send_upstream(&cl, "GET /api/a HTTP/1.1\r\nHost: h\r\n\r\n"
	    "GET /api/b HTTP/1.1\r\nHost: h\r\n\r\n", buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /api/a "));
	CU_ASSERT(strstr(buf, "/api/b") == NULL);
	send_str(u, "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nA");
	ups_read_head(u, buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /api/b "));
	send_str(u, "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nB");
	recv_until(cl.fd, buf, sizeof(buf), "\r\n\r\nB", &eof);
	CU_ASSERT(strstr(buf, "\r\n\r\nA") != NULL);
	CU_ASSERT(strstr(buf, "\r\n\r\nA") < strstr(buf, "\r\n\r\nB"));
	CU_ASSERT(await_state(cl.c, CONN_S_IDLE));
	finish(&cl, u);
}

/* Connection: close -- answered, then closed by the proxy. */
static void
connection_close_is_closed_after_the_response(void)
{
	struct client cl;
	char buf[4096];
	uint64_t local0;
	bool eof;
	int u;

	setup();
	local0 = hc(HC_CX_DESTROY_LOCAL);
	u = send_upstream(&cl, "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "Connection: close\r\n\r\n", buf, sizeof(buf));
	send_str(u, OK_RESPONSE);
	recv_to_eof(cl.fd, buf, sizeof(buf), &eof);
	CU_ASSERT(eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	CU_ASSERT(strcasestr(buf, "\r\nconnection: close\r\n") != NULL);
	CU_ASSERT(strstr(buf, "\r\n\r\nhello") != NULL);
	CU_ASSERT_EQUAL(hc(HC_CX_DESTROY_LOCAL) - local0, 1);
	finish(&cl, u);
}

/* The client goes away while idle, then one goes away mid-request. */
static void
client_close_idle_and_mid_request(void)
{
	struct client cl;
	char buf[4096];
	uint64_t remote0, active0, rx0, with0;
	int u;

	setup();
	remote0 = hc(HC_CX_DESTROY_REMOTE);
	active0 = hc(HC_CX_DESTROY_ACTIVE_RQ);
	rx0 = hc(HC_RQ_RX_RESET);
	with0 = cc(CI_SVC, CC_CX_DESTROY_WITH_ACTIVE_RQ);
	client_open(&cl);
	close(cl.fd);
	turn(2);
	turn(0);
	CU_ASSERT_EQUAL(hc(HC_CX_DESTROY_REMOTE) - remote0, 1);
	CU_ASSERT_EQUAL(hc(HC_CX_DESTROY_ACTIVE_RQ) - active0, 0);
	CU_ASSERT_EQUAL(wrk.w_nconns, 0);

	/* the request is upstream when the client leaves */
	u = send_upstream(&cl, "GET /api HTTP/1.1\r\nHost: h\r\n\r\n", buf,
	    sizeof(buf));
	close(cl.fd);
	turn(2);
	turn(0);
	CU_ASSERT_EQUAL(hc(HC_CX_DESTROY_REMOTE) - remote0, 2);
	CU_ASSERT_EQUAL(hc(HC_CX_DESTROY_ACTIVE_RQ) - active0, 1);
	CU_ASSERT_EQUAL(hc(HC_RQ_RX_RESET) - rx0, 1);
	/* its upstream connection, busy, is not pooled */
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_CX_DESTROY_WITH_ACTIVE_RQ) - with0, 1);
	CU_ASSERT_EQUAL(wrk_ups_count(), 0);
	close(u);
	settle();
}

/* A malformed head: Envoy's codec reply, 400, and the connection closes. */
static void
parse_error_is_400_and_closes(void)
{
	struct client cl;
	char buf[4096];
	uint64_t perr0;
	bool eof;

	setup();
	perr0 = hc(HC_CX_PROTOCOL_ERROR);
	client_open(&cl);
	send_str(cl.fd, "GET /api HTTP/1.1\r\nHost: h\r\n"
	    "no colon here\r\n\r\n");
	recv_to_eof(cl.fd, buf, sizeof(buf), &eof);
	CU_ASSERT(eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 400 Bad Request\r\n"));
	CU_ASSERT(strcasestr(buf, "\r\nconnection: close\r\n") != NULL);
	CU_ASSERT_EQUAL(hc(HC_CX_PROTOCOL_ERROR) - perr0, 1);
	finish(&cl, -1);
}

/* No route, no host, nobody listening: local replies, connection kept. */
static void
local_replies_keep_the_connection(void)
{
	struct client cl;
	char buf[4096];
	uint64_t nr0, nh0, cf0, ej0;
	bool eof;

	setup();
	nr0 = hc(HC_NO_ROUTE);
	nh0 = cc(CI_NOHOST, CC_CX_NONE_HEALTHY);
	cf0 = cc(CI_DEAD, CC_CX_CONNECT_FAIL);
	ej0 = cc(CI_DEAD, CC_RQ_PENDING_FAILURE_EJECT);
	client_open(&cl);
	send_str(cl.fd, "GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n");
	recv_until(cl.fd, buf, sizeof(buf), "\r\n\r\n", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 404 Not Found\r\n"));
	CU_ASSERT(await_state(cl.c, CONN_S_IDLE));
	CU_ASSERT_EQUAL(hc(HC_NO_ROUTE) - nr0, 1);

	send_str(cl.fd, "GET /empty HTTP/1.1\r\nHost: h\r\n\r\n");
	recv_until(cl.fd, buf, sizeof(buf), "no healthy upstream", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 503 Service Unavailable\r\n"));
	CU_ASSERT(await_state(cl.c, CONN_S_IDLE));
	CU_ASSERT_EQUAL(cc(CI_NOHOST, CC_CX_NONE_HEALTHY) - nh0, 1);

	send_str(cl.fd, "GET /dead HTTP/1.1\r\nHost: h\r\n\r\n");
	recv_until(cl.fd, buf, sizeof(buf), "Connection refused", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 503 Service Unavailable\r\n"));
	CU_ASSERT(strstr(buf, "upstream connect error or disconnect/reset "
	    "before headers. reset reason: remote connection failure, "
	    "transport failure reason: ") != NULL);
	CU_ASSERT(await_state(cl.c, CONN_S_IDLE));
	CU_ASSERT_EQUAL(cc(CI_DEAD, CC_CX_CONNECT_FAIL) - cf0, 1);
	CU_ASSERT_EQUAL(cc(CI_DEAD, CC_RQ_PENDING_FAILURE_EJECT) - ej0, 1);
	CU_ASSERT_FALSE(eof);
	finish(&cl, -1);
}

/*
 * The host resets the connection before answering, twice: the route's
 * one retry is taken (after its back-off, on a new connection) and the
 * client gets Envoy's 503 naming the retried reset.
 */
static void
upstream_reset_is_retried_then_503(void)
{
	struct client cl;
	char buf[4096];
	uint64_t retry0, limit0, reset0, cx0;
	bool eof;
	int u;

	setup();
	retry0 = cc(CI_SVC, CC_RQ_RETRY);
	limit0 = cc(CI_SVC, CC_RQ_RETRY_LIMIT_EXCEEDED);
	reset0 = cc(CI_SVC, CC_RQ_RX_RESET);
	cx0 = cc(CI_SVC, CC_CX_TOTAL);
	u = send_upstream(&cl, "GET /retry HTTP/1.1\r\nHost: h\r\n\r\n", buf,
	    sizeof(buf));
	ups_reset(u);
	/* after a jittered back-off (too short to be sure to see BACKOFF) */
	u = ups_accept();
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_RQ_RETRY) - retry0, 1);
	ups_read_head(u, buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /retry HTTP/1.1\r\n"));
	ups_reset(u);
	recv_until(cl.fd, buf, sizeof(buf), "termination", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 503 Service Unavailable\r\n"));
	CU_ASSERT(strstr(buf, "\r\n\r\nupstream connect error or "
	    "disconnect/reset before headers. retried and the latest reset "
	    "reason: connection termination") != NULL);
	CU_ASSERT(await_state(cl.c, CONN_S_IDLE));
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_RQ_RETRY) - retry0, 1);
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_RQ_RETRY_LIMIT_EXCEEDED) - limit0, 1);
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_RQ_RX_RESET) - reset0, 2);
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_CX_TOTAL) - cx0, 2);
	finish(&cl, -1);
}

/* A reset, then an answer on the retry: the client sees only the 200. */
static void
upstream_reset_then_retry_succeeds(void)
{
	struct client cl;
	char buf[4096];
	uint64_t ok0;
	int u;

	setup();
	ok0 = cc(CI_SVC, CC_RQ_RETRY_SUCCESS);
	u = send_upstream(&cl, "GET /retry HTTP/1.1\r\nHost: h\r\n\r\n", buf,
	    sizeof(buf));
	ups_reset(u);
	u = ups_accept();
	ups_read_head(u, buf, sizeof(buf));
	answer_ok(&cl, u);
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_RQ_RETRY_SUCCESS) - ok0, 1);
	finish(&cl, u);
}

/* The host closes mid-body: the client's connection closes too. */
static void
upstream_close_mid_response_closes_the_client(void)
{
	struct client cl;
	char buf[4096];
	uint64_t after0;
	bool eof;
	int u;

	setup();
	after0 = hc(HC_RQ_RESET_AFTER_RESPONSE);
	u = send_upstream(&cl, "GET /api HTTP/1.1\r\nHost: h\r\n\r\n", buf,
	    sizeof(buf));
	send_str(u, "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart");
	recv_until(cl.fd, buf, sizeof(buf), "part", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	close(u);
	recv_to_eof(cl.fd, buf, sizeof(buf), &eof);
	CU_ASSERT(eof);
	CU_ASSERT_EQUAL(hc(HC_RQ_RESET_AFTER_RESPONSE) - after0, 1);
	finish(&cl, -1);
}

/*
 * svc allows one connection: a second request waits for the slot
 * (upstream_cx_overflow) and takes the first one's connection when it
 * is released -- no second connect.
 */
static void
waiting_request_takes_the_released_connection(void)
{
	struct client a, b;
	char buf[4096];
	uint64_t cx0, ovf0;
	bool eof;
	int u;

	setup();
	cx0 = cc(CI_SVC, CC_CX_TOTAL);
	ovf0 = cc(CI_SVC, CC_CX_OVERFLOW);
	client_open(&a);
	client_open(&b);
	send_str(a.fd, "GET /api/a HTTP/1.1\r\nHost: h\r\n\r\n");
	u = ups_accept();
	ups_read_head(u, buf, sizeof(buf));
	send_str(b.fd, "GET /api/b HTTP/1.1\r\nHost: h\r\n\r\n");
	turn(2);
	CU_ASSERT_EQUAL(b.c->c_state, CONN_S_CONNECT);
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_CX_OVERFLOW) - ovf0, 1);
	CU_ASSERT_EQUAL(cg(CI_SVC, CG_RQ_PENDING_ACTIVE), 1);
	/* still waiting after a few polls, counted once */
	turn(10);
	turn(10);
	CU_ASSERT_EQUAL(b.c->c_state, CONN_S_CONNECT);
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_CX_OVERFLOW) - ovf0, 1);

	send_str(u, OK_RESPONSE);
	recv_until(a.fd, buf, sizeof(buf), "hello", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	ups_read_head(u, buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /api/b "));
	send_str(u, OK_RESPONSE);
	recv_until(b.fd, buf, sizeof(buf), "hello", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	CU_ASSERT(await_state(b.c, CONN_S_IDLE));
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_CX_TOTAL) - cx0, 1);
	close(a.fd);
	close(b.fd);
	close(u);
	settle();
}

/* A body, sent in two pieces, goes upstream whole after the head. */
static void
request_body_is_forwarded(void)
{
	struct client cl;
	char buf[4096];
	bool eof;
	int u;

	setup();
	u = send_upstream(&cl, "POST /api/form HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 10\r\n\r\n01234", buf, sizeof(buf));
	send_str(cl.fd, "56789");
	if (strstr(buf, "\r\n\r\n0123456789") == NULL)
		recv_until(u, buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "56789", &eof);
	CU_ASSERT(starts(buf, "POST /api/form HTTP/1.1\r\n"));
	CU_ASSERT(strcasestr(buf, "\r\ncontent-length: 10\r\n") != NULL);
	CU_ASSERT(strstr(buf, "\r\n\r\n0123456789") != NULL);
	answer_ok(&cl, u);
	finish(&cl, u);
}

/* The route's timeout runs out before the host answers: 504. */
static void
route_timeout_is_504(void)
{
	struct client cl;
	char buf[4096];
	uint64_t to0;
	bool eof;
	int u;

	setup();
	to0 = cc(CI_SVC, CC_RQ_TIMEOUT);
	u = send_upstream(&cl, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n", buf,
	    sizeof(buf));
	recv_until(cl.fd, buf, sizeof(buf), "upstream request timeout", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 504 Gateway Timeout\r\n"));
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_RQ_TIMEOUT) - to0, 1);
	/* the late answer's connection was dropped, the client kept */
	CU_ASSERT(await_state(cl.c, CONN_S_IDLE));
	CU_ASSERT_EQUAL(wrk_ups_count(), 0);
	finish(&cl, u);
}

/*
 * The connection a request waits behind is reset, not released: nobody
 * wakes the waiting request, it finds the free slot on its next look.
 */
static void
waiting_request_looks_again_for_a_slot(void)
{
	struct client a, b;
	char buf[4096];
	uint64_t cx0;
	bool eof;
	int u;

	setup();
	cx0 = cc(CI_SVC, CC_CX_TOTAL);
	client_open(&a);
	client_open(&b);
	send_str(a.fd, "GET /api/a HTTP/1.1\r\nHost: h\r\n\r\n");
	u = ups_accept();
	ups_read_head(u, buf, sizeof(buf));
	send_str(b.fd, "GET /api/b HTTP/1.1\r\nHost: h\r\n\r\n");
	turn(2);
	CU_ASSERT_EQUAL(b.c->c_state, CONN_S_CONNECT);
	ups_reset(u);
	recv_until(a.fd, buf, sizeof(buf), "termination", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 503 Service Unavailable\r\n"));
	u = ups_accept();
	ups_read_head(u, buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /api/b "));
	send_str(u, OK_RESPONSE);
	recv_until(b.fd, buf, sizeof(buf), "hello", &eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	CU_ASSERT_EQUAL(cc(CI_SVC, CC_CX_TOTAL) - cx0, 2);
	close(a.fd);
	close(b.fd);
	close(u);
	settle();
}

/*
 * Expect: 100-continue with no body yet: the proxy answers the 100
 * itself, the body follows and goes upstream, the final response after.
 */
static void
expect_100_continue_is_answered_by_the_proxy(void)
{
	struct client cl;
	char buf[4096];
	bool eof;
	int u;

	setup();
	client_open(&cl);
	send_str(cl.fd, "PUT /api/up HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
	recv_until(cl.fd, buf, sizeof(buf), "\r\n\r\n", &eof);
	CU_ASSERT_STRING_EQUAL(buf, "HTTP/1.1 100 Continue\r\n\r\n");
	u = ups_accept();
	send_str(cl.fd, "abcde");
	recv_until(u, buf, sizeof(buf), "\r\n\r\nabcde", &eof);
	CU_ASSERT(starts(buf, "PUT /api/up HTTP/1.1\r\n"));
	CU_ASSERT(strstr(buf, "\r\n\r\nabcde") != NULL);
	answer_ok(&cl, u);
	finish(&cl, u);
}

/* Draining: the next response says connection: close, then it closes. */
static void
drain_closes_after_the_next_response(void)
{
	struct client cl;
	char buf[4096];
	uint64_t drain0;
	bool eof;
	int u;

	setup();
	drain0 = hc(HC_CX_DRAIN_CLOSE);
	client_open(&cl);
	wrk_conn_drain(1000);
	CU_ASSERT_EQUAL(cl.c->c_state, CONN_S_IDLE);
	send_str(cl.fd, "GET /api HTTP/1.1\r\nHost: h\r\n\r\n");
	u = ups_accept();
	ups_read_head(u, buf, sizeof(buf));
	send_str(u, OK_RESPONSE);
	recv_to_eof(cl.fd, buf, sizeof(buf), &eof);
	CU_ASSERT(eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	CU_ASSERT(strcasestr(buf, "\r\nconnection: close\r\n") != NULL);
	CU_ASSERT_EQUAL(hc(HC_CX_DRAIN_CLOSE) - drain0, 1);
	finish(&cl, u);
}

/*
 * A response whose head went out before the drain began said nothing of
 * closing: the connection stays open for its grace, and the request its
 * client sends meanwhile is answered, with connection: close.
 */
static void
drain_keeps_a_connection_whose_response_began_before_it(void)
{
	struct client cl;
	char buf[4096];
	bool eof;
	int u;

	setup();
	u = send_upstream(&cl, "GET /api/a HTTP/1.1\r\nHost: h\r\n\r\n", buf,
	    sizeof(buf));
	send_str(u, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nA");
	recv_until(cl.fd, buf, sizeof(buf), "\r\n\r\nA", &eof);
	CU_ASSERT(strcasestr(buf, "connection: close") == NULL);
	wrk_conn_drain(500);
	send_str(u, "B");
	recv_until(cl.fd, buf, sizeof(buf), "B", &eof);
	CU_ASSERT_FALSE(eof);
	CU_ASSERT(await_state(cl.c, CONN_S_IDLE));
	send_str(cl.fd, "GET /api/b HTTP/1.1\r\nHost: h\r\n\r\n");
	ups_read_head(u, buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /api/b "));
	send_str(u, OK_RESPONSE);
	recv_to_eof(cl.fd, buf, sizeof(buf), &eof);
	CU_ASSERT(eof);
	CU_ASSERT(starts(buf, "HTTP/1.1 200 OK\r\n"));
	CU_ASSERT(strcasestr(buf, "\r\nconnection: close\r\n") != NULL);
	CU_ASSERT(strstr(buf, "hello") != NULL);
	finish(&cl, u);
}

/* Draining with two requests read: the first answer keeps the
 * connection, the second says close; nothing is left unanswered. */
static void
drain_answers_what_was_pipelined_then_closes(void)
{
	struct client cl;
	char buf[4096], *b;
	bool eof;
	int u;

	setup();
	client_open(&cl);
	wrk_conn_drain(500);
	send_str(cl.fd, "GET /api/a HTTP/1.1\r\nHost: h\r\n\r\n"
	    "GET /api/b HTTP/1.1\r\nHost: h\r\n\r\n");
	u = ups_accept();
	ups_read_head(u, buf, sizeof(buf));
	send_str(u, "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nA");
	ups_read_head(u, buf, sizeof(buf));
	CU_ASSERT(starts(buf, "GET /api/b "));
	send_str(u, "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nB");
	recv_to_eof(cl.fd, buf, sizeof(buf), &eof);
	CU_ASSERT(eof);
	b = strstr(buf, "\r\n\r\nA");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT(strcasestr(b, "\r\n\r\nB") != NULL);
	/* only the second answer says close */
	*b = '\0';
	CU_ASSERT(strcasestr(buf, "connection: close") == NULL);
	CU_ASSERT(strcasestr(b + 1, "connection: close") != NULL);
	finish(&cl, u);
}

/* An idle connection is closed once its grace is over, not before. */
static void
drain_closes_an_idle_connection_after_its_grace(void)
{
	struct client cl;
	char buf[256];
	uint64_t t0, drain0;
	bool eof;

	setup();
	drain0 = hc(HC_CX_DRAIN_CLOSE);
	client_open(&cl);
	wrk_clock();		/* the grace counts from the worker's clock */
	t0 = wrk.w_now;
	wrk_conn_drain(100);
	recv_to_eof(cl.fd, buf, sizeof(buf), &eof);
	CU_ASSERT(eof);
	CU_ASSERT(cd_mono_ms() - t0 >= 100);
	CU_ASSERT_EQUAL(hc(HC_CX_DRAIN_CLOSE) - drain0, 1);
	finish(&cl, -1);
}

static CU_TestInfo tests[] = {
	{ "proxied_request_then_keep_alive_reuses_the_upstream",
	    proxied_request_then_keep_alive_reuses_the_upstream },
	{ "pipelined_requests_are_answered_in_order",
	    pipelined_requests_are_answered_in_order },
	{ "connection_close_is_closed_after_the_response",
	    connection_close_is_closed_after_the_response },
	{ "client_close_idle_and_mid_request",
	    client_close_idle_and_mid_request },
	{ "request_body_is_forwarded", request_body_is_forwarded },
	{ "expect_100_continue_is_answered_by_the_proxy",
	    expect_100_continue_is_answered_by_the_proxy },
	{ "drain_closes_after_the_next_response",
	    drain_closes_after_the_next_response },
	{ "drain_keeps_a_connection_whose_response_began_before_it",
	    drain_keeps_a_connection_whose_response_began_before_it },
	{ "drain_answers_what_was_pipelined_then_closes",
	    drain_answers_what_was_pipelined_then_closes },
	{ "drain_closes_an_idle_connection_after_its_grace",
	    drain_closes_an_idle_connection_after_its_grace },
	{ "parse_error_is_400_and_closes", parse_error_is_400_and_closes },
	{ "route_timeout_is_504", route_timeout_is_504 },
	{ "local_replies_keep_the_connection",
	    local_replies_keep_the_connection },
	{ "upstream_reset_is_retried_then_503",
	    upstream_reset_is_retried_then_503 },
	{ "upstream_reset_then_retry_succeeds",
	    upstream_reset_then_retry_succeeds },
	{ "upstream_close_mid_response_closes_the_client",
	    upstream_close_mid_response_closes_the_client },
	{ "waiting_request_takes_the_released_connection",
	    waiting_request_takes_the_released_connection },
	{ "waiting_request_looks_again_for_a_slot",
	    waiting_request_looks_again_for_a_slot },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("worker/conn", tests);
