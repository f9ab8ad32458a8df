/*
 * core/merkle.c - RFC 9162 Merkle tree hashing and proofs; see merkle.h.
 * The recursive definitions follow the RFC's text line by line; the tree
 * height is at most 64, so recursion depth is bounded.
 */
#include "core/merkle.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"

void merkle_leaf_hash(merkle_hash out, const void *data, size_t len)
{
	struct crypto_sha256_ctx *ctx = crypto_sha256_new();
	unsigned char prefix = 0x00;

	crypto_sha256_update(ctx, &prefix, 1);
	crypto_sha256_update(ctx, data, len);
	crypto_sha256_final(out, ctx);
}

void merkle_node_hash(merkle_hash out, const merkle_hash left, const merkle_hash right)
{
	unsigned char in[1 + 2 * MERKLE_HASH_LEN];

	in[0] = 0x01;
	memcpy(in + 1, left, MERKLE_HASH_LEN);
	memcpy(in + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	crypto_sha256(out, in, sizeof(in));
}

/* The largest power of two smaller than n (n > 1). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	assert(n > 1);
	while (k << 1 < n)
		k <<= 1;
	return k;
}

void merkle_root(merkle_hash out, const merkle_hash *leaves, uint64_t n)
{
	merkle_hash l, r;
	uint64_t k;

	if (n == 0) {
		crypto_sha256(out, "", 0);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], MERKLE_HASH_LEN);
		return;
	}
	k = split_point(n);
	merkle_root(l, leaves, k);
	merkle_root(r, leaves + k, n - k);
	merkle_node_hash(out, l, r);
}

/* A proof being built: at most MERKLE_MAX_PROOF hashes. */
struct proof {
	merkle_hash *h;
	size_t len;
};

static void proof_add(struct proof *p, const merkle_hash h)
{
	assert(p->len < MERKLE_MAX_PROOF);
	memcpy(p->h[p->len++], h, MERKLE_HASH_LEN);
}

static void path(struct proof *p, const merkle_hash *leaves, uint64_t n, uint64_t m)
{
	merkle_hash sib;
	uint64_t k;

	if (n <= 1)
		return;
	k = split_point(n);
	if (m < k) {
		path(p, leaves, k, m);
		merkle_root(sib, leaves + k, n - k);
	} else {
		path(p, leaves + k, n - k, m - k);
		merkle_root(sib, leaves, k);
	}
	proof_add(p, sib);
}

int merkle_inclusion_proof(merkle_hash **out, size_t *out_len, const merkle_hash *leaves,
			   uint64_t n, uint64_t index)
{
	struct proof p = { NULL, 0 };

	if (index >= n)
		return err_set(OTCM_EINVAL, NULL, "leaf %llu is not in a tree of %llu",
			       (unsigned long long)index, (unsigned long long)n);
	p.h = xcalloc(MERKLE_MAX_PROOF, sizeof(merkle_hash));
	path(&p, leaves, n, index);
	*out = p.h;
	*out_len = p.len;
	return 0;
}

/*
 * MTH(D[lo:hi]) from complete subtrees.  Every node of the RFC's tree starts
 * at a multiple of the smallest power of two not below its size, so a node
 * whose size is a power of two is a complete aligned subtree.
 */
static int range_by(merkle_hash out, uint64_t lo, uint64_t hi, merkle_subtree_fn subtree, void *ctx)
{
	merkle_hash l, r;
	uint64_t size = hi - lo, k;
	unsigned level = 0;
	int rc;

	assert(hi > lo);
	if ((size & (size - 1)) == 0) {
		while ((UINT64_C(1) << level) < size)
			level++;
		return subtree(out, level, lo >> level, ctx);
	}
	k = split_point(size);
	if ((rc = range_by(l, lo, lo + k, subtree, ctx)) || (rc = range_by(r, lo + k, hi, subtree, ctx)))
		return rc;
	merkle_node_hash(out, l, r);
	return 0;
}

static int path_by(struct proof *p, uint64_t lo, uint64_t hi, uint64_t m, merkle_subtree_fn subtree,
		   void *ctx)
{
	merkle_hash sib;
	uint64_t k;
	int rc;

	if (hi - lo <= 1)
		return 0;
	k = split_point(hi - lo);
	if (m < lo + k) {
		if ((rc = path_by(p, lo, lo + k, m, subtree, ctx)) ||
		    (rc = range_by(sib, lo + k, hi, subtree, ctx)))
			return rc;
	} else {
		if ((rc = path_by(p, lo + k, hi, m, subtree, ctx)) ||
		    (rc = range_by(sib, lo, lo + k, subtree, ctx)))
			return rc;
	}
	proof_add(p, sib);
	return 0;
}

int merkle_inclusion_proof_by(merkle_hash **out, size_t *out_len, uint64_t n, uint64_t index,
			      merkle_subtree_fn subtree, void *ctx)
{
	struct proof p = { NULL, 0 };
	int rc;

	if (index >= n)
		return err_set(OTCM_EINVAL, NULL, "leaf %llu is not in a tree of %llu",
			       (unsigned long long)index, (unsigned long long)n);
	p.h = xcalloc(MERKLE_MAX_PROOF, sizeof(merkle_hash));
	if ((rc = path_by(&p, 0, n, index, subtree, ctx))) {
		free(p.h);
		return rc;
	}
	*out = p.h;
	*out_len = p.len;
	return 0;
}

static void subproof(struct proof *p, const merkle_hash *leaves, uint64_t n, uint64_t m, bool b)
{
	merkle_hash h;
	uint64_t k;

	if (m == n) {
		if (!b) {
			merkle_root(h, leaves, n);
			proof_add(p, h);
		}
		return;
	}
	k = split_point(n);
	if (m <= k) {
		subproof(p, leaves, k, m, b);
		merkle_root(h, leaves + k, n - k);
	} else {
		subproof(p, leaves + k, n - k, m - k, false);
		merkle_root(h, leaves, k);
	}
	proof_add(p, h);
}

int merkle_consistency_proof(merkle_hash **out, size_t *out_len, const merkle_hash *leaves,
			     uint64_t n, uint64_t m)
{
	struct proof p = { NULL, 0 };

	if (m == 0 || m > n)
		return err_set(OTCM_EINVAL, NULL, "no consistency proof from %llu to %llu leaves",
			       (unsigned long long)m, (unsigned long long)n);
	p.h = xcalloc(MERKLE_MAX_PROOF, sizeof(merkle_hash));
	subproof(&p, leaves, n, m, true);
	*out = p.h;
	*out_len = p.len;
	return 0;
}

static int proof_fails(void)
{
	return err_set(OTCM_EAUTH, NULL, "Merkle proof does not verify");
}

int merkle_inclusion_verify(uint64_t index, uint64_t size, const merkle_hash leaf,
			    const merkle_hash *proof, size_t proof_len, const merkle_hash root)
{
	uint64_t fn, sn;
	merkle_hash r;

	if (index >= size || proof_len > MERKLE_MAX_PROOF)
		return proof_fails();
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);
	for (size_t i = 0; i < proof_len; i++) {
		if (sn == 0)
			return proof_fails();
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(r, proof[i], r);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			merkle_node_hash(r, r, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !crypto_equal(r, root, MERKLE_HASH_LEN))
		return proof_fails();
	return 0;
}

int merkle_consistency_verify(uint64_t m, uint64_t n, const merkle_hash old_root,
			      const merkle_hash new_root, const merkle_hash *proof,
			      size_t proof_len)
{
	const merkle_hash *rest = proof;
	size_t nrest = proof_len;
	uint64_t fn, sn;
	merkle_hash fr, sr;

	if (m == 0 || m > n || proof_len > MERKLE_MAX_PROOF)
		return proof_fails();
	if (m == n) {
		if (proof_len != 0 || !crypto_equal(old_root, new_root, MERKLE_HASH_LEN))
			return proof_fails();
		return 0;
	}
	if (proof_len == 0)
		return proof_fails();
	/* A first tree of 2^k leaves is a complete subtree: its root starts the path. */
	if ((m & (m - 1)) == 0) {
		memcpy(fr, old_root, MERKLE_HASH_LEN);
	} else {
		memcpy(fr, proof[0], MERKLE_HASH_LEN);
		rest = proof + 1;
		nrest = proof_len - 1;
	}
	memcpy(sr, fr, MERKLE_HASH_LEN);
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (size_t i = 0; i < nrest; i++) {
		if (sn == 0)
			return proof_fails();
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(fr, rest[i], fr);
			merkle_node_hash(sr, rest[i], sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, sr, rest[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !crypto_equal(fr, old_root, MERKLE_HASH_LEN) ||
	    !crypto_equal(sr, new_root, MERKLE_HASH_LEN))
		return proof_fails();
	return 0;
}

void merkle_range_append(struct merkle_range *r, const merkle_hash leaf)
{
	assert(r->n < 64);
	memcpy(r->h[r->n], leaf, MERKLE_HASH_LEN);
	r->height[r->n++] = 0;
	/* Merge equal-height neighbours, like carrying in a binary counter. */
	while (r->n >= 2 && r->height[r->n - 1] == r->height[r->n - 2]) {
		merkle_node_hash(r->h[r->n - 2], r->h[r->n - 2], r->h[r->n - 1]);
		r->height[r->n - 2]++;
		r->n--;
	}
	r->size++;
}

void merkle_range_root(merkle_hash out, const struct merkle_range *r)
{
	if (r->n == 0) {
		crypto_sha256(out, "", 0);
		return;
	}
	memcpy(out, r->h[r->n - 1], MERKLE_HASH_LEN);
	for (unsigned i = r->n - 1; i-- > 0; )
		merkle_node_hash(out, r->h[i], out);
}

/* Where a consistency proof's hashes come from: a compact range, then leaves. */
struct split_tree {
	const struct merkle_range *left;   /* leaves 0..m-1 */
	const merkle_hash *tail;           /* leaves m..n-1 */
};

/* The hash of leaves [lo, hi): a node of the range, or computed from the tail. */
static void split_root(merkle_hash out, const struct split_tree *t, uint64_t lo, uint64_t hi)
{
	uint64_t m = t->left->size, pos = 0;

	if (lo >= m) {
		merkle_root(out, t->tail + (lo - m), hi - lo);
		return;
	}
	for (unsigned i = 0; i < t->left->n; i++) {
		uint64_t size = (uint64_t)1 << t->left->height[i];

		if (pos == lo && pos + size == hi) {
			memcpy(out, t->left->h[i], MERKLE_HASH_LEN);
			return;
		}
		pos += size;
	}
	/* RFC 9162's SUBPROOF only asks for whole range nodes or ranges past m */
	assert(!"consistency proof node straddles the range");
}

/* subproof() over leaves [lo, lo + n) of the split tree, m relative to lo. */
static void split_subproof(struct proof *p, const struct split_tree *t, uint64_t lo, uint64_t n,
			   uint64_t m, bool b)
{
	merkle_hash h;
	uint64_t k;

	if (m == n) {
		if (!b) {
			split_root(h, t, lo, lo + n);
			proof_add(p, h);
		}
		return;
	}
	k = split_point(n);
	if (m <= k) {
		split_subproof(p, t, lo, k, m, b);
		split_root(h, t, lo + k, lo + n);
	} else {
		split_subproof(p, t, lo + k, n - k, m - k, false);
		split_root(h, t, lo, lo + k);
	}
	proof_add(p, h);
}

int merkle_consistency_proof_from(merkle_hash **out, size_t *out_len, const struct merkle_range *left,
				  const merkle_hash *tail, uint64_t n)
{
	struct split_tree t = { left, tail };
	struct proof p = { NULL, 0 };
	uint64_t m = left->size;

	if (m == 0 || m > n)
		return err_set(OTCM_EINVAL, NULL, "no consistency proof from %llu to %llu leaves",
			       (unsigned long long)m, (unsigned long long)n);
	p.h = xcalloc(MERKLE_MAX_PROOF, sizeof(merkle_hash));
	split_subproof(&p, &t, 0, n, m, true);
	*out = p.h;
	*out_len = p.len;
	return 0;
}
