/*
 * The master's access log relay (master only).  Workers send whole lines
 * through one pipe, created here before they fork (its write end becomes
 * their fd WRK_ALOG_FD, worker/accesslog.h); the master reads it from its
 * loop and appends the lines to each file of the listener's access_log
 * (O_APPEND; "/dev/stdout" and "/dev/stderr" are the master's own).  The
 * admin's access log is written here directly, in the same format.
 * SIGUSR1 reopens every file (log rotation).
 */
#ifndef CANARYD_MASTER_ACCESSLOG_H
#define CANARYD_MASTER_ACCESSLOG_H

#include <stdbool.h>

#include "shared/alog.h"
#include "shared/conf-t.h"
#include "shared/place-t.h"

/*
 * Create the pipe (always: a reload may turn the log on), watch its read
 * end from the loop (mst_loop_init() first), open conf's files.  Call
 * before the workers fork.  0, or -1 (logged): no pipe.  A file that
 * cannot be opened is logged and skipped.
 */
int	 mst_accesslog_open(const struct cd_conf *, const struct cd_place *);
/* The pipe's write end for the workers, or -1. */
int	 mst_accesslog_worker_fd(void);
/* SIGUSR1: reopen every file; one that fails keeps its old descriptor. */
void	 mst_accesslog_reopen(void);
/* A reload: write to conf's files from now on (reopened by path); pl
 * names the listeners' records the lines are tagged with. */
void	 mst_accesslog_reload(const struct cd_conf *, const struct cd_place *);
/* Relay what the pipe holds now, then close everything.  At exit. */
void	 mst_accesslog_close(void);

/* The admin's access log: on?, and one line (head: the request's raw
 * head, for its formats' %REQ(...)%, or NULL). */
bool	 mst_accesslog_admin_on(void);
void	 mst_accesslog_admin(const struct alog_rec *, const char *head,
	    size_t hlen);

#endif /* CANARYD_MASTER_ACCESSLOG_H */
