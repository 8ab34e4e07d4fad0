/*
 * The worker's socket I/O queue (worker/ioq.c): queued writes and reads
 * are made in the flush and not before, in order, with write(2)'s and
 * read(2)'s results; a full socket (for a write) or an empty one (for a
 * read) answers -EAGAIN at once; a cancelled operation is not made;
 * completions may queue again for a few rounds, the last round making its
 * own calls.
 * Where the kernel gives no io_uring the queue must take nothing.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "test/unit/unit.h"
#include "worker/ioq.h"

struct done {
	int	 d_calls;
	int	 d_res;
};

static void
record(void *arg, int res)
{
	struct done *d = arg;

	d->d_calls++;
	d->d_res = res;
}

static bool
ring(void)
{
	static int have = -1;

	if (have == -1)
		have = wrk_ioq_init();
	return have;
}

static void
pair(int sv[2])
{
	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_FATAL(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	CU_ASSERT_FATAL(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
}

static ssize_t
peek(int fd, char *b, size_t len)
{
	return recv(fd, b, len, MSG_DONTWAIT);
}

static void
writes_are_made_in_the_flush(void)
{
	struct iovec one = { "GET / HTTP/1.1\r\n", 16 };
	struct iovec three[3] = { { "ab", 2 }, { "", 0 }, { "cde", 3 } };
	struct done d1 = { 0, 0 }, d2 = { 0, 0 };
	char b[64];
	int a[2], c[2];

	pair(a);
	pair(c);
	if (!ring()) {
		wrk_ioq_set_open(true);
		CU_ASSERT_EQUAL(wrk_ioq_put(a[0], &one, 1, record, &d1), 0);
		goto out;
	}
	wrk_ioq_set_open(true);
	CU_ASSERT_EQUAL(wrk_ioq_put(a[0], &one, 1, record, &d1), 1);
	CU_ASSERT_EQUAL(wrk_ioq_put(c[0], three, 3, record, &d2), 2);
	/* nothing is written before the flush */
	CU_ASSERT_EQUAL(peek(a[1], b, sizeof(b)), -1);
	CU_ASSERT_EQUAL(d1.d_calls + d2.d_calls, 0);
	wrk_ioq_flush();
	CU_ASSERT_EQUAL(d1.d_calls, 1);
	CU_ASSERT_EQUAL(d1.d_res, 16);
	CU_ASSERT_EQUAL(d2.d_calls, 1);
	CU_ASSERT_EQUAL(d2.d_res, 5);
	CU_ASSERT_EQUAL(peek(a[1], b, sizeof(b)), 16);
	CU_ASSERT_EQUAL(memcmp(b, "GET / HTTP/1.1\r\n", 16), 0);
	CU_ASSERT_EQUAL(peek(c[1], b, sizeof(b)), 5);
	CU_ASSERT_EQUAL(memcmp(b, "abcde", 5), 0);
out:
	wrk_ioq_set_open(false);
	close(a[0]), close(a[1]), close(c[0]), close(c[1]);
}

static void
reads_are_made_in_the_flush(void)
{
	struct done d1 = { 0, 0 }, d2 = { 0, 0 }, d3 = { 0, 0 };
	char b1[8], b2[8], b3[8];
	int a[2], c[2], e[2];

	pair(a);
	pair(c);
	pair(e);
	if (ring()) {
		CU_ASSERT_EQUAL(write(a[1], "hello", 5), 5);
		close(e[1]);
		wrk_ioq_set_open(true);
		CU_ASSERT(wrk_ioq_get(a[0], b1, sizeof(b1), record, &d1) > 0);
		CU_ASSERT(wrk_ioq_get(c[0], b2, sizeof(b2), record, &d2) > 0);
		CU_ASSERT(wrk_ioq_get(e[0], b3, sizeof(b3), record, &d3) > 0);
		/* written after the queueing, before the flush: read */
		CU_ASSERT_EQUAL(write(a[1], "!", 1), 1);
		wrk_ioq_flush();
		CU_ASSERT_EQUAL(d1.d_calls, 1);
		CU_ASSERT_EQUAL(d1.d_res, 6);
		CU_ASSERT_EQUAL(memcmp(b1, "hello!", 6), 0);
		/* nothing there: -EAGAIN at once, not a wait */
		CU_ASSERT_EQUAL(d2.d_calls, 1);
		CU_ASSERT_EQUAL(d2.d_res, -EAGAIN);
		/* the peer closed: 0, the end of the stream */
		CU_ASSERT_EQUAL(d3.d_calls, 1);
		CU_ASSERT_EQUAL(d3.d_res, 0);
		wrk_ioq_set_open(false);
	} else
		close(e[1]);
	close(a[0]), close(a[1]), close(c[0]), close(c[1]), close(e[0]);
}

static void
a_full_socket_answers_eagain_at_once(void)
{
	static char big[1 << 16];
	struct iovec iov = { big, sizeof(big) };
	struct done d = { 0, 0 };
	int sv[2];

	pair(sv);
	while (write(sv[0], big, sizeof(big)) > 0)
		;
	CU_ASSERT_EQUAL(errno, EAGAIN);
	wrk_ioq_set_open(true);
	if (ring()) {
		CU_ASSERT(wrk_ioq_put(sv[0], &iov, 1, record, &d) > 0);
		wrk_ioq_flush();
		CU_ASSERT_EQUAL(d.d_calls, 1);
		CU_ASSERT_EQUAL(d.d_res, -EAGAIN);
	}
	wrk_ioq_set_open(false);
	close(sv[0]), close(sv[1]);
}

static void
a_closed_peer_answers_epipe_without_a_signal(void)
{
	struct iovec iov = { "x", 1 };
	struct done d = { 0, 0 };
	int sv[2];

	pair(sv);
	close(sv[1]);
	wrk_ioq_set_open(true);
	if (ring()) {
		CU_ASSERT(wrk_ioq_put(sv[0], &iov, 1, record, &d) > 0);
		wrk_ioq_flush();	/* SIGPIPE would end the test run */
		CU_ASSERT_EQUAL(d.d_calls, 1);
		CU_ASSERT_EQUAL(d.d_res, -EPIPE);
	}
	wrk_ioq_set_open(false);
	close(sv[0]);
}

static void
a_cancelled_write_is_not_made(void)
{
	struct iovec iov = { "late", 4 };
	struct done d1 = { 0, 0 }, d2 = { 0, 0 };
	char b[8];
	uint16_t t1, t2;
	int sv[2];

	pair(sv);
	wrk_ioq_set_open(true);
	if (ring()) {
		t1 = wrk_ioq_put(sv[0], &iov, 1, record, &d1);
		t2 = wrk_ioq_put(sv[0], &iov, 1, record, &d2);
		CU_ASSERT(t1 > 0 && t2 > 0);
		wrk_ioq_cancel(t1, &d1);
		wrk_ioq_cancel(t2, &d1);	/* not its write: kept */
		wrk_ioq_flush();
		CU_ASSERT_EQUAL(d1.d_calls, 0);
		CU_ASSERT_EQUAL(d2.d_calls, 1);
		CU_ASSERT_EQUAL(peek(sv[1], b, sizeof(b)), 4);
		/* after its round, a ticket names nothing */
		wrk_ioq_cancel(t2, &d2);
	}
	wrk_ioq_set_open(false);
	close(sv[0]), close(sv[1]);
}

struct again {
	int	 ag_fd;
	int	 ag_calls;
	int	 ag_queued;	/* completions that queued again */
	int	 ag_bytes;
};

static void
queue_again(void *arg, int res)
{
	static struct iovec iov = { "z", 1 };
	struct again *ag = arg;

	ag->ag_calls++;
	ag->ag_bytes += res > 0 ? res : 0;
	if (ag->ag_calls > 10)
		return;
	if (wrk_ioq_put(ag->ag_fd, &iov, 1, queue_again, ag) > 0)
		ag->ag_queued++;
}

static void
completions_queue_again_for_a_few_rounds(void)
{
	static struct iovec iov = { "z", 1 };
	struct again ag = { 0, 0, 0, 0 };
	char b[64];
	int sv[2];

	pair(sv);
	ag.ag_fd = sv[0];
	wrk_ioq_set_open(true);
	if (ring()) {
		CU_ASSERT(wrk_ioq_put(sv[0], &iov, 1, queue_again, &ag) > 0);
		wrk_ioq_flush();
		/* four rounds: three completions queue again, the fourth's
		 * finds the queue closed (it would write for itself) */
		CU_ASSERT_EQUAL(ag.ag_calls, 4);
		CU_ASSERT_EQUAL(ag.ag_queued, 3);
		CU_ASSERT_EQUAL(ag.ag_bytes, 4);
		CU_ASSERT_EQUAL(peek(sv[1], b, sizeof(b)), 4);
		/* and the queue is open again for the next turn */
		CU_ASSERT(wrk_ioq_open());
	}
	wrk_ioq_set_open(false);
	CU_ASSERT(!wrk_ioq_open());
	close(sv[0]), close(sv[1]);
}

static void
a_full_queue_takes_nothing_more(void)
{
	struct iovec iov = { "q", 1 };
	struct done d = { 0, 0 };
	char b[512];
	int sv[2], n;

	pair(sv);
	if (ring()) {
		wrk_ioq_set_open(true);
		for (n = 0; n < 1000; n++)
			if (wrk_ioq_put(sv[0], &iov, 1, record, &d) == 0)
				break;
		/* a round holds 256; the caller then writes for itself */
		CU_ASSERT_EQUAL(n, 256);
		wrk_ioq_flush();
		CU_ASSERT_EQUAL(d.d_calls, 256);
		CU_ASSERT_EQUAL(peek(sv[1], b, sizeof(b)), 256);
		/* and the next round has room again */
		CU_ASSERT(wrk_ioq_put(sv[0], &iov, 1, record, &d) > 0);
		wrk_ioq_flush();
		CU_ASSERT_EQUAL(d.d_calls, 257);
		wrk_ioq_set_open(false);
	}
	close(sv[0]), close(sv[1]);
}

static void
a_closed_queue_takes_nothing(void)
{
	struct iovec iov = { "x", 1 };
	struct done d = { 0, 0 };
	int sv[2];

	pair(sv);
	(void)ring();
	wrk_ioq_set_open(false);
	CU_ASSERT_EQUAL(wrk_ioq_put(sv[0], &iov, 1, record, &d), 0);
	wrk_ioq_flush();
	CU_ASSERT_EQUAL(d.d_calls, 0);
	close(sv[0]), close(sv[1]);
}

static void
the_environment_turns_it_off(void)
{
	struct iovec iov = { "x", 1 };
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		/* a fresh process: the parent's ring is not this one's */
		setenv("CANARYD_IO_URING", "0", 1);
		if (wrk_ioq_init())
			_exit(1);
		wrk_ioq_set_open(true);
		_exit(wrk_ioq_put(0, &iov, 1, record, NULL) == 0 &&
		    !wrk_ioq_open() ? 0 : 2);
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static CU_TestInfo tests[] = {
	{ "writes_are_made_in_the_flush", writes_are_made_in_the_flush },
	{ "reads_are_made_in_the_flush", reads_are_made_in_the_flush },
	{ "a_full_socket_answers_eagain_at_once",
	    a_full_socket_answers_eagain_at_once },
	{ "a_closed_peer_answers_epipe_without_a_signal",
	    a_closed_peer_answers_epipe_without_a_signal },
	{ "a_cancelled_write_is_not_made", a_cancelled_write_is_not_made },
	{ "completions_queue_again_for_a_few_rounds",
	    completions_queue_again_for_a_few_rounds },
	{ "a_full_queue_takes_nothing_more", a_full_queue_takes_nothing_more },
	{ "a_closed_queue_takes_nothing", a_closed_queue_takes_nothing },
	{ "the_environment_turns_it_off", the_environment_turns_it_off },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("worker/ioq", tests);
