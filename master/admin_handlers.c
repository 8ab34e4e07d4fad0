/*
 * What each admin endpoint does (the table is admin_endpoints.c, /stats
 * is admin_stats.c): read the running configuration and shm through the
 * page renderers, or change the server state.  A handler never stops or
 * drains the server itself: it asks for it in ar_action.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/log.h"
#include "shared/text.h"
#include "shared/version.h"
#include "admin-int.h"
#include "admin.h"
#include "canary.h"
#include "clusters.h"
#include "config_dump.h"
#include "dumpweights.h"
#include "fleet.h"
#include "json.h"
#include "listeners.h"
#include "loop.h"
#include "memory.h"
#include "mst.h"
#include "proc.h"
#include "rollout.h"
#include "runtime.h"

static const struct text_name server_states[] = {
	{ SHM_S_LIVE, "LIVE" },
	{ SHM_S_DRAINING, "DRAINING" },
	{ SHM_S_PRE_INITIALIZING, "PRE_INITIALIZING" },
	{ SHM_S_INITIALIZING, "INITIALIZING" },
};

static const char *
server_state(void)
{
	return text_name(server_states, TEXT_NELEM(server_states),
	    (int)atomic_load(&mst.m_shm->hdr.h_state), "UNKNOWN");
}

/* Is key in the query string with the value want? */
static int
query_is(const char *query, const char *key, const char *want)
{
	struct buf v;
	int is;

	buf_init(&v);
	is = mst_admin_query(query, key, &v) &&
	    strcmp(admin_buf_str(&v), want) == 0;
	buf_free(&v);
	return is;
}

static void
no_engine(struct mst_admin_reply *r)
{
	admin_reply_text(r, 503, "canary: the rollout engine is not running\n");
}

/* GET /canary: every weighted route, JSON or (?format=text) text. */
void
admin_h_canary(const char *query, struct mst_admin_reply *r)
{
	struct mst_ro *ro = mst_rollout_engine();
	int rc;

	if (ro == NULL) {
		no_engine(r);
		return;
	}
	if (query_is(query, "format", "text"))
		rc = mst_canary_text(&r->ar_body, ro, mst_rollout_now_ns());
	else {
		r->ar_ctype = ADMIN_CT_JSON;
		rc = mst_canary_json(&r->ar_body, ro, mst_rollout_now_ns(),
		    NULL);
	}
	if (rc == -1)
		admin_reply_text(r, 500, "out of memory\n");
}

static const struct text_name canary_ops[] = {
	{ MST_RO_OP_PAUSE, "pause" },
	{ MST_RO_OP_RESUME, "resume" },
	{ MST_RO_OP_PROMOTE, "promote" },
	{ MST_RO_OP_ROLLBACK, "rollback" },
};

/* The operator's action op on the route named (URL-encoded) name. */
static void
canary_op(const char *name, size_t len, int op, struct mst_admin_reply *r)
{
	struct mst_ro *ro = mst_rollout_engine();
	struct mst_ro_route *rr;
	struct buf n, why;

	buf_init(&n);
	buf_init(&why);
	mst_admin_url_decode(&n, name, len);
	buf_append(&n, "", 0);
	if ((rr = mst_rollout_find(ro, admin_buf_str(&n))) == NULL) {
		admin_reply_text(r, 404, "");
		buf_printf(&r->ar_body, "unknown route: %s\n",
		    admin_buf_str(&n));
	} else if (mst_rollout_op(ro, rr, (enum mst_ro_op)op,
	    mst_rollout_now_ns(), &why) == -1) {
		admin_reply_text(r, 409, admin_buf_str(&why));
	} else {
		mst_rollout_persist();	/* on disk before the answer */
		r->ar_ctype = ADMIN_CT_JSON;
		if (mst_canary_json(&r->ar_body, ro, mst_rollout_now_ns(),
		    rr) == -1)
			admin_reply_text(r, 500, "out of memory\n");
	}
	buf_free(&n);
	buf_free(&why);
}

/* The fleet coordinator's answer to a forwarded action. */
static void
canary_fleet_done(uint64_t id, int status, const char *body, size_t len)
{
	struct buf b;

	buf_init(&b);
	buf_append(&b, body, len);
	buf_puts(&b, "\n");
	if (b.b_oom)
		mst_admin_answer(id, 500, ADMIN_CT_TEXT, "out of memory\n",
		    strlen("out of memory\n"));
	else
		mst_admin_answer(id, status, ADMIN_CT_JSON, b.b_data, b.b_len);
	buf_free(&b);
}

/*
 * A fleet route's action goes to the fleet coordinator (fleet.h), which
 * writes it fleet-wide and answers later: the reply is deferred.  With
 * ?wait=ack the answer waits until every live instance applies it.
 */
static void
canary_fleet_op(const char *name, int op, const char *query,
    struct mst_admin_reply *r)
{
	uint64_t id = mst_admin_defer_id();

	if (mst_fleet_action(name, (enum mst_ro_op)op, query_is(query, "wait",
	    "ack"), id, canary_fleet_done) == -1) {
		admin_reply_text(r, 503, "canary: the fleet coordinator is not "
		    "running (it is being started again)\n");
		return;
	}
	r->ar_defer = id;
}

/*
 * POST /canary/<route>/<pause|resume|promote|rollback>.  Answers the
 * route's new JSON; 409 when the action does not apply to the route's
 * state.  A fleet route's answer is the fleet's (canary_fleet_op()).
 */
void
admin_canary_action(const char *method, const char *rest, const char *query,
    struct mst_admin_reply *r)
{
	struct buf n;
	const char *slash = strrchr(rest, '/');
	int op;

	if (slash == NULL || slash == rest || !text_value(canary_ops,
	    TEXT_NELEM(canary_ops), slash + 1, false, &op)) {
		admin_reply_404(r);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		admin_reply_405(r, method);
		return;
	}
	if (mst_rollout_engine() == NULL) {
		no_engine(r);
		return;
	}
	buf_init(&n);
	mst_admin_url_decode(&n, rest, (size_t)(slash - rest));
	buf_append(&n, "", 0);
	if (mst_fleet_decides(admin_buf_str(&n)))
		canary_fleet_op(admin_buf_str(&n), op, query, r);
	else
		canary_op(rest, (size_t)(slash - rest), op, r);
	buf_free(&n);
}

/*
 * Pages that grow with the configuration go out a piece at a time from
 * the master's loop (admin.h's ar_more), so /ready and health checks are
 * served between the pieces: at 10,000 clusters /clusters is 25 MB and
 * /config_dump 27 MB, and made at once they held the loop for 258 and
 * 152 ms.  Small ones still go at once, with a content-length.
 */
#define PAGE_PIECE		(64 * 1024)	/* bytes a piece, about */
#define CLUSTERS_STREAM_MIN	64		/* clusters */
#define DUMP_STREAM_MIN		(1024 * 1024)	/* compact bytes */

struct clusters_stream {
	struct mst_clusters_cursor	*cs_cur;
	const struct cd_conf		*cs_conf;
	const struct cd_place		*cs_place;
};

static int
clusters_more(void *arg, struct buf *b)
{
	struct clusters_stream *cs = arg;

	if (mst.m_conf != cs->cs_conf || mst.m_place != cs->cs_place) {
		log_info("admin: /clusters cut short: the config changed "
		    "while it was sent; ask again");
		return -1;
	}
	return mst_clusters_cursor_next(cs->cs_cur, b, mst.m_conf,
	    mst.m_place, mst.m_shm, PAGE_PIECE);
}

static void
clusters_done(void *arg)
{
	struct clusters_stream *cs = arg;

	mst_clusters_cursor_free(cs->cs_cur);
	free(cs);
}

/* ?format=json, else text: Envoy treats any other value as text. */
void
admin_h_clusters(const char *query, struct mst_admin_reply *r)
{
	struct clusters_stream *cs;
	int json = query_is(query, "format", "json"), rc;

	if (json)
		r->ar_ctype = ADMIN_CT_JSON;
	if (mst.m_conf->c_nclusters >= CLUSTERS_STREAM_MIN) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL ||
		    (cs->cs_cur = mst_clusters_cursor_new(json)) == NULL) {
			free(cs);
			admin_reply_text(r, 500, "out of memory\n");
			return;
		}
		cs->cs_conf = mst.m_conf;
		cs->cs_place = mst.m_place;
		r->ar_more = clusters_more;
		r->ar_done = clusters_done;
		r->ar_arg = cs;
		return;
	}
	rc = (json ? mst_clusters_json : mst_clusters_text)(&r->ar_body,
	    mst.m_conf, mst.m_place, mst.m_shm);
	if (rc == -1)
		admin_reply_text(r, 500, "out of memory\n");
}

/* A JSON page made compact at once and pretty-printed a piece at a
 * time. */
struct pretty_stream {
	struct buf		 ps_json;
	size_t			 ps_off;
	struct mst_json_pp	 ps_pp;
};

static int
pretty_more(void *arg, struct buf *b)
{
	struct pretty_stream *ps = arg;
	size_t n = ps->ps_json.b_len - ps->ps_off;

	if (n > PAGE_PIECE / 2)		/* pretty is about twice compact */
		n = PAGE_PIECE / 2;
	mst_json_pp_feed(&ps->ps_pp, b, ps->ps_json.b_data + ps->ps_off, n);
	ps->ps_off += n;
	if (ps->ps_off < ps->ps_json.b_len)
		return 1;
	mst_json_pp_end(&ps->ps_pp, b);
	return 0;
}

static void
pretty_done(void *arg)
{
	struct pretty_stream *ps = arg;

	buf_free(&ps->ps_json);
	free(ps);
}

/* Reply with json (compact, taken over): at once when small. */
static void
reply_pretty(struct mst_admin_reply *r, struct buf *json)
{
	struct pretty_stream *ps;

	if (json->b_len < DUMP_STREAM_MIN) {
		if (mst_json_pretty(&r->ar_body, json->b_data,
		    json->b_len) == -1)
			admin_reply_text(r, 500, "out of memory\n");
		buf_free(json);
		return;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		buf_free(json);
		admin_reply_text(r, 500, "out of memory\n");
		return;
	}
	ps->ps_json = *json;
	buf_init(json);
	mst_json_pp_init(&ps->ps_pp);
	r->ar_more = pretty_more;
	r->ar_done = pretty_done;
	r->ar_arg = ps;
}

void
admin_h_listeners(const char *query, struct mst_admin_reply *r)
{
	int json = query_is(query, "format", "json");

	if (json)
		r->ar_ctype = ADMIN_CT_JSON;
	if (mst_listeners_page(&r->ar_body, mst.m_conf, json) == -1)
		admin_reply_text(r, 500, "out of memory\n");
}

void
admin_h_config_dump(const char *query, struct mst_admin_reply *r)
{
	struct buf v, c;
	const char *res = NULL;

	buf_init(&v);
	/* a mask or name filter we cannot apply must not look applied */
	if (mst_admin_query(query, "mask", &v) ||
	    mst_admin_query(query, "name_regex", &v)) {
		admin_reply_text(r, 400, "config_dump: mask and name_regex are "
		    "not supported by canaryd\n");
		goto out;
	}
	if (mst_admin_query(query, "resource", &v) && v.b_len > 0)
		res = admin_buf_str(&v);
	r->ar_ctype = ADMIN_CT_JSON;
	if (mst_dumpw_fresh() == -1) {
		admin_reply_text(r, 500, "out of memory\n");
		goto out;
	}
	buf_init(&c);
	if (mst_config_dump_compact(&c, mst.m_conf,
	    mst.m_conf_loaded_realtime_ms, res) == 0)
		reply_pretty(r, &c);
	else {
		int e = errno;

		buf_free(&c);
		if (e == ENOENT) {
			admin_reply_text(r, 404, "");
			buf_printf(&r->ar_body, "%s not found in config dump\n",
			    res);
		} else if (e == EINVAL) {
			admin_reply_text(r, 400, "");
			buf_printf(&r->ar_body, "%s is not a repeated field\n",
			    res);
		} else
			admin_reply_text(r, 500, "out of memory\n");
	}
out:
	buf_free(&v);
}

/* Envoy's /runtime and /runtime_modify: master/runtime.c. */
void
admin_h_runtime(const char *query, struct mst_admin_reply *r)
{
	struct buf b;

	(void)query;
	r->ar_ctype = ADMIN_CT_JSON;
	buf_init(&b);
	if (mst_runtime_json(&b, &mst.m_conf->c_runtime,
	    mst_runtime_admin()) == -1 || mst_json_pretty(&r->ar_body,
	    b.b_data, b.b_len) == -1)
		admin_reply_text(r, 500, "out of memory\n");
	buf_free(&b);
}

void
admin_h_runtime_modify(const char *query, struct mst_admin_reply *r)
{
	r->ar_status = mst_runtime_modify(query, &r->ar_body);
}

/* Envoy's admin.v3.Memory; what each figure is here: memory.h. */
void
admin_h_memory(const char *query, struct mst_admin_reply *r)
{
	struct mst_memory m;

	(void)query;
	mst_memory_read(&m);
	r->ar_ctype = ADMIN_CT_JSON;
	if (mst_memory_json(&r->ar_body, &m) == -1)
		admin_reply_text(r, 500, "out of memory\n");
}

void
admin_h_ready(const char *query, struct mst_admin_reply *r)
{
	(void)query;
	r->ar_status = atomic_load(&mst.m_shm->hdr.h_state) == SHM_S_LIVE ?
	    200 : 503;
	buf_printf(&r->ar_body, "%s\n", server_state());
}

/*
 * The Node as Envoy's /server_info shows it: id and cluster (the command
 * line's over the file's), the file's metadata and locality, and what
 * canaryd says of itself.
 */
static void
server_info_node(struct buf *c, const struct cd_conf *conf)
{
	const struct cd_node *n = conf != NULL ? &conf->c_node : NULL;
	const char *id = conf != NULL ? MST_NODE_ID(conf) : NULL;
	const char *cl = conf != NULL ? MST_NODE_CLUSTER(conf) : NULL;

	buf_puts(c, "{\"id\":");
	mst_json_str(c, id != NULL ? id : "");
	buf_puts(c, ",\"cluster\":");
	mst_json_str(c, cl != NULL ? cl : "");
	if (conf != NULL && conf->c_json_node_metadata != NULL)
		buf_printf(c, ",\"metadata\":%s", conf->c_json_node_metadata);
	if (n != NULL && (n->n_region != NULL || n->n_zone != NULL ||
	    n->n_sub_zone != NULL)) {
		buf_puts(c, ",\"locality\":{\"region\":");
		mst_json_str(c, n->n_region != NULL ? n->n_region : "");
		buf_puts(c, ",\"zone\":");
		mst_json_str(c, n->n_zone != NULL ? n->n_zone : "");
		buf_puts(c, ",\"sub_zone\":");
		mst_json_str(c, n->n_sub_zone != NULL ? n->n_sub_zone : "");
		buf_puts(c, "}");
	}
	buf_puts(c, ",\"user_agent_name\":\"canaryd\"}");
}

void
admin_h_server_info(const char *query, struct mst_admin_reply *r)
{
	uint64_t now = mst_now_ms(), up;
	const char *lvl = log_level_name(mst.m_log_level);
	const char *path = mst.m_config_path != NULL ? mst.m_config_path : "";
	struct buf c;

	(void)query;
	up = now > mst.m_start_mono_ms ? (now - mst.m_start_mono_ms) / 1000 :
	    0;
	buf_init(&c);
	buf_printf(&c, "{\"version\":\"canaryd/%s/Clean/RELEASE/no-ssl\","
	    "\"state\":\"%s\",\"hot_restart_version\":\"disabled\","
	    "\"command_line_options\":{\"base_id\":\"0\",\"concurrency\":%d,"
	    "\"config_path\":", CANARYD_VERSION, server_state(),
	    mst.m_concurrency);
	mst_json_str(&c, path);
	buf_puts(&c, ",\"log_level\":");
	mst_json_str(&c, lvl != NULL ? lvl : "");
	buf_puts(&c, ",\"service_cluster\":");
	mst_json_str(&c, mst.m_service_cluster != NULL ?
	    mst.m_service_cluster : "");
	buf_puts(&c, ",\"service_node\":");
	mst_json_str(&c, mst.m_service_node != NULL ? mst.m_service_node : "");
	/* no hot restart in canaryd: SIGHUP reloads in place instead */
	buf_printf(&c, ",\"mode\":\"Serve\",\"disable_hot_restart\":true,"
	    "\"restart_epoch\":0,\"drain_time\":\"%ds\"},"
	    "\"uptime_current_epoch\":\"%" PRIu64 "s\","
	    "\"uptime_all_epochs\":\"%" PRIu64 "s\",\"node\":",
	    mst.m_drain_time_s, up, up);
	server_info_node(&c, mst.m_conf);
	/* canaryd's own: worker generations and a reload that waits */
	buf_printf(&c, ",\"canaryd\":{\"generation\":%u,"
	    "\"generation_draining\":%s,\"reload_waiting\":%s,"
	    "\"reload_loading\":%s}}",
	    mst.m_generation, mst_proc_draining() ? "true" : "false",
	    mst.m_reload_waiting ? "true" : "false",
	    mst.m_reload_loading ? "true" : "false");
	r->ar_ctype = ADMIN_CT_JSON;
	if (c.b_oom || mst_json_pretty(&r->ar_body, c.b_data, c.b_len) == -1)
		admin_reply_text(r, 500, "out of memory\n");
	buf_free(&c);
}

/*
 * Workers stop accepting, finish what is in flight and exit; then the
 * server exits too, unless skip_exit (with graceful, as Envoy requires),
 * which keeps the master and this admin port up with the listeners closed.
 */
void
admin_h_drain(const char *query, struct mst_admin_reply *r)
{
	struct buf v;
	int graceful, skip_exit;

	buf_init(&v);
	graceful = mst_admin_query(query, "graceful", &v);
	skip_exit = mst_admin_query(query, "skip_exit", &v);
	buf_free(&v);
	if (skip_exit && !graceful) {
		admin_reply_text(r, 400, "skip_exit requires graceful\n");
		return;
	}
	buf_puts(&r->ar_body, "OK\n");
	r->ar_action = skip_exit ? MST_ADMIN_ACT_DRAIN_LISTENERS :
	    MST_ADMIN_ACT_DRAIN_QUIT;
}

/* /healthcheck/fail and /ok: what /ready and server.live say. */
static void
health_override(struct mst_admin_reply *r, int live)
{
	atomic_store(&mst.m_shm->hdr.h_live, live ? 1 : 0);
	atomic_store(&mst.m_shm->hdr.h_state, live ? SHM_S_LIVE :
	    SHM_S_DRAINING);
	log_info("admin: /healthcheck/%s: server state %s", live ? "ok" :
	    "fail", live ? "LIVE" : "DRAINING");
	buf_puts(&r->ar_body, "OK\n");
}

void
admin_h_hc_fail(const char *query, struct mst_admin_reply *r)
{
	(void)query;
	health_override(r, 0);
}

void
admin_h_hc_ok(const char *query, struct mst_admin_reply *r)
{
	(void)query;
	health_override(r, 1);
}

void
admin_h_quit(const char *query, struct mst_admin_reply *r)
{
	(void)query;
	buf_puts(&r->ar_body, "OK\n");
	r->ar_action = MST_ADMIN_ACT_QUIT;
}
