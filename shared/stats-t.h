/*
 * Stat identifiers.  Each list is an X-macro: X(id, "envoy.stat.suffix"),
 * so the enum index and the Envoy name come from one line.  Counters live in
 * each worker's shm slot (shared/shm-t.h) and the master sums the slots;
 * gauges also live per slot (the master zeroes a dead worker's gauges).
 *
 * Per status code counters (upstream_rq_<code>, retry.upstream_rq_<code>,
 * downstream codes) are arrays indexed by code - CD_CODE_MIN; the
 * <N>xx and _completed totals are derived from them when rendering, so the
 * hot path does one increment per response.
 */
#ifndef CANARYD_SHARED_STATS_T_H
#define CANARYD_SHARED_STATS_T_H

#define CD_CODE_MIN	100
#define CD_CODE_MAX	599
#define CD_NCODES	(CD_CODE_MAX - CD_CODE_MIN + 1)

/* http.<stat_prefix>.*  (and listener.<addr>.* where Envoy has them) */
#define CD_HTTP_COUNTERS(X)						\
	X(HC_CX_TOTAL,		"downstream_cx_total")			\
	X(HC_CX_HTTP1_TOTAL,	"downstream_cx_http1_total")		\
	X(HC_CX_DESTROY,	"downstream_cx_destroy")		\
	X(HC_CX_DESTROY_LOCAL,	"downstream_cx_destroy_local")		\
	X(HC_CX_DESTROY_REMOTE,	"downstream_cx_destroy_remote")		\
	X(HC_CX_DESTROY_ACTIVE_RQ, "downstream_cx_destroy_active_rq")	\
	X(HC_CX_PROTOCOL_ERROR,	"downstream_cx_protocol_error")		\
	X(HC_CX_RX_BYTES,	"downstream_cx_rx_bytes_total")		\
	X(HC_CX_TX_BYTES,	"downstream_cx_tx_bytes_total")		\
	X(HC_CX_DRAIN_CLOSE,	"downstream_cx_drain_close")		\
	X(HC_CX_IDLE_TIMEOUT,	"downstream_cx_idle_timeout")		\
	X(HC_CX_MAX_REQUESTS_REACHED, "downstream_cx_max_requests_reached") \
	X(HC_CX_OVERFLOW,	"downstream_cx_overflow")		\
	X(HC_CX_UPGRADES_TOTAL,	"downstream_cx_upgrades_total")		\
	X(HC_RQ_TOTAL,		"downstream_rq_total")			\
	X(HC_RQ_HTTP1_TOTAL,	"downstream_rq_http1_total")		\
	X(HC_RQ_RX_RESET,	"downstream_rq_rx_reset")		\
	X(HC_RQ_TX_RESET,	"downstream_rq_tx_reset")		\
	X(HC_RQ_TOO_LARGE,	"downstream_rq_too_large")		\
	X(HC_RQ_IDLE_TIMEOUT,	"downstream_rq_idle_timeout")		\
	X(HC_RQ_TIMEOUT,	"downstream_rq_timeout")		\
	X(HC_RQ_HEADER_TIMEOUT,	"downstream_rq_header_timeout")		\
	X(HC_RQ_WS_ON_NON_WS_ROUTE, "downstream_rq_ws_on_non_ws_route")	\
	X(HC_NO_ROUTE,		"no_route")				\
	X(HC_NO_CLUSTER,	"no_cluster")				\
	X(HC_RQ_DIRECT_RESPONSE, "rq_direct_response")			\
	X(HC_RQ_REDIRECT,	"rq_redirect")				\
	X(HC_RQ_RESET_AFTER_RESPONSE, "rq_reset_after_downstream_response_started") \
	X(HC_RQ_ROUTER_TOTAL,	"rq_total")				\
	X(HC_LOG_DROPPED,	"log_dropped")				\
	X(HC_ACCESS_LOG_DROPPED, "access_log_dropped")			\
	/* canaryd: an override value that names no cluster */		\
	X(HC_CANARY_OVERRIDE_UNKNOWN, "canary.override_unknown")	\
	/* the filters' (HC_FILTER_FIRST on): printed only when the */	\
	/* chain holds the filter */					\
	X(HC_FAULT_ABORTS,	"fault.aborts_injected")		\
	X(HC_FAULT_DELAYS,	"fault.delays_injected")		\
	X(HC_FAULT_OVERFLOW,	"fault.faults_overflow")		\
	X(HC_CORS_ORIGIN_VALID,	"cors.origin_valid")			\
	X(HC_CORS_ORIGIN_INVALID, "cors.origin_invalid")		\
	/* compressor.<library name>.gzip.* */				\
	X(HC_GZ_COMPRESSED,	"compressed")				\
	X(HC_GZ_NOT_COMPRESSED,	"not_compressed")			\
	X(HC_GZ_NO_ACCEPT,	"no_accept_header")			\
	X(HC_GZ_USED,		"header_compressor_used")		\
	X(HC_GZ_WILDCARD,	"header_wildcard")			\
	X(HC_GZ_IDENTITY,	"header_identity")			\
	X(HC_GZ_NOT_VALID,	"header_not_valid")			\
	X(HC_GZ_TOO_SMALL,	"content_length_too_small")		\
	X(HC_GZ_ETAG,		"not_compressed_etag")			\
	X(HC_GZ_IN,		"total_uncompressed_bytes")		\
	X(HC_GZ_OUT,		"total_compressed_bytes")

#define CD_HTTP_GAUGES(X)						\
	X(HG_CX_ACTIVE,		"downstream_cx_active")			\
	X(HG_CX_HTTP1_ACTIVE,	"downstream_cx_http1_active")		\
	X(HG_CX_UPGRADES_ACTIVE, "downstream_cx_upgrades_active")	\
	X(HG_RQ_ACTIVE,		"downstream_rq_active")			\
	/* the fault filter's (printed only when the chain holds it) */	\
	X(HG_FAULT_ACTIVE,	"fault.active_faults")

/* cluster.<name>.* */
#define CD_CLUSTER_COUNTERS(X)						\
	X(CC_CX_TOTAL,		"upstream_cx_total")			\
	X(CC_CX_HTTP1_TOTAL,	"upstream_cx_http1_total")		\
	X(CC_CX_CONNECT_FAIL,	"upstream_cx_connect_fail")		\
	X(CC_CX_CONNECT_TIMEOUT, "upstream_cx_connect_timeout")		\
	X(CC_CX_IDLE_TIMEOUT,	"upstream_cx_idle_timeout")		\
	X(CC_CX_OVERFLOW,	"upstream_cx_overflow")			\
	X(CC_CX_POOL_OVERFLOW,	"upstream_cx_pool_overflow")		\
	X(CC_CX_DESTROY,	"upstream_cx_destroy")			\
	X(CC_CX_DESTROY_LOCAL,	"upstream_cx_destroy_local")		\
	X(CC_CX_DESTROY_REMOTE,	"upstream_cx_destroy_remote")		\
	X(CC_CX_DESTROY_WITH_ACTIVE_RQ, "upstream_cx_destroy_with_active_rq") \
	X(CC_CX_CLOSE_NOTIFY,	"upstream_cx_close_notify")		\
	X(CC_CX_RX_BYTES,	"upstream_cx_rx_bytes_total")		\
	X(CC_CX_TX_BYTES,	"upstream_cx_tx_bytes_total")		\
	X(CC_CX_PROTOCOL_ERROR,	"upstream_cx_protocol_error")		\
	X(CC_CX_MAX_REQUESTS,	"upstream_cx_max_requests")		\
	X(CC_CX_NONE_HEALTHY,	"upstream_cx_none_healthy")		\
	X(CC_RQ_TOTAL,		"upstream_rq_total")			\
	X(CC_RQ_PENDING_TOTAL,	"upstream_rq_pending_total")		\
	X(CC_RQ_PENDING_OVERFLOW, "upstream_rq_pending_overflow")	\
	X(CC_RQ_PENDING_FAILURE_EJECT, "upstream_rq_pending_failure_eject") \
	X(CC_RQ_CANCELLED,	"upstream_rq_cancelled")		\
	X(CC_RQ_MAINTENANCE_MODE, "upstream_rq_maintenance_mode")	\
	X(CC_RQ_TIMEOUT,	"upstream_rq_timeout")			\
	X(CC_RQ_PER_TRY_TIMEOUT, "upstream_rq_per_try_timeout")		\
	X(CC_RQ_RX_RESET,	"upstream_rq_rx_reset")			\
	X(CC_RQ_TX_RESET,	"upstream_rq_tx_reset")			\
	X(CC_RQ_RETRY,		"upstream_rq_retry")			\
	X(CC_RQ_RETRY_SUCCESS,	"upstream_rq_retry_success")		\
	X(CC_RQ_RETRY_OVERFLOW,	"upstream_rq_retry_overflow")		\
	X(CC_RQ_RETRY_LIMIT_EXCEEDED, "upstream_rq_retry_limit_exceeded") \
	X(CC_RETRY_OR_SHADOW_ABANDONED, "retry_or_shadow_abandoned")	\
	X(CC_LB_HEALTHY_PANIC,	"lb_healthy_panic")			\
	X(CC_MEMBERSHIP_CHANGE,	"membership_change")			\
	X(CC_UPDATE_ATTEMPT,	"update_attempt")			\
	X(CC_UPDATE_SUCCESS,	"update_success")			\
	X(CC_UPDATE_FAILURE,	"update_failure")			\
	X(CC_UPDATE_EMPTY,	"update_empty")				\
	X(CC_UPDATE_NO_REBUILD,	"update_no_rebuild")			\
	X(CC_HC_ATTEMPT,	"health_check.attempt")			\
	X(CC_HC_SUCCESS,	"health_check.success")			\
	X(CC_HC_FAILURE,	"health_check.failure")			\
	X(CC_HC_NETWORK_FAILURE, "health_check.network_failure")	\
	X(CC_HC_PASSIVE_FAILURE, "health_check.passive_failure")	\
	X(CC_HC_VERIFY_CLUSTER,	"health_check.verify_cluster")		\
	X(CC_OD_EJECTIONS_ENFORCED_TOTAL, "outlier_detection.ejections_enforced_total") \
	X(CC_OD_EJECTIONS_ENFORCED_5XX, "outlier_detection.ejections_enforced_consecutive_5xx") \
	X(CC_OD_EJECTIONS_OVERFLOW, "outlier_detection.ejections_overflow") \
	X(CC_OD_EJECTIONS_DETECTED_5XX, "outlier_detection.ejections_detected_consecutive_5xx") \
	X(CC_OD_EJECTIONS_ENFORCED_GATEWAY, "outlier_detection.ejections_enforced_consecutive_gateway_failure") \
	X(CC_OD_EJECTIONS_DETECTED_GATEWAY, "outlier_detection.ejections_detected_consecutive_gateway_failure") \
	/* canaryd (issue 6): requests placed here by a sticky key or an */ \
	/* override; requests that failed here and went to the fallback; */ \
	/* mirrored requests sent here (request_mirror_policies) */	\
	X(CC_CANARY_STICKY,	"canary.sticky")			\
	X(CC_CANARY_OVERRIDE,	"canary.override")			\
	X(CC_CANARY_FALLBACK,	"canary.fallback")			\
	X(CC_CANARY_SHADOW,	"canary.shadow")

#define CD_CLUSTER_GAUGES(X)						\
	X(CG_CX_ACTIVE,		"upstream_cx_active")			\
	X(CG_RQ_ACTIVE,		"upstream_rq_active")			\
	X(CG_RQ_PENDING_ACTIVE,	"upstream_rq_pending_active")

/* Per host (/clusters lines): cluster::addr::<name>::value */
#define CD_HOST_COUNTERS(X)						\
	X(HOC_CX_CONNECT_FAIL,	"cx_connect_fail")			\
	X(HOC_CX_TOTAL,		"cx_total")				\
	X(HOC_RQ_ERROR,		"rq_error")				\
	X(HOC_RQ_SUCCESS,	"rq_success")				\
	X(HOC_RQ_TIMEOUT,	"rq_timeout")				\
	X(HOC_RQ_TOTAL,		"rq_total")

#define CD_HOST_GAUGES(X)						\
	X(HOG_CX_ACTIVE,	"cx_active")				\
	X(HOG_RQ_ACTIVE,	"rq_active")

#define CD_STAT_ENUM(id, name)	id,

enum cd_http_counter { CD_HTTP_COUNTERS(CD_STAT_ENUM) HC__N };
enum cd_http_gauge { CD_HTTP_GAUGES(CD_STAT_ENUM) HG__N };
enum cd_cluster_counter { CD_CLUSTER_COUNTERS(CD_STAT_ENUM) CC__N };
enum cd_cluster_gauge { CD_CLUSTER_GAUGES(CD_STAT_ENUM) CG__N };
enum cd_host_counter { CD_HOST_COUNTERS(CD_STAT_ENUM) HOC__N };
enum cd_host_gauge { CD_HOST_GAUGES(CD_STAT_ENUM) HOG__N };

#define HC_FILTER_FIRST	HC_FAULT_ABORTS
#define HG_FILTER_FIRST	HG_FAULT_ACTIVE

#endif /* CANARYD_SHARED_STATS_T_H */
