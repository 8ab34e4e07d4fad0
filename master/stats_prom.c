/*
 * /stats/prometheus (see stats.h): Envoy's default tag extraction turns
 * stat names into metric families with labels.  Every family is
 * envoy_<name> as Envoy's are, but canaryd's own canaryd.* stats (fleet
 * mode's), which are canaryd_<name>.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/hist.h"
#include "stats-int.h"
#include "stats.h"

/*
 * Envoy's default tag extractors (well_known_names.cc) that can match a
 * canaryd stat, in Envoy's order, which is also the label order.  Each is
 * applied to the original name; the characters of its first capture group
 * are removed from the metric name and the second group is the value.
 */
enum prom_tag_id {
	TAG_RESPONSE_CODE,	/* _rq(_(\d{3}))$ */
	TAG_RESPONSE_CODE_CLASS,	/* _rq_((\d))xx$ */
	TAG_CLUSTER_NAME,	/* ^cluster\.((.*?)\.) */
	TAG_HCM_PREFIX,		/* ^(?:|listener(?=\.).*?\.)http\.((.*?)\.) */
	TAG_LISTENER_ADDRESS,	/* ^listener\.(((?:[_.[:digit:]]*|
				   [_\[\]aAbBcCdDeEfF[:digit:]]*))\.) */
	TAG_CANARY_ROUTE,	/* canaryd's: ^canary\.((.*?)\.)rollout\. */
	TAG_FLEET_DECISION,	/* canaryd's: ^canaryd\.fleet\.decisions(\.(.*))$ */
	TAG__N
};

_Static_assert(TAG__N <= 8, "struct mst_prom_ent has room for 8 tags");

static const char *const prom_tag_names[TAG__N] = {
	"envoy_response_code",
	"envoy_response_code_class",
	"envoy_cluster_name",
	"envoy_http_conn_manager_prefix",
	"envoy_listener_address",
	"canaryd_route",
	"canaryd_decision",
};

#define FLEET_DECISIONS	"canaryd.fleet.decisions"


static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void
prom_tag(struct mst_prom_ent *pe, char *rm, int id, size_t voff, size_t vlen,
    size_t roff, size_t rlen)
{
	struct mst_prom_tag *t = &pe->pe_tags[pe->pe_ntags++];

	t->t_id = id;
	t->t_off = voff;
	t->t_len = vlen;
	memset(rm + roff, 1, rlen);
}

/* Fill pe's tags and mark in rm (strlen(name) bytes) what leaves the name. */
static void
prom_extract(const char *s, size_t len, char *rm, struct mst_prom_ent *pe)
{
	const char *d;
	size_t p, q, last;

	if (len >= 7 && is_digit(s[len - 1]) && is_digit(s[len - 2]) &&
	    is_digit(s[len - 3]) && memcmp(s + len - 7, "_rq_", 4) == 0)
		prom_tag(pe, rm, TAG_RESPONSE_CODE, len - 3, 3, len - 4, 4);
	if (len >= 7 && memcmp(s + len - 2, "xx", 2) == 0 &&
	    is_digit(s[len - 3]) && memcmp(s + len - 7, "_rq_", 4) == 0)
		prom_tag(pe, rm, TAG_RESPONSE_CODE_CLASS, len - 3, 1,
		    len - 3, 1);
	if (strncmp(s, "cluster.", 8) == 0 &&
	    (d = strchr(s + 8, '.')) != NULL)
		prom_tag(pe, rm, TAG_CLUSTER_NAME, 8, (size_t)(d - s) - 8,
		    8, (size_t)(d - s) - 7);

	/* http.<prefix>. or listener.<...>.http.<prefix>. */
	p = 0;
	if (strncmp(s, "http.", 5) == 0)
		p = 5;
	else if (strncmp(s, "listener.", 9) == 0 &&
	    (d = strstr(s + 8, ".http.")) != NULL)
		p = (size_t)(d - s) + 6;
	if (p != 0 && (d = strchr(s + p, '.')) != NULL) {
		q = (size_t)(d - s);
		prom_tag(pe, rm, TAG_HCM_PREFIX, p, q - p, p, q - p + 1);
	}

	/* the rollout engine's canary.<route>.rollout.*: one family */
	if (strncmp(s, "canary.", 7) == 0 &&
	    (d = strstr(s + 7, ".rollout.")) != NULL && d > s + 7)
		prom_tag(pe, rm, TAG_CANARY_ROUTE, 7, (size_t)(d - s) - 7,
		    7, (size_t)(d - s) - 6);

	/* fleet mode's canaryd.fleet.decisions.<kind>: one family */
	if (strncmp(s, FLEET_DECISIONS, sizeof(FLEET_DECISIONS) - 1) == 0 &&
	    len > sizeof(FLEET_DECISIONS) &&
	    s[sizeof(FLEET_DECISIONS) - 1] == '.')
		prom_tag(pe, rm, TAG_FLEET_DECISION, sizeof(FLEET_DECISIONS),
		    len - sizeof(FLEET_DECISIONS), sizeof(FLEET_DECISIONS) - 1,
		    len - sizeof(FLEET_DECISIONS) + 1);

	if (strncmp(s, "listener.", 9) == 0) {
		/* first alternative: the longest run of [_.0-9] up to a dot */
		last = 0;
		for (q = 9; q < len && (is_digit(s[q]) || s[q] == '_' ||
		    s[q] == '.'); q++)
			if (s[q] == '.')
				last = q;
		if (last != 0)
			prom_tag(pe, rm, TAG_LISTENER_ADDRESS, 9, last - 9, 9,
			    last - 8);
		else {
			/* second: bracketed hex ([__1]_80), then a dot */
			for (q = 9; q < len && (is_digit(s[q]) || s[q] == '_' ||
			    s[q] == '[' || s[q] == ']' ||
			    (s[q] >= 'a' && s[q] <= 'f') ||
			    (s[q] >= 'A' && s[q] <= 'F')); q++)
				;
			if (q < len && s[q] == '.')
				prom_tag(pe, rm, TAG_LISTENER_ADDRESS, 9, q - 9,
				    9, q - 8);
		}
	}
}

static int
prom_cmp(const struct mst_prom_ent *x, const struct mst_prom_ent *y)
{
	int c;

	/* counters, then gauges, then histograms: the type bits ascend */
	if (x->pe_st->st_type != y->pe_st->st_type)
		return x->pe_st->st_type < y->pe_st->st_type ? -1 : 1;
	if ((c = strcmp(x->pe_fam, y->pe_fam)) != 0)
		return c;
	return strcmp(x->pe_st->st_name, y->pe_st->st_name);
}

static int
prom_qcmp(const void *a, const void *b)
{
	return prom_cmp(a, b);
}

/* " v\n": the value that ends most lines of a page, without a format. */
static void
prom_u64(struct buf *b, uint64_t v)
{
	char num[24], *p = num + sizeof(num);

	*--p = '\n';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	*--p = ' ';
	buf_append(b, p, (size_t)(num + sizeof(num) - p));
}

static void
prom_label_value(struct buf *b, const char *s, size_t len)
{
	size_t i;

	/* most values need no escape: at once */
	for (i = 0; i < len && s[i] != '\\' && s[i] != '"' && s[i] != '\n';
	    i++)
		;
	if (i == len) {
		buf_append(b, s, len);
		return;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' || s[i] == '"')
			buf_append(b, "\\", 1);
		if (s[i] == '\n')
			buf_append(b, "\\n", 2);
		else
			buf_append(b, &s[i], 1);
	}
}

/* {tag="value",...[,le="<le>"]}: "{}" even with no label, as Envoy. */
static void
prom_labels(struct buf *b, const struct mst_prom_ent *pe, const char *le)
{
	int k;

	buf_append(b, "{", 1);
	for (k = 0; k < pe->pe_ntags; k++) {
		if (k > 0)
			buf_append(b, ",", 1);
		buf_puts(b, prom_tag_names[pe->pe_tags[k].t_id]);
		buf_append(b, "=\"", 2);
		prom_label_value(b, pe->pe_st->st_name + pe->pe_tags[k].t_off,
		    pe->pe_tags[k].t_len);
		buf_append(b, "\"", 1);
	}
	if (le != NULL) {
		buf_puts(b, pe->pe_ntags > 0 ? ",le=\"" : "le=\"");
		buf_puts(b, le);
		buf_append(b, "\"", 1);
	}
	buf_append(b, "}", 1);
}

/*
 * One histogram series: cumulative _bucket counts at Envoy's bounds (a
 * fine bucket counts under a bound when its upper edge is <= the bound,
 * shared/hist.h), +Inf, _sum in ms, _count.
 */
static void
prom_histogram(struct buf *b, const struct mst_prom_ent *pe,
    const struct mst_hist_stat *hs)
{
	char sum[32];
	int i;

	for (i = 0; i < MST_HIST_NLE; i++) {
		buf_puts(b, pe->pe_fam);
		buf_append(b, "_bucket", 7);
		prom_labels(b, pe, mst_stats_le_names[i]);
		prom_u64(b, hs->hs_le[i]);
	}
	buf_puts(b, pe->pe_fam);
	buf_append(b, "_bucket", 7);
	prom_labels(b, pe, "+Inf");
	prom_u64(b, hs->hs_count);
	buf_puts(b, pe->pe_fam);
	buf_append(b, "_sum", 4);
	prom_labels(b, pe, NULL);
	hist_fmt(sum, sizeof(sum), (double)hs->hs_sum_us / 1000.0);
	buf_append(b, " ", 1);
	buf_puts(b, sum);
	buf_append(b, "\n", 1);
	buf_puts(b, pe->pe_fam);
	buf_append(b, "_count", 6);
	prom_labels(b, pe, NULL);
	prom_u64(b, hs->hs_count);
}

int
mst_prom_ent(struct mst_prom_ent *pe, const struct mst_stat *st,
    struct buf *fams, struct buf *rm)
{
	size_t j, len = strlen(st->st_name);

	buf_reset(rm);
	for (j = 0; j <= len; j++)
		buf_append(rm, "", 1);
	if (rm->b_oom)
		return -1;
	memset(pe, 0, sizeof(*pe));
	pe->pe_st = st;
	prom_extract(st->st_name, len, rm->b_data, pe);
	pe->pe_fam_off = fams->b_len;
	/* canaryd's own families (canaryd.fleet.*) are canaryd_* */
	if (strncmp(st->st_name, "canaryd.", 8) != 0)
		buf_puts(fams, "envoy_");
	for (j = 0; j < len; j++) {
		char c = st->st_name[j];

		if (rm->b_data[j])
			continue;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    is_digit(c) || c == '_'))
			c = '_';
		buf_append(fams, &c, 1);
	}
	buf_append(fams, "", 1);
	return fams->b_oom ? -1 : 0;
}

void
mst_prom_ent_cluster(struct mst_prom_ent *pe, const struct mst_prom_ent *tp,
    const struct mst_stat *st, size_t plen)
{
	const size_t tlen = sizeof("cluster.x.") - 1;
	int k;

	*pe = *tp;
	pe->pe_st = st;
	for (k = 0; k < pe->pe_ntags; k++) {
		if (pe->pe_tags[k].t_id == TAG_CLUSTER_NAME) {
			pe->pe_tags[k].t_off = 8;
			pe->pe_tags[k].t_len = plen - 9;
		} else	/* the code tags: in the suffix */
			pe->pe_tags[k].t_off += plen - tlen;
	}
}

int
mst_prom_cmp(const struct mst_prom_ent *x, const struct mst_prom_ent *y)
{
	return prom_cmp(x, y);
}

void
mst_prom_line(struct buf *b, const struct mst_prom_ent *pe,
    const struct mst_hist_stat *hs, struct buf *prev, int *prev_type)
{
	if (prev->b_len == 0 || *prev_type != pe->pe_st->st_type ||
	    strcmp(prev->b_data, pe->pe_fam) != 0) {
		buf_printf(b, "# TYPE %s %s\n", pe->pe_fam,
		    pe->pe_st->st_type == MST_STAT_COUNTER ? "counter" :
		    pe->pe_st->st_type == MST_STAT_GAUGE ? "gauge" :
		    "histogram");
		buf_reset(prev);
		buf_puts(prev, pe->pe_fam);
		*prev_type = pe->pe_st->st_type;
	}
	if (pe->pe_st->st_type == MST_STAT_HISTOGRAM) {
		prom_histogram(b, pe, hs);
		return;
	}
	buf_puts(b, pe->pe_fam);
	prom_labels(b, pe, NULL);
	prom_u64(b, pe->pe_st->st_value);
}

int
mst_stats_prometheus(struct buf *b, const struct mst_stat_list *sl,
    const struct mst_stats_filter *f)
{
	struct mst_prom_ent *ents = NULL, *pe;
	struct buf fams, rm, prev;
	size_t i, n = 0;
	int prev_type = 0, rc = -1;

	buf_init(&fams);
	buf_init(&rm);
	buf_init(&prev);
	if (sl->sl_n > 0 &&
	    (ents = calloc(sl->sl_n, sizeof(*ents))) == NULL)
		goto out;
	for (i = 0; i < sl->sl_n; i++) {
		if (!mst_stats_match(f, &sl->sl_v[i]))
			continue;
		if (mst_prom_ent(&ents[n++], &sl->sl_v[i], &fams, &rm) == -1)
			goto out;
	}
	for (i = 0; i < n; i++)
		ents[i].pe_fam = fams.b_data + ents[i].pe_fam_off;
	if (n > 0)
		qsort(ents, n, sizeof(*ents), prom_qcmp);
	for (i = 0; i < n; i++) {
		pe = &ents[i];
		mst_prom_line(b, pe, pe->pe_st->st_type == MST_STAT_HISTOGRAM ?
		    &sl->sl_h[pe->pe_st->st_hist] : NULL, &prev, &prev_type);
	}
	rc = b->b_oom || prev.b_oom ? -1 : 0;
out:
	if (rc == -1)
		errno = ENOMEM;
	free(ents);
	buf_free(&fams);
	buf_free(&rm);
	buf_free(&prev);
	return rc;
}
