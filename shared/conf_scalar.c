/*
 * Configuration loader: scalar values (conf-int.h).  Master only.
 *
 * Each reader takes one YAML node, checks it the way Envoy's proto JSON
 * would (integers in range, YAML 1.1 booleans, Duration strings, enum
 * names in any case, strings without NUL bytes), reports what is wrong at
 * the node, and returns -1 (NULL) then; the caller stores and renders.
 * Also the duration parser and printer of shared/conf.h.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "arena.h"
#include "conf.h"
#include "conf-int.h"

#define DUR_FORMAT	"want a string like \"1s\" or \"0.25s\""

/* Store v in the unsigned integer of size bytes at p. */
void
conf_store_int(void *p, size_t size, int64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)p = (uint32_t)v;
		break;
	case 8:
		*(int64_t *)p = v;
		break;
	default:
		abort();
	}
}

/* Decimal integer, optional '-', nothing else (protobuf JSON also takes
 * it quoted).  0, or -1 when s is not one or overflows int64. */
static int
parse_int(const char *s, size_t len, int64_t *out)
{
	uint64_t v = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i++;
	}
	if (i == len)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int
conf_get_int(struct cw *w, yaml_node_t *v, int64_t min, int64_t max,
    int64_t *out)
{
	const char *s;

	if (conf_want_scalar(w, v, "an integer") == -1)
		return -1;
	s = conf_sval(v);
	if (parse_int(s, conf_slen(v), out) == -1) {
		if (conf_is_plain(v) && conf_is_json_number(s, conf_slen(v)) &&
		    strpbrk(s, ".eE") == NULL)
			conf_err(w, v, "%.*s is out of range: must be %" PRId64
			    "..%" PRId64, CONF_QUOTE_MAX, s, min, max);
		else
			conf_err(w, v, "bad number \"%.*s\": want an integer",
			    CONF_QUOTE_MAX, s);
		return -1;
	}
	if (*out < min || *out > max) {
		conf_err(w, v, "%" PRId64 " is out of range: must be %" PRId64
		    "..%" PRId64, *out, min, max);
		return -1;
	}
	return 0;
}

/* Any uint64 (proto JSON prints it as a string). */
int
conf_get_uint64(struct cw *w, yaml_node_t *v, uint64_t *out)
{
	const char *s;
	uint64_t x = 0;
	size_t i, len;

	if (conf_want_scalar(w, v, "an integer") == -1)
		return -1;
	s = conf_sval(v);
	len = conf_slen(v);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) ||
		    x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			break;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (len == 0 || i < len) {
		conf_err(w, v, "bad number \"%.*s\": want an integer "
		    "0..18446744073709551615", CONF_QUOTE_MAX, s);
		return -1;
	}
	*out = x;
	return 0;
}

/* YAML 1.1 booleans, as Envoy's YAML reader takes them; quoted "true"
 * is a string, which protobuf JSON refuses for a bool. */
int
conf_get_bool(struct cw *w, yaml_node_t *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "y", NULL };
	static const char *const no[] = { "false", "no", "off", "n", NULL };
	size_t i;

	if (conf_want_scalar(w, v, "true or false") == -1)
		return -1;
	if (conf_is_plain(v)) {
		for (i = 0; yes[i] != NULL; i++)
			if (strcasecmp(conf_sval(v), yes[i]) == 0) {
				*out = true;
				return 0;
			}
		for (i = 0; no[i] != NULL; i++)
			if (strcasecmp(conf_sval(v), no[i]) == 0) {
				*out = false;
				return 0;
			}
	}
	conf_err(w, v, "bad boolean %s\"%.*s\": want true or false",
	    conf_is_plain(v) ? "" : "(quoted) ", CONF_QUOTE_MAX, conf_sval(v));
	return -1;
}

int
conf_get_dur(struct cw *w, yaml_node_t *v, int64_t *ns)
{
	const char *why;
	char wb[CONF_QUOTE_MAX + 8];

	if (v->type != YAML_SCALAR_NODE) {
		conf_err(w, v, "want a duration string like \"1s\" or "
		    "\"0.25s\", got %s", conf_node_what(v, wb, sizeof(wb)));
		return -1;
	}
	if (strlen(conf_sval(v)) != conf_slen(v) ||
	    conf_parse_duration(conf_sval(v), ns, &why) == -1) {
		if (strlen(conf_sval(v)) != conf_slen(v))
			why = DUR_FORMAT;
		conf_err(w, v, "bad duration \"%.*s\": %s", CONF_QUOTE_MAX,
		    conf_sval(v), why);
		return -1;
	}
	return 0;
}

/*
 * A finite number spelled as JSON spells it (no inf, nan or hex: Envoy's
 * proto JSON would not take them either), in [min, max]; max INFINITY
 * means no upper bound.
 */
int
conf_get_double(struct cw *w, yaml_node_t *v, double min, double max,
    double *out)
{
	const char *s;
	double d;

	if (conf_want_scalar(w, v, "a number") == -1)
		return -1;
	s = conf_sval(v);
	if (!conf_is_json_number(s, conf_slen(v)) ||
	    strlen(s) != conf_slen(v)) {
		conf_err(w, v, "bad number \"%.*s\"", CONF_QUOTE_MAX, s);
		return -1;
	}
	errno = 0;
	d = strtod(s, NULL);
	if (errno != 0 || !isfinite(d)) {
		conf_err(w, v, "bad number \"%.*s\"", CONF_QUOTE_MAX, s);
		return -1;
	}
	if (d < min || d > max) {
		if (isinf(max))
			conf_err(w, v, "%g is out of range: must be at "
			    "least %g", d, min);
		else
			conf_err(w, v, "%g is out of range: must be %g..%g", d,
			    min, max);
		return -1;
	}
	*out = d;
	return 0;
}

/* Percent.value: any number strtod reads, in [min, max]. */
int
conf_get_pct(struct cw *w, yaml_node_t *v, int64_t min, int64_t max,
    double *out)
{
	const char *s;
	char *end;
	double d;

	if (conf_want_scalar(w, v, "a number") == -1)
		return -1;
	s = conf_sval(v);
	errno = 0;
	d = strtod(s, &end);
	if (conf_slen(v) == 0 || *end != '\0' || errno != 0 || isnan(d) ||
	    isspace((unsigned char)s[0])) {
		conf_err(w, v, "bad number \"%.*s\"", CONF_QUOTE_MAX, s);
		return -1;
	}
	if (d < (double)min || d > (double)max) {
		conf_err(w, v, "%g is out of range: must be %" PRId64
		    "..%" PRId64, d, min, max);
		return -1;
	}
	*out = d;
	return 0;
}

static const struct conf_enum_val *
enum_find(const struct conf_enum *e, const char *s)
{
	const struct conf_enum_val *ev;

	for (ev = e->e_vals; ev->ev_name != NULL; ev++)
		if (strcasecmp(ev->ev_name, s) == 0)
			return ev;
	return NULL;
}

/* "A, B, C": the values of e canaryd implements. */
void
conf_enum_list(const struct conf_enum *e, char *buf, size_t len)
{
	const struct conf_enum_val *ev;

	buf[0] = '\0';
	for (ev = e->e_vals; ev->ev_name != NULL; ev++) {
		if (ev->ev_value == CONF_ENUM_NOSUP)
			continue;
		if (buf[0] != '\0')
			strlcat(buf, ", ", len);
		strlcat(buf, ev->ev_name, len);
	}
}

const struct conf_enum_val *
conf_get_enum(struct cw *w, yaml_node_t *v, const struct conf_enum *e)
{
	const struct conf_enum_val *ev;
	char list[256];

	if (conf_want_scalar(w, v, e->e_what) == -1)
		return NULL;
	conf_enum_list(e, list, sizeof(list));
	if ((ev = enum_find(e, conf_sval(v))) == NULL) {
		conf_err(w, v, "unknown %s \"%s\": want one of %s",
		    e->e_what, conf_sval(v), list);
		return NULL;
	}
	if (ev->ev_value == CONF_ENUM_NOSUP) {
		conf_err(w, v, "%s %s is not supported by canaryd; use %s%s",
		    e->e_what, ev->ev_name, strchr(list, ',') != NULL ?
		    "one of " : "", list);
		return NULL;
	}
	return ev;
}

/* A string value; NUL bytes are refused: every consumer is C. */
char *
conf_get_str(struct cw *w, yaml_node_t *v, unsigned int flags, int64_t max)
{
	char *s;
	size_t i;

	if (conf_want_scalar(w, v, "a string") == -1)
		return NULL;
	if (strlen(conf_sval(v)) != conf_slen(v)) {
		conf_err(w, v, "must not contain NUL bytes");
		return NULL;
	}
	if ((flags & CF_NONEMPTY) && conf_slen(v) == 0) {
		conf_err(w, v, "must not be empty");
		return NULL;
	}
	if (max > 0 && conf_slen(v) > (size_t)max) {
		conf_err(w, v, "too long: %zu bytes, canaryd allows %" PRId64,
		    conf_slen(v), max);
		return NULL;
	}
	if ((s = arena_strndup(w->w_arena, conf_sval(v), conf_slen(v))) ==
	    NULL) {
		conf_oom(w);
		return NULL;
	}
	if (flags & CF_LOWER)
		for (i = 0; s[i] != '\0'; i++)
			s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

/*
 * The bits of the comma-separated names in s (blanks around a name do not
 * count).  Names fv does not hold are ignored, as Envoy ignores retry_on
 * tokens it does not know (gRPC ones, retriable-headers, ...).
 */
uint32_t
conf_flags_parse(const struct conf_flag *fv, const char *s)
{
	const struct conf_flag *fl;
	const char *p, *e, *end;
	uint32_t bits = 0;
	size_t len;

	for (p = s; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		end = e;
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		len = (size_t)(end - p);
		for (fl = fv; fl->fl_name != NULL; fl++)
			if (strlen(fl->fl_name) == len &&
			    memcmp(fl->fl_name, p, len) == 0)
				bits |= fl->fl_bit;
	}
	return bits;
}

/* ---- durations -------------------------------------------------------- */

int
conf_parse_duration(const char *s, int64_t *ns, const char **errstr)
{
	const char *p = s;
	int64_t sec = 0, frac = 0;
	int neg = 0, nd = 0, nf = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; isdigit((unsigned char)*p); p++, nd++) {
		if (sec > (INT64_MAX - 9) / 10) {
			*errstr = "too large";
			return -1;
		}
		sec = sec * 10 + (*p - '0');
	}
	if (nd == 0) {
		*errstr = DUR_FORMAT;
		return -1;
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, nf++)
			if (nf < 9)
				frac = frac * 10 + (*p - '0');
		if (nf == 0) {
			*errstr = DUR_FORMAT;
			return -1;
		}
	}
	if (p[0] != 's' || p[1] != '\0') {
		*errstr = DUR_FORMAT;
		return -1;
	}
	if (nf > 9) {
		*errstr = "at most 9 fractional digits (nanoseconds)";
		return -1;
	}
	if (neg) {
		*errstr = "must not be negative";
		return -1;
	}
	for (; nf < 9; nf++)
		frac *= 10;
	if (sec > (INT64_MAX - frac) / CD_NS_PER_S) {
		*errstr = "too large";
		return -1;
	}
	*ns = sec * CD_NS_PER_S + frac;
	return 0;
}

int
conf_format_duration(char *buf, size_t len, int64_t ns)
{
	const char *sign = "";
	uint64_t u, sec, frac;

	if (ns < 0) {
		sign = "-";
		u = (uint64_t)0 - (uint64_t)ns;
	} else
		u = (uint64_t)ns;
	sec = u / CD_NS_PER_S;
	frac = u % CD_NS_PER_S;
	if (frac == 0)
		return snprintf(buf, len, "%s%" PRIu64 "s", sign, sec);
	if (frac % 1000000 == 0)
		return snprintf(buf, len, "%s%" PRIu64 ".%03" PRIu64 "s", sign,
		    sec, frac / 1000000);
	if (frac % 1000 == 0)
		return snprintf(buf, len, "%s%" PRIu64 ".%06" PRIu64 "s", sign,
		    sec, frac / 1000);
	return snprintf(buf, len, "%s%" PRIu64 ".%09" PRIu64 "s", sign, sec,
	    frac);
}

/*
 * A DataSource's filename, read whole when the configuration loads: a
 * regular file of at most max bytes.  Malloc'd bytes with a NUL after
 * them, their count in *len; NULL when it cannot be had (said at v).
 */
char *
conf_read_file(struct cw *w, yaml_node_t *v, size_t max, size_t *len)
{
	struct stat st;
	char *path, *data;
	size_t n = 0;
	ssize_t got = 1;
	int fd;

	w->w_wfast_off = 1;	/* the file may change: parse again */
	conf_json_yaml(w, v, 0);
	if ((path = conf_get_str(w, v, CF_NONEMPTY, PATH_MAX)) == NULL)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		conf_err(w, v, "cannot open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max) {
		conf_err(w, v, "\"%s\": want a regular file of at most %zu "
		    "bytes", path, max);
		close(fd);
		return NULL;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		conf_oom(w);
		close(fd);
		return NULL;
	}
	while (n < (size_t)st.st_size && (got = read(fd, data + n,
	    (size_t)st.st_size - n)) > 0)
		n += (size_t)got;
	close(fd);
	if (got == -1) {
		conf_err(w, v, "cannot read \"%s\": %s", path,
		    strerror(errno));
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}
