/*
 * server/h_audit.c - the door to reading the audit trail
 * (domain/audit.h, docs/audit.md).
 *
 *   GET /api/v1/audit?object_type=&object_id=&after=&limit=   admin, auditor
 */
#include <stdlib.h>

#include "core/err.h"
#include "domain/audit.h"
#include "server/handlers.h"

/* A decimal query value into *out; `dflt` when absent. */
static int query_int(int64_t *out, struct http_req *req, const char *name, int64_t dflt)
{
	const char *v = http_query(req, name);
	char *end;

	*out = dflt;
	if (!v)
		return 0;
	*out = strtoll(v, &end, 10);
	if (*v == '\0' || *end)
		return err_set(OTCM_EINVAL, name, "'%s' must be a number", name);
	return 0;
}

int h_audit_list(struct http_req *req)
{
	json_t *out = NULL;
	int64_t after, limit;
	int rc;

	if ((rc = query_int(&after, req, "after", 0)) || (rc = query_int(&limit, req, "limit", 100)) ||
	    (rc = dom_audit_list(&out, &req->dom, http_query(req, "object_type"),
				 http_query(req, "object_id"), after, limit)))
		return rc;
	return http_reply_json(req, 200, out);
}
