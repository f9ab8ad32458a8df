/*
 * server/h_evidence.c - the door to a change's evidence bundle
 * (domain/evidence.h, docs/evidence.md).
 *
 *   GET /api/v1/changes/{key}/evidence        all but agent (auditors too)
 */
#include "core/crypto.h"
#include "domain/evidence.h"
#include "server/handlers.h"

int h_evidence_get(struct http_req *req)
{
	struct buf tar = BUF_INIT;
	const char *key = http_param(req, 0);
	char sha[2 * CRYPTO_SHA256_LEN + 1];
	int rc;

	if ((rc = dom_evidence_export(&tar, sha, &req->dom, key)))
		return rc;
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s-evidence.tar\"", key));
	http_set_header(req, "X-Content-SHA256", sha);
	rc = http_reply_bytes(req, 200, "application/x-tar", tar.data, tar.len);
	buf_release(&tar);
	return rc;
}
