/*
 * diff/align.h - what the differ and the line patches share: fast
 * non-cryptographic hashing of strings, and the bounded alignment of two
 * sequences of hashes.
 *
 * dalign() finds matched index pairs of two sequences (rungs, children in
 * order, lines of text) increasing in both: common prefix and suffix first,
 * then Myers' O(ND) algorithm with the edit distance capped (at most 1000,
 * less for long inputs), falling back to anchors on elements unique to both
 * sides with a small Myers in each gap.  Work and memory stay bounded on
 * any input.
 *
 * Nothing here does I/O; all functions are reentrant.  Allocation failure
 * aborts (core/mem.h).
 */
#ifndef OTCM_DIFF_ALIGN_H
#define OTCM_DIFF_ALIGN_H

#include <stddef.h>
#include <stdint.h>

/* A 64-bit finaliser: spreads the bits of h. */
uint64_t dalign_mix(uint64_t h);

/* Hash of s[0, len) under `seed` (different seeds give unrelated hashes). */
uint64_t dalign_hash(const char *s, size_t len, uint64_t seed);

/* Hash of the C string s under `seed`; NULL hashes to its own value. */
uint64_t dalign_hash_str(const char *s, uint64_t seed);

/* One match: element a of the first sequence is element b of the second. */
struct dalign_pair {
	size_t a, b;
};

/* A growable list of matches; zero-initialise, free(v) when done. */
struct dalign_pairs {
	struct dalign_pair *v;
	size_t n, alloc;
};

/* Append the match (a, b). */
void dalign_push(struct dalign_pairs *p, size_t a, size_t b);

/*
 * Append to `out` the matched index pairs of a[0, n) and b[0, m), in
 * increasing order of both indexes.  Equal hashes are taken as equal
 * elements.
 */
void dalign(const uint64_t *a, size_t n, const uint64_t *b, size_t m, struct dalign_pairs *out);

/* A hash with the index it came from, for sorting and binary search. */
struct dalign_hidx {
	uint64_t h;
	size_t i;
};

/* qsort comparator of struct dalign_hidx: by hash, then by index. */
int dalign_hidx_cmp(const void *x, const void *y);

#endif
