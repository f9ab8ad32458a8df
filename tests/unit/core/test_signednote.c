/*
 * tests/unit/core/test_signednote.c - Ed25519 against RFC 8032 test vector
 * 1, key files, and C2SP signed notes: round trip, key ids, rejection of
 * changed texts, wrong keys and malformed notes, checkpoint bodies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/signednote.h"

/* RFC 8032 section 7.1, TEST 1 (empty message). */
static const char rfc_secret[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char rfc_public[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char rfc_sig[] =
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

static struct crypto_ed25519_key *rfc_key(void)
{
	unsigned char seed[32];
	struct crypto_ed25519_key *k = NULL;

	assert_int_equal(crypto_unhex(seed, 32, rfc_secret), 0);
	assert_int_equal(crypto_ed25519_from_seed(&k, seed), 0);
	return k;
}

static void test_rfc8032_vector1(void **state)
{
	struct crypto_ed25519_key *k = rfc_key();
	unsigned char pub[32], sig[64];
	char hex[129];

	(void)state;
	crypto_ed25519_public(pub, k);
	crypto_hex(hex, pub, 32);
	assert_string_equal(hex, rfc_public);
	assert_int_equal(crypto_ed25519_sign(sig, k, "", 0), 0);
	crypto_hex(hex, sig, 64);
	assert_string_equal(hex, rfc_sig);
	assert_int_equal(crypto_ed25519_verify(pub, "", 0, sig), 0);
	assert_int_equal(crypto_ed25519_verify(pub, "x", 1, sig), OTCM_EAUTH);
	sig[0] ^= 1;
	assert_int_equal(crypto_ed25519_verify(pub, "", 0, sig), OTCM_EAUTH);
	crypto_ed25519_free(k);
}

static void test_key_files(void **state)
{
	char dir[] = "/tmp/otcm-keytest.XXXXXX", *path, *pem;
	struct crypto_ed25519_key *k = NULL, *k2 = NULL;
	unsigned char pub[32], pub2[32];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/server.key", dir);
	assert_int_equal(crypto_ed25519_load(&k, path), OTCM_ENOTFOUND);
	assert_int_equal(crypto_ed25519_generate(&k), 0);
	assert_int_equal(crypto_ed25519_save(k, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(crypto_ed25519_save(k, path), OTCM_ECONFLICT);
	assert_int_equal(crypto_ed25519_load(&k2, path), 0);
	crypto_ed25519_public(pub, k);
	crypto_ed25519_public(pub2, k2);
	assert_memory_equal(pub, pub2, 32);
	pem = crypto_ed25519_public_pem(pub);
	memset(pub2, 0, 32);
	assert_int_equal(crypto_ed25519_public_from_pem(pub2, pem, strlen(pem)), 0);
	assert_memory_equal(pub, pub2, 32);
	assert_int_equal(crypto_ed25519_public_from_pem(pub2, "nope", 4), OTCM_EINVAL);
	crypto_ed25519_free(k2);
	k2 = NULL;
	/* a key others may read is refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(crypto_ed25519_load(&k2, path), OTCM_EFORBIDDEN);
	unlink(path);
	rmdir(dir);
	free(pem);
	free(path);
	crypto_ed25519_free(k);
}

static void test_note_round_trip(void **state)
{
	struct crypto_ed25519_key *k = rfc_key(), *other = NULL;
	unsigned char pub[32], opub[32], root[32];
	struct signednote *n = NULL;
	char *note = NULL, *text, *origin = NULL, *vkey = NULL, want_vkey[200];
	uint64_t size = 0;
	uint32_t id;

	(void)state;
	crypto_ed25519_public(pub, k);
	memset(root, 0xab, sizeof(root));
	text = signednote_checkpoint_text("otcm/plant-a", 42, root);
	assert_string_equal(text, "otcm/plant-a\n42\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n");
	assert_int_equal(signednote_sign(&note, text, "otcm/plant-a", k), 0);
	assert_int_equal(strncmp(note, text, strlen(text)), 0);
	assert_non_null(strstr(note, "\n\n\xe2\x80\x94 otcm/plant-a "));

	assert_int_equal(signednote_parse(&n, note, strlen(note)), 0);
	assert_string_equal(n->text, text);
	assert_int_equal(n->nsigs, 1);
	assert_int_equal(signednote_key_id(&id, "otcm/plant-a", pub), 0);
	assert_int_equal(n->sigs[0].key_id, id);
	assert_int_equal(signednote_verify(n, "otcm/plant-a", pub), 0);
	/* another key, or the same key under another name */
	assert_int_equal(crypto_ed25519_generate(&other), 0);
	crypto_ed25519_public(opub, other);
	assert_int_equal(signednote_verify(n, "otcm/plant-a", opub), OTCM_ENOTFOUND);
	assert_int_equal(signednote_verify(n, "otcm/plant-b", pub), OTCM_ENOTFOUND);
	assert_int_equal(signednote_checkpoint_parse(&origin, &size, root, n->text), 0);
	assert_string_equal(origin, "otcm/plant-a");
	assert_int_equal(size, 42);
	signednote_free(n);
	n = NULL;

	/* the text changed after signing: same key id, bad signature */
	note[strlen("otcm/plant-a\n4")] = '3';
	assert_int_equal(signednote_parse(&n, note, strlen(note)), 0);
	assert_int_equal(signednote_verify(n, "otcm/plant-a", pub), OTCM_EAUTH);
	signednote_free(n);

	assert_int_equal(signednote_vkey(&vkey, "otcm/plant-a", pub), 0);
	snprintf(want_vkey, sizeof(want_vkey), "otcm/plant-a+%08x+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea", id);
	assert_string_equal(vkey, want_vkey);

	assert_int_equal(signednote_sign(&vkey, "no newline", "k", k), OTCM_EINVAL);
	assert_int_equal(signednote_sign(&vkey, "a\n\nb\n", "k", k), OTCM_EINVAL);
	assert_int_equal(signednote_sign(&vkey, "a\n", "bad name", k), OTCM_EINVAL);
	assert_int_equal(signednote_sign(&vkey, "a\n", "bad+name", k), OTCM_EINVAL);
	free(vkey);
	free(origin);
	free(note);
	free(text);
	crypto_ed25519_free(other);
	crypto_ed25519_free(k);
}

static void test_malformed_notes(void **state)
{
	static const char *const bad[] = {
		"",
		"text\n",                                   /* no signatures */
		"text\n\n",                                 /* blank line, nothing after */
		"\n\n\xe2\x80\x94 k AAAA\n",                /* no text */
		"text\n\n- k AAAAAAAA\n",                   /* hyphen, not an em dash */
		"text\n\n\xe2\x80\x94 k\n",                 /* no signature */
		"text\n\n\xe2\x80\x94 k !!!!\n",            /* not base64 */
		"text\n\n\xe2\x80\x94 k AAAA\n",            /* too short for a key id */
		"text\n\n\xe2\x80\x94 k AAAAAAAA",          /* no final newline */
		"te\x01xt\n\n\xe2\x80\x94 k AAAAAAAA\n",    /* control character */
		"te\xffxt\n\n\xe2\x80\x94 k AAAAAAAA\n",    /* not UTF-8 */
		"text\n\n\xe2\x80\x94  AAAAAAAA\n",         /* empty name */
	};
	struct signednote *n = NULL;
	char *origin = NULL;
	uint64_t size;
	unsigned char root[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = signednote_parse(&n, bad[i], strlen(bad[i]));

		if (rc != OTCM_EINVAL)
			fail_msg("note %zu was accepted", i);
	}
	/* a signature of another algorithm's length is skipped, not trusted */
	assert_int_equal(signednote_parse(&n, "t\n\n\xe2\x80\x94 k AAAAAAAA\n",
					  strlen("t\n\n\xe2\x80\x94 k AAAAAAAA\n")), 0);
	assert_int_equal(n->nsigs, 0);
	signednote_free(n);

	assert_int_equal(signednote_checkpoint_parse(&origin, &size, root, "o\n12\n"), OTCM_EINVAL);
	assert_int_equal(signednote_checkpoint_parse(&origin, &size, root, "o\n012\nAAAA\n"), OTCM_EINVAL);
	assert_int_equal(signednote_checkpoint_parse(&origin, &size, root, "o\n-1\nAAAA\n"), OTCM_EINVAL);
	assert_int_equal(signednote_checkpoint_parse(&origin, &size, root, "o\n1\nAAAA\n"), OTCM_EINVAL);
	assert_int_equal(signednote_checkpoint_parse(&origin, &size, root,
						     "o\n99999999999999999999999\n"
						     "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"), OTCM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8032_vector1),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_note_round_trip),
		cmocka_unit_test(test_malformed_notes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
