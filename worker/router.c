/*
 * Routing (see router.h).  Everything is read-only over the inherited
 * configuration, except the per-worker split caches the caller owns and
 * the shared split counter (one atomic add per weighted request).
 *
 * This file holds the matchers and the plain scans that define which
 * virtual host and route a request gets; router_index.c finds the same
 * answers through its index.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/shm.h"
#include "router-int.h"
#include "router.h"
#include "sticky.h"

enum router_dom_kind
router_dom_kind(const char *d, size_t len, size_t *off, size_t *wlen)
{
	*off = 0;
	*wlen = len;
	if (len == 1 && d[0] == '*')
		return ROUTER_DOM_STAR;
	if (len > 1 && d[0] == '*') {
		*off = 1;
		*wlen = len - 1;
		return ROUTER_DOM_SUFFIX;
	}
	if (len > 1 && d[len - 1] == '*') {
		*wlen = len - 1;
		return ROUTER_DOM_PREFIX;
	}
	return ROUTER_DOM_EXACT;
}

const struct cd_vhost *
wrk_router_vhost_scan(const struct cd_listener *l, const char *host,
    size_t len)
{
	const struct cd_vhost *best[ROUTER_DOM_NKINDS] = { NULL };
	size_t blen[ROUTER_DOM_NKINDS] = { 0 }, i, j, off, dlen;
	enum router_dom_kind k;
	const char *d;
	bool ok = false;

	for (i = 0; i < l->l_nvhosts; i++)
		for (j = 0; j < l->l_vhosts[i].vh_ndomains; j++) {
			d = l->l_vhosts[i].vh_domains[j];
			switch ((k = router_dom_kind(d, strlen(d), &off,
			    &dlen))) {
			case ROUTER_DOM_EXACT:
				ok = dlen == len &&
				    strncasecmp(d, host, len) == 0;
				break;
			case ROUTER_DOM_SUFFIX:
				ok = len > dlen && strncasecmp(host + len -
				    dlen, d + off, dlen) == 0;
				break;
			case ROUTER_DOM_PREFIX:
				ok = len > dlen &&
				    strncasecmp(host, d, dlen) == 0;
				break;
			case ROUTER_DOM_STAR:
			case ROUTER_DOM_NKINDS:
				ok = true;
				break;
			}
			/* the longest of a kind; the first of equals */
			if (ok && (best[k] == NULL || dlen > blen[k])) {
				best[k] = &l->l_vhosts[i];
				blen[k] = dlen;
			}
		}
	for (k = 0; k < ROUTER_DOM_NKINDS; k++)
		if (best[k] != NULL)
			return best[k];
	return NULL;
}

size_t
wrk_router_strip_port(const char *host, size_t len)
{
	size_t i = len;

	while (i > 0 && host[i - 1] >= '0' && host[i - 1] <= '9')
		i--;
	if (i == 0 || i == len || host[i - 1] != ':')
		return len;
	/* "::1" without brackets is an address, not host:port */
	if (host[0] != '[' && memchr(host, ':', i - 1) != NULL)
		return len;
	if (host[0] == '[' && host[i - 2] != ']')
		return len;
	return i - 1;
}

size_t
wrk_router_target(const char *t, size_t len, char *scratch,
    size_t scratch_len, struct wrk_target *tg)
{
	size_t a;

	tg->tg_auth = NULL;
	tg->tg_auth_len = 0;
	tg->tg_path = t;
	tg->tg_path_len = len;
	if (len <= 7 || strncasecmp(t, "http://", 7) != 0)
		return 0;
	for (a = 7; a < len && t[a] != '/' && t[a] != '?'; a++)
		;
	tg->tg_auth = t + 7;
	tg->tg_auth_len = a - 7;
	tg->tg_path = t + a;
	tg->tg_path_len = len - a;
	if (a == len) {
		tg->tg_path = "/";
		tg->tg_path_len = 1;
	} else if (t[a] == '?' && len - a + 1 <= scratch_len) {
		scratch[0] = '/';
		memcpy(scratch + 1, t + a, len - a);
		tg->tg_path = scratch;
		tg->tg_path_len = len - a + 1;
		return tg->tg_path_len;
	}
	return 0;
}

/* ---- route matching ------------------------------------------------- */

static bool
mem_eq(const char *a, const char *b, size_t n, bool icase)
{
	return icase ? strncasecmp(a, b, n) == 0 : memcmp(a, b, n) == 0;
}

static bool
contains(const char *s, size_t len, const char *v, size_t vlen, bool icase)
{
	size_t i;

	if (vlen == 0)
		return true;
	for (i = 0; i + vlen <= len; i++)
		if (mem_eq(s + i, v, vlen, icase))
			return true;
	return false;
}

/* regexec needs a NUL-terminated string; copy into scratch. */
static bool
re_full_match(const regex_t *re, const char *s, size_t len, char *scratch,
    size_t scratch_len)
{
	if (len + 1 > scratch_len)
		return false;
	memcpy(scratch, s, len);
	scratch[len] = '\0';
	/* the loader anchors the pattern, so a match is a full match */
	return regexec(re, scratch, 0, NULL, 0) == 0;
}

bool
wrk_router_str_match(const struct cd_str_match *sm, const char *s,
    size_t len, char *scratch, size_t scratch_len)
{
	bool ic = sm->sm_ignore_case;

	switch (sm->sm_kind) {
	case CD_SM_EXACT:
		return len == sm->sm_len && mem_eq(s, sm->sm_value, len, ic);
	case CD_SM_PREFIX:
		return len >= sm->sm_len && mem_eq(s, sm->sm_value,
		    sm->sm_len, ic);
	case CD_SM_SUFFIX:
		return len >= sm->sm_len && mem_eq(s + len - sm->sm_len,
		    sm->sm_value, sm->sm_len, ic);
	case CD_SM_CONTAINS:
		return contains(s, len, sm->sm_value, sm->sm_len, ic);
	case CD_SM_REGEX:
		return re_full_match(&sm->sm_re, s, len, scratch, scratch_len);
	}
	return false;
}

/* Path without query and fragment. */
static size_t
path_len(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '?' || p[i] == '#')
			return i;
	return len;
}

static bool
route_path_match(const struct cd_route_match *m, const char *p, size_t len,
    const struct wrk_rq_view *rv)
{
	bool ic = !m->rm_case_sensitive;
	size_t plen;

	switch (m->rm_kind) {
	case CD_PM_PREFIX:
		return len >= m->rm_len && mem_eq(p, m->rm_value, m->rm_len,
		    ic);
	case CD_PM_PATH:
		plen = path_len(p, len);
		return plen == m->rm_len && mem_eq(p, m->rm_value, plen, ic);
	case CD_PM_REGEX:
		return re_full_match(&m->rm_re, p, path_len(p, len),
		    rv->rv_scratch, rv->rv_scratch_len);
	case CD_PM_SEP_PREFIX:
		plen = path_len(p, len);
		return plen >= m->rm_len && mem_eq(p, m->rm_value, m->rm_len,
		    ic) && (plen == m->rm_len || p[m->rm_len] == '/');
	}
	return false;
}

/*
 * All values of a header, joined with "," as Envoy does for matching.
 * Returns false when the header is absent.  Joined values live in
 * scratch; a single value is returned in place.
 */
static bool
header_value(const struct wrk_rq_view *rv, const char *name, size_t nlen,
    const char **v, size_t *vlen)
{
	const char *first = NULL;
	size_t flen = 0, used = 0;
	int count = 0;
	uint16_t i;

	if (nlen == 4 && memcmp(name, "host", 4) == 0 &&
	    rv->rv_authority != NULL) {
		*v = rv->rv_authority;
		*vlen = rv->rv_authority_len;
		return true;
	}
	for (i = 0; i < rv->rv_nhdrs; i++) {
		const struct http1_hdr *h = &rv->rv_hdrs[i];
		const char *hv = rv->rv_base + h->h_value.s_off;

		if (h->h_name.s_len != nlen || strncasecmp(rv->rv_base +
		    h->h_name.s_off, name, nlen) != 0)
			continue;
		if (count++ == 0) {
			first = hv;
			flen = h->h_value.s_len;
			continue;
		}
		if (count == 2) {
			if (flen > rv->rv_scratch_len)
				return false;
			memcpy(rv->rv_scratch, first, flen);
			used = flen;
		}
		if (used + 1 + h->h_value.s_len > rv->rv_scratch_len)
			return false;
		rv->rv_scratch[used++] = ',';
		memcpy(rv->rv_scratch + used, hv, h->h_value.s_len);
		used += h->h_value.s_len;
	}
	if (count == 0)
		return false;
	if (count == 1) {
		*v = first;
		*vlen = flen;
	} else {
		*v = rv->rv_scratch;
		*vlen = used;
	}
	return true;
}

static bool
parse_i64(const char *s, size_t len, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	size_t i = 0;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* Envoy's HeaderUtility::matchHeaders, including its rules for absent
 * headers and inversion. */
static bool
header_match(const struct cd_header_match *hm, const struct wrk_rq_view *rv)
{
	const char *v;
	size_t vlen;
	int64_t n;
	bool match;

	if (!header_value(rv, hm->hm_name, hm->hm_name_len, &v, &vlen)) {
		if (!hm->hm_missing_as_empty) {
			if (hm->hm_invert)
				return hm->hm_kind == CD_HM_PRESENT &&
				    hm->hm_present;
			return hm->hm_kind == CD_HM_PRESENT && !hm->hm_present;
		}
		v = "";
		vlen = 0;
	}
	switch (hm->hm_kind) {
	case CD_HM_PRESENT:
		match = hm->hm_present;
		break;
	case CD_HM_RANGE:
		match = parse_i64(v, vlen, &n) && n >= hm->hm_range_start &&
		    n < hm->hm_range_end;
		break;
	case CD_HM_STRING:
	default:
		/* joined values may sit in scratch: match from a copy */
		if (hm->hm_str.sm_kind == CD_SM_REGEX && v == rv->rv_scratch) {
			match = vlen * 2 + 1 <= rv->rv_scratch_len &&
			    wrk_router_str_match(&hm->hm_str, v, vlen,
			    rv->rv_scratch + vlen, rv->rv_scratch_len - vlen);
		} else
			match = wrk_router_str_match(&hm->hm_str, v, vlen,
			    rv->rv_scratch, rv->rv_scratch_len);
		break;
	}
	return match != hm->hm_invert;
}

/* First value of query parameter name in the query string q. */
static bool
query_value(const char *q, size_t qlen, const char *name, const char **v,
    size_t *vlen)
{
	size_t nlen = strlen(name), i = 0;

	while (i < qlen) {
		size_t start = i, klen, end;

		while (i < qlen && q[i] != '&' && q[i] != '#')
			i++;
		end = i;
		for (klen = 0; start + klen < end && q[start + klen] != '=';
		    klen++)
			;
		if (klen == nlen && memcmp(q + start, name, nlen) == 0) {
			if (start + klen < end) {
				*v = q + start + klen + 1;
				*vlen = end - start - klen - 1;
			} else {
				*v = q + end;
				*vlen = 0;
			}
			return true;
		}
		if (i < qlen && q[i] == '#')
			break;
		i++;
	}
	return false;
}

static bool
query_match(const struct cd_query_match *qm, const char *p, size_t len,
    const struct wrk_rq_view *rv)
{
	size_t plen = path_len(p, len), vlen;
	const char *v;
	bool found;

	/* a '?' after the fragment mark starts no query */
	found = plen < len && p[plen] == '?' && query_value(p + plen + 1,
	    len - plen - 1, qm->qm_name, &v, &vlen);
	if (qm->qm_present)
		return found;
	return found && wrk_router_str_match(&qm->qm_str, v, vlen,
	    rv->rv_scratch, rv->rv_scratch_len);
}

bool
router_route_matches(const struct cd_route *rt, const char *p, size_t len,
    const struct wrk_rq_view *rv)
{
	const struct cd_route_match *m = &rt->rt_match;
	size_t j;

	if (!route_path_match(m, p, len, rv))
		return false;
	for (j = 0; j < m->rm_nheaders; j++)
		if (!header_match(&m->rm_headers[j], rv))
			return false;
	for (j = 0; j < m->rm_nquery; j++)
		if (!query_match(&m->rm_query[j], p, len, rv))
			return false;
	/* last, as the scan draws for no route it has not matched */
	if (m->rm_fraction.rf_set && (rv->rv_fraction == NULL ||
	    !rv->rv_fraction(&m->rm_fraction, rv->rv_fraction_arg)))
		return false;
	return true;
}

const struct cd_route *
wrk_router_route_scan(const struct cd_vhost *vh,
    const struct wrk_rq_view *rv)
{
	size_t i;

	for (i = 0; i < vh->vh_nroutes; i++)
		if (router_route_matches(&vh->vh_routes[i], rv->rv_path,
		    rv->rv_path_len, rv))
			return &vh->vh_routes[i];
	return NULL;
}

/* ---- cluster and host pick ------------------------------------------ */

int
wrk_split_cache_init(struct wrk_split_cache *sc, uint32_t n)
{
	uint64_t *upper;

	memset(sc, 0, sizeof(*sc));
	if (n == 0)
		n = 1;
	/* one block: the plan's cumulative weights, then the scratch */
	if ((upper = calloc(n, sizeof(*upper) + sizeof(*sc->sc_w))) == NULL)
		return -1;
	split_plan_storage(&sc->sc_plan, upper, n);
	sc->sc_w = (uint32_t *)(upper + n);
	sc->sc_cap = n;
	return 0;
}

/* Bring sc up to the split's current weights; -1 when no plan can be
 * built (then cluster 0 is the only answer). */
static int
split_refresh(const struct cd_route *rt, struct shm_split *sp,
    struct wrk_split_cache *sc)
{
	uint32_t seq, n, i, *w = sc->sc_w;

	seq = shm_split_seq(sp);
	if (!sc->sc_valid || seq != sc->sc_seq) {
		n = shm_split_read_epoch(sp, w, sc->sc_cap, &sc->sc_epoch,
		    &seq);
		if (n != rt->rt_nwc ||
		    split_plan_init(&sc->sc_plan, w, n) == -1) {
			/* unpublished or unusable: the configured weights */
			sc->sc_epoch = 0;
			for (i = 0; i < rt->rt_nwc && i < sc->sc_cap; i++)
				w[i] = rt->rt_wc[i].wc_weight;
			if (split_plan_init(&sc->sc_plan, w, i) == -1)
				return -1;
		}
		sc->sc_seq = seq;
		sc->sc_valid = true;
	}
	return 0;
}

uint32_t
wrk_router_pick_weighted(const struct cd_route *rt, struct shm_split *sp,
    struct wrk_split_cache *sc)
{
	uint64_t pos;

	if (split_refresh(rt, sp, sc) == -1)
		return 0;
	if (rt->rt_split_mode == CD_SPLIT_RANDOM)
		return split_pick_random(&sc->sc_plan, arc4random());
	pos = atomic_fetch_add_explicit(&sp->sp_next, 1, memory_order_relaxed);
	return split_pick_exact(&sc->sc_plan, pos);
}

/* ---- canary: override and sticky ------------------------------------ */

/* The rt_wc index an override value names, or -1 for an unknown one. */
static int
canary_override(const struct cd_route *rt, const char *v, size_t len)
{
	size_t i;

	if (len == 6 && strncasecmp(v, "always", 6) == 0)
		return rt->rt_canary_wc;
	if (len == 5 && strncasecmp(v, "never", 5) == 0)
		return rt->rt_stable_wc;
	for (i = 0; i < rt->rt_nwc; i++)
		if (strlen(rt->rt_wc[i].wc_name) == len &&
		    memcmp(rt->rt_wc[i].wc_name, v, len) == 0)
			return (int)i;
	return -1;
}

/*
 * The version of a request whose sticky value is v (a cookie's or a
 * header's, or a new key), or -1: the weighted rendezvous pick of its key
 * under the split's current weights (sticky.h).  In fleet mode (the split
 * has an epoch) the epoch seeds the pick, and a cookie carries the
 * version and epoch it was given: one given the canary in this epoch
 * stays there while the canary has weight, so an instance that applies a
 * step a moment after another never sends its user back; a cookie whose
 * mark differs from the pick is set again (ca_key).
 */
static int
canary_sticky(const struct cd_route *rt, struct shm_split *sp,
    struct wrk_split_cache *sc, const char *v, size_t vlen, bool cookie,
    struct wrk_canary *ca)
{
	const struct split_plan *pl = &sc->sc_plan;
	uint32_t *w = sc->sc_w, i, n, epoch = 0, ver = 0;
	size_t klen = vlen;
	int idx;

	if (split_refresh(rt, sp, sc) == -1)
		return -1;
	/* the plan's reduced weights, in the scratch (the plan stays valid
	 * without it): rendezvous only needs the ratios */
	n = pl->sp_n < rt->rt_nwc ? pl->sp_n : (uint32_t)rt->rt_nwc;
	for (i = 0; i < n; i++)
		w[i] = (uint32_t)(pl->sp_upper[i] - (i > 0 ?
		    pl->sp_upper[i - 1] : 0));
	if (sc->sc_epoch != 0 && cookie)
		klen = wrk_sticky_mark_parse(v, vlen, &epoch, &ver);
	idx = wrk_sticky_pick(wrk_sticky_seed(rt->rt_sticky.st_seed,
	    sc->sc_epoch), v, klen, rt->rt_wc, w, n);
	if (idx < 0 || sc->sc_epoch == 0 || !cookie)
		return idx;
	if (epoch == sc->sc_epoch && (int)ver == rt->rt_canary_wc &&
	    ver < n && w[ver] > 0)
		idx = (int)ver;
	if (rt->rt_sticky.st_set_cookie && (epoch != sc->sc_epoch ||
	    ver != (uint32_t)idx) && wrk_sticky_mark(ca->ca_key,
	    sizeof(ca->ca_key), v, klen, sc->sc_epoch, (uint32_t)idx) == -1)
		ca->ca_key[0] = '\0';
	return idx;
}

uint32_t
wrk_router_pick_canary(const struct cd_route *rt,
    const struct wrk_rq_view *rv, struct shm_split *sp,
    struct wrk_split_cache *sc, struct wrk_canary *ca)
{
	const struct cd_sticky *st = &rt->rt_sticky;
	/* the override's places, header first */
	const char *const oname[2] = { rt->rt_override_header,
	    rt->rt_override_cookie };
	wrk_sticky_find *const ofind[2] = { wrk_sticky_header,
	    wrk_sticky_cookie };
	const char *v;
	size_t vlen, i;
	int idx;

	ca->ca_by = WRK_PICK_SPLIT;
	ca->ca_override_unknown = false;
	ca->ca_key[0] = '\0';
	/* an override wins over everything: testers force a version */
	for (i = 0; i < 2; i++) {
		if (oname[i] == NULL || !ofind[i](rv->rv_base, rv->rv_hdrs,
		    rv->rv_nhdrs, oname[i], &v, &vlen))
			continue;
		if ((idx = canary_override(rt, v, vlen)) >= 0) {
			ca->ca_by = WRK_PICK_OVERRIDE;
			return (uint32_t)idx;
		}
		ca->ca_override_unknown = true;
	}
	if (st->st_set) {
		if ((st->st_cookie != NULL ? wrk_sticky_cookie :
		    wrk_sticky_header)(rv->rv_base, rv->rv_hdrs, rv->rv_nhdrs,
		    st->st_cookie != NULL ? st->st_cookie : st->st_header, &v,
		    &vlen))
			ca->ca_by = WRK_PICK_STICKY;
		else if (st->st_set_cookie && st->st_cookie != NULL) {
			wrk_sticky_new_key(ca->ca_key);
			v = ca->ca_key;
			vlen = WRK_STICKY_KEY_LEN;
			ca->ca_by = WRK_PICK_NEW_KEY;
		}
		if (ca->ca_by != WRK_PICK_SPLIT) {
			if ((idx = canary_sticky(rt, sp, sc, v, vlen,
			    st->st_cookie != NULL, ca)) >= 0)
				return (uint32_t)idx;
			ca->ca_by = WRK_PICK_SPLIT;
			ca->ca_key[0] = '\0';
		}
	}
	/* no key: the exact split, whose counter keyed requests leave
	 * alone, so it stays exact among the others */
	return wrk_router_pick_weighted(rt, sp, sc);
}

int
wrk_router_pick_host(const struct shm_host *hosts, const uint32_t *flags,
    uint32_t n, uint32_t panic_pct, enum cd_lb_policy lb, uint64_t rr,
    uint32_t rnd, bool *panic)
{
	uint64_t sum = 0, x;
	uint32_t i, healthy = 0;
	bool all;

	*panic = false;
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((flags[i] & SHM_HF_UNHEALTHY) == 0)
			healthy++;
	all = healthy == n;
	if (!all && panic_pct > 0 && (uint64_t)healthy * 100 <
	    (uint64_t)panic_pct * n) {
		*panic = true;
		all = true;
	}
	for (i = 0; i < n; i++)
		if (all || (flags[i] & SHM_HF_UNHEALTHY) == 0)
			sum += hosts[i].sh_weight ? hosts[i].sh_weight : 1;
	if (sum == 0)
		return -1;
	if (lb == CD_LB_RANDOM)
		x = ((uint64_t)rnd * sum) >> 32;
	else
		x = rr % sum;
	for (i = 0; i < n; i++) {
		uint64_t wt;

		if (!all && (flags[i] & SHM_HF_UNHEALTHY) != 0)
			continue;
		wt = hosts[i].sh_weight ? hosts[i].sh_weight : 1;
		if (x < wt)
			return (int)i;
		x -= wt;
	}
	return -1;
}
