/*
 * Fleet mode's coordinator: one canary rollout decision for many canaryd
 * instances, coordinated through etcd (canaryd(8), FLEET).  It runs in a
 * child of the master ("canaryd: fleet", supervised like the DNS child)
 * with its own event loop (master/evl.h), so no etcd round trip ever
 * delays a worker or the admin port.
 *
 * Keys, under the fleet's prefix P (node.metadata.canaryd.fleet.prefix):
 *	P/ctl/leader			the leader's id, on the leader's lease;
 *					its create_revision is the fence
 *	P/ctl/route/<r>/state		state, step, weights, epoch, fence,
 *					decided_ms, seq, reason (JSON)
 *	P/ctl/route/<r>/hist/<seq>	each decision with its inputs (the
 *					last MST_FLEET_HIST_KEEP)
 *	P/met/<id>			this instance's report (per route and
 *					version: window, requests, failures,
 *					latency buckets; ack_rev), on its
 *					lease, every report_interval
 * Instances watch P/ctl/ only; the leader reads P/met/ with a range, so
 * the busy report keys never reach the watchers.
 *
 * Talking to the master: a SOCK_SEQPACKET socketpair carrying struct
 * mst_fleet_msg.  The coordinator sends APPLY (a route's weights and the
 * state revision they come from; the master publishes them through the
 * same shm path as a SIGHUP weight change when the revision is newer
 * than the last one it applied, or the message says LOCAL or FORCE -- a
 * LOCAL one leaves that revision as it was -- and answers APPLIED),
 * OP_DONE (the answer to an operator's action the master forwarded as
 * OP) and VIEW (the /canary fleet JSON, in pieces, every second, or at
 * once when the master asks with an empty VIEW).  Metrics come from the shm
 * segment the child inherits, read-only, through struct
 * mst_fleet_metrics, so tests drive the coordinator without shm.
 */
#ifndef CANARYD_MASTER_FLEET_H
#define CANARYD_MASTER_FLEET_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/conf-t.h"
#include "shared/hist-t.h"
#include "mst.h"
#include "rollout-t.h"

#define MST_FLEET_HIST_KEEP	1000	/* history records per route */
#define MST_FLEET_TICK_MS	1000	/* the leader decides this often */
#define MST_FLEET_TEXT_MAX	4000	/* text carried by one message */
#define MST_FLEET_WAIT_ACK_MS	5000	/* ?wait=ack gives up after */
#define MST_FLEET_MAX_ETCD	CD_MAX_ETCD
#define MST_FLEET_ID_MAX	256	/* node.id, node.cluster incl. NUL */
#define MST_FLEET_PREFIX_MAX	256	/* the key prefix incl. NUL */
#define MST_FLEET_LEASE_TTL_MIN_S 2	/* etcd's least */
#define MST_FLEET_LEASE_TTL_S	5	/* the defaults */
#define MST_FLEET_REPORT_MS	1000
#define MST_FLEET_STATE_DIR	"/var/lib/canaryd"

/*
 * What the coordinator is told: the configuration's fleet block
 * (node.metadata.canaryd.fleet, struct cd_fleet) and the node's identity
 * (node.id, node.cluster, or the command line's).  A zero or NULL field
 * takes the default.
 */
struct mst_fleet_conf {
	const char	*fl_node_id;	/* unique in the fleet */
	const char	*fl_cluster;	/* the fleet's name */
	const char	*fl_etcd[MST_FLEET_MAX_ETCD];	/* http://host:port */
	size_t		 fl_netcd;
	const char	*fl_prefix;	/* NULL: /canaryd/<cluster> */
	int64_t		 fl_lease_ttl;	/* ns */
	int64_t		 fl_report_interval;	/* ns */
	const char	*fl_state_dir;	/* the last fleet state lives here */
	/* ns; too little traffic this long pauses a step; 0: five of the
	 * route's step_interval, at least 60 s */
	int64_t		 fl_traffic_wait;
};

/* One fleet route: a route with a rollout block, as the master built it
 * from the configuration. */
struct mst_fleet_rt {
	char		 fr_name[CD_NAME_MAX];	/* as /canary names it */
	struct cd_rollout fr_ro;
	size_t		 fr_nw;
	/* fr_nw each, one allocation (mst_fleet_rt_alloc()) */
	/* the file's weights (x 100 when they sum to less than 100, as
	 * the single-instance rollout does) */
	uint32_t	*fr_w;
	char		(*fr_cl)[CD_NAME_MAX];	/* clusters */
	int		*fr_ci;		/* their metrics index */
};

/* rt zeroed, with room for n clusters; -1 out of memory.  _free gives
 * it back (rt zeroed). */
int	 mst_fleet_rt_alloc(struct mst_fleet_rt *, size_t n);
void	 mst_fleet_rt_free(struct mst_fleet_rt *);

/*
 * Metrics, read-only: cluster record ci's cumulative totals since it
 * began (attempts, failed attempts, upstream_rq_time), as the master's
 * rollout reads them from shm (mst_judge_snap(), master/judge.h).
 */
struct mst_fleet_metrics {
	void		*fx_arg;
	void		(*fx_read)(void *arg, int ci, uint64_t *rq,
			    uint64_t *n5xx, struct hist *h);
};

enum mst_fleet_msg_type {
	/* coordinator -> master */
	MST_FLEET_M_APPLY = 1,	/* a route's weights (fm_rev, fm_nw...):
				 * fm_nw uint32_t follow the message */
	MST_FLEET_M_OP_DONE,	/* fm_status, fm_text: the answer to fm_id */
	MST_FLEET_M_VIEW,	/* a piece of the fleet JSON (fm_text); the
				 * master sends it (empty) to ask for a view
				 * now rather than at the next tick */
	/* master -> coordinator */
	MST_FLEET_M_APPLIED,	/* fm_route is at fm_rev in shm */
	MST_FLEET_M_OP,		/* fm_op on fm_route; answer with fm_id */
};

/* fm_flags */
#define MST_FLEET_F_WAIT_ACK	0x1	/* OP: answer once every live
					 * instance acknowledged */
#define MST_FLEET_F_LOCAL	0x2	/* APPLY: decided here, etcd away */
#define MST_FLEET_F_LAST	0x4	/* VIEW: the document's last piece */
#define MST_FLEET_F_FORCE	0x8	/* APPLY: whatever the revision: etcd's
					 * revisions started over (a restore,
					 * a wipe), or etcd's state replaces a
					 * decision taken here */

/*
 * One message either way; SOCK_SEQPACKET keeps the boundaries.  An APPLY
 * is this header and then its fm_nw weights in the same datagram (as
 * many as the route has clusters); every other message is the header
 * alone.  A receiver takes no more weights than its route holds: a
 * datagram that does not fit is refused.
 */
struct mst_fleet_msg {
	uint32_t	 fm_type;	/* enum mst_fleet_msg_type */
	uint32_t	 fm_flags;
	uint64_t	 fm_id;		/* OP, OP_DONE: request; VIEW: piece */
	char		 fm_route[CD_NAME_MAX];
	int64_t		 fm_rev;	/* APPLY, APPLIED: state revision */
	int32_t		 fm_op;		/* OP: enum mst_ro_op */
	int32_t		 fm_status;	/* OP_DONE: HTTP status */
	uint32_t	 fm_state;	/* APPLY: enum mst_ro_state */
	int32_t		 fm_step;
	uint64_t	 fm_epoch;	/* APPLY: sticky cookies carry it */
	int64_t		 fm_decided_ms;	/* APPLY: wall clock of the decision */
	uint32_t	 fm_nw;		/* APPLY: the weights after it */
	uint32_t	 fm_len;	/* bytes of fm_text used */
	char		 fm_text[MST_FLEET_TEXT_MAX];
};

struct mst_fleet_args {
	const struct mst_fleet_conf *fa_conf;
	const struct mst_fleet_rt *fa_routes;
	size_t		 fa_nroutes;
	struct mst_fleet_metrics fa_metrics;
	int		 fa_sock;	/* the coordinator's end */
};

/*
 * The coordinator: runs until the master closes its end of the socket
 * or SIGTERM, then revokes its lease (leadership goes at once) and
 * returns 0; 1 when it cannot start (bad endpoint, no memory).  Blocks:
 * call it in the child, after fork.
 */
int	 mst_fleet_main(const struct mst_fleet_args *);

/* ---- the master's side (fleet_master.c, fleet_view.c) ------------------ */

/*
 * A fleet block needs the node's id and cluster: the configuration's, or
 * the command line's --service-node / --service-cluster (node, cluster:
 * NULL when not given).  0, or -1 with why filled (conf is unusable).
 */
int	 mst_fleet_check(const struct cd_conf *conf, const char *node,
	    const char *cluster, char *why, size_t whylen);

/*
 * The module (module.h): prepare refuses a fleet block without the
 * node's identity (mst_fleet_check()); start forks and supervises
 * the coordinator child when the configuration has a fleet block, and
 * marks every route with a rollout as decided by the fleet; a reload
 * starts it again on the new configuration; stop closes its socket (it
 * gives its lease back and exits).
 */
int	 mst_fleet_prepare(enum mst_change, struct cd_conf *next);
int	 mst_fleet_start(void);
void	 mst_fleet_reload(enum mst_change);
void	 mst_fleet_stop(void);
/* The master reaped pid: true when it was a coordinator (the running
 * one is started again, with a growing delay if it keeps failing). */
bool	 mst_fleet_reaped(pid_t pid, int status);

/* Is fleet mode on, and does it decide the route called name? */
bool	 mst_fleet_decides(const char *route);

/*
 * An operator's action on a fleet route, answered later: done(id,
 * status, JSON body, its length) once the coordinator answers (with
 * wait_ack, once every live instance acknowledged), or 503 when it goes
 * away first.  -1 when no coordinator runs (nothing will be called).
 */
typedef void mst_fleet_done_fn(uint64_t id, int status, const char *body,
	    size_t len);
int	 mst_fleet_action(const char *route, enum mst_ro_op op, bool wait_ack,
	    uint64_t id, mst_fleet_done_fn *done);

/*
 * The fleet's part of /canary, appended to b when fleet mode is on
 * (nothing otherwise): ,"fleet":{the coordinator's last view} for the
 * JSON object, a block for people; and its gauges and counters
 * (canaryd.fleet.*, Prometheus canaryd_fleet_*).  0, or -1 out of memory.
 */
int	 mst_fleet_json(struct buf *);
int	 mst_fleet_text(struct buf *);
struct mst_stat_list;
int	 mst_fleet_stats(struct mst_stat_list *);

#endif /* CANARYD_MASTER_FLEET_H */
