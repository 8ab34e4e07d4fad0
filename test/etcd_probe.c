/*
 * etcd-probe: drives the fleet's etcd client (master/etcd.h) from
 * commands on stdin, for test/integration/test_etcd_client.py.  Built by
 * the GNUmakefile for the tests only.
 *
 *	etcd-probe [-t timeout_ms] http://127.0.0.1:P1 [http://...]
 *
 * One command a line; each is answered by one JSON line on stdout
 * ({"cmd":..,"ok":true,...} or {"cmd":..,"ok":false,"err":..,"msg":..});
 * watch messages arrive as {"watch":"created"|"events"|"progress"|
 * "compacted"|"broken",...} lines whenever they come.
 *
 *	put KEY VALUE [LEASE]	get KEY		range PREFIX	del KEY
 *	create KEY VALUE [LEASE]	(txn: put if create_revision is 0)
 *	cas KEY MODREV VALUE	(txn: put if mod_revision is MODREV)
 *	grant TTL	keepalive ID	revoke ID	compact REV
 *	watch PREFIX REV	unwatch		status		quit
 *
 * Keys and values are single words of printable ASCII.  Logs go to
 * stderr.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "master/etcd.h"
#include "master/evl.h"
#include "shared/log.h"
#include "test/probe.h"

#define PR_WORDS	8

static struct mst_evl *pr_loop;
static struct mst_etcd *pr_etcd;
static struct mst_etcd_watch *pr_watch;
static struct probe_in pr_in;

static void
pr_emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	printf("%s\n", s != NULL ? s : "{\"ok\":false,\"err\":\"nomem\"}");
	fflush(stdout);
	free(s);
	json_decref(o);
}

static json_t *
pr_kv(const struct mst_etcd_kv *kv)
{
	return json_pack("{s:s%,s:s%,s:I,s:I,s:I,s:I}", "key", kv->kv_key,
	    kv->kv_klen, "value", kv->kv_val, kv->kv_vlen, "create",
	    (json_int_t)kv->kv_create_rev, "mod", (json_int_t)kv->kv_mod_rev,
	    "version", (json_int_t)kv->kv_version, "lease",
	    (json_int_t)kv->kv_lease);
}

static const char *const pr_errs[] = {
	"ok", "transport", "timeout", "server", "bad", "nomem",
};

static void
pr_answer(struct mst_etcd *e, const struct mst_etcd_res *r, void *arg)
{
	const char *cmd = arg;
	json_t *o, *kvs;
	size_t i;

	(void)e;
	if (r->r_err != MST_ETCD_OK) {
		pr_emit(json_pack("{s:s,s:b,s:s,s:s,s:i,s:i}", "cmd", cmd, "ok",
		    0, "err", pr_errs[r->r_err], "msg", r->r_msg, "code",
		    r->r_code, "status", r->r_status));
		return;
	}
	kvs = json_array();
	for (i = 0; i < r->r_nkvs; i++)
		json_array_append_new(kvs, pr_kv(&r->r_kvs[i]));
	o = json_pack("{s:s,s:b,s:I,s:o,s:I,s:b,s:I,s:I,s:i}", "cmd", cmd,
	    "ok", 1, "rev", (json_int_t)r->r_hdr.eh_revision, "kvs", kvs,
	    "count", (json_int_t)r->r_count, "succeeded", r->r_succeeded,
	    "id", (json_int_t)r->r_id, "ttl", (json_int_t)r->r_ttl, "dropped",
	    (int)r->r_dropped);
	pr_emit(o);
}

static void
pr_watch_cb(struct mst_etcd_watch *w, enum mst_etcd_wkind k,
    const struct mst_etcd_wres *r, void *arg)
{
	static const char *const kinds[] = { "created", "events", "progress",
	    "compacted", "broken" };
	json_t *evs = json_array();
	size_t i;

	(void)arg;
	for (i = 0; i < r->w_nevs; i++)
		json_array_append_new(evs, json_pack("{s:s,s:o}", "type",
		    r->w_evs[i].ev_type == MST_ETCD_EV_PUT ? "PUT" : "DELETE",
		    "kv", pr_kv(&r->w_evs[i].ev_kv)));
	pr_emit(json_pack("{s:s,s:I,s:I,s:o,s:s,s:I}", "watch", kinds[k],
	    "rev", (json_int_t)r->w_hdr.eh_revision, "compact_rev",
	    (json_int_t)r->w_compact_rev, "events", evs, "msg", r->w_msg,
	    "next", (json_int_t)mst_etcd_watch_next_rev(w)));
	if (k == MST_ETCD_W_COMPACTED) {
		mst_etcd_unwatch(w);
		pr_watch = NULL;
	}
}

static void
pr_status(void)
{
	const struct mst_etcd_stats *st = mst_etcd_stats(pr_etcd);
	const char *url;
	size_t idx;

	url = mst_etcd_endpoint(pr_etcd, &idx);
	pr_emit(json_pack("{s:s,s:b,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:I}", "cmd", "status", "ok", 1, "endpoint", url, "index",
	    (int)idx, "calls", (json_int_t)st->es_calls, "failed",
	    (json_int_t)st->es_failed, "timeouts", (json_int_t)st->es_timeouts,
	    "bad", (json_int_t)st->es_bad, "switches",
	    (json_int_t)st->es_switches, "watch_restarts",
	    (json_int_t)st->es_watch_restarts, "resets",
	    (json_int_t)st->es_resets, "revision",
	    (json_int_t)mst_etcd_revision(pr_etcd), "dropped",
	    (json_int_t)st->es_dropped_kvs));
}

/* A txn on one key: compare target with num, put value, else range. */
static int
pr_txn(const char *key, enum mst_etcd_target t, int64_t num,
    const char *val, int64_t lease, const char *cmd)
{
	struct mst_etcd_cmp cmp = { .c_key = key, .c_klen = strlen(key),
	    .c_target = t, .c_result = MST_ETCD_R_EQUAL, .c_num = num };
	struct mst_etcd_op put = { .o_kind = MST_ETCD_OP_PUT, .o_key = key,
	    .o_klen = strlen(key), .o_val = val, .o_vlen = strlen(val),
	    .o_lease = lease };
	struct mst_etcd_op get = { .o_kind = MST_ETCD_OP_RANGE, .o_key = key,
	    .o_klen = strlen(key) };
	struct mst_etcd_txn txn = { &cmp, 1, &put, 1, &get, 1 };

	return mst_etcd_txn(pr_etcd, &txn, pr_answer, (void *)cmd);
}

static int
pr_watch_start(const char *prefix, int64_t rev)
{
	char end[MST_ETCD_KEY_MAX];
	size_t elen = mst_etcd_prefix_end(prefix, strlen(prefix), end);

	mst_etcd_unwatch(pr_watch);
	pr_watch = mst_etcd_watch(pr_etcd, prefix, strlen(prefix), end, elen,
	    rev, pr_watch_cb, NULL);
	pr_emit(json_pack("{s:s,s:b}", "cmd", "watch", "ok", pr_watch != NULL));
	return 0;
}

/* One command line; -1 when it asks to quit. */
static int
pr_command(char *line)
{
	struct mst_etcd_op op = { .o_kind = MST_ETCD_OP_RANGE };
	char *w[PR_WORDS], end[MST_ETCD_KEY_MAX], *p;
	int n = 0, rc = 0;

	for (p = strtok(line, " \t"); p != NULL && n < PR_WORDS;
	    p = strtok(NULL, " \t"))
		w[n++] = p;
	if (n == 0)
		return 0;
	if (strcmp(w[0], "quit") == 0)
		return -1;
	if (n >= 2) {
		op.o_key = w[1];
		op.o_klen = strlen(w[1]);
	}
	if (strcmp(w[0], "put") == 0 && n >= 3) {
		op.o_kind = MST_ETCD_OP_PUT;
		op.o_val = w[2];
		op.o_vlen = strlen(w[2]);
		op.o_lease = n > 3 ? strtoll(w[3], NULL, 10) : 0;
		rc = mst_etcd_op(pr_etcd, &op, pr_answer, "put");
	} else if (strcmp(w[0], "get") == 0 && n == 2)
		rc = mst_etcd_op(pr_etcd, &op, pr_answer, "get");
	else if (strcmp(w[0], "range") == 0 && n == 2) {
		op.o_end = end;
		op.o_elen = mst_etcd_prefix_end(w[1], strlen(w[1]), end);
		rc = mst_etcd_op(pr_etcd, &op, pr_answer, "range");
	} else if (strcmp(w[0], "del") == 0 && n == 2) {
		op.o_kind = MST_ETCD_OP_DELETE;
		rc = mst_etcd_op(pr_etcd, &op, pr_answer, "del");
	} else if (strcmp(w[0], "create") == 0 && n >= 3)
		rc = pr_txn(w[1], MST_ETCD_T_CREATE, 0, w[2], n > 3 ?
		    strtoll(w[3], NULL, 10) : 0, "create");
	else if (strcmp(w[0], "cas") == 0 && n == 4)
		rc = pr_txn(w[1], MST_ETCD_T_MOD, strtoll(w[2], NULL, 10), w[3],
		    0, "cas");
	else if (strcmp(w[0], "grant") == 0 && n == 2)
		rc = mst_etcd_lease(pr_etcd, MST_ETCD_GRANT, strtoll(w[1], NULL,
		    10), pr_answer, "grant");
	else if (strcmp(w[0], "keepalive") == 0 && n == 2)
		rc = mst_etcd_lease(pr_etcd, MST_ETCD_KEEPALIVE, strtoll(w[1],
		    NULL, 10), pr_answer, "keepalive");
	else if (strcmp(w[0], "revoke") == 0 && n == 2)
		rc = mst_etcd_lease(pr_etcd, MST_ETCD_REVOKE, strtoll(w[1], NULL,
		    10), pr_answer, "revoke");
	else if (strcmp(w[0], "compact") == 0 && n == 2)
		rc = mst_etcd_compact(pr_etcd, strtoll(w[1], NULL, 10),
		    pr_answer, "compact");
	else if (strcmp(w[0], "watch") == 0 && n == 3)
		rc = pr_watch_start(w[1], strtoll(w[2], NULL, 10));
	else if (strcmp(w[0], "unwatch") == 0) {
		mst_etcd_unwatch(pr_watch);
		pr_watch = NULL;
		pr_emit(json_pack("{s:s,s:b}", "cmd", "unwatch", "ok", 1));
	} else if (strcmp(w[0], "status") == 0)
		pr_status();
	else
		pr_emit(json_pack("{s:s,s:b,s:s}", "cmd", w[0], "ok", 0, "err",
		    "usage"));
	if (rc == -1)
		pr_emit(json_pack("{s:s,s:b,s:s,s:s}", "cmd", w[0], "ok", 0,
		    "err", "refused", "msg", strerror(errno)));
	return 0;
}

static void
pr_stdin(int fd, uint32_t events, void *arg)
{
	(void)events;
	(void)arg;
	if (probe_stdin(fd, &pr_in, pr_command) == -1)
		mst_evl_stop(pr_loop);
}

int
main(int argc, char *argv[])
{
	struct mst_etcd_conf conf;
	struct mst_evl_ops ops;
	char err[256];
	uint32_t timeout = 0;
	int ch;

	while ((ch = getopt(argc, argv, "t:")) != -1) {
		if (ch != 't')
			return 2;
		timeout = (uint32_t)strtoul(optarg, NULL, 10);
	}
	if (optind == argc) {
		fprintf(stderr, "usage: etcd-probe [-t ms] url...\n");
		return 2;
	}
	log_init(LOG_L_DEBUG, 2, 0);
	log_setproc("etcd-probe");
	if ((pr_loop = mst_evl_new()) == NULL)
		return 1;
	mst_evl_ops(pr_loop, &ops);
	memset(&conf, 0, sizeof(conf));
	conf.ec_endpoints = (const char *const *)&argv[optind];
	conf.ec_nendpoints = (size_t)(argc - optind);
	conf.ec_timeout_ms = timeout;
	conf.ec_loop = &ops;
	if ((pr_etcd = mst_etcd_new(&conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "etcd-probe: %s\n", err);
		return 1;
	}
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	if (mst_evl_add(pr_loop, 0, EPOLLIN, pr_stdin, NULL) == -1)
		return 1;
	printf("{\"ready\":true}\n");
	fflush(stdout);
	mst_evl_run(pr_loop);
	mst_evl_del(pr_loop, 0);
	mst_etcd_free(pr_etcd);
	mst_evl_free(pr_loop);
	return 0;
}
