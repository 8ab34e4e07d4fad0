/*
 * libFuzzer harness for what the fleet's etcd client reads from the wire
 * (master/etcd_json.c): the answer to each call, a watch stream cut into
 * lines, and a whole HTTP answer read the way master/etcd.c reads it
 * (shared/http1.h in collect mode, de-chunked, then decoded).
 *
 * Input: byte 0 picks the mode and the call (low 3 bits: range, put,
 * delete, txn, grant, keepalive, revoke, compaction; bits 3-4: 0 a body,
 * 1 a watch stream, 2 an HTTP answer); byte 1 the read size of the
 * stream modes (1 + b % 64 bytes a read, or all at once when b >= 192)
 * and, in body mode, the HTTP status (200, 404 or 503).  Beyond memory
 * errors, leaks and undefined behaviour it checks what callers rely on:
 * an answer is OK, SERVER or BAD with a message when not OK; only an OK
 * answer carries kvs, each with a key of 1 to MST_ETCD_KEY_MAX bytes and
 * a value of at most MST_ETCD_VALUE_MAX, both NUL-terminated.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/etcd.h"
#include "shared/http1.h"
#include "fuzz.h"

#define FZ_MAXHDRS	64
#define FZ_HEAD_LIMIT	65536

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_kv(const struct mst_etcd_kv *kv)
{
	FUZZ_CHECK(kv->kv_klen >= 1 && kv->kv_klen <= MST_ETCD_KEY_MAX);
	FUZZ_CHECK(kv->kv_vlen <= MST_ETCD_VALUE_MAX);
	FUZZ_CHECK(kv->kv_key[kv->kv_klen] == '\0');
	FUZZ_CHECK(kv->kv_val[kv->kv_vlen] == '\0');
}

static void
check_answer(enum mst_etcd_call call, int status, const char *body,
    size_t len)
{
	struct mst_etcd_res r;
	size_t i;

	mst_etcd_dec(call, status, body, len, &r);
	FUZZ_CHECK(r.r_err == MST_ETCD_OK || r.r_err == MST_ETCD_E_SERVER ||
	    r.r_err == MST_ETCD_E_BAD);
	FUZZ_CHECK(memchr(r.r_msg, '\0', sizeof(r.r_msg)) != NULL);
	if (r.r_err == MST_ETCD_E_BAD) {
		FUZZ_CHECK(r.r_msg[0] != '\0');
		FUZZ_CHECK(r.r_nkvs == 0);
	}
	if (r.r_err == MST_ETCD_OK)
		FUZZ_CHECK(status == 200 && r.r_hdr.eh_revision >= 0 &&
		    r.r_ttl >= 0);
	for (i = 0; i < r.r_nkvs; i++)
		check_kv(&r.r_kvs[i]);
	mst_etcd_res_clear(&r);
}

static int
check_line(const char *line, size_t len, void *arg)
{
	struct mst_etcd_wres w;
	size_t i;

	(void)arg;
	FUZZ_CHECK(len > 0 && memchr(line, '\n', len) == NULL);
	mst_etcd_dec_watch(line, len, &w);
	FUZZ_CHECK(w.w_err == MST_ETCD_OK || w.w_err == MST_ETCD_E_SERVER ||
	    w.w_err == MST_ETCD_E_BAD);
	if (w.w_err != MST_ETCD_OK)
		FUZZ_CHECK(w.w_nevs == 0);
	else
		FUZZ_CHECK(w.w_compact_rev >= 0);
	for (i = 0; i < w.w_nevs; i++) {
		check_kv(&w.w_evs[i].ev_kv);
		FUZZ_CHECK(w.w_evs[i].ev_type == MST_ETCD_EV_PUT ||
		    w.w_evs[i].ev_type == MST_ETCD_EV_DELETE);
	}
	mst_etcd_wres_clear(&w);
	return 0;
}

/* A watch stream delivered in reads of step bytes. */
static void
run_stream(const uint8_t *data, size_t size, size_t step)
{
	struct mst_etcd_lines l = { .l_max = 4096 };
	size_t off, n;

	for (off = 0; off < size; off += n) {
		n = size - off < step ? size - off : step;
		FUZZ_CHECK(mst_etcd_lines_feed(&l, (const char *)data + off, n,
		    check_line, NULL) == 0);
		FUZZ_CHECK(l.l_len <= l.l_max);
	}
	mst_etcd_lines_free(&l);
}

/* A whole HTTP answer read as master/etcd.c reads one. */
static void
run_http(enum mst_etcd_call call, const uint8_t *data, size_t size,
    size_t step)
{
	struct http1_hdr hdrs[FZ_MAXHDRS];
	struct fz_stream s;
	struct http1 p;
	enum http1_ev ev = HTTP1_MORE;
	char *body = NULL;
	size_t blen = 0, parsed = 0, guard;
	uint32_t used, i;

	memset(&s, 0, sizeof(s));
	s.fs_data = data;
	s.fs_len = size;
	s.fs_step = step;
	http1_init(&p, HTTP1_RESPONSE, hdrs, FZ_MAXHDRS, FZ_HEAD_LIMIT);
	http1_set_collect(&p);
	for (guard = 0; ev != HTTP1_DONE && ev != HTTP1_ERROR; guard++) {
		FUZZ_CHECK(guard < 4 * size + 64);
		if (parsed == s.fs_avail && !fz_read(&s)) {
			ev = http1_eof(&p);
			break;
		}
		ev = http1_feed(&p, s.fs_buf, (uint32_t)parsed,
		    (uint32_t)(s.fs_avail - parsed), &used);
		for (i = 0; i < p.h_nbody; i++) {
			FUZZ_CHECK(p.h_body[i].s_off + (uint64_t)p.h_body[i].
			    s_len <= s.fs_avail);
			if ((body = realloc(body, blen + p.h_body[i].s_len +
			    1)) == NULL)
				abort();
			memcpy(body + blen, s.fs_buf + p.h_body[i].s_off,
			    p.h_body[i].s_len);
			blen += p.h_body[i].s_len;
		}
		parsed += used;
	}
	if (ev == HTTP1_DONE)
		check_answer(call, http1_status(&p), body != NULL ? body : "",
		    blen);
	free(body);
	free(s.fs_buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = { 200, 404, 503 };
	enum mst_etcd_call call;
	size_t step;
	int mode;

	if (size < 2)
		return 0;
	call = (enum mst_etcd_call)(data[0] & 7);
	mode = (data[0] >> 3) & 3;
	step = data[1] < 192 ? 1 + data[1] % 64 : size;
	switch (mode) {
	case 0:
		check_answer(call, statuses[data[1] % 3],
		    (const char *)data + 2, size - 2);
		break;
	case 1:
		run_stream(data + 2, size - 2, step);
		break;
	default:
		run_http(call, data + 2, size - 2, step);
		break;
	}
	return 0;
}
