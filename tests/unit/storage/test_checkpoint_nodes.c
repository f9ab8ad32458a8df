/*
 * tests/unit/storage/test_checkpoint_nodes.c - inclusion proofs from stored
 * subtree hashes against a real database: signing a checkpoint stores every
 * complete subtree of 256 events and up (and only adds to them later), each
 * equal to the root of its events; proofs built from them verify against
 * the signed roots of the newest and of an older checkpoint; they are really
 * built from the stored rows (a changed row breaks exactly the proofs that
 * use it); and without the rows proofs are built from every event as before.
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
#include "core/log.h"
#include "core/merkle.h"
#include "storage/audit.h"
#include "storage/checkpoint.h"
#include "storage/db.h"
#include "testdb.h"

static struct testdb tdb;
static struct crypto_ed25519_key *key;

static int group_setup(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR);
	return testdb_setup_migrated(&tdb) || crypto_ed25519_generate(&key) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	crypto_ed25519_free(key);
	testdb_teardown(&tdb);
	return 0;
}

/* n events in one transaction. */
static void append_many(struct db_conn *c, int n)
{
	struct audit_event ev = {
		.actor_id = 0, .actor = "system", .role = "admin", .source = "::1",
		.action = "test.event", .object_type = "test", .object_id = "1",
	};

	assert_int_equal(db_begin(c), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(audit_append(NULL, c, &ev), 0);
	assert_int_equal(db_commit(c), 0);
}

static void sign(struct checkpoint **out, struct db_conn *c, uint64_t want_size)
{
	bool made = false;

	int rc = checkpoint_write(out, &made, c, key, "otcm/unit");

	if (rc)
		print_error("%s\n", err_message());
	assert_int_equal(rc, 0);
	assert_true(made);
	assert_int_equal((*out)->tree_size, want_size);
}

/* Whether the proof of event seq in the tree of cp verifies against cp's root. */
static bool proves(struct db_conn *c, const struct checkpoint *cp, int64_t seq)
{
	json_t *list = NULL, *p, *hexes;
	merkle_hash path[MERKLE_MAX_PROOF], ev, leaf;
	size_t n;
	bool ok;

	assert_int_equal(checkpoint_inclusions(&list, c, &seq, 1, cp->tree_size), 0);
	p = json_array_get(list, 0);
	assert_int_equal(json_integer_value(json_object_get(p, "seq")), seq);
	hexes = json_object_get(p, "proof");
	n = json_array_size(hexes);
	assert_true(n <= MERKLE_MAX_PROOF);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(crypto_unhex(path[i], 32, json_string_value(json_array_get(hexes, i))), 0);
	assert_int_equal(crypto_unhex(ev, 32, json_string_value(json_object_get(p, "event_hash"))), 0);
	merkle_leaf_hash(leaf, ev, 32);
	ok = merkle_inclusion_verify((uint64_t)seq - 1, cp->tree_size, leaf, path, n, cp->root) == 0;
	json_decref(list);
	return ok;
}

/* Every stored node equals the root of its events, and there are `want` of them. */
static void nodes_are_roots(struct db_conn *c, size_t want)
{
	struct db_res *r = NULL, *e = NULL;
	merkle_hash *leaves;
	size_t n;

	assert_int_equal(db_exec(&e, c, "SELECT hash FROM audit_events ORDER BY seq", 0, NULL, true), 0);
	n = db_res_rows(e);
	leaves = calloc(n, sizeof(merkle_hash));
	for (size_t i = 0; i < n; i++)
		merkle_leaf_hash(leaves[i], db_res_get(e, i, 0), 32);
	assert_int_equal(db_exec(&r, c, "SELECT level::text, idx::text, hash FROM audit_merkle_nodes", 0, NULL,
				 true), 0);
	assert_int_equal(db_res_rows(r), want);
	for (size_t i = 0; i < db_res_rows(r); i++) {
		unsigned level = (unsigned)atoi(db_res_get(r, i, 0));
		uint64_t idx = strtoull(db_res_get(r, i, 1), NULL, 10);
		merkle_hash root;

		assert_true(((idx + 1) << level) <= n);
		merkle_root(root, leaves + (idx << level), UINT64_C(1) << level);
		assert_memory_equal(root, db_res_get(r, i, 2), 32);
	}
	free(leaves);
	db_res_free(r);
	db_res_free(e);
}

static void superuser(struct db_conn *c, const char *sql)
{
	assert_int_equal(db_exec(NULL, c, "ALTER TABLE audit_merkle_nodes DISABLE TRIGGER USER", 0, NULL, false),
			 0);
	assert_int_equal(db_exec(NULL, c, sql, 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, "ALTER TABLE audit_merkle_nodes ENABLE ALWAYS TRIGGER"
				 " audit_merkle_nodes_no_update", 0, NULL, false), 0);
}

static void test_proofs_from_stored_subtrees(void **state)
{
	static const int64_t seqs[] = { 1, 2, 255, 256, 257, 600, 1024, 1025, 1999, 2000 };
	static const int64_t later[] = { 5, 512, 2001, 2048, 2049, 2815, 2816, 2999, 3000 };
	struct db_conn *c = NULL;
	struct checkpoint *old = NULL, *cp = NULL, *again = NULL;

	(void)state;
	assert_int_equal(db_connect(&c, tdb.conninfo), 0);
	append_many(c, 2000);
	sign(&old, c, 2000);
	/* levels 8..10 of 2000 events: 7 + 3 + 1 subtrees */
	nodes_are_roots(c, 11);
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		assert_true(proves(c, old, seqs[i]));

	/* a later checkpoint adds the new subtrees, some on top of stored ones */
	append_many(c, 1000);
	sign(&cp, c, 3000);
	nodes_are_roots(c, 11 + 5 + 2 + 1);
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
		assert_true(proves(c, cp, later[i]));
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		assert_true(proves(c, old, seqs[i]) && proves(c, cp, seqs[i]));
	/* several events at once: the same proofs as one by one */
	{
		json_t *list = NULL, *one = NULL;

		assert_int_equal(checkpoint_inclusions(&list, c, later, 3, cp->tree_size), 0);
		assert_int_equal(json_array_size(list), 3);
		assert_int_equal(checkpoint_inclusions(&one, c, &later[2], 1, cp->tree_size), 0);
		assert_true(json_equal(json_array_get(list, 2), json_array_get(one, 0)));
		json_decref(list);
		json_decref(one);
	}
	{
		json_t *list = NULL;
		int64_t beyond = 3001;

		assert_int_equal(checkpoint_inclusions(&list, c, &beyond, 1, cp->tree_size), OTCM_EINVAL);
	}

	/* without stored subtrees (a trail signed before they were kept) every event is read */
	superuser(c, "DELETE FROM audit_merkle_nodes");
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
		assert_true(proves(c, cp, later[i]));
	/* and the next checkpoint stores them all again */
	append_many(c, 1);
	sign(&again, c, 3001);
	nodes_are_roots(c, 11 + 5 + 2 + 1);

	/* the proofs are built from the rows: a changed row breaks the proofs that use it */
	superuser(c, "UPDATE audit_merkle_nodes SET hash = sha256(hash) WHERE level = 9 AND idx = 1");
	assert_false(proves(c, cp, 5));       /* chunks 2 and 3 are its sibling at level 9 */
	assert_true(proves(c, cp, 600));      /* in chunk 2: only chunk 3's row, unchanged */
	assert_true(proves(c, cp, 2999));

	checkpoint_free(old);
	checkpoint_free(cp);
	checkpoint_free(again);
	db_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proofs_from_stored_subtrees),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
