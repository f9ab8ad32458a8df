/*
 * core/merkle.h - Merkle tree hashing, inclusion and consistency proofs as
 * RFC 9162 (Certificate Transparency 2.0) defines them, with SHA-256:
 *
 *     leaf hash  = SHA-256(0x00 || leaf data)
 *     node hash  = SHA-256(0x01 || left || right)
 *     empty tree = SHA-256("")
 *
 * Pure functions over arrays of leaf hashes; no I/O.  The audit trail uses
 * the event hash (32 bytes) as the leaf data of event seq, at index seq-1.
 *
 * Proofs are arrays of 32-byte hashes, allocated (free() them) and at most
 * MERKLE_MAX_PROOF long.  Indices and sizes are uint64_t.
 *
 * Thread-safety: all functions are.
 */
#ifndef OTCM_CORE_MERKLE_H
#define OTCM_CORE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
#define MERKLE_MAX_PROOF 128

typedef unsigned char merkle_hash[MERKLE_HASH_LEN];

/* SHA-256(0x00 || data). */
void merkle_leaf_hash(merkle_hash out, const void *data, size_t len);

/* SHA-256(0x01 || left || right). */
void merkle_node_hash(merkle_hash out, const merkle_hash left, const merkle_hash right);

/* MTH(D[n]) of n leaf hashes; n may be 0 (the hash of the empty string). */
void merkle_root(merkle_hash out, const merkle_hash *leaves, uint64_t n);

/*
 * PATH(index, D[n]) (RFC 9162 2.1.3.1): *out gets *out_len hashes, owned by
 * the caller.  OTCM_EINVAL unless index < n.
 */
int merkle_inclusion_proof(merkle_hash **out, size_t *out_len, const merkle_hash *leaves,
			   uint64_t n, uint64_t index);

/*
 * The root of a complete subtree: the 2^level leaves from idx * 2^level on
 * (level 0: the leaf itself).  Returns 0, or a negative code that
 * merkle_inclusion_proof_by() passes up unchanged.
 */
typedef int (*merkle_subtree_fn)(merkle_hash out, unsigned level, uint64_t idx, void *ctx);

/*
 * PATH(index, D[n]) as merkle_inclusion_proof() gives it, built from the
 * roots of complete subtrees that `subtree` supplies instead of from all n
 * leaves: O(log n) calls, each for a subtree inside leaves 0..n-1 (every
 * node of the RFC's tree that is not complete is made of such subtrees).
 * *out gets *out_len hashes, owned by the caller.  OTCM_EINVAL unless
 * index < n; else what `subtree` returned when it failed.
 */
int merkle_inclusion_proof_by(merkle_hash **out, size_t *out_len, uint64_t n, uint64_t index,
			      merkle_subtree_fn subtree, void *ctx);

/*
 * Verify (RFC 9162 2.1.3.2) that leaf hash `leaf` is at `index` in the tree
 * of `size` leaves with root `root`.  0 when it is, OTCM_EAUTH otherwise.
 */
int merkle_inclusion_verify(uint64_t index, uint64_t size, const merkle_hash leaf,
			    const merkle_hash *proof, size_t proof_len, const merkle_hash root);

/*
 * PROOF(m, D[n]) (RFC 9162 2.1.4.1) that the tree of the first m leaves is a
 * prefix of the tree of all n: *out gets *out_len hashes, owned by the
 * caller (empty when m == n).  OTCM_EINVAL unless 0 < m <= n.
 */
int merkle_consistency_proof(merkle_hash **out, size_t *out_len, const merkle_hash *leaves,
			     uint64_t n, uint64_t m);

/*
 * Verify (RFC 9162 2.1.4.2) a consistency proof between the tree of size
 * `m` with root `old_root` and the tree of size `n` with root `new_root`.
 * 0 when it holds, OTCM_EAUTH otherwise (also for 0 == m or m > n).
 */
int merkle_consistency_verify(uint64_t m, uint64_t n, const merkle_hash old_root,
			      const merkle_hash new_root, const merkle_hash *proof,
			      size_t proof_len);

/*
 * A compact range: the roots of the complete subtrees covering leaves
 * 0..size-1, enough to append leaves one by one and get the root of every
 * prefix in one pass (O(log n) memory).  Plain data; start with
 * MERKLE_RANGE_INIT.
 */
struct merkle_range {
	merkle_hash h[64];
	unsigned height[64];
	unsigned n;
	uint64_t size;
};
#define MERKLE_RANGE_INIT { .n = 0, .size = 0 }

void merkle_range_append(struct merkle_range *r, const merkle_hash leaf);

/* The root of the leaves appended so far (equals merkle_root over them). */
void merkle_range_root(merkle_hash out, const struct merkle_range *r);

/*
 * The same proof from the compact range of the first m leaves (`left`,
 * left->size == m) and the leaf hashes of leaves m..n-1 (`tail`, n - m of
 * them): every node of the proof inside the first m leaves is a node of
 * that range, so only the leaves after m are needed, O(n - m) instead of
 * O(n).  Equals merkle_consistency_proof() over all n leaves.  OTCM_EINVAL
 * unless 0 < m <= n.
 */
int merkle_consistency_proof_from(merkle_hash **out, size_t *out_len, const struct merkle_range *left,
				  const merkle_hash *tail, uint64_t n);

#endif
