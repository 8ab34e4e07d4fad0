/*
 * Worker access log buffer and pipe; see accesslog.h.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/alog.h"
#include "shared/log.h"
#include "accesslog.h"
#include "wrk.h"

int			 wrk_alog_fd = -1;
static char		*alog_buf;
static size_t		 alog_len;
static unsigned int	 alog_def_mask;	/* logs in the default format */
static unsigned int	 alog_needs;

int
wrk_alog_init(int fd)
{
	const struct alog_layout *lo;
	struct stat st;
	size_t i;
	int fl;

	if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode) ||
	    (fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if (alog_buf == NULL && (alog_buf = malloc(WRK_ALOG_BUF)) == NULL)
		return -1;
	alog_len = 0;
	alog_def_mask = 0;
	alog_needs = 0;
	for (i = 0; wrk.w_l != NULL && i < wrk.w_l->l_naccess_logs; i++) {
		lo = wrk.w_l->l_access_logs[i].al_layout;
		if (lo == NULL || lo->lo_kind == ALOG_L_DEFAULT)
			alog_def_mask |= 1u << i;
		else
			/* the cluster, route, connection id come with any */
			alog_needs |= lo->lo_needs | ALOG_N_TIME;
	}
	if (alog_def_mask == 0 && alog_needs == 0)
		alog_def_mask = 1;	/* no listener (tests): one file */
	wrk_alog_fd = fd;
	return 0;
}

unsigned int
wrk_alog_needs(void)
{
	return alog_needs;
}

size_t
wrk_alog_pending(void)
{
	return alog_len;
}

/* Lines in [p, p + n). */
static uint64_t
alog_count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;
	const char *e = p + n;

	while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		lines++;
		p++;
	}
	return lines;
}

void
wrk_alog_flush(void)
{
	size_t off = 0, chunk;
	const char *nl;
	ssize_t n;

	while (off < alog_len) {
		chunk = alog_len - off;
		if (chunk > PIPE_BUF) {
			/* whole lines only: up to the last '\n' that fits */
			nl = memrchr(alog_buf + off, '\n', PIPE_BUF);
			CD_ASSERT(nl != NULL);
			chunk = (size_t)(nl - (alog_buf + off)) + 1;
		}
		n = write(wrk_alog_fd, alog_buf + off, chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			/* EAGAIN: the master is behind; anything else: it is
			 * gone.  Either way the rest is lost, counted. */
			WRK_HC_N(HC_ACCESS_LOG_DROPPED,
			    alog_count_lines(alog_buf + off, alog_len - off));
			break;
		}
		/* a pipe write of <= PIPE_BUF bytes is all or nothing */
		off += (size_t)n;
	}
	alog_len = 0;
}

/* Room for one more tagged line. */
static void
alog_room(unsigned int mask)
{
	if (WRK_ALOG_BUF - alog_len < ALOG_LINE_MAX + 1)
		wrk_alog_flush();
	alog_buf[alog_len++] = (char)(ALOG_TAG_BASE + mask);
}

void
wrk_alog_write(const struct alog_src *src)
{
	const struct alog_layout *lo;
	size_t i;

	if (wrk_alog_fd == -1)
		return;
	if (alog_def_mask != 0) {
		alog_room(alog_def_mask);
		alog_len += alog_format(alog_buf + alog_len,
		    WRK_ALOG_BUF - alog_len, src->as_rec);
	}
	for (i = 0; wrk.w_l != NULL && i < wrk.w_l->l_naccess_logs; i++) {
		if (alog_def_mask & (1u << i))
			continue;
		lo = wrk.w_l->l_access_logs[i].al_layout;
		alog_room(1u << i);
		alog_len += alog_layout_line(alog_buf + alog_len,
		    WRK_ALOG_BUF - alog_len, lo, src);
	}
}
