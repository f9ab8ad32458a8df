/* server/h_health.c - GET /healthz and GET /readyz; see h_health.h. */
#include "server/h_health.h"

#include "core/err.h"

int h_healthz(struct http_req *req)
{
	return http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

int h_readyz(struct http_req *req)
{
	struct db_conn *c = NULL;
	int rc;

	if (!req->srv->db) {
		rc = err_set(OTCM_EUNAVAIL, NULL, "no database configured");
		goto out;
	}
	rc = db_acquire(&c, req->srv->db);
	if (rc == 0)
		rc = db_ping(c);
	if (rc) {
		/* whatever went wrong, the answer is "not ready"; the cause goes to the log */
		rc = err_set(OTCM_EUNAVAIL, NULL, "the database is not answering");
		goto out;
	}
	rc = http_reply_json(req, 200, json_pack("{s:s}", "status", "ready"));
out:
	db_release(c);
	return rc;
}
