/*
 * Unit tests for the object event loop (master/evl.c): timers fire once,
 * in deadline order (equal deadlines in the order they were added), a
 * cancelled one never; a callback may add a 0 ms timer that runs in the
 * same round; a descriptor removed by an earlier callback of a round gets
 * no callback.  A pipe stands in for a socket.
 */
#include <sys/epoll.h>

#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "master/evl.h"
#include "test/unit/unit.h"

static char evl_order[16];
static int evl_n;
static struct mst_evl *evl_l;

static void
evl_mark(void *arg)
{
	if (evl_n < (int)sizeof(evl_order) - 1)
		evl_order[evl_n++] = *(const char *)arg;
}

static void
evl_mark_and_chain(void *arg)
{
	static const char z = 'z';

	evl_mark(arg);
	mst_evl_timer_add(evl_l, 0, evl_mark, (void *)&z);
}

static void
timers_fire_once_in_deadline_order(void)
{
	static const char a = 'a', b = 'b', c = 'c', d = 'd';
	struct mst_evl_timer *t;
	int i;

	evl_n = 0;
	memset(evl_order, 0, sizeof(evl_order));
	CU_ASSERT_PTR_NOT_NULL_FATAL(evl_l = mst_evl_new());
	mst_evl_timer_add(evl_l, 20, evl_mark, (void *)&c);
	mst_evl_timer_add(evl_l, 0, evl_mark_and_chain, (void *)&a);
	mst_evl_timer_add(evl_l, 0, evl_mark, (void *)&b);
	t = mst_evl_timer_add(evl_l, 5, evl_mark, (void *)&d);
	mst_evl_timer_cancel(evl_l, t);
	for (i = 0; i < 50 && evl_n < 4; i++)
		CU_ASSERT_EQUAL(mst_evl_run_once(evl_l, 10), 0);
	CU_ASSERT_STRING_EQUAL(evl_order, "abzc");
	mst_evl_free(evl_l);
}

static int evl_fds[2][2];
static int evl_calls[2];

static void
evl_on_read(int fd, uint32_t events, void *arg)
{
	int k = *(int *)arg;
	char ch;

	CU_ASSERT(events & EPOLLIN);
	CU_ASSERT_EQUAL(read(fd, &ch, 1), 1);
	evl_calls[k]++;
	/* whoever runs first removes the other for good */
	mst_evl_del(evl_l, evl_fds[1 - k][0]);
}

static void
a_descriptor_removed_in_a_round_gets_no_callback(void)
{
	static int k0 = 0, k1 = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(evl_l = mst_evl_new());
	CU_ASSERT_EQUAL_FATAL(pipe(evl_fds[0]), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(evl_fds[1]), 0);
	CU_ASSERT_EQUAL(mst_evl_add(evl_l, evl_fds[0][0], EPOLLIN, evl_on_read,
	    &k0), 0);
	CU_ASSERT_EQUAL(mst_evl_add(evl_l, evl_fds[1][0], EPOLLIN, evl_on_read,
	    &k1), 0);
	CU_ASSERT_EQUAL(write(evl_fds[0][1], "x", 1), 1);
	CU_ASSERT_EQUAL(write(evl_fds[1][1], "y", 1), 1);
	CU_ASSERT_EQUAL(mst_evl_run_once(evl_l, 100), 0);
	CU_ASSERT_EQUAL(evl_calls[0] + evl_calls[1], 1);
	/* and a second add of the same fd fails, a mod works */
	CU_ASSERT_EQUAL(mst_evl_add(evl_l, evl_fds[0][0], EPOLLIN, evl_on_read,
	    &k0), evl_calls[0] == 1 ? -1 : 0);
	close(evl_fds[0][0]);
	close(evl_fds[0][1]);
	close(evl_fds[1][0]);
	close(evl_fds[1][1]);
	mst_evl_free(evl_l);
}

static CU_TestInfo tests[] = {
	{ "timers_fire_once_in_deadline_order",
	    timers_fire_once_in_deadline_order },
	{ "a_descriptor_removed_in_a_round_gets_no_callback",
	    a_descriptor_removed_in_a_round_gets_no_callback },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/evl", tests);
