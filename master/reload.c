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
#include "loop.h"
#include "mst.h"
#include "notify.h"
#include "reload.h"

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
	if (!only_weights_differ(mst.m_conf, next)) {
		atomic_fetch_add(&mst.m_shm->hdr.h_reload_fails, 1);
		log_error("reload: the new file changes more than route "
		    "weights; this build applies weight changes in place "
		    "only, so the running configuration stays: restart "
		    "canaryd to apply it");
		conf_free(next);
		return;
	}
	mst_reload_publish_weights(next, 1);
	conf_free((struct cd_conf *)mst.m_conf);
	mst.m_conf = next;
	mst.m_conf_loaded_realtime_ms = mst.m_start_realtime_ms +
	    (mst_now_ms() - mst.m_start_mono_ms);
	atomic_fetch_add(&mst.m_shm->hdr.h_reloads, 1);
	log_info("reload: new weights in place");
}
