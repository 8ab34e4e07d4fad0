/*
 * Automated canary rollout and rollback (issue 6, part 4), and the
 * per-version comparison behind GET /canary (part 5).  Master only.
 *
 * Once a second (MST_ROLLOUT_TICK_MS, a master timer) the engine takes a
 * snapshot, per cluster of every weighted route, of the cumulative shm
 * totals: attempts (final responses, upstream_rq_<code> summed: proxied
 * and local replies charged to the cluster; plus attempts that failed and
 * were retried or sent to the fallback), the failed part (5xx responses,
 * retried and fallen-back attempts), and the upstream_rq_time histogram.  A small ring of snapshots per route covers the route's
 * window (the rollout's, else MST_ROLLOUT_VIEW_WINDOW); a window figure
 * is the live total minus the snapshot one window old (or the oldest).
 *
 * A route with a rollout block moves through
 *     progressing -> (steps) -> promoted
 *     progressing -> rolled_back            (a breach with the sample met)
 *     any -> paused / promoted / rolled_back (operator, POST /canary/...)
 * and the engine is the only writer of that route's weights in shm
 * (shm_split_publish).  Its decisions survive reloads and restarts: a
 * route keeps its state across a SIGHUP, and across a restart through the
 * state file (rollout_state.c), while its rollout block and its canary
 * and stable clusters stay the same (mst_rollout_sig()); a route whose
 * block or canary cluster changed starts a fresh rollout from the file's
 * weights.  A rolled-back or promoted route stays so until an operator
 * acts.
 *
 * Breach: with canary and stable each at ro_min_requests or more in the
 * window, canary 5xx rate - stable 5xx rate > ro_max_error_rate_delta, or
 * max(canary p99, floor) / max(stable p99, floor) > ro_max_p99_ratio with
 * floor MST_ROLLOUT_P99_FLOOR_MS, so that 0.1 ms against 0.2 ms (loopback
 * noise) is never a breach.
 *
 * Everything takes the config, the shm segment and the time as
 * arguments, so the unit tests drive it with a hand-filled segment and
 * explicit times; mst_rollout_start() and friends are the master's glue.
 */
#ifndef CANARYD_MASTER_ROLLOUT_H
#define CANARYD_MASTER_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/conf-t.h"
#include "shared/hist-t.h"
#include "shared/place-t.h"
#include "shared/shm-t.h"
#include "judge.h"
#include "rollout-t.h"

#define MST_ROLLOUT_TICK_MS	1000
/* snapshots per window: the spacing is window / this, at least a tick */
#define MST_ROLLOUT_RING_STEPS	30
#define MST_ROLLOUT_P99_FLOOR_MS 10.0
/* the comparison window of a weighted route without a rollout */
#define MST_ROLLOUT_VIEW_WINDOW	(60 * CD_NS_PER_S)
#define MST_ROLLOUT_ORIGIN_MAX	192

/* One weighted route. */
struct mst_ro_route {
	char		 rr_name[CD_NAME_MAX];	/* rt_name, or generated */
	int		 rr_named;	/* 0: the name was generated */
	int		 rr_listener;	/* index of the route's listener */
	const struct cd_route *rr_rt;	/* into the engine's config */
	int		 rr_split;	/* shm split index */
	size_t		 rr_nwc;
	/* rr_nwc each, in the engine's mapping (struct mst_ro) */
	int		*rr_shm_ci;	/* shm record per rt_wc */
	uint32_t	*rr_w;		/* weights in shm now */
	struct mst_judge_snap *rr_snap;	/* scratch: snapshots now */
	struct mst_ro_fig *rr_fig;	/* scratch: window figures */
	uint64_t	 rr_total;	/* their sum (changes with the runtime
					 * only, never with a rollout) */
	int		 rr_canary;	/* rt_wc index, -1: none */
	int		 rr_stable;
	int		 rr_has_rollout;
	struct cd_rollout rr_ro;	/* copy of rt_rollout */
	int64_t		 rr_window;	/* ns */
	enum mst_ro_state rr_state;
	int		 rr_step;	/* index in ro_steps; -1: before the first */
	int64_t		 rr_step_since;	/* ns, when this step began */
	char		 rr_reason[MST_ROLLOUT_REASON_MAX];
	uint64_t	 rr_sig;	/* mst_rollout_sig(): block and clusters */
	uint64_t	 rr_decided_ms;	/* wall clock of the last decision, 0 */
	char		 rr_origin[MST_ROLLOUT_ORIGIN_MAX];	/* where the
					 * state came from */
	int		 rr_fleet;	/* fleet mode decides it (fleet.h) */
	uint32_t	 rr_epoch;	/* fleet mode's attempt, published with
					 * the weights (sticky placement) */
	int		 rr_logged;	/* last "waiting" kind logged */
	uint64_t	 rr_rollbacks;	/* automatic and operator */
	uint64_t	 rr_promotions;
	/* cumulative snapshots of the rr_nwc clusters over the window */
	struct mst_judge_ring rr_ring;
};

struct mst_ro {
	const struct cd_conf *ro_conf;
	const struct cd_place *ro_place;	/* ro_conf's shm records */
	struct shm	*ro_shm;
	struct mst_ro_route *ro_routes;	/* weighted routes, config order */
	size_t		 ro_n;
	/* the routes, their arrays and rings: master-only (privmem.h) */
	void		*ro_mem;
	size_t		 ro_mem_len;
	int		 ro_dirty;	/* a decision since the last save */
};

/* A route's state as the state file keeps it. */
struct mst_ro_saved {
	char		 rs_name[CD_NAME_MAX];
	uint64_t	 rs_sig;
	enum mst_ro_state rs_state;
	int		 rs_step;
	uint64_t	 rs_decided_ms;
	const uint32_t	*rs_w;		/* rs_nw weights: rs_wbuf, or the
					 * maker's while sv is used */
	size_t		 rs_nw;
	uint32_t	*rs_wbuf;	/* owned (state file), or NULL */
	char		 rs_reason[MST_ROLLOUT_REASON_MAX];
	uint32_t	 rs_epoch;	/* fleet mode's; not in the file */
};

/*
 * Build the engine for conf's weighted routes, in the shm records pl
 * gives them: each starts from the weights already in shm for it (the
 * file's: the caller published them),
 * state progressing at the last step not above the file's canary
 * percent, and a first snapshot at now_ns.  prev (or NULL), the engine
 * being replaced on a reload, passes on the rollback and promotion
 * counts of routes that keep their name, and the state of those whose
 * signature is the same (a window starts again on a reload).  ro's
 * memory is one mapping no child process has (privmem.h): the engine
 * and its pointers are the master's only.  0, or -1 (ENOMEM); the caller
 * frees ro, and prev, with mst_rollout_free() either way.
 */
int	 mst_rollout_init(struct mst_ro *ro, const struct cd_conf *,
	    const struct cd_place *, struct shm *, int64_t now_ns,
	    struct mst_ro *prev);
void	 mst_rollout_free(struct mst_ro *);
/*
 * What mst_rollout_init(ro, ..., prev) gives when prev has conf's
 * weighted routes (the same names, listeners and cluster counts, in the
 * same order, as after a reload of weights), built over prev's own
 * memory: no page that was not touched before.  -1 when the routes
 * differ: ro is left as it was.
 */
int	 mst_rollout_refresh(struct mst_ro *ro, const struct cd_conf *,
	    const struct cd_place *, struct shm *, int64_t now_ns);

/*
 * Take the saved states (the state file's) for the routes that have the
 * same name and signature: state, step, weights (published), reason.
 * A route whose signature differs starts fresh, logged with the reason.
 */
void	 mst_rollout_restore(struct mst_ro *, const struct mst_ro_saved *,
	    size_t n, int64_t now_ns);

/*
 * A route's signature: its rollout block and its canary cluster (name
 * and whole definition, endpoints included) and stable cluster's name.
 * A saved state applies only to a route with the same one.  Pure.
 */
uint64_t mst_rollout_sig(const struct cd_conf *, const struct cd_route *);

/*
 * The state file, <dir>/rollout.state: written whole and atomically
 * (0, or -1 with errno); read into *out (freed by the caller) and *n:
 * 0, 1 when there is no file, -1 with why filled when it cannot be read
 * or is not a state file (nothing returned then).
 */
int	 mst_rollout_state_write(const char *dir, const struct mst_ro *);
int	 mst_rollout_state_read(const char *dir, struct mst_ro_saved **out,
	    size_t *n, char *why, size_t whylen);
/* Free n saved states read by mst_rollout_state_read(), their weights
 * with them. */
void	 mst_rollout_saved_free(struct mst_ro_saved *, size_t n);

/*
 * Fleet mode (master/fleet.h) decides rr from now on (on), or no longer
 * (off): the tick leaves its state alone, though it still keeps its
 * figures, and operators' actions on it go to the fleet.  A reload builds
 * a new engine: the fleet module sets it again after every reload.
 */
void	 mst_rollout_set_fleet(struct mst_ro_route *rr, int on);

/*
 * rr takes a state decided elsewhere (the fleet's): state, step, weights
 * (scaled to rr's total, published), reason; origin says where it came
 * from (/canary).  The state file is written at the next persist.  0, or
 * -1 when the weights do not fit the route (nothing changed).
 */
int	 mst_rollout_adopt(struct mst_ro *, struct mst_ro_route *rr,
	    const struct mst_ro_saved *sv, int64_t now_ns,
	    const char *origin);

/* One tick: snapshot, judge every progressing rollout, act, log. */
void	 mst_rollout_tick(struct mst_ro *, int64_t now_ns);
/* The same for routes [from, from + n) only. */
void	 mst_rollout_tick_some(struct mst_ro *, int64_t now_ns, size_t from,
	    size_t n);

/*
 * The route called name (generated names included), or
 * "<listener>/<route>" when routes of several listeners have the name;
 * NULL when none is, or several are.
 */
struct mst_ro_route *mst_rollout_find(struct mst_ro *, const char *name);

/* The name of the listener rr's route is in (never NULL). */
const char *mst_rollout_listener(const struct mst_ro *,
	    const struct mst_ro_route *);

/*
 * An operator's action on rr.  0 when done; -1 when it does not apply
 * (no rollout block, or pause on a route that is not progressing, resume
 * on a promoted one), with why filled for a 409 reply.
 */
int	 mst_rollout_op(struct mst_ro *, struct mst_ro_route *,
	    enum mst_ro_op, int64_t now_ns, struct buf *why);

/*
 * Window figures for rr's clusters, live from shm: out[i] for rt_wc[i]
 * (rr_nwc entries).
 */
void	 mst_rollout_figures(const struct mst_ro *,
	    const struct mst_ro_route *, int64_t now_ns,
	    struct mst_ro_fig *out);

/*
 * Is canary worse than stable under ro's thresholds?  1 with why filled
 * (the numbers), 0 when healthy or the sample is too small (why says
 * which; *sample_met tells them apart).  Pure.
 */
int	 mst_rollout_breach(const struct cd_rollout *ro,
	    const struct mst_ro_fig *canary, const struct mst_ro_fig *stable,
	    char *why, size_t len, int *sample_met);

const char *mst_rollout_state_name(enum mst_ro_state);
/* The name of rr's cluster i (an rt_wc index). */
const char *mst_rollout_wc_name(const struct mst_ro_route *rr, int i);
/* The canary's share of rr now, percent of the route's total weight. */
double	 mst_rollout_canary_pct(const struct mst_ro_route *rr);

struct mst_stat_list;
/*
 * Add the engine's stats to a /stats list, per route with a rollout:
 * canary.<route>.rollout.rollbacks and .promotions (counters), .state
 * (gauge: 0 progressing, 1 paused, 2 rolled_back, 3 promoted), .step
 * (gauge: steps taken, 0 before the first) and .canary_weight (gauge).
 * Master memory, not shm: no worker slot holds them.  0, or -1 (ENOMEM).
 */
int	 mst_rollout_stats(const struct mst_ro *, struct mst_stat_list *);

/* Read again from shm the weights of every route without a rollout
 * block: the runtime changed some (runtime.h). */
void	 mst_rollout_reread(struct mst_ro *);

/* ---- the master's engine --------------------------------------------- */

/* Build it from mst.m_conf and start the tick.  0, or -1 (logged). */
int	 mst_rollout_start(void);
/* After a successful SIGHUP: the new file's routes, each keeping its
 * state when its signature did not change. */
void	 mst_rollout_reload(void);
/* Write the state file if a decision was made since the last write. */
void	 mst_rollout_persist(void);
void	 mst_rollout_stop(void);
/* The running engine (NULL before start); now in the engine's clock. */
struct mst_ro *mst_rollout_engine(void);
int64_t	 mst_rollout_now_ns(void);

#endif /* CANARYD_MASTER_ROLLOUT_H */
