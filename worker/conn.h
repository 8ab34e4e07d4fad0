/*
 * Downstream connections and the requests on them: the state machine
 * that reads a request, routes it, drives the upstream exchange, writes
 * the response (or a local reply, as Envoy words them) and then keeps the
 * connection alive or closes it through one path.  What the rest of the
 * worker calls; the module's own types and files are in conn-int.h.
 *
 * Memory: an idle keep-alive connection holds only struct wrk_conn (no
 * buffer, no request); a request takes a struct wrk_req and I/O buffers
 * from the free lists (worker/mem.h) and gives them back when it ends.
 * A request kept for a retry may grow c_in past the large buffer up to
 * the listener's buffer limit (a sized buffer, freed when it ends).
 */
#ifndef CANARYD_WORKER_CONN_H
#define CANARYD_WORKER_CONN_H

#include <stdbool.h>

struct wrk_conn;

/* Set up free lists and timeouts from the listener (after wrk_setup());
 * 0 or -1. */
int		 wrk_conn_init(void);

/* Take over a socket accepted on listener ls: the new connection, IDLE,
 * or NULL (the caller closes fd). */
struct wrk_lsn;
struct wrk_conn	*wrk_conn_new(int fd, struct wrk_lsn *ls);

/*
 * Start draining (and mark connections accepted from now on the same):
 * a connection closes after a response that said connection: close, or
 * when it has been idle for grace_ms with nothing unread; never while a
 * request is in flight.
 */
void		 wrk_conn_drain(uint64_t grace_ms);

/* Run connections that yielded, then free the ones closed during this
 * loop turn; wrk_conn_pending(): some yielded again (poll, don't wait). */
void		 wrk_conn_reap(void);
bool		 wrk_conn_pending(void);

#endif /* CANARYD_WORKER_CONN_H */
