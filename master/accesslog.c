/*
 * The master's access log relay; see accesslog.h.
 *
 * Workers write whole lines of at most PIPE_BUF bytes, so the pipe holds
 * whole lines in order; a read may still end inside one, so only bytes up
 * to the last '\n' are written out and the rest waits for the next read
 * (an admin line written in between can never split a worker's line).
 * Writes to the files are plain blocking appends: the master is the one
 * process allowed to wait for a disk, and it does so only here.
 */
#include <sys/types.h>
#include <sys/epoll.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/alog.h"
#include "shared/conf-t.h"
#include "shared/place-t.h"
#include "shared/log.h"
#include "accesslog.h"
#include "loop.h"

#define AL_PIPE_SIZE		(1024 * 1024)	/* room for bursts */
#define AL_READS_PER_WAKE	16		/* then others run */

struct al_file {
	char	*f_path;	/* NULL: none */
	int	 f_fd;		/* -1: could not be opened */
};

/*
 * Every listener's loggers, by the listener's record k (place-t.h):
 * al_recs[k].r_f[0, r_nlogs); r_gone: the running configuration no
 * longer has the listener, its files stay open for the lines of the
 * generation that drains it, until the next reload.  Grown to the
 * highest record a placement names.  Files are numbered AL_FILE(k, i)
 * for the relay.
 */
struct al_rec {
	struct al_file	 r_f[CD_MAX_ACCESS_LOGS];
	size_t		 r_nlogs;
	bool		 r_gone;
};

#define AL_FILE(k, i)	((size_t)(k) * CD_MAX_ACCESS_LOGS + (i))
static struct al_rec	*al_recs;
static size_t		 al_nrec;
static struct al_file	 al_admin = { NULL, -1 };
static const struct alog_layout *al_admin_layout;	/* NULL: default */
static int		 al_pipe[2] = { -1, -1 };
static char		 al_buf[64 * 1024];
static size_t		 al_carry;	/* bytes of an unfinished line */
/* one relay: the lines of al_buf gathered by file into al_sorted, file
 * f's al_bytes[f] of them from al_at[f]; al_touched[0, al_ntouched):
 * the files that have some (al_nrec * CD_MAX_ACCESS_LOGS entries each) */
static char		 al_sorted[sizeof(al_buf)];
static size_t		*al_bytes, *al_at, *al_touched;
static size_t		 al_ntouched;

/* stdout and stderr are the master's own: a socket (journald) cannot be
 * opened again by name. */
static int
al_open_path(const char *path)
{
	if (strcmp(path, "/dev/stdout") == 0)
		return fcntl(1, F_DUPFD_CLOEXEC, 3);
	if (strcmp(path, "/dev/stderr") == 0)
		return fcntl(2, F_DUPFD_CLOEXEC, 3);
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static void
al_file_open(struct al_file *f, const char *path)
{
	if ((f->f_path = strdup(path)) == NULL) {
		log_warn("access log %s", path);
		return;
	}
	if ((f->f_fd = al_open_path(path)) == -1)
		log_warn("access log %s", path);
}

static void
al_file_close(struct al_file *f)
{
	if (f->f_fd != -1)
		close(f->f_fd);
	f->f_fd = -1;
	free(f->f_path);
	f->f_path = NULL;
}

/* Reopen by path; on failure keep writing where we did. */
static void
al_file_reopen(struct al_file *f)
{
	int fd;

	if (f->f_path == NULL)
		return;
	if ((fd = al_open_path(f->f_path)) == -1) {
		log_warn("reopen access log %s", f->f_path);
		return;
	}
	if (f->f_fd != -1)
		close(f->f_fd);
	f->f_fd = fd;
}

static void
al_file_write(struct al_file *f, const char *p, size_t n)
{
	ssize_t w;

	while (f->f_fd != -1 && n > 0) {
		if ((w = write(f->f_fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("access log %s", f->f_path);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Close the files of listener record k. */
static void
al_record_close(size_t k)
{
	size_t i;

	for (i = 0; i < al_recs[k].r_nlogs; i++)
		al_file_close(&al_recs[k].r_f[i]);
	al_recs[k].r_nlogs = 0;
	al_recs[k].r_gone = false;
}

/* Open listener l's files for record k. */
static void
al_record_open(size_t k, const struct cd_listener *l)
{
	size_t i;

	for (i = 0; i < l->l_naccess_logs; i++) {
		al_file_open(&al_recs[k].r_f[i], l->l_access_logs[i].al_path);
		al_recs[k].r_nlogs++;
	}
}

/* Room for records [0, n); -1 (logged) when there is no memory. */
static int
al_records_grow(size_t n)
{
	size_t nf = n * CD_MAX_ACCESS_LOGS, k, i;
	struct al_rec *r;
	size_t *b, *a, *t;

	if (n <= al_nrec)
		return 0;
	if ((r = reallocarray(al_recs, n, sizeof(*r))) == NULL)
		goto fail;
	al_recs = r;
	if ((b = reallocarray(al_bytes, nf, sizeof(*b))) != NULL)
		al_bytes = b;
	if ((a = reallocarray(al_at, nf, sizeof(*a))) != NULL)
		al_at = a;
	if ((t = reallocarray(al_touched, nf, sizeof(*t))) != NULL)
		al_touched = t;
	if (b == NULL || a == NULL || t == NULL)
		goto fail;
	for (k = al_nrec; k < n; k++) {
		memset(&al_recs[k], 0, sizeof(al_recs[k]));
		for (i = 0; i < CD_MAX_ACCESS_LOGS; i++)
			al_recs[k].r_f[i].f_fd = -1;
	}
	memset(al_bytes, 0, nf * sizeof(*al_bytes));
	al_nrec = n;
	return 0;
fail:
	log_warn("access log files");
	return -1;
}

static void
al_files_set(const struct cd_conf *conf, const struct cd_place *pl)
{
	size_t j, k, top = 0;
	bool *used;

	for (j = 0; j < conf->c_nlisteners; j++)
		if ((size_t)pl->pl_listener[j] + 1 > top)
			top = (size_t)pl->pl_listener[j] + 1;
	if (al_records_grow(top) == -1 ||
	    (used = calloc(al_nrec + 1, sizeof(*used))) == NULL)
		return;		/* the files stay as they were */
	for (j = 0; j < conf->c_nlisteners; j++)
		used[pl->pl_listener[j]] = true;
	for (k = 0; k < al_nrec; k++) {
		if (used[k] || al_recs[k].r_gone)
			al_record_close(k);
		else if (al_recs[k].r_nlogs > 0)
			al_recs[k].r_gone = true;	/* its workers drain */
	}
	free(used);
	for (j = 0; j < conf->c_nlisteners; j++)
		al_record_open((size_t)pl->pl_listener[j],
		    &conf->c_listeners[j]);
	al_file_close(&al_admin);
	al_admin_layout = conf->c_admin.a_log.al_layout;
	if (conf->c_admin.a_log.al_path != NULL)
		al_file_open(&al_admin, conf->c_admin.a_log.al_path);
}

/* The file the line p[0, len) goes to by its tag, or -1: every file (an
 * untagged line), or -2: none (a logger the listener does not have). */
static ssize_t
al_tag_file(const char *p, size_t len)
{
	uint32_t k, i;

	if (!alog_tag_get(p, len, &k, &i))
		return -1;
	if (k >= al_nrec || i >= al_recs[k].r_nlogs)
		return -2;
	return (ssize_t)AL_FILE(k, i);
}

/* An untagged line: to every file, at once. */
static void
al_to_all(const char *p, size_t n)
{
	size_t k, i;

	for (k = 0; k < al_nrec; k++)
		for (i = 0; i < al_recs[k].r_nlogs; i++)
			al_file_write(&al_recs[k].r_f[i], p, n);
}

/* The line that starts at p, up to e: its length, '\n' included. */
static size_t
al_line(const char *p, const char *e)
{
	const char *nl;

	if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
		nl = e - 1;
	return (size_t)(nl + 1 - p);
}

/*
 * The lines [p, e) to their files.  Each line starts with its tag
 * (shared/alog.h: the listener and which of its files), which is not
 * written; the lines of each file are gathered in al_sorted, in order,
 * and written at once.
 */
static void
al_relay_lines(const char *p, const char *e)
{
	const char *q;
	size_t n, t, at = 0, f;
	ssize_t tf;

	al_ntouched = 0;
	for (q = p; q < e; q += n) {		/* bytes per file */
		n = al_line(q, e);
		if ((tf = al_tag_file(q, n)) == -1)
			al_to_all(q, n);
		else if (tf >= 0) {
			if (al_bytes[tf] == 0)
				al_touched[al_ntouched++] = (size_t)tf;
			al_bytes[tf] += n - ALOG_TAG_LEN;
		}
	}
	for (t = 0; t < al_ntouched; t++) {
		al_at[al_touched[t]] = at;
		at += al_bytes[al_touched[t]];
	}
	for (q = p; q < e; q += n) {		/* each line to its place */
		n = al_line(q, e);
		if ((tf = al_tag_file(q, n)) < 0)
			continue;
		memcpy(al_sorted + al_at[tf], q + ALOG_TAG_LEN,
		    n - ALOG_TAG_LEN);
		al_at[tf] += n - ALOG_TAG_LEN;
	}
	for (t = 0, at = 0; t < al_ntouched; t++) {
		f = al_touched[t];
		al_file_write(&al_recs[f / CD_MAX_ACCESS_LOGS].r_f[f %
		    CD_MAX_ACCESS_LOGS], al_sorted + at, al_bytes[f]);
		at += al_bytes[f];
		al_bytes[f] = 0;
	}
}

/* Write the whole lines of al_buf[0, len) out, keep the tail. */
static void
al_relay(size_t len)
{
	const char *nl;
	size_t end;

	if ((nl = memrchr(al_buf, '\n', len)) == NULL) {
		if (len < sizeof(al_buf)) {
			al_carry = len;
			return;
		}
		end = len;	/* no line is this long: never happens */
	} else
		end = (size_t)(nl - al_buf) + 1;
	al_relay_lines(al_buf, al_buf + end);
	al_carry = len - end;
	memmove(al_buf, al_buf + end, al_carry);
}

static void
al_on_pipe(int fd, uint32_t events, void *arg)
{
	ssize_t n;
	int i;

	(void)events;
	(void)arg;
	for (i = 0; i < AL_READS_PER_WAKE; i++) {
		n = read(fd, al_buf + al_carry, sizeof(al_buf) - al_carry);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		al_relay(al_carry + (size_t)n);
	}
}

int
mst_accesslog_open(const struct cd_conf *conf, const struct cd_place *pl)
{
	if (pipe2(al_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("access log pipe");
		return -1;
	}
	/* best effort: a bigger pipe rides out a slow disk longer */
	(void)fcntl(al_pipe[1], F_SETPIPE_SZ, AL_PIPE_SIZE);
	if (mst_loop_add(al_pipe[0], EPOLLIN, al_on_pipe, NULL) == -1) {
		log_warn("access log pipe");
		close(al_pipe[0]);
		close(al_pipe[1]);
		al_pipe[0] = al_pipe[1] = -1;
		return -1;
	}
	al_files_set(conf, pl);
	return 0;
}

int
mst_accesslog_worker_fd(void)
{
	return al_pipe[1];
}

void
mst_accesslog_reopen(void)
{
	size_t k, i;

	for (k = 0; k < al_nrec; k++)
		for (i = 0; i < al_recs[k].r_nlogs; i++)
			al_file_reopen(&al_recs[k].r_f[i]);
	al_file_reopen(&al_admin);
}

void
mst_accesslog_reload(const struct cd_conf *conf, const struct cd_place *pl)
{
	/* lines already in the pipe belong to the files they were for */
	if (al_pipe[0] != -1)
		al_on_pipe(al_pipe[0], EPOLLIN, NULL);
	al_files_set(conf, pl);
}

void
mst_accesslog_close(void)
{
	size_t k;

	if (al_pipe[0] != -1) {
		al_on_pipe(al_pipe[0], EPOLLIN, NULL);
		mst_loop_del(al_pipe[0]);
		close(al_pipe[0]);
		close(al_pipe[1]);
		al_pipe[0] = al_pipe[1] = -1;
	}
	for (k = 0; k < al_nrec; k++)
		al_record_close(k);
	free(al_recs);
	free(al_bytes);
	free(al_at);
	free(al_touched);
	al_recs = NULL;
	al_bytes = al_at = al_touched = NULL;
	al_nrec = 0;
	al_file_close(&al_admin);
}

bool
mst_accesslog_admin_on(void)
{
	return al_admin.f_fd != -1;
}

/* as_req of an admin request: the record, else its raw head */
struct al_head {
	const struct alog_rec	*h_rec;
	const char		*h_p;
	size_t			 h_len;
};

static bool
al_admin_req(void *arg, const char *name, size_t len, struct alog_str *v)
{
	const struct al_head *h = arg;
	char n[128];
	int k;

	if ((k = alog_rec_req(h->h_rec, name, len, v)) >= 0)
		return k == 1;
	if (h->h_p == NULL || len >= sizeof(n))
		return false;
	memcpy(n, name, len);
	n[len] = '\0';
	return alog_header(h->h_p, h->h_len, n, v);
}

void
mst_accesslog_admin(const struct alog_rec *rec, const char *head,
    size_t hlen)
{
	char line[ALOG_LINE_MAX];
	struct al_head h = { rec, head, hlen };
	struct alog_src src = { rec, al_admin_req, NULL, &h };

	if (al_admin.f_fd == -1)
		return;
	if (al_admin_layout == NULL)
		al_file_write(&al_admin, line, alog_format(line, sizeof(line),
		    rec));
	else
		al_file_write(&al_admin, line, alog_layout_line(line,
		    sizeof(line), al_admin_layout, &src));
}
