/*
 * Fleet mode's configuration: the bootstrap's node block, which Envoy
 * reads too (metadata is free-form there, so the file still loads in
 * Envoy):
 *
 *	node:
 *	  id: edge-1			# this instance (--service-node)
 *	  cluster: shop			# the fleet (--service-cluster)
 *	  metadata:
 *	    canaryd:
 *	      fleet:
 *	        etcd: [http://10.0.0.1:2379, http://10.0.0.2:2379]
 *	        prefix: /canaryd/shop	# default /canaryd/<cluster>
 *	        lease_ttl: 5s		# 2s .. 60s
 *	        report_interval: 1s	# 100ms .. lease_ttl / 2
 *	        state_dir: /var/lib/canaryd
 *	        traffic_wait: 300s	# too little traffic: pause after
 *
 * Without the fleet block nothing changes.  With it, every route with a
 * rollout block is a fleet rollout: one decision for the fleet, made by
 * the fleet coordinator child (master/fleet.h).  The loader fills this
 * from the file, the command line's --service-node / --service-cluster
 * overriding node.id / node.cluster as in Envoy; it hangs off the
 * configuration and never changes.  A -t.h header: types only.
 */
#ifndef CANARYD_SHARED_FLEET_T_H
#define CANARYD_SHARED_FLEET_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_FLEET_MAX_ETCD		8	/* etcd endpoints */
#define CD_FLEET_ID_MAX			128	/* node.id, node.cluster incl. NUL */
#define CD_FLEET_PREFIX_MAX		256	/* key prefix incl. NUL */
#define CD_FLEET_LEASE_TTL_DEFAULT	(5 * 1000000000LL)	/* ns */
#define CD_FLEET_LEASE_TTL_MIN		(2 * 1000000000LL)	/* etcd's own */
#define CD_FLEET_LEASE_TTL_MAX		(60 * 1000000000LL)
#define CD_FLEET_REPORT_DEFAULT		(1 * 1000000000LL)
#define CD_FLEET_REPORT_MIN		(100 * 1000000LL)
#define CD_FLEET_STATE_DIR_DEFAULT	"/var/lib/canaryd"

struct cd_fleet {
	bool		 fl_set;	/* node.metadata.canaryd.fleet given;
					 * first: the loader sets it */
	char		*fl_node_id;	/* node.id: unique in the fleet */
	char		*fl_cluster;	/* node.cluster: the fleet's name */
	char		**fl_etcd;	/* http://host:port, fl_netcd of them */
	size_t		 fl_netcd;	/* 1 .. CD_FLEET_MAX_ETCD */
	char		*fl_prefix;	/* keys live under it; NULL: the
					 * default, /canaryd/<cluster> */
	int64_t		 fl_lease_ttl;	/* ns */
	int64_t		 fl_report_interval;	/* ns */
	char		*fl_state_dir;	/* the last fleet state survives here */
	/* ns; 0: five step intervals of the route, at least 60 s */
	int64_t		 fl_traffic_wait;
};

#endif /* CANARYD_SHARED_FLEET_T_H */
