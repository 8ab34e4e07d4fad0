/*
 * Version-sticky split for weighted routes (canaryd route metadata
 * "sticky", issue 6): the worker's pure helpers to find a request's key
 * (a cookie or a header), to place a key on a cluster, to make a new key
 * and to add the set-cookie line that hands it to the client.
 *
 * Placement is weighted rendezvous hashing: for each cluster i with
 * weight w_i > 0, u_i = hash(seed, key, name_i) mapped into (0, 1) and
 * score_i = w_i / -ln(u_i); the highest score wins.  -ln(u_i) / w_i is
 * exponential with rate w_i, so a cluster wins w_i / sum(w) of the keys,
 * and raising w_j only raises score_j: keys move only to cluster j, and
 * lowering w_j moves keys only away from it (monotone).  The weights are
 * the route's current ones; only their ratios matter.
 */
#ifndef CANARYD_WORKER_STICKY_H
#define CANARYD_WORKER_STICKY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "shared/http1.h"

/* A generated key: 128 random bits as lower-case hex. */
#define WRK_STICKY_KEY_LEN	32
/* Max-Age of the set-cookie canaryd sends: 30 days, so a returning
 * browser keeps its version across a rollout of usual length. */
#define WRK_STICKY_MAX_AGE	2592000

/* Seeded 64-bit hash (SipHash-2-4) of key and a cluster name. */
uint64_t	 wrk_sticky_hash(uint64_t seed, const char *key, size_t klen,
		    const char *name);

/*
 * Index in wc[0, n) of the cluster key goes to under weights w[0, n)
 * (any common scale), or -1 when every weight is 0.  Pure.
 */
int		 wrk_sticky_pick(uint64_t seed, const char *key, size_t klen,
		    const struct cd_weighted_cluster *wc, const uint32_t *w,
		    uint32_t n);

/* A key finder: the value of name in the request (*v, *vlen), true when
 * found and not empty.  base: the buffer the header slices point into. */
typedef bool	 wrk_sticky_find(const char *base, const struct http1_hdr *,
		    uint16_t nhdrs, const char *name, const char **v,
		    size_t *vlen);

/* Cookie name in the request's Cookie header(s): the first one found,
 * double quotes around it removed. */
wrk_sticky_find	 wrk_sticky_cookie;

/* The first header called name (lower case). */
wrk_sticky_find	 wrk_sticky_header;

/* A new random key (arc4random_buf): WRK_STICKY_KEY_LEN chars and a NUL. */
void		 wrk_sticky_new_key(char *out);

/* Bytes wrk_sticky_set_cookie() adds for a cookie called name. */
size_t		 wrk_sticky_set_cookie_len(const char *name);

/*
 * Add "set-cookie: name=key; Path=/; Max-Age=...; HttpOnly;
 * SameSite=Lax" as the last line of the response head head[0, len) (which
 * ends with an empty line).  Returns the new length, or 0 when cap is too
 * short or head is not a complete head (nothing changed then).
 */
size_t		 wrk_sticky_set_cookie(char *head, size_t len, size_t cap,
		    const char *name, const char *key);

#endif /* CANARYD_WORKER_STICKY_H */
