/*
 * server/h_evidence.c - the evidence bundle of a change (docs/evidence.md).
 *
 *   GET /api/v1/changes/{key}/evidence        all but agent (auditors too)
 *
 * The bundle is proved against the smallest checkpoint covering the
 * change's newest event, signed first when none does, so downloading
 * twice while nothing about the change happened gives the same bytes.
 * Every download is an audit event (evidence.export, object type
 * "evidence"), written with the bundle's SHA-256 in the same transaction
 * that read the records; exports are not part of the bundle itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "server/evidence.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/changes.h"
#include "storage/checkpoint.h"

int h_evidence_get(struct http_req *req)
{
	static const char repeatable[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";
	struct crypto_ed25519_key *key = NULL;
	struct db_conn *c = NULL;
	struct buf tar = BUF_INIT;
	json_t *after = NULL;
	char *origin = checkpoint_origin(req->srv->cfg), sha[2 * CRYPTO_SHA256_LEN + 1];
	const char *chg = http_param(req, 0);
	uint64_t size = 0;
	int64_t id;
	int rc;

	buf_init(&tar, 2 * req->srv->cfg->max_upload_bytes);
	if ((rc = changes_parse_key(&id, chg)) ||
	    (rc = checkpoint_key_open(&key, NULL, req->srv->cfg->data, false)) ||
	    (rc = svc_conn(&c, req)) ||
	    (rc = evidence_checkpoint_for(&size, c, key, origin, id)) || (rc = db_begin(c)) ||
	    (rc = db_exec(NULL, c, repeatable, 0, NULL, false)) ||
	    (rc = evidence_build(&tar, c, key, id, size)))
		goto out;
	crypto_sha256_hex(sha, tar.data, tar.len);
	after = json_pack("{s:s, s:I, s:I}", "sha256", sha, "bytes", (json_int_t)tar.len,
			  "checkpoint_tree_size", (json_int_t)size);
	if ((rc = svc_audit(req, c, "evidence.export", "evidence", chg, NULL, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s-evidence.tar\"", chg));
	http_set_header(req, "X-Content-SHA256", sha);
	rc = http_reply_bytes(req, 200, "application/x-tar", tar.data, tar.len);
out:
	json_decref(after);
	buf_release(&tar);
	svc_end(c);
	crypto_ed25519_free(key);
	free(origin);
	return rc;
}
