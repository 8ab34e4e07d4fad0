/*
 * The module table (see module.h) and the adapters that give each
 * module's own functions the table's shape.
 *
 * Order, and why:
 *   runtime        first: the snapshot of the new configuration (admin
 *                  values kept or dropped) that placement publishes
 *   placement      then: every later module reads mst.m_place, and the
 *                  weights are in shm before anyone reads them
 *   log pipe       before any child: the resolver and workers write to it
 *   listeners      early, so a busy port fails the start at once, and the
 *                  listeners accept (into their backlog) by the time the
 *                  admin port does
 *   DNS            hosts published before anything counts on them
 *   outlier, health  on the published hosts, before the workers fork
 *                  (outlier thresholds are in shm for them)
 *   admin, rollouts
 *   fleet          after rollouts: it marks their routes as the fleet's
 *                  and forks its coordinator before the workers do
 *   access log, pid file
 *   workers        last: they fork with everything above in place
 *   server state   LIVE or INITIALIZING once the workers run
 */
#include <stdbool.h>
#include <stddef.h>

#include "shared/log.h"
#include "accesslog.h"
#include "admin.h"
#include "dns.h"
#include "fleet.h"
#include "health.h"
#include "logfile.h"
#include "module.h"
#include "mst.h"
#include "outlier.h"
#include "pidfile.h"
#include "place.h"
#include "proc.h"
#include "rollout.h"
#include "runtime.h"
#include "state.h"

static bool	 modules_started;

static int
runtime_start(void)
{
	mst_runtime_loaded();
	return 0;
}

static void
runtime_reload(enum mst_change ch)
{
	(void)ch;
	mst_runtime_loaded();
}

static int
place_prepare(enum mst_change ch, struct cd_conf *next)
{
	return mst_place_prepare(ch, next);
}

static int
place_start(void)
{
	mst_place_apply();
	return 0;
}

static void
place_reload(enum mst_change ch)
{
	(void)ch;
	mst_place_apply();
}

static void
dns_reload(enum mst_change ch)
{
	if (ch == MST_CH_STRUCTURAL)
		mst_dns_reconfigure();
}

/* Only the first start waits for the first results: /ready. */
static int
health_start(void)
{
	return mst_health_start(modules_started ? NULL : mst_state_ready);
}

static int
admin_start(void)
{
	if (mst_admin_access_apply() == -1)
		return -1;
	return mst_admin_start(mst_state_admin);
}

static void
admin_reload(enum mst_change ch)
{
	/* a rotated token file is read again; a bad one keeps the old */
	(void)mst_admin_access_apply();
	mst_admin_conf_changed(ch == MST_CH_STRUCTURAL);
	if (ch == MST_CH_STRUCTURAL)
		mst_admin_reconfigure();
}

static void
rollout_reload(enum mst_change ch)
{
	/* routes keep their decided state (rollout.h) */
	(void)ch;
	mst_rollout_reload();
}

/* Its pipe is what the workers inherit: before they fork. */
static int
accesslog_start(void)
{
	if (mst_accesslog_open(mst.m_conf, mst.m_place) == -1) {
		log_crit("access log");
		return -1;
	}
	return 0;
}

static void
accesslog_reload(enum mst_change ch)
{
	if (ch == MST_CH_STRUCTURAL)
		mst_accesslog_reload(mst.m_conf, mst.m_place);
}

static int
workers_prepare(enum mst_change ch, struct cd_conf *next)
{
	if (mst_proc_prepare(ch, next) == -1) {
		log_warn("reload: new listener");
		return -1;
	}
	return 0;
}

static int
workers_start(void)
{
	if (mst_proc_start() == -1) {
		log_crit("cannot start workers");
		return -1;
	}
	return 0;
}

static const struct mst_module modules[] = {
	{ .md_name = "runtime", .md_start = runtime_start,
	    .md_reload = runtime_reload },
	{ .md_name = "placement", .md_prepare = place_prepare,
	    .md_start = place_start, .md_reload = place_reload },
	{ .md_name = "log pipe", .md_start = mst_logfile_pipe_open,
	    .md_stop = mst_logfile_pipe_close },
	{ .md_name = "listeners", .md_start = mst_proc_listen },
	{ .md_name = "DNS", .md_start = mst_dns_start,
	    .md_stop = mst_dns_stop, .md_reload = dns_reload },
	{ .md_name = "outlier detection", .md_start = mst_outlier_start,
	    .md_stop = mst_outlier_stop, .md_restart = true },
	{ .md_name = "health checks", .md_start = health_start,
	    .md_stop = mst_health_stop, .md_restart = true },
	{ .md_name = "admin", .md_start = admin_start,
	    .md_stop = mst_admin_stop, .md_reload = admin_reload },
	{ .md_name = "rollouts", .md_start = mst_rollout_start,
	    .md_stop = mst_rollout_stop, .md_reload = rollout_reload },
	{ .md_name = "fleet", .md_prepare = mst_fleet_prepare,
	    .md_start = mst_fleet_start, .md_stop = mst_fleet_stop,
	    .md_reload = mst_fleet_reload },
	{ .md_name = "access log", .md_start = accesslog_start,
	    .md_stop = mst_accesslog_close, .md_reload = accesslog_reload },
	{ .md_name = "pid file", .md_start = mst_pidfile_write,
	    .md_stop = mst_pidfile_remove },
	{ .md_name = "workers", .md_prepare = workers_prepare,
	    .md_cancel = mst_proc_cancel, .md_start = workers_start,
	    .md_reload = mst_proc_apply },
	{ .md_name = "server state", .md_start = mst_state_start },
};

#define NMODULES	(sizeof(modules) / sizeof(modules[0]))

/* Every module prepares next, in order; on a refusal, cancel. */
static int
modules_prepare(enum mst_change ch, struct cd_conf *next)
{
	size_t i, k;

	for (i = 0; i < NMODULES; i++) {
		if (modules[i].md_prepare == NULL ||
		    modules[i].md_prepare(ch, next) == 0)
			continue;
		for (k = i; k-- > 0;)
			if (modules[k].md_cancel != NULL)
				modules[k].md_cancel();
		return -1;
	}
	return 0;
}

int
mst_modules_start(struct cd_conf *conf)
{
	size_t i;

	if (modules_prepare(MST_CH_START, conf) == -1)
		return -1;
	mst.m_conf = conf;
	for (i = 0; i < NMODULES; i++)
		if (modules[i].md_start != NULL && modules[i].md_start() == -1)
			return -1;
	modules_started = true;
	return 0;
}

void
mst_modules_stop(void)
{
	size_t i;

	for (i = NMODULES; i-- > 0;)
		if (modules[i].md_stop != NULL)
			modules[i].md_stop();
}

int
mst_modules_reload(enum mst_change ch, struct cd_conf *next)
{
	bool structural = ch == MST_CH_STRUCTURAL;
	size_t i;

	if (modules_prepare(ch, next) == -1)
		return -1;
	for (i = NMODULES; structural && i-- > 0;)
		if (modules[i].md_restart)
			modules[i].md_stop();
	mst.m_conf = next;
	for (i = 0; i < NMODULES; i++) {
		if (!modules[i].md_restart) {
			if (modules[i].md_reload != NULL)
				modules[i].md_reload(ch);
		} else if (structural && modules[i].md_start() == -1)
			log_error("reload: %s did not restart",
			    modules[i].md_name);
	}
	return 0;
}
