/*
 * Configuration reload on SIGHUP (see reload.h): load the file beside the
 * running configuration, decide how it differs, and hand it to the
 * modules (module.h), which apply it in their one order or refuse it.
 *
 * Whether two configurations differ only in weights is decided on their
 * /config_dump renderings with every weighted-cluster weight blanked out:
 * the renderer already covers every field the loader accepts, so a field
 * added later can never be forgotten here.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/clock.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "loop.h"
#include "module.h"
#include "mst.h"
#include "notify.h"
#include "proc.h"
#include "reload.h"
#include "reload_fast.h"
#include "state.h"

/* how often a deferred structural reload looks whether it may go */
#define RELOAD_WAIT_POLL_MS	100

static struct mst_timer	*reload_wait;	/* a structural reload waits */
static uint64_t		 reload_hup_us;	/* when SIGHUP was read */

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
 * smallest file weight unless rollout names it), or did a direct
 * response's body change where the text names it (a file, an environment
 * variable)?  Running workers keep their config on a weights-only
 * reload, so either needs new workers.
 */
static int
routes_differ(const struct cd_conf *a, const struct cd_conf *b)
{
	struct cd_route_it ia, ib;
	const struct cd_route *x, *y;

	memset(&ia, 0, sizeof(ia));
	memset(&ib, 0, sizeof(ib));
	while ((x = conf_route_next(a, &ia)) != NULL &&
	    (y = conf_route_next(b, &ib)) != NULL)
		if (x->rt_canary_wc != y->rt_canary_wc ||
		    x->rt_stable_wc != y->rt_stable_wc ||
		    x->rt_direct_body_len != y->rt_direct_body_len ||
		    (x->rt_direct_body_len > 0 && memcmp(
		    x->rt_direct_body, y->rt_direct_body,
		    x->rt_direct_body_len) != 0))
			return 1;
	return 0;
}

enum mst_change
mst_reload_change(const struct cd_conf *now, const struct cd_conf *next)
{
	if (!only_weights_differ(now, next) || routes_differ(now, next))
		return MST_CH_STRUCTURAL;
	return MST_CH_WEIGHTS;
}

/* Log the loader's diagnostics with file:line:column. */
static void
reload_diags(const struct conf_diags *diags)
{
	size_t i;

	for (i = 0; i < diags->cd_n; i++)
		(diags->cd_v[i].d_warning ? log_warnx : log_error)(
		    "%s:%d:%d: %s", mst.m_config_path, diags->cd_v[i].d_line,
		    diags->cd_v[i].d_col, diags->cd_v[i].d_text);
}

static void	reload_apply(void);

static void
reload_done(enum mst_change ch)
{
	mst.m_conf_loaded_realtime_ms = mst.m_start_realtime_ms +
	    (mst_now_ms() - mst.m_start_mono_ms);
	atomic_fetch_add(&mst.m_shm->hdr.h_reloads, 1);
	if (ch == MST_CH_STRUCTURAL)
		log_info("reload: new generation of workers on the new "
		    "configuration");
	else {
		/* the time from the signal read to the weights in shm */
		uint64_t us = cd_mono_us() - reload_hup_us;

		log_info("reload: new weights in place (%" PRIu64 ".%03"
		    PRIu64 " ms after SIGHUP)", us / 1000, us % 1000);
	}
	/* the next one's room, when this file is longer */
	mst_reload_fast_reserve();
}

static void
reload_wait_poll(void *arg)
{
	(void)arg;
	reload_wait = NULL;
	if (mst_state_stopping()) {
		mst.m_reload_waiting = 0;
		return;
	}
	if (mst_proc_draining()) {
		reload_wait = mst_timer_add(RELOAD_WAIT_POLL_MS,
		    reload_wait_poll, NULL);
		return;
	}
	log_info("reload: the older generation has drained; reloading %s",
	    mst.m_config_path);
	reload_apply();
}

/*
 * A structural reload while an older generation still drains (the shm
 * layout holds two generations) waits for it, instead of cutting its
 * requests short; it reads the file again when it goes, so the newest
 * file wins.  Weights-only reloads never wait.
 */
static void
reload_defer(void)
{
	mst.m_reload_waiting = 1;
	atomic_fetch_add(&mst.m_shm->hdr.h_reload_deferred, 1);
	if (reload_wait != NULL) {
		log_info("reload: still waiting for generation %u to drain",
		    mst.m_generation - 1);
		return;
	}
	log_warnx("reload: generation %u still drains; the new "
	    "configuration waits for it (at most --drain-time-s)",
	    mst.m_generation - 1);
	reload_wait = mst_timer_add(RELOAD_WAIT_POLL_MS, reload_wait_poll,
	    NULL);
}

static void
reload_apply(void)
{
	struct conf_diags diags;
	struct cd_conf *next;
	enum mst_change ch;

	/* weights alone changed: no parse, no new workers */
	switch (mst_reload_fast()) {
	case 0:
		log_info("reload: only weights changed in the file: set "
		    "without parsing it");
		/* a structural reload that waited: this file has none */
		mst.m_reload_waiting = 0;
		mst_timer_cancel(reload_wait);
		reload_wait = NULL;
		reload_done(MST_CH_WEIGHTS);
		return;
	case 1:
		atomic_fetch_add(&mst.m_shm->hdr.h_reload_fails, 1);
		log_error("reload failed: the new weights are not in place");
		return;
	default:
		break;
	}
	memset(&diags, 0, sizeof(diags));
	next = conf_load(mst.m_config_path, &diags);
	reload_diags(&diags);
	conf_diags_free(&diags);
	if (next != NULL && mst_proc_draining() &&
	    mst_reload_change(mst.m_conf, next) == MST_CH_STRUCTURAL) {
		conf_free(next);
		reload_defer();
		return;
	}
	mst.m_reload_waiting = 0;
	if (next == NULL ||
	    mst_modules_reload(ch = mst_reload_change(mst.m_conf, next),
	    next) == -1) {
		atomic_fetch_add(&mst.m_shm->hdr.h_reload_fails, 1);
		log_error("reload failed: keeping the running configuration");
		conf_free(next);
		return;
	}
	reload_done(ch);
}

void
mst_reload(void)
{
	reload_hup_us = cd_mono_us();
	log_info("caught SIGHUP: reloading %s", mst.m_config_path);
	mst_notify("RELOADING=1");
	reload_apply();
	mst_notify("READY=1");
}
