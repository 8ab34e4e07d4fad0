/*
 * Placement of the running configuration in shm (see place.h).
 *
 * Invariant: mst.m_place is the placement of mst.m_conf; the records it
 * names are the running generation's.  A structural reload gives the new
 * configuration records that the running one does not use, except for
 * clusters that keep their name (and fit their record's host range), so
 * the generation that drains meanwhile never sees its records change
 * under it (the older generation that could still use them is stopped
 * before a reload is applied).
 *
 * A placement's arrays are one allocation.  Workers of a generation read
 * a copy of its placement struct, so the arrays of the last
 * PLACE_KEEP applied placements stay allocated: the running one, the
 * draining one, and the one before (stopped before a reload applies).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/conf-t.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "mst.h"
#include "place.h"
#include "runtime.h"

#define PLACE_KEEP	3

static struct cd_place	 place_run;	/* mst.m_place */
static struct cd_place	 place_new;	/* prepared for the next apply */
static bool		*place_fresh;	/* shm records, h_ncl */
static bool		 place_rl_fresh;	/* buckets to reset */
static bool		 place_sp_fresh;	/* split records to lay out */
/* listener records mst_place_next() gave a new listener (h_nlsn), then
 * as many of scratch */
static bool		*place_lfresh;
static size_t		 place_nlfresh;
static int		*place_kept[PLACE_KEEP];	/* applied, newest first */

int
mst_place_alloc(struct cd_place *pl, const struct cd_conf *conf)
{
	size_t nc = conf->c_nclusters, ns = conf->c_nweighted,
	    nf = conf->c_nfractions, nr = conf->c_nlrl,
	    nl = conf->c_nlisteners;
	int *a;

	if ((a = calloc(nc + ns + nf + nr + nl + 1, sizeof(int))) == NULL)
		return -1;
	pl->pl_cluster = a;
	pl->pl_split = a + nc;
	pl->pl_fraction = a + nc + ns;
	pl->pl_ratelimit = a + nc + ns + nf;
	pl->pl_listener = a + nc + ns + nf + nr;
	return 0;
}

void
mst_place_free(struct cd_place *pl)
{
	free(pl->pl_cluster);
	memset(pl, 0, sizeof(*pl));
}

int
mst_place_first(struct cd_place *pl, const struct cd_conf *conf)
{
	size_t i;

	if (mst_place_alloc(pl, conf) == -1)
		return -1;
	for (i = 0; i < conf->c_nclusters; i++)
		pl->pl_cluster[i] = (int)i;
	for (i = 0; i < conf->c_nlisteners; i++)
		pl->pl_listener[i] = (int)i;
	for (i = 0; i < conf->c_nlrl; i++)
		pl->pl_ratelimit[i] = (int)i;
	for (i = 0; i < conf->c_nweighted; i++)
		pl->pl_split[i] = (int)i;
	for (i = 0; i < conf->c_nfractions; i++)
		pl->pl_fraction[i] = (int)i;
	return 0;
}

uint32_t
mst_place_hcap(const struct cd_cluster *cl)
{
	switch (cl->cl_type) {
	case CD_CT_STATIC:
		return cl->cl_nendpoints > 0 ? (uint32_t)cl->cl_nendpoints : 1;
	case CD_CT_LOGICAL_DNS:
		return 1;
	default:
		return cl->cl_nendpoints > CD_DNS_HOSTS ?
		    (uint32_t)cl->cl_nendpoints : CD_DNS_HOSTS;
	}
}

size_t
mst_place_nweights(const struct cd_conf *conf)
{
	const struct cd_route *rt;
	struct cd_route_it it;
	size_t n = 0;

	memset(&it, 0, sizeof(it));
	while ((rt = conf_route_next(conf, &it)) != NULL)
		if (rt->rt_action == CD_RA_WEIGHTED)
			n += rt->rt_nwc;
	return n;
}

void
mst_place_size(const struct cd_conf *conf, int workers, size_t bytes,
    struct shm_size *sz)
{
	size_t i, hosts = 0;

	for (i = 0; i < conf->c_nclusters; i++)
		hosts += mst_place_hcap(&conf->c_clusters[i]);
	memset(sz, 0, sizeof(*sz));
	/* twice the configuration and some: a reload may rename every
	 * cluster, and a new generation takes the other split half */
	sz->ss_clusters = (uint32_t)(2 * conf->c_nclusters + 64);
	sz->ss_listeners = (uint32_t)(2 * conf->c_nlisteners + 16);
	sz->ss_hosts = (uint32_t)(2 * hosts + 64 * CD_DNS_HOSTS);
	sz->ss_splits = (uint32_t)(conf->c_nweighted + 64);
	/* a half holds one generation's weights; room for 64 more routes
	 * of a few clusters each */
	sz->ss_weights = (uint32_t)(mst_place_nweights(conf) + 64 * 4);
	sz->ss_fractions = (uint32_t)(conf->c_nfractions + 64);
	sz->ss_ratelimits = (uint32_t)(conf->c_nlrl + 64);
	sz->ss_workers = (uint32_t)(workers > 0 ? workers : 1);
	sz->ss_bytes = bytes;
}

/*
 * Records next[0, next_n) of max: the half that now[0, now_n) leaves
 * free, so the draining generation keeps its own.  -1 when next_n is
 * more than a half.
 */
static int
place_half(const int *now, size_t now_n, int *next, size_t next_n, int max)
{
	int base = 0, half = max / 2;
	size_t i;

	for (i = 0; i < now_n; i++)
		if (now[i] < half)
			base = half;
	if (next_n > (size_t)half)
		return -1;
	for (i = 0; i < next_n; i++)
		next[i] = base + (int)i;
	return 0;
}

/* Record k's room for hosts, 0 for none yet. */
static uint32_t
rec_hcap(const struct shm *shm, int k)
{
	const struct shm_cluster *sc = shm_cl(shm, k);

	return sc->sc_hoff != 0 ? sc->sc_hcap : 0;
}

/* Give next's clusters their records; see mst_place_next(). */
static int
place_clusters(const struct cd_conf *now, const struct cd_place *now_pl,
    const struct cd_conf *next, struct cd_place *next_pl, bool *fresh,
    const struct shm *shm)
{
	int ncl = (int)shm->hdr.h_ncl, k = 0, j;
	uint32_t need, hosts = 0;
	bool *used = fresh + ncl;	/* the caller's second half */
	size_t i;

	memset(fresh, 0, sizeof(bool) * 2 * (size_t)ncl);
	for (i = 0; i < now->c_nclusters; i++)
		used[now_pl->pl_cluster[i]] = true;
	for (i = 0; i < next->c_nclusters; i++) {
		next_pl->pl_cluster[i] = -1;
		j = conf_cluster_index(now, next->c_clusters[i].cl_name);
		if (j != -1 && rec_hcap(shm, now_pl->pl_cluster[j]) >=
		    mst_place_hcap(&next->c_clusters[i]))
			next_pl->pl_cluster[i] = now_pl->pl_cluster[j];
	}
	for (i = 0; i < next->c_nclusters; i++) {
		if (next_pl->pl_cluster[i] != -1)
			continue;
		while (k < ncl && used[k])
			k++;
		if (k == ncl)
			return MST_PLACE_NO_CLUSTER;
		used[k] = fresh[k] = true;
		next_pl->pl_cluster[i] = k;
		need = mst_place_hcap(&next->c_clusters[i]);
		if (rec_hcap(shm, k) < need)
			hosts += need;
	}
	if (hosts > shm->hdr.h_nhosts - atomic_load(&shm->hdr.h_hosts_used))
		return MST_PLACE_NO_HOSTS;
	return MST_PLACE_OK;
}

/* place_lfresh for n records, all clear (and its scratch); -1: no
 * memory. */
static int
place_lfresh_clear(size_t n)
{
	bool *p;

	if (n > place_nlfresh) {
		if ((p = reallocarray(place_lfresh, n, 2 * sizeof(*p))) ==
		    NULL)
			return -1;
		place_lfresh = p;
		place_nlfresh = n;
	}
	memset(place_lfresh, 0, 2 * place_nlfresh * sizeof(*place_lfresh));
	return 0;
}

/* Give next's listeners their records, as place_clusters() does, by
 * name. */
static enum mst_place_rc
place_listeners(const struct cd_conf *now, const struct cd_place *now_pl,
    const struct cd_conf *next, struct cd_place *next_pl,
    const struct shm *shm)
{
	size_t i, k = 0, nrec = shm->hdr.h_nlsn;
	bool *used;
	int j;

	if (place_lfresh_clear(nrec) == -1)
		return MST_PLACE_NO_MEMORY;
	used = place_lfresh + place_nlfresh;
	for (i = 0; i < now->c_nlisteners; i++)
		used[now_pl->pl_listener[i]] = true;
	for (i = 0; i < next->c_nlisteners; i++) {
		j = conf_listener_index(now, next->c_listeners[i].l_name);
		next_pl->pl_listener[i] = j != -1 ? now_pl->pl_listener[j] :
		    -1;
	}
	for (i = 0; i < next->c_nlisteners; i++) {
		if (next_pl->pl_listener[i] != -1)
			continue;
		while (k < nrec && used[k])
			k++;
		if (k == nrec)
			return MST_PLACE_NO_LISTENER;
		used[k] = place_lfresh[k] = true;
		next_pl->pl_listener[i] = (int)k;
	}
	return MST_PLACE_OK;
}

enum mst_place_rc
mst_place_next(const struct cd_conf *now, const struct cd_place *now_pl,
    const struct cd_conf *next, struct cd_place *next_pl, bool *fresh,
    const struct shm *shm)
{
	enum mst_place_rc rc;

	if ((rc = place_clusters(now, now_pl, next, next_pl, fresh, shm)) !=
	    MST_PLACE_OK)
		return rc;
	if ((rc = place_listeners(now, now_pl, next, next_pl, shm)) !=
	    MST_PLACE_OK)
		return rc;
	if (place_half(now_pl->pl_split, now->c_nweighted, next_pl->pl_split,
	    next->c_nweighted, (int)shm->hdr.h_nsplits) == -1)
		return MST_PLACE_NO_SPLIT;
	if (mst_place_nweights(next) > shm->hdr.h_nweights / 2)
		return MST_PLACE_NO_WEIGHTS;
	if (place_half(now_pl->pl_fraction, now->c_nfractions,
	    next_pl->pl_fraction, next->c_nfractions,
	    (int)shm->hdr.h_nfrac) == -1)
		return MST_PLACE_NO_FRACTION;
	if (place_half(now_pl->pl_ratelimit, now->c_nlrl,
	    next_pl->pl_ratelimit, next->c_nlrl, (int)shm->hdr.h_nrl) == -1)
		return MST_PLACE_NO_RATELIMIT;
	return MST_PLACE_OK;
}

void
mst_place_publish_weights(struct shm *shm, const struct cd_conf *conf,
    const struct cd_place *pl)
{
	/* the file's weights, or the runtime's where its keys say */
	mst_runtime_publish(shm, conf, pl, mst_runtime_admin(), true);
}

/* Why the segment cannot hold next: the limit, and the knob. */
static void
place_refuse(enum mst_place_rc rc, const struct cd_conf *next)
{
	const struct shm_hdr *h = &mst.m_shm->hdr;
	const char *what = "?";
	uint32_t have = 0;
	size_t want = 0;

	switch (rc) {
	case MST_PLACE_NO_CLUSTER:
		what = "cluster records (the running and the new "
		    "configuration's, the names they share counted once)";
		have = h->h_ncl;
		want = mst.m_conf->c_nclusters + next->c_nclusters;
		break;
	case MST_PLACE_NO_HOSTS:
		what = "host records";
		have = h->h_nhosts - atomic_load(&h->h_hosts_used);
		break;
	case MST_PLACE_NO_LISTENER:
		what = "listener records (the running and the new "
		    "configuration's, the names they share counted once)";
		have = h->h_nlsn;
		want = mst.m_conf->c_nlisteners + next->c_nlisteners;
		break;
	case MST_PLACE_NO_MEMORY:
		log_error("reload: out of memory placing the new "
		    "configuration's listeners");
		return;
	case MST_PLACE_NO_SPLIT:
		what = "weighted route records per generation";
		have = h->h_nsplits / 2;
		want = next->c_nweighted;
		break;
	case MST_PLACE_NO_WEIGHTS:
		what = "split weights (the clusters of every "
		    "weighted_clusters) per generation";
		have = h->h_nweights / 2;
		want = mst_place_nweights(next);
		break;
	case MST_PLACE_NO_FRACTION:
		what = "runtime_fraction records per generation";
		have = h->h_nfrac / 2;
		want = next->c_nfractions;
		break;
	case MST_PLACE_NO_RATELIMIT:
		what = "local_ratelimit token buckets per generation";
		have = h->h_nrl / 2;
		want = next->c_nlrl;
		break;
	case MST_PLACE_OK:
		break;
	}
	log_error("reload: the shared memory segment has room for %u %s, "
	    "the new configuration needs more (up to %zu): the segment is "
	    "sized at start from the configuration loaded then (%zu bytes); "
	    "restart canaryd with this configuration, or with a larger "
	    "--shm-size", have, what, want, h->h_size);
}

int
mst_place_prepare(enum mst_change ch, const struct cd_conf *next)
{
	enum mst_place_rc rc;
	size_t n = mst.m_shm->hdr.h_ncl;

	mst_place_free(&place_new);
	if (place_fresh == NULL &&
	    (place_fresh = calloc(2 * n, sizeof(*place_fresh))) == NULL) {
		log_warn("placement");
		return -1;
	}
	switch (ch) {
	case MST_CH_START:
		memset(place_fresh, 0, n * sizeof(*place_fresh));
		if (mst_place_first(&place_new, next) == -1) {
			log_warn("placement");
			return -1;
		}
		place_rl_fresh = place_sp_fresh = true;
		/* a new segment: its listener records are zero */
		if (place_lfresh_clear(mst.m_shm->hdr.h_nlsn) == -1) {
			log_warn("placement");
			return -1;
		}
		for (n = 0; n < next->c_nclusters; n++)
			place_fresh[n] = true;
		return 0;
	case MST_CH_WEIGHTS:
		/* same clusters in the same order, same weighted routes */
		if (mst_place_alloc(&place_new, next) == -1) {
			log_warn("placement");
			return -1;
		}
		memcpy(place_new.pl_cluster, place_run.pl_cluster, sizeof(int) *
		    (next->c_nclusters + next->c_nweighted + next->c_nfractions +
		    next->c_nlrl + next->c_nlisteners));
		memset(place_fresh, 0, n * sizeof(*place_fresh));
		/* the same clusters per split: the records keep their room,
		 * which the running workers read */
		place_rl_fresh = place_sp_fresh = false;
		if (place_lfresh_clear(mst.m_shm->hdr.h_nlsn) == -1) {
			log_warn("placement");
			return -1;
		}
		return 0;
	case MST_CH_STRUCTURAL:
		break;
	}
	place_rl_fresh = place_sp_fresh = true;
	if (mst_place_alloc(&place_new, next) == -1) {
		log_warn("placement");
		return -1;
	}
	rc = mst_place_next(mst.m_conf, mst.m_place, next, &place_new,
	    place_fresh, mst.m_shm);
	if (rc == MST_PLACE_OK)
		return 0;
	place_refuse(rc, next);
	mst_place_free(&place_new);
	return -1;
}

void
mst_place_split_rooms(struct shm *shm, const struct cd_conf *conf,
    const struct cd_place *pl)
{
	const struct cd_route *rt;
	struct cd_route_it it;
	uint32_t first[2] = { 0, shm->hdr.h_nweights / 2 }, *f;
	int si;

	memset(&it, 0, sizeof(it));
	while ((rt = conf_route_next(conf, &it)) != NULL) {
		if (rt->rt_action != CD_RA_WEIGHTED)
			continue;
		si = pl->pl_split[rt->rt_wi];
		f = &first[(uint32_t)si >= shm->hdr.h_nsplits / 2];
		/* checked by mst_place_next(): the half has room */
		if (shm_split_room(shm, si, *f, (uint32_t)rt->rt_nwc) == -1)
			fatal("shared memory: no room for the weights of a "
			    "weighted route");
		*f += (uint32_t)rt->rt_nwc;
	}
}

void
mst_place_apply(void)
{
	const struct cd_conf *conf = mst.m_conf;
	size_t i;
	int k;

	free(place_kept[PLACE_KEEP - 1]);
	memmove(&place_kept[1], &place_kept[0],
	    (PLACE_KEEP - 1) * sizeof(place_kept[0]));
	place_kept[0] = place_new.pl_cluster;
	place_run = place_new;
	memset(&place_new, 0, sizeof(place_new));	/* kept, not freed */
	mst.m_place = &place_run;
	for (i = 0; i < conf->c_nclusters; i++) {
		k = place_run.pl_cluster[i];
		if (!place_fresh[k])
			continue;
		shm_cluster_reset(mst.m_shm, k);
		/* checked by mst_place_next(): the pool has room */
		if (shm_cluster_hosts(mst.m_shm, k,
		    mst_place_hcap(&conf->c_clusters[i])) == -1)
			fatal("shared memory: no room for the hosts of "
			    "cluster %s", conf->c_clusters[i].cl_name);
	}
	for (k = 0; place_rl_fresh && (size_t)k < mst.m_conf->c_nlrl; k++)
		shm_ratelimit_reset(shm_ratelimit(mst.m_shm,
		    mst.m_place->pl_ratelimit[k]));
	for (i = 0; i < place_nlfresh; i++)
		if (place_lfresh[i])
			shm_listener_reset(mst.m_shm, (int)i);
	if (place_sp_fresh)
		mst_place_split_rooms(mst.m_shm, conf, &place_run);
	mst_place_publish_weights(mst.m_shm, mst.m_conf, mst.m_place);
}
