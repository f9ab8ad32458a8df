/* domain/audit.c - reading and proving the audit trail; see audit.h. */
#include "domain/audit.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/signednote.h"
#include "storage/audit.h"
#include "storage/checkpoint.h"

int dom_audit_list(json_t **out, const struct dom *d, const char *object_type,
		   const char *object_id, int64_t after, int64_t limit)
{
	struct db_conn *c = NULL;
	json_t *items = NULL, *page;
	int rc;

	if ((rc = dom_permit(d, OP_AUDIT_READ)))
		return rc;
	if (after < 0)
		return err_set(OTCM_EINVAL, "after", "'after' must be a sequence number");
	if (limit < 1 || limit > DOM_AUDIT_MAX_LIMIT)
		return err_set(OTCM_EINVAL, "limit", "'limit' must be 1 to %d", DOM_AUDIT_MAX_LIMIT);
	if ((rc = dom_conn(&c, d)) ||
	    (rc = audit_list(&items, c, object_type, object_id, after, (unsigned)limit)))
		goto out;
	page = json_object();
	if (json_array_size(items) == (size_t)limit)
		json_object_set(page, "next_after",
				json_object_get(json_array_get(items, json_array_size(items) - 1), "seq"));
	json_object_set_new(page, "items", items);
	items = NULL;
	*out = page;
out:
	json_decref(items);
	dom_end(c);
	return rc;
}

/* The checkpoint as JSON plus the note verifier key of its origin and the server's key. */
static json_t *with_vkey(const struct dom *d, const struct checkpoint *cp)
{
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	json_t *j = checkpoint_json(cp);
	char *vkey = NULL;

	if (d->key) {
		crypto_ed25519_public(pub, d->key);
		if (signednote_vkey(&vkey, cp->origin, pub) == 0)
			json_object_set_new(j, "verifier_key", json_string(vkey));
	}
	free(vkey);
	return j;
}

int dom_audit_checkpoint_get(json_t **out, const struct dom *d, uint64_t tree_size)
{
	struct checkpoint *cp = NULL;
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_AUDIT_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = checkpoint_get(&cp, c, tree_size)))
		goto out;
	*out = with_vkey(d, cp);
out:
	checkpoint_free(cp);
	dom_end(c);
	return rc;
}

int dom_audit_checkpoint_create(json_t **out, bool *out_new, const struct dom *d)
{
	struct checkpoint *cp = NULL;
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_CHECKPOINT_CREATE)))
		return rc;
	if (!d->key || !d->origin)
		return err_set(OTCM_EINTERNAL, NULL, "no signing key to sign a checkpoint with");
	if ((rc = dom_conn(&c, d)))
		goto out;
	rc = checkpoint_write(&cp, out_new, c, d->key, d->origin);
	if (rc == OTCM_ERULE)
		err_set_rule("audit-trail-intact");
	if (rc)
		goto out;
	*out = with_vkey(d, cp);
out:
	if (rc)
		rc = dom_refused(d, &c, "checkpoint.create", "checkpoint", NULL, rc);
	checkpoint_free(cp);
	dom_end(c);
	return rc;
}

int dom_audit_inclusion(json_t **out, const struct dom *d, int64_t seq, uint64_t tree_size)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_AUDIT_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0)
		rc = checkpoint_inclusion(out, c, seq, tree_size);
	dom_end(c);
	return rc;
}

int dom_audit_consistency(json_t **out, const struct dom *d, uint64_t first, uint64_t second)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_AUDIT_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0)
		rc = checkpoint_consistency(out, c, first, second);
	dom_end(c);
	return rc;
}

int dom_audit_verify(struct dom_audit_status *out, const struct dom *d)
{
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	struct checkpoint_tail t = { 0 };
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_AUDIT_READ)))
		return rc;
	memset(out, 0, sizeof(*out));
	out->have_key = d->key != NULL;
	if (!d->key)
		return 0;
	crypto_ed25519_public(pub, d->key);
	if ((rc = dom_conn(&c, d)) || (rc = db_begin_snapshot(c, true)) ||
	    (rc = checkpoint_verify_tail(&t, c, pub)))
		goto out;
	out->trusted = t.trusted;
	out->chained = t.verified;
	out->head_seq = t.head_seq;
	out->bad_seq = t.bad_seq;
	out->chain_problem = t.bad_seq ? arena_strdup(d->arena, t.problem) : NULL;
	out->latest_size = t.latest ? t.latest->tree_size : 0;
	out->bad_size = t.bad_size;
	out->checkpoint_problem = t.bad_size ? arena_strdup(d->arena, t.problem) : NULL;
	out->verified = t.bad_seq == 0 && t.bad_size == 0;
out:
	checkpoint_tail_release(&t);
	dom_end(c);
	return rc;
}
