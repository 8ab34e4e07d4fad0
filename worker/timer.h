/*
 * Worker timers: one red-black tree per worker process, keyed by
 * (deadline, address), so the next deadline is the tree's minimum and
 * epoll_wait's timeout is computed from it.  Times are monotonic
 * milliseconds; the loop caches "now" once per turn (worker/worker.c).
 *
 * A timer is embedded in the object it serves (connection, request,
 * upstream); the callback recovers the object with container_of-style
 * arithmetic.  No allocation happens here.
 */
#ifndef CANARYD_WORKER_TIMER_H
#define CANARYD_WORKER_TIMER_H

#include <sys/tree.h>

#include <stdbool.h>
#include <stdint.h>

struct wrk_timer;
typedef void wrk_timer_cb(struct wrk_timer *);

struct wrk_timer {
	RB_ENTRY(wrk_timer)	 t_node;
	uint64_t		 t_deadline;	/* monotonic ms */
	wrk_timer_cb		*t_cb;
	bool			 t_armed;
};

/* Prepare t (not armed) with its callback. */
void	 wrk_timer_init(struct wrk_timer *, wrk_timer_cb *);
/* Arm t to fire at deadline (monotonic ms); re-arms if already armed. */
void	 wrk_timer_set(struct wrk_timer *, uint64_t deadline);
/* Disarm t; harmless when not armed. */
void	 wrk_timer_del(struct wrk_timer *);
/* Milliseconds until the first deadline (0 if due), -1 when none. */
int	 wrk_timer_next(uint64_t now);
/*
 * Fire every timer whose deadline is <= now, earliest first.  A timer is
 * disarmed before its callback runs, so the callback may re-arm it (with
 * a deadline > now) or free its owner.  Returns the number fired.
 */
int	 wrk_timer_run(uint64_t now);
/* Number of armed timers (tests, drain accounting). */
uint32_t wrk_timer_count(void);

static inline bool
wrk_timer_is_armed(const struct wrk_timer *t)
{
	return t->t_armed;
}

#endif /* CANARYD_WORKER_TIMER_H */
