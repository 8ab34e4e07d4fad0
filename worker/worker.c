/*
 * The worker process: start-up checks, the epoll loop, accept, signals
 * and graceful drain (see worker.h).
 *
 * Loop invariants: "now" is read once per turn, after epoll_wait; objects
 * closed during a turn are freed only after the whole batch of events
 * (and timers) ran, so an event for a connection closed earlier in the
 * same batch finds it CLOSED instead of reused memory.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/conf-t.h"
#include "shared/log.h"
#include "shared/place-t.h"
#include "shared/shm.h"
#include "accesslog.h"
#include "conn.h"
#include "hdr.h"
#include "timer.h"
#include "ioq.h"
#include "upstream.h"
#include "worker.h"
#include "wrk.h"

#define WRK_EVENTS		256	/* epoll events per wait */
#define WRK_ACCEPT_BATCH	64	/* accepts per wakeup, then others run */
#define WRK_ACCEPT_PAUSE_MS	1000	/* after EMFILE and friends */
/* how long an idle keep-alive client gets to send one last request */
#define WRK_DRAIN_IDLE_GRACE_MS	1000
/* a drain accepts what the queue holds, and again this much later (for
 * handshakes that were under way) before it closes the listener */
#define WRK_LISTEN_LINGER_MS	100

static struct wrk_ev	 sig_ev;
static struct wrk_timer	 accept_timer;
static struct wrk_timer	 drain_timer;
static uint64_t		 wrk_drain_ms;
static struct wrk_timer	 listen_close_timer;
static bool		 accept_paused;

static int
wrk_listen_watch(struct wrk_lsn *ls, bool on)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;	/* level-triggered: a batch may leave some */
	e.data.ptr = &ls->ls_ev;
	/* only our epoll set changes; the socket stays open for the master */
	return epoll_ctl(wrk.w_epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
	    ls->ls_ev.ev_fd, &e);
}

/* Watch (or stop watching) every listening socket still open. */
static void
wrk_listen_watch_all(bool on)
{
	size_t i;

	for (i = 0; i < wrk.w_nlsn; i++)
		if (wrk.w_lsn[i].ls_ev.ev_fd != -1 &&
		    wrk_listen_watch(&wrk.w_lsn[i], on) == -1)
			fatal("epoll_ctl listener");
}

static void
wrk_accept_resume(struct wrk_timer *t)
{
	(void)t;
	if (!accept_paused || wrk.w_draining)
		return;
	accept_paused = false;
	wrk_listen_watch_all(true);
}

/* accept(2) failed for want of descriptors or memory: pause every
 * listener, or epoll wakes us for the same socket forever. */
static void
wrk_accept_pause(void)
{
	log_warn("accept (pausing %d ms)", WRK_ACCEPT_PAUSE_MS);
	wrk_listen_watch_all(false);
	accept_paused = true;
	wrk_timer_set(&accept_timer, wrk.w_now + WRK_ACCEPT_PAUSE_MS);
}

/*
 * Accept what listener ls's queue holds, up to a batch; true when it is
 * empty (or cannot be taken from now).  At the listener's
 * max_connections_per_worker a new connection is accepted and closed at
 * once, counted as listener.<address>.downstream_cx_overflow: left in
 * the queue it would wait unseen behind level-triggered wakeups that we
 * could not act on.
 */
static bool
wrk_accept_batch(struct wrk_lsn *ls)
{
	uint32_t cap = ls->ls_l->l_max_connections_per_worker;
	int i, fd;

	for (i = 0; i < WRK_ACCEPT_BATCH; i++) {
		fd = accept4(ls->ls_ev.ev_fd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
				return true;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				wrk_accept_pause();
				return true;
			default:
				log_warn("accept");
				return true;
			}
		}
		if (cap > 0 && ls->ls_nconns >= cap) {
			WRK_LHC(ls, HC_CX_OVERFLOW);
			log_debug("connection over max_connections_per_worker "
			    "%u: closed", cap);
			close(fd);
			continue;
		}
		if (wrk_conn_new(fd, ls) == NULL) {
			WRK_LHC(ls, HC_CX_OVERFLOW);
			close(fd);
		}
	}
	return false;
}

static void
wrk_accept(struct wrk_ev *ev, uint32_t events)
{
	(void)events;
	/* ls_ev is the first member */
	(void)wrk_accept_batch((struct wrk_lsn *)(void *)ev);
}

/* Take every connection ls's queue holds now (a bounded number of
 * batches: a flood still leaves the loop). */
static void
wrk_accept_all(struct wrk_lsn *ls)
{
	int i;

	for (i = 0; i < 64 && !accept_paused && ls->ls_ev.ev_fd != -1; i++)
		if (wrk_accept_batch(ls))
			break;
}

static _Noreturn void
wrk_exit(int status, const char *why)
{
	log_info("exiting: %s (%u connections, %u upstream)", why,
	    wrk.w_nconns, wrk_ups_count());
	wrk_alog_flush();
	/* our gauges and breaker holdings back, here rather than in the
	 * master's loop; nothing of ours is counted after this */
	shm_slot_release(wrk.w_shm, wrk.w_slot, wrk.w_place->pl_cluster,
	    wrk.w_conf->c_nclusters, wrk.w_place->pl_listener,
	    wrk.w_conf->c_nlisteners);
	exit(status);
}

/* Close our descriptor of listener ls's socket. */
static void
wrk_lsn_close(struct wrk_lsn *ls)
{
	if (ls->ls_ev.ev_fd == -1)
		return;
	if (!accept_paused && wrk_listen_watch(ls, false) == -1)
		log_warn("epoll_ctl listener");
	close(ls->ls_ev.ev_fd);
	ls->ls_ev.ev_fd = -1;
	wrk.w_nlfd--;
	log_debug("listener %s closed", ls->ls_l->l_name != NULL ?
	    ls->ls_l->l_name : "");
}

/*
 * The drain's last look at the listeners still open: accept what came in
 * since, then close our descriptors.  When every process holding a
 * socket has closed it (on a stop, the master closed its own and keeps
 * new handshakes out of the queue first), new connections are refused,
 * and none was accepted by the kernel only to be reset.
 */
static void
wrk_listen_close(struct wrk_timer *t)
{
	size_t i;

	(void)t;
	for (i = 0; i < wrk.w_nlsn; i++) {
		wrk_accept_all(&wrk.w_lsn[i]);
		wrk_lsn_close(&wrk.w_lsn[i]);
	}
	wrk_timer_del(&accept_timer);
}

static void
wrk_drain_deadline(struct wrk_timer *t)
{
	(void)t;
	wrk_exit(0, "drain deadline");
}

/*
 * Stop accepting, finish what is in flight, then exit.  SIGTERM (a stop):
 * no new handshake reaches the listeners any more (the master saw to
 * it), and what their queues hold was promised an answer: take it,
 * draining too.  SIGUSR2 (a reload): the new generation accepts from now
 * on on the sockets of the listeners it keeps (the master set their bits
 * in our slot, shm_keep_has()), queue included; let go of those at once,
 * or a new connection would be served by the old configuration.  A listener
 * the new configuration dropped is drained as on a stop.
 */
static void
wrk_drain(bool handover)
{
	bool keep = false;
	uint64_t ms;
	size_t i;

	if (wrk.w_draining)
		return;
	wrk.w_draining = true;
	for (i = 0; handover && !keep && i < wrk.w_nlsn; i++)
		keep = shm_keep_has(wrk.w_shm, wrk.w_slot, i);
	log_info("draining %u connections%s", wrk.w_nconns,
	    keep ? " (a new generation took the listeners it keeps)" : "");
	ms = wrk_drain_ms;
	wrk_conn_drain(ms < WRK_DRAIN_IDLE_GRACE_MS ? ms :
	    WRK_DRAIN_IDLE_GRACE_MS);
	wrk_ups_close_idle();
	for (i = 0; i < wrk.w_nlsn; i++) {
		if (handover && shm_keep_has(wrk.w_shm, wrk.w_slot, i))
			wrk_lsn_close(&wrk.w_lsn[i]);
		else
			wrk_accept_all(&wrk.w_lsn[i]);
	}
	if (wrk.w_nlfd > 0)
		wrk_timer_set(&listen_close_timer, wrk.w_now +
		    WRK_LISTEN_LINGER_MS);
	/* --drain-time-s bounds the drain, as the master's own wait */
	wrk_timer_set(&drain_timer, wrk.w_now + ms);
}

static void
wrk_signal(struct wrk_ev *ev, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	while (read(ev->ev_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGUSR2:
			wrk_drain(si.ssi_signo == SIGUSR2);
			break;
		case SIGQUIT:
			wrk_exit(0, "SIGQUIT");
		default:
			/* SIGINT, SIGHUP: the master's business */
			break;
		}
	}
}

static int
wrk_signals(void)
{
	sigset_t set;
	struct epoll_event e;
	int fd;

	/* a write to a closed socket must fail with EPIPE, not kill us */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	sig_ev.ev_cb = wrk_signal;
	sig_ev.ev_fd = fd;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.ptr = &sig_ev;
	return epoll_ctl(wrk.w_epfd, EPOLL_CTL_ADD, fd, &e);
}

/* The context, then the modules that size their free lists from it. */
static void
wrk_start(void)
{
	wrk_setup();
	if (wrk_ups_init() == -1 || wrk_conn_init() == -1)
		fatal("worker init");
	wrk_timer_init(&accept_timer, wrk_accept_resume);
	wrk_timer_init(&drain_timer, wrk_drain_deadline);
	wrk_timer_init(&listen_close_timer, wrk_listen_close);
}

_Noreturn void
wrk_main(const struct wrk_args *a)
{
	struct epoll_event evs[WRK_EVENTS];
	size_t i;
	int k, n;

	memset(&wrk, 0, sizeof(wrk));
	wrk.w_conf = a->wa_conf;
	wrk.w_place = a->wa_place;
	wrk.w_shm = a->wa_shm;
	wrk.w_index = a->wa_index;
	wrk_drain_ms = a->wa_drain_ms;
	if (a->wa_slot < 0 || a->wa_slot >= shm_master_slot(a->wa_shm)) {
		log_crit("bad worker slot %d", a->wa_slot);
		exit(2);
	}
	wrk.w_slot = shm_slot(a->wa_shm, a->wa_slot);
	/* the worker's own counters: in its first listener's record */
	log_set_drop_counter(&shm_http(wrk.w_shm, wrk.w_slot,
	    wrk.w_place->pl_listener[0])->hc_c[HC_LOG_DROPPED]);
	/*
	 * Before anything here opens a file: WRK_ALOG_FD is the master's
	 * access log pipe only while nothing else took the number.
	 */
	if (wrk_alog_wanted() && wrk_alog_init(WRK_ALOG_FD) == -1)
		log_warnx("access log pipe (fd %d) missing: no access log",
		    WRK_ALOG_FD);
	wrk_clock();
	wrk_hdr_seed();		/* a forked copy of the parent's state */
	wrk_start();

	if ((wrk.w_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if (wrk_signals() == -1)
		fatal("signalfd");
	(void)wrk_ioq_init();
	wrk_sched_slice(a->wa_slice_us);
	for (i = 0; i < wrk.w_nlsn; i++) {
		wrk.w_lsn[i].ls_ev.ev_cb = wrk_accept;
		wrk.w_lsn[i].ls_ev.ev_fd = a->wa_listen_fd0 + (int)i;
		wrk.w_lsn[i].ls_local = wrk_fd_loopback(wrk.w_lsn[i].ls_ev.ev_fd);
		wrk.w_nlfd++;
		if (wrk_listen_watch(&wrk.w_lsn[i], true) == -1)
			fatal("epoll_ctl listener");
	}
	log_info("worker %d ready", wrk.w_index);

	for (;;) {
		n = epoll_wait(wrk.w_epfd, evs, WRK_EVENTS,
		    wrk_conn_pending() ? 0 : wrk_timer_next(wrk.w_now));
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		wrk_clock();
		wrk_ioq_set_open(true);
		for (k = 0; k < n; k++) {
			struct wrk_ev *ev = evs[k].data.ptr;

			ev->ev_cb(ev, evs[k].events);
		}
		wrk_ioq_flush();
		wrk_ioq_set_open(false);
		wrk_timer_run(wrk.w_now);
		wrk_conn_reap();
		wrk_ups_reap();
		if (wrk_alog_pending() > 0)
			wrk_alog_flush();
		if (wrk.w_draining && wrk.w_nlfd == 0 && wrk.w_nconns == 0)
			wrk_exit(0, "drained");
	}
}
