/*
 * /stats as text (see stats.h): "name: value" lines, then histograms.
 */
#include <inttypes.h>
#include <stddef.h>

#include "shared/buf.h"
#include "shared/hist.h"
#include "stats-int.h"
#include "stats.h"

/* "name: value\n" without a format to run: most of a large page. */
static void
text_line(struct buf *b, const char *name, uint64_t v)
{
	char num[24], *p = num + sizeof(num);

	*--p = '\n';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	*--p = ' ';
	*--p = ':';
	buf_puts(b, name);
	buf_append(b, p, (size_t)(num + sizeof(num) - p));
}

void
mst_stats_text_one(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stat *st)
{
	const struct mst_hist_stat *hs;
	char iv[32], cv[32];
	int q;

	if (st->st_type != MST_STAT_HISTOGRAM) {
		text_line(b, st->st_name, st->st_value);
		return;
	}
	hs = &sl->sl_h[st->st_hist];
	if (hs->hs_count == 0) {
		buf_puts(b, st->st_name);
		buf_puts(b, ": No recorded values\n");
		return;
	}
	buf_puts(b, st->st_name);
	buf_puts(b, ":");
	for (q = 0; q < MST_HIST_NQ; q++) {
		hist_fmt(iv, sizeof(iv), hs->hs_ival[q]);
		hist_fmt(cv, sizeof(cv), hs->hs_cum[q]);
		buf_printf(b, " P%s(%s,%s)", mst_stats_q_names[q], iv, cv);
	}
	buf_puts(b, "\n");
}

int
mst_stats_text(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stats_filter *f)
{
	const struct mst_stat *st;
	size_t i;

	for (i = 0; i < sl->sl_n; i++) {
		st = &sl->sl_v[i];
		if (st->st_type != MST_STAT_HISTOGRAM && mst_stats_match(f, st))
			mst_stats_text_one(b, sl, st);
	}
	/* Envoy: histograms after counters and gauges, sorted by name */
	for (i = 0; i < sl->sl_n; i++) {
		st = &sl->sl_v[i];
		if (st->st_type == MST_STAT_HISTOGRAM && mst_stats_match(f, st))
			mst_stats_text_one(b, sl, st);
	}
	return b->b_oom ? -1 : 0;
}
