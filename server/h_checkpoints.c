/*
 * server/h_checkpoints.c - the server's public key, signed checkpoints of
 * the audit trail and their inclusion and consistency proofs
 * (docs/audit.md).  The signing key is read from the data folder when a
 * request needs it, so handlers share no state.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/signednote.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/checkpoint.h"

/* A positive decimal query or path value into *out; `dflt` when absent. */
static int parse_size(uint64_t *out, const char *name, const char *v, uint64_t dflt)
{
	char *end;
	unsigned long long n;

	if (!v) {
		*out = dflt;
		return 0;
	}
	n = strtoull(v, &end, 10);
	if (*v < '1' || *v > '9' || *end || n > INT64_MAX)
		return err_set(OTCM_EINVAL, name, "'%s' must be a positive number", name);
	*out = n;
	return 0;
}

int h_keys_server_pub(struct http_req *req)
{
	struct crypto_ed25519_key *key = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	char *pem = NULL;
	int rc;

	if ((rc = checkpoint_key_open(&key, NULL, req->srv->cfg->data, false))) {
		if (rc == OTCM_ENOTFOUND)
			err_set(rc, NULL, "the server has no signing key yet");
		goto out;
	}
	crypto_ed25519_public(pub, key);
	pem = crypto_ed25519_public_pem(pub);
	rc = http_reply_bytes(req, 200, "application/x-pem-file", pem, strlen(pem));
out:
	free(pem);
	crypto_ed25519_free(key);
	return rc;
}

/* The checkpoint as JSON plus the note verifier key of its origin and this server's key. */
static json_t *with_vkey(struct http_req *req, const struct checkpoint *cp)
{
	struct crypto_ed25519_key *key = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	json_t *j = checkpoint_json(cp);
	char *vkey = NULL;

	if (checkpoint_key_open(&key, NULL, req->srv->cfg->data, false) == 0) {
		crypto_ed25519_public(pub, key);
		if (signednote_vkey(&vkey, cp->origin, pub) == 0)
			json_object_set_new(j, "verifier_key", json_string(vkey));
	}
	free(vkey);
	crypto_ed25519_free(key);
	return j;
}

int h_checkpoint_get(struct http_req *req)
{
	struct checkpoint *cp = NULL;
	struct db_conn *c = NULL;
	uint64_t size;
	int rc;

	if ((rc = parse_size(&size, "tree_size", http_query(req, "tree_size"), 0)) ||
	    (rc = svc_conn(&c, req)) || (rc = checkpoint_get(&cp, c, size)))
		goto out;
	rc = http_reply_json(req, 200, with_vkey(req, cp));
out:
	checkpoint_free(cp);
	svc_end(c);
	return rc;
}

/*
 * Not itself an audit event: checkpoints are their own append-only record,
 * and an event here would leave every checkpoint one event behind.
 */
int h_checkpoint_create(struct http_req *req)
{
	struct crypto_ed25519_key *key = NULL;
	struct checkpoint *cp = NULL;
	struct db_conn *c = NULL;
	char *origin = checkpoint_origin(req->srv->cfg);
	bool made = false;
	int rc;

	if ((rc = checkpoint_key_open(&key, NULL, req->srv->cfg->data, false)) ||
	    (rc = svc_conn(&c, req)) || (rc = checkpoint_write(&cp, &made, c, key, origin)))
		goto out;
	rc = http_reply_json(req, made ? 201 : 200, with_vkey(req, cp));
out:
	checkpoint_free(cp);
	crypto_ed25519_free(key);
	svc_end(c);
	free(origin);
	return rc;
}

int h_audit_inclusion(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *proof = NULL;
	uint64_t seq, size;
	int rc;

	if ((rc = parse_size(&seq, "seq", http_param(req, 0), 0)) ||
	    (rc = parse_size(&size, "tree_size", http_query(req, "tree_size"), 0)) ||
	    (rc = svc_conn(&c, req)) || (rc = checkpoint_inclusion(&proof, c, (int64_t)seq, size)))
		goto out;
	rc = http_reply_json(req, 200, proof);
out:
	svc_end(c);
	return rc;
}

int h_audit_consistency(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *proof = NULL;
	uint64_t first, second;
	int rc;

	if (!http_query(req, "first") || !http_query(req, "second"))
		return err_set(OTCM_EINVAL, http_query(req, "first") ? "second" : "first",
			       "'first' and 'second' checkpoint sizes are required");
	if ((rc = parse_size(&first, "first", http_query(req, "first"), 0)) ||
	    (rc = parse_size(&second, "second", http_query(req, "second"), 0)) ||
	    (rc = svc_conn(&c, req)) || (rc = checkpoint_consistency(&proof, c, first, second)))
		goto out;
	rc = http_reply_json(req, 200, proof);
out:
	svc_end(c);
	return rc;
}
