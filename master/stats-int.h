/*
 * What the stats files (stats.c, stats_text.c, stats_json.c,
 * stats_prom.c) share beyond stats.h: Envoy's histogram quantiles and
 * bucket bounds, one table each.
 */
#ifndef CANARYD_MASTER_STATS_INT_H
#define CANARYD_MASTER_STATS_INT_H

#include "stats.h"

/* Envoy's supported quantiles as /stats prints them ("99.5"). */
extern const char *const mst_stats_q_names[MST_HIST_NQ];
/* Envoy's default histogram bucket bounds, ms (Prometheus "le"). */
extern const double mst_stats_le[MST_HIST_NLE];

#endif /* CANARYD_MASTER_STATS_INT_H */
