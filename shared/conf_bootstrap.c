/*
 * Configuration loader: the top of the file (conf-int.h).  Master only.
 *
 * envoy.config.bootstrap.v3.Bootstrap, its StaticResources (one listener,
 * up to CD_MAX_CLUSTERS clusters with unique names), Admin and Node (id,
 * cluster and fleet mode's node.metadata.canaryd.fleet, shared/fleet-t.h),
 * and the access loggers the admin and the HTTP connection manager share:
 * each logger writes the path of its output into the char * its parent
 * hands it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "arena.h"
#include "conf.h"
#include "conf-int.h"

/* ---- access loggers --------------------------------------------------- */

/* envoy.extensions.access_loggers.file.v3.FileAccessLog */
static const struct conf_field file_log_fields[] = {
	{ "path", CK_STR, CF_REQUIRED | CF_NONEMPTY, .f_off = 0 },
	{ "format", CK_REJECT, 0, .f_why = "custom log formats" },
	{ "json_format", CK_REJECT, 0, .f_why = "custom log formats" },
	{ "typed_json_format", CK_REJECT, 0, .f_why = "custom log formats" },
	{ "log_format", CK_REJECT, 0, .f_why = "custom log formats" },
	F_END
};
static const struct conf_msg msg_file_log = { "FileAccessLog",
    file_log_fields, NULL, NULL };

/* StdoutAccessLog and StderrAccessLog: the process's own stream */
static const struct conf_field stream_log_fields[] = {
	{ "log_format", CK_REJECT, 0, .f_why = "custom log formats" },
	F_END
};

static void
stream_log_done(struct cw *w, const char *path, void *base)
{
	if ((*(char **)base = arena_strdup(w->w_arena, path)) == NULL)
		conf_oom(w);
}

static void
stdout_log_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	(void)n;
	(void)seen;
	stream_log_done(w, "/dev/stdout", base);
}

static void
stderr_log_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	(void)n;
	(void)seen;
	stream_log_done(w, "/dev/stderr", base);
}

static const struct conf_msg msg_stdout_log = { "StdoutAccessLog",
    stream_log_fields, NULL, stdout_log_done };
static const struct conf_msg msg_stderr_log = { "StderrAccessLog",
    stream_log_fields, NULL, stderr_log_done };

static const struct conf_any any_access_log[] = {
	{ "envoy.extensions.access_loggers.file.v3.FileAccessLog",
	    &msg_file_log },
	{ "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
	    &msg_stdout_log },
	{ "envoy.extensions.access_loggers.stream.v3.StderrAccessLog",
	    &msg_stderr_log },
	{ NULL, NULL }
};

static const struct conf_field access_log_fields[] = {
	{ "name", CK_STR, .f_flags = CF_NOSTORE },
	{ "filter", CK_REJECT, .f_flags = 0 },
	{ "typed_config", CK_ANY, CF_REQUIRED, .f_any = any_access_log,
	    .f_why = "access logger" },
	F_END
};
const struct conf_msg conf_msg_access_log = { "AccessLog",
    access_log_fields, NULL, NULL };

/* ---- admin ------------------------------------------------------------ */

static void
fn_access_log(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_admin *a = base;

	/* the logger tables write into a char * slot: the admin's path */
	conf_walk_one(w, f, v, &a->a_access_log_path,
	    "canaryd supports one admin access log", NULL);
}

_Static_assert(offsetof(struct cd_admin, a_set) == 0,
    "conf_done_present() sets a_set");

static const struct conf_field admin_fields[] = {
	{ "access_log_path", CK_STR, CF_NONEMPTY, 1,
	    AT(struct cd_admin, a_access_log_path) },
	{ "profile_path", CK_REJECT, .f_flags = 0 },
	{ "address", CK_MSG, CF_REQUIRED, .f_msg = &conf_msg_address,
	    AT(struct cd_admin, a_addr) },
	{ "access_log", CK_FN, 0, 1, .f_fn = fn_access_log,
	    .f_like = CK_SEQ, .f_msg = &conf_msg_access_log, .f_items = 1 },
	F_END
};
static const struct conf_msg msg_admin = { "Admin", admin_fields, NULL,
    conf_done_present };

/* ---- static resources ------------------------------------------------- */

static void
fn_listeners(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_conf *conf = base;
	struct cd_listener *l;

	if ((l = arena_alloc(w->w_arena, sizeof(*l))) == NULL) {
		conf_oom(w);
		return;
	}
	w->w_listener = l;
	if (conf_walk_one(w, f, v, l, "canaryd needs exactly one listener",
	    w->w_span_listener) == 1)
		conf->c_listener = l;
}

/* Cluster names are unique: they are what routes refer to. */
static void
clusters_unique(struct cw *w, yaml_node_t *v, const struct cd_conf *conf)
{
	const struct cd_cluster *cl;
	yaml_node_t *it, *nn;
	size_t i, j, old;

	for (i = 1; i < conf->c_nclusters && !w->w_stop; i++) {
		cl = &conf->c_clusters[i];
		for (j = 0; j < i && cl->cl_name != NULL; j++) {
			if (conf->c_clusters[j].cl_name == NULL ||
			    strcmp(conf->c_clusters[j].cl_name,
			    cl->cl_name) != 0)
				continue;
			it = conf_seq_item(w, v, i);
			nn = conf_map_get(w, it, "name");
			old = conf_path_index(w, i);
			conf_path_push(w, "name");
			conf_err(w, nn != NULL ? nn : it, "duplicate cluster "
			    "name \"%s\" (also static_resources.clusters[%zu])",
			    cl->cl_name, j);
			conf_path_pop(w, old);
			break;
		}
	}
}

static void
fn_clusters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_conf *conf = base;
	size_t n, i, old;

	if (conf_want_seq(w, v) == -1)
		return;
	n = conf_seq_len(v);
	if (n > CD_MAX_CLUSTERS) {
		conf_err(w, v, "too many clusters: %zu, canaryd supports at "
		    "most %d (CD_MAX_CLUSTERS)", n, CD_MAX_CLUSTERS);
		return;
	}
	if (n > 0 && (conf->c_clusters = arena_allocarray(w->w_arena, n,
	    sizeof(*conf->c_clusters))) == NULL) {
		conf_oom(w);
		return;
	}
	conf->c_nclusters = n;
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			conf_json_raw(w, ",");
		old = conf_path_index(w, i);
		w->w_span_clusters[i][0] = w->w_json.b_len;
		conf_walk_msg(w, conf_seq_item(w, v, i), f->f_msg,
		    &conf->c_clusters[i], NULL);
		w->w_span_clusters[i][1] = w->w_json.b_len;
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
	w->w_cluster = NULL;
	clusters_unique(w, v, conf);
}

static const struct conf_field static_fields[] = {
	{ "listeners", CK_FN, CF_REQUIRED, .f_fn = fn_listeners,
	    .f_like = CK_SEQ, .f_msg = &conf_msg_listener, .f_items = 1,
	    .f_note = "Envoy takes several" },
	{ "clusters", CK_FN, 0, .f_fn = fn_clusters, .f_like = CK_SEQ,
	    .f_msg = &conf_msg_cluster, .f_items = CD_MAX_CLUSTERS },
	{ "secrets", CK_REJECT, 0, .f_why = NO_TLS },
	F_END
};
static const struct conf_msg msg_static = { "StaticResources",
    static_fields, NULL, NULL };

/* ---- node: fleet mode ------------------------------------------------- */

/* "http://host:port" with a port in 1..65535: what the etcd client takes. */
static bool
fleet_url_ok(const char *s)
{
	const char *host = s + 7, *colon;
	char *end;
	long port;

	if (strncmp(s, "http://", 7) != 0 ||
	    (colon = strrchr(host, ':')) == NULL || colon == host ||
	    strchr(host, '/') != NULL)
		return false;
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && end != colon + 1 && port >= 1 && port <= 65535;
}

/* Rules across the fleet block's fields, once they are read. */
static void
fleet_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_fleet *fl = base;
	char msg[64];
	size_t i;

	conf_done_present(w, n, base, seen);
	if (fl->fl_netcd > CD_FLEET_MAX_ETCD) {
		snprintf(msg, sizeof(msg), "too many endpoints: canaryd takes "
		    "at most %d", CD_FLEET_MAX_ETCD);
		conf_field_err(w, conf_map_val(w, n, "etcd"), "etcd", msg);
	}
	for (i = 0; i < fl->fl_netcd && fl->fl_etcd[i] != NULL; i++)
		if (!fleet_url_ok(fl->fl_etcd[i]))
			conf_field_err(w, conf_map_val(w, n, "etcd"), "etcd",
			    "want http://host:port (etcd's gateway speaks "
			    "plain HTTP here)");
	if (fl->fl_prefix != NULL && fl->fl_prefix[0] != '/')
		conf_field_err(w, conf_map_val(w, n, "prefix"), "prefix",
		    "must begin with /");
	if (fl->fl_lease_ttl < CD_FLEET_LEASE_TTL_MIN ||
	    fl->fl_lease_ttl > CD_FLEET_LEASE_TTL_MAX)
		conf_field_err(w, conf_map_val(w, n, "lease_ttl"), "lease_ttl",
		    "must be 2s to 60s (etcd grants no lease under 2s)");
	if (fl->fl_report_interval < CD_FLEET_REPORT_MIN ||
	    fl->fl_report_interval > fl->fl_lease_ttl / 2)
		conf_field_err(w, conf_map_val(w, n, "report_interval"),
		    "report_interval", "must be 0.1s to half the lease_ttl");
	if (fl->fl_traffic_wait < 0)
		conf_field_err(w, conf_map_val(w, n, "traffic_wait"),
		    "traffic_wait", "must not be negative");
}

_Static_assert(offsetof(struct cd_fleet, fl_set) == 0,
    "conf_done_present() sets fl_set");

/* node.metadata.canaryd.fleet: one canary decision for many instances */
#define FL(m)	AT(struct cd_fleet, m)
static const struct conf_field fleet_fields[] = {
	{ "etcd", CK_STRSEQ, CF_REQUIRED | CF_NONEMPTY, .f_max = 255,
	    LIST(struct cd_fleet, fl_etcd, fl_netcd, char *),
	    .f_note = "http://host:port of etcd members (v3 JSON gateway)" },
	{ "prefix", CK_STR, CF_NONEMPTY, .f_max = CD_FLEET_PREFIX_MAX - 1,
	    FL(fl_prefix), .f_defdoc = "/canaryd/<node.cluster>" },
	{ "lease_ttl", CK_DUR, CF_DEF, .f_def = CD_FLEET_LEASE_TTL_DEFAULT,
	    FL(fl_lease_ttl), .f_note = "2s .. 60s" },
	{ "report_interval", CK_DUR, CF_DEF, .f_def = CD_FLEET_REPORT_DEFAULT,
	    FL(fl_report_interval), .f_note = "0.1s .. lease_ttl / 2" },
	{ "state_dir", CK_STR, CF_DEF | CF_NONEMPTY, .f_max = 1024,
	    .f_defstr = CD_FLEET_STATE_DIR_DEFAULT, FL(fl_state_dir) },
	{ "traffic_wait", CK_DUR, CF_DEF, .f_def = 0, FL(fl_traffic_wait),
	    .f_defdoc = "5 step intervals, at least 60s" },
	F_END
};
static const struct conf_msg msg_fleet = { "canaryd fleet", fleet_fields,
    NULL, fleet_done };

/* node.metadata.canaryd: canaryd's own node options */
static const struct conf_field node_canaryd_fields[] = {
	{ "fleet", CK_MSG, 0, .f_msg = &msg_fleet, .f_off = 0 },
	F_END
};
static const struct conf_msg msg_node_canaryd = { "canaryd node metadata",
    node_canaryd_fields, NULL, NULL };

/* envoy.config.core.v3.Node: who this instance is, in its fleet */
static const struct conf_field node_fields[] = {
	{ "id", CK_STR, CF_NONEMPTY, .f_max = CD_FLEET_ID_MAX - 1,
	    FL(fl_node_id), .f_note = "--service-node wins" },
	{ "cluster", CK_STR, CF_NONEMPTY, .f_max = CD_FLEET_ID_MAX - 1,
	    FL(fl_cluster), .f_note = "--service-cluster wins" },
	{ "metadata", CK_FN, 0, .f_fn = conf_fn_filter_metadata,
	    .f_like = CK_STRUCT, .f_msg = &msg_node_canaryd,
	    .f_note = "canaryd reads its own namespace, canaryd" },
	F_END
};
#undef FL
static const struct conf_msg msg_node = { "Node", node_fields, NULL, NULL };

/* ---- bootstrap -------------------------------------------------------- */

static const struct conf_field bootstrap_fields[] = {
	{ "node", CK_MSG, 0, .f_msg = &msg_node,
	    AT(struct cd_conf, c_fleet) },
	{ "static_resources", CK_MSG, CF_REQUIRED, .f_msg = &msg_static },
	{ "dynamic_resources", CK_REJECT, 0,
	    .f_why = "canaryd loads static configuration only" },
	{ "cluster_manager", CK_REJECT, .f_flags = 0 },
	{ "stats_sinks", CK_REJECT, .f_flags = 0 },
	{ "stats_config", CK_REJECT, .f_flags = 0 },
	{ "admin", CK_MSG, 0, .f_msg = &msg_admin,
	    AT(struct cd_conf, c_admin) },
	{ "overload_manager", CK_REJECT, .f_flags = 0 },
	{ "layered_runtime", CK_REJECT, .f_flags = 0 },
	F_END
};
const struct conf_msg conf_msg_bootstrap = { "Bootstrap",
    bootstrap_fields, NULL, NULL };
