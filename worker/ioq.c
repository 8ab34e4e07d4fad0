/*
 * The worker's socket I/O queue over io_uring (see ioq.h), with the raw
 * system calls: the ring is three shared mappings and two indexes, not
 * worth a library.
 *
 * Invariants: a round's operations sit in SQEs 0..iq_n-1, in the order
 * they were queued, and go to the kernel together in wrk_ioq_flush(),
 * which reaps every completion before it runs any callback; a ticket is
 * its SQE's index plus one, valid until its round is flushed.  A
 * cancelled operation's SQE becomes a no-op whose completion is ignored.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/io_uring.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "ioq.h"

#define IOQ_ENTRIES	256	/* operations per round */
#define IOQ_ROUNDS	4	/* rounds per flush */

#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL		(1U << 7)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif

struct ioq_slot {
	wrk_ioq_cb		*qs_cb;
	void			*qs_arg;
	struct msghdr		 qs_msg;
	struct iovec		 qs_iov[WRK_IOQ_IOV];
};

static struct {
	int			 iq_fd;		/* the ring, or -1 */
	bool			 iq_open;
	unsigned		 iq_n;		/* queued this round */
	_Atomic unsigned	*iq_sq_tail;
	unsigned		*iq_sq_mask;
	unsigned		*iq_sq_array;
	_Atomic unsigned	*iq_cq_head;
	_Atomic unsigned	*iq_cq_tail;
	unsigned		*iq_cq_mask;
	struct io_uring_sqe	*iq_sqes;
	struct io_uring_cqe	*iq_cqes;
	struct ioq_slot		 iq_slot[IOQ_ENTRIES];
} iq = { .iq_fd = -1 };

static int	 ioq_round(unsigned, int *, bool);

static int
ioq_enter(unsigned submit, unsigned wait)
{
	return (int)syscall(SYS_io_uring_enter, iq.iq_fd, submit, wait,
	    wait > 0 ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
}

static int
ioq_setup(struct io_uring_params *p)
{
	static const unsigned tries[] = {
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
		    IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SUBMIT_ALL,
	};
	size_t i;
	int fd = -1;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]) && fd == -1; i++) {
		memset(p, 0, sizeof(*p));
		p->flags = tries[i];
		fd = (int)syscall(SYS_io_uring_setup, IOQ_ENTRIES, p);
		if (fd == -1 && errno != EINVAL)
			break;
	}
	return fd;
}

/*
 * The queue's premise, tried on a socket pair: a read of an empty socket
 * and a write to a full one answer -EAGAIN in the submitting call.  A
 * kernel that would wait for readiness instead (as io_uring does for a
 * socket without MSG_DONTWAIT) would stall the loop on its first idle
 * connection.  True if it holds; the ring is left empty either way.
 */
static bool
ioq_probe(void)
{
	static char fill[4096];
	struct iovec iov = { fill, sizeof(fill) };
	char b;
	int sv[2], res[2], i, ok;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1)
		return false;
	for (i = 0; i < 4096 && write(sv[0], fill, sizeof(fill)) > 0; i++)
		;
	iq.iq_open = true;
	ok = wrk_ioq_get(sv[0], &b, 1, NULL, NULL) != 0 &&
	    wrk_ioq_put(sv[0], &iov, 1, NULL, NULL) != 0;
	iq.iq_open = false;
	if (ok)
		ok = ioq_round(2, res, false) == 0 && res[0] == -EAGAIN &&
		    res[1] == -EAGAIN;
	iq.iq_n = 0;
	close(sv[0]);
	close(sv[1]);		/* what waits ends now: EOF, EPIPE */
	return ok;
}

bool
wrk_ioq_init(void)
{
	struct io_uring_params p;
	const char *env = getenv("CANARYD_IO_URING");
	size_t sq_len, cq_len;
	char *sq, *cq;
	void *sqes;

	iq.iq_fd = -1;		/* a fork's copy of a parent's is not ours */
	iq.iq_open = false;
	iq.iq_n = 0;
	if (env != NULL && strcmp(env, "0") == 0) {
		log_info("socket I/O: read(2), write(2) (CANARYD_IO_URING=0)");
		return false;
	}
	if ((iq.iq_fd = ioq_setup(&p)) == -1) {
		log_info("socket I/O: read(2), write(2) (io_uring: %s)",
		    strerror(errno));
		return false;
	}
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if ((p.features & IORING_FEAT_SINGLE_MMAP) && cq_len > sq_len)
		sq_len = cq_len;
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, iq.iq_fd, IORING_OFF_SQ_RING);
	cq = sq;
	if (sq != MAP_FAILED && !(p.features & IORING_FEAT_SINGLE_MMAP))
		cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, iq.iq_fd, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, iq.iq_fd,
	    IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED ||
	    p.sq_entries < IOQ_ENTRIES) {
		/* mappings made stay: a worker sets up once */
		log_warn("socket I/O: read(2), write(2) (io_uring mmap)");
		close(iq.iq_fd);
		iq.iq_fd = -1;
		return false;
	}
	iq.iq_sq_tail = (_Atomic unsigned *)(void *)(sq + p.sq_off.tail);
	iq.iq_sq_mask = (unsigned *)(void *)(sq + p.sq_off.ring_mask);
	iq.iq_sq_array = (unsigned *)(void *)(sq + p.sq_off.array);
	iq.iq_cq_head = (_Atomic unsigned *)(void *)(cq + p.cq_off.head);
	iq.iq_cq_tail = (_Atomic unsigned *)(void *)(cq + p.cq_off.tail);
	iq.iq_cq_mask = (unsigned *)(void *)(cq + p.cq_off.ring_mask);
	iq.iq_cqes = (struct io_uring_cqe *)(void *)(cq + p.cq_off.cqes);
	iq.iq_sqes = sqes;
	if (!ioq_probe()) {
		log_info("socket I/O: read(2), write(2) (io_uring waits on "
		    "an empty socket here)");
		close(iq.iq_fd);
		iq.iq_fd = -1;
		return false;
	}
	log_info("socket I/O: io_uring");
	return true;
}

void
wrk_ioq_set_open(bool open)
{
	iq.iq_open = open && iq.iq_fd != -1;
}

bool
wrk_ioq_open(void)
{
	return iq.iq_open;
}

/* The next SQE of the round, its slot filled; NULL when none. */
static struct io_uring_sqe *
ioq_next(int fd, wrk_ioq_cb *cb, void *arg)
{
	struct io_uring_sqe *e;
	struct ioq_slot *s;

	if (!iq.iq_open || iq.iq_n == IOQ_ENTRIES)
		return NULL;
	s = &iq.iq_slot[iq.iq_n];
	e = &iq.iq_sqes[iq.iq_n];
	s->qs_cb = cb;
	s->qs_arg = arg;
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->msg_flags = MSG_DONTWAIT;
	e->user_data = iq.iq_n + 1;
	return e;
}

uint16_t
wrk_ioq_put(int fd, const struct iovec *iov, int niov, wrk_ioq_cb *cb,
    void *arg)
{
	struct io_uring_sqe *e;
	struct ioq_slot *s;

	if (niov < 1 || niov > WRK_IOQ_IOV ||
	    (e = ioq_next(fd, cb, arg)) == NULL)
		return 0;
	e->msg_flags |= MSG_NOSIGNAL;
	if (niov == 1) {
		e->opcode = IORING_OP_SEND;
		e->addr = (uintptr_t)iov[0].iov_base;
		e->len = (uint32_t)iov[0].iov_len;
	} else {
		s = &iq.iq_slot[iq.iq_n];
		memcpy(s->qs_iov, iov, (size_t)niov * sizeof(iov[0]));
		memset(&s->qs_msg, 0, sizeof(s->qs_msg));
		s->qs_msg.msg_iov = s->qs_iov;
		s->qs_msg.msg_iovlen = (size_t)niov;
		e->opcode = IORING_OP_SENDMSG;
		e->addr = (uintptr_t)&s->qs_msg;
		e->len = 1;
	}
	return (uint16_t)++iq.iq_n;
}

uint16_t
wrk_ioq_get(int fd, void *buf, size_t len, wrk_ioq_cb *cb, void *arg)
{
	struct io_uring_sqe *e;

	if (len > UINT32_MAX || (e = ioq_next(fd, cb, arg)) == NULL)
		return 0;
	e->opcode = IORING_OP_RECV;
	e->addr = (uintptr_t)buf;
	e->len = (uint32_t)len;
	return (uint16_t)++iq.iq_n;
}

void
wrk_ioq_cancel(uint16_t t, const void *arg)
{
	struct io_uring_sqe *e;

	/* a ticket of a round already flushed may be another's now */
	if (t == 0 || t > iq.iq_n || iq.iq_slot[t - 1].qs_arg != arg)
		return;
	e = &iq.iq_sqes[t - 1];
	memset(e, 0, sizeof(*e));
	e->opcode = IORING_OP_NOP;
	e->user_data = 0;
}

/* Submit the round; its results by ticket into res[].  0, or -1 when the
 * ring failed (every operation then failed with -errno), or when !wait
 * and a completion did not come at once. */
static int
ioq_round(unsigned n, int *res, bool wait)
{
	unsigned i, head, tail, got = 0, mask = *iq.iq_sq_mask;
	int k;

	tail = atomic_load_explicit(iq.iq_sq_tail, memory_order_relaxed);
	for (i = 0; i < n; i++)
		iq.iq_sq_array[(tail + i) & mask] = i;
	atomic_store_explicit(iq.iq_sq_tail, tail + n, memory_order_release);
	for (i = 0; i < n; i++)
		res[i] = -ECANCELED;
	do
		k = ioq_enter(n, 0);
	while (k == -1 && errno == EINTR);
	if (k != (int)n) {
		/* cannot happen with SUBMIT_ALL; if it does, say so loudly
		 * and fail the round's operations: their connections close */
		log_warnx("io_uring_enter: %d of %u: %s", k, n,
		    k == -1 ? strerror(errno) : "short");
		for (i = 0; i < n; i++)
			res[i] = -EIO;
		return -1;
	}
	for (;;) {
		head = atomic_load_explicit(iq.iq_cq_head,
		    memory_order_relaxed);
		tail = atomic_load_explicit(iq.iq_cq_tail,
		    memory_order_acquire);
		for (; head != tail; head++) {
			const struct io_uring_cqe *q =
			    &iq.iq_cqes[head & *iq.iq_cq_mask];

			if (q->user_data >= 1 && q->user_data <= n)
				res[q->user_data - 1] = q->res;
			got++;
		}
		atomic_store_explicit(iq.iq_cq_head, head,
		    memory_order_release);
		if (got >= n)
			return 0;
		if (!wait)
			return -1;
		/* issued at once with MSG_DONTWAIT: what is missing comes
		 * when the kernel runs the task work it deferred */
		if (ioq_enter(0, n - got) == -1 && errno != EINTR) {
			log_warn("io_uring_enter wait");
			return -1;
		}
	}
}

void
wrk_ioq_flush(void)
{
	static int res[IOQ_ENTRIES];
	static wrk_ioq_cb *cb[IOQ_ENTRIES];
	static void *arg[IOQ_ENTRIES];
	unsigned i, n, round;
	bool was = iq.iq_open;

	for (round = 0; round < IOQ_ROUNDS && iq.iq_n > 0; round++) {
		n = iq.iq_n;
		if (ioq_round(n, res, true) == -1) {
			close(iq.iq_fd);	/* read(2), write(2) from now on */
			iq.iq_fd = -1;
		}
		for (i = 0; i < n; i++) {
			cb[i] = iq.iq_sqes[i].user_data != 0 ?
			    iq.iq_slot[i].qs_cb : NULL;
			arg[i] = iq.iq_slot[i].qs_arg;
		}
		iq.iq_n = 0;
		/* the last round's completions make their own calls */
		iq.iq_open = was && iq.iq_fd != -1 &&
		    round + 1 < IOQ_ROUNDS;
		for (i = 0; i < n; i++)
			if (cb[i] != NULL)
				cb[i](arg[i], res[i]);
	}
	iq.iq_open = was && iq.iq_fd != -1;
}
