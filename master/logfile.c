/*
 * The master's log file and the workers' log pipe (see logfile.h).
 *
 * Workers write whole lines, each in one write(2) of at most PIPE_BUF
 * bytes, so lines from different workers never interleave in the pipe;
 * the master copies what it reads to its log unchanged.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "shared/log.h"
#include "logfile.h"
#include "loop.h"

static const char	*logfile_path;	/* --log-path, or NULL */
static int		 logfile_pipe[2] = { -1, -1 };

int
mst_logfile_open(const char *path)
{
	int fd;

	logfile_path = path;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (dup2(fd, 2) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
mst_logfile_reopen(void)
{
	if (logfile_path != NULL && mst_logfile_open(logfile_path) == -1)
		log_warn("reopen %s", logfile_path);
	else
		log_info("caught SIGUSR1: logs reopened");
}

/* Relay the workers' log lines to our log. */
static void
logfile_on_pipe(int fd, uint32_t events, void *arg)
{
	char buf[65536];
	ssize_t n, off, w;

	(void)events;
	(void)arg;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (off = 0; off < n; off += w) {
			w = write(log_fd(), buf + off, (size_t)(n - off));
			if (w == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				break;
			}
		}
	}
}

int
mst_logfile_pipe_open(void)
{
	if (pipe2(logfile_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("log pipe");
		return -1;
	}
	if (mst_loop_add(logfile_pipe[0], EPOLLIN, logfile_on_pipe,
	    NULL) == -1) {
		log_warn("log pipe");
		close(logfile_pipe[0]);
		close(logfile_pipe[1]);
		logfile_pipe[0] = logfile_pipe[1] = -1;
		return -1;
	}
	return 0;
}

void
mst_logfile_pipe_close(void)
{
	if (logfile_pipe[0] == -1)
		return;
	logfile_on_pipe(logfile_pipe[0], EPOLLIN, NULL);
	mst_loop_del(logfile_pipe[0]);
	close(logfile_pipe[0]);
	close(logfile_pipe[1]);
	logfile_pipe[0] = logfile_pipe[1] = -1;
}

int
mst_logfile_worker_fd(void)
{
	return logfile_pipe[1];
}
