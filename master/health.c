/*
 * Active HTTP health checks in the master (see health.h): the checker,
 * with its sockets and timers; the state machine is health_state.c, the
 * response reader health_resp.c.
 *
 * One session per (cluster, host), found by the host's sh_id, in a fixed
 * array per checked cluster.  A session is either waiting for its interval
 * timer (HCP_IDLE, maybe holding a kept-alive connection) or running one
 * check: connect, send, read, bounded by its timeout timer.  Every way a
 * check can end goes through hc_finish(), which applies the state machine,
 * writes the flags and counters to shm, logs transitions and arms the next
 * interval; so one check costs at most one timeout, whatever the peer does.
 *
 * Invariant: a session in HCP_IDLE has no timeout timer and exactly one
 * interval timer; a session running a check has a timeout timer and no
 * interval timer.  Nothing here keeps a pointer into the configuration
 * (a reload replaces it): the cluster is always looked up by index.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/shm.h"
#include "health-int.h"
#include "health.h"
#include "loop.h"
#include "mst.h"
#include "outlier.h"

/* The flags this module owns in sh_flags. */
#define HC_OWN_FLAGS	(SHM_HF_FAILED_ACTIVE_HC | SHM_HF_ACTIVE_HC_TIMEOUT)

enum hc_phase {
	HCP_IDLE,		/* waiting for the interval timer */
	HCP_CONNECT,		/* non-blocking connect in progress */
	HCP_SEND,		/* writing the request */
	HCP_READ,		/* reading the response */
};

struct hc_host {
	bool		 hh_used;
	bool		 hh_initial;	/* here at start, no result yet */
	int		 hh_ci;
	uint32_t	 hh_index;	/* in sc_hosts[], kept current */
	uint32_t	 hh_id;		/* sh_id */
	struct sockaddr_storage hh_sa;
	socklen_t	 hh_salen;
	char		 hh_name[INET6_ADDRSTRLEN + 16];
	struct mst_hc_state hh_st;
	enum hc_phase	 hh_phase;
	int		 hh_fd;		/* -1, or a (kept-alive) connection */
	struct mst_timer *hh_next;	/* interval timer (HCP_IDLE only) */
	struct mst_timer *hh_timeout;	/* check timer (not HCP_IDLE) */
	size_t		 hh_sent;
	struct mst_hc_resp hh_resp;
};

struct hc_cluster {
	char		*hcc_req;	/* the request bytes */
	size_t		 hcc_reqlen;
	uint32_t	 hcc_nhosts;	/* the cluster's host records */
	struct hc_host	 hcc_hosts[];
};

static struct hc_cluster **hc_cl;	/* per conf cluster, NULL: none */
static size_t hc_ncl;
static bool hc_started;
static bool hc_init_done;
static uint32_t hc_init_pending;
static mst_health_ready_cb *hc_ready;

static void hc_on_interval(void *);
static void hc_on_io(int, uint32_t, void *);

static const struct cd_cluster *
hc_conf(const struct hc_host *hh)
{
	return &mst.m_conf->c_clusters[hh->hh_ci];
}

static void
hc_count(const struct hc_host *hh, int id)
{
	shm_add(&MST_MCTR(hh->hh_ci)->cc_c[id],
	    1);
}

static _Atomic uint32_t *
hc_shm_flags(const struct hc_host *hh)
{
	return &shm_cl_hosts(MST_SC(hh->hh_ci))[hh->hh_index].sh_flags;
}

/* Make the host's shm flags say what the state machine says. */
static void
hc_publish(const struct hc_host *hh)
{
	uint32_t set = hh->hh_st.hs_flags & HC_OWN_FLAGS;
	uint32_t clr = HC_OWN_FLAGS & ~set;

	if (set != 0)
		atomic_fetch_or_explicit(hc_shm_flags(hh), set,
		    memory_order_release);
	if (clr != 0)
		atomic_fetch_and_explicit(hc_shm_flags(hh), ~clr,
		    memory_order_release);
}

static void
hc_close(struct hc_host *hh)
{
	if (hh->hh_fd == -1)
		return;
	mst_loop_del(hh->hh_fd);
	close(hh->hh_fd);
	hh->hh_fd = -1;
}

static void
hc_initial_done(struct hc_host *hh)
{
	if (!hh->hh_initial)
		return;
	hh->hh_initial = false;
	if (hc_init_pending > 0 && --hc_init_pending == 0 && !hc_init_done) {
		hc_init_done = true;
		log_info("health checks: every host has a first result");
		if (hc_ready != NULL)
			hc_ready();
	}
}

static void
hc_schedule(struct hc_host *hh, uint64_t ms)
{
	hh->hh_phase = HCP_IDLE;
	if ((hh->hh_next = mst_timer_add(ms, hc_on_interval, hh)) == NULL)
		log_warn("cluster %s: host %s: health check timer",
		    hc_conf(hh)->cl_name, hh->hh_name);
}

/*
 * The one way a check ends.  The caller has closed the connection or
 * left a reusable one in hh_fd.  why says what went wrong, for the log.
 */
static void
hc_finish(struct hc_host *hh, enum mst_hc_result r, const char *why)
{
	const struct cd_cluster *cl = hc_conf(hh);
	enum mst_hc_transition t;
	bool first = hh->hh_st.hs_first, traffic = true;

	if (hh->hh_timeout != NULL) {
		mst_timer_cancel(hh->hh_timeout);
		hh->hh_timeout = NULL;
	}
	mst_hc_resp_free(&hh->hh_resp);
	hc_count(hh, r == MST_HC_R_SUCCESS ? CC_HC_SUCCESS : CC_HC_FAILURE);
	if (r == MST_HC_R_NETWORK || r == MST_HC_R_TIMEOUT)
		hc_count(hh, CC_HC_NETWORK_FAILURE);

	t = mst_hc_state_step(&hh->hh_st, cl->cl_hc, r);
	hc_publish(hh);
	if (t == MST_HC_T_CHANGED) {
		if (hh->hh_st.hs_flags & SHM_HF_FAILED_ACTIVE_HC)
			log_info("cluster %s: host %s unhealthy: %s",
			    cl->cl_name, hh->hh_name, why);
		else
			log_info("cluster %s: host %s %s", cl->cl_name,
			    hh->hh_name, first ? "healthy" : "healthy again");
	} else if (first && r != MST_HC_R_SUCCESS)
		log_info("cluster %s: host %s unhealthy: %s", cl->cl_name,
		    hh->hh_name, why);
	else if (r != MST_HC_R_SUCCESS)
		log_debug("cluster %s: host %s: health check failed: %s",
		    cl->cl_name, hh->hh_name, why);

	if (r == MST_HC_R_SUCCESS &&
	    (hh->hh_st.hs_flags & SHM_HF_FAILED_ACTIVE_HC) == 0)
		mst_outlier_hc_success(hh->hh_ci, hh->hh_index);
	hc_initial_done(hh);

	if (cl->cl_hc->hc_no_traffic_interval != CD_DUR_UNSET ||
	    cl->cl_hc->hc_no_traffic_healthy_interval != CD_DUR_UNSET)
		traffic = shm_sum_cluster_c(mst.m_shm, MST_SHM_CI(hh->hh_ci),
		    CC_CX_TOTAL) > 0;
	hc_schedule(hh, mst_hc_interval_ms(cl->cl_hc, r, t, traffic,
	    arc4random_uniform));
}

static void
hc_fail(struct hc_host *hh, enum mst_hc_result r, const char *what, int err)
{
	char why[160];

	hc_close(hh);
	if (err != 0)
		snprintf(why, sizeof(why), "%s: %s", what, strerror(err));
	else
		strlcpy(why, what, sizeof(why));
	hc_finish(hh, r, why);
}

static void
hc_on_timeout(void *arg)
{
	struct hc_host *hh = arg;
	char why[64];

	hh->hh_timeout = NULL;
	snprintf(why, sizeof(why), "no response within %llu ms",
	    (unsigned long long)health_ms(hc_conf(hh)->cl_hc->hc_timeout));
	hc_fail(hh, MST_HC_R_TIMEOUT, why, 0);
}

/* A complete response arrived; extra says bytes followed it. */
static void
hc_response(struct hc_host *hh, bool extra)
{
	const struct cd_cluster *cl = hc_conf(hh);
	int status = hh->hh_resp.r_status;
	char why[32];

	if (extra || hh->hh_resp.r_close || !cl->cl_hc->hc_reuse_connection)
		hc_close(hh);
	else if (mst_loop_mod(hh->hh_fd, EPOLLIN | EPOLLRDHUP, hc_on_io,
	    hh) == -1)
		hc_close(hh);
	if (mst_hc_status_expected(cl->cl_hc, status)) {
		hc_finish(hh, MST_HC_R_SUCCESS, "");
		return;
	}
	snprintf(why, sizeof(why), "status %d", status);
	hc_finish(hh, MST_HC_R_FAILURE, why);
}

static void
hc_send(struct hc_host *hh)
{
	const struct hc_cluster *hcc = hc_cl[hh->hh_ci];
	ssize_t n;

	hh->hh_phase = HCP_SEND;
	while (hh->hh_sent < hcc->hcc_reqlen) {
		n = send(hh->hh_fd, hcc->hcc_req + hh->hh_sent,
		    hcc->hcc_reqlen - hh->hh_sent, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (mst_loop_mod(hh->hh_fd, EPOLLOUT, hc_on_io,
			    hh) == -1)
				hc_fail(hh, MST_HC_R_NETWORK, "epoll", errno);
			return;
		}
		if (n == -1) {
			hc_fail(hh, MST_HC_R_NETWORK, "send", errno);
			return;
		}
		hh->hh_sent += (size_t)n;
	}
	hh->hh_phase = HCP_READ;
	if (mst_loop_mod(hh->hh_fd, EPOLLIN, hc_on_io, hh) == -1)
		hc_fail(hh, MST_HC_R_NETWORK, "epoll", errno);
}

static void
hc_read(struct hc_host *hh)
{
	char buf[4096];
	enum mst_hc_rc rc;
	ssize_t n;
	size_t used;
	int i;

	/* bounded: a fast peer can't keep the master here */
	for (i = 0; i < 16; i++) {
		n = recv(hh->hh_fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			hc_fail(hh, MST_HC_R_NETWORK, "recv", errno);
			return;
		}
		if (n == 0) {
			if (mst_hc_resp_eof(&hh->hh_resp) == MST_HC_DONE) {
				hc_close(hh);
				hc_response(hh, false);
			} else
				hc_fail(hh, MST_HC_R_NETWORK,
				    "connection closed before a full response",
				    0);
			return;
		}
		rc = mst_hc_resp_feed(&hh->hh_resp, buf, (size_t)n, &used);
		if (rc == MST_HC_DONE) {
			hc_response(hh, used < (size_t)n);
			return;
		}
		if (rc == MST_HC_ERR) {
			hc_fail(hh, MST_HC_R_NETWORK, "malformed response", 0);
			return;
		}
	}
}

static void
hc_on_io(int fd, uint32_t events, void *arg)
{
	struct hc_host *hh = arg;
	socklen_t len;
	int err;

	(void)fd;
	switch (hh->hh_phase) {
	case HCP_IDLE:
		/* a kept-alive connection closed, or sent what we didn't
		 * ask for: drop it quietly, the next check reconnects */
		hc_close(hh);
		return;
	case HCP_CONNECT:
		err = 0;
		len = sizeof(err);
		if (getsockopt(hh->hh_fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1)
			err = errno;
		if (err == 0 && (events & (EPOLLERR | EPOLLHUP)))
			err = ECONNREFUSED;
		if (err != 0) {
			hc_fail(hh, MST_HC_R_NETWORK, "connect", err);
			return;
		}
		hh->hh_sent = 0;
		hc_send(hh);
		return;
	case HCP_SEND:
		hc_send(hh);
		return;
	case HCP_READ:
		hc_read(hh);
		return;
	}
}

static void
hc_connect(struct hc_host *hh)
{
	int fd, on = 1;

	fd = socket(hh->hh_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		hc_fail(hh, MST_HC_R_NETWORK, "socket", errno);
		return;
	}
	hh->hh_fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (mst_loop_add(fd, EPOLLOUT, hc_on_io, hh) == -1) {
		hc_fail(hh, MST_HC_R_NETWORK, "epoll", errno);
		return;
	}
	hh->hh_sent = 0;
	if (connect(fd, (struct sockaddr *)&hh->hh_sa, hh->hh_salen) == 0) {
		hc_send(hh);
		return;
	}
	if (errno != EINPROGRESS) {
		hc_fail(hh, MST_HC_R_NETWORK, "connect", errno);
		return;
	}
	hh->hh_phase = HCP_CONNECT;
}

/* The interval is over: run one check. */
static void
hc_on_interval(void *arg)
{
	struct hc_host *hh = arg;
	const struct cd_health_check *hc = hc_conf(hh)->cl_hc;
	const char *m = hc->hc_method;

	hh->hh_next = NULL;
	hc_count(hh, CC_HC_ATTEMPT);
	mst_hc_resp_init(&hh->hh_resp, m != NULL && strcmp(m, "HEAD") == 0);
	if ((hh->hh_timeout = mst_timer_add(health_ms(hc->hc_timeout),
	    hc_on_timeout, hh)) == NULL) {
		hc_fail(hh, MST_HC_R_NETWORK, "timer", ENOMEM);
		return;
	}
	hh->hh_sent = 0;
	if (hh->hh_fd != -1)
		hc_send(hh);	/* on the kept-alive connection */
	else
		hc_connect(hh);
}

static void
hc_host_stop(struct hc_host *hh)
{
	hc_close(hh);
	if (hh->hh_next != NULL)
		mst_timer_cancel(hh->hh_next);
	if (hh->hh_timeout != NULL)
		mst_timer_cancel(hh->hh_timeout);
	hh->hh_next = hh->hh_timeout = NULL;
	mst_hc_resp_free(&hh->hh_resp);
	hh->hh_used = false;
	/* a host gone before its first result holds nobody up */
	hc_initial_done(hh);
}

static void
hc_host_addr(struct hc_host *hh, const struct shm_host *h)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&hh->hh_sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&hh->hh_sa;

	memset(&hh->hh_sa, 0, sizeof(hh->hh_sa));
	if (h->sh_family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(h->sh_port);
		memcpy(&sin6->sin6_addr, h->sh_addr, 16);
		hh->hh_salen = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(h->sh_port);
		memcpy(&sin->sin_addr, h->sh_addr, 4);
		hh->hh_salen = sizeof(*sin);
	}
	shm_host_addr(h, hh->hh_name, sizeof(hh->hh_name));
}

/* Bring cluster ci's sessions in line with its shm host list. */
static void
hc_sync(int ci, bool initial)
{
	const struct cd_health_check *hc = mst.m_conf->c_clusters[ci].cl_hc;
	struct hc_cluster *hcc = hc_cl[ci];
	struct shm_host *hosts;
	bool *known, *seen;
	uint32_t n, i, j, seq;
	struct hc_host *hh;

	hosts = shm_hosts_dup(MST_SC(ci), &n, &seq);
	known = calloc(n + 1, sizeof(*known));
	seen = calloc(hcc->hcc_nhosts, sizeof(*seen));
	if (hosts == NULL || known == NULL || seen == NULL) {
		log_warn("cluster %s: health checks",
		    mst.m_conf->c_clusters[ci].cl_name);
		goto out;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < hcc->hcc_nhosts; j++)
			if (hcc->hcc_hosts[j].hh_used &&
			    hcc->hcc_hosts[j].hh_id == hosts[i].sh_id) {
				hcc->hcc_hosts[j].hh_index = i;
				known[i] = seen[j] = true;
				break;
			}
	/* stop the hosts that left first: their slots take the new ones */
	for (j = 0; j < hcc->hcc_nhosts; j++)
		if (hcc->hcc_hosts[j].hh_used && !seen[j])
			hc_host_stop(&hcc->hcc_hosts[j]);
	for (i = 0; i < n; i++) {
		if (known[i])
			continue;
		for (j = 0; j < hcc->hcc_nhosts; j++)
			if (!hcc->hcc_hosts[j].hh_used)
				break;
		if (j == hcc->hcc_nhosts)	/* more than at start */
			break;
		hh = &hcc->hcc_hosts[j];
		memset(hh, 0, sizeof(*hh));
		hh->hh_used = true;
		hh->hh_initial = initial;
		if (initial)
			hc_init_pending++;
		hh->hh_ci = ci;
		hh->hh_index = i;
		hh->hh_id = hosts[i].sh_id;
		hh->hh_fd = -1;
		hc_host_addr(hh, &hosts[i]);
		mst_hc_state_init(&hh->hh_st);
		hc_publish(hh);
		hc_schedule(hh, health_rand(arc4random_uniform,
		    health_ms(hc->hc_initial_jitter)));
	}
out:
	free(hosts);
	free(known);
	free(seen);
}

uint32_t
mst_health_new_host_flags(const struct cd_cluster *cl)
{
	return cl->cl_hc != NULL ? SHM_HF_FAILED_ACTIVE_HC : 0;
}

int
mst_health_start(mst_health_ready_cb *ready)
{
	const struct cd_conf *conf = mst.m_conf;
	uint32_t nh;
	size_t ci;

	hc_ready = ready;
	hc_ncl = conf->c_nclusters;
	if ((hc_cl = calloc(hc_ncl ? hc_ncl : 1, sizeof(*hc_cl))) == NULL) {
		hc_ncl = 0;
		log_warn("health checks");
		return -1;
	}
	for (ci = 0; ci < conf->c_nclusters; ci++) {
		const struct cd_cluster *cl = &conf->c_clusters[ci];

		if (cl->cl_hc == NULL)
			continue;
		nh = MST_SC(ci)->sc_hcap;
		if ((hc_cl[ci] = calloc(1, sizeof(*hc_cl[ci]) +
		    nh * sizeof(struct hc_host))) == NULL ||
		    (hc_cl[ci]->hcc_req = mst_hc_request(cl,
		    &hc_cl[ci]->hcc_reqlen)) == NULL) {
			log_warn("cluster %s: health checks", cl->cl_name);
			return -1;
		}
		hc_cl[ci]->hcc_nhosts = nh;
		hc_sync((int)ci, true);
	}
	hc_started = true;
	if (hc_init_pending == 0)
		hc_init_done = true;
	return 0;
}

void
mst_health_stop(void)
{
	size_t ci;
	uint32_t j;

	for (ci = 0; ci < hc_ncl; ci++) {
		if (hc_cl[ci] == NULL)
			continue;
		for (j = 0; j < hc_cl[ci]->hcc_nhosts; j++)
			if (hc_cl[ci]->hcc_hosts[j].hh_used) {
				/* not a result: nobody waits any more */
				hc_cl[ci]->hcc_hosts[j].hh_initial = false;
				hc_host_stop(&hc_cl[ci]->hcc_hosts[j]);
			}
		free(hc_cl[ci]->hcc_req);
		free(hc_cl[ci]);
	}
	free(hc_cl);
	hc_cl = NULL;
	hc_ncl = 0;
	hc_started = false;
	hc_init_done = false;
	hc_init_pending = 0;
	hc_ready = NULL;
}

int
mst_health_initialized(void)
{
	return hc_init_done;
}

void
mst_health_hosts_changed(int ci)
{
	if (!hc_started || ci < 0 || (size_t)ci >= hc_ncl ||
	    hc_cl[ci] == NULL)
		return;
	hc_sync(ci, false);
}
