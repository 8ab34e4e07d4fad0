/*
 * Unit tests for the HTTP filters before the router (shared/conf_filter.c,
 * shared/conf_compressor.c): each filter's defaults and values, the
 * overrides of typed_per_filter_config and what applies on each route,
 * local_ratelimit's bucket numbering, the refusals (each at its
 * file:line:column, each with a reason and what to do instead), and the
 * HTTP FILTERS section of canaryd.yaml(5): every field the filters' messages
 * take has its row there, and every row names a field they take.
 * Also the shared-memory token bucket (shared/shm.c) and the compressor's
 * Accept-Encoding and Content-Type decisions (worker/gzip.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "shared/shm.h"
#include "test/unit/conf_check.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"
#include "worker/gzip.h"

#define MAN5	"man/canaryd.yaml.5"
#define PFX	"type.googleapis.com/envoy.extensions.filters.http."
#define LRL_T	PFX "local_ratelimit.v3.LocalRateLimit"
#define FAULT_T	PFX "fault.v3.HTTPFault"
#define CORS_T	PFX "cors.v3.Cors"
#define POLICY_T PFX "cors.v3.CorsPolicy"
#define CMP_T	PFX "compressor.v3.Compressor"
#define GZIP_T	"type.googleapis.com/envoy.extensions.compression.gzip." \
	"compressor.v3.Gzip"

/*
 * Lines 1-9: a listener whose chain is the caller's filters (from line
 * 10, items indented 10 spaces) then the router; ROUTES follow.
 */
#define HEAD								\
	"static_resources:\n"						\
	"  listeners:\n"						\
	"  - address: { socket_address: { address: 127.0.0.1, port_value: " \
	    "10000 } }\n"						\
	"    filter_chains:\n"						\
	"    - filters:\n"						\
	"      - name: hcm\n"						\
	"        typed_config:\n"					\
	"          \"@type\": " HCM_T "\n"				\
	"          http_filters:\n"
#define ROUTER								\
	"          - name: envoy.filters.http.router\n"			\
	"            typed_config: { \"@type\": " ROUTER_T " }\n"	\
	"          stat_prefix: ingress\n"				\
	"          route_config:\n"					\
	"            virtual_hosts:\n"					\
	"            - name: app\n"					\
	"              domains: [\"*\"]\n"
#define TAIL								\
	"  clusters:\n"							\
	CLUSTER_V1

#define ROUTE(prefix, extra)						\
	"              - match: { prefix: \"" prefix "\" }\n"		\
	"                route: { cluster: v1 }\n" extra

/* The load fails with an error at line:col holding text and a "do
 * instead" part after "; " or ": ". */
static void
load_err(const char *yaml, int line, int col, const char *text)
{
	struct conf_diags d;
	struct cd_conf *c = ut_load(yaml, &d);
	size_t i;
	int found = 0;

	CU_ASSERT_PTR_NULL(c);
	for (i = 0; i < d.cd_n; i++)
		if (d.cd_v[i].d_line == line && d.cd_v[i].d_col == col &&
		    strstr(d.cd_v[i].d_text, text) != NULL)
			found = 1;
	if (!found) {
		fprintf(stderr, "\nwanted %d:%d: ...%s\n", line, col, text);
		conf_diags_print(&d, "t.yaml", stderr);
	}
	CU_ASSERT(found);
	conf_free(c);
	conf_diags_free(&d);
}

static const struct cd_route *
route(const struct cd_conf *c, size_t i)
{
	return &c->c_listener->l_vhosts[0].vh_routes[i];
}

/* ---- local_ratelimit --------------------------------------------------- */

#define LRL_FILTER(bucket)						\
	"          - name: envoy.filters.http.local_ratelimit\n"	\
	"            typed_config:\n"					\
	"              \"@type\": " LRL_T "\n"				\
	"              stat_prefix: lrl\n" bucket

static void
lrl_defaults_values_and_buckets(void)
{
	const struct cd_lrl *lr;
	struct cd_conf *c;

	c = ut_load_ok(HEAD LRL_FILTER(
	    "              token_bucket: { max_tokens: 10, fill_interval: 1s }\n")
	    ROUTER "              typed_per_filter_config:\n"
	    "                envoy.filters.http.local_ratelimit:\n"
	    "                  \"@type\": " LRL_T "\n"
	    "                  stat_prefix: vh\n"
	    "                  token_bucket: { max_tokens: 3, tokens_per_fill: "
	    "2, fill_interval: 0.05s }\n"
	    "                  filter_enabled: { default_value: { numerator: "
	    "5, denominator: TEN_THOUSAND }, runtime_key: k }\n"
	    "                  status: { code: 503 }\n"
	    "              routes:\n" ROUTE("/a", "") ROUTE("/b", "") TAIL);
	if (c == NULL)
		return;
	lr = c->c_listener->l_hf.hf_lrl;
	CU_ASSERT_EQUAL(lr->lr_status, 429);
	CU_ASSERT_EQUAL(lr->lr_tb.tb_tokens_per_fill, 1);
	CU_ASSERT_EQUAL(lr->lr_enabled.pc_num, 0);	/* unset: 0 % */
	CU_ASSERT(lr->lr_index == 0 || lr->lr_index == 1);
	/* the virtual host's bucket, shared by its two routes */
	CU_ASSERT_EQUAL(c->c_nlrl, 2);
	lr = route(c, 0)->rt_hf->hf_lrl;
	CU_ASSERT_PTR_EQUAL(lr, route(c, 1)->rt_hf->hf_lrl);
	CU_ASSERT_STRING_EQUAL(lr->lr_stat_prefix, "vh");
	CU_ASSERT_EQUAL(lr->lr_index, 1 - c->c_listener->l_hf.hf_lrl->lr_index);
	CU_ASSERT_EQUAL(lr->lr_status, 503);
	CU_ASSERT_EQUAL(lr->lr_tb.tb_max_tokens, 3);
	CU_ASSERT_EQUAL(lr->lr_tb.tb_tokens_per_fill, 2);
	CU_ASSERT_EQUAL(lr->lr_enabled.pc_num, 5);
	CU_ASSERT_EQUAL(lr->lr_enabled.pc_den, 10000);
	CU_ASSERT(route(c, 0)->rt_hf->hf_on & (1u << CD_HF_LRL));
	CU_ASSERT(strstr(c->c_json_listener, "\"stat_prefix\":\"vh\"") !=
	    NULL);
	conf_free(c);

	/* a filter without a bucket limits nothing */
	c = ut_load_ok(HEAD LRL_FILTER("") ROUTER "              routes:\n"
	    ROUTE("/", "") TAIL);
	if (c != NULL)
		CU_ASSERT_PTR_NULL(route(c, 0)->rt_hf);
	conf_free(c);
}

static void
lrl_refusals_say_where_and_what_to_do(void)
{
	load_err(HEAD LRL_FILTER(
	    "              token_bucket: { max_tokens: 1, fill_interval: 0.01s }\n")
	    ROUTER "              routes:\n" ROUTE("/", "") TAIL, 14, 61,
	    "fill_interval must be at least 50ms, as in Envoy; raise it");
	load_err(HEAD LRL_FILTER("              descriptors: []\n") ROUTER
	    "              routes:\n" ROUTE("/", "") TAIL, 14, 15,
	    "descriptors: not supported by canaryd: canaryd's local rate "
	    "limit has one token bucket per filter and per route override, "
	    "no descriptors; remove it");
	load_err(HEAD LRL_FILTER("              token_bucket: { max_tokens: 0,"
	    " fill_interval: 1s }\n") ROUTER "              routes:\n"
	    ROUTE("/", "") TAIL, 14, 43, "max_tokens: 0 is out of range");
	load_err(HEAD LRL_FILTER("              local_rate_limit_per_downstream"
	    "_connection: true\n") ROUTER "              routes:\n"
	    ROUTE("/", "") TAIL, 14, 59, "shared by every connection and "
	    "worker; remove it");
}

static void
lrl_buckets_are_many(void)
{
	enum { N = 1000 };
	char *yaml, *p;
	size_t i, cap = 512 * 1024;
	struct conf_diags d;
	struct cd_conf *c;
	bool seen[N + 1];

	yaml = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(yaml);
	p = yaml + snprintf(yaml, cap, "%s", HEAD LRL_FILTER(
	    "              token_bucket: { max_tokens: 1, fill_interval: 1s }\n")
	    ROUTER "              routes:\n");
	for (i = 0; i < N; i++)
		p += snprintf(p, cap - (size_t)(p - yaml),
		    "              - match: { path: \"/%zu\" }\n"
		    "                route: { cluster: v1 }\n"
		    "                typed_per_filter_config:\n"
		    "                  l:\n"
		    "                    \"@type\": " LRL_T "\n"
		    "                    stat_prefix: r\n"
		    "                    token_bucket: { max_tokens: 1, "
		    "fill_interval: 1s }\n", i);
	snprintf(p, cap - (size_t)(p - yaml), "%s", TAIL);
	CU_ASSERT_FATAL((size_t)(p - yaml) < cap - 64);
	c = ut_load(yaml, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(d.cd_n, 0);
	/* the filter's bucket and one per override, each its own index */
	CU_ASSERT_EQUAL_FATAL(c->c_nlrl, N + 1);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < c->c_nlrl; i++) {
		CU_ASSERT_EQUAL(c->c_lrl[i]->lr_index, (int)i);
		CU_ASSERT(!seen[c->c_lrl[i]->lr_index]);
		seen[c->c_lrl[i]->lr_index] = true;
	}
	conf_free(c);
	conf_diags_free(&d);
	free(yaml);
}

/* ---- fault, cors, order ------------------------------------------------- */

static void
fault_values_and_route_overrides(void)
{
	const struct cd_fault *ft;
	struct cd_conf *c;

	c = ut_load_ok(HEAD
	    "          - name: envoy.filters.http.fault\n"
	    "            typed_config:\n"
	    "              \"@type\": " FAULT_T "\n"
	    "              max_active_faults: 7\n"
	    "              abort: { header_abort: {}, percentage: { numerator: 100 } }\n"
	    "              delay: { fixed_delay: 0.25s }\n"
	    ROUTER "              routes:\n"
	    ROUTE("/a", "                typed_per_filter_config:\n"
	    "                  envoy.filters.http.fault:\n"
	    "                    \"@type\": " FAULT_T "\n"
	    "                    abort: { http_status: 418, percentage: { "
	    "numerator: 50, denominator: MILLION } }\n")
	    ROUTE("/b", "") TAIL);
	if (c == NULL)
		return;
	ft = route(c, 1)->rt_hf->hf_fault;
	CU_ASSERT(ft->ft_abort && ft->ft_abort_status == 0);
	CU_ASSERT_EQUAL(ft->ft_abort_pct.pc_den, 100);
	CU_ASSERT(ft->ft_delay && ft->ft_delay_ns == 250 * CD_NS_PER_MS);
	CU_ASSERT_EQUAL(ft->ft_delay_pct.pc_num, 0);	/* unset: 0 % */
	CU_ASSERT(ft->ft_has_max && ft->ft_max_active == 7);
	ft = route(c, 0)->rt_hf->hf_fault;
	CU_ASSERT(ft->ft_abort && ft->ft_abort_status == 418 && !ft->ft_delay);
	CU_ASSERT_EQUAL(ft->ft_abort_pct.pc_num, 50);
	CU_ASSERT_EQUAL(ft->ft_abort_pct.pc_den, 1000000);
	CU_ASSERT(!ft->ft_has_max);
	conf_free(c);
	load_err(HEAD
	    "          - name: envoy.filters.http.fault\n"
	    "            typed_config:\n"
	    "              \"@type\": " FAULT_T "\n"
	    "              upstream_cluster: v1\n"
	    ROUTER "              routes:\n" ROUTE("/", "") TAIL, 13, 15,
	    "canaryd injects a fault before the cluster is known; remove it");
}

static void
cors_policies_and_legacy_field(void)
{
	struct cd_conf *c;

	c = ut_load_ok(HEAD
	    "          - name: envoy.filters.http.cors\n"
	    "            typed_config: { \"@type\": " CORS_T " }\n"
	    ROUTER
	    "              typed_per_filter_config:\n"
	    "                envoy.filters.http.cors:\n"
	    "                  \"@type\": " POLICY_T "\n"
	    "                  allow_origin_string_match: [ { exact: a } ]\n"
	    "                  allow_methods: GET\n"
	    "              routes:\n"
	    "              - match: { prefix: \"/l\" }\n"
	    "                route:\n"
	    "                  cluster: v1\n"
	    "                  cors: { allow_origin_string_match: [ { "
	    "prefix: b } ], allow_credentials: true }\n"
	    ROUTE("/", "") TAIL);
	if (c == NULL)
		return;
	CU_ASSERT_STRING_EQUAL(route(c, 0)->rt_hf->hf_cors->co_origins[0].
	    sm_value, "b");
	CU_ASSERT(route(c, 0)->rt_hf->hf_cors->co_credentials);
	CU_ASSERT(route(c, 0)->rt_hf->hf_cors->co_forward_preflights);
	CU_ASSERT_STRING_EQUAL(route(c, 1)->rt_hf->hf_cors->co_methods, "GET");
	CU_ASSERT_EQUAL(route(c, 1)->rt_hf->hf_cors->co_enabled.pc_num, 100);
	CU_ASSERT(route(c, 1)->rt_hf->hf_on & (1u << CD_HF_CORS));
	conf_free(c);

	/* a policy with no cors filter in the chain does nothing */
	c = ut_load_ok(HEAD ROUTER
	    "              cors: { allow_origin_string_match: [ { exact: a } ] }\n"
	    "              routes:\n" ROUTE("/", "") TAIL);
	if (c != NULL)
		CU_ASSERT_PTR_NULL(route(c, 0)->rt_hf);
	conf_free(c);
	load_err(HEAD ROUTER
	    "              cors: { allow_origin_regex: [ \".*\" ] }\n"
	    "              routes:\n" ROUTE("/", "") TAIL, 17, 23,
	    "removed from Envoy's v3 API; use allow_origin_string_match");
}

static void
chain_order_and_per_filter_refusals(void)
{
	/* a filter after the router */
	load_err(HEAD
	    "          - name: envoy.filters.http.router\n"
	    "            typed_config: { \"@type\": " ROUTER_T " }\n"
	    "          - name: envoy.filters.http.cors\n"
	    "            typed_config: { \"@type\": " CORS_T " }\n"
	    ROUTER "              routes:\n" ROUTE("/", "") TAIL, 12, 13,
	    "a filter after the router never runs; move it before the "
	    "router");
	load_err(HEAD
	    "          - name: envoy.filters.http.cors\n"
	    "            typed_config: { \"@type\": " CORS_T " }\n"
	    "          - name: envoy.filters.http.cors\n"
	    "            typed_config: { \"@type\": " CORS_T " }\n"
	    ROUTER "              routes:\n" ROUTE("/", "") TAIL, 12, 13,
	    "canaryd runs each filter once; remove this one");
	load_err(HEAD ROUTER "              routes:\n"
	    ROUTE("/", "                typed_per_filter_config:\n"
	    "                  envoy.filters.http.lua:\n"
	    "                    \"@type\": " PFX "lua.v3.LuaPerRoute\n")
	    TAIL, 22, 30, "per-route configuration for compressor, cors, "
	    "fault and local_ratelimit only; remove it");
	load_err(HEAD ROUTER "              routes:\n"
	    ROUTE("/", "                typed_per_filter_config:\n"
	    "                  f:\n"
	    "                    \"@type\": type.googleapis.com/envoy.config."
	    "route.v3.FilterConfig\n") TAIL, 22, 30, "put the filter's own "
	    "message (its config) directly under the key");
}

static void
compressor_values_and_refusals(void)
{
	const struct cd_compressor *cp;
	struct cd_conf *c;

	c = ut_load_ok(HEAD
	    "          - name: envoy.filters.http.compressor\n"
	    "            typed_config:\n"
	    "              \"@type\": " CMP_T "\n"
	    "              response_direction_config:\n"
	    "                common_config: { min_content_length: 7, "
	    "content_type: [ Text/HTML ] }\n"
	    "              compressor_library:\n"
	    "                name: lib\n"
	    "                typed_config: { \"@type\": " GZIP_T ", "
	    "compression_level: BEST_SPEED }\n"
	    ROUTER "              routes:\n"
	    ROUTE("/off", "                typed_per_filter_config:\n"
	    "                  c:\n"
	    "                    \"@type\": " PFX "compressor.v3."
	    "CompressorPerRoute\n"
	    "                    disabled: true\n")
	    ROUTE("/", "") TAIL);
	if (c == NULL)
		return;
	cp = route(c, 1)->rt_hf->hf_cmp;
	CU_ASSERT_STRING_EQUAL(cp->cp_name, "lib");
	CU_ASSERT_EQUAL(cp->cp_level, 1);
	CU_ASSERT_EQUAL(cp->cp_mem_level, 5);
	CU_ASSERT_EQUAL(cp->cp_window_bits, 12);
	CU_ASSERT_EQUAL(cp->cp_chunk_size, 4096);
	CU_ASSERT_EQUAL(cp->cp_min_length, 7);
	CU_ASSERT(cp->cp_nctypes == 1 && strcmp(cp->cp_ctypes[0],
	    "text/html") == 0);
	CU_ASSERT(route(c, 1)->rt_hf->hf_on & (1u << CD_HF_COMPRESSOR));
	CU_ASSERT_PTR_NULL(route(c, 0)->rt_hf);	/* disabled there */
	conf_free(c);
	load_err(HEAD
	    "          - name: envoy.filters.http.compressor\n"
	    "            typed_config:\n"
	    "              \"@type\": " CMP_T "\n"
	    "              compressor_library:\n"
	    "                name: lib\n"
	    "                typed_config: { \"@type\": type.googleapis.com/"
	    "envoy.extensions.compression.brotli.compressor.v3.Brotli }\n"
	    ROUTER "              routes:\n" ROUTE("/", "") TAIL, 15, 42,
	    "canaryd compresses with zlib only; use envoy.extensions."
	    "compression.gzip.compressor.v3.Gzip");
	load_err(HEAD
	    "          - name: envoy.filters.http.compressor\n"
	    "            typed_config:\n"
	    "              \"@type\": " CMP_T "\n"
	    "              request_direction_config: {}\n"
	    "              compressor_library:\n"
	    "                name: lib\n"
	    "                typed_config: { \"@type\": " GZIP_T " }\n"
	    ROUTER "              routes:\n" ROUTE("/", "") TAIL, 13, 41,
	    "canaryd does not compress request bodies; remove "
	    "request_direction_config");
}

/* ---- canaryd.yaml(5), HTTP FILTERS ------------------------------------ */

/* The fields the filters' messages take (canaryd --mode schema's rows
 * under an http_filters or typed_per_filter_config typed_config), as
 * their last path component; a virtual host's cors field has the
 * CorsPolicy's. */
static char *
filter_fields(void)
{
	char *buf = NULL, *line = NULL, *p;
	size_t blen = 0, cap = 0;
	FILE *out = open_memstream(&buf, &blen), *fp;

	fp = tmpfile();
	CU_ASSERT_FATAL(fp != NULL && out != NULL);
	CU_ASSERT_EQUAL(conf_schema_print(fp), 0);
	rewind(fp);
	while (getline(&line, &cap, fp) != -1) {
		/* the filters, and the policies of the cors fields */
		if (line[0] == '#' || (strstr(line, "http_filters[]."
		    "typed_config.") == NULL && strstr(line, "].cors.") ==
		    NULL))
			continue;
		*strchr(line, '\t') = '\0';
		p = strrchr(line, '.');
		fprintf(out, " %s ", p != NULL ? p + 1 : line);
	}
	free(line);
	fclose(fp);
	fclose(out);
	return buf;
}

static void
man_page_filter_table_matches_the_loader(void)
{
	char line[1024], name[128], *fields, *p, *w;
	int in = 0, rows = 0, bad = 0;
	FILE *fp;

	fields = filter_fields();
	fp = fopen(MAN5, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, ".Sh ", 4) == 0)
			in = strcmp(line, ".Sh HTTP FILTERS\n") == 0;
		if (!in || strncmp(line, ".It Ic ", 7) != 0)
			continue;
		/* ".It Ic a , b , c Pq ...": each name is a row */
		for (p = line + 7; (w = strsep(&p, " \n")) != NULL;) {
			if (strcmp(w, "Pq") == 0 || strcmp(w, "Brq") == 0)
				break;
			if (*w == '\0' || strcmp(w, ",") == 0 ||
			    strcmp(w, "|") == 0)
				continue;
			snprintf(name, sizeof(name), " %s ", w);
			rows++;
			if (strstr(fields, name) == NULL) {
				fprintf(stderr, "\n%s: HTTP FILTERS row %s is "
				    "no filter field\n", MAN5, w);
				bad = 1;
			}
		}
	}
	fclose(fp);
	CU_ASSERT(rows > 40);
	CU_ASSERT_FALSE(bad);
	free(fields);
}

/* ---- the bucket, the compressor's choices -------------------------------- */

static void
shm_bucket_takes_and_refills(void)
{
	struct shm_ratelimit rl;
	int i, ok = 0;

	memset(&rl, 0, sizeof(rl));
	for (i = 0; i < 10; i++)
		ok += shm_ratelimit_take(&rl, 4, 2, 100, 1000);
	CU_ASSERT_EQUAL(ok, 4);		/* full at start, then empty */
	CU_ASSERT_FALSE(shm_ratelimit_take(&rl, 4, 2, 100, 1099));
	/* one fill: two tokens */
	CU_ASSERT_TRUE(shm_ratelimit_take(&rl, 4, 2, 100, 1100));
	CU_ASSERT_TRUE(shm_ratelimit_take(&rl, 4, 2, 100, 1150));
	CU_ASSERT_FALSE(shm_ratelimit_take(&rl, 4, 2, 100, 1199));
	/* many fills: no more than max_tokens */
	for (ok = 0, i = 0; i < 10; i++)
		ok += shm_ratelimit_take(&rl, 4, 2, 100, 99999);
	CU_ASSERT_EQUAL(ok, 4);
	shm_ratelimit_reset(&rl);
	CU_ASSERT_TRUE(shm_ratelimit_take(&rl, 1, 1, 100, 5));
	CU_ASSERT_FALSE(shm_ratelimit_take(&rl, 1, 1, 100, 5));
}

static void
gz_accept_encoding_and_types(void)
{
	struct cd_compressor cp;

#define A(s)	wrk_gz_accept((s), strlen(s))
	CU_ASSERT_EQUAL(wrk_gz_accept(NULL, 0), WRK_GZ_NO_HEADER);
	CU_ASSERT_EQUAL(A("gzip"), WRK_GZ_GZIP);
	CU_ASSERT_EQUAL(A("deflate, GZip;q=0.8"), WRK_GZ_GZIP);
	CU_ASSERT_EQUAL(A("*"), WRK_GZ_WILDCARD);
	CU_ASSERT_EQUAL(A("identity"), WRK_GZ_IDENTITY);
	CU_ASSERT_EQUAL(A("identity, gzip"), WRK_GZ_IDENTITY);
	CU_ASSERT_EQUAL(A("gzip;q=0.5, identity;q=0.9"), WRK_GZ_IDENTITY);
	CU_ASSERT_EQUAL(A("gzip;q=0, *;q=0.1"), WRK_GZ_WILDCARD);
	CU_ASSERT_EQUAL(A("gzip;q=0"), WRK_GZ_NOT_VALID);
	CU_ASSERT_EQUAL(A("br, zstd"), WRK_GZ_NOT_VALID);
	CU_ASSERT_EQUAL(A(""), WRK_GZ_NOT_VALID);
	CU_ASSERT_EQUAL(A("gzip ; q=1.000"), WRK_GZ_GZIP);
#undef A
	memset(&cp, 0, sizeof(cp));
	CU_ASSERT_TRUE(wrk_gz_ctype_ok(&cp, NULL, 0));
	CU_ASSERT_TRUE(wrk_gz_ctype_ok(&cp, "text/html; charset=utf-8", 24));
	CU_ASSERT_TRUE(wrk_gz_ctype_ok(&cp, "Application/JSON", 16));
	CU_ASSERT_FALSE(wrk_gz_ctype_ok(&cp, "image/png", 9));
	cp.cp_ctypes[0] = "image/png";
	cp.cp_nctypes = 1;
	CU_ASSERT_TRUE(wrk_gz_ctype_ok(&cp, "image/png", 9));
	CU_ASSERT_FALSE(wrk_gz_ctype_ok(&cp, "text/html", 9));
}

static CU_TestInfo tests[] = {
	{ "lrl_defaults_values_and_buckets", lrl_defaults_values_and_buckets },
	{ "lrl_refusals_say_where_and_what_to_do",
	    lrl_refusals_say_where_and_what_to_do },
	{ "lrl_buckets_are_many", lrl_buckets_are_many },
	{ "fault_values_and_route_overrides",
	    fault_values_and_route_overrides },
	{ "cors_policies_and_legacy_field", cors_policies_and_legacy_field },
	{ "chain_order_and_per_filter_refusals",
	    chain_order_and_per_filter_refusals },
	{ "compressor_values_and_refusals", compressor_values_and_refusals },
	{ "man_page_filter_table_matches_the_loader",
	    man_page_filter_table_matches_the_loader },
	{ "shm_bucket_takes_and_refills", shm_bucket_takes_and_refills },
	{ "gz_accept_encoding_and_types", gz_accept_encoding_and_types },
	CU_TEST_INFO_NULL
};
UNIT_SUITE("shared/conf_filter", tests);
