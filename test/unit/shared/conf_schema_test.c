/*
 * Unit tests for conf_schema_print() (shared/conf_schema.c, `canaryd
 * --mode schema`): its columns, some lines in full, that it names every
 * key canaryd.yaml(5) documents, and that the loader takes every path it
 * prints (a config with only that field set is refused for its value,
 * never as an unknown or unsupported field).  Runs from the repository
 * root (man/canaryd.yaml.5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "shared/buf.h"
#include "shared/conf.h"
#include "test/unit/unit.h"

#define MAN5		"man/canaryd.yaml.5"
#define HEADER		"# path\ttype\tdefault\tbounds\tnote"
#define MAX_ROWS	1024

struct row {
	char	*r_path;
	char	*r_type;
	char	*r_def;
	char	*r_bounds;
	char	*r_note;
	char	*r_name;	/* the last part of the path, "[]" cut */
};

struct schema {
	char		*s_text;
	char		*s_line0;	/* the header line */
	struct row	 s_rows[MAX_ROWS];
	size_t		 s_n;
	int		 s_bad;		/* a line without five columns */
};

/* Split conf_schema_print()'s output into rows (pointers into s_text). */
static void
schema_load(struct schema *s)
{
	char *line, *next, **col[5];
	struct row *r;
	size_t len, i;
	FILE *fp;

	memset(s, 0, sizeof(*s));
	fp = open_memstream(&s->s_text, &len);
	CU_ASSERT_FATAL(fp != NULL);
	CU_ASSERT_EQUAL(conf_schema_print(fp), 0);
	CU_ASSERT_FATAL(fclose(fp) == 0);
	for (line = s->s_text; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			next = line + strlen(line);
		else
			*next++ = '\0';
		if (s->s_line0 == NULL) {
			s->s_line0 = line;
			continue;
		}
		CU_ASSERT_FATAL(s->s_n < MAX_ROWS);
		r = &s->s_rows[s->s_n++];
		col[0] = &r->r_path;
		col[1] = &r->r_type;
		col[2] = &r->r_def;
		col[3] = &r->r_bounds;
		col[4] = &r->r_note;
		for (i = 0; i < 5; i++) {
			*col[i] = strsep(&line, "\t");
			if (*col[i] == NULL || **col[i] == '\0')
				s->s_bad = 1;
		}
		if (line != NULL || s->s_bad) {
			s->s_bad = 1;
			return;
		}
		r->r_name = strdup(strrchr(r->r_path, '.') != NULL ?
		    strrchr(r->r_path, '.') + 1 : r->r_path);
		CU_ASSERT_FATAL(r->r_name != NULL);
		if (strstr(r->r_name, "[]") != NULL)
			*strstr(r->r_name, "[]") = '\0';
	}
}

static void
schema_free(struct schema *s)
{
	size_t i;

	for (i = 0; i < s->s_n; i++)
		free(s->s_rows[i].r_name);
	free(s->s_text);
}

static const struct row *
schema_row(const struct schema *s, const char *path)
{
	size_t i;

	for (i = 0; i < s->s_n; i++)
		if (strcmp(s->s_rows[i].r_path, path) == 0)
			return &s->s_rows[i];
	return NULL;
}

static int
schema_has_name(const struct schema *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->s_n; i++)
		if (strcmp(s->s_rows[i].r_name, name) == 0)
			return 1;
	return 0;
}

/* ---- the output --------------------------------------------------------- */

static void
schema_has_five_columns_and_unique_paths(void)
{
	struct schema s;
	size_t i, j;

	schema_load(&s);
	CU_ASSERT_FALSE(s.s_bad);
	CU_ASSERT_STRING_EQUAL(s.s_line0, HEADER);
	CU_ASSERT(s.s_n > 200);
	for (i = 0; i < s.s_n; i++) {
		/* "?": a handler's row that does not say what it reads */
		CU_ASSERT_STRING_NOT_EQUAL(s.s_rows[i].r_type, "?");
		CU_ASSERT_STRING_NOT_EQUAL(s.s_rows[i].r_def, "?");
		for (j = i + 1; j < s.s_n; j++) {
			if (strcmp(s.s_rows[i].r_path,
			    s.s_rows[j].r_path) != 0)
				continue;
			fprintf(stderr, "\ntwice: %s\n", s.s_rows[i].r_path);
			CU_FAIL("a path printed twice");
		}
	}
	schema_free(&s);
}

/* path's line, all five columns, is want. */
static void
expect_line(const struct schema *s, const char *path, const char *want)
{
	const struct row *r = schema_row(s, path);
	char got[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	snprintf(got, sizeof(got), "%s\t%s\t%s\t%s\t%s", r->r_path, r->r_type,
	    r->r_def, r->r_bounds, r->r_note);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\nwant: %s\ngot:  %s\n", want, got);
	CU_ASSERT_STRING_EQUAL(got, want);
}

#define HCM	"static_resources.listeners[].filter_chains[].filters[]." \
	"typed_config"
#define ROUTE	HCM ".route_config.virtual_hosts[].routes[]"
#define CL	"static_resources.clusters[]"

static void
schema_lines_say_type_default_bounds_note(void)
{
	struct schema s;

	schema_load(&s);
	expect_line(&s, "static_resources.listeners", "static_resources."
	    "listeners\tlist of Listener\trequired\t-\t"
	    "unique names and addresses");
	expect_line(&s, CL ".connect_timeout", CL ".connect_timeout\t"
	    "duration\t5s\t> 0s\t-");
	expect_line(&s, CL ".type", CL ".type\tenum\tSTATIC\t"
	    "one of STATIC, STRICT_DNS, LOGICAL_DNS\t-");
	expect_line(&s, CL ".dns_refresh_rate", CL ".dns_refresh_rate\t"
	    "duration\t5s\t> 0.001s\t-");
	expect_line(&s, CL ".load_assignment.cluster_name", CL
	    ".load_assignment.cluster_name\tstring\trequired\tnot empty\t-");
	expect_line(&s, HCM ".server_name", HCM ".server_name\tstring\t"
	    "\"canaryd\"\tnot empty\tEnvoy's default is \"envoy\"");
	expect_line(&s, HCM ".codec_type", HCM ".codec_type\tenum\t-\t"
	    "one of AUTO, HTTP1\taccepted, not used");
	expect_line(&s, HCM ".common_http_protocol_options."
	    "max_requests_per_connection", HCM ".common_http_protocol_options."
	    "max_requests_per_connection\tinteger\t0\t0..4294967295\t-");
	expect_line(&s, CL ".typed_extension_protocol_options", CL
	    ".typed_extension_protocol_options\tmessage "
	    "typed_extension_protocol_options\t-\t-\tonly envoy.extensions."
	    "upstreams.http.v3.HttpProtocolOptions, for HTTP/1.1");
	expect_line(&s, ROUTE ".route.retry_policy.retry_on", ROUTE
	    ".route.retry_policy.retry_on\tflags\t-\tcomma-separated: 5xx, "
	    "gateway-error, reset, connect-failure, retriable-4xx, "
	    "refused-stream, retriable-status-codes, reset-before-request, "
	    "envoy-ratelimited\t-");
	expect_line(&s, ROUTE ".route.retry_policy.retriable_status_codes",
	    ROUTE ".route.retry_policy.retriable_status_codes\tlist of "
	    "integer\t-\tat most 16 items; each 100..599\t-");
	expect_line(&s, ROUTE ".match.path", ROUTE ".match.path\tstring\t-\t"
	    "one of prefix, path, safe_regex, path_separated_prefix is "
	    "required\t-");
	expect_line(&s, ROUTE ".metadata.filter_metadata.canaryd.sticky.seed",
	    ROUTE ".metadata.filter_metadata.canaryd.sticky.seed\tuint64\t"
	    "a hash of the route's name, else of its place\t"
	    "0..18446744073709551615\t-");
	expect_line(&s, ROUTE ".metadata.filter_metadata.canaryd.rollout."
	    "max_p99_ratio", ROUTE ".metadata.filter_metadata.canaryd.rollout."
	    "max_p99_ratio\tnumber\t1.5\t>= 1\t-");
	expect_line(&s, "admin.access_log[].typed_config.path",
	    "admin.access_log[].typed_config.path\tstring\trequired\t"
	    "not empty\t-");
	schema_free(&s);
}

/* A FILE that cannot be written: the error reaches the caller. */
static void
schema_reports_write_errors(void)
{
	FILE *fp;

	if ((fp = fopen("/dev/full", "w")) == NULL)
		return;		/* no /dev/full here: nothing to test */
	CU_ASSERT_EQUAL(conf_schema_print(fp), -1);
	CU_ASSERT_EQUAL(errno, ENOSPC);
	fclose(fp);
}

/* ---- the man page ------------------------------------------------------- */

/* What canaryd.yaml(5) names as an Ic but is no key the loader takes:
 * values, and the access log fields it says are refused. */
static const char *const man_not_keys[] = { "false", NULL };
static const char *const man_refused[] = { "filter", NULL };

static int
in_list(const char *const *l, const char *s)
{
	for (; *l != NULL; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

/* One Ic argument, "a.b[].c": each part must be a key of the schema;
 * 1 (and why, if verbose) when one is not. */
static int
man_key_check(const struct schema *s, char *arg, int verbose)
{
	char *part, *br;
	int bad = 0;

	if (strncmp(arg, "envoy.", 6) == 0)
		return 0;	/* a filter's name, not a key */
	while ((part = strsep(&arg, ".")) != NULL) {
		if ((br = strstr(part, "[]")) != NULL)
			*br = '\0';
		if (*part == '\0' || in_list(man_not_keys, part))
			continue;
		if (in_list(man_refused, part)) {
			if (schema_has_name(s, part)) {
				if (verbose)
					fprintf(stderr, "\nrefused, yet in the "
					    "schema: %s\n", part);
				bad = 1;
			}
		} else if (!schema_has_name(s, part)) {
			if (verbose)
				fprintf(stderr, "\n" MAN5 " documents %s, the "
				    "schema has no such field\n", part);
			bad = 1;
		}
	}
	return bad;
}

static int
is_macro(const char *w)
{
	size_t n = strlen(w);

	return w[0] == '.' || (n >= 2 && n <= 3 && w[0] >= 'A' &&
	    w[0] <= 'Z' && w[1] >= 'a' && w[1] <= 'z');
}

static void
schema_lists_every_key_the_man_page_documents(void)
{
	struct schema s;
	char line[1024], *p, *w;
	int in_ic, bad = 0, nkeys = 0;
	FILE *fp;

	schema_load(&s);
	fp = fopen(MAN5, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		in_ic = 0;
		for (p = line; (w = strsep(&p, " \t\n")) != NULL;) {
			if (strcmp(w, "Ic") == 0 || strcmp(w, ".Ic") == 0)
				in_ic = 1;
			else if (is_macro(w))
				in_ic = 0;
			else if (in_ic && *w != '\0' && strchr(",|;:", *w) ==
			    NULL) {
				bad |= man_key_check(&s, w, 1);
				nkeys++;
			}
		}
	}
	fclose(fp);
	CU_ASSERT(nkeys > 150);
	CU_ASSERT_FALSE(bad);
	/* and the check tells: a key the schema lacks, a refused one */
	strlcpy(line, "route.no_such_key", sizeof(line));
	CU_ASSERT_TRUE(man_key_check(&s, line, 0));
	strlcpy(line, "filter", sizeof(line));
	CU_ASSERT_FALSE(man_key_check(&s, line, 0));
	strlcpy(line, "retry_policy.retry_on", sizeof(line));
	CU_ASSERT_FALSE(man_key_check(&s, line, 0));
	schema_free(&s);
}

/* ---- the loader --------------------------------------------------------- */

/* URL number i ("@type: a, b, c") of the Any field at path; the last
 * when there are fewer; 0 when path is no Any field. */
static int
any_url(const struct schema *s, const char *path, int i, char *url,
    size_t len)
{
	const struct row *r = schema_row(s, path);
	const char *p, *e;

	if (r == NULL || strcmp(r->r_type, "Any") != 0)
		return 0;
	CU_ASSERT_FATAL(strncmp(r->r_bounds, "@type: ", 7) == 0);
	p = r->r_bounds + 7;
	for (; i > 0 && (e = strstr(p, ", ")) != NULL; i--)
		p = e + 2;
	e = strstr(p, ", ");
	snprintf(url, len, "%.*s", (int)(e != NULL ? e - p : (int)strlen(p)),
	    p);
	return 1;
}

/*
 * The '.' that ends the key starting at p in path: the first whose
 * prefix the schema has a row for (a list's "[]" aside), as a map key
 * may hold dots (typed_extension_protocol_options); NULL when the key
 * runs to the end.
 */
static const char *
key_end(const struct schema *s, const char *path, const char *p)
{
	char prefix[1024];
	const char *dot;
	int n;

	for (dot = strchr(p, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
		n = (int)(dot - path);
		if (n > 2 && memcmp(dot - 2, "[]", 2) == 0)
			n -= 2;
		snprintf(prefix, sizeof(prefix), "%.*s", n, path);
		if (schema_row(s, prefix) != NULL)
			return dot;
	}
	return NULL;
}

/*
 * The smallest config that sets path, as JSON (which YAML reads): every
 * list one item, every Any with its "@type" (choice picks among several),
 * the field itself set to [[]], a value no field takes but a free-form
 * one.
 */
static void
config_for(const struct schema *s, const char *path, int choice,
    struct buf *b)
{
	char prefix[1024], url[512];
	int lists[64], nopen = 0;
	const char *p = path, *dot;
	size_t len;

	buf_puts(b, "{");
	for (;;) {
		dot = key_end(s, path, p);
		len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		snprintf(prefix, sizeof(prefix), "%.*s",
		    (int)(p + len - path), path);
		lists[nopen] = len > 2 && memcmp(p + len - 2, "[]", 2) == 0;
		buf_printf(b, "\"%.*s\":", (int)(lists[nopen] ? len - 2 : len),
		    p);
		if (dot == NULL)
			break;
		buf_puts(b, lists[nopen++] ? "[{" : "{");
		CU_ASSERT_FATAL(nopen < 64);
		if (any_url(s, prefix, choice, url, sizeof(url)))
			buf_printf(b, "\"@type\":\"%s\",", url);
		p = dot + 1;
	}
	buf_puts(b, "[[]]");
	while (nopen-- > 0)
		buf_puts(b, lists[nopen] ? "}]" : "}");
	buf_puts(b, "}");
}

/* The field at path (the loader's spelling) was read, and not refused. */
static int
path_taken(const struct conf_diags *d, const char *path, int *reached)
{
	size_t i, n = strlen(path);
	const char *t;

	for (i = 0; i < d->cd_n; i++) {
		t = d->cd_v[i].d_text;
		if (strncmp(t, path, n) != 0 || strchr(":.[", t[n]) == NULL)
			continue;
		*reached = 1;
		if (t[n] == ':' && (strstr(t, "unknown field") != NULL ||
		    strstr(t, "not supported by canaryd") != NULL))
			return 0;
	}
	return *reached;
}

/* Some config with the field at path set is refused for its value, not
 * for the field; verbose: say why not. */
static int
loader_takes(const struct schema *s, const char *path, int verbose)
{
	struct conf_diags d;
	struct cd_conf *c;
	struct buf b, lp;
	const char *p;
	int choice, reached, ok = 0;

	buf_init(&lp);
	for (p = path; *p != '\0'; p++)
		if (p[0] == '[' && p[1] == ']') {
			buf_puts(&lp, "[0]");
			p++;
		} else
			buf_append(&lp, p, 1);
	buf_append(&lp, "", 1);
	for (choice = 0; choice < 8 && !ok; choice++) {
		buf_init(&b);
		config_for(s, path, choice, &b);
		memset(&d, 0, sizeof(d));
		c = conf_load_buf("s.yaml", b.b_data, b.b_len, &d);
		reached = 0;
		ok = c == NULL && path_taken(&d, lp.b_data, &reached);
		if (!ok && choice == 7 && verbose) {
			fprintf(stderr, "\nnot taken: %s\n%.*s\n", path,
			    (int)b.b_len, b.b_data);
			conf_diags_print(&d, "s.yaml", stderr);
		}
		conf_free(c);
		conf_diags_free(&d);
		buf_free(&b);
	}
	buf_free(&lp);
	return ok;
}

static void
schema_lists_nothing_the_loader_refuses(void)
{
	struct schema s;
	size_t i;

	schema_load(&s);
	for (i = 0; i < s.s_n; i++)
		CU_ASSERT(loader_takes(&s, s.s_rows[i].r_path, 1));
	/* and the check tells: an unknown field, a refused one */
	CU_ASSERT_FALSE(loader_takes(&s, "static_resources.no_such_field",
	    0));
	CU_ASSERT_FALSE(loader_takes(&s, CL ".hosts", 0));
	CU_ASSERT_FALSE(loader_takes(&s, ROUTE ".route.path_rewrite_policy",
	    0));
	schema_free(&s);
}

static CU_TestInfo tests[] = {
	{ "schema_has_five_columns_and_unique_paths",
	    schema_has_five_columns_and_unique_paths },
	{ "schema_lines_say_type_default_bounds_note",
	    schema_lines_say_type_default_bounds_note },
	{ "schema_reports_write_errors", schema_reports_write_errors },
	{ "schema_lists_every_key_the_man_page_documents",
	    schema_lists_every_key_the_man_page_documents },
	{ "schema_lists_nothing_the_loader_refuses",
	    schema_lists_nothing_the_loader_refuses },
	CU_TEST_INFO_NULL
};

UNIT_SUITE("shared/conf_schema", tests);
