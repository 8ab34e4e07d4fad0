/*
 * The fleet coordinator's parts (master/fleet.h): fleet.c (life, loop,
 * lease, election, the master's socket), fleet_sync.c (reading etcd:
 * resync, the watch on P/ctl/, applying states, the snapshot file,
 * reports), fleet_lead.c (the leader: members' reports, decisions,
 * fenced writes), fleet_ops.c (operators' actions, etcd away, the
 * /canary view) and fleet_json.c (the values under P, pure).
 *
 * One struct fleet per child.  Invariants: f_leader implies a lease
 * (f_lease != 0) that is not expired by our own clock, and f_fence is
 * the create_revision of the leader key we wrote; every write as leader
 * compares that fence, so a write that lands after leadership is gone
 * (a stalled call, a partition) fails.
 */
#ifndef CANARYD_MASTER_FLEET_INT_H
#define CANARYD_MASTER_FLEET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf-t.h"
#include "etcd.h"
#include "evl-t.h"
#include "fleet.h"
#include "fleet_decide.h"
#include "judge.h"

#define FL_KEY_MAX	(MST_FLEET_PREFIX_MAX + 3 * CD_NAME_MAX + 64)
#define FL_VIEW_HIST	10	/* history records kept for /canary */
#define FL_RING_STEPS	30	/* window snapshots per window */
#define FL_OP_TRIES	3	/* an operator's CAS against newer states */
#define FL_ACK_POLL_MS	250

struct mst_evl;

/* One fleet route in the coordinator. */
struct fl_route {
	struct fleet	*r_f;
	const struct mst_fleet_rt *r_rt;
	struct mst_fleet_route r_dr;	/* what fleet_decide.h needs */
	char		 r_key_state[FL_KEY_MAX];
	char		 r_key_hist[FL_KEY_MAX];	/* .../hist/ */
	/* the fleet's state: etcd's (r_known), else the last one known
	 * (snapshot file, or before etcd was wiped) */
	bool		 r_known;
	bool		 r_have;	/* r_cur holds a state at all */
	int64_t		 r_bad_rev;	/* the state key holds no state (not
					 * JSON, another shape) at this
					 * revision, newer than r_cur's; 0 */
	struct mst_fleet_state r_cur;
	/* this instance */
	struct mst_fleet_state r_applied;	/* in force here */
	int64_t		 r_sent_rev;	/* APPLY sent for it */
	int64_t		 r_ack_rev;	/* APPLIED: what reports acknowledge */
	bool		 r_local;	/* r_applied was decided here */
	bool		 r_force;	/* revisions started over: next APPLY
					 * whatever its revision */
	int		 r_pending;	/* op to write when etcd is back; -1 */
	struct mst_judge_ring r_ring;	/* window snapshots, per cluster */
	int64_t		 r_window_ms;	/* wall clock: the window began */
	uint64_t	 r_window_mono;
	struct mst_fleet_input r_self;	/* own figures at the last report */
	/* the leader */
	struct mst_fleet_memo r_memo;
	bool		 r_writing;	/* a decision's txn in flight */
	enum mst_fleet_act r_wact;	/* what it writes */
	struct mst_fleet_state r_wnext;	/* and the state it writes */
	char		 r_why[MST_FLEET_REASON_MAX];	/* the last verdict */
	bool		 r_flushing;	/* r_pending being written */
	/* the last decisions, newest first, for the view */
	char		*r_hist[FL_VIEW_HIST];
	size_t		 r_nhist;
	/* scratch, sized to the route's clusters at set-up (fl_route_alloc())
	 * with the states' rooms: snapshots now and over the window, the
	 * report's pointers to them, and a state */
	struct mst_judge_snap *r_now;
	struct mst_judge_snap *r_win;
	const char	**r_vname;
	const struct mst_judge_snap **r_v;
	struct mst_fleet_state r_tmp;
};

/* The leader's view of one member's report. */
struct fl_member {
	char		 m_id[MST_FLEET_ID_MAX];
	int64_t		 m_mod_rev;	/* of its report */
	uint64_t	 m_seen_mono;	/* when that revision was first seen */
	int64_t		 m_age_ms;
	void		*m_doc;		/* the parsed report (json_t) */
	bool		 m_mark;	/* seen in the last range */
};

/* An operator's action in progress. */
struct fl_op {
	struct fl_op	*o_next;
	struct fleet	*o_f;
	uint64_t	 o_id;
	struct fl_route	*o_r;
	int		 o_op;		/* enum mst_ro_op */
	bool		 o_wait_ack;
	bool		 o_reply;	/* 0: a pending local action, no answer */
	int		 o_tries;
	struct mst_fleet_state o_state;	/* what it writes */
	int64_t		 o_rev;		/* written at; acks awaited */
	uint64_t	 o_deadline;	/* mono ms: ?wait=ack gives up */
	void		*o_timer;
};

struct fl_stats {
	uint64_t	 st_decisions[MST_FLEET_A__N];
	uint64_t	 st_elections;	/* leadership won */
	uint64_t	 st_resigns;	/* leadership lost */
	uint64_t	 st_lease_lost;
	uint64_t	 st_local_rollbacks;
	uint64_t	 st_resyncs;
	uint64_t	 st_bad_values;	/* foreign or malformed values under P */
	uint64_t	 st_fenced;	/* leader writes refused by the fence */
};

/* A message the master's socket could not take yet. */
struct fl_out {
	struct fl_out	*q_next;
	struct mst_fleet_msg q_msg;
	uint32_t	*q_w;		/* APPLY: q_msg.fm_nw weights */
};

struct fleet {
	const struct mst_fleet_args *f_args;
	const struct mst_fleet_conf *f_conf;
	struct mst_evl	*f_loop;
	struct mst_evl_ops f_ops;
	struct mst_etcd	*f_etcd;
	int		 f_sock;
	int		 f_sigfd;
	struct fl_out	*f_outq;	/* waiting for the socket, oldest first */
	bool		 f_stop;
	void		*f_t_tick;
	void		*f_t_report;
	void		*f_t_ka;
	void		*f_t_grant;
	int64_t		 f_ttl_s;
	uint64_t	 f_report_ms;
	char		 f_prefix[MST_FLEET_PREFIX_MAX];
	char		 f_key_ctl[FL_KEY_MAX];		/* P/ctl/ */
	char		 f_key_leader[FL_KEY_MAX];	/* P/ctl/leader */
	char		 f_key_met[FL_KEY_MAX];		/* P/met/ */
	char		 f_key_me[FL_KEY_MAX];		/* P/met/<id> */
	char		 f_snap_path[MST_FLEET_PREFIX_MAX + MST_FLEET_ID_MAX + 16];
	uint64_t	 f_snap_cluster;	/* etcd cluster id of the file */
	/* lease */
	int64_t		 f_lease;	/* 0: none */
	bool		 f_granting;
	uint64_t	 f_grant_sent;	/* mono ms */
	uint64_t	 f_lease_until;	/* mono ms, by our clock */
	uint64_t	 f_ka_sent;	/* mono ms of the keepalive in flight */
	bool		 f_ka_busy;
	/* leadership */
	bool		 f_leader;
	int64_t		 f_fence;	/* mine, while f_leader */
	bool		 f_campaigning;
	int64_t		 f_campaign_lease;
	bool		 f_leader_known;	/* P/ctl/leader exists */
	char		 f_leader_id[MST_FLEET_ID_MAX];
	int64_t		 f_leader_fence;	/* its create_revision */
	/* reading etcd */
	bool		 f_synced;	/* ranged, watch running */
	bool		 f_resyncing;
	struct mst_etcd_watch *f_watch;
	uint64_t	 f_last_ok;	/* mono ms of the last good answer */
	/* routes, members */
	struct fl_route	*f_routes;
	size_t		 f_nroutes;
	struct fl_member *f_members;
	size_t		 f_nmembers;
	size_t		 f_live;	/* fresh reports at the last range */
	bool		 f_ranging;
	/* reports */
	uint64_t	 f_report_seq;
	bool		 f_reporting;
	/* operators */
	struct fl_op	*f_ops_head;
	uint64_t	 f_view_seq;
	struct fl_stats	 f_st;
};

/* ---- fleet.c --------------------------------------------------------------------- */
uint64_t fl_mono_ms(void);
int64_t	 fl_wall_ms(void);
/* etcd answered: it is up. */
void	 fl_ok(struct fleet *);
void	 fl_lease_lost(struct fleet *, const char *why);
/* One timer on the coordinator's loop; NULL: logged, out of memory. */
void	*fl_timer(struct fleet *, uint64_t ms, mst_evl_timer_cb *, void *);
void	 fl_timer_off(struct fleet *, void **);
/* Send a message to the master; -1 when the socket failed (logged). */
int	 fl_send(struct fleet *, struct mst_fleet_msg *);
/* The same with w, m's fm_nw weights, after it (APPLY). */
int	 fl_send_w(struct fleet *, struct mst_fleet_msg *, const uint32_t *w);
/* r's scratch and states' rooms for its clusters (0 or -1), and their
 * release (with the ring and the history). */
int	 fl_route_alloc(struct fl_route *, size_t n);
void	 fl_route_free(struct fl_route *);
/* v zeroed, its fv_next with r's scratch state's room (r_tmp). */
void	 fl_verdict_room(struct mst_fleet_verdict *, struct fl_route *);
/* etcd answered recently enough (within the lease TTL). */
bool	 fl_etcd_up(const struct fleet *);
void	 fl_resign(struct fleet *, const char *why);
void	 fl_campaign(struct fleet *);
void	 fl_leader_seen(struct fleet *, const char *id, size_t idlen,
	    int64_t fence, int64_t lease);
void	 fl_leader_gone(struct fleet *);

/* ---- fleet_sync.c ---------------------------------------------------------------- */
void	 fl_resync(struct fleet *);
void	 fl_on_reset(struct mst_etcd *, const char *why, void *arg);
/* Apply s (from etcd, or local) to this instance: APPLY to the master
 * when its revision is new (or local), snapshot file. */
void	 fl_apply(struct fl_route *, const struct mst_fleet_state *s,
	    bool local);
void	 fl_applied(struct fleet *, const struct mst_fleet_msg *);
void	 fl_report(struct fleet *);
void	 fl_snapshot_load(struct fleet *);
struct fl_route *fl_route_by_name(struct fleet *, const char *name);

/* ---- fleet_lead.c ---------------------------------------------------------------- */
void	 fl_lead_tick(struct fleet *);
void	 fl_members_free(struct fleet *);
/* The txn that writes next for r: put state and history record, drop
 * the record MST_FLEET_HIST_KEEP older; compares as the caller set. */
int	 fl_write_state(struct fleet *, struct fl_route *,
	    const struct mst_etcd_cmp *, size_t ncmp,
	    const struct mst_fleet_state *next, const char *hist,
	    void (*cb)(struct mst_etcd *, const struct mst_etcd_res *, void *),
	    void *arg);

/* ---- fleet_ops.c ----------------------------------------------------------------- */
void	 fl_op_start(struct fleet *, const struct mst_fleet_msg *);
/* etcd is back: write what was decided here while it was away. */
void	 fl_ops_flush(struct fleet *);
void	 fl_local_tick(struct fleet *);
void	 fl_view(struct fleet *);
void	 fl_ops_free(struct fleet *);

/* ---- fleet_json.c (pure) --------------------------------------------------------- */
/* name with '/', '%' and control bytes as %XX, for a key; -1: too long */
int	 fl_key_escape(const char *name, char *out, size_t outlen);
char	*fl_enc_state(const struct mst_fleet_state *);
int	 fl_dec_state(const struct mst_fleet_route *, const char *, size_t,
	    struct mst_fleet_state *, char *why, size_t);

/* One route of this instance's report. */
struct fl_rep_route {
	const char	*rr_name;
	int64_t		 rr_ack;
	int64_t		 rr_window_ms;
	size_t		 rr_nv;
	const char	**rr_vname;	/* rr_nv each */
	const struct mst_judge_snap **rr_v;
};
char	*fl_enc_report(const char *id, int64_t t, uint64_t seq,
	    const struct fl_rep_route *, size_t n);
/* A member's report: the parsed document (free with fl_report_free())
 * and its time; NULL with why when it is not one. */
void	*fl_report_load(const char *, size_t, int64_t *t, char *why,
	    size_t);
/* The route's canary and stable figures in doc into in; -1: absent. */
int	 fl_report_input(void *doc, const char *route, const char *canary,
	    const char *stable, struct mst_fleet_input *in);
/* The acknowledged revision of route in doc, or -1. */
int64_t	 fl_report_ack(void *doc, const char *route);
void	 fl_report_free(void *doc);

/* A decision's history record (JSON). */
char	*fl_enc_hist(const struct mst_fleet_verdict *,
	    const struct mst_fleet_state *from, const char *by,
	    const char *node, int64_t t);
/* The snapshot file's contents for the routes' applied states. */
char	*fl_enc_snapshot(const struct fleet *);
/* Read it: states into each route's r_cur (r_have); -1 with why. */
int	 fl_dec_snapshot(struct fleet *, const char *, size_t, char *why,
	    size_t);

#endif /* CANARYD_MASTER_FLEET_INT_H */
