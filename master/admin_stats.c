/*
 * /stats and /stats/prometheus (see admin-int.h): the query parameters
 * Envoy takes (format, type, usedonly, filter) turned into a filter over
 * one stat list, rendered by stats_text.c, stats_json.c or stats_prom.c;
 * and Envoy's periodic stats flush, which the interval values of the
 * histograms are measured against.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/log.h"
#include "shared/text.h"
#include "admin-int.h"
#include "admin.h"
#include "fleet.h"
#include "loop.h"
#include "mst.h"
#include "rollout.h"
#include "runtime.h"
#include "stats.h"

enum stats_format {
	FMT_TEXT,
	FMT_JSON,
	FMT_PROM,
};

static const struct text_name stats_formats[] = {
	{ FMT_TEXT, "text" },
	{ FMT_JSON, "json" },
	{ FMT_PROM, "prometheus" },
};

/* ?type=, any case, as Envoy */
static const struct text_name stats_types[] = {
	{ MST_STAT_ALL, "All" },
	{ MST_STAT_COUNTER, "Counters" },
	{ MST_STAT_GAUGE, "Gauges" },
	{ MST_STAT_HISTOGRAM, "Histograms" },
	{ 0, "TextReadouts" },		/* canaryd has none */
};

/* the histograms as of the last two flushes, and the flush timer */
static struct mst_hist_flush stats_hist;
static struct mst_timer *stats_flush_timer;

/* Envoy's stats flush: every MST_HIST_FLUSH_MS, whether or not anyone
 * looks, so an interval always covers one period. */
static void
stats_flush(void *arg)
{
	(void)arg;
	stats_flush_timer = NULL;
	if (mst.m_conf != NULL && mst.m_shm != NULL)
		mst_stats_hist_flush(&stats_hist, mst.m_conf, mst.m_place,
		    mst.m_shm);
	if ((stats_flush_timer = mst_timer_add(MST_HIST_FLUSH_MS,
	    stats_flush, NULL)) == NULL)
		log_warnx("admin: no timer for the stats flush: histogram "
		    "intervals stop");
}

void
admin_stats_flush_start(void)
{
	if (stats_flush_timer == NULL && (stats_flush_timer = mst_timer_add(
	    MST_HIST_FLUSH_MS, stats_flush, NULL)) == NULL)
		log_warnx("admin: no timer for the stats flush");
}

/*
 * The page's parameters into f (its regex compiled into re, f->sf_re set)
 * and *fmt.  -1 after a 400 reply for a value Envoy would refuse.
 */
static int
stats_params(const char *query, int prom, struct mst_stats_filter *f,
    int *fmt, regex_t *re, struct mst_admin_reply *r)
{
	struct buf v;
	char err[256];
	int rc = 0, ec;

	memset(f, 0, sizeof(*f));
	f->sf_types = MST_STAT_ALL;
	*fmt = prom ? FMT_PROM : FMT_TEXT;
	buf_init(&v);
	f->sf_usedonly = mst_admin_query(query, "usedonly", &v);
	if (!prom && mst_admin_query(query, "format", &v) &&
	    !text_value(stats_formats, TEXT_NELEM(stats_formats),
	    admin_buf_str(&v), false, fmt)) {
		admin_reply_text(r, 400, "usage: /stats?format=(json|"
		    "prometheus|text)\n");
		rc = -1;
	} else if (!prom && mst_admin_query(query, "type", &v) &&
	    !text_value(stats_types, TEXT_NELEM(stats_types),
	    admin_buf_str(&v), true, &f->sf_types)) {
		admin_reply_text(r, 400, "invalid type: want one of All, "
		    "Counters, Gauges, Histograms, TextReadouts\n");
		rc = -1;
	} else if (mst_admin_query(query, "filter", &v) && v.b_len > 0) {
		if ((ec = regcomp(re, admin_buf_str(&v),
		    REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(ec, re, err, sizeof(err));
			admin_reply_text(r, 400, "Invalid regex: ");
			buf_printf(&r->ar_body, "%s\n", err);
			rc = -1;
		} else
			f->sf_re = re;
	}
	buf_free(&v);
	return rc;
}

/* Where the values come from: shm, the server's counters, the flush. */
static void
stats_src(struct mst_stats_src *src)
{
	uint64_t now = mst_now_ms();

	src->ss_conf = mst.m_conf;
	src->ss_place = mst.m_place;
	src->ss_shm = mst.m_shm;
	src->ss_uptime_s = now > mst.m_start_mono_ms ?
	    (now - mst.m_start_mono_ms) / 1000 : 0;
	src->ss_concurrency = mst.m_concurrency;
	src->ss_admin = admin_counters();
	src->ss_hist = &stats_hist;
}

/* /stats and /stats/prometheus: parameters, then one render. */
static void
stats_page(const char *query, struct mst_admin_reply *r, int prom)
{
	struct mst_stats_filter f;
	struct mst_stats_src src;
	struct mst_stat_list sl;
	regex_t re;
	int rc, fmt;

	if (stats_params(query, prom, &f, &fmt, &re, r) == -1)
		return;
	stats_src(&src);
	if (mst_stats_collect(&src, &sl) == -1 ||
	    mst_runtime_stats(&sl) == -1 ||
	    (mst_rollout_engine() != NULL &&
	    mst_rollout_stats(mst_rollout_engine(), &sl) == -1) ||
	    mst_fleet_stats(&sl) == -1)
		rc = -1;
	else if (fmt == FMT_TEXT)
		rc = mst_stats_text(&r->ar_body, &sl, &f);
	else if (fmt == FMT_JSON) {
		r->ar_ctype = ADMIN_CT_JSON;
		rc = mst_stats_json(&r->ar_body, &sl, &f);
	} else
		rc = mst_stats_prometheus(&r->ar_body, &sl, &f);
	mst_stats_list_free(&sl);
	if (f.sf_re != NULL)
		regfree(&re);
	if (rc == -1)
		admin_reply_text(r, 500, "out of memory\n");
}

void
admin_h_stats(const char *query, struct mst_admin_reply *r)
{
	stats_page(query, r, 0);
}

void
admin_h_prom(const char *query, struct mst_admin_reply *r)
{
	stats_page(query, r, 1);
}
