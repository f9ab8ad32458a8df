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
		"   FROM webhooks"
		/*
		 * each asset's read-back state as its newest read-back recorded it
		 * (domain/readbacks.h has the states), and the age of its newest good
		 * one; two index probes per asset
		 */
		" UNION ALL"
		" SELECT 'readback', x.st, count(*)::text, max(x.age)::text, '1' FROM ("
		"   SELECT CASE WHEN l.ok IS NULL THEN 'never_read' WHEN NOT l.ok THEN 'read_failed'"
		"     WHEN g.read_at < now() - make_interval(secs => coalesce(s.max_age_seconds, 93600))"
		"     THEN 'stale' ELSE g.state END AS st, extract(epoch FROM now() - g.read_at) AS age"
		"   FROM assets a LEFT JOIN readback_settings s ON s.asset_id = a.id"
		"   LEFT JOIN LATERAL (SELECT r.ok FROM readbacks r WHERE r.asset_id = a.id"
		"     ORDER BY r.id DESC LIMIT 1) l ON true"
		"   LEFT JOIN LATERAL (SELECT r.read_at, r.state FROM readbacks r WHERE r.asset_id = a.id"
		"     AND r.ok ORDER BY r.id DESC LIMIT 1) g ON true) x GROUP BY x.st";
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
	out->backlog = rows > 1 ? xcalloc(rows - 1, sizeof(*out->backlog)) : NULL;
	out->readbacks = rows > 1 ? xcalloc(rows - 1, sizeof(*out->readbacks)) : NULL;
	for (size_t i = 1; i < rows; i++) {
		struct monitor_backlog *b;

		if (strcmp(db_res_get(res, i, 0), "readback") == 0) {
			struct monitor_readback *r = &out->readbacks[out->nreadbacks++];

			r->state = db_res_get(res, i, 1);
			r->assets = strtoll(db_res_get(res, i, 2), NULL, 10);
			r->oldest_good_age_s = db_res_isnull(res, i, 3) ? -1 : strtod(db_res_get(res, i, 3), NULL);
			continue;
		}
		b = &out->backlog[out->nbacklog++];
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
	free(s->readbacks);
	db_res_free(s->res);
	memset(s, 0, sizeof(*s));
}
