/*
 * The health checker's response reader (see health.h), on shared/http1,
 * the parser the whole binary uses.
 *
 * http1 needs a head whole in one buffer from its first byte (its slices
 * are offsets, and it looks back to refuse obs-folds), while the checker
 * reads in pieces: the head's bytes are gathered in r_buf, bounded by
 * MST_HC_HEAD_MAX, and parsed there as they come; once the head is
 * complete the buffer goes, and body bytes are parsed straight from the
 * caller's pieces (http1 only counts them).  An interim 1xx response is
 * skipped: the head of the one that follows is gathered in turn.
 *
 * Invariant: r_buf holds bytes only while r_in_head, and is freed when
 * the reader reaches DONE or ERR (or mst_hc_resp_free()).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/http1.h"
#include "health.h"

/* A parser for the next response on the connection. */
static void
resp_parser(struct mst_hc_resp *r)
{
	http1_init(&r->r_h1, HTTP1_RESPONSE, r->r_hdrs, MST_HC_MAX_HEADERS,
	    MST_HC_HEAD_MAX);
	if (r->r_head_req)
		http1_set_nobody(&r->r_h1);
}

void
mst_hc_resp_init(struct mst_hc_resp *r, bool head_request)
{
	memset(r, 0, sizeof(*r));
	r->r_head_req = head_request;
	resp_parser(r);
	buf_init(&r->r_buf);
	r->r_in_head = true;
}

void
mst_hc_resp_free(struct mst_hc_resp *r)
{
	buf_free(&r->r_buf);
	buf_init(&r->r_buf);
	r->r_parsed = r->r_msg = 0;
}

static enum mst_hc_rc
resp_end(struct mst_hc_resp *r, enum mst_hc_rc rc)
{
	mst_hc_resp_free(r);
	if (rc == MST_HC_DONE)
		r->r_done = true;
	return rc;
}

/*
 * Only HTTP/1.0 and 1.1 and a status of 1xx to 5xx; decided as soon as
 * the status line is in, and a status line longer than MST_HC_LINE_MAX
 * is an error without waiting for its end.
 */
static enum mst_hc_rc
resp_status_line(struct mst_hc_resp *r)
{
	const char *msg = r->r_buf.b_data + r->r_msg;
	int major, minor, status;

	if (r->r_line_ok)
		return MST_HC_AGAIN;
	if (memchr(msg, '\n', r->r_parsed - r->r_msg) == NULL)
		return r->r_parsed - r->r_msg > MST_HC_LINE_MAX ? MST_HC_ERR :
		    MST_HC_AGAIN;
	http1_version(&r->r_h1, &major, &minor);
	status = http1_status(&r->r_h1);
	if (major != 1 || minor > 1 || status < 100 || status > 599)
		return MST_HC_ERR;
	r->r_line_ok = true;
	return MST_HC_AGAIN;
}

/* The end of a head.  DONE for a 101: nothing more we could read. */
static enum mst_hc_rc
resp_head(struct mst_hc_resp *r)
{
	enum mst_hc_rc rc;

	if ((rc = resp_status_line(r)) != MST_HC_AGAIN)
		return rc;
	r->r_status = http1_status(&r->r_h1);
	if (r->r_status == 101) {
		r->r_parsed = r->r_h1.h_head_end;
		r->r_close = true;
		return MST_HC_DONE;
	}
	if (r->r_status >= 200)
		r->r_in_head = false;	/* a body, if any, follows */
	return MST_HC_AGAIN;
}

/* The end of a message: DONE, or an interim response to skip. */
static enum mst_hc_rc
resp_message(struct mst_hc_resp *r)
{
	if (r->r_status < 200) {
		/* the real response follows: its head is gathered anew, by
		 * a parser of its own */
		resp_parser(r);
		r->r_msg = r->r_parsed;
		r->r_line_ok = false;
		return MST_HC_AGAIN;
	}
	r->r_close = !http1_keep_alive(&r->r_h1);
	return MST_HC_DONE;
}

/* Parse what r_buf holds beyond r_parsed. */
static enum mst_hc_rc
resp_buffered(struct mst_hc_resp *r)
{
	enum mst_hc_rc rc = MST_HC_AGAIN;
	uint32_t used;

	while (rc == MST_HC_AGAIN && r->r_parsed < r->r_buf.b_len) {
		switch (http1_feed(&r->r_h1, r->r_buf.b_data, r->r_parsed,
		    (uint32_t)(r->r_buf.b_len - r->r_parsed), &used)) {
		case HTTP1_HEAD:
			r->r_parsed += used;
			rc = resp_head(r);
			break;
		case HTTP1_DONE:
			r->r_parsed += used;
			rc = resp_message(r);
			break;
		case HTTP1_ERROR:
			r->r_parsed += used;
			return MST_HC_ERR;
		default:
			r->r_parsed += used;
			if (r->r_in_head)
				rc = resp_status_line(r);
			break;
		}
	}
	return rc;
}

/* Body bytes, straight from the caller's piece. */
static enum mst_hc_rc
resp_body(struct mst_hc_resp *r, const char *p, size_t len, size_t *used)
{
	uint32_t off = 0, n;

	while (off < len) {
		switch (http1_feed(&r->r_h1, p, off, (uint32_t)(len - off),
		    &n)) {
		case HTTP1_DONE:
			*used = off + n;
			return resp_end(r, resp_message(r));
		case HTTP1_ERROR:
			*used = off + n;
			return resp_end(r, MST_HC_ERR);
		default:
			break;
		}
		off += n;
		if (n == 0)
			break;
	}
	*used = len;
	return MST_HC_AGAIN;
}

enum mst_hc_rc
mst_hc_resp_feed(struct mst_hc_resp *r, const char *p, size_t len,
    size_t *used)
{
	size_t base = r->r_buf.b_len, take = len, u;
	enum mst_hc_rc rc;

	*used = 0;
	if (r->r_done)
		return MST_HC_DONE;
	if (!r->r_in_head)
		return resp_body(r, p, len, used);
	/* a head longer than the bound never fits, however it arrives */
	if (base + take > MST_HC_HEAD_MAX + 1)
		take = MST_HC_HEAD_MAX + 1 - base;
	if (buf_append(&r->r_buf, p, take) == -1)
		return resp_end(r, MST_HC_ERR);
	rc = resp_buffered(r);
	*used = r->r_parsed - base;
	if (rc != MST_HC_AGAIN)
		return resp_end(r, rc);
	if (r->r_in_head)
		return take < len ? resp_end(r, MST_HC_ERR) : MST_HC_AGAIN;
	/* the head is done and what the buffer held is parsed */
	mst_hc_resp_free(r);
	if (take == len)
		return MST_HC_AGAIN;
	rc = resp_body(r, p + take, len - take, &u);
	*used = take + u;
	return rc;
}

enum mst_hc_rc
mst_hc_resp_eof(struct mst_hc_resp *r)
{
	if (!r->r_done && http1_eof(&r->r_h1) != HTTP1_DONE)
		return resp_end(r, MST_HC_ERR);
	if (!r->r_done)
		r->r_status = http1_status(&r->r_h1);
	r->r_close = true;
	return resp_end(r, MST_HC_DONE);
}
