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
#define AL_PATH_MAX		PATH_MAX

struct al_file {
	char	 f_path[AL_PATH_MAX];
	int	 f_fd;		/* -1: could not be opened */
};

/*
 * Every listener's loggers: listener record k's logs are
 * al_files[AL_FILE(k, 0), AL_FILE(k, al_nlogs[k])).  al_gone[k]: the
 * running configuration no longer has the listener, its files stay open
 * for the lines of the generation that drains it, until the next reload.
 */
#define AL_MAX_FILES	(CD_MAX_LISTENERS * CD_MAX_ACCESS_LOGS)
#define AL_FILE(k, i)	((size_t)(k) * CD_MAX_ACCESS_LOGS + (i))
static struct al_file	 al_files[AL_MAX_FILES];
static size_t		 al_nlogs[CD_MAX_LISTENERS];
static bool		 al_gone[CD_MAX_LISTENERS];
static struct al_file	 al_admin = { "", -1 };
static const struct alog_layout *al_admin_layout;	/* NULL: default */
static int		 al_pipe[2] = { -1, -1 };
static char		 al_buf[64 * 1024];
static size_t		 al_carry;	/* bytes of an unfinished line */
/* what one relay writes to each file, sorted out of al_buf (allocated
 * with the file) */
static char		*al_out[AL_MAX_FILES];
static size_t		 al_outlen[AL_MAX_FILES];

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
	strlcpy(f->f_path, path, sizeof(f->f_path));
	if ((f->f_fd = al_open_path(path)) == -1)
		log_warn("access log %s", path);
}

static void
al_file_close(struct al_file *f)
{
	if (f->f_fd != -1)
		close(f->f_fd);
	f->f_fd = -1;
	f->f_path[0] = '\0';
}

/* Reopen by path; on failure keep writing where we did. */
static void
al_file_reopen(struct al_file *f)
{
	int fd;

	if (f->f_path[0] == '\0')
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
al_record_close(int k)
{
	size_t i;

	for (i = 0; i < al_nlogs[k]; i++) {
		al_file_close(&al_files[AL_FILE(k, i)]);
		free(al_out[AL_FILE(k, i)]);
		al_out[AL_FILE(k, i)] = NULL;
	}
	al_nlogs[k] = 0;
	al_gone[k] = false;
}

/* Open listener l's files for record k. */
static void
al_record_open(int k, const struct cd_listener *l)
{
	size_t i;

	for (i = 0; i < l->l_naccess_logs; i++) {
		if ((al_out[AL_FILE(k, i)] = malloc(sizeof(al_buf))) == NULL) {
			log_warn("access log %s", l->l_access_logs[i].al_path);
			break;
		}
		al_file_open(&al_files[AL_FILE(k, i)],
		    l->l_access_logs[i].al_path);
		al_nlogs[k]++;
	}
}

static void
al_files_set(const struct cd_conf *conf, const struct cd_place *pl)
{
	bool used[CD_MAX_LISTENERS];
	size_t j;
	int k;

	memset(used, 0, sizeof(used));
	for (j = 0; j < conf->c_nlisteners; j++)
		used[pl->pl_listener[j]] = true;
	for (k = 0; k < CD_MAX_LISTENERS; k++) {
		if (used[k] || al_gone[k])
			al_record_close(k);
		else if (al_nlogs[k] > 0)
			al_gone[k] = true;	/* its workers still drain */
	}
	for (j = 0; j < conf->c_nlisteners; j++)
		al_record_open(pl->pl_listener[j], &conf->c_listeners[j]);
	al_file_close(&al_admin);
	al_admin_layout = conf->c_admin.a_log.al_layout;
	if (conf->c_admin.a_log.al_path != NULL)
		al_file_open(&al_admin, conf->c_admin.a_log.al_path);
}

/* The file a line with tag t goes to, or -1: every file (an untagged
 * line), or -2: none (a logger the listener does not have). */
static int
al_tag_file(unsigned char t)
{
	unsigned int v = (unsigned int)t - ALOG_TAG_BASE, k, i;

	if (t < ALOG_TAG_BASE || v >= CD_MAX_LISTENERS * ALOG_TAG_LOGS)
		return -1;
	k = v / ALOG_TAG_LOGS;
	i = v % ALOG_TAG_LOGS;
	return i < al_nlogs[k] ? (int)AL_FILE(k, i) : -2;
}

/*
 * Write the whole lines of al_buf[0, len) out, keep the tail.  Each line
 * starts with its tag (ALOG_TAG(), shared/alog.h: the listener and which
 * of its files), which is not written; the lines of each file are
 * gathered and written at once.
 */
static void
al_relay(size_t len)
{
	const char *nl, *p, *e;
	size_t end, i, n;
	int f;

	if ((nl = memrchr(al_buf, '\n', len)) == NULL) {
		if (len < sizeof(al_buf)) {
			al_carry = len;
			return;
		}
		end = len;	/* no line is this long: never happens */
	} else
		end = (size_t)(nl - al_buf) + 1;
	for (p = al_buf, e = al_buf + end; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e - 1;
		if ((f = al_tag_file((unsigned char)*p)) != -1)
			p++;
		n = (size_t)(nl + 1 - p);
		for (i = 0; i < AL_MAX_FILES; i++) {
			if (al_out[i] == NULL || (f != -1 && (size_t)f != i))
				continue;
			memcpy(al_out[i] + al_outlen[i], p, n);
			al_outlen[i] += n;
		}
	}
	for (i = 0; i < AL_MAX_FILES; i++) {
		if (al_outlen[i] > 0)
			al_file_write(&al_files[i], al_out[i], al_outlen[i]);
		al_outlen[i] = 0;
	}
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
	size_t i;

	for (i = 0; i < AL_MAX_FILES; i++)
		if (al_out[i] != NULL)
			al_file_reopen(&al_files[i]);
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
	int k;

	if (al_pipe[0] != -1) {
		al_on_pipe(al_pipe[0], EPOLLIN, NULL);
		mst_loop_del(al_pipe[0]);
		close(al_pipe[0]);
		close(al_pipe[1]);
		al_pipe[0] = al_pipe[1] = -1;
	}
	for (k = 0; k < CD_MAX_LISTENERS; k++)
		al_record_close(k);
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
