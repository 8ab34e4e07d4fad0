/*
 * Mirrored requests (a route's request_mirror_policies): a copy of a
 * request sent to another cluster -- typically the canary, before any
 * user sees it -- whose answer is read and thrown away.  Fire and
 * forget: the request it copies never waits for it, never fails with
 * it, and never learns of it; it costs the client nothing whether the
 * shadow cluster is slow, full or dead.  Worker process only.
 *
 * A shadow is made when its request is routed (its head as the primary
 * upstream gets it, the host with "-shadow" appended), waits for the
 * request's body (the request keeps it whole in c_in, as for a retry,
 * up to the listener's buffer limit; past it the shadow is abandoned),
 * then goes on its own: a host of its cluster, a pooled or new
 * connection under the cluster's circuit breakers (no wait for a slot:
 * no slot, no shadow), the request written, the response parsed to its
 * end and dropped, the connection pooled again.  The route's timeout
 * bounds it.  It counts in its cluster's statistics like any upstream
 * request, and as canary.shadow.
 */
#ifndef CANARYD_WORKER_SHADOW_H
#define CANARYD_WORKER_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf-t.h"

struct wrk_shadow;

/* Does policy mp take the request routed now?  Of every D requests a
 * worker routes through it, exactly N (its runtime_fraction, the
 * runtime's value if it has a key); every one without a fraction. */
bool		 wrk_shadow_pick(const struct cd_mirror *mp);

/*
 * A shadow for policy mp of route rt, from the upstream head
 * uhead[0, ulen) of the request (head_method: a HEAD request), not sent
 * yet; *list gets it first.  False when out of memory (no shadow).
 */
bool		 wrk_shadow_new(struct wrk_shadow **list,
		    const struct cd_mirror *mp, const struct cd_route *rt,
		    const char *uhead, size_t ulen, bool head_method);

/* The request is complete: each shadow of list is sent with the body
 * body[0, n) (as the client framed it) and leaves the list. */
void		 wrk_shadow_send_all(struct wrk_shadow **list,
		    const char *body, size_t n);

/* The request ended before its body was whole: drop list's shadows. */
void		 wrk_shadow_drop_all(struct wrk_shadow **list);

/* Shadows not finished yet (tests, logs). */
uint32_t	 wrk_shadow_count(void);

#endif /* CANARYD_WORKER_SHADOW_H */
