/*
 * Active HTTP health checks, run by the master (never by workers): one
 * check per host per interval, whatever the number of workers, each a
 * non-blocking connect + GET in the master's event loop, bounded by the
 * check's timeout.  Results go to the host's sh_flags in shm
 * (SHM_HF_FAILED_ACTIVE_HC, SHM_HF_ACTIVE_HC_TIMEOUT; the master is their
 * only writer), where workers see them on their next pick, and to the
 * cluster's health_check.* counters in the master's shm slot.
 *
 * The per-host state machine, the interval choice, the status ranges
 * (health_state.c) and the response reader (health_resp.c) need no
 * socket, for the unit tests; the checker (health.c: sockets, timers)
 * lives behind mst_health_start().
 */
#ifndef CANARYD_MASTER_HEALTH_H
#define CANARYD_MASTER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/conf-t.h"
#include "shared/http1.h"

/* ---- the state machine (canaryd-envoy(7), HEALTH CHECKING) ------------------------------ */

enum mst_hc_result {
	MST_HC_R_SUCCESS,	/* a status in expected_statuses */
	MST_HC_R_FAILURE,	/* another status: fails a healthy host now */
	MST_HC_R_NETWORK,	/* refused, reset, early close, garbage */
	MST_HC_R_TIMEOUT,	/* no complete response within timeout */
};

enum mst_hc_transition {
	MST_HC_T_UNCHANGED,
	MST_HC_T_CHANGED,	/* healthy <-> unhealthy just now */
	MST_HC_T_PENDING,	/* a threshold is being counted towards */
};

struct mst_hc_state {
	uint32_t	 hs_flags;	/* the two SHM_HF_ bits we own */
	uint32_t	 hs_successes;	/* consecutive, counted while failed */
	uint32_t	 hs_failures;	/* consecutive, counted while healthy */
	bool		 hs_first;	/* no result yet */
};

/* A host that just appeared: failed (/failed_active_hc), never checked. */
void	 mst_hc_state_init(struct mst_hc_state *);

/*
 * Apply one check result, as Envoy's handleSuccess()/setUnhealthy() do:
 * a success resets the failure count and, on a failed host, clears it at
 * once on the first check ever or after healthy_threshold successes in a
 * row; a non-expected status fails a healthy host at once, a network
 * failure or timeout after unhealthy_threshold in a row; a timeout on a
 * failed host sets ACTIVE_HC_TIMEOUT, any other result clears it.
 */
enum mst_hc_transition mst_hc_state_step(struct mst_hc_state *,
	    const struct cd_health_check *, enum mst_hc_result);

/* Random source: a value in [0, upper), upper > 0 (arc4random_uniform). */
typedef uint32_t mst_hc_rand_fn(uint32_t upper);

/*
 * Milliseconds until the next check after a result (§5.4 with canaryd's
 * decision): no_traffic_interval (and no_traffic_healthy_interval) only
 * when the user set it and the cluster has had no upstream connection yet;
 * otherwise interval / healthy_edge_interval after a success,
 * unhealthy_interval / unhealthy_edge_interval after a failure (the edge
 * ones while a transition is pending); plus interval_jitter_percent and
 * interval_jitter random jitter.  Never 0.
 */
uint64_t mst_hc_interval_ms(const struct cd_health_check *,
	    enum mst_hc_result, enum mst_hc_transition, bool had_traffic,
	    mst_hc_rand_fn *);

/* Is status one of expected_statuses (half-open ranges; default 200)? */
bool	 mst_hc_status_expected(const struct cd_health_check *, int status);

/*
 * The check request, NUL-terminated in a malloc'ed string the caller
 * frees: "<method> <path> HTTP/1.1", Host (http_health_check.host, else
 * the cluster name), User-Agent: Envoy/HC, and Connection: close unless
 * reuse_connection.  NULL when out of memory.
 */
char	*mst_hc_request(const struct cd_cluster *, size_t *lenp);

/* ---- the response reader ------------------------------------------ */

enum mst_hc_rc {
	MST_HC_AGAIN,		/* want more bytes */
	MST_HC_DONE,		/* one complete response */
	MST_HC_ERR,		/* not HTTP/1.x, or over a bound */
};

#define MST_HC_LINE_MAX		1024	/* longer status line: an error */
#define MST_HC_HEAD_MAX		(64 * 1024)	/* status line + headers */
#define MST_HC_MAX_HEADERS	100	/* more header fields: an error */

/*
 * A health check's HTTP/1.x response, read with shared/http1 as pieces
 * arrive: status line and headers (gathered, at most MST_HC_HEAD_MAX
 * bytes), an interim 1xx skipped, then the body skipped by length, by
 * chunks, or to the close.  Only the head is held, never the body.
 */
struct mst_hc_resp {
	struct http1	 r_h1;
	struct http1_hdr r_hdrs[MST_HC_MAX_HEADERS];
	struct buf	 r_buf;		/* the head so far, while r_in_head */
	uint32_t	 r_parsed;	/* bytes of r_buf parsed */
	uint32_t	 r_msg;		/* where this response starts in r_buf */
	bool		 r_head_req;	/* the request was HEAD: no body */
	bool		 r_in_head;	/* reading a head into r_buf */
	bool		 r_line_ok;	/* its status line was checked */
	bool		 r_done;
	int		 r_status;	/* valid once DONE */
	bool		 r_close;	/* the connection can't be reused */
};

/* Start a response; head_request: the check was a HEAD (no body). */
void	 mst_hc_resp_init(struct mst_hc_resp *, bool head_request);
/* Feed len bytes; *used says how many were consumed (all, unless DONE). */
enum mst_hc_rc mst_hc_resp_feed(struct mst_hc_resp *, const char *,
	    size_t len, size_t *used);
/* The peer closed: DONE if the body ran to the close, else ERR. */
enum mst_hc_rc mst_hc_resp_eof(struct mst_hc_resp *);
/* Let go of what a response abandoned before DONE or ERR holds. */
void	 mst_hc_resp_free(struct mst_hc_resp *);

/* ---- the checker in the master ------------------------------------- */

typedef void mst_health_ready_cb(void);

/*
 * Start checking every host of every cluster with health_checks (hosts
 * from shm, so after mst_dns_start()).  The first checks go out from the
 * event loop (after initial_jitter), so calling this before forking
 * workers leaks no socket into them.  ready is called once, from the
 * loop, when every host present now has had its first result; if there
 * is nothing to wait for, mst_health_initialized() is already true on
 * return and ready is never called.  0, or -1 when out of memory.
 */
int	 mst_health_start(mst_health_ready_cb *ready);
/* Close every check connection and cancel the timers (at exit). */
void	 mst_health_stop(void);
/* 1 once every host checked at start has had a first result. */
int	 mst_health_initialized(void);
/*
 * The cluster's host list in shm changed (DNS): stop checking hosts that
 * left, check new ones at once.  New hosts must already carry
 * SHM_HF_FAILED_ACTIVE_HC in shm (mst_health_new_host_flags()).
 */
void	 mst_health_hosts_changed(int cluster);
/* The sh_flags a host new to cluster starts with. */
uint32_t mst_health_new_host_flags(const struct cd_cluster *);

#endif /* CANARYD_MASTER_HEALTH_H */
