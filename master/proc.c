/*
 * Worker supervision (see proc.h).
 *
 * Worker i of a generation uses listening socket i and shm slot
 * (generation % 2) * CD_MAX_WORKERS + i, so two overlapping generations
 * never write the same counters.  A respawned worker keeps its slot: its
 * counters carry on and the totals never go backwards.  A worker that
 * exits with status 2 asked not to be respawned; one that keeps dying soon
 * after start is respawned with growing back-off and logged loudly.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/shm.h"
#include "worker/worker.h"
#include "loop.h"
#include "mst.h"
#include "proc.h"

#define PROC_BACKLOG		4096
#define PROC_FAST_DEATH_MS	1000	/* died sooner: counts as a crash loop */
#define PROC_BACKOFF_MAX_MS	10000

struct proc_worker {
	pid_t		 pw_pid;	/* 0: not running */
	int		 pw_slot;
	uint64_t	 pw_started_ms;
	unsigned	 pw_fast_deaths;
	int		 pw_respawn;	/* 0: exited with 2, or stopping */
	struct mst_timer *pw_timer;	/* pending delayed respawn */
};

static int listen_fds[CD_MAX_WORKERS];
static struct proc_worker workers[CD_MAX_WORKERS];
static int log_pipe[2] = { -1, -1 };
static int stopping;

int
mst_proc_log_fd(void)
{
	return log_pipe[0];
}

static int
proc_open_listener(const struct addrinfo *ai)
{
	int fd, on = 1;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, PROC_BACKLOG) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
mst_proc_listen(void)
{
	const struct cd_listener *l = mst.m_conf->c_listener;
	struct addrinfo hints, *res;
	char port[8];
	int i, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", l->l_addr.sa_port);
	if ((rc = getaddrinfo(l->l_addr.sa_address, port, &hints, &res)) != 0) {
		log_warnx("listener %s:%s: %s", l->l_addr.sa_address, port,
		    gai_strerror(rc));
		return -1;
	}
	for (i = 0; i < mst.m_concurrency; i++) {
		if ((listen_fds[i] = proc_open_listener(res)) == -1) {
			log_warn("listener %s:%s", l->l_addr.sa_address, port);
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	if (pipe2(log_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("log pipe");
		return -1;
	}
	return 0;
}

static int
proc_slot(int i)
{
	return (int)(mst.m_generation % 2) * CD_MAX_WORKERS + i;
}

/* In the child: keep the listener and the log pipe, drop everything else. */
_Noreturn static void
proc_child(int i, int slot)
{
	struct shm_worker *w = &mst.m_shm->slots[slot];
	struct wrk_args wa;

	int lfd, pfd;

	/* move both above any fd number we are about to overwrite */
	if ((lfd = fcntl(listen_fds[i], F_DUPFD, 100)) == -1 ||
	    (pfd = fcntl(log_pipe[1], F_DUPFD, 100)) == -1 ||
	    dup2(lfd, 3) == -1 || dup2(pfd, 4) == -1)
		_exit(1);
	close_range(5, ~0U, 0);
	/* dup2 clears close-on-exec; nothing is exec'd anyway */
	setproctitle("worker %d", i);
	log_setproc("worker %d", i);
	log_init(mst.m_log_level, 4, 1);
	log_set_drop_counter(&w->w_http_c[HC_LOG_DROPPED]);

	memset(&wa, 0, sizeof(wa));
	wa.wa_conf = mst.m_conf;
	wa.wa_shm = mst.m_shm;
	wa.wa_slot = slot;
	wa.wa_index = i;
	wa.wa_listen_fd = 3;
	wrk_main(&wa);
}

static int
proc_spawn(int i)
{
	struct proc_worker *pw = &workers[i];
	struct shm_worker *w;
	uint32_t hwm;
	pid_t pid;

	pw->pw_slot = proc_slot(i);
	w = &mst.m_shm->slots[pw->pw_slot];
	hwm = atomic_load(&mst.m_shm->hdr.h_slots_hwm);
	if ((uint32_t)pw->pw_slot + 1 > hwm)
		atomic_store(&mst.m_shm->hdr.h_slots_hwm,
		    (uint32_t)pw->pw_slot + 1);
	w->w_generation = mst.m_generation;
	w->w_index = (uint32_t)i;
	atomic_store(&w->w_state, SHM_W_RUNNING);

	switch ((pid = fork())) {
	case -1:
		log_warn("fork worker %d", i);
		atomic_store(&w->w_state, SHM_W_FREE);
		return -1;
	case 0:
		proc_child(i, pw->pw_slot);
	}
	atomic_store(&w->w_pid, pid);
	pw->pw_pid = pid;
	pw->pw_started_ms = mst_now_ms();
	pw->pw_respawn = 1;
	log_debug("worker %d started, pid %ld", i, (long)pid);
	return 0;
}

int
mst_proc_start(void)
{
	int i;

	for (i = 0; i < mst.m_concurrency; i++)
		if (proc_spawn(i) == -1)
			return -1;
	return 0;
}

static void
proc_respawn_cb(void *arg)
{
	int i = (int)(intptr_t)arg;

	workers[i].pw_timer = NULL;
	if (!stopping && workers[i].pw_pid == 0)
		proc_spawn(i);
}

void
mst_proc_reaped(pid_t pid, int status)
{
	struct proc_worker *pw = NULL;
	uint64_t now = mst_now_ms(), delay;
	int i;

	for (i = 0; i < mst.m_concurrency; i++)
		if (workers[i].pw_pid == pid) {
			pw = &workers[i];
			break;
		}
	if (pw == NULL)
		return;
	pw->pw_pid = 0;
	shm_slot_reap(mst.m_shm, pw->pw_slot);
	if (stopping) {
		log_debug("worker %d (pid %ld) exited", i, (long)pid);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		log_crit("worker %d (pid %ld) exited with status 2: not "
		    "respawning it", i, (long)pid);
		return;
	}
	if (WIFSIGNALED(status))
		log_error("worker %d (pid %ld) killed by signal %d%s", i,
		    (long)pid, WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		log_error("worker %d (pid %ld) exited with status %d", i,
		    (long)pid, WEXITSTATUS(status));

	if (now - pw->pw_started_ms < PROC_FAST_DEATH_MS)
		pw->pw_fast_deaths++;
	else
		pw->pw_fast_deaths = 0;
	if (pw->pw_fast_deaths == 0) {
		proc_spawn(i);
		return;
	}
	delay = 100ULL << (pw->pw_fast_deaths < 7 ? pw->pw_fast_deaths : 7);
	if (delay > PROC_BACKOFF_MAX_MS)
		delay = PROC_BACKOFF_MAX_MS;
	log_crit("worker %d is crashing in a loop (%u quick deaths): "
	    "respawning in %llu ms", i, pw->pw_fast_deaths,
	    (unsigned long long)delay);
	pw->pw_timer = mst_timer_add(delay, proc_respawn_cb,
	    (void *)(intptr_t)i);
}

void
mst_proc_signal_all(int sig)
{
	int i;

	stopping = 1;
	for (i = 0; i < mst.m_concurrency; i++) {
		if (workers[i].pw_timer != NULL) {
			mst_timer_cancel(workers[i].pw_timer);
			workers[i].pw_timer = NULL;
		}
		if (workers[i].pw_pid > 0)
			kill(workers[i].pw_pid, sig);
	}
}

void
mst_proc_close_listeners(void)
{
	int i;

	stopping = 1;
	for (i = 0; i < mst.m_concurrency; i++)
		if (listen_fds[i] != -1) {
			close(listen_fds[i]);
			listen_fds[i] = -1;
		}
}

int
mst_proc_alive(void)
{
	int i, n = 0;

	for (i = 0; i < mst.m_concurrency; i++)
		if (workers[i].pw_pid > 0)
			n++;
	return n;
}
