/*
 * The master's event loop (see loop.h): epoll for descriptors, an RB tree
 * of one-shot timers ordered by (deadline, sequence).  Callbacks may add or
 * remove descriptors and timers, including their own.
 */
#include <sys/epoll.h>
#include <sys/tree.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "loop.h"

#define LOOP_EVENTS	64

struct mst_watch {
	mst_io_cb	*w_cb;
	void		*w_arg;
	int		 w_used;
};

struct mst_timer {
	RB_ENTRY(mst_timer) t_entry;
	uint64_t	 t_deadline;
	uint64_t	 t_seq;
	mst_timer_cb	*t_cb;
	void		*t_arg;
};

static int
timer_cmp(const struct mst_timer *a, const struct mst_timer *b)
{
	if (a->t_deadline != b->t_deadline)
		return a->t_deadline < b->t_deadline ? -1 : 1;
	if (a->t_seq != b->t_seq)
		return a->t_seq < b->t_seq ? -1 : 1;
	return 0;
}

RB_HEAD(timer_tree, mst_timer);
/* libbsd's RB_GENERATE_STATIC needs a __unused it does not define */
RB_PROTOTYPE_INTERNAL(timer_tree, mst_timer, t_entry, timer_cmp,
    __attribute__((unused)) static)
RB_GENERATE_INTERNAL(timer_tree, mst_timer, t_entry, timer_cmp,
    __attribute__((unused)) static)

static int loop_ep = -1;
static int loop_running;
/* by descriptor, nwatches of them: grown to the highest one watched
 * (the master may hold many listening sockets below those it watches) */
static struct mst_watch *watches;
static size_t nwatches;
static struct timer_tree timers = RB_INITIALIZER(&timers);
static uint64_t timer_seq;

uint64_t
mst_now_ms(void)
{
	return cd_mono_ms();
}

int
mst_loop_init(void)
{
	loop_ep = epoll_create1(EPOLL_CLOEXEC);
	return loop_ep == -1 ? -1 : 0;
}

/* Room for a watch of fd; -1 (errno) when there is none. */
static int
loop_room(int fd)
{
	struct mst_watch *w;
	size_t n;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if ((size_t)fd < nwatches)
		return 0;
	for (n = nwatches > 0 ? nwatches : 256; n <= (size_t)fd; n *= 2)
		;
	if ((w = reallocarray(watches, n, sizeof(*w))) == NULL)
		return -1;
	memset(w + nwatches, 0, (n - nwatches) * sizeof(*w));
	watches = w;
	nwatches = n;
	return 0;
}

static bool
loop_watched(int fd)
{
	return fd >= 0 && (size_t)fd < nwatches && watches[fd].w_used;
}

static int
loop_ctl(int op, int fd, uint32_t events, mst_io_cb *cb, void *arg)
{
	struct epoll_event ev;

	if (loop_room(fd) == -1)
		return -1;
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(loop_ep, op, fd, &ev) == -1)
		return -1;
	watches[fd].w_cb = cb;
	watches[fd].w_arg = arg;
	watches[fd].w_used = 1;
	return 0;
}

int
mst_loop_add(int fd, uint32_t events, mst_io_cb *cb, void *arg)
{
	return loop_ctl(EPOLL_CTL_ADD, fd, events, cb, arg);
}

int
mst_loop_mod(int fd, uint32_t events, mst_io_cb *cb, void *arg)
{
	return loop_ctl(EPOLL_CTL_MOD, fd, events, cb, arg);
}

void
mst_loop_del(int fd)
{
	if (!loop_watched(fd))
		return;
	epoll_ctl(loop_ep, EPOLL_CTL_DEL, fd, NULL);
	watches[fd].w_used = 0;
	watches[fd].w_cb = NULL;
}

struct mst_timer *
mst_timer_add(uint64_t ms, mst_timer_cb *cb, void *arg)
{
	struct mst_timer *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->t_deadline = mst_now_ms() + ms;
	t->t_seq = timer_seq++;
	t->t_cb = cb;
	t->t_arg = arg;
	RB_INSERT(timer_tree, &timers, t);
	return t;
}

void
mst_timer_cancel(struct mst_timer *t)
{
	if (t == NULL)
		return;
	RB_REMOVE(timer_tree, &timers, t);
	free(t);
}

static int
loop_next_timeout(void)
{
	struct mst_timer *t;
	uint64_t now;

	if ((t = RB_MIN(timer_tree, &timers)) == NULL)
		return -1;
	now = mst_now_ms();
	if (t->t_deadline <= now)
		return 0;
	if (t->t_deadline - now > 60000)
		return 60000;
	return (int)(t->t_deadline - now);
}

static void
loop_run_timers(void)
{
	struct mst_timer *t;
	uint64_t now = mst_now_ms();

	while ((t = RB_MIN(timer_tree, &timers)) != NULL &&
	    t->t_deadline <= now) {
		mst_timer_cb *cb = t->t_cb;
		void *arg = t->t_arg;

		RB_REMOVE(timer_tree, &timers, t);
		free(t);
		cb(arg);
	}
}

void
mst_loop_run(void)
{
	struct epoll_event ev[LOOP_EVENTS];
	int i, n;

	loop_running = 1;
	while (loop_running) {
		n = epoll_wait(loop_ep, ev, LOOP_EVENTS, loop_next_timeout());
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			/* an earlier callback of this round may have closed it */
			if (loop_watched(fd))
				watches[fd].w_cb(fd, ev[i].events,
				    watches[fd].w_arg);
		}
		loop_run_timers();
	}
}

void
mst_loop_stop(void)
{
	loop_running = 0;
}
