/*
 * Pipes for splice(2): body bytes whose framing the parser already knows
 * (the rest of a Content-Length body, the data of a chunk whose size line
 * was parsed) go from one socket to the other through a pipe, never
 * copied into the worker's memory.  The kernel keeps the bytes in the
 * pipe's pages, outside the worker's RSS.
 *
 * A transfer takes an empty pipe, fills it from one socket only while it
 * is empty but for a few bytes copied in ahead of the fill (so a splice
 * that finds nothing means the socket is drained, never that the pipe is
 * full) and drains it into the other socket.  An
 * empty pipe given back is kept for the next transfer; one with bytes
 * still in it (the transfer was abandoned) is closed.  Worker process
 * only; WRK_PIPE_MAX pipes at most are open at once, past that the
 * caller copies as it did before.
 */
#ifndef CANARYD_WORKER_PIPE_H
#define CANARYD_WORKER_PIPE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define WRK_PIPE_MAX	64		/* open pipes per worker */
#define WRK_PIPE_SIZE	(64 * 1024)	/* asked for each (F_SETPIPE_SZ) */
#define WRK_PIPE_COPY	4096		/* bytes copied in: one page, one
					 * of its slots */

struct wrk_pipe {
	struct wrk_pipe	*p_next;	/* free list */
	int		 p_rd;
	int		 p_wr;
	uint32_t	 p_len;		/* bytes in it */
	uint8_t		 p_open;
};

/* An empty pipe, or NULL (none left, or pipe2(2) failed). */
struct wrk_pipe	*wrk_pipe_get(void);
/* Give a pipe back; accepts NULL. */
void		 wrk_pipe_put(struct wrk_pipe *);
/* At most max bytes from the socket fd into the empty pipe p: splice(2)'s
 * result (0: the peer closed), errno kept. */
ssize_t		 wrk_pipe_fill(struct wrk_pipe *p, int fd, size_t max);
/* Copy len bytes (at most WRK_PIPE_COPY) into p, ahead of what a fill
 * adds: 0, or -1 (errno kept) when they did not all go in. */
int		 wrk_pipe_copy(struct wrk_pipe *p, const void *buf, size_t len);
/* What p holds into the socket fd: splice(2)'s result, errno kept. */
ssize_t		 wrk_pipe_drain(struct wrk_pipe *p, int fd);
/* Pipes open (tests, leak checks). */
uint32_t	 wrk_pipe_open(void);

#endif /* CANARYD_WORKER_PIPE_H */
