/*
 * Worker free lists (see mem.h).  Invariant: every object or buffer is
 * either handed out or on exactly one free list; chunks are never given
 * back to malloc, except large buffers beyond a small cache.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mem.h"

#define MEM_SMALL_CHUNK		32	/* small buffers per malloc */
#define MEM_LARGE_CACHE		4	/* free large (and bulk) buffers kept */

/* A free list of malloc'd buffers of one size, a few kept. */
struct mem_cache {
	struct wrk_buf	*mc_free;
	uint32_t	 mc_nfree;
	uint32_t	 mc_class;	/* WRK_BUF_C_* */
};

static struct wrk_buf	*small_free;
static struct mem_cache	 large_cache = { NULL, 0, WRK_BUF_C_LARGE };
static struct mem_cache	 bulk_cache = { NULL, 0, WRK_BUF_C_BULK };
static uint32_t		 large_size = 96 * 1024;
static uint32_t		 bufs_out;

void
wrk_mem_init(uint32_t size)
{
	if (size > WRK_BUF_SMALL)
		large_size = size;
	else
		large_size = 2 * WRK_BUF_SMALL;
}

uint32_t
wrk_buf_large_size(void)
{
	return large_size;
}

static int
mem_small_grow(void)
{
	size_t one = sizeof(struct wrk_buf) + WRK_BUF_SMALL;
	char *chunk;
	uint32_t i;

	/* malloc, not calloc: untouched pages of the chunk stay out of RSS */
	if ((chunk = malloc(one * MEM_SMALL_CHUNK)) == NULL)
		return -1;
	for (i = 0; i < MEM_SMALL_CHUNK; i++) {
		struct wrk_buf *b = (struct wrk_buf *)(chunk + i * one);

		b->b_size = WRK_BUF_SMALL;
		b->b_large = WRK_BUF_C_SMALL;
		b->b_next = small_free;
		small_free = b;
	}
	return 0;
}

struct wrk_buf *
wrk_buf_get(void)
{
	struct wrk_buf *b;

	if (small_free == NULL && mem_small_grow() == -1)
		return NULL;
	b = small_free;
	small_free = b->b_next;
	b->b_next = NULL;
	b->b_off = b->b_len = 0;
	bufs_out++;
	return b;
}

static struct wrk_buf *
mem_cache_get(struct mem_cache *mc, uint32_t size)
{
	struct wrk_buf *b;

	if ((b = mc->mc_free) != NULL) {
		mc->mc_free = b->b_next;
		mc->mc_nfree--;
	} else {
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->b_size = size;
		b->b_large = mc->mc_class;
	}
	b->b_next = NULL;
	b->b_off = b->b_len = 0;
	bufs_out++;
	return b;
}

static void
mem_cache_put(struct mem_cache *mc, struct wrk_buf *b)
{
	if (mc->mc_nfree >= MEM_LARGE_CACHE) {
		free(b);
		return;
	}
	b->b_next = mc->mc_free;
	mc->mc_free = b;
	mc->mc_nfree++;
}

struct wrk_buf *
wrk_buf_get_large(void)
{
	return mem_cache_get(&large_cache, large_size);
}

struct wrk_buf *
wrk_buf_get_bulk(void)
{
	return mem_cache_get(&bulk_cache, WRK_BUF_BULK);
}

struct wrk_buf *
wrk_buf_get_sized(uint32_t size)
{
	struct wrk_buf *b;

	if ((b = malloc(sizeof(*b) + size)) == NULL)
		return NULL;
	b->b_size = size;
	b->b_large = WRK_BUF_C_SIZED;
	b->b_next = NULL;
	b->b_off = b->b_len = 0;
	bufs_out++;
	return b;
}

void
wrk_buf_put(struct wrk_buf *b)
{
	if (b == NULL)
		return;
	bufs_out--;
	if (b->b_large == WRK_BUF_C_SIZED) {
		free(b);
		return;
	}
	if (b->b_large == WRK_BUF_C_LARGE) {
		mem_cache_put(&large_cache, b);
		return;
	}
	if (b->b_large == WRK_BUF_C_BULK) {
		mem_cache_put(&bulk_cache, b);
		return;
	}
	b->b_next = small_free;
	small_free = b;
}

uint32_t
wrk_buf_out(void)
{
	return bufs_out;
}

void
wrk_slab_init(struct wrk_slab *s, const char *name, size_t size,
    uint32_t chunk)
{
	s->s_name = name;
	s->s_size = (size + 15) & ~(size_t)15;
	s->s_chunk = chunk;
	s->s_out = 0;
	s->s_free = NULL;
}

void *
wrk_slab_get(struct wrk_slab *s)
{
	void *p;

	if (s->s_free == NULL) {
		char *chunk;
		uint32_t i;

		if ((chunk = malloc(s->s_size * s->s_chunk)) == NULL)
			return NULL;
		for (i = 0; i < s->s_chunk; i++) {
			void **o = (void **)(chunk + i * s->s_size);

			*o = s->s_free;
			s->s_free = o;
		}
	}
	p = s->s_free;
	s->s_free = *(void **)p;
	s->s_out++;
	return p;
}

void
wrk_slab_put(struct wrk_slab *s, void *p)
{
	if (p == NULL)
		return;
	*(void **)p = s->s_free;
	s->s_free = p;
	s->s_out--;
}
