/*
 * diff/text.c - what the text format parsers share: line clean-up and
 * unique sibling names; see text.h.
 */
#include "diff/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* ---------------------------------------------------------------- lines */

void text_trim(const char **s, size_t *len)
{
	const char *p = *s;
	size_t n = *len;

	while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
	                 *p == '\f' || *p == '\v')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' ||
	                 p[n - 1] == '\r' || p[n - 1] == '\f' || p[n - 1] == '\v'))
		n--;
	*s = p;
	*len = n;
}

bool text_ieq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		char x = a[i], y = b[i];

		if (y == '\0')
			return false;
		if (x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if (y >= 'a' && y <= 'z')
			y = (char)(y - 'a' + 'A');
		if (x != y)
			return false;
	}
	return b[alen] == '\0';
}

char *text_clean_lines(const char *text, size_t len)
{
	struct buf b = BUF_INIT;
	size_t pos = 0, pending_blank = 0;
	bool any = false;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - pos;

		while (n > 0 && (text[pos + n - 1] == ' ' || text[pos + n - 1] == '\t' ||
		                 text[pos + n - 1] == '\r' || text[pos + n - 1] == '\f' ||
		                 text[pos + n - 1] == '\v'))
			n--;
		if (n == 0) {
			if (any)
				pending_blank++;
		} else {
			for (; pending_blank > 0; pending_blank--)
				buf_addch(&b, '\n');
			if (any)
				buf_addch(&b, '\n');
			buf_add(&b, text + pos, n);
			any = true;
		}
		pos = end + 1;
	}
	if (!any) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* ---------------------------------------------------------------- names */

struct text_names {
	char **slots;
	size_t nslots, used;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct text_names *text_names_new(void)
{
	struct text_names *set = xcalloc(1, sizeof(*set));

	set->nslots = 64;
	set->slots = xcalloc(set->nslots, sizeof(*set->slots));
	return set;
}

void text_names_free(struct text_names *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->nslots; i++)
		free(set->slots[i]);
	free(set->slots);
	free(set);
}

/* Insert key (taking ownership) unless present; true when inserted. */
static bool names_insert(struct text_names *set, char *key)
{
	size_t i;

	if (2 * (set->used + 1) > set->nslots) {
		size_t n = set->nslots * 2, j;
		char **slots = xcalloc(n, sizeof(*slots));

		for (j = 0; j < set->nslots; j++) {
			if (set->slots[j]) {
				size_t k = hash_str(set->slots[j]) & (n - 1);

				while (slots[k])
					k = (k + 1) & (n - 1);
				slots[k] = set->slots[j];
			}
		}
		free(set->slots);
		set->slots = slots;
		set->nslots = n;
	}
	i = hash_str(key) & (set->nslots - 1);
	while (set->slots[i]) {
		if (strcmp(set->slots[i], key) == 0) {
			free(key);
			return false;
		}
		i = (i + 1) & (set->nslots - 1);
	}
	set->slots[i] = key;
	set->used++;
	return true;
}

struct dnode *text_add_unique(struct text_names *set, struct dnode *parent,
                            const char *type, const char *name)
{
	char *unique = NULL;
	struct dnode *kid;
	unsigned n;

	if (!name)
		return dnode_add(parent, type, NULL);
	for (n = 1;; n++) {
		char *candidate = n == 1 ? xstrdup(name) : xasprintf("%s (%u)", name, n);
		char *key = xasprintf("%p\x1f%s\x1f%s", (void *)parent, type, candidate);

		if (names_insert(set, key)) {
			unique = candidate;
			break;
		}
		free(candidate);
	}
	kid = dnode_add(parent, type, unique);
	free(unique);
	return kid;
}
