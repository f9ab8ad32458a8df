/* storage/users.c - users, sessions and API tokens in PostgreSQL; see users.h. */
#include "storage/users.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "storage/credcache.h"

/* how often a token's last use is written, per process (the cache's and the query's minute) */
#define TOKEN_TOUCH_EVERY_US (60LL * 1000000)

#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

/* The columns fill_user() reads, each prefixed by `p` ("u." in joins). */
#define USER_COLUMNS(p)                                                                   \
	p "id, " p "username, " p "display_name, " p "email, " p "role, " p "password_hash, " \
	p "disabled, " p "failed_logins, coalesce(" US(p "next_login_at") ", 0), "            \
	"coalesce(" US(p "locked_until") ", 0), " US(p "created_at") ", " p "source, "          \
	p "directory_dn, coalesce(" US(p "directory_checked_at") ", 0)"
/* how many columns USER_COLUMNS has: a join's own columns follow */
#define USER_NCOLS 14

static const char user_columns[] = USER_COLUMNS("");

static int64_t to_i64(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

static const char *dup_or_null(struct arena *a, const struct db_res *r, size_t row, size_t col)
{
	const char *v = db_res_get(r, row, col);

	return v ? arena_strdup(a, v) : NULL;
}

/* Row `row` of a SELECT of user_columns into *u, strings copied into `a`. */
/*
 * A statement that changes a user or a token has run on c (rc its
 * outcome): the credential cache forgets what it holds once the
 * transaction ends (storage/credcache.h).
 */
static int credentials_written(struct db_conn *c, int rc)
{
	db_credentials_changed(c);
	return rc;
}

static void fill_user(struct user *u, struct arena *a, const struct db_res *r, size_t row)
{
	u->id = to_i64(db_res_get(r, row, 0));
	u->username = dup_or_null(a, r, row, 1);
	u->display_name = dup_or_null(a, r, row, 2);
	u->email = dup_or_null(a, r, row, 3);
	u->role = dup_or_null(a, r, row, 4);
	u->password_hash = dup_or_null(a, r, row, 5);
	u->disabled = strcmp(db_res_get(r, row, 6), "t") == 0;
	u->failed_logins = (int)to_i64(db_res_get(r, row, 7));
	u->next_login_us = to_i64(db_res_get(r, row, 8));
	u->locked_until_us = to_i64(db_res_get(r, row, 9));
	u->created_us = to_i64(db_res_get(r, row, 10));
	u->directory = strcmp(db_res_get(r, row, 11), "directory") == 0;
	u->directory_dn = dup_or_null(a, r, row, 12);
	u->directory_checked_us = to_i64(db_res_get(r, row, 13));
}

int users_insert(int64_t *out_id, struct db_conn *c, const char *username,
		 const char *display_name, const char *email, const char *role,
		 const char *password_hash)
{
	static const char sql[] =
		"INSERT INTO users (username, display_name, email, role, password_hash) "
		"VALUES ($1, $2, $3, $4, $5) RETURNING id";
	const char *v[] = { username, display_name, email, role, password_hash };
	struct db_res *r = NULL;
	int rc = db_execv(&r, c, sql, 5, v);

	if (rc == OTCM_ECONFLICT)
		rc = err_set(OTCM_ECONFLICT, "username", "user '%s' already exists", username);
	if (rc == 0)
		*out_id = to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}

int users_insert_directory(int64_t *out_id, struct db_conn *c, const char *username,
			   const char *display_name, const char *email, const char *role,
			   const char *dn)
{
	static const char sql[] =
		"INSERT INTO users (username, display_name, email, role, source, directory_dn, "
		"directory_checked_at) VALUES ($1, $2, $3, $4, 'directory', $5, now()) RETURNING id";
	const char *v[] = { username, display_name, email, role, dn };
	struct db_res *r = NULL;
	int rc = db_execv(&r, c, sql, 5, v);

	if (rc == OTCM_ECONFLICT)
		rc = err_set(OTCM_ECONFLICT, "username", "user '%s' already exists", username);
	if (rc == 0)
		*out_id = to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}

int users_set_directory(struct db_conn *c, int64_t id, const char *dn, const char *role,
			const char *display_name, const char *email)
{
	static const char sql[] =
		"UPDATE users SET directory_dn = $2, role = coalesce($3, role), "
		"display_name = coalesce($4, display_name), "
		"email = CASE WHEN $5::text IS NULL THEN email WHEN $5 = '' THEN NULL ELSE $5 END, "
		"directory_checked_at = now(), updated_at = now() "
		"WHERE id = $1 AND source = 'directory'";
	char sid[32];
	const char *v[] = { sid, dn, role, display_name, email };
	struct db_res *r = NULL;
	int rc;

	snprintf(sid, sizeof(sid), "%" PRId64, id);
	rc = credentials_written(c, db_execv(&r, c, sql, 5, v));
	if (rc == 0 && db_res_affected(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, NULL, "directory user id '%s' not found", sid);
	db_res_free(r);
	return rc;
}

static int load_user(struct user *out, struct arena *a, struct db_conn *c, const char *where,
		     const char *key, bool for_update, const char *what)
{
	char sql[512];
	struct db_res *r = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM users WHERE %s = $1%s", user_columns, where,
		 for_update ? " FOR UPDATE" : "");
	rc = db_execv(&r, c, sql, 1, &key);
	if (rc == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, NULL, "%s '%s' not found", what, key);
	if (rc == 0)
		fill_user(out, a, r, 0);
	db_res_free(r);
	return rc;
}

int users_by_name(struct user *out, struct arena *a, struct db_conn *c, const char *username,
		  bool for_update)
{
	return load_user(out, a, c, "username", username, for_update, "user");
}

int users_by_id(struct user *out, struct arena *a, struct db_conn *c, int64_t id, bool for_update)
{
	char key[32];

	snprintf(key, sizeof(key), "%" PRId64, id);
	return load_user(out, a, c, "id", key, for_update, "user id");
}

int users_count(int64_t *out, struct db_conn *c)
{
	static const char sql[] = "SELECT count(*) FROM users";
	struct db_res *r = NULL;
	int rc = db_execv(&r, c, sql, 0, NULL);

	if (rc == 0)
		*out = to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}

json_t *users_to_json(const struct user *u)
{
	char t[TIME_RFC3339_LEN];
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(u->id));
	json_object_set_new(o, "username", json_string(u->username));
	json_object_set_new(o, "display_name", json_string(u->display_name));
	json_object_set_new(o, "email", u->email ? json_string(u->email) : json_null());
	json_object_set_new(o, "role", json_string(u->role));
	json_object_set_new(o, "source", json_string(u->directory ? "directory" : "local"));
	json_object_set_new(o, "disabled", json_boolean(u->disabled));
	json_object_set_new(o, "locked", json_boolean(u->locked_until_us > time_now_us()));
	if (u->locked_until_us > time_now_us()) {
		time_format_rfc3339(t, u->locked_until_us);
		json_object_set_new(o, "locked_until", json_string(t));
	}
	time_format_rfc3339(t, u->created_us);
	json_object_set_new(o, "created_at", json_string(t));
	return o;
}

int users_list(json_t **out, struct db_conn *c)
{
	char sql[512];
	struct db_res *r = NULL;
	struct arena *a = arena_new();
	json_t *list = json_array();
	size_t i;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s, EXISTS (SELECT 1 FROM user_totp t WHERE "
		 "t.user_id = users.id AND t.enabled) FROM users ORDER BY username", user_columns);
	rc = db_execv(&r, c, sql, 0, NULL);
	for (i = 0; rc == 0 && i < db_res_rows(r); i++) {
		struct user u;
		json_t *o;

		fill_user(&u, a, r, i);
		o = users_to_json(&u);
		json_object_set_new(o, "totp",
				    json_boolean(strcmp(db_res_get(r, i, USER_NCOLS), "t") == 0));
		json_array_append_new(list, o);
	}
	db_res_free(r);
	arena_free(a);
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

static void fmt_time_param(char *out, size_t n, int64_t us)
{
	if (us <= 0)
		out[0] = '\0';
	else
		snprintf(out, n, "%" PRId64, us);
}

int users_set_login_state(struct db_conn *c, int64_t id, int failed, int64_t next_login_us,
			  int64_t locked_until_us)
{
	static const char sql[] =
		"UPDATE users SET failed_logins = $2, "
		"next_login_at = CASE WHEN $3 = '' THEN NULL ELSE to_timestamp($3::bigint / 1e6) END, "
		"locked_until = CASE WHEN $4 = '' THEN NULL ELSE to_timestamp($4::bigint / 1e6) END "
		"WHERE id = $1";
	char sid[32], sfailed[16], snext[32], slock[32];
	const char *v[] = { sid, sfailed, snext, slock };

	snprintf(sid, sizeof(sid), "%" PRId64, id);
	snprintf(sfailed, sizeof(sfailed), "%d", failed);
	fmt_time_param(snext, sizeof(snext), next_login_us);
	fmt_time_param(slock, sizeof(slock), locked_until_us);
	return credentials_written(c, db_execv(NULL, c, sql, 4, v));
}

int users_update(struct db_conn *c, int64_t id, const char *display_name, const char *email,
		 const char *role, int disabled, bool unlock)
{
	static const char sql[] =
		"UPDATE users SET display_name = coalesce($2, display_name), "
		"role = coalesce($3, role), "
		"email = CASE WHEN $6::text IS NULL THEN email WHEN $6 = '' THEN NULL ELSE $6 END, "
		"disabled = CASE WHEN $4 = '' THEN disabled ELSE $4::boolean END, "
		"failed_logins = CASE WHEN $5 THEN 0 ELSE failed_logins END, "
		"locked_until = CASE WHEN $5 THEN NULL ELSE locked_until END, "
		"next_login_at = CASE WHEN $5 THEN NULL ELSE next_login_at END, "
		"updated_at = now() WHERE id = $1";
	char sid[32];
	const char *v[] = { sid, display_name, role,
			    disabled < 0 ? "" : disabled ? "true" : "false",
			    unlock ? "true" : "false", email };
	struct db_res *r = NULL;
	int rc;

	snprintf(sid, sizeof(sid), "%" PRId64, id);
	rc = credentials_written(c, db_execv(&r, c, sql, 6, v));
	if (rc == 0 && db_res_affected(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, NULL, "user id '%s' not found", sid);
	db_res_free(r);
	return rc;
}

int users_set_password(struct db_conn *c, int64_t id, const char *password_hash)
{
	static const char sql[] =
		"UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1";
	char sid[32];
	const char *v[] = { sid, password_hash };

	snprintf(sid, sizeof(sid), "%" PRId64, id);
	return credentials_written(c, db_execv(NULL, c, sql, 2, v));
}

int sessions_insert(struct db_conn *c, const unsigned char id_hash[32], int64_t user_id,
		    const char *csrf_token, int64_t expires_us, const char *source, const char *auth)
{
	static const char sql[] =
		"INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, source, auth) "
		"VALUES ($1, $2, $3, to_timestamp($4::bigint / 1e6), $5, $6)";
	char suser[32], sexp[32];
	struct db_param p[6];

	snprintf(suser, sizeof(suser), "%" PRId64, user_id);
	snprintf(sexp, sizeof(sexp), "%" PRId64, expires_us);
	p[0] = DB_BYTES(id_hash, 32);
	p[1] = DB_TEXT(suser);
	p[2] = DB_TEXT(csrf_token);
	p[3] = DB_TEXT(sexp);
	p[4] = DB_TEXT(source);
	p[5] = DB_TEXT(auth);
	return db_exec(NULL, c, sql, 6, p, false);
}

int sessions_find(struct user *out_user, const char **out_csrf, const char **out_auth,
		  struct arena *a, struct db_conn *c, const unsigned char id_hash[32])
{
	static const char sql[] =
		"SELECT " USER_COLUMNS("u.") ", s.csrf_token, s.auth FROM sessions s "
		"JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > now()";
	struct db_param p[1] = { DB_BYTES(id_hash, 32) };
	struct db_res *r = NULL;
	int rc = db_exec(&r, c, sql, 1, p, false);

	if (rc == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, NULL, "no such session");
	if (rc == 0) {
		fill_user(out_user, a, r, 0);
		*out_csrf = arena_strdup(a, db_res_get(r, 0, USER_NCOLS));
		*out_auth = arena_strdup(a, db_res_get(r, 0, USER_NCOLS + 1));
	}
	db_res_free(r);
	return rc;
}

int sessions_delete(struct db_conn *c, const unsigned char id_hash[32])
{
	static const char sql[] = "DELETE FROM sessions WHERE id_hash = $1";
	struct db_param p[1] = { DB_BYTES(id_hash, 32) };

	return db_exec(NULL, c, sql, 1, p, false);
}

/* Run `sql`, whose one parameter is a user id; *out_count gets the rows it touched. */
static int exec_for_user(int64_t *out_count, struct db_conn *c, const char *sql, int64_t user_id)
{
	char suser[32];
	const char *v[] = { suser };
	struct db_res *r = NULL;
	int rc;

	snprintf(suser, sizeof(suser), "%" PRId64, user_id);
	rc = db_execv(&r, c, sql, 1, v);
	if (rc == 0)
		*out_count = (int64_t)db_res_affected(r);
	db_res_free(r);
	return rc;
}

int sessions_delete_user(int64_t *out_count, struct db_conn *c, int64_t user_id)
{
	static const char sql[] = "DELETE FROM sessions WHERE user_id = $1";

	return exec_for_user(out_count, c, sql, user_id);
}

int tokens_revoke_user(int64_t *out_count, struct db_conn *c, int64_t user_id)
{
	static const char sql[] =
		"UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL";

	return credentials_written(c, exec_for_user(out_count, c, sql, user_id));
}

int totp_delete(struct db_conn *c, int64_t user_id)
{
	static const char sql[] = "DELETE FROM user_totp WHERE user_id = $1";
	int64_t n = 0;
	int rc = exec_for_user(&n, c, sql, user_id);

	if (rc == 0 && n == 0)
		rc = err_set(OTCM_ENOTFOUND, NULL, "user id '%" PRId64 "' has no one-time codes", user_id);
	return rc;
}

int login_address_get(int *out_failed, int64_t *out_next_us, struct db_conn *c,
		      const char *address, unsigned quiet_seconds)
{
	static const char sql[] =
		"SELECT failed_logins, coalesce(" US("next_login_at") ", 0) FROM login_addresses "
		"WHERE address = $1 AND last_failed_at > now() - make_interval(secs => $2::bigint)";
	char squiet[16];
	const char *v[] = { address, squiet };
	struct db_res *r = NULL;
	int rc;

	snprintf(squiet, sizeof(squiet), "%u", quiet_seconds);
	*out_failed = 0;
	*out_next_us = 0;
	rc = db_execv(&r, c, sql, 2, v);
	if (rc == 0 && db_res_rows(r) > 0) {
		*out_failed = (int)to_i64(db_res_get(r, 0, 0));
		*out_next_us = to_i64(db_res_get(r, 0, 1));
	}
	db_res_free(r);
	return rc;
}

int login_address_failed(int *out_failed, struct db_conn *c, const char *address,
			 unsigned quiet_seconds, unsigned throttle_after, int64_t max_wait_us)
{
	/*
	 * One statement, so concurrent failures from one address each count:
	 * the count restarts after a quiet period, and from `throttle_after`
	 * failures on each one doubles the wait (1 s, 2 s, ...) up to the cap.
	 */
	static const char sql[] =
		"INSERT INTO login_addresses AS a (address, failed_logins, last_failed_at) "
		"VALUES ($1, 1, now()) ON CONFLICT (address) DO UPDATE SET "
		"failed_logins = CASE WHEN a.last_failed_at > now() - make_interval(secs => $2::bigint) "
		"THEN a.failed_logins + 1 ELSE 1 END, last_failed_at = now() RETURNING failed_logins";
	static const char wait_sql[] =
		"UPDATE login_addresses SET next_login_at = now() + "
		"make_interval(secs => least($2::bigint, 1::bigint << least($3::int, 30))::double precision) "
		"WHERE address = $1";
	char squiet[16], sstep[16], smax[32];
	const char *v[] = { address, squiet };
	struct db_res *r = NULL;
	int rc, failed;

	snprintf(squiet, sizeof(squiet), "%u", quiet_seconds);
	rc = db_execv(&r, c, sql, 2, v);
	if (rc)
		goto out;
	failed = (int)to_i64(db_res_get(r, 0, 0));
	*out_failed = failed;
	if ((unsigned)failed >= throttle_after) {
		const char *w[] = { address, smax, sstep };

		snprintf(smax, sizeof(smax), "%" PRId64, max_wait_us / 1000000);
		snprintf(sstep, sizeof(sstep), "%u", (unsigned)failed - throttle_after);
		rc = db_execv(NULL, c, wait_sql, 3, w);
	}
out:
	db_res_free(r);
	return rc;
}

int tokens_insert(int64_t *out_id, struct db_conn *c, int64_t user_id, const char *name,
		  const unsigned char token_hash[32], int64_t expires_us)
{
	static const char sql[] =
		"INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, "
		"CASE WHEN $4 = '' THEN NULL ELSE to_timestamp($4::bigint / 1e6) END) RETURNING id";
	char suser[32], sexp[32];
	struct db_param p[4];
	struct db_res *r = NULL;
	int rc;

	snprintf(suser, sizeof(suser), "%" PRId64, user_id);
	fmt_time_param(sexp, sizeof(sexp), expires_us);
	p[0] = DB_TEXT(suser);
	p[1] = DB_TEXT(name);
	p[2] = DB_BYTES(token_hash, 32);
	p[3] = DB_TEXT(sexp);
	rc = db_exec(&r, c, sql, 4, p, false);
	if (rc == 0)
		*out_id = to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}

/* A token's last use, written at most once a minute per process. */
static const char sql_token_touch[] = "UPDATE api_tokens SET last_used_at = now() WHERE id = $1";

/* One read of a token's owner from the database; see tokens_find(). */
static int token_read(struct user *out_user, struct cred_entry *out, struct arena *a,
		      struct db_conn *c, const unsigned char token_hash[32])
{
	/*
	 * The last use is written at most once a minute, so authenticated
	 * reads are not each a write transaction queueing on the token's row.
	 */
	static const char sql[] =
		"SELECT " USER_COLUMNS("u.") ", t.id, "
		"t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute', "
		"coalesce(" US("t.expires_at") ", 0) "
		"FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 "
		"AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())";
	struct db_param p[1] = { DB_BYTES(token_hash, 32) };
	struct db_res *r = NULL;
	int rc = db_exec(&r, c, sql, 1, p, false);

	if (rc == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, NULL, "no such token");
	if (rc == 0) {
		const char *id = db_res_get(r, 0, USER_NCOLS);

		fill_user(out_user, a, r, 0);
		memset(out, 0, sizeof(*out));
		out->user_id = out_user->id;
		out->token_id = to_i64(id);
		out->username = out_user->username;
		out->display_name = out_user->display_name;
		out->role = out_user->role;
		out->disabled = out_user->disabled;
		out->directory = out_user->directory;
		out->locked_until_us = out_user->locked_until_us;
		out->directory_checked_us = out_user->directory_checked_us;
		out->expires_us = to_i64(db_res_get(r, 0, USER_NCOLS + 2));
		if (strcmp(db_res_get(r, 0, USER_NCOLS + 1), "t") == 0)
			rc = db_execv(NULL, c, sql_token_touch, 1, &id);
	}
	db_res_free(r);
	return rc;
}

/* The fields of a user that a cached token carries; the rest stay empty. */
static void user_of_entry(struct user *u, const struct cred_entry *e)
{
	memset(u, 0, sizeof(*u));
	u->id = e->user_id;
	u->username = e->username;
	u->display_name = e->display_name;
	u->role = e->role;
	u->disabled = e->disabled;
	u->directory = e->directory;
	u->locked_until_us = e->locked_until_us;
	u->directory_checked_us = e->directory_checked_us;
}

int tokens_find(struct user *out_user, int64_t *out_token_id, struct arena *a,
		struct db_pool *pool, const unsigned char token_hash[32])
{
	struct credcache *cc = db_pool_credcache(pool);
	struct db_conn *c = NULL;
	struct cred_entry e;
	uint64_t gen = 0;
	bool due = false;
	int rc;

	if (cc && credcache_get(&e, &due, cc, a, token_hash, TOKEN_TOUCH_EVERY_US)) {
		user_of_entry(out_user, &e);
		*out_token_id = e.token_id;
		if (!due)
			return 0;
		/* the last use, once a minute; a failure here costs the request nothing */
		if (db_acquire(&c, pool) == 0) {
			char sid[24];
			const char *v[] = { sid };

			snprintf(sid, sizeof(sid), "%" PRId64, e.token_id);
			if (db_execv(NULL, c, sql_token_touch, 1, v))
				log_msg(LOG_WARN, "token %s: last use not recorded: %s", sid, err_message());
			db_release(c);
		}
		err_clear();
		return 0;
	}
	if (cc)
		gen = credcache_generation(cc);
	if ((rc = db_acquire(&c, pool)))
		return rc;
	rc = token_read(out_user, &e, a, c, token_hash);
	db_release(c);
	if (rc == 0) {
		*out_token_id = e.token_id;
		if (cc)
			credcache_put(cc, token_hash, &e, gen);
	}
	return rc;
}

int tokens_list(json_t **out, struct db_conn *c, int64_t user_id)
{
	static const char sql[] =
		"SELECT id, name, " US("created_at") ", coalesce(" US("expires_at") ", 0), "
		"coalesce(" US("last_used_at") ", 0), revoked_at IS NOT NULL "
		"FROM api_tokens WHERE user_id = $1 ORDER BY id";
	char suser[32], t[TIME_RFC3339_LEN];
	const char *v[] = { suser };
	struct db_res *r = NULL;
	json_t *list = json_array();
	size_t i;
	int rc;

	snprintf(suser, sizeof(suser), "%" PRId64, user_id);
	rc = db_execv(&r, c, sql, 1, v);
	for (i = 0; rc == 0 && i < db_res_rows(r); i++) {
		json_t *o = json_object();
		int64_t exp = to_i64(db_res_get(r, i, 3)), used = to_i64(db_res_get(r, i, 4));

		json_object_set_new(o, "id", json_integer(to_i64(db_res_get(r, i, 0))));
		json_object_set_new(o, "name", json_string(db_res_get(r, i, 1)));
		time_format_rfc3339(t, to_i64(db_res_get(r, i, 2)));
		json_object_set_new(o, "created_at", json_string(t));
		if (exp) {
			time_format_rfc3339(t, exp);
			json_object_set_new(o, "expires_at", json_string(t));
		}
		if (used) {
			time_format_rfc3339(t, used);
			json_object_set_new(o, "last_used_at", json_string(t));
		}
		json_object_set_new(o, "revoked", json_boolean(strcmp(db_res_get(r, i, 5), "t") == 0));
		json_array_append_new(list, o);
	}
	db_res_free(r);
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

int tokens_revoke(struct db_conn *c, int64_t id, int64_t user_id)
{
	static const char sql[] =
		"UPDATE api_tokens SET revoked_at = now() WHERE id = $1 "
		"AND ($2 = '0' OR user_id = $2::bigint) AND revoked_at IS NULL";
	char sid[32], suser[32];
	const char *v[] = { sid, suser };
	struct db_res *r = NULL;
	int rc;

	snprintf(sid, sizeof(sid), "%" PRId64, id);
	snprintf(suser, sizeof(suser), "%" PRId64, user_id);
	rc = credentials_written(c, db_execv(&r, c, sql, 2, v));
	if (rc == 0 && db_res_affected(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, NULL, "token '%s' not found", sid);
	db_res_free(r);
	return rc;
}

/* ---- one-time code (TOTP) enrolments ---- */

int totp_load(struct totp_state *out, struct db_conn *c, int64_t user_id, bool for_update)
{
	static const char sql[] =
		"SELECT secret, enabled::text, last_step::text FROM user_totp WHERE user_id = $1";
	static const char sql_lock[] =
		"SELECT secret, enabled::text, last_step::text FROM user_totp WHERE user_id = $1 FOR UPDATE";
	char suser[24];
	struct db_param p[1];
	struct db_res *r = NULL;
	int rc;

	snprintf(suser, sizeof(suser), "%" PRId64, user_id);
	p[0] = DB_TEXT(suser);
	memset(out, 0, sizeof(*out));
	rc = db_exec(&r, c, for_update ? sql_lock : sql, 1, p, true);
	if (rc == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, NULL, "no one-time code enrolment");
	if (rc == 0) {
		size_t n = db_res_len(r, 0, 0);

		if (n > sizeof(out->secret))
			n = sizeof(out->secret);
		memcpy(out->secret, db_res_get(r, 0, 0), n);
		out->secret_len = n;
		out->enabled = strncmp(db_res_get(r, 0, 1), "true", db_res_len(r, 0, 1)) == 0 &&
			       db_res_len(r, 0, 1) == 4;
		out->last_step = strtoll(db_res_get(r, 0, 2), NULL, 10);
	}
	db_res_free(r);
	return rc;
}

int totp_store_pending(struct db_conn *c, int64_t user_id, const unsigned char *secret, size_t len)
{
	static const char sql[] =
		"INSERT INTO user_totp (user_id, secret) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE "
		"SET secret = EXCLUDED.secret, created_at = now() WHERE NOT user_totp.enabled";
	char suser[24];
	struct db_param p[2];
	struct db_res *r = NULL;
	int rc;

	snprintf(suser, sizeof(suser), "%" PRId64, user_id);
	p[0] = DB_TEXT(suser);
	p[1] = DB_BYTES(secret, len);
	rc = db_exec(&r, c, sql, 2, p, false);
	if (rc == 0 && db_res_affected(r) != 1)
		rc = err_set(OTCM_ECONFLICT, NULL, "one-time codes are already enrolled for this account");
	db_res_free(r);
	return rc;
}

int totp_set(struct db_conn *c, int64_t user_id, bool enable, int64_t last_step)
{
	static const char sql[] =
		"UPDATE user_totp SET enabled = enabled OR $2::boolean, last_step = $3, "
		"enabled_at = CASE WHEN $2::boolean AND enabled_at IS NULL THEN now() ELSE enabled_at END "
		"WHERE user_id = $1";
	char suser[24], sstep[24];

	snprintf(suser, sizeof(suser), "%" PRId64, user_id);
	snprintf(sstep, sizeof(sstep), "%" PRId64, last_step);
	return db_execv(NULL, c, sql, 3, (const char *[]){ suser, enable ? "true" : "false", sstep });
}
