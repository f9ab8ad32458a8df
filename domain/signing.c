/* domain/signing.c - writing an electronic signature; see signing.h. */
#include "domain/signing.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "storage/signatures.h"
#include "storage/users.h"

int dom_signing_seal(struct dom_seal *out, const struct dom *d, struct db_conn *c, const char *meaning,
		     json_t *content)
{
	struct totp_state t;
	struct user u;
	char *text;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = users_by_id(&u, d->arena, c, d->who->user_id, false)))
		return rc;
	/* whether a second factor was due, recorded beside how the signer re-authenticated */
	memset(&t, 0, sizeof(t));
	rc = totp_load(&t, c, u.id, false);
	memset(t.secret, 0, sizeof(t.secret));
	if (rc == OTCM_ENOTFOUND)
		err_clear();
	else if (rc)
		return rc;
	json_object_set_new(content, "meaning", json_string(meaning));
	json_object_set_new(content, "signer", json_string(u.username));
	text = json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return err_set(OTCM_EINTERNAL, NULL, "cannot serialise what is signed");
	out->text = arena_strdup(d->arena, text);
	free(text);
	crypto_sha256_hex(out->sha256, out->text, strlen(out->text));
	out->signer_id = u.id;
	out->printed_name = u.display_name;
	out->role = u.role;
	out->second_factor_enrolled = t.enabled;
	return 0;
}

int dom_signing_write(json_t **out, const struct dom *d, struct db_conn *c, int64_t change_id,
		      int64_t run_id, const char *meaning, const char *method, json_t *content,
		      const json_t *trees)
{
	struct signature_record s;
	struct dom_seal seal;
	int rc;

	if ((rc = dom_signing_seal(&seal, d, c, meaning, content)))
		return rc;
	memset(&s, 0, sizeof(s));
	s.change_id = change_id;
	s.run_id = run_id;
	s.meaning = meaning;
	s.signer_id = seal.signer_id;
	s.printed_name = seal.printed_name;
	s.role = seal.role;
	s.auth_method = method;
	s.second_factor_enrolled = seal.second_factor_enrolled;
	s.content = seal.text;
	s.content_sha256 = seal.sha256;
	s.trees = trees;
	return signatures_insert(out, c, &s);
}
