/*
 * The worker's load balancers beyond round robin and random (those are
 * worker/router.c's wrk_router_pick_host()): LEAST_REQUEST, the fewest
 * active requests of choice_count hosts drawn at random, counted across
 * every worker from shm; RING_HASH and MAGLEV, consistent hashing of the
 * request's hash_policy value, over a table each worker builds from its
 * copy of the host list when the list changes (never on the request
 * path otherwise).  Health and the panic threshold apply as for the
 * others: a hashing balancer walks on from an unhealthy host's entry to
 * the next usable one, so a key moves only while its host is unhealthy.
 */
#ifndef CANARYD_WORKER_LB_H
#define CANARYD_WORKER_LB_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "shared/conf-t.h"
#include "shared/shm-t.h"

/* A hashing balancer's table for one cluster (this worker's). */
#define LB_NO_HOST	UINT32_MAX

struct wrk_lb_table {
	uint32_t	 lt_seq;	/* host list sequence it was built for */
	bool		 lt_valid;
	uint32_t	 lt_n;		/* entries */
	uint64_t	*lt_point;	/* RING_HASH: sorted point hashes */
	uint32_t	*lt_host;	/* the host index of each entry;
					 * LB_NO_HOST: none (Maglev) */
};

/* The 64-bit hash of a key (request values, host addresses).  Pure. */
uint64_t	 wrk_lb_hash(const void *p, size_t len);

/*
 * Host index of hosts[0, n) for a request under cl's LEAST_REQUEST,
 * RING_HASH or MAGLEV; -1 when none can be used.  flags are the hosts'
 * SHM_HF_*; *panic says the panic threshold put every host back in play.
 * hash is the request's hash_policy value (NULL: none, and a hashing
 * balancer picks at random, as Envoy's do).  t is cl's table, rebuilt
 * when seq (the host list's) moved on; sc_ci the shm record of the
 * cluster, for the active request counts.
 */
int		 wrk_lb_pick(const struct cd_cluster *cl, struct wrk_lb_table *t,
		    uint32_t seq, const struct shm_host *hosts,
		    const uint32_t *flags, uint32_t n, const uint64_t *hash,
		    const struct shm *shm, int sc_ci, bool *panic);

struct http1_hdr;

/*
 * The request's value for a hashing balancer from route rt's
 * hash_policy, as Envoy computes it: each policy that finds its value
 * (a header, a cookie, a query parameter of path, the client address
 * of socket fd) is mixed in (the hash so far rotated left by one, xor
 * the new one), and a terminal one that found its value ends the list.
 * false when none found a value.
 */
bool		 wrk_lb_request_hash(const struct cd_route *rt, const char *base,
		    const struct http1_hdr *hdrs, uint16_t nhdrs,
		    const char *path, size_t plen, int fd, uint64_t *out);

/* Free t's table. */
void		 wrk_lb_table_free(struct wrk_lb_table *t);

/* Build t for cl over hosts[0, n); 0 or -1 (out of memory).  Pure but
 * for the allocation (the unit tests call it). */
int		 wrk_lb_table_build(const struct cd_cluster *cl,
		    struct wrk_lb_table *t, const struct shm_host *hosts,
		    uint32_t n);

#endif /* CANARYD_WORKER_LB_H */
