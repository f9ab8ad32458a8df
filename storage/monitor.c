/* storage/monitor.c - the database's side of the metrics; see monitor.h. */
#include "storage/monitor.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

int monitor_read(struct monitor_state *out, struct db_conn *c)
{
	/* row 0: head; then one row per destination */
	static const char sql[] =
		"WITH h AS (SELECT seq FROM audit_head),"
		" cp AS (SELECT tree_size, extract(epoch FROM now() - at) AS age"
		"        FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1)"
		" SELECT 'head', (SELECT seq FROM h)::text, (SELECT tree_size FROM cp)::text,"
		"        (SELECT age FROM cp)::text, '1'"
		" UNION ALL"
		" SELECT 'syslog', substr(destination, 8), ((SELECT seq FROM h) - seq)::text, NULL, '1'"
		"   FROM delivery_marks WHERE destination LIKE 'syslog %'"
		" UNION ALL"
		" SELECT 'webhook', id::text, greatest((SELECT seq FROM h) - seq, 0)::text, NULL,"
		"        CASE WHEN enabled THEN '1' ELSE '0' END"
		"   FROM webhooks";
	struct db_res *res = NULL;
	size_t rows;
	int rc;

	assert(out && c);
	memset(out, 0, sizeof(*out));
	if ((rc = db_execv(&res, c, sql, 0, NULL)))
		goto out;
	rows = db_res_rows(res);
	if (rows < 1) {
		rc = err_set(OTCM_EDB, NULL, "the audit trail has no head");
		goto out;
	}
	out->audit_seq = strtoll(db_res_get(res, 0, 1), NULL, 10);
	out->checkpoint_size = db_res_isnull(res, 0, 2) ? 0 : strtoll(db_res_get(res, 0, 2), NULL, 10);
	out->checkpoint_age_s = db_res_isnull(res, 0, 3) ? -1 : strtod(db_res_get(res, 0, 3), NULL);
	out->nbacklog = rows - 1;
	out->backlog = out->nbacklog ? xcalloc(out->nbacklog, sizeof(*out->backlog)) : NULL;
	for (size_t i = 1; i < rows; i++) {
		struct monitor_backlog *b = &out->backlog[i - 1];

		b->kind = db_res_get(res, i, 0);
		b->destination = db_res_get(res, i, 1);
		b->events = strtoll(db_res_get(res, i, 2), NULL, 10);
		b->enabled = strcmp(db_res_get(res, i, 4), "1") == 0;
	}
	out->res = res;
	res = NULL;
out:
	db_res_free(res);
	return rc;
}

void monitor_state_release(struct monitor_state *s)
{
	if (!s)
		return;
	free(s->backlog);
	db_res_free(s->res);
	memset(s, 0, sizeof(*s));
}
