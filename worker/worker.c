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
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"
#include "accesslog.h"
#include "conn.h"
#include "hdr.h"
#include "timer.h"
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

static struct wrk_ev	 lsn_ev;
static struct wrk_ev	 sig_ev;
static struct wrk_timer	 accept_timer;
static struct wrk_timer	 drain_timer;
static uint64_t		 wrk_drain_ms;
static struct wrk_timer	 listen_close_timer;
static bool		 accept_paused;

static int
wrk_listen_watch(bool on)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;	/* level-triggered: a batch may leave some */
	e.data.ptr = &lsn_ev;
	/* only our epoll set changes; the socket stays open for the master */
	return epoll_ctl(wrk.w_epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
	    wrk.w_lfd, &e);
}

static void
wrk_accept_resume(struct wrk_timer *t)
{
	(void)t;
	if (!accept_paused || wrk.w_draining)
		return;
	accept_paused = false;
	if (wrk_listen_watch(true) == -1)
		fatal("epoll_ctl listener");
}

/*
 * Accept what the queue holds, up to a batch; true when it is empty (or
 * cannot be taken from now).  At the listener's max_connections_per_worker
 * a new connection is accepted and closed at once, counted as
 * listener.<address>.downstream_cx_overflow: left in the queue it would
 * wait unseen behind level-triggered wakeups that we could not act on.
 */
static bool
wrk_accept_batch(void)
{
	uint32_t cap = wrk.w_l->l_max_connections_per_worker;
	int i, fd;

	for (i = 0; i < WRK_ACCEPT_BATCH; i++) {
		fd = accept4(wrk.w_lfd, NULL, NULL, SOCK_NONBLOCK |
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
				/* pause, or epoll wakes us for the same
				 * socket forever */
				log_warn("accept (pausing %d ms)",
				    WRK_ACCEPT_PAUSE_MS);
				if (wrk_listen_watch(false) == -1)
					fatal("epoll_ctl listener");
				accept_paused = true;
				wrk_timer_set(&accept_timer,
				    wrk.w_now + WRK_ACCEPT_PAUSE_MS);
				return true;
			default:
				log_warn("accept");
				return true;
			}
		}
		if (cap > 0 && wrk.w_nconns >= cap) {
			WRK_HC(HC_CX_OVERFLOW);
			log_debug("connection over max_connections_per_worker "
			    "%u: closed", cap);
			close(fd);
			continue;
		}
		if (wrk_conn_new(fd) == NULL) {
			WRK_HC(HC_CX_OVERFLOW);
			close(fd);
		}
	}
	return false;
}

static void
wrk_accept(struct wrk_ev *ev, uint32_t events)
{
	(void)ev;
	(void)events;
	(void)wrk_accept_batch();
}

/* Take every connection the queue holds now (a bounded number of
 * batches: a flood still leaves the loop). */
static void
wrk_accept_all(void)
{
	int i;

	for (i = 0; i < 64 && !accept_paused; i++)
		if (wrk_accept_batch())
			break;
}

static _Noreturn void
wrk_exit(int status, const char *why)
{
	log_info("exiting: %s (%u connections, %u upstream)", why,
	    wrk.w_nconns, wrk_ups_count());
	wrk_alog_flush();
	exit(status);
}

/*
 * The drain's last look at the listener: accept what came in since, then
 * close our descriptor of it.  When every process holding the socket has
 * closed it (on a stop, the master closed its own and keeps new
 * handshakes out of the queue first), new connections are refused, and
 * none was accepted by the kernel only to be reset.  On a reload the new
 * generation holds it: nothing changes for the clients.
 */
static void
wrk_listen_close(struct wrk_timer *t)
{
	if (wrk.w_lfd == -1)
		return;
	if (t != NULL)
		wrk_accept_all();	/* a stop's last look */
	if (!accept_paused && wrk_listen_watch(false) == -1)
		log_warn("epoll_ctl listener");
	wrk_timer_del(&accept_timer);
	close(wrk.w_lfd);
	wrk.w_lfd = -1;
	log_debug("listener closed");
}

static void
wrk_drain_deadline(struct wrk_timer *t)
{
	(void)t;
	wrk_exit(0, "drain deadline");
}

/*
 * Stop accepting, finish what is in flight, then exit.  SIGTERM (a stop):
 * no new handshake reaches the listener any more (the master saw to it),
 * and what its queue holds was promised an answer: take it, draining
 * too.  SIGUSR2 (a reload): the new generation accepts on the same
 * socket from now on, queue included; let go of it at once, or a new
 * connection would be served by the old configuration.
 */
static void
wrk_drain(bool handover)
{
	uint64_t ms;

	if (wrk.w_draining)
		return;
	wrk.w_draining = true;
	log_info("draining %u connections%s", wrk.w_nconns,
	    handover ? " (a new generation took the listener)" : "");
	ms = wrk_drain_ms;
	wrk_conn_drain(ms < WRK_DRAIN_IDLE_GRACE_MS ? ms :
	    WRK_DRAIN_IDLE_GRACE_MS);
	wrk_ups_close_idle();
	if (handover)
		wrk_listen_close(NULL);
	else {
		wrk_accept_all();
		wrk_timer_set(&listen_close_timer, wrk.w_now +
		    WRK_LISTEN_LINGER_MS);
	}
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
	int i, n;

	memset(&wrk, 0, sizeof(wrk));
	wrk.w_conf = a->wa_conf;
	wrk.w_place = a->wa_place;
	wrk.w_l = a->wa_conf->c_listener;
	wrk.w_shm = a->wa_shm;
	wrk.w_index = a->wa_index;
	wrk.w_lfd = a->wa_listen_fd;
	wrk_drain_ms = a->wa_drain_ms;
	if (a->wa_slot < 0 || a->wa_slot >= shm_master_slot(a->wa_shm)) {
		log_crit("bad worker slot %d", a->wa_slot);
		exit(2);
	}
	wrk.w_slot = shm_slot(a->wa_shm, a->wa_slot);
	log_set_drop_counter(&wrk.w_slot->w_http_c[HC_LOG_DROPPED]);
	/*
	 * Before anything here opens a file: WRK_ALOG_FD is the master's
	 * access log pipe only while nothing else took the number.
	 */
	if (wrk.w_l->l_naccess_logs > 0 && wrk_alog_init(WRK_ALOG_FD) == -1)
		log_warnx("access log pipe (fd %d) missing: no access log",
		    WRK_ALOG_FD);
	wrk_clock();
	wrk_hdr_seed();		/* a forked copy of the parent's state */
	wrk_start();

	if ((wrk.w_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if (wrk_signals() == -1)
		fatal("signalfd");
	lsn_ev.ev_cb = wrk_accept;
	lsn_ev.ev_fd = wrk.w_lfd;
	if (wrk_listen_watch(true) == -1)
		fatal("epoll_ctl listener");
	log_info("worker %d ready", wrk.w_index);

	for (;;) {
		n = epoll_wait(wrk.w_epfd, evs, WRK_EVENTS,
		    wrk_conn_pending() ? 0 : wrk_timer_next(wrk.w_now));
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		wrk_clock();
		for (i = 0; i < n; i++) {
			struct wrk_ev *ev = evs[i].data.ptr;

			ev->ev_cb(ev, evs[i].events);
		}
		wrk_timer_run(wrk.w_now);
		wrk_conn_reap();
		wrk_ups_reap();
		if (wrk_alog_pending() > 0)
			wrk_alog_flush();
		if (wrk.w_draining && wrk.w_lfd == -1 && wrk.w_nconns == 0)
			wrk_exit(0, "drained");
	}
}
