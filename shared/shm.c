/*
 * The shared-memory segment (layout and ownership rules in shm-t.h).
 *
 * The seqlock pairs here are the only place that knows the publication
 * protocol: the writer makes the sequence odd, stores, makes it even with
 * release order; a reader loads the sequence with acquire order, copies,
 * and retries while it was odd or changed.  The copied fields are plain
 * memory, so a reader may see a torn copy, which it then throws away.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shm.h"

#define ALIGN64(n)	(((n) + 63) & ~(size_t)63)

/* Offsets and sizes of every part for sz, in h (nothing mapped). */
static void
shm_layout(const struct shm_size *sz, struct shm_hdr *h)
{
	size_t off;

	h->h_ncl = sz->ss_clusters > 0 ? sz->ss_clusters : 1;
	h->h_nlsn = sz->ss_listeners > 0 ? sz->ss_listeners : 1;
	h->h_nsplits = 2 * (sz->ss_splits > 0 ? sz->ss_splits : 1);
	h->h_nweights = 2 * (sz->ss_weights > 0 ? sz->ss_weights : 1);
	h->h_nfrac = 2 * (sz->ss_fractions > 0 ? sz->ss_fractions : 1);
	h->h_nrl = 2 * (sz->ss_ratelimits > 0 ? sz->ss_ratelimits : 1);
	h->h_nhosts = sz->ss_hosts > 0 ? sz->ss_hosts : 1;
	h->h_nworkers = sz->ss_workers > 0 ? sz->ss_workers : 1;
	h->h_nslots = 2 * h->h_nworkers + 1;
	h->h_nhist = h->h_ncl;
	off = ALIGN64(sizeof(struct shm));
	h->h_off_cl = off;
	off += ALIGN64((size_t)h->h_ncl * sizeof(struct shm_cluster));
	h->h_off_hosts = off;
	off += ALIGN64((size_t)h->h_nhosts * sizeof(struct shm_host));
	h->h_off_od = off;
	off += ALIGN64((size_t)h->h_nhosts * sizeof(struct shm_outlier_host));
	h->h_off_sp = off;
	off += ALIGN64((size_t)h->h_nsplits * sizeof(struct shm_split));
	h->h_off_wt = off;
	off += ALIGN64((size_t)h->h_nweights * sizeof(uint32_t));
	h->h_off_fr = off;
	off += ALIGN64((size_t)h->h_nfrac * sizeof(uint64_t));
	h->h_off_rl = off;
	off += ALIGN64((size_t)h->h_nrl * sizeof(struct shm_ratelimit));
	h->h_off_slots = off;
	h->h_off_http = ALIGN64(sizeof(struct shm_worker) +
	    (size_t)h->h_ncl * sizeof(struct shm_cluster_ctr));
	h->h_off_keep = h->h_off_http +
	    ALIGN64((size_t)h->h_nlsn * sizeof(struct shm_http_ctr));
	h->h_off_hctr = h->h_off_keep +
	    ALIGN64(((size_t)h->h_nlsn + 31) / 32 * sizeof(uint32_t));
	h->h_off_hist = h->h_off_hctr +
	    ALIGN64((size_t)h->h_nhosts * sizeof(struct shm_host_ctr));
	/* whole pages per slot: two workers never share one */
	h->h_slot_size = (h->h_off_hist + (size_t)h->h_nhist *
	    sizeof(struct shm_hist) + 4095) & ~(size_t)4095;
	h->h_size = off + (size_t)h->h_nslots * h->h_slot_size;
}

size_t
shm_layout_size(const struct shm_size *sz)
{
	struct shm_hdr h;

	memset(&h, 0, sizeof(h));
	shm_layout(sz, &h);
	return h.h_size;
}

/* sz, its record counts scaled up so the layout fills ss_bytes. */
static void
shm_scale(const struct shm_size *sz, struct shm_size *out)
{
	size_t base = shm_layout_size(sz), k;

	*out = *sz;
	if (sz->ss_bytes <= base)
		return;
	k = sz->ss_bytes / base;
	if (k > 1024)
		k = 1024;
	out->ss_listeners = (uint32_t)(sz->ss_listeners * k);
	out->ss_clusters = (uint32_t)(sz->ss_clusters * k);
	out->ss_splits = (uint32_t)(sz->ss_splits * k);
	out->ss_weights = (uint32_t)(sz->ss_weights * k);
	out->ss_fractions = (uint32_t)(sz->ss_fractions * k);
	out->ss_ratelimits = (uint32_t)(sz->ss_ratelimits * k);
	out->ss_hosts = (uint32_t)(sz->ss_hosts * k);
}

struct shm *
shm_create(const struct shm_size *asked)
{
	struct shm_size sz;
	struct shm_hdr h;
	struct shm *s;

	shm_scale(asked, &sz);
	memset(&h, 0, sizeof(h));
	shm_layout(&sz, &h);
	s = mmap(NULL, h.h_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	/* fresh anonymous pages are zero: only the header needs values */
	memcpy(&s->hdr, &h, sizeof(h));
	s->hdr.h_asked = asked->ss_bytes;
	atomic_store(&s->hdr.h_state, SHM_S_PRE_INITIALIZING);
	atomic_store(&s->hdr.h_live, 1);
	return s;
}

void
shm_destroy(struct shm *s)
{
	if (s != NULL)
		munmap(s, s->hdr.h_size);
}

int
shm_cluster_hosts(struct shm *s, int ci, uint32_t hcap)
{
	struct shm_cluster *sc = shm_cl(s, ci);
	uint32_t base;

	if (hcap == 0)
		hcap = 1;
	if (sc->sc_hoff != 0 && sc->sc_hcap >= hcap)
		return 0;
	base = atomic_load(&s->hdr.h_hosts_used);
	if (hcap > s->hdr.h_nhosts - base)
		return -1;
	atomic_store(&s->hdr.h_hosts_used, base + hcap);
	sc->sc_hbase = base;
	sc->sc_hcap = hcap;
	sc->sc_hoff = (int64_t)(s->hdr.h_off_hosts +
	    base * sizeof(struct shm_host)) - (int64_t)((char *)sc - (char *)s);
	sc->sc_odoff = (int64_t)(s->hdr.h_off_od +
	    base * sizeof(struct shm_outlier_host)) -
	    (int64_t)((char *)sc - (char *)s);
	return 0;
}

static void
seq_write_begin(_Atomic uint32_t *seq)
{
	atomic_fetch_add_explicit(seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void
seq_write_end(_Atomic uint32_t *seq)
{
	atomic_fetch_add_explicit(seq, 1, memory_order_release);
}

void
shm_hosts_publish(struct shm_cluster *c, const struct shm_host *h,
    uint32_t n)
{
	struct shm_host *ch = shm_cl_hosts(c);
	uint32_t i;

	if (n > c->sc_hcap)
		n = c->sc_hcap;
	seq_write_begin(&c->sc_seq);
	for (i = 0; i < n; i++) {
		/* sh_flags is an atomic the master also changes outside the
		 * seqlock (health); copy it field by field */
		atomic_store_explicit(&ch[i].sh_flags,
		    atomic_load_explicit(&h[i].sh_flags, memory_order_relaxed),
		    memory_order_relaxed);
		ch[i].sh_family = h[i].sh_family;
		ch[i].sh_port = h[i].sh_port;
		memcpy(ch[i].sh_addr, h[i].sh_addr,
		    sizeof(h[i].sh_addr));
		ch[i].sh_endpoint = h[i].sh_endpoint;
		ch[i].sh_weight = h[i].sh_weight;
		ch[i].sh_id = h[i].sh_id;
	}
	c->sc_nhosts = n;
	c->sc_resolved = 1;
	seq_write_end(&c->sc_seq);
}

uint32_t
shm_hosts_seq(const struct shm_cluster *c)
{
	return atomic_load_explicit(&c->sc_seq, memory_order_acquire);
}

uint32_t
shm_hosts_read(const struct shm_cluster *c, struct shm_host *out,
    uint32_t *seqp)
{
	return shm_hosts_read_cap(c, out, c->sc_hcap, seqp);
}

struct shm_host *
shm_hosts_dup(const struct shm_cluster *c, uint32_t *n, uint32_t *seqp)
{
	struct shm_host *out;
	uint32_t cap = c->sc_hcap > 0 ? c->sc_hcap : 1;

	if ((out = calloc(cap, sizeof(*out))) == NULL)
		return NULL;
	*n = shm_hosts_read_cap(c, out, cap, seqp);
	return out;
}

uint32_t
shm_hosts_read_cap(const struct shm_cluster *c, struct shm_host *out,
    uint32_t cap, uint32_t *seqp)
{
	const struct shm_host *ch = shm_cl_hosts(c);
	uint32_t s1, s2, n, i;

	for (;;) {
		s1 = atomic_load_explicit(&c->sc_seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		n = c->sc_nhosts;
		if (n > c->sc_hcap)
			n = c->sc_hcap;
		if (n > cap)
			n = cap;
		for (i = 0; i < n; i++) {
			atomic_store_explicit(&out[i].sh_flags,
			    atomic_load_explicit(&ch[i].sh_flags,
			    memory_order_relaxed), memory_order_relaxed);
			out[i].sh_family = ch[i].sh_family;
			out[i].sh_port = ch[i].sh_port;
			memcpy(out[i].sh_addr, ch[i].sh_addr,
			    sizeof(out[i].sh_addr));
			out[i].sh_endpoint = ch[i].sh_endpoint;
			out[i].sh_weight = ch[i].sh_weight;
			out[i].sh_id = ch[i].sh_id;
		}
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&c->sc_seq, memory_order_relaxed);
		if (s1 == s2)
			break;
	}
	*seqp = s1;
	return n;
}

void
shm_split_attach(struct shm_split *sp, uint32_t *w, uint32_t cap)
{
	seq_write_begin(&sp->sp_seq);
	sp->sp_woff = (int64_t)((uintptr_t)w - (uintptr_t)sp);
	sp->sp_wcap = cap;
	if (sp->sp_n > cap)
		sp->sp_n = 0;
	seq_write_end(&sp->sp_seq);
}

int
shm_split_room(struct shm *s, int si, uint32_t first, uint32_t cap)
{
	if (first > s->hdr.h_nweights || cap > s->hdr.h_nweights - first)
		return -1;
	shm_split_attach(shm_sp(s, si),
	    (uint32_t *)SHM_AT(s, s->hdr.h_off_wt) + first, cap);
	return 0;
}

void
shm_split_publish(struct shm_split *sp, const uint32_t *w, uint32_t n,
    int restart)
{
	shm_split_publish_epoch(sp, w, n, restart, 0);
}

void
shm_split_publish_epoch(struct shm_split *sp, const uint32_t *w, uint32_t n,
    int restart, uint32_t epoch)
{
	if (n > sp->sp_wcap)
		n = sp->sp_wcap;
	seq_write_begin(&sp->sp_seq);
	memcpy(shm_sp_weights(sp), w, n * sizeof(*w));
	sp->sp_n = n;
	sp->sp_epoch = epoch;
	if (restart)
		atomic_store_explicit(&sp->sp_next, 0, memory_order_relaxed);
	seq_write_end(&sp->sp_seq);
}

uint32_t
shm_split_seq(const struct shm_split *sp)
{
	return atomic_load_explicit(&sp->sp_seq, memory_order_acquire);
}

uint32_t
shm_split_read(const struct shm_split *sp, uint32_t *w, uint32_t cap,
    uint32_t *seqp)
{
	uint32_t epoch;

	return shm_split_read_epoch(sp, w, cap, &epoch, seqp);
}

uint32_t
shm_split_read_epoch(const struct shm_split *sp, uint32_t *w, uint32_t cap,
    uint32_t *epoch, uint32_t *seqp)
{
	uint32_t s1, s2, n;

	for (;;) {
		s1 = atomic_load_explicit(&sp->sp_seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		n = sp->sp_n;
		if (n > sp->sp_wcap)
			n = sp->sp_wcap;
		memcpy(w, shm_sp_weights(sp), (n < cap ? n : cap) *
		    sizeof(*w));
		*epoch = sp->sp_epoch;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&sp->sp_seq, memory_order_relaxed);
		if (s1 == s2)
			break;
	}
	*seqp = s1;
	return n;
}

/*
 * Which pages of a slot some process touched, a byte each (mincore(2)):
 * the segment is shared anonymous memory, so a page nobody touched is a
 * hole that reads as zeros.  A record on such pages holds nothing to
 * reap, and writing its zeros would only map them in: at 10,000 clusters
 * a slot's rows are megabytes its worker mostly never used, and faulting
 * them in stopped the master's loop for tens of milliseconds per worker
 * (and kept the pages).  Not used when the system has swap: a page
 * swapped out is not resident either, and not zeros.
 */
struct slot_pages {
	uintptr_t	 sp_base;	/* the slot's first page */
	size_t		 sp_pg;		/* page size */
	unsigned char	*sp_vec;	/* NULL: every page counts as touched */
	size_t		 sp_n;
};

static void
slot_pages(struct slot_pages *sp, const struct shm *s,
    const struct shm_worker *w)
{
	struct sysinfo si;
	uintptr_t end;
	long pg;

	memset(sp, 0, sizeof(*sp));
	if ((pg = sysconf(_SC_PAGESIZE)) <= 0 || sysinfo(&si) == -1 ||
	    si.totalswap != 0)
		return;
	sp->sp_pg = (size_t)pg;
	sp->sp_base = (uintptr_t)w & ~(uintptr_t)(sp->sp_pg - 1);
	end = (uintptr_t)w + s->hdr.h_slot_size;
	sp->sp_n = (end - sp->sp_base + sp->sp_pg - 1) / sp->sp_pg;
	if ((sp->sp_vec = malloc(sp->sp_n)) != NULL &&
	    mincore((void *)sp->sp_base, sp->sp_n * sp->sp_pg,
	    sp->sp_vec) == -1) {
		free(sp->sp_vec);
		sp->sp_vec = NULL;
	}
}

/* Did some process touch a page of [p, p + len)? */
static bool
slot_touched(const struct slot_pages *sp, const void *p, size_t len)
{
	size_t i, last;

	if (sp->sp_vec == NULL || len == 0)
		return true;
	i = ((uintptr_t)p - sp->sp_base) / sp->sp_pg;
	last = ((uintptr_t)p + len - 1 - sp->sp_base) / sp->sp_pg;
	for (; i <= last && i < sp->sp_n; i++)
		if (sp->sp_vec[i] & 1)
			return true;
	return false;
}

/* Zero slot w's gauges of record i and give back its breaker holdings. */
static void
reap_cluster(struct shm *s, struct shm_worker *w, int i,
    const struct slot_pages *sp)
{
	struct shm_cluster_ctr *cc = &w->w_cl[i];
	struct shm_cluster *sc = shm_cl(s, i);
	uint32_t j;
	int k, p, r;

	/* the slot's process writes these no more (it is gone, or this is
	 * its last act), so a zero read is a zero: the line is left clean */
	if (slot_touched(sp, cc, sizeof(*cc))) {
		for (k = 0; k < CG__N; k++)
			if (atomic_load_explicit(&cc->cc_g[k],
			    memory_order_relaxed) != 0)
				atomic_store_explicit(&cc->cc_g[k], 0,
				    memory_order_relaxed);
		for (p = 0; p < CD_NPRIO; p++)
			for (r = 0; r < SHM_CB__N; r++) {
				int32_t held;

				if (atomic_load_explicit(&cc->cc_cb_held[p][r],
				    memory_order_relaxed) == 0)
					continue;
				held = atomic_exchange_explicit(
				    &cc->cc_cb_held[p][r], 0,
				    memory_order_relaxed);
				atomic_fetch_sub_explicit(&sc->sc_cb[p][r],
				    held, memory_order_relaxed);
			}
	}
	if (sc->sc_hoff == 0 || sc->sc_hcap == 0 || !slot_touched(sp,
	    shm_host_ctr(s, w, sc, 0), sc->sc_hcap *
	    sizeof(struct shm_host_ctr)))
		return;
	for (j = 0; j < sc->sc_hcap; j++)
		for (k = 0; k < HOG__N; k++)
			if (atomic_load_explicit(
			    &shm_host_ctr(s, w, sc, j)->hc_g[k],
			    memory_order_relaxed) != 0)
				atomic_store_explicit(
				    &shm_host_ctr(s, w, sc, j)->hc_g[k], 0,
				    memory_order_relaxed);
}

/* MADV_POPULATE_WRITE over the pages of [p, end). */
static void
populate(const void *p, const void *end)
{
	uintptr_t a = (uintptr_t)p, z = (uintptr_t)end;
	long pg = sysconf(_SC_PAGESIZE);

	if (pg <= 0 || z <= a)
		return;
	a &= ~(uintptr_t)(pg - 1);
	(void)madvise((void *)a, z - a, MADV_POPULATE_WRITE);
}

void
shm_slot_populate(struct shm *s, int slot, const int *cl, size_t ncl)
{
	struct shm_worker *w = shm_slot(s, slot);
	const struct shm_cluster *sc;
	uint32_t hlo = UINT32_MAX, hhi = 0;
	int lo = INT_MAX, hi = -1;
	size_t i;

	for (i = 0; i < ncl; i++) {
		if (cl[i] < 0 || (uint32_t)cl[i] >= s->hdr.h_ncl)
			continue;
		lo = cl[i] < lo ? cl[i] : lo;
		hi = cl[i] > hi ? cl[i] : hi;
		sc = shm_cl(s, cl[i]);
		if (sc->sc_hoff == 0 || sc->sc_hcap == 0)
			continue;
		hlo = sc->sc_hbase < hlo ? sc->sc_hbase : hlo;
		if (sc->sc_hbase + sc->sc_hcap > hhi)
			hhi = sc->sc_hbase + sc->sc_hcap;
	}
	/* placed records are a run or two: one range covers them */
	if (hi >= 0)
		populate(&w->w_cl[lo], &w->w_cl[hi + 1]);
	if (hhi > hlo)
		populate((const struct shm_host_ctr *)SHM_AT(w,
		    s->hdr.h_off_hctr) + hlo, (const struct shm_host_ctr *)
		    SHM_AT(w, s->hdr.h_off_hctr) + hhi);
}

void
shm_slot_release(struct shm *s, struct shm_worker *w, const int *cl,
    size_t ncl, const int *lsn, size_t nlsn)
{
	struct slot_pages sp;
	size_t i;
	int k, r;

	slot_pages(&sp, s, w);
	if (lsn == NULL)
		nlsn = s->hdr.h_nlsn;
	for (i = 0; i < nlsn; i++) {
		r = lsn != NULL ? lsn[i] : (int)i;
		for (k = 0; k < HG__N; k++)
			atomic_store_explicit(&shm_http(s, w, r)->hc_g[k], 0,
			    memory_order_relaxed);
	}
	if (cl == NULL)
		ncl = s->hdr.h_ncl;
	for (i = 0; i < ncl; i++)
		reap_cluster(s, w, cl != NULL ? cl[i] : (int)i, &sp);
	free(sp.sp_vec);
	atomic_store_explicit(&w->w_released, 1, memory_order_release);
}

void
shm_slot_reap(struct shm *s, int slot, const int *cl, size_t ncl,
    const int *lsn, size_t nlsn)
{
	struct shm_worker *w = shm_slot(s, slot);

	if (!atomic_load_explicit(&w->w_released, memory_order_acquire))
		shm_slot_release(s, w, cl, ncl, lsn, nlsn);
	atomic_store_explicit(&w->w_released, 0, memory_order_relaxed);
	atomic_store_explicit(&w->w_pid, 0, memory_order_relaxed);
	atomic_store_explicit(&w->w_state, SHM_W_FREE, memory_order_release);
}

/* Slots in use: [0, hwm) and the master's; *hwm set. */
static uint32_t
slots_hwm(const struct shm *s)
{
	uint32_t hwm;

	hwm = atomic_load_explicit(&s->hdr.h_slots_hwm, memory_order_relaxed);
	if (hwm > (uint32_t)shm_master_slot(s))
		hwm = (uint32_t)shm_master_slot(s);
	return hwm;
}

/* The i-th slot in use, i <= hwm: hwm is the master's. */
static struct shm_worker *
slot_used(const struct shm *s, uint32_t i, uint32_t hwm)
{
	return shm_slot(s, i < hwm ? (int)i : shm_master_slot(s));
}

void
shm_cluster_reset(struct shm *s, int ci)
{
	struct shm_cluster *sc = shm_cl(s, ci);
	struct shm_cluster_ctr *cc;
	struct shm_worker *w;
	uint32_t i, hwm, k;

	sc->sc_seq += 2;	/* readers holding a copy see a change */
	sc->sc_nhosts = 0;
	sc->sc_resolved = 0;
	memset(sc->sc_name, 0, sizeof(sc->sc_name));
	memset(sc->sc_cb, 0, sizeof(sc->sc_cb));
	sc->sc_od_enabled = 0;
	if (sc->sc_hoff != 0) {
		memset(shm_cl_hosts(sc), 0, sc->sc_hcap *
		    sizeof(struct shm_host));
		memset(shm_cl_od(sc), 0, sc->sc_hcap *
		    sizeof(struct shm_outlier_host));
	}
	hwm = slots_hwm(s);
	for (i = 0; i <= hwm; i++) {
		w = slot_used(s, i, hwm);
		cc = &w->w_cl[ci];
		/* the histogram stays placed: zero its buckets only */
		if ((k = atomic_load(&cc->cc_hist)) != 0)
			memset(shm_slot_hist(s, w, k), 0,
			    sizeof(struct shm_hist));
		memset(cc, 0, offsetof(struct shm_cluster_ctr, cc_hist));
		atomic_store(&cc->cc_rq_time_sum_us, 0);
		if (sc->sc_hoff != 0)
			memset(shm_host_ctr(s, w, sc, 0), 0, sc->sc_hcap *
			    sizeof(struct shm_host_ctr));
	}
}

void
shm_ratelimit_reset(struct shm_ratelimit *rl)
{
	size_t i;

	atomic_store_explicit(&rl->rl_state, 0, memory_order_relaxed);
	for (i = 0; i < SHM_RL__N; i++)
		atomic_store_explicit(&rl->rl_c[i], 0, memory_order_relaxed);
}

bool
shm_ratelimit_take(struct shm_ratelimit *rl, uint32_t max, uint32_t per_fill,
    uint64_t interval_ms, uint64_t now_ms)
{
	uint64_t old, next, tokens, fills;
	uint32_t period, last;

	period = (uint32_t)(now_ms / (interval_ms > 0 ? interval_ms : 1) + 1);
	old = atomic_load_explicit(&rl->rl_state, memory_order_relaxed);
	do {
		if (old == 0)
			tokens = max;
		else {
			tokens = old >> 32;
			last = (uint32_t)old;
			/* periods passed (mod 2^32; a clock never goes back) */
			fills = (uint32_t)(period - last);
			if (fills >= max || tokens + fills * per_fill >= max)
				tokens = max;
			else
				tokens += fills * per_fill;
		}
		if (tokens == 0) {
			next = (uint64_t)period;
			if (next == old)
				return false;
		} else
			next = (tokens - 1) << 32 | period;
	} while (!atomic_compare_exchange_weak_explicit(&rl->rl_state, &old,
	    next, memory_order_relaxed, memory_order_relaxed));
	return tokens > 0;
}

void
shm_listener_reset(struct shm *s, int li)
{
	int i;

	for (i = 0; i < (int)s->hdr.h_nslots; i++)
		memset(shm_http(s, shm_slot(s, i), li), 0,
		    sizeof(struct shm_http_ctr));
}

/*
 * Sums: one field, at the same offset in every slot, summed over the slots
 * below the high-water mark plus the master's.  Slots never used are
 * skipped so their pages are never touched.  f points into slot 0; every
 * public sum below only names its field.
 */
static uint64_t
sum_u64(const struct shm *s, const _Atomic uint64_t *f)
{
	size_t off = (size_t)((const char *)f - (const char *)shm_slot(s, 0));
	uint32_t i, hwm;
	uint64_t t = 0;

	hwm = slots_hwm(s);
	for (i = 0; i <= hwm; i++) {
		const char *w = (const char *)slot_used(s, i, hwm);

		t += atomic_load_explicit((const _Atomic uint64_t *)
		    (const void *)(w + off), memory_order_relaxed);
	}
	return t;
}

/* Gauges are int64_t of the same size: two's complement sums agree. */
static int64_t
sum_i64(const struct shm *s, const _Atomic int64_t *f)
{
	_Static_assert(sizeof(int64_t) == sizeof(uint64_t), "gauge size");
	return (int64_t)sum_u64(s, (const _Atomic uint64_t *)(const void *)f);
}

#define CODE_OK(code)	((code) >= CD_CODE_MIN && (code) <= CD_CODE_MAX)
#define SLOT0		(shm_slot(s, 0))

uint64_t
shm_sum_http_c(const struct shm *s, int li, int id)
{
	return sum_u64(s, &shm_http(s, SLOT0, li)->hc_c[id]);
}

int64_t
shm_sum_http_g(const struct shm *s, int li, int id)
{
	return sum_i64(s, &shm_http(s, SLOT0, li)->hc_g[id]);
}

uint64_t
shm_sum_http_code(const struct shm *s, int li, int code)
{
	return CODE_OK(code) ?
	    sum_u64(s, &shm_http(s, SLOT0, li)->hc_code[code - CD_CODE_MIN]) :
	    0;
}

uint64_t
shm_sum_cluster_c(const struct shm *s, int cl, int id)
{
	return sum_u64(s, &SLOT0->w_cl[cl].cc_c[id]);
}

int64_t
shm_sum_cluster_g(const struct shm *s, int cl, int id)
{
	return sum_i64(s, &SLOT0->w_cl[cl].cc_g[id]);
}

/* One sparse set's view: the two structs differ only in entries. */
struct codes_view {
	_Atomic uint64_t	*cv_class;
	_Atomic uint64_t	*cv_other;
	_Atomic uint16_t	*cv_code;
	_Atomic uint64_t	*cv_n;
	int			 cv_len;
};

static void
codes_view(const struct shm_cluster_ctr *cc, int retry, struct codes_view *v)
{
	struct shm_cluster_ctr *c = (struct shm_cluster_ctr *)(uintptr_t)cc;

	if (retry) {
		v->cv_class = c->cc_retry_code.cs_class;
		v->cv_other = &c->cc_retry_code.cs_other;
		v->cv_code = c->cc_retry_code.cs_code;
		v->cv_n = c->cc_retry_code.cs_n;
		v->cv_len = SHM_RETRY_CODES;
	} else {
		v->cv_class = c->cc_code.cs_class;
		v->cv_other = &c->cc_code.cs_other;
		v->cv_code = c->cc_code.cs_code;
		v->cv_n = c->cc_code.cs_n;
		v->cv_len = SHM_CODES;
	}
}

/* One writer: find code's entry, or take a free one (count, then name
 * it with release order, so a reader that sees the code sees its count). */
static void
codes_add(const struct codes_view *v, int code)
{
	int i, c;

	if (!CODE_OK(code))
		return;
	shm_add(&v->cv_class[code / 100 - 1], 1);
	for (i = 0; i < v->cv_len; i++) {
		c = atomic_load_explicit(&v->cv_code[i], memory_order_relaxed);
		if (c == code) {
			shm_add(&v->cv_n[i], 1);
			return;
		}
		if (c == 0) {
			shm_add(&v->cv_n[i], 1);
			atomic_store_explicit(&v->cv_code[i], (uint16_t)code,
			    memory_order_release);
			return;
		}
	}
	shm_add(v->cv_other, 1);
}

void
shm_code_add(struct shm_codes *cs, int code)
{
	struct shm_cluster_ctr *cc = (struct shm_cluster_ctr *)(void *)
	    ((char *)cs - offsetof(struct shm_cluster_ctr, cc_code));
	struct codes_view v;

	codes_view(cc, 0, &v);
	codes_add(&v, code);
}

void
shm_retry_code_add(struct shm_retry_codes *cs, int code)
{
	struct shm_cluster_ctr *cc = (struct shm_cluster_ctr *)(void *)
	    ((char *)cs - offsetof(struct shm_cluster_ctr, cc_retry_code));
	struct codes_view v;

	codes_view(cc, 1, &v);
	codes_add(&v, code);
}

void
shm_sum_cluster_codes(const struct shm *s, int cl, int retry,
    uint64_t out[CD_NCODES], uint64_t class[5], uint64_t *other)
{
	struct codes_view v;
	uint32_t i, hwm;
	int k, c;

	memset(out, 0, CD_NCODES * sizeof(*out));
	memset(class, 0, 5 * sizeof(*class));
	*other = 0;
	hwm = slots_hwm(s);
	for (i = 0; i <= hwm; i++) {
		codes_view(&slot_used(s, i, hwm)->w_cl[cl], retry, &v);
		for (k = 0; k < 5; k++)
			class[k] += atomic_load_explicit(&v.cv_class[k],
			    memory_order_relaxed);
		*other += atomic_load_explicit(v.cv_other,
		    memory_order_relaxed);
		for (k = 0; k < v.cv_len; k++) {
			c = atomic_load_explicit(&v.cv_code[k],
			    memory_order_acquire);
			if (CODE_OK(c))
				out[c - CD_CODE_MIN] += atomic_load_explicit(
				    &v.cv_n[k], memory_order_relaxed);
		}
	}
}

static uint64_t
sum_code(const struct shm *s, int cl, int retry, int code)
{
	struct codes_view v;
	uint32_t i, hwm;
	uint64_t t = 0;
	int k;

	if (!CODE_OK(code))
		return 0;
	hwm = slots_hwm(s);
	for (i = 0; i <= hwm; i++) {
		codes_view(&slot_used(s, i, hwm)->w_cl[cl], retry, &v);
		for (k = 0; k < v.cv_len; k++)
			if (atomic_load_explicit(&v.cv_code[k],
			    memory_order_acquire) == code)
				t += atomic_load_explicit(&v.cv_n[k],
				    memory_order_relaxed);
	}
	return t;
}

uint64_t
shm_sum_cluster_code(const struct shm *s, int cl, int code)
{
	return sum_code(s, cl, 0, code);
}

uint64_t
shm_sum_cluster_retry_code(const struct shm *s, int cl, int code)
{
	return sum_code(s, cl, 1, code);
}

uint64_t
shm_sum_host_c(const struct shm *s, int cl, int host, int id)
{
	const struct shm_cluster *sc = shm_cl(s, cl);

	return sum_u64(s, &shm_host_ctr(s, SLOT0, sc, (uint32_t)host)->hc_c[id]);
}

int64_t
shm_sum_host_g(const struct shm *s, int cl, int host, int id)
{
	const struct shm_cluster *sc = shm_cl(s, cl);

	return sum_i64(s, &shm_host_ctr(s, SLOT0, sc, (uint32_t)host)->hc_g[id]);
}

/*
 * Envoy's DetectorHostMonitorImpl::putHttpResponseCode() without the
 * thread hop: a 5xx bumps the consecutive-5xx counter, a 502/503/504 also
 * the gateway counter (another 5xx zeroes that one), anything else zeroes
 * both.  Envoy fires when a counter becomes equal to its threshold, so
 * exactly one report (in whichever worker) sets the request bit; further
 * errors past the threshold fire nothing until the counter is zeroed
 * again, by a success or by the master.
 */
void
shm_outlier_report(struct shm_cluster *sc, uint32_t host_index, int status)
{
	struct shm_outlier_host *oh;
	uint32_t n;

	if (sc->sc_od_enabled == 0 || host_index >= sc->sc_hcap)
		return;
	oh = &shm_cl_od(sc)[host_index];
	if (status == 0)
		status = 503;	/* LocalOriginConnectFailed */
	if (status < 500 || status > 599) {
		/* load first: a success on a clean host writes nothing, so
		 * the hot path doesn't bounce the cache line */
		if (atomic_load_explicit(&oh->oh_5xx, memory_order_relaxed))
			atomic_store_explicit(&oh->oh_5xx, 0,
			    memory_order_relaxed);
		if (atomic_load_explicit(&oh->oh_gateway, memory_order_relaxed))
			atomic_store_explicit(&oh->oh_gateway, 0,
			    memory_order_relaxed);
		return;
	}
	if (status >= 502 && status <= 504) {
		n = atomic_fetch_add_explicit(&oh->oh_gateway, 1,
		    memory_order_relaxed) + 1;
		if (n == sc->sc_od_gateway)
			atomic_fetch_or_explicit(&oh->oh_req,
			    SHM_OD_REQ_GATEWAY, memory_order_release);
	} else if (atomic_load_explicit(&oh->oh_gateway, memory_order_relaxed))
		atomic_store_explicit(&oh->oh_gateway, 0, memory_order_relaxed);
	n = atomic_fetch_add_explicit(&oh->oh_5xx, 1, memory_order_relaxed) + 1;
	if (n == sc->sc_od_5xx)
		atomic_fetch_or_explicit(&oh->oh_req, SHM_OD_REQ_5XX,
		    memory_order_release);
}

void
shm_host_ip(const struct shm_host *h, char *buf, size_t len)
{
	if (inet_ntop(h->sh_family == AF_INET6 ? AF_INET6 : AF_INET,
	    h->sh_addr, buf, (socklen_t)len) == NULL)
		strlcpy(buf, "?", len);
}

void
shm_host_addr(const struct shm_host *h, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	shm_host_ip(h, ip, sizeof(ip));
	if (h->sh_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, h->sh_port);
	else
		snprintf(buf, len, "%s:%u", ip, h->sh_port);
}
