/*
 * etcd v3 client for the fleet coordinator child ("canaryd: fleet"),
 * over etcd's JSON gateway on plain HTTP/1.1 (etcd 3.4):
 *
 *	POST /v3/kv/range /v3/kv/put /v3/kv/deleterange /v3/kv/txn
 *	POST /v3/lease/grant /v3/lease/keepalive /v3/lease/revoke
 *	POST /v3/watch   (the answer streams one JSON object a line)
 *
 * Keys and values travel base64, int64 and uint64 as JSON strings, and
 * etcd leaves out every field whose value is zero (a missing "TTL" in a
 * keepalive answer means the lease is gone).  A streamed answer wraps
 * each message as {"result":{...}}, or {"error":{...}} before it ends.
 *
 * Two halves.  The codec (master/etcd_json.c) is pure: request bodies
 * built with jansson, answers read with json_unpack for etcd's fixed
 * shapes and json_loadb for each streamed line, base64, and the line
 * splitter of a stream; the unit tests and the fuzzer drive it alone.
 * The client (master/etcd.c) is non-blocking, driven by the loop it is
 * handed (master/evl-t.h): a small pool of keep-alive connections for
 * one-shot calls, one streaming connection per watch, HTTP through
 * shared/http1.h (set_collect de-chunks the body).
 *
 * Failure handling: a call gets MST_ETCD_TIMEOUT_MS; two failed calls in
 * a row (no answer, a transport error, an answer we cannot read, or an
 * error of etcd's that says the member cannot serve: 5xx, gRPC
 * Unavailable) move the client to the next endpoint of its list; calls in
 * flight on the old one fail, watches restart on the new one from their
 * next revision.  Watches carry Grpc-Metadata-Hasleader: true, so a
 * member that lost its quorum ends them.  An answer that is not what etcd
 * sends (malformed JSON, another shape, a key or value over the limits)
 * is logged, counted in the stats and treated as a failed call; a single
 * bad key-value inside an otherwise good answer is left out and counted
 * (r_dropped).  Nothing from the wire can crash the client.
 *
 * Ownership: everything a callback is handed (results, key-values)
 * belongs to the client and is valid only during the callback.
 */
#ifndef CANARYD_MASTER_ETCD_H
#define CANARYD_MASTER_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evl-t.h"

#define MST_ETCD_MAX_ENDPOINTS	8
#define MST_ETCD_TIMEOUT_MS	2000	/* one call, and a watch's start */
#define MST_ETCD_FAILS_TO_SWITCH 2	/* failed calls in a row */
#define MST_ETCD_POOL		2	/* one-shot connections */
#define MST_ETCD_QUEUE_MAX	256	/* calls waiting for a connection */
#define MST_ETCD_KEY_MAX	4096	/* decoded bytes */
#define MST_ETCD_VALUE_MAX	(1024 * 1024)
#define MST_ETCD_BODY_MAX	(8 * 1024 * 1024)	/* answer, watch line */
#define MST_ETCD_MSG_MAX	160

/* gRPC codes etcd answers with (the gateway's "code"/"grpc_code") */
#define MST_ETCD_GRPC_NOT_FOUND		5
#define MST_ETCD_GRPC_OUT_OF_RANGE	11	/* revision compacted */
#define MST_ETCD_GRPC_UNAVAILABLE	14

enum mst_etcd_err {
	MST_ETCD_OK,
	MST_ETCD_E_TRANSPORT,	/* connect, reset, early close, framing */
	MST_ETCD_E_TIMEOUT,	/* no answer in time */
	MST_ETCD_E_SERVER,	/* etcd's error answer: r_status, r_code */
	MST_ETCD_E_BAD,		/* an answer we cannot read */
	MST_ETCD_E_NOMEM,
};

enum mst_etcd_call {
	MST_ETCD_RANGE,
	MST_ETCD_PUT,
	MST_ETCD_DELETE,
	MST_ETCD_TXN,
	MST_ETCD_GRANT,
	MST_ETCD_KEEPALIVE,
	MST_ETCD_REVOKE,
	MST_ETCD_COMPACT,
	MST_ETCD__NCALLS
};

struct mst_etcd_hdr {
	uint64_t	 eh_cluster_id;
	uint64_t	 eh_member_id;
	int64_t		 eh_revision;
	uint64_t	 eh_raft_term;
};

/* A key-value as etcd stores it; key and value are NUL-terminated
 * copies (they may hold NULs themselves: use the lengths). */
struct mst_etcd_kv {
	char		*kv_key;
	size_t		 kv_klen;
	char		*kv_val;
	size_t		 kv_vlen;
	int64_t		 kv_create_rev;
	int64_t		 kv_mod_rev;
	int64_t		 kv_version;
	int64_t		 kv_lease;
};

/* The answer to one call. */
struct mst_etcd_res {
	enum mst_etcd_call r_call;
	enum mst_etcd_err r_err;
	int		 r_status;	/* HTTP status, 0 without an answer */
	int		 r_code;	/* gRPC code of an error answer */
	char		 r_msg[MST_ETCD_MSG_MAX];	/* what went wrong */
	struct mst_etcd_hdr r_hdr;
	/* range; txn: the kvs of every range response, in order */
	struct mst_etcd_kv *r_kvs;
	size_t		 r_nkvs;
	size_t		 r_dropped;	/* kvs left out: malformed, too big */
	int64_t		 r_count;
	bool		 r_more;
	bool		 r_succeeded;	/* txn: the compares held */
	int64_t		 r_id;		/* grant, keepalive: the lease */
	int64_t		 r_ttl;		/* grant, keepalive; 0: lease gone */
};

enum mst_etcd_opkind {
	MST_ETCD_OP_RANGE,
	MST_ETCD_OP_PUT,
	MST_ETCD_OP_DELETE,
};

/* A range, put or delete, alone or inside a txn.  Zero fields are left
 * out of the request, as etcd does. */
struct mst_etcd_op {
	enum mst_etcd_opkind o_kind;
	const char	*o_key;
	size_t		 o_klen;
	const char	*o_end;		/* range_end, or NULL: the key alone */
	size_t		 o_elen;
	const char	*o_val;		/* put */
	size_t		 o_vlen;
	int64_t		 o_lease;	/* put: 0, no lease */
	int64_t		 o_rev;		/* range: at this revision, 0: now */
	int64_t		 o_limit;	/* range: 0, no limit */
};

enum mst_etcd_target {
	MST_ETCD_T_VERSION,
	MST_ETCD_T_CREATE,	/* create_revision (0: the key is absent) */
	MST_ETCD_T_MOD,		/* mod_revision */
	MST_ETCD_T_VALUE,
	MST_ETCD_T_LEASE,
};

enum mst_etcd_result {
	MST_ETCD_R_EQUAL,
	MST_ETCD_R_GREATER,
	MST_ETCD_R_LESS,
	MST_ETCD_R_NOT_EQUAL,
};

struct mst_etcd_cmp {
	const char	*c_key;
	size_t		 c_klen;
	enum mst_etcd_target c_target;
	enum mst_etcd_result c_result;
	int64_t		 c_num;		/* version, create/mod revision, lease */
	const char	*c_val;		/* MST_ETCD_T_VALUE */
	size_t		 c_vlen;
};

struct mst_etcd_txn {
	const struct mst_etcd_cmp *t_cmp;
	size_t		 t_ncmp;
	const struct mst_etcd_op *t_succ;
	size_t		 t_nsucc;
	const struct mst_etcd_op *t_fail;
	size_t		 t_nfail;
};

enum mst_etcd_evtype {
	MST_ETCD_EV_PUT,
	MST_ETCD_EV_DELETE,
};

struct mst_etcd_ev {
	enum mst_etcd_evtype ev_type;
	struct mst_etcd_kv ev_kv;	/* a delete has key and mod_rev only */
};

/* One message of a watch stream. */
struct mst_etcd_wres {
	enum mst_etcd_err w_err;	/* SERVER: {"error":...}, BAD */
	int		 w_code;
	char		 w_msg[MST_ETCD_MSG_MAX];
	struct mst_etcd_hdr w_hdr;
	int64_t		 w_watch_id;
	bool		 w_created;
	bool		 w_canceled;
	int64_t		 w_compact_rev;	/* > 0: start revision compacted */
	struct mst_etcd_ev *w_evs;
	size_t		 w_nevs;
	size_t		 w_dropped;	/* events left out: malformed, too big */
};

/* ---- codec (pure; master/etcd_json.c) ----------------------------------- */

/* Base64 (standard alphabet, padded).  Encode: the length written (NUL
 * added), out holds at least MST_ETCD_B64_LEN(len) bytes.  Decode: the
 * length, or -1 when in is not strict base64 or out (outlen) is short. */
#define MST_ETCD_B64_LEN(n)	(((n) + 2) / 3 * 4 + 1)
size_t	 mst_etcd_b64_enc(const void *in, size_t len, char *out);
long	 mst_etcd_b64_dec(const char *in, size_t len, void *out,
	    size_t outlen);

/* The key after every key that starts with prefix (a range_end covering
 * the prefix); out holds len bytes, the returned length may be shorter
 * ("\0" alone, length 1, when every byte is 0xff: all keys). */
size_t	 mst_etcd_prefix_end(const char *prefix, size_t len, char *out);

/*
 * Request bodies, NUL-terminated, allocated: the caller frees them with
 * free().  NULL when out of memory or a key or value is over the limits.
 */
char	*mst_etcd_enc_op(const struct mst_etcd_op *);
char	*mst_etcd_enc_txn(const struct mst_etcd_txn *);
char	*mst_etcd_enc_lease(enum mst_etcd_call, int64_t ttl_or_id);
char	*mst_etcd_enc_compact(int64_t rev);
char	*mst_etcd_enc_watch(const char *key, size_t klen, const char *end,
	    size_t elen, int64_t start_rev);
/* The gateway path of a call ("/v3/kv/range"). */
const char *mst_etcd_path(enum mst_etcd_call);
const char *mst_etcd_call_name(enum mst_etcd_call);

/*
 * Read the answer to call: HTTP status and body (one JSON object, maybe
 * wrapped in {"result":...}).  Fills res (r_err OK, SERVER or BAD, with
 * r_msg saying why); free what it holds with mst_etcd_res_clear().
 */
void	 mst_etcd_dec(enum mst_etcd_call, int status, const char *body,
	    size_t len, struct mst_etcd_res *res);
void	 mst_etcd_res_clear(struct mst_etcd_res *);

/* Read one line of a watch stream into w (w_err OK, SERVER or BAD);
 * free it with mst_etcd_wres_clear(). */
void	 mst_etcd_dec_watch(const char *line, size_t len,
	    struct mst_etcd_wres *w);
void	 mst_etcd_wres_clear(struct mst_etcd_wres *);

/*
 * Cut a stream into lines.  Bytes are kept until a '\n'; then cb gets
 * the line (without it; empty lines are skipped).  A line longer than
 * l_max is dropped whole and counted in l_oversized.  cb returns 0, or
 * -1 to stop (mst_etcd_lines_feed() returns -1 then).  The splitter
 * starts zeroed with l_max set; free with mst_etcd_lines_free().
 */
struct mst_etcd_lines {
	char		*l_buf;
	size_t		 l_len;
	size_t		 l_cap;
	size_t		 l_max;
	bool		 l_skip;	/* inside an oversized line */
	uint64_t	 l_oversized;
};
typedef int mst_etcd_line_cb(const char *line, size_t len, void *arg);
int	 mst_etcd_lines_feed(struct mst_etcd_lines *, const char *data,
	    size_t len, mst_etcd_line_cb *, void *arg);
void	 mst_etcd_lines_reset(struct mst_etcd_lines *);
void	 mst_etcd_lines_free(struct mst_etcd_lines *);

/* ---- client (master/etcd.c) ---------------------------------------------- */

struct mst_etcd;
struct mst_etcd_watch;

typedef void mst_etcd_cb(struct mst_etcd *, const struct mst_etcd_res *,
	    void *arg);

enum mst_etcd_wkind {
	MST_ETCD_W_CREATED,	/* the stream is up (w_hdr) */
	MST_ETCD_W_EVENTS,	/* w_evs[0, w_nevs), in revision order */
	MST_ETCD_W_PROGRESS,	/* everything up to w_hdr.eh_revision sent */
	MST_ETCD_W_COMPACTED,	/* the start revision is compacted (w_compact_
				 * rev): this watch is over; read the keys
				 * again and start a new one after them */
	MST_ETCD_W_BROKEN,	/* the stream ended (error, no leader,
				 * endpoint switch): the client starts it
				 * again from the next revision by itself */
};
typedef void mst_etcd_watch_cb(struct mst_etcd_watch *, enum mst_etcd_wkind,
	    const struct mst_etcd_wres *, void *arg);

/* etcd's data went back: another cluster id, or a revision lower than
 * one seen before (a restore, a wipe).  The owner resyncs in full. */
typedef void mst_etcd_reset_cb(struct mst_etcd *, const char *why,
	    void *arg);

struct mst_etcd_conf {
	const char	*const *ec_endpoints;	/* http://host:port */
	size_t		 ec_nendpoints;
	uint32_t	 ec_timeout_ms;		/* 0: MST_ETCD_TIMEOUT_MS */
	const struct mst_evl_ops *ec_loop;	/* copied */
	mst_etcd_reset_cb *ec_reset_cb;		/* or NULL */
	void		*ec_arg;
};

struct mst_etcd_stats {
	uint64_t	 es_calls;
	uint64_t	 es_failed;	/* calls that did not get an answer */
	uint64_t	 es_timeouts;
	uint64_t	 es_server_errors;	/* etcd answered an error */
	uint64_t	 es_bad;	/* answers we could not read */
	uint64_t	 es_dropped_kvs;	/* bad kvs left out of answers */
	uint64_t	 es_switches;	/* endpoint changes */
	uint64_t	 es_watch_restarts;
	uint64_t	 es_watch_events;
	uint64_t	 es_resets;	/* cluster id changed, revision went back */
};

/*
 * A client for the endpoints of conf (http:// only; a host name is
 * resolved here, once, blocking: call it before the loop runs).  NULL
 * with err filled on a bad endpoint or no memory.  Free with
 * mst_etcd_free(), never from one of its callbacks; that closes every
 * connection and drops pending calls without calling them back.
 */
struct mst_etcd *mst_etcd_new(const struct mst_etcd_conf *, char *err,
	    size_t errlen);
void	 mst_etcd_free(struct mst_etcd *);

/*
 * Start a call; cb gets the answer, later, from the loop (never from
 * inside the call).  0, or -1 (ENOMEM, ENOBUFS: MST_ETCD_QUEUE_MAX calls
 * waiting, EINVAL: a key or value over the limits).
 */
int	 mst_etcd_op(struct mst_etcd *, const struct mst_etcd_op *,
	    mst_etcd_cb *, void *arg);
int	 mst_etcd_txn(struct mst_etcd *, const struct mst_etcd_txn *,
	    mst_etcd_cb *, void *arg);
/* Grant takes a TTL in seconds; keepalive and revoke a lease id. */
int	 mst_etcd_lease(struct mst_etcd *, enum mst_etcd_call, int64_t,
	    mst_etcd_cb *, void *arg);
int	 mst_etcd_compact(struct mst_etcd *, int64_t rev, mst_etcd_cb *,
	    void *arg);

/*
 * Watch [key, end) (end NULL: the key alone) from start_rev (0: from
 * now), with progress notifications.  NULL when out of memory.  The
 * watch lives until mst_etcd_unwatch(), which may be called from its own
 * callback.
 */
struct mst_etcd_watch *mst_etcd_watch(struct mst_etcd *, const char *key,
	    size_t klen, const char *end, size_t elen, int64_t start_rev,
	    mst_etcd_watch_cb *, void *arg);
void	 mst_etcd_unwatch(struct mst_etcd_watch *);
/* The revision the watch would start from if it restarted now. */
int64_t	 mst_etcd_watch_next_rev(const struct mst_etcd_watch *);

/* The endpoint in use, its index, the counters. */
const char *mst_etcd_endpoint(const struct mst_etcd *, size_t *idx);
const struct mst_etcd_stats *mst_etcd_stats(const struct mst_etcd *);
/* The highest revision and the cluster id seen in answers (0: none). */
int64_t	 mst_etcd_revision(const struct mst_etcd *);
uint64_t mst_etcd_cluster_id(const struct mst_etcd *);

#endif /* CANARYD_MASTER_ETCD_H */
