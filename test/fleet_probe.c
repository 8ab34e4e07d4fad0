/*
 * fleet-probe: one fleet instance without the proxy, for
 * test/integration/test_fleet.py.  It plays the master: forks the
 * coordinator child (mst_fleet_main(), master/fleet.h) on a socketpair,
 * answers APPLY with APPLIED as the master will, forwards operators'
 * actions, and stands in for shm with counters in a MAP_SHARED region
 * the test fills ("traffic").  Built by the GNUmakefile for tests only.
 *
 *	fleet-probe CONFIG.json
 *
 * CONFIG: {"id","cluster","etcd":[urls],"prefix","lease_ttl_s",
 * "report_ms","state_dir","routes":[{"name","clusters":[..],
 * "weights":[..],"canary","stable","steps":[..],"step_interval_ms",
 * "window_ms","min_requests","max_error_rate_delta","max_p99_ratio"}]}.
 *
 * Commands on stdin, one JSON answer line each ({"cmd":..,"ok":..}):
 *	traffic CLUSTER REQUESTS ERRORS LATENCY_US
 *	op ROUTE pause|resume|promote|rollback [wait]
 *	applied ROUTE	view (made now)	start	stop	kill	quit
 * Asynchronous lines carry "event": apply, op_done, exit.  The child's
 * log goes to stderr.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "shared/hist.h"
#include "shared/log.h"
#include "test/probe.h"
#include "master/evl.h"
#include "master/fleet.h"
#include "master/mst.h"

/* struct mst lives in master/main.c; the rollout code linked in for its
 * breach test refers to it */
__attribute__((weak)) struct mst mst;

#define PR_MAX_CL	32
#define PR_MAX_ROUTES	8

/* One cluster's cumulative counters, shared with the child. */
struct pr_cl {
	char		 c_name[CD_NAME_MAX];
	uint64_t	 c_rq;
	uint64_t	 c_err;
	uint64_t	 c_h[CD_HIST_N];
	uint64_t	 c_sum;
};

static struct pr_cl *pr_cls;	/* MAP_SHARED */
static int pr_ncl;
static struct mst_fleet_conf pr_conf;
static struct mst_fleet_rt pr_routes[PR_MAX_ROUTES];
static size_t pr_nroutes;
static struct mst_fleet_msg pr_applied[PR_MAX_ROUTES];	/* last APPLY */
static uint32_t *pr_applied_w[PR_MAX_ROUTES];	/* ... its weights */
static uint32_t *pr_rw;		/* received weights: pr_maxnw + 1 */
static size_t	 pr_maxnw;
static unsigned pr_napplies[PR_MAX_ROUTES];
static struct mst_evl *pr_loop;
static json_t *pr_cfg;
static pid_t pr_child = -1;
static int pr_sock = -1;
static uint64_t pr_next_id = 1;
static char *pr_view_new;
static size_t pr_view_len;
static int pr_view_wanted;	/* a "view" command waits for the next */
static struct probe_in pr_in;

static void
pr_emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	printf("%s\n", s != NULL ? s : "{\"ok\":false}");
	fflush(stdout);
	free(s);
	json_decref(o);
}

static int
pr_cluster(const char *name)
{
	int i;

	for (i = 0; i < pr_ncl; i++)
		if (strcmp(pr_cls[i].c_name, name) == 0)
			return i;
	if (pr_ncl == PR_MAX_CL)
		return -1;
	strlcpy(pr_cls[pr_ncl].c_name, name, CD_NAME_MAX);
	return pr_ncl++;
}

static void
pr_read(void *arg, int ci, uint64_t *rq, uint64_t *n5xx, struct hist *h)
{
	const struct pr_cl *c = &pr_cls[ci];
	uint32_t b;

	(void)arg;
	*rq = __atomic_load_n(&c->c_rq, __ATOMIC_RELAXED);
	*n5xx = __atomic_load_n(&c->c_err, __ATOMIC_RELAXED);
	memset(h, 0, sizeof(*h));
	for (b = 0; b < CD_HIST_N; b++) {
		h->h_b[b] = __atomic_load_n(&c->c_h[b], __ATOMIC_RELAXED);
		h->h_count += h->h_b[b];
	}
	h->h_sum_us = __atomic_load_n(&c->c_sum, __ATOMIC_RELAXED);
}

/* ---- configuration -------------------------------------------------------------- */

static int
pr_route(json_t *o, struct mst_fleet_rt *rt)
{
	json_t *cl = NULL, *w = NULL, *steps = NULL;
	json_int_t canary = 1, stable = 0, si = 2000, win = 5000, minrq = 10;
	double err = 0.05, p99 = 2.0;
	const char *name = NULL;
	size_t i;

	if (json_unpack(o, "{s:s,s:o,s:o,s:o,s?I,s?I,s?I,s?I,s?I,s?f,s?f}",
	    "name", &name, "clusters", &cl, "weights", &w, "steps", &steps,
	    "canary", &canary, "stable", &stable, "step_interval_ms", &si,
	    "window_ms", &win, "min_requests", &minrq, "max_error_rate_delta",
	    &err, "max_p99_ratio", &p99) != 0 || json_array_size(cl) !=
	    json_array_size(w) || json_array_size(steps) >
	    CD_MAX_ROLLOUT_STEPS || mst_fleet_rt_alloc(rt,
	    json_array_size(cl)) == -1)
		return -1;
	strlcpy(rt->fr_name, name, sizeof(rt->fr_name));
	rt->fr_nw = json_array_size(cl);
	if (rt->fr_nw > pr_maxnw)
		pr_maxnw = rt->fr_nw;
	for (i = 0; i < rt->fr_nw; i++) {
		strlcpy(rt->fr_cl[i], json_string_value(json_array_get(cl, i)),
		    sizeof(rt->fr_cl[i]));
		rt->fr_w[i] = (uint32_t)json_integer_value(json_array_get(w, i));
		if ((rt->fr_ci[i] = pr_cluster(rt->fr_cl[i])) == -1)
			return -1;
	}
	rt->fr_ro.ro_set = true;
	rt->fr_ro.ro_canary = (int)canary;
	rt->fr_ro.ro_stable = (int)stable;
	rt->fr_ro.ro_nsteps = json_array_size(steps);
	for (i = 0; i < rt->fr_ro.ro_nsteps; i++)
		rt->fr_ro.ro_steps[i] = (uint8_t)json_integer_value(
		    json_array_get(steps, i));
	rt->fr_ro.ro_step_interval = si * CD_NS_PER_MS;
	rt->fr_ro.ro_window = win * CD_NS_PER_MS;
	rt->fr_ro.ro_min_requests = (uint32_t)minrq;
	rt->fr_ro.ro_max_error_rate_delta = err;
	rt->fr_ro.ro_max_p99_ratio = p99;
	return 0;
}

static int
pr_config(const char *path)
{
	json_int_t ttl = 5, rep = 1000;
	json_t *etcd = NULL, *routes = NULL;
	const char *id, *cluster, *prefix = NULL, *state;
	json_error_t jerr;
	size_t i;

	if ((pr_cfg = json_load_file(path, 0, &jerr)) == NULL) {
		fprintf(stderr, "fleet-probe: %s: %s\n", path, jerr.text);
		return -1;
	}
	if (json_unpack(pr_cfg, "{s:s,s:s,s:o,s?s,s?I,s?I,s:s,s:o}", "id",
	    &id, "cluster", &cluster, "etcd", &etcd, "prefix", &prefix,
	    "lease_ttl_s", &ttl, "report_ms", &rep, "state_dir", &state,
	    "routes", &routes) != 0 ||
	    json_array_size(etcd) > MST_FLEET_MAX_ETCD ||
	    json_array_size(routes) > PR_MAX_ROUTES)
		return -1;
	/* the strings live as long as pr_cfg: the whole run */
	pr_conf.fl_node_id = id;
	pr_conf.fl_cluster = cluster;
	pr_conf.fl_prefix = prefix;
	pr_conf.fl_state_dir = state;
	pr_conf.fl_lease_ttl = ttl * CD_NS_PER_S;
	pr_conf.fl_report_interval = rep * CD_NS_PER_MS;
	for (i = 0; i < json_array_size(etcd); i++)
		pr_conf.fl_etcd[pr_conf.fl_netcd++] = json_string_value(
		    json_array_get(etcd, i));
	for (i = 0; i < json_array_size(routes); i++, pr_nroutes++)
		if (pr_route(json_array_get(routes, i), &pr_routes[i]) == -1 ||
		    (pr_applied_w[i] = calloc(pr_routes[i].fr_nw + 1,
		    sizeof(uint32_t))) == NULL)
			return -1;
	if ((pr_rw = calloc(pr_maxnw + 1, sizeof(*pr_rw))) == NULL)
		return -1;
	return 0;
}

/* ---- the coordinator child ------------------------------------------------------- */

static void	pr_on_sock(int, uint32_t, void *);

static int
pr_start(void)
{
	struct mst_fleet_args a;
	int sv[2];

	if (pr_child != -1)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if ((pr_child = fork()) == -1)
		return -1;
	if (pr_child == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(&a, 0, sizeof(a));
		a.fa_conf = &pr_conf;
		a.fa_routes = pr_routes;
		a.fa_nroutes = pr_nroutes;
		a.fa_metrics.fx_read = pr_read;
		a.fa_sock = sv[1];
		_exit(mst_fleet_main(&a));
	}
	close(sv[1]);
	pr_sock = sv[0];
	fcntl(pr_sock, F_SETFL, O_NONBLOCK);
	return mst_evl_add(pr_loop, pr_sock, EPOLLIN, pr_on_sock, NULL);
}

/* The child is gone (or going): reap it, say so. */
static int
pr_reap(int sig)
{
	int st = 0;

	if (pr_child == -1)
		return -1;
	if (sig != 0)
		kill(pr_child, sig);
	if (pr_sock != -1) {
		mst_evl_del(pr_loop, pr_sock);
		close(pr_sock);
		pr_sock = -1;
	}
	waitpid(pr_child, &st, 0);
	pr_child = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
pr_on_apply(const struct mst_fleet_msg *m, const uint32_t *rw)
{
	struct mst_fleet_msg ack;
	json_t *w = json_array();
	size_t i;

	for (i = 0; i < pr_nroutes; i++)
		if (strcmp(pr_routes[i].fr_name, m->fm_route) == 0 &&
		    m->fm_nw <= pr_routes[i].fr_nw) {
			pr_applied[i] = *m;
			memcpy(pr_applied_w[i], rw, m->fm_nw * sizeof(*rw));
			pr_napplies[i]++;
		}
	for (i = 0; i < m->fm_nw; i++)
		json_array_append_new(w, json_integer(rw[i]));
	pr_emit(json_pack("{s:s,s:s,s:I,s:o,s:i,s:i,s:I,s:b,s:b,s:s%}",
	    "event", "apply", "route", m->fm_route, "rev",
	    (json_int_t)m->fm_rev, "weights", w, "state", (int)m->fm_state,
	    "step", m->fm_step, "epoch", (json_int_t)m->fm_epoch, "local",
	    (m->fm_flags & MST_FLEET_F_LOCAL) != 0, "force",
	    (m->fm_flags & MST_FLEET_F_FORCE) != 0, "reason", m->fm_text,
	    (size_t)m->fm_len));
	memset(&ack, 0, sizeof(ack));
	ack.fm_type = MST_FLEET_M_APPLIED;
	strlcpy(ack.fm_route, m->fm_route, sizeof(ack.fm_route));
	ack.fm_rev = m->fm_rev;
	(void)send(pr_sock, &ack, sizeof(ack), MSG_NOSIGNAL);
}

static void
pr_on_view(const struct mst_fleet_msg *m)
{
	char *n;

	if (m->fm_id == 0)
		pr_view_len = 0;
	if ((n = realloc(pr_view_new, pr_view_len + m->fm_len + 1)) == NULL)
		return;
	pr_view_new = n;
	memcpy(pr_view_new + pr_view_len, m->fm_text, m->fm_len);
	pr_view_len += m->fm_len;
	pr_view_new[pr_view_len] = '\0';
	if ((m->fm_flags & MST_FLEET_F_LAST) && pr_view_wanted) {
		pr_view_wanted = 0;
		pr_emit(json_pack("{s:s,s:b,s:o}", "cmd", "view", "ok", 1,
		    "view", json_loadb(pr_view_new, pr_view_len, 0, NULL)));
	}
	if (m->fm_flags & MST_FLEET_F_LAST)
		pr_view_len = 0;
}

/* One message, an APPLY's weights into pr_rw; its size, or what
 * recvmsg(2) said.  0 weights unless the size says so. */
static ssize_t
pr_recv(int fd, struct mst_fleet_msg *m)
{
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	iov[0].iov_base = m;
	iov[0].iov_len = sizeof(*m);
	iov[1].iov_base = pr_rw;
	iov[1].iov_len = (pr_maxnw + 1) * sizeof(*pr_rw);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) < (ssize_t)sizeof(*m))
		return n;
	if ((mh.msg_flags & MSG_TRUNC) || m->fm_nw > pr_maxnw ||
	    (size_t)n != sizeof(*m) + (m->fm_type == MST_FLEET_M_APPLY ?
	    m->fm_nw : 0) * sizeof(*pr_rw))
		m->fm_type = 0;		/* fits no route: dropped */
	return (ssize_t)sizeof(*m);
}

static void
pr_on_sock(int fd, uint32_t events, void *arg)
{
	struct mst_fleet_msg m;
	ssize_t n;

	(void)events;
	(void)arg;
	while ((n = pr_recv(fd, &m)) == sizeof(m)) {
		m.fm_text[sizeof(m.fm_text) - 1] = '\0';
		if (m.fm_type == MST_FLEET_M_APPLY)
			pr_on_apply(&m, pr_rw);
		else if (m.fm_type == MST_FLEET_M_VIEW)
			pr_on_view(&m);
		else if (m.fm_type == MST_FLEET_M_OP_DONE)
			pr_emit(json_pack("{s:s,s:I,s:i,s:o}", "event",
			    "op_done", "id", (json_int_t)m.fm_id, "status",
			    m.fm_status, "body", json_loadb(m.fm_text, m.fm_len,
			    0, NULL)));
	}
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		if (pr_view_wanted) {
			pr_view_wanted = 0;
			pr_emit(json_pack("{s:s,s:b}", "cmd", "view", "ok", 0));
		}
		pr_emit(json_pack("{s:s,s:i}", "event", "exit", "status",
		    pr_reap(0)));
	}
}

/* ---- commands ------------------------------------------------------------------- */

static void
pr_traffic(char **w)
{
	int ci = pr_cluster(w[1]);
	uint64_t rq = strtoull(w[2], NULL, 10), err = strtoull(w[3], NULL, 10),
	    us = strtoull(w[4], NULL, 10);
	struct pr_cl *c;

	if (ci == -1) {
		pr_emit(json_pack("{s:s,s:b}", "cmd", "traffic", "ok", 0));
		return;
	}
	c = &pr_cls[ci];
	__atomic_fetch_add(&c->c_h[hist_bucket(us)], rq, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->c_sum, rq * us, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->c_err, err, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->c_rq, rq, __ATOMIC_RELAXED);
	pr_emit(json_pack("{s:s,s:b}", "cmd", "traffic", "ok", 1));
}

static void
pr_op(char **w, int n)
{
	static const char *const ops[] = { "pause", "resume", "promote",
	    "rollback" };
	struct mst_fleet_msg m;
	int k;

	memset(&m, 0, sizeof(m));
	m.fm_type = MST_FLEET_M_OP;
	m.fm_id = pr_next_id++;
	m.fm_op = -1;
	for (k = 0; k < 4; k++)
		if (strcmp(w[2], ops[k]) == 0)
			m.fm_op = k;
	m.fm_flags = n > 3 && strcmp(w[3], "wait") == 0 ?
	    MST_FLEET_F_WAIT_ACK : 0;
	strlcpy(m.fm_route, w[1], sizeof(m.fm_route));
	pr_emit(json_pack("{s:s,s:b,s:I}", "cmd", "op", "ok", pr_sock != -1 &&
	    send(pr_sock, &m, sizeof(m), MSG_NOSIGNAL) == sizeof(m),
	    "id", (json_int_t)m.fm_id));
}

static void
pr_show_applied(const char *route)
{
	const struct mst_fleet_msg *m;
	json_t *wj = json_array();
	size_t i, k;

	for (i = 0; i < pr_nroutes; i++)
		if (strcmp(pr_routes[i].fr_name, route) == 0)
			break;
	if (i == pr_nroutes) {
		pr_emit(json_pack("{s:s,s:b}", "cmd", "applied", "ok", 0));
		json_decref(wj);
		return;
	}
	m = &pr_applied[i];
	for (k = 0; k < m->fm_nw; k++)
		json_array_append_new(wj, json_integer(pr_applied_w[i][k]));
	pr_emit(json_pack("{s:s,s:b,s:I,s:o,s:i,s:i,s:i,s:b}", "cmd",
	    "applied", "ok", 1, "rev", (json_int_t)m->fm_rev, "weights", wj,
	    "state", (int)m->fm_state, "step", m->fm_step, "applies",
	    (int)pr_napplies[i], "local", (m->fm_flags & MST_FLEET_F_LOCAL) != 0));
}

/* A view made now: the answer comes with its last piece. */
static void
pr_ask_view(void)
{
	struct mst_fleet_msg m;

	memset(&m, 0, sizeof(m));
	m.fm_type = MST_FLEET_M_VIEW;
	if (pr_sock == -1 || send(pr_sock, &m, sizeof(m), MSG_NOSIGNAL) !=
	    sizeof(m)) {
		pr_emit(json_pack("{s:s,s:b}", "cmd", "view", "ok", 0));
		return;
	}
	pr_view_wanted = 1;
}

/* One command; -1 to quit. */
static int
pr_command(char *line)
{
	char *w[8], *p;
	int n = 0;

	for (p = strtok(line, " \t"); p != NULL && n < 8; p = strtok(NULL, " \t"))
		w[n++] = p;
	if (n == 0)
		return 0;
	if (strcmp(w[0], "quit") == 0)
		return -1;
	if (strcmp(w[0], "traffic") == 0 && n == 5)
		pr_traffic(w);
	else if (strcmp(w[0], "op") == 0 && n >= 3)
		pr_op(w, n);
	else if (strcmp(w[0], "applied") == 0 && n == 2)
		pr_show_applied(w[1]);
	else if (strcmp(w[0], "view") == 0)
		pr_ask_view();
	else if (strcmp(w[0], "start") == 0)
		pr_emit(json_pack("{s:s,s:b}", "cmd", "start", "ok",
		    pr_start() == 0));
	else if (strcmp(w[0], "stop") == 0 || strcmp(w[0], "kill") == 0)
		pr_emit(json_pack("{s:s,s:b,s:i}", "cmd", w[0], "ok", 1,
		    "status", pr_reap(w[0][0] == 's' ? SIGTERM : SIGKILL)));
	else
		pr_emit(json_pack("{s:s,s:b,s:s}", "cmd", w[0], "ok", 0, "err",
		    "usage"));
	return 0;
}

static void
pr_stdin(int fd, uint32_t events, void *arg)
{
	(void)events;
	(void)arg;
	if (probe_stdin(fd, &pr_in, pr_command) == -1)
		mst_evl_stop(pr_loop);
}

int
main(int argc, char *argv[])
{
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: fleet-probe config.json\n");
		return 2;
	}
	log_init(LOG_L_INFO, 2, 0);
	log_setproc("fleet-probe");
	signal(SIGPIPE, SIG_IGN);
	pr_cls = mmap(NULL, sizeof(*pr_cls) * PR_MAX_CL, PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pr_cls == MAP_FAILED || pr_config(argv[1]) == -1 ||
	    (pr_loop = mst_evl_new()) == NULL) {
		fprintf(stderr, "fleet-probe: bad config or no memory\n");
		return 2;
	}
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	if (mst_evl_add(pr_loop, 0, EPOLLIN, pr_stdin, NULL) == 0 &&
	    pr_start() == 0) {
		printf("{\"ready\":true}\n");
		fflush(stdout);
		mst_evl_run(pr_loop);
		rc = 0;
	}
	if (pr_child != -1)
		(void)pr_reap(SIGTERM);
	mst_evl_del(pr_loop, 0);
	mst_evl_free(pr_loop);
	free(pr_view_new);
	json_decref(pr_cfg);
	munmap(pr_cls, sizeof(*pr_cls) * PR_MAX_CL);
	return rc;
}
