/*
 * Rewrites for the worker: a route's path rewrite (prefix_rewrite,
 * regex_rewrite), regex substitutions (also host_rewrite_path_regex) and
 * the Location of a redirect or a 3xx direct response, the way Envoy
 * computes them (canaryd-envoy(7), ROUTING).  Pure
 * functions over the configuration and caller buffers: no allocation,
 * so unit tests need no sockets.
 *
 * Each writer returns the length written, 0 for "no rewrite", or
 * WRK_RW_OVER when out is too short.
 */
#ifndef CANARYD_WORKER_REWRITE_H
#define CANARYD_WORKER_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/conf-t.h"

#define WRK_RW_OVER	((size_t)-1)

/*
 * rs's substitution of every match in s[0, len) into out; the rest of s
 * is copied.  tmp (at least len + 1 bytes) holds a NUL-terminated copy
 * of s for regexec.
 */
size_t		 wrk_rewrite_sub(const struct cd_regex_sub *rs, const char *s,
		    size_t len, char *out, size_t cap, char *tmp, size_t tmplen);

/*
 * The path after a prefix rewrite (prefix, plen: the matched part of
 * path, as match m says, replaced) or a regex one (re: the path before
 * its query replaced, the query kept), written into out; 0 when neither
 * is set or the regex gives an empty path (then the path stays, as in
 * Envoy).  tmp as for wrk_rewrite_sub().
 */
size_t		 wrk_rewrite_path(const struct cd_route_match *m,
		    const char *prefix, size_t plen,
		    const struct cd_regex_sub *re, const char *path,
		    size_t len, char *out, size_t cap, char *tmp,
		    size_t tmplen);

/* What a Location is made of. */
struct wrk_loc {
	const struct cd_redirect *lc_rd;	/* NULL: a direct response's */
	const char	*lc_path;	/* the path, redirect rewrites done */
	size_t		 lc_path_len;
	const char	*lc_host;	/* the request's Host */
	size_t		 lc_host_len;
	const char	*lc_proto;	/* its x-forwarded-proto, or NULL */
	size_t		 lc_proto_len;
};

/* Envoy's newUri(): scheme://host[:port]path into out. */
size_t		 wrk_rewrite_location(const struct wrk_loc *, char *out,
		    size_t cap);

#endif /* CANARYD_WORKER_REWRITE_H */
