/*
 * Unit tests for master/reload.c: which reloads are weights-only (applied
 * in place) and which are structural (a new generation of workers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/conf.h"
#include "master/mst.h"
#include "master/reload.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

/*
 * One weighted route over v1 and v2 (weights w1, w2), v1's endpoint
 * with load_balancing_weight lbw and connect_timeout ct.
 */
static struct cd_conf *
load(unsigned w1, unsigned w2, unsigned lbw, const char *ct)
{
	struct conf_diags d;
	struct cd_conf *c;
	char yaml[4096];
	int n;

	n = snprintf(yaml, sizeof(yaml), HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                route:\n"
	    "                  weighted_clusters:\n"
	    "                    clusters:\n"
	    "                    - { name: v1, weight: %u }\n"
	    "                    - { name: v2, weight: %u }\n"
	    "  clusters:\n"
	    "  - name: v1\n"
	    "    type: STATIC\n"
	    "    connect_timeout: %s\n"
	    "    load_assignment:\n"
	    "      cluster_name: v1\n"
	    "      endpoints:\n"
	    "      - lb_endpoints:\n"
	    "        - endpoint: { address: { socket_address: { address: "
	    "127.0.0.1, port_value: 9001 } } }\n"
	    "          load_balancing_weight: %u\n"
	    "  - name: v2\n"
	    "    type: STATIC\n"
	    "    load_assignment:\n"
	    "      cluster_name: v2\n"
	    "      endpoints:\n"
	    "      - lb_endpoints:\n"
	    "        - endpoint: { address: { socket_address: { address: "
	    "127.0.0.1, port_value: 9002 } } }\n", w1, w2, ct, lbw);
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("reload.yaml", yaml, (size_t)n, &d);
	conf_diags_free(&d);
	CU_ASSERT_PTR_NOT_NULL(c);
	return c;
}

static enum mst_change
change(struct cd_conf *a, struct cd_conf *b)
{
	enum mst_change ch;

	CU_ASSERT_FATAL(a != NULL && b != NULL);
	ch = mst_reload_change(a, b);
	conf_free(a);
	conf_free(b);
	return ch;
}

static void
same_file_and_new_weights_are_weights_only(void)
{
	CU_ASSERT_EQUAL(change(load(90, 10, 1, "1s"), load(90, 10, 1, "1s")),
	    MST_CH_WEIGHTS);
	CU_ASSERT_EQUAL(change(load(90, 10, 1, "1s"), load(80, 20, 1, "1s")),
	    MST_CH_WEIGHTS);
	/* a total that changes is a weight too */
	CU_ASSERT_EQUAL(change(load(90, 10, 1, "1s"),
	    load(900, 100, 1, "1s")), MST_CH_WEIGHTS);
}

/* Running workers keep their copy of which cluster is the canary. */
static void
weights_that_swap_the_canary_are_structural(void)
{
	CU_ASSERT_EQUAL(change(load(90, 10, 1, "1s"), load(10, 90, 1, "1s")),
	    MST_CH_STRUCTURAL);
}

static void
anything_else_is_structural(void)
{
	CU_ASSERT_EQUAL(change(load(90, 10, 1, "1s"), load(90, 10, 1, "2s")),
	    MST_CH_STRUCTURAL);
	/* an endpoint's load_balancing_weight is not a route weight */
	CU_ASSERT_EQUAL(change(load(90, 10, 1, "1s"), load(90, 10, 5, "1s")),
	    MST_CH_STRUCTURAL);
}

/* A direct response whose body is the environment's RELOAD_BODY. */
static struct cd_conf *
load_direct(const char *body)
{
	static const char yaml[] = HCM_HEAD
	    "              - match: { prefix: \"/\" }\n"
	    "                direct_response: { status: 200, body: { "
	    "environment_variable: RELOAD_BODY } }\n"
	    "  clusters:\n" CLUSTER_V1;
	struct conf_diags d;
	struct cd_conf *c;

	setenv("RELOAD_BODY", body, 1);
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("reload.yaml", yaml, sizeof(yaml) - 1, &d);
	conf_diags_free(&d);
	unsetenv("RELOAD_BODY");
	return c;
}

/* The text names the body; the bytes it names changed. */
static void
a_new_body_from_the_same_text_is_structural(void)
{
	CU_ASSERT_EQUAL(change(load_direct("a"), load_direct("a")),
	    MST_CH_WEIGHTS);
	CU_ASSERT_EQUAL(change(load_direct("a"), load_direct("b")),
	    MST_CH_STRUCTURAL);
	CU_ASSERT_EQUAL(change(load_direct("a"), load_direct("ab")),
	    MST_CH_STRUCTURAL);
}

static CU_TestInfo tests[] = {
	{ "same_file_and_new_weights_are_weights_only",
	    same_file_and_new_weights_are_weights_only },
	{ "weights_that_swap_the_canary_are_structural",
	    weights_that_swap_the_canary_are_structural },
	{ "anything_else_is_structural", anything_else_is_structural },
	{ "a_new_body_from_the_same_text_is_structural",
	    a_new_body_from_the_same_text_is_structural },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("master/reload", tests);
