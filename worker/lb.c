/*
 * LEAST_REQUEST, RING_HASH and MAGLEV (see lb.h).
 *
 * The ring: each usable weight gets entries in proportion to its host's
 * weight, at least minimum_ring_size in all (at most maximum_ring_size),
 * every entry a point hash of the host's address and the entry's number;
 * a key goes to the first point at or after its hash.  Maglev: Envoy's
 * weighted permutation table of table_size entries (a prime); a key
 * goes to entry hash mod size.  Hosts keep their entries while they are
 * unhealthy; a lookup walks on to the next entry whose host is usable,
 * so a key moves only while its host cannot take it.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "shared/http1.h"
#include "shared/shm.h"
#include "lb.h"
#include "sticky.h"

/* FNV-1a, then a splitmix64 finalizer: spreads short keys over 64 bits. */
uint64_t
wrk_lb_hash(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* A host's hash for its k-th entry: its address, port and k. */
static uint64_t
lb_host_hash(const struct shm_host *h, uint64_t k)
{
	unsigned char b[16 + 2 + 8];

	memcpy(b, h->sh_addr, 16);
	memcpy(b + 16, &h->sh_port, 2);
	memcpy(b + 18, &k, 8);
	return wrk_lb_hash(b, sizeof(b));
}

static uint32_t
lb_weight(const struct shm_host *h)
{
	return h->sh_weight != 0 ? h->sh_weight : 1;
}

void
wrk_lb_table_free(struct wrk_lb_table *t)
{
	free(t->lt_point);
	free(t->lt_host);
	memset(t, 0, sizeof(*t));
}

struct lb_point {
	uint64_t	 p_hash;
	uint32_t	 p_host;
};

static int
lb_point_cmp(const void *a, const void *b)
{
	const struct lb_point *x = a, *y = b;

	return x->p_hash < y->p_hash ? -1 : x->p_hash > y->p_hash;
}

static int
lb_ring_build(const struct cd_cluster *cl, struct wrk_lb_table *t,
    const struct shm_host *hosts, uint32_t n)
{
	uint64_t sum = 0, size, reps, k, m = 0;
	struct lb_point *pt;
	uint32_t i;

	for (i = 0; i < n; i++)
		sum += lb_weight(&hosts[i]);
	size = cl->cl_ring_min > n ? cl->cl_ring_min : n;
	if (size > cl->cl_ring_max)
		size = cl->cl_ring_max;
	/* each host at least one entry: the total may pass size a little */
	if ((pt = calloc(size + n, sizeof(*pt))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		reps = (size * lb_weight(&hosts[i]) + sum / 2) / sum;
		if (reps == 0)
			reps = 1;
		for (k = 0; k < reps && m < size + n; k++) {
			pt[m].p_hash = lb_host_hash(&hosts[i], k);
			pt[m++].p_host = i;
		}
	}
	qsort(pt, m, sizeof(*pt), lb_point_cmp);
	t->lt_point = calloc(m, sizeof(*t->lt_point));
	t->lt_host = calloc(m, sizeof(*t->lt_host));
	if (t->lt_point == NULL || t->lt_host == NULL) {
		free(pt);
		return -1;
	}
	for (k = 0; k < m; k++) {
		t->lt_point[k] = pt[k].p_hash;
		t->lt_host[k] = pt[k].p_host;
	}
	t->lt_n = (uint32_t)m;
	free(pt);
	return 0;
}

/*
 * Envoy's weighted Maglev: every host has a permutation of the table
 * (offset, skip from two hashes of its address); in turns, each host
 * whose weight credit reached the largest weight takes its next free
 * entry, until the table is full.
 */
static int
lb_maglev_build(const struct cd_cluster *cl, struct wrk_lb_table *t,
    const struct shm_host *hosts, uint32_t n)
{
	struct lb_perm {
		uint64_t	 off, skip, next, credit;
	} *pm;
	uint64_t m = cl->cl_maglev_size, filled = 0, c, wmax = 0;
	uint32_t i;

	if ((t->lt_host = malloc(m * sizeof(*t->lt_host))) == NULL)
		return -1;
	if ((pm = calloc(n, sizeof(*pm))) == NULL) {
		free(t->lt_host);
		t->lt_host = NULL;
		return -1;
	}
	memset(t->lt_host, 0xff, m * sizeof(*t->lt_host));
	for (i = 0; i < n; i++) {
		pm[i].off = lb_host_hash(&hosts[i], 0) % m;
		pm[i].skip = lb_host_hash(&hosts[i], 1) % (m - 1) + 1;
		if (lb_weight(&hosts[i]) > wmax)
			wmax = lb_weight(&hosts[i]);
	}
	while (filled < m) {
		for (i = 0; i < n && filled < m; i++) {
			pm[i].credit += lb_weight(&hosts[i]);
			if (pm[i].credit < wmax)
				continue;
			pm[i].credit -= wmax;
			do
				c = (pm[i].off + pm[i].next++ * pm[i].skip) %
				    m;
			while (t->lt_host[c] != LB_NO_HOST);
			t->lt_host[c] = i;
			filled++;
		}
	}
	free(pm);
	t->lt_n = (uint32_t)m;
	return 0;
}

int
wrk_lb_table_build(const struct cd_cluster *cl, struct wrk_lb_table *t,
    const struct shm_host *hosts, uint32_t n)
{
	wrk_lb_table_free(t);
	if (n == 0)
		return 0;
	return cl->cl_lb == CD_LB_MAGLEV ? lb_maglev_build(cl, t, hosts, n) :
	    lb_ring_build(cl, t, hosts, n);
}

/* Which hosts may take a request: the healthy ones, or every one when
 * the healthy share is under the panic threshold. */
static bool
lb_all_usable(const uint32_t *flags, uint32_t n, uint32_t panic_pct,
    bool *panic)
{
	uint32_t i, healthy = 0;

	for (i = 0; i < n; i++)
		if ((flags[i] & SHM_HF_UNHEALTHY) == 0)
			healthy++;
	*panic = healthy < n && panic_pct > 0 && (uint64_t)healthy * 100 <
	    (uint64_t)panic_pct * n;
	return healthy == n || *panic;
}

#define USABLE(i)	(all || (flags[(i)] & SHM_HF_UNHEALTHY) == 0)

/* The first usable entry from e on (wrapping); -1 when none is. */
static int
lb_walk(const struct wrk_lb_table *t, uint64_t e, const uint32_t *flags,
    bool all)
{
	uint64_t k;
	uint32_t h;

	for (k = 0; k < t->lt_n; k++) {
		h = t->lt_host[(e + k) % t->lt_n];
		if (h != LB_NO_HOST && USABLE(h))
			return h;
	}
	return -1;
}

/* The first ring entry at or after key. */
static uint64_t
lb_ring_find(const struct wrk_lb_table *t, uint64_t key)
{
	uint64_t lo = 0, hi = t->lt_n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->lt_point[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == t->lt_n ? 0 : lo;
}

/* choice_count hosts drawn at random: the one with the fewest active
 * requests (across every worker) for its weight. */
static int
lb_least_request(const struct cd_cluster *cl, const struct shm_host *hosts,
    const uint32_t *flags, uint32_t n, bool all, const struct shm *shm,
    int sc_ci)
{
	uint32_t c, i, k, nu = 0;
	uint64_t best_score = 0, score;
	int best = -1;

	for (i = 0; i < n; i++)
		if (USABLE(i))
			nu++;
	if (nu == 0)
		return -1;
	for (c = 0; c < cl->cl_lr_choices; c++) {
		/* the k-th usable host, without a list of them */
		k = arc4random_uniform(nu);
		if (nu == n)
			i = k;
		else
			for (i = 0; i < n; i++)
				if (USABLE(i) && k-- == 0)
					break;
		/* (active + 1) / weight, compared without a division */
		score = ((uint64_t)shm_sum_host_g(shm, sc_ci, (int)i,
		    HOG_RQ_ACTIVE) + 1) * 1000000 / lb_weight(&hosts[i]);
		if (best < 0 || score < best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

int
wrk_lb_pick(const struct cd_cluster *cl, struct wrk_lb_table *t, uint32_t seq,
    const struct shm_host *hosts, const uint32_t *flags, uint32_t n,
    const uint64_t *hash, const struct shm *shm, int sc_ci, bool *panic)
{
	uint64_t key;
	bool all;

	if (n == 0)
		return -1;
	all = lb_all_usable(flags, n, cl->cl_panic_threshold, panic);
	if (cl->cl_lb == CD_LB_LEAST_REQUEST)
		return lb_least_request(cl, hosts, flags, n, all, shm, sc_ci);
	if (!t->lt_valid || t->lt_seq != seq) {
		if (wrk_lb_table_build(cl, t, hosts, n) == -1)
			return -1;
		t->lt_seq = seq;
		t->lt_valid = true;
	}
	if (t->lt_n == 0)
		return -1;
	if (hash != NULL)
		key = *hash;
	else
		arc4random_buf(&key, sizeof(key));
	if (cl->cl_lb == CD_LB_MAGLEV)
		return lb_walk(t, key % t->lt_n, flags, all);
	return lb_walk(t, lb_ring_find(t, key), flags, all);
}

/* The first value of query parameter name in path's query, as sent. */
static bool
lb_query_param(const char *path, size_t plen, const char *name,
    const char **v, size_t *vlen)
{
	const char *q = memchr(path, '?', plen), *end = path + plen, *p, *e;
	size_t nlen = strlen(name);

	if (q == NULL)
		return false;
	for (p = q + 1; p < end; p = e + 1) {
		if ((e = memchr(p, '&', (size_t)(end - p))) == NULL)
			e = end;
		if ((size_t)(e - p) > nlen && memcmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			*v = p + nlen + 1;
			*vlen = (size_t)(e - *v);
			return true;
		}
	}
	return false;
}

/* The client's address bytes (16, IPv4 mapped) of socket fd. */
static bool
lb_source_ip(int fd, unsigned char out[16])
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return false;
	memset(out, 0, 16);
	if (ss.ss_family == AF_INET)
		memcpy(out + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else if (ss.ss_family == AF_INET6)
		memcpy(out, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	else
		return false;
	return true;
}

bool
wrk_lb_request_hash(const struct cd_route *rt, const char *base,
    const struct http1_hdr *hdrs, uint16_t nhdrs, const char *path,
    size_t plen, int fd, uint64_t *out)
{
	const struct cd_hash_policy *hp;
	unsigned char ip[16];
	const char *v = NULL;
	size_t i, vlen = 0;
	uint64_t h = 0, x;
	bool have = false, found;

	for (i = 0; i < rt->rt_nhash; i++) {
		hp = &rt->rt_hash[i];
		switch (hp->hp_kind) {
		case CD_HASH_HEADER:
			found = wrk_sticky_header(base, hdrs, nhdrs,
			    hp->hp_name, &v, &vlen);
			break;
		case CD_HASH_COOKIE:
			found = wrk_sticky_cookie(base, hdrs, nhdrs,
			    hp->hp_name, &v, &vlen);
			break;
		case CD_HASH_QUERY:
			found = lb_query_param(path, plen, hp->hp_name, &v,
			    &vlen);
			break;
		case CD_HASH_SOURCE_IP:
			if ((found = lb_source_ip(fd, ip))) {
				v = (const char *)ip;
				vlen = sizeof(ip);
			}
			break;
		default:
			found = false;
		}
		if (!found)
			continue;
		x = wrk_lb_hash(v, vlen);
		h = have ? ((h << 1) | (h >> 63)) ^ x : x;
		have = true;
		if (hp->hp_terminal)
			break;
	}
	*out = h;
	return have;
}
