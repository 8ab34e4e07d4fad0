/*
 * The master's helper processes (the resolver, dns.h; the fleet
 * coordinator, fleet.h): forked, not exec'd, each talking to the master
 * over one socket.
 */
#ifndef CANARYD_MASTER_HELPER_H
#define CANARYD_MASTER_HELPER_H

/*
 * In a helper just forked: keep only sock, as descriptor 3, and the log,
 * as 4 (everything else the master had open is closed); SIGTERM stops
 * it, SIGHUP, SIGINT and SIGUSR1 are ignored (`kill -HUP $(pidof
 * canaryd)` and a terminal's ^C reach every canaryd process: they are
 * the master's to act on), and no signal stays blocked.  Returns 3; a
 * helper that cannot be set up exits.
 */
int	 mst_helper_child(int sock);

#endif /* CANARYD_MASTER_HELPER_H */
