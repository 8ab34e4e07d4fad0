/*
 * The server state and the ways to stop (see state.h).
 *
 * Invariant: once a stop or a drain has begun, the state stays DRAINING
 * and server.live 0; the start sequence only ever moves the state up
 * from (PRE_)INITIALIZING, so a /healthcheck/fail or a drain during start
 * is never undone by the first health results.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "shared/log.h"
#include "admin.h"
#include "health.h"
#include "loop.h"
#include "mst.h"
#include "notify.h"
#include "proc.h"
#include "state.h"

static bool	 stopping;	/* a graceful stop has begun */
static bool	 draining_only;	/* /drain_listeners?skip_exit */

/* Move the server state from (PRE_)INITIALIZING to to, and nothing else. */
static void
state_starting(uint32_t to)
{
	uint32_t s = SHM_S_PRE_INITIALIZING;

	if (!atomic_compare_exchange_strong(&mst.m_shm->hdr.h_state, &s, to) &&
	    s == SHM_S_INITIALIZING)
		atomic_compare_exchange_strong(&mst.m_shm->hdr.h_state, &s, to);
}

void
mst_state_ready(void)
{
	state_starting(SHM_S_LIVE);
	mst_notify("READY=1");
}

int
mst_state_start(void)
{
	if (mst_health_initialized())
		mst_state_ready();
	else
		state_starting(SHM_S_INITIALIZING);
	return 0;
}

/* Serving stops: /ready says DRAINING, server.live 0. */
static void
state_draining(void)
{
	atomic_store(&mst.m_shm->hdr.h_state, SHM_S_DRAINING);
	atomic_store(&mst.m_shm->hdr.h_live, 0);
}

static void
state_drain_deadline(void *arg)
{
	(void)arg;
	if (mst_proc_alive() > 0) {
		log_warnx("drain time over: stopping %d worker%s now",
		    mst_proc_alive(), mst_proc_alive() == 1 ? "" : "s");
		mst_proc_signal_all(SIGKILL);
	}
}

void
mst_state_reaped(void)
{
	if (stopping && mst_proc_alive() == 0) {
		log_info("all workers stopped; exiting");
		mst_loop_stop();
	}
}

void
mst_state_shutdown(const char *why)
{
	if (stopping) {
		log_warnx("%s: stopping now", why);
		mst_proc_signal_all(SIGKILL);
		mst_loop_stop();
		return;
	}
	stopping = true;
	mst_notify("STOPPING=1");
	log_info("%s: draining workers (at most %d s)", why,
	    mst.m_drain_time_s);
	state_draining();
	/* refused from now on, once the workers have taken their queues */
	mst_proc_close_listeners();
	mst_proc_signal_all(SIGTERM);
	mst_timer_add((uint64_t)mst.m_drain_time_s * 1000,
	    state_drain_deadline, NULL);
	mst_state_reaped();
}

void
mst_state_drain_listeners(void)
{
	if (stopping || draining_only)
		return;
	draining_only = true;
	log_info("admin /drain_listeners: draining workers, closing "
	    "listeners; the admin port stays up");
	state_draining();
	mst_proc_close_listeners();
	mst_proc_signal_all(SIGTERM);
}

void
mst_state_admin(enum mst_admin_act act)
{
	switch (act) {
	case MST_ADMIN_ACT_NONE:
		break;
	case MST_ADMIN_ACT_QUIT:
		mst_state_shutdown("admin /quitquitquit");
		break;
	case MST_ADMIN_ACT_DRAIN_QUIT:
		mst_state_shutdown("admin /drain_listeners");
		break;
	case MST_ADMIN_ACT_DRAIN_LISTENERS:
		mst_state_drain_listeners();
		break;
	}
}

bool
mst_state_stopping(void)
{
	return stopping;
}
