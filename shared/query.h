/*
 * URL query strings ("a=1&b=x%20y"): decoding, and walking the pairs.
 * For the admin port's endpoints and the modules they drive.
 */
#ifndef CANARYD_SHARED_QUERY_H
#define CANARYD_SHARED_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Append the URL-decoded form of s (%XX and '+') to out; a bad escape
 * stays as written, as Envoy leaves it.  0, or -1 when out ran out of
 * memory. */
int	 query_url_decode(struct buf *out, const char *s, size_t len);

/*
 * The next "key=value" pair of the query at *p (empty pairs skipped),
 * decoded into k and v, each followed by a NUL that b_len counts (so a
 * decoded NUL inside shows as strlen() + 1 != b_len); *p moves past it.
 * False at the end.
 */
bool	 query_next(const char **p, struct buf *k, struct buf *v);

#endif /* CANARYD_SHARED_QUERY_H */
