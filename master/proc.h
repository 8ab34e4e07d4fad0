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

#include "shared/conf-t.h"
#include "mst.h"

/* Open one listening socket per worker slot; -1 with a message. */
int	 mst_proc_listen(void);
/* Fork every worker of the current generation. */
int	 mst_proc_start(void);
/* A child exited (from the SIGCHLD handler's waitpid loop). */
void	 mst_proc_reaped(pid_t, int status);
/* Ask every worker to drain (SIGTERM) or to stop at once (SIGKILL). */
void	 mst_proc_signal_all(int sig);
/* Close the listening sockets (the workers keep their copies until they
 * exit); nothing is respawned afterwards. */
void	 mst_proc_close_listeners(void);
/* Workers still running. */
int	 mst_proc_alive(void);
/* Stop a still draining older generation at once (SIGKILL, reaped
 * here), so a new structural reload can start a generation. */
void	 mst_proc_stop_draining(void);
/* Workers of a draining older generation still running. */
int	 mst_proc_draining(void);
/*
 * next is about to become the running configuration (ch): the generation
 * that runs it takes it over and frees it when it ends.  At start that is
 * generation 0 (call before mst_proc_listen()).  For a structural reload:
 * a generation still draining from an earlier one is stopped at once,
 * and next gets its own listening sockets if its address changed.  0, or
 * -1 with errno (EBUSY: the listeners are closed, canaryd is stopping)
 * and nothing taken.
 */
int	 mst_proc_prepare(enum mst_change ch, struct cd_conf *next);
/* Another module refused the prepared configuration: the caller owns it
 * again, sockets opened for it are closed. */
void	 mst_proc_cancel(void);
/*
 * mst.m_conf and mst.m_place are now the prepared ones.  Start: nothing
 * forks yet (mst_proc_start()).  Weights only: workers respawned from now
 * on inherit it, the replaced configuration is freed (running workers
 * have their own copy).  Structural: fork the new generation, drain the
 * current one; its configuration is freed when its last worker exits.
 */
void	 mst_proc_apply(enum mst_change ch);
/* The read end of the workers' log pipe, relayed by the master. */
int	 mst_proc_log_fd(void);

#endif /* CANARYD_MASTER_PROC_H */
