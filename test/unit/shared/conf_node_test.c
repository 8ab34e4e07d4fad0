/*
 * Unit tests for the Bootstrap's node (shared/conf_bootstrap.c): id,
 * cluster, locality and free-form metadata kept, the fields that only
 * describe a proxy to a management server ignored with a warning, and
 * canaryd's own node options under metadata.canaryd: admin (address
 * blocks, a private token file) and fleet (etcd URLs, prefix, lease and
 * report timing, state directory), strict and checked at load.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "test/unit/conf_check.h"
#include "test/unit/conf_yaml.h"
#include "test/unit/unit.h"

#define SEC	CD_NS_PER_S

/* The node from line 1; then a valid listener and cluster. */
#define REST								\
	HCM_HEAD							\
	"              - match: { prefix: \"/\" }\n"			\
	"                route: { cluster: v1 }\n"			\
	"  clusters:\n"							\
	"  - name: v1\n"						\
	"    load_assignment:\n"					\
	"      cluster_name: v1\n"					\
	"      endpoints: [ { lb_endpoints: [ { endpoint: { address: "	\
	"{ socket_address: { address: 127.0.0.1, port_value: 8081 } "	\
	"} } } ] } ]\n"

/* node.metadata.canaryd.<x> on line 4 */
#define CANARYD(x)							\
	"node:\n"							\
	"  metadata:\n"							\
	"    canaryd:\n"						\
	"      " x "\n" REST
#define MD	"node.metadata.canaryd"

static void
node_id_cluster_locality_and_metadata_are_kept(void)
{
	struct cd_conf *c;

	c = ut_load_ok("node:\n"
	    "  id: edge-1\n"
	    "  cluster: shop\n"
	    "  locality: { region: eu-west, zone: a, sub_zone: r1 }\n"
	    "  metadata: { team: web, version: 3, tags: [a, b] }\n" REST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->c_node.n_id, "edge-1");
	CU_ASSERT_STRING_EQUAL(c->c_node.n_cluster, "shop");
	CU_ASSERT_STRING_EQUAL(c->c_node.n_region, "eu-west");
	CU_ASSERT_STRING_EQUAL(c->c_node.n_zone, "a");
	CU_ASSERT_STRING_EQUAL(c->c_node.n_sub_zone, "r1");
	CU_ASSERT_FALSE(c->c_node.n_admin.aa_set);
	CU_ASSERT_FALSE(c->c_node.n_fleet.fl_set);
	CU_ASSERT_STRING_EQUAL(c->c_json_node_metadata, "{\"team\":\"web\","
	    "\"version\":3,\"tags\":[\"a\",\"b\"]}");
	/* the bootstrap's JSON starts with the node (/config_dump) */
	CU_ASSERT_EQUAL(strncmp(c->c_json_bootstrap, "{\"node\":{\"id\":"
	    "\"edge-1\",\"cluster\":\"shop\",", 37), 0);
	CU_ASSERT_EQUAL(strncmp(c->c_json_bootstrap + 8, c->c_json_node,
	    strlen(c->c_json_node)), 0);
	conf_free(c);

	/* no node: nothing set, nothing rendered */
	c = ut_load_ok(REST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(c->c_node.n_id);
	CU_ASSERT_PTR_NULL(c->c_json_node);
	conf_free(c);
}

static void
node_fields_for_management_servers_are_ignored_with_a_warning(void)
{
	struct conf_diags d;
	struct cd_conf *c;

	c = ut_load("node:\n  id: n\n  user_agent_name: envoy\n"
	    "  client_features: [a]\n" REST, &d);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_EQUAL(d.cd_nerrors, 0);
	CU_ASSERT_EQUAL(d.cd_n, 2);
	CU_ASSERT(ut_has(&d, 3, 3, 1, "node.user_agent_name: ignored by "
	    "canaryd: canaryd describes itself to no management server"));
	CU_ASSERT(ut_has(&d, 4, 3, 1, "node.client_features: ignored by "
	    "canaryd: canaryd describes itself to no management server"));
	conf_free(c);
	conf_diags_free(&d);
	ut_expect_error("node: { idd: x }\n" REST, 1, 9, "node.idd: unknown field "
	    "in Node; did you mean \"id\"?");
}

/* ---- node.metadata.canaryd.admin ------------------------------------ */

static void
admin_allow_takes_ipv4_and_ipv6_blocks(void)
{
	struct cd_conf *c;
	const struct cd_admin_acl *aa;

	c = ut_load_ok(CANARYD("admin: { allow: [127.0.0.0/8, \"::1/128\", "
	    "10.1.2.3, \"fd00::/8\", 0.0.0.0/0] }"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	aa = &c->c_node.n_admin;
	CU_ASSERT(aa->aa_set);
	CU_ASSERT_EQUAL_FATAL(aa->aa_nallow, 5);
	CU_ASSERT_EQUAL(aa->aa_allow[0].c_family, AF_INET);
	CU_ASSERT_EQUAL(aa->aa_allow[0].c_bits, 8);
	CU_ASSERT_EQUAL(aa->aa_allow[0].c_addr[0], 127);
	CU_ASSERT_EQUAL(aa->aa_allow[1].c_family, AF_INET6);
	CU_ASSERT_EQUAL(aa->aa_allow[1].c_bits, 128);
	CU_ASSERT_EQUAL(aa->aa_allow[1].c_addr[15], 1);
	CU_ASSERT_EQUAL(aa->aa_allow[2].c_bits, 32);
	CU_ASSERT_EQUAL(aa->aa_allow[3].c_addr[0], 0xfd);
	CU_ASSERT_EQUAL(aa->aa_allow[4].c_bits, 0);
	CU_ASSERT_PTR_NULL(aa->aa_token_file);
	conf_free(c);
}

static void
admin_allow_refuses_bad_blocks(void)
{
	ut_expect_error(CANARYD("admin: { allow: [10.0.0.1/8] }"), 4, 24,
	    MD ".admin.allow[0]: bad address block \"10.0.0.1/8\": bits are "
	    "set past the prefix length; write the block's first address");
	ut_expect_error(CANARYD("admin: { allow: [10.0.0.0/33] }"), 4, 24,
	    MD ".admin.allow[0]: bad address block \"10.0.0.0/33\": the prefix "
	    "length must be 0..32");
	ut_expect_error(CANARYD("admin: { allow: [\"::/129\"] }"), 4, 24,
	    MD ".admin.allow[0]: bad address block \"::/129\": the prefix "
	    "length must be 0..128");
	ut_expect_error(CANARYD("admin: { allow: [localhost] }"), 4, 24,
	    MD ".admin.allow[0]: bad address block \"localhost\": want an "
	    "IPv4 or IPv6 address block like 10.0.0.0/8 or ::1/128");
	ut_expect_error(CANARYD("admin: { allow: 127.0.0.1 }"), 4, 23,
	    MD ".admin.allow: want a list, got \"127.0.0.1\"");
	ut_expect_error(CANARYD("admin: { alow: [] }"), 4, 16,
	    MD ".admin.alow: unknown field in canaryd admin access; did you "
	    "mean \"allow\"?");
	ut_expect_error(CANARYD("admins: {}"), 4, 7,
	    MD ".admins: unknown field in canaryd node metadata; did you mean "
	    "\"admin\"?");
}

static void
admin_token_file_must_be_a_private_regular_file(void)
{
	char path[] = "/tmp/canaryd-token-XXXXXX", dir[] =
	    "/tmp/canaryd-dir-XXXXXX";
	struct cd_conf *c;
	struct buf b, want;
	int fd;

	CU_ASSERT_FATAL((fd = mkstemp(path)) != -1);
	CU_ASSERT(write(fd, "secret\n", 7) == 7);
	close(fd);
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	buf_init(&b);
	buf_init(&want);

	CU_ASSERT(chmod(path, 0600) == 0);
	buf_printf(&b, CANARYD("admin: { token_file: %s }"), path);
	c = ut_load_ok(b.b_data);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->c_node.n_admin.aa_token_file, path);
	CU_ASSERT_EQUAL(c->c_node.n_admin.aa_token_pos.p_line, 4);
	conf_free(c);

	CU_ASSERT(chmod(path, 0640) == 0);
	buf_printf(&want, MD ".admin.token_file: \"%s\" is readable by group "
	    "or others (mode 640); make it private: chmod 600 %s", path, path);
	ut_expect_error(b.b_data, 4, 28, want.b_data);

	buf_reset(&b);
	buf_reset(&want);
	buf_printf(&b, CANARYD("admin: { token_file: %s }"), dir);
	buf_printf(&want, MD ".admin.token_file: \"%s\" is not a regular file; "
	    "point token_file at a file holding the token", dir);
	ut_expect_error(b.b_data, 4, 28, want.b_data);

	unlink(path);
	buf_reset(&want);
	buf_printf(&want, MD ".admin.token_file: cannot use \"%s\": No such "
	    "file or directory", path);
	buf_reset(&b);
	buf_printf(&b, CANARYD("admin: { token_file: %s }"), path);
	ut_expect_error(b.b_data, 4, 28, want.b_data);
	rmdir(dir);
	buf_free(&b);
	buf_free(&want);
}

/* ---- node.metadata.canaryd.fleet ------------------------------------ */

static void
fleet_is_parsed_with_defaults(void)
{
	struct cd_conf *c;
	const struct cd_fleet *fl;

	c = ut_load_ok(CANARYD("fleet: { etcd: [\"http://127.0.0.1:2379\", "
	    "\"http://[::1]:2379\"], prefix: /canaryd/shop }"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	fl = &c->c_node.n_fleet;
	CU_ASSERT(fl->fl_set);
	CU_ASSERT_EQUAL_FATAL(fl->fl_netcd, 2);
	CU_ASSERT_STRING_EQUAL(fl->fl_etcd[0], "http://127.0.0.1:2379");
	CU_ASSERT_STRING_EQUAL(fl->fl_etcd[1], "http://[::1]:2379");
	CU_ASSERT_STRING_EQUAL(fl->fl_prefix, "/canaryd/shop");
	CU_ASSERT_EQUAL(fl->fl_lease_ttl, 5 * SEC);
	CU_ASSERT_EQUAL(fl->fl_report_interval, SEC);
	CU_ASSERT_STRING_EQUAL(fl->fl_state_dir, "/var/lib/canaryd");
	CU_ASSERT_EQUAL(fl->fl_traffic_wait, 0);
	conf_free(c);

	c = ut_load_ok(CANARYD("fleet: { etcd: [\"http://e1:2379\"], prefix: "
	    "/f, lease_ttl: 2s, report_interval: 0.5s, state_dir: /srv/c, "
	    "traffic_wait: 120s }"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	fl = &c->c_node.n_fleet;
	CU_ASSERT_EQUAL(fl->fl_lease_ttl, 2 * SEC);
	CU_ASSERT_EQUAL(fl->fl_report_interval, SEC / 2);
	CU_ASSERT_STRING_EQUAL(fl->fl_state_dir, "/srv/c");
	CU_ASSERT_EQUAL(fl->fl_traffic_wait, 120 * SEC);
	conf_free(c);
}

static void
fleet_refuses_bad_values(void)
{
	ut_expect_error(CANARYD("fleet: { etcd: [\"https://e:2379\"], prefix: "
	    "/f }"), 4, 23, MD ".fleet.etcd[0]: bad etcd URL "
	    "\"https://e:2379\": want http://host:port");
	ut_expect_error(CANARYD("fleet: { etcd: [\"http://e\"], prefix: /f }"),
	    4, 23, MD ".fleet.etcd[0]: bad etcd URL \"http://e\": want "
	    "http://host:port");
	ut_expect_error(CANARYD("fleet: { etcd: [\"http://e:0\"], prefix: /f }"),
	    4, 23, MD ".fleet.etcd[0]: bad etcd URL \"http://e:0\": want "
	    "http://host:port");
	ut_expect_error(CANARYD("fleet: { etcd: [], prefix: /f }"), 4, 22,
	    MD ".fleet.etcd: want at least one item: the etcd cluster's "
	    "client URLs, like http://127.0.0.1:2379");
	ut_expect_error(CANARYD("fleet: { prefix: /f }"), 4, 14,
	    MD ".fleet.etcd: missing required field");
	ut_expect_error(CANARYD("fleet: { etcd: [\"http://e:1\"], prefix: f }"),
	    4, 46, MD ".fleet.prefix: bad prefix \"f\": want a key path like "
	    "/canaryd/<fleet>");
	ut_expect_error(CANARYD("fleet: { etcd: [\"http://e:1\"], prefix: /f, "
	    "lease_ttl: 1.5s }"), 4, 61, MD ".fleet.lease_ttl: must be at "
	    "least 2s");
	ut_expect_error(CANARYD("fleet: { etcd: [\"http://e:1\"], prefix: /f, "
	    "report_interval: 5s }"), 4, 67, MD ".fleet.report_interval: must "
	    "be less than lease_ttl, or the lease lapses between reports");
	ut_expect_error(CANARYD("fleet: { etcd: [\"http://e:1\"], prefix: /f, "
	    "state_dir: var/lib }"), 4, 61, MD ".fleet.state_dir: want an "
	    "absolute path, not \"var/lib\"");
	/* a duplicated key is checked too, and adds nothing past the cap */
	ut_expect_error(CANARYD("fleet: { etcd: [\"http://a:1\", \"http://a:2\", "
	    "\"http://a:3\", \"http://a:4\", \"http://a:5\", \"http://a:6\", "
	    "\"http://a:7\", \"http://a:8\"], etcd: [\"http://a:1\", "
	    "\"http://a:2\", \"http://a:3\", \"http://a:4\", \"http://a:5\", "
	    "\"http://a:6\", \"http://a:7\", \"https://a:8\"], prefix: /f }"),
	    4, 241, MD ".fleet.etcd[7]: bad etcd URL \"https://a:8\": want "
	    "http://host:port");
	ut_expect_error(CANARYD("fleet: { etcd: [\"http://e:1\"], prefix: /f, "
	    "ttl: 5s }"), 4, 50, MD ".fleet.ttl: unknown field in canaryd "
	    "fleet (canaryd.yaml(5) lists its keys)");
}

static CU_TestInfo tests[] = {
	{ "node_id_cluster_locality_and_metadata_are_kept",
	    node_id_cluster_locality_and_metadata_are_kept },
	{ "node_fields_for_management_servers_are_ignored_with_a_warning",
	    node_fields_for_management_servers_are_ignored_with_a_warning },
	{ "admin_allow_takes_ipv4_and_ipv6_blocks",
	    admin_allow_takes_ipv4_and_ipv6_blocks },
	{ "admin_allow_refuses_bad_blocks", admin_allow_refuses_bad_blocks },
	{ "admin_token_file_must_be_a_private_regular_file",
	    admin_token_file_must_be_a_private_regular_file },
	{ "fleet_is_parsed_with_defaults", fleet_is_parsed_with_defaults },
	{ "fleet_refuses_bad_values", fleet_refuses_bad_values },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_node", tests);
