/*
 * Logging for every process: one line per event,
 *   [2026-11-26 10:00:00.123][4711][info][worker 0] message
 * The master writes to stderr (or --log-path); a worker writes to the
 * non-blocking pipe the master gave it and never waits: a line that does
 * not fit is dropped and counted.  All functions keep errno intact, and the
 * level is checked before any formatting.
 */
#ifndef CANARYD_SHARED_LOG_H
#define CANARYD_SHARED_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>

enum log_level {
	LOG_L_TRACE,
	LOG_L_DEBUG,
	LOG_L_INFO,
	LOG_L_WARN,
	LOG_L_ERROR,
	LOG_L_CRITICAL,
	LOG_L_OFF,
};

extern int log_level;	/* lines below it are not formatted */

/* Parse Envoy's level names (trace debug info warning warn error critical
 * off); -1 if unknown. */
int	 log_level_parse(const char *);
const char *log_level_name(int);

/* Send lines to fd; nonblock: drop (and count in *dropped) on EAGAIN. */
void	 log_init(int level, int fd, int nonblock);
void	 log_set_drop_counter(_Atomic uint64_t *dropped);
int	 log_fd(void);
/* Component shown in each line: "master", "worker 3", "dns". */
void	 log_setproc(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

void	 log_trace(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_crit(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log at critical and exit(1) (respawn) / exit(2) with fatal_norespawn. */
_Noreturn void fatal(const char *, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Stays on in release builds: logs file:line and aborts. */
_Noreturn void log_assert_fail(const char *, const char *, int);
#define CD_ASSERT(c) do {						\
	if (!(c))							\
		log_assert_fail(#c, __FILE__, __LINE__);		\
} while (0)

#endif /* CANARYD_SHARED_LOG_H */
