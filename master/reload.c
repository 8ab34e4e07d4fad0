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
#include "place.h"
#include "proc.h"
#include "reload.h"
#include "rollout.h"

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

	if (mst_proc_prepare(MST_CH_STRUCTURAL, next) == -1) {
		log_warn("reload: new listener");
		return -1;
	}
	if (mst_place_prepare(MST_CH_STRUCTURAL, next) == -1) {
		mst_proc_cancel();
		return -1;
	}

	admin_moved = now->c_admin.a_set != next->c_admin.a_set ||
	    (next->c_admin.a_set && (strcmp(now->c_admin.a_addr.sa_address,
	    next->c_admin.a_addr.sa_address) != 0 ||
	    now->c_admin.a_addr.sa_port != next->c_admin.a_addr.sa_port));

	mst_health_stop();
	mst_outlier_stop();
	mst.m_conf = next;
	mst_place_apply();
	mst_dns_reconfigure();
	if (mst_outlier_start() == -1 || mst_health_start(NULL) == -1)
		log_error("reload: health checks or outlier detection did not "
		    "restart");
	mst_proc_apply(MST_CH_STRUCTURAL);
	mst_accesslog_reload(next);
	if (admin_moved) {
		mst_admin_stop();
		if (mst_admin_start() == -1)
			log_error("reload: admin listener did not move");
	}
	return 0;
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
	/* same structure: the same records; respawned workers inherit
	 * next, a draining older generation has a config of its own */
	mst_proc_prepare(MST_CH_WEIGHTS, next);
	mst_place_prepare(MST_CH_WEIGHTS, next);
	mst.m_conf = next;
	mst_place_apply();
	mst_proc_apply(MST_CH_WEIGHTS);
	mst.m_conf_loaded_realtime_ms = mst.m_start_realtime_ms +
	    (mst_now_ms() - mst.m_start_mono_ms);
	atomic_fetch_add(&mst.m_shm->hdr.h_reloads, 1);
	mst_rollout_reload();
	log_info("reload: new weights in place");
}
