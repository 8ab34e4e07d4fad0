/*
 * Outlier detection (consecutive 5xx and consecutive gateway failures,
 * canaryd-envoy(7), OUTLIER DETECTION), decided in one place: the master.  Workers count each
 * host's consecutive errors in shm (shm_outlier_report()); the one whose
 * report reaches a threshold raises a request bit; the master takes the
 * bits every MST_OUTLIER_POLL_MS, ejects (SHM_HF_FAILED_OUTLIER_CHECK in
 * the host's sh_flags, whose only writer is the master) within
 * max_ejection_percent, and brings hosts back from its interval sweep once
 * their ejection time is over, or at once when an active health check
 * passes (successful_active_health_check_uneject_host, Envoy's default).
 *
 * Counts outlier_detection.ejections_enforced_total,
 * ejections_enforced_consecutive_5xx, ejections_detected_consecutive_5xx,
 * ejections_{enforced,detected}_consecutive_gateway_failure and
 * ejections_overflow in the master's shm slot; ejections_active is the
 * number of hosts flagged, counted by master/stats.c.
 */
#ifndef CANARYD_MASTER_OUTLIER_H
#define CANARYD_MASTER_OUTLIER_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/conf-t.h"

#define MST_OUTLIER_POLL_MS	100	/* how often request bits are taken */

/*
 * May one more host be ejected, with active of nhosts ejected already?
 * Envoy: when (active + 1) / nhosts stays within max_percent, so with the
 * default 10 % a cluster of fewer than 10 hosts ejects nothing (counted
 * as overflow) unless always_eject_one_host and none is ejected yet.
 */
bool	 mst_outlier_should_eject(uint32_t active, uint32_t nhosts,
	    uint32_t max_percent, bool always_eject_one_host);
/* The ejection multiplier after one more ejection (grows while
 * multiplier x base < max + base). */
uint32_t mst_outlier_backoff_next(uint32_t backoff, uint64_t base_ms,
	    uint64_t max_ms);
/* How long an ejection lasts: min(base x multiplier, max). */
uint64_t mst_outlier_ejection_ms(uint32_t backoff, uint64_t base_ms,
	    uint64_t max_ms);
/* base_ejection_time and max_ejection_time in ms; max is at least base
 * (Envoy's default max is max(300 s, base)). */
void	 mst_outlier_times_ms(const struct cd_outlier *, uint64_t *base_ms,
	    uint64_t *max_ms);

/*
 * Write the thresholds of every cluster with outlier_detection to shm
 * (before the first fork: workers read them) and start the timers.
 * 0, or -1 when out of memory.
 */
int	 mst_outlier_start(void);
void	 mst_outlier_stop(void);
/* The cluster's host list in shm changed: move each host's counters and
 * ejection state along with it, forget hosts that left. */
void	 mst_outlier_hosts_changed(int cluster);
/* An active health check of host host_index passed and the host is not
 * failed by it: end its ejection if it has one. */
void	 mst_outlier_hc_success(int cluster, uint32_t host_index);

/* The timers' work, public for the unit tests: take the workers'
 * requests and eject; end the ejections that are over. */
void	 mst_outlier_poll(uint64_t now_ms);
void	 mst_outlier_sweep(int cluster, uint64_t now_ms);

#endif /* CANARYD_MASTER_OUTLIER_H */
