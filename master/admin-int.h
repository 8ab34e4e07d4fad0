/*
 * What the admin module's files share beyond admin.h: the server
 * (admin.c), the endpoint table and its dispatch (admin_endpoints.c),
 * the endpoints' handlers (admin_handlers.c) and /stats (admin_stats.c).
 * Master only.
 */
#ifndef CANARYD_MASTER_ADMIN_INT_H
#define CANARYD_MASTER_ADMIN_INT_H

#include "shared/buf.h"
#include "admin.h"
#include "stats.h"

#define ADMIN_CT_TEXT	"text/plain; charset=UTF-8"
#define ADMIN_CT_JSON	"application/json"
#define ADMIN_CT_HTML	"text/html; charset=UTF-8"

/*
 * An endpoint's handler: query is the raw query string ("" if none).  It
 * fills the reply (status 200, text, empty body on entry) and says in
 * ar_action what should happen beyond it; it may change shm state, never
 * the process's.
 */
typedef void admin_handler_fn(const char *query, struct mst_admin_reply *);

/* admin_endpoints.c */
admin_handler_fn admin_h_help, admin_h_home;
/* the reply becomes status with text (a static or built string) */
void	 admin_reply_text(struct mst_admin_reply *, int status,
	    const char *text);
/* 404 "invalid path. " with the endpoint list, as Envoy */
void	 admin_reply_404(struct mst_admin_reply *);
/* 405 "Method <method> not allowed, POST required." */
void	 admin_reply_405(struct mst_admin_reply *, const char *method);
/* b's bytes as a string ("" when it never held any) */
const char *admin_buf_str(const struct buf *);

/* admin_handlers.c */
admin_handler_fn admin_h_canary, admin_h_clusters, admin_h_config_dump,
	    admin_h_drain, admin_h_hc_fail, admin_h_hc_ok, admin_h_listeners,
	    admin_h_memory, admin_h_quit, admin_h_ready, admin_h_runtime,
	    admin_h_runtime_modify, admin_h_server_info;
/* POST /canary/<route>/<action>; rest is what follows "/canary/",
 * query the raw query string (?wait=ack) */
void	 admin_canary_action(const char *method, const char *rest,
	    const char *query, struct mst_admin_reply *);

/* admin_stats.c */
admin_handler_fn admin_h_stats, admin_h_prom;
/* Start the periodic stats flush behind /stats' interval values, once
 * for the master's life (a restarted listener keeps it). */
void	 admin_stats_flush_start(void);

/* admin.c: the server's own counters (http.admin.*) */
const struct mst_admin_ctr *admin_counters(void);

#endif /* CANARYD_MASTER_ADMIN_INT_H */
