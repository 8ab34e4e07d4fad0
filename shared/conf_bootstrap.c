/*
 * Configuration loader: the top of the file (conf-int.h).  Master only.
 *
 * envoy.config.bootstrap.v3.Bootstrap, its StaticResources (listeners
 * and clusters with unique names, as many as memory holds) and Admin,
 * and the
 * access loggers the admin and the HTTP connection manager share: each
 * logger writes the path of its output into the char * its parent hands
 * it.  Also the Node: its id and cluster name this canaryd in logs and
 * /server_info, and its metadata.canaryd holds canaryd's own node
 * options (admin access, fleet membership), strict as every table.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "alog.h"
#include "arena.h"
#include "conf.h"
#include "cidr.h"
#include "conf-int.h"

/* ---- access loggers --------------------------------------------------- */

#define LOG_JSON_ITEMS	256	/* keys and objects of a json_format */

/* The layout of logger al, made on first use. */
static struct alog_layout *
log_layout(struct cw *w, struct cd_alog *al)
{
	if (al->al_layout == NULL && (al->al_layout = arena_alloc(w->w_arena,
	    sizeof(*al->al_layout))) == NULL)
		conf_oom(w);
	return al->al_layout;
}

/* Header names the worker keeps for the lines (not those the default
 * line keeps anyway). */
static void
log_hdr_note(struct cw *w, yaml_node_t *n, const struct alog_tok *t,
    const char *name, size_t len)
{
	static const char *const have_req[] = { ":path", ":method",
	    ":authority", ":scheme", "host", "x-forwarded-for", "user-agent",
	    "x-request-id", NULL };
	static const char *const have_resp[] = {
	    "x-envoy-upstream-service-time", NULL };
	struct cd_listener *l = w->w_listener;
	const char *const *have = t->t_cmd == ALOG_C_REQ ? have_req : have_resp;
	const char **v;
	size_t *nv, i;

	if (l == NULL || name == NULL)
		return;
	for (i = 0; have[i] != NULL; i++)
		if (strlen(have[i]) == len && memcmp(have[i], name, len) == 0)
			return;
	v = t->t_cmd == ALOG_C_REQ ? l->l_alog_req : l->l_alog_resp;
	nv = t->t_cmd == ALOG_C_REQ ? &l->l_alog_nreq : &l->l_alog_nresp;
	for (i = 0; i < *nv; i++)
		if (strlen(v[i]) == len && memcmp(v[i], name, len) == 0)
			return;
	if (*nv == CD_ALOG_MAX_HDRS) {
		conf_err(w, n, "the access log formats name more than %d "
		    "%s headers (CD_ALOG_MAX_HDRS); log fewer", CD_ALOG_MAX_HDRS,
		    t->t_cmd == ALOG_C_REQ ? "request" : "response");
		return;
	}
	v[(*nv)++] = name;
}

/* Format s (node n) compiled into f; errors say where in s. */
static int
log_fmt(struct cw *w, yaml_node_t *n, const char *s, struct alog_fmt *f,
    unsigned int *needs)
{
	const char *why;
	size_t at, i;

	if (alog_fmt_parse(w->w_arena, s, strlen(s), f, &why, &at) == -1) {
		conf_err(w, n, "bad format at byte %zu (\"%.*s\"): %s", at + 1,
		    CONF_QUOTE_MAX / 2, s + at, why);
		return -1;
	}
	*needs |= f->f_needs;
	for (i = 0; i < f->f_ntoks; i++) {
		if (f->f_toks[i].t_cmd != ALOG_C_REQ &&
		    f->f_toks[i].t_cmd != ALOG_C_RESP)
			continue;
		log_hdr_note(w, n, &f->f_toks[i], f->f_toks[i].t_s,
		    f->f_toks[i].t_len);
		log_hdr_note(w, n, &f->f_toks[i], f->f_toks[i].t_alt,
		    f->f_toks[i].t_alt_len);
	}
	return 0;
}

/* A text format s at node n for layout lo. */
static void
log_text_set(struct cw *w, yaml_node_t *n, struct alog_layout *lo,
    const char *s)
{
	if (lo == NULL)
		return;
	if (log_fmt(w, n, s, &lo->lo_text, &lo->lo_needs) == 0)
		lo->lo_kind = ALOG_L_TEXT;
}

/* A JSON layout being built. */
struct log_json {
	struct alog_jitem	 j_items[LOG_JSON_ITEMS];
	size_t			 j_n;
};

static struct alog_jitem *
log_json_item(struct cw *w, yaml_node_t *n, struct log_json *j,
    uint8_t kind)
{
	struct alog_jitem *it;

	if (j->j_n == LOG_JSON_ITEMS) {
		if (j->j_n++ == LOG_JSON_ITEMS)
			conf_err(w, n, "more than %d keys and objects; log "
			    "fewer", LOG_JSON_ITEMS);
		return NULL;
	}
	it = &j->j_items[j->j_n++];
	memset(it, 0, sizeof(*it));
	it->j_kind = kind;
	return it;
}

/* A plain YAML scalar JSON takes as it is: a number, true, false, null. */
static bool
log_json_literal(const yaml_node_t *v)
{
	const char *s = conf_sval(v);

	if (!conf_is_plain(v))
		return false;
	return conf_is_json_number(s, conf_slen(v)) || strcmp(s, "true") == 0 ||
	    strcmp(s, "false") == 0 || strcmp(s, "null") == 0;
}

/* Item it's key: key node k's text, kept past the YAML document. */
static void
log_json_key(struct cw *w, struct alog_jitem *it, yaml_node_t *k)
{
	if ((it->j_key = arena_strndup(w->w_arena, conf_sval(k),
	    conf_slen(k))) == NULL)
		conf_oom(w);
	it->j_key_len = conf_slen(k);
}

/* The members of mapping n (a Struct) at depth d. */
static void
log_json_walk(struct cw *w, yaml_node_t *n, struct log_json *j,
    struct alog_layout *lo, int d)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	struct alog_jitem *it;
	size_t old;

	if (n->type != YAML_MAPPING_NODE) {
		conf_err(w, n, "want a mapping of keys to formats");
		return;
	}
	if (d > ALOG_JSON_DEPTH) {
		conf_err(w, n, "objects nested more than %d deep; flatten "
		    "them", ALOG_JSON_DEPTH);
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top &&
	    !w->w_stop; p++) {
		k = conf_node(w, p->key);
		v = conf_node(w, p->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE) {
			conf_err(w, n, "want text keys");
			continue;
		}
		old = conf_path_pushn(w, conf_sval(k), conf_slen(k));
		if (v->type == YAML_MAPPING_NODE) {
			if ((it = log_json_item(w, v, j, ALOG_J_OPEN)) !=
			    NULL)
				log_json_key(w, it, k);
			log_json_walk(w, v, j, lo, d + 1);
			(void)log_json_item(w, v, j, ALOG_J_CLOSE);
		} else if (v->type != YAML_SCALAR_NODE) {
			conf_err(w, v, "a list cannot be a value of the "
			    "format; give each value a key of its own");
		} else if ((it = log_json_item(w, v, j, ALOG_J_VALUE)) !=
		    NULL) {
			log_json_key(w, it, k);
			if (log_json_literal(v)) {
				it->j_kind = ALOG_J_LIT;
				if ((it->j_lit = arena_strdup(w->w_arena,
				    conf_sval(v))) == NULL)
					conf_oom(w);
			} else
				(void)log_fmt(w, v, conf_sval(v), &it->j_fmt,
				    &lo->lo_needs);
		}
		conf_path_pop(w, old);
	}
}

/* A json_format Struct at node v into lo; typed: a lone command keeps
 * its type. */
static void
log_json_set(struct cw *w, yaml_node_t *v, struct alog_layout *lo,
    bool typed)
{
	struct log_json *j;

	conf_json_yaml(w, v, 0);
	if (lo == NULL || (j = calloc(1, sizeof(*j))) == NULL) {
		if (lo != NULL)
			conf_oom(w);
		return;
	}
	(void)log_json_item(w, v, j, ALOG_J_OPEN);
	log_json_walk(w, v, j, lo, 1);
	(void)log_json_item(w, v, j, ALOG_J_CLOSE);
	if (j->j_n <= LOG_JSON_ITEMS && (lo->lo_items = arena_allocarray(
	    w->w_arena, j->j_n, sizeof(*lo->lo_items))) == NULL)
		conf_oom(w);
	else if (j->j_n <= LOG_JSON_ITEMS) {
		memcpy(lo->lo_items, j->j_items, j->j_n * sizeof(*j->j_items));
		lo->lo_nitems = j->j_n;
		lo->lo_kind = ALOG_L_JSON;
		lo->lo_typed = typed;
	}
	free(j);
}

/* SubstitutionFormatString.text_format, and FileAccessLog.format */
static void
fn_log_text(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	char *s;

	(void)f;
	conf_json_yaml(w, v, 0);
	if ((s = conf_get_str(w, v, 0, ALOG_FMT_MAX_LEN)) != NULL)
		log_text_set(w, v, base, s);
}

static void
fn_file_log_text(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	fn_log_text(w, f, v, log_layout(w, base));
}

/* SubstitutionFormatString.json_format: typed */
static void
fn_log_json(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	(void)f;
	log_json_set(w, v, base, true);
}

/* FileAccessLog's deprecated json_format: every value a string */
static void
fn_file_log_json(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	(void)f;
	log_json_set(w, v, log_layout(w, base), false);
}

static void
fn_file_log_typed_json(struct cw *w, const struct conf_field *f,
    yaml_node_t *v, void *base)
{
	(void)f;
	log_json_set(w, v, log_layout(w, base), true);
}

/* text_format_source.filename: the format, read when the file loads */
static void
fn_log_file(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	char *data;
	size_t n;

	(void)f;
	if ((data = conf_read_file(w, v, ALOG_FMT_MAX_LEN, &n)) == NULL)
		return;
	if (memchr(data, '\0', n) != NULL)
		conf_err(w, v, "want a text format of at most %d bytes, "
		    "without NUL", ALOG_FMT_MAX_LEN);
	else
		log_text_set(w, v, base, data);
	free(data);
}

/* text_format_source.environment_variable: read when the file loads */
static void
fn_log_env(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	const char *val;

	(void)f;
	if ((val = conf_get_env(w, v)) == NULL)
		return;
	if (strlen(val) > ALOG_FMT_MAX_LEN)
		conf_err(w, v, "the environment variable's value is over %d "
		    "bytes; want a shorter format", ALOG_FMT_MAX_LEN);
	else
		log_text_set(w, v, base, val);
}

/* envoy.config.core.v3.DataSource, as a text format's source */
static const struct conf_field log_source_fields[] = {
	{ "filename", CK_FN, 0, 1, .f_fn = fn_log_file, .f_like = CK_STR,
	    .f_note = "read when the configuration loads" },
	{ "inline_bytes", CK_REJECT, 0, 1, .f_why = "canaryd reads formats "
	    "as text; write the format in inline_string" },
	{ "inline_string", CK_FN, 0, 1, .f_fn = fn_log_text,
	    .f_like = CK_STR },
	{ "environment_variable", CK_FN, 0, 1, .f_fn = fn_log_env,
	    .f_like = CK_STR, .f_note = "read when the configuration loads" },
	{ "watched_directory", CK_REJECT, 0, .f_why = "canaryd reads a "
	    "format when the configuration loads; send SIGHUP after "
	    "changing the file" },
	F_END
};
static const struct conf_msg msg_log_source = { "DataSource",
    log_source_fields, NULL, NULL };

/* envoy.config.core.v3.SubstitutionFormatString, into a layout */
static const struct conf_field log_format_fields[] = {
	{ "text_format", CK_FN, CF_REQUIRED, 1, .f_fn = fn_log_text,
	    .f_like = CK_STR, .f_note = "deprecated; a line without a "
	    "final newline gets one" },
	{ "json_format", CK_FN, 0, 1, .f_fn = fn_log_json,
	    .f_like = CK_STRUCT, .f_note = "a lone command keeps its type: "
	    "numbers are numbers, a missing value is null" },
	{ "text_format_source", CK_MSG, 0, 1, .f_msg = &msg_log_source,
	    .f_note = "a line without a final newline gets one" },
	{ "omit_empty_values", CK_BOOL, 0, AT(struct alog_layout,
	    lo_omit_empty) },
	{ "content_type", CK_IGNORE, 0, .f_why = "it types local reply "
	    "bodies; an access log line has no content type" },
	{ "formatters", CK_REJECT, 0, .f_why = "canaryd loads no formatter "
	    "extensions; use the commands canaryd-envoy(7) lists" },
	{ "json_format_options", CK_IGNORE, 0, .f_why = "canaryd writes the "
	    "keys in the order of the configuration" },
	F_END
};
static const struct conf_msg msg_log_format = { "SubstitutionFormatString",
    log_format_fields, NULL, NULL };

/* A logger's log_format: its layout, made here. */
static void
fn_log_format(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct alog_layout *lo;

	if ((lo = log_layout(w, base)) != NULL)
		conf_walk_msg(w, v, f->f_msg, lo, NULL);
}

/* envoy.extensions.access_loggers.file.v3.FileAccessLog */
static const struct conf_field file_log_fields[] = {
	{ "path", CK_STR, CF_REQUIRED | CF_NONEMPTY, .f_off = 0 },
	{ "format", CK_FN, 0, 1, .f_fn = fn_file_log_text, .f_like = CK_STR,
	    .f_note = "deprecated: log_format.text_format_source" },
	{ "json_format", CK_FN, 0, 1, .f_fn = fn_file_log_json,
	    .f_like = CK_STRUCT, .f_note = "deprecated: every value is "
	    "written as a string" },
	{ "typed_json_format", CK_FN, 0, 1, .f_fn = fn_file_log_typed_json,
	    .f_like = CK_STRUCT, .f_note = "deprecated: "
	    "log_format.json_format" },
	{ "log_format", CK_FN, 0, 1, .f_fn = fn_log_format, .f_like = CK_MSG,
	    .f_msg = &msg_log_format },
	F_END
};
static const struct conf_msg msg_file_log = { "FileAccessLog",
    file_log_fields, NULL, NULL };

/* StdoutAccessLog and StderrAccessLog: the process's own stream */
static const struct conf_field stream_log_fields[] = {
	{ "log_format", CK_FN, 0, 1, .f_fn = fn_log_format, .f_like = CK_MSG,
	    .f_msg = &msg_log_format },
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

#define LOG_LOCAL	"canaryd writes access logs to files and its own " \
	"streams only; use a FileAccessLog and ship the file"
static const struct conf_any any_access_log[] = {
	{ "envoy.extensions.access_loggers.file.v3.FileAccessLog",
	    &msg_file_log, "envoy.access_loggers.file", NULL },
	{ "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
	    &msg_stdout_log, "envoy.access_loggers.stdout", NULL },
	{ "envoy.extensions.access_loggers.stream.v3.StderrAccessLog",
	    &msg_stderr_log, "envoy.access_loggers.stderr", NULL },
	{ "envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
	    NULL, "envoy.access_loggers.http_grpc", LOG_LOCAL },
	{ "envoy.extensions.access_loggers.open_telemetry.v3."
	    "OpenTelemetryAccessLogConfig", NULL,
	    "envoy.access_loggers.open_telemetry", LOG_LOCAL },
	{ "envoy.extensions.access_loggers.fluentd.v3.FluentdAccessLogConfig",
	    NULL, "envoy.access_loggers.fluentd", LOG_LOCAL },
	{ NULL, NULL, NULL, LOG_LOCAL }
};

static const struct conf_field access_log_fields[] = {
	{ "name", CK_STR, .f_flags = CF_NOSTORE },
	{ "filter", CK_REJECT, 0, .f_why = "canaryd logs every request; "
	    "remove the filter and select lines when reading the log" },
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

	/* the logger tables write into a struct cd_alog */
	conf_walk_one(w, f, v, &a->a_log, sizeof(a->a_log),
	    "canaryd supports one admin access log; remove the others",
	    NULL);
}

_Static_assert(offsetof(struct cd_admin, a_set) == 0,
    "conf_done_present() sets a_set");

static const struct conf_field admin_fields[] = {
	{ "access_log_path", CK_STR, CF_NONEMPTY, 1,
	    AT(struct cd_admin, a_log.al_path) },
	{ "profile_path", CK_IGNORE, 0, .f_why = "canaryd has no CPU "
	    "profiler" },
	{ "address", CK_MSG, CF_REQUIRED, .f_msg = &conf_msg_address,
	    AT(struct cd_admin, a_addr) },
	{ "access_log", CK_FN, 0, 1, .f_fn = fn_access_log,
	    .f_like = CK_SEQ, .f_msg = &conf_msg_access_log, .f_items = 1 },
	{ "socket_options", CK_REJECT, 0, .f_why = NO_SOCKOPT },
	{ "ignore_global_conn_limit", CK_IGNORE, 0, .f_why = "canaryd has "
	    "no global connection limit to exempt the admin from" },
	{ "allow_paths", CK_REJECT, 0, .f_why = "canaryd serves every admin "
	    "path; restrict who reaches the admin interface instead (bind "
	    "it to 127.0.0.1, or node.metadata.canaryd.admin.allow)" },
	F_END
};
static const struct conf_msg msg_admin = { "Admin", admin_fields, NULL,
    conf_done_present };

/* ---- node ------------------------------------------------------------- */

static void
fn_admin_allow(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_admin_acl *aa = base;
	struct cd_cidr c;
	const char *why;
	yaml_node_t *it;
	size_t i, n, old;
	char *s;

	if (conf_want_seq(w, v) == -1)
		return;
	if ((n = conf_seq_len(v)) > f->f_items) {
		conf_err(w, v, "too many items: %zu, canaryd supports at most "
		    "%zu (CD_MAX_ADMIN_ALLOW); merge blocks", n, f->f_items);
		n = f->f_items;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < conf_seq_len(v) && !w->w_stop; i++) {
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if (i > 0)
			conf_json_raw(w, ",");
		if (conf_visit(w, it) && (s = conf_get_str(w, it, CF_NONEMPTY,
		    64)) != NULL) {
			conf_json_str(w, s, strlen(s));
			if (cd_cidr_parse(s, &c, &why) == -1)
				conf_err(w, it, "bad address block \"%s\": %s",
				    s, why);
			else if (aa->aa_nallow < n)
				aa->aa_allow[aa->aa_nallow++] = c;
		}
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}

/* A token file must hold a secret: a regular file only its owner reads. */
static void
node_admin_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_admin_acl *aa = base;
	yaml_node_t *tn;
	struct stat st;
	size_t old;

	(void)seen;
	aa->aa_set = true;
	if (aa->aa_token_file == NULL)
		return;
	tn = conf_map_val(w, n, "token_file");
	old = conf_path_push(w, "token_file");
	if (stat(aa->aa_token_file, &st) == -1)
		conf_err(w, tn, "cannot use \"%s\": %s", aa->aa_token_file,
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		conf_err(w, tn, "\"%s\" is not a regular file; point "
		    "token_file at a file holding the token",
		    aa->aa_token_file);
	else if (st.st_mode & (S_IRGRP | S_IROTH))
		conf_err(w, tn, "\"%s\" is readable by group or others "
		    "(mode %03o); make it private: chmod 600 %s",
		    aa->aa_token_file, (unsigned int)(st.st_mode & 0777),
		    aa->aa_token_file);
	conf_path_pop(w, old);
}

#define AA(m)	AT(struct cd_admin_acl, m)
static const struct conf_field node_admin_fields[] = {
	{ "allow", CK_FN, 0, .f_fn = fn_admin_allow, .f_like = CK_STRSEQ,
	    .f_items = CD_MAX_ADMIN_ALLOW, .f_max = 64 },
	{ "token_file", CK_STR, CF_NONEMPTY | CF_POS, .f_max = 4095,
	    AA(aa_token_file), .f_pos = offsetof(struct cd_admin_acl,
	    aa_token_pos) },
	F_END
};
#undef AA
static const struct conf_msg msg_node_admin = { "canaryd admin access",
    node_admin_fields, NULL, node_admin_done };

/* "http://host:port": etcd's client URL, plain HTTP as canaryd speaks. */
static int
etcd_url_ok(const char *s)
{
	const char *host, *colon, *errstr;

	if (strncmp(s, "http://", 7) != 0)
		return 0;
	host = s + 7;
	if (*host == '[') {
		if ((colon = strstr(host, "]:")) == NULL || colon == host + 1)
			return 0;
		colon++;
	} else if ((colon = strrchr(host, ':')) == NULL || colon == host ||
	    memchr(host, '/', (size_t)(colon - host)) != NULL)
		return 0;
	strtonum(colon + 1, 1, 65535, &errstr);
	return errstr == NULL;
}

static void
fn_fleet_etcd(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_fleet *fl = base;
	yaml_node_t *it;
	size_t i, n, old;
	char *s;

	if (conf_want_seq(w, v) == -1)
		return;
	if ((n = conf_seq_len(v)) == 0)
		conf_err(w, v, "want at least one item: the etcd cluster's "
		    "client URLs, like http://127.0.0.1:2379");
	else if (n > f->f_items)
		conf_err(w, v, "too many items: %zu, canaryd supports at most "
		    "%zu (CD_MAX_ETCD)", n, f->f_items);
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if (i > 0)
			conf_json_raw(w, ",");
		if (conf_visit(w, it) && (s = conf_get_str(w, it, CF_NONEMPTY,
		    f->f_max)) != NULL) {
			conf_json_str(w, s, strlen(s));
			/* counted on fl_netcd: a duplicated key adds more */
			if (!etcd_url_ok(s))
				conf_err(w, it, "bad etcd URL \"%s\": want "
				    "http://host:port", s);
			else if (fl->fl_netcd < CD_MAX_ETCD)
				fl->fl_etcd[fl->fl_netcd++] = s;
		}
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}

static void
fleet_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_fleet *fl = base;
	size_t old;

	(void)seen;
	fl->fl_set = true;
	if (fl->fl_prefix != NULL && fl->fl_prefix[0] != '/') {
		old = conf_path_push(w, "prefix");
		conf_err(w, conf_map_val(w, n, "prefix"), "bad prefix \"%s\": "
		    "want a key path like /canaryd/<fleet>", fl->fl_prefix);
		conf_path_pop(w, old);
	}
	if (fl->fl_lease_ttl < 2 * CONF_S) {
		old = conf_path_push(w, "lease_ttl");
		conf_err(w, conf_map_val(w, n, "lease_ttl"), "must be at "
		    "least 2s");
		conf_path_pop(w, old);
	} else if (fl->fl_report_interval >= fl->fl_lease_ttl) {
		old = conf_path_push(w, "report_interval");
		conf_err(w, conf_map_val(w, n, "report_interval"), "must be "
		    "less than lease_ttl, or the lease lapses between "
		    "reports");
		conf_path_pop(w, old);
	}
	if (fl->fl_state_dir != NULL && fl->fl_state_dir[0] != '/') {
		old = conf_path_push(w, "state_dir");
		conf_err(w, conf_map_val(w, n, "state_dir"), "want an "
		    "absolute path, not \"%s\"", fl->fl_state_dir);
		conf_path_pop(w, old);
	}
}

#define FL(m)	AT(struct cd_fleet, m)
static const struct conf_field fleet_fields[] = {
	{ "etcd", CK_FN, CF_REQUIRED | CF_NONEMPTY, .f_fn = fn_fleet_etcd,
	    .f_like = CK_STRSEQ, .f_items = CD_MAX_ETCD, .f_max = 255 },
	{ "prefix", CK_STR, CF_REQUIRED | CF_NONEMPTY, .f_max = 255,
	    FL(fl_prefix) },
	{ "lease_ttl", CK_DUR, CF_DEF | CF_GT, .f_def = 5 * CONF_S,
	    FL(fl_lease_ttl), .f_note = "at least 2s" },
	{ "report_interval", CK_DUR, CF_DEF | CF_GT, .f_def = CONF_S,
	    FL(fl_report_interval), .f_note = "less than lease_ttl" },
	{ "state_dir", CK_STR, CF_DEF | CF_NONEMPTY, .f_max = 4095,
	    .f_defstr = "/var/lib/canaryd", FL(fl_state_dir) },
	{ "traffic_wait", CK_DUR, CF_DEF, .f_def = 0, FL(fl_traffic_wait),
	    .f_defdoc = "5 step intervals, at least 60s" },
	F_END
};
#undef FL
static const struct conf_msg msg_fleet = { "canaryd fleet", fleet_fields,
    NULL, fleet_done };

/* node.metadata.canaryd */
static const struct conf_field node_canaryd_fields[] = {
	{ "admin", CK_MSG, 0, .f_msg = &msg_node_admin,
	    AT(struct cd_node, n_admin) },
	{ "fleet", CK_MSG, 0, .f_msg = &msg_fleet,
	    AT(struct cd_node, n_fleet) },
	F_END
};
static const struct conf_msg msg_node_canaryd = { "canaryd node metadata",
    node_canaryd_fields, NULL, NULL };

static void
fn_node_metadata(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	w->w_span_node_md[0] = w->w_json.b_len;
	conf_fn_filter_metadata(w, f, v, base);
	w->w_span_node_md[1] = w->w_json.b_len;
}

#define N(m)	AT(struct cd_node, m)
static const struct conf_field node_locality_fields[] = {
	{ "region", CK_STR, 0, .f_max = 255, N(n_region) },
	{ "zone", CK_STR, 0, .f_max = 255, N(n_zone) },
	{ "sub_zone", CK_STR, 0, .f_max = 255, N(n_sub_zone) },
	F_END
};
static const struct conf_msg msg_node_locality = { "Locality",
    node_locality_fields, NULL, NULL };

#define NO_MGMT	"canaryd describes itself to no management server"
static const struct conf_field node_fields[] = {
	{ "id", CK_STR, 0, .f_max = 255, N(n_id),
	    .f_note = "--service-node overrides it" },
	{ "cluster", CK_STR, 0, .f_max = 255, N(n_cluster),
	    .f_note = "--service-cluster overrides it" },
	{ "metadata", CK_FN, CF_FREEFORM, .f_fn = fn_node_metadata,
	    .f_like = CK_STRUCT, .f_msg = &msg_node_canaryd },
	{ "dynamic_parameters", CK_IGNORE, 0, .f_why = NO_MGMT },
	{ "locality", CK_MSG, 0, .f_msg = &msg_node_locality },
	{ "user_agent_name", CK_IGNORE, 0, .f_why = NO_MGMT },
	{ "user_agent_version", CK_IGNORE, 0, .f_why = NO_MGMT },
	{ "user_agent_build_version", CK_IGNORE, 0, .f_why = NO_MGMT },
	{ "extensions", CK_IGNORE, 0, .f_why = NO_MGMT },
	{ "client_features", CK_IGNORE, 0, .f_why = NO_MGMT },
	{ "listening_addresses", CK_IGNORE, 0, .f_why = NO_MGMT },
	F_END
};
#undef N
static const struct conf_msg msg_node = { "Node", node_fields, NULL, NULL };

static void
fn_node(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	w->w_span_node[0] = w->w_json.b_len;
	conf_walk_msg(w, v, f->f_msg, (char *)base + f->f_off, NULL);
	w->w_span_node[1] = w->w_json.b_len;
}

/* ---- static resources ------------------------------------------------- */

/* qsort has no argument: the listeners being sorted, and by what. */
static const struct cd_listener *by_lsn;
static int (*by_lsn_key)(const struct cd_listener *,
    const struct cd_listener *);

static int
lsn_name_key(const struct cd_listener *a, const struct cd_listener *b)
{
	return strcmp(a->l_name, b->l_name);
}


static int
lsn_prefix_key(const struct cd_listener *a, const struct cd_listener *b)
{
	return strcmp(a->l_stat_prefix != NULL ? a->l_stat_prefix : "",
	    b->l_stat_prefix != NULL ? b->l_stat_prefix : "");
}

/* By the key, equal keys by index. */
static int
by_lsn_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b, c;

	c = by_lsn_key(&by_lsn[x], &by_lsn[y]);
	return c != 0 ? c : (x > y) - (x < y);
}

/*
 * by[0, return): the listeners sorted by key, equal keys in file order
 * (named: only those with a name); dup[i]: the first listener before i
 * with i's key, -1 for none.
 */
static size_t
lsn_sort(const struct cd_conf *conf, int (*key)(const struct cd_listener *,
    const struct cd_listener *), bool named, int *by, int *dup)
{
	size_t i, k;
	int x, y;

	for (i = k = 0; i < conf->c_nlisteners; i++) {
		dup[i] = -1;
		if (!named || conf->c_listeners[i].l_name != NULL)
			by[k++] = (int)i;
	}
	by_lsn = conf->c_listeners;
	by_lsn_key = key;
	qsort(by, k, sizeof(*by), by_lsn_cmp);
	for (i = 1; i < k; i++) {
		x = by[i - 1];
		y = by[i];
		if (key(&by_lsn[x], &by_lsn[y]) == 0)
			dup[y] = dup[x] != -1 ? dup[x] : x;
	}
	return k;
}

/* The managers that share a stat_prefix, chained (cd_listener's
 * l_prefix_next). */
static void
lsn_prefix_chain(struct cd_conf *conf, int *by, int *dup)
{
	struct cd_listener *l = conf->c_listeners;
	size_t i, n;

	n = lsn_sort(conf, lsn_prefix_key, false, by, dup);
	for (i = 0; i < n; i++) {
		l[by[i]].l_prefix_later = dup[by[i]] != -1;
		l[by[i]].l_prefix_next = i + 1 < n && dup[by[i + 1]] != -1 ?
		    (uint32_t)by[i + 1] + 1 : 0;
	}
}

/*
 * Envoy's checks across listeners: names are unique (stats, /listeners
 * and a reload know a listener by it), and so are addresses.  Alone, a
 * listener may go without a name.  Sorted, not pairwise: a file may
 * have thousands.  Keeps the index by name and the stat_prefix chains.
 */
static void
listeners_unique(struct cw *w, yaml_node_t *v, struct cd_conf *conf)
{
	const struct cd_listener *a;
	yaml_node_t *it, *nn;
	size_t i, n = conf->c_nlisteners, old, old2;
	int *by, *ba, *dn, *da;

	if ((by = arena_allocarray(w->w_arena, n, sizeof(*by))) == NULL ||
	    (ba = arena_allocarray(w->w_arena, n, sizeof(*ba))) == NULL ||
	    (dn = calloc(2 * n, sizeof(*dn))) == NULL) {
		conf_oom(w);
		return;
	}
	da = dn + n;
	lsn_sort(conf, conf_listener_addr_cmp, false, ba, da);
	conf->c_lsn_by_addr = ba;
	lsn_prefix_chain(conf, by, dn);
	conf->c_nlsn_named = lsn_sort(conf, lsn_name_key, true, by, dn);
	conf->c_lsn_by_name = by;
	for (i = 0; i < n && !w->w_stop; i++) {
		a = &conf->c_listeners[i];
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if (a->l_name == NULL && n > 1)
			conf_err(w, it, "a listener needs a name when there "
			    "are several; add name: listener_%zu", i);
		if (dn[i] != -1) {
			nn = conf_map_get(w, it, "name");
			old2 = conf_path_push(w, "name");
			conf_err(w, nn != NULL ? nn : it, "duplicate "
			    "listener name \"%s\" (also static_"
			    "resources.listeners[%d]); rename one",
			    a->l_name, dn[i]);
			conf_path_pop(w, old2);
		}
		if (da[i] != -1 && da[i] != dn[i])
			conf_err(w, it, "address %s:%u is also "
			    "static_resources.listeners[%d]'s; give "
			    "each listener its own port",
			    a->l_addr.sa_address != NULL ?
			    a->l_addr.sa_address : "", a->l_addr.sa_port,
			    da[i]);
		conf_path_pop(w, old);
	}
	free(dn);
}

/* No limit but memory: the shm segment and the sockets are sized from
 * the count (canaryd(8), LIMITS, says what bounds it at start). */
static void
fn_listeners(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_conf *conf = base;
	struct cd_listener *l;
	size_t n, i, old;

	if (conf_want_seq(w, v) == -1)
		return;
	n = conf_seq_len(v);
	if (n == 0) {
		conf_err(w, v, "canaryd needs a listener");
		conf_json_raw(w, "[]");
		return;
	}
	if ((conf->c_listeners = arena_allocarray(w->w_arena, n,
	    sizeof(*conf->c_listeners))) == NULL ||
	    (w->w_span_listener = arena_allocarray(w->w_arena, n,
	    sizeof(*w->w_span_listener))) == NULL ||
	    (w->w_span_routes = arena_allocarray(w->w_arena, n,
	    sizeof(*w->w_span_routes))) == NULL) {
		conf_oom(w);
		return;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			conf_json_raw(w, ",");
		old = conf_path_index(w, i);
		l = &conf->c_listeners[i];
		l->l_index = (int)i;
		w->w_listener = l;
		w->w_li = i;
		w->w_span_listener[i][0] = w->w_json.b_len;
		conf_walk_msg(w, conf_seq_item(w, v, i), f->f_msg, l, NULL);
		w->w_span_listener[i][1] = w->w_json.b_len;
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
	conf->c_nlisteners = n;
	conf->c_listener = &conf->c_listeners[0];
	listeners_unique(w, v, conf);
}

/* Cluster names are unique: they are what routes refer to. */
/* qsort has no argument: the configuration being sorted. */
static const struct cd_conf *by_name_conf;

static int
by_name_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b, c;

	c = strcmp(by_name_conf->c_clusters[x].cl_name,
	    by_name_conf->c_clusters[y].cl_name);
	return c != 0 ? c : (x > y) - (x < y);
}

static void
clusters_unique(struct cw *w, yaml_node_t *v, struct cd_conf *conf)
{
	yaml_node_t *it, *nn;
	size_t i, j, k, old, *first;
	int *by;

	/* the named clusters sorted by name, equal names by index: the
	 * index conf_cluster_index() searches, and duplicates side by side */
	if (conf->c_nclusters == 0 || (by = arena_allocarray(w->w_arena,
	    conf->c_nclusters, sizeof(*by))) == NULL ||
	    (first = calloc(conf->c_nclusters, sizeof(*first))) == NULL)
		return;
	for (i = k = 0; i < conf->c_nclusters; i++)
		if (conf->c_clusters[i].cl_name != NULL)
			by[k++] = (int)i;
	by_name_conf = conf;
	qsort(by, k, sizeof(*by), by_name_cmp);
	conf->c_by_name = by;
	conf->c_nnamed = k;
	/* first[i]: 1 + the earlier cluster of i's name, 0: none */
	for (j = 1; j < k; j++)
		if (strcmp(conf->c_clusters[by[j]].cl_name,
		    conf->c_clusters[by[j - 1]].cl_name) == 0)
			first[by[j]] = first[by[j - 1]] != 0 ?
			    first[by[j - 1]] : (size_t)by[j - 1] + 1;
	for (i = 1; i < conf->c_nclusters && !w->w_stop; i++) {
		if (first[i] == 0)
			continue;
		it = conf_seq_item(w, v, i);
		nn = conf_map_get(w, it, "name");
		old = conf_path_index(w, i);
		conf_path_push(w, "name");
		conf_err(w, nn != NULL ? nn : it, "duplicate cluster "
		    "name \"%s\" (also static_resources.clusters[%zu])",
		    conf->c_clusters[i].cl_name, first[i] - 1);
		conf_path_pop(w, old);
	}
	free(first);
}

static void
fn_clusters(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_conf *conf = base;
	struct cd_cluster *cl;
	size_t n, i, old, keep;

	if (conf_want_seq(w, v) == -1)
		return;
	n = keep = conf_seq_len(v);
	/* no limit but memory: the shm segment is sized from the count */
	if (keep > 0 && ((conf->c_clusters = arena_allocarray(w->w_arena,
	    keep, sizeof(*conf->c_clusters))) == NULL ||
	    (w->w_span_clusters = arena_allocarray(w->w_arena, keep,
	    sizeof(*w->w_span_clusters))) == NULL)) {
		conf_oom(w);
		return;
	}
	conf->c_nclusters = keep;
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		if (i > 0)
			conf_json_raw(w, ",");
		old = conf_path_index(w, i);
		if (i < keep) {
			cl = &conf->c_clusters[i];
			w->w_span_clusters[i][0] = w->w_json.b_len;
		} else if ((cl = conf_scratch(w, sizeof(*cl))) == NULL)
			break;
		conf_walk_msg(w, conf_seq_item(w, v, i), f->f_msg, cl, NULL);
		if (i < keep)
			w->w_span_clusters[i][1] = w->w_json.b_len;
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
	w->w_cluster = NULL;
	clusters_unique(w, v, conf);
}

static const struct conf_field static_fields[] = {
	{ "listeners", CK_FN, CF_REQUIRED, .f_fn = fn_listeners,
	    .f_like = CK_SEQ, .f_msg = &conf_msg_listener,
	    .f_note = "unique names and addresses" },
	{ "clusters", CK_FN, 0, .f_fn = fn_clusters, .f_like = CK_SEQ,
	    .f_msg = &conf_msg_cluster },
	{ "secrets", CK_REJECT, 0, .f_why = NO_TLS },
	F_END
};
static const struct conf_msg msg_static = { "StaticResources",
    static_fields, NULL, NULL };

/* ---- bootstrap -------------------------------------------------------- */

#define NO_STATS_SINK	"canaryd's statistics are read from its admin " \
	"port (/stats, /stats/prometheus), not pushed"
#define NO_TRACING	"the connection manager's tracing, which would use " \
	"it, is refused"
#define NO_WATCHDOG	"canaryd's master respawns a worker that dies; " \
	"there is no watchdog to configure"

static const struct conf_field bootstrap_fields[] = {
	{ "node", CK_FN, 0, .f_fn = fn_node, .f_like = CK_MSG,
	    .f_msg = &msg_node, AT(struct cd_conf, c_node) },
	{ "node_context_params", CK_IGNORE, 0, .f_why = "it names xDS "
	    "resources, and canaryd loads static configuration only" },
	{ "static_resources", CK_MSG, CF_REQUIRED, .f_msg = &msg_static },
	{ "dynamic_resources", CK_REJECT, 0, .f_why = NO_XDS },
	{ "cluster_manager", CK_REJECT, 0, .f_why = "canaryd has no "
	    "cluster-manager-wide options (local cluster, upstream bind, "
	    "load reports); remove it and set options on each cluster" },
	{ "hds_config", CK_REJECT, 0, .f_why = "canaryd runs its own health "
	    "checks; remove it and give each cluster health_checks" },
	{ "flags_path", CK_REJECT, 0, .f_why = "canaryd reads no flag "
	    "files; remove it and drain with SIGTERM or POST "
	    "/drain_listeners" },
	{ "stats_sinks", CK_IGNORE, 0, .f_why = NO_STATS_SINK },
	{ "deferred_stat_options", CK_IGNORE, 0, .f_why = "canaryd's "
	    "statistics live in fixed shared memory" },
	{ "stats_config", CK_IGNORE, 0, .f_why = "canaryd's statistic names "
	    "and histograms are fixed (no tags, no inclusion lists)" },
	{ "stats_flush_interval", CK_IGNORE, 0, .f_why = NO_STATS_SINK },
	{ "stats_flush_on_admin", CK_IGNORE, 0, .f_why = NO_STATS_SINK },
	{ "stats_eviction_interval", CK_IGNORE, 0, .f_why = "canaryd's "
	    "statistics live in fixed shared memory" },
	{ "watchdog", CK_IGNORE, 0, .f_why = NO_WATCHDOG },
	{ "watchdogs", CK_IGNORE, 0, .f_why = NO_WATCHDOG },
	{ "tracing", CK_IGNORE, 0, .f_why = NO_TRACING },
	{ "layered_runtime", CK_MSG, 0, .f_msg = &conf_msg_layered_runtime,
	    AT(struct cd_conf, c_runtime),
	    .f_note = "canaryd reads the keys its routes name" },
	{ "admin", CK_MSG, 0, .f_msg = &msg_admin,
	    AT(struct cd_conf, c_admin) },
	{ "overload_manager", CK_IGNORE, 0, .f_why = "canaryd has no "
	    "overload manager; circuit_breakers and "
	    "max_connections_per_worker bound its load" },
	{ "enable_dispatcher_stats", CK_IGNORE, 0, .f_why = "canaryd keeps "
	    "no event loop statistics" },
	{ "header_prefix", CK_REJECT, 0, .f_why = "canaryd's own headers are "
	    "always x-envoy-*; remove it" },
	{ "stats_server_version_override", CK_IGNORE, 0, .f_why = "canaryd "
	    "has no server.version statistic" },
	{ "use_tcp_for_dns_lookups", CK_IGNORE, 0, .f_why = "canaryd "
	    "resolves names with the system resolver" },
	{ "dns_resolution_config", CK_REJECT, 0, .f_why = NO_DNS_CONF },
	{ "typed_dns_resolver_config", CK_REJECT, 0, .f_why = NO_DNS_CONF },
	{ "bootstrap_extensions", CK_REJECT, 0, .f_why = NO_EXTENSION },
	{ "fatal_actions", CK_IGNORE, 0, .f_why = "canaryd runs no actions "
	    "on a crash; its master respawns the worker" },
	{ "config_sources", CK_REJECT, 0, .f_why = NO_XDS },
	{ "default_config_source", CK_REJECT, 0, .f_why = NO_XDS },
	{ "default_socket_interface", CK_REJECT, 0, .f_why = "canaryd uses "
	    "the kernel's sockets; remove it" },
	{ "certificate_provider_instances", CK_REJECT, 0, .f_why = NO_TLS },
	{ "inline_headers", CK_IGNORE, 0, .f_why = "a lookup speed-up in "
	    "Envoy; canaryd indexes the headers it needs itself" },
	{ "perf_tracing_file_path", CK_IGNORE, 0, .f_why = "canaryd writes "
	    "no performance traces" },
	{ "default_regex_engine", CK_IGNORE, 0, .f_why = "canaryd matches "
	    "safe_regex with POSIX extended regexes, RE2's forms translated "
	    "(canaryd.yaml(5))" },
	{ "xds_delegate_extension", CK_REJECT, 0, .f_why = NO_XDS },
	{ "xds_config_tracker_extension", CK_REJECT, 0, .f_why = NO_XDS },
	{ "listener_manager", CK_REJECT, 0, .f_why = NO_EXTENSION },
	{ "application_log_config", CK_IGNORE, 0, .f_why = "canaryd's log "
	    "lines have one format (see --log-path)" },
	{ "grpc_async_client_manager_config", CK_IGNORE, 0, .f_why =
	    "canaryd has no gRPC clients" },
	{ "memory_allocator_manager", CK_IGNORE, 0, .f_why = "canaryd uses "
	    "the C library's allocator and fixed pools" },
	F_END
};
const struct conf_msg conf_msg_bootstrap = { "Bootstrap",
    bootstrap_fields, NULL, NULL };
