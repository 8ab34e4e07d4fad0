/*
 * The router module's own header: what its files share.  Only
 * worker/router*.c (and their unit test) include it; the rest of the
 * worker sees router.h.
 *
 *   router.c        the matchers (path, headers, query), the plain scans
 *                   that define routing, targets, cluster and host picks
 *   router_index.c  the index built at worker start: the domain hash and
 *                   the route tries, and the lookups through them
 *
 * Invariant: for any listener, Host and request, the lookups through the
 * index answer exactly what the scans answer (test/unit/worker/
 * router_index_test.c and test/fuzz/fuzz_route.c compare them).
 */
#ifndef CANARYD_WORKER_ROUTER_INT_H
#define CANARYD_WORKER_ROUTER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/conf-t.h"
#include "router.h"

/* What a virtual host's domain is, in the order Envoy tries them. */
enum router_dom_kind {
	ROUTER_DOM_EXACT,	/* "www.foo.com": the whole host */
	ROUTER_DOM_SUFFIX,	/* "*.foo.com": ends the host */
	ROUTER_DOM_PREFIX,	/* "foo.*": begins the host */
	ROUTER_DOM_STAR,	/* "*": any host */
	ROUTER_DOM_NKINDS
};

/*
 * The kind of domain d[0, len), and the part a host must match:
 * d[*off, *off + *wlen) (the domain without its star).  A wildcard must
 * stand for at least one character of the host.
 */
enum router_dom_kind router_dom_kind(const char *d, size_t len, size_t *off,
		    size_t *wlen);

/* Does route rt take the request (path p[0, len), query included, and
 * rv's headers)?  Path match, then every header and query matcher, then
 * runtime_fraction (the request's one draw). */
bool		 router_route_matches(const struct cd_route *rt,
		    const char *p, size_t len, const struct wrk_rq_view *rv);

#endif /* CANARYD_WORKER_ROUTER_INT_H */
