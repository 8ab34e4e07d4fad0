/*
 * Unit tests over the loader's tables (shared/conf*.c), every message
 * reachable from the Bootstrap: each refused field (CK_REJECT) and each
 * refused "@type" has a reason and says what to do instead; each ignored
 * field (CK_IGNORE) and each field taken with a warning says why; no
 * table repeats a name or outgrows the walker's 64 seen bits.  Then every
 * refused field is set in a config of its own and loaded: the error
 * names file:line:col, the field's path and the advice of its row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "shared/conf-int.h"
#include "test/unit/unit.h"

#define MAX_MSGS	256

/* What a "do instead" part starts with: the advice after the last "; "
 * of a reason (or the whole reason when it is only advice). */
static const char *const advice_verbs[] = {
	"use ", "remove ", "terminate ", "put ", "set ", "list ", "match ",
	"make ", "answer ", "move ", "restrict ", "let ", "send ", "write ",
	"serve ", "inject ", "drain ", "bind ", "start ", "read ", "give ",
	"retry ", "do ", "check ", "authorize ", "compress ", "decompress ",
	"point ", "run ", "process ", "edit ",
	NULL
};

static int
has_advice(const char *why)
{
	const char *p, *last = why;
	size_t i;

	if (why == NULL || *why == '\0')
		return 0;
	for (p = why; (p = strstr(p, "; ")) != NULL; p += 2)
		last = p + 2;
	for (i = 0; advice_verbs[i] != NULL; i++)
		if (strncmp(last, advice_verbs[i], strlen(advice_verbs[i])) == 0)
			return 1;
	return 0;
}

/* Every message reachable from the Bootstrap, once. */
struct msgs {
	const struct conf_msg	*m_v[MAX_MSGS];
	size_t			 m_n;
};

static void
msgs_add(struct msgs *ms, const struct conf_msg *m)
{
	const struct conf_field *f;
	const struct conf_any *an;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < ms->m_n; i++)
		if (ms->m_v[i] == m)
			return;
	CU_ASSERT_FATAL(ms->m_n < MAX_MSGS);
	ms->m_v[ms->m_n++] = m;
	for (f = m->m_fields; f->f_name != NULL; f++) {
		msgs_add(ms, f->f_msg);
		if (f->f_any != NULL)
			for (an = f->f_any; an->an_type != NULL; an++)
				msgs_add(ms, an->an_msg);
	}
}

static void
every_refusal_says_why_and_what_to_do(void)
{
	const struct conf_field *f;
	const struct conf_any *an;
	struct msgs ms = { { NULL }, 0 };
	size_t i, nrej = 0, nign = 0, nany = 0;

	msgs_add(&ms, &conf_msg_bootstrap);
	CU_ASSERT(ms.m_n > 40);
	for (i = 0; i < ms.m_n; i++) {
		for (f = ms.m_v[i]->m_fields; f->f_name != NULL; f++) {
			if (f->f_kind == CK_REJECT) {
				nrej++;
				if (!has_advice(f->f_why)) {
					fprintf(stderr, "\n%s.%s: refused with "
					    "no advice: %s\n",
					    ms.m_v[i]->m_name, f->f_name,
					    f->f_why ? f->f_why : "(none)");
					CU_FAIL("a refusal without advice");
				}
			}
			if (f->f_kind == CK_IGNORE || (f->f_flags &
			    (CF_WARN | CF_ONLY_DEF))) {
				nign += f->f_kind == CK_IGNORE;
				if (f->f_why == NULL || *f->f_why == '\0') {
					fprintf(stderr, "\n%s.%s: no reason\n",
					    ms.m_v[i]->m_name, f->f_name);
					CU_FAIL("an ignored field without why");
				}
			}
			if (f->f_flags & CF_ONLY_DEF)
				CU_ASSERT(has_advice(f->f_why));
			if (f->f_kind != CK_ANY && f->f_any == NULL)
				continue;
			for (an = f->f_any; ; an++) {
				if (an->an_type != NULL && an->an_msg != NULL)
					continue;
				if (an->an_type == NULL && an->an_why == NULL &&
				    f->f_kind == CK_REJECT)
					break;	/* the row's f_why serves */
				nany++;
				if (!has_advice(an->an_why)) {
					fprintf(stderr, "\n%s.%s: @type %s "
					    "refused with no advice\n",
					    ms.m_v[i]->m_name, f->f_name,
					    an->an_type ? an->an_type :
					    "(others)");
					CU_FAIL("a type refusal without advice");
				}
				if (an->an_type == NULL)
					break;
			}
		}
	}
	/* the walk saw the tables */
	CU_ASSERT(nrej > 250);
	CU_ASSERT(nign > 80);
	CU_ASSERT(nany > 40);
}

static void
tables_have_unique_names_and_fit_the_seen_bits(void)
{
	const struct conf_field *f, *g;
	struct msgs ms = { { NULL }, 0 };
	size_t i, n;

	msgs_add(&ms, &conf_msg_bootstrap);
	for (i = 0; i < ms.m_n; i++) {
		n = 0;
		for (f = ms.m_v[i]->m_fields; f->f_name != NULL; f++, n++)
			for (g = f + 1; g->f_name != NULL; g++)
				if (strcmp(f->f_name, g->f_name) == 0) {
					fprintf(stderr, "\n%s: %s twice\n",
					    ms.m_v[i]->m_name, f->f_name);
					CU_FAIL("a name twice in one table");
				}
		CU_ASSERT(n <= 64);
	}
}

/* ---- every refusal, loaded ------------------------------------------ */

/* The value that opens field f's message: "{", "[{", or with "@type". */
static int
open_field(struct buf *b, const struct conf_field *f,
    const struct conf_msg **next)
{
	enum conf_kind k = f->f_kind == CK_FN ? f->f_like : f->f_kind;
	const struct conf_any *an;

	*next = f->f_msg;
	if (k == CK_ANY) {
		for (an = f->f_any; an->an_type != NULL; an++)
			if (an->an_msg != NULL)
				break;
		if (an->an_type == NULL)
			return -1;
		*next = an->an_msg;
		buf_printf(b, "{\"@type\":\"" CONF_TYPE_PREFIX "%s\",",
		    an->an_type);
		return 0;
	}
	if (k == CK_STRUCT && f->f_msg != NULL) {
		buf_puts(b, "{\"" CONF_NS "\":{");
		return 2;
	}
	if (k == CK_MSG) {
		buf_puts(b, "{");
		return 0;
	}
	if ((k == CK_SEQ || k == CK_ARR) && f->f_msg != NULL) {
		buf_puts(b, "[{");
		return 1;
	}
	return -1;
}

struct rej_walk {
	struct buf	 rw_pre;	/* JSON that opens the path */
	const char	*rw_close[32];	/* what closes each level */
	char		 rw_path[CONF_PATH_MAX];	/* the loader's path */
	size_t		 rw_nrej;
	size_t		 rw_depth;
	const struct conf_msg *rw_stack[32];
};

/* One refused field f at the walk's place: loaded, its error checked. */
static void
rej_try(struct rej_walk *rw, const struct conf_field *f)
{
	struct conf_diags d;
	struct cd_conf *c;
	struct buf cfg;
	char want[CONF_PATH_MAX + 64];
	size_t i, n;
	int found = 0;

	buf_init(&cfg);
	buf_puts(&cfg, "{");
	buf_append(&cfg, rw->rw_pre.b_data, rw->rw_pre.b_len);
	buf_printf(&cfg, "\"%s\":1", f->f_name);
	for (i = rw->rw_depth; i > 1; i--)
		buf_puts(&cfg, rw->rw_close[i - 1]);
	buf_puts(&cfg, "}");
	memset(&d, 0, sizeof(d));
	c = conf_load_buf("r.yaml", cfg.b_data, cfg.b_len, &d);
	CU_ASSERT_PTR_NULL(c);
	snprintf(want, sizeof(want), "%s%s%s: not supported by canaryd: ",
	    rw->rw_path, rw->rw_path[0] != '\0' ? "." : "", f->f_name);
	n = strlen(want);
	for (i = 0; i < d.cd_n && !found; i++)
		found = strncmp(d.cd_v[i].d_text, want, n) == 0 &&
		    d.cd_v[i].d_line > 0 && d.cd_v[i].d_col > 0 &&
		    strcmp(d.cd_v[i].d_text + n, f->f_why) == 0;
	if (!found) {
		fprintf(stderr, "\nwanted %s%s\n%.*s\n", want, f->f_why,
		    (int)cfg.b_len, cfg.b_data);
		conf_diags_print(&d, "r.yaml", stderr);
		CU_FAIL("a refusal without its place or advice");
	}
	rw->rw_nrej++;
	conf_free(c);
	conf_diags_free(&d);
	buf_free(&cfg);
}

static void
rej_msg(struct rej_walk *rw, const struct conf_msg *m, const char *close)
{
	const struct conf_field *f;
	const struct conf_msg *next;
	size_t plen, prelen, i;
	int how;

	for (i = 0; i < rw->rw_depth; i++)
		if (rw->rw_stack[i] == m)
			return;		/* a message already open */
	if (rw->rw_depth == 32)
		return;
	rw->rw_close[rw->rw_depth] = close;
	rw->rw_stack[rw->rw_depth++] = m;
	for (f = m->m_fields; f->f_name != NULL; f++) {
		if (f->f_kind == CK_REJECT) {
			rej_try(rw, f);
			continue;
		}
		prelen = rw->rw_pre.b_len;
		buf_printf(&rw->rw_pre, "\"%s\":", f->f_name);
		if ((how = open_field(&rw->rw_pre, f, &next)) == -1 ||
		    next == NULL) {
			rw->rw_pre.b_len = prelen;
			continue;
		}
		plen = strlen(rw->rw_path);
		snprintf(rw->rw_path + plen, sizeof(rw->rw_path) - plen,
		    "%s%s%s%s", plen > 0 ? "." : "", f->f_name,
		    how == 1 ? "[0]" : "", how == 2 ? "." CONF_NS : "");
		rej_msg(rw, next, how == 1 ? "}]" : how == 2 ? "}}" : "}");
		rw->rw_path[plen] = '\0';
		rw->rw_pre.b_len = prelen;
	}
	rw->rw_depth--;
}

static void
every_refused_field_is_refused_at_its_place_with_advice(void)
{
	struct rej_walk rw;

	memset(&rw, 0, sizeof(rw));
	buf_init(&rw.rw_pre);
	rej_msg(&rw, &conf_msg_bootstrap, "");
	buf_free(&rw.rw_pre);
	CU_ASSERT(rw.rw_nrej > 250);
}

/* And a refused "@type" names itself whole, with its advice. */
static void
refused_types_are_named_whole(void)
{
	static const char yaml[] =
	    "static_resources:\n"
	    "  listeners:\n"
	    "  - address: { socket_address: { address: 127.0.0.1, "
	    "port_value: 1 } }\n"
	    "    filter_chains:\n"
	    "    - filters:\n"
	    "      - name: hcm\n"
	    "        typed_config:\n"
	    "          \"@type\": type.googleapis.com/envoy.extensions.filters."
	    "network.http_connection_manager.v3.HttpConnectionManager\n"
	    "          stat_prefix: x\n"
	    "          route_config: {}\n"
	    "          http_filters:\n"
	    "          - name: t\n"
	    "            typed_config: { \"@type\": type.googleapis.com/envoy."
	    "extensions.filters.http.grpc_json_transcoder.v3."
	    "GrpcJsonTranscoder }\n"
	    "          - name: s\n"
	    "            typed_config: { \"@type\": type.googleapis.com/envoy."
	    "extensions.filters.http.stateful_session.v3.StatefulSession }\n";
	struct conf_diags d;
	size_t i;
	int n = 0;

	memset(&d, 0, sizeof(d));
	CU_ASSERT_PTR_NULL(conf_load_buf("t.yaml", yaml, strlen(yaml), &d));
	for (i = 0; i < d.cd_n; i++) {
		n += strstr(d.cd_v[i].d_text, "envoy.extensions.filters.http."
		    "grpc_json_transcoder.v3.GrpcJsonTranscoder is not "
		    "supported by canaryd: canaryd does not speak gRPC; "
		    "remove it") != NULL;
		n += strstr(d.cd_v[i].d_text, "envoy.extensions.filters.http."
		    "stateful_session.v3.StatefulSession is not supported by "
		    "canaryd: canaryd's sticky route option keeps a client on "
		    "one version; remove the filter and set the route's "
		    "metadata.filter_metadata.canaryd.sticky") != NULL;
	}
	CU_ASSERT_EQUAL(n, 2);
	conf_diags_free(&d);
}

static CU_TestInfo tests[] = {
	{ "every_refusal_says_why_and_what_to_do",
	    every_refusal_says_why_and_what_to_do },
	{ "tables_have_unique_names_and_fit_the_seen_bits",
	    tables_have_unique_names_and_fit_the_seen_bits },
	{ "every_refused_field_is_refused_at_its_place_with_advice",
	    every_refused_field_is_refused_at_its_place_with_advice },
	{ "refused_types_are_named_whole", refused_types_are_named_whole },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_tables", tests);
