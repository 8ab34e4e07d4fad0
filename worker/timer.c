/*
 * Worker timers (see timer.h).  Invariant: a timer is in the tree exactly
 * when t_armed is true.  Ties on the deadline are broken by address, so
 * two timers never compare equal and RB_INSERT never refuses one.
 */
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

#include "timer.h"

RB_HEAD(wrk_timer_tree, wrk_timer);

static struct wrk_timer_tree	 timer_tree = RB_INITIALIZER(&timer_tree);
static uint32_t			 timer_n;

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
		RB_REMOVE(wrk_timer_tree, &timer_tree, t);
		timer_n--;
	}
	t->t_deadline = deadline;
	RB_INSERT(wrk_timer_tree, &timer_tree, t);
	t->t_armed = true;
	timer_n++;
}

void
wrk_timer_del(struct wrk_timer *t)
{
	if (!t->t_armed)
		return;
	RB_REMOVE(wrk_timer_tree, &timer_tree, t);
	t->t_armed = false;
	timer_n--;
}

int
wrk_timer_next(uint64_t now)
{
	struct wrk_timer *t;
	uint64_t d;

	if ((t = RB_MIN(wrk_timer_tree, &timer_tree)) == NULL)
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

	while ((t = RB_MIN(wrk_timer_tree, &timer_tree)) != NULL &&
	    t->t_deadline <= now) {
		RB_REMOVE(wrk_timer_tree, &timer_tree, t);
		t->t_armed = false;
		timer_n--;
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
