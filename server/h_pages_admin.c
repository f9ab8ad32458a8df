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
 *   POST /profile/totp                    all but agent  start enrolment (password again): secret and URI
 *   POST /profile/totp/confirm            all but agent  enable codes with the password and a first code
 *   GET  /admin/users, POST               admin    users; create one
 *   POST /admin/users/{id}                admin    change role, disable, enable, unlock
 *   POST /admin/users/{id}/totp-reset     admin    turn off a user's one-time codes
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
#include "core/timeutil.h"
#include "domain/assets.h"
#include "domain/audit.h"
#include "domain/auth.h"
#include "domain/reports.h"
#include "domain/users.h"
#include "server/auth.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "storage/assets.h"
#include "storage/changes.h"
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

static int profile_page(struct http_req *req, unsigned status, const struct web_profile_once *once,
			const char *kind, const char *notice)
{
	struct web_page p = pg_page(req, "My profile", "profile");
	json_t *session = NULL, *tokens = NULL;
	const char *totp = NULL;
	struct html h;
	int rc;

	if ((rc = dom_session_read(&session, &req->dom)))
		return rc;
	pg_keep(req, session);
	if ((rc = dom_token_list(&tokens, &req->dom)))
		return rc;
	pg_keep(req, tokens);
	/* the agent role cannot enrol: no section for it */
	if (req->who.role != ROLE_AGENT && (rc = dom_totp_status(&totp, &req->dom)))
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_profile(&h, &p, json_object_get(session, "user"), tokens, totp,
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
	json_t *out = NULL;
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
	if ((rc = dom_token_create(&out, &req->dom, name ? name : "", n)))
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
	const char *sid = http_param(req, 0);
	struct pg_failure f;
	char *end;
	long long id = strtoll(sid, &end, 10);
	int rc;

	if (*sid == '\0' || *end || id <= 0)
		rc = err_set(OTCM_EINVAL, "id", "token id '%.40s' is not a number", sid);
	else
		rc = dom_token_revoke(&req->dom, id);
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

	if ((rc = dom_totp_enrol(&out, &req->dom, pg_form(req, "password"), pg_form(req, "totp_code")))) {
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
	struct pg_failure f;
	int rc;

	if ((rc = dom_totp_confirm(&req->dom, pg_form(req, "password"), pg_form(req, "totp_code")))) {
		pg_keep_failure(&f, req, rc);
		return profile_page(req, f.status, NULL, "error", f.message);
	}
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

	if ((rc = dom_user_list(&users, &req->dom)))
		return rc;
	pg_keep(req, users);
	html_init(&h, PG_PAGE_CAP);
	page_admin_users(&h, &p, users, req->who.user_id, refill, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_admin_users(struct http_req *req)
{
	static const struct {
		const char *done, *sentence;
	} notices[] = {
		{ "created", "User created: they can log in now." },
		{ "role", "Role changed." },
		{ "disabled", "User disabled: their sessions ended and their API tokens are revoked." },
		{ "enabled", "User enabled again. Tokens revoked when they were disabled stay revoked." },
		{ "unlocked", "Account unlocked: the user can log in again." },
		{ "totp-reset", "One-time codes turned off: the user logs in with the password and can enrol a new device." },
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
	json_t *refill = pg_keep(req, json_object()), *out = NULL;
	struct dom_user_new in;
	struct pg_failure f;
	int rc;

	memset(&in, 0, sizeof(in));
	in.username = pg_form(req, "username");
	in.display_name = pg_form(req, "display_name");
	in.email = pg_form(req, "email");
	in.role = pg_form(req, "role");
	in.password = pg_form(req, "password");
	if (in.username)
		json_object_set_new(refill, "username", json_string(in.username));
	if (in.display_name)
		json_object_set_new(refill, "display_name", json_string(in.display_name));
	if (in.email)
		json_object_set_new(refill, "email", json_string(in.email));
	if (in.role)
		json_object_set_new(refill, "role", json_string(in.role));
	if ((rc = dom_user_create(&out, &req->dom, &in))) {
		pg_keep_failure(&f, req, rc);
		return users_page(req, f.status, refill, "error", f.message);
	}
	json_decref(out);
	return pg_redirect(req, "/admin/users?done=created");
}

/* The {id} of the path as a user id. */
static int user_param(int64_t *out, struct http_req *req)
{
	const char *sid = http_param(req, 0);
	char *end;
	long long id = strtoll(sid, &end, 10);

	if (*sid == '\0' || *end || id <= 0)
		return err_set(OTCM_ENOTFOUND, "id", "user '%.40s' not found", sid);
	*out = id;
	return 0;
}

int h_page_admin_user_update(struct http_req *req)
{
	const char *op = pg_form(req, "op"), *role = pg_form(req, "role");
	struct dom_user_change ch;
	struct pg_failure f;
	json_t *out = NULL;
	int64_t id;
	int rc;

	memset(&ch, 0, sizeof(ch));
	ch.disabled = -1;
	if ((rc = user_param(&id, req)))
		return rc;
	if (op && strcmp(op, "role") == 0 && role)
		ch.role = role;
	else if (op && strcmp(op, "disabled") == 0)
		ch.disabled = 1;
	else if (op && strcmp(op, "enabled") == 0)
		ch.disabled = 0;
	else if (op && strcmp(op, "unlocked") == 0)
		ch.unlock = true;
	else
		op = NULL;
	if (!op) {
		rc = err_set(OTCM_EINVAL, "op", "unknown change to a user");
		goto refused;
	}
	if ((rc = dom_user_update(&out, &req->dom, id, &ch)))
		goto refused;
	json_decref(out);
	return pg_redirect(req, arena_printf(req->arena, "/admin/users?done=%s", op));
refused:
	pg_keep_failure(&f, req, rc);
	return users_page(req, f.status, NULL, "error", f.message);
}

int h_page_admin_user_totp_reset(struct http_req *req)
{
	struct pg_failure f;
	int64_t id;
	int rc;

	if ((rc = user_param(&id, req)))
		return rc;
	if ((rc = dom_totp_reset(&req->dom, id)) == 0)
		return pg_redirect(req, "/admin/users?done=totp-reset");
	pg_keep_failure(&f, req, rc);
	return users_page(req, f.status, NULL, "error", f.message);
}

/* ---- administration: the asset register ---- */

static int assets_admin_page(struct http_req *req, unsigned status, const json_t *refill,
			     const char *kind, const char *notice)
{
	struct web_page p = pg_page(req, "Manage assets", "admin-assets");
	struct dom_asset_query q;
	json_t *page = NULL;
	struct html h;
	int rc;

	memset(&q, 0, sizeof(q));
	q.limit = DOM_ASSETS_MAX_LIMIT;
	if ((rc = dom_asset_list(&page, &req->dom, &q)))
		return rc;
	pg_keep(req, page);
	html_init(&h, PG_PAGE_CAP);
	page_admin_assets(&h, &p, json_object_get(page, "items"),
			  !json_is_null(json_object_get(page, "next_cursor")), refill, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_admin_assets(struct http_req *req)
{
	return assets_admin_page(req, 200, NULL, NULL, NULL);
}

static const char *const asset_text_fields[] = {
	"vendor", "model", "firmware", "serial_number", "order_number", "cpe", "purl", "description"
};

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
	rc = dom_asset_create(&out, &req->dom, body);
	json_decref(body);
	if (rc)
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
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = dom_asset_read(&asset, &req->dom, id)))
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
	int64_t id;
	size_t i;
	int rc;

	pg_keep(req, body);
	json_object_set_new(body, "path", json_string(path ? path : ""));
	json_object_set_new(body, "type", json_string(type ? type : ""));
	for (i = 0; i < sizeof(asset_text_fields) / sizeof(asset_text_fields[0]); i++) {
		/* an emptied field is a change too */
		const char *v = form_raw(req, asset_text_fields[i]);

		if (v)
			json_object_set_new(body, asset_text_fields[i], json_string(v));
	}
	json_object_update(refill, body);
	if ((rc = dom_asset_id(&id, http_param(req, 0))))
		return rc;
	if ((rc = dom_asset_update(&out, &req->dom, id, body))) {
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

int h_page_reports(struct http_req *req)
{
	struct web_page p = pg_page(req, "Reports", "reports");
	const char *from = http_query(req, "from"), *to = http_query(req, "to");
	const char *from_day = http_query(req, "from_day"), *to_day = http_query(req, "to_day");
	json_t *population = NULL, *exceptions = NULL;
	struct web_consistency check;
	struct dom_report_check rc_check;
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
		if ((rc = dom_report_population(&population, &req->dom, from, to, NULL)) ||
		    (rc = dom_report_exceptions(&exceptions, &req->dom, from, to))) {
			json_decref(population);
			population = NULL;
			pg_keep_failure(&f, req, rc);
			error = f.message;
			status = f.status;
		} else {
			pg_keep(req, population);
			pg_keep(req, exceptions);
			dom_report_check(&rc_check, &req->dom, population);
			check.verified = rc_check.verified;
			check.start_problem = rc_check.start_problem;
			check.end_problem = rc_check.end_problem;
			check.consistency_problem = rc_check.consistency_problem;
		}
	}
	html_init(&h, PG_PAGE_CAP);
	page_reports(&h, &p, from_day, to_day, population ? from : NULL, population ? to : NULL,
		     population, exceptions, &check, error);
	return pg_reply(req, status, &h);
}

/* ---- the auditor: the audit trail and its verification ---- */

/* The trail verified from the newest checkpoint on, as the page shows it. */
static int verify_trail(struct web_audit_status *out, struct http_req *req)
{
	struct dom_audit_status st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dom_audit_verify(&st, &req->dom)))
		return rc;
	out->verified = st.verified;
	out->have_key = st.have_key;
	out->trusted = st.trusted;
	out->chained = st.chained;
	out->head_seq = st.head_seq;
	out->bad_seq = st.bad_seq;
	out->chain_problem = st.chain_problem;
	out->latest_size = st.latest_size;
	out->bad_size = st.bad_size;
	out->checkpoint_problem = st.checkpoint_problem;
	return 0;
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
	json_t *checkpoint = NULL, *page = NULL, *events;
	int64_t after;
	struct html h;
	int rc;

	if (otype && !*otype)
		otype = NULL;
	if (oid && !*oid)
		oid = NULL;
	if ((rc = verify_trail(&st, req)))
		return rc;
	rc = dom_audit_checkpoint_get(&checkpoint, &req->dom, 0);
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
	if ((rc = dom_audit_list(&page, &req->dom, otype, oid, after, AUDIT_PAGE_SIZE)))
		return rc;
	pg_keep(req, page);
	events = json_object_get(page, "items");
	memset(&view, 0, sizeof(view));
	view.object_type = otype;
	view.object_id = oid;
	view.after = after;
	view.page_size = AUDIT_PAGE_SIZE;
	view.more = json_array_size(events) == AUDIT_PAGE_SIZE;
	html_init(&h, PG_PAGE_CAP);
	page_audit(&h, &p, events, &view, checkpoint, &st);
	return pg_reply(req, 200, &h);
}
