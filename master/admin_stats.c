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
#include <stdlib.h>
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

#define ADMIN_STATS_PIECE	65536	/* bytes of a page per wake-up */

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
/* the running configuration's clusters and stats in page order, sorted
 * by the first page after a start or structural reload, not by every
 * page */
static struct mst_stats_order stats_order;

void
mst_admin_conf_changed(int structural)
{
	if (structural)
		mst_stats_order_reset(&stats_order);
	else
		mst_stats_order_rebind(&stats_order, mst.m_conf);
}

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
	src->ss_order = &stats_order;
}

/* A page as it streams out: the cursor, and what it was made from. */
struct stats_stream {
	struct mst_stats_cursor	*ss_cur;	/* text, JSON */
	struct mst_prom_cursor	*ss_prom;	/* or Prometheus */
	const struct cd_conf	*ss_conf;	/* a reload cuts the page */
	const struct cd_place	*ss_place;
	regex_t			 ss_re;
	int			 ss_has_re;
};

static void
stats_stream_done(void *arg)
{
	struct stats_stream *s = arg;

	mst_stats_cursor_free(s->ss_cur);
	mst_prom_cursor_free(s->ss_prom);
	if (s->ss_has_re)
		regfree(&s->ss_re);
	free(s);
}

static int
stats_stream_more(void *arg, struct buf *b)
{
	struct stats_stream *s = arg;
	struct mst_stats_src src;

	if (mst.m_conf != s->ss_conf || mst.m_place != s->ss_place) {
		log_info("admin: /stats cut short: the config changed while "
		    "it was sent; ask again");
		return -1;
	}
	stats_src(&src);
	if (s->ss_prom != NULL)
		return mst_prom_cursor_next(s->ss_prom, &src, b,
		    ADMIN_STATS_PIECE);
	return mst_stats_cursor_next(s->ss_cur, &src, b, ADMIN_STATS_PIECE);
}

/* Every stat but the clusters' (those come as the page reaches them). */
static int
stats_base(const struct mst_stats_src *src, struct mst_stat_list *sl,
    int all)
{
	if ((all ? mst_stats_collect(src, sl) :
	    mst_stats_collect_base(src, sl)) == -1 ||
	    mst_runtime_stats(sl) == -1 ||
	    (mst_rollout_engine() != NULL &&
	    mst_rollout_stats(mst_rollout_engine(), sl) == -1) ||
	    mst_fleet_stats(sl) == -1)
		return -1;
	return 0;
}

/* The page whole: Prometheus when the cluster names do not let it
 * stream.  0 or -1. */
static int
stats_whole(const struct mst_stats_src *src, const struct mst_stats_filter *f,
    struct mst_admin_reply *r)
{
	struct mst_stat_list sl;
	int rc;

	rc = stats_base(src, &sl, 1) == -1 ? -1 :
	    mst_stats_prometheus(&r->ar_body, &sl, f);
	mst_stats_list_free(&sl);
	return rc;
}

/* The page streamed, a few clusters at a time.  0: s goes with the
 * reply; 1: print it whole instead; -1: out of memory. */
static int
stats_stream(const struct mst_stats_src *src, struct stats_stream *s,
    const struct mst_stats_filter *f, int fmt, struct mst_admin_reply *r)
{
	struct mst_stat_list sl;
	int whole = 0;

	if (stats_base(src, &sl, 0) == -1) {
		mst_stats_list_free(&sl);
		return -1;
	}
	if (fmt == FMT_PROM)
		s->ss_prom = mst_prom_cursor_new(src, f, &sl, &whole);
	else
		s->ss_cur = mst_stats_cursor_new(src, f, fmt == FMT_JSON ?
		    MST_STATS_JSON : MST_STATS_TEXT, &sl);
	if (whole) {
		mst_stats_list_free(&sl);
		return 1;
	}
	if (s->ss_cur == NULL && s->ss_prom == NULL)
		return -1;
	s->ss_conf = mst.m_conf;
	s->ss_place = mst.m_place;
	if (fmt == FMT_JSON)
		r->ar_ctype = ADMIN_CT_JSON;
	r->ar_more = stats_stream_more;
	r->ar_done = stats_stream_done;
	r->ar_arg = s;
	return 0;
}

/* /stats and /stats/prometheus: parameters, then the page. */
static void
stats_page(const char *query, struct mst_admin_reply *r, int prom)
{
	struct mst_stats_filter f;
	struct mst_stats_src src;
	struct stats_stream *s;
	int rc, fmt;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		admin_reply_text(r, 500, "out of memory\n");
		return;
	}
	if (stats_params(query, prom, &f, &fmt, &s->ss_re, r) == -1) {
		free(s);
		return;
	}
	s->ss_has_re = f.sf_re != NULL;
	stats_src(&src);
	if ((rc = stats_stream(&src, s, &f, fmt, r)) == 0)
		return;		/* s goes with the reply */
	if (rc == 1)
		rc = stats_whole(&src, &f, r);
	stats_stream_done(s);
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
