/*
 * tests/unit/core/test_merkle.c - RFC 9162 hashing and proofs: the
 * Certificate Transparency test tree of eight leaves (values recomputed
 * with an independent Python reference of RFC 9162 section 2.1), and every
 * inclusion and consistency proof of trees of 1..64 leaves verifying, while
 * any flipped bit, wrong leaf, index or root fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/merkle.h"

static const char *const leaf_hex[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static merkle_hash test_leaves[8];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 8; i++) {
		unsigned char data[16];
		size_t n = strlen(leaf_hex[i]) / 2;

		if (n)
			assert_int_equal(crypto_unhex(data, n, leaf_hex[i]), 0);
		merkle_leaf_hash(test_leaves[i], data, n);
	}
	return 0;
}

static void assert_hash(const merkle_hash h, const char *hex)
{
	char got[2 * MERKLE_HASH_LEN + 1];

	crypto_hex(got, h, MERKLE_HASH_LEN);
	assert_string_equal(got, hex);
}

static void test_roots(void **state)
{
	merkle_hash root;

	(void)state;
	for (uint64_t n = 0; n <= 8; n++) {
		struct merkle_range r = MERKLE_RANGE_INIT;

		merkle_root(root, test_leaves, n);
		assert_hash(root, roots[n]);
		for (uint64_t i = 0; i < n; i++)
			merkle_range_append(&r, test_leaves[i]);
		merkle_range_root(root, &r);
		assert_hash(root, roots[n]);
	}
}

static void check_proof(const merkle_hash *proof, size_t len, const char *const *want, size_t nwant)
{
	assert_int_equal(len, nwant);
	for (size_t i = 0; i < len; i++)
		assert_hash(proof[i], want[i]);
}

static void test_known_proofs(void **state)
{
	static const char *const path_0_8[] = {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	};
	static const char *const path_5_8[] = {
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	};
	static const char *const path_2_3[] = {
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	};
	static const char *const cons_6_8[] = {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	};
	static const char *const cons_2_5[] = {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	};
	merkle_hash *p = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(merkle_inclusion_proof(&p, &n, test_leaves, 8, 0), 0);
	check_proof(p, n, path_0_8, 3);
	free(p);
	assert_int_equal(merkle_inclusion_proof(&p, &n, test_leaves, 8, 5), 0);
	check_proof(p, n, path_5_8, 3);
	free(p);
	assert_int_equal(merkle_inclusion_proof(&p, &n, test_leaves, 3, 2), 0);
	check_proof(p, n, path_2_3, 1);
	free(p);
	assert_int_equal(merkle_consistency_proof(&p, &n, test_leaves, 8, 1), 0);
	check_proof(p, n, path_0_8, 3);
	free(p);
	assert_int_equal(merkle_consistency_proof(&p, &n, test_leaves, 8, 6), 0);
	check_proof(p, n, cons_6_8, 3);
	free(p);
	assert_int_equal(merkle_consistency_proof(&p, &n, test_leaves, 5, 2), 0);
	check_proof(p, n, cons_2_5, 2);
	free(p);
	assert_int_equal(merkle_consistency_proof(&p, &n, test_leaves, 8, 8), 0);
	assert_int_equal(n, 0);
	free(p);

	assert_int_equal(merkle_inclusion_proof(&p, &n, test_leaves, 8, 8), OTCM_EINVAL);
	assert_int_equal(merkle_consistency_proof(&p, &n, test_leaves, 8, 0), OTCM_EINVAL);
	assert_int_equal(merkle_consistency_proof(&p, &n, test_leaves, 8, 9), OTCM_EINVAL);
}

#define MAXN 64

static void test_every_inclusion_proof(void **state)
{
	merkle_hash leaves[MAXN], root, bad;

	(void)state;
	for (int i = 0; i < MAXN; i++)
		merkle_leaf_hash(leaves[i], &i, sizeof(i));
	for (uint64_t n = 1; n <= MAXN; n++) {
		merkle_root(root, leaves, n);
		for (uint64_t i = 0; i < n; i++) {
			merkle_hash *p = NULL;
			size_t len = 0;

			assert_int_equal(merkle_inclusion_proof(&p, &len, leaves, n, i), 0);
			assert_int_equal(merkle_inclusion_verify(i, n, leaves[i], p, len, root), 0);
			/* wrong leaf, index, size, root, or any flipped bit of the proof */
			memcpy(bad, leaves[i], sizeof(bad));
			bad[i % 32] ^= 1;
			assert_int_equal(merkle_inclusion_verify(i, n, bad, p, len, root), OTCM_EAUTH);
			if (n > 1)
				assert_int_equal(merkle_inclusion_verify((i + 1) % n, n, leaves[i], p, len, root),
						 OTCM_EAUTH);
			/* (a wrong size may share the proof's shape: the root binds the size) */
			assert_int_equal(merkle_inclusion_verify(i, i, leaves[i], p, len, root), OTCM_EAUTH);
			assert_int_equal(merkle_inclusion_verify(i, n, leaves[i], p, len, bad), OTCM_EAUTH);
			for (size_t k = 0; k < len; k++) {
				p[k][(k * 7 + i) % 32] ^= 0x80;
				assert_int_equal(merkle_inclusion_verify(i, n, leaves[i], p, len, root), OTCM_EAUTH);
				p[k][(k * 7 + i) % 32] ^= 0x80;
			}
			if (len > 0)
				assert_int_equal(merkle_inclusion_verify(i, n, leaves[i], p, len - 1, root),
						 OTCM_EAUTH);
			free(p);
		}
	}
}

static void test_every_consistency_proof(void **state)
{
	merkle_hash leaves[MAXN], roots_[MAXN + 1];

	(void)state;
	for (int i = 0; i < MAXN; i++)
		merkle_leaf_hash(leaves[i], &i, sizeof(i));
	for (uint64_t n = 1; n <= MAXN; n++)
		merkle_root(roots_[n], leaves, n);
	for (uint64_t n = 1; n <= MAXN; n++) {
		for (uint64_t m = 1; m <= n; m++) {
			merkle_hash *p = NULL;
			size_t len = 0;

			assert_int_equal(merkle_consistency_proof(&p, &len, leaves, n, m), 0);
			assert_int_equal(merkle_consistency_verify(m, n, roots_[m], roots_[n], p, len), 0);
			if (m < n) {
				assert_int_equal(merkle_consistency_verify(m, n, roots_[n], roots_[m], p, len),
						 OTCM_EAUTH);
				assert_int_equal(merkle_consistency_verify(m, n, roots_[m - 1 ? m - 1 : n],
									   roots_[n], p, len), OTCM_EAUTH);
				for (size_t k = 0; k < len; k++) {
					p[k][(k + m) % 32] ^= 0x01;
					assert_int_equal(merkle_consistency_verify(m, n, roots_[m], roots_[n], p, len),
							 OTCM_EAUTH);
					p[k][(k + m) % 32] ^= 0x01;
				}
			}
			free(p);
		}
	}
	assert_int_equal(merkle_consistency_verify(0, 4, roots_[1], roots_[4], NULL, 0), OTCM_EAUTH);
	assert_int_equal(merkle_consistency_verify(5, 4, roots_[4], roots_[4], NULL, 0), OTCM_EAUTH);
}

/* From the compact range of the first m leaves and the rest: the very proof all n leaves give. */
static void test_consistency_proof_from_a_range(void **state)
{
	merkle_hash leaves[MAXN];

	(void)state;
	for (int i = 0; i < MAXN; i++)
		merkle_leaf_hash(leaves[i], &i, sizeof(i));
	for (uint64_t n = 1; n <= MAXN; n++) {
		for (uint64_t m = 1; m <= n; m++) {
			struct merkle_range left = MERKLE_RANGE_INIT;
			merkle_hash *full = NULL, *from = NULL;
			size_t full_len = 0, from_len = 0;

			for (uint64_t i = 0; i < m; i++)
				merkle_range_append(&left, leaves[i]);
			assert_int_equal(merkle_consistency_proof(&full, &full_len, leaves, n, m), 0);
			assert_int_equal(merkle_consistency_proof_from(&from, &from_len, &left, leaves + m, n), 0);
			assert_int_equal(from_len, full_len);
			assert_memory_equal(from, full, full_len * sizeof(merkle_hash));
			free(full);
			free(from);
		}
	}
	{
		struct merkle_range empty = MERKLE_RANGE_INIT;
		merkle_hash *p = NULL;
		size_t len = 0;

		assert_int_equal(merkle_consistency_proof_from(&p, &len, &empty, leaves, 4), OTCM_EINVAL);
	}
}

/* Subtrees of an array of leaves, counting the calls and refusing any subtree outside it. */
struct by_leaves {
	const merkle_hash *leaves;
	uint64_t n;
	unsigned calls;
	uint64_t fail_at;   /* a subtree starting at this leaf fails (UINT64_MAX: none) */
};

static int subtree_of(merkle_hash out, unsigned level, uint64_t idx, void *ctx)
{
	struct by_leaves *b = ctx;
	uint64_t lo = idx << level, size = UINT64_C(1) << level;

	assert_true(lo + size <= b->n);
	b->calls++;
	if (lo == b->fail_at)
		return err_set(OTCM_ENOTFOUND, NULL, "subtree %u/%llu is not stored", level,
			       (unsigned long long)idx);
	merkle_root(out, b->leaves + lo, size);
	return 0;
}

static void test_inclusion_proof_by_subtrees(void **state)
{
	merkle_hash leaves[300];

	(void)state;
	for (int i = 0; i < 300; i++)
		merkle_leaf_hash(leaves[i], &i, sizeof(i));
	for (uint64_t n = 1; n <= 300; n += (n < 70 ? 1 : 13)) {
		for (uint64_t i = 0; i < n; i++) {
			struct by_leaves b = { leaves, n, 0, UINT64_MAX };
			merkle_hash *want = NULL, *got = NULL;
			size_t wlen = 0, glen = 0;

			assert_int_equal(merkle_inclusion_proof(&want, &wlen, leaves, n, i), 0);
			assert_int_equal(merkle_inclusion_proof_by(&got, &glen, n, i, subtree_of, &b), 0);
			assert_int_equal(glen, wlen);
			if (wlen)
				assert_memory_equal(got, want, wlen * sizeof(merkle_hash));
			/* O(log n): at most two subtrees per level */
			assert_true(b.calls <= 2 * 9 + 1);
			free(want);
			free(got);
		}
	}
	{
		struct by_leaves b = { leaves, 300, 0, 256 };
		merkle_hash *p = NULL;
		size_t len = 0;

		/* a subtree that cannot be had fails the proof with its code */
		assert_int_equal(merkle_inclusion_proof_by(&p, &len, 300, 3, subtree_of, &b), OTCM_ENOTFOUND);
		assert_null(p);
		assert_int_equal(merkle_inclusion_proof_by(&p, &len, 300, 300, subtree_of, &b), OTCM_EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_known_proofs),
		cmocka_unit_test(test_every_inclusion_proof),
		cmocka_unit_test(test_every_consistency_proof),
		cmocka_unit_test(test_consistency_proof_from_a_range),
		cmocka_unit_test(test_inclusion_proof_by_subtrees),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
