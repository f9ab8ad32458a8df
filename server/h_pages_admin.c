/*
 * server/h_pages_admin.c - the pages of the profile, the administrator and
 * the auditor.  As everywhere in the pages, forms are turned into the JSON
 * body the API expects and the API handler runs behind them (so its checks,
 * its audit events and its sentences are the page's), and reads go through
 * the API handlers or the record stores they use.
 *
 *   GET  /profile                         any      name, role, one-time codes, API tokens
 *   POST /profile/tokens                  any      issue a token: shown once on the answer
 *   POST /profile/tokens/{id}/revoke      any      revoke one of my tokens
 *   POST /profile/totp                    all but agent  start enrolment: secret and URI
 *   POST /profile/totp/confirm            all but agent  enable codes with a first code
 *   GET  /admin/users, POST               admin    users; create one
 *   POST /admin/users/{id}                admin    change role, disable, enable, unlock
 *   GET  /admin/assets, POST              admin    the asset register; register one
 *   GET  /admin/assets/{id}, POST         admin    edit an asset's fields
 *   GET  /reports                         all but agent  population and exceptions of a period
 *   GET  /audit                           admin, auditor the audit trail and its verification
 *
 * Secrets (a new token, a TOTP secret) appear only in the body of the
 * answer to the POST that made them, never in a URL; pages are no-store.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/merkle.h"
#include "core/signednote.h"
#include "core/timeutil.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/assets.h"
#include "storage/audit.h"
#include "storage/changes.h"
#include "storage/checkpoint.h"
#include "storage/users.h"
#include "web/form.h"
#include "web/pages.h"

#define AUDIT_PAGE_SIZE 100

/* A field of the form as given, empty included (NULL only when absent). */
static const char *form_raw(struct http_req *req, const char *name)
{
	return form_get(req->form, name);
}

/* "<prefix><id><suffix>" as a redirect target; id is a number. */
static int redirect_id(struct http_req *req, const char *prefix, int64_t id, const char *suffix)
{
	return pg_redirect(req, arena_printf(req->arena, "%s%" PRId64 "%s", prefix, id, suffix));
}

/* ---- profile: name, role, one-time codes, API tokens ---- */

/* "none", "pending" or "enabled"; NULL for the agent role, which cannot enrol. */
static int totp_status(const char **out, struct http_req *req)
{
	struct db_conn *c = NULL;
	struct totp_state t;
	int rc;

	*out = NULL;
	if (req->who.role == ROLE_AGENT)
		return 0;
	if ((rc = svc_conn(&c, req)))
		return rc;
	rc = totp_load(&t, c, req->who.user_id, false);
	svc_end(c);
	if (rc == OTCM_ENOTFOUND) {
		err_clear();
		*out = "none";
		return 0;
	}
	if (rc)
		return rc;
	memset(t.secret, 0, sizeof(t.secret));
	*out = t.enabled ? "enabled" : "pending";
	return 0;
}

static int profile_page(struct http_req *req, unsigned status, const struct web_profile_once *once,
			const char *kind, const char *notice)
{
	struct web_page p = pg_page(req, "My profile", "profile");
	json_t *session = NULL, *tokens = NULL;
	const char *totp;
	struct html h;
	int rc;

	if ((rc = pg_call_json(&session, req, h_session_get)))
		return rc;
	pg_keep(req, session);
	if ((rc = pg_call_json(&tokens, req, h_tokens_list)))
		return rc;
	pg_keep(req, tokens);
	if ((rc = totp_status(&totp, req)))
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_profile(&h, &p, json_object_get(session, "user"), json_object_get(tokens, "items"), totp,
		     req->who.token_id != 0, once, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_profile(struct http_req *req)
{
	const char *done = http_query(req, "done");

	/* fixed sentences only: nothing from the URL reaches the page */
	if (done && strcmp(done, "revoked") == 0)
		return profile_page(req, 200, NULL, "ok", "The token is revoked: it no longer works.");
	if (done && strcmp(done, "totp") == 0)
		return profile_page(req, 200, NULL, "ok",
				    "One-time codes are on: logins and signatures now ask for a code.");
	return profile_page(req, 200, NULL, NULL, NULL);
}

int h_page_profile_token(struct http_req *req)
{
	const char *name = pg_form(req, "name"), *days = pg_form(req, "expires_in_days");
	struct web_profile_once once;
	struct pg_failure f;
	json_t *body, *out = NULL;
	char *end = NULL;
	long long n = 0;
	int rc;

	if (days) {
		n = strtoll(days, &end, 10);
		if (*end) {
			rc = err_set(OTCM_EINVAL, "expires_in_days", "'expires in' must be a number of days");
			goto refused;
		}
	}
	body = json_pack("{s:s}", "name", name ? name : "");
	if (days)
		json_object_set_new(body, "expires_in_days", json_integer(n));
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_tokens_create)))
		goto refused;
	pg_keep(req, out);
	memset(&once, 0, sizeof(once));
	once.token = web_str(out, "token");
	once.token_name = web_str(out, "name");
	return profile_page(req, 201, &once, "ok", "Token issued.");
refused:
	pg_keep_failure(&f, req, rc);
	return profile_page(req, f.status, NULL, "error", f.message);
}

int h_page_profile_token_revoke(struct http_req *req)
{
	unsigned status;
	const char *body;
	size_t len;
	struct pg_failure f;
	int rc = http_call(&status, &body, &len, req, h_tokens_delete);

	if (rc == 0)
		return pg_redirect(req, "/profile?done=revoked");
	pg_keep_failure(&f, req, rc);
	return profile_page(req, f.status, NULL, "error", f.message);
}

int h_page_totp_start(struct http_req *req)
{
	struct web_profile_once once;
	struct pg_failure f;
	json_t *out = NULL;
	int rc;

	if ((rc = pg_call_json(&out, req, h_totp_enrol))) {
		pg_keep_failure(&f, req, rc);
		return profile_page(req, f.status, NULL, "error", f.message);
	}
	pg_keep(req, out);
	memset(&once, 0, sizeof(once));
	once.totp_secret = web_str(out, "secret");
	once.totp_uri = web_str(out, "provisioning_uri");
	return profile_page(req, 200, &once, NULL, NULL);
}

int h_page_totp_confirm(struct http_req *req)
{
	const char *code = pg_form(req, "totp_code");
	struct pg_failure f;
	json_t *out = NULL;
	int rc;

	pg_set_json_body(req, json_pack("{s:s}", "totp_code", code ? code : ""));
	if ((rc = pg_call_json(&out, req, h_totp_confirm))) {
		pg_keep_failure(&f, req, rc);
		return profile_page(req, f.status, NULL, "error", f.message);
	}
	json_decref(out);
	return pg_redirect(req, "/profile?done=totp");
}

/* ---- administration: users ---- */

static int users_page(struct http_req *req, unsigned status, const json_t *refill, const char *kind,
		      const char *notice)
{
	struct web_page p = pg_page(req, "Users", "users");
	json_t *users = NULL;
	struct html h;
	int rc;

	if ((rc = pg_call_json(&users, req, h_users_list)))
		return rc;
	pg_keep(req, users);
	html_init(&h, PG_PAGE_CAP);
	page_admin_users(&h, &p, json_object_get(users, "items"), req->who.user_id, refill, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_admin_users(struct http_req *req)
{
	static const struct {
		const char *done, *sentence;
	} notices[] = {
		{ "created", "User created: they can log in now." },
		{ "role", "Role changed." },
		{ "disabled", "User disabled: their logins and tokens no longer work." },
		{ "enabled", "User enabled again." },
		{ "unlocked", "Account unlocked: the user can log in again." },
	};
	const char *done = http_query(req, "done");
	size_t i;

	for (i = 0; done && i < sizeof(notices) / sizeof(notices[0]); i++)
		if (strcmp(done, notices[i].done) == 0)
			return users_page(req, 200, NULL, "ok", notices[i].sentence);
	return users_page(req, 200, NULL, NULL, NULL);
}

int h_page_admin_user_create(struct http_req *req)
{
	static const char *const names[] = { "username", "display_name", "email", "role", "password" };
	json_t *body = json_object(), *refill = pg_keep(req, json_object()), *out = NULL;
	struct pg_failure f;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = pg_form(req, names[i]);

		if (!v)
			continue;
		json_object_set_new(body, names[i], json_string(v));
		if (strcmp(names[i], "password") != 0)
			json_object_set_new(refill, names[i], json_string(v));
	}
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_users_create))) {
		pg_keep_failure(&f, req, rc);
		return users_page(req, f.status, refill, "error", f.message);
	}
	json_decref(out);
	return pg_redirect(req, "/admin/users?done=created");
}

int h_page_admin_user_update(struct http_req *req)
{
	const char *op = pg_form(req, "op"), *role = pg_form(req, "role");
	json_t *body = NULL, *out = NULL;
	struct pg_failure f;
	int rc;

	if (op && strcmp(op, "role") == 0 && role)
		body = json_pack("{s:s}", "role", role);
	else if (op && strcmp(op, "disabled") == 0)
		body = json_pack("{s:b}", "disabled", 1);
	else if (op && strcmp(op, "enabled") == 0)
		body = json_pack("{s:b}", "disabled", 0);
	else if (op && strcmp(op, "unlocked") == 0)
		body = json_pack("{s:b}", "unlock", 1);
	if (!body) {
		rc = err_set(OTCM_EINVAL, "op", "unknown change to a user");
		goto refused;
	}
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_users_patch)))
		goto refused;
	json_decref(out);
	return pg_redirect(req, arena_printf(req->arena, "/admin/users?done=%s", op));
refused:
	pg_keep_failure(&f, req, rc);
	return users_page(req, f.status, NULL, "error", f.message);
}

/* ---- administration: the asset register ---- */

static int assets_admin_page(struct http_req *req, unsigned status, const json_t *refill,
			     const char *kind, const char *notice)
{
	struct web_page p = pg_page(req, "Manage assets", "admin-assets");
	struct asset_query q;
	struct db_conn *c = NULL;
	json_t *list = NULL;
	bool more = false;
	struct html h;
	int rc;

	memset(&q, 0, sizeof(q));
	q.limit = ASSETS_MAX_LIMIT;
	if ((rc = svc_conn(&c, req)) || (rc = assets_list(&list, &more, c, &q)))
		goto out;
	svc_end(c);
	c = NULL;
	pg_keep(req, list);
	html_init(&h, PG_PAGE_CAP);
	page_admin_assets(&h, &p, list, more, refill, kind, notice);
	return pg_reply(req, status, &h);
out:
	svc_end(c);
	return rc;
}

int h_page_admin_assets(struct http_req *req)
{
	return assets_admin_page(req, 200, NULL, NULL, NULL);
}

static const char *const asset_text_fields[] = { "vendor", "model", "firmware", "description" };

int h_page_admin_asset_create(struct http_req *req)
{
	static const char *const levels[] = { "site", "area", "line", "name" };
	json_t *refill = pg_keep(req, json_object()), *body = NULL, *out = NULL;
	const char *type = pg_form(req, "type");
	struct pg_failure f;
	struct buf path = BUF_INIT;
	size_t i;
	int rc = 0;

	/* the path is the hierarchy: site / area / line / name, empty levels left out */
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		const char *v = pg_form(req, levels[i]);

		if (v) {
			json_object_set_new(refill, levels[i], json_string(v));
			if (path.len)
				buf_addch(&path, '/');
			buf_adds(&path, v);
		} else if (rc == 0 && (i == 0 || i == 3)) {
			rc = err_set(OTCM_EINVAL, levels[i], i == 0 ? "enter the site the asset belongs to"
								 : "enter the asset's name");
		}
	}
	if (type)
		json_object_set_new(refill, "type", json_string(type));
	body = json_pack("{s:s, s:s}", "path", buf_cstr(&path), "type", type ? type : "");
	buf_release(&path);
	for (i = 0; i < sizeof(asset_text_fields) / sizeof(asset_text_fields[0]); i++) {
		const char *v = pg_form(req, asset_text_fields[i]);

		if (v) {
			json_object_set_new(body, asset_text_fields[i], json_string(v));
			json_object_set_new(refill, asset_text_fields[i], json_string(v));
		}
	}
	if (rc) {
		json_decref(body);
		goto refused;
	}
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_assets_create)))
		goto refused;
	pg_keep(req, out);
	return redirect_id(req, "/admin/assets/", json_integer_value(json_object_get(out, "id")),
			   "?done=created");
refused:
	pg_keep_failure(&f, req, rc);
	return assets_admin_page(req, f.status, refill, "error", f.message);
}

static int asset_edit_page(struct http_req *req, unsigned status, const json_t *refill,
			   const char *kind, const char *notice)
{
	struct web_page p;
	json_t *asset = NULL;
	struct html h;
	int rc;

	if ((rc = pg_call_json(&asset, req, h_assets_get)))
		return rc;
	pg_keep(req, asset);
	p = pg_page(req, web_str(asset, "path"), "admin-assets");
	html_init(&h, PG_PAGE_CAP);
	page_admin_asset(&h, &p, asset, refill, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_admin_asset(struct http_req *req)
{
	const char *done = http_query(req, "done");

	if (done && strcmp(done, "created") == 0)
		return asset_edit_page(req, 200, NULL, "ok",
				       "Asset registered. Engineers can now upload its first version.");
	if (done && strcmp(done, "saved") == 0)
		return asset_edit_page(req, 200, NULL, "ok", "Saved.");
	return asset_edit_page(req, 200, NULL, NULL, NULL);
}

int h_page_admin_asset_save(struct http_req *req)
{
	json_t *body = json_object(), *refill = pg_keep(req, json_object()), *out = NULL;
	const char *path = pg_form(req, "path"), *type = pg_form(req, "type");
	struct pg_failure f;
	size_t i;
	int rc;

	json_object_set_new(body, "path", json_string(path ? path : ""));
	json_object_set_new(body, "type", json_string(type ? type : ""));
	for (i = 0; i < sizeof(asset_text_fields) / sizeof(asset_text_fields[0]); i++) {
		/* an emptied field is a change too */
		const char *v = form_raw(req, asset_text_fields[i]);

		if (v)
			json_object_set_new(body, asset_text_fields[i], json_string(v));
	}
	json_object_update(refill, body);
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_assets_patch))) {
		pg_keep_failure(&f, req, rc);
		if (f.status == 404)
			return rc;
		return asset_edit_page(req, f.status, refill, "error", f.message);
	}
	json_decref(out);
	return pg_redirect(req, arena_printf(req->arena, "/admin/assets/%s?done=saved", http_param(req, 0)));
}

/* ---- the auditor: reports of a period ---- */

/* Parse "YYYY-MM-DD" into a UTC midnight; false when it is not such a date. */
static bool parse_day(time_t *out, const char *s)
{
	struct tm tm;
	int y, m, d, n = 0;
	char back[16];

	if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*out = timegm(&tm);
	/* 2030-02-31 normalises to March: not a date */
	return *out != (time_t)-1 && strftime(back, sizeof(back), "%Y-%m-%d", gmtime_r(out, &tm)) &&
	       strcmp(back, s) == 0;
}

/* The UTC day of `t` as "YYYY-MM-DD"; first_of_month: the first day of its month. */
static const char *format_day(struct http_req *req, time_t t, bool first_of_month)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	return arena_printf(req->arena, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			    first_of_month ? 1 : tm.tm_mday);
}

/*
 * Check a checkpoint as the report carries it: its note is signed by `pub`
 * under its origin and says the size and root of the row.  NULL when it
 * holds, else why not.
 */
static const char *checkpoint_problem(const json_t *cp, const unsigned char *pub)
{
	const char *note = web_str(cp, "note"), *origin = web_str(cp, "origin");
	struct signednote *sn = NULL;
	unsigned char root[CRYPTO_SHA256_LEN], row_root[CRYPTO_SHA256_LEN];
	char *note_origin = NULL;
	const char *why = NULL;
	uint64_t size = 0;

	if (!note || !origin || !web_str(cp, "root_hash") ||
	    crypto_unhex(row_root, sizeof(row_root), web_str(cp, "root_hash")))
		return "the checkpoint is incomplete";
	if (!pub)
		return "the server has no signing key to check it with";
	if (signednote_parse(&sn, note, strlen(note)))
		why = "its signed note is malformed";
	else if (signednote_verify(sn, origin, pub))
		why = "its signature does not verify with the server's key";
	else if (signednote_checkpoint_parse(&note_origin, &size, root, sn->text) ||
		 strcmp(note_origin, origin) != 0 ||
		 size != (uint64_t)json_integer_value(json_object_get(cp, "tree_size")) ||
		 memcmp(root, row_root, sizeof(root)) != 0)
		why = "its signed note does not say what the record says";
	free(note_origin);
	signednote_free(sn);
	return why;
}

/*
 * The status of a report's two checkpoints and the consistency proof
 * between them, checked here the way an auditor would offline.
 */
static void check_period(struct web_consistency *out, struct http_req *req, const json_t *report)
{
	const json_t *first = json_object_get(report, "start_checkpoint");
	const json_t *second = json_object_get(report, "end_checkpoint");
	const json_t *proof = json_object_get(report, "consistency_proof"), *step;
	struct crypto_ed25519_key *key = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], *have_pub = NULL;
	merkle_hash old_root, new_root, *path = NULL;
	uint64_t m, n;
	size_t i, len = json_array_size(proof);

	memset(out, 0, sizeof(*out));
	if (checkpoint_key_open(&key, NULL, req->srv->cfg->data, false) == 0) {
		crypto_ed25519_public(pub, key);
		have_pub = pub;
	}
	crypto_ed25519_free(key);
	err_clear();
	out->start_problem = checkpoint_problem(first, have_pub);
	out->end_problem = checkpoint_problem(second, have_pub);
	m = (uint64_t)json_integer_value(json_object_get(first, "tree_size"));
	n = (uint64_t)json_integer_value(json_object_get(second, "tree_size"));
	if (out->start_problem || out->end_problem) {
		out->consistency_problem = "the checkpoints themselves do not verify";
		return;
	}
	path = arena_alloc(req->arena, (len ? len : 1) * sizeof(*path));
	crypto_unhex(old_root, sizeof(old_root), web_str(first, "root_hash"));
	crypto_unhex(new_root, sizeof(new_root), web_str(second, "root_hash"));
	json_array_foreach(proof, i, step) {
		if (!json_is_string(step) || crypto_unhex(path[i], sizeof(path[i]), json_string_value(step))) {
			out->consistency_problem = "the proof is malformed";
			return;
		}
	}
	if (merkle_consistency_verify(m, n, old_root, new_root, path, len)) {
		err_clear();
		out->consistency_problem = "the proof does not hold: the trail was not only appended to";
		return;
	}
	out->verified = true;
}

int h_page_reports(struct http_req *req)
{
	struct web_page p = pg_page(req, "Reports", "reports");
	const char *from = http_query(req, "from"), *to = http_query(req, "to");
	const char *from_day = http_query(req, "from_day"), *to_day = http_query(req, "to_day");
	json_t *population = NULL, *exceptions = NULL;
	struct web_consistency check;
	struct pg_failure f;
	const char *error = NULL;
	unsigned status = 200;
	time_t start, end;
	struct html h;
	int rc;

	memset(&check, 0, sizeof(check));
	if (from_day && to_day && (!from || !to)) {
		/* the form's days become the API's period: from the first midnight to after the last day */
		if (!parse_day(&start, from_day) || !parse_day(&end, to_day))
			error = "enter both days as dates such as 2030-01-31";
		else if (end < start)
			error = "the last day comes before the first";
		else
			return pg_redirect(req, arena_printf(req->arena,
				"/reports?from=%sT00:00:00Z&to=%sT00:00:00Z&from_day=%s&to_day=%s",
				from_day, format_day(req, end + 86400, false), from_day, to_day));
	}
	if (!from_day || !to_day) {
		/* by default this month so far */
		time_t now = (time_t)(time_now_us() / 1000000);

		from_day = format_day(req, now, true);
		to_day = format_day(req, now, false);
	}
	if (error) {
		status = 400;
	} else if (from && to) {
		if ((rc = pg_call_json(&population, req, h_reports_population)) ||
		    (rc = pg_call_json(&exceptions, req, h_reports_exceptions))) {
			json_decref(population);
			population = NULL;
			pg_keep_failure(&f, req, rc);
			error = f.message;
			status = f.status;
		} else {
			pg_keep(req, population);
			pg_keep(req, exceptions);
			check_period(&check, req, population);
		}
	}
	html_init(&h, PG_PAGE_CAP);
	page_reports(&h, &p, from_day, to_day, population ? from : NULL, population ? to : NULL,
		     population, exceptions, &check, error);
	return pg_reply(req, status, &h);
}

/* ---- the auditor: the audit trail and its verification ---- */

/*
 * Recompute the chain and check every checkpoint against it and the
 * server's key, on one snapshot, as `otcm audit verify` does.
 */
static int verify_trail(struct web_audit_status *out, struct http_req *req)
{
	static const char sql_snapshot[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
	struct crypto_ed25519_key *key = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	struct audit_chain chain = { 0 };
	struct checkpoint_check ck = { 0 };
	struct db_conn *c = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = checkpoint_key_open(&key, NULL, req->srv->cfg->data, false);
	if (rc == 0) {
		crypto_ed25519_public(pub, key);
		out->have_key = true;
	} else if (rc != OTCM_ENOTFOUND) {
		goto out;
	}
	if ((rc = svc_conn(&c, req)) || (rc = db_begin(c)) ||
	    (rc = db_exec(NULL, c, sql_snapshot, 0, NULL, false)) ||
	    (rc = audit_verify_chain(&chain, c)) ||
	    (out->have_key && (rc = checkpoint_verify_all(&ck, c, &chain, pub))))
		goto out;
	out->chained = chain.verified;
	out->head_seq = chain.head_seq;
	out->bad_seq = chain.bad_seq;
	out->chain_problem = chain.bad_seq ? arena_strdup(req->arena, chain.problem) : NULL;
	out->checkpoints_checked = ck.checked;
	out->latest_size = ck.latest_size;
	out->bad_size = ck.bad_size;
	out->checkpoint_problem = ck.bad_size ? arena_strdup(req->arena, ck.problem) : NULL;
	out->verified = chain.bad_seq == 0 && ck.bad_size == 0;
out:
	audit_chain_release(&chain);
	crypto_ed25519_free(key);
	svc_end(c);
	return rc;
}

/* A non-negative number from the query; `dflt` when absent, -1 when malformed. */
static int64_t query_seq(struct http_req *req, const char *name, int64_t dflt)
{
	const char *v = http_query(req, name);
	char *end;
	long long n;

	if (!v || !*v)
		return dflt;
	n = strtoll(v, &end, 10);
	return *end || n < 0 ? -1 : n;
}

int h_page_audit(struct http_req *req)
{
	struct web_page p = pg_page(req, "Audit trail", "audit");
	const char *otype = http_query(req, "object_type"), *oid = http_query(req, "object_id");
	struct web_audit_status st;
	struct web_audit_view view;
	json_t *checkpoint = NULL, *events = NULL;
	struct db_conn *c = NULL;
	int64_t after;
	struct html h;
	int rc;

	if (otype && !*otype)
		otype = NULL;
	if (oid && !*oid)
		oid = NULL;
	if ((rc = verify_trail(&st, req)))
		return rc;
	rc = pg_call_json(&checkpoint, req, h_checkpoint_get);
	if (rc == OTCM_ENOTFOUND) {
		err_clear();
		checkpoint = NULL;
	} else if (rc) {
		return rc;
	}
	pg_keep(req, checkpoint);
	/* without a filter, open on the newest events; with one, on the first that match */
	after = query_seq(req, "after", otype || oid ? 0 : (st.head_seq > AUDIT_PAGE_SIZE
							      ? st.head_seq - AUDIT_PAGE_SIZE : 0));
	if (after < 0)
		return err_set(OTCM_EINVAL, "after", "'after' must be a sequence number");
	if ((rc = svc_conn(&c, req)) ||
	    (rc = audit_list(&events, c, otype, oid, after, AUDIT_PAGE_SIZE)))
		goto out;
	svc_end(c);
	c = NULL;
	pg_keep(req, events);
	memset(&view, 0, sizeof(view));
	view.object_type = otype;
	view.object_id = oid;
	view.after = after;
	view.page_size = AUDIT_PAGE_SIZE;
	view.more = json_array_size(events) == AUDIT_PAGE_SIZE;
	html_init(&h, PG_PAGE_CAP);
	page_audit(&h, &p, events, &view, checkpoint, &st);
	return pg_reply(req, 200, &h);
out:
	svc_end(c);
	return rc;
}
