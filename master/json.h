/*
 * JSON for the admin pages (master only): strings, keys, numbers and
 * timestamps spelled one way, and the pretty-printer that lays a compact
 * document out as Envoy's protobuf printer does.  Pages build compact
 * JSON into a struct buf with these and print it with mst_json_pretty().
 *
 * Functions that append to a struct buf leave errors in b_oom, except
 * mst_json_pretty(), which says.
 */
#ifndef CANARYD_MASTER_JSON_H
#define CANARYD_MASTER_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/* s (NUL-terminated) as a JSON string, quotes included. */
void	 mst_json_str(struct buf *, const char *s);
/* "k": */
void	 mst_json_key(struct buf *, const char *k);
/* v as a JSON number (%g-like, no exponent noise); NaN and infinities
 * become null. */
void	 mst_json_num(struct buf *, double v);

/* RFC 3339 UTC as protobuf prints a Timestamp: "...T10:00:00.123Z", the
 * fraction left out when it is zero.  snprintf(3)'s return. */
int	 mst_json_timestamp(char *buf, size_t len, uint64_t realtime_ms);

/*
 * Append json (compact or not) pretty-printed the way Envoy's protobuf
 * printer does it: 1-space indentation, "key": value, one element a line,
 * empty containers as {} and [], a final newline.  -1 with errno EINVAL
 * when json is not valid JSON (checked first: out is then untouched),
 * ENOMEM.  The layout is mst_json_pp's below.
 */
int	 mst_json_pretty(struct buf *out, const char *json, size_t len);

/*
 * The same layout for a document given a piece at a time, so a page of
 * megabytes goes out in pieces without stopping the master's loop: init,
 * feed the pieces (cut anywhere, in strings too), end.  For JSON the
 * master made itself: nothing is checked, valid input is assumed
 * (mst_json_pretty() checks, then lays out through these).
 */
struct mst_json_pp {
	int	 pp_depth;
	int	 pp_open;	/* '{' or '[' just out, its line not begun */
	int	 pp_str;	/* inside a string */
	int	 pp_esc;	/* after its backslash */
};

void	 mst_json_pp_init(struct mst_json_pp *);
void	 mst_json_pp_feed(struct mst_json_pp *, struct buf *out,
	    const char *json, size_t len);
/* The final newline. */
void	 mst_json_pp_end(struct mst_json_pp *, struct buf *out);

#endif /* CANARYD_MASTER_JSON_H */
