/*
 * Configuration loader: `canaryd --mode schema` (conf-int.h).  Prints
 * every field the loader accepts, read from the tables it walks, so the
 * list cannot drift from what loads: one line a field, in the order
 * /config_dump prints them, five columns separated by tabs:
 *
 *	path	 static_resources.clusters[].connect_timeout ("[]": any item)
 *	type	 string, integer, bool, duration, enum, list of Cluster, ...
 *	default	 the value when absent, "required", or "-" (unset)
 *	bounds	 ranges, lengths, enum values, item counts, oneof groups
 *	note	 where canaryd differs from Envoy, or "-"
 *
 * Fields canaryd refuses (CK_REJECT) are left out; those it takes and
 * ignores (CK_IGNORE) are in, of type "any", their note saying so.  Any
 * process may call it; it reads nothing but the tables.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "conf.h"
#include "conf-int.h"

#define SCHEMA_COL	512	/* bytes of one column */

/* Shown on the namespace under filter_metadata. */
#define SCHEMA_NS_NOTE	"canaryd's own options; Envoy ignores them, and " \
	"canaryd only carries other namespaces along"

static int	schema_msg(FILE *, const struct conf_msg *, char *path,
		    size_t plen);
static int	schema_msg_from(FILE *, const struct conf_msg *, char *path,
		    size_t plen, const struct conf_any *,
		    const struct conf_any *);

/* What a field's value is: a handler's says so in f_like. */
static enum conf_kind
schema_kind(const struct conf_field *f)
{
	return f->f_kind == CK_FN ? f->f_like : f->f_kind;
}

/* Append to column buf, "; " after what is there. */
static void __attribute__((format(printf, 3, 4)))
col_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n > 0 && n + 2 < len) {
		memcpy(buf + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static void
schema_type(const struct conf_field *f, char *buf, size_t len)
{
	static const char *const names[] = {
		[CK_STR] = "string", [CK_UINT] = "integer",
		[CK_INT64] = "int64", [CK_UINT64] = "uint64",
		[CK_BOOL] = "bool", [CK_DUR] = "duration",
		[CK_ENUM] = "enum", [CK_FLAGS] = "flags",
		[CK_PCT] = "percent", [CK_DOUBLE] = "number",
		[CK_STRSEQ] = "list of string", [CK_ANY] = "Any",
		[CK_CLREF] = "cluster name", [CK_IGNORE] = "any",
	};
	enum conf_kind k = schema_kind(f);

	if (k == CK_MSG)
		snprintf(buf, len, "message %s", f->f_msg->m_name);
	else if (k == CK_SEQ || k == CK_ARR)
		snprintf(buf, len, "list of %s", f->f_msg != NULL ?
		    f->f_msg->m_name : "integer");
	else if (k == CK_STRUCT)
		snprintf(buf, len, "%s", f->f_msg != NULL ? "map of Struct" :
		    "Struct");
	else if ((size_t)k < sizeof(names) / sizeof(names[0]) &&
	    names[k] != NULL)
		snprintf(buf, len, "%s", names[k]);
	else
		snprintf(buf, len, "?");
}

/*
 * The members of f's oneof group that canaryd takes; *req: the group is
 * required.  A group of one is just a field, required or not.
 */
static int
oneof_count(const struct conf_msg *m, const struct conf_field *f, int *req)
{
	const struct conf_field *g;
	int n = 0;

	*req = (f->f_flags & CF_REQUIRED) != 0;
	if (f->f_oneof == 0)
		return 1;
	for (g = m->m_fields; g->f_name != NULL; g++) {
		if (g->f_oneof != f->f_oneof)
			continue;
		*req |= (g->f_flags & CF_REQUIRED) != 0;
		n += g->f_kind != CK_REJECT;
	}
	return n;
}

static const char *
enum_name(const struct conf_enum *e, int64_t v)
{
	const struct conf_enum_val *ev;

	for (ev = e->e_vals; ev->ev_name != NULL; ev++)
		if (ev->ev_value == v)
			return ev->ev_name;
	return "?";
}

static void
schema_default(const struct conf_msg *m, const struct conf_field *f,
    char *buf, size_t len)
{
	enum conf_kind k = schema_kind(f);
	int req;

	if (f->f_defdoc != NULL)
		snprintf(buf, len, "%s", f->f_defdoc);
	else if (oneof_count(m, f, &req) == 1 && req)
		snprintf(buf, len, "required");
	else if (!(f->f_flags & CF_DEF))
		snprintf(buf, len, "-");
	else if (k == CK_DUR)
		conf_format_duration(buf, len, f->f_def);
	else if (k == CK_BOOL)
		snprintf(buf, len, "%s", f->f_def ? "true" : "false");
	else if (k == CK_ENUM)
		snprintf(buf, len, "%s", (f->f_flags & CF_ENUMSTR) ?
		    f->f_defstr : enum_name(f->f_enum, f->f_def));
	else if (k == CK_STR)
		snprintf(buf, len, "\"%s\"", f->f_defstr);
	else if (k == CK_DOUBLE)
		snprintf(buf, len, "%g", f->f_ddef);
	else
		snprintf(buf, len, "%" PRId64, f->f_def);
}

/* The bounds of a list: its items and, for integers, their range. */
static void
bounds_list(const struct conf_field *f, char *buf, size_t len)
{
	if (f->f_flags & CF_NONEMPTY)
		col_add(buf, len, "at least 1 item");
	if (f->f_items == 1 && (f->f_flags & CF_REQUIRED))
		col_add(buf, len, "exactly 1 item");
	else if (f->f_items > 0)
		col_add(buf, len, "at most %zu item%s", f->f_items,
		    f->f_items == 1 ? "" : "s");
	if (f->f_msg == NULL)
		col_add(buf, len, "each %" PRId64 "..%" PRId64, f->f_min,
		    f->f_max);
}

/* The bounds of a string, or of each string of a list. */
static void
bounds_str(const struct conf_field *f, char *buf, size_t len,
    const char *each)
{
	if (f->f_flags & CF_NONEMPTY)
		col_add(buf, len, "%s", *each != '\0' ? "at least 1 item" :
		    "not empty");
	if (f->f_max > 0)
		col_add(buf, len, "%sat most %" PRId64 " bytes", each,
		    f->f_max);
	if (f->f_flags & CF_LOWER)
		col_add(buf, len, "lower-cased");
}

/* Append ", name" (" name" first) to buf. */
static void
col_list(char *buf, size_t len, int first, const char *name)
{
	strlcat(buf, first ? " " : ", ", len);
	strlcat(buf, name, len);
}

/* The names an enum, flags or Any field takes. */
static void
bounds_names(const struct conf_field *f, char *buf, size_t len)
{
	const struct conf_flag *fl;
	const struct conf_any *an;
	char list[256], url[256];
	int first;

	if (schema_kind(f) == CK_ENUM) {
		conf_enum_list(f->f_enum, list, sizeof(list));
		col_add(buf, len, "one of %s", list);
	} else if (schema_kind(f) == CK_FLAGS) {
		col_add(buf, len, "comma-separated:");
		for (fl = f->f_flagv; fl->fl_name != NULL; fl++)
			col_list(buf, len, fl == f->f_flagv, fl->fl_name);
	} else {
		col_add(buf, len, "@type:");
		for (an = f->f_any, first = 1; an->an_type != NULL; an++) {
			if (an->an_msg == NULL)
				continue;	/* refused */
			snprintf(url, sizeof(url), CONF_TYPE_PREFIX "%s",
			    an->an_type);
			col_list(buf, len, first, url);
			first = 0;
		}
	}
}

static void
schema_bounds(const struct conf_msg *m, const struct conf_field *f,
    char *buf, size_t len)
{
	char tmp[48], names[256];
	int req;

	buf[0] = '\0';
	switch (schema_kind(f)) {
	case CK_STR:
		bounds_str(f, buf, len, "");
		break;
	case CK_UINT:
	case CK_INT64:
	case CK_PCT:
		col_add(buf, len, "%" PRId64 "..%" PRId64, f->f_min, f->f_max);
		break;
	case CK_UINT64:
		col_add(buf, len, "0..%" PRIu64, UINT64_MAX);
		break;
	case CK_DUR:
		conf_format_duration(tmp, sizeof(tmp), f->f_min);
		if (f->f_flags & CF_GT)
			col_add(buf, len, "> %s", tmp);
		break;
	case CK_ENUM:
	case CK_FLAGS:
	case CK_ANY:
		bounds_names(f, buf, len);
		break;
	case CK_DOUBLE:
		if (isinf(f->f_dmax))
			col_add(buf, len, ">= %g", f->f_dmin);
		else
			col_add(buf, len, "%g..%g", f->f_dmin, f->f_dmax);
		break;
	case CK_SEQ:
	case CK_ARR:
		bounds_list(f, buf, len);
		break;
	case CK_STRSEQ:
		bounds_str(f, buf, len, "each ");
		break;
	default:
		break;
	}
	if (oneof_count(m, f, &req) == 1)
		return;
	conf_oneof_names(m, f->f_oneof, names, sizeof(names));
	col_add(buf, len, req ? "one of %s is required" : "only one of %s",
	    names);
}

static int
schema_line(FILE *fp, const char *path, const char *type, const char *def,
    const char *bounds, const char *note)
{
	return fprintf(fp, "%s\t%s\t%s\t%s\t%s\n", path, type, def,
	    *bounds != '\0' ? bounds : "-", note != NULL ? note : "-");
}

/* Append name to the path of length plen (a '.' before it unless at
 * the top); the new length. */
static size_t
path_add(char *path, size_t plen, const char *name)
{
	int n;

	n = snprintf(path + plen, CONF_PATH_MAX - plen, "%s%s",
	    plen > 0 && name[0] != '[' ? "." : "", name);
	if (n < 0 || (size_t)n >= CONF_PATH_MAX - plen)
		return CONF_PATH_MAX - 1;
	return plen + (size_t)n;
}

/* The messages under field f, whose path is path[0..plen). */
static int
schema_children(FILE *fp, const struct conf_field *f, char *path,
    size_t plen)
{
	const struct conf_any *an;
	enum conf_kind k = schema_kind(f);
	char type[SCHEMA_COL];
	size_t n;

	if (k == CK_MSG)
		return schema_msg(fp, f->f_msg, path, plen);
	if ((k == CK_SEQ || k == CK_ARR) && f->f_msg != NULL)
		return schema_msg(fp, f->f_msg, path, path_add(path, plen,
		    "[]"));
	if (k == CK_ANY) {
		/* types of one Any share its path: a field an earlier type
		 * has (the loggers' log_format) is printed once */
		for (an = f->f_any; an->an_type != NULL; an++)
			if (an->an_msg != NULL &&
			    schema_msg_from(fp, an->an_msg, path, plen,
			    f->f_any, an) == -1)
				return -1;
		return 0;
	}
	if (k == CK_STRUCT && f->f_msg != NULL) {
		n = path_add(path, plen, CONF_NS);
		snprintf(type, sizeof(type), "message %s", f->f_msg->m_name);
		if (schema_line(fp, path, type, "-", "", SCHEMA_NS_NOTE) < 0)
			return -1;
		return schema_msg(fp, f->f_msg, path, n);
	}
	return 0;
}

/* Field name of an Any type before an in list av. */
static bool
schema_any_had(const struct conf_any *av, const struct conf_any *an,
    const char *name)
{
	const struct conf_field *f;

	for (; av < an; av++)
		for (f = av->an_msg != NULL ? av->an_msg->m_fields : NULL;
		    f != NULL && f->f_name != NULL; f++)
			if (strcmp(f->f_name, name) == 0)
				return true;
	return false;
}

static int
schema_msg(FILE *fp, const struct conf_msg *m, char *path, size_t plen)
{
	return schema_msg_from(fp, m, path, plen, NULL, NULL);
}

/* m's fields under path, but those an earlier type of av (before an)
 * has. */
static int
schema_msg_from(FILE *fp, const struct conf_msg *m, char *path, size_t plen,
    const struct conf_any *av, const struct conf_any *an)
{
	const struct conf_field *f;
	char type[SCHEMA_COL], def[SCHEMA_COL], bounds[SCHEMA_COL];
	char inote[SCHEMA_COL];
	const char *note;
	size_t n;

	for (f = m->m_fields; f->f_name != NULL; f++) {
		if (f->f_kind == CK_REJECT ||
		    (av != NULL && schema_any_had(av, an, f->f_name)))
			continue;
		n = path_add(path, plen, f->f_name);
		schema_type(f, type, sizeof(type));
		schema_default(m, f, def, sizeof(def));
		schema_bounds(m, f, bounds, sizeof(bounds));
		note = f->f_note;
		if (f->f_kind == CK_IGNORE) {
			snprintf(inote, sizeof(inote), "ignored, with a "
			    "warning: %s", f->f_why);
			note = inote;
		} else if (note == NULL && (f->f_flags & CF_NOSTORE))
			note = "accepted, not used";
		if (schema_line(fp, path, type, def, bounds, note) < 0 ||
		    schema_children(fp, f, path, n) == -1)
			return -1;
		path[plen] = '\0';
	}
	return 0;
}

int
conf_schema_print(FILE *fp)
{
	char path[CONF_PATH_MAX];

	path[0] = '\0';
	if (fprintf(fp, "# path\ttype\tdefault\tbounds\tnote\n") < 0 ||
	    schema_msg(fp, &conf_msg_bootstrap, path, 0) == -1 ||
	    fflush(fp) == EOF || ferror(fp))
		return -1;
	return 0;
}
