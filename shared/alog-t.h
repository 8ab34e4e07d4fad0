/*
 * Envoy's substitution format strings, compiled: the "%REQ(x-user)%" and
 * "%DOWNSTREAM_REMOTE_ADDRESS%" of header values (and of access log
 * formats), parsed once by the configuration loader (alog_fmt_parse())
 * and evaluated per request by the workers (alog_fmt_eval()).  A types
 * header: no prototypes (shared/alog.h has them).
 *
 * A format is a list of tokens: literal text, or one command with its
 * argument and its ":N" length limit.  What a command reads is summed up
 * in f_needs, so a worker gathers only that (an address costs a
 * syscall).
 */
#ifndef CANARYD_SHARED_ALOG_T_H
#define CANARYD_SHARED_ALOG_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The commands canaryd evaluates (Envoy's names, canaryd-envoy(7)). */
enum alog_cmd {
	ALOG_C_TEXT,			/* literal text, %% already one % */
	ALOG_C_REQ,			/* %REQ(name?alt)% */
	ALOG_C_RESP,			/* %RESP(name?alt)% */
	ALOG_C_START_TIME,		/* %START_TIME% or (strftime format) */
	ALOG_C_PROTOCOL,		/* HTTP/1.1 */
	ALOG_C_RESPONSE_CODE,
	ALOG_C_RESPONSE_FLAGS,
	ALOG_C_BYTES_RECEIVED,
	ALOG_C_BYTES_SENT,
	ALOG_C_DURATION,
	ALOG_C_UPSTREAM_HOST,		/* and UPSTREAM_REMOTE_ADDRESS */
	ALOG_C_UPSTREAM_HOST_IP,	/* UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT */
	ALOG_C_UPSTREAM_PORT,		/* UPSTREAM_REMOTE_PORT */
	ALOG_C_UPSTREAM_CLUSTER,
	ALOG_C_REMOTE,			/* DOWNSTREAM_REMOTE_ADDRESS */
	ALOG_C_REMOTE_IP,		/* ..._WITHOUT_PORT */
	ALOG_C_REMOTE_PORT,		/* DOWNSTREAM_REMOTE_PORT */
	ALOG_C_DIRECT,			/* DOWNSTREAM_DIRECT_REMOTE_ADDRESS */
	ALOG_C_DIRECT_IP,
	ALOG_C_DIRECT_PORT,
	ALOG_C_LOCAL,			/* DOWNSTREAM_LOCAL_ADDRESS */
	ALOG_C_LOCAL_IP,
	ALOG_C_LOCAL_PORT,
	ALOG_C_HOSTNAME,
	ALOG_C_ROUTE_NAME,
	ALOG_C_CONNECTION_ID,
};

/* f_needs: what the commands of a format read */
#define ALOG_N_REQ	0x01	/* request headers */
#define ALOG_N_RESP	0x02	/* response headers */
#define ALOG_N_PEER	0x04	/* the client's address */
#define ALOG_N_LOCAL	0x08	/* the address the client reached */
#define ALOG_N_UPSTREAM	0x10	/* the upstream host */
#define ALOG_N_TIME	0x20	/* start time, duration */

struct alog_tok {
	uint8_t		 t_cmd;		/* enum alog_cmd */
	uint32_t	 t_max;		/* ":N": at most N bytes; 0: any */
	const char	*t_s;		/* text; header name (lower case);
					 * START_TIME's format, or NULL */
	size_t		 t_len;
	const char	*t_alt;		/* REQ(a?b): b, lower case, or NULL */
	size_t		 t_alt_len;
};

struct alog_fmt {
	struct alog_tok	*f_toks;
	size_t		 f_ntoks;
	unsigned int	 f_needs;	/* ALOG_N_* */
};

/*
 * An access log's line layout (SubstitutionFormatString): Envoy's default
 * line, a text format, or a JSON object.  A JSON layout is a flat list of
 * items in document order: objects open and close around their members,
 * each member a key with a format, or with a literal JSON value (a
 * number, true, false, null as written).
 */
enum alog_layout_kind {
	ALOG_L_DEFAULT,		/* Envoy's default line */
	ALOG_L_TEXT,		/* lo_text, a '\n' added when it has none */
	ALOG_L_JSON,		/* lo_items */
};

enum alog_jkind {
	ALOG_J_OPEN,		/* "key":{ (no key: the top object) */
	ALOG_J_CLOSE,		/* } */
	ALOG_J_VALUE,		/* "key":<j_fmt's value> */
	ALOG_J_LIT,		/* "key":<j_lit as written> */
};

#define ALOG_JSON_DEPTH		16	/* nested objects */

struct alog_jitem {
	uint8_t		 j_kind;	/* enum alog_jkind */
	const char	*j_key;		/* NULL for the top object */
	size_t		 j_key_len;
	struct alog_fmt	 j_fmt;		/* ALOG_J_VALUE */
	const char	*j_lit;		/* ALOG_J_LIT */
};

struct alog_layout {
	uint8_t		 lo_kind;	/* enum alog_layout_kind */
	bool		 lo_omit_empty;	/* omit_empty_values */
	bool		 lo_typed;	/* JSON: a lone command keeps its type
					 * (a number stays one, nothing is
					 * null); else every value is text */
	struct alog_fmt	 lo_text;	/* ALOG_L_TEXT */
	struct alog_jitem *lo_items;	/* ALOG_L_JSON */
	size_t		 lo_nitems;
	unsigned int	 lo_needs;	/* ALOG_N_* of all its formats */
};

#endif /* CANARYD_SHARED_ALOG_T_H */
