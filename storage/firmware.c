/* storage/firmware.c - the firmware update tables; see firmware.h. */
#include "storage/firmware.h"

#include <string.h>

#include "storage/record_sql.h"

int firmware_upsert(struct db_conn *c, int64_t change_id, int64_t asset_id, const struct firmware_fields *f,
		    int64_t user_id)
{
	static const char sql[] =
		"INSERT INTO change_firmware (change_id, asset_id, before_value, before_source, after_value,"
		" after_source, advisory, declared_by)"
		" VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, $7, $8::bigint)"
		" ON CONFLICT (change_id, asset_id) DO UPDATE SET"
		" before_value = coalesce(EXCLUDED.before_value, change_firmware.before_value),"
		" before_source = coalesce(EXCLUDED.before_source, change_firmware.before_source),"
		" after_value = coalesce(EXCLUDED.after_value, change_firmware.after_value),"
		" after_source = coalesce(EXCLUDED.after_source, change_firmware.after_source),"
		" advisory = coalesce(EXCLUDED.advisory, change_firmware.advisory), updated_at = now()";
	char cid[24], aid[24], uid[24];
	const char *v[8] = { cid, aid, f->before, f->before_source, f->after, f->after_source, f->advisory, uid };

	i64s(cid, change_id);
	i64s(aid, asset_id);
	i64s(uid, user_id);
	return db_execv(NULL, c, sql, 8, v);
}

int firmware_file_insert(json_t **out, struct db_conn *c, int64_t change_id, int64_t asset_id,
			 const char *kind, const char *filename, const void *data, size_t len,
			 const char *sha256, int64_t user_id)
{
	static const char sql[] =
		"WITH f AS (INSERT INTO firmware_files (change_id, asset_id, kind, filename, size, sha256, content,"
		" uploaded_by) VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, $6, $7, $8::bigint) RETURNING *)"
		" SELECT json_build_object('id', f.id, 'asset_id', f.asset_id, 'kind', f.kind, 'filename', f.filename,"
		" 'size', f.size, 'sha256', f.sha256, 'uploaded_by', u.username,"
		" 'uploaded_at', " TS("f.uploaded_at") ")::text FROM f JOIN users u ON u.id = f.uploaded_by";
	char cid[24], aid[24], uid[24], size[24];
	struct db_param p[8];
	struct db_res *r = NULL;
	json_error_t jerr;
	int rc;

	i64s(cid, change_id);
	i64s(aid, asset_id);
	i64s(uid, user_id);
	snprintf(size, sizeof(size), "%zu", len);
	p[0] = DB_TEXT(cid);
	p[1] = DB_TEXT(aid);
	p[2] = DB_TEXT(kind);
	p[3] = DB_TEXT(filename);
	p[4] = DB_TEXT(size);
	p[5] = DB_TEXT(sha256);
	p[6] = DB_BYTES(data, len);
	p[7] = DB_TEXT(uid);
	if ((rc = db_exec(&r, c, sql, 8, p, false)))
		return rc;
	*out = json_loads(db_res_get(r, 0, 0), 0, &jerr);
	db_res_free(r);
	return *out ? 0 : err_set(OTCM_EINTERNAL, NULL, "database returned bad json: %s", jerr.text);
}

/* The newest file of a kind of update (alias w), as JSON or null. */
#define NEWEST_FILE(kind)                                                                          \
	"(SELECT json_build_object('id', f.id, 'filename', f.filename, 'size', f.size, 'sha256', f.sha256," \
	" 'uploaded_by', u.username, 'uploaded_at', " TS("f.uploaded_at") ") FROM firmware_files f"    \
	" JOIN users u ON u.id = f.uploaded_by WHERE f.change_id = w.change_id AND f.asset_id = w.asset_id" \
	" AND f.kind = '" kind "' ORDER BY f.id DESC LIMIT 1)"

int firmware_list(json_t **out, struct db_conn *c, int64_t change_id)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('asset_id', w.asset_id, 'path', a.path,"
		" 'before', w.before_value, 'before_source', w.before_source, 'after', w.after_value,"
		" 'after_source', w.after_source, 'advisory', w.advisory, 'declared_by', u.username,"
		" 'declared_at', " TS("w.declared_at") ", 'updated_at', " TS("w.updated_at") ","
		" 'package', " NEWEST_FILE("package") ", 'signature', " NEWEST_FILE("signature") ")"
		" ORDER BY w.asset_id), '[]')::text"
		" FROM change_firmware w JOIN assets a ON a.id = w.asset_id JOIN users u ON u.id = w.declared_by"
		" WHERE w.change_id = $1::bigint";
	char cid[24];
	const char *v[1] = { cid };

	i64s(cid, change_id);
	return query_json(out, c, sql, 1, v, "firmware", cid);
}
