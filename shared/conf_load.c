/*
 * Configuration loader: the entry points of shared/conf.h (conf-int.h has
 * the module's map).  Master only: reads the file (blocking), parses it
 * with libyaml, walks the Bootstrap, resolves cluster names, cuts the
 * /config_dump JSON, and sorts this load's diagnostics into file order.
 *
 * Invariant: conf_load_buf() returns a configuration exactly when it
 * reported no error; then everything it built is in the arena the
 * configuration owns, else that arena is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "arena.h"
#include "buf.h"
#include "conf.h"
#include "conf-int.h"

#define CONF_MAX_FILE	(16 * 1024 * 1024)

static void
resolve_refs(struct cw *w)
{
	struct conf_ref *r;
	size_t i;
	int idx;

	for (i = 0; i < w->w_nrefs; i++) {
		r = &w->w_refs[i];
		idx = conf_cluster_index(w->w_conf, r->r_name);
		/* validate_clusters: false leaves -1: the route then
		 * answers cluster_not_found_response_code, as in Envoy. */
		if (idx == -1 && (w->w_validate_clusters || r->r_strict))
			conf_diag_at(w, 0, r->r_line, r->r_col, r->r_path,
			    "unknown cluster \"%s\"", r->r_name);
		*r->r_slot = idx;
	}
}

/*
 * Keep the file and its weights' spans for a weight-only reload
 * (conf-t.h), unless something asked not to.  Spans are in characters
 * (libyaml's marks): bytes only in an ASCII file.
 */
static void
keep_source(struct cw *w, const char *buf, size_t len)
{
	struct cd_conf *conf = w->w_conf;
	char *src;
	size_t i;

	if (w->w_wfast_off || w->w_nwspans == 0)
		return;
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] >= 0x80 || buf[i] == '\0')
			return;
	for (i = 1; i < w->w_nwspans; i++)
		if (w->w_wspans[i].ws_off <= w->w_wspans[i - 1].ws_off)
			return;
	if ((src = arena_alloc(w->w_arena, len + 1)) == NULL ||
	    (conf->c_wspans = arena_allocarray(w->w_arena, w->w_nwspans,
	    sizeof(*conf->c_wspans))) == NULL)
		return;
	memcpy(src, buf, len);
	src[len] = '\0';
	memcpy(conf->c_wspans, w->w_wspans, w->w_nwspans *
	    sizeof(*conf->c_wspans));
	conf->c_nwspans = w->w_nwspans;
	conf->c_src = src;
	conf->c_src_len = len;
}

static char *
json_cut(struct cw *w, const size_t *span)
{
	char *s;

	if (span[1] <= span[0] || span[1] > w->w_json.b_len)
		return NULL;
	if ((s = arena_strndup(w->w_arena, w->w_json.b_data + span[0],
	    span[1] - span[0])) == NULL)
		conf_oom(w);
	return s;
}

static void
json_finish(struct cw *w)
{
	struct cd_conf *conf = w->w_conf;
	size_t i;
	size_t all[2] = { 0, w->w_json.b_len };

	if (w->w_json.b_oom) {
		conf_oom(w);
		return;
	}
	conf->c_json_bootstrap = json_cut(w, all);
	conf->c_json_node = json_cut(w, w->w_span_node);
	conf->c_json_node_metadata = json_cut(w, w->w_span_node_md);
	for (i = 0; i < conf->c_nlisteners; i++) {
		conf->c_listeners[i].l_json = json_cut(w,
		    w->w_span_listener[i]);
		conf->c_listeners[i].l_json_routes = json_cut(w,
		    w->w_span_routes[i]);
	}
	conf->c_json_listener = conf->c_listener->l_json;
	conf->c_json_route_config = conf->c_listener->l_json_routes;
	if (conf->c_nclusters > 0 && (conf->c_json_clusters =
	    arena_allocarray(w->w_arena, conf->c_nclusters,
	    sizeof(char *))) == NULL) {
		conf_oom(w);
		return;
	}
	for (i = 0; i < conf->c_nclusters; i++)
		conf->c_json_clusters[i] = json_cut(w, w->w_span_clusters[i]);
}

/* This load's diagnostics in file order (the walk follows the tables). */
static void
diags_sort(struct conf_diags *d, size_t from)
{
	struct conf_diag tmp;
	size_t i, j;

	for (i = from + 1; i < d->cd_n; i++) {
		tmp = d->cd_v[i];
		for (j = i; j > from && (d->cd_v[j - 1].d_line > tmp.d_line ||
		    (d->cd_v[j - 1].d_line == tmp.d_line &&
		    d->cd_v[j - 1].d_col > tmp.d_col)); j--)
			d->cd_v[j] = d->cd_v[j - 1];
		d->cd_v[j] = tmp;
	}
}

/*
 * The walker of one load, with its arena and the empty configuration in
 * it (w_conf; NULL after an out-of-memory error).  NULL when not even the
 * walker could be allocated.
 */
static struct cw *
cw_new(const char *path, struct conf_diags *diags)
{
	struct cw *w;
	struct cd_arena *a;
	struct cd_conf *conf;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (a = arena_new()) == NULL) {
		free(w);
		return NULL;
	}
	w->w_arena = a;
	w->w_diags = diags;
	w->w_validate_clusters = 1;
	buf_init(&w->w_json);
	if ((conf = arena_alloc(a, sizeof(*conf))) == NULL ||
	    (conf->c_path = arena_strdup(a, path)) == NULL) {
		conf_oom(w);
		return w;
	}
	conf->c_arena = a;
	w->w_conf = conf;
	return w;
}

/* The Bootstrap at root into w_conf, then what needs all of it. */
static void
load_walk(struct cw *w, yaml_node_t *root)
{
	struct cd_conf *conf = w->w_conf;

	conf_walk_msg(w, root, &conf_msg_bootstrap, conf, NULL);
	if (w->w_nerrors == 0 && conf->c_listener == NULL)
		conf_diag_at(w, 0, 1, 1, "static_resources.listeners",
		    "canaryd needs a listener; add one under "
		    "static_resources.listeners");
	if (!w->w_stop)
		resolve_refs(w);
	conf->c_nweighted = w->w_nsplits;
	conf->c_nfractions = w->w_nfractions;
	if (w->w_nlrl > 0) {
		if ((conf->c_lrl = arena_allocarray(w->w_arena, w->w_nlrl,
		    sizeof(*conf->c_lrl))) == NULL) {
			conf_oom(w);
			return;
		}
		memcpy(conf->c_lrl, w->w_lrl, w->w_nlrl * sizeof(*conf->c_lrl));
		conf->c_nlrl = w->w_nlrl;
	}
	if (w->w_nerrors == 0)
		json_finish(w);
}

struct cd_conf *
conf_load_buf(const char *path, const char *buf, size_t len,
    struct conf_diags *diags)
{
	struct conf_diags local = { NULL, 0, 0 };
	struct cw *w;
	struct cd_conf *conf;
	yaml_node_t *root;
	size_t first;

	if (diags == NULL)
		diags = &local;
	first = diags->cd_n;
	if ((w = cw_new(path, diags)) == NULL)
		return NULL;
	if ((conf = w->w_conf) != NULL &&
	    (root = conf_doc_load(w, buf, len)) != NULL)
		load_walk(w, root);
	conf_doc_free(w);
	if (conf != NULL && w->w_nerrors == 0)
		keep_source(w, buf, len);
	free(w->w_wspans);
	free(w->w_lrl);
	buf_free(&w->w_json);
	free(w->w_refs);
	free(w->w_domains);
	diags_sort(diags, first);
	if (w->w_nerrors > 0 || conf == NULL) {
		arena_free(w->w_arena);
		conf = NULL;
	}
	free(w);
	if (diags == &local)
		conf_diags_free(&local);
	return conf;
}

struct cd_conf *
conf_load(const char *path, struct conf_diags *diags)
{
	struct conf_diags local = { NULL, 0, 0 };
	struct conf_diag *dg;
	struct cd_conf *conf;
	char *data = NULL, *p;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, saved;

	if (diags == NULL)
		diags = &local;
	/* read(2), not stdio: the master reads a reload's file on a thread,
	 * and forks meanwhile */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	for (;;) {
		if (len == cap) {
			if (cap >= CONF_MAX_FILE) {
				errno = EFBIG;
				break;
			}
			cap = cap == 0 ? 64 * 1024 : cap * 2;
			if ((p = realloc(data, cap)) == NULL)
				break;
			data = p;
		}
		n = read(fd, data + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			break;
		}
		len += (size_t)n;
	}
	saved = errno;
	close(fd);
	if (saved != 0) {
		free(data);
		errno = saved;
		goto fail;
	}
	conf = conf_load_buf(path, data != NULL ? data : "", len, diags);
	free(data);
	if (diags == &local)
		conf_diags_free(&local);
	return conf;
fail:
	saved = errno;
	if ((dg = conf_diag_new(diags)) != NULL) {
		snprintf(dg->d_text, sizeof(dg->d_text), "cannot read: %s",
		    saved == EFBIG ? "file larger than 16 MiB" :
		    strerror(saved));
		diags->cd_nerrors++;
	}
	if (diags == &local)
		conf_diags_free(&local);
	return NULL;
}

void
conf_free(struct cd_conf *conf)
{
	if (conf == NULL)
		return;
	/* conf itself lives in its arena */
	arena_free(conf->c_arena);
}

void
conf_diags_print(const struct conf_diags *d, const char *path, FILE *fp)
{
	const struct conf_diag *dg;
	size_t i;

	for (i = 0; i < d->cd_n; i++) {
		dg = &d->cd_v[i];
		if (dg->d_line > 0)
			fprintf(fp, "%s:%d:%d: %s: %s\n", path, dg->d_line,
			    dg->d_col, dg->d_warning ? "warning" : "error",
			    dg->d_text);
		else
			fprintf(fp, "%s: %s: %s\n", path,
			    dg->d_warning ? "warning" : "error", dg->d_text);
	}
}

void
conf_diags_free(struct conf_diags *d)
{
	if (d == NULL)
		return;
	free(d->cd_v);
	d->cd_v = NULL;
	d->cd_n = 0;
	d->cd_nerrors = 0;
}

int
conf_cluster_index(const struct cd_conf *conf, const char *name)
{
	size_t i, lo, hi, mid;
	int c;

	if (conf->c_by_name == NULL) {
		for (i = 0; i < conf->c_nclusters; i++)
			if (conf->c_clusters[i].cl_name != NULL &&
			    strcmp(conf->c_clusters[i].cl_name, name) == 0)
				return (int)i;
		return -1;
	}
	/* the first of equal names: the one a duplicate's error names */
	for (lo = 0, hi = conf->c_nnamed; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(conf->c_clusters[conf->c_by_name[mid]].cl_name,
		    name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < conf->c_nnamed && strcmp(conf->c_clusters[
	    conf->c_by_name[lo]].cl_name, name) == 0)
		return conf->c_by_name[lo];
	return -1;
}

int
conf_listener_index(const struct cd_conf *conf, const char *name)
{
	const int *by = conf->c_lsn_by_name;
	const char *n;
	size_t i, lo, hi, mid;

	if (by == NULL || name == NULL) {
		for (i = 0; i < conf->c_nlisteners; i++) {
			n = conf->c_listeners[i].l_name;
			if (n == NULL ? name == NULL : name != NULL &&
			    strcmp(n, name) == 0)
				return (int)i;
		}
		return -1;
	}
	for (lo = 0, hi = conf->c_nlsn_named; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(conf->c_listeners[by[mid]].l_name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < conf->c_nlsn_named &&
	    strcmp(conf->c_listeners[by[lo]].l_name, name) == 0)
		return by[lo];
	return -1;
}

int
conf_listener_addr_cmp(const struct cd_listener *a,
    const struct cd_listener *b)
{
	uint16_t p = a->l_addr.sa_port, q = b->l_addr.sa_port;
	int c;

	c = strcmp(a->l_addr.sa_address != NULL ? a->l_addr.sa_address : "",
	    b->l_addr.sa_address != NULL ? b->l_addr.sa_address : "");
	return c != 0 ? c : (p > q) - (p < q);
}

int
conf_listener_at(const struct cd_conf *conf, const struct cd_listener *l)
{
	const int *by = conf->c_lsn_by_addr;
	size_t i, lo, hi, mid;

	if (by == NULL) {
		for (i = 0; i < conf->c_nlisteners; i++)
			if (conf_listener_addr_cmp(&conf->c_listeners[i], l) ==
			    0)
				return (int)i;
		return -1;
	}
	for (lo = 0, hi = conf->c_nlisteners; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (conf_listener_addr_cmp(&conf->c_listeners[by[mid]], l) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < conf->c_nlisteners &&
	    conf_listener_addr_cmp(&conf->c_listeners[by[lo]], l) == 0)
		return by[lo];
	return -1;
}

const struct cd_route *
conf_route_next(const struct cd_conf *conf, struct cd_route_it *it)
{
	const struct cd_listener *l;
	const struct cd_vhost *vh;

	for (; it->ri_l < conf->c_nlisteners; it->ri_l++, it->ri_v = 0) {
		l = &conf->c_listeners[it->ri_l];
		for (; it->ri_v < l->l_nvhosts; it->ri_v++, it->ri_r = 0) {
			vh = &l->l_vhosts[it->ri_v];
			if (it->ri_r < vh->vh_nroutes)
				return &vh->vh_routes[it->ri_r++];
		}
	}
	return NULL;
}
