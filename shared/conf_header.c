/*
 * Configuration loader: header mutations (conf-int.h).  Master only.
 *
 * envoy.config.core.v3.HeaderValueOption and the request_headers_to_add /
 * _remove, response_headers_to_add / _remove lists of the route
 * configuration, virtual hosts, routes and weighted clusters, with the
 * value compiled as Envoy's substitution format (shared/alog.h).  At the
 * end of the route configuration each route learns every level it meets,
 * in the order Envoy applies them (conf_hdr_levels()).
 *
 * Envoy refuses to touch pseudo-headers and Host; canaryd also refuses
 * the headers it writes itself to frame messages and run connections
 * (content-length, transfer-encoding, connection, ...): a configured one
 * would contradict the bytes on the wire.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "alog.h"
#include "arena.h"
#include "conf.h"
#include "conf-int.h"

/* Headers canaryd writes itself, and what to do instead. */
static const struct {
	const char	*n_name;
	const char	*n_why;
} hdr_managed[] = {
	{ "host", "rewrite Host with the route's host_rewrite_literal, "
	    "host_rewrite_header or auto_host_rewrite" },
	{ "content-length", "canaryd frames the body itself; remove it" },
	{ "transfer-encoding", "canaryd frames the body itself; remove it" },
	{ "connection", "canaryd manages connections itself; remove it" },
	{ "keep-alive", "canaryd manages connections itself; remove it" },
	{ "proxy-connection", "canaryd manages connections itself; remove it" },
	{ "upgrade", "canaryd switches no protocols; remove it" },
	{ "te", "canaryd frames the body itself; remove it" },
	{ "x-envoy-expected-rq-timeout-ms", "canaryd sets it for each "
	    "attempt from the route's timeout; remove it" },
};

/* Why name may not be added or removed by configuration, or NULL. */
static const char *
hdr_refused(const char *name)
{
	size_t i;

	if (name[0] == ':')
		return "pseudo-headers may not be modified (as in Envoy); "
		    "rewrite the path with prefix_rewrite or regex_rewrite";
	for (i = 0; i < sizeof(hdr_managed) / sizeof(hdr_managed[0]); i++)
		if (strcmp(name, hdr_managed[i].n_name) == 0)
			return hdr_managed[i].n_why;
	return NULL;
}

/* RFC 9110 token characters. */
static bool
hdr_is_token(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return true;
}

/* Check a name to add or remove (node n); false after an error. */
static bool
hdr_name_ok(struct cw *w, yaml_node_t *n, const char *name)
{
	const char *why;

	if (!hdr_is_token(name) && name[0] != ':') {
		conf_err(w, n, "bad header name \"%.*s\": want an HTTP token "
		    "(letters, digits and !#$%%&'*+-.^_`|~)", CONF_QUOTE_MAX,
		    name);
		return false;
	}
	if ((why = hdr_refused(name)) != NULL) {
		conf_err(w, n, "header \"%s\" may not be changed: %s", name,
		    why);
		return false;
	}
	return true;
}

/* ---- HeaderValueOption ------------------------------------------------ */

/* The value: no control bytes but tab, then compiled. */
static void
hdr_value(struct cw *w, yaml_node_t *n, struct cd_hdr_add *ha)
{
	const char *v = ha->ha_value != NULL ? ha->ha_value : "", *why;
	size_t i, at, old;

	old = conf_path_push(w, "header.value");
	for (i = 0; v[i] != '\0'; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    v[i] == 0x7f) {
			conf_err(w, n, "control byte 0x%02x at byte %zu: a "
			    "header value is one line; remove it",
			    (unsigned char)v[i], i);
			conf_path_pop(w, old);
			return;
		}
	if (alog_fmt_parse(w->w_arena, v, strlen(v), &ha->ha_fmt, &why,
	    &at) == -1)
		conf_err(w, n, "bad value at byte %zu: %s", at, why);
	conf_path_pop(w, old);
}

static void
hdr_add_done(struct cw *w, yaml_node_t *n, void *base, uint64_t seen)
{
	struct cd_hdr_add *ha = base;
	yaml_node_t *h, *k;
	size_t old;

	h = conf_map_get(w, n, "header");
	if (ha->ha_name != NULL) {
		k = conf_map_get(w, h, "key");
		old = conf_path_push(w, "header.key");
		if (hdr_name_ok(w, k != NULL ? k : n, ha->ha_name))
			ha->ha_nlen = strlen(ha->ha_name);
		conf_path_pop(w, old);
	}
	hdr_value(w, conf_map_get(w, h, "value") != NULL ?
	    conf_map_get(w, h, "value") : n, ha);
	if (!(seen & conf_field_bit(&conf_msg_hdr_add, "append")))
		return;
	k = conf_map_key(w, n, "append");
	old = conf_path_push(w, "append");
	/* Envoy's refusal: append_action other than the default */
	if (ha->ha_action != CD_HA_APPEND)
		conf_err(w, k, "both append and append_action are set; keep "
		    "append_action (append is deprecated)");
	else if (!ha->ha_append)
		ha->ha_action = CD_HA_OVERWRITE_OR_ADD;
	conf_warn(w, k, "deprecated: append: %s is append_action: %s",
	    ha->ha_append ? "true" : "false", ha->ha_append ?
	    "APPEND_IF_EXISTS_OR_ADD" : "OVERWRITE_IF_EXISTS_OR_ADD");
	conf_path_pop(w, old);
}

#define HA(m)	AT(struct cd_hdr_add, m)
static const struct conf_field header_value_fields[] = {
	{ "key", CK_STR, CF_REQUIRED | CF_NONEMPTY | CF_LOWER, .f_max = 16384,
	    HA(ha_name) },
	{ "value", CK_STR, 0, .f_max = 16384, HA(ha_value),
	    .f_note = "Envoy's %COMMAND% substitutions (canaryd-envoy(7) "
	    "lists the ones canaryd evaluates); %% is one %" },
	{ "raw_value", CK_REJECT, 0, .f_why = "canaryd takes header values "
	    "as text; write it in value" },
	F_END
};
static const struct conf_msg msg_header_value = { "HeaderValue",
    header_value_fields, NULL, NULL };

static const struct conf_enum enum_append_action = { "append_action",
    (const struct conf_enum_val[]){ { "APPEND_IF_EXISTS_OR_ADD", CD_HA_APPEND },
    { "ADD_IF_ABSENT", CD_HA_ADD_IF_ABSENT },
    { "OVERWRITE_IF_EXISTS_OR_ADD", CD_HA_OVERWRITE_OR_ADD },
    { "OVERWRITE_IF_EXISTS", CD_HA_OVERWRITE }, { NULL, 0 } } };

static const struct conf_field hdr_add_fields[] = {
	{ "header", CK_MSG, CF_REQUIRED, .f_msg = &msg_header_value },
	{ "append", CK_BOOL, 0, HA(ha_append),
	    .f_note = "deprecated: use append_action" },
	{ "append_action", CK_ENUM, CF_DEF, .f_def = CD_HA_APPEND,
	    .f_enum = &enum_append_action, HA(ha_action),
	    .f_note = "an appended value is a header line of its own" },
	{ "keep_empty_value", CK_BOOL, 0, HA(ha_keep_empty) },
	F_END
};
#undef HA
const struct conf_msg conf_msg_hdr_add = { "HeaderValueOption",
    hdr_add_fields, NULL, hdr_add_done };

/* ---- *_headers_to_remove ---------------------------------------------- */

void
conf_fn_hdr_remove(struct cw *w, const struct conf_field *f, yaml_node_t *v,
    void *base)
{
	struct cd_hdr_ops *ho = (struct cd_hdr_ops *)((char *)base + f->f_off);
	size_t n, i, old;
	yaml_node_t *it;
	char *s;

	if (conf_want_seq(w, v) == -1)
		return;
	if ((n = conf_seq_len(v)) > CD_MAX_HDR_OPS) {
		conf_err(w, v, "too many items: %zu, canaryd supports at most "
		    "%d (CD_MAX_HDR_OPS)", n, CD_MAX_HDR_OPS);
		return;
	}
	/* a duplicated key walks a second list into the same place */
	ho->ho_remove = NULL;
	ho->ho_nremove = 0;
	if (n > 0 && (ho->ho_remove = arena_allocarray(w->w_arena, n,
	    sizeof(char *))) == NULL) {
		conf_oom(w);
		return;
	}
	conf_json_raw(w, "[");
	for (i = 0; i < n && !w->w_stop; i++) {
		it = conf_seq_item(w, v, i);
		old = conf_path_index(w, i);
		if (i > 0)
			conf_json_raw(w, ",");
		if ((s = conf_get_str(w, it, CF_NONEMPTY | CF_LOWER,
		    16384)) != NULL) {
			conf_json_str(w, conf_sval(it), conf_slen(it));
			if (hdr_name_ok(w, it, s))
				ho->ho_remove[ho->ho_nremove++] = s;
		} else
			conf_json_raw(w, "\"\"");
		conf_path_pop(w, old);
	}
	conf_json_raw(w, "]");
}

/* ---- the levels a route meets ----------------------------------------- */

static bool
ops_empty(const struct cd_hdr_ops *ho)
{
	return ho->ho_nadd == 0 && ho->ho_nremove == 0;
}

/* The ALOG_N_* needs of ho's formats. */
static unsigned int
ops_needs(const struct cd_hdr_ops *ho)
{
	unsigned int needs = 0;
	size_t i;

	for (i = 0; i < ho->ho_nadd; i++)
		needs |= ho->ho_add[i].ha_fmt.f_needs;
	return needs;
}

/* hm's flags (CD_RT_HM_REQ, _RESP) and needs into *flags, *needs. */
static void
mut_note(const struct cd_hdr_mut *hm, unsigned int *flags,
    unsigned int *needs)
{
	if (!ops_empty(&hm->hm_req))
		*flags |= CD_RT_HM_REQ;
	if (!ops_empty(&hm->hm_resp))
		*flags |= CD_RT_HM_RESP;
	*needs |= ops_needs(&hm->hm_req) | ops_needs(&hm->hm_resp);
}

/* Does rw change the upstream request's path or Host? */
static bool
rewrites(const struct cd_rewrite *rw)
{
	return rw->rw_prefix != NULL || rw->rw_regex.rs_set ||
	    rw->rw_host != NULL || rw->rw_auto_host ||
	    rw->rw_host_header != NULL || rw->rw_host_regex.rs_set;
}

void
conf_hdr_levels(struct cd_listener *l)
{
	const struct cd_hdr_mut *lv[3];
	struct cd_route *rt;
	size_t v, r, i;

	for (v = 0; v < l->l_nvhosts; v++)
		for (r = 0; r < l->l_vhosts[v].vh_nroutes; r++) {
			rt = &l->l_vhosts[v].vh_routes[r];
			/* Envoy: the later level wins an overwrite */
			lv[0] = &rt->rt_hdrs;
			lv[1] = &l->l_vhosts[v].vh_hdrs;
			lv[2] = &l->l_hdrs;
			for (i = 0; i < 3; i++) {
				rt->rt_hm_levels[i] = lv[l->l_most_specific_hdrs ?
				    2 - i : i];
				mut_note(lv[i], &rt->rt_hm_flags,
				    &rt->rt_hm_needs);
			}
			for (i = 0; i < rt->rt_nwc; i++) {
				mut_note(&rt->rt_wc[i].wc_hdrs,
				    &rt->rt_hm_flags, &rt->rt_hm_needs);
				if (!ops_empty(&rt->rt_wc[i].wc_hdrs.hm_req) ||
				    !ops_empty(&rt->rt_wc[i].wc_hdrs.hm_resp))
					rt->rt_hm_flags |= CD_RT_HM_WC;
				if (rt->rt_wc[i].wc_host != NULL)
					rt->rt_hm_flags |= CD_RT_HM_REWRITE;
			}
			if (rewrites(&rt->rt_rw))
				rt->rt_hm_flags |= CD_RT_HM_REWRITE;
		}
}
