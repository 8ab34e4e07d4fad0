/*
 * The etcd client's codec (see etcd.h): request bodies, answers, base64,
 * the line splitter of a watch stream.  Pure: no I/O, no logging, no
 * globals; every function reports what went wrong in its result.
 *
 * Invariant: nothing read from the wire is trusted.  Every field is
 * type-checked (json_unpack with optional keys: etcd leaves out zero
 * values), every number checked for range, every base64 string checked
 * and sized before it is decoded, and a kv or event that fails a check is
 * left out and counted rather than failing its neighbours.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "etcd.h"

/* ---- base64 ----------------------------------------------------------------- */

static const char b64_abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
mst_etcd_b64_enc(const void *in, size_t len, char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64_abc[v >> 18];
		out[o++] = b64_abc[(v >> 12) & 63];
		out[o++] = b64_abc[(v >> 6) & 63];
		out[o++] = b64_abc[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = b64_abc[v >> 18];
		out[o++] = b64_abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_abc[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Bytes a strict base64 string of len characters decodes to; -1: not
 * a multiple of 4. */
static long
b64_declen(const char *in, size_t len)
{
	long n;

	if (len % 4 != 0)
		return -1;
	n = (long)(len / 4 * 3);
	if (len > 0 && in[len - 1] == '=')
		n--;
	if (len > 1 && in[len - 2] == '=')
		n--;
	return n;
}

long
mst_etcd_b64_dec(const char *in, size_t len, void *out, size_t outlen)
{
	unsigned char *o = out;
	long want = b64_declen(in, len);
	size_t i, k = 0;
	int a, b, c, d;

	if (want < 0 || (size_t)want > outlen)
		return -1;
	for (i = 0; i < len; i += 4) {
		a = b64_val((unsigned char)in[i]);
		b = b64_val((unsigned char)in[i + 1]);
		c = in[i + 2] == '=' && i + 4 == len ? 0 :
		    b64_val((unsigned char)in[i + 2]);
		d = in[i + 3] == '=' && i + 4 == len ? 0 :
		    b64_val((unsigned char)in[i + 3]);
		if (a < 0 || b < 0 || c < 0 || d < 0 ||
		    (in[i + 2] == '=' && in[i + 3] != '='))
			return -1;
		o[k++] = (unsigned char)(a << 2 | b >> 4);
		if (in[i + 2] != '=')
			o[k++] = (unsigned char)((b & 15) << 4 | c >> 2);
		else if ((b & 15) != 0)
			return -1;	/* bits past the end: not canonical */
		if (in[i + 3] != '=')
			o[k++] = (unsigned char)((c & 3) << 6 | d);
		else if (in[i + 2] != '=' && (c & 3) != 0)
			return -1;
	}
	return (long)k;
}

size_t
mst_etcd_prefix_end(const char *prefix, size_t len, char *out)
{
	size_t n = len;

	memcpy(out, prefix, len);
	while (n > 0) {
		if ((unsigned char)out[n - 1] < 0xff) {
			out[n - 1]++;
			return n;
		}
		n--;
	}
	out[0] = '\0';
	return 1;
}

/* ---- requests --------------------------------------------------------------- */

/* Each call's gateway path, and its name in logs. */
static const struct {
	const char	*c_path;
	const char	*c_name;
} ej_calls[MST_ETCD__NCALLS] = {
	[MST_ETCD_RANGE] = { "/v3/kv/range", "range" },
	[MST_ETCD_PUT] = { "/v3/kv/put", "put" },
	[MST_ETCD_DELETE] = { "/v3/kv/deleterange", "delete" },
	[MST_ETCD_TXN] = { "/v3/kv/txn", "txn" },
	[MST_ETCD_GRANT] = { "/v3/lease/grant", "lease grant" },
	[MST_ETCD_KEEPALIVE] = { "/v3/lease/keepalive", "lease keepalive" },
	[MST_ETCD_REVOKE] = { "/v3/lease/revoke", "lease revoke" },
	[MST_ETCD_COMPACT] = { "/v3/kv/compaction", "compaction" },
};

const char *
mst_etcd_path(enum mst_etcd_call c)
{
	return (size_t)c < MST_ETCD__NCALLS ? ej_calls[c].c_path : "/";
}

const char *
mst_etcd_call_name(enum mst_etcd_call c)
{
	return (size_t)c < MST_ETCD__NCALLS ? ej_calls[c].c_name : "call";
}

/* o[name] = base64 of [p, p + len); -1 when out of memory. */
static int
ej_set_b64(json_t *o, const char *name, const char *p, size_t len)
{
	char *s;
	int rc;

	if ((s = malloc(MST_ETCD_B64_LEN(len))) == NULL)
		return -1;
	mst_etcd_b64_enc(p, len, s);
	rc = json_object_set_new(o, name, json_string(s));
	free(s);
	return rc;
}

/* o[name] = v as etcd's int64 string; nothing when v is 0. */
static int
ej_set_i64(json_t *o, const char *name, int64_t v)
{
	char s[24];

	if (v == 0)
		return 0;
	snprintf(s, sizeof(s), "%" PRId64, v);
	return json_object_set_new(o, name, json_string(s));
}

/* The body of a range, put or delete (request_* inside a txn). */
static json_t *
ej_op(const struct mst_etcd_op *op)
{
	json_t *o;
	int rc = 0;

	if (op->o_klen == 0 || op->o_klen > MST_ETCD_KEY_MAX ||
	    op->o_elen > MST_ETCD_KEY_MAX || op->o_vlen > MST_ETCD_VALUE_MAX)
		return NULL;
	if ((o = json_object()) == NULL)
		return NULL;
	rc |= ej_set_b64(o, "key", op->o_key, op->o_klen);
	if (op->o_end != NULL && op->o_kind != MST_ETCD_OP_PUT)
		rc |= ej_set_b64(o, "range_end", op->o_end, op->o_elen);
	switch (op->o_kind) {
	case MST_ETCD_OP_RANGE:
		rc |= ej_set_i64(o, "revision", op->o_rev);
		rc |= ej_set_i64(o, "limit", op->o_limit);
		break;
	case MST_ETCD_OP_PUT:
		if (op->o_vlen > 0)
			rc |= ej_set_b64(o, "value", op->o_val, op->o_vlen);
		rc |= ej_set_i64(o, "lease", op->o_lease);
		break;
	case MST_ETCD_OP_DELETE:
		break;
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Serialise and free o; NULL stays NULL. */
static char *
ej_dump(json_t *o)
{
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *
mst_etcd_enc_op(const struct mst_etcd_op *op)
{
	return ej_dump(ej_op(op));
}

static const char *const ej_targets[] = {
	[MST_ETCD_T_VERSION] = "VERSION",
	[MST_ETCD_T_CREATE] = "CREATE",
	[MST_ETCD_T_MOD] = "MOD",
	[MST_ETCD_T_VALUE] = "VALUE",
	[MST_ETCD_T_LEASE] = "LEASE",
};
static const char *const ej_target_fields[] = {
	[MST_ETCD_T_VERSION] = "version",
	[MST_ETCD_T_CREATE] = "create_revision",
	[MST_ETCD_T_MOD] = "mod_revision",
	[MST_ETCD_T_VALUE] = "value",
	[MST_ETCD_T_LEASE] = "lease",
};
static const char *const ej_results[] = {
	[MST_ETCD_R_EQUAL] = "EQUAL",
	[MST_ETCD_R_GREATER] = "GREATER",
	[MST_ETCD_R_LESS] = "LESS",
	[MST_ETCD_R_NOT_EQUAL] = "NOT_EQUAL",
};

static json_t *
ej_cmp(const struct mst_etcd_cmp *c)
{
	char num[24];
	json_t *o;
	int rc = 0;

	if (c->c_klen == 0 || c->c_klen > MST_ETCD_KEY_MAX ||
	    c->c_vlen > MST_ETCD_VALUE_MAX || (size_t)c->c_target >= 5 ||
	    (size_t)c->c_result >= 4 || (o = json_object()) == NULL)
		return NULL;
	rc |= ej_set_b64(o, "key", c->c_key, c->c_klen);
	rc |= json_object_set_new(o, "target",
	    json_string(ej_targets[c->c_target]));
	rc |= json_object_set_new(o, "result",
	    json_string(ej_results[c->c_result]));
	/* the compared field is set even when 0: "create_revision 0" is
	 * the whole point of "create if absent" */
	if (c->c_target == MST_ETCD_T_VALUE)
		rc |= ej_set_b64(o, "value", c->c_val, c->c_vlen);
	else {
		snprintf(num, sizeof(num), "%" PRId64, c->c_num);
		rc |= json_object_set_new(o, ej_target_fields[c->c_target],
		    json_string(num));
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *const ej_op_wrap[] = {
	[MST_ETCD_OP_RANGE] = "request_range",
	[MST_ETCD_OP_PUT] = "request_put",
	[MST_ETCD_OP_DELETE] = "request_delete_range",
};

/* [{"request_put":{...}}, ...] for n ops; NULL on error. */
static json_t *
ej_ops(const struct mst_etcd_op *ops, size_t n)
{
	json_t *a, *op;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((size_t)ops[i].o_kind >= 3 || (op = ej_op(&ops[i])) ==
		    NULL || json_array_append_new(a, json_pack("{s:o}",
		    ej_op_wrap[ops[i].o_kind], op)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

char *
mst_etcd_enc_txn(const struct mst_etcd_txn *t)
{
	json_t *o, *cmp, *c, *succ, *fail;
	size_t i;

	if ((cmp = json_array()) == NULL)
		return NULL;
	for (i = 0; i < t->t_ncmp; i++)
		if ((c = ej_cmp(&t->t_cmp[i])) == NULL ||
		    json_array_append_new(cmp, c) != 0) {
			json_decref(cmp);
			return NULL;
		}
	succ = ej_ops(t->t_succ, t->t_nsucc);
	fail = ej_ops(t->t_fail, t->t_nfail);
	if (succ == NULL || fail == NULL) {
		json_decref(cmp);
		json_decref(succ);
		json_decref(fail);
		return NULL;
	}
	o = json_pack("{s:o,s:o,s:o}", "compare", cmp, "success", succ,
	    "failure", fail);
	return ej_dump(o);
}

/* {"name":"v"}: the body of a call with one number. */
static char *
ej_one_num(const char *name, int64_t v)
{
	json_t *o = json_object();

	if (o == NULL || ej_set_i64(o, name, v) != 0) {
		json_decref(o);
		return NULL;
	}
	return ej_dump(o);
}

char *
mst_etcd_enc_lease(enum mst_etcd_call c, int64_t v)
{
	return ej_one_num(c == MST_ETCD_GRANT ? "TTL" : "ID", v);
}

char *
mst_etcd_enc_compact(int64_t rev)
{
	return ej_one_num("revision", rev);
}

char *
mst_etcd_enc_watch(const char *key, size_t klen, const char *end,
    size_t elen, int64_t start_rev)
{
	json_t *cr;
	int rc = 0;

	if (klen == 0 || klen > MST_ETCD_KEY_MAX || elen > MST_ETCD_KEY_MAX ||
	    (cr = json_object()) == NULL)
		return NULL;
	rc |= ej_set_b64(cr, "key", key, klen);
	if (end != NULL)
		rc |= ej_set_b64(cr, "range_end", end, elen);
	rc |= ej_set_i64(cr, "start_revision", start_rev);
	rc |= json_object_set_new(cr, "progress_notify", json_true());
	if (rc != 0) {
		json_decref(cr);
		return NULL;
	}
	return ej_dump(json_pack("{s:o}", "create_request", cr));
}

/* ---- answers ------------------------------------------------------------------ */

static void ej_msg(char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
ej_msg(char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, MST_ETCD_MSG_MAX, fmt, ap);
	va_end(ap);
}

/*
 * v (absent: 0) as an integer: etcd's decimal string (int64 and uint64
 * travel as strings), or a plain JSON integer.  unsig: 0 .. UINT64_MAX,
 * else INT64_MIN .. INT64_MAX.  0, or -1 for anything else.
 */
static int
ej_num(const json_t *v, int unsig, uint64_t *out)
{
	const char *s;
	char *end;
	size_t i, len;

	*out = 0;
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		if (unsig && json_integer_value(v) < 0)
			return -1;
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len > 20)
		return -1;
	for (i = (!unsig && s[0] == '-') ? 1 : 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	if (i == 1 && s[0] == '-')
		return -1;
	errno = 0;
	if (unsig)
		*out = strtoull(s, &end, 10);
	else
		*out = (uint64_t)strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

static int
ej_i64(const json_t *v, int64_t *out)
{
	uint64_t u;

	if (ej_num(v, 0, &u) == -1)
		return -1;
	*out = (int64_t)u;
	return 0;
}

static int
ej_hdr(json_t *h, struct mst_etcd_hdr *out)
{
	json_t *cid = NULL, *mid = NULL, *rev = NULL, *term = NULL;

	memset(out, 0, sizeof(*out));
	if (json_unpack(h, "{s?o,s?o,s?o,s?o}", "cluster_id", &cid,
	    "member_id", &mid, "revision", &rev, "raft_term", &term) != 0)
		return -1;
	if (ej_num(cid, 1, &out->eh_cluster_id) == -1 ||
	    ej_num(mid, 1, &out->eh_member_id) == -1 ||
	    ej_i64(rev, &out->eh_revision) == -1 || out->eh_revision < 0 ||
	    ej_num(term, 1, &out->eh_raft_term) == -1)
		return -1;
	return 0;
}

/* Decode base64 s (at most max bytes) into a new NUL-terminated copy.
 * 0; -1: not base64; -2: over max; -3: out of memory. */
static int
ej_b64_copy(const char *s, size_t len, size_t max, char **out, size_t *olen)
{
	long want = b64_declen(s, len), n;

	*out = NULL;
	*olen = 0;
	if (want < 0)
		return -1;
	if ((size_t)want > max)
		return -2;
	if ((*out = malloc((size_t)want + 1)) == NULL)
		return -3;
	if ((n = mst_etcd_b64_dec(s, len, *out, (size_t)want)) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[n] = '\0';
	*olen = (size_t)n;
	return 0;
}

static void
ej_kv_free(struct mst_etcd_kv *kv)
{
	free(kv->kv_key);
	free(kv->kv_val);
	memset(kv, 0, sizeof(*kv));
}

/* One kv object; 0, or -1 (kv left as zeroes) when it does not check
 * out.  A key is required; everything else may be absent (zero). */
static int
ej_kv(json_t *o, struct mst_etcd_kv *kv)
{
	const char *key = NULL, *val = NULL;
	json_t *cr = NULL, *mr = NULL, *ver = NULL, *lease = NULL;

	memset(kv, 0, sizeof(*kv));
	if (json_unpack(o, "{s:s,s?s,s?o,s?o,s?o,s?o}", "key", &key,
	    "value", &val, "create_revision", &cr, "mod_revision", &mr,
	    "version", &ver, "lease", &lease) != 0)
		return -1;
	if (ej_i64(cr, &kv->kv_create_rev) == -1 ||
	    ej_i64(mr, &kv->kv_mod_rev) == -1 ||
	    ej_i64(ver, &kv->kv_version) == -1 ||
	    ej_i64(lease, &kv->kv_lease) == -1)
		return -1;
	if (ej_b64_copy(key, strlen(key), MST_ETCD_KEY_MAX, &kv->kv_key,
	    &kv->kv_klen) != 0 || kv->kv_klen == 0 ||
	    ej_b64_copy(val != NULL ? val : "", val != NULL ? strlen(val) : 0,
	    MST_ETCD_VALUE_MAX, &kv->kv_val, &kv->kv_vlen) != 0) {
		ej_kv_free(kv);
		return -1;
	}
	return 0;
}

/* Append the kvs of array a (absent: none) to res; -1: a is not an
 * array or out of memory. */
static int
ej_kvs(json_t *a, struct mst_etcd_res *res)
{
	struct mst_etcd_kv *n;
	size_t i, cnt;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return -1;
	if ((cnt = json_array_size(a)) == 0)
		return 0;
	if ((n = reallocarray(res->r_kvs, res->r_nkvs + cnt,
	    sizeof(*n))) == NULL)
		return -1;
	res->r_kvs = n;
	for (i = 0; i < cnt; i++) {
		if (ej_kv(json_array_get(a, i), &res->r_kvs[res->r_nkvs]) ==
		    -1) {
			res->r_dropped++;
			continue;
		}
		res->r_nkvs++;
	}
	return 0;
}

static int
ej_range(json_t *r, struct mst_etcd_res *res)
{
	json_t *kvs = NULL, *count = NULL;
	int more = 0;

	if (json_unpack(r, "{s?o,s?b,s?o}", "kvs", &kvs, "more", &more,
	    "count", &count) != 0 || ej_i64(count, &res->r_count) == -1 ||
	    ej_kvs(kvs, res) == -1)
		return -1;
	res->r_more = more != 0;
	return 0;
}

static int
ej_txn(json_t *r, struct mst_etcd_res *res)
{
	json_t *resps = NULL, *one, *rr;
	int ok = 0;
	size_t i;

	if (json_unpack(r, "{s?b,s?o}", "succeeded", &ok, "responses",
	    &resps) != 0 || (resps != NULL && !json_is_array(resps)))
		return -1;
	res->r_succeeded = ok != 0;
	for (i = 0; resps != NULL && i < json_array_size(resps); i++) {
		one = json_array_get(resps, i);
		if (!json_is_object(one))
			return -1;
		if ((rr = json_object_get(one, "response_range")) != NULL &&
		    ej_range(rr, res) == -1)
			return -1;
	}
	return 0;
}

static int
ej_lease(json_t *r, struct mst_etcd_res *res)
{
	json_t *id = NULL, *ttl = NULL;
	const char *err = NULL;

	if (json_unpack(r, "{s?o,s?o,s?s}", "ID", &id, "TTL", &ttl, "error",
	    &err) != 0 || ej_i64(id, &res->r_id) == -1 ||
	    ej_i64(ttl, &res->r_ttl) == -1 || res->r_ttl < 0)
		return -1;
	if (err != NULL && err[0] != '\0') {
		res->r_err = MST_ETCD_E_SERVER;
		ej_msg(res->r_msg, "%s", err);
	}
	return 0;
}

/*
 * An error answer, in either of the gateway's shapes: one-shot calls
 * {"error":"msg","message":"msg","code":14}, streams {"error":{
 * "grpc_code":14,"http_code":503,"message":"msg",...}}.  1 when root is
 * one (code and msg filled), 0 when it is not, -1 when malformed.
 */
static int
ej_error(json_t *root, int *code, char *msg)
{
	json_t *e = json_object_get(root, "error");
	const char *m = NULL;

	if (e == NULL || json_object_get(root, "header") != NULL)
		return 0;
	*code = 0;
	if (json_is_string(e)) {
		if (json_unpack(root, "{s?s,s?i}", "message", &m, "code",
		    code) != 0)
			return -1;
		ej_msg(msg, "%s", m != NULL ? m : json_string_value(e));
		return 1;
	}
	if (!json_is_object(e) || json_unpack(e, "{s?i,s?s}", "grpc_code",
	    code, "message", &m) != 0)
		return -1;
	ej_msg(msg, "%s", m != NULL ? m : "error");
	return 1;
}

/* Parse body as one JSON object; NULL with why in msg. */
static json_t *
ej_load(const char *body, size_t len, char *msg)
{
	json_error_t jerr;
	json_t *root;

	if (len > MST_ETCD_BODY_MAX) {
		ej_msg(msg, "answer of %zu bytes, over the limit", len);
		return NULL;
	}
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		ej_msg(msg, "malformed JSON: %s (byte %d)", jerr.text,
		    jerr.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		ej_msg(msg, "answer is not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* The call-specific part of a good answer r; -1: unexpected shape. */
static int
ej_body(enum mst_etcd_call call, json_t *r, struct mst_etcd_res *res)
{
	json_t *hdr = json_object_get(r, "header");

	if (!json_is_object(hdr) || ej_hdr(hdr, &res->r_hdr) == -1)
		return -1;
	switch (call) {
	case MST_ETCD_RANGE:
		return ej_range(r, res);
	case MST_ETCD_TXN:
		return ej_txn(r, res);
	case MST_ETCD_GRANT:
	case MST_ETCD_KEEPALIVE:
		return ej_lease(r, res);
	default:
		return 0;
	}
}

void
mst_etcd_dec(enum mst_etcd_call call, int status, const char *body,
    size_t len, struct mst_etcd_res *res)
{
	json_t *root, *r;
	int e;

	memset(res, 0, sizeof(*res));
	res->r_call = call;
	res->r_status = status;
	if ((root = ej_load(body, len, res->r_msg)) == NULL) {
		res->r_err = MST_ETCD_E_BAD;
		return;
	}
	/* a stream's one message (lease keepalive) comes wrapped */
	r = json_object_get(root, "result");
	r = json_is_object(r) ? r : root;
	if ((e = ej_error(r, &res->r_code, res->r_msg)) != 0) {
		res->r_err = e == 1 ? MST_ETCD_E_SERVER : MST_ETCD_E_BAD;
		if (e == -1)
			ej_msg(res->r_msg, "malformed error answer");
	} else if (status != 200) {
		res->r_err = MST_ETCD_E_SERVER;
		ej_msg(res->r_msg, "HTTP status %d", status);
	} else if (ej_body(call, r, res) == -1) {
		mst_etcd_res_clear(res);
		res->r_call = call;
		res->r_status = status;
		res->r_err = MST_ETCD_E_BAD;
		ej_msg(res->r_msg, "unexpected %s answer shape",
		    mst_etcd_call_name(call));
	}
	json_decref(root);
}

void
mst_etcd_res_clear(struct mst_etcd_res *res)
{
	size_t i;

	for (i = 0; i < res->r_nkvs; i++)
		ej_kv_free(&res->r_kvs[i]);
	free(res->r_kvs);
	memset(res, 0, sizeof(*res));
}

/* ---- watch messages --------------------------------------------------------- */

static int
ej_event(json_t *o, struct mst_etcd_ev *ev)
{
	const char *type = NULL;
	json_t *kv = NULL;

	memset(ev, 0, sizeof(*ev));
	if (json_unpack(o, "{s?s,s:o}", "type", &type, "kv", &kv) != 0)
		return -1;
	if (type == NULL || strcmp(type, "PUT") == 0)
		ev->ev_type = MST_ETCD_EV_PUT;
	else if (strcmp(type, "DELETE") == 0)
		ev->ev_type = MST_ETCD_EV_DELETE;
	else
		return -1;
	return ej_kv(kv, &ev->ev_kv);
}

static int
ej_events(json_t *a, struct mst_etcd_wres *w)
{
	size_t i, n;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return -1;
	if ((n = json_array_size(a)) == 0)
		return 0;
	if ((w->w_evs = calloc(n, sizeof(*w->w_evs))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (ej_event(json_array_get(a, i), &w->w_evs[w->w_nevs]) == -1)
			w->w_dropped++;
		else
			w->w_nevs++;
	}
	return 0;
}

static int
ej_watch(json_t *r, struct mst_etcd_wres *w)
{
	json_t *hdr = NULL, *wid = NULL, *crev = NULL, *evs = NULL;
	const char *reason = NULL;
	int created = 0, canceled = 0;

	if (json_unpack(r, "{s:o,s?o,s?b,s?b,s?o,s?s,s?o}", "header", &hdr,
	    "watch_id", &wid, "created", &created, "canceled", &canceled,
	    "compact_revision", &crev, "cancel_reason", &reason, "events",
	    &evs) != 0 || !json_is_object(hdr) || ej_hdr(hdr, &w->w_hdr) ==
	    -1 || ej_i64(wid, &w->w_watch_id) == -1 ||
	    ej_i64(crev, &w->w_compact_rev) == -1 || w->w_compact_rev < 0)
		return -1;
	w->w_created = created != 0;
	w->w_canceled = canceled != 0;
	if (reason != NULL)
		ej_msg(w->w_msg, "%s", reason);
	return ej_events(evs, w);
}

void
mst_etcd_dec_watch(const char *line, size_t len, struct mst_etcd_wres *w)
{
	json_t *root, *r;
	int e;

	memset(w, 0, sizeof(*w));
	if ((root = ej_load(line, len, w->w_msg)) == NULL) {
		w->w_err = MST_ETCD_E_BAD;
		return;
	}
	if ((e = ej_error(root, &w->w_code, w->w_msg)) != 0)
		w->w_err = e == 1 ? MST_ETCD_E_SERVER : MST_ETCD_E_BAD;
	else if (!json_is_object(r = json_object_get(root, "result")) ||
	    ej_watch(r, w) == -1) {
		mst_etcd_wres_clear(w);
		w->w_err = MST_ETCD_E_BAD;
		ej_msg(w->w_msg, "unexpected watch message shape");
	}
	json_decref(root);
}

void
mst_etcd_wres_clear(struct mst_etcd_wres *w)
{
	size_t i;

	for (i = 0; i < w->w_nevs; i++)
		ej_kv_free(&w->w_evs[i].ev_kv);
	free(w->w_evs);
	memset(w, 0, sizeof(*w));
}

/* ---- lines ------------------------------------------------------------------- */

static int
lines_append(struct mst_etcd_lines *l, const char *p, size_t n)
{
	size_t cap;
	char *nb;

	if (l->l_len + n > l->l_cap) {
		cap = l->l_cap > 0 ? l->l_cap : 4096;
		while (cap < l->l_len + n)
			cap *= 2;
		if ((nb = realloc(l->l_buf, cap)) == NULL)
			return -1;
		l->l_buf = nb;
		l->l_cap = cap;
	}
	memcpy(l->l_buf + l->l_len, p, n);
	l->l_len += n;
	return 0;
}

int
mst_etcd_lines_feed(struct mst_etcd_lines *l, const char *data, size_t len,
    mst_etcd_line_cb *cb, void *arg)
{
	const char *nl, *line;
	size_t n, ll;
	int rc;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (l->l_skip || l->l_len + n > l->l_max) {
			if (!l->l_skip)
				l->l_oversized++;
			l->l_len = 0;
			l->l_skip = nl == NULL;
		} else if (nl == NULL) {
			if (lines_append(l, data, n) == -1)
				return -1;
		} else {
			if (l->l_len > 0 && lines_append(l, data, n) == -1)
				return -1;
			line = l->l_len > 0 ? l->l_buf : data;
			ll = l->l_len > 0 ? l->l_len : n;
			l->l_len = 0;
			if (ll > 0 && line[ll - 1] == '\r')
				ll--;
			if (ll > 0 && (rc = cb(line, ll, arg)) != 0)
				return rc;
		}
		n += nl != NULL ? 1 : 0;
		data += n;
		len -= n;
	}
	return 0;
}

void
mst_etcd_lines_reset(struct mst_etcd_lines *l)
{
	l->l_len = 0;
	l->l_skip = false;
}

void
mst_etcd_lines_free(struct mst_etcd_lines *l)
{
	free(l->l_buf);
	l->l_buf = NULL;
	l->l_len = l->l_cap = 0;
	l->l_skip = false;
}
