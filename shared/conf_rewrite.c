/*
 * Configuration loader: rewrites and redirects (conf-int.h).  Master
 * only.
 *
 * envoy.type.matcher.v3.RegexMatchAndSubstitute (the regex_rewrite of a
 * route action or a redirect, host_rewrite_path_regex), checked the way
 * RE2 checks a rewrite string: \0 to \9 name groups the pattern has, \\
 * is a backslash, any other escape is an error; and RedirectAction, a
 * route's answer with a Location; and DirectResponseAction, whose body
 * is a DataSource read when the configuration loads (a file, base64
 * bytes, an environment variable or the text itself).  The route
 * action's own rewrite fields are rows of conf_route.c's table;
 * conf_rewrite_check() looks at them together once the action is walked.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "arena.h"
#include "conf.h"
#include "conf-int.h"

bool
conf_text_ok(struct cw *w, yaml_node_t *n, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f) {
			conf_err(w, n, "control byte 0x%02x at byte %zu: it "
			    "would break the head; remove it",
			    (unsigned char)s[i], i);
			return false;
		}
	return true;
}

/* ---- RegexMatchAndSubstitute ------------------------------------------ */

/* The substitution's escapes against the pattern's groups. */
static void
sub_check(struct cw *w, yaml_node_t *n, const struct cd_regex_sub *rs)
{
	const char *p;
	int g;

	for (p = rs->rs_subst; p != NULL && *p != '\0'; p++) {
		if (*p != '\\')
			continue;
		p++;
		if (*p == '\\')
			continue;
		if (*p < '0' || *p > '9') {
			conf_err(w, n, "bad substitution \"%.*s\": a backslash "
			    "takes a group number (\\0 to \\9) or a backslash "
			    "(\\\\)", CONF_QUOTE_MAX, rs->rs_subst);
			return;
		}
		g = *p - '0';
		if (g > rs->rs_ngroups) {
			conf_err(w, n, "bad substitution \"%.*s\": \\%d names a "
			    "group the pattern does not have (it has %d)",
			    CONF_QUOTE_MAX, rs->rs_subst, g, rs->rs_ngroups);
			return;
		}
	}
}

static void
regex_sub_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_regex_sub *rs = base;
	yaml_node_t *pn;
	size_t old;

	(void)seen;
	if (rs->rs_pattern == NULL)
		return;
	pn = conf_map_get(w, conf_map_get(w, n, "pattern"), "regex");
	old = conf_path_push(w, "pattern.regex");
	if (conf_re_compile_sub(w, pn != NULL ? pn : n, rs,
	    rs->rs_pattern) == 0) {
		conf_path_pop(w, old);
		old = conf_path_push(w, "substitution");
		pn = conf_map_get(w, n, "substitution");
		if (rs->rs_subst != NULL && conf_text_ok(w, pn != NULL ? pn : n,
		    rs->rs_subst))
			sub_check(w, pn != NULL ? pn : n, rs);
	}
	conf_path_pop(w, old);
}

#define RS(m)	AT(struct cd_regex_sub, m)
static const struct conf_field regex_sub_fields[] = {
	{ "pattern", CK_MSG, CF_REQUIRED, .f_msg = &conf_msg_regex,
	    RS(rs_pattern), .f_note = "matched anywhere, each match "
	    "replaced; POSIX leftmost-longest where RE2 takes the first "
	    "alternative that matches" },
	{ "substitution", CK_STR, 0, RS(rs_subst) },
	F_END
};
#undef RS
const struct conf_msg conf_msg_regex_sub = { "RegexMatchAndSubstitute",
    regex_sub_fields, NULL, regex_sub_done };

/* ---- a route action's rewrites ---------------------------------------- */

/* The text fields of rw, each at its key under n. */
static void
rewrite_texts(struct cw *w, yaml_node_t *n, const struct cd_rewrite *rw)
{
	static const struct {
		const char	*t_key;
		size_t		 t_off;
	} texts[] = {
		{ "prefix_rewrite", offsetof(struct cd_rewrite, rw_prefix) },
		{ "host_rewrite_literal", offsetof(struct cd_rewrite, rw_host) },
	};
	const char *s;
	size_t i, old;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		s = *(char *const *)((const char *)rw + texts[i].t_off);
		if (s == NULL)
			continue;
		old = conf_path_push(w, texts[i].t_key);
		conf_text_ok(w, conf_map_val(w, n, texts[i].t_key), s);
		conf_path_pop(w, old);
	}
}

void
conf_rewrite_check(struct cw *w, yaml_node_t *n, struct cd_route *rt)
{
	struct cd_rewrite *rw = &rt->rt_rw;
	size_t old;

	rewrite_texts(w, n, rw);
	/* Envoy: "Specify only one of prefix_rewrite, regex_rewrite or
	 * path_rewrite_policy"; an empty prefix_rewrite is no rewrite */
	if (rw->rw_prefix != NULL && rw->rw_prefix[0] == '\0')
		rw->rw_prefix = NULL;
	if (rw->rw_prefix != NULL && rw->rw_regex.rs_set) {
		old = conf_path_push(w, "regex_rewrite");
		conf_err(w, conf_map_key(w, n, "regex_rewrite"), "only one of "
		    "prefix_rewrite and regex_rewrite may be set");
		conf_path_pop(w, old);
	}
	rw->rw_prefix_len = rw->rw_prefix != NULL ? strlen(rw->rw_prefix) : 0;
	if (rw->rw_host != NULL && rw->rw_host[0] == '\0')
		rw->rw_host = NULL;
	if (rw->rw_host_header != NULL && rw->rw_host_header[0] == '\0')
		rw->rw_host_header = NULL;
}

/* ---- RedirectAction --------------------------------------------------- */

static void
redirect_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route *rt = base;
	struct cd_redirect *rd = &rt->rt_redir;
	static const char *const keys[] = { "scheme_redirect", "host_redirect",
	    "path_redirect", "prefix_rewrite" };
	char *const *texts[] = { &rd->rd_scheme, &rd->rd_host, &rd->rd_path,
	    &rd->rd_prefix };
	size_t i, old;

	rt->rt_action = CD_RA_REDIRECT;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (*texts[i] == NULL)
			continue;
		old = conf_path_push(w, keys[i]);
		conf_text_ok(w, conf_map_val(w, n, keys[i]), *texts[i]);
		conf_path_pop(w, old);
	}
	if ((seen & conf_field_bit(&conf_msg_redirect, "https_redirect")) &&
	    rd->rd_https)
		rd->rd_scheme = "https";
	if (rd->rd_scheme != NULL && rd->rd_scheme[0] == '\0')
		rd->rd_scheme = NULL;
	if (rd->rd_host != NULL && rd->rd_host[0] == '\0')
		rd->rd_host = NULL;
	if (rd->rd_path != NULL && rd->rd_path[0] == '\0')
		rd->rd_path = NULL;
	if (rd->rd_prefix != NULL && rd->rd_prefix[0] == '\0')
		rd->rd_prefix = NULL;
	rd->rd_prefix_len = rd->rd_prefix != NULL ? strlen(rd->rd_prefix) : 0;
}

static const struct conf_enum enum_redirect_code = { "response_code",
    (const struct conf_enum_val[]){ { "MOVED_PERMANENTLY", 301 },
    { "FOUND", 302 }, { "SEE_OTHER", 303 }, { "TEMPORARY_REDIRECT", 307 },
    { "PERMANENT_REDIRECT", 308 }, { NULL, 0 } } };

#define RD(m)	AT(struct cd_route, rt_redir.m)
static const struct conf_field redirect_fields[] = {
	{ "https_redirect", CK_BOOL, 0, 1, RD(rd_https) },
	{ "scheme_redirect", CK_STR, CF_LOWER, 1, RD(rd_scheme) },
	{ "host_redirect", CK_STR, 0, RD(rd_host) },
	{ "port_redirect", CK_UINT, 0, .f_min = 0, .f_max = 65535,
	    RD(rd_port) },
	{ "path_redirect", CK_STR, 0, 2, RD(rd_path) },
	{ "prefix_rewrite", CK_STR, 0, 2, RD(rd_prefix) },
	{ "regex_rewrite", CK_MSG, 0, 2, .f_msg = &conf_msg_regex_sub,
	    RD(rd_regex) },
	{ "response_code", CK_ENUM, CF_DEF, .f_def = 301,
	    .f_enum = &enum_redirect_code, RD(rd_code) },
	{ "strip_query", CK_BOOL, 0, RD(rd_strip_query) },
	F_END
};
#undef RD
const struct conf_msg conf_msg_redirect = { "RedirectAction",
    redirect_fields, NULL, redirect_done };

/* ---- DirectResponseAction --------------------------------------------- */

#define DIRECT_FILE_MAX	(1 << 20)	/* bytes of a body read from a file */

/* The route's body: a copy of b[0, n), NUL-terminated. */
static void
direct_body_set(struct cw *w, struct cd_route *rt, const char *b, size_t n)
{
	char *s;

	if ((s = arena_alloc(w->w_arena, n + 1)) == NULL) {
		conf_oom(w);
		return;
	}
	memcpy(s, b, n);
	s[n] = '\0';
	rt->rt_direct_body = s;
	rt->rt_direct_body_len = n;
}

/* filename: the file's bytes, read at load (and at each SIGHUP), as
 * Envoy reads it when the configuration loads. */
static void
fn_body_file(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	char *data;
	size_t n;

	(void)f;
	if ((data = conf_read_file(w, v, DIRECT_FILE_MAX, &n)) == NULL)
		return;
	direct_body_set(w, base, data, n);
	free(data);
}

/* A base64 digit, standard or URL-safe as protobuf's JSON takes; -1. */
static int
b64_digit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* inline_bytes: base64, as protobuf's YAML and JSON write bytes. */
static void
fn_body_bytes(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	const char *s;
	char *out;
	size_t len, i, n = 0;
	uint32_t acc = 0;
	int bits = 0, d;

	(void)f;
	conf_json_yaml(w, v, 0);
	if (conf_want_scalar(w, v, "base64 text") == -1)
		return;
	s = conf_sval(v);
	for (len = conf_slen(v); len > 0 && s[len - 1] == '='; len--)
		;
	if ((out = malloc(len * 3 / 4 + 1)) == NULL) {
		conf_oom(w);
		return;
	}
	for (i = 0; i < len; i++) {
		if ((d = b64_digit((unsigned char)s[i])) < 0)
			break;
		acc = (acc << 6 | (uint32_t)d) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits);
		}
	}
	if (i < len || len % 4 == 1)
		conf_err(w, v, "not base64 (at byte %zu); write a text body in "
		    "inline_string", i);
	else
		direct_body_set(w, base, out, n);
	free(out);
}

const char *
conf_get_env(struct cw *w, yaml_node_t *v)
{
	const char *name, *val;

	w->w_wfast_off = 1;	/* the environment may change: parse again */
	conf_json_yaml(w, v, 0);
	if ((name = conf_get_str(w, v, CF_NONEMPTY, 256)) == NULL)
		return NULL;
	if ((val = getenv(name)) == NULL)
		conf_err(w, v, "environment variable %s is not set", name);
	return val;
}

/* environment_variable: its value when the configuration loads. */
static void
fn_body_env(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	const char *val;

	(void)f;
	if ((val = conf_get_env(w, v)) != NULL)
		direct_body_set(w, base, val, strlen(val));
}

/* A direct response: no cluster; the body's length, once. */
static void
direct_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_route *rt = base;

	(void)w;
	(void)n;
	(void)seen;
	rt->rt_action = CD_RA_DIRECT;
	if (rt->rt_direct_body != NULL && rt->rt_direct_body_len == 0)
		rt->rt_direct_body_len = strlen(rt->rt_direct_body);
}

static const struct conf_field data_source_fields[] = {
	{ "filename", CK_FN, 0, 1, .f_fn = fn_body_file, .f_like = CK_STR,
	    .f_note = "read when the file loads" },
	{ "inline_bytes", CK_FN, 0, 1, .f_fn = fn_body_bytes,
	    .f_like = CK_STR, .f_note = "base64" },
	{ "inline_string", CK_STR, 0, 1, AT(struct cd_route, rt_direct_body) },
	{ "environment_variable", CK_FN, 0, 1, .f_fn = fn_body_env,
	    .f_like = CK_STR, .f_note = "read when the file loads" },
	{ "watched_directory", CK_REJECT, 0, .f_why = "canaryd reads a body "
	    "when the configuration loads; send SIGHUP after changing the "
	    "file" },
	F_END
};
static const struct conf_msg msg_data_source = { "DataSource",
    data_source_fields, NULL, NULL };

static const struct conf_field direct_fields[] = {
	{ "status", CK_UINT, CF_REQUIRED, .f_min = 100, .f_max = 599,
	    AT(struct cd_route, rt_direct_status) },
	{ "body", CK_MSG, 0, .f_msg = &msg_data_source },
	{ "body_format", CK_REJECT, 0, .f_why = "canaryd sends the body as "
	    "written; remove it and write the body in body.inline_string" },
	F_END
};
const struct conf_msg conf_msg_direct = { "DirectResponseAction",
    direct_fields, NULL, direct_done };
