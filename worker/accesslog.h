/*
 * The worker's side of the access log: lines are formatted into one
 * per-worker buffer as requests end and sent to the master through a
 * non-blocking pipe once per loop turn, in writes of whole lines of at
 * most PIPE_BUF bytes (atomic, so lines of several workers never mix).
 * When the pipe is full the lines are dropped and counted
 * (http.<prefix>.access_log_dropped): a worker never waits for a disk.
 * Worker process only.
 */
#ifndef CANARYD_WORKER_ACCESSLOG_H
#define CANARYD_WORKER_ACCESSLOG_H

#include <stdbool.h>

#include "shared/alog.h"

struct cd_listener;

/* The master puts the pipe's write end on this fd in every worker. */
#define WRK_ALOG_FD		5
/* Lines buffered between two flushes: 16 full-size lines at least. */
#define WRK_ALOG_BUF		(64 * 1024)

extern int	 wrk_alog_fd;	/* -1: the access log is off */

/* Does a listener of wrk.w_conf have an access log? */
bool		 wrk_alog_wanted(void);

/* Log into fd (a non-blocking pipe) from now on, in the formats of the
 * access logs of wrk.w_conf's listeners (none: one default file, for
 * tests); 0, or -1 when fd is not a pipe or no memory (the log stays
 * off). */
int		 wrk_alog_init(int fd);

static inline bool
wrk_alog_on(void)
{
	return wrk_alog_fd != -1;
}

/* Queue src's line for each access log of listener l (NULL: the tests'
 * one file), tagged with the listener's record and the log; flushes
 * first if the buffer is full, drops (counted) if the pipe is full too. */
void		 wrk_alog_write(const struct cd_listener *,
		    const struct alog_src *);

/* ALOG_N_* the formats of the access logs read beyond the record's
 * default fields; 0 when all are in the default format. */
unsigned int	 wrk_alog_needs(void);

/* Send the queued lines; once per loop turn. */
void		 wrk_alog_flush(void);

/* Lines queued and not yet sent (tests). */
size_t		 wrk_alog_pending(void);

#endif /* CANARYD_WORKER_ACCESSLOG_H */
