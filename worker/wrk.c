/*
 * The worker's shared context (see wrk.h): the one struct wrk, its clock
 * and the set-up of what the listener's limits size.
 *
 * Invariant: w_now moves only in wrk_clock(), once per loop turn, so
 * every deadline computed in a turn is measured from the same instant.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/conf.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "hdr.h"
#include "mem.h"
#include "router.h"
#include "wrk.h"

struct wrk	 wrk;

ssize_t
wrk_writev(int fd, const struct iovec *iov, int niov)
{
	if (niov == 1)
		return write(fd, iov[0].iov_base, iov[0].iov_len);
	return writev(fd, iov, niov);
}

int
wrk_ev_add(struct wrk_ev *ev, int fd, wrk_ev_cb *cb)
{
	struct epoll_event e;

	ev->ev_cb = cb;
	ev->ev_fd = fd;
	ev->ev_rready = 0;
	ev->ev_wready = 0;
	ev->ev_rdhup = 0;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	e.data.ptr = ev;
	return epoll_ctl(wrk.w_epfd, EPOLL_CTL_ADD, fd, &e);
}

bool
wrk_addr_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
	    s6->sin6_addr.s6_addr[12] == 127;
}

bool
wrk_fd_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return false;
	return wrk_addr_loopback((struct sockaddr *)&ss);
}

void
wrk_sock_local(int fd)
{
	int size = WRK_SOCKBUF_LOCAL;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/*
 * The kernel's struct sched_attr as sched_setattr(2) and sched_getattr(2)
 * take it (its first 48 bytes, SCHED_ATTR_SIZE_VER0); glibc has no
 * wrappers.
 */
struct wrk_sched_attr {
	uint32_t	sa_size;
	uint32_t	sa_policy;
	uint64_t	sa_flags;
	int32_t		sa_nice;
	uint32_t	sa_priority;
	uint64_t	sa_runtime;	/* a fair task's slice, ns (Linux 6.12) */
	uint64_t	sa_deadline;
	uint64_t	sa_period;
};
#define WRK_SCHED_RESET_ON_FORK	0x01

static int
wrk_sched_get(struct wrk_sched_attr *a)
{
	memset(a, 0, sizeof(*a));
	return (int)syscall(SYS_sched_getattr, 0, a, sizeof(*a), 0);
}

void
wrk_sched_slice(int us)
{
	struct wrk_sched_attr a;
	uint64_t ns = (uint64_t)us * 1000;

	if (us <= 0) {
		log_info("scheduler slice: the kernel's (--worker-slice-us 0)");
		return;
	}
	if (wrk_sched_get(&a) == -1) {
		log_info("scheduler slice: the kernel's (sched_getattr: %s)",
		    strerror(errno));
		return;
	}
	/* a policy someone chose (real-time, idle) is theirs to keep */
	if (a.sa_policy != SCHED_OTHER && a.sa_policy != SCHED_BATCH) {
		log_info("scheduler slice: the kernel's (policy %u)",
		    a.sa_policy);
		return;
	}
	a.sa_size = sizeof(a);
	a.sa_flags &= WRK_SCHED_RESET_ON_FORK;
	a.sa_runtime = ns;
	if (syscall(SYS_sched_setattr, 0, &a, 0) == -1) {
		log_info("scheduler slice: the kernel's (sched_setattr: %s)",
		    strerror(errno));
		return;
	}
	/* a kernel before 6.12 takes the call and keeps no slice per task */
	if (wrk_sched_get(&a) == -1 || a.sa_runtime != ns)
		log_info("scheduler slice: the kernel's (it keeps none per "
		    "task)");
	else
		log_info("scheduler slice: %d us", us);
}

void
wrk_clock(void)
{
	struct timespec ts;

	wrk.w_now = cd_mono_ms();
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	wrk.w_now_s = ts.tv_sec;
}

/* Listener i's limits, router and counters. */
static void
wrk_lsn_setup(size_t i)
{
	struct wrk_lsn *ls = &wrk.w_lsn[i];
	const struct cd_listener *l = &wrk.w_conf->c_listeners[i];
	uint32_t maxh;
	int rec = wrk.w_place->pl_listener[i];

	ls->ls_l = l;
	ls->ls_tag = rec;
	ls->ls_http = shm_http(wrk.w_shm, wrk.w_slot, rec);
	maxh = l->l_max_headers_count;
	if (maxh == 0)
		maxh = 100;
	if (maxh > 8192)
		maxh = 8192;
	ls->ls_maxhdrs = (uint16_t)maxh;
	if (ls->ls_maxhdrs > wrk.w_hdrcap)
		wrk.w_hdrcap = ls->ls_maxhdrs;
	ls->ls_hdr_limit = (l->l_max_request_headers_kb ?
	    l->l_max_request_headers_kb : 60) * 1024;
	ls->ls_server = l->l_server_name != NULL ? l->l_server_name :
	    "canaryd";
	ls->ls_server_len = strlen(ls->ls_server);
	if (wrk_router_init(&ls->ls_router, l) == -1)
		fatal("router");
}

/* Each weighted route's cache, sized to its clusters: the requests that
 * follow allocate nothing when the weights change. */
static void
wrk_splits_setup(void)
{
	const struct cd_route *rt;
	struct cd_route_it it;

	memset(&it, 0, sizeof(it));
	while ((rt = conf_route_next(wrk.w_conf, &it)) != NULL)
		if (rt->rt_action == CD_RA_WEIGHTED &&
		    wrk_split_cache_init(&wrk.w_splits[wrk.w_place->
		    pl_split[rt->rt_wi]], (uint32_t)rt->rt_nwc) == -1)
			fatal("calloc");
}

void
wrk_setup(void)
{
	uint32_t large, limit = 0;
	size_t i;

	wrk.w_hdrcap = 100;
	wrk.w_nlsn = wrk.w_conf->c_nlisteners;
	if ((wrk.w_lsn = calloc(wrk.w_nlsn, sizeof(*wrk.w_lsn))) == NULL)
		fatal("calloc");
	for (i = 0; i < wrk.w_nlsn; i++) {
		wrk_lsn_setup(i);
		if (wrk.w_lsn[i].ls_hdr_limit > limit)
			limit = wrk.w_lsn[i].ls_hdr_limit;
	}
	/* a head over the small buffer moves to a large one: room for the
	 * header bytes, the request line and what the proxy adds */
	large = limit + 16 * 1024 + (uint32_t)wrk.w_hdrcap * 8;
	if (large < 96 * 1024)
		large = 96 * 1024;
	large = (large + 4095) & ~4095u;
	wrk_mem_init(large);
	http1_global_init(large);
	wrk.w_scratch_len = large;
	if ((wrk.w_scratch = malloc(wrk.w_scratch_len)) == NULL)
		fatal("malloc");
	/* a head's lines, what the proxy adds, what four levels add */
	wrk.w_hm_cap = (uint32_t)wrk.w_hdrcap + 16 + 4 * CD_MAX_HDR_OPS;
	if ((wrk.w_hm_lines = calloc(wrk.w_hm_cap,
	    sizeof(*wrk.w_hm_lines))) == NULL)
		fatal("calloc");
	/*
	 * Indexed by pl_split[rt_wi], which a structural reload may set anywhere
	 * among the segment's split records (the master keeps the old
	 * generation's range apart), so size for all of them.
	 */
	if ((wrk.w_splits = calloc(wrk.w_shm->hdr.h_nsplits,
	    sizeof(*wrk.w_splits))) == NULL)
		fatal("calloc");
	wrk_splits_setup();
}
