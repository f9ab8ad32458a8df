/*
 * server/h_audit.c - reading the audit trail (administrators and auditors).
 * Reading it is itself not audited; exports of evidence will be.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/audit.h"

int h_audit_list(struct http_req *req)
{
	const char *otype = http_query(req, "object_type");
	const char *oid = http_query(req, "object_id");
	const char *after = http_query(req, "after");
	const char *limit = http_query(req, "limit");
	long long after_seq = 0, n = 100;
	struct db_conn *c = NULL;
	json_t *items = NULL, *out;
	char *end;
	int rc;

	if (after) {
		after_seq = strtoll(after, &end, 10);
		if (*after == '\0' || *end || after_seq < 0)
			return err_set(OTCM_EINVAL, "after", "'after' must be a sequence number");
	}
	if (limit) {
		n = strtoll(limit, &end, 10);
		if (*limit == '\0' || *end || n < 1 || n > 1000)
			return err_set(OTCM_EINVAL, "limit", "'limit' must be 1 to 1000");
	}
	if ((rc = svc_conn(&c, req)) ||
	    (rc = audit_list(&items, c, otype, oid, after_seq, (unsigned)n)))
		goto out;
	out = json_object();
	if (json_array_size(items) == (size_t)n) {
		json_t *last = json_array_get(items, json_array_size(items) - 1);

		json_object_set(out, "next_after", json_object_get(last, "seq"));
	}
	json_object_set_new(out, "items", items);
	rc = http_reply_json(req, 200, out);
out:
	svc_end(c);
	return rc;
}
