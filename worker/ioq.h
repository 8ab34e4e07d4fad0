/*
 * The worker's socket I/O queue: the reads and writes one loop turn
 * produces go to the kernel together, in one io_uring_enter(2), instead
 * of one read(2) or write(2) each.
 *
 * A proxied request costs two reads (the request head, the response) and
 * two writes (to the upstream, to the client); on a machine where a
 * system call's entry and exit are dear (page-table isolation, a virtual
 * machine) the turn's requests share one entry for their reads and one
 * for their writes.  Each operation is still made in the call, at once
 * (MSG_DONTWAIT): an empty or full socket answers -EAGAIN in its
 * completion, as read(2) and write(2) would, so when wrk_ioq_flush()
 * returns every operation queued before it has completed.
 *
 * Only the loop's event turn queues (wrk_ioq_open()); a caller that
 * queued touches neither the bytes it named nor the socket until its
 * completion comes, and a socket closed meanwhile has its operation
 * cancelled first (wrk_ioq_cancel()).  Where io_uring cannot be had (an
 * old kernel, a seccomp filter, kernel.io_uring_disabled, or
 * CANARYD_IO_URING=0 in the environment) nothing is queued and the caller
 * makes its own system call.
 */
#ifndef CANARYD_WORKER_IOQ_H
#define CANARYD_WORKER_IOQ_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stdint.h>

#define WRK_IOQ_IOV	4	/* iovecs per write */

#include <stddef.h>

/* An operation's end: res is the byte count (0: end of stream), or
 * -errno. */
typedef void wrk_ioq_cb(void *arg, int res);

/* Set up the ring (in the worker, after fork); false when off. */
bool	 wrk_ioq_init(void);

/* The loop's event turn begins (true) or ends (false). */
void	 wrk_ioq_set_open(bool);

/* Writes may be queued now. */
bool	 wrk_ioq_open(void);

/*
 * Queue a write of iov[0..niov) on fd (niov <= WRK_IOQ_IOV); cb(arg, res)
 * runs in wrk_ioq_flush().  Returns its ticket (> 0), or 0 when the queue
 * is closed or full: then write it yourself.
 */
uint16_t wrk_ioq_put(int fd, const struct iovec *iov, int niov,
	    wrk_ioq_cb *cb, void *arg);

/* Queue a read of up to len bytes from fd into buf; as wrk_ioq_put(). */
uint16_t wrk_ioq_get(int fd, void *buf, size_t len, wrk_ioq_cb *cb,
	    void *arg);

/* The operation of this ticket, queued with arg, is not to be made (its
 * socket closes); nothing if it is done already. */
void	 wrk_ioq_cancel(uint16_t, const void *arg);

/* Issue what is queued and run the completions; again for what those
 * queue, a few rounds, the last with the queue closed. */
void	 wrk_ioq_flush(void);

#endif
