/*
 * The admin endpoint table and its dispatch (see admin.h): which path is
 * served by which handler, which ones change state (POST only), and the
 * help every reply that misses gets; plus query strings.  No sockets:
 * the unit tests call mst_admin_handle() directly.
 */
#include <stddef.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/query.h"
#include "shared/text.h"
#include "admin-int.h"
#include "admin.h"
#include "mst.h"

struct admin_endpoint {
	const char	*e_path;
	const char	*e_help;
	const char	*e_params;	/* "      name: help\n" lines */
	int		 e_post;	/* mutates state: POST only */
	admin_handler_fn *e_fn;		/* NULL: served by a prefix below */
};

/* Sorted by path: /help prints them in this order (a test checks it). */
static const struct admin_endpoint admin_endpoints[] = {
	{ "/", "Admin home page", NULL, 0, admin_h_home },
	{ "/canary", "weighted routes: weights now, rollout state, per-cluster "
	    "requests, success rate and latency over the window",
	    "      format: Output format; One of (json, text)\n", 0,
	    admin_h_canary },
	/* served by admin_canary_action(): listed here for /help only */
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
	    admin_h_clusters },
	{ "/config_dump", "dump current Envoy configs (experimental)",
	    "      resource: The resource to dump\n", 0,
	    admin_h_config_dump },
	{ "/drain_listeners", "drain listeners",
	    "      graceful: When draining listeners, enter a graceful drain "
	    "period prior to closing listeners. This behaviour and duration is "
	    "configurable via server options or CLI\n"
	    "      skip_exit: When draining listeners, do not exit after the "
	    "drain period. This must be used with graceful\n"
	    "      inboundonly: Drains all inbound listeners. traffic_direction "
	    "field in envoy_v3_api_msg_config.listener.v3.Listener is used to "
	    "determine whether a listener is inbound or outbound.\n", 1,
	    admin_h_drain },
	{ "/healthcheck/fail", "cause the server to fail health checks",
	    NULL, 1, admin_h_hc_fail },
	{ "/healthcheck/ok", "cause the server to pass health checks",
	    NULL, 1, admin_h_hc_ok },
	{ "/help", "print out list of admin commands", NULL, 0,
	    admin_h_help },
	{ "/listeners", "print listener info",
	    "      format: File format to use; One of (text, json)\n", 0,
	    admin_h_listeners },
	{ "/memory", "print current allocation/heap usage: allocated, "
	    "heap_size and pageheap_free of the master's malloc, "
	    "total_physical_bytes resident in every canaryd process", NULL, 0,
	    admin_h_memory },
	{ "/quitquitquit", "exit the server", NULL, 1, admin_h_quit },
	{ "/ready", "print server state, return 200 if LIVE, otherwise "
	    "return 503", NULL, 0, admin_h_ready },
	{ "/runtime", "print runtime values: each key's value in every layer "
	    "and the one that wins", NULL, 0, admin_h_runtime },
	{ "/runtime_modify", "Adds or modifies runtime values as passed in "
	    "query parameters. To delete a previously added key, use an empty "
	    "string as the value. Note that deletion only applies to "
	    "overrides added via this endpoint; values loaded from the file "
	    "can be modified via override but not deleted. E.g. "
	    "?key1=value1&key2=value2...", NULL, 1, admin_h_runtime_modify },
	{ "/server_info", "print server version/status information", NULL, 0,
	    admin_h_server_info },
	{ "/stats", "print server stats",
	    "      usedonly: Only include stats that have been written by "
	    "system since restart\n"
	    "      filter: Regular expression (POSIX extended) for filtering "
	    "stats\n"
	    "      format: Format to use; One of (text, json, prometheus)\n"
	    "      type: Stat types to include.; One of (All, Counters, "
	    "Histograms, Gauges, TextReadouts)\n", 0, admin_h_stats },
	{ "/stats/prometheus", "print server stats in prometheus format",
	    "      usedonly: Only include stats that have been written by "
	    "system since restart\n"
	    "      filter: Regular expression (POSIX extended) for filtering "
	    "stats\n", 0, admin_h_prom },
};


#define NENDPOINTS	TEXT_NELEM(admin_endpoints)

const char *
admin_buf_str(const struct buf *b)
{
	return b->b_data != NULL ? b->b_data : "";
}

void
admin_reply_text(struct mst_admin_reply *r, int status, const char *text)
{
	r->ar_status = status;
	r->ar_ctype = ADMIN_CT_TEXT;
	buf_reset(&r->ar_body);
	buf_puts(&r->ar_body, text);
}

static void
admin_help(struct buf *b)
{
	const struct admin_endpoint *e;
	size_t i;

	buf_puts(b, "admin commands are:\n");
	for (i = 0; i < NENDPOINTS; i++) {
		e = &admin_endpoints[i];
		buf_printf(b, "  %s%s: %s\n", e->e_path,
		    e->e_post ? " (POST)" : "", e->e_help);
		if (e->e_params != NULL)
			buf_puts(b, e->e_params);
	}
}

void
admin_reply_404(struct mst_admin_reply *r)
{
	admin_reply_text(r, 404, "invalid path. ");
	admin_help(&r->ar_body);
}

void
admin_reply_405(struct mst_admin_reply *r, const char *method)
{
	admin_reply_text(r, 405, "");
	buf_printf(&r->ar_body, "Method %s not allowed, POST required.",
	    method);
}

void
admin_h_help(const char *query, struct mst_admin_reply *r)
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

/* One row of the home page's table: a link, or a button for a POST. */
static void
home_row(struct buf *b, const struct admin_endpoint *e)
{
	if (e->e_post)
		buf_printf(b, "<tr><td><form action=\"%s\" method=\"post\">"
		    "<button>%s</button></form></td><td>%s</td></tr>\n",
		    e->e_path, e->e_path, e->e_help);
	else
		buf_printf(b, "<tr><td><a href=\"%s\">%s</a></td><td>%s</td>"
		    "</tr>\n", e->e_path, e->e_path, e->e_help);
}

void
admin_h_home(const char *query, struct mst_admin_reply *r)
{
	const char *page = mst_page_html, *mark;
	size_t i, len = (size_t)(mst_page_html_end - mst_page_html);
	size_t mlen = strlen(ADMIN_PAGE_MARK);

	(void)query;
	r->ar_ctype = ADMIN_CT_HTML;
	if ((mark = memmem(page, len, ADMIN_PAGE_MARK, mlen)) == NULL)
		mark = page + len;
	buf_append(&r->ar_body, page, (size_t)(mark - page));
	buf_puts(&r->ar_body, "<table>\n");
	for (i = 0; i < NENDPOINTS; i++)
		if (strcmp(admin_endpoints[i].e_path, "/") != 0 &&
		    admin_endpoints[i].e_fn != NULL)
			home_row(&r->ar_body, &admin_endpoints[i]);
	buf_puts(&r->ar_body, "</table>\n");
	if (mark < page + len)
		buf_append(&r->ar_body, mark + mlen,
		    (size_t)(page + len - mark - mlen));
}

void
mst_admin_reply_init(struct mst_admin_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->ar_body);
	r->ar_status = 200;
	r->ar_ctype = ADMIN_CT_TEXT;
}

void
mst_admin_reply_free(struct mst_admin_reply *r)
{
	buf_free(&r->ar_body);
	if (r->ar_done != NULL)
		r->ar_done(r->ar_arg);
	r->ar_more = NULL;
	r->ar_done = NULL;
}

void
mst_admin_handle(const char *method, const char *path, const char *query,
    struct mst_admin_reply *r)
{
	const struct admin_endpoint *e = NULL;
	int ready = mst.m_conf != NULL && mst.m_shm != NULL;
	size_t i;

	for (i = 0; i < NENDPOINTS; i++)
		if (strcmp(path, admin_endpoints[i].e_path) == 0) {
			e = &admin_endpoints[i];
			break;
		}
	if (strncmp(path, "/canary/", 8) == 0) {
		if (!ready)
			admin_reply_text(r, 503, "not initialised yet\n");
		else
			admin_canary_action(method, path + 8, query, r);
	} else if (e == NULL)
		admin_reply_404(r);
	else if (e->e_post && strcmp(method, "POST") != 0)
		admin_reply_405(r, method);
	else if (!ready)
		admin_reply_text(r, 503, "not initialised yet\n");
	else
		e->e_fn(query, r);
	if (r->ar_body.b_oom) {
		buf_free(&r->ar_body);
		admin_reply_text(r, 500, "out of memory\n");
		r->ar_action = MST_ADMIN_ACT_NONE;
	}
}

/* ---- query strings ---------------------------------------------------- */

int
mst_admin_url_decode(struct buf *out, const char *s, size_t len)
{
	return query_url_decode(out, s, len);
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
		hit = strcmp(admin_buf_str(&k), key) == 0;
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
