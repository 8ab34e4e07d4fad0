/*
 * Unit tests for the HTTP protocol options of the loader: the connection
 * manager's common_http_protocol_options (shared/conf_listener.c) and a
 * cluster's, in typed_extension_protocol_options or in the deprecated
 * field (shared/conf_cluster.c): max_requests_per_connection on both
 * sides, its bounds, the typed options' required protocol choice, and
 * the /config_dump JSON they render.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

#define SEC	CD_NS_PER_S

/* Lines 1-17 HCM_HEAD, 18-19 the route, 20-24 cluster v1: valid. */
#define BASE HCM_HEAD							\
	"              - match: { prefix: \"/\" }\n"			\
	"                route: { cluster: v1 }\n"			\
	"  clusters:\n"							\
	CLUSTER_V1

#define UPSTREAM_HTTP	"envoy.extensions.upstreams.http.v3." \
	"HttpProtocolOptions"
/* From line 25: cluster v1's typed options, then the caller's lines. */
#define TYPED(lines)							\
	"    typed_extension_protocol_options:\n"			\
	"      " UPSTREAM_HTTP ":\n"					\
	"        \"@type\": type.googleapis.com/" UPSTREAM_HTTP "\n"	\
	lines
#define TYPED_PATH	"static_resources.clusters[0]." \
	"typed_extension_protocol_options." UPSTREAM_HTTP

/* yaml loads cleanly or not at all (then *err gets the first error). */
static struct cd_conf *
load(const char *yaml, char *err, size_t len, int *line, int *col)
{
	struct conf_diags d;
	struct cd_conf *c;

	memset(&d, 0, sizeof(d));
	c = conf_load_buf("t.yaml", yaml, strlen(yaml), &d);
	err[0] = '\0';
	*line = *col = 0;
	if (d.cd_n > 0) {
		strlcpy(err, d.cd_v[0].d_text, len);
		*line = d.cd_v[0].d_line;
		*col = d.cd_v[0].d_col;
	}
	if (c != NULL && d.cd_n != 0) {
		conf_diags_print(&d, "t.yaml", stderr);
		CU_FAIL("diagnostics from a config that loaded");
	}
	conf_diags_free(&d);
	return c;
}

static struct cd_conf *
load_ok(const char *yaml)
{
	char err[512];
	struct cd_conf *c;
	int line, col;

	c = load(yaml, err, sizeof(err), &line, &col);
	if (c == NULL)
		fprintf(stderr, "\nt.yaml:%d:%d: %s\n", line, col, err);
	CU_ASSERT_PTR_NOT_NULL(c);
	return c;
}

/* yaml fails, its first error at line:col saying path: text. */
static void
expect_error(const char *yaml, int line, int col, const char *path,
    const char *text)
{
	char err[512], want[512];
	struct cd_conf *c;
	int l, k;

	c = load(yaml, err, sizeof(err), &l, &k);
	snprintf(want, sizeof(want), "%s: %s", path, text);
	CU_ASSERT_PTR_NULL(c);
	if (l != line || k != col || strcmp(err, want) != 0)
		fprintf(stderr, "\nwant t.yaml:%d:%d: %s\n"
		    " got t.yaml:%d:%d: %s\n", line, col, want, l, k, err);
	CU_ASSERT_EQUAL(l, line);
	CU_ASSERT_EQUAL(k, col);
	CU_ASSERT_STRING_EQUAL(err, want);
	conf_free(c);
}

static void
max_requests_default_to_no_limit(void)
{
	struct cd_conf *c = load_ok(BASE);

	if (c == NULL)
		return;
	CU_ASSERT_EQUAL(c->c_listener->l_max_requests_per_connection, 0);
	CU_ASSERT_EQUAL(c->c_clusters[0].cl_max_requests_per_connection, 0);
	CU_ASSERT_EQUAL(c->c_clusters[0].cl_idle_timeout, 3600 * SEC);
	CU_ASSERT_PTR_NULL(strstr(c->c_json_bootstrap,
	    "max_requests_per_connection"));
	conf_free(c);
}

static void
hcm_max_requests_per_connection(void)
{
	static const char yaml[] = HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v1 }\n"
	    "          common_http_protocol_options: { idle_timeout: 60s, "
	    "max_requests_per_connection: 3 }\n"
	    "  clusters: [ { name: v1 } ]\n";
	struct cd_conf *c = load_ok(yaml);

	if (c == NULL)
		return;
	CU_ASSERT_EQUAL(c->c_listener->l_max_requests_per_connection, 3);
	CU_ASSERT_EQUAL(c->c_listener->l_idle_timeout, 60 * SEC);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_bootstrap,
	    "\"common_http_protocol_options\":{\"idle_timeout\":\"60s\","
	    "\"max_requests_per_connection\":3}"));
	conf_free(c);

	expect_error(HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v1 }\n"
	    "          common_http_protocol_options: { "
	    "max_requests_per_connection: -1 }\n"
	    "  clusters: [ { name: v1 } ]\n", 20, 72,
	    "static_resources.listeners[0].filter_chains[0].filters[0]."
	    "typed_config.common_http_protocol_options."
	    "max_requests_per_connection", "-1 is out of range: must be "
	    "0..4294967295");
}

static void
cluster_typed_protocol_options(void)
{
	struct cd_conf *c;

	c = load_ok(BASE TYPED(
	    "        common_http_protocol_options: { idle_timeout: 30s, "
	    "max_requests_per_connection: 2 }\n"
	    "        explicit_http_config: { http_protocol_options: {} }\n"));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->c_clusters[0].cl_max_requests_per_connection,
		    2);
		CU_ASSERT_EQUAL(c->c_clusters[0].cl_idle_timeout, 30 * SEC);
		/* as Envoy's /config_dump shows it */
		CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_clusters[0],
		    "\"typed_extension_protocol_options\":{\"" UPSTREAM_HTTP
		    "\":{\"@type\":\"type.googleapis.com/" UPSTREAM_HTTP "\","
		    "\"common_http_protocol_options\":{\"idle_timeout\":"
		    "\"30s\",\"max_requests_per_connection\":2},"
		    "\"explicit_http_config\":{\"http_protocol_options\":{}}"
		    "}}"));
		conf_free(c);
	}
	/* the downstream protocol is HTTP/1.1 too */
	c = load_ok(BASE TYPED(
	    "        common_http_protocol_options: { "
	    "max_requests_per_connection: 1 }\n"
	    "        use_downstream_protocol_config: {}\n"));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->c_clusters[0].cl_max_requests_per_connection,
		    1);
		CU_ASSERT_EQUAL(c->c_clusters[0].cl_idle_timeout, 3600 * SEC);
		conf_free(c);
	}
	/* the deprecated place still works alone */
	c = load_ok(BASE "    common_http_protocol_options: { "
	    "max_requests_per_connection: 5 }\n");
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->c_clusters[0].cl_max_requests_per_connection,
		    5);
		conf_free(c);
	}
}

static void
cluster_typed_protocol_options_errors(void)
{
	/* Envoy requires the protocol choice */
	expect_error(BASE TYPED(
	    "        common_http_protocol_options: { "
	    "max_requests_per_connection: 2 }\n"), 27, 9, TYPED_PATH,
	    "one of explicit_http_config, use_downstream_protocol_config is "
	    "required");
	expect_error(BASE TYPED("        auto_config: {}\n"), 28, 9,
	    TYPED_PATH ".auto_config", "not supported by canaryd: canaryd "
	    "speaks HTTP/1.1 upstream; remove it (http_protocol_options is the "
	    "one protocol)");
	expect_error(BASE TYPED(
	    "        explicit_http_config: { http2_protocol_options: {} }\n"),
	    28, 33, TYPED_PATH ".explicit_http_config.http2_protocol_options",
	    "not supported by canaryd: canaryd speaks HTTP/1.1 upstream; "
	    "remove it (http_protocol_options is the one protocol)");
	/* another extension */
	expect_error(BASE "    typed_extension_protocol_options:\n"
	    "      envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions: {}\n",
	    26, 7, "static_resources.clusters[0]."
	    "typed_extension_protocol_options.envoy.extensions.upstreams."
	    "tcp.v3.TcpProtocolOptions",
	    "not supported by canaryd: canaryd proxies HTTP/1.1, not TCP; "
	    "remove it");
	/* both places: Envoy would read only the typed one */
	expect_error(BASE
	    "    common_http_protocol_options: { idle_timeout: 10s }\n"
	    TYPED("        explicit_http_config: { http_protocol_options: "
	    "{} }\n"), 25, 5, "static_resources.clusters[0]."
	    "common_http_protocol_options", "deprecated: set it in "
	    "typed_extension_protocol_options, which Envoy reads instead of "
	    "this");
	expect_error(BASE "    common_http_protocol_options: { "
	    "max_requests_per_connection: 4294967296 }\n", 25, 66,
	    "static_resources.clusters[0].common_http_protocol_options."
	    "max_requests_per_connection", "4294967296 is out of range: "
	    "must be 0..4294967295");
}

static CU_TestInfo tests[] = {
	{ "max_requests_default_to_no_limit",
	    max_requests_default_to_no_limit },
	{ "hcm_max_requests_per_connection", hcm_max_requests_per_connection },
	{ "cluster_typed_protocol_options", cluster_typed_protocol_options },
	{ "cluster_typed_protocol_options_errors",
	    cluster_typed_protocol_options_errors },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/conf_protocol", tests);
