/*
 * /stats?format=json (see stats.h): Envoy's {"stats":[...]} with the
 * histograms as the array's last element.
 */
#include <inttypes.h>
#include <stddef.h>

#include "shared/buf.h"
#include "json.h"
#include "stats-int.h"
#include "stats.h"

void
mst_stats_json_one(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stat *st, int first, size_t nth)
{
	const struct mst_hist_stat *hs;
	int q;

	if (st->st_type != MST_STAT_HISTOGRAM) {
		buf_puts(b, first ? "{\"name\":" : ",{\"name\":");
		mst_json_str(b, st->st_name);
		buf_printf(b, ",\"value\":%" PRIu64 "}", st->st_value);
		return;
	}
	/* the histograms: one element, the "stats" array's last */
	if (nth == 0) {
		buf_puts(b, first ? "" : ",");
		buf_puts(b, "{\"histograms\":{\"supported_quantiles\":[");
		for (q = 0; q < MST_HIST_NQ; q++)
			buf_printf(b, "%s%s", q > 0 ? "," : "",
			    mst_stats_q_names[q]);
		buf_puts(b, "],\"computed_quantiles\":[");
	} else
		buf_puts(b, ",");
	hs = &sl->sl_h[st->st_hist];
	buf_puts(b, "{\"name\":");
	mst_json_str(b, st->st_name);
	buf_puts(b, ",\"values\":[");
	for (q = 0; q < MST_HIST_NQ; q++) {
		buf_puts(b, q > 0 ? ",{\"cumulative\":" : "{\"cumulative\":");
		mst_json_num(b, hs->hs_cum[q]);
		buf_puts(b, ",\"interval\":");
		mst_json_num(b, hs->hs_ival[q]);
		buf_puts(b, "}");
	}
	buf_puts(b, "]}");
}

int
mst_stats_json(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stats_filter *f)
{
	const struct mst_stat *st;
	size_t i, n = 0;
	int first = 1;

	buf_puts(b, "{\"stats\":[");
	for (i = 0; i < sl->sl_n; i++) {
		st = &sl->sl_v[i];
		if (st->st_type == MST_STAT_HISTOGRAM || !mst_stats_match(f, st))
			continue;
		mst_stats_json_one(b, sl, st, first, 0);
		first = 0;
	}
	for (i = 0; i < sl->sl_n; i++) {
		st = &sl->sl_v[i];
		if (st->st_type == MST_STAT_HISTOGRAM && mst_stats_match(f, st))
			mst_stats_json_one(b, sl, st, first, n++);
	}
	buf_puts(b, n > 0 ? "]}}]}" : "]}");
	return b->b_oom ? -1 : 0;
}
