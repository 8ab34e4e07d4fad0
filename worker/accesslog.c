/*
 * Worker access log buffer and pipe; see accesslog.h.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
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
/* per listener (alog_nmask): its logs in the default format */
static unsigned int	*alog_def_mask;
static size_t		 alog_nmask;
static unsigned int	 alog_needs;
static _Atomic uint64_t	*alog_dropped;	/* access_log_dropped */
static char		 alog_line[ALOG_LINE_MAX];	/* a default line */

_Static_assert(CD_MAX_ACCESS_LOGS == ALOG_TAG_LOGS, "one tag per log");
_Static_assert(CD_MAX_ACCESS_LOGS <= 8 * sizeof(*alog_def_mask),
    "a bit per log");

/* The record listener li's counters and tags use. */
static int
alog_rec(size_t li)
{
	return wrk.w_place != NULL ? wrk.w_place->pl_listener[li] : (int)li;
}

bool
wrk_alog_wanted(void)
{
	size_t i;

	for (i = 0; wrk.w_conf != NULL && i < wrk.w_conf->c_nlisteners; i++)
		if (wrk.w_conf->c_listeners[i].l_naccess_logs > 0)
			return true;
	return false;
}

/* Listener l's logs into the masks and what their formats need. */
static void
alog_init_listener(const struct cd_listener *l, size_t li)
{
	const struct alog_layout *lo;
	size_t i;

	alog_def_mask[li] = 0;
	for (i = 0; i < l->l_naccess_logs; i++) {
		lo = l->l_access_logs[i].al_layout;
		if (lo == NULL || lo->lo_kind == ALOG_L_DEFAULT)
			alog_def_mask[li] |= 1u << i;
		else
			/* the cluster, route, connection id come with any */
			alog_needs |= lo->lo_needs | ALOG_N_TIME;
	}
}

int
wrk_alog_init(int fd)
{
	const struct cd_conf *conf = wrk.w_conf;
	struct stat st;
	size_t i, n;
	int fl;

	if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode) ||
	    (fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if (alog_buf == NULL && (alog_buf = malloc(WRK_ALOG_BUF)) == NULL)
		return -1;
	alog_len = 0;
	alog_needs = 0;
	n = conf != NULL && conf->c_nlisteners > 0 ? conf->c_nlisteners : 1;
	free(alog_def_mask);
	if ((alog_def_mask = calloc(n, sizeof(*alog_def_mask))) == NULL) {
		alog_nmask = 0;
		return -1;
	}
	alog_nmask = n;
	for (i = 0; conf != NULL && i < conf->c_nlisteners; i++)
		alog_init_listener(&conf->c_listeners[i], i);
	if (conf == NULL)
		alog_def_mask[0] = 1;	/* no listener (tests): one file */
	alog_dropped = wrk.w_slot != NULL ? &shm_http(wrk.w_shm, wrk.w_slot,
	    alog_rec(0))->hc_c[HC_ACCESS_LOG_DROPPED] : NULL;
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
			if (alog_dropped != NULL)
				wrk_ctr(alog_dropped, alog_count_lines(
				    alog_buf + off, alog_len - off));
			break;
		}
		/* a pipe write of <= PIPE_BUF bytes is all or nothing */
		off += (size_t)n;
	}
	alog_len = 0;
}

/* Room for one more line, tagged for log i of the listener with record
 * rec. */
static void
alog_room(int rec, size_t i)
{
	if (WRK_ALOG_BUF - alog_len < ALOG_TAG_LEN + ALOG_LINE_MAX)
		wrk_alog_flush();
	alog_tag_put(alog_buf + alog_len, (uint32_t)rec, (uint32_t)i);
	alog_len += ALOG_TAG_LEN;
}

void
wrk_alog_write(const struct cd_listener *l, const struct alog_src *src)
{
	const struct alog_layout *lo;
	size_t li = l != NULL ? (size_t)l->l_index : 0, i, n = 0;
	int rec = alog_rec(li);

	if (wrk_alog_fd == -1 || li >= alog_nmask)
		return;
	/* the default line once, for each log in the default format */
	if (alog_def_mask[li] != 0)
		n = alog_format(alog_line, sizeof(alog_line), src->as_rec);
	for (i = 0; i < CD_MAX_ACCESS_LOGS; i++) {
		if (alog_def_mask[li] & (1u << i)) {
			alog_room(rec, i);
			memcpy(alog_buf + alog_len, alog_line, n);
			alog_len += n;
			continue;
		}
		if (l == NULL || i >= l->l_naccess_logs)
			continue;
		lo = l->l_access_logs[i].al_layout;
		alog_room(rec, i);
		alog_len += alog_layout_line(alog_buf + alog_len,
		    WRK_ALOG_BUF - alog_len, lo, src);
	}
}
