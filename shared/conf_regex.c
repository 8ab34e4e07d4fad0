/*
 * Configuration loader: safe_regex (conf-int.h).  Master only.
 *
 * Envoy's safe_regex is RE2; canaryd matches with POSIX ERE.  The common
 * RE2 forms are spelled the ERE way: \d \w \s (and negations), escaped
 * punctuation inside [], (?:...), lazy quantifiers (the same as greedy
 * for a full match).  Anything else RE2-only (\b, (?i), \pL ...) is an
 * error rather than a silently different match.
 *
 * What RE2 refuses and glibc's regcomp would turn into a tree of
 * exponential or product size (a config could make the master allocate
 * gigabytes; found by test/fuzz/fuzz_conf) is refused too: a repetition
 * operator right after another ("a++", "a*{2}", "a+?*"), a count over
 * 1000, and nested counts whose product is over 1000, RE2's own limit.
 */
#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "arena.h"
#include "buf.h"
#include "conf-int.h"

#define RE_MAX_REPEAT	1000
#define RE_MAX_DEPTH	32

/* A translation under way. */
struct re_state {
	struct buf	*rs_out;
	const char	*rs_why;	/* set when a step fails */
	int		 rs_quant;	/* a repetition ended: '?' is lazy */
	int		 rs_prevq;	/* the token before was a repetition */
	int		 rs_depth;	/* groups open */
	unsigned long	 rs_last;	/* weight of the atom a count repeats */
	unsigned long	 rs_lvl[RE_MAX_DEPTH + 1];	/* weight per group */
	int		 rs_nolazy;	/* a lazy repetition is refused */
	int		 rs_nere;	/* groups opened in the ERE */
	int		 rs_ncap;	/* capturing groups of the RE2 text */
	uint8_t		*rs_map;	/* RE2 group 1..9 -> ERE group */
};

static void
re_free(void *re)
{
	regfree(re);
}

/*
 * Before compiling into re: a duplicated field's second value may be
 * walked over the first's target (conf.c, msg_dups()), so re may hold a
 * compiled regex already, its regfree() deferred.  Free it now and say
 * so: the deferred regfree() stays the one for whatever re holds next
 * (zeroed, a regfree() of it is harmless).
 */
static bool
re_reuse(struct cw *w, regex_t *re)
{
	if (w->w_dup_depth == 0 || !arena_deferred(w->w_arena, re_free, re))
		return false;
	regfree(re);
	memset(re, 0, sizeof(*re));
	return true;
}

/* The compiled re is the arena's to free (unless it already is). */
static int
re_keep(struct cw *w, regex_t *re, bool deferred)
{
	if (deferred || arena_defer(w->w_arena, re_free, re) == 0)
		return 0;
	regfree(re);
	memset(re, 0, sizeof(*re));
	conf_oom(w);
	return -1;
}

/* RE2 classes spelled for POSIX; in brackets without the brackets. */
static const char *
re_class(char c, int inside)
{
	switch (c) {
	case 'd':
		return inside ? "0-9" : "[0-9]";
	case 'D':
		return inside ? NULL : "[^0-9]";
	case 'w':
		return inside ? "[:alnum:]_" : "[[:alnum:]_]";
	case 'W':
		return inside ? NULL : "[^[:alnum:]_]";
	case 's':
		return inside ? "[:space:]" : "[[:space:]]";
	case 'S':
		return inside ? NULL : "[^[:space:]]";
	default:
		return NULL;
	}
}

static int
re_is_repeat(const char *p)
{
	return *p == '*' || *p == '+' || *p == '?' || (*p == '{' &&
	    isdigit((unsigned char)p[1]));
}

/*
 * A repetition operator at p: at most one in a row, counts of at most
 * 1000 whose product over nested groups stays at most 1000.  Returns its
 * last character, or NULL.
 */
static const char *
re_repeat(struct re_state *rs, const char *p)
{
	unsigned long lo, hi, w;
	char *ce;

	if (rs->rs_prevq) {
		rs->rs_why = "bad repetition operator (a repetition of a "
		    "repetition)";
		return NULL;
	}
	rs->rs_prevq = rs->rs_quant = 1;
	if (*p != '{') {
		buf_append(rs->rs_out, p, 1);
		return p;
	}
	lo = hi = strtoul(p + 1, &ce, 10);
	if (*ce == ',') {
		ce++;
		if (isdigit((unsigned char)*ce))
			hi = strtoul(ce, &ce, 10);
	}
	if (*ce != '}') {
		rs->rs_why = "bad repetition count";
		return NULL;
	}
	w = lo > hi ? lo : hi;
	if (w > RE_MAX_REPEAT || (w > 0 && rs->rs_last > RE_MAX_REPEAT / w)) {
		rs->rs_why = "repetition count over 1000 (RE2's limit; nested "
		    "counts multiply)";
		return NULL;
	}
	if (rs->rs_last * w > rs->rs_lvl[rs->rs_depth])
		rs->rs_lvl[rs->rs_depth] = rs->rs_last * w;
	buf_append(rs->rs_out, p, (size_t)(ce + 1 - p));
	return ce;
}

/* Groups: the weight a count after ')' multiplies. */
static int
re_nest(struct re_state *rs, char c)
{
	if (c == '(') {
		if (rs->rs_depth == RE_MAX_DEPTH) {
			rs->rs_why = "groups nested too deeply";
			return -1;
		}
		rs->rs_lvl[++rs->rs_depth] = 1;
	} else if (c == ')' && rs->rs_depth > 0) {
		/* the group's weight, for a count that follows */
		rs->rs_last = rs->rs_lvl[rs->rs_depth--];
		if (rs->rs_last > rs->rs_lvl[rs->rs_depth])
			rs->rs_lvl[rs->rs_depth] = rs->rs_last;
	} else
		rs->rs_last = 1;
	return 0;
}

/* An escape outside brackets, p at the backslash. */
static const char *
re_escape(struct re_state *rs, const char *p)
{
	const char *cls;

	p++;
	if (*p == '\0') {
		rs->rs_why = "trailing backslash";
		return NULL;
	}
	if ((cls = re_class(*p, 0)) != NULL)
		buf_puts(rs->rs_out, cls);
	else if (strchr(".[](){}*+?|^$\\", *p) != NULL)
		buf_append(rs->rs_out, p - 1, 2);
	else if (ispunct((unsigned char)*p))
		buf_append(rs->rs_out, p, 1);
	else {
		rs->rs_why = "escape not supported (canaryd matches with "
		    "POSIX extended regexes)";
		return NULL;
	}
	return p;
}

/* "(?", p at the parenthesis: only the non-capturing group. */
static const char *
re_group(struct re_state *rs, const char *p)
{
	if (p[2] != ':') {
		rs->rs_why = "(?...) groups and flags are not supported "
		    "(POSIX extended regexes)";
		return NULL;
	}
	buf_puts(rs->rs_out, "(");
	return p + 2;
}

/* The members of a bracket expression, p after "[" and "^": escapes
 * translated into body, literal ']', '-' and '^' noted for the end. */
static const char *
re_bracket_body(struct re_state *rs, const char *p, struct buf *body,
    int *rbr, int *dash, int *caret)
{
	const char *cls, *e;

	for (; *p != '\0' && *p != ']'; p++) {
		if (*p == '[' && p[1] == ':') {
			if ((e = strstr(p + 2, ":]")) == NULL) {
				rs->rs_why = "unterminated [: :] class";
				return NULL;
			}
			buf_append(body, p, (size_t)(e + 2 - p));
			p = e + 1;
			continue;
		}
		if (*p != '\\') {
			buf_append(body, p, 1);
			continue;
		}
		p++;
		if ((cls = re_class(*p, 1)) != NULL)
			buf_puts(body, cls);
		else if (*p == ']')
			*rbr = 1;
		else if (*p == '-')
			*dash = 1;
		else if (*p == '^')
			*caret = 1;
		else if (*p != '\0' && ispunct((unsigned char)*p))
			buf_append(body, p, 1);
		else {
			rs->rs_why = "escape not supported inside [] (POSIX "
			    "extended regexes)";
			return NULL;
		}
	}
	if (*p != ']') {
		rs->rs_why = "missing ]";
		return NULL;
	}
	return p;
}

/*
 * A bracket expression, p at '[': rebuilt so ']' comes first and '-'
 * last, which is where POSIX wants them literal.  Returns its ']'.
 */
static const char *
re_bracket(struct re_state *rs, const char *p)
{
	struct buf body, *out = rs->rs_out;
	int neg = 0, rbr = 0, dash = 0, caret = 0;

	buf_init(&body);
	p++;
	if (*p == '^') {
		neg = 1;
		p++;
	}
	if (*p == ']') {
		rbr = 1;
		p++;
	}
	if ((p = re_bracket_body(rs, p, &body, &rbr, &dash, &caret)) ==
	    NULL) {
		buf_free(&body);
		return NULL;
	}
	if (caret && body.b_len == 0 && !rbr && !dash) {
		/* [\^] alone: a plain escaped caret does it */
		buf_puts(out, neg ? "[^^]" : "\\^");
		buf_free(&body);
		return p;
	}
	buf_puts(out, neg ? "[^" : "[");
	if (rbr)
		buf_puts(out, "]");
	if (body.b_len > 0)
		buf_append(out, body.b_data, body.b_len);
	if (caret)
		buf_puts(out, "^");
	if (dash)
		buf_puts(out, "-");
	buf_puts(out, "]");
	buf_free(&body);
	return p;
}

/* One token at p; returns its last character, or NULL. */
static const char *
re_token(struct re_state *rs, const char *p)
{
	if (re_is_repeat(p))
		return re_repeat(rs, p);
	rs->rs_prevq = 0;
	if (re_nest(rs, *p) == -1)
		return NULL;
	if (*p == '(') {
		/* (?:...) is a group of the ERE too: keep RE2's numbers */
		rs->rs_nere++;
		if (p[1] != '?' && ++rs->rs_ncap <= 9 && rs->rs_map != NULL)
			rs->rs_map[rs->rs_ncap] = (uint8_t)(rs->rs_nere <
			    UINT8_MAX ? rs->rs_nere : UINT8_MAX);
	}
	if (*p == '\\')
		return re_escape(rs, p);
	if (*p == '(' && p[1] == '?')
		return re_group(rs, p);
	if (*p == '[')
		return re_bracket(rs, p);
	buf_append(rs->rs_out, p, 1);
	return p;
}

/* RE2 text re as a POSIX ERE, appended to out; -1 and *why if refused.
 * With sub, for a substitution: lazy repetitions are refused (they
 * would match differently) and the groups are numbered into sub. */
static int
re_translate(struct buf *out, const char *re, const char **why,
    struct cd_regex_sub *sub)
{
	struct re_state rs;
	const char *p = re;

	memset(&rs, 0, sizeof(rs));
	rs.rs_out = out;
	if (sub != NULL) {
		rs.rs_nolazy = 1;
		rs.rs_map = sub->rs_map;
	}
	rs.rs_last = 1;
	rs.rs_lvl[0] = 1;
	while (*p != '\0') {
		if (rs.rs_quant && *p == '?') {
			if (rs.rs_nolazy) {
				*why = "a lazy repetition (\"*?\", \"+?\") is "
				    "not supported in a rewrite (POSIX regexes "
				    "match greedily); make the pattern say what "
				    "to stop at, as [^/]* does";
				return -1;
			}
			rs.rs_quant = 0;
			p++;
			continue;	/* lazy; still a repetition */
		}
		rs.rs_quant = 0;
		if ((p = re_token(&rs, p)) == NULL) {
			*why = rs.rs_why;
			return -1;
		}
		p++;
	}
	if (out->b_oom) {
		*why = "out of memory";
		return -1;
	}
	if (sub != NULL) {
		sub->rs_ngroups = (uint8_t)(rs.rs_ncap > 9 ? 9 : rs.rs_ncap);
		if (rs.rs_nere >= CD_RE_MAX_GROUPS) {
			*why = "too many groups for a rewrite";
			return -1;
		}
	}
	return 0;
}

int
conf_re_compile(struct cw *w, yaml_node_t *n, regex_t *re, const char *text,
    bool icase)
{
	struct buf b;
	const char *why;
	char msg[160];
	bool deferred;
	int rc;

	buf_init(&b);
	buf_puts(&b, "^(");
	if (re_translate(&b, text, &why, NULL) == -1) {
		conf_err(w, n, "bad regex \"%.*s\": %s", CONF_QUOTE_MAX, text,
		    why);
		buf_free(&b);
		return -1;
	}
	buf_puts(&b, ")$");
	if (b.b_oom) {
		buf_free(&b);
		conf_oom(w);
		return -1;
	}
	deferred = re_reuse(w, re);
	rc = regcomp(re, b.b_data, REG_EXTENDED | REG_NOSUB |
	    (icase ? REG_ICASE : 0));
	buf_free(&b);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof(msg));
		memset(re, 0, sizeof(*re));
		conf_err(w, n, "bad regex \"%.*s\": %s", CONF_QUOTE_MAX, text,
		    msg);
		return -1;
	}
	return re_keep(w, re, deferred);
}

int
conf_re_compile_sub(struct cw *w, yaml_node_t *n, struct cd_regex_sub *sub,
    const char *text)
{
	struct buf b;
	const char *why;
	char msg[160];
	bool deferred;
	int rc;

	buf_init(&b);
	if (re_translate(&b, text, &why, sub) == -1) {
		conf_err(w, n, "bad regex \"%.*s\": %s", CONF_QUOTE_MAX, text,
		    why);
		buf_free(&b);
		return -1;
	}
	/* an empty pattern matches everywhere, as RE2's does */
	deferred = re_reuse(w, &sub->rs_re);
	sub->rs_set = false;
	rc = regcomp(&sub->rs_re, b.b_len > 0 ? b.b_data : "()",
	    REG_EXTENDED);
	buf_free(&b);
	if (rc != 0) {
		regerror(rc, &sub->rs_re, msg, sizeof(msg));
		memset(&sub->rs_re, 0, sizeof(sub->rs_re));
		conf_err(w, n, "bad regex \"%.*s\": %s", CONF_QUOTE_MAX, text,
		    msg);
		return -1;
	}
	if (re_keep(w, &sub->rs_re, deferred) == -1)
		return -1;
	sub->rs_set = true;
	return 0;
}
