/*
 * SIGHUP: load the config file again beside the running one (parsed on a
 * thread, so the master's loop goes on meanwhile).  An invalid
 * file changes nothing (every error logged with file:line:column, counted
 * in server.config_reload_fail).  A file whose only differences are route
 * weights is applied in place: the new weights go to shm and the very next
 * request uses them, with no process restarted.
 */
#ifndef CANARYD_MASTER_RELOAD_H
#define CANARYD_MASTER_RELOAD_H

#include "shared/conf-t.h"
#include "mst.h"

void	mst_reload(void);
/* Once the first configuration runs: what a reload compares with. */
void	mst_reload_init(void);
/* At exit: wait for a file being read, and drop it. */
void	mst_reload_finish(void);

/*
 * How next differs from now: MST_CH_WEIGHTS when only weighted_clusters
 * weights changed and no weight change swapped a route's canary and
 * stable roles (running workers keep their copy of the old config, so
 * that needs new ones); else MST_CH_STRUCTURAL.  Pure.
 */
enum mst_change mst_reload_change(const struct cd_conf *now,
	    const struct cd_conf *next);

#endif /* CANARYD_MASTER_RELOAD_H */
