/*
 * core/arena.c - bump allocator in chained blocks; large requests get a block
 * of their own so one big upload does not waste a block's tail.
 */
#include "core/arena.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define ARENA_BLOCK 8192
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	void (*fn)(void *);
	void *ptr;
};

struct arena {
	struct arena_block *blocks;
	struct arena_cleanup *cleanups;
	size_t total;
};

/*
 * Each thread keeps one spare standard block: a request's arena gets its
 * first block without malloc and gives it back when freed, instead of an
 * 8 KiB malloc and free per request (which also made glibc consolidate its
 * free lists).  The spare is freed when its thread ends.
 */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_ok;

static void spare_setup(void)
{
	spare_ok = pthread_key_create(&spare_key, free) == 0;
}

static struct arena_block *spare_take(void)
{
	struct arena_block *b;

	pthread_once(&spare_once, spare_setup);
	if (!spare_ok || (b = pthread_getspecific(spare_key)) == NULL)
		return NULL;
	pthread_setspecific(spare_key, NULL);
	return b;
}

/* Keep b as this thread's spare; false if there is one already. */
static bool spare_give(struct arena_block *b)
{
	pthread_once(&spare_once, spare_setup);
	if (!spare_ok || pthread_getspecific(spare_key) != NULL)
		return false;
	return pthread_setspecific(spare_key, b) == 0;
}

struct arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
	struct arena_block *b, *bn;
	struct arena_cleanup *c;

	if (!a)
		return;
	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->ptr);
	}
	for (b = a->blocks; b; b = bn) {
		bn = b->next;
		if (b->size != ARENA_BLOCK || !spare_give(b))
			free(b);
	}
	free(a);
}

static struct arena_block *block_new(size_t size)
{
	struct arena_block *b = size == ARENA_BLOCK ? spare_take() : NULL;

	if (!b)
		b = xmalloc(sizeof(*b) + size);

	b->next = NULL;
	b->used = 0;
	b->size = size;
	return b;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->blocks;
	void *p;

	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;
	if (n > ARENA_BLOCK / 4) {
		/* a private block, linked behind the current one */
		struct arena_block *big = block_new(n);

		big->used = n;
		if (b) {
			big->next = b->next;
			b->next = big;
		} else {
			a->blocks = big;
		}
		a->total += n;
		memset(big->data, 0, n);
		return big->data;
	}
	if (!b || b->size - b->used < n) {
		b = block_new(ARENA_BLOCK);
		b->next = a->blocks;
		a->blocks = b;
	}
	p = b->data + b->used;
	b->used += n;
	a->total += n;
	memset(p, 0, n);
	return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n + 1);

	if (n)
		memcpy(q, p, n);
	return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_memdup(a, s, strlen(s) + 1);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, cp;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_on_free(struct arena *a, void (*fn)(void *), void *ptr)
{
	struct arena_cleanup *c = arena_alloc(a, sizeof(*c));

	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}
