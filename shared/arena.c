/*
 * Arena (see arena.h): a list of malloc'd chunks with a bump pointer in
 * the newest one.  Requests larger than a quarter chunk get a chunk of
 * their own, so a big array never wastes the rest of a half-used chunk.
 * Invariant: every chunk and every deferred destructor is reachable from
 * the struct cd_arena until arena_free().
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_CHUNK	(16 * 1024)
#define ARENA_ALIGN	alignof(max_align_t)

struct arena_chunk {
	struct arena_chunk	*ch_next;
	size_t			 ch_size;	/* usable bytes */
	size_t			 ch_used;
	alignas(max_align_t) unsigned char ch_data[];
};

struct arena_dtor_rec {
	struct arena_dtor_rec	*dr_next;
	arena_dtor		*dr_fn;
	void			*dr_arg;
};

struct cd_arena {
	struct arena_chunk	*a_chunks;	/* newest first */
	struct arena_dtor_rec	*a_dtors;	/* newest first */
};

struct cd_arena *
arena_new(void)
{
	return calloc(1, sizeof(struct cd_arena));
}

static struct arena_chunk *
arena_chunk_new(size_t size)
{
	struct arena_chunk *ch;

	if (size > SIZE_MAX - sizeof(*ch)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((ch = malloc(sizeof(*ch) + size)) == NULL)
		return NULL;
	ch->ch_size = size;
	ch->ch_used = 0;
	return ch;
}

void *
arena_alloc(struct cd_arena *a, size_t size)
{
	struct arena_chunk *ch;
	size_t need;
	void *p;

	if (size > SIZE_MAX - ARENA_ALIGN) {
		errno = ENOMEM;
		return NULL;
	}
	need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;
	ch = a->a_chunks;
	if (ch == NULL || ch->ch_size - ch->ch_used < need) {
		if (need > ARENA_CHUNK / 4) {
			/* Own chunk, linked behind the current one so the
			 * current chunk's free space stays in use. */
			if ((ch = arena_chunk_new(need)) == NULL)
				return NULL;
			if (a->a_chunks != NULL) {
				ch->ch_next = a->a_chunks->ch_next;
				a->a_chunks->ch_next = ch;
			} else {
				ch->ch_next = NULL;
				a->a_chunks = ch;
			}
			ch->ch_used = need;
			memset(ch->ch_data, 0, need);
			return ch->ch_data;
		}
		if ((ch = arena_chunk_new(ARENA_CHUNK)) == NULL)
			return NULL;
		ch->ch_next = a->a_chunks;
		a->a_chunks = ch;
	}
	p = ch->ch_data + ch->ch_used;
	ch->ch_used += need;
	memset(p, 0, need);
	return p;
}

void *
arena_allocarray(struct cd_arena *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return arena_alloc(a, n * size);
}

char *
arena_strndup(struct cd_arena *a, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX || (p = arena_alloc(a, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
arena_strdup(struct cd_arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

int
arena_defer(struct cd_arena *a, arena_dtor *fn, void *arg)
{
	struct arena_dtor_rec *dr;

	if ((dr = arena_alloc(a, sizeof(*dr))) == NULL)
		return -1;
	dr->dr_fn = fn;
	dr->dr_arg = arg;
	dr->dr_next = a->a_dtors;
	a->a_dtors = dr;
	return 0;
}

bool
arena_deferred(const struct cd_arena *a, arena_dtor *fn, const void *arg)
{
	const struct arena_dtor_rec *dr;

	for (dr = a->a_dtors; dr != NULL; dr = dr->dr_next)
		if (dr->dr_fn == fn && dr->dr_arg == arg)
			return true;
	return false;
}

void
arena_free(struct cd_arena *a)
{
	struct arena_chunk *ch, *next;
	struct arena_dtor_rec *dr;

	if (a == NULL)
		return;
	/* The records live in the chunks: run them all before freeing. */
	for (dr = a->a_dtors; dr != NULL; dr = dr->dr_next)
		dr->dr_fn(dr->dr_arg);
	for (ch = a->a_chunks; ch != NULL; ch = next) {
		next = ch->ch_next;
		free(ch);
	}
	free(a);
}
