/*
 * Configuration loader, private header: the schema walker's types and the
 * helpers its files share.  Master only.  Nothing outside shared/conf*.c
 * includes it; the public interface is shared/conf.h.
 *
 * The loader is one module cut into files by protobuf message family, the
 * way nginx modules or HAProxy's cfgparse-*.c keep a section's table, its
 * handlers and its hooks together:
 *
 *	conf.c			the walker: diagnostics, paths, YAML nodes,
 *				JSON output, one table-driven walk
 *	conf_scalar.c		scalar values: numbers, booleans, durations,
 *				enums, strings, flags
 *	conf_load.c		conf_load(), reference resolution, /config_dump
 *				JSON, diagnostics printing
 *	conf_yaml.c		the YAML document, composed from libyaml's
 *				events into one arena
 *	conf_schema.c		conf_schema_print(): every accepted field
 *	conf_any.c		typed configs ("@type"), refusals and their
 *				reasons, the closest name to a typo
 *	conf_regex.c		safe_regex: RE2 spelled as POSIX ERE
 *	conf_bootstrap.c	Bootstrap, StaticResources, Admin, access
 *				loggers
 *	conf_listener.c		Listener, filter chain, HTTP connection manager,
 *				Address
 *	conf_route.c		RouteConfiguration, virtual hosts, routes,
 *				matchers, retry policy, weighted clusters,
 *				direct responses
 *	conf_cluster.c		Cluster, endpoints, circuit breakers, health
 *				checks, outlier detection
 *	conf_canary.c		canaryd's route metadata: split, sticky,
 *				override, fallback, rollout
 *	conf_header.c		header mutations: HeaderValueOption, the
 *				*_headers_to_add / _remove lists, and the
 *				levels each route meets
 *	conf_rewrite.c		rewrites and redirects: RegexMatchAndSubstitute,
 *				RedirectAction, a route action's rewrites,
 *				DirectResponseAction and its body
 *	conf_runtime.c		LayeredRuntime and its layers, a route's
 *				runtime_fraction
 *
 * A message is a table of fields (struct conf_field): name, kind, flags,
 * bounds, default and where the value goes, relative to the target the
 * parent hands it.  Kinds the walker reads itself (CK_STR to CK_STRUCT)
 * need no code; a field with rules of its own names a handler (CK_FN) and
 * says in f_like what its value is, for the schema.  m_init and m_done
 * hooks set derived defaults and check rules across fields.
 */
#ifndef CANARYD_SHARED_CONF_INT_H
#define CANARYD_SHARED_CONF_INT_H

#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "buf.h"
#include "conf.h"

#define CONF_MAX_PAIRS	128		/* keys of a mapping, merges included */
#define CONF_PATH_MAX	512
#define CONF_QUOTE_MAX	64		/* bytes of a value quoted */

#define CONF_MIB	(1024 * 1024)
#define CONF_MS		CD_NS_PER_MS
#define CONF_S		CD_NS_PER_S

#define CONF_TYPE_PREFIX "type.googleapis.com/"
/* canaryd's namespace in metadata.filter_metadata */
#define CONF_NS		"canaryd"

struct cw;
struct conf_field;

/* How a field's value is read. */
enum conf_kind {
	CK_NONE,	/* f_like of a field that is not CK_FN */
	CK_STR,		/* char *, arena copy */
	CK_UINT,	/* unsigned integer of f_size bytes, [f_min, f_max] */
	CK_INT64,	/* int64_t (printed as a JSON string, as Envoy does) */
	CK_UINT64,	/* uint64_t, any (printed as a JSON string) */
	CK_BOOL,	/* bool */
	CK_DUR,		/* Duration "1.5s" into int64_t nanoseconds */
	CK_ENUM,	/* case-insensitive name into an int of f_size bytes */
	CK_FLAGS,	/* "a,b,c" of f_flagv names, OR of their bits, f_size */
	CK_PCT,		/* Percent.value 0..100, rounded, f_size bytes */
	CK_DOUBLE,	/* double, [f_dmin, f_dmax]; f_dmax INFINITY: no max */
	CK_MSG,		/* nested message, target base + f_off */
	CK_SEQ,		/* repeated message: arena array f_off, count f_cnt */
	CK_ARR,		/* repeated message into a fixed array at f_off */
	CK_STRSEQ,	/* repeated string: char ** at f_off, count at f_cnt */
	CK_ANY,		/* google.protobuf.Any: "@type" picks the message */
	CK_CLREF,	/* cluster name: int index at f_off, resolved last */
	CK_STRUCT,	/* free-form (google.protobuf.Struct): only rendered */
	CK_FN,		/* a handler of its own (f_fn) */
	CK_REJECT,	/* an Envoy field canaryd does not implement:
			 * refused with f_why ("reason; what to do"),
			 * refined by f_any when its value names a type */
	CK_IGNORE,	/* an Envoy field that changes nothing about how
			 * a request is handled: accepted, not read, one
			 * warning with f_why, rendered as written */
};

#define CF_REQUIRED	0x0001	/* error when absent (oneof: the group) */
#define CF_NONEMPTY	0x0002	/* strings: >= 1 byte; lists: >= 1 item */
#define CF_LOWER	0x0004	/* strings: lower-case ASCII */
#define CF_GT		0x0008	/* durations: must be > f_min */
#define CF_DEF		0x0010	/* f_def (numbers) / f_defstr is the default */
#define CF_POS		0x0020	/* store the value's position at f_pos */
#define CF_NOSTORE	0x0040	/* check and render only */
#define CF_ENUMSTR	0x0080	/* CK_ENUM: store the name (char *) */
#define CF_ZERO_UNSET	0x0100	/* durations: 0s means CD_DUR_UNSET */
#define CF_NAME		0x0200	/* CK_CLREF: also store the name at f_cnt */
#define CF_FREEFORM	0x0800	/* filter_metadata handler: other keys
				 * take any value (a Struct's) */
#define CF_ONLY_DEF	0x0400	/* CK_BOOL: only f_def is taken, another
				 * value is refused with f_why */
#define CF_WARN		0x1000	/* read and kept, but canaryd does not act
				 * on it: a warning with f_why */

typedef void conf_fn(struct cw *, const struct conf_field *, yaml_node_t *,
    void *);

#define CONF_ENUM_NOSUP	INT_MIN	/* Envoy value canaryd does not implement */

struct conf_enum_val {
	const char	*ev_name;	/* canonical spelling */
	int		 ev_value;
};

struct conf_enum {
	const char			*e_what;	/* "cluster type" */
	const struct conf_enum_val	*e_vals;	/* { NULL } ends */
};

/* One name of a CK_FLAGS field ("5xx") and its bit. */
struct conf_flag {
	const char	*fl_name;	/* Envoy's spelling */
	uint32_t	 fl_bit;
};

/*
 * One "@type" of an Any field.  an_msg NULL: a type canaryd knows and
 * refuses with an_why ("reason; what to do").  The { NULL } entry that
 * ends a list may carry an_why too: the advice for any other type.
 * an_name is the extension's well-known name ("envoy.filters.http.lua"),
 * so a "name" given without typed_config is recognised as well.
 */
struct conf_any {
	const char		*an_type;	/* full message name */
	const struct conf_msg	*an_msg;
	const char		*an_name;	/* or NULL */
	const char		*an_why;	/* an_msg NULL, or the end */
};

struct conf_field {
	const char		*f_name;
	enum conf_kind		 f_kind;
	unsigned int		 f_flags;
	int			 f_oneof;	/* group number; 0: none */
	int64_t			 f_min;		/* numbers, durations */
	int64_t			 f_max;		/* numbers; bytes */
	int64_t			 f_def;		/* CF_DEF numbers */
	const char		*f_defstr;	/* CF_DEF strings */
	size_t			 f_off;
	size_t			 f_size;	/* numbers and enums */
	size_t			 f_cnt;		/* lists: count; CF_NAME */
	size_t			 f_pos;		/* CF_POS: struct cd_pos */
	size_t			 f_elsize;	/* CK_SEQ, CK_ARR */
	size_t			 f_items;	/* lists: most items; 0: any */
	const struct conf_msg	*f_msg;
	const struct conf_enum	*f_enum;
	const struct conf_flag	*f_flagv;	/* CK_FLAGS: { NULL } ends */
	const struct conf_any	*f_any;		/* CK_ANY: { NULL } ends */
	conf_fn			*f_fn;
	const char		*f_why;		/* CK_REJECT, CK_IGNORE,
						 * CF_ONLY_DEF: why; CK_ANY:
						 * what it is ("http filter") */
	double			 f_dmin;	/* CK_DOUBLE */
	double			 f_dmax;
	double			 f_ddef;	/* CK_DOUBLE with CF_DEF */
	/* Only for the schema (conf_schema_print): */
	enum conf_kind		 f_like;	/* CK_FN: what its value is */
	const char		*f_defdoc;	/* a default a hook sets */
	const char		*f_note;	/* how canaryd differs */
};

struct conf_msg {
	const char		*m_name;	/* for messages: "Cluster" */
	const struct conf_field	*m_fields;	/* { NULL } ends; <= 64 */
	/* Defaults no table can say (derived ones); runs after the table's. */
	void	(*m_init)(struct cw *, void *);
	/* Cross-field checks once every field was read; seen: bit i set
	 * when m_fields[i] was present. */
	void	(*m_done)(struct cw *, yaml_node_t *, void *, uint64_t);
};

/* A cluster name to resolve once every cluster is known. */
struct conf_ref {
	const char	*r_name;
	int		*r_slot;
	int		 r_line, r_col;
	const char	*r_path;	/* arena copy */
	int		 r_strict;	/* must exist even without
					 * validate_clusters (fallback) */
};

struct conf_domain {
	const char	*d_name;
	size_t		 d_vhost;
	int		 d_line;
};

struct conf_pair {
	yaml_node_t	*p_key;
	yaml_node_t	*p_val;
	int		 p_merged;	/* from a "<<" merge key */
	int		 p_used;
};

/* The walker: everything one conf_load_buf() call needs. */
struct cw {
	struct cd_conf		*w_conf;
	struct cd_arena		*w_arena;
	yaml_document_t		 w_doc;		/* conf_doc_load() */
	struct cd_arena		*w_doc_arena;	/* its scalars and entries */
	struct conf_diags	*w_diags;
	size_t			 w_nerrors;	/* this load's */
	size_t			 w_nwarnings;
	int			 w_stop;	/* error cap or out of memory */
	char			 w_path[CONF_PATH_MAX];
	size_t			 w_plen;
	struct buf		 w_json;
	size_t			 w_visits;
	int			 w_dup_depth;	/* walking a duplicate's value */

	struct cd_listener	*w_listener;	/* being walked */
	size_t			 w_li;		/* its index */
	struct cd_cluster	*w_cluster;	/* being walked */
	int			 w_cluster_type_bad; /* type refused */
	int			 w_validate_clusters;
	size_t			 w_nsplits;
	size_t			 w_nfractions;
	struct conf_ref		*w_refs;
	size_t			 w_nrefs, w_refcap;
	struct conf_domain	*w_domains;
	size_t			 w_ndomains, w_domcap;
	size_t			 w_nvhosts;	/* walked so far */
	/* names of routes with a canaryd rollout, to keep them unique */
	struct cd_wspan		*w_wspans;	/* malloc'd, then c_wspans */
	size_t			 w_nwspans, w_wspcap;
	int			 w_wfast_off;	/* no c_src: see conf-t.h */
	const char		**w_rollout_names;	/* in the arena */
	int			*w_rollout_lines;
	size_t			 w_nrollouts, w_rollout_cap;
	/* local_ratelimit buckets: malloc'd, then c_lrl */
	const struct cd_lrl	**w_lrl;
	size_t			 w_nlrl, w_lrlcap;

	size_t			 w_span_node[2];
	size_t			 w_span_node_md[2];
	size_t			(*w_span_listener)[2];	/* c_nlisteners */
	size_t			(*w_span_routes)[2];	/* c_nlisteners */
	size_t			(*w_span_clusters)[2];	/* c_nclusters */
};

/* ---- tables ----------------------------------------------------------- */

/* Where a field goes in target type T, and how wide it is. */
#define AT(T, m)	\
	.f_off = offsetof(T, m), .f_size = sizeof(((T *)NULL)->m)
#define LIST(T, m, n, el) \
	.f_off = offsetof(T, m), .f_cnt = offsetof(T, n), .f_elsize = sizeof(el)
#define U32		.f_min = 0, .f_max = UINT32_MAX
#define F_END		{ .f_name = NULL }

/*
 * Refusals say why, then after "; " what to do instead (a unit test
 * checks every row has both).  Those several tables share:
 */
#define NO_TLS		"canaryd speaks plain HTTP/1.1 and does no TLS; " \
	"terminate TLS in front of it (a TCP load balancer, stunnel or " \
	"an edge proxy) and send plain HTTP to its listener"
#define NO_H2		"canaryd speaks HTTP/1.1 only, downstream and " \
	"upstream; remove it (an HTTP/2 or gRPC service needs another proxy)"
#define NO_XDS		"canaryd loads static configuration only; put " \
	"the resources inline under static_resources and reload with SIGHUP"
#define NO_PROXY_PROTO	"canaryd does not speak the PROXY protocol; " \
	"remove it and let the client address come from the connection " \
	"(or x-forwarded-for from the proxy in front)"
#define NO_SOCKOPT	"canaryd sets its own socket options; remove it"
#define NO_DNS_CONF	"canaryd resolves names with the system resolver " \
	"(getaddrinfo, /etc/resolv.conf); remove it and configure the " \
	"resolver there"
#define NO_HDR_MUT	"canaryd runs no header mutation filter; move the " \
	"mutations to request_headers_to_add / response_headers_to_add (and " \
	"_remove) of the route configuration, a virtual host or a route"
#define NO_RATELIMIT	"canaryd has no global rate limit service; remove " \
	"it and use the local_ratelimit filter (a route's or virtual host's " \
	"typed_per_filter_config gives it a bucket of its own)"
#define NO_FILTER_CFG	"canaryd's filters take their per-route " \
	"configuration from a route, a virtual host or the route " \
	"configuration; move it there"
#define NO_FILTER_ACTION "canaryd has no filter that answers as a " \
	"route; remove it and give the route a direct_response"
#define NO_GRPC		"canaryd does not speak gRPC; remove it"
#define NO_EXTENSION	"canaryd loads no extensions; remove it"

/*
 * envoy.config.core.v3.SocketAddress and Address, for the two targets that
 * hold one: struct cd_sockaddr_conf (listener, admin) and struct
 * cd_endpoint.  flags: more CF_ flags for the address (CF_POS); pos: its
 * f_pos.
 */
#define CONF_SOCKADDR_FIELDS(T, addr, port, flags, pos)			\
	{ "protocol", CK_ENUM, CF_NOSTORE, .f_enum = &conf_enum_protocol }, \
	{ "address", CK_STR, CF_REQUIRED | CF_NONEMPTY | (flags),	\
	    .f_max = CD_HOSTNAME_MAX - 1, .f_pos = (pos),		\
	    AT(T, addr) },						\
	/* No port 0: each worker's SO_REUSEPORT socket would get its	\
	 * own. */							\
	{ "port_value", CK_UINT, CF_REQUIRED, .f_min = 1, .f_max = 65535, \
	    AT(T, port) },						\
	{ "named_port", CK_REJECT, 0, .f_why = "named ports are "	\
	    "for dynamic resolvers; use port_value" },			\
	{ "resolver_name", CK_REJECT, 0, .f_why = NO_DNS_CONF },	\
	{ "ipv4_compat", CK_REJECT, 0, .f_why = "canaryd binds the "	\
	    "address as written; remove it (listen on 0.0.0.0 for IPv4)" }, \
	{ "network_namespace_filepath", CK_REJECT, 0, .f_why =		\
	    "canaryd binds in its own network namespace; remove it "	\
	    "and start canaryd in the namespace (ip netns exec)" },	\
	F_END
#define CONF_ADDRESS_FIELDS(sockaddr_msg)				\
	{ "socket_address", CK_MSG, CF_REQUIRED, .f_msg = (sockaddr_msg) }, \
	{ "pipe", CK_REJECT, 0, .f_why = "canaryd listens and "	\
	    "connects over TCP only; use socket_address" },		\
	{ "envoy_internal_address", CK_REJECT, 0, .f_why = "canaryd "	\
	    "has no internal listeners; use socket_address" },		\
	F_END

/* Messages and enums more than one file's tables name. */
extern const struct conf_field	conf_no_fields[];
extern const struct conf_enum	conf_enum_protocol;
extern const struct conf_msg	conf_msg_bootstrap;	/* conf_bootstrap.c */
extern const struct conf_msg	conf_msg_access_log;
extern const struct conf_msg	conf_msg_listener;	/* conf_listener.c */
extern const struct conf_msg	conf_msg_address;
extern const struct conf_msg	conf_msg_transport_socket;
extern const struct conf_msg	conf_msg_route_config;	/* conf_route.c */
extern const struct conf_msg	conf_msg_regex;	/* RegexMatcher, into a char * */
extern const struct conf_msg	conf_msg_cluster;	/* conf_cluster.c */
extern const struct conf_msg	conf_msg_canaryd;	/* conf_canary.c */
extern const struct conf_msg	conf_msg_hdr_add;	/* conf_header.c */
extern const struct conf_msg	conf_msg_regex_sub;	/* conf_rewrite.c */
extern const struct conf_msg	conf_msg_redirect;
extern const struct conf_msg	conf_msg_direct;
extern const struct conf_msg	conf_msg_layered_runtime;	/* conf_runtime.c */
extern const struct conf_msg	conf_msg_runtime_fraction;
extern const struct conf_msg	conf_msg_mirror;	/* conf_route.c */
extern const struct conf_msg	conf_msg_str_match;	/* into cd_str_match */
extern const struct conf_enum	conf_enum_denominator;	/* conf_runtime.c */
extern const struct conf_msg	conf_msg_lrl;	/* conf_filter.c */
extern const struct conf_msg	conf_msg_fault;
extern const struct conf_msg	conf_msg_cors_filter;
extern const struct conf_msg	conf_msg_cors_policy;
extern const struct conf_msg	conf_msg_compressor;
extern const struct conf_msg	conf_msg_compressor_route;

/*
 * The four header mutation lists of a message whose target T holds a
 * struct cd_hdr_mut m, each a row of its own (tables keep Envoy's field
 * order, which differs between messages).
 */
#define CONF_HDR_ADD(name, T, ops)					\
	{ name, CK_SEQ, 0, .f_msg = &conf_msg_hdr_add,			\
	    .f_items = CD_MAX_HDR_OPS, .f_why = "(CD_MAX_HDR_OPS)",	\
	    LIST(T, ops.ho_add, ops.ho_nadd, struct cd_hdr_add) }
#define CONF_HDR_REMOVE(name, T, ops)					\
	{ name, CK_FN, 0, .f_fn = conf_fn_hdr_remove,			\
	    .f_like = CK_STRSEQ, .f_items = CD_MAX_HDR_OPS,		\
	    .f_off = offsetof(T, ops) }

/* ---- YAML nodes ------------------------------------------------------- */

/* conf_yaml.c: buf's first YAML document into w_doc; its root, or NULL
 * after a diagnostic (a second document is refused).  conf_doc_free()
 * after, whatever it returned. */
yaml_node_t	*conf_doc_load(struct cw *, const char *buf, size_t len);
void		 conf_doc_free(struct cw *);

static inline yaml_node_t *
conf_node(struct cw *w, int idx)
{
	return yaml_document_get_node(&w->w_doc, idx);
}

static inline const char *
conf_sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static inline size_t
conf_slen(const yaml_node_t *n)
{
	return n->data.scalar.length;
}

static inline size_t
conf_seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
}

static inline yaml_node_t *
conf_seq_item(struct cw *w, const yaml_node_t *n, size_t i)
{
	return conf_node(w, n->data.sequence.items.start[i]);
}

/* ---- conf.c: the walker ----------------------------------------------- */

/*
 * Diagnostics.  conf_err() and conf_warn() report at node n about the
 * current path; conf_diag_at() at any place and path; conf_diag_new()
 * appends an empty one to a list.
 */
void	conf_diag_at(struct cw *, int warning, int line, int col,
	    const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
struct conf_diag *conf_diag_new(struct conf_diags *);
void	conf_err(struct cw *, const yaml_node_t *n, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	conf_warn(struct cw *, const yaml_node_t *n, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	conf_oom(struct cw *);

/* The path in messages ("static_resources.clusters[1].name"): each push
 * returns the length to pop back to. */
size_t	conf_path_push(struct cw *, const char *name);
size_t	conf_path_pushn(struct cw *, const char *name, size_t len);
size_t	conf_path_index(struct cw *, size_t i);
void	conf_path_pop(struct cw *, size_t len);
/* An error about field (under the current path), reported at node at. */
void	conf_field_err(struct cw *, const yaml_node_t *at, const char *field,
	    const char *msg);

int	conf_is_plain(const yaml_node_t *);
int	conf_is_null(const yaml_node_t *);
const char *conf_node_what(const yaml_node_t *, char *buf, size_t len);
int	conf_visit(struct cw *, const yaml_node_t *);
int	conf_want_scalar(struct cw *, yaml_node_t *, const char *what);
int	conf_want_seq(struct cw *, yaml_node_t *);
int	conf_map_collect(struct cw *, yaml_node_t *map, struct conf_pair *pv,
	    size_t *np, int merged, int depth);
yaml_node_t *conf_map_get(struct cw *, yaml_node_t *n, const char *key);
yaml_node_t *conf_map_val(struct cw *, yaml_node_t *n, const char *key);
yaml_node_t *conf_map_key(struct cw *, yaml_node_t *n, const char *key);
void	conf_pos_set(struct cw *, struct cd_pos *, const yaml_node_t *);

/* /config_dump JSON, rendered as the walk goes. */
void	conf_json_raw(struct cw *, const char *s);
void	conf_json_str(struct cw *, const char *s, size_t len);
void	conf_json_double(struct cw *, double d);
void	conf_json_yaml(struct cw *, yaml_node_t *, int depth);
int	conf_is_json_number(const char *s, size_t len);

/* The walk. */
void	conf_walk_msg(struct cw *, yaml_node_t *n, const struct conf_msg *,
	    void *base, const char *anytype);
void	conf_walk_field(struct cw *, const struct conf_field *,
	    yaml_node_t *k, yaml_node_t *v, void *base);
int	conf_walk_one(struct cw *, const struct conf_field *, yaml_node_t *v,
	    void *base, size_t size, const char *limit, size_t *span);
/* A scratch target of size bytes, zeroed, for values that are checked
 * but not kept (items past a limit, a duplicated key); NULL after an
 * out-of-memory error. */
void	*conf_scratch(struct cw *, size_t size);
/* The name closest to s among m's fields, or NULL when none is close. */
const char *conf_closest(const struct conf_msg *, const char *s, size_t len);
void	conf_walk_each(struct cw *, yaml_node_t *v, const struct conf_msg *,
	    void *base);
void	conf_msg_defaults(struct cw *, const struct conf_msg *, void *base);
/* m_done of a message whose target starts with a bool "was set" (a_set,
 * od_set, ...): sets it.  Users _Static_assert that it comes first. */
void	conf_done_present(struct cw *, yaml_node_t *, void *base,
	    uint64_t seen);
void	conf_ref_add(struct cw *, yaml_node_t *v, const char *name,
	    int *slot);
uint64_t conf_field_bit(const struct conf_msg *, const char *name);
void	conf_oneof_names(const struct conf_msg *, int group, char *buf,
	    size_t len);

/* ---- conf_scalar.c: values -------------------------------------------- */

void	conf_store_int(void *p, size_t size, int64_t v);
int	conf_get_int(struct cw *, yaml_node_t *, int64_t min, int64_t max,
	    int64_t *out);
int	conf_get_uint64(struct cw *, yaml_node_t *, uint64_t *out);
int	conf_get_bool(struct cw *, yaml_node_t *, bool *out);
int	conf_get_dur(struct cw *, yaml_node_t *, int64_t *ns);
int	conf_get_double(struct cw *, yaml_node_t *, double min, double max,
	    double *out);
int	conf_get_pct(struct cw *, yaml_node_t *, int64_t min, int64_t max,
	    double *out);
const struct conf_enum_val *conf_get_enum(struct cw *, yaml_node_t *,
	    const struct conf_enum *);
void	conf_enum_list(const struct conf_enum *, char *buf, size_t len);
char	*conf_get_str(struct cw *, yaml_node_t *, unsigned int flags,
	    int64_t max);
char	*conf_read_file(struct cw *, yaml_node_t *, size_t max, size_t *);
uint32_t conf_flags_parse(const struct conf_flag *, const char *s);

/* ---- conf_any.c: typed configs, refusals, typos ------------------------ */

/* The first "@type" of av canaryd takes ("" when none). */
const char *conf_any_want(const struct conf_any *av);
/* The entry of f's f_any that "@type" node t names, or NULL after an
 * error (a bad URL, or a type canaryd refuses, with its reason). */
const struct conf_any *conf_any_type(struct cw *, const struct conf_field *,
	    yaml_node_t *t);
/* Any field f is absent from message node n: say which "@type" to add,
 * or why the extension the "name" beside it names is refused. */
void	conf_any_missing(struct cw *, const struct conf_field *,
	    yaml_node_t *n);
/* Refuse CK_REJECT field f (key k, value v): f_why, or the reason of
 * the type its value names (f_any), per list item. */
void	conf_reject(struct cw *, const struct conf_field *, yaml_node_t *k,
	    yaml_node_t *v);

/* ---- the other files -------------------------------------------------- */

/*
 * conf_filter.c: the target an HttpFilter's typed_config (or one of a
 * typed_per_filter_config) is walked into; a filter's configuration
 * copied into the arena and noted in hf (a local_ratelimit with a bucket
 * numbered), false when out of memory or buckets; a typed_per_filter_config
 * map and a legacy cors field into the struct cd_hf at f_off; and what
 * applies on each route of listener l, once its manager is walked.
 */
struct conf_hf {
	int		 hf_router;	/* the router */
	int		 hf_kind;	/* CD_HF_*, or -1 */
	struct cd_lrl	 hf_lrl;
	struct cd_fault	 hf_fault;
	struct cd_cors	 hf_cors;
	struct cd_compressor hf_cmp;
};
bool	conf_hf_keep(struct cw *, const struct conf_hf *, struct cd_hf *hf);
conf_fn	conf_fn_per_filter;
/* Listeners by address as written, then port: <0, 0, >0. */
int	conf_listener_addr_cmp(const struct cd_listener *,
	    const struct cd_listener *);
conf_fn	conf_fn_cors_legacy;
void	conf_hf_resolve(struct cw *, yaml_node_t *n, struct cd_listener *l);

/* conf_listener.c: an UpgradeConfig's m_done (manager's and route's),
 * and the upgrade_configs list of message node n, each type once. */
void	conf_upgrade_done(struct cw *, yaml_node_t *, void *, uint64_t);
void	conf_upgrade_check(struct cw *, yaml_node_t *n,
	    const struct cd_upgrade *v, size_t nv);

/* conf_regex.c: compile text as a full-match POSIX ERE into re, freed
 * with the arena; errors name node n. */
int	conf_re_compile(struct cw *, yaml_node_t *n, regex_t *re,
	    const char *text, bool icase);
/* The same, unanchored and with its groups numbered as RE2 numbers them
 * (sub->rs_map), for a substitution; sets rs_set. */
int	conf_re_compile_sub(struct cw *, yaml_node_t *n,
	    struct cd_regex_sub *sub, const char *text);

/* conf_canary.c: metadata.filter_metadata, a map of namespaces whose
 * "canaryd" one is walked as f_msg; the clusters a weighted route's
 * "always" and "never" overrides pick (rt_canary_wc, rt_stable_wc). */
conf_fn	conf_fn_filter_metadata;

/* conf_header.c: a *_headers_to_remove list into the struct cd_hdr_ops
 * at f_off; each route's levels, most specific first, once the route
 * configuration l is walked. */
conf_fn	conf_fn_hdr_remove;
void	conf_hdr_levels(struct cd_listener *l);

/* conf_rewrite.c: text a header or a path will carry (no control bytes)
 * at node n, else an error; the route action's rewrites, checked once
 * it is walked (n: the RouteAction). */
bool	conf_text_ok(struct cw *, yaml_node_t *n, const char *s);
/* A DataSource's environment_variable node v: its value now (rendered),
 * or NULL after an error. */
const char *conf_get_env(struct cw *, yaml_node_t *v);
void	conf_rewrite_check(struct cw *, yaml_node_t *n, struct cd_route *);

#endif /* CANARYD_SHARED_CONF_INT_H */
