/*
 * What the test programs (test/etcd_probe.c, test/fleet_probe.c) share:
 * reading commands from stdin, one line each, inside the program's event
 * loop.  A header of static functions: each probe is one file.
 */
#ifndef CANARYD_TEST_PROBE_H
#define CANARYD_TEST_PROBE_H

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define PROBE_LINE_MAX	4096

struct probe_in {
	char	 pi_buf[PROBE_LINE_MAX];
	size_t	 pi_len;
};

/*
 * Read what stdin (fd) has and hand each complete line to cmd.  -1 when
 * stdin ended or cmd asked to quit (returned -1); 0 otherwise.  A line
 * longer than PROBE_LINE_MAX is dropped.
 */
static inline int
probe_stdin(int fd, struct probe_in *in, int (*cmd)(char *line))
{
	ssize_t n;
	char *nl;

	n = read(fd, in->pi_buf + in->pi_len, sizeof(in->pi_buf) - 1 -
	    in->pi_len);
	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	in->pi_len += (size_t)n;
	in->pi_buf[in->pi_len] = '\0';
	while ((nl = strchr(in->pi_buf, '\n')) != NULL) {
		*nl = '\0';
		if (cmd(in->pi_buf) == -1)
			return -1;
		in->pi_len -= (size_t)(nl + 1 - in->pi_buf);
		memmove(in->pi_buf, nl + 1, in->pi_len + 1);
	}
	if (in->pi_len == sizeof(in->pi_buf) - 1)
		in->pi_len = 0;
	return 0;
}

#endif /* CANARYD_TEST_PROBE_H */
