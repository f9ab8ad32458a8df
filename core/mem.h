/*
 * core/mem.h - allocation wrappers.
 *
 * Allocation failure is not a runtime condition otcm tries to survive: these
 * wrappers print one line and abort.  This is the only place that aborts.
 * Everything else treats input-driven failures as errors (see err.h), and
 * input sizes are bounded by configured limits before anything is allocated.
 */
#ifndef OTCM_CORE_MEM_H
#define OTCM_CORE_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

/* A newly allocated printf result; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
