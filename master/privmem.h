/*
 * Memory only the master process touches: anonymous pages mapped with
 * MADV_DONTFORK, so no child (worker, resolver, fleet coordinator) has
 * them.  Memory a child shares since fork(2) costs the master a
 * copy-on-write fault, and a TLB shootdown on every CPU the master ran
 * on, the first time it writes each page; state the master rewrites
 * often, long after its children forked (the rollout engine, rebuilt on
 * every reload), lives here instead of on the heap.  Pages are zero and
 * cost nothing until first touched.
 *
 * A child must never follow a pointer into such memory: it is not mapped
 * there.
 */
#ifndef CANARYD_MASTER_PRIVMEM_H
#define CANARYD_MASTER_PRIVMEM_H

#include <stddef.h>

/* len bytes (rounded up to pages), zeroed: NULL with errno set. */
void	*mst_privmem_map(size_t len);
/* Unmap what mst_privmem_map(len) returned; NULL is nothing. */
void	 mst_privmem_unmap(void *, size_t len);

#endif /* CANARYD_MASTER_PRIVMEM_H */
