/*
 * Cluster hosts: the master publishes every cluster's addresses in shm.
 * STATIC endpoints are IP literals, published once.  STRICT_DNS names are
 * resolved at start (blocking, before any worker exists) and then every
 * dns_refresh_rate by a resolver child process ("canaryd: dns"), so the
 * master's loop never waits for getaddrinfo(3).  One host per address,
 * deduplicated; a host keeps its shm index and id while its address stays.
 * Counts cluster.<n>.update_attempt / update_success / update_failure /
 * update_empty / update_no_rebuild / membership_change in the master slot.
 */
#ifndef CANARYD_MASTER_DNS_H
#define CANARYD_MASTER_DNS_H

/* Resolve and publish every cluster once (blocking); start the resolver
 * and the refresh timers.  Returns 0, or -1 when the resolver can't start. */
int	mst_dns_start(void);
/* A structural reload made mst.m_conf a new cluster set: resolve and
 * publish it now (blocking, as at start) and refresh it from then on. */
void	mst_dns_reconfigure(void);
/* Stop refreshing and the resolver child (at exit). */
void	mst_dns_stop(void);
/* The resolver's pid (for the supervisor to recognise it), or -1. */
int	mst_dns_pid(void);
/* Resolver died: restart it. */
void	mst_dns_child_exited(void);

#endif /* CANARYD_MASTER_DNS_H */
