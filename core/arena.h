/*
 * core/arena.h - a memory pool with cleanups, owned by one request.
 *
 * Everything a request allocates comes from its arena and dies with it;
 * resources that are not memory (libgit2 objects, database results, file
 * descriptors) are tied to the arena with arena_on_free() and released, in
 * reverse order of registration, by arena_free().
 *
 * Thread-safety: none; an arena belongs to one request on one thread.
 */
#ifndef OTCM_CORE_ARENA_H
#define OTCM_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* A new empty arena; the caller owns it and frees it with arena_free(). */
struct arena *arena_new(void);

/* Run the cleanups (newest first), then release all memory.  NULL is fine. */
void arena_free(struct arena *a);

/* Zeroed memory that lives as long as the arena. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Call fn(ptr) when the arena is freed. */
void arena_on_free(struct arena *a, void (*fn)(void *), void *ptr);

/* Bytes handed out so far (for metrics and tests). */
size_t arena_used(const struct arena *a);

#endif
