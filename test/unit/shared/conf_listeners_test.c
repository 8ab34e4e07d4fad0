/*
 * Unit tests for several listeners in the loader (shared/conf_bootstrap.c
 * fn_listeners): each its own connection manager and route table, in file
 * order; unique names (required when there are several) and addresses;
 * no count but memory's; the lookups the master uses.
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
 * none), routing to cluster v1, its stat_prefix p<prefix>. */
static void
listener_yaml_prefix(struct buf *b, const char *name, int port, int prefix)
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
	    "            typed_config: { \"@type\": " ROUTER_T " }\n", prefix);
}

/* ... its stat_prefix p<port>. */
static void
listener_yaml(struct buf *b, const char *name, int port)
{
	listener_yaml_prefix(b, name, port, port);
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
 * addresses unique.
 */
static void
listeners_are_named_and_unique(void)
{
	struct cd_conf *c;
	struct buf b;

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
	buf_free(&b);
	want_error("static_resources:\n  listeners: []\n",
	    "2:14: static_resources.listeners: canaryd needs a listener");
	want_error("static_resources: {}\n",
	    "1:19: static_resources.listeners: missing required field");
}

/* n listeners l0 .. l<n-1> on ports 10001 on, their stat_prefix
 * p<port> but every tenth's p0, into b; dup: listener dup reuses
 * listener 20's name (-1: none), dup_port: its port. */
static void
many_listeners(struct buf *b, int n, int dup, int dup_port)
{
	char name[16];
	int i;

	buf_reset(b);
	buf_puts(b, "static_resources:\n  listeners:\n");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "l%d", i == dup ? 20 : i);
		listener_yaml_prefix(b, name, i == dup_port ? 10021 : 10001 + i,
		    i % 10 == 0 ? 0 : 10001 + i);
	}
	buf_puts(b, V1_CLUSTER);
}

/*
 * No count but memory's: 200 listeners load, each its own, found by name
 * and by address; those with one stat_prefix chained in file order; a
 * duplicate name or address far down the list is still caught.
 */
static void
two_hundred_listeners_load(void)
{
	struct cd_listener probe;
	struct cd_conf *c;
	struct buf b;
	size_t i, k;

	buf_init(&b);
	many_listeners(&b, 200, -1, -1);
	c = conf_load_buf("t.yaml", b.b_data, b.b_len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->c_nlisteners, 200);
	CU_ASSERT_STRING_EQUAL(c->c_listeners[199].l_name, "l199");
	CU_ASSERT_STRING_EQUAL(c->c_listeners[199].l_stat_prefix, "p10200");
	CU_ASSERT_EQUAL(c->c_listeners[199].l_addr.sa_port, 10200);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->c_listeners[199].l_json, "10200"));
	CU_ASSERT_EQUAL(conf_listener_index(c, "l0"), 0);
	CU_ASSERT_EQUAL(conf_listener_index(c, "l137"), 137);
	CU_ASSERT_EQUAL(conf_listener_index(c, "l200"), -1);
	memset(&probe, 0, sizeof(probe));
	probe.l_addr = c->c_listeners[163].l_addr;
	CU_ASSERT_EQUAL(conf_listener_at(c, &probe), 163);
	probe.l_addr.sa_port = 10201;
	CU_ASSERT_EQUAL(conf_listener_at(c, &probe), -1);
	/* p0: listeners 0, 10, ... 190, one chain; the others alone */
	for (i = 0, k = 0; i < 200; i++) {
		const struct cd_listener *l = &c->c_listeners[i];

		CU_ASSERT_EQUAL(l->l_prefix_later, i % 10 == 0 && i > 0);
		CU_ASSERT_EQUAL(l->l_prefix_next, i % 10 == 0 && i < 190 ?
		    i + 11 : 0);
		k += i % 10 == 0;
	}
	CU_ASSERT_EQUAL(k, 20);
	conf_free(c);

	/* a listener is 12 lines with its name: listener 150 at line 1803 */
	many_listeners(&b, 200, 150, -1);
	want_error(b.b_data, "1804:11: static_resources.listeners[150].name: "
	    "duplicate listener name \"l20\" (also static_resources."
	    "listeners[20]); rename one");
	many_listeners(&b, 200, -1, 150);
	want_error(b.b_data, "1803:5: static_resources.listeners[150]: "
	    "address 127.0.0.1:10021 is also static_resources.listeners[20]'s; "
	    "give each listener its own port");
	buf_free(&b);
}

static CU_TestInfo tests[] = {
	{ "listeners_are_named_and_unique", listeners_are_named_and_unique },
	{ "two_hundred_listeners_load", two_hundred_listeners_load },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_listeners", tests)
