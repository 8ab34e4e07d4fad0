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
/* Stop a still draining older generation at once (SIGKILL, reaped
 * here), so a new structural reload can start a generation. */
void	 mst_proc_stop_draining(void);
/* Workers of a draining older generation still running. */
int	 mst_proc_draining(void);
/*
 * Structural reload: fork a generation of workers on next (new listening
 * sockets only if its address changed), then drain the current one.  The
 * caller has made next the running config; the old generation's config
 * is freed when its last worker exits.  -1 with errno EBUSY while an older
 * generation still drains, or when the new sockets cannot be opened.
 */
struct cd_conf;
int	 mst_proc_new_generation(const struct cd_conf *next);
/* An in-place reload replaced the current generation's config (same
 * structure): workers respawned from now on inherit conf. */
void	 mst_proc_set_conf(const struct cd_conf *conf);
/* The read end of the workers' log pipe, relayed by the master. */
int	 mst_proc_log_fd(void);

#endif /* CANARYD_MASTER_PROC_H */
