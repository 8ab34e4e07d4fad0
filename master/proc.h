/*
 * Worker supervision: the listening sockets (one SO_REUSEPORT socket per
 * worker slot, opened before the first fork and kept by the master so a
 * respawned worker takes over the same accept queue), forking workers,
 * reaping them, respawning the ones that die with back-off, and stopping
 * them all.
 */
#ifndef CANARYD_MASTER_PROC_H
#define CANARYD_MASTER_PROC_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "mst.h"

/*
 * Do conf's listening sockets fit the open-file limit (RLIMIT_NOFILE)?
 * The master holds one per listener per worker (sockets of them; a
 * reload that moves listeners holds both generations' for a while) and
 * the access log files (files), a worker takes two per listener while it
 * starts, and MST_PROC_FD_RESERVE more are kept for the rest (pipes, the
 * admin, health checks).  0, or -1 with why set: the numbers, the limit
 * and what to do.
 */
#define MST_PROC_FD_RESERVE	64
int	 mst_proc_fd_budget(const struct cd_conf *, size_t sockets,
	    size_t files, int workers, char *why, size_t len);
/* The access log files conf opens in the master. */
size_t	 mst_proc_conf_files(const struct cd_conf *);

/* Open one listening socket per worker slot for the configuration
 * mst_proc_prepare() gave generation 0; -1 with a message. */
int	 mst_proc_listen(void);
/* Fork every worker of the current generation, on mst.m_place. */
int	 mst_proc_start(void);
/* A child exited (from the SIGCHLD handler's waitpid loop). */
void	 mst_proc_reaped(pid_t, int status);

/* The shm slot of worker i of generation gen: two generations in a row
 * never share one, a respawned worker keeps its own.  Pure. */
int	 mst_proc_slot(uint32_t gen, int i);

enum mst_proc_after {
	MST_PROC_RESPAWN,		/* now */
	MST_PROC_RESPAWN_LATER,		/* after *delay_ms: a crash loop */
	MST_PROC_NO_RESPAWN,		/* it exited with status 2 */
};

/*
 * What becomes of a worker of the running generation that exited with
 * status (waitpid(2)) after lifetime_ms: status 2 asks not to be
 * respawned; a death within a second of the start counts one more in
 * *fast_deaths (a longer life clears it), and while there are any the
 * respawn waits 200 ms, 400 ms ... up to 10 s.  Pure.
 */
enum mst_proc_after mst_proc_after_exit(int status, uint64_t lifetime_ms,
	    unsigned *fast_deaths, uint64_t *delay_ms);
/* Ask every worker to drain (SIGTERM) or to stop at once (SIGKILL). */
void	 mst_proc_signal_all(int sig);
/*
 * Stop listening: the listening sockets take no new handshake (new
 * connections are refused once every copy is closed) and the master
 * closes its copies; each worker accepts what its queue holds, then
 * closes its own (worker/worker.c).  Nothing is respawned afterwards.
 */
void	 mst_proc_close_listeners(void);
/* Drop new TCP handshakes on listening socket fd; 0 or -1 (errno). */
int	 mst_proc_refuse_new(int fd);
/* An older generation is still draining: a structural reload waits. */
bool	 mst_proc_draining(void);
/* Workers still running. */
int	 mst_proc_alive(void);
/* The pids of the workers running, of every generation: how many were
 * put in out (at most cap; 2 x CD_MAX_WORKERS hold them all). */
size_t	 mst_proc_pids(pid_t *out, size_t cap);
/*
 * next is about to become the running configuration (ch): the generation
 * that runs it takes it over and frees it when it ends.  At start that is
 * generation 0 (call before mst_proc_listen()).  For a structural reload
 * next gets its own listening sockets if its address changed.  0, or -1
 * with errno (EBUSY: the listeners are closed, canaryd is stopping;
 * EAGAIN: a generation is still draining) and nothing taken.
 */
int	 mst_proc_prepare(enum mst_change ch, struct cd_conf *next);
/* Another module refused the prepared configuration: the caller owns it
 * again, sockets opened for it are closed. */
void	 mst_proc_cancel(void);
/*
 * mst.m_conf and mst.m_place are now the prepared ones (a reload; at
 * start mst_proc_start() forks).  Weights only: workers respawned from now
 * on inherit it, the replaced configuration is freed (running workers
 * have their own copy).  Structural: fork the new generation, drain the
 * current one; its configuration is freed when its last worker exits.
 */
void	 mst_proc_apply(enum mst_change ch);

#endif /* CANARYD_MASTER_PROC_H */
