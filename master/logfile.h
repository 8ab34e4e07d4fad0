/*
 * The master's log (master only): --log-path, which puts the log (fd 2)
 * in a file, appending, reopened on SIGUSR1 for log rotation; and the
 * pipe every worker writes its log lines into (created before the first
 * fork, so each worker inherits its write end), relayed by the master
 * into its own log from the loop.
 */
#ifndef CANARYD_MASTER_LOGFILE_H
#define CANARYD_MASTER_LOGFILE_H

/* --log-path: send fd 2 to path from now on (command-line time, before
 * log_init()).  0, or -1 with errno. */
int	 mst_logfile_open(const char *path);
/* SIGUSR1: open --log-path again (if given) and say so in the log. */
void	 mst_logfile_reopen(void);

/* Create the workers' log pipe and relay it from the loop.  0 or -1
 * (logged). */
int	 mst_logfile_pipe_open(void);
/* Relay what the pipe holds now, then close it.  At exit. */
void	 mst_logfile_pipe_close(void);
/* The pipe's write end, for a worker about to start, or -1. */
int	 mst_logfile_worker_fd(void);

#endif /* CANARYD_MASTER_LOGFILE_H */
