/*
 * server/h_signatures.c - the REST door to electronic signatures on
 * changes and test runs: domain/signatures.h re-authenticates the signer,
 * decides, writes and audits.
 *
 *   POST /api/v1/changes/{key}/signatures     engineer, qa, approver, admin
 *   GET  /api/v1/changes/{key}/signatures     all but agent
 *   POST /api/v1/test-runs/{id}/signatures    qa, admin
 */
#include "domain/signatures.h"
#include "server/handlers.h"

int h_signatures_change(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) == 0 &&
	    (rc = dom_change_sign(&out, &req->dom, http_param(req, 0), body)) == 0)
		rc = http_reply_json(req, 201, out);
	json_decref(body);
	return rc;
}

int h_signatures_run(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) == 0 &&
	    (rc = dom_run_sign(&out, &req->dom, http_param(req, 0), body)) == 0)
		rc = http_reply_json(req, 201, out);
	json_decref(body);
	return rc;
}

int h_signatures_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_signature_list(&out, &req->dom, http_param(req, 0))))
		return rc;
	return http_reply_json(req, 200, out);
}
