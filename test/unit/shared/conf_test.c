/*
 * Unit tests for the configuration loader (shared/conf.c): the user's seed
 * config with every value checked, durations, each kind of error with its
 * exact file position and field path, warnings, YAML styles, matchers,
 * and the /config_dump JSON (checked with a small JSON parser below).
 * Runs from the repository root (etc/canary/envoy-canary.yaml).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "test/unit/conf_check.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

#define SEED	"etc/canary/envoy-canary.yaml"
#define MS	CD_NS_PER_MS
#define SEC	CD_NS_PER_S

#define LUA_T	"type.googleapis.com/envoy.extensions.filters.http." \
    "lua.v3.Lua"
#define FILE_LOG_T "type.googleapis.com/envoy.extensions.access_loggers." \
	"file.v3.FileAccessLog"

/*
 * A small valid config to build error cases on.  HCM_HEAD is lines 1-17;
 * routes start on line 18.
 */
/* two lines */
#define ROUTE_V1							\
	"              - match: { prefix: \"/\" }\n"			\
	"                route: { cluster: v1 }\n"
/* one line, then CLUSTER_V1's four */
#define CLUSTERS "  clusters:\n"
/* lines 1-24, valid */
#define BASE	HCM_HEAD ROUTE_V1 CLUSTERS CLUSTER_V1

#define RP_PATH	"static_resources.listeners[0].filter_chains[0].filters[0]" \
	".typed_config.route_config.virtual_hosts"

/* ---- helpers ------------------------------------------------------------ */

/* yaml must load with no error and exactly nwarn warnings. */
static struct cd_conf *
load_warned(const char *yaml, size_t nwarn)
{
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load(yaml, &d);
	if (c == NULL || d.cd_n != nwarn)
		conf_diags_print(&d, "t.yaml", stderr);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_nerrors, 0);
	CU_ASSERT_EQUAL(d.cd_n, nwarn);
	conf_diags_free(&d);
	return c;
}

/* ---- a tiny JSON validator ------------------------------------------- */

struct jp {
	const char	*p;
	int		 depth;
};

static int	json_value(struct jp *);

static void
json_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int
json_string(struct jp *j)
{
	int i;

	if (*j->p != '"')
		return 0;
	for (j->p++; *j->p != '"'; j->p++) {
		if ((unsigned char)*j->p < 0x20)
			return 0;
		if (*j->p != '\\')
			continue;
		j->p++;
		if (*j->p == 'u') {
			for (i = 1; i <= 4; i++)
				if (strchr("0123456789abcdefABCDEF",
				    j->p[i]) == NULL || j->p[i] == '\0')
					return 0;
			j->p += 4;
		} else if (*j->p == '\0' || strchr("\"\\/bfnrt", *j->p) == NULL)
			return 0;
	}
	j->p++;
	return 1;
}

static int
json_number(struct jp *j)
{
	const char *s = j->p;

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return 0;
	if (*j->p == '.') {
		j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return 0;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return 0;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static int
json_value(struct jp *j)
{
	int first;

	if (++j->depth > 100)
		return 0;
	json_ws(j);
	switch (*j->p) {
	case '{':
		j->p++;
		json_ws(j);
		for (first = 1; *j->p != '}'; first = 0) {
			if (!first) {
				if (*j->p != ',')
					return 0;
				j->p++;
				json_ws(j);
			}
			if (!json_string(j))
				return 0;
			json_ws(j);
			if (*j->p++ != ':' || !json_value(j))
				return 0;
			json_ws(j);
		}
		j->p++;
		break;
	case '[':
		j->p++;
		json_ws(j);
		for (first = 1; *j->p != ']'; first = 0) {
			if (!first) {
				if (*j->p != ',')
					return 0;
				j->p++;
			}
			if (!json_value(j))
				return 0;
			json_ws(j);
		}
		j->p++;
		break;
	case '"':
		if (!json_string(j))
			return 0;
		break;
	case 't':
	case 'f':
	case 'n':
		if (strncmp(j->p, "true", 4) == 0)
			j->p += 4;
		else if (strncmp(j->p, "false", 5) == 0)
			j->p += 5;
		else if (strncmp(j->p, "null", 4) == 0)
			j->p += 4;
		else
			return 0;
		break;
	default:
		if (!json_number(j))
			return 0;
	}
	j->depth--;
	return 1;
}

static int
json_is_valid(const char *s)
{
	struct jp j = { s, 0 };

	if (s == NULL || !json_value(&j))
		return 0;
	json_ws(&j);
	return *j.p == '\0';
}

/* ---- the seed ------------------------------------------------------------ */

static void
seed_loads_with_every_value_checked(void)
{
	struct conf_diags d = { NULL, 0, 0 };
	const struct cd_listener *l;
	const struct cd_vhost *vh;
	const struct cd_route *r;
	const struct cd_cluster *c;
	const struct cd_health_check *hc;
	struct cd_conf *conf;
	int i;

	conf = conf_load(SEED, &d);
	conf_diags_print(&d, SEED, stderr);
	CU_ASSERT_EQUAL_FATAL(d.cd_n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	CU_ASSERT_STRING_EQUAL(conf->c_path, SEED);

	/* listener and HCM, with the defaults the seed leaves out */
	l = conf->c_listener;
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_STRING_EQUAL(l->l_name, "main_listener");
	CU_ASSERT_STRING_EQUAL(l->l_addr.sa_address, "0.0.0.0");
	CU_ASSERT_EQUAL(l->l_addr.sa_port, 10000);
	CU_ASSERT_EQUAL(l->l_buffer_limit, 1024 * 1024);
	CU_ASSERT_STRING_EQUAL(l->l_stat_prefix, "ingress");
	CU_ASSERT_STRING_EQUAL(l->l_route_config_name, "canary_routes");
	CU_ASSERT_STRING_EQUAL(l->l_server_name, "canaryd");
	CU_ASSERT_EQUAL(l->l_max_request_headers_kb, 60);
	CU_ASSERT_EQUAL(l->l_max_headers_count, 100);
	CU_ASSERT_EQUAL(l->l_idle_timeout, 3600 * SEC);
	CU_ASSERT_EQUAL(l->l_stream_idle_timeout, 300 * SEC);
	CU_ASSERT_EQUAL(l->l_request_timeout, 0);
	CU_ASSERT_EQUAL(l->l_request_headers_timeout, 0);
	CU_ASSERT_EQUAL(l->l_drain_timeout, 5 * SEC);
	CU_ASSERT_TRUE(l->l_generate_request_id);
	CU_ASSERT_FALSE(l->l_use_remote_address);
	CU_ASSERT_FALSE(l->l_always_set_request_id_in_response);
	CU_ASSERT_FALSE(l->l_accept_http_10);
	CU_ASSERT_FALSE(l->l_ignore_port_in_host_matching);
	CU_ASSERT_FALSE(l->l_strip_any_host_port);
	CU_ASSERT_EQUAL(l->l_headers_with_underscores, CD_US_ALLOW);

	CU_ASSERT_EQUAL_FATAL(l->l_nvhosts, 1);
	vh = &l->l_vhosts[0];
	CU_ASSERT_STRING_EQUAL(vh->vh_name, "app");
	CU_ASSERT_EQUAL_FATAL(vh->vh_ndomains, 1);
	CU_ASSERT_STRING_EQUAL(vh->vh_domains[0], "*");
	CU_ASSERT_FALSE(vh->vh_retry.rp_set);
	CU_ASSERT_EQUAL_FATAL(vh->vh_nroutes, 2);

	/* route 0: exact path to backend_v1, no retry policy */
	r = &vh->vh_routes[0];
	CU_ASSERT_PTR_NULL(r->rt_name);
	CU_ASSERT_EQUAL(r->rt_pos.p_line, 21);
	CU_ASSERT_EQUAL(r->rt_pos.p_col, 17);
	CU_ASSERT_EQUAL(r->rt_match.rm_kind, CD_PM_PATH);
	CU_ASSERT_STRING_EQUAL(r->rt_match.rm_value, "/health");
	CU_ASSERT_EQUAL(r->rt_match.rm_len, 7);
	CU_ASSERT_TRUE(r->rt_match.rm_case_sensitive);
	CU_ASSERT_EQUAL(r->rt_match.rm_nheaders, 0);
	CU_ASSERT_EQUAL(r->rt_match.rm_nquery, 0);
	CU_ASSERT_EQUAL(r->rt_action, CD_RA_CLUSTER);
	CU_ASSERT_EQUAL(r->rt_cluster, 0);
	CU_ASSERT_EQUAL(r->rt_wi, -1);
	CU_ASSERT_EQUAL(r->rt_timeout, 15 * SEC);
	CU_ASSERT_EQUAL(r->rt_idle_timeout, CD_DUR_UNSET);
	CU_ASSERT_FALSE(r->rt_retry.rp_set);
	CU_ASSERT_EQUAL(r->rt_cluster_not_found_code, 503);

	/* route 1: prefix "/" split 90/10 with retries */
	r = &vh->vh_routes[1];
	CU_ASSERT_EQUAL(r->rt_match.rm_kind, CD_PM_PREFIX);
	CU_ASSERT_STRING_EQUAL(r->rt_match.rm_value, "/");
	CU_ASSERT_EQUAL(r->rt_action, CD_RA_WEIGHTED);
	CU_ASSERT_EQUAL_FATAL(r->rt_nwc, 2);
	CU_ASSERT_STRING_EQUAL(r->rt_wc[0].wc_name, "backend_v1");
	CU_ASSERT_EQUAL(r->rt_wc[0].wc_cluster, 0);
	CU_ASSERT_EQUAL(r->rt_wc[0].wc_weight, 90);
	CU_ASSERT_STRING_EQUAL(r->rt_wc[1].wc_name, "backend_v2");
	CU_ASSERT_EQUAL(r->rt_wc[1].wc_cluster, 1);
	CU_ASSERT_EQUAL(r->rt_wc[1].wc_weight, 10);
	CU_ASSERT_EQUAL(r->rt_total_weight, 100);
	CU_ASSERT_EQUAL(r->rt_wi, 0);
	CU_ASSERT_EQUAL(r->rt_split_mode, CD_SPLIT_EXACT);
	CU_ASSERT_EQUAL(r->rt_timeout, 15 * SEC);
	CU_ASSERT_TRUE(r->rt_retry.rp_set);
	CU_ASSERT_EQUAL(r->rt_retry.rp_retry_on, CD_RETRY_5XX);
	CU_ASSERT_EQUAL(r->rt_retry.rp_num_retries, 2);
	CU_ASSERT_EQUAL(r->rt_retry.rp_per_try_timeout, 1 * SEC);
	CU_ASSERT_EQUAL(r->rt_retry.rp_backoff_base, 25 * MS);
	CU_ASSERT_EQUAL(r->rt_retry.rp_backoff_max, 250 * MS);
	CU_ASSERT_EQUAL(r->rt_retry.rp_ncodes, 0);
	CU_ASSERT_EQUAL(conf->c_nweighted, 1);

	/* clusters */
	CU_ASSERT_EQUAL_FATAL(conf->c_nclusters, 2);
	for (i = 0; i < 2; i++) {
		c = &conf->c_clusters[i];
		CU_ASSERT_STRING_EQUAL(c->cl_name, i == 0 ? "backend_v1" :
		    "backend_v2");
		CU_ASSERT_STRING_EQUAL(c->cl_stat_name, c->cl_name);
		CU_ASSERT_STRING_EQUAL(c->cl_lb_cluster_name, c->cl_name);
		CU_ASSERT_PTR_NULL(c->cl_alt_stat_name);
		CU_ASSERT_EQUAL(c->cl_type, CD_CT_STRICT_DNS);
		CU_ASSERT_EQUAL(c->cl_lb, CD_LB_ROUND_ROBIN);
		CU_ASSERT_EQUAL(c->cl_connect_timeout, 2 * SEC);
		CU_ASSERT_EQUAL(c->cl_dns_refresh_rate, 5 * SEC);
		CU_ASSERT_EQUAL(c->cl_dns_lookup_family, CD_DNS_V4_PREFERRED);
		CU_ASSERT_EQUAL(c->cl_buffer_limit, 1024 * 1024);
		CU_ASSERT_EQUAL(c->cl_panic_threshold, 50);
		CU_ASSERT_EQUAL(c->cl_idle_timeout, 3600 * SEC);
		CU_ASSERT_EQUAL_FATAL(c->cl_nendpoints, 1);
		CU_ASSERT_STRING_EQUAL(c->cl_endpoints[0].ep_address,
		    "127.0.0.1");
		CU_ASSERT_EQUAL(c->cl_endpoints[0].ep_port, i == 0 ? 8081 :
		    8082);
		CU_ASSERT_EQUAL(c->cl_endpoints[0].ep_weight, 1);
		CU_ASSERT_PTR_NULL(c->cl_endpoints[0].ep_hostname);
		CU_ASSERT_EQUAL(c->cl_thresholds[CD_PRIO_DEFAULT].
		    th_max_connections, 100);
		CU_ASSERT_EQUAL(c->cl_thresholds[CD_PRIO_DEFAULT].
		    th_max_pending_requests, 100);
		CU_ASSERT_EQUAL(c->cl_thresholds[CD_PRIO_DEFAULT].
		    th_max_requests, 100);
		CU_ASSERT_EQUAL(c->cl_thresholds[CD_PRIO_DEFAULT].
		    th_max_retries, 10);
		CU_ASSERT_FALSE(c->cl_thresholds[CD_PRIO_DEFAULT].
		    th_track_remaining);
		/* HIGH is not in the seed: Envoy's defaults */
		CU_ASSERT_EQUAL(c->cl_thresholds[CD_PRIO_HIGH].
		    th_max_connections, 1024);
		CU_ASSERT_EQUAL(c->cl_thresholds[CD_PRIO_HIGH].
		    th_max_pending_requests, 1024);
		CU_ASSERT_EQUAL(c->cl_thresholds[CD_PRIO_HIGH].
		    th_max_requests, 1024);
		CU_ASSERT_EQUAL(c->cl_thresholds[CD_PRIO_HIGH].
		    th_max_retries, 3);
		CU_ASSERT_FALSE(c->cl_outlier.od_set);
	}
	c = &conf->c_clusters[0];
	CU_ASSERT_EQUAL(c->cl_pos.p_line, 43);
	CU_ASSERT_EQUAL(c->cl_pos.p_col, 5);
	CU_ASSERT_EQUAL(c->cl_endpoints[0].ep_pos.p_line, 52);
	CU_ASSERT_EQUAL(c->cl_endpoints[0].ep_pos.p_col, 42);
	CU_ASSERT_STRING_EQUAL(c->cl_endpoints[0].ep_pos.p_file, SEED);
	CU_ASSERT_PTR_NULL(conf->c_clusters[1].cl_hc);

	hc = c->cl_hc;
	CU_ASSERT_PTR_NOT_NULL_FATAL(hc);
	CU_ASSERT_EQUAL(hc->hc_pos.p_line, 62);
	CU_ASSERT_EQUAL(hc->hc_pos.p_col, 7);
	CU_ASSERT_EQUAL(hc->hc_timeout, 1 * SEC);
	CU_ASSERT_EQUAL(hc->hc_interval, 5 * SEC);
	CU_ASSERT_EQUAL(hc->hc_initial_jitter, 0);
	CU_ASSERT_EQUAL(hc->hc_interval_jitter, 0);
	CU_ASSERT_EQUAL(hc->hc_interval_jitter_percent, 0);
	CU_ASSERT_EQUAL(hc->hc_unhealthy_threshold, 3);
	CU_ASSERT_EQUAL(hc->hc_healthy_threshold, 1);
	CU_ASSERT_EQUAL(hc->hc_no_traffic_interval, CD_DUR_UNSET);
	CU_ASSERT_EQUAL(hc->hc_no_traffic_healthy_interval, CD_DUR_UNSET);
	CU_ASSERT_EQUAL(hc->hc_unhealthy_interval, 5 * SEC);
	CU_ASSERT_EQUAL(hc->hc_unhealthy_edge_interval, 5 * SEC);
	CU_ASSERT_EQUAL(hc->hc_healthy_edge_interval, 5 * SEC);
	CU_ASSERT_TRUE(hc->hc_reuse_connection);
	CU_ASSERT_STRING_EQUAL(hc->hc_path, "/health");
	CU_ASSERT_PTR_NULL(hc->hc_host);
	CU_ASSERT_STRING_EQUAL(hc->hc_method, "GET");
	CU_ASSERT_EQUAL(hc->hc_nexpected, 0);

	CU_ASSERT_TRUE(conf->c_admin.a_set);
	CU_ASSERT_STRING_EQUAL(conf->c_admin.a_addr.sa_address, "0.0.0.0");
	CU_ASSERT_EQUAL(conf->c_admin.a_addr.sa_port, 9901);
	CU_ASSERT_PTR_NULL(conf->c_admin.a_log.al_path);

	CU_ASSERT_EQUAL(conf_cluster_index(conf, "backend_v2"), 1);
	CU_ASSERT_EQUAL(conf_cluster_index(conf, "backend_v3"), -1);
	conf_free(conf);
	conf_diags_free(&d);
}

static void
seed_json_is_valid_and_holds_the_clusters(void)
{
	struct conf_diags d = { NULL, 0, 0 };
	struct cd_conf *conf;

	conf = conf_load(SEED, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	CU_ASSERT_TRUE(json_is_valid(conf->c_json_bootstrap));
	CU_ASSERT_TRUE(json_is_valid(conf->c_json_listener));
	CU_ASSERT_TRUE(json_is_valid(conf->c_json_route_config));
	CU_ASSERT_PTR_NOT_NULL_FATAL(conf->c_json_clusters);
	CU_ASSERT_TRUE(json_is_valid(conf->c_json_clusters[0]));
	CU_ASSERT_TRUE(json_is_valid(conf->c_json_clusters[1]));

	CU_ASSERT_EQUAL(strncmp(conf->c_json_bootstrap,
	    "{\"static_resources\":{\"listeners\":[{\"name\":\"main_listener\"",
	    57), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(conf->c_json_bootstrap,
	    "\"admin\":{\"address\":{\"socket_address\":{\"address\":"
	    "\"0.0.0.0\",\"port_value\":9901}}}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(conf->c_json_bootstrap,
	    conf->c_json_clusters[1]));
	CU_ASSERT_EQUAL(strncmp(conf->c_json_clusters[0],
	    "{\"name\":\"backend_v1\",\"type\":\"STRICT_DNS\","
	    "\"connect_timeout\":\"2s\",", 62), 0);
	CU_ASSERT_EQUAL(strncmp(conf->c_json_clusters[1],
	    "{\"name\":\"backend_v2\",", 21), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(conf->c_json_clusters[0],
	    "\"health_checks\":[{\"timeout\":\"1s\",\"interval\":\"5s\","));
	CU_ASSERT_EQUAL(strncmp(conf->c_json_route_config,
	    "{\"name\":\"canary_routes\",\"virtual_hosts\":[", 41), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(conf->c_json_route_config,
	    "\"retry_policy\":{\"retry_on\":\"5xx\",\"num_retries\":2,"
	    "\"per_try_timeout\":\"1s\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(conf->c_json_listener,
	    "\"@type\":\"type.googleapis.com/envoy.extensions.filters."
	    "network.http_connection_manager.v3.HttpConnectionManager\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(conf->c_json_listener,
	    conf->c_json_route_config));
	/* and the validator itself refuses broken JSON */
	CU_ASSERT_FALSE(json_is_valid("{\"a\":1,}"));
	CU_ASSERT_FALSE(json_is_valid("{\"a\":01}"));
	CU_ASSERT_FALSE(json_is_valid("[1 2]"));
	conf_free(conf);
	conf_diags_free(&d);
}

/* ---- durations ----------------------------------------------------- */

static void
duration_parse_accepts_envoy_strings(void)
{
	static const struct {
		const char	*s;
		int64_t		 ns;
	} ok[] = {
		{ "0s", 0 },
		{ "1s", SEC },
		{ "0.25s", 250 * MS },
		{ "1.5s", 1500 * MS },
		{ "0.001s", MS },
		{ "0.000000001s", 1 },
		{ "01s", SEC },
		{ "3600s", 3600 * SEC },
		{ "9223372036s", 9223372036 * SEC },
	};
	const char *why;
	int64_t ns;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ns = -2;
		CU_ASSERT_EQUAL(conf_parse_duration(ok[i].s, &ns, &why), 0);
		CU_ASSERT_EQUAL(ns, ok[i].ns);
	}
}

static void
duration_parse_rejects_other_forms(void)
{
	static const struct {
		const char	*s;
		const char	*why;
	} bad[] = {
		{ "250ms", "want a string like \"1s\" or \"0.25s\"" },
		{ "1m", "want a string like \"1s\" or \"0.25s\"" },
		{ "5", "want a string like \"1s\" or \"0.25s\"" },
		{ "", "want a string like \"1s\" or \"0.25s\"" },
		{ "s", "want a string like \"1s\" or \"0.25s\"" },
		{ ".5s", "want a string like \"1s\" or \"0.25s\"" },
		{ "1.s", "want a string like \"1s\" or \"0.25s\"" },
		{ "1 s", "want a string like \"1s\" or \"0.25s\"" },
		{ " 1s", "want a string like \"1s\" or \"0.25s\"" },
		{ "1S", "want a string like \"1s\" or \"0.25s\"" },
		{ "+1s", "want a string like \"1s\" or \"0.25s\"" },
		{ "1ss", "want a string like \"1s\" or \"0.25s\"" },
		{ "-1s", "must not be negative" },
		{ "1.0000000001s",
		    "at most 9 fractional digits (nanoseconds)" },
		{ "9223372037s", "too large" },
		{ "99999999999999999999s", "too large" },
	};
	const char *why;
	int64_t ns;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CU_ASSERT_EQUAL(conf_parse_duration(bad[i].s, &ns, &why), -1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(why);
		CU_ASSERT_STRING_EQUAL(why, bad[i].why);
	}
}

static void
duration_format_uses_0_3_6_or_9_digits(void)
{
	static const struct {
		int64_t		 ns;
		const char	*s;
	} tab[] = {
		{ 0, "0s" },
		{ 2 * SEC, "2s" },
		{ 250 * MS, "0.250s" },
		{ 1500 * MS, "1.500s" },
		{ 100000, "0.000100s" },
		{ 1, "0.000000001s" },
		{ 3600 * SEC + 1, "3600.000000001s" },
		{ -500 * MS, "-0.500s" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		CU_ASSERT_EQUAL(conf_format_duration(buf, sizeof(buf),
		    tab[i].ns), (int)strlen(tab[i].s));
		CU_ASSERT_STRING_EQUAL(buf, tab[i].s);
	}
}

/* ---- errors, each at its place ---------------------------------------- */

static void
unknown_field_is_an_error_at_its_key(void)
{
	/* a typo gets the closest name, another key says what to check */
	ut_expect_error(BASE "    hostz: 1\n", 25, 5,
	    "static_resources.clusters[0].hostz: unknown field in Cluster; "
	    "did you mean \"hosts\"?");
	ut_expect_error(BASE "    connectTimeOut: 1s\n", 25, 5,
	    "static_resources.clusters[0].connectTimeOut: unknown field in "
	    "Cluster; did you mean \"connect_timeout\"?");
	ut_expect_error(BASE "    wibble: 1\n", 25, 5,
	    "static_resources.clusters[0].wibble: unknown field in Cluster "
	    "(not an Envoy v3 field there: check its spelling and its "
	    "place)");
	/* a known Envoy field canaryd does not implement says so, and
	 * what to do instead */
	ut_expect_error(BASE "    lb_subset_config: {}\n", 25, 5,
	    "static_resources.clusters[0].lb_subset_config: not supported by "
	    "canaryd: canaryd has no subset load balancing; make each subset "
	    "a cluster of its own and split with weighted_clusters");
}

static void
wrong_types_are_errors(void)
{
	ut_expect_error(BASE "    alt_stat_name: { a: 1 }\n", 25, 20,
	    "static_resources.clusters[0].alt_stat_name: want a string, got "
	    "a mapping");
	ut_expect_error(BASE "    per_connection_buffer_limit_bytes: abc\n", 25,
	    40, "static_resources.clusters[0].per_connection_buffer_limit_"
	    "bytes: bad number \"abc\": want an integer");
	ut_expect_error(BASE "    per_connection_buffer_limit_bytes: 1.5\n", 25,
	    40, "static_resources.clusters[0].per_connection_buffer_limit_"
	    "bytes: bad number \"1.5\": want an integer");
	ut_expect_error(BASE "    circuit_breakers: [ 1 ]\n", 25, 23,
	    "static_resources.clusters[0].circuit_breakers: want a mapping "
	    "(CircuitBreakers), got a list");
	ut_expect_error(BASE "    health_checks: { timeout: 1s }\n", 25, 20,
	    "static_resources.clusters[0].health_checks: want a list, got a "
	    "mapping");
	ut_expect_error(BASE "    common_http_protocol_options: { idle_timeout: "
	    "{ seconds: 1 } }\n", 25, 51, "static_resources.clusters[0]."
	    "common_http_protocol_options.idle_timeout: want a duration "
	    "string like \"1s\" or \"0.25s\", got a mapping");
	/* a quoted "true" is a string, not a bool (protobuf JSON) */
	ut_expect_error(HCM_HEAD ROUTE_V1
	    "            ignore_port_in_host_matching: \"true\"\n"
	    CLUSTERS CLUSTER_V1, 20, 43, "static_resources.listeners[0]."
	    "filter_chains[0].filters[0].typed_config.route_config."
	    "ignore_port_in_host_matching: bad boolean (quoted) \"true\": "
	    "want true or false");
}

static void
out_of_range_number_is_an_error(void)
{
	ut_expect_error(HCM_HEAD ROUTE_V1
	    "          max_request_headers_kb: 8193\n" CLUSTERS CLUSTER_V1,
	    20, 35, "static_resources.listeners[0].filter_chains[0]."
	    "filters[0].typed_config.max_request_headers_kb: 8193 is out of "
	    "range: must be 1..8192");
	ut_expect_error(BASE "    per_connection_buffer_limit_bytes: -1\n", 25,
	    40, "static_resources.clusters[0].per_connection_buffer_limit_"
	    "bytes: -1 is out of range: must be 1..4294967295");
	ut_expect_error(BASE "    per_connection_buffer_limit_bytes: "
	    "99999999999999999999\n", 25, 40, "static_resources.clusters[0]."
	    "per_connection_buffer_limit_bytes: 99999999999999999999 is out "
	    "of range: must be 1..4294967295");
}

static void
missing_required_field_is_an_error(void)
{
	/* stat_prefix removed: reported at the HCM mapping */
	ut_expect_error(
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, port_value: "
	    "1 } }\n"
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": " HCM_T "\n"
	    "          route_config: {}\n"
	    "          http_filters:\n"
	    "          - name: envoy.filters.http.router\n"
	    "            typed_config: { \"@type\": " ROUTER_T " }\n",
	    8, 11, "static_resources.listeners[0].filter_chains[0].filters[0]."
	    "typed_config.stat_prefix: missing required field");
	ut_expect_error(BASE "    health_checks:\n    - { timeout: 1s, "
	    "interval: 1s, healthy_threshold: 1, http_health_check: "
	    "{ path: / } }\n", 26, 7, "static_resources.clusters[0]."
	    "health_checks[0].unhealthy_threshold: missing required field");
	ut_expect_error(HCM_HEAD "              - route: { cluster: v1 }\n"
	    CLUSTERS CLUSTER_V1, 18, 17, RP_PATH "[0].routes[0].match: "
	    "missing required field");
	ut_expect_error(HCM_HEAD "              - match: {}\n"
	    "                route: { cluster: v1 }\n" CLUSTERS CLUSTER_V1, 18,
	    24, RP_PATH "[0].routes[0].match: one of prefix, path, safe_regex, "
	    "path_separated_prefix is required");
}

static void
bad_durations_are_errors_with_reason(void)
{
	ut_expect_error(BASE "    connect_timeout: 2\n", 25, 22,
	    "static_resources.clusters[0].connect_timeout: bad duration \"2\": "
	    "want a string like \"1s\" or \"0.25s\"");
	ut_expect_error(BASE "    connect_timeout: 250ms\n", 25, 22,
	    "static_resources.clusters[0].connect_timeout: bad duration "
	    "\"250ms\": want a string like \"1s\" or \"0.25s\"");
	ut_expect_error(BASE "    connect_timeout: \"1m\"\n", 25, 22,
	    "static_resources.clusters[0].connect_timeout: bad duration "
	    "\"1m\": want a string like \"1s\" or \"0.25s\"");
	ut_expect_error(BASE "    connect_timeout: -1s\n", 25, 22,
	    "static_resources.clusters[0].connect_timeout: bad duration "
	    "\"-1s\": must not be negative");
	ut_expect_error(BASE "    connect_timeout: 1.0000000001s\n", 25, 22,
	    "static_resources.clusters[0].connect_timeout: bad duration "
	    "\"1.0000000001s\": at most 9 fractional digits (nanoseconds)");
	ut_expect_error(BASE "    connect_timeout: 0s\n", 25, 22,
	    "static_resources.clusters[0].connect_timeout: must be greater "
	    "than 0s");
	ut_expect_error(BASE "    dns_refresh_rate: 0.001s\n", 25, 23,
	    "static_resources.clusters[0].dns_refresh_rate: must be greater "
	    "than 0.001s");
}

static void
unknown_cluster_references_are_errors(void)
{
	ut_expect_error(HCM_HEAD "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v9 }\n" CLUSTERS CLUSTER_V1, 19,
	    35, RP_PATH "[0].routes[0].route.cluster: unknown cluster \"v9\"");
	ut_expect_error(HCM_HEAD "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters:\n"
	    "                    - { name: v1, weight: 90 }\n"
	    "                    - { name: backend_v3, weight: 10 }\n"
	    CLUSTERS CLUSTER_V1, 23, 31, RP_PATH "[0].routes[0].route."
	    "weighted_clusters.clusters[1].name: unknown cluster "
	    "\"backend_v3\"");
}

static void
validate_clusters_false_leaves_unknown_cluster_unresolved(void)
{
	struct cd_conf *c;

	c = ut_load_ok(HCM_HEAD "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v9 }\n"
	    "            validate_clusters: false\n" CLUSTERS CLUSTER_V1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_listener->l_vhosts[0].vh_routes[0].rt_cluster,
	    -1);
	conf_free(c);
}

static void
zero_weight_sum_is_an_error(void)
{
	ut_expect_error(HCM_HEAD "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters:\n"
	    "                    - { name: v1, weight: 0 }\n"
	    "                    - { name: v1 }\n"
	    CLUSTERS CLUSTER_V1, 22, 21, RP_PATH "[0].routes[0].route."
	    "weighted_clusters.clusters: the sum of the weights must be "
	    "greater than 0");
}

static void
total_weight_mismatch_is_a_warning(void)
{
	const char *yaml = HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters:\n"
	    "                    - { name: v1, weight: 90 }\n"
	    "                    - { name: v1, weight: 20 }\n"
	    "                    total_weight: 100\n" CLUSTERS CLUSTER_V1;
	struct conf_diags d;
	struct cd_conf *c;
	const struct cd_route *r;

	c = ut_load(yaml, &d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(d.cd_n, 1);
	CU_ASSERT_EQUAL(d.cd_nerrors, 0);
	CU_ASSERT(ut_has(&d, 24, 35, 1, RP_PATH "[0].routes[0].route."
	    "weighted_clusters.total_weight: total_weight 100 differs from "
	    "the sum of the weights 110: total_weight is deprecated (ignored "
	    "by Envoy since 1.24); the sum is used"));
	r = &c->c_listener->l_vhosts[0].vh_routes[0];
	CU_ASSERT_EQUAL(r->rt_total_weight, 110);
	CU_ASSERT_EQUAL(r->rt_wi, 0);
	conf_free(c);
	conf_diags_free(&d);
}

static void
duplicate_cluster_name_is_an_error(void)
{
	ut_expect_error(BASE "  - name: v1\n", 25, 11,
	    "static_resources.clusters[1].name: duplicate cluster name \"v1\" "
	    "(also static_resources.clusters[0])");
}

static void
duplicate_domains_and_second_star_are_errors(void)
{
	ut_expect_error(HCM_HEAD ROUTE_V1
	    "            - name: b\n"
	    "              domains: [\"x.com\", \"*\"]\n"
	    "            - name: c\n"
	    "              domains: [\"X.com\"]\n" CLUSTERS CLUSTER_V1,
	    21, 34, RP_PATH "[1].domains[1]: only one virtual host may contain "
	    "\"*\" (virtual_hosts[0] has it too)");
	ut_expect_error(HCM_HEAD ROUTE_V1
	    "            - name: b\n"
	    "              domains: [\"x.com\", \"*\"]\n"
	    "            - name: c\n"
	    "              domains: [\"X.com\"]\n" CLUSTERS CLUSTER_V1,
	    23, 25, RP_PATH "[2].domains[0]: duplicate domain \"x.com\" "
	    "(also in virtual_hosts[1], line 21)");
	ut_expect_error(HCM_HEAD ROUTE_V1
	    "            - name: b\n"
	    "              domains: [\"a.*.com\"]\n" CLUSTERS CLUSTER_V1,
	    21, 25, RP_PATH "[1].domains[0]: bad domain \"a.*.com\": "
	    "a wildcard "
	    "must be the first or last character");
}

static void
static_endpoint_must_be_an_ip_literal(void)
{
	struct cd_conf *c;

	ut_expect_error(BASE "  - name: v2\n"
	    "    type: STATIC\n"
	    "    load_assignment:\n"
	    "      cluster_name: v2\n"
	    "      endpoints:\n"
	    "      - lb_endpoints:\n"
	    "        - endpoint: { address: { socket_address: { address: "
	    "backend.local, port_value: 80 } } }\n", 31, 61,
	    "static_resources.clusters[1].load_assignment.endpoints[0]."
	    "lb_endpoints[0].endpoint.address.socket_address.address: a STATIC "
	    "cluster needs an IP address, not \"backend.local\" (type: "
	    "STRICT_DNS resolves names)");
	/* the same name is fine for STRICT_DNS, and IPv6 for STATIC */
	c = ut_load_ok(BASE "  - name: v2\n"
	    "    type: strict_dns\n"
	    "    load_assignment:\n"
	    "      cluster_name: v2\n"
	    "      endpoints:\n"
	    "      - lb_endpoints:\n"
	    "        - endpoint: { address: { socket_address: { address: "
	    "backend.local, port_value: 80 } } }\n"
	    "  - name: v3\n"
	    "    load_assignment:\n"
	    "      cluster_name: v3\n"
	    "      endpoints:\n"
	    "      - lb_endpoints:\n"
	    "        - endpoint: { address: { socket_address: { address: "
	    "\"::1\", port_value: 80 } } }\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_clusters[1].cl_type, CD_CT_STRICT_DNS);
	CU_ASSERT_EQUAL(c->c_clusters[2].cl_type, CD_CT_STATIC);
	CU_ASSERT_EQUAL(c->c_clusters[2].cl_endpoints[0].ep_pos.p_line, 37);
	CU_ASSERT_EQUAL(c->c_clusters[2].cl_endpoints[0].ep_pos.p_col, 61);
	conf_free(c);
}

static void
unsupported_features_say_not_supported_by_canaryd(void)
{
	struct conf_diags d;
	struct cd_conf *c;

	ut_expect_error(BASE "    lb_policy: CLUSTER_PROVIDED\n", 25, 16,
	    "static_resources.clusters[0].lb_policy: lb_policy "
	    "CLUSTER_PROVIDED is not supported by canaryd; use one of "
	    "ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, MAGLEV");
	ut_expect_error(BASE "    lb_policy: fastest\n", 25, 16,
	    "static_resources.clusters[0].lb_policy: unknown lb_policy "
	    "\"fastest\": want one of ROUND_ROBIN, LEAST_REQUEST, RING_HASH, "
	    "RANDOM, MAGLEV");
	ut_expect_error(BASE "    type: EDS\n", 25, 11,
	    "static_resources.clusters[0].type: cluster type EDS is not "
	    "supported by canaryd; use one of STATIC, STRICT_DNS, "
	    "LOGICAL_DNS");
	ut_expect_error(BASE "    health_checks:\n    - { timeout: 1s, "
	    "interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, "
	    "tcp_health_check: {} }\n", 26, 82, "static_resources.clusters[0]."
	    "health_checks[0].tcp_health_check: not supported by canaryd: "
	    "canaryd runs HTTP health checks only; use http_health_check "
	    "with a path the backend answers");
	ut_expect_error(
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, port_value: "
	    "1 } }\n"
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": " HCM_T "\n"
	    "          stat_prefix: x\n"
	    "          route_config: {}\n"
	    "          http_filters:\n"
	    "          - name: envoy.filters.http.lua\n"
	    "            typed_config: { \"@type\": " LUA_T " }\n"
	    "          - name: envoy.filters.http.router\n"
	    "            typed_config: { \"@type\": " ROUTER_T " }\n",
	    13, 38, "static_resources.listeners[0].filter_chains[0].filters[0]."
	    "typed_config.http_filters[0].typed_config.@type: http filter "
	    "envoy.extensions.filters.http.lua.v3.Lua is not supported by "
	    "canaryd: canaryd runs no scripts; do the work at the backend or "
	    "in a proxy in front, and remove the filter");

	/* the router without typed_config fails, as in Envoy >= 1.22 */
	c = ut_load(
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, port_value: "
	    "1 } }\n"
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": " HCM_T "\n"
	    "          stat_prefix: x\n"
	    "          route_config: {}\n"
	    "          http_filters: [ { name: envoy.filters.http.router } ]\n",
	    &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(ut_has(&d, 11, 27, 0, "static_resources.listeners[0]."
	    "filter_chains[0].filters[0].typed_config.http_filters[0]."
	    "typed_config: missing required field: add typed_config: "
	    "{ \"@type\": type.googleapis.com/envoy.extensions.filters.http."
	    "router.v3.Router }"));
	conf_diags_free(&d);
}

static void
capacities_are_enforced(void)
{
	const struct cd_route *rt;
	struct cd_conf *c;
	struct buf b;
	int i;

	/* clusters: as many as memory holds (the shm segment follows) */
	buf_init(&b);
	buf_puts(&b, BASE);
	for (i = 1; i < 1000; i++)
		buf_printf(&b, "  - name: c%d\n", i);
	c = ut_load_ok(b.b_data);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->c_nclusters, 1000);
	conf_free(c);

	/* 1,000 endpoints in one cluster, over two localities, in order */
	buf_reset(&b);
	buf_puts(&b, BASE "  - name: big\n    type: STATIC\n"
	    "    load_assignment:\n"
	    "      cluster_name: big\n      endpoints:\n"
	    "      - lb_endpoints:\n");
	for (i = 0; i < 700; i++)
		buf_printf(&b, "        - endpoint: { address: "
		    "{ socket_address: { address: 10.0.%d.%d, port_value: 80 } "
		    "} }\n", i / 250, i % 250);
	buf_puts(&b, "      - lb_endpoints:\n");
	for (i = 700; i < 1000; i++)
		buf_printf(&b, "        - endpoint: { address: "
		    "{ socket_address: { address: 10.0.%d.%d, port_value: 80 } "
		    "} }\n", i / 250, i % 250);
	c = ut_load_ok(b.b_data);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL_FATAL(c->c_clusters[1].cl_nendpoints, 1000);
	CU_ASSERT_STRING_EQUAL(c->c_clusters[1].cl_endpoints[0].ep_address,
	    "10.0.0.0");
	CU_ASSERT_STRING_EQUAL(c->c_clusters[1].cl_endpoints[699].ep_address,
	    "10.0.2.199");
	CU_ASSERT_STRING_EQUAL(c->c_clusters[1].cl_endpoints[999].ep_address,
	    "10.0.3.249");
	conf_free(c);

	/* 1,000 weighted clusters in one route, each its own cluster */
	buf_reset(&b);
	buf_puts(&b, HCM_HEAD "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters:\n");
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "                    - { name: c%d, weight: %d "
		    "}\n", i, i + 1);
	buf_puts(&b, CLUSTERS);
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "  - name: c%d\n    load_assignment:\n"
		    "      cluster_name: c%d\n      endpoints: [ { lb_endpoints: "
		    "[ { endpoint: { address: { socket_address: { address: "
		    "127.0.0.1, port_value: %d } } } } ] } ]\n", i, i,
		    10000 + i);
	c = ut_load_ok(b.b_data);
	CU_ASSERT_FATAL(c != NULL);
	rt = &c->c_listener->l_vhosts[0].vh_routes[0];
	CU_ASSERT_EQUAL_FATAL(rt->rt_nwc, 1000);
	CU_ASSERT_EQUAL(rt->rt_total_weight, 500500);
	CU_ASSERT_STRING_EQUAL(rt->rt_wc[999].wc_name, "c999");
	CU_ASSERT_EQUAL(rt->rt_wc[999].wc_weight, 1000);
	CU_ASSERT_STRING_EQUAL(c->c_clusters[rt->rt_wc[999].wc_cluster].cl_name,
	    "c999");
	conf_free(c);

	/* weighted routes: no limit either */
	buf_reset(&b);
	buf_puts(&b, HCM_HEAD);
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "              - match: { prefix: \"/%d\" }\n"
		    "                route: { weighted_clusters: { clusters: "
		    "[ { name: v1, weight: 1 } ] } }\n", i);
	buf_puts(&b, CLUSTERS CLUSTER_V1);
	c = ut_load_ok(b.b_data);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->c_nweighted, 1000);
	conf_free(c);
	buf_free(&b);
}

static void
yaml_syntax_error_has_parser_position(void)
{
	ut_expect_error("static_resources:\n  listeners: [ { a: 1 }\n  x: 2\n",
	    3, 3, "yaml: did not find expected ',' or ']' while parsing a "
	    "flow sequence (line 2, column 14)");
	ut_expect_error("a: *nope\n", 1, 4, "yaml: found undefined alias");
	ut_expect_error("", 1, 1, "empty configuration");
	ut_expect_error(BASE "---\nadmin: {}\n", 25, 1,
	    "more than one YAML document");
	/* a second document's syntax error is the one reported */
	ut_expect_error(BASE "---\nadmin: [\n", 27, 1,
	    "yaml: did not find expected node content while parsing a flow "
	    "node (line 27, column 1)");
	ut_expect_error("a: &x 1\nb: &x 2\n", 2, 4,
	    "yaml: found duplicate anchor &x (first at line 1, column 4)");
}

/* The document composed from events is the tree libyaml's loader makes:
 * an alias is the anchored node itself (a merge key's too), and nesting
 * deeper than the walker goes costs no stack. */
static void
yaml_document_composes_aliases_and_deep_nesting(void)
{
	struct conf_diags d;
	struct cd_conf *c;
	struct buf b;
	int i;

	c = ut_load_ok(BASE "  - &c2 { name: v2, connect_timeout: &t 2s }\n"
	    "  - { <<: *c2, name: v3, dns_refresh_rate: *t }\n");
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->c_nclusters, 3);
	CU_ASSERT_EQUAL(c->c_clusters[1].cl_connect_timeout, 2 * SEC);
	CU_ASSERT_EQUAL(c->c_clusters[2].cl_connect_timeout, 2 * SEC);
	CU_ASSERT_EQUAL(c->c_clusters[2].cl_dns_refresh_rate, 2 * SEC);
	conf_free(c);

	buf_init(&b);
	for (i = 0; i < 10000; i++)
		buf_puts(&b, "[");
	for (i = 0; i < 10000; i++)
		buf_puts(&b, "]");
	c = ut_load(b.b_data, &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(d.cd_n > 0);
	conf_diags_free(&d);
	buf_free(&b);
}

static void
every_error_of_a_file_is_reported_in_file_order(void)
{
	const char *yaml = HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: nope, timeout: 5 }\n"
	    CLUSTERS
	    "  - name: v1\n"
	    "    connect_timeout: 1m\n"
	    "    lb_policy: cluster_provided\n"
	    "    oops: true\n";
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load(yaml, &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL_FATAL(d.cd_n, 5);
	CU_ASSERT_EQUAL(d.cd_nerrors, 5);
	CU_ASSERT(d.cd_v[0].d_line == 19 && d.cd_v[0].d_col == 35);
	CU_ASSERT(strstr(d.cd_v[0].d_text, "unknown cluster \"nope\"") !=
	    NULL);
	CU_ASSERT(d.cd_v[1].d_line == 19 && d.cd_v[1].d_col == 50);
	CU_ASSERT(strstr(d.cd_v[1].d_text, "route.timeout: bad duration "
	    "\"5\"") != NULL);
	CU_ASSERT(d.cd_v[2].d_line == 22 && d.cd_v[2].d_col == 22);
	CU_ASSERT(d.cd_v[3].d_line == 23 && d.cd_v[3].d_col == 16);
	CU_ASSERT(d.cd_v[4].d_line == 24 && d.cd_v[4].d_col == 5);
	CU_ASSERT_STRING_EQUAL(d.cd_v[4].d_text,
	    "static_resources.clusters[0].oops: unknown field in Cluster "
	    "(not an Envoy v3 field there: check its spelling and its "
	    "place)");
	conf_diags_free(&d);
}

static void
error_count_is_capped_at_100(void)
{
	struct conf_diags d;
	struct cd_conf *c;
	struct buf b;
	int i;

	buf_init(&b);
	buf_puts(&b, BASE);
	/* 150 errors over 50 clusters (one mapping holds at most 128 keys) */
	for (i = 0; i < 150; i++)
		buf_printf(&b, i % 3 == 0 ? "  - name: c%d\n    bad: 1\n" :
		    "    bad%d: 1\n", i);
	c = ut_load(b.b_data, &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(d.cd_nerrors, 100);
	conf_diags_free(&d);
	buf_free(&b);
}

/* ---- YAML styles --------------------------------------------------- */

static void
flow_and_block_style_load_the_same(void)
{
	const char *flow =
	    "{static_resources: {listeners: [{address: {socket_address: "
	    "{address: 127.0.0.1, port_value: 10000}}, filter_chains: "
	    "[{filters: [{name: hcm, typed_config: {\"@type\": "
	    "\"type.googleapis.com/envoy.extensions.filters.network."
	    "http_connection_manager.v3.HttpConnectionManager\", stat_prefix: "
	    "ingress, http_filters: [{name: envoy.filters.http.router, "
	    "typed_config: {\"@type\": type.googleapis.com/envoy.extensions."
	    "filters.http.router.v3.Router}}], route_config: {virtual_hosts: "
	    "[{name: app, domains: [\"*\"], routes: [{match: {prefix: \"/\"}, "
	    "route: {cluster: v1}}]}]}}}]}]}], clusters: [{name: v1, "
	    "load_assignment: {cluster_name: v1, endpoints: [{lb_endpoints: "
	    "[{endpoint: {address: {socket_address: {address: 127.0.0.1, "
	    "port_value: 8081}}}}]}]}}]}}\n";
	struct cd_conf *a, *b;

	a = ut_load_ok(BASE);
	b = ut_load_ok(flow);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(a->c_json_bootstrap, b->c_json_bootstrap);
	CU_ASSERT_EQUAL(b->c_clusters[0].cl_endpoints[0].ep_port, 8081);
	CU_ASSERT_EQUAL(b->c_listener->l_vhosts[0].vh_routes[0].rt_cluster, 0);
	conf_free(a);
	conf_free(b);
}

static void
comments_and_quoted_or_plain_scalars_load_the_same(void)
{
	struct cd_conf *a, *b;

	/* a cluster's buffer limit is kept, with a warning that it is
	 * not used */
	a = load_warned(BASE "    connect_timeout: 0.25s\n"
	    "    per_connection_buffer_limit_bytes: 4096\n"
	    "    lb_policy: RANDOM\n", 1);
	b = load_warned(BASE "    # a comment line\n"
	    "    connect_timeout: \"0.25s\"   # trailing comment\n"
	    "    per_connection_buffer_limit_bytes: '4096'\n"
	    "    'lb_policy': \"random\"\n", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(a->c_json_bootstrap, b->c_json_bootstrap);
	CU_ASSERT_EQUAL(b->c_clusters[0].cl_connect_timeout, 250 * MS);
	CU_ASSERT_EQUAL(b->c_clusters[0].cl_buffer_limit, 4096);
	CU_ASSERT_EQUAL(b->c_clusters[0].cl_lb, CD_LB_RANDOM);
	CU_ASSERT_PTR_NOT_NULL(strstr(b->c_json_clusters[0],
	    "\"connect_timeout\":\"0.250s\""));
	conf_free(a);
	conf_free(b);
}

static void
anchors_aliases_merge_keys_and_camel_case_work(void)
{
	struct cd_conf *c;
	const struct cd_cluster *cl;

	/* HIGH thresholds load, with a warning: routes have no priority */
	c = load_warned(BASE
	    "    circuitBreakers:\n"
	    "      thresholds:\n"
	    "      - &t { priority: DEFAULT, max_connections: 5, "
	    "max_retries: 1 }\n"
	    "      - <<: *t\n"
	    "        priority: high\n"
	    "  - name: v2\n"
	    "    connect_timeout: &ct 3s\n"
	    "    dns_refresh_rate: *ct\n", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	cl = &c->c_clusters[0];
	CU_ASSERT_EQUAL(cl->cl_thresholds[CD_PRIO_DEFAULT].th_max_connections,
	    5);
	CU_ASSERT_EQUAL(cl->cl_thresholds[CD_PRIO_HIGH].th_max_connections,
	    5);
	CU_ASSERT_EQUAL(cl->cl_thresholds[CD_PRIO_HIGH].th_max_retries, 1);
	CU_ASSERT_EQUAL(cl->cl_thresholds[CD_PRIO_HIGH].th_max_requests,
	    1024);
	CU_ASSERT_EQUAL(c->c_clusters[1].cl_connect_timeout, 3 * SEC);
	CU_ASSERT_EQUAL(c->c_clusters[1].cl_dns_refresh_rate, 3 * SEC);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_clusters[0],
	    "\"circuit_breakers\":"));
	conf_free(c);
}

/* A hook that checks a field given through a merge key reports at the
 * mapping that merged it (the field has no key node of its own there). */
static void
merged_fields_in_hook_checks_are_reported(void)
{
	static const char *const routes[] = {
	    "              - match: { prefix: \"/\", query_parameters: "
	    "[ { name: a, <<: { present_match: false } } ] }\n",
	    "              - match: { <<: { path_separated_prefix: \"/a/\" } }\n",
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v1, retry_policy: { "
	    "retry_back_off: { base_interval: 1s, <<: { max_interval: 0.5s "
	    "} } } }\n",
	};
	char yaml[4096];
	struct conf_diags d;
	struct cd_conf *c;
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		snprintf(yaml, sizeof(yaml), "%s%s%s%s%s", HCM_HEAD, routes[i],
		    i < 2 ? "                route: { cluster: v1 }\n" : "",
		    CLUSTERS, CLUSTER_V1);
		c = ut_load(yaml, &d);
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_EQUAL(d.cd_nerrors, 1);
		CU_ASSERT(d.cd_n >= 1 && d.cd_v[0].d_line == (i < 2 ? 18 : 19));
		conf_free(c);
		conf_diags_free(&d);
	}
}

static void
null_value_leaves_a_field_unset(void)
{
	struct cd_conf *c;

	c = ut_load_ok(BASE "    connect_timeout:\n    outlier_detection: ~\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_clusters[0].cl_connect_timeout, 5 * SEC);
	CU_ASSERT_FALSE(c->c_clusters[0].cl_outlier.od_set);
	conf_free(c);
}

/* ---- matchers --------------------------------------------------------- */

static int
re_full(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

static void
safe_regex_route_matches_the_whole_path(void)
{
	struct cd_conf *c;
	const struct cd_route_match *m;

	c = ut_load_ok(HCM_HEAD
	    "              - match: { safe_regex: { google_re2: {}, regex: "
	    "\"/api/v\\\\d+/(?:users|groups)[\\\\w.\\\\-]*\" } }\n"
	    "                route: { cluster: v1 }\n" CLUSTERS CLUSTER_V1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	m = &c->c_listener->l_vhosts[0].vh_routes[0].rt_match;
	CU_ASSERT_EQUAL(m->rm_kind, CD_PM_REGEX);
	CU_ASSERT_STRING_EQUAL(m->rm_value,
	    "/api/v\\d+/(?:users|groups)[\\w.\\-]*");
	CU_ASSERT_TRUE(re_full(&m->rm_re, "/api/v2/users"));
	CU_ASSERT_TRUE(re_full(&m->rm_re, "/api/v10/groups.x-y_z"));
	CU_ASSERT_FALSE(re_full(&m->rm_re, "/api/vX/users"));
	CU_ASSERT_FALSE(re_full(&m->rm_re, "/api/v2/users/1"));	/* full */
	CU_ASSERT_FALSE(re_full(&m->rm_re, "x/api/v2/users"));
	CU_ASSERT_FALSE(re_full(&m->rm_re, "/api/v2/users?"));
	conf_free(c);

	ut_expect_error(HCM_HEAD
	    "              - match: { safe_regex: { regex: \"/a(\" } }\n"
	    "                route: { cluster: v1 }\n" CLUSTERS CLUSTER_V1,
	    18, 47, RP_PATH "[0].routes[0].match.safe_regex.regex: bad regex "
	    "\"/a(\": Unmatched ( or \\(");
	ut_expect_error(HCM_HEAD
	    "              - match: { safe_regex: { regex: \"(?i)/a\" } }\n"
	    "                route: { cluster: v1 }\n" CLUSTERS CLUSTER_V1,
	    18, 47, RP_PATH "[0].routes[0].match.safe_regex.regex: bad regex "
	    "\"(?i)/a\": (?...) groups and flags are not supported (POSIX "
	    "extended regexes)");
}

static void
header_and_query_matchers_are_parsed(void)
{
	struct cd_conf *c;
	const struct cd_route_match *m;
	const struct cd_header_match *h;

	c = ut_load_ok(HCM_HEAD
	    "              - match:\n"
	    "                  prefix: /Api\n"
	    "                  case_sensitive: false\n"
	    "                  headers:\n"
	    "                  - { name: X-Env, string_match: { exact: "
	    "Canary, ignore_case: true } }\n"
	    "                  - { name: \":authority\", suffix_match: "
	    ".example.com }\n"
	    "                  - { name: x-re, string_match: { safe_regex: "
	    "{ regex: \"ab+\" }, ignore_case: true } }\n"
	    "                  - { name: x-old, safe_regex_match: { regex: "
	    "\"[0-9]{3}\" } }\n"
	    "                  - { name: x-range, range_match: { start: -5, "
	    "end: \"10\" }, invert_match: true }\n"
	    "                  - { name: x-gone, present_match: false }\n"
	    "                  - { name: x-any, "
	    "treat_missing_header_as_empty: true }\n"
	    "                  query_parameters:\n"
	    "                  - { name: debug }\n"
	    "                  - { name: v, string_match: { prefix: \"2\" } }\n"
	    "                route: { cluster: v1 }\n" CLUSTERS CLUSTER_V1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	m = &c->c_listener->l_vhosts[0].vh_routes[0].rt_match;
	CU_ASSERT_EQUAL(m->rm_kind, CD_PM_PREFIX);
	CU_ASSERT_STRING_EQUAL(m->rm_value, "/Api");
	CU_ASSERT_FALSE(m->rm_case_sensitive);
	CU_ASSERT_EQUAL_FATAL(m->rm_nheaders, 7);
	h = m->rm_headers;
	CU_ASSERT_STRING_EQUAL(h[0].hm_name, "x-env");
	CU_ASSERT_EQUAL(h[0].hm_name_len, 5);
	CU_ASSERT_EQUAL(h[0].hm_kind, CD_HM_STRING);
	CU_ASSERT_EQUAL(h[0].hm_str.sm_kind, CD_SM_EXACT);
	CU_ASSERT_STRING_EQUAL(h[0].hm_str.sm_value, "Canary");
	CU_ASSERT_EQUAL(h[0].hm_str.sm_len, 6);
	CU_ASSERT_TRUE(h[0].hm_str.sm_ignore_case);
	CU_ASSERT_STRING_EQUAL(h[1].hm_name, "host");
	CU_ASSERT_EQUAL(h[1].hm_str.sm_kind, CD_SM_SUFFIX);
	CU_ASSERT_STRING_EQUAL(h[1].hm_str.sm_value, ".example.com");
	CU_ASSERT_EQUAL(h[2].hm_str.sm_kind, CD_SM_REGEX);
	CU_ASSERT_TRUE(re_full(&h[2].hm_str.sm_re, "ABBB"));
	CU_ASSERT_FALSE(re_full(&h[2].hm_str.sm_re, "xab"));
	CU_ASSERT_EQUAL(h[3].hm_kind, CD_HM_STRING);
	CU_ASSERT_EQUAL(h[3].hm_str.sm_kind, CD_SM_REGEX);
	CU_ASSERT_TRUE(re_full(&h[3].hm_str.sm_re, "503"));
	CU_ASSERT_FALSE(re_full(&h[3].hm_str.sm_re, "5030"));
	CU_ASSERT_EQUAL(h[4].hm_kind, CD_HM_RANGE);
	CU_ASSERT_EQUAL(h[4].hm_range_start, -5);
	CU_ASSERT_EQUAL(h[4].hm_range_end, 10);
	CU_ASSERT_TRUE(h[4].hm_invert);
	CU_ASSERT_EQUAL(h[5].hm_kind, CD_HM_PRESENT);
	CU_ASSERT_FALSE(h[5].hm_present);
	CU_ASSERT_EQUAL(h[6].hm_kind, CD_HM_PRESENT);
	CU_ASSERT_TRUE(h[6].hm_present);
	CU_ASSERT_TRUE(h[6].hm_missing_as_empty);
	CU_ASSERT_EQUAL_FATAL(m->rm_nquery, 2);
	CU_ASSERT_STRING_EQUAL(m->rm_query[0].qm_name, "debug");
	CU_ASSERT_TRUE(m->rm_query[0].qm_present);
	CU_ASSERT_FALSE(m->rm_query[1].qm_present);
	CU_ASSERT_EQUAL(m->rm_query[1].qm_str.sm_kind, CD_SM_PREFIX);
	CU_ASSERT_STRING_EQUAL(m->rm_query[1].qm_str.sm_value, "2");
	/* 64-bit integers print as JSON strings */
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_route_config,
	    "\"range_match\":{\"start\":\"-5\",\"end\":\"10\"}"));
	conf_free(c);

	ut_expect_error(HCM_HEAD
	    "              - match: { prefix: /, headers: [ { name: a, "
	    "exact_match: x, present_match: true } ] }\n"
	    "                route: { cluster: v1 }\n" CLUSTERS CLUSTER_V1,
	    18, 75, RP_PATH "[0].routes[0].match.headers[0].present_match: "
	    "only one of exact_match, safe_regex_match, range_match, "
	    "present_match, prefix_match, suffix_match, contains_match, "
	    "string_match may be set");
}

/* ---- routes, retries, canaryd metadata -------------------------------- */

static void
retry_policy_defaults_and_vhost_inheritance(void)
{
	struct cd_conf *c;
	const struct cd_vhost *vh;

	c = ut_load_ok(HCM_HEAD
	    "              - match: { prefix: /a }\n"
	    "                route: { cluster: v1 }\n"
	    "              - match: { prefix: /b }\n"
	    "                route:\n"
	    "                  cluster: v1\n"
	    "                  timeout: 0s\n"
	    "                  retry_policy:\n"
	    "                    retry_on: \"reset, connect-failure,bogus,"
	    "retriable-status-codes,gateway-error\"\n"
	    "                    retriable_status_codes: [503, 409]\n"
	    "                    per_try_timeout: 0s\n"
	    "                    retry_back_off: { base_interval: 0.1s }\n"
	    "              retry_policy: { retry_on: 5xx, num_retries: 4 }\n"
	    CLUSTERS CLUSTER_V1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	vh = &c->c_listener->l_vhosts[0];
	CU_ASSERT_TRUE(vh->vh_retry.rp_set);
	CU_ASSERT_EQUAL(vh->vh_retry.rp_num_retries, 4);
	/* route 0 has none: it takes the vhost's */
	CU_ASSERT_TRUE(vh->vh_routes[0].rt_retry.rp_set);
	CU_ASSERT_EQUAL(vh->vh_routes[0].rt_retry.rp_retry_on, CD_RETRY_5XX);
	CU_ASSERT_EQUAL(vh->vh_routes[0].rt_retry.rp_num_retries, 4);
	/* route 1 has its own; unknown tokens are ignored */
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_retry.rp_retry_on,
	    CD_RETRY_RESET | CD_RETRY_CONNECT_FAILURE |
	    CD_RETRY_RETRIABLE_CODES | CD_RETRY_GATEWAY_ERROR);
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_retry.rp_num_retries, 1);
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_retry.rp_ncodes, 2);
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_retry.rp_codes[0], 503);
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_retry.rp_codes[1], 409);
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_retry.rp_per_try_timeout,
	    CD_DUR_UNSET);
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_retry.rp_backoff_base, 100 * MS);
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_retry.rp_backoff_max, SEC);
	CU_ASSERT_EQUAL(vh->vh_routes[1].rt_timeout, 0);
	conf_free(c);

	ut_expect_error(HCM_HEAD ROUTE_V1
	    "              retry_policy: { retry_back_off: { base_interval: "
	    "1s, max_interval: 0.5s } }\n" CLUSTERS CLUSTER_V1, 20, 82,
	    RP_PATH "[0].retry_policy.retry_back_off.max_interval: must not "
	    "be less than base_interval");
}

static void
canaryd_split_metadata_is_parsed_and_strict(void)
{
	struct cd_conf *c;
	const struct cd_route *r;

	c = ut_load_ok(HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { weighted_clusters: { clusters: "
	    "[ { name: v1, weight: 1 } ] } }\n"
	    "                metadata:\n"
	    "                  filter_metadata:\n"
	    "                    canaryd: { split: Random }\n"
	    "                    acme.io: { any: [1, \"x\", { y: null }] }\n"
	    CLUSTERS CLUSTER_V1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	r = &c->c_listener->l_vhosts[0].vh_routes[0];
	CU_ASSERT_EQUAL(r->rt_split_mode, CD_SPLIT_RANDOM);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_route_config,
	    "\"filter_metadata\":{\"canaryd\":{\"split\":\"random\"},"
	    "\"acme.io\":{\"any\":[1,\"x\",{\"y\":null}]}}"));
	conf_free(c);

	ut_expect_error(HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v1 }\n"
	    "                metadata: { filter_metadata: { canaryd: "
	    "{ stickiness: { cookie: uid } } } }\n" CLUSTERS CLUSTER_V1, 20,
	    59, RP_PATH "[0].routes[0].metadata.filter_metadata.canaryd."
	    "stickiness: unknown field in canaryd route metadata "
	    "(canaryd.yaml(5) lists its keys)");
	ut_expect_error(HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route: { cluster: v1 }\n"
	    "                metadata: { filter_metadata: { canaryd: "
	    "{ split: fair } } }\n" CLUSTERS CLUSTER_V1, 20, 66,
	    RP_PATH "[0].routes[0].metadata.filter_metadata.canaryd.split: "
	    "unknown split mode \"fair\": want one of exact, random");
}

static void
direct_response_and_options_are_stored(void)
{
	struct cd_conf *c;
	const struct cd_listener *l;
	const struct cd_route *r;
	const struct cd_cluster *cl;

	/* drain_timeout is kept with a warning that canaryd does not act on
	 * it; dns_lookup_family V4_ONLY is acted on */
	c = load_warned(
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: \"::1\", port_value: "
	    "8080, protocol: TCP } }\n"
	    "    per_connection_buffer_limit_bytes: 32768\n"
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": " HCM_T "\n"
	    "          stat_prefix: edge\n"
	    "          codec_type: HTTP1\n"
	    "          server_name: shop\n"
	    "          stream_idle_timeout: 0s\n"
	    "          request_timeout: 30s\n"
	    "          request_headers_timeout: 0.5s\n"
	    "          drain_timeout: 1s\n"
	    "          use_remote_address: true\n"
	    "          generate_request_id: false\n"
	    "          always_set_request_id_in_response: true\n"
	    "          strip_any_host_port: true\n"
	    "          http_protocol_options: { accept_http_10: true }\n"
	    "          common_http_protocol_options: { idle_timeout: 60s, "
	    "max_headers_count: 20, headers_with_underscores_action: "
	    "DROP_HEADER }\n"
	    "          http_filters:\n"
	    "          - name: envoy.filters.http.router\n"
	    "            typed_config: { \"@type\": " ROUTER_T " }\n"
	    "          route_config:\n"
	    "            virtual_hosts:\n"
	    "            - name: app\n"
	    "              domains: [\"Shop.Example.com\", \"*.example.com\"]\n"
	    "              routes:\n"
	    "              - name: tea\n"
	    "                match: { path_separated_prefix: /tea }\n"
	    "                direct_response: { status: 418, body: { "
	    "inline_string: \"short and stout\" } }\n"
	    "  clusters:\n"
	    "  - name: \"ns:svc\"\n"
	    "    alt_stat_name: svc\n"
	    "    lb_policy: random\n"
	    "    dns_lookup_family: V4_ONLY\n"
	    "    common_lb_config: { healthy_panic_threshold: { value: 33.3 } "
	    "}\n"
	    "    common_http_protocol_options: { idle_timeout: 10s }\n"
	    "    outlier_detection: { consecutive_5xx: 2, base_ejection_time: "
	    "1s }\n"
	    "    health_checks:\n"
	    "    - timeout: 0.5s\n"
	    "      interval: 2s\n"
	    "      unhealthy_interval: 4s\n"
	    "      no_traffic_interval: 30s\n"
	    "      unhealthy_threshold: 2\n"
	    "      healthy_threshold: 2\n"
	    "      reuse_connection: false\n"
	    "      http_health_check: { path: /hc, host: h.example, method: "
	    "head, expected_statuses: [ { start: 200, end: 300 }, { start: "
	    "404, end: 405 } ] }\n"
	    "admin:\n"
	    "  address: { socket_address: { address: 127.0.0.1, port_value: "
	    "9901 } }\n"
	    "  access_log:\n"
	    "  - name: envoy.access_loggers.file\n"
	    "    typed_config: { \"@type\": " FILE_LOG_T ", "
	    "path: /tmp/admin.log }\n", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	l = c->c_listener;
	CU_ASSERT_STRING_EQUAL(l->l_addr.sa_address, "::1");
	CU_ASSERT_EQUAL(l->l_buffer_limit, 32768);
	CU_ASSERT_STRING_EQUAL(l->l_server_name, "shop");
	CU_ASSERT_EQUAL(l->l_stream_idle_timeout, 0);
	CU_ASSERT_EQUAL(l->l_request_timeout, 30 * SEC);
	CU_ASSERT_EQUAL(l->l_request_headers_timeout, 500 * MS);
	CU_ASSERT_EQUAL(l->l_drain_timeout, SEC);
	CU_ASSERT_EQUAL(l->l_idle_timeout, 60 * SEC);
	CU_ASSERT_EQUAL(l->l_max_headers_count, 20);
	CU_ASSERT_EQUAL(l->l_headers_with_underscores, CD_US_DROP_HEADER);
	CU_ASSERT_TRUE(l->l_use_remote_address);
	CU_ASSERT_FALSE(l->l_generate_request_id);
	CU_ASSERT_TRUE(l->l_always_set_request_id_in_response);
	CU_ASSERT_TRUE(l->l_strip_any_host_port);
	CU_ASSERT_TRUE(l->l_accept_http_10);
	CU_ASSERT_PTR_NULL(l->l_route_config_name);
	CU_ASSERT_STRING_EQUAL(l->l_vhosts[0].vh_domains[0],
	    "shop.example.com");
	r = &l->l_vhosts[0].vh_routes[0];
	CU_ASSERT_STRING_EQUAL(r->rt_name, "tea");
	CU_ASSERT_EQUAL(r->rt_match.rm_kind, CD_PM_SEP_PREFIX);
	CU_ASSERT_EQUAL(r->rt_action, CD_RA_DIRECT);
	CU_ASSERT_EQUAL(r->rt_direct_status, 418);
	CU_ASSERT_STRING_EQUAL(r->rt_direct_body, "short and stout");
	CU_ASSERT_EQUAL(r->rt_direct_body_len, 15);
	CU_ASSERT_EQUAL(c->c_nweighted, 0);

	cl = &c->c_clusters[0];
	CU_ASSERT_STRING_EQUAL(cl->cl_stat_name, "ns_svc");
	CU_ASSERT_STRING_EQUAL(cl->cl_alt_stat_name, "svc");
	CU_ASSERT_EQUAL(cl->cl_type, CD_CT_STATIC);
	CU_ASSERT_EQUAL(cl->cl_lb, CD_LB_RANDOM);
	CU_ASSERT_EQUAL(cl->cl_dns_lookup_family, CD_DNS_V4_ONLY);
	CU_ASSERT_EQUAL(cl->cl_panic_threshold, 33);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_clusters[0],
	    "\"healthy_panic_threshold\":{\"value\":33.3}"));
	CU_ASSERT_EQUAL(cl->cl_idle_timeout, 10 * SEC);
	CU_ASSERT_EQUAL(cl->cl_nendpoints, 0);
	CU_ASSERT_TRUE(cl->cl_outlier.od_set);
	CU_ASSERT_EQUAL(cl->cl_outlier.od_consecutive_5xx, 2);
	CU_ASSERT_EQUAL(cl->cl_outlier.od_consecutive_gateway_failure, 5);
	CU_ASSERT_EQUAL(cl->cl_outlier.od_enforcing_consecutive_5xx, 100);
	CU_ASSERT_EQUAL(cl->cl_outlier.od_enforcing_consecutive_gateway_failure,
	    0);
	CU_ASSERT_EQUAL(cl->cl_outlier.od_interval, 10 * SEC);
	CU_ASSERT_EQUAL(cl->cl_outlier.od_base_ejection_time, SEC);
	CU_ASSERT_EQUAL(cl->cl_outlier.od_max_ejection_time, 300 * SEC);
	CU_ASSERT_EQUAL(cl->cl_outlier.od_max_ejection_percent, 10);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl->cl_hc);
	CU_ASSERT_EQUAL(cl->cl_hc->hc_unhealthy_interval, 4 * SEC);
	CU_ASSERT_EQUAL(cl->cl_hc->hc_unhealthy_edge_interval, 4 * SEC);
	CU_ASSERT_EQUAL(cl->cl_hc->hc_healthy_edge_interval, 2 * SEC);
	CU_ASSERT_EQUAL(cl->cl_hc->hc_no_traffic_interval, 30 * SEC);
	CU_ASSERT_EQUAL(cl->cl_hc->hc_no_traffic_healthy_interval, 30 * SEC);
	CU_ASSERT_FALSE(cl->cl_hc->hc_reuse_connection);
	CU_ASSERT_STRING_EQUAL(cl->cl_hc->hc_host, "h.example");
	CU_ASSERT_STRING_EQUAL(cl->cl_hc->hc_method, "HEAD");
	CU_ASSERT_EQUAL_FATAL(cl->cl_hc->hc_nexpected, 2);
	CU_ASSERT_EQUAL(cl->cl_hc->hc_expected[0].sr_start, 200);
	CU_ASSERT_EQUAL(cl->cl_hc->hc_expected[0].sr_end, 300);
	CU_ASSERT_EQUAL(cl->cl_hc->hc_expected[1].sr_start, 404);
	CU_ASSERT_STRING_EQUAL(c->c_admin.a_log.al_path, "/tmp/admin.log");
	CU_ASSERT_TRUE(json_is_valid(c->c_json_bootstrap));
	CU_ASSERT_TRUE(json_is_valid(c->c_json_clusters[0]));
	conf_free(c);
}

/* ---- printing and files ------------------------------------------------ */

static void
diags_print_formats_file_line_col(void)
{
	struct conf_diags d;
	struct cd_conf *c;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	c = ut_load(HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters: [ { name: v1, weight: 1 } ]\n"
	    "                    total_weight: 2\n"
	    CLUSTERS CLUSTER_V1 "    bogus: 1\n", &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp = open_memstream(&out, &len));
	conf_diags_print(&d, "etc/x.yaml", fp);
	fclose(fp);
	CU_ASSERT_STRING_EQUAL(out,
	    "etc/x.yaml:22:35: warning: " RP_PATH "[0].routes[0].route."
	    "weighted_clusters.total_weight: total_weight 2 differs from the "
	    "sum of the weights 1: total_weight is deprecated (ignored by "
	    "Envoy since 1.24); the sum is used\n"
	    "etc/x.yaml:28:5: error: static_resources.clusters[0].bogus: "
	    "unknown field in Cluster (not an Envoy v3 field there: check "
	    "its spelling and its place)\n");
	free(out);
	conf_diags_free(&d);
}

#define BAD20								\
	"bad0: 1\nbad1: 1\nbad2: 1\nbad3: 1\nbad4: 1\nbad5: 1\n"	\
	"bad6: 1\nbad7: 1\nbad8: 1\nbad9: 1\nbad10: 1\nbad11: 1\n"	\
	"bad12: 1\nbad13: 1\nbad14: 1\nbad15: 1\nbad16: 1\nbad17: 1\n"	\
	"bad18: 1\nbad19: 1\nstatic_resources: { listeners: [] }\n"

static void
missing_file_is_reported(void)
{
	struct conf_diags d = { NULL, 0, 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	CU_ASSERT_PTR_NULL(conf_load("/nonexistent/canaryd.yaml", &d));
	CU_ASSERT_EQUAL(d.cd_nerrors, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp = open_memstream(&out, &len));
	conf_diags_print(&d, "/nonexistent/canaryd.yaml", fp);
	fclose(fp);
	CU_ASSERT_STRING_EQUAL(out, "/nonexistent/canaryd.yaml: error: "
	    "cannot read: No such file or directory\n");
	free(out);

	/* one conf_diags across loads keeps growing safely (ASan) */
	CU_ASSERT_PTR_NULL(conf_load("/nonexistent/2", &d));
	CU_ASSERT_PTR_NULL(conf_load("/nonexistent/3", &d));
	CU_ASSERT_PTR_NULL(conf_load_buf("t.yaml", BAD20, strlen(BAD20), &d));
	/* 3 + 20, and "needs exactly one listener" */
	CU_ASSERT_EQUAL(d.cd_n, 24);
	CU_ASSERT_EQUAL(d.cd_nerrors, 24);
	CU_ASSERT_STRING_EQUAL(d.cd_v[22].d_text, "bad19: unknown field in "
	    "Bootstrap (not an Envoy v3 field there: check its spelling and "
	    "its place)");
	conf_diags_free(&d);
}

static CU_TestInfo tests[] = {
	{ "seed_loads_with_every_value_checked",
	    seed_loads_with_every_value_checked },
	{ "seed_json_is_valid_and_holds_the_clusters",
	    seed_json_is_valid_and_holds_the_clusters },
	{ "duration_parse_accepts_envoy_strings",
	    duration_parse_accepts_envoy_strings },
	{ "duration_parse_rejects_other_forms",
	    duration_parse_rejects_other_forms },
	{ "duration_format_uses_0_3_6_or_9_digits",
	    duration_format_uses_0_3_6_or_9_digits },
	{ "unknown_field_is_an_error_at_its_key",
	    unknown_field_is_an_error_at_its_key },
	{ "wrong_types_are_errors", wrong_types_are_errors },
	{ "out_of_range_number_is_an_error", out_of_range_number_is_an_error },
	{ "missing_required_field_is_an_error",
	    missing_required_field_is_an_error },
	{ "bad_durations_are_errors_with_reason",
	    bad_durations_are_errors_with_reason },
	{ "unknown_cluster_references_are_errors",
	    unknown_cluster_references_are_errors },
	{ "validate_clusters_false_leaves_unknown_cluster_unresolved",
	    validate_clusters_false_leaves_unknown_cluster_unresolved },
	{ "zero_weight_sum_is_an_error", zero_weight_sum_is_an_error },
	{ "total_weight_mismatch_is_a_warning",
	    total_weight_mismatch_is_a_warning },
	{ "duplicate_cluster_name_is_an_error",
	    duplicate_cluster_name_is_an_error },
	{ "duplicate_domains_and_second_star_are_errors",
	    duplicate_domains_and_second_star_are_errors },
	{ "static_endpoint_must_be_an_ip_literal",
	    static_endpoint_must_be_an_ip_literal },
	{ "unsupported_features_say_not_supported_by_canaryd",
	    unsupported_features_say_not_supported_by_canaryd },
	{ "capacities_are_enforced", capacities_are_enforced },
	{ "yaml_syntax_error_has_parser_position",
	    yaml_syntax_error_has_parser_position },
	{ "yaml_document_composes_aliases_and_deep_nesting",
	    yaml_document_composes_aliases_and_deep_nesting },
	{ "every_error_of_a_file_is_reported_in_file_order",
	    every_error_of_a_file_is_reported_in_file_order },
	{ "error_count_is_capped_at_100", error_count_is_capped_at_100 },
	{ "flow_and_block_style_load_the_same",
	    flow_and_block_style_load_the_same },
	{ "comments_and_quoted_or_plain_scalars_load_the_same",
	    comments_and_quoted_or_plain_scalars_load_the_same },
	{ "anchors_aliases_merge_keys_and_camel_case_work",
	    anchors_aliases_merge_keys_and_camel_case_work },
	{ "merged_fields_in_hook_checks_are_reported",
	    merged_fields_in_hook_checks_are_reported },
	{ "null_value_leaves_a_field_unset", null_value_leaves_a_field_unset },
	{ "safe_regex_route_matches_the_whole_path",
	    safe_regex_route_matches_the_whole_path },
	{ "header_and_query_matchers_are_parsed",
	    header_and_query_matchers_are_parsed },
	{ "retry_policy_defaults_and_vhost_inheritance",
	    retry_policy_defaults_and_vhost_inheritance },
	{ "canaryd_split_metadata_is_parsed_and_strict",
	    canaryd_split_metadata_is_parsed_and_strict },
	{ "direct_response_and_options_are_stored",
	    direct_response_and_options_are_stored },
	{ "diags_print_formats_file_line_col",
	    diags_print_formats_file_line_col },
	{ "missing_file_is_reported", missing_file_is_reported },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("shared/conf", tests);
