/*
 * The shared-memory segment (layout in shm-t.h): creation by the master,
 * the seqlock publish/read pairs, slot bookkeeping and the sums the admin
 * pages print.  Workers call only the read side and their own slot.
 */
#ifndef CANARYD_SHARED_SHM_H
#define CANARYD_SHARED_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm-t.h"

/*
 * Master, before the first fork: map and initialise a segment that holds
 * what sz asks (its records sized, ss_bytes: at least that many bytes,
 * the records scaled up to fill them).  NULL on error.  The mapping
 * reserves no swap: pages cost memory once touched, and every record is
 * touched only when a configuration uses it.
 */
struct shm	*shm_create(const struct shm_size *sz);
/* The bytes shm_create(sz) would map. */
size_t		 shm_layout_size(const struct shm_size *sz);
void		 shm_destroy(struct shm *);

/*
 * Master: give record ci room for hcap hosts (its range in the host
 * pools): the range it has when big enough, else a new one.  -1 when the
 * pool is full.  No process may be using ci.
 */
int		 shm_cluster_hosts(struct shm *, int ci, uint32_t hcap);

/* The records, by index (no bounds check: the placement's indices). */
#define SHM_AT(s, off)	((void *)((char *)(uintptr_t)(s) + (off)))

static inline struct shm_cluster *
shm_cl(const struct shm *s, int i)
{
	return (struct shm_cluster *)SHM_AT(s, s->hdr.h_off_cl) + i;
}

static inline struct shm_split *
shm_sp(const struct shm *s, int i)
{
	return (struct shm_split *)SHM_AT(s, s->hdr.h_off_sp) + i;
}

/* A split record's weights (sp_wcap of them). */
static inline uint32_t *
shm_sp_weights(const struct shm_split *sp)
{
	return (uint32_t *)SHM_AT(sp, sp->sp_woff);
}

static inline _Atomic uint64_t *
shm_fraction(const struct shm *s, int i)
{
	return (_Atomic uint64_t *)SHM_AT(s, s->hdr.h_off_fr) + i;
}

static inline struct shm_worker *
shm_slot(const struct shm *s, int i)
{
	return SHM_AT(s, s->hdr.h_off_slots + (size_t)i * s->hdr.h_slot_size);
}

/* Slot w's record li of a listener (a placement's pl_listener[]). */
static inline struct shm_http_ctr *
shm_http(const struct shm *s, const struct shm_worker *w, int li)
{
	return (struct shm_http_ctr *)SHM_AT(w, s->hdr.h_off_http) + li;
}

/*
 * A reload's handover (shm_worker): the master marks the listeners of a
 * worker of the generation that drains whose sockets the new one keeps
 * (by the worker's listener index), then signals it; shm_keep_clear()
 * before a worker starts in the slot.
 */
static inline _Atomic uint32_t *
shm_keep_words(const struct shm *s, const struct shm_worker *w)
{
	return (_Atomic uint32_t *)SHM_AT(w, s->hdr.h_off_keep);
}

static inline void
shm_keep_clear(const struct shm *s, struct shm_worker *w)
{
	uint32_t i;

	for (i = 0; i < (s->hdr.h_nlsn + 31) / 32; i++)
		atomic_store(&shm_keep_words(s, w)[i], 0);
}

/* Set listener i's bit (a placed configuration's: i < h_nlsn). */
static inline void
shm_keep_set(const struct shm *s, struct shm_worker *w, size_t i)
{
	if (i < s->hdr.h_nlsn)
		atomic_fetch_or(&shm_keep_words(s, w)[i / 32],
		    1u << (i % 32));
}

static inline bool
shm_keep_has(const struct shm *s, const struct shm_worker *w, size_t i)
{
	return i < s->hdr.h_nlsn && (atomic_load(&shm_keep_words(s, w)[i /
	    32]) & (1u << (i % 32))) != 0;
}

/* The master's slot: the last. */
static inline int
shm_master_slot(const struct shm *s)
{
	return (int)s->hdr.h_nslots - 1;
}

/* A record's hosts and their outlier counters (h < sc_hcap). */
static inline struct shm_host *
shm_cl_hosts(const struct shm_cluster *sc)
{
	return (struct shm_host *)SHM_AT(sc, sc->sc_hoff);
}

static inline struct shm_outlier_host *
shm_cl_od(const struct shm_cluster *sc)
{
	return (struct shm_outlier_host *)SHM_AT(sc, sc->sc_odoff);
}

/* A slot's counters of the record's host h. */
static inline struct shm_host_ctr *
shm_host_ctr(const struct shm *s, const struct shm_worker *w,
    const struct shm_cluster *sc, uint32_t h)
{
	return (struct shm_host_ctr *)SHM_AT(w, s->hdr.h_off_hctr) +
	    sc->sc_hbase + h;
}

/* A slot's histogram k (1-based, as cc_hist). */
static inline struct shm_hist *
shm_slot_hist(const struct shm *s, const struct shm_worker *w, uint32_t k)
{
	return (struct shm_hist *)SHM_AT(w, s->hdr.h_off_hist) + (k - 1);
}

/* Master: set cluster i's host list (seqlock writer); at most sc_hcap. */
void		 shm_hosts_publish(struct shm_cluster *, const struct shm_host *,
		    uint32_t n);

/*
 * Copy cluster's host list into out (room for sc_hcap entries) and return
 * the count; *seq receives the sequence it was read at, so a reader can
 * keep its copy while shm_hosts_seq() still returns that value.  Health
 * flags are not covered: read sh_flags of the shm record itself (atomic).
 * A cluster has as many host records as its configuration needs (any
 * number): _cap reads at most cap of them, _dup into a new calloc'd array
 * of sc_hcap (NULL when memory is short; free() it).
 */
uint32_t	 shm_hosts_read(const struct shm_cluster *, struct shm_host *out,
		    uint32_t *seq);
uint32_t	 shm_hosts_read_cap(const struct shm_cluster *,
		    struct shm_host *out, uint32_t cap, uint32_t *seq);
struct shm_host	*shm_hosts_dup(const struct shm_cluster *, uint32_t *n,
		    uint32_t *seq);
uint32_t	 shm_hosts_seq(const struct shm_cluster *);

/*
 * Master: give split record si room for cap weights, the weight pool's
 * [first, first + cap); -1 when the pool ends before.  No process may be
 * using si.  shm_split_attach() is the same with any storage that lives
 * as long as the record (unit tests: a record outside a segment).  A
 * record has no room until given some: it then holds no weights.
 */
int		 shm_split_room(struct shm *, int si, uint32_t first,
		    uint32_t cap);
void		 shm_split_attach(struct shm_split *, uint32_t *w,
		    uint32_t cap);

/*
 * Master: set a split's weights (at most the record's sp_wcap).  restart
 * zeroes the shared position so the exact sequence begins a fresh period
 * on the new weights.
 */
void		 shm_split_publish(struct shm_split *, const uint32_t *w,
		    uint32_t n, int restart);
/* The same with fleet mode's epoch (shm_split_publish(): 0). */
void		 shm_split_publish_epoch(struct shm_split *, const uint32_t *w,
		    uint32_t n, int restart, uint32_t epoch);
/*
 * Copy a split's weights into w, at most cap of them; returns how many
 * the split holds (more than cap: only cap were copied, so a reader
 * that expects cap sees the difference), *seq set.
 */
uint32_t	 shm_split_read(const struct shm_split *, uint32_t *w,
		    uint32_t cap, uint32_t *seq);
/* The same, and its epoch in *epoch. */
uint32_t	 shm_split_read_epoch(const struct shm_split *, uint32_t *w,
		    uint32_t cap, uint32_t *epoch, uint32_t *seq);
uint32_t	 shm_split_seq(const struct shm_split *);

/*
 * Master, before slot's process starts: map in, a call or two, the rows
 * of the cluster records cl[0, ncl) (its configuration's) and of their
 * hosts.  The master's sums (a stats flush, the rollout tick) read every
 * placed record of every slot, and a page of the segment nobody touched
 * is allocated on that first read, a fault at a time: at 10,000 clusters
 * a new slot's first stats flush held the loop for 70 ms.  Nothing when
 * the kernel cannot (before Linux 5.14): the pages come as they are read.
 */
void		 shm_slot_populate(struct shm *, int slot, const int *cl,
		    size_t ncl);

/*
 * Master, after reaping slot's process: zero its gauges, release the
 * breaker resources it held, mark it free.  Counters stay.  Only the
 * cluster records cl[0, ncl) and listener records lsn[0, nlsn) are
 * looked at (those of the process's configuration: it touched no other);
 * a NULL list means every record of its kind.  A slot's row of records
 * it never touched is pages never mapped in: walking all of them (20,000
 * at 10,000 clusters) would fault each in, to write a zero.  Nothing is
 * walked when the worker did it on its way out (w_released).
 */
void		 shm_slot_reap(struct shm *, int slot, const int *cl,
		    size_t ncl, const int *lsn, size_t nlsn);
/*
 * Worker, its last act before exit(3): the same walk over its own
 * records, then w_released set, so the master's reap has nothing to walk
 * (at 10,000 clusters the walk is 15-20 ms of the master's loop per
 * worker; here it runs in the process that is ending).  A worker that
 * dies otherwise is walked by the master.
 */
void		 shm_slot_release(struct shm *, struct shm_worker *,
		    const int *cl, size_t ncl, const int *lsn, size_t nlsn);

/*
 * Worker, once per upstream attempt's outcome on host_index (the index the
 * host had in the cluster's list when it was picked): status is the HTTP
 * status received, 504 for a per-try or route timeout, 0 for a connect
 * failure or a reset before the response (Envoy counts those as 503).  A
 * no-op unless the cluster has outlier_detection.  Never blocks: a few
 * relaxed atomics, and no write at all for a success on a clean host.
 */
void		 shm_outlier_report(struct shm_cluster *, uint32_t host_index,
		    int status_or_0_for_connect_failure);

/*
 * Master, on a structural reload, before any worker uses record ci for a
 * cluster: forget the previous occupant entirely (hosts, breaker gauges,
 * outlier state and every slot's counters), so a new cluster never starts
 * with a removed one's totals.  No process may be using ci.
 */
void		 shm_cluster_reset(struct shm *, int ci);

/* The same for listener record li: every slot's HTTP counters. */
void		 shm_listener_reset(struct shm *, int li);

/* Sums over every slot (workers and master), for the admin pages. */
/* li: the listener's record (cd_place.pl_listener) */
uint64_t	 shm_sum_http_c(const struct shm *, int li, int id);
int64_t		 shm_sum_http_g(const struct shm *, int li, int id);
uint64_t	 shm_sum_http_code(const struct shm *, int li, int code);
uint64_t	 shm_sum_cluster_c(const struct shm *, int cl, int id);
int64_t		 shm_sum_cluster_g(const struct shm *, int cl, int id);
uint64_t	 shm_sum_cluster_code(const struct shm *, int cl, int code);
uint64_t	 shm_sum_cluster_retry_code(const struct shm *, int cl, int code);
/*
 * A cluster's status codes summed over the slots: out[code - CD_CODE_MIN]
 * for each code with an entry, class[k] the exact (k+1)xx totals, *other
 * the count of codes that found no entry (in class[], not in out[]).
 * retry: retry.upstream_rq_<code>.
 */
void		 shm_sum_cluster_codes(const struct shm *, int cl, int retry,
		    uint64_t out[CD_NCODES], uint64_t class[5], uint64_t *other);
/* Worker: count one response of code in a sparse set (shm_codes). */
void		 shm_code_add(struct shm_codes *, int code);
void		 shm_retry_code_add(struct shm_retry_codes *, int code);
uint64_t	 shm_sum_host_c(const struct shm *, int cl, int host, int id);
int64_t		 shm_sum_host_g(const struct shm *, int cl, int host, int id);

/* A host's health flags now (outside the seqlock: an atomic of its own). */
static inline uint32_t
shm_host_flags(const struct shm *s, int cl, uint32_t h)
{
	return atomic_load_explicit(&shm_cl_hosts(shm_cl(s, cl))[h].sh_flags,
	    memory_order_relaxed);
}

/* A host's address for people: "1.2.3.4" or "::1" (shm_host_ip), and
 * with its port "1.2.3.4:80" or "[::1]:80" (shm_host_addr); "?" for an
 * address that cannot be printed.  Truncated to len. */
void		 shm_host_ip(const struct shm_host *, char *buf, size_t len);
void		 shm_host_addr(const struct shm_host *, char *buf, size_t len);

/* local_ratelimit bucket record idx (a placement's pl_ratelimit[]). */
static inline struct shm_ratelimit *
shm_ratelimit(const struct shm *s, int idx)
{
	return (struct shm_ratelimit *)SHM_AT(s, s->hdr.h_off_rl) + idx;
}

/* Make record rl a full bucket with zeroed counters. */
void		 shm_ratelimit_reset(struct shm_ratelimit *rl);
/*
 * Take one token from bucket rl of max tokens, refilled with per_fill
 * every interval_ms, at monotonic time now_ms: true when there was one.
 */
bool		 shm_ratelimit_take(struct shm_ratelimit *rl, uint32_t max,
		    uint32_t per_fill, uint64_t interval_ms, uint64_t now_ms);

/* Relaxed increments: one writer per slot, summed by the master. */
static inline void
shm_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void
shm_gauge_add(_Atomic int64_t *g, int64_t n)
{
	atomic_fetch_add_explicit(g, n, memory_order_relaxed);
}

#endif /* CANARYD_SHARED_SHM_H */
