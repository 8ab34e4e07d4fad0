/*
 * Arena: many small allocations with one owner, freed together.  The
 * configuration loader (shared/conf.c) builds the whole struct cd_conf in
 * one arena so conf_free() is a single arena_free().  Master only: it
 * calls malloc(3); workers never allocate from it, they only read what the
 * master built before fork(2).
 *
 * Memory from arena_alloc() is zeroed and aligned for any type.  Resources
 * that are not plain memory (compiled regexes) register a destructor with
 * arena_defer(); arena_free() runs them, newest first, before it frees the
 * memory.
 */
#ifndef CANARYD_SHARED_ARENA_H
#define CANARYD_SHARED_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct cd_arena;

typedef void arena_dtor(void *);

/* A new empty arena, or NULL (errno set). */
struct cd_arena	*arena_new(void);

/* Zeroed memory for size bytes (size 0 gives a valid unique pointer), or
 * NULL on overflow or when malloc fails. */
void		*arena_alloc(struct cd_arena *, size_t size);

/* Zeroed array of n elements; NULL if n * size overflows. */
void		*arena_allocarray(struct cd_arena *, size_t n, size_t size);

/* NUL-terminated copies; s need not be terminated for arena_strndup. */
char		*arena_strndup(struct cd_arena *, const char *s, size_t len);
char		*arena_strdup(struct cd_arena *, const char *s);

/* Run fn(arg) when the arena is freed.  -1 if out of memory: then fn was
 * not registered and the caller must release arg itself. */
int		 arena_defer(struct cd_arena *, arena_dtor *fn, void *arg);
/* Is fn(arg) already deferred?  A walk of every record: not for hot
 * paths. */
bool		 arena_deferred(const struct cd_arena *, arena_dtor *fn,
		    const void *arg);

/* Run the destructors, free everything.  Accepts NULL. */
void		 arena_free(struct cd_arena *);

#endif /* CANARYD_SHARED_ARENA_H */
