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
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
 * The file is parsed on a thread of its own, beside the loop: at 10,000
 * clusters that takes most of a second, and the loop goes on answering
 * /ready, /stats and health checks meanwhile.  The thread only runs
 * conf_load(), which touches nothing but the file and what it allocates
 * (its diagnostics are logged here, after); its "done" is an eventfd in
 * the loop.  Everything that changes the master's state happens in the
 * loop, after the join, as before.  One parse at a time: a SIGHUP while
 * one runs reads the file again once it ends, so the newest file wins.
 */
static struct {
	pthread_t		 l_thread;
	int			 l_efd;		/* its "done", in the loop */
	bool			 l_busy;	/* the thread runs */
	bool			 l_again;	/* SIGHUP while it ran */
	uint64_t		 l_start_us;
	struct cd_conf		*l_next;	/* what it loaded, or NULL */
	struct buf		 l_blank;	/* its bootstrap JSON, weights
						 * blanked (blank_weights()) */
	struct conf_diags	 l_diags;	/* what it found to say */
} rl = { .l_efd = -1 };

/* The running configuration's bootstrap JSON, weights blanked: what a
 * loaded file is compared with.  A weight-only reload changes only what
 * is blanked, so it stays until a file takes over. */
static struct buf	 run_blank;

/*
 * Copy s into b with the value of every "weight" and "total_weight" key
 * replaced by 0.  Keys are matched as whole JSON keys, so
 * "load_balancing_weight" is kept.  Both keys end in weight": and that
 * is what is searched for (strstr: the text between them is copied as
 * it stands; a 10,000-cluster bootstrap is megabytes).
 */
static void
blank_weights(struct buf *b, const char *s)
{
	static const char tail[] = "weight\":";
	const char *p, *v;
	bool key;

	while ((p = strstr(s, tail)) != NULL) {
		/* "weight" or "total_weight": the whole key */
		key = (p > s && p[-1] == '"') ||
		    (p - s >= 7 && memcmp(p - 7, "\"total_", 7) == 0);
		v = p + sizeof(tail) - 1;
		buf_append(b, s, (size_t)(v - s));
		s = v;
		if (!key)
			continue;
		if (*s == '"')	/* 64-bit values print as strings */
			s++;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == '"')
			s++;
		buf_puts(b, "0");
	}
	buf_puts(b, s);
}

/*
 * Same structure (the blanked JSON said so), but did a weight change
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

/* The change, given both bootstraps with their weights blanked. */
static enum mst_change
change_blanked(const struct buf *x, const struct buf *y,
    const struct cd_conf *now, const struct cd_conf *next)
{
	if (x->b_oom || y->b_oom || x->b_len != y->b_len ||
	    memcmp(x->b_data, y->b_data, x->b_len) != 0 ||
	    routes_differ(now, next))
		return MST_CH_STRUCTURAL;
	return MST_CH_WEIGHTS;
}

enum mst_change
mst_reload_change(const struct cd_conf *now, const struct cd_conf *next)
{
	struct buf x, y;
	enum mst_change ch;

	buf_init(&x);
	buf_init(&y);
	blank_weights(&x, now->c_json_bootstrap);
	blank_weights(&y, next->c_json_bootstrap);
	ch = change_blanked(&x, &y, now, next);
	buf_free(&x);
	buf_free(&y);
	return ch;
}

/*
 * mst_reload_change() for the running configuration and next, whose
 * blanked bootstrap is nb (empty: made here).  The running one's is kept
 * (run_blank): at 10,000 clusters the JSON is megabytes, and blanking it
 * at every reload would stop the loop for tens of milliseconds.
 */
static enum mst_change
reload_change(const struct cd_conf *next, struct buf *nb)
{
	if (nb->b_len == 0 && !nb->b_oom)
		blank_weights(nb, next->c_json_bootstrap);
	return change_blanked(&run_blank, nb, mst.m_conf, next);
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

/* The loaded file (NULL: it did not load) takes over, or waits, or is
 * refused. */
static void
reload_loaded(struct cd_conf *next)
{
	struct buf *nb = &rl.l_blank;
	enum mst_change ch = MST_CH_STRUCTURAL;

	reload_diags(&rl.l_diags);
	conf_diags_free(&rl.l_diags);
	if (mst_state_stopping()) {	/* a stop came while it was read */
		conf_free(next);
		buf_free(nb);
		return;
	}
	if (next != NULL) {
		ch = reload_change(next, nb);
		if (mst_proc_draining() && ch == MST_CH_STRUCTURAL) {
			conf_free(next);
			buf_free(nb);
			reload_defer();
			return;
		}
	}
	mst.m_reload_waiting = 0;
	if (next == NULL || mst_modules_reload(ch, next) == -1) {
		buf_free(nb);
		atomic_fetch_add(&mst.m_shm->hdr.h_reload_fails, 1);
		log_error("reload failed: keeping the running configuration");
		conf_free(next);
		return;
	}
	buf_free(&run_blank);	/* next runs now: compare with it */
	run_blank = *nb;
	buf_init(nb);
	reload_done(ch);
}

static void *
reload_load_run(void *arg)
{
	uint64_t one = 1;

	(void)arg;
	rl.l_next = conf_load(mst.m_config_path, &rl.l_diags);
	if (rl.l_next != NULL)	/* next is this thread's alone still */
		blank_weights(&rl.l_blank, rl.l_next->c_json_bootstrap);
	while (write(rl.l_efd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
	return NULL;
}

/* The thread is done: join it, then carry on in the loop. */
static void
reload_load_done(int fd, uint32_t events, void *arg)
{
	uint64_t n;

	(void)events;
	(void)arg;
	if (read(fd, &n, sizeof(n)) == -1 || !rl.l_busy)
		return;
	pthread_join(rl.l_thread, NULL);
	rl.l_busy = false;
	mst.m_reload_loading = 0;
	log_info("reload: %s read in %" PRIu64 " ms beside the loop",
	    mst.m_config_path, (cd_mono_us() - rl.l_start_us) / 1000);
	reload_loaded(rl.l_next);
	rl.l_next = NULL;
	if (rl.l_again && !mst_state_stopping()) {
		rl.l_again = false;
		log_info("reload: reading %s again (SIGHUP while it was read)",
		    mst.m_config_path);
		reload_apply();
	}
	if (!rl.l_busy)
		mst_notify("READY=1");
}

/* Start the thread that reads the file; 0, or -1 (read it here). */
static int
reload_load_start(void)
{
	sigset_t all, old;
	int rc;

	if (rl.l_efd == -1) {
		if ((rl.l_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			return -1;
		if (mst_loop_add(rl.l_efd, EPOLLIN, reload_load_done,
		    NULL) == -1) {
			close(rl.l_efd);
			rl.l_efd = -1;
			return -1;
		}
	}
	memset(&rl.l_diags, 0, sizeof(rl.l_diags));
	buf_init(&rl.l_blank);
	rl.l_next = NULL;
	rl.l_start_us = cd_mono_us();
	/* signals stay the loop's (signalfd) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&rl.l_thread, NULL, reload_load_run, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	rl.l_busy = true;
	mst.m_reload_loading = 1;
	return 0;
}

static void
reload_apply(void)
{
	if (rl.l_busy) {
		rl.l_again = true;
		log_info("reload: %s is being read; it is read again after",
		    mst.m_config_path);
		return;
	}
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
	if (reload_load_start() == 0)
		return;		/* reload_loaded() follows, from the loop */
	log_warn("reload: no thread to read the file on; reading it in the "
	    "loop");
	memset(&rl.l_diags, 0, sizeof(rl.l_diags));
	buf_init(&rl.l_blank);
	reload_loaded(conf_load(mst.m_config_path, &rl.l_diags));
}

void
mst_reload(void)
{
	reload_hup_us = cd_mono_us();
	log_info("caught SIGHUP: reloading %s", mst.m_config_path);
	mst_notify("RELOADING=1");
	reload_apply();
	if (!rl.l_busy)
		mst_notify("READY=1");
}

void
mst_reload_init(void)
{
	buf_free(&run_blank);
	blank_weights(&run_blank, mst.m_conf->c_json_bootstrap);
}

void
mst_reload_finish(void)
{
	if (rl.l_busy) {
		pthread_join(rl.l_thread, NULL);
		rl.l_busy = false;
		mst.m_reload_loading = 0;
		conf_free(rl.l_next);
		rl.l_next = NULL;
		conf_diags_free(&rl.l_diags);
		buf_free(&rl.l_blank);
	}
	buf_free(&run_blank);
}
