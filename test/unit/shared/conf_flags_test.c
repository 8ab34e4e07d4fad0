/*
 * Unit tests for the loader's flags kind (CK_FLAGS, shared/conf.c and
 * conf_scalar.c), through the one field that has it, a retry policy's
 * retry_on: comma-separated names in Envoy's spelling, blanks around them
 * dropped, names canaryd does not know ignored as Envoy ignores them, the
 * value rendered as written, and the errors of a value that is no string.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

/* Line 19 holds the retry policy; its value starts at column RP_COL. */
#define RP_HEAD	"                route: { cluster: v1, retry_policy: { " \
	"retry_on: "
#define RP_COL	((int)strlen(RP_HEAD) + 1)
#define CONFIG(value)							\
	HCM_HEAD							\
	"              - match: { prefix: \"/\" }\n"			\
	RP_HEAD value " } }\n"						\
	"  clusters:\n"							\
	CLUSTER_V1
#define RETRY_ON_PATH	"static_resources.listeners[0].filter_chains[0]." \
	"filters[0].typed_config.route_config.virtual_hosts[0].routes[0]." \
	"route.retry_policy.retry_on"

#define ALL_BITS	(CD_RETRY_5XX | CD_RETRY_GATEWAY_ERROR |	\
	CD_RETRY_RESET | CD_RETRY_CONNECT_FAILURE | CD_RETRY_RETRIABLE_4XX | \
	CD_RETRY_REFUSED_STREAM | CD_RETRY_RETRIABLE_CODES |		\
	CD_RETRY_RESET_BEFORE_REQUEST | CD_RETRY_ENVOY_RATELIMITED)

/*
 * Load yaml (which must load cleanly); the route's retry_on bits, and
 * whether its /config_dump JSON holds json.
 */
static uint32_t
retry_on_of(const char *yaml, const char *json)
{
	struct conf_diags d;
	struct cd_conf *c;
	uint32_t bits = 0xffffffff;

	memset(&d, 0, sizeof(d));
	c = conf_load_buf("t.yaml", yaml, strlen(yaml), &d);
	if (c == NULL || d.cd_n != 0)
		conf_diags_print(&d, "t.yaml", stderr);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_n, 0);
	if (c != NULL) {
		bits = c->c_listener->l_vhosts[0].vh_routes[0].rt_retry.
		    rp_retry_on;
		if (strstr(c->c_json_route_config, json) == NULL)
			fprintf(stderr, "\nno %s in %s\n", json,
			    c->c_json_route_config);
		CU_ASSERT_PTR_NOT_NULL(strstr(c->c_json_route_config, json));
	}
	conf_free(c);
	conf_diags_free(&d);
	return bits;
}

/* yaml fails with exactly one error, about retry_on at line 19. */
static void
expect_retry_on_error(const char *yaml, const char *text)
{
	struct conf_diags d;
	struct cd_conf *c;
	char want[512];

	snprintf(want, sizeof(want), RETRY_ON_PATH ": %s", text);
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("t.yaml", yaml, strlen(yaml), &d);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL_FATAL(d.cd_n, 1);
	CU_ASSERT_EQUAL(d.cd_v[0].d_line, 19);
	CU_ASSERT_EQUAL(d.cd_v[0].d_col, RP_COL);
	CU_ASSERT_STRING_EQUAL(d.cd_v[0].d_text, want);
	conf_free(c);
	conf_diags_free(&d);
}

static void
flags_set_the_bits_of_their_names(void)
{
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("5xx"), "\"retry_on\":\"5xx\""),
	    CD_RETRY_5XX);
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("\"reset,5xx\""),
	    "\"retry_on\":\"reset,5xx\""), CD_RETRY_RESET | CD_RETRY_5XX);
	/* blanks around a name do not count; the JSON keeps them */
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("\" gateway-error ,\t"
	    "retriable-4xx\""), "\"retry_on\":\" gateway-error ,\\t"
	    "retriable-4xx\""), CD_RETRY_GATEWAY_ERROR |
	    CD_RETRY_RETRIABLE_4XX);
}

static void
flags_know_every_name_of_envoy_canaryd_implements(void)
{
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("\"5xx,gateway-error,reset,"
	    "connect-failure,retriable-4xx,refused-stream,"
	    "retriable-status-codes,reset-before-request,envoy-ratelimited\""),
	    "\"retry_on\":\"5xx,gateway-error,"), ALL_BITS);
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("reset-before-request"),
	    "\"retry_on\":\"reset-before-request\""),
	    CD_RETRY_RESET_BEFORE_REQUEST);
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("\"envoy-ratelimited,5xx\""),
	    "\"retry_on\":\"envoy-ratelimited,5xx\""),
	    CD_RETRY_ENVOY_RATELIMITED | CD_RETRY_5XX);
}

static void
flags_ignore_names_they_do_not_know(void)
{
	/* Envoy's gRPC names, an empty item, case and prefixes */
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("\"cancelled,,5XX,5xxx,5x,"
	    "connect-failure\""), "\"retry_on\":\"cancelled,,5XX,5xxx,5x,"
	    "connect-failure\""), CD_RETRY_CONNECT_FAILURE);
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("\"\""), "\"retry_on\":\"\""), 0);
	CU_ASSERT_EQUAL(retry_on_of(CONFIG("\",\""), "\"retry_on\":\",\""),
	    0);
}

static void
flags_want_a_string(void)
{
	expect_retry_on_error(CONFIG("[ 5xx, reset ]"),
	    "want a string, got a list");
	expect_retry_on_error(CONFIG("{ 5xx: true }"),
	    "want a string, got a mapping");
	expect_retry_on_error(CONFIG("\"5xx\\0reset\""),
	    "must not contain NUL bytes");
}

static CU_TestInfo tests[] = {
	{ "flags_set_the_bits_of_their_names",
	    flags_set_the_bits_of_their_names },
	{ "flags_know_every_name_of_envoy_canaryd_implements",
	    flags_know_every_name_of_envoy_canaryd_implements },
	{ "flags_ignore_names_they_do_not_know",
	    flags_ignore_names_they_do_not_know },
	{ "flags_want_a_string", flags_want_a_string },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_flags", tests);
