/*
 * tests/unit/storage/test_checkpoint.c - the audit chain and its signed
 * checkpoints against a real database: the C encoding equals the SQL one
 * for awkward values, checkpoints sign and verify, proofs verify, and a
 * changed event is found by the chain and by the checkpoint.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/merkle.h"
#include "core/signednote.h"
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

static void append(struct db_conn *c, const char *reason, const json_t *after)
{
	struct audit_event ev = {
		.actor_id = 0, .actor = "system", .role = "admin", .source = "::1",
		.action = "test.event", .object_type = "test", .object_id = "o\"b\\j\n\x01\xc3\xa9",
		.after = after, .reason = reason,
	};

	assert_int_equal(db_begin(c), 0);
	assert_int_equal(audit_append(NULL, c, &ev), 0);
	assert_int_equal(db_commit(c), 0);
}

static void test_sql_encoding_matches(void **state)
{
	struct db_conn *c = NULL;
	struct db_res *r = NULL;
	json_t *after = json_pack("{s:f, s:s, s:[i, n, b], s:{s:s}}", "x", 0.1, "t\"ab", "\t\x7f\xe2\x82\xac",
				  "list", 1, 1, "z", "k", "v");

	(void)state;
	assert_int_equal(db_connect(&c, tdb.conninfo), 0);
	append(c, "tab\there \x1f end", after);
	append(c, NULL, NULL);
	/* every stored hash is SHA-256(prev_hash || the SQL encoding) */
	assert_int_equal(db_exec(&r, c, "SELECT count(*) FROM audit_events e WHERE"
				 " hash <> sha256(prev_hash || convert_to(audit_event_canonical(e), 'UTF8'))",
				 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "0");
	db_res_free(r);
	json_decref(after);
	db_disconnect(c);
}

static void test_checkpoint_sign_prove_verify(void **state)
{
	struct db_conn *c = NULL;
	struct checkpoint *cp = NULL, *again = NULL;
	struct audit_chain chain = { 0 };
	struct checkpoint_check ck = { 0 };
	struct signednote *note = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	json_t *proof = NULL;
	bool made = false;

	(void)state;
	assert_int_equal(db_connect(&c, tdb.conninfo), 0);
	for (int i = 0; i < 9; i++)
		append(c, "more", NULL);
	assert_int_equal(checkpoint_write(&cp, &made, c, key, "otcm/unit"), 0);
	assert_true(made);
	assert_int_equal(cp->tree_size, 11);
	assert_int_equal(checkpoint_write(&again, &made, c, key, "otcm/unit"), 0);
	assert_false(made);
	assert_int_equal(again->tree_size, 11);
	crypto_ed25519_public(pub, key);
	assert_int_equal(signednote_parse(&note, cp->note, strlen(cp->note)), 0);
	assert_int_equal(signednote_verify(note, "otcm/unit", pub), 0);

	/* inclusion proof of event 7 verifies against the signed root */
	assert_int_equal(checkpoint_inclusion(&proof, c, 7, 0), 0);
	{
		json_t *p = json_object_get(proof, "proof");
		merkle_hash path[MERKLE_MAX_PROOF], ev, leaf;
		size_t n = json_array_size(p);

		for (size_t i = 0; i < n; i++)
			assert_int_equal(crypto_unhex(path[i], 32, json_string_value(json_array_get(p, i))), 0);
		assert_int_equal(crypto_unhex(ev, 32, json_string_value(json_object_get(proof, "event_hash"))), 0);
		merkle_leaf_hash(leaf, ev, 32);
		assert_int_equal(merkle_inclusion_verify(6, 11, leaf, path, n, cp->root), 0);
	}
	json_decref(proof);

	assert_int_equal(db_begin(c), 0);
	assert_int_equal(audit_verify_chain(&chain, c), 0);
	assert_int_equal(chain.bad_seq, 0);
	assert_int_equal(chain.verified, 11);
	assert_int_equal(checkpoint_verify_all(&ck, c, &chain, pub), 0);
	assert_int_equal(ck.bad_size, 0);
	assert_int_equal(ck.checked, 1);
	assert_int_equal(db_rollback(c), 0);
	audit_chain_release(&chain);

	/* a superuser changes event 4 with the triggers off */
	assert_int_equal(db_exec(NULL, c, "ALTER TABLE audit_events DISABLE TRIGGER USER", 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, "UPDATE audit_events SET reason = 'edited' WHERE seq = 4",
				 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, "ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update",
				 0, NULL, false), 0);
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(audit_verify_chain(&chain, c), 0);
	assert_int_equal(chain.bad_seq, 4);
	assert_int_equal(checkpoint_verify_all(&ck, c, &chain, pub), 0);
	assert_int_equal(ck.bad_size, 11);
	assert_int_equal(db_rollback(c), 0);
	audit_chain_release(&chain);
	/* and nothing more is signed over it */
	append(c, "after the edit", NULL);
	checkpoint_free(again);
	again = NULL;
	assert_int_equal(checkpoint_write(&again, &made, c, key, "otcm/unit"), OTCM_ERULE);

	signednote_free(note);
	checkpoint_free(cp);
	checkpoint_free(again);
	db_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_encoding_matches),
		cmocka_unit_test(test_checkpoint_sign_prove_verify),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
