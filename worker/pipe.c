/*
 * Pipes for splice(2) (see pipe.h).  Invariant: an open pipe of pipe_all
 * is either handed out or on the free list, and a pipe on the free list
 * is empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "pipe.h"

static struct wrk_pipe	 pipe_all[WRK_PIPE_MAX];
static struct wrk_pipe	*pipe_free;
static uint32_t		 pipe_nopen;

static struct wrk_pipe *
pipe_slot(void)
{
	size_t i;

	for (i = 0; i < WRK_PIPE_MAX; i++)
		if (!pipe_all[i].p_open)
			return &pipe_all[i];
	return NULL;
}

struct wrk_pipe *
wrk_pipe_get(void)
{
	struct wrk_pipe *p;
	int fd[2];

	if ((p = pipe_free) != NULL) {
		pipe_free = p->p_next;
		p->p_next = NULL;
		return p;
	}
	if (pipe_nopen >= WRK_PIPE_MAX || (p = pipe_slot()) == NULL)
		return NULL;
	if (pipe2(fd, O_NONBLOCK | O_CLOEXEC) == -1)
		return NULL;
	/* more slots than the default 16: a splice from a socket takes one
	 * per page fragment; smaller when the user's pipe budget is spent */
	(void)fcntl(fd[1], F_SETPIPE_SZ, WRK_PIPE_SIZE);
	p->p_rd = fd[0];
	p->p_wr = fd[1];
	p->p_open = 1;
	p->p_len = 0;
	p->p_next = NULL;
	pipe_nopen++;
	return p;
}

void
wrk_pipe_put(struct wrk_pipe *p)
{
	if (p == NULL)
		return;
	if (p->p_len == 0) {
		p->p_next = pipe_free;
		pipe_free = p;
		return;
	}
	close(p->p_rd);
	close(p->p_wr);
	p->p_rd = p->p_wr = -1;
	p->p_open = 0;
	p->p_len = 0;
	pipe_nopen--;
}

ssize_t
wrk_pipe_fill(struct wrk_pipe *p, int fd, size_t max)
{
	ssize_t n;

	do
		n = splice(fd, NULL, p->p_wr, NULL, max,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		p->p_len += (uint32_t)n;
	return n;
}

int
wrk_pipe_copy(struct wrk_pipe *p, const void *buf, size_t len)
{
	ssize_t n;

	if (len > WRK_PIPE_COPY) {
		errno = EMSGSIZE;
		return -1;
	}
	do
		n = write(p->p_wr, buf, len);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		p->p_len += (uint32_t)n;
	if (n == -1 || (size_t)n < len) {
		if (n >= 0)
			errno = EAGAIN;
		return -1;
	}
	return 0;
}

ssize_t
wrk_pipe_drain(struct wrk_pipe *p, int fd)
{
	ssize_t n;

	do
		n = splice(p->p_rd, NULL, fd, NULL, p->p_len,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		p->p_len -= (uint32_t)n;
	return n;
}

uint32_t
wrk_pipe_open(void)
{
	return pipe_nopen;
}
