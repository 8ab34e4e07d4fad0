/*
 * Unit tests for several listeners in the loader (shared/conf_bootstrap.c
 * fn_listeners): each its own connection manager and route table, in file
 * order; unique names (required when there are several) and addresses;
 * at most CD_MAX_LISTENERS; the lookups the master uses.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

/* The load of yaml must fail, its first error "line:col: text" want. */
static void
want_error(const char *yaml, const char *want)
{
	struct conf_diags d;
	char got[sizeof(d.cd_v->d_text) + 32] = "";
	size_t i;

	memset(&d, 0, sizeof(d));
	CU_ASSERT_PTR_NULL(conf_load_buf("t.yaml", yaml, strlen(yaml), &d));
	for (i = 0; i < d.cd_n && got[0] == '\0'; i++)
		if (!d.cd_v[i].d_warning)
			snprintf(got, sizeof(got), "%d:%d: %s",
			    d.cd_v[i].d_line, d.cd_v[i].d_col,
			    d.cd_v[i].d_text);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\nwant %s\ngot  %s\n", want, got);
	CU_ASSERT_STRING_EQUAL(got, want);
	conf_diags_free(&d);
}

/* One listener of the unit tests' shape on port port, named name (NULL:
 * none), routing to cluster v1. */
static void
listener_yaml(struct buf *b, const char *name, int port)
{
	buf_printf(b, "  - address: { socket_address: { address: "
	    "127.0.0.1, port_value: %d } }\n", port);
	if (name != NULL)
		buf_printf(b, "    name: %s\n", name);
	buf_printf(b,
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": " HCM_T "\n"
	    "          stat_prefix: p%d\n"
	    "          route_config: { virtual_hosts: [ { name: a, domains: "
	    "[\"*\"], routes: [ { match: { prefix: / }, route: { cluster: "
	    "v1 } } ] } ] }\n"
	    "          http_filters:\n"
	    "          - name: envoy.filters.http.router\n"
	    "            typed_config: { \"@type\": " ROUTER_T " }\n", port);
}

#define V1_CLUSTER	"  clusters:\n" CLUSTER_V1

/* A file with two listeners (a, b: their names, or NULL) on ports pa
 * and pb, into b reset first. */
static void
two_listeners(struct buf *b, const char *na, int pa, const char *nb, int pb)
{
	buf_reset(b);
	buf_puts(b, "static_resources:\n  listeners:\n");
	listener_yaml(b, na, pa);
	listener_yaml(b, nb, pb);
	buf_puts(b, V1_CLUSTER);
}

/*
 * Several listeners, as in Envoy: each its own manager and routes, in
 * file order; names unique (and needed when there are several),
 * addresses unique, at most CD_MAX_LISTENERS.
 */
static void
listeners_are_named_and_unique(void)
{
	struct cd_conf *c;
	struct buf b;
	int i;

	buf_init(&b);
	two_listeners(&b, "front", 10001, "back", 10002);
	c = conf_load_buf("t.yaml", b.b_data, b.b_len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_nlisteners, 2);
	CU_ASSERT_PTR_EQUAL(c->c_listener, &c->c_listeners[0]);
	CU_ASSERT_STRING_EQUAL(c->c_listeners[1].l_name, "back");
	CU_ASSERT_EQUAL(c->c_listeners[1].l_index, 1);
	CU_ASSERT_STRING_EQUAL(c->c_listeners[1].l_stat_prefix, "p10002");
	CU_ASSERT_EQUAL(c->c_listeners[1].l_nvhosts, 1);
	CU_ASSERT_EQUAL(conf_listener_index(c, "back"), 1);
	CU_ASSERT_EQUAL(conf_listener_index(c, "side"), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_listeners[1].l_json, "10002"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_listeners[1].l_json_routes,
	    "virtual_hosts"));
	conf_free(c);

	/* a listener is 11 lines, 12 with its name */
	two_listeners(&b, NULL, 10001, NULL, 10002);
	want_error(b.b_data, "3:5: static_resources.listeners[0]: a "
	    "listener needs a name when there are several; add name: "
	    "listener_0");
	two_listeners(&b, "front", 10001, "front", 10002);
	want_error(b.b_data, "16:11: static_resources.listeners[1]."
	    "name: "
	    "duplicate listener name \"front\" (also static_resources."
	    "listeners[0]); rename one");
	two_listeners(&b, "front", 10001, "back", 10001);
	want_error(b.b_data, "15:5: static_resources.listeners[1]: "
	    "address 127.0.0.1:10001 is also static_resources.listeners[0]'s; "
	    "give each listener its own port");
	buf_reset(&b);
	buf_puts(&b, "static_resources:\n  listeners:\n");
	for (i = 0; i <= CD_MAX_LISTENERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "l%d", i);
		listener_yaml(&b, name, 10001 + i);
	}
	buf_puts(&b, V1_CLUSTER);
	want_error(b.b_data, "3:3: static_resources.listeners: too many "
	    "listeners: 17, canaryd supports at most 16 (CD_MAX_LISTENERS); "
	    "route by domain in one listener's virtual_hosts, or run "
	    "another canaryd");
	buf_free(&b);
	want_error("static_resources:\n  listeners: []\n",
	    "2:14: static_resources.listeners: canaryd needs a listener");
	want_error("static_resources: {}\n",
	    "1:19: static_resources.listeners: missing required field");
}

static CU_TestInfo tests[] = {
	{ "listeners_are_named_and_unique", listeners_are_named_and_unique },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_listeners", tests)
