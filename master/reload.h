/*
 * SIGHUP: load the config file again beside the running one.  An invalid
 * file changes nothing (every error logged with file:line:column, counted
 * in server.config_reload_fail).  A file whose only differences are route
 * weights is applied in place: the new weights go to shm and the very next
 * request uses them, with no process restarted.
 */
#ifndef CANARYD_MASTER_RELOAD_H
#define CANARYD_MASTER_RELOAD_H

#include "shared/conf-t.h"

void	mst_reload(void);

#endif /* CANARYD_MASTER_RELOAD_H */
