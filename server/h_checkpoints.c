/*
 * server/h_checkpoints.c - the doors to the server's public key, the
 * signed checkpoints of the audit trail and their inclusion and
 * consistency proofs (domain/audit.h, docs/audit.md).  The signing key was
 * loaded once at start; requests read it from their context.
 *
 *   GET  /api/v1/keys/server.pub                     anyone
 *   GET  /api/v1/audit/checkpoint?tree_size=         admin, auditor
 *   POST /api/v1/audit/checkpoint                    admin
 *   GET  /api/v1/audit/events/{seq}/inclusion        admin, auditor
 *   GET  /api/v1/audit/consistency?first=&second=    admin, auditor
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/audit.h"
#include "server/handlers.h"

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
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	char *pem;
	int rc;

	if (!req->dom.key)
		return err_set(OTCM_ENOTFOUND, NULL, "the server has no signing key");
	crypto_ed25519_public(pub, req->dom.key);
	pem = crypto_ed25519_public_pem(pub);
	rc = http_reply_bytes(req, 200, "application/x-pem-file", pem, strlen(pem));
	free(pem);
	return rc;
}

int h_checkpoint_get(struct http_req *req)
{
	json_t *out = NULL;
	uint64_t size;
	int rc;

	if ((rc = parse_size(&size, "tree_size", http_query(req, "tree_size"), 0)) ||
	    (rc = dom_audit_checkpoint_get(&out, &req->dom, size)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_checkpoint_create(struct http_req *req)
{
	json_t *out = NULL;
	bool made = false;
	int rc;

	if ((rc = dom_audit_checkpoint_create(&out, &made, &req->dom)))
		return rc;
	return http_reply_json(req, made ? 201 : 200, out);
}

int h_audit_inclusion(struct http_req *req)
{
	json_t *proof = NULL;
	uint64_t seq, size;
	int rc;

	if ((rc = parse_size(&seq, "seq", http_param(req, 0), 0)) ||
	    (rc = parse_size(&size, "tree_size", http_query(req, "tree_size"), 0)) ||
	    (rc = dom_audit_inclusion(&proof, &req->dom, (int64_t)seq, size)))
		return rc;
	return http_reply_json(req, 200, proof);
}

int h_audit_consistency(struct http_req *req)
{
	json_t *proof = NULL;
	uint64_t first, second;
	int rc;

	if (!http_query(req, "first") || !http_query(req, "second"))
		return err_set(OTCM_EINVAL, http_query(req, "first") ? "second" : "first",
			       "'first' and 'second' checkpoint sizes are required");
	if ((rc = parse_size(&first, "first", http_query(req, "first"), 0)) ||
	    (rc = parse_size(&second, "second", http_query(req, "second"), 0)) ||
	    (rc = dom_audit_consistency(&proof, &req->dom, first, second)))
		return rc;
	return http_reply_json(req, 200, proof);
}
