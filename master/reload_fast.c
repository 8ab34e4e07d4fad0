/*
 * Weight-only reload without parsing (see reload_fast.h).
 *
 * The running configuration keeps the file it was loaded from and the
 * spans of its weights (struct cd_wspan).  The new file is walked beside
 * it: every byte outside a span must be the same, and what stands where a
 * span stood must be a decimal number.  Then the new weights pass the
 * loader's rules (each route's sum in 1 .. 2^32-1, no weight 0, the same
 * "always" and "never" clusters), and only then is anything written: the
 * weights and totals of the master's copy, their /config_dump JSON, and
 * the modules' weight-only reload, which publishes them to shm.  Anything
 * else takes the normal path, which parses.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/arena.h"
#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "module.h"
#include "mst.h"
#include "reload_fast.h"

#define FAST_MAX_FILE	(16 * 1024 * 1024)	/* as the loader's */

/* The JSON strings a weight-only reload rewrites -- the bootstrap, and
 * each listener's Listener and RouteConfiguration -- and the copies it
 * made of them (freed with the configuration, or at the next rewrite). */
#define FAST_NJSON	(1 + 2 * CD_MAX_LISTENERS)

struct fast_own {
	char	*fo_json[FAST_NJSON];
	char	*fo_src;	/* c_src since the first rewrite */
};

static char **
fast_json(struct cd_conf *c, int i)
{
	struct cd_listener *l;

	if (i == 0)
		return &c->c_json_bootstrap;
	if ((size_t)(i - 1) / 2 >= c->c_nlisteners)
		return NULL;
	l = &c->c_listeners[(i - 1) / 2];
	return (i - 1) % 2 == 0 ? &l->l_json : &l->l_json_routes;
}

/* Is rt one of l's routes? */
static bool
fast_route_of(const struct cd_listener *l, const struct cd_route *rt)
{
	const struct cd_vhost *vh;
	size_t v;

	for (v = 0; v < l->l_nvhosts; v++) {
		vh = &l->l_vhosts[v];
		if (rt >= vh->vh_routes && rt < vh->vh_routes + vh->vh_nroutes)
			return true;
	}
	return false;
}

/*
 * The spans JSON string i holds: all of them for the bootstrap, a
 * listener's own for its two (a listener's routes are one stretch of the
 * file, so its spans are consecutive).
 */
static void
fast_json_spans(const struct cd_conf *c, int i, size_t *first, size_t *n)
{
	const struct cd_listener *l;

	*first = 0;
	*n = c->c_nwspans;
	if (i == 0)
		return;
	l = &c->c_listeners[(i - 1) / 2];
	while (*first < c->c_nwspans &&
	    !fast_route_of(l, c->c_wspans[*first].ws_rt))
		(*first)++;
	for (*n = 0; *first + *n < c->c_nwspans &&
	    fast_route_of(l, c->c_wspans[*first + *n].ws_rt); (*n)++)
		;
}

static void
fast_own_free(void *arg)
{
	struct fast_own *fo = arg;
	int i;

	for (i = 0; i < FAST_NJSON; i++)
		free(fo->fo_json[i]);
	free(fo->fo_src);
}

/* The whole file, NUL-terminated; NULL (errno set) on failure. */
static char *
fast_read(const char *path, size_t *len)
{
	struct stat st;
	FILE *fp;
	char *data;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if (fstat(fileno(fp), &st) == -1 || st.st_size < 0 ||
	    st.st_size > FAST_MAX_FILE ||
	    (data = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(fp);
		errno = EFBIG;
		return NULL;
	}
	n = fread(data, 1, (size_t)st.st_size + 1, fp);
	fclose(fp);
	if (n != (size_t)st.st_size) {	/* changed while read: parse */
		free(data);
		errno = EAGAIN;
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}

/*
 * Walk buf beside c's source: 0, with w[i] the number where span i stood
 * and off[i] where it starts in buf; -1 when anything else differs.  A
 * number is digits up to the next byte the old file also has there, so
 * "90" -> "9 0" or "90x" differ outside a span.
 */
static int
fast_diff(const struct cd_conf *c, const char *buf, size_t len, uint32_t *w,
    size_t *off)
{
	const struct cd_wspan *s;
	size_t po = 0, pn = 0, seg, i;
	uint64_t v;

	for (i = 0; i < c->c_nwspans; i++) {
		s = &c->c_wspans[i];
		seg = s->ws_off - po;
		if (len - pn < seg || memcmp(c->c_src + po, buf + pn, seg) != 0)
			return -1;
		pn += seg;
		off[i] = pn;
		for (v = 0; pn < len && buf[pn] >= '0' && buf[pn] <= '9'; pn++)
			if ((v = v * 10 + (uint64_t)(buf[pn] - '0')) >
			    UINT32_MAX)
				return -1;
		/* no digits, a leading zero (not the loader's plain number
		 * then), or 0: the normal path says what it means */
		if (pn == off[i] || buf[off[i]] == '0')
			return -1;
		w[i] = (uint32_t)v;
		po = s->ws_off + s->ws_len;
	}
	seg = c->c_src_len - po;
	if (len - pn != seg || memcmp(c->c_src + po, buf + pn, seg) != 0)
		return -1;
	return 0;
}

/* buf (malloc'd) becomes c's source, span i at off[i]. */
static void
fast_source(struct cd_conf *c, char *buf, size_t len, const size_t *off,
    const uint32_t *w)
{
	struct fast_own *fo = c->c_fast;
	char num[16];
	size_t i;

	for (i = 0; i < c->c_nwspans; i++) {
		c->c_wspans[i].ws_off = off[i];
		c->c_wspans[i].ws_len = (size_t)snprintf(num, sizeof(num),
		    "%u", w[i]);
	}
	free(fo->fo_src);
	fo->fo_src = buf;
	c->c_src = buf;
	c->c_src_len = len;
}

/* Do the new weights keep every route's rules?  0 or -1. */
static int
fast_check(const struct cd_conf *c, const uint32_t *w)
{
	struct cd_weighted_cluster *wc = NULL;
	struct cd_route tmp, *rt;
	size_t i = 0, j, n;
	uint64_t sum;
	int rc = 0;

	while (i < c->c_nwspans && rc == 0) {
		rt = c->c_wspans[i].ws_rt;
		n = rt->rt_nwc;
		if (i + n > c->c_nwspans || (wc = reallocarray(wc, n,
		    sizeof(*wc))) == NULL)
			return -1;
		memcpy(wc, rt->rt_wc, n * sizeof(*wc));
		for (j = 0, sum = 0; j < n; j++) {
			if (c->c_wspans[i + j].ws_rt != rt ||
			    c->c_wspans[i + j].ws_k != j)
				rc = -1;
			wc[j].wc_weight = w[i + j];
			sum += w[i + j];
		}
		tmp = *rt;
		tmp.rt_wc = wc;
		conf_canary_pick(&tmp);
		if (sum == 0 || sum > UINT32_MAX ||
		    tmp.rt_canary_wc != rt->rt_canary_wc ||
		    tmp.rt_stable_wc != rt->rt_stable_wc)
			rc = -1;
		i += n;
	}
	free(wc);
	return rc;
}

/*
 * s with the k-th "weight" value replaced by w[k] (w has n entries), in
 * b; -1 when s has another count of them, or one that is not old[k].
 */
static int
fast_json_rewrite(struct buf *b, const char *s, const uint32_t *old,
    const uint32_t *w, size_t n)
{
	static const char key[] = "\"weight\":";
	const char *p, *q;
	size_t k = 0;
	uint64_t v;

	for (p = s; (q = strstr(p, key)) != NULL; p = q) {
		q += sizeof(key) - 1;
		buf_append(b, p, (size_t)(q - p));
		for (v = 0; *q >= '0' && *q <= '9'; q++)
			v = v * 10 + (uint64_t)(*q - '0');
		if (k == n || v != old[k])
			return -1;
		buf_printf(b, "%u", w[k++]);
	}
	buf_puts(b, p);
	return k == n && !b->b_oom ? 0 : -1;
}

/* The new JSON strings, all made before any is set; -1: none set. */
static int
fast_json_set(struct cd_conf *c, const uint32_t *old, const uint32_t *w)
{
	struct fast_own *fo = c->c_fast;
	struct buf b[FAST_NJSON];
	size_t first, n;
	char **js;
	int i, rc = 0;

	if (fo == NULL) {
		if ((fo = arena_alloc(c->c_arena, sizeof(*fo))) == NULL)
			return -1;
		memset(fo, 0, sizeof(*fo));
		if (arena_defer(c->c_arena, fast_own_free, fo) == -1)
			return -1;
		c->c_fast = fo;
	}
	for (i = 0; i < FAST_NJSON; i++) {
		buf_init(&b[i]);
		if (rc == 0 && (js = fast_json(c, i)) != NULL && *js != NULL) {
			fast_json_spans(c, i, &first, &n);
			/* a few MB at 10,000 clusters: one allocation, not
			 * a dozen doublings each copying what it had */
			(void)buf_reserve(&b[i], strlen(*js) + 10 * n);
			rc = fast_json_rewrite(&b[i], *js, old + first,
			    w + first, n);
		}
	}
	for (i = 0; i < FAST_NJSON; i++) {
		if (rc == 0 && (js = fast_json(c, i)) != NULL && *js != NULL) {
			free(fo->fo_json[i]);
			fo->fo_json[i] = *js = b[i].b_data;
		} else
			buf_free(&b[i]);
	}
	if (rc == 0 && c->c_listener != NULL) {
		c->c_json_listener = c->c_listener->l_json;
		c->c_json_route_config = c->c_listener->l_json_routes;
	}
	return rc;
}

int
mst_reload_fast(void)
{
	/* the one place the running configuration changes (conf-t.h) */
	struct cd_conf *c = (struct cd_conf *)(uintptr_t)mst.m_conf;
	uint32_t *w = NULL, *old = NULL;
	size_t len, i, *off = NULL;
	char *buf;
	int rc = -1;

	if (c == NULL || c->c_src == NULL ||
	    (buf = fast_read(mst.m_config_path, &len)) == NULL)
		return -1;
	if ((w = calloc(c->c_nwspans, sizeof(*w))) == NULL ||
	    (old = calloc(c->c_nwspans, sizeof(*old))) == NULL ||
	    (off = calloc(c->c_nwspans, sizeof(*off))) == NULL ||
	    fast_diff(c, buf, len, w, off) == -1 || fast_check(c, w) == -1)
		goto done;
	for (i = 0; i < c->c_nwspans; i++)
		old[i] = c->c_wspans[i].ws_rt->rt_wc[c->c_wspans[i].ws_k].
		    wc_weight;
	if (fast_json_set(c, old, w) == -1)
		goto done;
	/* committed: the weights, the totals, the file they came from */
	for (i = 0; i < c->c_nwspans; i++) {
		struct cd_route *rt = c->c_wspans[i].ws_rt;

		if (c->c_wspans[i].ws_k == 0)
			rt->rt_total_weight = 0;
		rt->rt_wc[c->c_wspans[i].ws_k].wc_weight = w[i];
		rt->rt_total_weight += w[i];
	}
	fast_source(c, buf, len, off, w);
	buf = NULL;
	rc = mst_modules_reload(MST_CH_WEIGHTS, c) == -1 ? 1 : 0;
done:
	free(buf);
	free(w);
	free(old);
	free(off);
	return rc;
}
