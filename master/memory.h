/*
 * /memory (master only): Envoy's envoy.admin.v3.Memory for a server made
 * of several processes on glibc's malloc, where Envoy reports one process
 * on tcmalloc.  The heap figures are the master's own (mallinfo2(3));
 * total_physical_bytes covers every process of the server.  canaryd(8),
 * ADMIN INTERFACE, says what each figure is.
 */
#ifndef CANARYD_MASTER_MEMORY_H
#define CANARYD_MASTER_MEMORY_H

#include <stdint.h>

#include "shared/buf.h"

struct mst_memory {
	uint64_t	 mm_allocated;		/* master: in use */
	uint64_t	 mm_heap_size;		/* master: held from system */
	uint64_t	 mm_pageheap_unmapped;	/* always 0 on glibc */
	uint64_t	 mm_pageheap_free;	/* master: held, free */
	uint64_t	 mm_total_thread_cache;	/* always 0: none apart */
	uint64_t	 mm_total_physical_bytes; /* RSS, every process */
};

/*
 * The figures now: the master's malloc statistics, and the resident set
 * of the master, its workers (every generation still running) and its
 * resolver process from /proc/<pid>/statm.  Reads procfs, which is kernel
 * memory, never a disk, so it does not stall the master's loop.
 */
void	 mst_memory_read(struct mst_memory *);

/* m as Envoy prints it: pretty-printed, each uint64 a JSON string.  0, or
 * -1 when the buffer ran out of memory. */
int	 mst_memory_json(struct buf *, const struct mst_memory *);

#endif /* CANARYD_MASTER_MEMORY_H */
