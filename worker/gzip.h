/*
 * The compressor filter's decisions that need no connection: what a
 * request's Accept-Encoding asks for, and whether a response's
 * Content-Type is one to compress (canaryd.yaml(5), HTTP FILTERS).
 */
#ifndef CANARYD_WORKER_GZIP_H
#define CANARYD_WORKER_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/conf-t.h"

/* What Accept-Encoding picks, as Envoy's compressor counts it. */
enum wrk_gz_accept {
	WRK_GZ_NO_HEADER,	/* no_accept_header */
	WRK_GZ_GZIP,		/* header_compressor_used: gzip has the top q */
	WRK_GZ_WILDCARD,	/* header_wildcard: "*" has it */
	WRK_GZ_IDENTITY,	/* header_identity: identity has it */
	WRK_GZ_NOT_VALID,	/* header_not_valid: nothing we can send */
};

/* The pick of an Accept-Encoding value v[0, len) (NULL: no header):
 * the coding among gzip, identity and "*" with the highest q above 0,
 * the first listed among equals. */
enum wrk_gz_accept wrk_gz_accept(const char *v, size_t len);

/* Does Content-Type v[0, len) (NULL: none, which is allowed) name a
 * media type of cp's list (Envoy's when cp has none)? */
bool		 wrk_gz_ctype_ok(const struct cd_compressor *cp, const char *v,
		    size_t len);

#endif /* CANARYD_WORKER_GZIP_H */
