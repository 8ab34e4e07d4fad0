/*
 * Envoy's runtime (see runtime.h): lookups over the layers, Envoy's
 * value types, the admin layer, what the routes' keys say, its JSON and
 * its statistics, and the master's one runtime.
 *
 * Invariant: shm holds, at the running placement's records, each weighted
 * route's weights and each runtime_fraction's share as the running
 * configuration and the admin layer make them; every change to either
 * goes through mst_runtime_publish().
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/log.h"
#include "shared/query.h"
#include "shared/shm.h"
#include "fileweights.h"
#include "json.h"
#include "mst.h"
#include "rollout.h"
#include "runtime.h"

/* ---- lookups ------------------------------------------------------------- */

static int
entry_cmp(const void *key, const void *e)
{
	return strcmp(key, ((const struct cd_rt_entry *)e)->re_key);
}

static int
kv_cmp(const void *key, const void *kv)
{
	return strcmp(key, ((const struct mst_rt_kv *)kv)->kv_key);
}

/* key's value in layer i, or NULL. */
static const char *
layer_value(const struct cd_runtime *rn, const struct mst_rt_admin *ad,
    size_t i, const char *key)
{
	const struct cd_rt_layer *ly = &rn->rn_layers[i];
	const struct cd_rt_entry *e;
	const struct mst_rt_kv *kv;

	if (ly->ly_kind == CD_RTL_ADMIN) {
		if (ad == NULL || ad->ad_n == 0)
			return NULL;
		kv = bsearch(key, ad->ad_v, ad->ad_n, sizeof(*kv), kv_cmp);
		return kv != NULL ? kv->kv_val : NULL;
	}
	if (ly->ly_n == 0)
		return NULL;
	e = bsearch(key, ly->ly_entries, ly->ly_n, sizeof(*e), entry_cmp);
	return e != NULL ? e->re_value : NULL;
}

const char *
mst_runtime_value(const struct cd_runtime *rn, const struct mst_rt_admin *ad,
    const char *key)
{
	const char *v;
	size_t i;

	for (i = rn->rn_nlayers; key != NULL && i-- > 0;)
		if ((v = layer_value(rn, ad, i, key)) != NULL)
			return v;
	return NULL;
}

/* ---- Envoy's value types ------------------------------------------------- */

bool
mst_runtime_uint(const char *val, uint64_t *out)
{
	char buf[128], *end;
	const char *s = val;
	size_t n;
	double d;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* a bool is not a number (but "1" is both, as in Envoy) */
	if (strcasecmp(buf, "true") == 0 || strcasecmp(buf, "false") == 0)
		return false;
	errno = 0;
	d = strtod(buf, &end);
	if (*end != '\0' || isnan(d) || d < 0 || d >= 18446744073709551616.0)
		return false;
	*out = (uint64_t)d;
	return true;
}

/* "numerator: N" / "denominator: D" of a fraction value into *num,
 * *den; false when it is not one. */
static bool
fraction_pair(const char *k, size_t klen, const char *v, size_t vlen,
    uint32_t *num, uint32_t *den)
{
	static const struct { const char *n; uint32_t d; } dens[] = {
		{ "HUNDRED", 100 }, { "0", 100 }, { "TEN_THOUSAND", 10000 },
		{ "1", 10000 }, { "MILLION", 1000000 }, { "2", 1000000 },
	};
	uint64_t x = 0;
	size_t i;

	if (klen == 9 && memcmp(k, "numerator", 9) == 0) {
		for (i = 0; i < vlen && x <= UINT32_MAX; i++) {
			if (!isdigit((unsigned char)v[i]))
				return false;
			x = x * 10 + (uint64_t)(v[i] - '0');
		}
		if (vlen == 0 || x > UINT32_MAX)
			return false;
		*num = (uint32_t)x;
		return true;
	}
	if (klen != 11 || memcmp(k, "denominator", 11) != 0)
		return false;
	for (i = 0; i < sizeof(dens) / sizeof(dens[0]); i++)
		if (strlen(dens[i].n) == vlen &&
		    strncasecmp(dens[i].n, v, vlen) == 0) {
			*den = dens[i].d;
			return true;
		}
	return false;
}

/* A FractionalPercent written as YAML ("numerator: 5\ndenominator:
 * TEN_THOUSAND", or in braces with commas). */
static bool
fraction_parse(const char *val, uint32_t *num, uint32_t *den)
{
	const char *p = val, *e, *c, *k, *v;
	size_t klen, vlen;
	int pairs = 0;

	*num = 0;
	*den = 100;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '{')
		p++;
	for (; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, ",\n}");
		if ((c = memchr(p, ':', (size_t)(e - p))) == NULL) {
			for (k = p; k < e && isspace((unsigned char)*k); k++)
				;
			if (k == e)
				continue;	/* blank, or the closing brace */
			return false;
		}
		for (k = p; k < c && isspace((unsigned char)*k); k++)
			;
		for (klen = (size_t)(c - k); klen > 0 &&
		    isspace((unsigned char)k[klen - 1]); klen--)
			;
		for (v = c + 1; v < e && isspace((unsigned char)*v); v++)
			;
		for (vlen = (size_t)(e - v); vlen > 0 &&
		    isspace((unsigned char)v[vlen - 1]); vlen--)
			;
		if (!fraction_pair(k, klen, v, vlen, num, den))
			return false;
		pairs++;
	}
	return pairs > 0 || strchr(val, '{') != NULL;
}

static uint64_t
fraction_word(uint32_t num, uint32_t den)
{
	return (uint64_t)num << 32 | den;
}

uint64_t
mst_runtime_fraction(const struct cd_runtime *rn,
    const struct mst_rt_admin *ad, const struct cd_fraction *rf)
{
	const char *v = mst_runtime_value(rn, ad, rf->rf_key);
	uint32_t num, den;
	uint64_t u;

	if (v != NULL && !mst_runtime_uint(v, &u) &&
	    strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0 &&
	    fraction_parse(v, &num, &den))
		return fraction_word(num, den);
	if (v != NULL && mst_runtime_uint(v, &u))
		/* a plain number is a percentage; above 100, always */
		return u > 100 ? fraction_word(1, 1) :
		    fraction_word((uint32_t)u, 100);
	return fraction_word(rf->rf_numerator, rf->rf_denominator);
}

bool
mst_runtime_weights(const struct cd_conf *c,
    const struct mst_rt_admin *ad, const struct cd_route *rt, uint32_t *w)
{
	const struct cd_runtime *rn = &c->c_runtime;
	const char *v;
	uint64_t u, sum = 0;
	bool runtime = false;
	size_t i;

	for (i = 0; i < rt->rt_nwc; i++) {
		w[i] = mst_fw_weight(c, rt, i);
		if (rt->rt_runtime_prefix == NULL || (v = mst_runtime_value(rn,
		    ad, rt->rt_wc[i].wc_runtime_key)) == NULL ||
		    !mst_runtime_uint(v, &u))
			u = w[i];
		else
			runtime = true;
		sum += u > UINT32_MAX ? (uint64_t)UINT32_MAX + 1 : u;
		w[i] = u > UINT32_MAX ? 0 : (uint32_t)u;
	}
	if (runtime && (sum == 0 || sum > UINT32_MAX)) {
		/* Envoy skips such a route; canaryd keeps the file's */
		for (i = 0; i < rt->rt_nwc; i++)
			w[i] = mst_fw_weight(c, rt, i);
		return false;
	}
	return true;
}

/* ---- the admin layer ----------------------------------------------------- */

int
mst_runtime_set(struct mst_rt_admin *ad, const char *key, const char *val)
{
	struct mst_rt_kv *kv, *v;
	size_t i, cap;
	char *k, *s;

	for (i = 0; i < ad->ad_n && strcmp(ad->ad_v[i].kv_key, key) < 0; i++)
		;
	kv = i < ad->ad_n && strcmp(ad->ad_v[i].kv_key, key) == 0 ?
	    &ad->ad_v[i] : NULL;
	if (val[0] == '\0') {
		if (kv != NULL) {
			free(kv->kv_key);
			free(kv->kv_val);
			memmove(kv, kv + 1, (ad->ad_n - i - 1) * sizeof(*kv));
			ad->ad_n--;
		}
		return 0;
	}
	if ((s = strdup(val)) == NULL)
		return -1;
	if (kv != NULL) {
		free(kv->kv_val);
		kv->kv_val = s;
		return 0;
	}
	if (ad->ad_n == MST_RT_MAX_ADMIN) {
		free(s);
		errno = E2BIG;
		return -1;
	}
	if (ad->ad_n == ad->ad_cap) {
		cap = ad->ad_cap == 0 ? 16 : ad->ad_cap * 2;
		if ((v = reallocarray(ad->ad_v, cap, sizeof(*v))) == NULL) {
			free(s);
			return -1;
		}
		ad->ad_v = v;
		ad->ad_cap = cap;
	}
	if ((k = strdup(key)) == NULL) {
		free(s);
		return -1;
	}
	memmove(&ad->ad_v[i + 1], &ad->ad_v[i], (ad->ad_n - i) *
	    sizeof(*ad->ad_v));
	ad->ad_v[i].kv_key = k;
	ad->ad_v[i].kv_val = s;
	ad->ad_n++;
	return 0;
}

void
mst_runtime_admin_free(struct mst_rt_admin *ad)
{
	size_t i;

	for (i = 0; i < ad->ad_n; i++) {
		free(ad->ad_v[i].kv_key);
		free(ad->ad_v[i].kv_val);
	}
	free(ad->ad_v);
	memset(ad, 0, sizeof(*ad));
}

/* ---- every key ------------------------------------------------------------ */

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every key of every layer, sorted and distinct (malloc'd array of
 * borrowed strings, *n of them); NULL with *n 0 for none or ENOMEM. */
static const char **
all_keys(const struct cd_runtime *rn, const struct mst_rt_admin *ad,
    size_t *n)
{
	const struct cd_rt_layer *ly;
	const char **v;
	size_t i, j, total = 0, k = 0;

	*n = 0;
	for (i = 0; i < rn->rn_nlayers; i++)
		total += rn->rn_layers[i].ly_kind == CD_RTL_ADMIN ?
		    (ad != NULL ? ad->ad_n : 0) : rn->rn_layers[i].ly_n;
	if (total == 0 || (v = calloc(total, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < rn->rn_nlayers; i++) {
		ly = &rn->rn_layers[i];
		if (ly->ly_kind == CD_RTL_ADMIN)
			for (j = 0; ad != NULL && j < ad->ad_n; j++)
				v[k++] = ad->ad_v[j].kv_key;
		else
			for (j = 0; j < ly->ly_n; j++)
				v[k++] = ly->ly_entries[j].re_key;
	}
	qsort(v, k, sizeof(*v), str_cmp);
	for (i = j = 0; i < k; i++)
		if (j == 0 || strcmp(v[j - 1], v[i]) != 0)
			v[j++] = v[i];
	*n = j;
	return v;
}

size_t
mst_runtime_nkeys(const struct cd_runtime *rn, const struct mst_rt_admin *ad)
{
	const char **v;
	size_t n;

	v = all_keys(rn, ad, &n);
	free(v);
	return n;
}

int
mst_runtime_json(struct buf *b, const struct cd_runtime *rn,
    const struct mst_rt_admin *ad)
{
	const char **keys, *v, *final;
	size_t n, i, l;

	keys = all_keys(rn, ad, &n);
	buf_puts(b, "{\"entries\":{");
	for (i = 0; i < n; i++) {
		buf_puts(b, i > 0 ? "," : "");
		mst_json_str(b, keys[i]);
		final = "";
		for (l = 0; l < rn->rn_nlayers; l++)
			if ((v = layer_value(rn, ad, l, keys[i])) != NULL &&
			    v[0] != '\0')
				final = v;	/* Envoy: the last non-empty */
		buf_puts(b, ":{\"final_value\":");
		mst_json_str(b, final);
		buf_puts(b, ",\"layer_values\":[");
		for (l = 0; l < rn->rn_nlayers; l++) {
			v = layer_value(rn, ad, l, keys[i]);
			buf_puts(b, l > 0 ? "," : "");
			mst_json_str(b, v != NULL ? v : "");
		}
		buf_puts(b, "]}");
	}
	free(keys);
	buf_puts(b, "},\"layers\":[");
	for (l = 0; l < rn->rn_nlayers; l++) {
		buf_puts(b, l > 0 ? "," : "");
		mst_json_str(b, rn->rn_layers[l].ly_name);
	}
	buf_puts(b, "]}");
	return b->b_oom ? -1 : 0;
}

/* ---- shm ------------------------------------------------------------------ */

/* Is what split sp holds other than w[0, n)?  now: room for n. */
static bool
split_differs(const struct shm_split *sp, const uint32_t *w, size_t n,
    uint32_t *now)
{
	uint32_t seq;

	return shm_split_read(sp, now, (uint32_t)n, &seq) != n ||
	    memcmp(now, w, n * sizeof(*w)) != 0;
}

/* Route rt's weights (the file's, or the runtime's where its keys say)
 * to its split: 1 when written, 0 when unchanged or out of memory. */
static size_t
runtime_publish_split(struct shm *shm, const struct cd_conf *conf,
    const struct cd_place *pl, const struct mst_rt_admin *ad,
    const struct cd_route *rt, bool all)
{
	struct shm_split *sp;
	uint32_t *w;
	size_t wrote = 0;

	/* the weights, and what the split holds now */
	if ((w = calloc(2 * (rt->rt_nwc > 0 ? rt->rt_nwc : 1),
	    sizeof(*w))) == NULL) {
		log_warn("runtime: the weights of a route");
		return 0;
	}
	if (!mst_runtime_weights(conf, ad, rt, w))
		log_warnx("runtime: the weights of %s's keys cannot split "
		    "traffic (all 0, or too large); the file's stay",
		    rt->rt_runtime_prefix);
	sp = shm_sp(shm, pl->pl_split[rt->rt_wi]);
	if (all || split_differs(sp, w, rt->rt_nwc, w + rt->rt_nwc)) {
		/* a fresh period on the new weights */
		shm_split_publish(sp, w, (uint32_t)rt->rt_nwc, 1);
		wrote = 1;
	}
	free(w);
	return wrote;
}

size_t
mst_runtime_publish(struct shm *shm, const struct cd_conf *conf,
    const struct cd_place *pl, const struct mst_rt_admin *ad, bool all)
{
	const struct cd_runtime *rn = &conf->c_runtime;
	const struct cd_route *rt;
	struct cd_route_it it;
	size_t i, wrote = 0;

	memset(&it, 0, sizeof(it));
	while ((rt = conf_route_next(conf, &it)) != NULL) {
		if (rt->rt_match.rm_fraction.rf_set)
			atomic_store_explicit(shm_fraction(shm,
			    pl->pl_fraction[rt->rt_match.rm_fraction.
			    rf_index]), mst_runtime_fraction(rn, ad,
			    &rt->rt_match.rm_fraction),
			    memory_order_relaxed);
		for (i = 0; i < rt->rt_nmirror; i++)
			if (rt->rt_mirror[i].mp_fraction.rf_set)
				atomic_store_explicit(
				    shm_fraction(shm, pl->pl_fraction[
				    rt->rt_mirror[i].mp_fraction.
				    rf_index]), mst_runtime_fraction(rn,
				    ad, &rt->rt_mirror[i].mp_fraction),
				    memory_order_relaxed);
		if (rt->rt_action == CD_RA_WEIGHTED)
			wrote += runtime_publish_split(shm, conf, pl, ad, rt,
			    all);
	}
	return wrote;
}

/* ---- the master's runtime ------------------------------------------------ */

static struct mst_rt_admin rt_admin;
static uint64_t	rt_loads;	/* runtime.load_success: snapshots made */

const struct mst_rt_admin *
mst_runtime_admin(void)
{
	return &rt_admin;
}

void
mst_runtime_loaded(void)
{
	if (rt_admin.ad_n > 0 && mst.m_conf->c_runtime.rn_admin < 0) {
		log_warnx("runtime: the configuration has no admin layer; "
		    "%zu admin value(s) dropped", rt_admin.ad_n);
		mst_runtime_admin_free(&rt_admin);
	}
	rt_loads++;
}

/* Check every pair before any is taken, as Envoy's merge is whole. */
static int
modify_check(const char *query, struct buf *b, size_t *npairs)
{
	struct buf k, v;
	const char *p = query;
	int rc = 200;

	buf_init(&k);
	buf_init(&v);
	*npairs = 0;
	while (rc == 200 && query_next(&p, &k, &v)) {
		(*npairs)++;
		if (k.b_oom || v.b_oom)
			rc = 500;
		else if (k.b_len <= 1 || k.b_len > MST_RT_MAX_KEY ||
		    v.b_len > MST_RT_MAX_VALUE || strlen(k.b_data) + 1 !=
		    k.b_len || strlen(v.b_data) + 1 != v.b_len) {
			buf_printf(b, "bad runtime key or value: a key is 1 to "
			    "%d bytes, a value at most %d, neither holds a NUL"
			    "\n", MST_RT_MAX_KEY - 1, MST_RT_MAX_VALUE - 1);
			rc = 400;
		}
	}
	buf_free(&k);
	buf_free(&v);
	return rc;
}

int
mst_runtime_modify(const char *query, struct buf *b)
{
	const struct cd_runtime *rn = &mst.m_conf->c_runtime;
	struct buf k, v;
	const char *p = query;
	size_t npairs, wrote;
	int rc;

	if ((rc = modify_check(query, b, &npairs)) != 200)
		return rc;
	if (npairs == 0) {
		buf_puts(b, "usage: /runtime_modify?key1=value1&key2=value2&"
		    "keyN=valueN\n       or send the parameters as form "
		    "values\nuse an empty value to remove a previously added "
		    "override");
		return 400;
	}
	if (rn->rn_admin < 0) {
		buf_puts(b, "No admin layer specified");
		return 503;
	}
	buf_init(&k);
	buf_init(&v);
	while (rc == 200 && query_next(&p, &k, &v))
		if (mst_runtime_set(&rt_admin, k.b_data, v.b_data) == -1) {
			buf_printf(b, "runtime: %s\n", errno == E2BIG ?
			    "too many admin values" : "out of memory");
			rc = errno == E2BIG ? 400 : 500;
		}
	buf_free(&k);
	buf_free(&v);
	rt_loads++;
	wrote = mst_runtime_publish(mst.m_shm, mst.m_conf, mst.m_place,
	    &rt_admin, false);
	if (wrote > 0 && mst_rollout_engine() != NULL)
		mst_rollout_reread(mst_rollout_engine());
	log_info("runtime: %zu admin value(s) set; %zu split(s) have new "
	    "weights", npairs, wrote);
	if (rc == 200)
		buf_puts(b, "OK\n");
	return rc;
}

int
mst_runtime_stats(struct mst_stat_list *sl)
{
	const struct cd_runtime *rn = &mst.m_conf->c_runtime;
	size_t nkeys = mst_runtime_nkeys(rn, &rt_admin);
	int rc = 0;

	rc |= mst_stats_add(sl, MST_STAT_GAUGE, rt_admin.ad_n > 0, 1,
	    "runtime.admin_overrides_active");
	rc |= mst_stats_add(sl, MST_STAT_COUNTER, 0, 0,
	    "runtime.deprecated_feature_use");
	rc |= mst_stats_add(sl, MST_STAT_GAUGE, 0, 1,
	    "runtime.deprecated_feature_seen_since_process_start");
	rc |= mst_stats_add(sl, MST_STAT_COUNTER, 0, 0, "runtime.load_error");
	rc |= mst_stats_add(sl, MST_STAT_COUNTER, rt_loads, 1,
	    "runtime.load_success");
	rc |= mst_stats_add(sl, MST_STAT_GAUGE, nkeys, 1, "runtime.num_keys");
	rc |= mst_stats_add(sl, MST_STAT_GAUGE, rn->rn_nlayers, 1,
	    "runtime.num_layers");
	rc |= mst_stats_add(sl, MST_STAT_COUNTER, 0, 0,
	    "runtime.override_dir_exists");
	rc |= mst_stats_add(sl, MST_STAT_COUNTER, rt_loads, 1,
	    "runtime.override_dir_not_exists");
	return rc == 0 ? 0 : -1;
}
