/*
 * Routing for the worker: virtual host by Host (canaryd-envoy(7), ROUTING), first
 * matching route (§1.4), weighted cluster pick over the shm split
 * (canaryd's exact sequence or Envoy's random pick, §2) and host pick
 * with panic threshold (§5.5).  Pure functions over the configuration and
 * a small view of the request, so unit tests need no sockets.
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

struct wrk_dom {
	const char		*d_str;		/* wildcard part removed */
	size_t			 d_len;
	const struct cd_vhost	*d_vh;
};

/* The listener's domains, indexed for matching in Envoy's order. */
struct wrk_router {
	struct wrk_dom		*ro_exact;
	size_t			 ro_nexact;
	struct wrk_dom		*ro_suffix;	/* "*.foo.com", longest first */
	size_t			 ro_nsuffix;
	struct wrk_dom		*ro_prefix;	/* "foo.*", longest first */
	size_t			 ro_nprefix;
	const struct cd_vhost	*ro_star;
};

/* Build the index (malloc, at worker start); 0 or -1 with errno. */
int		 wrk_router_init(struct wrk_router *,
		    const struct cd_listener *);
void		 wrk_router_free(struct wrk_router *);

/* Virtual host for a Host value (any case, port included), or NULL. */
const struct cd_vhost *wrk_router_vhost(const struct wrk_router *,
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

/* First route of vh matching the request, or NULL. */
const struct cd_route *wrk_router_route(const struct cd_vhost *,
		    const struct wrk_rq_view *);

/* One StringMatcher against s[0, len). */
bool		 wrk_router_str_match(const struct cd_str_match *,
		    const char *s, size_t len, char *scratch,
		    size_t scratch_len);

/* A worker's copy of one split's weights and the plan built from them. */
struct wrk_split_cache {
	uint32_t		 sc_seq;
	bool			 sc_valid;
	uint32_t		 sc_epoch;	/* fleet mode's (sticky) */
	struct split_plan	 sc_plan;
};

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
