/*
 * The master process's state, one instance (master/mst.c).
 * Every master module reads it; main.c fills it at start, and the module
 * table (module.h) switches m_conf and placement (place.h) m_place when
 * a configuration becomes the running one.  A header only.
 */
#ifndef CANARYD_MASTER_MST_H
#define CANARYD_MASTER_MST_H

#include <stdint.h>

#include "shared/cidr.h"
#include "shared/conf-t.h"
#include "shared/place-t.h"
#include "shared/shm-t.h"

/*
 * --worker-slice-us: the scheduler slice each worker asks for (Linux 6.12
 * and later keep one per task; 0 leaves the kernel's, about 0.7 ms times
 * 1 + log2 of the CPUs).  A worker runs for tens of microseconds a wake-up;
 * with a short slice it preempts a busier task when it wakes instead of
 * waiting out that task's slice, which is a request's tail on a host whose
 * cores are all busy.  The kernel takes 100 us to 100 ms.
 */
#define CD_SLICE_US		300
#define CD_SLICE_US_MIN		100
#define CD_SLICE_US_MAX		100000

struct mst {
	const struct cd_conf	*m_conf;	/* the running configuration */
	const struct cd_place	*m_place;	/* its shm records (place.h) */
	struct shm		*m_shm;
	const char		*m_config_path;	/* as given with -f / -c */
	const char		*m_state_dir;	/* --state-dir, NULL: none */
	/* who may POST to admin: --admin-allow, --admin-token-file (each
	 * wins over its part of node.metadata.canaryd.admin) */
	const struct cd_cidr	*m_admin_allow;
	size_t			 m_admin_nallow;
	const char		*m_admin_token_file;
	const char		*m_service_node;	/* or NULL */
	const char		*m_service_cluster;	/* or NULL */
	int			 m_concurrency;	/* worker processes */
	int			 m_log_level;
	int			 m_drain_time_s;
	int			 m_worker_slice_us;	/* 0: the kernel's */
	uint64_t		 m_start_realtime_ms;	/* for /server_info */
	uint64_t		 m_start_mono_ms;	/* server.uptime */
	uint64_t		 m_conf_loaded_realtime_ms;	/* last_updated */
	uint32_t		 m_generation;	/* worker generation */
	int			 m_reload_waiting;	/* a structural reload
							 * waits for a drain */
	int			 m_reload_loading;	/* a file is read for a
							 * reload, on reload.c's
							 * thread */
};

extern struct mst mst;

/* How a configuration becomes the running one. */
enum mst_change {
	MST_CH_START,		/* the first one, at start */
	MST_CH_WEIGHTS,		/* a reload that changes weights only */
	MST_CH_STRUCTURAL,	/* a reload that changes anything else */
};

/*
 * The shm records of the running configuration's cluster ci (a conf
 * index): the record's index, its host list and breaker gauges, and the
 * master's counters for it.  Through the placement, which a structural
 * reload may change.
 */
#define MST_SHM_CI(ci)	(mst.m_place->pl_cluster[(ci)])
#define MST_SC(ci)	(shm_cl(mst.m_shm, MST_SHM_CI(ci)))
/* The node's id and cluster: the command line's, else the file's node
 * (NULL when neither says). */
#define MST_NODE_ID(c)	(mst.m_service_node != NULL ? mst.m_service_node : \
	(c)->c_node.n_id)
#define MST_NODE_CLUSTER(c) (mst.m_service_cluster != NULL ? \
	mst.m_service_cluster : (c)->c_node.n_cluster)

#define MST_MCTR(ci)	\
	(&shm_slot(mst.m_shm, shm_master_slot(mst.m_shm))->w_cl[MST_SHM_CI(ci)])

#endif /* CANARYD_MASTER_MST_H */
