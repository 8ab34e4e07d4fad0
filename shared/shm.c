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

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shm.h"

struct shm *
shm_create(void)
{
	struct shm *s;

	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	/* fresh anonymous pages are zero: only the state needs values */
	atomic_store(&s->hdr.h_state, SHM_S_PRE_INITIALIZING);
	atomic_store(&s->hdr.h_live, 1);
	return s;
}

void
shm_destroy(struct shm *s)
{
	if (s != NULL)
		munmap(s, sizeof(*s));
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
	uint32_t i;

	if (n > CD_MAX_HOSTS)
		n = CD_MAX_HOSTS;
	seq_write_begin(&c->sc_seq);
	for (i = 0; i < n; i++) {
		/* sh_flags is an atomic the master also changes outside the
		 * seqlock (health); copy it field by field */
		atomic_store_explicit(&c->sc_hosts[i].sh_flags,
		    atomic_load_explicit(&h[i].sh_flags, memory_order_relaxed),
		    memory_order_relaxed);
		c->sc_hosts[i].sh_family = h[i].sh_family;
		c->sc_hosts[i].sh_port = h[i].sh_port;
		memcpy(c->sc_hosts[i].sh_addr, h[i].sh_addr,
		    sizeof(h[i].sh_addr));
		c->sc_hosts[i].sh_endpoint = h[i].sh_endpoint;
		c->sc_hosts[i].sh_weight = h[i].sh_weight;
		c->sc_hosts[i].sh_id = h[i].sh_id;
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
	uint32_t s1, s2, n, i;

	for (;;) {
		s1 = atomic_load_explicit(&c->sc_seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		n = c->sc_nhosts;
		if (n > CD_MAX_HOSTS)
			n = CD_MAX_HOSTS;
		for (i = 0; i < n; i++) {
			atomic_store_explicit(&out[i].sh_flags,
			    atomic_load_explicit(&c->sc_hosts[i].sh_flags,
			    memory_order_relaxed), memory_order_relaxed);
			out[i].sh_family = c->sc_hosts[i].sh_family;
			out[i].sh_port = c->sc_hosts[i].sh_port;
			memcpy(out[i].sh_addr, c->sc_hosts[i].sh_addr,
			    sizeof(out[i].sh_addr));
			out[i].sh_endpoint = c->sc_hosts[i].sh_endpoint;
			out[i].sh_weight = c->sc_hosts[i].sh_weight;
			out[i].sh_id = c->sc_hosts[i].sh_id;
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
shm_split_publish(struct shm_split *sp, const uint32_t *w, uint32_t n,
    int restart)
{
	shm_split_publish_epoch(sp, w, n, restart, 0);
}

void
shm_split_publish_epoch(struct shm_split *sp, const uint32_t *w, uint32_t n,
    int restart, uint32_t epoch)
{
	if (n > CD_MAX_WEIGHTED)
		n = CD_MAX_WEIGHTED;
	seq_write_begin(&sp->sp_seq);
	memcpy(sp->sp_weight, w, n * sizeof(*w));
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
shm_split_read(const struct shm_split *sp, uint32_t *w, uint32_t *seqp)
{
	uint32_t epoch;

	return shm_split_read_epoch(sp, w, &epoch, seqp);
}

uint32_t
shm_split_read_epoch(const struct shm_split *sp, uint32_t *w,
    uint32_t *epoch, uint32_t *seqp)
{
	uint32_t s1, s2, n;

	for (;;) {
		s1 = atomic_load_explicit(&sp->sp_seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		n = sp->sp_n;
		if (n > CD_MAX_WEIGHTED)
			n = CD_MAX_WEIGHTED;
		memcpy(w, sp->sp_weight, n * sizeof(*w));
		*epoch = sp->sp_epoch;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&sp->sp_seq, memory_order_relaxed);
		if (s1 == s2)
			break;
	}
	*seqp = s1;
	return n;
}

void
shm_slot_reap(struct shm *s, int slot)
{
	struct shm_worker *w = &s->slots[slot];
	int i, j, k, p, r;

	for (i = 0; i < CD_MAX_LISTENERS; i++)
		for (j = 0; j < HG__N; j++)
			atomic_store_explicit(&w->w_http[i].hc_g[j], 0,
			    memory_order_relaxed);
	for (i = 0; i < CD_MAX_CLUSTERS; i++) {
		struct shm_cluster_ctr *cc = &w->w_cl[i];

		for (j = 0; j < CG__N; j++)
			atomic_store_explicit(&cc->cc_g[j], 0,
			    memory_order_relaxed);
		for (j = 0; j < CD_MAX_HOSTS; j++)
			for (k = 0; k < HOG__N; k++)
				atomic_store_explicit(&cc->cc_host_g[j][k], 0,
				    memory_order_relaxed);
		/* give back the breaker resources the dead worker held */
		for (p = 0; p < CD_NPRIO; p++)
			for (r = 0; r < SHM_CB__N; r++) {
				int32_t held = atomic_exchange_explicit(
				    &cc->cc_cb_held[p][r], 0,
				    memory_order_relaxed);

				if (held != 0)
					atomic_fetch_sub_explicit(
					    &s->clusters[i].sc_cb[p][r], held,
					    memory_order_relaxed);
			}
	}
	atomic_store_explicit(&w->w_pid, 0, memory_order_relaxed);
	atomic_store_explicit(&w->w_state, SHM_W_FREE, memory_order_release);
}

void
shm_cluster_reset(struct shm *s, int ci)
{
	struct shm_cluster *sc = &s->clusters[ci];
	uint32_t i;

	sc->sc_seq += 2;	/* readers holding a copy see a change */
	sc->sc_nhosts = 0;
	sc->sc_resolved = 0;
	memset(sc->sc_name, 0, sizeof(sc->sc_name));
	memset(sc->sc_hosts, 0, sizeof(sc->sc_hosts));
	memset(sc->sc_cb, 0, sizeof(sc->sc_cb));
	sc->sc_od_enabled = 0;
	memset(sc->sc_od_hosts, 0, sizeof(sc->sc_od_hosts));
	for (i = 0; i < SHM_NSLOTS; i++)
		memset(&s->slots[i].w_cl[ci], 0, sizeof(s->slots[i].w_cl[ci]));
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
	uint32_t i;

	for (i = 0; i < SHM_NSLOTS; i++)
		memset(&s->slots[i].w_http[li], 0,
		    sizeof(s->slots[i].w_http[li]));
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
	size_t off = (size_t)((const char *)f - (const char *)&s->slots[0]);
	uint32_t i, hwm;
	uint64_t t = 0;

	hwm = atomic_load_explicit(&s->hdr.h_slots_hwm, memory_order_relaxed);
	if (hwm > SHM_MASTER_SLOT)
		hwm = SHM_MASTER_SLOT;
	for (i = 0; i <= hwm; i++) {
		const char *w = (const char *)&s->slots[i < hwm ? i :
		    SHM_MASTER_SLOT];

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
#define SLOT0		(&s->slots[0])

uint64_t
shm_sum_http_c(const struct shm *s, int li, int id)
{
	return sum_u64(s, &SLOT0->w_http[li].hc_c[id]);
}

int64_t
shm_sum_http_g(const struct shm *s, int li, int id)
{
	return sum_i64(s, &SLOT0->w_http[li].hc_g[id]);
}

uint64_t
shm_sum_http_code(const struct shm *s, int li, int code)
{
	return CODE_OK(code) ?
	    sum_u64(s, &SLOT0->w_http[li].hc_code[code - CD_CODE_MIN]) : 0;
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

uint64_t
shm_sum_cluster_code(const struct shm *s, int cl, int code)
{
	return CODE_OK(code) ?
	    sum_u64(s, &SLOT0->w_cl[cl].cc_code[code - CD_CODE_MIN]) : 0;
}

uint64_t
shm_sum_cluster_retry_code(const struct shm *s, int cl, int code)
{
	return CODE_OK(code) ?
	    sum_u64(s, &SLOT0->w_cl[cl].cc_retry_code[code - CD_CODE_MIN]) : 0;
}

uint64_t
shm_sum_host_c(const struct shm *s, int cl, int host, int id)
{
	return sum_u64(s, &SLOT0->w_cl[cl].cc_host_c[host][id]);
}

int64_t
shm_sum_host_g(const struct shm *s, int cl, int host, int id)
{
	return sum_i64(s, &SLOT0->w_cl[cl].cc_host_g[host][id]);
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

	if (sc->sc_od_enabled == 0 || host_index >= CD_MAX_HOSTS)
		return;
	oh = &sc->sc_od_hosts[host_index];
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
