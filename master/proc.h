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
/* The read end of the workers' log pipe, relayed by the master. */
int	 mst_proc_log_fd(void);

#endif /* CANARYD_MASTER_PROC_H */
