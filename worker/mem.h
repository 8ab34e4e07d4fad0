/*
 * Worker memory: I/O buffers and fixed-size objects from free lists that
 * grow in chunks and are reused, so the request path never calls malloc
 * (a header over the small buffer is the one exception: it takes a large
 * buffer, cached for reuse).  Worker process only; not thread-safe.
 *
 * Buffers come in three sizes: small (16 KiB, every request), large
 * (sized from max_request_headers_kb, for big heads, and for a body
 * stream that filled a small one in one read) and bulk (256 KiB, for a
 * body stream that filled a large one: each read(2) and write(2) then
 * moves more, at less CPU per byte).  Chunk memory
 * that was never touched does not count in RSS, so a chunk costs only what
 * the busiest moment actually used.
 */
#ifndef CANARYD_WORKER_MEM_H
#define CANARYD_WORKER_MEM_H

#include <stddef.h>
#include <stdint.h>

#define WRK_BUF_SMALL		(16 * 1024)
#define WRK_BUF_BULK		(256 * 1024)

/* b_large: the class a buffer goes back to */
#define WRK_BUF_C_SMALL		0	/* small free list */
#define WRK_BUF_C_LARGE		1	/* large free list, a few cached */
#define WRK_BUF_C_SIZED		2	/* malloc'd for one use, freed */
#define WRK_BUF_C_BULK		3	/* bulk free list, a few cached */

struct wrk_buf {
	struct wrk_buf	*b_next;	/* free list link */
	uint32_t	 b_size;	/* capacity of b_data */
	uint32_t	 b_off;		/* first byte not yet consumed */
	uint32_t	 b_len;		/* bytes held: [0, b_len) */
	uint32_t	 b_large;	/* WRK_BUF_C_* */
	char		 b_data[];
};

/* Set the large buffer size (bytes of data); call once at worker start. */
void		 wrk_mem_init(uint32_t large_size);
uint32_t	 wrk_buf_large_size(void);

/* A small (or large) buffer, empty; NULL when memory is exhausted. */
struct wrk_buf	*wrk_buf_get(void);
struct wrk_buf	*wrk_buf_get_large(void);
/* A bulk buffer (WRK_BUF_BULK bytes), empty; NULL when memory is
 * exhausted. */
struct wrk_buf	*wrk_buf_get_bulk(void);
/*
 * A buffer of exactly size data bytes, malloc'd for one use (a request
 * body kept for a retry, past the large size) and freed by
 * wrk_buf_put(); the caller bounds size.  NULL when memory is exhausted.
 */
struct wrk_buf	*wrk_buf_get_sized(uint32_t size);
/* Return a buffer to its free list; accepts NULL. */
void		 wrk_buf_put(struct wrk_buf *);
/* Buffers currently handed out (tests, leak checks). */
uint32_t	 wrk_buf_out(void);

/* Free list of fixed-size objects (connections, requests, upstreams). */
struct wrk_slab {
	const char	*s_name;
	size_t		 s_size;	/* object size, rounded up to 16 */
	uint32_t	 s_chunk;	/* objects per malloc */
	uint32_t	 s_out;		/* objects handed out */
	void		*s_free;
};

void		 wrk_slab_init(struct wrk_slab *, const char *name, size_t size,
		    uint32_t chunk);
/* An object (not zeroed: callers clear what they use), or NULL when
 * memory is exhausted. */
void		*wrk_slab_get(struct wrk_slab *);
/* Return an object; accepts NULL. */
void		 wrk_slab_put(struct wrk_slab *, void *);

#endif /* CANARYD_WORKER_MEM_H */
