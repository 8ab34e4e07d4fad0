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
#include "runtime.h"

static struct cd_place	 place_run;	/* mst.m_place */
static struct cd_place	 place_new;	/* prepared for the next apply */
static bool		 place_fresh[CD_MAX_CLUSTERS];
static bool		 place_rl_fresh;	/* buckets to reset */
/* listener records mst_place_next() gave a new listener */
static bool		 place_lfresh[CD_MAX_LISTENERS];

void
mst_place_first(struct cd_place *pl)
{
	int i;

	memset(pl, 0, sizeof(*pl));
	for (i = 0; i < CD_MAX_CLUSTERS; i++)
		pl->pl_cluster[i] = i;
	for (i = 0; i < CD_MAX_LISTENERS; i++)
		pl->pl_listener[i] = i;
	for (i = 0; i < CD_MAX_SPLITS; i++)
		pl->pl_split[i] = i;
	for (i = 0; i < CD_MAX_FRACTIONS; i++)
		pl->pl_fraction[i] = i;
	for (i = 0; i < CD_MAX_RATELIMITS; i++)
		pl->pl_ratelimit[i] = i;
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

static bool
same_name(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Give next's listeners their records, as place_clusters() does, by
 * name; -1 when the two configurations need too many. */
static int
place_listeners(const struct cd_conf *now, const struct cd_place *now_pl,
    const struct cd_conf *next, struct cd_place *next_pl)
{
	bool used[CD_MAX_LISTENERS];
	size_t i, j;
	int k;

	memset(used, 0, sizeof(used));
	memset(place_lfresh, 0, sizeof(place_lfresh));
	for (i = 0; i < now->c_nlisteners; i++)
		used[now_pl->pl_listener[i]] = true;
	for (i = 0; i < next->c_nlisteners; i++) {
		next_pl->pl_listener[i] = -1;
		for (j = 0; j < now->c_nlisteners; j++)
			if (same_name(now->c_listeners[j].l_name,
			    next->c_listeners[i].l_name))
				next_pl->pl_listener[i] = now_pl->pl_listener[j];
	}
	for (i = 0; i < next->c_nlisteners; i++) {
		if (next_pl->pl_listener[i] != -1)
			continue;
		for (k = 0; k < CD_MAX_LISTENERS && used[k]; k++)
			;
		if (k == CD_MAX_LISTENERS)
			return -1;
		used[k] = place_lfresh[k] = true;
		next_pl->pl_listener[i] = k;
	}
	return 0;
}

enum mst_place_rc
mst_place_next(const struct cd_conf *now, const struct cd_place *now_pl,
    const struct cd_conf *next, struct cd_place *next_pl,
    bool fresh[CD_MAX_CLUSTERS])
{
	memset(next_pl, 0, sizeof(*next_pl));
	if (place_clusters(now, now_pl, next, next_pl, fresh) == -1)
		return MST_PLACE_NO_CLUSTER;
	if (place_listeners(now, now_pl, next, next_pl) == -1)
		return MST_PLACE_NO_LISTENER;
	if (place_half(now_pl->pl_split, now->c_nweighted, next_pl->pl_split,
	    next->c_nweighted, CD_MAX_SPLITS) == -1)
		return MST_PLACE_NO_SPLIT;
	if (place_half(now_pl->pl_fraction, now->c_nfractions,
	    next_pl->pl_fraction, next->c_nfractions, CD_MAX_FRACTIONS) == -1)
		return MST_PLACE_NO_FRACTION;
	/* a bucket's record holds CD_MAX_RATELIMITS of each half: never
	 * short */
	if (place_half(now_pl->pl_ratelimit, now->c_nlrl,
	    next_pl->pl_ratelimit, next->c_nlrl, SHM_NRATELIMITS) == -1)
		return MST_PLACE_NO_FRACTION;
	return MST_PLACE_OK;
}

void
mst_place_publish_weights(struct shm *shm, const struct cd_conf *conf,
    const struct cd_place *pl)
{
	/* the file's weights, or the runtime's where its keys say */
	mst_runtime_publish(shm, conf, pl, mst_runtime_admin(), true);
}

int
mst_place_prepare(enum mst_change ch, const struct cd_conf *next)
{
	switch (ch) {
	case MST_CH_START:
		mst_place_first(&place_new);
		memset(place_fresh, 0, sizeof(place_fresh));
		place_rl_fresh = true;
		memset(place_lfresh, 0, sizeof(place_lfresh));
		return 0;
	case MST_CH_WEIGHTS:
		/* same clusters in the same order, same weighted routes */
		place_new = place_run;
		memset(place_fresh, 0, sizeof(place_fresh));
		place_rl_fresh = false;
		memset(place_lfresh, 0, sizeof(place_lfresh));
		return 0;
	case MST_CH_STRUCTURAL:
		break;
	}
	place_rl_fresh = true;
	switch (mst_place_next(mst.m_conf, mst.m_place, next, &place_new,
	    place_fresh)) {
	case MST_PLACE_OK:
		return 0;
	case MST_PLACE_NO_CLUSTER:
		log_error("reload: the running and the new configuration "
		    "together need more than %d clusters", CD_MAX_CLUSTERS);
		return -1;
	case MST_PLACE_NO_LISTENER:
		log_error("reload: the running and the new configuration "
		    "together have more than %d listeners", CD_MAX_LISTENERS);
		return -1;
	case MST_PLACE_NO_SPLIT:
		log_error("reload: more than %d weighted routes",
		    CD_MAX_SPLITS / 2);
		return -1;
	case MST_PLACE_NO_FRACTION:
		log_error("reload: more than %d routes with runtime_fraction",
		    CD_MAX_FRACTIONS / 2);
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
	for (k = 0; place_rl_fresh && (size_t)k < mst.m_conf->c_nlrl; k++)
		shm_ratelimit_reset(shm_ratelimit(mst.m_shm,
		    mst.m_place->pl_ratelimit[k]));
	for (k = 0; k < CD_MAX_LISTENERS; k++)
		if (place_lfresh[k])
			shm_listener_reset(mst.m_shm, k);
	mst_place_publish_weights(mst.m_shm, mst.m_conf, mst.m_place);
}
