/*
 * Cluster hosts and STRICT_DNS resolution (see dns.h).
 *
 * The resolver child reads one request per datagram from a SEQPACKET
 * socketpair, calls getaddrinfo(3) and answers one datagram.  The master
 * keeps, per cluster, the round it is collecting: when every endpoint of
 * the round has answered, the address lists become the new host list.
 * A failed lookup keeps the previous hosts, as Envoy does.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "dns.h"
#include "health.h"
#include "helper.h"
#include "loop.h"
#include "mst.h"
#include "outlier.h"

struct dns_addr {
	uint16_t	 a_family;
	uint8_t		 a_addr[16];
};

struct dns_req {
	uint32_t	 rq_cluster;
	uint32_t	 rq_endpoint;
	uint32_t	 rq_round;
	uint32_t	 rq_family;	/* enum cd_dns_family */
	char		 rq_name[CD_HOSTNAME_MAX];
};

struct dns_rep {
	uint32_t	 rp_cluster;
	uint32_t	 rp_endpoint;
	uint32_t	 rp_round;
	int32_t		 rp_err;	/* getaddrinfo code, 0 = ok */
	uint32_t	 rp_n;
	struct dns_addr	 rp_addr[CD_DNS_ANSWER];
};

/* One cluster's collection state, master side. */
struct dns_cluster {
	uint32_t	 dc_round;
	uint32_t	 dc_pending;	/* endpoints not answered this round */
	int		 dc_failed;	/* an endpoint failed this round */
	struct shm_host	*dc_new;	/* dc_cap, on first use */
	uint32_t	 dc_cap;	/* the cluster's host records */
	uint32_t	 dc_nnew;
	int		 dc_truncated;
};

static struct dns_cluster *dns_cl;	/* per conf cluster */
static size_t dns_ncl;
/* Bumped when a structural reload replaces the clusters: refresh timers
 * armed for the previous set carry the old epoch and do nothing. */
static uint32_t dns_epoch;
static int dns_sock = -1;	/* master's end */
static pid_t dns_child = -1;

static _Atomic uint64_t *
dns_ctr(int cl, int id)
{
	return &MST_MCTR(cl)->cc_c[id];
}

/*
 * The address families a lookup takes, in passes: the second pass runs
 * only when the first found nothing (the "preferred" families), or
 * always (ALL).  canaryd's default is V4_PREFERRED (see canaryd.yaml(5):
 * Envoy's AUTO prefers IPv6, which sends "localhost" to ::1 while most
 * local backends listen on 127.0.0.1 only).
 */
static const struct {
	int	 df_pass[2];	/* AF_* per pass, AF_UNSPEC: no pass */
	int	 df_both;	/* the second pass even after a hit */
} dns_families[] = {
	[CD_DNS_AUTO] = { { AF_INET6, AF_INET }, 0 },
	[CD_DNS_V4_ONLY] = { { AF_INET, AF_UNSPEC }, 0 },
	[CD_DNS_V6_ONLY] = { { AF_INET6, AF_UNSPEC }, 0 },
	[CD_DNS_V4_PREFERRED] = { { AF_INET, AF_INET6 }, 0 },
	[CD_DNS_ALL] = { { AF_INET, AF_INET6 }, 1 },
};

/* Blocking lookup of name in the families of dns_lookup_family fam. */
static int
dns_lookup(const char *name, uint32_t fam_conf, struct dns_addr *out,
    uint32_t *n)
{
	struct addrinfo hints, *res, *ai;
	int rc, pass;

	if (fam_conf >= sizeof(dns_families) / sizeof(dns_families[0]))
		fam_conf = CD_DNS_V4_PREFERRED;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(name, NULL, &hints, &res)) != 0)
		return rc;
	*n = 0;
	for (pass = 0; pass < 2 && (*n == 0 ||
	    dns_families[fam_conf].df_both); pass++) {
		int fam = dns_families[fam_conf].df_pass[pass];

		if (fam == AF_UNSPEC)
			break;

		for (ai = res; ai != NULL && *n < CD_DNS_ANSWER;
		    ai = ai->ai_next) {
			struct dns_addr a;
			uint32_t i;

			if (ai->ai_family != fam)
				continue;
			memset(&a, 0, sizeof(a));
			a.a_family = (uint16_t)fam;
			if (fam == AF_INET)
				memcpy(a.a_addr, &((struct sockaddr_in *)
				    (void *)ai->ai_addr)->sin_addr, 4);
			else
				memcpy(a.a_addr, &((struct sockaddr_in6 *)
				    (void *)ai->ai_addr)->sin6_addr, 16);
			for (i = 0; i < *n; i++)
				if (memcmp(&out[i], &a, sizeof(a)) == 0)
					break;
			if (i == *n)
				out[(*n)++] = a;
		}
	}
	freeaddrinfo(res);
	return *n == 0 ? EAI_NODATA : 0;
}

static int
dns_literal(const char *s, struct dns_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a_addr) == 1) {
		a->a_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a_addr) == 1) {
		a->a_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* Start a round of collection for cluster ci. */
static void
dns_round_begin(int ci)
{
	struct dns_cluster *dc = &dns_cl[ci];
	uint32_t cap = MST_SC(ci)->sc_hcap;

	if (dc->dc_new == NULL || dc->dc_cap != cap) {
		free(dc->dc_new);
		if ((dc->dc_new = calloc(cap > 0 ? cap : 1,
		    sizeof(*dc->dc_new))) == NULL)
			fatal("calloc");
		dc->dc_cap = cap;
	}
	dc->dc_round++;
	dc->dc_pending = (uint32_t)mst.m_conf->c_clusters[ci].cl_nendpoints;
	dc->dc_failed = 0;
	dc->dc_nnew = 0;
	dc->dc_truncated = 0;
}

/* Add endpoint ep's addresses to the round being collected. */
static void
dns_round_add(int ci, uint32_t ep, const struct dns_addr *a, uint32_t n)
{
	const struct cd_cluster *cl = &mst.m_conf->c_clusters[ci];
	struct dns_cluster *dc = &dns_cl[ci];
	uint32_t i, j;

	/* LOGICAL_DNS: one host, the first address the name gives now */
	if (cl->cl_type == CD_CT_LOGICAL_DNS && n > 1)
		n = 1;
	for (i = 0; i < n; i++) {
		struct shm_host *h;

		for (j = 0; j < dc->dc_nnew; j++) {
			h = &dc->dc_new[j];
			if (h->sh_family == a[i].a_family &&
			    h->sh_port == cl->cl_endpoints[ep].ep_port &&
			    memcmp(h->sh_addr, a[i].a_addr, 16) == 0)
				break;
		}
		if (j < dc->dc_nnew)
			continue;	/* same address twice: one host */
		if (dc->dc_nnew == dc->dc_cap) {
			dc->dc_truncated = 1;
			break;
		}
		h = &dc->dc_new[dc->dc_nnew++];
		memset(h, 0, sizeof(*h));
		h->sh_family = a[i].a_family;
		h->sh_port = cl->cl_endpoints[ep].ep_port;
		memcpy(h->sh_addr, a[i].a_addr, 16);
		h->sh_endpoint = ep;
		h->sh_weight = cl->cl_endpoints[ep].ep_weight;
	}
}

static int
host_same_addr(const struct shm_host *a, const struct shm_host *b)
{
	return a->sh_family == b->sh_family && a->sh_port == b->sh_port &&
	    memcmp(a->sh_addr, b->sh_addr, 16) == 0;
}

/*
 * The round is complete: publish the new list, keeping the id and health
 * flags of every host whose address stays, and its relative order.
 */
static void
dns_round_end(int ci, int count)
{
	const struct cd_cluster *cl = &mst.m_conf->c_clusters[ci];
	struct shm_cluster *sc = MST_SC(ci);
	struct dns_cluster *dc = &dns_cl[ci];
	struct shm_host *old, *out;
	uint32_t nold, nout = 0, i, j, seq;
	uint8_t *used;

	if (dc->dc_truncated)
		log_warnx("cluster %s: more than %u addresses, extra ones "
		    "ignored until a reload gives the cluster room for them",
		    cl->cl_name, dc->dc_cap);
	if (dc->dc_failed) {
		if (count)
			shm_add(dns_ctr(ci, CC_UPDATE_FAILURE), 1);
		return;		/* keep the hosts we have */
	}
	if (count && dc->dc_nnew == 0)
		shm_add(dns_ctr(ci, CC_UPDATE_EMPTY), 1);

	old = shm_hosts_dup(sc, &nold, &seq);
	out = calloc(dc->dc_cap + nold + 1, sizeof(*out));
	used = calloc(dc->dc_cap + 1, sizeof(*used));
	if (old == NULL || out == NULL || used == NULL) {
		log_warn("cluster %s: hosts", cl->cl_name);
		goto out;
	}
	if (cl->cl_type == CD_CT_LOGICAL_DNS && nold == 1 &&
	    dc->dc_nnew == 1 && !host_same_addr(&old[0], &dc->dc_new[0])) {
		/*
		 * The logical host moves to its new address and stays the
		 * same host (id, health, pool), as Envoy's does: new
		 * connections go to the new address, pooled ones are reused.
		 */
		out[0] = dc->dc_new[0];
		out[0].sh_id = old[0].sh_id;
		atomic_store(&out[0].sh_flags, atomic_load(&old[0].sh_flags));
		shm_hosts_publish(sc, out, 1);
		if (count)
			shm_add(dns_ctr(ci, CC_UPDATE_SUCCESS), 1);
		log_info("cluster %s: the logical host moves to a new address",
		    cl->cl_name);
		goto out;
	}
	for (i = 0; i < nold; i++) {
		for (j = 0; j < dc->dc_nnew; j++)
			if (!used[j] && host_same_addr(&old[i], &dc->dc_new[j]))
				break;
		if (j == dc->dc_nnew)
			continue;	/* gone */
		used[j] = 1;
		out[nout] = old[i];
		out[nout].sh_endpoint = dc->dc_new[j].sh_endpoint;
		out[nout].sh_weight = dc->dc_new[j].sh_weight;
		nout++;
	}
	for (j = 0; j < dc->dc_nnew; j++) {
		if (used[j])
			continue;
		out[nout] = dc->dc_new[j];
		out[nout].sh_id = ++MST_SC(ci)->sc_next_id;	/* per record */
		/* failed until checked, before any worker can see it */
		atomic_store(&out[nout].sh_flags,
		    mst_health_new_host_flags(cl));
		nout++;
	}
	if (sc->sc_resolved && nout == nold) {
		for (i = 0; i < nout; i++)
			if (!host_same_addr(&out[i], &old[i]) ||
			    out[i].sh_weight != old[i].sh_weight)
				break;
		if (i == nout) {
			if (count) {
				shm_add(dns_ctr(ci, CC_UPDATE_SUCCESS), 1);
				shm_add(dns_ctr(ci, CC_UPDATE_NO_REBUILD), 1);
			}
			goto out;
		}
	}
	shm_hosts_publish(sc, out, nout);
	mst_health_hosts_changed(ci);
	mst_outlier_hosts_changed(ci);
	if (count) {
		shm_add(dns_ctr(ci, CC_UPDATE_SUCCESS), 1);
		shm_add(dns_ctr(ci, CC_MEMBERSHIP_CHANGE), 1);
	}
	log_info("cluster %s: %u host%s", cl->cl_name, nout,
	    nout == 1 ? "" : "s");
out:
	free(old);
	free(out);
	free(used);
}

/* Blocking resolution of every cluster, before workers exist. */
static void
dns_resolve_all_now(void)
{
	const struct cd_conf *conf = mst.m_conf;
	size_t ci, ep;

	for (ci = 0; ci < conf->c_nclusters; ci++) {
		const struct cd_cluster *cl = &conf->c_clusters[ci];
		int dyn = cl->cl_type != CD_CT_STATIC;

		strlcpy(MST_SC(ci)->sc_name, cl->cl_name,
		    sizeof(MST_SC(ci)->sc_name));
		dns_round_begin((int)ci);
		if (dyn)
			shm_add(dns_ctr((int)ci, CC_UPDATE_ATTEMPT), 1);
		for (ep = 0; ep < cl->cl_nendpoints; ep++) {
			struct dns_addr a[CD_DNS_ANSWER];
			uint32_t n = 0;
			int rc;

			if (dns_literal(cl->cl_endpoints[ep].ep_address,
			    &a[0]) == 0) {
				n = 1;
			} else if ((rc = dns_lookup(
			    cl->cl_endpoints[ep].ep_address,
			    cl->cl_dns_lookup_family, a, &n)) != 0) {
				log_warnx("cluster %s: resolve %s: %s",
				    cl->cl_name, cl->cl_endpoints[ep].ep_address,
				    gai_strerror(rc));
				dns_cl[ci].dc_failed = 1;
				continue;
			}
			dns_round_add((int)ci, (uint32_t)ep, a, n);
		}
		dns_round_end((int)ci, dyn);
	}
}

_Noreturn static void
dns_child_main(int sock)
{
	struct dns_req rq;
	struct dns_rep rp;
	ssize_t n;

	setproctitle("dns");
	log_setproc("dns");
	for (;;) {
		n = recv(sock, &rq, sizeof(rq), 0);
		if (n == 0)
			_exit(0);	/* master gone */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if ((size_t)n != sizeof(rq))
			continue;
		rq.rq_name[sizeof(rq.rq_name) - 1] = '\0';
		memset(&rp, 0, sizeof(rp));
		rp.rp_cluster = rq.rq_cluster;
		rp.rp_endpoint = rq.rq_endpoint;
		rp.rp_round = rq.rq_round;
		rp.rp_err = dns_lookup(rq.rq_name, rq.rq_family, rp.rp_addr,
		    &rp.rp_n);
		if (send(sock, &rp, sizeof(rp), 0) == -1 && errno != EINTR)
			_exit(1);
	}
}

static void
dns_on_reply(int fd, uint32_t events, void *arg)
{
	struct dns_rep rp;
	ssize_t n;

	(void)events;
	(void)arg;
	for (;;) {
		n = recv(fd, &rp, sizeof(rp), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n != sizeof(rp) ||
		    rp.rp_cluster >= mst.m_conf->c_nclusters)
			continue;
		struct dns_cluster *dc = &dns_cl[rp.rp_cluster];
		const struct cd_cluster *cl =
		    &mst.m_conf->c_clusters[rp.rp_cluster];

		if (rp.rp_round != dc->dc_round || dc->dc_pending == 0 ||
		    rp.rp_endpoint >= cl->cl_nendpoints)
			continue;	/* stale answer */
		if (rp.rp_err != 0) {
			log_warnx("cluster %s: resolve %s: %s", cl->cl_name,
			    cl->cl_endpoints[rp.rp_endpoint].ep_address,
			    gai_strerror(rp.rp_err));
			dc->dc_failed = 1;
		} else {
			if (rp.rp_n > CD_DNS_ANSWER)
				rp.rp_n = CD_DNS_ANSWER;
			dns_round_add((int)rp.rp_cluster, rp.rp_endpoint,
			    rp.rp_addr, rp.rp_n);
		}
		if (--dc->dc_pending == 0)
			dns_round_end((int)rp.rp_cluster, 1);
	}
}

static void dns_refresh(void *);

static void
dns_schedule(size_t ci)
{
	const struct cd_cluster *cl = &mst.m_conf->c_clusters[ci];
	uint64_t ms = (uint64_t)CD_NS_TO_MS_CEIL(cl->cl_dns_refresh_rate);

	if (mst_timer_add(ms ? ms : 5000, dns_refresh,
	    (void *)(uintptr_t)((uint64_t)dns_epoch << 32 | ci)) == NULL)
		log_warn("cluster %s: dns timer", cl->cl_name);
}

static void
dns_refresh(void *arg)
{
	size_t ci = (size_t)((uint64_t)(uintptr_t)arg & 0xffffffffu), ep;
	const struct cd_cluster *cl;
	struct dns_req rq;

	if ((uint64_t)(uintptr_t)arg >> 32 != dns_epoch ||
	    mst.m_conf == NULL || ci >= mst.m_conf->c_nclusters)
		return;
	cl = &mst.m_conf->c_clusters[ci];
	dns_schedule(ci);
	if (dns_sock == -1)
		return;
	if (dns_cl[ci].dc_pending != 0) {
		/* the last round never finished: the resolver is stuck */
		shm_add(dns_ctr((int)ci, CC_UPDATE_FAILURE), 1);
	}
	dns_round_begin((int)ci);
	shm_add(dns_ctr((int)ci, CC_UPDATE_ATTEMPT), 1);
	for (ep = 0; ep < cl->cl_nendpoints; ep++) {
		memset(&rq, 0, sizeof(rq));
		rq.rq_cluster = (uint32_t)ci;
		rq.rq_endpoint = (uint32_t)ep;
		rq.rq_round = dns_cl[ci].dc_round;
		rq.rq_family = cl->cl_dns_lookup_family;
		strlcpy(rq.rq_name, cl->cl_endpoints[ep].ep_address,
		    sizeof(rq.rq_name));
		if (send(dns_sock, &rq, sizeof(rq), MSG_DONTWAIT) == -1) {
			log_warn("cluster %s: resolver request", cl->cl_name);
			dns_cl[ci].dc_failed = 1;
			if (--dns_cl[ci].dc_pending == 0)
				dns_round_end((int)ci, 1);
		}
	}
}

static int
dns_spawn(void)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	switch ((pid = fork())) {
	case -1:
		close(sv[0]);
		close(sv[1]);
		return -1;
	case 0:
		dns_child_main(mst_helper_child(sv[1]));
	}
	close(sv[1]);
	dns_sock = sv[0];
	dns_child = pid;
	if (mst_loop_add(dns_sock, EPOLLIN, dns_on_reply, NULL) == -1) {
		close(dns_sock);
		dns_sock = -1;
		return -1;
	}
	return 0;
}

/* One state per conf cluster of mst.m_conf (a reload may change the
 * count: every state starts over, as no answer of before counts). */
static void
dns_size(void)
{
	size_t ci;

	for (ci = 0; ci < dns_ncl; ci++)
		free(dns_cl[ci].dc_new);
	free(dns_cl);
	dns_ncl = mst.m_conf->c_nclusters;
	if ((dns_cl = calloc(dns_ncl ? dns_ncl : 1, sizeof(*dns_cl))) == NULL)
		fatal("calloc");
}

int
mst_dns_start(void)
{
	size_t ci;
	int dynamic = 0;

	dns_size();
	dns_resolve_all_now();
	for (ci = 0; ci < mst.m_conf->c_nclusters; ci++)
		if (mst.m_conf->c_clusters[ci].cl_type != CD_CT_STATIC) {
			dynamic = 1;
			dns_schedule(ci);
		}
	if (dynamic && dns_spawn() == -1) {
		log_warn("resolver process");
		return -1;
	}
	return 0;
}

void
mst_dns_reconfigure(void)
{
	size_t ci;

	dns_epoch++;
	dns_size();	/* answers in flight are stale */
	dns_resolve_all_now();
	for (ci = 0; ci < mst.m_conf->c_nclusters; ci++)
		if (mst.m_conf->c_clusters[ci].cl_type != CD_CT_STATIC)
			dns_schedule(ci);
	if (dns_child <= 0 && dns_sock == -1)
		for (ci = 0; ci < mst.m_conf->c_nclusters; ci++)
			if (mst.m_conf->c_clusters[ci].cl_type !=
			    CD_CT_STATIC) {
				if (dns_spawn() == -1)
					log_warn("resolver process");
				break;
			}
}

void
mst_dns_stop(void)
{
	if (dns_sock != -1) {
		mst_loop_del(dns_sock);
		close(dns_sock);	/* the child exits on EOF */
		dns_sock = -1;
	}
	if (dns_child > 0)
		kill(dns_child, SIGTERM);
}

int
mst_dns_pid(void)
{
	return dns_child;
}

void
mst_dns_child_exited(void)
{
	size_t ci;

	dns_child = -1;
	if (dns_sock != -1) {
		mst_loop_del(dns_sock);
		close(dns_sock);
		dns_sock = -1;
	}
	/* answers of the dead resolver's rounds will never come */
	for (ci = 0; ci < mst.m_conf->c_nclusters; ci++)
		dns_cl[ci].dc_pending = 0;
	log_warnx("resolver process exited; restarting it");
	if (dns_spawn() == -1)
		log_warn("resolver process");
}
