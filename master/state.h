/*
 * The server's state as /ready, server.state and server.live show it
 * (in the shm header), and the ways out of serving: a graceful stop
 * (SIGTERM, SIGINT, /quitquitquit, /drain_listeners) and a drain of the
 * listeners that keeps the master up (/drain_listeners?graceful&
 * skip_exit).  Master only.
 *
 *   PRE_INITIALIZING -> INITIALIZING -> LIVE     (first health results)
 *   any -> DRAINING                              (a stop, a drain,
 *                                                 /healthcheck/fail)
 */
#ifndef CANARYD_MASTER_STATE_H
#define CANARYD_MASTER_STATE_H

#include <stdbool.h>

#include "admin.h"

/* Module start, once the workers run: LIVE when every checked host has a
 * first result already, else INITIALIZING until mst_state_ready(). */
int	 mst_state_start(void);
/* Every checked host has a first result: /ready turns 200, systemd
 * hears READY=1.  The health checker's ready callback. */
void	 mst_state_ready(void);

/* Begin a graceful stop: the workers drain (at most --drain-time-s),
 * then the loop ends.  A second call stops at once.  why is logged
 * ("caught SIGTERM"). */
void	 mst_state_shutdown(const char *why);
/* Workers drain and exit, the listeners close; the master and its admin
 * port stay up.  Nothing is respawned afterwards. */
void	 mst_state_drain_listeners(void);
/* What an admin reply asked for (admin.h): the admin server's actor. */
void	 mst_state_admin(enum mst_admin_act);
/* A child was reaped: the loop ends once a stop has no worker left. */
void	 mst_state_reaped(void);
/* A stop has begun: no reload, no resolver restart. */
bool	 mst_state_stopping(void);

#endif /* CANARYD_MASTER_STATE_H */
