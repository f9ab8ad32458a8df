/* server/h_health.c - GET /healthz and GET /readyz; see h_health.h. */
#include "server/h_health.h"

#include "core/err.h"

int h_healthz(struct http_req *req)
{
	return http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

int h_readyz(struct http_req *req)
{
	static const char sql[] = "SELECT 1";
	struct db_conn *c = NULL;
	struct db_res *res = NULL;
	int rc;

	if (!req->srv->db) {
		rc = err_set(OTCM_EUNAVAIL, NULL, "no database configured");
		goto out;
	}
	rc = db_acquire(&c, req->srv->db);
	if (rc == 0)
		rc = db_execv(&res, c, sql, 0, NULL);
	if (rc == 0 && (db_res_rows(res) != 1 || !db_res_get(res, 0, 0)))
		rc = err_set(OTCM_EDB, NULL, "'%s' gave no row", sql);
	if (rc) {
		/* whatever went wrong, the answer is "not ready"; the cause goes to the log */
		rc = err_set(OTCM_EUNAVAIL, NULL, "the database is not answering");
		goto out;
	}
	rc = http_reply_json(req, 200, json_pack("{s:s}", "status", "ready"));
out:
	db_res_free(res);
	db_release(c);
	return rc;
}
