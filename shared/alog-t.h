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

#endif /* CANARYD_SHARED_ALOG_T_H */
