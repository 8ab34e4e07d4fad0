/*
 * The worker process's entry point, the one worker header the master
 * includes: what the master hands a worker after fork, and wrk_main().
 *
 * A worker accepts on its own SO_REUSEPORT socket of each listener, parses
 * HTTP/1.1,
 * routes, proxies, enforces timeouts and counts into its own shm slot, in
 * one epoll loop that never blocks.  It learns only from the inherited
 * configuration and shm.  Exit status: 0 drained or told to quit,
 * 1 please respawn, 2 do not respawn (a bad worker slot).
 */
#ifndef CANARYD_WORKER_WORKER_H
#define CANARYD_WORKER_WORKER_H

#include <stdint.h>

#include "shared/conf-t.h"
#include "shared/place-t.h"
#include "shared/shm-t.h"

struct wrk_args {
	const struct cd_conf	*wa_conf;
	const struct cd_place	*wa_place;	/* conf's shm records */
	struct shm		*wa_shm;
	int			 wa_slot;	/* index into shm->slots, this worker's counters */
	int			 wa_index;	/* worker number, for logs */
	/* its own SO_REUSEPORT socket of each listener of wa_conf, in
	 * order from this number on (listener j's: wa_listen_fd0 + j):
	 * non-blocking, listening */
	int			 wa_listen_fd0;
	uint64_t		 wa_drain_ms;	/* --drain-time-s: bound on a drain */
	int			 wa_slice_us;	/* --worker-slice-us; 0: the kernel's */
};

/* Run the worker; never returns.  Master only calls it after fork. */
_Noreturn void	 wrk_main(const struct wrk_args *);

#endif /* CANARYD_WORKER_WORKER_H */
