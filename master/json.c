/*
 * The master's JSON writing (see json.h): one place for how numbers,
 * strings, keys and timestamps are spelled, and the pretty-printer every
 * page goes through.
 *
 * The printer copies tokens as written (strings keep their escapes,
 * numbers their digits) and only lays them out, so what a page builds
 * compactly is what it prints; input that is not JSON is refused rather
 * than printed half.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shared/buf.h"
#include "shared/hist.h"
#include "shared/text.h"
#include "json.h"

void
mst_json_str(struct buf *b, const char *s)
{
	buf_json_str(b, s, strlen(s));
}

void
mst_json_key(struct buf *b, const char *k)
{
	buf_json_str(b, k, strlen(k));
	buf_puts(b, ":");
}

void
mst_json_num(struct buf *b, double v)
{
	char s[64];

	if (!isfinite(v)) {
		buf_puts(b, "null");
		return;
	}
	hist_fmt(s, sizeof(s), v);
	buf_puts(b, s);
}

int
mst_json_timestamp(char *buf, size_t len, uint64_t ms)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);
	char ymd[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(ymd, sizeof(ymd), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return snprintf(buf, len, "1970-01-01T00:00:00Z");
	if (ms % 1000 == 0)
		return snprintf(buf, len, "%sZ", ymd);
	return snprintf(buf, len, "%s.%03uZ", ymd, (unsigned int)(ms % 1000));
}

#define JP_MAX_DEPTH	100

struct jp {
	const char	*j_s;
	size_t		 j_len;
	size_t		 j_pos;
};

static void
jp_ws(struct jp *j)
{
	while (j->j_pos < j->j_len && (j->j_s[j->j_pos] == ' ' ||
	    j->j_s[j->j_pos] == '\t' || j->j_s[j->j_pos] == '\n' ||
	    j->j_s[j->j_pos] == '\r'))
		j->j_pos++;
}

static int
jp_peek(struct jp *j)
{
	jp_ws(j);
	return j->j_pos < j->j_len ? (unsigned char)j->j_s[j->j_pos] : -1;
}

/* A new line at level (one space a level). */
static void
pp_newline(struct buf *out, int level)
{
	static const char sp[] = "                                ";
	int n;

	buf_append(out, "\n", 1);
	while (level > 0) {
		n = level < (int)sizeof(sp) - 1 ? level : (int)sizeof(sp) - 1;
		buf_append(out, sp, (size_t)n);
		level -= n;
	}
}


/* A string, copied as written (escapes stay escapes). */
static int
jp_string(struct jp *j)
{
	size_t i;
	unsigned char c;

	if (j->j_pos >= j->j_len || j->j_s[j->j_pos] != '"')
		return -1;
	for (j->j_pos++; j->j_pos < j->j_len; j->j_pos++) {
		c = (unsigned char)j->j_s[j->j_pos];
		if (c == '"') {
			j->j_pos++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\')
			continue;
		if (++j->j_pos >= j->j_len)
			return -1;
		switch (j->j_s[j->j_pos]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			break;
		case 'u':
			for (i = 1; i <= 4; i++)
				if (j->j_pos + i >= j->j_len ||
				    text_hexval(j->j_s[j->j_pos + i]) < 0)
					return -1;
			j->j_pos += 4;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

static int
jp_digits(struct jp *j)
{
	size_t start = j->j_pos;

	while (j->j_pos < j->j_len && j->j_s[j->j_pos] >= '0' &&
	    j->j_s[j->j_pos] <= '9')
		j->j_pos++;
	return j->j_pos > start ? 0 : -1;
}

static int
jp_number(struct jp *j)
{
	if (j->j_s[j->j_pos] == '-')
		j->j_pos++;
	if (j->j_pos < j->j_len && j->j_s[j->j_pos] == '0')
		j->j_pos++;
	else if (jp_digits(j) == -1)
		return -1;
	if (j->j_pos < j->j_len && j->j_s[j->j_pos] == '.') {
		j->j_pos++;
		if (jp_digits(j) == -1)
			return -1;
	}
	if (j->j_pos < j->j_len && (j->j_s[j->j_pos] == 'e' ||
	    j->j_s[j->j_pos] == 'E')) {
		j->j_pos++;
		if (j->j_pos < j->j_len && (j->j_s[j->j_pos] == '+' ||
		    j->j_s[j->j_pos] == '-'))
			j->j_pos++;
		if (jp_digits(j) == -1)
			return -1;
	}
	return 0;
}

static int
jp_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if (j->j_len - j->j_pos < n || memcmp(j->j_s + j->j_pos, lit, n) != 0)
		return -1;
	j->j_pos += n;
	return 0;
}

static int
jp_value(struct jp *j, int level)
{
	int c, close, n;

	if (level > JP_MAX_DEPTH)
		return -1;
	switch ((c = jp_peek(j))) {
	case '{':
	case '[':
		close = c == '{' ? '}' : ']';
		j->j_pos++;
		if (jp_peek(j) == close) {
			j->j_pos++;
			return 0;
		}
		for (n = 0;; n++) {
			if (c == '{') {
				if (jp_peek(j) != '"' || jp_string(j) == -1)
					return -1;
				if (jp_peek(j) != ':')
					return -1;
				j->j_pos++;
			}
			if (jp_value(j, level + 1) == -1)
				return -1;
			switch (jp_peek(j)) {
			case ',':
				j->j_pos++;
				continue;
			case '}':
			case ']':
				if (jp_peek(j) != close)
					return -1;
				j->j_pos++;
				return 0;
			default:
				return -1;
			}
		}
	case '"':
		return jp_string(j);
	case 't':
		return jp_literal(j, "true");
	case 'f':
		return jp_literal(j, "false");
	case 'n':
		return jp_literal(j, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return jp_number(j);
		return -1;
	}
}

int
mst_json_pretty(struct buf *out, const char *json, size_t len)
{
	struct mst_json_pp pp;
	struct jp j;

	j.j_s = json;
	j.j_len = len;
	j.j_pos = 0;
	if (jp_value(&j, 0) == -1 || jp_peek(&j) != -1) {
		errno = EINVAL;
		return -1;
	}
	/* valid: one layout for both, the piece printer's */
	mst_json_pp_init(&pp);
	mst_json_pp_feed(&pp, out, json, len);
	mst_json_pp_end(&pp, out);
	if (out->b_oom) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
mst_json_pp_init(struct mst_json_pp *pp)
{
	memset(pp, 0, sizeof(*pp));
}

void
mst_json_pp_feed(struct mst_json_pp *pp, struct buf *out, const char *s,
    size_t len)
{
	size_t i = 0, run;
	char c;

	while (i < len) {
		if (pp->pp_str) {	/* copied as written, up to its end */
			for (run = i; i < len;) {
				c = s[i++];
				if (pp->pp_esc)
					pp->pp_esc = 0;
				else if (c == '\\')
					pp->pp_esc = 1;
				else if (c == '"') {
					pp->pp_str = 0;
					break;
				}
			}
			buf_append(out, s + run, i - run);
			continue;
		}
		c = s[i++];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (pp->pp_open != 0) {
			if ((pp->pp_open == '{' && c == '}') ||
			    (pp->pp_open == '[' && c == ']')) {
				pp->pp_open = 0;	/* {} and [] */
				pp->pp_depth--;
				buf_append(out, &c, 1);
				continue;
			}
			pp->pp_open = 0;
			pp_newline(out, pp->pp_depth);
		}
		switch (c) {
		case '{':
		case '[':
			buf_append(out, &c, 1);
			pp->pp_depth++;
			pp->pp_open = c;
			break;
		case '}':
		case ']':
			pp->pp_depth--;
			pp_newline(out, pp->pp_depth);
			buf_append(out, &c, 1);
			break;
		case ',':
			buf_append(out, ",", 1);
			pp_newline(out, pp->pp_depth);
			break;
		case ':':
			buf_append(out, ": ", 2);
			break;
		case '"':
			buf_append(out, "\"", 1);
			pp->pp_str = 1;
			break;
		default:	/* a number or a literal */
			for (run = i - 1; i < len && s[i] != ',' &&
			    s[i] != ']' && s[i] != '}' && s[i] != ' ' &&
			    s[i] != '\t' && s[i] != '\n' && s[i] != '\r'; i++)
				;
			buf_append(out, s + run, i - run);
			break;
		}
	}
}

void
mst_json_pp_end(struct mst_json_pp *pp, struct buf *out)
{
	(void)pp;
	buf_append(out, "\n", 1);
}
