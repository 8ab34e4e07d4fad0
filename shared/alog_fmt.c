/*
 * Envoy's substitution format strings (alog-t.h): the parser the
 * configuration loader runs on header values, and the evaluator a worker
 * runs per request, writing with the access log's own pieces (alog.c:
 * the time, the response flags, addresses).
 *
 * Grammar, as Envoy's: text, where "%%" is one '%', and commands
 * "%NAME%", "%NAME(arg)%", either followed by ":N" before the closing
 * '%' to keep at most N bytes.  An unescaped '%' that starts no command
 * is an error, as in Envoy.  Commands canaryd cannot evaluate (TLS,
 * metadata, filter state) are refused with a reason.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alog.h"
#include "arena.h"
#include "log.h"

/* Argument rules of a command. */
#define ARG_NONE	0
#define ARG_OPT		1	/* START_TIME */
#define ARG_HDR		2	/* REQ, RESP: "name" or "name?alt" */
#define ARG_ENV		3	/* ENVIRONMENT: resolved at load */

struct fmt_cmd {
	const char	*c_name;
	uint8_t		 c_cmd;		/* enum alog_cmd */
	uint8_t		 c_arg;
	unsigned int	 c_needs;	/* ALOG_N_* */
};

static const struct fmt_cmd fmt_cmds[] = {
	{ "REQ", ALOG_C_REQ, ARG_HDR, ALOG_N_REQ },
	{ "RESP", ALOG_C_RESP, ARG_HDR, ALOG_N_RESP },
	{ "START_TIME", ALOG_C_START_TIME, ARG_OPT, ALOG_N_TIME },
	{ "PROTOCOL", ALOG_C_PROTOCOL, ARG_NONE, 0 },
	{ "RESPONSE_CODE", ALOG_C_RESPONSE_CODE, ARG_NONE, 0 },
	{ "RESPONSE_FLAGS", ALOG_C_RESPONSE_FLAGS, ARG_NONE, 0 },
	{ "BYTES_RECEIVED", ALOG_C_BYTES_RECEIVED, ARG_NONE, 0 },
	{ "BYTES_SENT", ALOG_C_BYTES_SENT, ARG_NONE, 0 },
	{ "DURATION", ALOG_C_DURATION, ARG_NONE, ALOG_N_TIME },
	{ "UPSTREAM_HOST", ALOG_C_UPSTREAM_HOST, ARG_NONE, ALOG_N_UPSTREAM },
	{ "UPSTREAM_REMOTE_ADDRESS", ALOG_C_UPSTREAM_HOST, ARG_NONE,
	    ALOG_N_UPSTREAM },
	{ "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", ALOG_C_UPSTREAM_HOST_IP,
	    ARG_NONE, ALOG_N_UPSTREAM },
	{ "UPSTREAM_REMOTE_PORT", ALOG_C_UPSTREAM_PORT, ARG_NONE,
	    ALOG_N_UPSTREAM },
	{ "UPSTREAM_CLUSTER", ALOG_C_UPSTREAM_CLUSTER, ARG_NONE, 0 },
	{ "DOWNSTREAM_REMOTE_ADDRESS", ALOG_C_REMOTE, ARG_NONE,
	    ALOG_N_PEER | ALOG_N_REQ },
	{ "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", ALOG_C_REMOTE_IP,
	    ARG_NONE, ALOG_N_PEER | ALOG_N_REQ },
	{ "DOWNSTREAM_REMOTE_PORT", ALOG_C_REMOTE_PORT, ARG_NONE,
	    ALOG_N_PEER | ALOG_N_REQ },
	{ "DOWNSTREAM_DIRECT_REMOTE_ADDRESS", ALOG_C_DIRECT, ARG_NONE,
	    ALOG_N_PEER },
	{ "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT", ALOG_C_DIRECT_IP,
	    ARG_NONE, ALOG_N_PEER },
	{ "DOWNSTREAM_DIRECT_REMOTE_PORT", ALOG_C_DIRECT_PORT, ARG_NONE,
	    ALOG_N_PEER },
	{ "DOWNSTREAM_LOCAL_ADDRESS", ALOG_C_LOCAL, ARG_NONE, ALOG_N_LOCAL },
	{ "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", ALOG_C_LOCAL_IP, ARG_NONE,
	    ALOG_N_LOCAL },
	{ "DOWNSTREAM_LOCAL_PORT", ALOG_C_LOCAL_PORT, ARG_NONE,
	    ALOG_N_LOCAL },
	{ "HOSTNAME", ALOG_C_HOSTNAME, ARG_NONE, 0 },
	{ "ROUTE_NAME", ALOG_C_ROUTE_NAME, ARG_NONE, 0 },
	{ "CONNECTION_ID", ALOG_C_CONNECTION_ID, ARG_NONE, 0 },
	{ "ENVIRONMENT", ALOG_C_TEXT, ARG_ENV, 0 },
};

/* Commands Envoy has and canaryd refuses, by a part of their name. */
static const struct {
	const char	*r_part;
	const char	*r_why;
} fmt_refused[] = {
	{ "TLS", "canaryd does no TLS; remove it" },
	{ "PEER", "canaryd does no TLS, so there is no peer certificate; "
	    "remove it" },
	{ "SAN", "canaryd does no TLS; remove it" },
	{ "SUBJECT", "canaryd does no TLS; remove it" },
	{ "JA3", "canaryd does no TLS; remove it" },
	{ "JA4", "canaryd does no TLS; remove it" },
	{ "METADATA", "canaryd runs no filter that sets metadata; use "
	    "%REQ(header)% or a literal value" },
	{ "FILTER_STATE", "canaryd runs no filter that sets filter state; "
	    "use %REQ(header)% or a literal value" },
	{ "PER_REQUEST_STATE", "canaryd runs no filter that sets filter "
	    "state; use %REQ(header)% or a literal value" },
};

/* A parse under way. */
struct fmt_parse {
	struct cd_arena	*p_arena;
	const char	*p_s;
	size_t		 p_len;
	struct alog_tok	 p_toks[ALOG_FMT_MAX_TOKS];
	size_t		 p_n;
	unsigned int	 p_needs;
	char		 p_text[ALOG_FMT_MAX_LEN];	/* literal run */
	size_t		 p_tlen;
	const char	*p_why;
	size_t		 p_at;
};

static int
fmt_fail(struct fmt_parse *p, size_t at, const char *why)
{
	p->p_why = why;
	p->p_at = at;
	return -1;
}

/* A copy of s[0, len) in the arena, lower-cased when lower. */
static const char *
fmt_dup(struct fmt_parse *p, const char *s, size_t len, bool lower)
{
	char *d;
	size_t i;

	if ((d = arena_strndup(p->p_arena, s, len)) == NULL)
		return NULL;
	for (i = 0; lower && i < len; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

static int
fmt_push(struct fmt_parse *p, const struct alog_tok *t)
{
	if (p->p_n == ALOG_FMT_MAX_TOKS)
		return fmt_fail(p, p->p_len, "too many commands and texts");
	p->p_toks[p->p_n++] = *t;
	return 0;
}

/* The literal text collected so far, as one token. */
static int
fmt_flush_text(struct fmt_parse *p)
{
	struct alog_tok t;

	if (p->p_tlen == 0)
		return 0;
	memset(&t, 0, sizeof(t));
	t.t_cmd = ALOG_C_TEXT;
	if ((t.t_s = fmt_dup(p, p->p_text, p->p_tlen, false)) == NULL)
		return fmt_fail(p, 0, "out of memory");
	t.t_len = p->p_tlen;
	p->p_tlen = 0;
	return fmt_push(p, &t);
}

static int
fmt_text(struct fmt_parse *p, const char *s, size_t len, size_t at)
{
	if (p->p_tlen + len > sizeof(p->p_text))
		return fmt_fail(p, at, "too long");
	memcpy(p->p_text + p->p_tlen, s, len);
	p->p_tlen += len;
	return 0;
}

static const char *
fmt_refusal(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(fmt_refused) / sizeof(fmt_refused[0]); i++)
		if (memmem(name, len, fmt_refused[i].r_part,
		    strlen(fmt_refused[i].r_part)) != NULL)
			return fmt_refused[i].r_why;
	return NULL;
}

/* The argument of command c: arg[0, alen). */
static int
fmt_arg(struct fmt_parse *p, const struct fmt_cmd *c, struct alog_tok *t,
    const char *arg, size_t alen, bool has, size_t at)
{
	const char *q, *v;

	switch (c->c_arg) {
	case ARG_NONE:
		if (has)
			return fmt_fail(p, at, "this command takes no "
			    "argument; remove the parentheses");
		return 0;
	case ARG_OPT:
		if (has && alen > 0 && (t->t_s = fmt_dup(p, arg, alen,
		    false)) == NULL)
			return fmt_fail(p, at, "out of memory");
		t->t_len = has ? alen : 0;
		return 0;
	case ARG_ENV:
		if (!has || alen == 0)
			return fmt_fail(p, at, "ENVIRONMENT needs a variable "
			    "name: %ENVIRONMENT(NAME)%");
		if ((q = fmt_dup(p, arg, alen, false)) == NULL)
			return fmt_fail(p, at, "out of memory");
		/* the master's environment is the workers' */
		v = getenv(q);
		t->t_cmd = ALOG_C_TEXT;
		t->t_s = v != NULL ? fmt_dup(p, v, strlen(v), false) : "";
		t->t_len = v != NULL ? strlen(v) : 0;
		return t->t_s == NULL ? fmt_fail(p, at, "out of memory") : 0;
	default:
		break;
	}
	if (!has || alen == 0)
		return fmt_fail(p, at, "a header name is needed: "
		    "%REQ(name)% or %REQ(name?other)%");
	if ((q = memchr(arg, '?', alen)) != NULL) {
		if (q == arg || q == arg + alen - 1)
			return fmt_fail(p, at, "empty header name around '?'");
		t->t_alt_len = alen - (size_t)(q + 1 - arg);
		if ((t->t_alt = fmt_dup(p, q + 1, t->t_alt_len, true)) ==
		    NULL)
			return fmt_fail(p, at, "out of memory");
		alen = (size_t)(q - arg);
	}
	t->t_len = alen;
	if ((t->t_s = fmt_dup(p, arg, alen, true)) == NULL)
		return fmt_fail(p, at, "out of memory");
	return 0;
}

/* The command that starts at p_s[at] ('%'); *next past its end. */
static int
fmt_command(struct fmt_parse *p, size_t at, size_t *next)
{
	const char *s = p->p_s, *arg = NULL, *why;
	size_t i = at + 1, name_end, alen = 0, k;
	const struct fmt_cmd *c = NULL;
	struct alog_tok t;
	uint64_t max = 0;

	while (i < p->p_len && (isupper((unsigned char)s[i]) ||
	    isdigit((unsigned char)s[i]) || s[i] == '_'))
		i++;
	name_end = i;
	if (name_end == at + 1)
		return fmt_fail(p, at, "a '%' starts no command; write %% for "
		    "a literal %");
	if (i < p->p_len && s[i] == '(') {
		arg = s + i + 1;
		while (i < p->p_len && s[i] != ')')
			i++;
		if (i == p->p_len)
			return fmt_fail(p, at, "missing ')'");
		alen = (size_t)(s + i - arg);
		i++;
	}
	if (i < p->p_len && s[i] == ':') {
		for (k = ++i; i < p->p_len && isdigit((unsigned char)s[i]) &&
		    max <= UINT32_MAX; i++)
			max = max * 10 + (uint64_t)(s[i] - '0');
		if (i == k || max == 0 || max > UINT32_MAX)
			return fmt_fail(p, at, "bad length after ':'");
	}
	if (i == p->p_len || s[i] != '%')
		return fmt_fail(p, at, "missing the closing '%' of a command");
	for (k = 0; k < sizeof(fmt_cmds) / sizeof(fmt_cmds[0]); k++)
		if (strlen(fmt_cmds[k].c_name) == name_end - at - 1 &&
		    memcmp(fmt_cmds[k].c_name, s + at + 1,
		    name_end - at - 1) == 0)
			c = &fmt_cmds[k];
	if (c == NULL) {
		why = fmt_refusal(s + at + 1, name_end - at - 1);
		return fmt_fail(p, at, why != NULL ? why : "unknown command "
		    "(canaryd-envoy(7) lists the ones canaryd evaluates)");
	}
	memset(&t, 0, sizeof(t));
	t.t_cmd = c->c_cmd;
	t.t_max = (uint32_t)max;
	if (fmt_arg(p, c, &t, arg, alen, arg != NULL, at) == -1)
		return -1;
	p->p_needs |= c->c_needs;
	*next = i + 1;
	if (t.t_cmd == ALOG_C_TEXT) {
		/* ENVIRONMENT: text now, cut to its length limit */
		return fmt_text(p, t.t_s, t.t_max > 0 && t.t_max < t.t_len ?
		    t.t_max : t.t_len, at);
	}
	if (fmt_flush_text(p) == -1)
		return -1;
	return fmt_push(p, &t);
}

int
alog_fmt_parse(struct cd_arena *a, const char *s, size_t len,
    struct alog_fmt *f, const char **why, size_t *at)
{
	struct fmt_parse *p;
	size_t i, next;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*why = "out of memory";
		*at = 0;
		return -1;
	}
	p->p_arena = a;
	p->p_s = s;
	p->p_len = len;
	for (i = 0; i < len && rc == 0;) {
		if (s[i] != '%') {
			rc = fmt_text(p, s + i, 1, i);
			i++;
		} else if (i + 1 < len && s[i + 1] == '%') {
			rc = fmt_text(p, "%", 1, i);
			i += 2;
		} else if ((rc = fmt_command(p, i, &next)) == 0)
			i = next;
	}
	if (rc == 0)
		rc = fmt_flush_text(p);
	if (rc == 0 && p->p_n > 0 && (f->f_toks = arena_allocarray(a,
	    p->p_n, sizeof(*f->f_toks))) == NULL)
		rc = fmt_fail(p, 0, "out of memory");
	if (rc == 0) {
		if (p->p_n > 0)
			memcpy(f->f_toks, p->p_toks,
			    p->p_n * sizeof(*f->f_toks));
		f->f_ntoks = p->p_n;
		f->f_needs = p->p_needs;
	} else {
		*why = p->p_why;
		*at = p->p_at;
	}
	free(p);
	return rc;
}

/* ---- evaluation ------------------------------------------------------- */

/* A writer that stops at its end. */
struct fmt_out {
	char	*o_p;
	char	*o_end;
	bool	 o_over;
};

static void
out_put(struct fmt_out *o, const char *s, size_t n)
{
	if ((size_t)(o->o_end - o->o_p) < n) {
		o->o_over = true;
		n = (size_t)(o->o_end - o->o_p);
	}
	memcpy(o->o_p, s, n);
	o->o_p += n;
}

static void
out_u64(struct fmt_out *o, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%llu", (unsigned long long)v);

	out_put(o, b, (size_t)n);
}

/* "ip:port" or "[ip6]:port": the address alone (no brackets) or the
 * port alone. */
static struct alog_str
addr_part(struct alog_str a, int port)
{
	const char *c;
	struct alog_str r = { NULL, 0 };

	if (a.a_p == NULL || a.a_len == 0 ||
	    (c = memrchr(a.a_p, ':', a.a_len)) == NULL)
		return a;
	if (port) {
		r.a_p = c + 1;
		r.a_len = a.a_len - (size_t)(c + 1 - a.a_p);
	} else if (a.a_p[0] == '[' && c > a.a_p + 1 && c[-1] == ']') {
		r.a_p = a.a_p + 1;
		r.a_len = (size_t)(c - 1 - r.a_p);
	} else {
		r.a_p = a.a_p;
		r.a_len = (size_t)(c - a.a_p);
	}
	return r;
}

/* The system's host name, read once per process. */
static struct alog_str
fmt_hostname(void)
{
	static char name[256];
	static bool have;
	struct alog_str s = { name, 0 };

	if (!have) {
		if (gethostname(name, sizeof(name) - 1) == -1)
			name[0] = '\0';
		name[sizeof(name) - 1] = '\0';
		have = true;
	}
	s.a_len = strlen(name);
	return s;
}

/* One strftime-like conversion c of tm into b (at least 32 bytes); its
 * length, or 0 for a conversion canaryd does not know. */
static size_t
fmt_conv(char *b, char c, const struct tm *tm)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char *const ldays[] = { "Sunday", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday" };
	static const char mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const char *const lmons[] = { "January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December" };
	int y = tm->tm_year + 1900, n;

	switch (c) {
	case 'Y': n = snprintf(b, 32, "%d", y); break;
	case 'y': n = snprintf(b, 32, "%02d", y % 100); break;
	case 'm': n = snprintf(b, 32, "%02d", tm->tm_mon + 1); break;
	case 'd': n = snprintf(b, 32, "%02d", tm->tm_mday); break;
	case 'e': n = snprintf(b, 32, "%2d", tm->tm_mday); break;
	case 'j': n = snprintf(b, 32, "%03d", tm->tm_yday + 1); break;
	case 'H': n = snprintf(b, 32, "%02d", tm->tm_hour); break;
	case 'M': n = snprintf(b, 32, "%02d", tm->tm_min); break;
	case 'S': n = snprintf(b, 32, "%02d", tm->tm_sec); break;
	case 'T': n = snprintf(b, 32, "%02d:%02d:%02d", tm->tm_hour,
	    tm->tm_min, tm->tm_sec); break;
	case 'F': n = snprintf(b, 32, "%d-%02d-%02d", y, tm->tm_mon + 1,
	    tm->tm_mday); break;
	case 'a': n = snprintf(b, 32, "%.3s", days + 3 * tm->tm_wday); break;
	case 'A': n = snprintf(b, 32, "%s", ldays[tm->tm_wday]); break;
	case 'b': n = snprintf(b, 32, "%.3s", mons + 3 * tm->tm_mon); break;
	case 'B': n = snprintf(b, 32, "%s", lmons[tm->tm_mon]); break;
	case 'z': n = snprintf(b, 32, "+0000"); break;
	case 'Z': n = snprintf(b, 32, "UTC"); break;
	case '%': n = snprintf(b, 32, "%%"); break;
	default: n = 0; break;
	}
	return n < 0 ? 0 : (size_t)n;
}

/* START_TIME(format): strftime's common conversions, in UTC, with
 * Envoy's %s (seconds since the epoch) and %f / %1f..%9f (the fraction
 * of the second); another conversion stays as written. */
static void
fmt_time(struct fmt_out *o, const struct alog_tok *t, uint64_t ms)
{
	char b[64];
	time_t s = (time_t)(ms / 1000);
	unsigned int frac = (unsigned int)(ms % 1000), d;
	const char *p = t->t_s, *e = t->t_s + t->t_len;
	struct tm tm;
	size_t n;

	if (p == NULL) {
		n = (size_t)(alog_put_time(b, ms) - b);
		out_put(o, b, n);
		return;
	}
	gmtime_r(&s, &tm);
	for (; p < e; p++) {
		if (*p != '%' || p + 1 == e) {
			out_put(o, p, 1);
			continue;
		}
		p++;
		d = 9;
		if (*p >= '1' && *p <= '9' && p + 1 < e && p[1] == 'f')
			d = (unsigned int)(*p++ - '0');
		if (*p == 'f') {
			/* milliseconds, then zeros to the digits asked for */
			n = (size_t)snprintf(b, sizeof(b), "%03u000000", frac);
			out_put(o, b, d < n ? d : n);
		} else if (*p == 's')
			out_u64(o, (uint64_t)s);
		else if ((n = fmt_conv(b, *p, &tm)) > 0)
			out_put(o, b, n);
		else
			out_put(o, p - 1, 2);
	}
}

/* The value of header command t (REQ or RESP, with its alternative). */
static bool
fmt_header(const struct alog_tok *t, const struct alog_src *src,
    struct alog_str *v)
{
	bool (*get)(void *, const char *, size_t, struct alog_str *) =
	    t->t_cmd == ALOG_C_REQ ? src->as_req : src->as_resp;

	if (get == NULL)
		return false;
	if (get(src->as_arg, t->t_s, t->t_len, v))
		return true;
	return t->t_alt != NULL && get(src->as_arg, t->t_alt, t->t_alt_len,
	    v);
}

/* A command's value as a string, or false when it has none. */
static bool
fmt_str(const struct alog_tok *t, const struct alog_src *src,
    struct alog_str *v)
{
	const struct alog_rec *r = src->as_rec;

	switch (t->t_cmd) {
	case ALOG_C_REQ:
	case ALOG_C_RESP:
		return fmt_header(t, src, v);
	case ALOG_C_PROTOCOL:
		v->a_p = r->ar_protocol;
		v->a_len = r->ar_protocol != NULL ? strlen(r->ar_protocol) : 0;
		break;
	case ALOG_C_UPSTREAM_HOST:
	case ALOG_C_UPSTREAM_HOST_IP:
	case ALOG_C_UPSTREAM_PORT:
		*v = r->ar_upstream;
		if (t->t_cmd != ALOG_C_UPSTREAM_HOST)
			*v = addr_part(*v, t->t_cmd == ALOG_C_UPSTREAM_PORT);
		break;
	case ALOG_C_UPSTREAM_CLUSTER:
		*v = r->ar_cluster;
		break;
	case ALOG_C_REMOTE:
	case ALOG_C_REMOTE_IP:
	case ALOG_C_REMOTE_PORT:
		*v = r->ar_remote;
		if (t->t_cmd != ALOG_C_REMOTE)
			*v = addr_part(*v, t->t_cmd == ALOG_C_REMOTE_PORT);
		break;
	case ALOG_C_DIRECT:
	case ALOG_C_DIRECT_IP:
	case ALOG_C_DIRECT_PORT:
		*v = r->ar_direct;
		if (t->t_cmd != ALOG_C_DIRECT)
			*v = addr_part(*v, t->t_cmd == ALOG_C_DIRECT_PORT);
		break;
	case ALOG_C_LOCAL:
	case ALOG_C_LOCAL_IP:
	case ALOG_C_LOCAL_PORT:
		*v = r->ar_local;
		if (t->t_cmd != ALOG_C_LOCAL)
			*v = addr_part(*v, t->t_cmd == ALOG_C_LOCAL_PORT);
		break;
	case ALOG_C_HOSTNAME:
		*v = fmt_hostname();
		break;
	case ALOG_C_ROUTE_NAME:
		*v = r->ar_route;
		break;
	default:
		return false;
	}
	return v->a_p != NULL;
}

/* One command, cut to its length limit. */
static void
fmt_one(struct fmt_out *o, const struct alog_tok *t,
    const struct alog_src *src, int flags)
{
	const struct alog_rec *r = src->as_rec;
	struct fmt_out cut = *o;
	struct alog_str v = { NULL, 0 };
	char b[64];

	if (t->t_max > 0 && (size_t)(o->o_end - o->o_p) > t->t_max)
		cut.o_end = o->o_p + t->t_max;
	switch (t->t_cmd) {
	case ALOG_C_TEXT:
		out_put(&cut, t->t_s, t->t_len);
		break;
	case ALOG_C_START_TIME:
		fmt_time(&cut, t, r->ar_start_ms);
		break;
	case ALOG_C_RESPONSE_CODE:
		out_u64(&cut, r->ar_code);
		break;
	case ALOG_C_RESPONSE_FLAGS:
		out_put(&cut, b, alog_flags(b, sizeof(b), r->ar_flags));
		break;
	case ALOG_C_BYTES_RECEIVED:
		out_u64(&cut, r->ar_rx);
		break;
	case ALOG_C_BYTES_SENT:
		out_u64(&cut, r->ar_tx);
		break;
	case ALOG_C_DURATION:
		out_u64(&cut, r->ar_duration_ms);
		break;
	case ALOG_C_CONNECTION_ID:
		out_u64(&cut, r->ar_conn_id);
		break;
	default:
		if (fmt_str(t, src, &v))
			out_put(&cut, v.a_p, v.a_len);
		else if (!(flags & ALOG_F_OMIT_EMPTY))
			out_put(&cut, "-", 1);
		break;
	}
	/* a cut command is not an overflow of the whole */
	o->o_over |= cut.o_over && cut.o_end == o->o_end;
	o->o_p = cut.o_p;
}

size_t
alog_fmt_eval(char *dst, size_t cap, const struct alog_fmt *f,
    const struct alog_src *src, int flags)
{
	struct fmt_out o = { dst, dst + cap, false };
	size_t i;

	for (i = 0; i < f->f_ntoks; i++)
		fmt_one(&o, &f->f_toks[i], src, flags);
	return o.o_over ? (size_t)-1 : (size_t)(o.o_p - dst);
}

/* ---- whole lines: text and JSON layouts --------------------------------- */

/* s[0, n) as the inside of a JSON string: quotes, backslashes and
 * control bytes escaped, bytes that are not UTF-8 as U+FFFD. */
static void
out_json_chars(struct fmt_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	char esc[8];
	size_t k, i;

	while (p < e && !o->o_over) {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			out_put(o, (const char *)p++, 1);
			continue;
		}
		if (*p < 0x80) {
			esc[0] = '\\';
			if (*p == '"' || *p == '\\') {
				esc[1] = (char)*p;
				out_put(o, esc, 2);
			} else if (*p == '\n' || *p == '\t' || *p == '\r') {
				esc[1] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
				out_put(o, esc, 2);
			} else {
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 15];
				out_put(o, esc, 6);
			}
			p++;
			continue;
		}
		/* a UTF-8 sequence: its length from the lead byte */
		k = *p >= 0xf0 && *p < 0xf5 ? 4 : *p >= 0xe0 ? 3 :
		    *p >= 0xc2 && *p < 0xe0 ? 2 : 0;
		for (i = 1; k > 0 && i < k; i++)
			if (p + i >= e || (p[i] & 0xc0) != 0x80)
				k = 0;
		if (k == 0) {
			out_put(o, "\\ufffd", 6);
			p++;
		} else {
			out_put(o, (const char *)p, k);
			p += k;
		}
	}
}

static void
out_json_str(struct fmt_out *o, const char *s, size_t n, size_t cut)
{
	out_put(o, "\"", 1);
	out_json_chars(o, s, n < cut ? n : cut);
	out_put(o, "\"", 1);
}

/* Commands whose value is a number (Envoy types them so in JSON). */
static bool
fmt_is_number(uint8_t cmd)
{
	switch (cmd) {
	case ALOG_C_RESPONSE_CODE:
	case ALOG_C_BYTES_RECEIVED:
	case ALOG_C_BYTES_SENT:
	case ALOG_C_DURATION:
	case ALOG_C_CONNECTION_ID:
	case ALOG_C_UPSTREAM_PORT:
	case ALOG_C_REMOTE_PORT:
	case ALOG_C_DIRECT_PORT:
	case ALOG_C_LOCAL_PORT:
		return true;
	default:
		return false;
	}
}

/*
 * One JSON value of format f: a lone command keeps its type when typed
 * (a number, a string, or null when it has no value); anything else is
 * a string, a missing value in it "-" ("" with omit_empty).  False when
 * the value is null.
 */
static bool
fmt_json_value(struct fmt_out *o, const struct alog_fmt *f,
    const struct alog_src *src, bool typed, bool omit_empty, size_t cut)
{
	char tmp[ALOG_LINE_MAX];
	struct fmt_out t = { tmp, tmp + sizeof(tmp), false };
	const struct alog_tok *tk = f->f_ntoks == 1 ? &f->f_toks[0] : NULL;
	struct alog_str v = { NULL, 0 };
	size_t i;

	if (typed && tk != NULL && tk->t_cmd != ALOG_C_TEXT) {
		if (fmt_is_number(tk->t_cmd)) {
			/* a port that is not there prints "-": null */
			fmt_one(&t, tk, src, 0);
			for (i = 0; tmp + i < t.o_p; i++)
				if (tmp[i] < '0' || tmp[i] > '9')
					return false;
			if (t.o_p == tmp)
				return false;
			out_put(o, tmp, (size_t)(t.o_p - tmp));
			return true;
		}
		if (tk->t_cmd != ALOG_C_START_TIME &&
		    tk->t_cmd != ALOG_C_RESPONSE_FLAGS && !fmt_str(tk, src, &v))
			return false;
		fmt_one(&t, tk, src, 0);
		out_json_str(o, tmp, (size_t)(t.o_p - tmp), cut);
		return true;
	}
	for (i = 0; i < f->f_ntoks; i++)
		fmt_one(&t, &f->f_toks[i], src, omit_empty ? ALOG_F_OMIT_EMPTY :
		    0);
	out_json_str(o, tmp, (size_t)(t.o_p - tmp), cut);
	return true;
}

/* The JSON object of lo, string values cut to cut bytes. */
static void
fmt_json_line(struct fmt_out *o, const struct alog_layout *lo,
    const struct alog_src *src, size_t cut)
{
	bool comma[ALOG_JSON_DEPTH + 1];
	const struct alog_jitem *it;
	char *mark;
	size_t i, d = 0;

	comma[0] = false;
	for (i = 0; i < lo->lo_nitems && !o->o_over; i++) {
		it = &lo->lo_items[i];
		if (it->j_kind == ALOG_J_CLOSE) {
			out_put(o, "}", 1);
			if (d > 0)
				d--;
			comma[d] = true;
			continue;
		}
		mark = o->o_p;
		if (it->j_key != NULL) {
			if (comma[d])
				out_put(o, ",", 1);
			out_json_str(o, it->j_key, it->j_key_len, SIZE_MAX);
			out_put(o, ":", 1);
		}
		switch (it->j_kind) {
		case ALOG_J_OPEN:
			out_put(o, "{", 1);
			if (d < ALOG_JSON_DEPTH)
				d++;
			comma[d] = false;
			continue;
		case ALOG_J_LIT:
			out_put(o, it->j_lit, strlen(it->j_lit));
			break;
		default:
			if (!fmt_json_value(o, &it->j_fmt, src, lo->lo_typed,
			    lo->lo_omit_empty, cut)) {
				if (lo->lo_omit_empty) {
					o->o_p = mark;	/* the key goes too */
					continue;
				}
				out_put(o, "null", 4);
			}
			break;
		}
		comma[d] = true;
	}
}

size_t
alog_layout_line(char *dst, size_t cap, const struct alog_layout *lo,
    const struct alog_src *src)
{
	/* its '\n' and a tag still fit one atomic pipe write */
	struct fmt_out o = { dst, dst + ALOG_LINE_MAX - 1 - ALOG_TAG_LEN,
	    false };
	size_t i, n;

	CD_ASSERT(cap >= ALOG_LINE_MAX);
	switch (lo->lo_kind) {
	case ALOG_L_DEFAULT:
		return alog_format(dst, cap, src->as_rec);
	case ALOG_L_TEXT:
		for (i = 0; i < lo->lo_text.f_ntoks; i++)
			fmt_one(&o, &lo->lo_text.f_toks[i], src,
			    lo->lo_omit_empty ? ALOG_F_OMIT_EMPTY : 0);
		n = (size_t)(o.o_p - dst);
		for (i = 0; i + 1 < n; i++)
			if (dst[i] == '\n' || dst[i] == '\r')
				dst[i] = ' ';
		if (n == 0 || dst[n - 1] != '\n')
			dst[n++] = '\n';
		return n;
	default:
		fmt_json_line(&o, lo, src, SIZE_MAX);
		if (o.o_over) {
			o.o_p = dst;
			o.o_over = false;
			fmt_json_line(&o, lo, src, ALOG_JSON_CUT);
		}
		if (o.o_over) {
			o.o_p = dst;
			o.o_over = false;
			out_put(&o, "{\"canaryd\":\"line too long\"}", 27);
		}
		n = (size_t)(o.o_p - dst);
		dst[n++] = '\n';
		return n;
	}
}
