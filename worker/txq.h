/*
 * The worker's write queue: the socket writes one loop turn produces go to
 * the kernel together, in one io_uring_enter(2), instead of one write(2)
 * or writev(2) each.
 *
 * A proxied request costs two writes (the request to the upstream, the
 * response to the client) beside two reads; on a machine where a system
 * call's entry and exit are dear (page-table isolation, a virtual
 * machine) the writes of a turn's requests cost one entry between them.
 * Each write is still issued in the call, at once (MSG_DONTWAIT): a full
 * socket answers -EAGAIN in its completion, as write(2) would, so when
 * wrk_txq_flush() returns every write queued before it has completed, and
 * the memory a write named may change again.
 *
 * Only the loop's event turn queues (wrk_txq_open()); a caller that
 * queued a write touches neither the bytes it named nor the socket until
 * its completion comes, and a socket closed meanwhile has its write
 * cancelled first (wrk_txq_cancel()).  Where io_uring cannot be had (an
 * old kernel, a seccomp filter, kernel.io_uring_disabled, or
 * CANARYD_IO_URING=0 in the environment) nothing is queued and every
 * write is the caller's own write(2).
 */
#ifndef CANARYD_WORKER_TXQ_H
#define CANARYD_WORKER_TXQ_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stdint.h>

#define WRK_TXQ_IOV	4	/* iovecs per write */

/* A write's end: res is the byte count, or -errno. */
typedef void wrk_txq_cb(void *arg, int res);

/* Set up the ring (in the worker, after fork); false when off. */
bool	 wrk_txq_init(void);

/* The loop's event turn begins (true) or ends (false). */
void	 wrk_txq_set_open(bool);

/* Writes may be queued now. */
bool	 wrk_txq_open(void);

/*
 * Queue a write of iov[0..niov) on fd (niov <= WRK_TXQ_IOV); cb(arg, res)
 * runs in wrk_txq_flush().  Returns its ticket (> 0), or 0 when the queue
 * is closed or full: then write it yourself.
 */
uint16_t wrk_txq_put(int fd, const struct iovec *iov, int niov,
	    wrk_txq_cb *cb, void *arg);

/* The write of this ticket, queued with arg, is not to be made (its
 * socket closes); nothing if that write is done already. */
void	 wrk_txq_cancel(uint16_t, const void *arg);

/* Issue what is queued and run the completions; again for what those
 * queue, a few rounds, the last with the queue closed. */
void	 wrk_txq_flush(void);

#endif
