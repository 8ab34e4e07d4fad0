/*
 * Configuration reload on SIGHUP (see reload.h).
 *
 * Whether two configurations differ only in weights is decided on their
 * /config_dump renderings with every weighted-cluster weight blanked out:
 * the renderer already covers every field the loader accepts, so a field
 * added later can never be forgotten here.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "accesslog.h"
#include "admin.h"
#include "dns.h"
#include "health.h"
#include "loop.h"
#include "mst.h"
#include "notify.h"
#include "outlier.h"
#include "proc.h"
#include "reload.h"
#include "rollout.h"

/*
 * Give next's clusters their shm records: a cluster that keeps its name
 * keeps its record (its counters carry on); a new one takes a record that
 * no cluster of the running config uses, wiped first.  -1 when the two
 * configs together need more than CD_MAX_CLUSTERS records.
 */
static int
assign_cluster_slots(const struct cd_conf *now, struct cd_conf *next)
{
	uint8_t used[CD_MAX_CLUSTERS];
	size_t i, j;
	int k;

	memset(used, 0, sizeof(used));
	for (i = 0; i < now->c_nclusters; i++)
		used[now->c_clusters[i].cl_shm] = 1;
	for (i = 0; i < next->c_nclusters; i++) {
		next->c_clusters[i].cl_shm = -1;
		for (j = 0; j < now->c_nclusters; j++)
			if (strcmp(now->c_clusters[j].cl_name,
			    next->c_clusters[i].cl_name) == 0)
				next->c_clusters[i].cl_shm =
				    now->c_clusters[j].cl_shm;
	}
	for (i = 0; i < next->c_nclusters; i++) {
		if (next->c_clusters[i].cl_shm != -1)
			continue;
		for (k = 0; k < CD_MAX_CLUSTERS && used[k]; k++)
			;
		if (k == CD_MAX_CLUSTERS)
			return -1;
		used[k] = 1;
		next->c_clusters[i].cl_shm = k;
	}
	return 0;
}

/* Wipe the records assign_cluster_slots() gave to new clusters. */
static void
reset_new_cluster_slots(const struct cd_conf *now, const struct cd_conf *next)
{
	size_t i, j;

	for (i = 0; i < next->c_nclusters; i++) {
		for (j = 0; j < now->c_nclusters; j++)
			if (now->c_clusters[j].cl_shm ==
			    next->c_clusters[i].cl_shm)
				break;
		if (j == now->c_nclusters)
			shm_cluster_reset(mst.m_shm, next->c_clusters[i].cl_shm);
	}
}

/* Number next's splits in the half of shm the running config does not
 * use, so the draining generation keeps its sequences and weights. */
static int
assign_splits(const struct cd_conf *now, struct cd_conf *next)
{
	const struct cd_listener *l = next->c_listener;
	int base = 0, half = CD_MAX_SPLITS / 2;
	size_t v, r;

	for (v = 0; v < now->c_listener->l_nvhosts; v++)
		for (r = 0; r < now->c_listener->l_vhosts[v].vh_nroutes; r++)
			if (now->c_listener->l_vhosts[v].vh_routes[r].rt_action ==
			    CD_RA_WEIGHTED && now->c_listener->l_vhosts[v].
			    vh_routes[r].rt_split < half)
				base = half;
	if (next->c_nsplits > (size_t)half)
		return -1;
	for (v = 0; v < l->l_nvhosts; v++)
		for (r = 0; r < l->l_vhosts[v].vh_nroutes; r++)
			if (l->l_vhosts[v].vh_routes[r].rt_action ==
			    CD_RA_WEIGHTED)
				l->l_vhosts[v].vh_routes[r].rt_split += base;
	return 0;
}

/*
 * Anything beyond weights changed: a new generation of workers on next,
 * on the same listening sockets, while the current one drains.  The
 * master's own modules (DNS, health checks, outlier detection) move to
 * next first, so the new workers find their hosts published.
 */
static int
reload_structural(struct cd_conf *next)
{
	const struct cd_conf *now = mst.m_conf;
	int admin_moved;

	/*
	 * Two generations at most share shm (cluster records, split halves,
	 * slot halves): a generation still draining from an earlier reload
	 * (reloads faster than drains) is stopped now.
	 */
	if (mst_proc_draining() > 0)
		mst_proc_stop_draining();
	if (assign_cluster_slots(now, next) == -1) {
		log_error("reload: the running and the new configuration "
		    "together need more than %d clusters", CD_MAX_CLUSTERS);
		return -1;
	}
	if (assign_splits(now, next) == -1) {
		log_error("reload: more than %d weighted routes",
		    CD_MAX_SPLITS / 2);
		return -1;
	}
	reset_new_cluster_slots(now, next);
	mst_reload_publish_weights(next, 1);

	admin_moved = now->c_admin.a_set != next->c_admin.a_set ||
	    (next->c_admin.a_set && (strcmp(now->c_admin.a_addr.sa_address,
	    next->c_admin.a_addr.sa_address) != 0 ||
	    now->c_admin.a_addr.sa_port != next->c_admin.a_addr.sa_port));

	mst_health_stop();
	mst_outlier_stop();
	mst.m_conf = next;
	mst_dns_reconfigure();
	if (mst_outlier_start() == -1 || mst_health_start(NULL) == -1)
		log_error("reload: health checks or outlier detection did not "
		    "restart");
	if (mst_proc_new_generation(next) == -1) {
		/* sockets for a new address could not be opened */
		log_warn("reload: new listener");
		mst_health_stop();
		mst_outlier_stop();
		mst.m_conf = now;
		mst_dns_reconfigure();
		mst_outlier_start();
		mst_health_start(NULL);
		return -1;
	}
	mst_accesslog_reload(next);
	if (admin_moved) {
		mst_admin_stop();
		if (mst_admin_start() == -1)
			log_error("reload: admin listener did not move");
	}
	return 0;
}

void
mst_reload_publish_weights(const struct cd_conf *conf, int restart)
{
	const struct cd_listener *l = conf->c_listener;
	uint32_t w[CD_MAX_WEIGHTED];
	size_t v, r, i;

	for (v = 0; v < l->l_nvhosts; v++)
		for (r = 0; r < l->l_vhosts[v].vh_nroutes; r++) {
			const struct cd_route *rt = &l->l_vhosts[v].vh_routes[r];

			if (rt->rt_action != CD_RA_WEIGHTED)
				continue;
			for (i = 0; i < rt->rt_nwc; i++)
				w[i] = rt->rt_wc[i].wc_weight;
			shm_split_publish(&mst.m_shm->splits[rt->rt_split], w,
			    (uint32_t)rt->rt_nwc, restart);
		}
}

/*
 * Copy s into b with the value of every "weight" and "total_weight" key
 * replaced by 0.  Keys are matched as whole JSON keys, so
 * "load_balancing_weight" is kept.
 */
static void
blank_weights(struct buf *b, const char *s)
{
	static const char *const keys[] = { "\"weight\":", "\"total_weight\":" };
	size_t i, k;

	for (i = 0; s[i] != '\0';) {
		for (k = 0; k < 2; k++) {
			size_t n = strlen(keys[k]);

			if (strncmp(s + i, keys[k], n) == 0)
				break;
		}
		if (k == 2) {
			buf_append(b, s + i, 1);
			i++;
			continue;
		}
		buf_puts(b, keys[k]);
		i += strlen(keys[k]);
		if (s[i] == '"')	/* 64-bit values print as strings */
			i++;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (s[i] == '"')
			i++;
		buf_puts(b, "0");
	}
}

/* Same structure: route r of next is route r of now. */
static void
copy_split_numbers(const struct cd_conf *now, struct cd_conf *next)
{
	size_t v, r;

	for (v = 0; v < next->c_listener->l_nvhosts; v++)
		for (r = 0; r < next->c_listener->l_vhosts[v].vh_nroutes; r++)
			next->c_listener->l_vhosts[v].vh_routes[r].rt_split =
			    now->c_listener->l_vhosts[v].vh_routes[r].rt_split;
}

static int
only_weights_differ(const struct cd_conf *a, const struct cd_conf *b)
{
	struct buf x, y;
	int same;

	buf_init(&x);
	buf_init(&y);
	blank_weights(&x, a->c_json_bootstrap);
	blank_weights(&y, b->c_json_bootstrap);
	same = !x.b_oom && !y.b_oom && x.b_len == y.b_len &&
	    memcmp(x.b_data, y.b_data, x.b_len) == 0;
	buf_free(&x);
	buf_free(&y);
	return same;
}

/*
 * Same structure (only_weights_differ() said so), but did a weight change
 * swap which cluster "always" and "never" pick (the canary is the
 * smallest file weight unless rollout names it)?  Running workers keep
 * their config on a weights-only reload, so that needs new workers.
 */
static int
canary_roles_differ(const struct cd_conf *a, const struct cd_conf *b)
{
	const struct cd_route *x, *y;
	size_t v, r;

	for (v = 0; v < a->c_listener->l_nvhosts; v++)
		for (r = 0; r < a->c_listener->l_vhosts[v].vh_nroutes; r++) {
			x = &a->c_listener->l_vhosts[v].vh_routes[r];
			y = &b->c_listener->l_vhosts[v].vh_routes[r];
			if (x->rt_canary_wc != y->rt_canary_wc ||
			    x->rt_stable_wc != y->rt_stable_wc)
				return 1;
		}
	return 0;
}

static void reload_apply(void);

void
mst_reload(void)
{
	log_info("caught SIGHUP: reloading %s", mst.m_config_path);
	mst_notify("RELOADING=1");
	reload_apply();
	mst_notify("READY=1");
}

static void
reload_apply(void)
{
	struct conf_diags diags;
	struct cd_conf *next;
	size_t i;

	memset(&diags, 0, sizeof(diags));
	next = conf_load(mst.m_config_path, &diags);
	for (i = 0; i < diags.cd_n; i++)
		(diags.cd_v[i].d_warning ? log_warnx : log_error)(
		    "%s:%d:%d: %s", mst.m_config_path, diags.cd_v[i].d_line,
		    diags.cd_v[i].d_col, diags.cd_v[i].d_text);
	conf_diags_free(&diags);
	if (next == NULL) {
		atomic_fetch_add(&mst.m_shm->hdr.h_reload_fails, 1);
		log_error("reload failed: keeping the running configuration");
		return;
	}
	if (!only_weights_differ(mst.m_conf, next) ||
	    canary_roles_differ(mst.m_conf, next)) {
		if (reload_structural(next) == -1) {
			atomic_fetch_add(&mst.m_shm->hdr.h_reload_fails, 1);
			log_error("reload failed: keeping the running "
			    "configuration");
			conf_free(next);
			return;
		}
		mst.m_conf_loaded_realtime_ms = mst.m_start_realtime_ms +
		    (mst_now_ms() - mst.m_start_mono_ms);
		atomic_fetch_add(&mst.m_shm->hdr.h_reloads, 1);
		/* the file is the source of truth: rollouts start over */
		mst_rollout_reload();
		log_info("reload: new generation of workers on the new "
		    "configuration");
		return;
	}
	/* same structure: the splits keep their numbers */
	for (i = 0; i < next->c_nclusters; i++)
		next->c_clusters[i].cl_shm = mst.m_conf->c_clusters[i].cl_shm;
	copy_split_numbers(mst.m_conf, next);
	mst_reload_publish_weights(next, 1);
	/* respawned workers inherit next; a draining older generation has
	 * a config of its own */
	mst_proc_set_conf(next);
	conf_free((struct cd_conf *)mst.m_conf);
	mst.m_conf = next;
	mst.m_conf_loaded_realtime_ms = mst.m_start_realtime_ms +
	    (mst_now_ms() - mst.m_start_mono_ms);
	atomic_fetch_add(&mst.m_shm->hdr.h_reloads, 1);
	mst_rollout_reload();
	log_info("reload: new weights in place");
}
