/* storage/versions.c - the version record store; see versions.h. */
#include "storage/versions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/timeutil.h"

static const char sql_version_insert[] =
	"INSERT INTO versions (asset_id, commit_oid, tree_oid, parent_oid, branch, message, "
	"                      author_id, created_at) "
	"VALUES ($1, decode($2, 'hex'), decode($3, 'hex'), decode($4, 'hex'), $5, $6, $7, "
	"        'epoch'::timestamptz + $8::bigint * interval '1 microsecond')";

int versions_insert(struct db_conn *c, const struct version_record *v)
{
	char asset[24], author[24], when[24];
	int rc;

	snprintf(asset, sizeof(asset), "%" PRId64, v->asset_id);
	snprintf(author, sizeof(author), "%" PRId64, v->author_id);
	snprintf(when, sizeof(when), "%" PRId64, v->time_us);
	{
		const struct db_param p[] = {
			DB_TEXT(asset), DB_TEXT(v->commit), DB_TEXT(v->tree),
			v->parent ? DB_TEXT(v->parent) : DB_NULL, DB_TEXT(v->branch),
			DB_TEXT(v->message), DB_TEXT(author), DB_TEXT(when),
		};

		rc = db_exec(NULL, c, sql_version_insert, 8, p, false);
	}
	if (rc == OTCM_ECONFLICT)
		return err_set(OTCM_ECONFLICT, NULL, "commit '%s' is already a version of asset %" PRId64,
			       v->commit, v->asset_id);
	return rc;
}

static const char sql_version_has[] =
	"SELECT 1 FROM versions WHERE asset_id = $1 AND commit_oid = decode($2, 'hex')";

int versions_has(bool *out, struct db_conn *c, int64_t asset_id, const char *commit)
{
	struct db_res *r = NULL;
	char asset[24];
	int rc;

	*out = false;
	snprintf(asset, sizeof(asset), "%" PRId64, asset_id);
	{
		const struct db_param p[] = { DB_TEXT(asset), DB_TEXT(commit) };

		rc = db_exec(&r, c, sql_version_has, 2, p, false);
	}
	if (rc)
		return rc;
	*out = db_res_rows(r) > 0;
	db_res_free(r);
	return 0;
}

static const char sql_version_get[] =
	"SELECT v.branch, coalesce(u.username, ''), "
	"       (extract(epoch FROM v.created_at) * 1000000)::bigint "
	"FROM versions v LEFT JOIN users u ON u.id = v.author_id "
	"WHERE v.asset_id = $1 AND v.commit_oid = decode($2, 'hex')";

int versions_get(json_t **out, struct db_conn *c, int64_t asset_id, const char *commit)
{
	struct db_res *r = NULL;
	char asset[24], t[TIME_RFC3339_LEN];
	int rc;

	*out = NULL;
	snprintf(asset, sizeof(asset), "%" PRId64, asset_id);
	{
		const struct db_param p[] = { DB_TEXT(asset), DB_TEXT(commit) };

		rc = db_exec(&r, c, sql_version_get, 2, p, false);
	}
	if (rc)
		return rc;
	if (db_res_rows(r) == 0) {
		db_res_free(r);
		return err_set(OTCM_ENOTFOUND, "commit", "commit '%s' is not a recorded version", commit);
	}
	*out = json_object();
	json_object_set_new(*out, "branch", json_string(db_res_get(r, 0, 0)));
	json_object_set_new(*out, "uploaded_by", json_string(db_res_get(r, 0, 1)));
	time_format_rfc3339(t, strtoll(db_res_get(r, 0, 2), NULL, 10));
	json_object_set_new(*out, "uploaded_at", json_string(t));
	db_res_free(r);
	return 0;
}
