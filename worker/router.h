/*
 * Routing for the worker: virtual host by Host (canaryd-envoy(7), ROUTING), first
 * matching route (§1.4), weighted cluster pick over the shm split
 * (canaryd's exact sequence or Envoy's random pick, §2) and host pick
 * with panic threshold (§5.5).  Pure functions over the configuration and
 * a small view of the request, so unit tests need no sockets.  Virtual
 * host and route come through an index built at worker start, whose
 * cost does not grow with the number of domains or routes.
 */
#ifndef CANARYD_WORKER_ROUTER_H
#define CANARYD_WORKER_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "shared/shm-t.h"
#include "shared/split.h"
#include "shared/http1.h"
#include "sticky.h"

/*
 * The listener's virtual hosts, indexed at worker start so a lookup costs
 * the same with ten domains or ten thousand (router_index.c):
 *
 *   - every domain but "*" sits in one hash table keyed by its kind
 *     (exact, "*suffix", "prefix*") and its text without the star;
 *   - the distinct lengths of the suffix and of the prefix wildcards,
 *     longest first, say which substrings of a host to look up;
 *   - each virtual host's routes are compiled into tries (struct
 *     wrk_rtab) that yield, for a path, only the routes whose path match
 *     could hold.
 */
struct wrk_dom;
struct wrk_rtab;

struct wrk_router {
	const struct cd_vhost	*ro_vhosts;	/* the listener's, indexed */
	size_t			 ro_nvhosts;
	struct wrk_rtab		*ro_rtabs;	/* one per virtual host */
	struct wrk_dom		*ro_dom;	/* hash: ro_dom_mask + 1 slots */
	size_t			 ro_dom_mask;
	size_t			 ro_ndom;	/* domains in the table */
	uint32_t		*ro_suffix_len;	/* distinct, longest first */
	size_t			 ro_nsuffix_len;
	uint32_t		*ro_prefix_len;
	size_t			 ro_nprefix_len;
	const struct cd_vhost	*ro_star;	/* "*", or NULL */
};

/*
 * Build the index of listener l (malloc, at worker start; l must outlive
 * it, and stay unchanged); 0, or -1 with errno and nothing held.
 * wrk_router_free() releases it.
 */
int		 wrk_router_init(struct wrk_router *,
		    const struct cd_listener *);
void		 wrk_router_free(struct wrk_router *);

/*
 * Virtual host for a Host value (any case, port included), or NULL:
 * Envoy's order, an exact domain first, then the longest "*suffix" and
 * the longest "prefix*" the host extends by at least one character,
 * then "*".  Hashed lookups, as many as there are distinct wildcard
 * lengths shorter than the host.
 */
const struct cd_vhost *wrk_router_vhost(const struct wrk_router *,
		    const char *host, size_t len);
/* The same answer by a plain walk over l's domains: the definition the
 * index must agree with (tests compare the two). */
const struct cd_vhost *wrk_router_vhost_scan(const struct cd_listener *l,
		    const char *host, size_t len);
/* Length of host without a trailing ":port" ("[::1]:80" -> "[::1]"). */
size_t		 wrk_router_strip_port(const char *host, size_t len);

/* A request target split for routing and for the upstream head. */
struct wrk_target {
	const char		*tg_auth;	/* absolute-form authority, or NULL */
	size_t			 tg_auth_len;
	const char		*tg_path;	/* origin-form: path and query */
	size_t			 tg_path_len;
};

/*
 * Split the request target t[0, len).  Origin-form passes as it is.
 * Absolute-form ("http://" in any case, authority, path, query) gives its
 * authority, which stands for Host (RFC 9112 3.2.2), and the rest as an
 * origin-form target, "/" for an empty path (RFC 9112 3.2.1): "http://t"
 * is "/" and "http://t?q=1" is "/?q=1".  That last one is written at the
 * start of scratch; the return value is how many bytes of scratch tg
 * uses (0 for none), which the caller leaves alone while it uses tg.
 */
size_t		 wrk_router_target(const char *t, size_t len, char *scratch,
		    size_t scratch_len, struct wrk_target *tg);

/* What route matching may look at. */
struct wrk_rq_view {
	const char		*rv_base;	/* buffer of the slices */
	const char		*rv_path;	/* :path, query included */
	size_t			 rv_path_len;
	const struct http1_hdr	*rv_hdrs;
	uint16_t		 rv_nhdrs;
	const char		*rv_authority;	/* for "host"/":authority" */
	size_t			 rv_authority_len;
	char			*rv_scratch;	/* NUL-terminated copies */
	size_t			 rv_scratch_len;
	/* match.runtime_fraction: does the route's share take this
	 * request?  NULL: a route with one never matches */
	bool			(*rv_fraction)(const struct cd_fraction *,
				    void *);
	void			*rv_fraction_arg;
};

/*
 * First route of vh, in config order, matching the request, or NULL.
 * With vh one of ro's virtual hosts the compiled tries give the routes
 * whose path could match and only those are checked (the time grows
 * with the path, not with the table, but for safe_regex routes and
 * routes on the path's keys with header or query matchers); any other
 * vh is scanned.
 */
const struct cd_route *wrk_router_route(const struct wrk_router *ro,
		    const struct cd_vhost *vh, const struct wrk_rq_view *);
/* The same answer by trying every route in order: the definition the
 * tries must agree with. */
const struct cd_route *wrk_router_route_scan(const struct cd_vhost *,
		    const struct wrk_rq_view *);

/* One StringMatcher against s[0, len). */
bool		 wrk_router_str_match(const struct cd_str_match *,
		    const char *s, size_t len, char *scratch,
		    size_t scratch_len);

/*
 * A worker's copy of one split's weights and the plan built from them.
 * Its arrays are sized once to the route's clusters
 * (wrk_split_cache_init(), when the worker sets up), so a weight change
 * allocates nothing.
 */
struct wrk_split_cache {
	uint32_t		 sc_seq;
	bool			 sc_valid;
	uint32_t		 sc_epoch;	/* fleet mode's (sticky) */
	uint32_t		 sc_cap;	/* room in sc_w and the plan */
	uint32_t		*sc_w;		/* scratch: weights */
	struct split_plan	 sc_plan;
};

/* Room in sc for n clusters (zeroed first), for the worker's life; -1
 * out of memory. */
int		 wrk_split_cache_init(struct wrk_split_cache *, uint32_t n);

/*
 * Index into rt->rt_wc of the cluster for the next request on a weighted
 * route.  Exact mode takes the next position of the split's shared
 * counter; random mode draws arc4random().  Weights come from shm (the
 * master publishes reloads there); until published, the configured ones.
 */
uint32_t	 wrk_router_pick_weighted(const struct cd_route *,
		    struct shm_split *, struct wrk_split_cache *);

/* How wrk_router_pick_canary() chose. */
enum wrk_pick_by {
	WRK_PICK_SPLIT,		/* the route's split (exact or random) */
	WRK_PICK_STICKY,	/* the request's sticky key */
	WRK_PICK_NEW_KEY,	/* a new key, to set as a cookie */
	WRK_PICK_OVERRIDE,	/* override_header / override_cookie */
};

struct wrk_canary {
	enum wrk_pick_by	 ca_by;
	bool			 ca_override_unknown;	/* named nothing */
	/* a cookie value to set (a new key; in fleet mode also a key
	 * whose mark changed), "" for none */
	char			 ca_key[WRK_STICKY_VALUE_MAX + 1];
};

/*
 * Index into rt->rt_wc for a request on a weighted route, with the
 * route's canaryd options: an override value (header, then cookie:
 * "always" the canary, "never" the stable one, or a cluster's name, even
 * one of weight 0) wins; else a sticky key (or a new one when set_cookie
 * is on) is placed by rendezvous hashing over the split's current
 * weights (worker/sticky.h); else wrk_router_pick_weighted().  *ca says
 * which, for counters and the set-cookie line.
 */
uint32_t	 wrk_router_pick_canary(const struct cd_route *,
		    const struct wrk_rq_view *, struct shm_split *,
		    struct wrk_split_cache *, struct wrk_canary *);

/*
 * Host index in hosts[0, n) for one request, or -1 when none can take it.
 * flags[i] are the hosts' current health flags.  Unhealthy hosts are
 * skipped unless fewer than panic_pct % are healthy (then *panic is set
 * and every host is eligible).  Weighted by sh_weight: round robin on rr,
 * random on rnd (uniform 32 bits).
 */
int		 wrk_router_pick_host(const struct shm_host *hosts,
		    const uint32_t *flags, uint32_t n, uint32_t panic_pct,
		    enum cd_lb_policy, uint64_t rr, uint32_t rnd, bool *panic);

#endif /* CANARYD_WORKER_ROUTER_H */
