/*
 * The admin interface (Envoy's :9901): a small HTTP/1.1 server inside the
 * master's event loop (master/loop.h) that serves Envoy's admin endpoints
 * (canaryd-envoy(7), ADMIN INTERFACE) from the running config and the shm
 * sums.  Master only.
 *
 * The module's files: admin.c the server (connections, limits,
 * timeouts, access log), admin_endpoints.c the endpoint table and its
 * dispatch, admin_handlers.c and admin_stats.c what each endpoint does.
 * The request handling is split from the sockets so tests can drive it:
 * mst_admin_parse_head() reads a request head, mst_admin_handle() turns
 * (method, path, query) into a status, a content type, a body and an
 * action.
 */
#ifndef CANARYD_MASTER_ADMIN_H
#define CANARYD_MASTER_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/http1.h"

#define MST_ADMIN_HEAD_MAX	(64 * 1024)	/* bigger head: 431 */
#define MST_ADMIN_URL_MAX	(16 * 1024)	/* longer request line: 414 */
#define MST_ADMIN_BODY_MAX	(1024 * 1024)	/* bigger body: 413 */
#define MST_ADMIN_MAX_HEADERS	100		/* more: 431 */

/*
 * What a reply asks of the server beyond its bytes; the admin server
 * hands it to its actor (mst_admin_start()) rather than act itself, so
 * it never calls up into the modules that run the process.
 */
enum mst_admin_act {
	MST_ADMIN_ACT_NONE,
	MST_ADMIN_ACT_QUIT,		/* exit, once the reply is out */
	MST_ADMIN_ACT_DRAIN_QUIT,	/* drain the workers, then exit */
	MST_ADMIN_ACT_DRAIN_LISTENERS,	/* drain, close the listeners, stay */
};

typedef void mst_admin_act_fn(enum mst_admin_act);

/*
 * Open the config's admin address (if it has one), listen without
 * blocking and serve it from the loop; actor carries out what replies
 * ask for (from the loop: it may stop the admin server).  Resolves a host
 * name with getaddrinfo(3), so call it at start or reload only.  0, or -1
 * (logged).
 */
int	 mst_admin_start(mst_admin_act_fn *actor);
/* A structural reload: move to the configured address if it changed. */
void	 mst_admin_reconfigure(void);
/* Any reload, after mst.m_conf changed: the order /stats sorted for the
 * old configuration goes (structural: rebuilt for the new one by the next
 * page), or is the new one's (weights alone: the same clusters). */
void	 mst_admin_conf_changed(int structural);
/* Close the listener and every admin connection.  Safe to call twice. */
void	 mst_admin_stop(void);

/* ---- request handling, without sockets ---------------------------- */

enum mst_admin_parse {
	MST_ADMIN_P_OK,		/* a complete head; rq filled */
	MST_ADMIN_P_AGAIN,	/* need more bytes */
	MST_ADMIN_P_ERR,	/* reply rq_status and close */
};

/* A parsed request head; the slices point into the caller's bytes. */
struct mst_admin_req {
	size_t		 rq_head_len;	/* bytes up to and incl. the blank line */
	const char	*rq_method;
	size_t		 rq_method_len;
	const char	*rq_target;	/* "/path?query" */
	size_t		 rq_target_len;
	int		 rq_minor;	/* HTTP/1.<minor> */
	int		 rq_keepalive;
	uint64_t	 rq_clen;	/* Content-Length, 0 if none */
	int		 rq_status;	/* MST_ADMIN_P_ERR: 400, 411, 413, 431, 505 */
};

/*
 * Parse the request head at the start of p (len bytes, no NUL needed)
 * with shared/http1.  Refused: a malformed head (400), a Transfer-Encoding
 * (411: an admin client can always send a length), a body over
 * MST_ADMIN_BODY_MAX (413), a head over MST_ADMIN_HEAD_MAX bytes or
 * MST_ADMIN_MAX_HEADERS headers (431), a version other than HTTP/1.x
 * (505).  Garbage is refused at its first bad byte, without waiting for
 * an end of head that may never come.
 */
enum mst_admin_parse mst_admin_parse_head(const char *p, size_t len,
	    struct mst_admin_req *rq);

/*
 * The same, fed as the bytes arrive: p holds the head from its first
 * byte (len bytes so far, at the same offsets on every call, though p
 * may move); only the new bytes are parsed.  Init again for the next
 * request.
 */
struct mst_admin_parser {
	struct http1	 ap_h1;
	struct http1_hdr ap_hdrs[MST_ADMIN_MAX_HEADERS];
	uint32_t	 ap_fed;	/* bytes of p parsed */
};

void	 mst_admin_parser_init(struct mst_admin_parser *);
enum mst_admin_parse mst_admin_parser_feed(struct mst_admin_parser *,
	    const char *p, size_t len, struct mst_admin_req *rq);

struct mst_admin_reply {
	int		 ar_status;	/* 200, 400, 404, 405, 503 ... */
	const char	*ar_ctype;	/* a static string */
	struct buf	 ar_body;
	enum mst_admin_act ar_action;	/* what should happen besides */
	/* not 0: no reply now; mst_admin_answer() with this id gives it
	 * (mst_admin_defer_id() made it) */
	uint64_t	 ar_defer;
	/*
	 * Not NULL: the body goes on after ar_body a piece at a time, each
	 * made when the socket has taken the one before, so the master's
	 * loop serves others in between (chunked for HTTP/1.1, to the close
	 * for HTTP/1.0).  ar_more appends the next piece and returns 1 (more
	 * to come), 0 (that was the end) or -1 (failed: the connection is
	 * cut short); ar_done frees ar_arg, also when the client leaves
	 * first or the reply is a HEAD's.
	 */
	int		(*ar_more)(void *, struct buf *);
	void		(*ar_done)(void *);
	void		*ar_arg;
};

void	 mst_admin_reply_init(struct mst_admin_reply *);
void	 mst_admin_reply_free(struct mst_admin_reply *);

/*
 * Answer one request from the running state (struct mst mst).  path is
 * the request path up to '?', query what follows it (raw, "" if none).
 * Mutating endpoints (POST only) change shm state here; stopping the
 * server or draining its listeners is left to ar_action.
 */
void	 mst_admin_handle(const char *method, const char *path,
	    const char *query, struct mst_admin_reply *);

/*
 * Deferred replies: a handler whose answer comes later (from another
 * process) takes an id here, puts it in ar_defer and hands it to whoever
 * answers; the connection waits (reading nothing more) until
 * mst_admin_answer() with that id, or MST_ADMIN_WAIT_MS, then 504.  An
 * answer for a connection gone meanwhile is dropped.
 */
#define MST_ADMIN_WAIT_MS	10000
uint64_t mst_admin_defer_id(void);
void	 mst_admin_answer(uint64_t id, int status, const char *ctype,
	    const char *body, size_t len);

/* Append the URL-decoded form of s (%XX and '+') to out.  0 or -1
 * (query_url_decode() of shared/query.h). */
int	 mst_admin_url_decode(struct buf *out, const char *s, size_t len);

/*
 * Look key up in a raw query string; on a hit, put its decoded value in
 * val (emptied first, NUL-terminated) and return 1; else 0.
 */
int	 mst_admin_query(const char *query, const char *key, struct buf *val);

/* ---- who may drive it (admin_acl.c) ------------------------------- */

struct cd_cidr;
struct sockaddr;

/*
 * Mutating endpoints (POST) are served to peers in allow (n ranges; none:
 * loopback only) or to clients whose Authorization is "Bearer <token>"
 * with the token in token_file (NULL: no token).  Replaces the earlier
 * lists.  0, or -1 (logged) with the earlier ones kept.
 */
int	 mst_admin_acl_set(const struct cd_cidr *allow, size_t n,
	    const char *token_file);
/* The access settings that apply now (command line, then config); 0,
 * or -1 (logged) with the earlier ones kept. */
int	 mst_admin_access_apply(void);
/* May a request from peer with this Authorization value (NULL: none)
 * use the mutating endpoints? */
bool	 mst_admin_acl_allows(const struct sockaddr *peer, const char *authz,
	    size_t authz_len);
/*
 * Read a token file: its first line without trailing blanks, into *out
 * (the caller frees it).  A file that is not regular, empty, or readable
 * by its group or others is refused: -1 with why filled.
 */
int	 mst_admin_token_read(const char *path, char **out, size_t *len,
	    char *why, size_t whylen);

#endif /* CANARYD_MASTER_ADMIN_H */
