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
 * the route's current ones; only their ratios matter.  The seed is the
 * route's, so every instance of a fleet places a key alike.
 *
 * Fleet mode (canaryd(8), FLEET) adds the rollout's epoch, a new one for
 * each new attempt after a rollback: it seeds the hash too, so a new
 * attempt picks its canary users afresh, and a cookie carries the version
 * and epoch it was given, "<key>.<epoch>.<version>" (version: the
 * cluster's index in the route).
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
/* A cookie value canaryd sets: a key and, in fleet mode, ".epoch.version"
 * (at most 10 and 2 digits). */
#define WRK_STICKY_VALUE_MAX	(WRK_STICKY_KEY_LEN + 14)
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

/* The seed of a route's placement in epoch (0: none, the seed as is). */
uint64_t	 wrk_sticky_seed(uint64_t seed, uint32_t epoch);

/*
 * A cookie value v[0, vlen) as fleet mode writes it, "<key>.<epoch>.
 * <version>": the key's length, with *epoch and *version filled; vlen and
 * *epoch 0 when v carries no such mark (all of it is the key then).
 */
size_t		 wrk_sticky_mark_parse(const char *v, size_t vlen,
		    uint32_t *epoch, uint32_t *version);

/*
 * out = "<key>.<epoch>.<version>" (key may be out itself).  0, or -1 when
 * it does not fit in cap bytes (out unchanged then).
 */
int		 wrk_sticky_mark(char *out, size_t cap, const char *key,
		    size_t klen, uint32_t epoch, uint32_t version);

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

/* Bytes wrk_sticky_set_cookie() adds for a cookie called name holding a
 * generated key, and holding value. */
size_t		 wrk_sticky_set_cookie_len(const char *name);
size_t		 wrk_sticky_set_cookie_len_of(const char *name,
		    const char *value);

/*
 * Add "set-cookie: name=key; Path=/; Max-Age=...; HttpOnly;
 * SameSite=Lax" as the last line of the response head head[0, len) (which
 * ends with an empty line).  Returns the new length, or 0 when cap is too
 * short or head is not a complete head (nothing changed then).
 */
size_t		 wrk_sticky_set_cookie(char *head, size_t len, size_t cap,
		    const char *name, const char *key);

#endif /* CANARYD_WORKER_STICKY_H */
