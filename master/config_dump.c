/*
 * /config_dump (see config_dump.h): the running configuration as Envoy's
 * six static config dumps, from the compact JSON the loader rendered
 * once (cd_conf.c_json_*), each message packed as an Any ("@type"
 * first).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/buf.h"
#include "shared/version.h"
#include "config_dump.h"
#include "json.h"

#define TYPE_PREFIX	"type.googleapis.com/"

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * Append the compact object obj with key:value (already JSON) as its first
 * member, unless it already starts with that key.  A missing or malformed
 * object becomes {key:value} alone.
 */
static void
json_prepend(struct buf *b, const char *key, const char *value,
    const char *obj)
{
	const char *p = obj != NULL ? skip_ws(obj) : "";
	char first[64];

	snprintf(first, sizeof(first), "{\"%s\"", key);
	if (*p != '{') {
		buf_printf(b, "{\"%s\":%s}", key, value);
		return;
	}
	if (strncmp(p, first, strlen(first)) == 0) {
		buf_puts(b, p);
		return;
	}
	buf_printf(b, "{\"%s\":%s", key, value);
	p = skip_ws(p + 1);
	if (*p != '}')
		buf_puts(b, ",");
	buf_puts(b, p);
}

/* The message obj packed as an Any: "@type" first. */
static void
json_any(struct buf *b, const char *type, const char *obj)
{
	char t[160];

	snprintf(t, sizeof(t), "\"" TYPE_PREFIX "%s\"", type);
	json_prepend(b, "@type", t, obj);
}

static void
cd_bootstrap(struct buf *b, const struct cd_conf *conf, const char *ts)
{
	unsigned int maj = 0, min = 0, pat = 0;
	char node[512];
	size_t nl;
	int nv;

	/* the node Envoy describes itself with; proto3 JSON drops zeros */
	sscanf(CANARYD_VERSION, "%u.%u.%u", &maj, &min, &pat);
	nv = snprintf(node, sizeof(node), "{\"user_agent_name\":\"canaryd\","
	    "\"user_agent_build_version\":{\"version\":{");
	if (maj != 0)
		nv += snprintf(node + nv, sizeof(node) - (size_t)nv,
		    "\"major_number\":%u%s", maj, min || pat ? "," : "");
	if (min != 0)
		nv += snprintf(node + nv, sizeof(node) - (size_t)nv,
		    "\"minor_number\":%u%s", min, pat ? "," : "");
	if (pat != 0)
		nv += snprintf(node + nv, sizeof(node) - (size_t)nv,
		    "\"patch\":%u", pat);
	snprintf(node + nv, sizeof(node) - (size_t)nv, "},\"metadata\":{"
	    "\"build.type\":\"RELEASE\",\"revision.status\":\"Clean\","
	    "\"ssl.version\":\"no-ssl\"}}}");

	buf_puts(b, "{\"@type\":\"" TYPE_PREFIX
	    "envoy.admin.v3.BootstrapConfigDump\",\"bootstrap\":");
	nl = conf->c_json_node != NULL ? strlen(conf->c_json_node) : 0;
	if (nl >= 2 && strncmp(conf->c_json_bootstrap, "{\"node\":", 8) == 0) {
		/* the file's node, then what canaryd says of itself */
		buf_puts(b, "{\"node\":");
		buf_append(b, conf->c_json_node, nl - 1);
		buf_puts(b, nl > 2 ? "," : "");
		buf_puts(b, node + 1);
		buf_puts(b, conf->c_json_bootstrap + 8 + nl);
	} else
		json_prepend(b, "node", node, conf->c_json_bootstrap);
	buf_printf(b, ",\"last_updated\":\"%s\"}", ts);
}

/* Static resources: {"@type"?, "<field>":<Any>, "last_updated":ts} */
static void
cd_static(struct buf *b, const char *elem_type, const char *field,
    const char *msg_type, const char *msg, const char *ts)
{
	if (elem_type != NULL)
		buf_printf(b, "{\"@type\":\"" TYPE_PREFIX "%s\",\"%s\":",
		    elem_type, field);
	else
		buf_printf(b, "{\"%s\":", field);
	json_any(b, msg_type, msg);
	buf_printf(b, ",\"last_updated\":\"%s\"}", ts);
}

enum cd_res_kind {
	CD_RES_CLUSTERS,
	CD_RES_LISTENERS,
	CD_RES_ROUTES,
	CD_RES_EMPTY,		/* repeated, nothing static lands there */
	CD_RES_SCALAR,		/* not repeated: Envoy wants ?mask= */
};

static const struct {
	const char	*r_name;
	enum cd_res_kind r_kind;
} cd_resources[] = {
	{ "static_clusters",		CD_RES_CLUSTERS },
	{ "static_listeners",		CD_RES_LISTENERS },
	{ "static_route_configs",	CD_RES_ROUTES },
	{ "dynamic_active_clusters",	CD_RES_EMPTY },
	{ "dynamic_warming_clusters",	CD_RES_EMPTY },
	{ "dynamic_listeners",		CD_RES_EMPTY },
	{ "dynamic_route_configs",	CD_RES_EMPTY },
	{ "inline_scoped_route_configs", CD_RES_EMPTY },
	{ "dynamic_scoped_route_configs", CD_RES_EMPTY },
	{ "static_secrets",		CD_RES_EMPTY },
	{ "dynamic_active_secrets",	CD_RES_EMPTY },
	{ "dynamic_warming_secrets",	CD_RES_EMPTY },
	{ "bootstrap",			CD_RES_SCALAR },
	{ "last_updated",		CD_RES_SCALAR },
	{ "version_info",		CD_RES_SCALAR },
};

#define CLUSTER_T	"envoy.config.cluster.v3.Cluster"
#define LISTENER_T	"envoy.config.listener.v3.Listener"
#define ROUTE_T		"envoy.config.route.v3.RouteConfiguration"

static void
cd_clusters(struct buf *b, const struct cd_conf *conf, const char *ts,
    const char *elem_type)
{
	size_t i;

	for (i = 0; i < conf->c_nclusters; i++) {
		if (i > 0)
			buf_puts(b, ",");
		cd_static(b, elem_type, "cluster", CLUSTER_T,
		    conf->c_json_clusters != NULL ? conf->c_json_clusters[i] :
		    NULL, ts);
	}
}

/* Every listener (routes: its route configuration), in file order. */
static void
cd_listeners(struct buf *b, const struct cd_conf *conf, const char *ts,
    const char *elem_type, bool routes)
{
	const struct cd_listener *l;
	size_t i;

	for (i = 0; i < conf->c_nlisteners; i++) {
		l = &conf->c_listeners[i];
		if (i > 0)
			buf_puts(b, ",");
		if (routes)
			cd_static(b, elem_type, "route_config", ROUTE_T,
			    l->l_json_routes, ts);
		else
			cd_static(b, elem_type, "listener", LISTENER_T,
			    l->l_json, ts);
	}
}

int
mst_config_dump(struct buf *b, const struct cd_conf *conf,
    uint64_t loaded_ms, const char *resource)
{
	struct buf c;
	int rc;

	buf_init(&c);
	rc = mst_config_dump_compact(&c, conf, loaded_ms, resource);
	if (rc == 0)
		rc = mst_json_pretty(b, c.b_data, c.b_len);
	buf_free(&c);
	return rc;
}

int
mst_config_dump_compact(struct buf *c, const struct cd_conf *conf,
    uint64_t loaded_ms, const char *resource)
{
	enum cd_res_kind kind = CD_RES_EMPTY;
	char ts[64];
	size_t i;

	if (resource != NULL) {
		for (i = 0; i < sizeof(cd_resources) / sizeof(cd_resources[0]);
		    i++)
			if (strcmp(resource, cd_resources[i].r_name) == 0)
				break;
		if (i == sizeof(cd_resources) / sizeof(cd_resources[0])) {
			errno = ENOENT;
			return -1;
		}
		if ((kind = cd_resources[i].r_kind) == CD_RES_SCALAR) {
			errno = EINVAL;
			return -1;
		}
	}
	mst_json_timestamp(ts, sizeof(ts), loaded_ms);
	buf_puts(c, "{\"configs\":[");
	if (resource == NULL) {
		cd_bootstrap(c, conf, ts);
		buf_puts(c, ",{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.ClustersConfigDump\"");
		if (conf->c_nclusters > 0) {
			buf_puts(c, ",\"static_clusters\":[");
			cd_clusters(c, conf, ts, NULL);
			buf_puts(c, "]");
		}
		buf_puts(c, "},{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.ListenersConfigDump\"");
		if (conf->c_nlisteners > 0) {
			buf_puts(c, ",\"static_listeners\":[");
			cd_listeners(c, conf, ts, NULL, false);
			buf_puts(c, "]");
		}
		buf_puts(c, "},{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.ScopedRoutesConfigDump\"}");
		buf_puts(c, ",{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.RoutesConfigDump\"");
		if (conf->c_nlisteners > 0) {
			buf_puts(c, ",\"static_route_configs\":[");
			cd_listeners(c, conf, ts, NULL, true);
			buf_puts(c, "]");
		}
		buf_puts(c, "},{\"@type\":\"" TYPE_PREFIX
		    "envoy.admin.v3.SecretsConfigDump\"}");
	} else if (kind == CD_RES_CLUSTERS)
		cd_clusters(c, conf, ts,
		    "envoy.admin.v3.ClustersConfigDump.StaticCluster");
	else if (kind == CD_RES_LISTENERS)
		cd_listeners(c, conf, ts,
		    "envoy.admin.v3.ListenersConfigDump.StaticListener", false);
	else if (kind == CD_RES_ROUTES)
		cd_listeners(c, conf, ts,
		    "envoy.admin.v3.RoutesConfigDump.StaticRouteConfig", true);
	buf_puts(c, "]}");
	if (c->b_oom) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
