/*
 * The shared-memory segment: one MAP_SHARED|MAP_ANONYMOUS mapping made by
 * the master before the first fork, alive as long as the master.
 *
 * Fixed-size records, indices not pointers, names as char[].  The segment
 * has no name and is only ever inherited through fork(2) by a worker of
 * the very binary that made it (canaryd never execs), so master and
 * workers always agree on its layout: there is no version to check and
 * no layout frozen for another binary.  The layout is free to change with
 * the code; the counts of records follow the loaded configuration (struct
 * shm_size).  What the code does rely on is asserted below: lock-free
 * atomics, and a host record in one cache line.
 *
 * One writer per field:
 *   - header state, hosts (addresses, health), split weights, runtime
 *     fractions: the master;
 *   - the split counters sp_next: every worker (atomic fetch-add);
 *   - a worker slot: that worker only (counters and gauges), except that the
 *     master zeroes a dead worker's gauges and releases its breaker holdings
 *     when it reaps it.  Counters are never zeroed, so totals never go back.
 *   - breaker gauges sc_cb_*: every worker, by atomic add/sub, bounded by
 *     the cluster's thresholds (exact across workers).
 *   - outlier counters sc_od_hosts: every worker, by atomic add (and a
 *     store of 0 on success); the master zeroes them when it acts.
 * Host lists and split weights are published under a seqlock (sc_seq,
 * sp_seq): the master makes the sequence odd, stores, makes it even; a
 * reader copies and retries while it was odd or changed.
 * No mutex lives here: a process may die anywhere.
 */
#ifndef CANARYD_SHARED_SHM_T_H
#define CANARYD_SHARED_SHM_T_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conf-t.h"
#include "hist-t.h"
#include "stats-t.h"

/*
 * The segment is sized at start from the configuration and the worker
 * count (struct shm_size, shm_create()): worker slots for two generations
 * of workers that may overlap during a reload, plus the master's last
 * (DNS and health-check counters); listener, cluster, split and fraction
 * records, and the splits' weights, for the running configuration and the
 * one a reload brings, with room to grow.  The records live after the header at the offsets it holds;
 * reach them through the accessors of shm.h, never by layout.
 */

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

/* Host health flags, in the order /clusters prints them (canaryd-envoy(7), ADMIN INTERFACE). */
#define SHM_HF_FAILED_ACTIVE_HC		0x0001u
#define SHM_HF_FAILED_OUTLIER_CHECK	0x0002u
#define SHM_HF_FAILED_EDS_HEALTH	0x0004u
#define SHM_HF_DEGRADED_ACTIVE_HC	0x0008u
#define SHM_HF_DEGRADED_EDS_HEALTH	0x0010u
#define SHM_HF_PENDING_DYNAMIC_REMOVAL	0x0020u
#define SHM_HF_PENDING_ACTIVE_HC	0x0040u
#define SHM_HF_EXCLUDED_IMMEDIATE_HC	0x0080u
#define SHM_HF_ACTIVE_HC_TIMEOUT	0x0100u
#define SHM_HF_EDS_STATUS_DRAINING	0x0200u
/* a host counts as unhealthy for load balancing with any of these */
#define SHM_HF_UNHEALTHY	(SHM_HF_FAILED_ACTIVE_HC |		\
	    SHM_HF_FAILED_OUTLIER_CHECK | SHM_HF_FAILED_EDS_HEALTH |	\
	    SHM_HF_EXCLUDED_IMMEDIATE_HC)

/* One upstream host: an address a cluster endpoint resolved to. */
struct shm_host {
	_Atomic uint32_t sh_flags;	/* SHM_HF_*, written by the master */
	uint16_t	 sh_family;	/* AF_INET or AF_INET6 */
	uint16_t	 sh_port;	/* host byte order */
	uint8_t		 sh_addr[16];	/* in_addr or in6_addr bytes */
	uint32_t	 sh_endpoint;	/* index into cl_endpoints */
	uint32_t	 sh_weight;	/* load_balancing_weight */
	uint32_t	 sh_id;		/* unique per address in the cluster's life */
	uint8_t		 sh_pad[28];
};
/* a host list is read often and written rarely: one line per host */
_Static_assert(sizeof(struct shm_host) == 64, "a host is one cache line");

/* Breaker resources, one gauge each per priority (canaryd-envoy(7), CIRCUIT BREAKERS). */
enum shm_cb_res {
	SHM_CB_CX,
	SHM_CB_PENDING,
	SHM_CB_RQ,
	SHM_CB_RETRY,
	SHM_CB__N
};

/* Outlier detection: a consecutive-error threshold was reached. */
#define SHM_OD_REQ_5XX		0x1u
#define SHM_OD_REQ_GATEWAY	0x2u

/*
 * One host's outlier-detection counters, indexed like sc_hosts[] (the
 * master moves them along when the host list changes).  Workers count
 * (shm_outlier_report()); the worker whose report makes a counter reach
 * its threshold sets a bit in oh_req; the master takes the bits, decides,
 * and zeroes the counters it acted on.
 */
struct shm_outlier_host {
	_Atomic uint32_t oh_5xx;	/* consecutive 5xx (and local errors) */
	_Atomic uint32_t oh_gateway;	/* consecutive 502/503/504 */
	_Atomic uint32_t oh_req;	/* SHM_OD_REQ_*, taken by the master */
	uint32_t	 oh_pad;
};

/*
 * A cluster record.  Its hosts live in the segment's host pool, sc_hcap
 * of them from sc_hbase (shm_cl_hosts(), shm_cl_od()), and so do its
 * per-host counters in every slot: the master gives a record its range
 * before any worker uses it and never moves it while one may.
 */
struct shm_cluster {
	alignas(64) _Atomic uint32_t sc_seq;	/* seqlock: nhosts and hosts[] */
	uint32_t	 sc_nhosts;
	uint32_t	 sc_resolved;	/* 1 once DNS answered at least once */
	uint32_t	 sc_hcap;	/* hosts the record has room for */
	uint32_t	 sc_hbase;	/* its first host in the pools */
	uint32_t	 sc_next_id;	/* master: the last sh_id given, kept
					 * with the record across reloads */
	int64_t		 sc_hoff;	/* bytes from the record to its hosts */
	int64_t		 sc_odoff;	/* ... to its outlier counters */
	char		 sc_name[CD_NAME_MAX];
	/* cluster-wide breaker gauges: add before use, check, sub on failure */
	alignas(64) _Atomic int32_t sc_cb[CD_NPRIO][SHM_CB__N];
	/* outlier detection: thresholds written by the master before the
	 * first fork (0 = no outlier_detection), counters by the workers */
	uint32_t	 sc_od_enabled;
	uint32_t	 sc_od_5xx;	/* consecutive_5xx */
	uint32_t	 sc_od_gateway;	/* consecutive_gateway_failure */
	uint32_t	 sc_od_pad;
};

/*
 * A weighted_clusters route: the one counter all workers share, and its
 * weights.  These live in the segment's weight pool, sp_wcap of them at
 * sp_woff bytes from the record (shm_sp_weights()): the master gives a
 * record its range (shm_split_attach()) before any worker of the
 * generation that uses it starts, sized to the route's clusters.
 */
struct shm_split {
	alignas(64) _Atomic uint64_t sp_next;	/* next position in the sequence */
	_Atomic uint32_t sp_seq;	/* seqlock: n, the weights and epoch */
	uint32_t	 sp_n;
	uint32_t	 sp_wcap;	/* weights the record has room for */
	/* fleet mode: the rollout's attempt, which seeds sticky placement
	 * (worker/sticky.h); 0 outside fleet mode */
	uint32_t	 sp_epoch;
	int64_t		 sp_woff;	/* bytes from the record to its weights */
};

/*
 * The share of each route with a runtime_fraction, as the runtime makes
 * it: numerator << 32 | denominator, written by the master (one atomic
 * store), read by every worker per request; 0: not published yet (the
 * route's default applies).  One uint64_t per record (shm_fraction()).
 */

/*
 * Status codes of one cluster in one slot, sparse: the first SHM_CODES
 * distinct codes get an entry each (cs_code[i], then cs_n[i]; 0: free);
 * every code also counts in its class total cs_class[code / 100 - 1], so
 * the <N>xx totals stay exact when a rare code finds no free entry (it is
 * then counted in cs_other only).  One writer: the slot's process.
 */
#define SHM_CODES		6
#define SHM_RETRY_CODES		2

struct shm_codes {
	_Atomic uint64_t cs_class[5];	/* 1xx .. 5xx */
	_Atomic uint64_t cs_other;	/* codes without an entry */
	_Atomic uint16_t cs_code[SHM_CODES];
	_Atomic uint64_t cs_n[SHM_CODES];
};

struct shm_retry_codes {
	_Atomic uint64_t cs_class[5];
	_Atomic uint64_t cs_other;
	_Atomic uint16_t cs_code[SHM_RETRY_CODES];
	_Atomic uint64_t cs_n[SHM_RETRY_CODES];
};

/*
 * local_ratelimit token buckets (canaryd.yaml(5), HTTP FILTERS), one per
 * configured bucket (cd_lrl.lr_index, through the placement), at
 * h_off_rl: two halves, each sized for the configuration loaded at start
 * and some, so that a reload's new generation takes the half the
 * draining one leaves.
 *
 * rl_state packs the tokens left (high 32 bits) and the fill period
 * they are counted at (low 32 bits: monotonic milliseconds divided by
 * fill_interval, plus one); 0 is a bucket nobody took from yet, full.
 * Every worker refills the periods that passed and takes its token in
 * one compare-and-swap, so the count is exact across workers.  rl_c[]
 * are the filter's counters, added to by every worker; the master zeroes
 * a record when it places a configuration's bucket there.
 */
enum shm_rl_counter {
	SHM_RL_ENABLED,
	SHM_RL_ENFORCED,
	SHM_RL_RATE_LIMITED,
	SHM_RL_OK,
	SHM_RL__N
};

struct shm_ratelimit {
	alignas(64) _Atomic uint64_t rl_state;
	_Atomic uint64_t rl_c[SHM_RL__N];
};

/* One cluster's counters and gauges inside a worker slot. */
struct shm_cluster_ctr {
	_Atomic uint64_t cc_c[CC__N];
	_Atomic int64_t	 cc_g[CG__N];
	struct shm_codes cc_code;		/* upstream_rq_<code> */
	struct shm_retry_codes cc_retry_code;	/* retry.upstream_rq_<code> */
	/* this worker's share of sc_cb, released by the master on death */
	_Atomic int32_t	 cc_cb_held[CD_NPRIO][SHM_CB__N];
	/* upstream_rq_time: final proxied responses, end of the downstream
	 * request to end of the upstream response, in the log-linear
	 * microsecond buckets of hist-t.h (shared/hist.h records), and the
	 * sum of the samples; the count is the sum of the buckets.  The
	 * buckets are placed on the first sample: cc_hist is 1 + the index
	 * of this cluster's histogram in the slot's pool, 0 for none yet. */
	_Atomic uint32_t cc_hist;
	_Atomic uint64_t cc_rq_time_sum_us;
};

/*
 * One listener's HTTP connection manager counters and gauges inside a
 * worker slot (http.<stat_prefix>.* and listener.<address>.*), at the
 * record the placement gives the listener (place-t.h; shm_http()): each
 * slot has h_nlsn of them, twice the listeners of the configuration
 * loaded at start and some, so that a reload may rename them all.  The
 * worker's own counters (log_dropped, access_log_dropped) are in its
 * first listener's record.
 */
struct shm_http_ctr {
	_Atomic uint64_t hc_c[HC__N];
	_Atomic int64_t	 hc_g[HG__N];
	_Atomic uint64_t hc_code[CD_NCODES];	/* downstream responses */
};

/* One host's counters in a slot (the slot's host pool, indexed as the
 * segment's: the record's sc_hbase + the host's index). */
struct shm_host_ctr {
	_Atomic uint64_t hc_c[HOC__N];
	_Atomic int64_t	 hc_g[HOG__N];
};

/* A histogram's buckets in a slot's pool. */
struct shm_hist {
	_Atomic uint64_t hb_b[CD_HIST_N];
};

enum shm_worker_state {
	SHM_W_FREE,		/* never used, or its process is gone */
	SHM_W_RUNNING,
	SHM_W_DRAINING,
};

/* One worker's slot; alignas(64) so two workers never share a line. */
struct shm_worker {
	alignas(64) _Atomic int32_t w_pid;
	_Atomic uint32_t w_state;	/* enum shm_worker_state, master writes */
	uint32_t	 w_generation;
	uint32_t	 w_index;	/* worker number shown in its title */
	_Atomic uint32_t w_hist_used;	/* histograms taken from the pool */
	_Atomic uint32_t w_released;	/* the worker gave its gauges and
					 * breaker holdings back on its way
					 * out (shm_slot_release()) */
	/* h_ncl records, then h_nlsn listener records (h_off_http), the
	 * handover bits (h_off_keep), h_nhosts host counters (h_off_hctr),
	 * then the pool of h_nhist histograms (h_off_hist).  The handover
	 * bits: a reload hands over, bit i of the words set when the new
	 * generation keeps the socket of this worker's listener i (the
	 * master writes, then sends SIGUSR2; shm_keep_*()) */
	struct shm_cluster_ctr w_cl[];
};

enum shm_server_state {
	SHM_S_LIVE,
	SHM_S_DRAINING,
	SHM_S_PRE_INITIALIZING,
	SHM_S_INITIALIZING,
};

struct shm_hdr {
	_Atomic uint32_t h_state;	/* enum shm_server_state */
	_Atomic uint32_t h_live;	/* server.live */
	_Atomic uint32_t h_slots_hwm;	/* slots [0, hwm) were ever used */
	uint64_t	 h_start_ms;	/* CLOCK_REALTIME ms when the master began */
	_Atomic uint64_t h_reloads;	/* server.config_reload */
	_Atomic uint64_t h_reload_fails;	/* server.config_reload_fail */
	_Atomic uint64_t h_reload_deferred;	/* server.config_reload_deferred */
	/* the layout, fixed at creation */
	size_t		 h_size;	/* bytes mapped */
	uint32_t	 h_ncl;		/* cluster records */
	uint32_t	 h_nsplits;	/* split records (two halves) */
	uint32_t	 h_nweights;	/* the split weight pool (two halves) */
	uint32_t	 h_nfrac;	/* fraction records (two halves) */
	uint32_t	 h_nrl;		/* ratelimit records (two halves) */
	uint32_t	 h_nlsn;	/* listener records in a slot */
	uint32_t	 h_nslots;	/* worker slots + the master's */
	uint32_t	 h_nworkers;	/* per generation */
	uint32_t	 h_nhist;	/* histograms in a slot's pool */
	uint32_t	 h_nhosts;	/* hosts in the host pool */
	_Atomic uint32_t h_hosts_used;	/* the pool's first free host */
	size_t		 h_off_cl;	/* offsets from the segment's start */
	size_t		 h_off_hosts;	/* struct shm_host[h_nhosts] */
	size_t		 h_off_od;	/* struct shm_outlier_host[h_nhosts] */
	size_t		 h_off_sp;
	size_t		 h_off_wt;	/* uint32_t[h_nweights] */
	size_t		 h_off_fr;
	size_t		 h_off_rl;	/* struct shm_ratelimit[h_nrl] */
	size_t		 h_off_slots;
	size_t		 h_slot_size;	/* one slot, its pool included */
	size_t		 h_off_http;	/* from a slot's start */
	size_t		 h_off_keep;	/* ... _Atomic uint32_t, a bit a
					 * listener record */
	size_t		 h_off_hctr;	/* from a slot's start */
	size_t		 h_off_hist;	/* the pool, from its slot's start */
	size_t		 h_asked;	/* --shm-size, 0: from the config */
};

/*
 * What the segment must hold: the running configuration's listeners,
 * clusters, weighted routes and runtime_fraction routes, with room to
 * grow, and the workers of one generation.
 */
struct shm_size {
	uint32_t	 ss_listeners;	/* listener records in a slot */
	uint32_t	 ss_clusters;	/* cluster records */
	uint32_t	 ss_splits;	/* per half */
	uint32_t	 ss_weights;	/* split weights, per half */
	uint32_t	 ss_fractions;	/* per half */
	uint32_t	 ss_ratelimits;	/* per half */
	uint32_t	 ss_hosts;	/* host pool */
	uint32_t	 ss_workers;
	size_t		 ss_bytes;	/* at least this many (--shm-size) */
};

struct shm {
	struct shm_hdr		hdr;
	/* records at hdr's offsets */
};

#endif /* CANARYD_SHARED_SHM_T_H */
