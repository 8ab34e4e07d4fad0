/*
 * Worker supervision (see proc.h).
 *
 * Worker i of a generation uses listening socket i of each listener and
 * shm slot (generation % 2) * workers + i, so two overlapping generations
 * never write the same counters.  A respawned worker keeps its slot: its
 * counters carry on and the totals never go backwards.  A worker that
 * exits with status 2 asked not to be respawned; one that keeps dying soon
 * after start is respawned with growing back-off and logged loudly.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <linux/filter.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "worker/worker.h"
#include "accesslog.h"
#include "logfile.h"
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
	struct mst_timer *pw_timer;	/* pending delayed respawn */
};

/*
 * A generation: the workers forked from one configuration, and the
 * listening sockets they accept on, per listener of g_conf.  A structural
 * reload starts a new generation on the same sockets for the addresses
 * both configurations listen on (new ones for a new address) and drains
 * the old one; only the current generation is respawned.
 */
struct proc_gen {
	uint32_t	 g_gen;
	struct cd_conf	*g_conf;	/* owned: freed when the generation ends */
	struct cd_place	 g_place;	/* g_conf's shm records */
	/* listener j's socket for worker i: g_listen[j][i], -1 for none;
	 * g_nlisten rows (calloc'd) */
	int		(*g_listen)[CD_MAX_WORKERS];
	size_t		 g_nlisten;
	struct proc_worker g_w[CD_MAX_WORKERS];
	int		 g_draining;
};

static void	gen_refuse_new(struct proc_gen *);

static struct proc_gen gens[2];
static struct proc_gen *cur = &gens[0];
static struct proc_gen *old;		/* draining, or NULL */
static struct proc_gen *pend;		/* prepared by a reload, or NULL */
static struct cd_conf *pend_conf;	/* a weights-only reload's config */
static int stopping;

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

/* Open one socket per worker slot on l's address into fds. */
static int
proc_listen_on(const struct cd_listener *l, int *fds)
{
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
		if ((fds[i] = proc_open_listener(res)) == -1) {
			log_warn("listener %s:%s", l->l_addr.sa_address, port);
			while (i-- > 0) {
				close(fds[i]);
				fds[i] = -1;
			}
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	return 0;
}

size_t
mst_proc_conf_files(const struct cd_conf *conf)
{
	size_t j, n = conf->c_admin.a_log.al_path != NULL;

	for (j = 0; j < conf->c_nlisteners; j++)
		n += conf->c_listeners[j].l_naccess_logs;
	return n;
}

int
mst_proc_fd_budget(const struct cd_conf *conf, size_t sockets,
    size_t files, int workers, char *why, size_t len)
{
	size_t n = conf->c_nlisteners, need;
	struct rlimit rl;

	need = sockets + files + 2 * n + MST_PROC_FD_RESERVE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
		return 0;
	snprintf(why, len, "%zu listener%s on %d worker%s need %zu listening "
	    "sockets in the master; with %zu access log file%s, 2 a listener "
	    "while a worker starts and %d for the rest that is %zu file "
	    "descriptors, more than the open-file limit (RLIMIT_NOFILE, "
	    "ulimit -n) of %llu: raise the limit (ulimit -n, or "
	    "LimitNOFILE= under systemd), run fewer workers (--concurrency), "
	    "or have fewer listeners", n, n == 1 ? "" : "s", workers,
	    workers == 1 ? "" : "s", sockets, files, files == 1 ? "" : "s",
	    MST_PROC_FD_RESERVE, need, (unsigned long long)rl.rlim_cur);
	return -1;
}

/* Rows for n listeners in g, no socket yet (g had none); -1: no
 * memory. */
static int
gen_no_listeners(struct proc_gen *g, size_t n)
{
	size_t i, j;

	CD_ASSERT(g->g_listen == NULL);
	if ((g->g_listen = calloc(n > 0 ? n : 1,
	    sizeof(*g->g_listen))) == NULL) {
		log_warn("listening sockets");
		return -1;
	}
	g->g_nlisten = n;
	for (j = 0; j < n; j++)
		for (i = 0; i < CD_MAX_WORKERS; i++)
			g->g_listen[j][i] = -1;
	return 0;
}

int
mst_proc_listen(void)
{
	size_t j;

	if (gen_no_listeners(cur, cur->g_conf->c_nlisteners) == -1)
		return -1;
	for (j = 0; j < cur->g_conf->c_nlisteners; j++)
		if (proc_listen_on(&cur->g_conf->c_listeners[j],
		    cur->g_listen[j]) == -1)
			return -1;
	return 0;
}

int
mst_proc_slot(uint32_t gen, int i)
{
	return (int)(gen % 2) * (int)mst.m_shm->hdr.h_nworkers + i;
}

/*
 * In the child: keep the listeners and the log pipes, drop everything
 * else.  fd 4: the log pipe, 5: the access log pipe (worker/accesslog.h),
 * 6 on: listener j's socket at PROC_LFD0 + j.
 */
#define PROC_LFD0	6
_Noreturn static void
proc_child(const struct proc_gen *g, int i, int slot)
{
	size_t j, n = g->g_conf->c_nlisteners;
	int *lfd, pfd, afd, top = PROC_LFD0 + (int)n;
	struct wrk_args wa;

	/* move them all above any fd number we are about to overwrite */
	if ((lfd = calloc(n, sizeof(*lfd))) == NULL ||
	    (pfd = fcntl(mst_logfile_worker_fd(), F_DUPFD, top)) == -1 ||
	    (afd = fcntl(mst_accesslog_worker_fd(), F_DUPFD, top)) == -1)
		_exit(1);
	for (j = 0; j < n; j++)
		if ((lfd[j] = fcntl(g->g_listen[j][i], F_DUPFD, top)) == -1)
			_exit(1);
	if (dup2(pfd, 4) == -1 || dup2(afd, 5) == -1)
		_exit(1);
	memset(&wa, 0, sizeof(wa));
	for (j = 0; j < n; j++)
		if (dup2(lfd[j], PROC_LFD0 + (int)j) == -1)
			_exit(1);
	free(lfd);
	wa.wa_listen_fd0 = PROC_LFD0;
	close_range((unsigned int)top, ~0U, 0);
	/* dup2 clears close-on-exec; nothing is exec'd anyway */
	setproctitle("worker %d", i);
	log_setproc("worker %d", i);
	log_init(mst.m_log_level, 4, 1);

	wa.wa_conf = g->g_conf;
	wa.wa_place = &g->g_place;
	wa.wa_drain_ms = (uint64_t)mst.m_drain_time_s * 1000;
	wa.wa_slice_us = mst.m_worker_slice_us;
	wa.wa_shm = mst.m_shm;
	wa.wa_slot = slot;
	wa.wa_index = i;
	wrk_main(&wa);
}

/*
 * Map in g's records in every slot the master's sums will read them in
 * (shm_slot_populate()): the slots in use and g's own, and the master's.
 * Once a generation, before its workers start; a respawn finds them in.
 */
static void
proc_populate(const struct proc_gen *g)
{
	uint32_t hwm = atomic_load(&mst.m_shm->hdr.h_slots_hwm), k, top;

	top = (uint32_t)mst_proc_slot(g->g_gen, mst.m_concurrency - 1) + 1;
	if (top > hwm)
		hwm = top;
	for (k = 0; k <= hwm; k++)
		shm_slot_populate(mst.m_shm, k < hwm ? (int)k :
		    shm_master_slot(mst.m_shm), g->g_place.pl_cluster,
		    g->g_conf->c_nclusters);
}

static int
proc_spawn(struct proc_gen *g, int i)
{
	struct proc_worker *pw = &g->g_w[i];
	struct shm_worker *w;
	uint32_t hwm;
	pid_t pid;

	pw->pw_slot = mst_proc_slot(g->g_gen, i);
	w = shm_slot(mst.m_shm, pw->pw_slot);
	hwm = atomic_load(&mst.m_shm->hdr.h_slots_hwm);
	if ((uint32_t)pw->pw_slot + 1 > hwm)
		atomic_store(&mst.m_shm->hdr.h_slots_hwm,
		    (uint32_t)pw->pw_slot + 1);
	w->w_generation = g->g_gen;
	w->w_index = (uint32_t)i;
	shm_keep_clear(mst.m_shm, w);	/* no handover yet */
	atomic_store(&w->w_released, 0);
	atomic_store(&w->w_state, SHM_W_RUNNING);

	switch ((pid = fork())) {
	case -1:
		log_warn("fork worker %d", i);
		atomic_store(&w->w_state, SHM_W_FREE);
		return -1;
	case 0:
		proc_child(g, i, pw->pw_slot);
	}
	atomic_store(&w->w_pid, pid);
	pw->pw_pid = pid;
	pw->pw_started_ms = mst_now_ms();
	log_debug("worker %d (generation %u) started, pid %ld", i, g->g_gen,
	    (long)pid);
	return 0;
}

int
mst_proc_start(void)
{
	int i;

	cur->g_place = *mst.m_place;
	proc_populate(cur);
	for (i = 0; i < mst.m_concurrency; i++)
		if (proc_spawn(cur, i) == -1)
			return -1;
	return 0;
}

static void
proc_respawn_cb(void *arg)
{
	int i = (int)(intptr_t)arg;

	cur->g_w[i].pw_timer = NULL;
	if (!stopping && cur->g_w[i].pw_pid == 0)
		proc_spawn(cur, i);
}

static int
gen_alive(const struct proc_gen *g)
{
	int i, n = 0;

	for (i = 0; i < mst.m_concurrency; i++)
		if (g->g_w[i].pw_pid > 0)
			n++;
	return n;
}

/*
 * The current generation's sockets, by number: has[fd] for fd <= max.
 * Without memory for it every socket counts as the current one's, so
 * none of those is closed.
 */
struct proc_fds {
	bool	*pf_has;
	int	 pf_max;
};

static void
cur_sockets(struct proc_fds *pf)
{
	size_t i, j;

	pf->pf_has = NULL;
	pf->pf_max = -1;
	for (j = 0; j < cur->g_nlisten; j++)
		for (i = 0; i < CD_MAX_WORKERS; i++)
			if (cur->g_listen[j][i] > pf->pf_max)
				pf->pf_max = cur->g_listen[j][i];
	if ((pf->pf_has = calloc((size_t)pf->pf_max + 1,
	    sizeof(*pf->pf_has))) == NULL) {
		log_warn("listening sockets");
		return;
	}
	for (j = 0; j < cur->g_nlisten; j++)
		for (i = 0; i < CD_MAX_WORKERS; i++)
			if (cur->g_listen[j][i] != -1)
				pf->pf_has[cur->g_listen[j][i]] = true;
}

/* Is socket fd one of the current generation's? */
static bool
cur_has_socket(const struct proc_fds *pf, int fd)
{
	if (pf->pf_has == NULL)
		return true;
	return fd >= 0 && fd <= pf->pf_max && pf->pf_has[fd];
}

/* Close g's sockets that the current generation does not share; g's
 * rows go. */
static void
gen_close_listeners(struct proc_gen *g)
{
	struct proc_fds pf = { NULL, -1 };
	size_t i, j;

	if (g != cur)
		cur_sockets(&pf);
	for (j = 0; j < g->g_nlisten; j++)
		for (i = 0; i < CD_MAX_WORKERS; i++) {
			if (g->g_listen[j][i] == -1)
				continue;
			if (g == cur || !cur_has_socket(&pf, g->g_listen[j][i]))
				close(g->g_listen[j][i]);
			g->g_listen[j][i] = -1;
		}
	free(pf.pf_has);
	free(g->g_listen);
	g->g_listen = NULL;
	g->g_nlisten = 0;
}

/* The draining generation is gone: its sockets and config go too. */
static void
old_gen_done(void)
{
	log_info("generation %u drained", old->g_gen);
	gen_close_listeners(old);
	CD_ASSERT(old->g_conf != mst.m_conf);
	conf_free(old->g_conf);
	old->g_conf = NULL;
	old->g_draining = 0;
	old = NULL;
}

enum mst_proc_after
mst_proc_after_exit(int status, uint64_t lifetime_ms, unsigned *fast_deaths,
    uint64_t *delay_ms)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		return MST_PROC_NO_RESPAWN;
	if (lifetime_ms < PROC_FAST_DEATH_MS)
		(*fast_deaths)++;
	else
		*fast_deaths = 0;
	if (*fast_deaths == 0)
		return MST_PROC_RESPAWN;
	*delay_ms = 100ULL << (*fast_deaths < 7 ? *fast_deaths : 7);
	if (*delay_ms > PROC_BACKOFF_MAX_MS)
		*delay_ms = PROC_BACKOFF_MAX_MS;
	return MST_PROC_RESPAWN_LATER;
}

static void
proc_log_exit(int i, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		log_error("worker %d (pid %ld) killed by signal %d%s", i,
		    (long)pid, WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		log_error("worker %d (pid %ld) exited with status %d", i,
		    (long)pid, WEXITSTATUS(status));
}

void
mst_proc_reaped(pid_t pid, int status)
{
	struct proc_worker *pw = NULL;
	struct proc_gen *g = NULL;
	enum mst_proc_after after;
	uint64_t now = mst_now_ms(), delay = 0;
	int i = 0, k;

	for (k = 0; k < 2 && pw == NULL; k++)
		for (i = 0; i < mst.m_concurrency; i++)
			if (gens[k].g_w[i].pw_pid == pid) {
				g = &gens[k];
				pw = &g->g_w[i];
				break;
			}
	if (pw == NULL)
		return;
	pw->pw_pid = 0;
	/* the records its configuration placed: it touched no other */
	if (g->g_conf != NULL)
		shm_slot_reap(mst.m_shm, pw->pw_slot, g->g_place.pl_cluster,
		    g->g_conf->c_nclusters, g->g_place.pl_listener,
		    g->g_conf->c_nlisteners);
	else
		shm_slot_reap(mst.m_shm, pw->pw_slot, NULL, 0, NULL, 0);
	if (g == old) {
		log_debug("worker %d of generation %u (pid %ld) exited", i,
		    g->g_gen, (long)pid);
		if (gen_alive(old) == 0)
			old_gen_done();
		return;
	}
	if (stopping) {
		log_debug("worker %d (pid %ld) exited", i, (long)pid);
		return;
	}
	after = mst_proc_after_exit(status, now - pw->pw_started_ms,
	    &pw->pw_fast_deaths, &delay);
	if (after == MST_PROC_NO_RESPAWN) {
		log_crit("worker %d (pid %ld) exited with status 2: not "
		    "respawning it", i, (long)pid);
		return;
	}
	proc_log_exit(i, pid, status);
	if (after == MST_PROC_RESPAWN) {
		proc_spawn(cur, i);
		return;
	}
	log_crit("worker %d is crashing in a loop (%u quick deaths): "
	    "respawning in %llu ms", i, pw->pw_fast_deaths,
	    (unsigned long long)delay);
	pw->pw_timer = mst_timer_add(delay, proc_respawn_cb,
	    (void *)(intptr_t)i);
}

static void
gen_signal(struct proc_gen *g, int sig)
{
	int i;

	for (i = 0; i < mst.m_concurrency; i++) {
		if (g->g_w[i].pw_timer != NULL) {
			mst_timer_cancel(g->g_w[i].pw_timer);
			g->g_w[i].pw_timer = NULL;
		}
		if (g->g_w[i].pw_pid > 0)
			kill(g->g_w[i].pw_pid, sig);
	}
}

void
mst_proc_signal_all(int sig)
{
	stopping = 1;
	gen_signal(cur, sig);
	if (old != NULL)
		gen_signal(old, sig);
}

/*
 * Keep new handshakes out of listening socket fd's queue: a socket filter
 * that drops TCP segments with SYN and without ACK.  Everything else
 * passes, so a handshake already under way completes and is queued.  A
 * client whose SYN is dropped sends it again a second later, when the
 * socket is closed and the kernel refuses it: no connection is accepted
 * by the kernel only to be reset when the last descriptor closes.  (A
 * socket filter sees a TCP segment from its TCP header on: byte 13 holds
 * the flags, for IPv4 and IPv6 alike.)
 */
int
mst_proc_refuse_new(int fd)
{
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),	/* SYN, ACK */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),			/* drop */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),		/* keep */
	};
	struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]),
		.filter = code,
	};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
}

/* Every listening socket of g takes no new handshake from now on; with
 * only_gone, only those the current generation does not share. */
static void
gen_refuse(struct proc_gen *g, bool only_gone)
{
	struct proc_fds pf = { NULL, -1 };
	size_t i, j;

	if (only_gone)
		cur_sockets(&pf);
	for (j = 0; j < g->g_nlisten; j++)
		for (i = 0; i < CD_MAX_WORKERS; i++)
			if (g->g_listen[j][i] != -1 && (!only_gone ||
			    !cur_has_socket(&pf, g->g_listen[j][i])) &&
			    mst_proc_refuse_new(g->g_listen[j][i]) == -1)
				log_warn("listener %zu, socket %zu: refusing "
				    "new connections", j, i);
	free(pf.pf_has);
}

static void
gen_refuse_new(struct proc_gen *g)
{
	gen_refuse(g, false);
}

void
mst_proc_close_listeners(void)
{
	stopping = 1;
	gen_refuse_new(cur);
	if (old != NULL)
		gen_refuse_new(old);
	/* the old generation first: it skips the sockets cur shares */
	if (old != NULL)
		gen_close_listeners(old);
	gen_close_listeners(cur);
}

bool
mst_proc_draining(void)
{
	return old != NULL;
}

int
mst_proc_alive(void)
{
	return gen_alive(cur) + (old != NULL ? gen_alive(old) : 0);
}

size_t
mst_proc_pids(pid_t *out, size_t cap)
{
	size_t n = 0;
	int i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < mst.m_concurrency; i++)
			if (gens[k].g_w[i].pw_pid > 0 && n < cap)
				out[n++] = gens[k].g_w[i].pw_pid;
	return n;
}

/* next's sockets for g: those of cur's listener on the same address,
 * else new ones.  -1 (logged) when one could not be opened. */
static int
gen_listen(struct proc_gen *g, const struct cd_conf *next)
{
	const struct cd_conf *now = cur->g_conf;
	size_t j;
	int k;

	for (j = 0; j < next->c_nlisteners; j++) {
		k = conf_listener_at(now, &next->c_listeners[j]);
		if (k != -1) {
			/* none before mst_proc_listen() */
			if ((size_t)k < cur->g_nlisten)
				memcpy(g->g_listen[j], cur->g_listen[k],
				    sizeof(g->g_listen[j]));
		} else if (proc_listen_on(&next->c_listeners[j],
		    g->g_listen[j]) == -1)
			return -1;
	}
	return 0;
}

/* The sockets of cur and those next adds on new addresses fit the
 * open-file limit; -1 (logged) when they do not. */
static int
gen_fd_budget(const struct cd_conf *next)
{
	size_t j, add = 0, have = 0, files = mst_proc_conf_files(next);
	char why[512];

	if (cur->g_conf != NULL)
		have = cur->g_conf->c_nlisteners;
	/* the logs of the listeners that go stay open while they drain */
	for (j = 0; j < have; j++)
		if (conf_listener_index(next,
		    cur->g_conf->c_listeners[j].l_name) == -1)
			files += cur->g_conf->c_listeners[j].l_naccess_logs;
	for (j = 0; j < next->c_nlisteners; j++)
		if (cur->g_conf == NULL || conf_listener_at(cur->g_conf,
		    &next->c_listeners[j]) == -1)
			add++;
	if (mst_proc_fd_budget(next, (have + add) * (size_t)mst.m_concurrency,
	    files, mst.m_concurrency, why, sizeof(why)) == 0)
		return 0;
	log_error("reload: %zu of the new configuration's listeners are on "
	    "new addresses, so for a while %s", add, why);
	return -1;
}

/* A structural reload: the spare generation, on next's sockets. */
static int
proc_prepare_gen(struct cd_conf *next)
{
	struct proc_gen *g = cur == &gens[0] ? &gens[1] : &gens[0];

	/*
	 * Two generations at most share shm (cluster records, split halves,
	 * slot halves): while one still drains from an earlier reload, the
	 * reload waits (reload.c asks mst_proc_draining() first).
	 */
	if (old != NULL) {
		errno = EAGAIN;
		return -1;
	}
	if (stopping) {
		errno = EBUSY;
		return -1;
	}
	if (gen_fd_budget(next) == -1) {
		errno = EMFILE;
		return -1;
	}
	memset(g, 0, sizeof(*g));
	if (gen_no_listeners(g, next->c_nlisteners) == -1) {
		errno = ENOMEM;
		return -1;
	}
	g->g_conf = next;
	pend = g;		/* mst_proc_cancel() closes what it opened */
	if (gen_listen(g, next) == -1) {
		mst_proc_cancel();
		return -1;
	}
	g->g_gen = cur->g_gen + 1;
	return 0;
}

int
mst_proc_prepare(enum mst_change ch, struct cd_conf *next)
{
	switch (ch) {
	case MST_CH_START:
		cur->g_conf = next;
		cur->g_gen = mst.m_generation;
		return 0;
	case MST_CH_WEIGHTS:
		pend_conf = next;
		return 0;
	case MST_CH_STRUCTURAL:
		break;
	}
	return proc_prepare_gen(next);
}

void
mst_proc_cancel(void)
{
	pend_conf = NULL;
	if (pend == NULL)
		return;
	gen_close_listeners(pend);	/* those cur does not share */
	pend->g_conf = NULL;		/* the caller's again */
	pend = NULL;
}

/*
 * Tell each worker of the generation that drains which of its listeners
 * the new one keeps (their sockets are handed over); the others stop
 * taking new handshakes and are drained as on a stop.  The number kept.
 */
static int
old_keep_mark(void)
{
	struct proc_fds pf;
	struct shm_worker *w;
	size_t j;
	int i, n = 0;

	cur_sockets(&pf);
	for (j = 0; j < old->g_conf->c_nlisteners; j++) {
		if (!cur_has_socket(&pf, old->g_listen[j][0]))
			continue;
		n++;
		for (i = 0; i < mst.m_concurrency; i++) {
			if (old->g_w[i].pw_pid <= 0)
				continue;
			w = shm_slot(mst.m_shm, old->g_w[i].pw_slot);
			shm_keep_set(mst.m_shm, w, j);
		}
	}
	free(pf.pf_has);
	gen_refuse(old, true);
	return n;
}

/* Fork the prepared generation and drain the current one. */
static void
proc_apply_gen(void)
{
	int i, kept;

	old = cur;
	cur = pend;
	pend = NULL;
	cur->g_place = *mst.m_place;
	old->g_draining = 1;
	mst.m_generation = cur->g_gen;
	proc_populate(cur);
	for (i = 0; i < mst.m_concurrency; i++)
		if (proc_spawn(cur, i) == -1)
			log_warnx("generation %u: worker %d did not start; "
			    "respawning it later", cur->g_gen, i);
	log_info("generation %u started; draining generation %u",
	    cur->g_gen, old->g_gen);
	/*
	 * A handover for the listeners both keep: the old workers let go of
	 * those sockets at once, the new ones take the queues; a listener
	 * that went (or moved) stops as on a stop.
	 */
	kept = old_keep_mark();
	gen_signal(old, kept > 0 ? SIGUSR2 : SIGTERM);
	if (gen_alive(old) == 0)
		old_gen_done();
}

void
mst_proc_apply(enum mst_change ch)
{
	switch (ch) {
	case MST_CH_START:
		break;		/* mst_proc_start() forks */
	case MST_CH_WEIGHTS:
		/* running workers keep their copy; respawned ones get this
		 * (the same one after a reload that set weights in place) */
		if (cur->g_conf != pend_conf)
			conf_free(cur->g_conf);
		cur->g_conf = pend_conf;
		pend_conf = NULL;
		break;
	case MST_CH_STRUCTURAL:
		proc_apply_gen();
		break;
	}
}
