/*
 * The object event loop (see evl.h).
 *
 * Descriptors: a table indexed by fd, grown on demand, whose entry holds
 * the callback; epoll carries the fd, so an entry removed by an earlier
 * callback of the same round is seen as unused and skipped.  Timers: a
 * list kept sorted by (deadline, insertion order); a coordinator has a
 * handful, so insertion by walking the list is cheaper than a tree.
 */
#include <sys/epoll.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/clock.h"
#include "evl.h"

#define EVL_EVENTS	32
#define EVL_MAX_WAIT_MS	60000

struct evl_fd {
	mst_evl_io_cb	*f_cb;
	void		*f_arg;
};

struct mst_evl_timer {
	TAILQ_ENTRY(mst_evl_timer) t_entry;
	uint64_t	 t_due;		/* monotonic ms */
	mst_evl_timer_cb *t_cb;
	void		*t_arg;
};

TAILQ_HEAD(evl_timers, mst_evl_timer);

struct mst_evl {
	int		 l_ep;
	int		 l_stop;
	struct evl_fd	*l_fds;		/* indexed by fd */
	size_t		 l_nfds;
	struct evl_timers l_timers;	/* soonest first */
};

struct mst_evl *
mst_evl_new(void)
{
	struct mst_evl *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	TAILQ_INIT(&l->l_timers);
	if ((l->l_ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(l);
		return NULL;
	}
	return l;
}

void
mst_evl_free(struct mst_evl *l)
{
	struct mst_evl_timer *t;

	if (l == NULL)
		return;
	while ((t = TAILQ_FIRST(&l->l_timers)) != NULL) {
		TAILQ_REMOVE(&l->l_timers, t, t_entry);
		free(t);
	}
	close(l->l_ep);
	free(l->l_fds);
	free(l);
}

/* The table entry of fd, growing the table to hold it; NULL: ENOMEM. */
static struct evl_fd *
evl_slot(struct mst_evl *l, int fd)
{
	struct evl_fd *n;
	size_t want;

	if ((size_t)fd < l->l_nfds)
		return &l->l_fds[fd];
	want = l->l_nfds > 0 ? l->l_nfds : 64;
	while (want <= (size_t)fd)
		want *= 2;
	if ((n = reallocarray(l->l_fds, want, sizeof(*n))) == NULL)
		return NULL;
	memset(n + l->l_nfds, 0, (want - l->l_nfds) * sizeof(*n));
	l->l_fds = n;
	l->l_nfds = want;
	return &l->l_fds[fd];
}

static int
evl_ctl(struct mst_evl *l, int op, int fd, uint32_t events,
    mst_evl_io_cb *cb, void *arg)
{
	struct epoll_event ev;
	struct evl_fd *f;

	if (fd < 0 || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((f = evl_slot(l, fd)) == NULL)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(l->l_ep, op, fd, &ev) == -1)
		return -1;
	f->f_cb = cb;
	f->f_arg = arg;
	return 0;
}

int
mst_evl_add(struct mst_evl *l, int fd, uint32_t events, mst_evl_io_cb *cb,
    void *arg)
{
	return evl_ctl(l, EPOLL_CTL_ADD, fd, events, cb, arg);
}

int
mst_evl_mod(struct mst_evl *l, int fd, uint32_t events, mst_evl_io_cb *cb,
    void *arg)
{
	return evl_ctl(l, EPOLL_CTL_MOD, fd, events, cb, arg);
}

void
mst_evl_del(struct mst_evl *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->l_nfds || l->l_fds[fd].f_cb == NULL)
		return;
	(void)epoll_ctl(l->l_ep, EPOLL_CTL_DEL, fd, NULL);
	l->l_fds[fd].f_cb = NULL;
	l->l_fds[fd].f_arg = NULL;
}

struct mst_evl_timer *
mst_evl_timer_add(struct mst_evl *l, uint64_t ms, mst_evl_timer_cb *cb,
    void *arg)
{
	struct mst_evl_timer *t, *at;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->t_due = cd_mono_ms() + ms;
	t->t_cb = cb;
	t->t_arg = arg;
	/* after every timer due no later: equal deadlines fire in order */
	TAILQ_FOREACH_REVERSE(at, &l->l_timers, evl_timers, t_entry)
		if (at->t_due <= t->t_due)
			break;
	if (at == NULL)
		TAILQ_INSERT_HEAD(&l->l_timers, t, t_entry);
	else
		TAILQ_INSERT_AFTER(&l->l_timers, at, t, t_entry);
	return t;
}

void
mst_evl_timer_cancel(struct mst_evl *l, struct mst_evl_timer *t)
{
	if (t == NULL)
		return;
	TAILQ_REMOVE(&l->l_timers, t, t_entry);
	free(t);
}

/* Milliseconds until the first timer, capped by max_ms (-1: no cap). */
static int
evl_wait_ms(const struct mst_evl *l, int max_ms)
{
	const struct mst_evl_timer *t = TAILQ_FIRST(&l->l_timers);
	uint64_t now, wait;

	if (t == NULL)
		return max_ms >= 0 ? max_ms : EVL_MAX_WAIT_MS;
	now = cd_mono_ms();
	wait = t->t_due > now ? t->t_due - now : 0;
	if (wait > EVL_MAX_WAIT_MS)
		wait = EVL_MAX_WAIT_MS;
	if (max_ms >= 0 && wait > (uint64_t)max_ms)
		wait = (uint64_t)max_ms;
	return (int)wait;
}

int
mst_evl_run_once(struct mst_evl *l, int max_ms)
{
	struct epoll_event ev[EVL_EVENTS];
	struct mst_evl_timer *t;
	mst_evl_timer_cb *cb;
	struct evl_fd *f;
	uint64_t now;
	void *arg;
	int i, n, fd;

	n = epoll_wait(l->l_ep, ev, EVL_EVENTS, evl_wait_ms(l, max_ms));
	if (n == -1 && errno != EINTR)
		return -1;
	for (i = 0; i < n; i++) {
		fd = ev[i].data.fd;
		if ((size_t)fd >= l->l_nfds)
			continue;
		f = &l->l_fds[fd];
		if (f->f_cb != NULL)
			f->f_cb(fd, ev[i].events, f->f_arg);
	}
	/* timers added by these callbacks with 0 ms run in this round */
	now = cd_mono_ms();
	while ((t = TAILQ_FIRST(&l->l_timers)) != NULL && t->t_due <= now) {
		TAILQ_REMOVE(&l->l_timers, t, t_entry);
		cb = t->t_cb;
		arg = t->t_arg;
		free(t);
		cb(arg);
	}
	return 0;
}

int
mst_evl_run(struct mst_evl *l)
{
	l->l_stop = 0;
	while (!l->l_stop)
		if (mst_evl_run_once(l, -1) == -1)
			return -1;
	return 0;
}

void
mst_evl_stop(struct mst_evl *l)
{
	l->l_stop = 1;
}

/* ---- the loop as evl-t.h's calls --------------------------------------- */

static int
evl_op_add(void *ctx, int fd, uint32_t events, mst_evl_io_cb *cb, void *arg)
{
	return mst_evl_add(ctx, fd, events, cb, arg);
}

static int
evl_op_mod(void *ctx, int fd, uint32_t events, mst_evl_io_cb *cb, void *arg)
{
	return mst_evl_mod(ctx, fd, events, cb, arg);
}

static void
evl_op_del(void *ctx, int fd)
{
	mst_evl_del(ctx, fd);
}

static void *
evl_op_timer_add(void *ctx, uint64_t ms, mst_evl_timer_cb *cb, void *arg)
{
	return mst_evl_timer_add(ctx, ms, cb, arg);
}

static void
evl_op_timer_cancel(void *ctx, void *t)
{
	mst_evl_timer_cancel(ctx, t);
}

void
mst_evl_ops(struct mst_evl *l, struct mst_evl_ops *out)
{
	out->eo_ctx = l;
	out->eo_add = evl_op_add;
	out->eo_mod = evl_op_mod;
	out->eo_del = evl_op_del;
	out->eo_timer_add = evl_op_timer_add;
	out->eo_timer_cancel = evl_op_timer_cancel;
}
