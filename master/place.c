/*
 * Placement of the running configuration in shm (see place.h).
 *
 * Invariant: mst.m_place is the placement of mst.m_conf; the records it
 * names are the running generation's.  A structural reload gives the new
 * configuration records that the running one does not use, except for
 * clusters that keep their name, so the generation that drains meanwhile
 * never sees its records change under it (the older generation that
 * could still use them is stopped before a reload is applied).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shared/conf-t.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "mst.h"
#include "place.h"

static struct cd_place	 place_run;	/* mst.m_place */
static struct cd_place	 place_new;	/* prepared for the next apply */
static bool		 place_fresh[CD_MAX_CLUSTERS];

void
mst_place_first(struct cd_place *pl)
{
	int i;

	memset(pl, 0, sizeof(*pl));
	for (i = 0; i < CD_MAX_CLUSTERS; i++)
		pl->pl_cluster[i] = i;
	for (i = 0; i < CD_MAX_SPLITS; i++)
		pl->pl_split[i] = i;
}

/* Give next's clusters their records; see mst_place_next(). */
static int
place_clusters(const struct cd_conf *now, const struct cd_place *now_pl,
    const struct cd_conf *next, struct cd_place *next_pl,
    bool fresh[CD_MAX_CLUSTERS])
{
	bool used[CD_MAX_CLUSTERS];
	size_t i, j;
	int k;

	memset(used, 0, sizeof(used));
	memset(fresh, 0, sizeof(bool) * CD_MAX_CLUSTERS);
	for (i = 0; i < now->c_nclusters; i++)
		used[now_pl->pl_cluster[i]] = true;
	for (i = 0; i < next->c_nclusters; i++) {
		next_pl->pl_cluster[i] = -1;
		for (j = 0; j < now->c_nclusters; j++)
			if (strcmp(now->c_clusters[j].cl_name,
			    next->c_clusters[i].cl_name) == 0)
				next_pl->pl_cluster[i] = now_pl->pl_cluster[j];
	}
	for (i = 0; i < next->c_nclusters; i++) {
		if (next_pl->pl_cluster[i] != -1)
			continue;
		for (k = 0; k < CD_MAX_CLUSTERS && used[k]; k++)
			;
		if (k == CD_MAX_CLUSTERS)
			return -1;
		used[k] = fresh[k] = true;
		next_pl->pl_cluster[i] = k;
	}
	return 0;
}

enum mst_place_rc
mst_place_next(const struct cd_conf *now, const struct cd_place *now_pl,
    const struct cd_conf *next, struct cd_place *next_pl,
    bool fresh[CD_MAX_CLUSTERS])
{
	int base = 0, half = CD_MAX_SPLITS / 2;
	size_t wi;

	memset(next_pl, 0, sizeof(*next_pl));
	if (place_clusters(now, now_pl, next, next_pl, fresh) == -1)
		return MST_PLACE_NO_CLUSTER;
	for (wi = 0; wi < now->c_nweighted; wi++)
		if (now_pl->pl_split[wi] < half)
			base = half;
	if (next->c_nweighted > (size_t)half)
		return MST_PLACE_NO_SPLIT;
	for (wi = 0; wi < next->c_nweighted; wi++)
		next_pl->pl_split[wi] = base + (int)wi;
	return MST_PLACE_OK;
}

void
mst_place_publish_weights(struct shm *shm, const struct cd_conf *conf,
    const struct cd_place *pl)
{
	const struct cd_listener *l = conf->c_listener;
	const struct cd_route *rt;
	uint32_t w[CD_MAX_WEIGHTED];
	size_t v, r, i;

	for (v = 0; v < l->l_nvhosts; v++)
		for (r = 0; r < l->l_vhosts[v].vh_nroutes; r++) {
			rt = &l->l_vhosts[v].vh_routes[r];
			if (rt->rt_action != CD_RA_WEIGHTED)
				continue;
			for (i = 0; i < rt->rt_nwc; i++)
				w[i] = rt->rt_wc[i].wc_weight;
			shm_split_publish(&shm->splits[pl->pl_split[rt->rt_wi]],
			    w, (uint32_t)rt->rt_nwc, 1);
		}
}

int
mst_place_prepare(enum mst_change ch, const struct cd_conf *next)
{
	switch (ch) {
	case MST_CH_START:
		mst_place_first(&place_new);
		memset(place_fresh, 0, sizeof(place_fresh));
		return 0;
	case MST_CH_WEIGHTS:
		/* same clusters in the same order, same weighted routes */
		place_new = place_run;
		memset(place_fresh, 0, sizeof(place_fresh));
		return 0;
	case MST_CH_STRUCTURAL:
		break;
	}
	switch (mst_place_next(mst.m_conf, mst.m_place, next, &place_new,
	    place_fresh)) {
	case MST_PLACE_OK:
		return 0;
	case MST_PLACE_NO_CLUSTER:
		log_error("reload: the running and the new configuration "
		    "together need more than %d clusters", CD_MAX_CLUSTERS);
		return -1;
	case MST_PLACE_NO_SPLIT:
		log_error("reload: more than %d weighted routes",
		    CD_MAX_SPLITS / 2);
		return -1;
	}
	return -1;
}

void
mst_place_apply(void)
{
	int k;

	place_run = place_new;
	mst.m_place = &place_run;
	for (k = 0; k < CD_MAX_CLUSTERS; k++)
		if (place_fresh[k])
			shm_cluster_reset(mst.m_shm, k);
	mst_place_publish_weights(mst.m_shm, mst.m_conf, mst.m_place);
}
