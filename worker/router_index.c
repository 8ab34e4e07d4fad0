/*
 * The router's index (router.h, router-int.h): built once per worker from
 * the immutable configuration, read-only afterwards, so that picking the
 * virtual host and the route costs the same with one route or ten
 * thousand.
 *
 * Domains.  Every domain but "*" is a key of one open-addressing hash
 * table: its kind (exact, "*suffix", "prefix*") and its text without the
 * star, compared without case.  A lookup tries the host as an exact name,
 * then, for each distinct suffix length shorter than the host (longest
 * first), the host's last that many bytes, then the same with prefixes,
 * then "*": Envoy's order, with as many probes as there are lengths.
 *
 * Routes.  Each virtual host's prefix, path and path_separated_prefix
 * matches are keys of a radix tree, one for the case-sensitive ones and
 * one, lower-cased, for case_sensitive: false.  A node holds the routes
 * whose key ends there, in config order.  Walking a request's path (query
 * included, as prefix matches see it) down a tree visits exactly the
 * nodes whose key begins the path: their routes are the only ones whose
 * path match can hold.  Each of those, and every route no tree can hold
 * (safe_regex), is then checked in full -- path, headers, query -- by the
 * same function the plain scan uses (a prefix with no header or query
 * matcher and no runtime_fraction needs no check: reaching its node
 * proves it), and the smallest
 * index that matches wins: Envoy's first match, whatever order the
 * candidates came in.  Nothing is tried at or past the best index found
 * so far, and a subtree whose smallest route index is past it is not
 * walked, so a route early in the table stops the work early, as the
 * scan would.  What is left to grow with the table: routes on the
 * path's keys that carry header or query matchers or a runtime_fraction
 * are checked one by one, and so are the safe_regex routes before the
 * winner.
 *
 * Invariant: wrk_router_vhost() and wrk_router_route() answer what
 * wrk_router_vhost_scan() and wrk_router_route_scan() answer, for every
 * configuration and request.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router-int.h"
#include "router.h"

/* ---- domains ---------------------------------------------------------- */

struct wrk_dom {
	const char		*d_str;		/* NULL: an empty slot */
	size_t			 d_len;
	enum router_dom_kind	 d_kind;
	const struct cd_vhost	*d_vh;
};

/* The fold strncasecmp(3) does in the C locale, which workers keep. */
static inline unsigned char
lc(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static size_t
dom_hash(enum router_dom_kind k, const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL ^ ((uint64_t)k << 56);
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= lc((unsigned char)s[i]);
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29));
}

static bool
dom_eq(const struct wrk_dom *d, enum router_dom_kind k, const char *s,
    size_t len)
{
	size_t i;

	if (d->d_kind != k || d->d_len != len)
		return false;
	for (i = 0; i < len; i++)
		if (lc((unsigned char)d->d_str[i]) != lc((unsigned char)s[i]))
			return false;
	return true;
}

/* The slot of key (k, s), or the empty slot where it would go. */
static struct wrk_dom *
dom_slot(const struct wrk_router *ro, enum router_dom_kind k, const char *s,
    size_t len)
{
	size_t i = dom_hash(k, s, len) & ro->ro_dom_mask;

	while (ro->ro_dom[i].d_str != NULL && !dom_eq(&ro->ro_dom[i], k, s,
	    len))
		i = (i + 1) & ro->ro_dom_mask;
	return &ro->ro_dom[i];
}

static int
len_longest_first(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x > y ? -1 : x < y;
}

/* Sort lens[0, *n) longest first and drop repeats. */
static void
lens_unique(uint32_t *lens, size_t *n)
{
	size_t i, m = 0;

	qsort(lens, *n, sizeof(*lens), len_longest_first);
	for (i = 0; i < *n; i++)
		if (m == 0 || lens[m - 1] != lens[i])
			lens[m++] = lens[i];
	*n = m;
}

static int
dom_init(struct wrk_router *ro, const struct cd_listener *l)
{
	size_t i, j, n = 0, slots = 8, off, len;
	enum router_dom_kind k;
	struct wrk_dom *e;
	const char *d;

	for (i = 0; i < l->l_nvhosts; i++)
		n += l->l_vhosts[i].vh_ndomains;
	while (slots < 2 * n)
		slots *= 2;
	ro->ro_dom = calloc(slots, sizeof(*ro->ro_dom));
	ro->ro_suffix_len = calloc(n + 1, sizeof(*ro->ro_suffix_len));
	ro->ro_prefix_len = calloc(n + 1, sizeof(*ro->ro_prefix_len));
	if (ro->ro_dom == NULL || ro->ro_suffix_len == NULL ||
	    ro->ro_prefix_len == NULL)
		return -1;
	ro->ro_dom_mask = slots - 1;
	for (i = 0; i < l->l_nvhosts; i++)
		for (j = 0; j < l->l_vhosts[i].vh_ndomains; j++) {
			d = l->l_vhosts[i].vh_domains[j];
			if ((len = strlen(d)) > UINT32_MAX) {
				errno = EOVERFLOW;
				return -1;
			}
			k = router_dom_kind(d, len, &off, &len);
			if (k == ROUTER_DOM_STAR) {
				if (ro->ro_star == NULL)
					ro->ro_star = &l->l_vhosts[i];
				continue;
			}
			/* a repeated domain: the first in config order */
			if ((e = dom_slot(ro, k, d + off, len))->d_str != NULL)
				continue;
			e->d_str = d + off;
			e->d_len = len;
			e->d_kind = k;
			e->d_vh = &l->l_vhosts[i];
			ro->ro_ndom++;
			if (k == ROUTER_DOM_SUFFIX)
				ro->ro_suffix_len[ro->ro_nsuffix_len++] =
				    (uint32_t)len;
			else if (k == ROUTER_DOM_PREFIX)
				ro->ro_prefix_len[ro->ro_nprefix_len++] =
				    (uint32_t)len;
		}
	lens_unique(ro->ro_suffix_len, &ro->ro_nsuffix_len);
	lens_unique(ro->ro_prefix_len, &ro->ro_nprefix_len);
	return 0;
}

const struct cd_vhost *
wrk_router_vhost(const struct wrk_router *ro, const char *host, size_t len)
{
	const struct wrk_dom *e;
	size_t i, w;

	/* one "*" and nothing else: the usual case, no hashing */
	if (ro->ro_ndom == 0)
		return ro->ro_star;
	if ((e = dom_slot(ro, ROUTER_DOM_EXACT, host, len))->d_str != NULL)
		return e->d_vh;
	/* the wildcard stands for at least one character: w < len */
	for (i = 0; i < ro->ro_nsuffix_len; i++)
		if ((w = ro->ro_suffix_len[i]) < len && (e = dom_slot(ro,
		    ROUTER_DOM_SUFFIX, host + len - w, w))->d_str != NULL)
			return e->d_vh;
	for (i = 0; i < ro->ro_nprefix_len; i++)
		if ((w = ro->ro_prefix_len[i]) < len && (e = dom_slot(ro,
		    ROUTER_DOM_PREFIX, host, w))->d_str != NULL)
			return e->d_vh;
	return ro->ro_star;
}

/* ---- route tries ------------------------------------------------------ */

/* A radix tree node.  Children are contiguous, in byte order, and have
 * distinct first label bytes (t_first), which say the way down. */
struct rt_node {
	const char	*n_label;	/* the key bytes after the parent's */
	uint32_t	 n_llen;
	uint32_t	 n_child;	/* index of the first child */
	uint32_t	 n_nchild;
	uint32_t	 n_route;	/* t_routes[n_route, + n_nroute) */
	uint32_t	 n_nroute;
	uint32_t	 n_min;		/* smallest route index below */
};

/*
 * In t_routes, a route whose match the walk itself proves: a prefix with
 * no header or query matcher and no runtime_fraction.  Reaching its node
 * is enough.
 */
#define RT_PROVEN	0x80000000u
#define RT_INDEX	0x7fffffffu

struct rt_trie {
	struct rt_node	*t_nodes;	/* [0] the root, empty label */
	unsigned char	*t_first;	/* first label byte, by node */
	uint32_t	*t_routes;	/* route indices (| RT_PROVEN),
					 * ascending by node */
	char		*t_keys;	/* lower-cased keys (case-insensitive) */
	uint32_t	 t_nnodes;	/* 0: no route in this tree */
};

/* One virtual host's routes, compiled. */
struct wrk_rtab {
	struct rt_trie	 rt_trie[2];	/* case-sensitive, -insensitive */
	uint32_t	*rt_other;	/* routes no tree holds, ascending */
	uint32_t	 rt_nother;
};

/* A key while the tree is built, and the keys a node stands for. */
struct rt_key {
	const char	*k_str;
	uint32_t	 k_len;
	uint32_t	 k_route;
	uint32_t	 k_proven;	/* RT_PROVEN or 0 */
};

struct rt_span {
	uint32_t	 s_lo, s_hi;	/* keys [lo, hi) share ... */
	uint32_t	 s_depth;	/* ... their first depth bytes */
};

/* Bytes, then shorter first, then config order: a node's own keys come
 * first in its span and its routes come out ascending. */
static int
key_cmp(const void *a, const void *b)
{
	const struct rt_key *x = a, *y = b;
	int c;

	c = memcmp(x->k_str, y->k_str, x->k_len < y->k_len ? x->k_len :
	    y->k_len);
	if (c != 0)
		return c;
	if (x->k_len != y->k_len)
		return x->k_len < y->k_len ? -1 : 1;
	return x->k_route < y->k_route ? -1 : x->k_route > y->k_route;
}

/* Node i's children: one per distinct byte at the span's depth, each
 * labelled with its keys' longest common prefix past that depth. */
static void
trie_children(struct rt_trie *t, const struct rt_key *k, struct rt_span *sp,
    uint32_t i, uint32_t lo)
{
	uint32_t hi = sp[i].s_hi, d = sp[i].s_depth, e, l, m;
	struct rt_node *c;

	t->t_nodes[i].n_child = t->t_nnodes;
	while (lo < hi) {
		for (e = lo + 1; e < hi && k[e].k_str[d] == k[lo].k_str[d];
		    e++)
			;
		m = k[lo].k_len < k[e - 1].k_len ? k[lo].k_len :
		    k[e - 1].k_len;
		for (l = d + 1; l < m && k[lo].k_str[l] == k[e - 1].k_str[l];
		    l++)
			;
		c = &t->t_nodes[t->t_nnodes];
		c->n_label = k[lo].k_str + d;
		c->n_llen = l - d;
		t->t_first[t->t_nnodes] = (unsigned char)k[lo].k_str[d];
		sp[t->t_nnodes].s_lo = lo;
		sp[t->t_nnodes].s_hi = e;
		sp[t->t_nnodes].s_depth = l;
		t->t_nnodes++;
		lo = e;
	}
	t->t_nodes[i].n_nchild = t->t_nnodes - t->t_nodes[i].n_child;
}

/*
 * Build t from keys k[0, nk) (sorted here), breadth first so children
 * are contiguous.  Every node but the root ends a key or branches, so
 * 2 * nk + 1 nodes are enough.  0 or -1 with errno.
 */
static int
trie_build(struct rt_trie *t, struct rt_key *k, uint32_t nk)
{
	struct rt_span *sp;
	struct rt_node *n;
	uint32_t i, j, lo, nr = 0, cap = 2 * nk + 1;

	qsort(k, nk, sizeof(*k), key_cmp);
	t->t_nodes = calloc(cap, sizeof(*t->t_nodes));
	t->t_first = calloc(cap, 1);
	t->t_routes = calloc(nk, sizeof(*t->t_routes));
	if ((sp = calloc(cap, sizeof(*sp))) == NULL || t->t_nodes == NULL ||
	    t->t_first == NULL || t->t_routes == NULL) {
		free(sp);
		return -1;
	}
	t->t_nodes[0].n_label = "";
	sp[0].s_hi = nk;
	t->t_nnodes = 1;
	for (i = 0; i < t->t_nnodes; i++) {
		n = &t->t_nodes[i];
		n->n_route = nr;
		for (lo = sp[i].s_lo; lo < sp[i].s_hi &&
		    k[lo].k_len == sp[i].s_depth; lo++)
			t->t_routes[nr++] = k[lo].k_route | k[lo].k_proven;
		n->n_nroute = nr - n->n_route;
		trie_children(t, k, sp, i, lo);
	}
	free(sp);
	/* children come after their parent: fill n_min bottom up */
	for (i = t->t_nnodes; i-- > 0;) {
		n = &t->t_nodes[i];
		n->n_min = n->n_nroute > 0 ? t->t_routes[n->n_route] &
		    RT_INDEX : UINT32_MAX;
		for (j = 0; j < n->n_nchild; j++)
			if (t->t_nodes[n->n_child + j].n_min < n->n_min)
				n->n_min = t->t_nodes[n->n_child + j].n_min;
	}
	return 0;
}

static bool
route_in_trie(const struct cd_route_match *m)
{
	return m->rm_kind == CD_PM_PREFIX || m->rm_kind == CD_PM_PATH ||
	    m->rm_kind == CD_PM_SEP_PREFIX;
}

/* The keys of vh's routes for tree ci (0: case-sensitive, 1: not; the
 * keys of 1 lower-cased into t->t_keys); *nk of them, in k. */
static int
rtab_keys(const struct cd_vhost *vh, int ci, struct rt_trie *t,
    struct rt_key *k, uint32_t *nk)
{
	const struct cd_route_match *m;
	size_t i, j, bytes = 0;
	char *s;

	*nk = 0;
	for (i = 0; i < vh->vh_nroutes; i++) {
		m = &vh->vh_routes[i].rt_match;
		if (route_in_trie(m) && m->rm_case_sensitive == !ci)
			bytes += m->rm_len;
	}
	if (ci && (t->t_keys = malloc(bytes + 1)) == NULL)
		return -1;
	s = t->t_keys;
	for (i = 0; i < vh->vh_nroutes; i++) {
		m = &vh->vh_routes[i].rt_match;
		if (!route_in_trie(m) || m->rm_case_sensitive != !ci)
			continue;
		if (m->rm_len > UINT32_MAX / 2) {
			errno = EOVERFLOW;
			return -1;
		}
		k[*nk].k_str = m->rm_value;
		k[*nk].k_len = (uint32_t)m->rm_len;
		k[*nk].k_route = (uint32_t)i;
		k[*nk].k_proven = m->rm_kind == CD_PM_PREFIX &&
		    m->rm_nheaders == 0 && m->rm_nquery == 0 &&
		    !m->rm_fraction.rf_set ? RT_PROVEN : 0;
		if (ci) {
			for (j = 0; j < m->rm_len; j++)
				s[j] = (char)lc((unsigned char)m->rm_value[j]);
			k[*nk].k_str = s;
			s += m->rm_len;
		}
		(*nk)++;
	}
	return 0;
}

static int
rtab_init(struct wrk_rtab *tab, const struct cd_vhost *vh)
{
	struct rt_key *k;
	uint32_t nk, i;
	int ci, rc = -1;

	if (vh->vh_nroutes >= RT_INDEX) {
		errno = EOVERFLOW;
		return -1;
	}
	if ((k = calloc(vh->vh_nroutes + 1, sizeof(*k))) == NULL ||
	    (tab->rt_other = calloc(vh->vh_nroutes + 1,
	    sizeof(*tab->rt_other))) == NULL)
		goto out;
	for (i = 0; i < vh->vh_nroutes; i++)
		if (!route_in_trie(&vh->vh_routes[i].rt_match))
			tab->rt_other[tab->rt_nother++] = i;
	for (ci = 0; ci < 2; ci++) {
		if (rtab_keys(vh, ci, &tab->rt_trie[ci], k, &nk) == -1)
			goto out;
		if (nk > 0 && trie_build(&tab->rt_trie[ci], k, nk) == -1)
			goto out;
	}
	rc = 0;
out:
	free(k);
	return rc;
}

static void
rtab_free(struct wrk_rtab *tab)
{
	int ci;

	for (ci = 0; ci < 2; ci++) {
		free(tab->rt_trie[ci].t_nodes);
		free(tab->rt_trie[ci].t_first);
		free(tab->rt_trie[ci].t_routes);
		free(tab->rt_trie[ci].t_keys);
	}
	free(tab->rt_other);
	memset(tab, 0, sizeof(*tab));
}

/* The first of routes r[0, n) (ascending) below *best that matches. */
static void
rtab_try(const struct cd_vhost *vh, const uint32_t *r, uint32_t n,
    const struct wrk_rq_view *rv, uint32_t *best)
{
	uint32_t i, x;

	for (i = 0; i < n && (x = r[i] & RT_INDEX) < *best; i++)
		if ((r[i] & RT_PROVEN) != 0 ||
		    router_route_matches(&vh->vh_routes[x], rv->rv_path,
		    rv->rv_path_len, rv)) {
			*best = x;
			return;
		}
}

/* The child of node n whose label starts with c, or NULL.  Children are
 * in byte order (the keys were sorted): a binary search, no call. */
static inline const struct rt_node *
trie_child(const struct rt_trie *t, const struct rt_node *n, unsigned char c)
{
	const unsigned char *f = t->t_first + n->n_child;
	uint32_t lo = 0, hi = n->n_nchild, mid;

	while (hi - lo > 4) {
		mid = lo + (hi - lo) / 2;
		if (f[mid] <= c)
			lo = mid;
		else
			hi = mid;
	}
	for (; lo < hi; lo++)
		if (f[lo] == c)
			return &t->t_nodes[n->n_child + lo];
	return NULL;
}

/*
 * Walk the path down tree t (fold: the lower-cased one), trying the
 * routes of every node whose key begins the path.  Inlined twice, so
 * each copy has fold as a constant.
 */
static inline __attribute__((always_inline)) void
trie_walk(const struct rt_trie *t, bool fold, const struct cd_vhost *vh,
    const struct wrk_rq_view *rv, uint32_t *best)
{
	const unsigned char *p = (const unsigned char *)rv->rv_path;
	const struct rt_node *n = t->t_nodes;
	size_t len = rv->rv_path_len, d = 0, i;

	for (;;) {
		if (n->n_min >= *best)
			return;
		if (n->n_nroute > 0)
			rtab_try(vh, t->t_routes + n->n_route, n->n_nroute, rv,
			    best);
		if (d == len || (n = trie_child(t, n, fold ? lc(p[d]) :
		    p[d])) == NULL || n->n_llen > len - d)
			return;
		if (!fold) {
			if (n->n_llen > 1 && memcmp(p + d + 1, n->n_label + 1,
			    n->n_llen - 1) != 0)
				return;
		} else
			for (i = 1; i < n->n_llen; i++)
				if (lc(p[d + i]) != (unsigned char)n->n_label[i])
					return;
		d += n->n_llen;
	}
}

const struct cd_route *
wrk_router_route(const struct wrk_router *ro, const struct cd_vhost *vh,
    const struct wrk_rq_view *rv)
{
	uintptr_t at = (uintptr_t)vh, base = (uintptr_t)ro->ro_vhosts;
	const struct wrk_rtab *tab;
	uint32_t best = UINT32_MAX;

	/* a virtual host of another listener: nothing compiled for it */
	if (ro->ro_rtabs == NULL || at < base ||
	    at >= base + ro->ro_nvhosts * sizeof(*vh))
		return wrk_router_route_scan(vh, rv);
	tab = &ro->ro_rtabs[(at - base) / sizeof(*vh)];
	if (tab->rt_trie[0].t_nnodes > 0)
		trie_walk(&tab->rt_trie[0], false, vh, rv, &best);
	if (tab->rt_trie[1].t_nnodes > 0)
		trie_walk(&tab->rt_trie[1], true, vh, rv, &best);
	if (tab->rt_nother > 0)
		rtab_try(vh, tab->rt_other, tab->rt_nother, rv, &best);
	return best < vh->vh_nroutes ? &vh->vh_routes[best] : NULL;
}

/* ---- the whole index -------------------------------------------------- */

int
wrk_router_init(struct wrk_router *ro, const struct cd_listener *l)
{
	size_t i;
	int save;

	memset(ro, 0, sizeof(*ro));
	ro->ro_vhosts = l->l_vhosts;
	ro->ro_nvhosts = l->l_nvhosts;
	if (dom_init(ro, l) == -1)
		goto fail;
	if (l->l_nvhosts == 0)
		return 0;
	if ((ro->ro_rtabs = calloc(l->l_nvhosts, sizeof(*ro->ro_rtabs))) ==
	    NULL)
		goto fail;
	for (i = 0; i < l->l_nvhosts; i++)
		if (rtab_init(&ro->ro_rtabs[i], &l->l_vhosts[i]) == -1)
			goto fail;
	return 0;
fail:
	save = errno;
	wrk_router_free(ro);
	errno = save;
	return -1;
}

void
wrk_router_free(struct wrk_router *ro)
{
	size_t i;

	for (i = 0; ro->ro_rtabs != NULL && i < ro->ro_nvhosts; i++)
		rtab_free(&ro->ro_rtabs[i]);
	free(ro->ro_rtabs);
	free(ro->ro_dom);
	free(ro->ro_suffix_len);
	free(ro->ro_prefix_len);
	memset(ro, 0, sizeof(*ro));
}
