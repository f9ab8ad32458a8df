/*
 * tests/unit/storage/test_checkpoint_tail.c - verifying the audit trail
 * from the newest checkpoint on, against a real database: checkpoints are
 * reused while they cover what is asked for, the next one is signed from
 * the stored compact range and equals the one the whole chain gives, and
 * an edit after the checkpoint, or of the hashes it signs, is found.
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

static void append(struct db_conn *c, int n)
{
	struct audit_event ev = {
		.actor = "system", .action = "test.event", .object_type = "test", .reason = "r",
	};

	for (int i = 0; i < n; i++) {
		assert_int_equal(db_begin(c), 0);
		assert_int_equal(audit_append(NULL, c, &ev), 0);
		assert_int_equal(db_commit(c), 0);
	}
}

/* Run sql as the superuser with the append-only triggers off. */
static void tamper(struct db_conn *c, const char *sql)
{
	assert_int_equal(db_exec(NULL, c, "ALTER TABLE audit_events DISABLE TRIGGER USER", 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, sql, 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, "ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update",
				 0, NULL, false), 0);
}

static void tail(struct checkpoint_tail *t, struct db_conn *c)
{
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];

	crypto_ed25519_public(pub, key);
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(checkpoint_verify_tail(t, c, pub), 0);
	assert_int_equal(db_rollback(c), 0);
}

static void test_cover_reuses_and_extends(void **state)
{
	struct db_conn *c = NULL;
	struct checkpoint *cp = NULL;
	struct checkpoint_tail t;
	struct audit_chain chain = { 0 };
	struct checkpoint_check ck = { 0 };
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	bool made = true;

	(void)state;
	crypto_ed25519_public(pub, key);
	assert_int_equal(db_connect(&c, tdb.conninfo), 0);
	assert_int_equal(checkpoint_cover(&cp, &made, c, key, "otcm/unit", 0), OTCM_ENOTFOUND);
	append(c, 5);

	/* no checkpoint yet: the whole chain is recomputed and the first one signed */
	assert_int_equal(checkpoint_cover(&cp, &made, c, key, "otcm/unit", 0), 0);
	assert_true(made);
	assert_int_equal(cp->tree_size, 5);
	checkpoint_free(cp);
	assert_int_equal(checkpoint_cover(&cp, &made, c, key, "otcm/unit", 0), 0);
	assert_false(made);
	assert_int_equal(cp->tree_size, 5);
	checkpoint_free(cp);

	/* events 6 to 8 arrive: a report that needs events 1 to 4 reuses checkpoint 5 */
	append(c, 3);
	assert_int_equal(checkpoint_cover(&cp, &made, c, key, "otcm/unit", 4), 0);
	assert_false(made);
	assert_int_equal(cp->tree_size, 5);
	checkpoint_free(cp);
	tail(&t, c);
	assert_int_equal(t.trusted, 5);
	assert_int_equal(t.verified, 8);
	assert_int_equal(t.bad_seq, 0);
	assert_int_equal(t.bad_size, 0);
	checkpoint_tail_release(&t);

	/* one that needs event 7 gets a new checkpoint, from checkpoint 5's compact range */
	assert_int_equal(checkpoint_cover(&cp, &made, c, key, "otcm/unit", 7), 0);
	assert_true(made);
	assert_int_equal(cp->tree_size, 8);
	checkpoint_free(cp);

	/* and both are what the whole chain gives */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(audit_verify_chain(&chain, c), 0);
	assert_int_equal(checkpoint_verify_all(&ck, c, &chain, pub), 0);
	assert_int_equal(ck.bad_size, 0);
	assert_int_equal(ck.checked, 2);
	assert_int_equal(db_rollback(c), 0);
	audit_chain_release(&chain);

	/* the consistency proof from 5 to 8, made from checkpoint 5's range and events 6 to 8, holds */
	{
		struct checkpoint *five = NULL, *eight = NULL;
		json_t *proof = NULL, *step;
		merkle_hash path[MERKLE_MAX_PROOF];
		size_t i;

		assert_int_equal(checkpoint_get(&five, c, 5), 0);
		assert_int_equal(checkpoint_get(&eight, c, 8), 0);
		assert_int_equal(checkpoint_consistency(&proof, c, 5, 8), 0);
		json_array_foreach(json_object_get(proof, "proof"), i, step)
			assert_int_equal(crypto_unhex(path[i], 32, json_string_value(step)), 0);
		assert_int_equal(merkle_consistency_verify(5, 8, five->root, eight->root, path,
							   json_array_size(json_object_get(proof, "proof"))), 0);
		assert_int_equal(merkle_consistency_verify(5, 8, eight->root, five->root, path,
							   json_array_size(json_object_get(proof, "proof"))), OTCM_EAUTH);
		json_decref(proof);
		checkpoint_free(five);
		checkpoint_free(eight);
	}

	/* the proofs of several events at once are those of each on its own */
	{
		static const int64_t seqs[] = { 1, 5, 8 };
		json_t *many = NULL, *one = NULL;

		assert_int_equal(checkpoint_inclusions(&many, c, seqs, 3, 8), 0);
		assert_int_equal(json_array_size(many), 3);
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(checkpoint_inclusion(&one, c, seqs[i], 8), 0);
			json_object_del(one, "checkpoint");
			assert_true(json_equal(one, json_array_get(many, i)));
			json_decref(one);
		}
		json_decref(many);
		assert_int_equal(checkpoint_inclusions(&many, c, (const int64_t[]){ 9 }, 1, 8), OTCM_EINVAL);
	}

	/* an event after the newest checkpoint edited: found, nothing signed */
	append(c, 2);
	tamper(c, "UPDATE audit_events SET reason = 'edited' WHERE seq = 10");
	tail(&t, c);
	assert_int_equal(t.bad_seq, 10);
	checkpoint_tail_release(&t);
	assert_int_equal(checkpoint_cover(&cp, &made, c, key, "otcm/unit", 0), OTCM_ERULE);
	tamper(c, "UPDATE audit_events SET reason = 'r' WHERE seq = 10");

	/* the hash of the newest checkpoint's last event changed: its root no longer holds */
	tamper(c, "UPDATE audit_events SET hash = sha256(hash) WHERE seq = 8");
	tail(&t, c);
	assert_int_equal(t.bad_size, 8);
	assert_non_null(strstr(t.problem, "do not have the signed root"));
	checkpoint_tail_release(&t);
	assert_int_equal(checkpoint_cover(&cp, &made, c, key, "otcm/unit", 0), OTCM_ERULE);
	tamper(c, "UPDATE audit_events e SET hash = sha256(e.prev_hash || "
		  "convert_to(audit_event_canonical(e), 'UTF8')) WHERE seq = 8");

	/* an edit of a signed event's fields alone is left to the whole chain's check */
	tamper(c, "UPDATE audit_events SET reason = 'edited' WHERE seq = 3");
	tail(&t, c);
	assert_int_equal(t.bad_seq, 0);
	assert_int_equal(t.bad_size, 0);
	assert_int_equal(t.verified, 10);
	checkpoint_tail_release(&t);
	assert_int_equal(checkpoint_write(&cp, &made, c, key, "otcm/unit"), OTCM_ERULE);
	tamper(c, "UPDATE audit_events SET reason = 'r' WHERE seq = 3");
	assert_int_equal(checkpoint_write(&cp, &made, c, key, "otcm/unit"), 0);
	assert_int_equal(cp->tree_size, 10);
	checkpoint_free(cp);
	db_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cover_reuses_and_extends),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
