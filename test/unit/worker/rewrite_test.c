/*
 * Unit tests for rewrites and redirect locations (worker/rewrite.c):
 * RE2-style global substitution (groups, \0, empty matches), prefix and
 * regex path rewrites by match kind, and Envoy's newUri() for redirects
 * and 3xx direct responses, from routes the loader built.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "worker/rewrite.h"

#define ROUTES								\
	"              - match: { prefix: \"/api/\" }\n"		\
	"                route: { cluster: v1, prefix_rewrite: \"/\" }\n" \
	"              - match: { path: \"/exact\" }\n"		\
	"                route: { cluster: v1, prefix_rewrite: \"/e\" }\n" \
	"              - match: { safe_regex: { regex: \"/v[0-9]+/.*\" } }\n" \
	"                route:\n"					\
	"                  cluster: v1\n"				\
	"                  regex_rewrite:\n"				\
	"                    pattern: { regex: \"^/v(\\\\d+)/(.*)$\" }\n" \
	"                    substitution: \"/\\\\2?v=\\\\1&all=\\\\0\"\n" \
	"              - match: { prefix: \"/\" }\n"			\
	"                route:\n"					\
	"                  cluster: v1\n"				\
	"                  regex_rewrite:\n"				\
	"                    pattern: { regex: \"a*\" }\n"		\
	"                    substitution: \"x\"\n"			\
	"              - match: { prefix: \"/r\" }\n"			\
	"                redirect:\n"					\
	"                  https_redirect: true\n"			\
	"                  host_redirect: new.example\n"		\
	"                  port_redirect: 8443\n"			\
	"                  path_redirect: \"/n?fixed=1\"\n"		\
	"                  strip_query: true\n"			\
	"              - match: { prefix: \"/s\" }\n"			\
	"                redirect: { scheme_redirect: https, strip_query: true }\n"
#define CONF	HCM_HEAD ROUTES "  clusters:\n" CLUSTER_V1

static struct cd_conf *conf;
static char tmp[256];

static const struct cd_route *
route(size_t i)
{
	struct conf_diags d;

	if (conf == NULL) {
		memset(&d, 0, sizeof(d));
		conf = conf_load_buf("t.yaml", CONF, strlen(CONF), &d);
		if (conf == NULL)
			conf_diags_print(&d, "t.yaml", stderr);
		conf_diags_free(&d);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	return &conf->c_listener->l_vhosts[0].vh_routes[i];
}

/* The route's path rewrite of p, "" for none. */
static const char *
rewrite(size_t i, const char *p)
{
	static char out[256];
	const struct cd_route *rt = route(i);
	size_t n;

	n = wrk_rewrite_path(&rt->rt_match, rt->rt_rw.rw_prefix,
	    rt->rt_rw.rw_prefix_len, &rt->rt_rw.rw_regex, p, strlen(p), out,
	    sizeof(out) - 1, tmp, sizeof(tmp));
	CU_ASSERT_NOT_EQUAL_FATAL(n, WRK_RW_OVER);
	out[n] = '\0';
	return out;
}

static void
prefix_rewrite_replaces_what_matched(void)
{
	CU_ASSERT_STRING_EQUAL(rewrite(0, "/api/users?x=1"), "/users?x=1");
	CU_ASSERT_STRING_EQUAL(rewrite(1, "/exact?q"), "/e?q");
}

static void
regex_rewrite_keeps_the_query(void)
{
	CU_ASSERT_STRING_EQUAL(rewrite(2, "/v12/a/b?k=v"),
	    "/a/b?v=12&all=/v12/a/b?k=v");
}

static void
substitution_is_re2s_global_replace(void)
{
	const struct cd_route *rt = route(3);
	char out[64];
	size_t n;

	/* RE2: no empty match right where the last match ended */
	n = wrk_rewrite_sub(&rt->rt_rw.rw_regex, "baaa", 4, out, sizeof(out),
	    tmp, sizeof(tmp));
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(memcmp(out, "xbx", 3), 0);
	n = wrk_rewrite_sub(&rt->rt_rw.rw_regex, "", 0, out, sizeof(out),
	    tmp, sizeof(tmp));
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(wrk_rewrite_sub(&rt->rt_rw.rw_regex, "baaa", 4, out, 2,
	    tmp, sizeof(tmp)), WRK_RW_OVER);
	/* no rewrite configured */
	CU_ASSERT_EQUAL(wrk_rewrite_path(&route(5)->rt_match, NULL, 0, NULL,
	    "/x", 2, out, sizeof(out), tmp, sizeof(tmp)), 0);
}

/* The Location for route i, request path p, Host h, x-forwarded-proto. */
static const char *
location(const struct cd_redirect *rd, const char *p, const char *h,
    const char *proto)
{
	static char out[256];
	struct wrk_loc lc;
	size_t n;

	memset(&lc, 0, sizeof(lc));
	lc.lc_rd = rd;
	lc.lc_path = p;
	lc.lc_path_len = strlen(p);
	lc.lc_host = h;
	lc.lc_host_len = strlen(h);
	lc.lc_proto = proto;
	lc.lc_proto_len = strlen(proto);
	n = wrk_rewrite_location(&lc, out, sizeof(out) - 1);
	CU_ASSERT_NOT_EQUAL_FATAL(n, WRK_RW_OVER);
	out[n] = '\0';
	return out;
}

static void
location_is_envoys_new_uri(void)
{
	const struct cd_redirect *all = &route(4)->rt_redir;
	const struct cd_redirect *https = &route(5)->rt_redir;

	CU_ASSERT_EQUAL(all->rd_code, 301);
	/* the redirect path's own query wins over strip_query */
	CU_ASSERT_STRING_EQUAL(location(all, "/r/x?q=1", "a.example:80",
	    "http"), "https://new.example:8443/n?fixed=1");
	/* the scheme changes: the old scheme's default port goes */
	CU_ASSERT_STRING_EQUAL(location(https, "/s/x?q=1", "a.example:80",
	    "http"), "https://a.example/s/x");
	CU_ASSERT_STRING_EQUAL(location(https, "/s", "a.example:8080",
	    "http"), "https://a.example:8080/s");
	CU_ASSERT_STRING_EQUAL(location(https, "/s", "[::1]:80", "http"),
	    "https://[::1]/s");
	/* a direct response's: the request's own URL */
	CU_ASSERT_STRING_EQUAL(location(NULL, "/moved?a=b", "a.example:80",
	    "http"), "http://a.example:80/moved?a=b");
	CU_ASSERT_STRING_EQUAL(location(NULL, "/m", "b.example", "https"),
	    "https://b.example/m");
	conf_free(conf);
	conf = NULL;
}

static CU_TestInfo tests[] = {
	{ "prefix_rewrite_replaces_what_matched",
	    prefix_rewrite_replaces_what_matched },
	{ "regex_rewrite_keeps_the_query", regex_rewrite_keeps_the_query },
	{ "substitution_is_re2s_global_replace",
	    substitution_is_re2s_global_replace },
	{ "location_is_envoys_new_uri", location_is_envoys_new_uri },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("worker/rewrite", tests)
