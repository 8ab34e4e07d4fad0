/*
 * Rewrites and redirect locations (see rewrite.h).  Read-only over the
 * configuration; every byte goes to the caller's buffers.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rewrite.h"

/* A writer that notes when it runs out. */
struct rw_out {
	char	*o_p;
	size_t	 o_n;
	size_t	 o_cap;
	bool	 o_over;
};

static void
rw_put(struct rw_out *o, const char *s, size_t n)
{
	if (o->o_cap - o->o_n < n) {
		o->o_over = true;
		return;
	}
	memcpy(o->o_p + o->o_n, s, n);
	o->o_n += n;
}

static size_t
rw_done(const struct rw_out *o)
{
	return o->o_over ? WRK_RW_OVER : o->o_n;
}

/* The substitution for one match m of s. */
static void
rw_subst(struct rw_out *o, const struct cd_regex_sub *rs, const char *s,
    const regmatch_t *m)
{
	const char *p = rs->rs_subst != NULL ? rs->rs_subst : "";
	const regmatch_t *g;
	int k;

	for (; *p != '\0'; p++) {
		if (*p != '\\' || p[1] == '\0') {
			rw_put(o, p, 1);
			continue;
		}
		p++;
		if (*p == '\\') {
			rw_put(o, p, 1);
			continue;
		}
		/* the loader let only \0..\9 of existing groups by */
		k = *p - '0';
		g = &m[k == 0 ? 0 : rs->rs_map[k]];
		if (g->rm_so >= 0 && g->rm_eo >= g->rm_so)
			rw_put(o, s + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
	}
}

size_t
wrk_rewrite_sub(const struct cd_regex_sub *rs, const char *s, size_t len,
    char *out, size_t cap, char *tmp, size_t tmplen)
{
	struct rw_out o = { out, 0, cap, false };
	regmatch_t m[CD_RE_MAX_GROUPS];
	size_t pos = 0, lastend = (size_t)-1;

	if (len + 1 > tmplen)
		return WRK_RW_OVER;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	while (pos <= len && !o.o_over) {
		m[0].rm_so = (regoff_t)pos;
		m[0].rm_eo = (regoff_t)len;
		if (regexec(&rs->rs_re, tmp, CD_RE_MAX_GROUPS, m,
		    REG_STARTEND) != 0)
			break;
		/* RE2's global replace: no empty match right where the
		 * last one ended; step one byte over it */
		if (m[0].rm_so == m[0].rm_eo &&
		    (size_t)m[0].rm_so == lastend) {
			if ((size_t)m[0].rm_so < len)
				rw_put(&o, tmp + m[0].rm_so, 1);
			pos = (size_t)m[0].rm_so + 1;
			continue;
		}
		rw_put(&o, tmp + pos, (size_t)m[0].rm_so - pos);
		rw_subst(&o, rs, tmp, m);
		lastend = (size_t)m[0].rm_eo;
		if (m[0].rm_so == m[0].rm_eo) {
			if ((size_t)m[0].rm_so < len)
				rw_put(&o, tmp + m[0].rm_so, 1);
			pos = (size_t)m[0].rm_so + 1;
		} else
			pos = (size_t)m[0].rm_eo;
	}
	if (pos < len)
		rw_put(&o, tmp + pos, len - pos);
	return rw_done(&o);
}

/* The path without its query and fragment. */
static size_t
rw_path_len(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '?' || p[i] == '#')
			return i;
	return len;
}

/* How much of path route match m matched, for a prefix rewrite. */
static size_t
rw_matched(const struct cd_route_match *m, const char *path, size_t len)
{
	switch (m->rm_kind) {
	case CD_PM_PREFIX:
	case CD_PM_SEP_PREFIX:
		return m->rm_len <= len ? m->rm_len : len;
	case CD_PM_PATH:
	case CD_PM_REGEX:
	default:
		return rw_path_len(path, len);
	}
}

size_t
wrk_rewrite_path(const struct cd_route_match *m, const char *prefix,
    size_t plen, const struct cd_regex_sub *re, const char *path, size_t len,
    char *out, size_t cap, char *tmp, size_t tmplen)
{
	struct rw_out o = { out, 0, cap, false };
	size_t cut, n;

	if (prefix != NULL) {
		cut = rw_matched(m, path, len);
		rw_put(&o, prefix, plen);
		rw_put(&o, path + cut, len - cut);
		return rw_done(&o);
	}
	if (re == NULL || !re->rs_set)
		return 0;
	cut = rw_path_len(path, len);
	n = wrk_rewrite_sub(re, path, cut, out, cap, tmp, tmplen);
	if (n == WRK_RW_OVER || n == 0)
		return n;
	o.o_n = n;
	rw_put(&o, path + cut, len - cut);
	return rw_done(&o);
}

static bool
rw_ieq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/*
 * Envoy's processRequestHost(): the request's Host without its port when
 * the redirect names a port, or when the scheme changes and the port is
 * the old scheme's default.
 */
static size_t
rw_host_len(const struct wrk_loc *lc, const char *scheme, bool new_port)
{
	const char *h = lc->lc_host, *c;
	size_t len = lc->lc_host_len, end;
	bool strip = new_port;

	if (len == 0)
		return 0;
	if (h[0] == '[') {
		c = NULL;
		for (end = len; end > 1; end--)
			if (h[end - 1] == ':' && h[end - 2] == ']') {
				c = h + end - 1;
				break;
			}
	} else
		c = memrchr(h, ':', len);
	if (c == NULL)
		return len;
	end = (size_t)(c - h);
	if (lc->lc_proto == NULL || strlen(scheme) != lc->lc_proto_len ||
	    memcmp(scheme, lc->lc_proto, lc->lc_proto_len) != 0) {
		if (lc->lc_proto != NULL && rw_ieq(lc->lc_proto,
		    lc->lc_proto_len, "https") && rw_ieq(c, len - end, ":443"))
			strip = true;
		if (lc->lc_proto != NULL && rw_ieq(lc->lc_proto,
		    lc->lc_proto_len, "http") && rw_ieq(c, len - end, ":80"))
			strip = true;
	}
	return strip ? end : len;
}

size_t
wrk_rewrite_location(const struct wrk_loc *lc, char *out, size_t cap)
{
	const struct cd_redirect *rd = lc->lc_rd;
	struct rw_out o = { out, 0, cap, false };
	const char *scheme, *path = lc->lc_path, *q;
	size_t plen = lc->lc_path_len, qlen = 0;
	bool path_query = false;
	char port[16];

	if (rd != NULL && rd->rd_scheme != NULL)
		scheme = rd->rd_scheme;
	else
		scheme = lc->lc_proto != NULL && rw_ieq(lc->lc_proto,
		    lc->lc_proto_len, "https") ? "https" : "http";
	rw_put(&o, scheme, strlen(scheme));
	rw_put(&o, "://", 3);
	if (rd != NULL && rd->rd_host != NULL)
		rw_put(&o, rd->rd_host, strlen(rd->rd_host));
	else
		rw_put(&o, lc->lc_host, rw_host_len(lc, scheme,
		    rd != NULL && rd->rd_port != 0));
	if (rd != NULL && rd->rd_port != 0) {
		snprintf(port, sizeof(port), ":%u", (unsigned)rd->rd_port);
		rw_put(&o, port, strlen(port));
	}
	/* path_redirect's own query wins and is never stripped; else the
	 * request's query follows the new path */
	if ((q = memchr(path, '?', plen)) != NULL) {
		qlen = plen - (size_t)(q - path);
		plen = (size_t)(q - path);
	}
	if (rd != NULL && rd->rd_path != NULL) {
		path = rd->rd_path;
		plen = strlen(path);
		path_query = memchr(path, '?', plen) != NULL;
		if (path_query)
			qlen = 0;
	}
	if (plen == 0 || path[0] != '/')
		rw_put(&o, "/", 1);
	rw_put(&o, path, plen);
	if (qlen > 0 && !(rd != NULL && rd->rd_strip_query))
		rw_put(&o, q, qlen);
	return rw_done(&o);
}
