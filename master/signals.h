/*
 * The master's signals, read from a signalfd in the event loop:
 *   SIGHUP   reload the configuration (reload.h)
 *   SIGTERM, SIGINT  graceful stop; a second one stops at once (state.h)
 *   SIGQUIT  stop at once
 *   SIGUSR1  reopen --log-path and the access logs
 *   SIGCHLD  reap workers (respawn, proc.h) and the resolver (dns.h)
 * SIGPIPE is ignored: a write to a closed socket fails with EPIPE.
 */
#ifndef CANARYD_MASTER_SIGNALS_H
#define CANARYD_MASTER_SIGNALS_H

/* Block those signals and read them from the loop (mst_loop_init()
 * first); children inherit the mask and set their own.  0 or -1. */
int	 mst_signal_init(void);

#endif /* CANARYD_MASTER_SIGNALS_H */
