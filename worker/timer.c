/*
 * Worker timers (see timer.h).  Invariant: a timer is in the tree exactly
 * when t_armed is true, and timer_min is the tree's first one (NULL when
 * it is empty), so the loop's two looks a turn walk no tree.  Ties on the
 * deadline are broken by address, so two timers never compare equal and
 * RB_INSERT never refuses one.
 */
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

#include "timer.h"

RB_HEAD(wrk_timer_tree, wrk_timer);

static struct wrk_timer_tree	 timer_tree = RB_INITIALIZER(&timer_tree);
static uint32_t			 timer_n;
static struct wrk_timer		*timer_min;

static int
timer_cmp(const struct wrk_timer *a, const struct wrk_timer *b)
{
	if (a->t_deadline != b->t_deadline)
		return a->t_deadline < b->t_deadline ? -1 : 1;
	if (a == b)
		return 0;
	return (uintptr_t)a < (uintptr_t)b ? -1 : 1;
}

/* libbsd leaves __unused undefined, so spell the static attribute out. */
RB_GENERATE_INTERNAL(wrk_timer_tree, wrk_timer, t_node, timer_cmp,
    __attribute__((unused)) static)

static void
timer_insert(struct wrk_timer *t)
{
	RB_INSERT(wrk_timer_tree, &timer_tree, t);
	if (timer_min == NULL || timer_cmp(t, timer_min) < 0)
		timer_min = t;
	t->t_armed = true;
	timer_n++;
}

static void
timer_remove(struct wrk_timer *t)
{
	if (t == timer_min)
		timer_min = RB_NEXT(wrk_timer_tree, &timer_tree, t);
	RB_REMOVE(wrk_timer_tree, &timer_tree, t);
	t->t_armed = false;
	timer_n--;
}

void
wrk_timer_init(struct wrk_timer *t, wrk_timer_cb *cb)
{
	t->t_deadline = 0;
	t->t_cb = cb;
	t->t_armed = false;
}

void
wrk_timer_set(struct wrk_timer *t, uint64_t deadline)
{
	if (t->t_armed) {
		if (t->t_deadline == deadline)
			return;
		timer_remove(t);
	}
	t->t_deadline = deadline;
	timer_insert(t);
}

void
wrk_timer_del(struct wrk_timer *t)
{
	if (t->t_armed)
		timer_remove(t);
}

int
wrk_timer_next(uint64_t now)
{
	struct wrk_timer *t;
	uint64_t d;

	if ((t = timer_min) == NULL)
		return -1;
	if (t->t_deadline <= now)
		return 0;
	d = t->t_deadline - now;
	return d > 24 * 3600 * 1000 ? 24 * 3600 * 1000 : (int)d;
}

int
wrk_timer_run(uint64_t now)
{
	struct wrk_timer *t;
	int n = 0;

	while ((t = timer_min) != NULL && t->t_deadline <= now) {
		timer_remove(t);
		n++;
		t->t_cb(t);
	}
	return n;
}

uint32_t
wrk_timer_count(void)
{
	return timer_n;
}
