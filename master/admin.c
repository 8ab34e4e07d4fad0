/*
 * The admin interface (see admin.h): Envoy's admin endpoints served by the
 * master from its one event loop.
 *
 * Invariant: nothing here blocks the master.  Sockets are non-blocking; a
 * page is rendered in memory in one go (it is small and reads only shm and
 * the config); a connection holds at most one head (64 KiB) and one reply,
 * is closed after ADMIN_IDLE_MS without progress, and at most
 * ADMIN_MAX_CONNS exist.  Pipelined requests are answered in order, one
 * at a time: the next head is parsed only once the reply before it is out.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "shared/buf.h"
#include "shared/clock.h"
#include "shared/conf-t.h"
#include "shared/http1.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "shared/text.h"
#include "shared/version.h"
#include "accesslog.h"
#include "admin.h"
#include "loop.h"
#include "mst.h"
#include "rollout.h"
#include "stats.h"

#define ADMIN_MAX_CONNS		64
#define ADMIN_IDLE_MS		60000	/* no progress for this long: close */
#define ADMIN_READ_CHUNK	16384
#define ADMIN_READS_PER_WAKE	16	/* then let the loop serve others */
#define ADMIN_ACCEPTS_PER_WAKE	32
#define ADMIN_ACCEPT_PAUSE_MS	1000	/* after EMFILE and friends */
#define ADMIN_METHOD_MAX	32
#define ADMIN_LINGER_MS		1000	/* bound on draining before close */

#define CT_TEXT		"text/plain; charset=UTF-8"
#define CT_JSON		"application/json"
#define CT_HTML		"text/html; charset=UTF-8"

enum adm_state {
	ADM_S_READ_HEAD,	/* waiting for a complete request head */
	ADM_S_READ_BODY,	/* discarding Content-Length body bytes */
	ADM_S_WRITE,		/* reply partly sent, waiting for EPOLLOUT */
	ADM_S_LINGER,		/* last reply sent: drain input, then close */
	ADM_S__N
};

static const char *const adm_state_names[ADM_S__N] = {
	"read-head", "read-body", "write", "linger",
};

struct adm_conn {
	TAILQ_ENTRY(adm_conn) c_entry;
	int		 c_fd;
	enum adm_state	 c_state;
	uint64_t	 c_id;
	struct buf	 c_rbuf;	/* bytes read, not yet consumed */
	struct buf	 c_wbuf;	/* the reply being sent */
	size_t		 c_woff;
	struct buf	 c_req;		/* "METHOD\0/path\0query\0" */
	uint64_t	 c_body_left;
	int		 c_minor;	/* HTTP/1.<minor> of this request */
	int		 c_keepalive;
	int		 c_close;	/* close once c_wbuf is out */
	enum mst_admin_act c_quit;	/* ... then act (QUIT, DRAIN_QUIT) */
	struct mst_timer *c_timer;
	/* admin access log: the request's head, when it began */
	struct buf	 c_alhead;
	uint64_t	 c_al_start_ms;
	uint64_t	 c_al_rx;	/* body bytes */
};

TAILQ_HEAD(adm_conn_list, adm_conn);

static struct adm_conn_list adm_conns = TAILQ_HEAD_INITIALIZER(adm_conns);
static int adm_listen_fd = -1;
static int adm_nconns;
static uint64_t adm_next_id;
static struct mst_timer *adm_pause_timer;
static struct mst_timer *adm_quit_timer;
static enum mst_admin_act adm_quit_act;	/* what adm_quit_timer does */
static mst_admin_act_fn *adm_actor;	/* who acts on replies' actions */
/* the configured address mst_admin_start() last served, for a reload */
static struct {
	int		 aa_set;
	char		 aa_addr[CD_HOSTNAME_MAX];
	uint16_t	 aa_port;
} adm_addr;
/* http.admin.*: master memory, not shm (no worker touches them) */
static struct mst_admin_ctr adm_ctr;
/* histogram snapshots behind /stats' interval values, and their timer */
static struct mst_hist_flush adm_hist;
static struct mst_timer *adm_hist_timer;

static void	 conn_io(int, uint32_t, void *);

/* ---- endpoints ------------------------------------------------------- */

typedef void adm_handler_fn(const char *query, struct mst_admin_reply *);

struct adm_handler {
	const char	*h_path;
	const char	*h_help;
	const char	*h_params;	/* "      name: help\n" lines */
	int		 h_post;	/* mutates state: POST only */
	adm_handler_fn	*h_fn;
};

static adm_handler_fn h_home, h_canary, h_clusters, h_config_dump, h_drain,
    h_hc_fail, h_hc_ok, h_help, h_listeners, h_quit, h_ready, h_server_info,
    h_stats, h_prom;

/* Sorted by path: /help prints them in this order (a test checks it). */
static const struct adm_handler adm_handlers[] = {
	{ "/", "Admin home page", NULL, 0, h_home },
	{ "/canary", "weighted routes: weights now, rollout state, per-cluster "
	    "requests, success rate and latency over the window",
	    "      format: Output format; One of (json, text)\n", 0, h_canary },
	/* served by canary_action(): listed here for /help only */
	{ "/canary/<route>/pause", "hold the route's rollout at its weights",
	    NULL, 1, NULL },
	{ "/canary/<route>/promote", "canary to 100 % now; rollout promoted",
	    NULL, 1, NULL },
	{ "/canary/<route>/resume", "continue a paused rollout, or restart a "
	    "rolled back one from its first step", NULL, 1, NULL },
	{ "/canary/<route>/rollback", "canary to 0 now; rollout rolled_back",
	    NULL, 1, NULL },
	{ "/clusters", "upstream cluster status",
	    "      format: Output format; One of (text, json)\n", 0,
	    h_clusters },
	{ "/config_dump", "dump current Envoy configs (experimental)",
	    "      resource: The resource to dump\n", 0, h_config_dump },
	{ "/drain_listeners", "drain listeners",
	    "      graceful: When draining listeners, enter a graceful drain "
	    "period prior to closing listeners. This behaviour and duration is "
	    "configurable via server options or CLI\n"
	    "      skip_exit: When draining listeners, do not exit after the "
	    "drain period. This must be used with graceful\n"
	    "      inboundonly: Drains all inbound listeners. traffic_direction "
	    "field in envoy_v3_api_msg_config.listener.v3.Listener is used to "
	    "determine whether a listener is inbound or outbound.\n", 1,
	    h_drain },
	{ "/healthcheck/fail", "cause the server to fail health checks",
	    NULL, 1, h_hc_fail },
	{ "/healthcheck/ok", "cause the server to pass health checks",
	    NULL, 1, h_hc_ok },
	{ "/help", "print out list of admin commands", NULL, 0, h_help },
	{ "/listeners", "print listener info",
	    "      format: File format to use; One of (text, json)\n", 0,
	    h_listeners },
	{ "/quitquitquit", "exit the server", NULL, 1, h_quit },
	{ "/ready", "print server state, return 200 if LIVE, otherwise "
	    "return 503", NULL, 0, h_ready },
	{ "/server_info", "print server version/status information", NULL, 0,
	    h_server_info },
	{ "/stats", "print server stats",
	    "      usedonly: Only include stats that have been written by "
	    "system since restart\n"
	    "      filter: Regular expression (POSIX extended) for filtering "
	    "stats\n"
	    "      format: Format to use; One of (text, json, prometheus)\n"
	    "      type: Stat types to include.; One of (All, Counters, "
	    "Histograms, Gauges, TextReadouts)\n", 0, h_stats },
	{ "/stats/prometheus", "print server stats in prometheus format",
	    "      usedonly: Only include stats that have been written by "
	    "system since restart\n"
	    "      filter: Regular expression (POSIX extended) for filtering "
	    "stats\n", 0, h_prom },
};

#define ADM_NHANDLERS	(sizeof(adm_handlers) / sizeof(adm_handlers[0]))

static const char *
state_name(uint32_t s)
{
	switch (s) {
	case SHM_S_LIVE:
		return "LIVE";
	case SHM_S_DRAINING:
		return "DRAINING";
	case SHM_S_PRE_INITIALIZING:
		return "PRE_INITIALIZING";
	case SHM_S_INITIALIZING:
		return "INITIALIZING";
	}
	return "UNKNOWN";
}

static const char *
buf_str(const struct buf *b)
{
	return b->b_data != NULL ? b->b_data : "";
}

static void
reply_text(struct mst_admin_reply *r, int status, const char *text)
{
	r->ar_status = status;
	r->ar_ctype = CT_TEXT;
	buf_reset(&r->ar_body);
	buf_puts(&r->ar_body, text);
}

static void
admin_help(struct buf *b)
{
	const struct adm_handler *h;
	size_t i;

	buf_puts(b, "admin commands are:\n");
	for (i = 0; i < ADM_NHANDLERS; i++) {
		h = &adm_handlers[i];
		buf_printf(b, "  %s%s: %s\n", h->h_path,
		    h->h_post ? " (POST)" : "", h->h_help);
		if (h->h_params != NULL)
			buf_puts(b, h->h_params);
	}
}

static void
h_help(const char *query, struct mst_admin_reply *r)
{
	(void)query;
	admin_help(&r->ar_body);
}

/*
 * The live canary page (master/page.html, linked in by master/page.S)
 * with the endpoint table where it says ADMIN_PAGE_MARK.
 */
extern const char mst_page_html[], mst_page_html_end[];

#define ADMIN_PAGE_MARK	"<!-- canaryd:endpoints -->"

static void
h_home(const char *query, struct mst_admin_reply *r)
{
	const struct adm_handler *h;
	const char *page = mst_page_html, *mark;
	size_t i, len = (size_t)(mst_page_html_end - mst_page_html);

	(void)query;
	r->ar_ctype = CT_HTML;
	mark = memmem(page, len, ADMIN_PAGE_MARK, strlen(ADMIN_PAGE_MARK));
	if (mark == NULL)
		mark = page + len;
	buf_append(&r->ar_body, page, (size_t)(mark - page));
	buf_puts(&r->ar_body, "<table>\n");
	for (i = 0; i < ADM_NHANDLERS; i++) {
		h = &adm_handlers[i];
		if (strcmp(h->h_path, "/") == 0 || h->h_fn == NULL)
			continue;
		if (h->h_post)
			buf_printf(&r->ar_body, "<tr><td><form action=\"%s\" "
			    "method=\"post\"><button>%s</button></form></td>"
			    "<td>%s</td></tr>\n", h->h_path, h->h_path,
			    h->h_help);
		else
			buf_printf(&r->ar_body, "<tr><td><a href=\"%s\">%s</a>"
			    "</td><td>%s</td></tr>\n", h->h_path, h->h_path,
			    h->h_help);
	}
	buf_puts(&r->ar_body, "</table>\n");
	if (mark < page + len)
		buf_append(&r->ar_body, mark + strlen(ADMIN_PAGE_MARK),
		    (size_t)(page + len - mark - strlen(ADMIN_PAGE_MARK)));
}

/* GET /canary: every weighted route, JSON or (?format=text) text. */
static void
h_canary(const char *query, struct mst_admin_reply *r)
{
	struct mst_ro *ro = mst_rollout_engine();
	struct buf v;
	int text, rc;

	if (ro == NULL) {
		reply_text(r, 503, "canary: the rollout engine is not "
		    "running\n");
		return;
	}
	buf_init(&v);
	text = mst_admin_query(query, "format", &v) &&
	    strcmp(buf_str(&v), "text") == 0;
	buf_free(&v);
	if (text)
		rc = mst_rollout_text(&r->ar_body, ro, mst_rollout_now_ns());
	else {
		r->ar_ctype = CT_JSON;
		rc = mst_rollout_json(&r->ar_body, ro, mst_rollout_now_ns(),
		    NULL);
	}
	if (rc == -1)
		reply_text(r, 500, "out of memory\n");
}

/*
 * POST /canary/<route>/<pause|resume|promote|rollback>: rest is what
 * follows "/canary/".  Answers the route's new JSON; 409 when the action
 * does not apply to the route's state.
 */
static void
canary_action(const char *method, const char *rest,
    struct mst_admin_reply *r)
{
	static const struct {
		const char	*a_name;
		enum mst_ro_op	 a_op;
	} acts[] = {
		{ "pause", MST_RO_OP_PAUSE },
		{ "resume", MST_RO_OP_RESUME },
		{ "promote", MST_RO_OP_PROMOTE },
		{ "rollback", MST_RO_OP_ROLLBACK },
	};
	struct mst_ro *ro = mst_rollout_engine();
	struct mst_ro_route *rr;
	const char *slash = strrchr(rest, '/');
	struct buf name, why;
	size_t i;

	for (i = 0; slash != NULL && slash != rest &&
	    i < sizeof(acts) / sizeof(acts[0]); i++)
		if (strcmp(slash + 1, acts[i].a_name) == 0)
			break;
	if (slash == NULL || slash == rest ||
	    i == sizeof(acts) / sizeof(acts[0])) {
		reply_text(r, 404, "invalid path. ");
		admin_help(&r->ar_body);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		reply_text(r, 405, "");
		buf_printf(&r->ar_body, "Method %s not allowed, POST required.",
		    method);
		return;
	}
	if (ro == NULL) {
		reply_text(r, 503, "canary: the rollout engine is not "
		    "running\n");
		return;
	}
	buf_init(&name);
	buf_init(&why);
	mst_admin_url_decode(&name, rest, (size_t)(slash - rest));
	buf_append(&name, "", 0);
	if ((rr = mst_rollout_find(ro, buf_str(&name))) == NULL) {
		reply_text(r, 404, "");
		buf_printf(&r->ar_body, "unknown route: %s\n", buf_str(&name));
	} else if (mst_rollout_op(ro, rr, acts[i].a_op, mst_rollout_now_ns(),
	    &why) == -1) {
		reply_text(r, 409, buf_str(&why));
	} else {
		r->ar_ctype = CT_JSON;
		if (mst_rollout_json(&r->ar_body, ro, mst_rollout_now_ns(),
		    rr) == -1)
			reply_text(r, 500, "out of memory\n");
	}
	buf_free(&name);
	buf_free(&why);
}

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
	src->ss_admin = &adm_ctr;
	src->ss_hist = &adm_hist;
}

/* Envoy's stats flush: every MST_HIST_FLUSH_MS, whether or not anyone
 * looks, so an interval always covers one period. */
static void
admin_hist_flush(void *arg)
{
	(void)arg;
	adm_hist_timer = NULL;
	if (mst.m_conf != NULL && mst.m_shm != NULL)
		mst_stats_hist_flush(&adm_hist, mst.m_conf, mst.m_place,
		    mst.m_shm);
	if ((adm_hist_timer = mst_timer_add(MST_HIST_FLUSH_MS,
	    admin_hist_flush, NULL)) == NULL)
		log_warnx("admin: no timer for the stats flush: histogram "
		    "intervals stop");
}

/* /stats and /stats/prometheus: parameters, then one render. */
static void
stats_page(const char *query, struct mst_admin_reply *r, int prom)
{
	struct mst_stats_filter f;
	struct mst_stats_src src;
	struct mst_stat_list sl;
	struct buf v;
	regex_t re;
	char err[256];
	int rc, format = 0;	/* 0 text, 1 json, 2 prometheus */

	memset(&f, 0, sizeof(f));
	f.sf_types = MST_STAT_ALL;
	buf_init(&v);
	f.sf_usedonly = mst_admin_query(query, "usedonly", &v);
	if (prom)
		format = 2;
	else if (mst_admin_query(query, "format", &v)) {
		if (strcmp(buf_str(&v), "json") == 0)
			format = 1;
		else if (strcmp(buf_str(&v), "prometheus") == 0)
			format = 2;
		else if (strcmp(buf_str(&v), "text") != 0) {
			reply_text(r, 400, "usage: /stats?format=(json|"
			    "prometheus|text)\n");
			goto out;
		}
	}
	if (!prom && mst_admin_query(query, "type", &v)) {
		if (strcasecmp(buf_str(&v), "All") == 0)
			f.sf_types = MST_STAT_ALL;
		else if (strcasecmp(buf_str(&v), "Counters") == 0)
			f.sf_types = MST_STAT_COUNTER;
		else if (strcasecmp(buf_str(&v), "Gauges") == 0)
			f.sf_types = MST_STAT_GAUGE;
		else if (strcasecmp(buf_str(&v), "Histograms") == 0)
			f.sf_types = MST_STAT_HISTOGRAM;
		else if (strcasecmp(buf_str(&v), "TextReadouts") == 0)
			f.sf_types = 0;	/* canaryd has none */
		else {
			reply_text(r, 400, "invalid type: want one of All, "
			    "Counters, Gauges, Histograms, TextReadouts\n");
			goto out;
		}
	}
	if (mst_admin_query(query, "filter", &v) && v.b_len > 0) {
		if ((rc = regcomp(&re, buf_str(&v),
		    REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(rc, &re, err, sizeof(err));
			reply_text(r, 400, "Invalid regex: ");
			buf_printf(&r->ar_body, "%s\n", err);
			goto out;
		}
		f.sf_re = &re;
	}

	stats_src(&src);
	if (mst_stats_collect(&src, &sl) == -1 ||
	    (mst_rollout_engine() != NULL &&
	    mst_rollout_stats(mst_rollout_engine(), &sl) == -1))
		rc = -1;
	else if (format == 0)
		rc = mst_stats_text(&r->ar_body, &sl, &f);
	else if (format == 1) {
		r->ar_ctype = CT_JSON;
		rc = mst_stats_json(&r->ar_body, &sl, &f);
	} else
		rc = mst_stats_prometheus(&r->ar_body, &sl, &f);
	mst_stats_list_free(&sl);
	if (f.sf_re != NULL)
		regfree(&re);
	if (rc == -1)
		reply_text(r, 500, "out of memory\n");
out:
	buf_free(&v);
}

static void
h_stats(const char *query, struct mst_admin_reply *r)
{
	stats_page(query, r, 0);
}

static void
h_prom(const char *query, struct mst_admin_reply *r)
{
	stats_page(query, r, 1);
}

/* ?format=json, else text: Envoy treats any other value as text. */
static int
want_json(const char *query)
{
	struct buf v;
	int json;

	buf_init(&v);
	json = mst_admin_query(query, "format", &v) &&
	    strcmp(buf_str(&v), "json") == 0;
	buf_free(&v);
	return json;
}

static void
h_clusters(const char *query, struct mst_admin_reply *r)
{
	int rc;

	if (want_json(query)) {
		r->ar_ctype = CT_JSON;
		rc = mst_stats_clusters_json(&r->ar_body, mst.m_conf,
		    mst.m_place, mst.m_shm);
	} else
		rc = mst_stats_clusters(&r->ar_body, mst.m_conf, mst.m_place,
		    mst.m_shm);
	if (rc == -1)
		reply_text(r, 500, "out of memory\n");
}

static void
h_listeners(const char *query, struct mst_admin_reply *r)
{
	int json = want_json(query);

	if (json)
		r->ar_ctype = CT_JSON;
	if (mst_stats_listeners(&r->ar_body, mst.m_conf, json) == -1)
		reply_text(r, 500, "out of memory\n");
}

static void
h_config_dump(const char *query, struct mst_admin_reply *r)
{
	struct buf v;
	const char *res = NULL;

	buf_init(&v);
	/* a mask or name filter we cannot apply must not look applied */
	if (mst_admin_query(query, "mask", &v) ||
	    mst_admin_query(query, "name_regex", &v)) {
		reply_text(r, 400, "config_dump: mask and name_regex are not "
		    "supported by canaryd\n");
		goto out;
	}
	if (mst_admin_query(query, "resource", &v) && v.b_len > 0)
		res = buf_str(&v);
	r->ar_ctype = CT_JSON;
	if (mst_stats_config_dump(&r->ar_body, mst.m_conf,
	    mst.m_conf_loaded_realtime_ms, res) == -1) {
		if (errno == ENOENT) {
			reply_text(r, 404, "");
			buf_printf(&r->ar_body, "%s not found in config dump\n",
			    res);
		} else if (errno == EINVAL) {
			reply_text(r, 400, "");
			buf_printf(&r->ar_body, "%s is not a repeated field\n",
			    res);
		} else
			reply_text(r, 500, "out of memory\n");
	}
out:
	buf_free(&v);
}

static void
h_ready(const char *query, struct mst_admin_reply *r)
{
	uint32_t s = atomic_load(&mst.m_shm->hdr.h_state);

	(void)query;
	r->ar_status = s == SHM_S_LIVE ? 200 : 503;
	buf_printf(&r->ar_body, "%s\n", state_name(s));
}

static void
h_server_info(const char *query, struct mst_admin_reply *r)
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
	    "\"config_path\":", CANARYD_VERSION,
	    state_name(atomic_load(&mst.m_shm->hdr.h_state)),
	    mst.m_concurrency);
	buf_json_str(&c, path, strlen(path));
	buf_puts(&c, ",\"log_level\":");
	buf_json_str(&c, lvl != NULL ? lvl : "", lvl != NULL ? strlen(lvl) : 0);
	/* no hot restart in canaryd: SIGHUP reloads in place instead */
	buf_printf(&c, ",\"mode\":\"Serve\",\"disable_hot_restart\":true,"
	    "\"restart_epoch\":0,\"drain_time\":\"%ds\"},"
	    "\"uptime_current_epoch\":\"%" PRIu64 "s\","
	    "\"uptime_all_epochs\":\"%" PRIu64 "s\",\"node\":{}}",
	    mst.m_drain_time_s, up, up);
	r->ar_ctype = CT_JSON;
	if (c.b_oom || mst_stats_json_pretty(&r->ar_body, c.b_data,
	    c.b_len) == -1)
		reply_text(r, 500, "out of memory\n");
	buf_free(&c);
}

/*
 * Workers stop accepting, finish what is in flight and exit; then the
 * server exits too, unless skip_exit (with graceful, as Envoy requires),
 * which keeps the master and this admin port up with the listeners closed.
 */
static void
h_drain(const char *query, struct mst_admin_reply *r)
{
	struct buf v;
	int graceful, skip_exit;

	buf_init(&v);
	graceful = mst_admin_query(query, "graceful", &v);
	skip_exit = mst_admin_query(query, "skip_exit", &v);
	buf_free(&v);
	if (skip_exit && !graceful) {
		reply_text(r, 400, "skip_exit requires graceful\n");
		return;
	}
	buf_puts(&r->ar_body, "OK\n");
	r->ar_action = skip_exit ? MST_ADMIN_ACT_DRAIN_LISTENERS :
	    MST_ADMIN_ACT_DRAIN_QUIT;
}

static void
h_hc_fail(const char *query, struct mst_admin_reply *r)
{
	(void)query;
	atomic_store(&mst.m_shm->hdr.h_live, 0);
	atomic_store(&mst.m_shm->hdr.h_state, SHM_S_DRAINING);
	log_info("admin: /healthcheck/fail: server state DRAINING");
	buf_puts(&r->ar_body, "OK\n");
}

static void
h_hc_ok(const char *query, struct mst_admin_reply *r)
{
	(void)query;
	atomic_store(&mst.m_shm->hdr.h_live, 1);
	atomic_store(&mst.m_shm->hdr.h_state, SHM_S_LIVE);
	log_info("admin: /healthcheck/ok: server state LIVE");
	buf_puts(&r->ar_body, "OK\n");
}

static void
h_quit(const char *query, struct mst_admin_reply *r)
{
	(void)query;
	buf_puts(&r->ar_body, "OK\n");
	r->ar_action = MST_ADMIN_ACT_QUIT;
}

void
mst_admin_reply_init(struct mst_admin_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->ar_body);
	r->ar_status = 200;
	r->ar_ctype = CT_TEXT;
}

void
mst_admin_reply_free(struct mst_admin_reply *r)
{
	buf_free(&r->ar_body);
}

void
mst_admin_handle(const char *method, const char *path, const char *query,
    struct mst_admin_reply *r)
{
	const struct adm_handler *h = NULL;
	size_t i;

	for (i = 0; i < ADM_NHANDLERS; i++)
		if (strcmp(path, adm_handlers[i].h_path) == 0) {
			h = &adm_handlers[i];
			break;
		}
	if (strncmp(path, "/canary/", 8) == 0) {
		if (mst.m_conf == NULL || mst.m_shm == NULL)
			reply_text(r, 503, "not initialised yet\n");
		else
			canary_action(method, path + 8, r);
	} else if (h == NULL) {
		reply_text(r, 404, "invalid path. ");
		admin_help(&r->ar_body);
	} else if (h->h_post && strcmp(method, "POST") != 0) {
		reply_text(r, 405, "");
		buf_printf(&r->ar_body, "Method %s not allowed, POST required.",
		    method);
	} else if (mst.m_conf == NULL || mst.m_shm == NULL)
		reply_text(r, 503, "not initialised yet\n");
	else
		h->h_fn(query, r);
	if (r->ar_body.b_oom) {
		buf_free(&r->ar_body);
		reply_text(r, 500, "out of memory\n");
		r->ar_action = MST_ADMIN_ACT_NONE;
	}
}

/* ---- query strings ---------------------------------------------------- */

int
mst_admin_url_decode(struct buf *out, const char *s, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < len && text_hexval(s[i + 1]) >= 0 &&
		    text_hexval(s[i + 2]) >= 0) {
			c = (char)(text_hexval(s[i + 1]) << 4 |
			    text_hexval(s[i + 2]));
			i += 2;
		}
		/* a bad escape stays as written, as Envoy leaves it */
		buf_append(out, &c, 1);
	}
	return out->b_oom ? -1 : 0;
}

int
mst_admin_query(const char *query, const char *key, struct buf *val)
{
	const char *p = query, *end, *eq, *kend;
	struct buf k;
	int hit;

	if (query == NULL)
		return 0;
	buf_init(&k);
	while (*p != '\0') {
		if ((end = strchr(p, '&')) == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		kend = eq != NULL ? eq : end;
		buf_reset(&k);
		mst_admin_url_decode(&k, p, (size_t)(kend - p));
		hit = strcmp(buf_str(&k), key) == 0;
		if (hit) {
			buf_free(&k);
			buf_reset(val);
			if (eq != NULL)
				mst_admin_url_decode(val, eq + 1,
				    (size_t)(end - eq - 1));
			/* a NUL after the value even when it is empty */
			buf_append(val, "", 0);
			return 1;
		}
		p = *end == '&' ? end + 1 : end;
	}
	buf_free(&k);
	return 0;
}

/* ---- request heads ---------------------------------------------------- */

static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static enum mst_admin_parse
head_err(struct mst_admin_req *rq, int status)
{
	rq->rq_status = status;
	return MST_ADMIN_P_ERR;
}

enum mst_admin_parse
mst_admin_parse_head(const char *p, size_t len, struct mst_admin_req *rq)
{
	const char *line, *eol, *end, *sp1, *sp2, *colon, *v, *ve;
	size_t scan, i, nhdr = 0, start = 0;
	uint64_t clen = 0;
	int have_clen = 0, conn_close = 0, conn_ka = 0, d;

	memset(rq, 0, sizeof(rq[0]));
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (start < len && (p[start] == '\r' || p[start] == '\n'))
		start++;
	/* a binary or garbled first line (a TLS hello ...) is refused at
	 * once instead of waiting for a head end that may never come */
	for (i = start; i < len && p[i] != ' '; i++)
		if (!is_tchar((unsigned char)p[i]) ||
		    i - start >= ADMIN_METHOD_MAX)
			return head_err(rq, 400);
	/* the head ends at the first empty line (CRLF or bare LF) */
	scan = len < MST_ADMIN_HEAD_MAX ? len : MST_ADMIN_HEAD_MAX;
	end = NULL;
	for (i = start; i < scan; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < scan && p[i + 1] == '\n') {
			end = p + i + 2;
			break;
		}
		if (i + 2 < scan && p[i + 1] == '\r' && p[i + 2] == '\n') {
			end = p + i + 3;
			break;
		}
	}
	if (end == NULL)
		return len >= MST_ADMIN_HEAD_MAX ? head_err(rq, 431) :
		    MST_ADMIN_P_AGAIN;
	rq->rq_head_len = (size_t)(end - p);

	/* request line: method SP target SP HTTP/1.x */
	line = p + start;
	eol = memchr(line, '\n', (size_t)(end - line));
	ve = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
	if ((sp1 = memchr(line, ' ', (size_t)(ve - line))) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(ve - sp1 - 1))) == NULL)
		return head_err(rq, 400);
	for (v = line; v < sp1; v++)
		if (!is_tchar((unsigned char)*v))
			return head_err(rq, 400);
	if (sp1 == line || sp1[1] != '/')
		return head_err(rq, 400);
	for (v = sp1 + 1; v < sp2; v++)
		if ((unsigned char)*v <= ' ' || (unsigned char)*v == 0x7f)
			return head_err(rq, 400);
	if (ve - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/", 5) != 0 ||
	    sp2[6] < '0' || sp2[6] > '9' || sp2[7] != '.' ||
	    sp2[8] < '0' || sp2[8] > '9')
		return head_err(rq, 400);
	if (sp2[6] != '1')
		return head_err(rq, 505);
	rq->rq_method = line;
	rq->rq_method_len = (size_t)(sp1 - line);
	rq->rq_target = sp1 + 1;
	rq->rq_target_len = (size_t)(sp2 - sp1 - 1);
	rq->rq_minor = sp2[8] - '0';

	/* header fields */
	for (line = eol + 1; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		ve = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
		if (ve == line)
			break;		/* the blank line */
		if (++nhdr > MST_ADMIN_MAX_HEADERS)
			return head_err(rq, 431);
		/* no obs-fold, no space before the colon */
		if ((colon = memchr(line, ':', (size_t)(ve - line))) == NULL ||
		    colon == line)
			return head_err(rq, 400);
		for (v = line; v < colon; v++)
			if (!is_tchar((unsigned char)*v))
				return head_err(rq, 400);
		for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
			;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (colon - line == 14 &&
		    strncasecmp(line, "content-length", 14) == 0) {
			uint64_t n = 0;

			if (v == ve)
				return head_err(rq, 400);
			for (; v < ve; v++) {
				if ((d = *v - '0') < 0 || d > 9 ||
				    n > (UINT64_MAX - 9) / 10)
					return head_err(rq, 400);
				n = n * 10 + (uint64_t)d;
			}
			/* two lengths that differ: the body is ambiguous */
			if (have_clen && n != clen)
				return head_err(rq, 400);
			clen = n;
			have_clen = 1;
		} else if (colon - line == 17 &&
		    strncasecmp(line, "transfer-encoding", 17) == 0)
			return head_err(rq, 411);
		else if (colon - line == 10 &&
		    strncasecmp(line, "connection", 10) == 0) {
			conn_close |= http1_has_token(v, (size_t)(ve - v), "close");
			conn_ka |= http1_has_token(v, (size_t)(ve - v),
			    "keep-alive");
		}
	}
	if (clen > MST_ADMIN_BODY_MAX)
		return head_err(rq, 413);
	rq->rq_clen = clen;
	rq->rq_keepalive = rq->rq_minor >= 1 ? !conn_close :
	    conn_ka && !conn_close;
	return MST_ADMIN_P_OK;
}

/* ---- connections ------------------------------------------------------ */

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

static void
quit_cb(void *arg)
{
	(void)arg;
	adm_quit_timer = NULL;
	if (adm_actor != NULL)
		adm_actor(adm_quit_act);
}

/* From the loop, not from inside a connection's call chain: stopping the
 * server may stop the admin and free that connection. */
static void
admin_schedule_quit(enum mst_admin_act act)
{
	if (adm_quit_timer != NULL)
		return;
	adm_quit_act = act;
	if ((adm_quit_timer = mst_timer_add(0, quit_cb, NULL)) == NULL &&
	    adm_actor != NULL)
		adm_actor(act);
}

static void
conn_close(struct adm_conn *c, const char *why)
{
	enum mst_admin_act quit = c->c_quit;

	log_debug("admin: conn %" PRIu64 ": closed (%s) in %s", c->c_id, why,
	    adm_state_names[c->c_state]);
	mst_loop_del(c->c_fd);
	close(c->c_fd);
	mst_timer_cancel(c->c_timer);
	TAILQ_REMOVE(&adm_conns, c, c_entry);
	buf_free(&c->c_rbuf);
	buf_free(&c->c_wbuf);
	buf_free(&c->c_req);
	buf_free(&c->c_alhead);
	free(c);
	adm_nconns--;
	adm_ctr.ac_cx_active--;
	/* the client left before its /quitquitquit reply was out */
	if (quit != MST_ADMIN_ACT_NONE)
		admin_schedule_quit(quit);
}

static void
conn_timeout(void *arg)
{
	struct adm_conn *c = arg;

	c->c_timer = NULL;	/* the loop has freed it */
	conn_close(c, c->c_state == ADM_S_LINGER ? "linger over" :
	    "idle timeout");
}

/* Progress was made: the idle clock starts again. */
static void
conn_touch(struct adm_conn *c)
{
	mst_timer_cancel(c->c_timer);
	c->c_timer = mst_timer_add(ADMIN_IDLE_MS, conn_timeout, c);
}

/* Allowed moves: a reply may go out at once (READ_* -> READ_HEAD or
 * LINGER) or wait for the socket (-> WRITE); LINGER only ends. */
static const unsigned char adm_moves[ADM_S__N][ADM_S__N] = {
	[ADM_S_READ_HEAD] = { [ADM_S_READ_HEAD] = 1, [ADM_S_READ_BODY] = 1,
	    [ADM_S_WRITE] = 1, [ADM_S_LINGER] = 1 },
	[ADM_S_READ_BODY] = { [ADM_S_READ_HEAD] = 1, [ADM_S_WRITE] = 1,
	    [ADM_S_LINGER] = 1 },
	[ADM_S_WRITE] = { [ADM_S_READ_HEAD] = 1, [ADM_S_LINGER] = 1 },
};

static void
conn_set_state(struct adm_conn *c, enum adm_state s)
{
	CD_ASSERT(adm_moves[c->c_state][s]);
	if (c->c_state != s)
		log_debug("admin: conn %" PRIu64 ": %s -> %s", c->c_id,
		    adm_state_names[c->c_state], adm_state_names[s]);
	c->c_state = s;
}

static void
http_date(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		strlcpy(buf, "Thu, 01 Jan 1970 00:00:00 GMT", len);
}

/* Queue the reply's bytes in c_wbuf; head: leave the body out. */
static void
conn_reply(struct adm_conn *c, const struct mst_admin_reply *r, int head)
{
	char date[64];

	http_date(date, sizeof(date));
	buf_printf(&c->c_wbuf, "HTTP/1.1 %d %s\r\n"
	    "content-type: %s\r\n"
	    "cache-control: no-cache, max-age=0\r\n"
	    "x-content-type-options: nosniff\r\n"
	    "date: %s\r\n"
	    "server: canaryd\r\n"
	    "content-length: %zu\r\n"
	    "%s\r\n", r->ar_status, reason(r->ar_status), r->ar_ctype, date,
	    r->ar_body.b_len, c->c_close ? "connection: close\r\n" :
	    c->c_minor == 0 ? "connection: keep-alive\r\n" : "");
	if (!head && r->ar_body.b_len > 0)
		buf_append(&c->c_wbuf, r->ar_body.b_data, r->ar_body.b_len);
	if (r->ar_status >= 100 && r->ar_status < 600)
		adm_ctr.ac_rq_class[r->ar_status / 100 - 1]++;
	if (r->ar_action == MST_ADMIN_ACT_QUIT ||
	    r->ar_action == MST_ADMIN_ACT_DRAIN_QUIT)
		c->c_quit = r->ar_action;
	c->c_woff = 0;
}

/* An error before the request could be read: reply and close. */
static void
conn_reply_error(struct adm_conn *c, int status)
{
	struct mst_admin_reply r;

	mst_admin_reply_init(&r);
	reply_text(&r, status, reason(status));
	buf_puts(&r.ar_body, "\n");
	c->c_close = 1;
	c->c_minor = 1;
	conn_reply(c, &r, 0);
	mst_admin_reply_free(&r);
}

static void
conn_consume(struct adm_conn *c, size_t n)
{
	struct buf *b = &c->c_rbuf;

	if (n >= b->b_len) {
		buf_reset(b);
		return;
	}
	memmove(b->b_data, b->b_data + n, b->b_len - n);
	b->b_len -= n;
	b->b_data[b->b_len] = '\0';
}

/* Remember method, path and query: the head bytes go before dispatch. */
static void
conn_save_request(struct adm_conn *c, const struct mst_admin_req *rq)
{
	const char *q;
	size_t plen;

	buf_reset(&c->c_req);
	q = memchr(rq->rq_target, '?', rq->rq_target_len);
	plen = q != NULL ? (size_t)(q - rq->rq_target) : rq->rq_target_len;
	buf_append(&c->c_req, rq->rq_method, rq->rq_method_len);
	buf_append(&c->c_req, "", 1);
	buf_append(&c->c_req, rq->rq_target, plen);
	buf_append(&c->c_req, "", 1);
	if (q != NULL)
		buf_append(&c->c_req, q + 1,
		    rq->rq_target_len - plen - 1);
	buf_append(&c->c_req, "", 1);
}

/* Keep the head for the access log line: it is consumed before dispatch. */
static void
conn_al_begin(struct adm_conn *c, const struct mst_admin_req *rq)
{
	buf_reset(&c->c_alhead);
	buf_append(&c->c_alhead, c->c_rbuf.b_data, rq->rq_head_len);
	c->c_al_start_ms = cd_realtime_ms();
	c->c_al_rx = rq->rq_clen;
}

/* The admin access log line of the request just answered. */
static void
conn_al_line(struct adm_conn *c, const char *method, const char *path,
    const char *query, const struct mst_admin_reply *r, int head)
{
	struct alog_rec ar;
	struct buf target;
	const char *h = c->c_alhead.b_data;
	size_t hlen = c->c_alhead.b_oom ? 0 : c->c_alhead.b_len;
	uint64_t now = cd_realtime_ms();

	buf_init(&target);
	buf_puts(&target, path);
	if (*query != '\0')
		buf_printf(&target, "?%s", query);
	memset(&ar, 0, sizeof(ar));
	ar.ar_start_ms = c->c_al_start_ms;
	ar.ar_duration_ms = now > c->c_al_start_ms ? now - c->c_al_start_ms : 0;
	ar.ar_method.a_p = method;
	ar.ar_method.a_len = strlen(method);
	if (!target.b_oom) {
		ar.ar_path.a_p = target.b_data;
		ar.ar_path.a_len = target.b_len;
	}
	ar.ar_protocol = c->c_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
	ar.ar_code = (uint16_t)r->ar_status;
	ar.ar_rx = c->c_al_rx;
	ar.ar_tx = head ? 0 : r->ar_body.b_len;
	ar.ar_svc_ms = -1;
	if (hlen > 0) {
		alog_header(h, hlen, "x-forwarded-for", &ar.ar_xff);
		alog_header(h, hlen, "user-agent", &ar.ar_ua);
		alog_header(h, hlen, "x-request-id", &ar.ar_rid);
		alog_header(h, hlen, "host", &ar.ar_authority);
	}
	mst_accesslog_admin(&ar);
	buf_free(&target);
}

static void
conn_dispatch(struct adm_conn *c)
{
	struct mst_admin_reply r;
	const char *method = c->c_req.b_data;
	const char *path = method + strlen(method) + 1;
	const char *query = path + strlen(path) + 1;
	int head = strcmp(method, "HEAD") == 0;

	mst_admin_reply_init(&r);
	/* a HEAD is answered as its GET would be, without the body */
	mst_admin_handle(head ? "GET" : method, path, query, &r);
	if (head && r.ar_status == 405) {
		buf_reset(&r.ar_body);
		buf_printf(&r.ar_body, "Method %s not allowed, POST required.",
		    method);
	}
	log_debug("admin: conn %" PRIu64 ": %s %s%s%s: %d", c->c_id, method,
	    path, *query != '\0' ? "?" : "", query, r.ar_status);
	/* the server is going away: say so rather than keep the connection */
	c->c_close = !c->c_keepalive || r.ar_action == MST_ADMIN_ACT_QUIT ||
	    r.ar_action == MST_ADMIN_ACT_DRAIN_QUIT;
	if (r.ar_action == MST_ADMIN_ACT_DRAIN_LISTENERS && adm_actor != NULL)
		adm_actor(r.ar_action);
	conn_reply(c, &r, head);
	if (mst_accesslog_admin_on())
		conn_al_line(c, method, path, query, &r, head);
	mst_admin_reply_free(&r);
}

/*
 * The last reply is out.  Closing now, with request bytes still unread,
 * would make the kernel send a reset that can destroy the reply before the
 * client reads it (a 431 for a head still arriving): half-close, read and
 * drop until the peer closes or ADMIN_LINGER_MS pass, then close.
 */
static void
conn_linger(struct adm_conn *c)
{
	shutdown(c->c_fd, SHUT_WR);
	conn_set_state(c, ADM_S_LINGER);
	buf_free(&c->c_rbuf);
	buf_free(&c->c_wbuf);
	if (mst_loop_mod(c->c_fd, EPOLLIN, conn_io, c) == -1) {
		conn_close(c, "epoll");
		return;
	}
	mst_timer_cancel(c->c_timer);
	c->c_timer = mst_timer_add(ADMIN_LINGER_MS, conn_timeout, c);
}

static void
conn_linger_read(struct adm_conn *c)
{
	char tmp[ADMIN_READ_CHUNK];
	ssize_t n;
	int i;

	for (i = 0; i < ADMIN_READS_PER_WAKE; i++) {
		n = read(c->c_fd, tmp, sizeof(tmp));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c, "reply sent");
			return;
		}
	}
}

/*
 * Send what is queued.  0: all out and the connection reads again;
 * 1: the socket is full (EPOLLOUT armed); -1: the connection is closing
 * or gone, do not touch it.
 */
static int
conn_flush(struct adm_conn *c)
{
	ssize_t n;

	if (c->c_wbuf.b_oom) {
		conn_close(c, "out of memory");
		return -1;
	}
	while (c->c_woff < c->c_wbuf.b_len) {
		n = send(c->c_fd, c->c_wbuf.b_data + c->c_woff,
		    c->c_wbuf.b_len - c->c_woff, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (c->c_state != ADM_S_WRITE) {
					conn_set_state(c, ADM_S_WRITE);
					if (mst_loop_mod(c->c_fd, EPOLLOUT,
					    conn_io, c) == -1) {
						conn_close(c, "epoll");
						return -1;
					}
				}
				return 1;
			}
			conn_close(c, "write error");
			return -1;
		}
		c->c_woff += (size_t)n;
		conn_touch(c);
	}
	buf_reset(&c->c_wbuf);
	c->c_woff = 0;
	if (c->c_quit != MST_ADMIN_ACT_NONE) {
		admin_schedule_quit(c->c_quit);
		c->c_quit = MST_ADMIN_ACT_NONE;
	}
	if (c->c_close) {
		conn_linger(c);
		return -1;
	}
	if (c->c_state == ADM_S_WRITE &&
	    mst_loop_mod(c->c_fd, EPOLLIN, conn_io, c) == -1) {
		conn_close(c, "epoll");
		return -1;
	}
	conn_set_state(c, ADM_S_READ_HEAD);
	return 0;
}

/*
 * Serve every complete request in c_rbuf, in order.  0: waiting for more
 * bytes or for the socket; -1: the connection is gone.
 */
static int
conn_process(struct adm_conn *c)
{
	struct mst_admin_req rq;
	size_t n;
	int rc;

	for (;;) {
		switch (c->c_state) {
		case ADM_S_READ_HEAD:
			switch (mst_admin_parse_head(c->c_rbuf.b_data,
			    c->c_rbuf.b_len, &rq)) {
			case MST_ADMIN_P_AGAIN:
				return 0;
			case MST_ADMIN_P_ERR:
				adm_ctr.ac_rq_total++;
				conn_reply_error(c, rq.rq_status);
				/* c_close is set: this ends the connection */
				return conn_flush(c) == -1 ? -1 : 0;
			case MST_ADMIN_P_OK:
				break;
			}
			adm_ctr.ac_rq_total++;
			conn_save_request(c, &rq);
			if (mst_accesslog_admin_on())
				conn_al_begin(c, &rq);
			c->c_minor = rq.rq_minor;
			c->c_keepalive = rq.rq_keepalive;
			c->c_body_left = rq.rq_clen;
			conn_consume(c, rq.rq_head_len);
			conn_set_state(c, ADM_S_READ_BODY);
			/* FALLTHROUGH */
		case ADM_S_READ_BODY:
			n = c->c_rbuf.b_len < c->c_body_left ? c->c_rbuf.b_len :
			    (size_t)c->c_body_left;
			conn_consume(c, n);
			c->c_body_left -= n;
			if (c->c_body_left > 0)
				return 0;
			if (c->c_req.b_oom) {
				conn_close(c, "out of memory");
				return -1;
			}
			conn_dispatch(c);
			if ((rc = conn_flush(c)) != 0)
				return rc == -1 ? -1 : 0;
			break;
		case ADM_S_WRITE:
		case ADM_S_LINGER:
			return 0;
		default:
			CD_ASSERT(!"admin connection in a bad state");
		}
	}
}

static void
conn_read(struct adm_conn *c)
{
	char tmp[ADMIN_READ_CHUNK];
	ssize_t n;
	int i;

	for (i = 0; i < ADMIN_READS_PER_WAKE; i++) {
		n = read(c->c_fd, tmp, sizeof(tmp));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c, "read error");
			return;
		}
		if (n == 0) {
			conn_close(c, "peer closed");
			return;
		}
		conn_touch(c);
		if (buf_append(&c->c_rbuf, tmp, (size_t)n) == -1) {
			conn_close(c, "out of memory");
			return;
		}
		if (conn_process(c) == -1 || c->c_state == ADM_S_WRITE)
			return;
	}
}

static void
conn_io(int fd, uint32_t events, void *arg)
{
	struct adm_conn *c = arg;

	(void)fd;
	if (c->c_state == ADM_S_LINGER) {
		conn_linger_read(c);
		return;
	}
	if (c->c_state == ADM_S_WRITE) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
			if (conn_flush(c) != 0)
				return;
			/* pipelined requests that waited for this reply */
			if (conn_process(c) == -1)
				return;
		}
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c);
}

static void
conn_new(int fd)
{
	struct adm_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("admin: connection");
		close(fd);
		return;
	}
	c->c_fd = fd;
	c->c_id = ++adm_next_id;
	c->c_state = ADM_S_READ_HEAD;
	buf_init(&c->c_rbuf);
	buf_init(&c->c_wbuf);
	buf_init(&c->c_req);
	buf_init(&c->c_alhead);
	if (mst_loop_add(fd, EPOLLIN, conn_io, c) == -1) {
		log_warn("admin: epoll add");
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&adm_conns, c, c_entry);
	adm_nconns++;
	adm_ctr.ac_cx_total++;
	adm_ctr.ac_cx_active++;
	conn_touch(c);
}

/* ---- the listener ------------------------------------------------------ */

static void admin_accept(int, uint32_t, void *);

static void
admin_resume(void *arg)
{
	(void)arg;
	adm_pause_timer = NULL;
	if (adm_listen_fd != -1 &&
	    mst_loop_add(adm_listen_fd, EPOLLIN, admin_accept, NULL) == -1)
		log_warn("admin: epoll add");
}

static void
admin_accept(int fd, uint32_t events, void *arg)
{
	int i, s;

	(void)events;
	(void)arg;
	for (i = 0; i < ADMIN_ACCEPTS_PER_WAKE; i++) {
		s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			log_warn("admin: accept");
			/* out of descriptors or memory: the socket stays
			 * readable, so stop watching it for a while or the
			 * loop spins */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				mst_loop_del(fd);
				adm_pause_timer = mst_timer_add(
				    ADMIN_ACCEPT_PAUSE_MS, admin_resume, NULL);
			}
			return;
		}
		if (adm_nconns >= ADMIN_MAX_CONNS) {
			log_debug("admin: %d connections already: closing new",
			    adm_nconns);
			close(s);
			continue;
		}
		conn_new(s);
	}
}

/* Remember the configured admin address this start serves. */
static void
admin_note_addr(const struct cd_admin *a)
{
	memset(&adm_addr, 0, sizeof(adm_addr));
	adm_addr.aa_set = a->a_set;
	if (a->a_set) {
		strlcpy(adm_addr.aa_addr, a->a_addr.sa_address,
		    sizeof(adm_addr.aa_addr));
		adm_addr.aa_port = a->a_addr.sa_port;
	}
}

/* Does the running configuration name another admin address? */
static int
admin_addr_changed(const struct cd_admin *a)
{
	return a->a_set != adm_addr.aa_set || (a->a_set &&
	    (strcmp(a->a_addr.sa_address, adm_addr.aa_addr) != 0 ||
	    a->a_addr.sa_port != adm_addr.aa_port));
}

static int
admin_listen(void)
{
	const struct cd_admin *a;
	struct addrinfo hints, *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char port[8], host[INET6_ADDRSTRLEN];
	int s = -1, rc, on = 1, saved = 0;
	uint16_t bound = 0;

	if (adm_listen_fd != -1)
		return 0;
	/* once for the master's life: a restarted listener keeps it */
	if (adm_hist_timer == NULL && (adm_hist_timer = mst_timer_add(
	    MST_HIST_FLUSH_MS, admin_hist_flush, NULL)) == NULL)
		log_warnx("admin: no timer for the stats flush");
	if (mst.m_conf != NULL)
		admin_note_addr(&mst.m_conf->c_admin);
	if (mst.m_conf == NULL || !mst.m_conf->c_admin.a_set) {
		log_info("admin: no admin address configured");
		return 0;
	}
	a = &mst.m_conf->c_admin;
	snprintf(port, sizeof(port), "%u", a->a_addr.sa_port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(a->a_addr.sa_address, port, &hints, &res)) != 0) {
		log_warnx("admin: %s: %s", a->a_addr.sa_address,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (s == -1) {
			saved = errno;
			continue;
		}
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		/* as Envoy: "::" means IPv6 only */
		if (ai->ai_family == AF_INET6)
			setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(s, 128) == 0)
			break;
		saved = errno;
		close(s);
		s = -1;
	}
	freeaddrinfo(res);
	if (s == -1) {
		errno = saved;
		log_warn("admin: listen on %s:%s", a->a_addr.sa_address, port);
		return -1;
	}
	if (mst_loop_add(s, EPOLLIN, admin_accept, NULL) == -1) {
		log_warn("admin: epoll add");
		close(s);
		return -1;
	}
	adm_listen_fd = s;
	/* port 0 in the config: say which one the kernel chose */
	strlcpy(host, a->a_addr.sa_address, sizeof(host));
	if (getsockname(s, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET)
			bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	log_info("admin: listening on %s:%u", host, bound);
	return 0;
}

int
mst_admin_start(mst_admin_act_fn *actor)
{
	adm_actor = actor;
	return admin_listen();
}

void
mst_admin_reconfigure(void)
{
	if (!admin_addr_changed(&mst.m_conf->c_admin))
		return;
	mst_admin_stop();
	if (admin_listen() == -1)
		log_error("reload: admin listener did not move");
}

void
mst_admin_stop(void)
{
	struct adm_conn *c;

	while ((c = TAILQ_FIRST(&adm_conns)) != NULL) {
		c->c_quit = MST_ADMIN_ACT_NONE;	/* already stopping */
		conn_close(c, "admin stopped");
	}
	mst_timer_cancel(adm_pause_timer);
	adm_pause_timer = NULL;
	mst_timer_cancel(adm_quit_timer);
	adm_quit_timer = NULL;
	if (adm_listen_fd != -1) {
		mst_loop_del(adm_listen_fd);
		close(adm_listen_fd);
		adm_listen_fd = -1;
	}
}
