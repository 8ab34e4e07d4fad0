/*
 * Configuration types: the immutable tree the master builds from the Envoy
 * v3 YAML (shared/conf.c) and every worker inherits through fork(2).
 *
 * Invariant: once conf_load() returns, nothing here changes, except the
 * JSON of the weights a weight-only reload set (master/dumpweights.c);
 * the weights themselves the master keeps beside its copy
 * (master/fileweights.h), which stays as the workers inherited it.
 * Everything is
 * allocated from the arena owned by struct cd_conf and freed in one
 * conf_free().  Cross references are indices (cluster index, weighted
 * route index), never pointers into another section; which shared-memory
 * records those indices use is the master's placement (place-t.h), not
 * part of the configuration.
 *
 * Durations are kept in nanoseconds (int64_t), as Envoy's
 * google.protobuf.Duration is; code that arms timers converts with
 * CD_NS_TO_MS_CEIL().  A duration field that the user did not set holds
 * CD_DUR_UNSET.
 */
#ifndef CANARYD_SHARED_CONF_T_H
#define CANARYD_SHARED_CONF_T_H

#include <sys/types.h>

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alog-t.h"
#include "cidr-t.h"

/*
 * Capacities.  Listeners, clusters, hosts, weighted routes, the clusters
 * of one weighted_clusters and runtime fractions have none: the shm
 * segment is sized from the loaded configuration (shared/shm-t.h), and
 * the master checks at start that the listeners' sockets fit the file
 * descriptor limit.  These remain compile-time bounds.
 */
#define CD_MAX_WORKERS		64	/* worker processes at once */
/*
 * Hosts per cluster have no bound either: a STATIC cluster gets one host
 * record per endpoint, a STRICT_DNS one room for CD_DNS_HOSTS hosts or
 * one per endpoint if more; one DNS answer gives at most CD_DNS_ANSWER.
 */
#define CD_DNS_HOSTS		64	/* a STRICT_DNS cluster's host room */
#define CD_DNS_ANSWER		64	/* addresses used from one DNS name */
#define CD_NAME_MAX		128	/* cluster, route, vhost names incl. NUL */
#define CD_HOSTNAME_MAX		256	/* DNS names incl. NUL */
#define CD_MAX_ACCESS_LOGS	4	/* HCM access_log entries */
#define CD_ALOG_MAX_HDRS	16	/* headers access log formats name,
					 * request and response each */
#define CD_MAX_RUNTIME_LAYERS	8

#define CD_DUR_UNSET		((int64_t)-1)
#define CD_NS_PER_MS		1000000LL
#define CD_NS_PER_S		1000000000LL
#define CD_NS_TO_MS_CEIL(ns)	(((ns) + CD_NS_PER_MS - 1) / CD_NS_PER_MS)

/* Where a value came from, for error messages and warnings. */
struct cd_pos {
	const char	*p_file;	/* conf's copy of the path */
	int		 p_line;	/* 1-based */
	int		 p_col;		/* 1-based */
};

/*
 * An access logger: the file it writes (FileAccessLog's path;
 * "/dev/stdout" or "/dev/stderr" for the stream loggers) and its line
 * layout (NULL: Envoy's default line).
 */
struct cd_alog {
	char			*al_path;	/* first: the loggers write it */
	struct alog_layout	*al_layout;
};

/* ---- header mutations ------------------------------------------------ */

#define CD_MAX_HDR_OPS		32	/* adds, and removes, per list */

/* HeaderValueOption.append_action (the deprecated append: true is
 * APPEND_IF_EXISTS_OR_ADD, false OVERWRITE_IF_EXISTS_OR_ADD) */
enum cd_hdr_action {
	CD_HA_APPEND,		/* APPEND_IF_EXISTS_OR_ADD (default) */
	CD_HA_ADD_IF_ABSENT,
	CD_HA_OVERWRITE_OR_ADD,	/* OVERWRITE_IF_EXISTS_OR_ADD */
	CD_HA_OVERWRITE,	/* OVERWRITE_IF_EXISTS */
};

/* envoy.config.core.v3.HeaderValueOption */
struct cd_hdr_add {
	char			*ha_name;	/* lower case */
	size_t			 ha_nlen;
	char			*ha_value;	/* as written */
	struct alog_fmt		 ha_fmt;	/* ha_value compiled */
	bool			 ha_append;	/* the deprecated append */
	int			 ha_action;	/* enum cd_hdr_action */
	bool			 ha_keep_empty;	/* keep_empty_value */
};

/* One list pair: *_headers_to_add and *_headers_to_remove. */
struct cd_hdr_ops {
	struct cd_hdr_add	*ho_add;
	size_t			 ho_nadd;
	char			**ho_remove;	/* lower case */
	size_t			 ho_nremove;
};

/* The request and response mutations of one level (route
 * configuration, virtual host, route or weighted cluster). */
struct cd_hdr_mut {
	struct cd_hdr_ops	 hm_req;
	struct cd_hdr_ops	 hm_resp;
};

/* ---- routes ---------------------------------------------------------- */

enum cd_str_match_kind {
	CD_SM_EXACT,
	CD_SM_PREFIX,
	CD_SM_SUFFIX,
	CD_SM_CONTAINS,
	CD_SM_REGEX,		/* safe_regex: POSIX ERE, full match */
};

/* envoy.type.matcher.v3.StringMatcher */
struct cd_str_match {
	enum cd_str_match_kind	 sm_kind;
	char			*sm_value;	/* NUL-terminated */
	size_t			 sm_len;
	bool			 sm_ignore_case;
	regex_t			 sm_re;		/* CD_SM_REGEX only, anchored */
};

enum cd_header_match_kind {
	CD_HM_STRING,		/* string_match (or deprecated exact_match ...) */
	CD_HM_PRESENT,		/* present_match */
	CD_HM_RANGE,		/* range_match [start, end) */
};

/* envoy.config.route.v3.HeaderMatcher */
struct cd_header_match {
	char			*hm_name;	/* lower case; "host" for :authority */
	size_t			 hm_name_len;
	enum cd_header_match_kind hm_kind;
	struct cd_str_match	 hm_str;	/* CD_HM_STRING */
	bool			 hm_present;	/* CD_HM_PRESENT: wanted value */
	int64_t			 hm_range_start;/* CD_HM_RANGE */
	int64_t			 hm_range_end;
	bool			 hm_invert;
	bool			 hm_missing_as_empty;	/* treat_missing_header_as_empty */
};

/* envoy.config.route.v3.QueryParameterMatcher */
struct cd_query_match {
	char			*qm_name;
	bool			 qm_present;	/* present_match */
	struct cd_str_match	 qm_str;	/* used when !qm_present */
};

enum cd_path_match_kind {
	CD_PM_PREFIX,		/* prefix: raw :path incl. query */
	CD_PM_PATH,		/* path: exact, query removed */
	CD_PM_REGEX,		/* safe_regex: full match, query removed */
	CD_PM_SEP_PREFIX,	/* path_separated_prefix */
};

/*
 * match.runtime_fraction: the route matches a request when its random
 * draw modulo rf_denominator is below rf_numerator -- the default, or
 * the runtime key's value, which the master publishes in shm slot
 * rf_index (through the placement).
 */
struct cd_fraction {
	bool			 rf_set;
	uint32_t		 rf_numerator;
	uint32_t		 rf_denominator;	/* 100, 10000 or 1000000 */
	char			*rf_key;	/* runtime_key, or NULL */
	int			 rf_index;	/* among the routes that have one */
};

struct cd_route_match {
	enum cd_path_match_kind	 rm_kind;
	char			*rm_value;	/* prefix / path / regex text */
	size_t			 rm_len;
	regex_t			 rm_re;		/* CD_PM_REGEX only, anchored */
	bool			 rm_case_sensitive;	/* default true */
	struct cd_header_match	*rm_headers;
	size_t			 rm_nheaders;
	struct cd_query_match	*rm_query;
	size_t			 rm_nquery;
	struct cd_fraction	 rm_fraction;	/* runtime_fraction */
};

/* retry_on tokens, as a bit set (canaryd-envoy(7), RETRIES). */
#define CD_RETRY_5XX			0x0001
#define CD_RETRY_GATEWAY_ERROR		0x0002
#define CD_RETRY_RESET			0x0004
#define CD_RETRY_CONNECT_FAILURE	0x0008
#define CD_RETRY_RETRIABLE_4XX		0x0010
#define CD_RETRY_REFUSED_STREAM		0x0020
#define CD_RETRY_RETRIABLE_CODES	0x0040
#define CD_RETRY_RESET_BEFORE_REQUEST	0x0080
#define CD_RETRY_ENVOY_RATELIMITED	0x0100

#define CD_MAX_RETRIABLE_CODES		16

/* envoy.config.route.v3.RetryPolicy */
struct cd_retry_policy {
	bool		 rp_set;		/* a policy was configured */
	uint32_t	 rp_retry_on;		/* CD_RETRY_* */
	uint32_t	 rp_num_retries;	/* default 1 */
	int64_t		 rp_per_try_timeout;	/* ns; CD_DUR_UNSET = off */
	int64_t		 rp_backoff_base;	/* ns; default 25 ms */
	int64_t		 rp_backoff_max;	/* ns; default 10 x base */
	uint16_t	 rp_codes[CD_MAX_RETRIABLE_CODES];	/* retriable_status_codes */
	size_t		 rp_ncodes;
};

/* canaryd extension: route metadata.filter_metadata.canaryd.split */
enum cd_split_mode {
	CD_SPLIT_EXACT,		/* default: one shm counter, exact per period */
	CD_SPLIT_RANDOM,	/* Envoy's per-request random pick */
};

/*
 * canaryd extension: metadata.filter_metadata.canaryd.sticky.  A request
 * carrying the key (cookie or header, exactly one) is placed by a seeded
 * weighted rendezvous hash of the key, so the same key keeps its cluster
 * and a weight change moves only the keys that must move.
 */
struct cd_sticky {
	bool		 st_set;
	char		*st_cookie;	/* cookie name, or NULL */
	char		*st_header;	/* header name, lower case, or NULL */
	bool		 st_set_cookie;	/* set st_cookie when the request had none */
	uint64_t	 st_seed;	/* sticky.seed, else a hash of the route */
};

#define CD_MAX_ROLLOUT_STEPS	16

/* canaryd extension: metadata.filter_metadata.canaryd.rollout */
struct cd_rollout {
	bool		 ro_set;
	int		 ro_canary;	/* index into the route's rt_wc */
	int		 ro_stable;	/* index into the route's rt_wc */
	uint8_t		 ro_steps[CD_MAX_ROLLOUT_STEPS];	/* percent, rising */
	size_t		 ro_nsteps;
	int64_t		 ro_step_interval;	/* ns; default 60 s */
	int64_t		 ro_window;		/* ns; default 30 s */
	uint32_t	 ro_min_requests;	/* per cluster in the window, 200 */
	double		 ro_max_error_rate_delta;	/* 0.01 */
	double		 ro_max_p99_ratio;	/* 1.5 */
};

#define CD_RE_MAX_GROUPS	32	/* groups of a substitution's regex */

/*
 * envoy.type.matcher.v3.RegexMatchAndSubstitute: every match of the
 * pattern (unanchored, POSIX ERE) replaced by the substitution, where
 * \0..\9 are RE2's groups: rs_map gives each its group in rs_re.
 */
struct cd_regex_sub {
	bool		 rs_set;
	regex_t		 rs_re;
	char		*rs_pattern;
	char		*rs_subst;
	uint8_t		 rs_map[10];	/* RE2 group k -> rs_re group */
	uint8_t		 rs_ngroups;	/* RE2's capturing groups (<= 9) */
};

/* A route's rewrites of the upstream request (RouteAction). */
struct cd_rewrite {
	char		*rw_prefix;	/* prefix_rewrite, or NULL */
	size_t		 rw_prefix_len;
	struct cd_regex_sub rw_regex;	/* regex_rewrite */
	char		*rw_host;	/* host_rewrite_literal, or NULL */
	bool		 rw_auto_host;	/* auto_host_rewrite */
	char		*rw_host_header;	/* host_rewrite_header, lower */
	struct cd_regex_sub rw_host_regex;	/* host_rewrite_path_regex */
	bool		 rw_append_xfh;	/* append_x_forwarded_host */
};

/* envoy.config.route.v3.RedirectAction */
struct cd_redirect {
	char		*rd_scheme;	/* scheme_redirect ("https" for
					 * https_redirect), or NULL */
	bool		 rd_https;	/* https_redirect */
	char		*rd_host;	/* host_redirect, or NULL */
	uint32_t	 rd_port;	/* port_redirect, 0: none */
	char		*rd_path;	/* path_redirect, or NULL */
	char		*rd_prefix;	/* prefix_rewrite, or NULL */
	size_t		 rd_prefix_len;
	struct cd_regex_sub rd_regex;	/* regex_rewrite */
	uint16_t	 rd_code;	/* response_code: 301 */
	bool		 rd_strip_query;
};

struct cd_weighted_cluster {
	char		*wc_name;
	int		 wc_cluster;	/* index into cd_conf.c_clusters */
	uint32_t	 wc_weight;
	struct cd_hdr_mut wc_hdrs;	/* applied before the route's */
	char		*wc_host;	/* host_rewrite_literal, or NULL */
	char		*wc_runtime_key;	/* <runtime_key_prefix>.<name>,
						 * or NULL */
};

enum cd_route_action {
	CD_RA_CLUSTER,		/* route.cluster */
	CD_RA_WEIGHTED,		/* route.weighted_clusters */
	CD_RA_DIRECT,		/* direct_response */
	CD_RA_REDIRECT,		/* redirect */
};

/* route.hash_policy: what a hashing load balancer hashes (Envoy's
 * order: each policy that yields a value is mixed in; a terminal one
 * that does ends the list) */
enum cd_hash_kind {
	CD_HASH_HEADER = 1,	/* a request header's value */
	CD_HASH_COOKIE,		/* a cookie's value */
	CD_HASH_SOURCE_IP,	/* the client's address */
	CD_HASH_QUERY,		/* a query parameter's value */
};

struct cd_hash_policy {
	uint8_t		 hp_kind;	/* enum cd_hash_kind */
	bool		 hp_terminal;
	bool		 hp_source_ip;	/* connection_properties.source_ip */
	char		*hp_name;	/* header (lower case), cookie, param */
};

#define CD_MAX_HASH_POLICIES	8

/*
 * RouteAction.RequestMirrorPolicy: a share of the route's requests is
 * also sent to mp_cluster, its answer discarded (worker/shadow.h).
 */
#define CD_MAX_MIRRORS		4	/* policies per route */

struct cd_mirror {
	int			 mp_cluster;
	struct cd_fraction	 mp_fraction;	/* !rf_set: every request */
	bool			 mp_no_suffix;	/* host without "-shadow" */
	char			*mp_host;	/* host_rewrite_literal, or NULL */
};

/*
 * upgrade_configs of the HTTP connection manager and of a route: an
 * upgrade_type (Upgrade header value, matched ignoring case) and whether
 * it is allowed.  A route's entry overrides the manager's for that type;
 * a type neither lists is refused (403).
 */
struct cd_upgrade {
	char		*ug_type;
	bool		 ug_enabled;	/* true */
};

#define CD_MAX_UPGRADES		8

/* ---- HTTP filters before the router (canaryd.yaml(5), HTTP FILTERS) -- */

/* A share of requests: numerator out of denominator (100, 10000 or
 * 1000000), as envoy.type.v3.FractionalPercent says it. */
struct cd_pct {
	uint32_t	 pc_num;
	uint32_t	 pc_den;
};

/* envoy.type.v3.TokenBucket */
struct cd_token_bucket {
	uint32_t	 tb_max_tokens;
	uint32_t	 tb_tokens_per_fill;	/* 1 */
	int64_t		 tb_fill_interval;	/* ns, >= 50 ms */
};

/* envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit */
struct cd_lrl {
	char			*lr_stat_prefix;
	bool			 lr_has_bucket;	/* token_bucket was given */
	struct cd_token_bucket	 lr_tb;
	struct cd_pct		 lr_enabled;	/* filter_enabled: 0 % unset */
	struct cd_pct		 lr_enforced;	/* filter_enforced: 0 % unset */
	uint16_t		 lr_status;	/* 429 */
	struct cd_hdr_ops	 lr_resp;	/* response_headers_to_add */
	int			 lr_index;	/* bucket among the config's */
};

/* envoy.extensions.filters.http.fault.v3.HTTPFault */
struct cd_fault {
	bool		 ft_abort;	/* abort was given */
	uint16_t	 ft_abort_status;	/* http_status, 0: header_abort */
	struct cd_pct	 ft_abort_pct;
	bool		 ft_delay;	/* delay was given */
	int64_t		 ft_delay_ns;	/* fixed_delay, -1: header_delay */
	struct cd_pct	 ft_delay_pct;
	bool		 ft_has_max;	/* max_active_faults was given */
	uint32_t	 ft_max_active;	/* max_active_faults */
};

/* envoy.extensions.filters.http.cors.v3.CorsPolicy (and the route's
 * legacy cors field) */
struct cd_cors {
	struct cd_str_match	*co_origins;	/* allow_origin_string_match */
	size_t			 co_norigins;
	char			*co_methods;	/* allow_methods, or NULL */
	char			*co_headers;	/* allow_headers */
	char			*co_expose;	/* expose_headers */
	char			*co_max_age;	/* max_age */
	bool			 co_credentials;	/* allow_credentials */
	struct cd_pct		 co_enabled;	/* filter_enabled: 100 % */
	struct cd_pct		 co_shadow;	/* shadow_enabled: 0 % */
	bool			 co_forward_preflights;	/* forward_not_matching_
							 * preflights: true */
};

#define CD_MAX_CTYPES		32	/* compressor content_type entries */

/* envoy.extensions.filters.http.compressor.v3.Compressor with the gzip
 * library (response direction only) */
struct cd_compressor {
	char		*cp_name;	/* compressor_library.name */
	int		 cp_level;	/* zlib's 1..9; 6 */
	uint32_t	 cp_mem_level;	/* 1..9; 5 */
	uint32_t	 cp_window_bits;	/* 9..15; 12 */
	int		 cp_strategy;	/* zlib's Z_* strategy; 0 */
	uint32_t	 cp_chunk_size;	/* 4096..65536; 4096 */
	uint32_t	 cp_min_length;	/* min_content_length; 30 */
	char		*cp_ctypes[CD_MAX_CTYPES];	/* lower case; none:
							 * Envoy's list */
	size_t		 cp_nctypes;
	bool		 cp_enabled;	/* common_config.enabled; true */
	bool		 cp_disable_on_etag;
	bool		 cp_remove_accept_encoding;
	bool		 cp_route_off;	/* a route's CompressorPerRoute
					 * disabled: true */
};

/* The filters, in the order a chain may hold them. */
enum cd_hf_kind {
	CD_HF_CORS,
	CD_HF_FAULT,
	CD_HF_LRL,
	CD_HF_COMPRESSOR,
	CD_HF__N
};

/*
 * The configuration each filter has for a request: at one level (route,
 * virtual host, route configuration: typed_per_filter_config; or the
 * filter's own in http_filters), then, once loaded, what applies on a
 * route -- the most specific level's, and none for a filter the chain
 * does not hold.  hf_on has bit 1 << CD_HF_* for each filter that has
 * something to do.
 */
struct cd_hf {
	unsigned int		 hf_on;
	const struct cd_cors	*hf_cors;
	const struct cd_fault	*hf_fault;
	const struct cd_lrl	*hf_lrl;
	const struct cd_compressor *hf_cmp;
};

struct cd_route {
	char			*rt_name;	/* may be NULL */
	struct cd_pos		 rt_pos;
	struct cd_route_match	 rt_match;
	enum cd_route_action	 rt_action;

	int			 rt_cluster;	/* CD_RA_CLUSTER */
	/* request_mirror_policies: the route's, else its virtual host's,
	 * else the route configuration's (the most specific non-empty) */
	struct cd_mirror	*rt_mirror;
	size_t			 rt_nmirror;

	struct cd_weighted_cluster *rt_wc;	/* CD_RA_WEIGHTED */
	size_t			 rt_nwc;
	uint64_t		 rt_total_weight;	/* sum of weights (> 0) */
	char			*rt_runtime_prefix;	/* runtime_key_prefix */
	int			 rt_wi;		/* index among the weighted routes */
	enum cd_split_mode	 rt_split_mode;
	/* canaryd extensions (route metadata.filter_metadata.canaryd) */
	struct cd_sticky	 rt_sticky;
	char			*rt_override_header;	/* lower case, or NULL */
	char			*rt_override_cookie;	/* or NULL */
	int			 rt_canary_wc;	/* rt_wc index "always" picks */
	int			 rt_stable_wc;	/* rt_wc index "never" picks */
	int			 rt_fallback;	/* cluster index, -1 = none */
	struct cd_rollout	 rt_rollout;

	struct cd_rewrite	 rt_rw;		/* the upstream request's */
	struct cd_redirect	 rt_redir;	/* CD_RA_REDIRECT */

	uint16_t		 rt_direct_status;	/* CD_RA_DIRECT */
	char			*rt_direct_body;	/* may be NULL */
	size_t			 rt_direct_body_len;

	int64_t			 rt_timeout;	/* ns; default 15 s; 0 = off */
	int64_t			 rt_idle_timeout;	/* ns; CD_DUR_UNSET */
	struct cd_retry_policy	 rt_retry;	/* route's, else vhost's */
	uint16_t		 rt_cluster_not_found_code;	/* 503 */
	struct cd_hash_policy	 rt_hash[CD_MAX_HASH_POLICIES];
	size_t			 rt_nhash;
	struct cd_upgrade	 rt_upgrades[CD_MAX_UPGRADES];
	size_t			 rt_nupgrades;

	struct cd_hdr_mut	 rt_hdrs;
	/*
	 * Every header mutation a request on this route meets, most
	 * specific first (route, virtual host, route configuration; the
	 * weighted cluster's come before them, from rt_wc), set by the
	 * loader at the end; rt_hm_flags says whether there are any.
	 */
	const struct cd_hdr_mut	*rt_hm_levels[3];
	unsigned int		 rt_hm_flags;	/* CD_RT_HM_* */
	unsigned int		 rt_hm_needs;	/* ALOG_N_* of their formats */
	/* the HTTP filters' configurations on this route: its own
	 * typed_per_filter_config (and cors) while loading, then what
	 * applies (struct cd_hf, shared by routes that resolve alike);
	 * NULL: none (no filter has anything to do here) */
	struct cd_hf		*rt_hf;
};

/* rt_hm_flags */
#define CD_RT_HM_REQ		0x1	/* some level mutates the request */
#define CD_RT_HM_RESP		0x2	/* ... the response */
#define CD_RT_HM_WC		0x4	/* a weighted cluster has its own */
#define CD_RT_HM_REWRITE	0x8	/* the route (or a weighted cluster)
					 * rewrites the path or Host */

struct cd_vhost {
	char			*vh_name;
	char			**vh_domains;	/* lower case, as written */
	size_t			 vh_ndomains;
	struct cd_route		*vh_routes;
	size_t			 vh_nroutes;
	struct cd_retry_policy	 vh_retry;
	struct cd_mirror	*vh_mirror;
	size_t			 vh_nmirror;
	struct cd_hdr_mut	 vh_hdrs;
	struct cd_hf		*vh_hf;	/* typed_per_filter_config, cors;
					 * or NULL */
};

/* ---- listener / HTTP connection manager ------------------------------ */

struct cd_sockaddr_conf {
	char		*sa_address;	/* as written: "0.0.0.0", "::1", "localhost" */
	uint16_t	 sa_port;
};

/* common_http_protocol_options.headers_with_underscores_action */
enum cd_underscores_action {
	CD_US_ALLOW,		/* default */
	CD_US_REJECT_REQUEST,	/* 400 */
	CD_US_DROP_HEADER,
};

struct cd_listener {
	char			*l_name;	/* NULL only when it is alone */
	int			 l_index;	/* in cd_conf.c_listeners */
	struct cd_sockaddr_conf	 l_addr;
	uint32_t		 l_buffer_limit;	/* per_connection_buffer_limit_bytes, 1 MiB */
	/* metadata.filter_metadata.canaryd: 0 = no cap but the fd limit */
	uint32_t		 l_max_connections_per_worker;

	/* HttpConnectionManager */
	char			*l_stat_prefix;	/* "ingress" */
	char			*l_route_config_name;	/* may be NULL */
	struct cd_vhost		*l_vhosts;
	size_t			 l_nvhosts;
	struct cd_hdr_mut	 l_hdrs;	/* the route configuration's */
	struct cd_mirror	*l_mirror;	/* request_mirror_policies */
	size_t			 l_nmirror;
	bool			 l_most_specific_hdrs;	/* most_specific_header_
							 * mutations_wins */
	char			*l_server_name;	/* default "canaryd" */
	uint32_t		 l_max_request_headers_kb;	/* 60 */
	uint32_t		 l_max_headers_count;	/* 100 */
	int64_t			 l_idle_timeout;	/* ns; 1 h; 0 = off */
	/* common_http_protocol_options: requests a client connection
	 * carries, the last answered with connection: close; 0 = no limit */
	uint32_t		 l_max_requests_per_connection;
	int64_t			 l_stream_idle_timeout;	/* ns; 5 min; 0 = off */
	int64_t			 l_request_timeout;	/* ns; 0 = off */
	int64_t			 l_request_headers_timeout;	/* ns; 0 = off */
	int64_t			 l_drain_timeout;	/* ns; 5 s */
	bool			 l_generate_request_id;	/* true */
	bool			 l_use_remote_address;	/* false */
	bool			 l_skip_xff_append;	/* false */
	bool			 l_always_set_request_id_in_response;
	bool			 l_accept_http_10;	/* false */
	char			*l_default_host_http10;	/* or NULL */
	bool			 l_ignore_port_in_host_matching;
	bool			 l_strip_any_host_port;
	enum cd_underscores_action l_headers_with_underscores;	/* ALLOW */
	/* upgrade_configs: the types a route may switch to (WebSocket) */
	struct cd_upgrade	 l_upgrades[CD_MAX_UPGRADES];
	size_t			 l_nupgrades;
	/*
	 * access_log: one entry per logger, in file order; none: no access
	 * log at all.  The headers their formats read besides those the
	 * default line has (lower case): a worker keeps their values for
	 * the line, written when the request ends.
	 */
	struct cd_alog		 l_access_logs[CD_MAX_ACCESS_LOGS];
	/* http_filters before the router: each filter's own configuration
	 * (l_hf), their order in the chain (CD_HF_*), and the route
	 * configuration's typed_per_filter_config (l_rc_hf) */
	struct cd_hf		 l_hf;
	uint8_t			 l_hf_order[CD_HF__N];
	size_t			 l_nhf;
	struct cd_hf		*l_rc_hf;	/* or NULL */
	size_t			 l_naccess_logs;
	const char		*l_alog_req[CD_ALOG_MAX_HDRS];
	size_t			 l_alog_nreq;
	const char		*l_alog_resp[CD_ALOG_MAX_HDRS];
	size_t			 l_alog_nresp;
	/* /config_dump: the Listener and its RouteConfiguration */
	char			*l_json;
	char			*l_json_routes;
	/* the listeners whose managers have this one's stat_prefix share
	 * its http.<prefix>.* stats, as in Envoy: 1 + the index of the next
	 * of them in file order, 0 for none; l_prefix_later: an earlier one
	 * has the prefix (zeroed: a listener alone with its prefix) */
	uint32_t		 l_prefix_next;
	bool			 l_prefix_later;
};

/* ---- clusters --------------------------------------------------------- */

enum cd_cluster_type {
	CD_CT_STATIC,
	CD_CT_STRICT_DNS,
	CD_CT_LOGICAL_DNS,	/* one endpoint, its first address at a time */
};

enum cd_lb_policy {
	CD_LB_ROUND_ROBIN,
	CD_LB_RANDOM,
	CD_LB_LEAST_REQUEST,	/* the fewest active requests of a few drawn */
	CD_LB_RING_HASH,	/* consistent hashing of the route's hash_policy */
	CD_LB_MAGLEV,
};

/* dns_lookup_family; AUTO: IPv6 if the name has one, else IPv4 (Envoy);
 * canaryd's default is V4_PREFERRED (canaryd-envoy(7), CONFIGURATION) */
enum cd_dns_family {
	CD_DNS_AUTO,
	CD_DNS_V4_ONLY,
	CD_DNS_V6_ONLY,
	CD_DNS_V4_PREFERRED,
	CD_DNS_ALL,
};

struct cd_endpoint {
	char		*ep_address;	/* IP literal (STATIC) or DNS name */
	uint16_t	 ep_port;
	uint32_t	 ep_weight;	/* load_balancing_weight, default 1 */
	char		*ep_hostname;	/* endpoint.hostname, may be NULL */
	struct cd_pos	 ep_pos;
};

enum cd_priority {
	CD_PRIO_DEFAULT,
	CD_PRIO_HIGH,
	CD_NPRIO
};

struct cd_thresholds {
	uint32_t	 th_max_connections;	/* 1024 */
	uint32_t	 th_max_pending_requests;	/* 1024 */
	uint32_t	 th_max_requests;	/* 1024 */
	uint32_t	 th_max_retries;	/* 3 */
	bool		 th_track_remaining;
};

/* expected_statuses: half-open ranges [start, end) */
struct cd_status_range {
	uint16_t	 sr_start;
	uint16_t	 sr_end;
};

#define CD_MAX_STATUS_RANGES	8

struct cd_health_check {
	int64_t		 hc_timeout;		/* ns, required */
	int64_t		 hc_interval;		/* ns, required */
	int64_t		 hc_initial_jitter;	/* ns, 0 */
	int64_t		 hc_interval_jitter;	/* ns, 0 */
	uint32_t	 hc_interval_jitter_percent;
	uint32_t	 hc_unhealthy_threshold;
	uint32_t	 hc_healthy_threshold;
	int64_t		 hc_no_traffic_interval;	/* ns; CD_DUR_UNSET unless set */
	int64_t		 hc_no_traffic_healthy_interval;
	int64_t		 hc_unhealthy_interval;	/* ns; default = interval */
	int64_t		 hc_unhealthy_edge_interval;	/* default = unhealthy_interval */
	int64_t		 hc_healthy_edge_interval;	/* default = interval */
	bool		 hc_reuse_connection;	/* true */
	char		*hc_path;
	char		*hc_host;		/* NULL: the cluster name */
	char		*hc_method;		/* "GET" */
	struct cd_status_range hc_expected[CD_MAX_STATUS_RANGES];
	size_t		 hc_nexpected;		/* 0: exactly 200 */
	struct cd_pos	 hc_pos;
};

struct cd_outlier {
	bool		 od_set;
	uint32_t	 od_consecutive_5xx;	/* 5 */
	uint32_t	 od_consecutive_gateway_failure;	/* 5 */
	uint32_t	 od_enforcing_consecutive_5xx;	/* 100 */
	uint32_t	 od_enforcing_consecutive_gateway_failure;	/* 0 */
	int64_t		 od_interval;		/* 10 s */
	int64_t		 od_base_ejection_time;	/* 30 s */
	int64_t		 od_max_ejection_time;	/* 300 s */
	uint32_t	 od_max_ejection_percent;	/* 10 */
};

struct cd_cluster {
	char			*cl_name;
	char			*cl_stat_name;	/* name with ':' -> '_' */
	char			*cl_alt_stat_name;	/* may be NULL */
	struct cd_pos		 cl_pos;
	enum cd_cluster_type	 cl_type;
	enum cd_lb_policy	 cl_lb;
	int64_t			 cl_connect_timeout;	/* ns; 5 s */
	int64_t			 cl_dns_refresh_rate;	/* ns; 5 s */
	enum cd_dns_family	 cl_dns_lookup_family;	/* AUTO */
	uint32_t		 cl_buffer_limit;	/* 1 MiB */
	uint32_t		 cl_panic_threshold;	/* percent, 50 */
	int64_t			 cl_idle_timeout;	/* upstream conn idle, 1 h */
	/* requests an upstream connection carries before it is closed
	 * instead of pooled; 0 = no limit */
	uint32_t		 cl_max_requests_per_connection;
	uint32_t		 cl_lr_choices;	/* LEAST_REQUEST choice_count, 2 */
	uint64_t		 cl_ring_min;	/* RING_HASH ring entries, 1024 */
	uint64_t		 cl_ring_max;	/* 8M */
	uint64_t		 cl_maglev_size;	/* MAGLEV table, prime, 65537 */
	char			*cl_lb_cluster_name;	/* load_assignment.cluster_name */
	struct cd_endpoint	*cl_endpoints;
	size_t			 cl_nendpoints;
	struct cd_thresholds	 cl_thresholds[CD_NPRIO];
	struct cd_health_check	*cl_hc;		/* NULL or one check */
	struct cd_outlier	 cl_outlier;
};

struct cd_admin {
	bool			 a_set;
	struct cd_sockaddr_conf	 a_addr;
	struct cd_alog		 a_log;		/* al_path may be NULL */
};

/* ---- runtime ----------------------------------------------------------- */

/* One key of a static layer, its value as Envoy keeps it (text). */
struct cd_rt_entry {
	char		*re_key;	/* dotted: "routing.traffic_split.v1" */
	char		*re_value;
	struct cd_pos	 re_pos;	/* of the value */
};

enum cd_rt_layer_kind {
	CD_RTL_STATIC,
	CD_RTL_ADMIN,		/* values from POST /runtime_modify */
};

/* envoy.config.bootstrap.v3.RuntimeLayer */
struct cd_rt_layer {
	char			*ly_name;
	int			 ly_kind;	/* enum cd_rt_layer_kind */
	struct cd_rt_entry	*ly_entries;	/* static: sorted by key */
	size_t			 ly_n;
};

/* envoy.config.bootstrap.v3.LayeredRuntime: later layers win. */
struct cd_runtime {
	bool			 rn_set;
	struct cd_rt_layer	*rn_layers;
	size_t			 rn_nlayers;
	int			 rn_admin;	/* the admin layer, -1: none */
};

/* ---- node ------------------------------------------------------------ */

#define CD_MAX_ADMIN_ALLOW	32

/* node.metadata.canaryd.admin: who may use the admin interface */
struct cd_admin_acl {
	bool		 aa_set;
	struct cd_cidr	 aa_allow[CD_MAX_ADMIN_ALLOW];	/* clients allowed */
	size_t		 aa_nallow;	/* 0: the list was not given */
	char		*aa_token_file;	/* bearer token file, or NULL */
	struct cd_pos	 aa_token_pos;
};

#define CD_MAX_ETCD		8

/* node.metadata.canaryd.fleet: the canaryd fleet this node belongs to */
struct cd_fleet {
	bool		 fl_set;
	char		*fl_etcd[CD_MAX_ETCD];	/* "http://host:port" */
	size_t		 fl_netcd;
	char		*fl_prefix;		/* "/canaryd/<fleet>" */
	int64_t		 fl_lease_ttl;		/* ns; 5 s, at least 2 s */
	int64_t		 fl_report_interval;	/* ns; 1 s */
	char		*fl_state_dir;		/* "/var/lib/canaryd" */
	/* ns; too little traffic this long pauses a step; 0: five of the
	 * route's step_interval, at least 60 s */
	int64_t		 fl_traffic_wait;
};

/* envoy.config.core.v3.Node: who this canaryd is */
struct cd_node {
	char		*n_id;		/* may be NULL */
	char		*n_cluster;	/* may be NULL */
	char		*n_region;	/* locality, each may be NULL */
	char		*n_zone;
	char		*n_sub_zone;
	struct cd_admin_acl n_admin;
	struct cd_fleet	 n_fleet;
};

struct cd_arena;

/*
 * Where a weighted cluster's weight is written in the file: bytes
 * [ws_off, ws_off + ws_len) of c_src, a plain decimal scalar, the weight
 * of ws_rt's rt_wc[ws_k].  The master's weight-only reload compares a
 * new file with c_src and, when only such spans changed, sets the new
 * weights without parsing the file again (master/reload_fast.c).
 */
struct cd_wspan {
	size_t			 ws_off;
	size_t			 ws_len;
	struct cd_route		*ws_rt;
	uint32_t		 ws_k;
};

/*
 * The whole configuration.  c_json_* are the config as Envoy's
 * /config_dump prints it (proto JSON, snake_case, defaults omitted,
 * durations normalised), rendered once by the loader; in the master,
 * after a weight-only reload set weights in place, the weights in them
 * are brought up to date by mst_dumpw_fresh() (master/dumpweights.h),
 * which a reader calls first.
 */
struct cd_conf {
	char			*c_path;
	/* static_resources.listeners, in file order: at least one, unique
	 * names and addresses; c_listener is the first */
	struct cd_listener	*c_listeners;
	size_t			 c_nlisteners;
	struct cd_listener	*c_listener;
	struct cd_cluster	*c_clusters;
	size_t			 c_nclusters;
	/* listener indices by name (the named ones), for
	 * conf_listener_index(), and by address, for conf_listener_at() */
	int			*c_lsn_by_name;
	size_t			 c_nlsn_named;
	int			*c_lsn_by_addr;	/* c_nlisteners */
	int			*c_by_name;	/* cluster indices by name
						 * (named ones), or NULL */
	size_t			 c_nnamed;
	size_t			 c_nweighted;	/* routes with weighted_clusters */
	size_t			 c_nfractions;	/* routes with runtime_fraction */
	/* local_ratelimit token buckets (cd_lrl.lr_index): each one's
	 * configuration, in shm at the placement's pl_ratelimit[] */
	const struct cd_lrl	**c_lrl;
	size_t			 c_nlrl;
	struct cd_runtime	 c_runtime;	/* layered_runtime */
	struct cd_admin		 c_admin;
	struct cd_node		 c_node;

	char			*c_json_bootstrap;	/* {"static_resources":...,"admin":...} */
	char			*c_json_listener;	/* the first Listener */
	char			*c_json_route_config;	/* its RouteConfiguration */
	char			**c_json_clusters;	/* one Cluster message each */
	char			*c_json_node;	/* the Node message, or NULL;
						 * c_json_bootstrap starts
						 * {"node":<it> when set */
	char			*c_json_node_metadata;	/* or NULL */

	/* the file as loaded and its weights' spans, file order; NULL
	 * when a weight-only reload must parse (a weight not a plain
	 * number, total_weight, text read from another file or the
	 * environment, a file not ASCII) */
	const char		*c_src;
	size_t			 c_src_len;
	struct cd_wspan		*c_wspans;
	size_t			 c_nwspans;
	void			*c_fast;	/* the master's, dumpweights.c */
	void			*c_fw;		/* the master's, fileweights.c */

	struct cd_arena		*c_arena;
};

#endif /* CANARYD_SHARED_CONF_T_H */
