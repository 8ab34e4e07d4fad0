/*
 * Logging (see log.h).  Each line is formatted into a stack buffer and
 * written with one write(2), so lines from several processes sharing a
 * pipe or file never interleave (pipe writes up to PIPE_BUF are atomic).
 * A worker's fd is a non-blocking pipe to the master: when it is full the
 * line is dropped and counted, never waited for.
 */
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	1024

int log_level = LOG_L_INFO;

static int log_out = 2;
static int log_nonblock;
static _Atomic uint64_t *log_dropped;
static char log_proc[32] = "main";

static const char *const level_names[] = {
	"trace", "debug", "info", "warning", "error", "critical", "off"
};

int
log_level_parse(const char *s)
{
	size_t i;

	if (strcasecmp(s, "warn") == 0)
		return LOG_L_WARN;
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int l)
{
	if (l < 0 || l > LOG_L_OFF)
		return "unknown";
	return level_names[l];
}

void
log_init(int level, int fd, int nonblock)
{
	log_level = level;
	log_out = fd;
	log_nonblock = nonblock;
}

void
log_set_drop_counter(_Atomic uint64_t *dropped)
{
	log_dropped = dropped;
}

int
log_fd(void)
{
	return log_out;
}

void
log_setproc(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_proc, sizeof(log_proc), fmt, ap);
	va_end(ap);
}

static void
log_vwrite(int level, const char *fmt, va_list ap, int with_errno, int err)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	r = snprintf(line, sizeof(line),
	    "[%04d-%02d-%02d %02d:%02d:%02d.%03ld][%ld][%s][%s] ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (long)getpid(),
	    level_names[level], log_proc);
	n = r > 0 ? (size_t)r : 0;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (with_errno && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(err));
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;	/* truncated: keep the newline */
	line[n++] = '\n';
	for (;;) {
		ssize_t w = write(log_out, line, n);

		if (w >= 0 || errno != EINTR) {
			if (w < 0 && log_nonblock && log_dropped != NULL)
				atomic_fetch_add_explicit(log_dropped, 1,
				    memory_order_relaxed);
			break;
		}
	}
}

#define LOG_FN(fn, lvl, with_errno)					\
void									\
fn(const char *fmt, ...)						\
{									\
	int saved = errno;						\
	va_list ap;							\
									\
	if (log_level > (lvl))						\
		return;							\
	va_start(ap, fmt);						\
	log_vwrite((lvl), fmt, ap, (with_errno), saved);		\
	va_end(ap);							\
	errno = saved;							\
}

LOG_FN(log_trace, LOG_L_TRACE, 0)
LOG_FN(log_debug, LOG_L_DEBUG, 0)
LOG_FN(log_info, LOG_L_INFO, 0)
LOG_FN(log_warn, LOG_L_WARN, 1)
LOG_FN(log_warnx, LOG_L_WARN, 0)
LOG_FN(log_error, LOG_L_ERROR, 0)
LOG_FN(log_crit, LOG_L_CRITICAL, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_CRITICAL, fmt, ap, 1, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_CRITICAL, fmt, ap, 0, 0);
	va_end(ap);
	exit(1);
}

void
log_assert_fail(const char *expr, const char *file, int line)
{
	log_crit("assertion failed: %s (%s:%d)", expr, file, line);
	abort();
}
