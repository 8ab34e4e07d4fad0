/*
 * Unit tests for the loader's header mutations, rewrites and redirects
 * (shared/conf_header.c, conf_rewrite.c and their rows in conf_route.c):
 * the lists at every level and the order each route meets them, the
 * append actions, values compiled as formats, and every refusal with
 * its place: pseudo-headers, Host and the framing headers, append beside
 * append_action, a bad format, two path rewrites, a substitution naming a
 * group the pattern lacks, a lazy repetition; and a direct response's
 * body from each DataSource (a file, base64, the environment).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

#define R	"              "	/* a route list item's indent */
#define CL	"  clusters:\n" CLUSTER_V1

/* The first diagnostic of loading yaml ("" for none), its line, and
 * the configuration when it loaded (the caller frees it). */
static struct {
	char		 text[512];
	int		 line;
	int		 warning;
	struct cd_conf	*conf;
} got;

static void
try(const char *yaml)
{
	struct conf_diags d;

	memset(&d, 0, sizeof(d));
	conf_free(got.conf);
	memset(&got, 0, sizeof(got));
	got.conf = conf_load_buf("t.yaml", yaml, strlen(yaml), &d);
	if (d.cd_n > 0) {
		strlcpy(got.text, d.cd_v[0].d_text, sizeof(got.text));
		got.line = d.cd_v[0].d_line;
		got.warning = d.cd_v[0].d_warning;
	}
	conf_diags_free(&d);
}

/* yaml is refused; its first error is on line and holds part. */
static void
refused(const char *yaml, int line, const char *part)
{
	try(yaml);
	if (got.conf != NULL || got.line != line ||
	    strstr(got.text, part) == NULL)
		fprintf(stderr, "\nwanted line %d \"%s\", got line %d: %s\n",
		    line, part, got.line, got.text);
	CU_ASSERT_PTR_NULL(got.conf);
	CU_ASSERT_EQUAL(got.line, line);
	CU_ASSERT_PTR_NOT_NULL(strstr(got.text, part));
}

static const struct cd_route *
route(size_t i)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(got.conf);
	return &got.conf->c_listener->l_vhosts[0].vh_routes[i];
}

#define ROUTE_ADD(x)							\
	R "- match: { prefix: \"/\" }\n"				\
	R "  route: { cluster: v1 }\n"					\
	R "  request_headers_to_add:\n"				\
	R "  - header: { key: " x " }\n"

/* Lists at three levels; most: "most_specific_header_mutations_wins"
 * line, or "". */
static void
three_levels(const char *most)
{
	static const char *const vh = "            virtual_hosts:\n";
	const char *p = strstr(HCM_HEAD, vh);
	char yaml[4096];

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	/* the route configuration's lists go before its virtual_hosts */
	snprintf(yaml, sizeof(yaml), "%.*s%s"
	    "            response_headers_to_remove: [x-powered-by]\n"
	    "            request_headers_to_add:\n"
	    "            - header: { key: X-Level, value: global }\n"
	    "%s"
	    "              request_headers_to_add:\n"
	    "              - header: { key: x-level, value: vhost }\n"
	    "                append_action: OVERWRITE_IF_EXISTS_OR_ADD\n"
	    "              routes:\n"
	    R "- match: { prefix: \"/\" }\n"
	    R "  route: { cluster: v1 }\n"
	    R "  response_headers_to_add:\n"
	    R "  - header: { key: x-peer, value: "
	    "\"%%DOWNSTREAM_REMOTE_ADDRESS%% %%REQ(x-a)%%\" }\n"
	    R "    keep_empty_value: true\n"
	    CL, (int)(p - HCM_HEAD), HCM_HEAD, most,
	    "            virtual_hosts:\n"
	    "            - name: app\n"
	    "              domains: [\"*\"]\n");
	try(yaml);
	CU_ASSERT_STRING_EQUAL(got.text, "");
}

static void
levels_in_envoys_order(void)
{
	const struct cd_route *rt;
	const struct cd_listener *l;

	three_levels("");
	rt = route(0);
	l = got.conf->c_listener;
	CU_ASSERT_STRING_EQUAL(l->l_hdrs.hm_req.ho_add[0].ha_name, "x-level");
	CU_ASSERT_EQUAL(l->l_hdrs.hm_resp.ho_nremove, 1);
	CU_ASSERT_EQUAL(l->l_vhosts[0].vh_hdrs.hm_req.ho_add[0].ha_action,
	    CD_HA_OVERWRITE_OR_ADD);
	CU_ASSERT(rt->rt_hdrs.hm_resp.ho_add[0].ha_keep_empty);
	/* most specific first: a later level's overwrite wins */
	CU_ASSERT_PTR_EQUAL(rt->rt_hm_levels[0], &rt->rt_hdrs);
	CU_ASSERT_PTR_EQUAL(rt->rt_hm_levels[1], &l->l_vhosts[0].vh_hdrs);
	CU_ASSERT_PTR_EQUAL(rt->rt_hm_levels[2], &l->l_hdrs);
	CU_ASSERT_EQUAL(rt->rt_hm_flags, CD_RT_HM_REQ | CD_RT_HM_RESP);
	CU_ASSERT_EQUAL(rt->rt_hm_needs, ALOG_N_PEER | ALOG_N_REQ);
	/* with most_specific_header_mutations_wins the other way round */
	three_levels("            most_specific_header_mutations_wins: "
	    "true\n");
	rt = route(0);
	CU_ASSERT_PTR_EQUAL(rt->rt_hm_levels[0], &got.conf->c_listener->l_hdrs);
	CU_ASSERT_PTR_EQUAL(rt->rt_hm_levels[2], &rt->rt_hdrs);
}

static void
weighted_clusters_have_their_own(void)
{
	try(HCM_HEAD
	    R "- match: { prefix: \"/\" }\n"
	    R "  route:\n"
	    R "    weighted_clusters:\n"
	    R "      clusters:\n"
	    R "      - name: v1\n"
	    R "        weight: 1\n"
	    R "        host_rewrite_literal: v1.internal\n"
	    R "        response_headers_to_add:\n"
	    R "        - header: { key: x-version, value: v1 }\n"
	    CL);
	CU_ASSERT_STRING_EQUAL(got.text, "");
	CU_ASSERT_EQUAL(route(0)->rt_hm_flags, CD_RT_HM_RESP | CD_RT_HM_WC |
	    CD_RT_HM_REWRITE);
	CU_ASSERT_STRING_EQUAL(route(0)->rt_wc[0].wc_host, "v1.internal");
}

static void
append_is_deprecated_and_exclusive(void)
{
	try(HCM_HEAD ROUTE_ADD("a, value: b") R "    append: false\n" CL);
	CU_ASSERT(got.warning);
	CU_ASSERT_EQUAL(got.line, 22);
	CU_ASSERT_PTR_NOT_NULL(strstr(got.text, "deprecated: append: false is "
	    "append_action: OVERWRITE_IF_EXISTS_OR_ADD"));
	CU_ASSERT_EQUAL(route(0)->rt_hdrs.hm_req.ho_add[0].ha_action,
	    CD_HA_OVERWRITE_OR_ADD);
	refused(HCM_HEAD ROUTE_ADD("a, value: b") R "    append: true\n"
	    R "    append_action: ADD_IF_ABSENT\n" CL, 22,
	    "both append and append_action are set; keep append_action");
}

static void
headers_canaryd_owns_are_refused(void)
{
	refused(HCM_HEAD ROUTE_ADD("Host, value: x") CL, 21,
	    "header \"host\" may not be changed: rewrite Host with");
	refused(HCM_HEAD ROUTE_ADD("\":path\", value: /x") CL, 21,
	    "pseudo-headers may not be modified");
	refused(HCM_HEAD ROUTE_ADD("content-length, value: \"1\"") CL, 21,
	    "canaryd frames the body itself");
	refused(HCM_HEAD ROUTE_ADD("\"a b\", value: x") CL, 21,
	    "want an HTTP token");
	refused(HCM_HEAD R "- match: { prefix: \"/\" }\n"
	    R "  route: { cluster: v1 }\n"
	    R "  response_headers_to_remove: [x-ok, Transfer-Encoding]\n" CL,
	    20, "header \"transfer-encoding\" may not be changed");
	refused(HCM_HEAD ROUTE_ADD("a, raw_value: eA==") CL, 21,
	    "write it in value");
}

static void
values_are_formats(void)
{
	refused(HCM_HEAD ROUTE_ADD("a, value: \"50%\"") CL, 21,
	    "bad value at byte 2: a '%' starts no command; write %% for a "
	    "literal %");
	refused(HCM_HEAD ROUTE_ADD("a, value: \"%UPSTREAM_PEER_CERT%\"") CL,
	    21, "no TLS");
	try(HCM_HEAD ROUTE_ADD("a, value: \"50%% %START_TIME(%s)%\"") CL);
	CU_ASSERT_STRING_EQUAL(got.text, "");
	CU_ASSERT_EQUAL(route(0)->rt_hdrs.hm_req.ho_add[0].ha_fmt.f_ntoks, 2);
	/* /config_dump shows the value as written */
	CU_ASSERT_PTR_NOT_NULL(strstr(got.conf->c_json_route_config,
	    "\"request_headers_to_add\":[{\"header\":{\"key\":\"a\","
	    "\"value\":\"50%% %START_TIME(%s)%\"}}]"));
}

#define ACTION(x)							\
	R "- match: { prefix: \"/a\" }\n"				\
	R "  route: { cluster: v1, " x " }\n"

static void
rewrites_are_checked(void)
{
	try(HCM_HEAD ACTION("prefix_rewrite: \"/b\", auto_host_rewrite: true, "
	    "append_x_forwarded_host: true") CL);
	CU_ASSERT_STRING_EQUAL(got.text, "");
	CU_ASSERT_STRING_EQUAL(route(0)->rt_rw.rw_prefix, "/b");
	CU_ASSERT(route(0)->rt_rw.rw_auto_host);
	CU_ASSERT_EQUAL(route(0)->rt_hm_flags, CD_RT_HM_REWRITE);
	refused(HCM_HEAD ACTION("prefix_rewrite: /b, regex_rewrite: { pattern: "
	    "{ regex: a }, substitution: b }") CL, 19,
	    "only one of prefix_rewrite and regex_rewrite may be set");
	refused(HCM_HEAD ACTION("host_rewrite_literal: a, host_rewrite_header: "
	    "b") CL, 19, "only one of host_rewrite_literal, auto_host_rewrite, "
	    "host_rewrite_header, host_rewrite_path_regex may be set");
	refused(HCM_HEAD ACTION("regex_rewrite: { pattern: { regex: \"(a)(b)\" "
	    "}, substitution: \"\\\\3\" }") CL, 19,
	    "\\3 names a group the pattern does not have (it has 2)");
	refused(HCM_HEAD ACTION("regex_rewrite: { pattern: { regex: \"a\" }, "
	    "substitution: \"\\\\x\" }") CL, 19, "a backslash takes a group "
	    "number");
	refused(HCM_HEAD ACTION("regex_rewrite: { pattern: { regex: \"/.*?/\" "
	    "}, substitution: x }") CL, 19, "a lazy repetition");
	/* (?:...) groups do not count: \2 is the second capturing one */
	try(HCM_HEAD ACTION("regex_rewrite: { pattern: { regex: "
	    "\"(?:x)(a)(b)\" }, substitution: \"\\\\2\" }") CL);
	CU_ASSERT_STRING_EQUAL(got.text, "");
	CU_ASSERT_EQUAL(route(0)->rt_rw.rw_regex.rs_ngroups, 2);
	CU_ASSERT_EQUAL(route(0)->rt_rw.rw_regex.rs_map[2], 3);
}

static void
redirects_load(void)
{
	try(HCM_HEAD R "- match: { prefix: \"/\" }\n"
	    R "  redirect: { https_redirect: true, response_code: "
	    "permanent_redirect, strip_query: true }\n" CL);
	CU_ASSERT_STRING_EQUAL(got.text, "");
	CU_ASSERT_EQUAL(route(0)->rt_action, CD_RA_REDIRECT);
	CU_ASSERT_EQUAL(route(0)->rt_redir.rd_code, 308);
	CU_ASSERT_STRING_EQUAL(route(0)->rt_redir.rd_scheme, "https");
	refused(HCM_HEAD R "- match: { prefix: \"/\" }\n"
	    R "  redirect: { path_redirect: /a, prefix_rewrite: /b }\n" CL,
	    19, "only one of path_redirect, prefix_rewrite, regex_rewrite");
	refused(HCM_HEAD R "- match: { prefix: \"/\" }\n"
	    R "  redirect: { host_redirect: a }\n"
	    R "  route: { cluster: v1 }\n" CL, 19,
	    "only one of route, redirect, direct_response");
	conf_free(got.conf);
	got.conf = NULL;
}

#define DIRECT(x)							\
	R "- match: { prefix: \"/\" }\n"				\
	R "  direct_response: { status: 200, body: { " x " } }\n"

static void
direct_bodies_from_every_source(void)
{
	char path[] = "/tmp/conf_direct_XXXXXX", yaml[4096];
	int fd;

	CU_ASSERT_FATAL((fd = mkstemp(path)) != -1);
	CU_ASSERT_EQUAL(write(fd, "from\0file", 9), 9);
	close(fd);
	snprintf(yaml, sizeof(yaml), "%s" DIRECT("filename: %s") "%s",
	    HCM_HEAD, path, CL);
	try(yaml);
	CU_ASSERT_STRING_EQUAL(got.text, "");
	CU_ASSERT_EQUAL(route(0)->rt_direct_body_len, 9);
	CU_ASSERT_EQUAL(memcmp(route(0)->rt_direct_body, "from\0file", 9), 0);
	unlink(path);
	refused(yaml, 19, "cannot open");
	refused(HCM_HEAD DIRECT("filename: /tmp") CL, 19,
	    "want a regular file of at most 1048576 bytes");
	/* base64, standard or URL-safe, padded or not */
	try(HCM_HEAD DIRECT("inline_bytes: \"+/+/\"") CL);
	CU_ASSERT_STRING_EQUAL(got.text, "");
	CU_ASSERT_EQUAL(route(0)->rt_direct_body_len, 3);
	CU_ASSERT_STRING_EQUAL(route(0)->rt_direct_body, "\xfb\xff\xbf");
	try(HCM_HEAD DIRECT("inline_bytes: \"-_-_aGk\"") CL);
	CU_ASSERT_STRING_EQUAL(route(0)->rt_direct_body, "\xfb\xff\xbfhi");
	try(HCM_HEAD DIRECT("inline_bytes: \"aGVsbG8=\"") CL);
	CU_ASSERT_STRING_EQUAL(route(0)->rt_direct_body, "hello");
	refused(HCM_HEAD DIRECT("inline_bytes: \"aGV*bG8=\"") CL, 19,
	    "not base64 (at byte 3); write a text body in inline_string");
	refused(HCM_HEAD DIRECT("inline_bytes: \"aGVsb\"") CL, 19,
	    "not base64 (at byte 5)");
	CU_ASSERT_EQUAL_FATAL(setenv("CONF_DIRECT_TEST", "from env", 1), 0);
	try(HCM_HEAD DIRECT("environment_variable: CONF_DIRECT_TEST") CL);
	CU_ASSERT_STRING_EQUAL(got.text, "");
	CU_ASSERT_STRING_EQUAL(route(0)->rt_direct_body, "from env");
	unsetenv("CONF_DIRECT_TEST");
	refused(HCM_HEAD DIRECT("environment_variable: CONF_DIRECT_TEST") CL,
	    19, "environment variable CONF_DIRECT_TEST is not set");
	refused(HCM_HEAD DIRECT("inline_string: a, filename: /etc/hostname") CL,
	    19, "only one of");
	refused(HCM_HEAD DIRECT("watched_directory: { path: /tmp }") CL, 19,
	    "send SIGHUP after changing the file");
	conf_free(got.conf);
	got.conf = NULL;
}

static CU_TestInfo tests[] = {
	{ "levels_in_envoys_order", levels_in_envoys_order },
	{ "weighted_clusters_have_their_own",
	    weighted_clusters_have_their_own },
	{ "append_is_deprecated_and_exclusive",
	    append_is_deprecated_and_exclusive },
	{ "headers_canaryd_owns_are_refused",
	    headers_canaryd_owns_are_refused },
	{ "values_are_formats", values_are_formats },
	{ "rewrites_are_checked", rewrites_are_checked },
	{ "redirects_load", redirects_load },
	{ "direct_bodies_from_every_source", direct_bodies_from_every_source },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_header", tests)
