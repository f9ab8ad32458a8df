/*
 * server/h_pages.c - the web pages' handlers: they gather the data (by
 * running the very API handler behind a page through http_call(), or the
 * storage functions the API handlers use) and hand it to the renderers of
 * web/pages.h.  Forms post to page routes; each POST runs the API handler
 * that does the work, then redirects (303) or shows the refusal on the page.
 *
 *   GET  /static/{name}                 public   stylesheet and script, cached by content hash
 *   GET  /login, POST /login            public   the login form
 *   POST /logout                        any
 *   GET  /                              any      my work
 *   GET  /changes, /changes/{key}       all but agent
 *   POST /changes/{key}/actions         engineer, qa, approver, admin
 *   GET  /assets, /assets/{id}          any
 *   GET  /assets/{id}/versions/{commit} any
 *   GET  /assets/{id}/diff              any
 *   GET  /assets/{id}/upload, POST      engineer, admin
 *
 * Every page carries a Content-Security-Policy without inline script or
 * style, and Cache-Control: no-store; errors on page paths are HTML pages
 * (page_reply_error, called by http_reply_error).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/log.h"
#include "server/handlers.h"
#include "server/rules.h"
#include "server/svc.h"
#include "storage/assets.h"
#include "storage/audit.h"
#include "storage/changes.h"
#include "storage/repo.h"
#include "web/form.h"
#include "web/pages.h"

#define PAGE_CAP ((size_t)64 << 20)
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
#define HOME_LIST_LIMIT 50
#define TRAIL_LIMIT 500

/* ---- the frame and replies ---- */

static struct web_page page_of(struct http_req *req, const char *title, const char *section)
{
	struct web_page p;

	memset(&p, 0, sizeof(p));
	p.title = title;
	p.section = section;
	if (req->who.user_id) {
		p.user.username = req->who.username;
		p.user.display_name = req->who.display_name;
		p.user.role = role_name(req->who.role);
		p.user.csrf_token = req->who.csrf_token;
	}
	return p;
}

static int reply_html(struct http_req *req, unsigned status, struct html *h)
{
	int rc;

	if (h->err) {
		rc = err_set(h->err, NULL, "the page is larger than %zu bytes", (size_t)PAGE_CAP);
		html_release(h);
		return rc;
	}
	http_set_header(req, "Content-Security-Policy", CSP);
	http_set_header(req, "Cache-Control", "no-store");
	rc = http_reply_bytes(req, status, "text/html; charset=utf-8", buf_cstr(&h->buf), h->buf.len);
	html_release(h);
	return rc;
}

/* 303 See Other to `location` (a path built here from escaped parts). */
static int redirect(struct http_req *req, const char *location)
{
	http_set_header(req, "Location", location);
	http_set_header(req, "Cache-Control", "no-store");
	return http_reply_empty(req, 303);
}

int page_reply_error(struct http_req *req, unsigned status, const char *title, const char *detail)
{
	struct web_page p = page_of(req, title, NULL);
	struct html h;

	if (status == 401 && strcmp(req->path, "/login") != 0) {
		html_init(&h, 4096);
		html_raw(&h, "/login?next=");
		html_url(&h, req->path);
		if (h.err == 0)
			redirect(req, arena_strdup(req->arena, buf_cstr(&h.buf)));
		html_release(&h);
		if (h.err == 0)
			return 0;
	}
	html_init(&h, PAGE_CAP);
	page_error(&h, &p, status, title, detail, req->request_id);
	if (h.err) {
		html_release(&h);
		return http_reply_bytes(req, status, "text/plain; charset=utf-8", title, strlen(title));
	}
	return reply_html(req, status, &h);
}

/* An error code and its message, kept before more work may set another. */
struct failure {
	int code;
	unsigned status;
	const char *message;
};

static void keep_failure(struct failure *f, struct http_req *req, int code)
{
	f->code = code;
	f->status = http_status_for(code);
	f->message = arena_strdup(req->arena, f->status >= 500 && f->status != 503
				  ? "the server failed to handle the request; its log has the details"
				  : (err_message() && *err_message() ? err_message() : "refused"));
	if (f->status >= 500 && f->status != 503)
		log_msg(LOG_ERROR, "page action failed: %s", err_message());
}

/* Run API handler `h` and parse its JSON answer into *out. */
static int call_json(json_t **out, struct http_req *req, http_handler h)
{
	unsigned status;
	const char *body;
	size_t len;
	int rc = http_call(&status, &body, &len, req, h);

	if (rc)
		return rc;
	if (status >= 400 || !body)
		return err_set(OTCM_EINTERNAL, NULL, "the handler behind '%s' answered %u", req->path, status);
	*out = json_loadb(body, len, 0, NULL);
	if (!*out)
		return err_set(OTCM_EINTERNAL, NULL, "the handler behind '%s' gave no JSON", req->path);
	return 0;
}

/* Replace the request body by the JSON text of `body` (consumed), for an API handler. */
static void set_json_body(struct http_req *req, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);

	req->body = text ? arena_strdup(req->arena, text) : "";
	req->body_len = strlen(req->body);
	req->parts = NULL;
	req->nparts = 0;
	free(text);
	json_decref(body);
}

/* A field of an urlencoded form body, or NULL. */
static const char *form(struct http_req *req, const char *name)
{
	const char *v = form_value(req->arena, req->body, req->body_len, name);

	return v && *v ? v : NULL;
}

static void json_decref_cb(void *p)
{
	json_decref(p);
}

/* Tie `j` to the request: released with the arena. */
static json_t *keep(struct http_req *req, json_t *j)
{
	if (j)
		arena_on_free(req->arena, json_decref_cb, j);
	return j;
}

/* ---- static files ---- */

int h_page_static(struct http_req *req)
{
	struct web_static s;
	const char *inm = http_header(req, "If-None-Match"), *v = http_query(req, "v");
	char etag[32];

	if (!web_static_find(&s, http_param(req, 0)))
		return err_set(OTCM_ENOTFOUND, NULL, "no static file '%.100s'", http_param(req, 0));
	snprintf(etag, sizeof(etag), "\"%s\"", s.hash);
	http_set_header(req, "ETag", etag);
	/* the pages link ?v=<hash>: such a URL never changes content */
	http_set_header(req, "Cache-Control", v && strcmp(v, s.hash) == 0
			? "public, max-age=31536000, immutable" : "no-cache");
	if (inm && strstr(inm, etag))
		return http_reply_empty(req, 304);
	return http_reply_bytes(req, 200, s.content_type, s.data, s.len);
}

/* ---- login and logout ---- */

/* Is `next` a path on this server (not "//host" or a scheme)? */
static bool local_path(const char *next)
{
	return next && next[0] == '/' && next[1] != '/' && next[1] != '\\' && !strchr(next, ':') &&
	       strlen(next) < 1024 && !strpbrk(next, "\r\n");
}

int h_page_login_form(struct http_req *req)
{
	struct web_page p = page_of(req, "Log in", NULL);
	const char *next = http_query(req, "next");
	struct html h;

	if (req->who.user_id)
		return redirect(req, local_path(next) ? next : "/");
	html_init(&h, PAGE_CAP);
	page_login(&h, &p, NULL, local_path(next) ? next : NULL, NULL);
	return reply_html(req, 200, &h);
}

int h_page_login(struct http_req *req)
{
	const char *username = form(req, "username"), *password = form(req, "password");
	const char *next = form(req, "next");
	struct web_page p = page_of(req, "Log in", NULL);
	struct failure f;
	json_t *out = NULL;
	struct html h;
	int rc;

	if (!username || !password) {
		rc = err_set(OTCM_EINVAL, "username", "enter your user name and password");
	} else {
		set_json_body(req, json_pack("{s:s, s:s}", "username", username, "password", password));
		rc = call_json(&out, req, h_session_create);
	}
	if (rc == 0) {
		json_decref(out);
		return redirect(req, local_path(next) ? next : "/");
	}
	keep_failure(&f, req, rc);
	p.user.username = NULL;   /* still anonymous */
	html_init(&h, PAGE_CAP);
	page_login(&h, &p, username, local_path(next) ? next : NULL, f.message);
	return reply_html(req, f.status, &h);
}

int h_page_logout(struct http_req *req)
{
	unsigned status;
	const char *body;
	size_t len;
	int rc = http_call(&status, &body, &len, req, h_session_delete);

	if (rc && rc != OTCM_EINVAL)   /* EINVAL: no session to end, e.g. a bearer token */
		return rc;
	return redirect(req, "/login");
}

/* ---- my work and the change list ---- */

/* The changes matching q, or an empty array when the role may not read changes. */
static int list_changes(json_t **out, struct http_req *req, struct db_conn *c,
			const struct change_query *q)
{
	bool more;
	int rc;

	if (req->who.role == ROLE_AGENT) {
		*out = keep(req, json_array());
		return 0;
	}
	rc = changes_list(out, &more, c, q);
	if (rc == 0)
		keep(req, *out);
	return rc;
}

int h_page_home(struct http_req *req)
{
	struct web_page p = page_of(req, "My work", "home");
	struct change_query q;
	struct db_conn *c = NULL;
	json_t *mine = NULL, *overdue = NULL, *to_sign = NULL, *part = NULL;
	const char *label = "Waiting for you";
	const char *states[4] = { NULL };
	struct html h;
	size_t i, j;
	int rc;

	/* what each role acts on next */
	switch (req->who.role) {
	case ROLE_APPROVER:
	case ROLE_ADMIN:
		states[0] = "submitted";   /* authorise */
		states[1] = "fat";         /* approve for deployment */
		states[2] = "sat";         /* release */
		label = "Waiting for your signature: to authorise, approve or release";
		break;
	case ROLE_QA:
		states[0] = "fat";
		states[1] = "sat";
		label = "Waiting for tests: in FAT or SAT";
		break;
	case ROLE_ENGINEER:
		states[0] = "authorised";
		states[1] = "implementing";
		label = "Ready to implement or being implemented";
		break;
	default:
		break;
	}
	if ((rc = svc_conn(&c, req)))
		goto out;
	memset(&q, 0, sizeof(q));
	q.requester = req->who.username;
	q.limit = HOME_LIST_LIMIT;
	if ((rc = list_changes(&mine, req, c, &q)))
		goto out;
	memset(&q, 0, sizeof(q));
	q.overdue = true;
	q.limit = HOME_LIST_LIMIT;
	if ((rc = list_changes(&overdue, req, c, &q)))
		goto out;
	to_sign = keep(req, json_array());
	for (i = 0; states[i]; i++) {
		json_t *ch;

		memset(&q, 0, sizeof(q));
		q.state = states[i];
		q.limit = HOME_LIST_LIMIT;
		if ((rc = list_changes(&part, req, c, &q)))
			goto out;
		json_array_foreach(part, j, ch) {
			/* engineers see their own work in "Changes I requested" already */
			if (req->who.role == ROLE_ENGINEER &&
			    strcmp(web_str(ch, "requester") ? web_str(ch, "requester") : "", req->who.username))
				continue;
			json_array_append(to_sign, ch);
		}
	}
	svc_end(c);
	c = NULL;
	html_init(&h, PAGE_CAP);
	page_home(&h, &p, mine, to_sign, label, overdue);
	return reply_html(req, 200, &h);
out:
	svc_end(c);
	return rc;
}

int h_page_changes(struct http_req *req)
{
	struct web_page p = page_of(req, "Changes", "changes");
	const char *state = http_query(req, "state");
	struct change_query q;
	struct db_conn *c = NULL;
	json_t *list = NULL;
	struct html h;
	int rc;

	if (state && !*state)
		state = NULL;
	if (state && rules_state_from_name(state) < 0)
		return err_set(OTCM_EINVAL, "state", "unknown state '%.40s'", state);
	memset(&q, 0, sizeof(q));
	q.state = state;
	q.limit = CHANGES_MAX_LIMIT;
	if ((rc = svc_conn(&c, req)) || (rc = list_changes(&list, req, c, &q)))
		goto out;
	svc_end(c);
	c = NULL;
	html_init(&h, PAGE_CAP);
	page_changes(&h, &p, list, state);
	return reply_html(req, 200, &h);
out:
	svc_end(c);
	return rc;
}

/* ---- assets, versions, diffs ---- */

/* The asset of the route's first capture, through the API handler. */
static int load_asset(json_t **out, struct http_req *req)
{
	int rc = call_json(out, req, h_assets_get);

	if (rc == 0)
		keep(req, *out);
	return rc;
}

int h_page_assets(struct http_req *req)
{
	struct web_page p = page_of(req, "Assets", "assets");
	struct asset_query q;
	struct db_conn *c = NULL;
	json_t *list = NULL;
	bool more;
	struct html h;
	int rc;

	memset(&q, 0, sizeof(q));
	q.limit = ASSETS_MAX_LIMIT;
	if ((rc = svc_conn(&c, req)) || (rc = assets_list(&list, &more, c, &q)))
		goto out;
	svc_end(c);
	c = NULL;
	keep(req, list);
	html_init(&h, PAGE_CAP);
	/* the first ASSETS_MAX_LIMIT by path (`more` says there are others): paging comes later */
	page_assets(&h, &p, list, http_query(req, "q"));
	return reply_html(req, 200, &h);
out:
	svc_end(c);
	return rc;
}

int h_page_asset(struct http_req *req)
{
	struct web_page p;
	json_t *asset = NULL, *history = NULL, *version = NULL, *refs = NULL, *changes = NULL;
	const char *head;
	struct change_query q;
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	int64_t id;
	struct html h;
	int rc;

	if ((rc = load_asset(&asset, req)) || (rc = call_json(&history, req, h_versions_list)))
		return rc;
	keep(req, history);
	head = web_str(history, "head");
	id = json_integer_value(json_object_get(asset, "id"));
	if ((rc = svc_conn(&c, req)) || (rc = repo_open(&r, c, id)) || (rc = repo_ref_list(&refs, r)))
		goto out;
	keep(req, refs);
	if (head) {
		json_t *files = NULL;

		if ((rc = repo_list_files(&files, r, head)))
			goto out;
		version = keep(req, json_pack("{s:o}", "files", files));
	}
	memset(&q, 0, sizeof(q));
	q.asset_id = id;
	q.limit = HOME_LIST_LIMIT;
	if ((rc = list_changes(&changes, req, c, &q)))
		goto out;
	repo_free(r);
	r = NULL;
	svc_end(c);
	c = NULL;
	p = page_of(req, web_str(asset, "path"), "assets");
	html_init(&h, PAGE_CAP);
	page_asset(&h, &p, asset, refs, head, json_object_get(history, "items"),
		   json_object_get(version, "files"), changes,
		   (req->who.role & (ROLE_ENGINEER | ROLE_ADMIN)) != 0);
	return reply_html(req, 200, &h);
out:
	repo_free(r);
	svc_end(c);
	return rc;
}

int h_page_version(struct http_req *req)
{
	struct web_page p;
	json_t *asset = NULL, *info = NULL;
	const json_t *rec;
	struct html h;
	int rc;

	if ((rc = load_asset(&asset, req)) || (rc = call_json(&info, req, h_versions_get)))
		return rc;
	keep(req, info);
	rec = json_object_get(info, "recorded");
	p = page_of(req, web_str(asset, "path"), "assets");
	html_init(&h, PAGE_CAP);
	page_version(&h, &p, asset, info, json_is_object(rec) ? rec : NULL,
		     json_object_get(info, "files"));
	return reply_html(req, 200, &h);
}

int h_page_diff(struct http_req *req)
{
	struct web_page p;
	json_t *asset = NULL, *diff = NULL;
	const json_t *patch;
	struct html h;
	int rc;

	/* the API's diff: from/to resolved and checked against the asset, semantic per file */
	if ((rc = load_asset(&asset, req)) || (rc = call_json(&diff, req, h_versions_diff)))
		return rc;
	keep(req, diff);
	patch = json_object_get(diff, "patch");
	p = page_of(req, "What changed", "assets");
	html_init(&h, PAGE_CAP);
	page_diff(&h, &p, asset, web_str(diff, "from"), web_str(diff, "to"),
		  json_object_get(diff, "files"), json_string_value(patch),
		  json_string_length(patch));
	return reply_html(req, 200, &h);
}

/* ---- uploads ---- */

/* Changes an upload may go to: implementing or in FAT. */
static int open_changes(json_t **out, struct http_req *req, int64_t asset_id)
{
	static const char *const states[] = { "implementing", "fat" };
	struct change_query q;
	struct db_conn *c = NULL;
	json_t *all = keep(req, json_array()), *part = NULL;
	size_t i;
	int rc = 0;

	if ((rc = svc_conn(&c, req)))
		return rc;
	for (i = 0; i < 2 && rc == 0; i++) {
		memset(&q, 0, sizeof(q));
		q.state = states[i];
		q.asset_id = asset_id;
		q.limit = HOME_LIST_LIMIT;
		if ((rc = list_changes(&part, req, c, &q)) == 0)
			json_array_extend(all, part);
	}
	svc_end(c);
	*out = all;
	return rc;
}

static int upload_page(struct http_req *req, unsigned status, json_t *asset, const char *change,
		       const char *error)
{
	struct web_page p = page_of(req, "Upload a new version", "assets");
	json_t *choices = NULL;
	struct html h;
	int rc;

	if ((rc = open_changes(&choices, req, json_integer_value(json_object_get(asset, "id")))))
		return rc;
	html_init(&h, PAGE_CAP);
	page_upload(&h, &p, asset, change, choices, error);
	return reply_html(req, status, &h);
}

int h_page_upload_form(struct http_req *req)
{
	json_t *asset = NULL;
	int rc;

	if ((rc = load_asset(&asset, req)))
		return rc;
	return upload_page(req, 200, asset, http_query(req, "change"), NULL);
}

int h_page_upload(struct http_req *req)
{
	struct http_part *parts;
	const char *change = NULL;
	json_t *asset = NULL, *version = NULL;
	struct failure f;
	size_t i, n = 0, nfiles = 0;
	struct html loc;
	int rc;

	if ((rc = load_asset(&asset, req)))
		return rc;
	if (!req->parts && req->body_len) {
		rc = err_set(OTCM_EMEDIA, "body", "send the upload form as multipart/form-data");
		goto refused;
	}
	/* the form's own fields and empty inputs are not part of the version */
	parts = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*parts));
	for (i = 0; i < req->nparts; i++) {
		const struct http_part *pt = &req->parts[i];
		const char *name = pt->name ? pt->name : "";

		if (strcmp(name, "csrf_token") == 0 || (pt->filename && !*pt->filename && pt->len == 0) ||
		    (!pt->filename && pt->len == 0 && (strcmp(name, "change") == 0 || strcmp(name, "message") == 0)))
			continue;
		if (strcmp(name, "change") == 0 && !pt->filename)
			change = pt->data;
		if (pt->filename)
			nfiles++;
		parts[n++] = *pt;
	}
	req->parts = parts;
	req->nparts = n;
	if (nfiles == 0) {
		rc = err_set(OTCM_EINVAL, "files", "choose one or more files or an archive");
		goto refused;
	}
	rc = call_json(&version, req, h_versions_create);
	if (rc)
		goto refused;
	keep(req, version);
	html_init(&loc, 4096);
	html_raw(&loc, "/assets/");
	html_int(&loc, json_integer_value(json_object_get(asset, "id")));
	html_raw(&loc, "/versions/");
	html_url(&loc, web_str(version, "commit"));
	rc = loc.err ? loc.err : redirect(req, arena_strdup(req->arena, buf_cstr(&loc.buf)));
	html_release(&loc);
	return rc;
refused:
	keep_failure(&f, req, rc);
	return upload_page(req, f.status, asset, change, f.message);
}

/* ---- one change ---- */

static const struct {
	int to;
	const char *label;
} transition_labels[] = {
	{ CHG_SUBMITTED, "Submit for authorisation" },
	{ CHG_DRAFT, "Back to draft" },
	{ CHG_IMPLEMENTING, "Start implementing" },
	{ CHG_FAT, "Ready for FAT" },
	{ CHG_DEPLOYED, "Mark deployed" },
	{ CHG_SAT, "Start SAT" },
	{ CHG_CLOSED, "Close" },
	{ CHG_REJECTED, "Reject" },
	{ CHG_CANCELLED, "Cancel the change" },
};

static const struct {
	const char *meaning;
	const char *label;
} sign_labels[] = {
	{ "authorised", "Authorise (sign)" },
	{ "reviewed", "Review (sign)" },
	{ "approved", "Approve for deployment (sign)" },
};

/* Rules that mean "not a step from here": such actions are not offered at all. */
static bool beside_the_point(const char *rule)
{
	return rule && (strcmp(rule, "no-such-transition") == 0 || strcmp(rule, "wrong-state") == 0 ||
			strcmp(rule, "change-ended") == 0 || strcmp(rule, "signature-required") == 0 ||
			strcmp(rule, "release-endpoint") == 0);
}

static void offer(struct web_action *a, size_t *n, struct http_req *req, const char *label,
		  const char *kind, const char *value, int rc, bool password)
{
	if (rc && (rc != OTCM_ERULE || beside_the_point(err_rule())))
		return;
	a[*n].label = label;
	a[*n].kind = kind;
	a[*n].value = value;
	a[*n].allowed = rc == 0;
	a[*n].why = rc ? arena_strdup(req->arena, err_message()) : NULL;
	a[*n].needs_password = password;
	(*n)++;
}

/*
 * The actions `req`'s caller may take on the change now, and those one
 * step away that a rule forbids (with its sentence), from server/rules.h.
 */
static int change_actions(struct web_action **out, size_t *out_n, struct http_req *req,
			  struct db_conn *c, int64_t id)
{
	size_t nmax = sizeof(transition_labels) / sizeof(transition_labels[0]) +
		      sizeof(sign_labels) / sizeof(sign_labels[0]) + 2, n = 0, i;
	struct web_action *a = arena_alloc(req->arena, nmax * sizeof(*a));
	struct change_facts facts;
	struct rules_change ch;
	unsigned role = req->who.role;
	int64_t me = req->who.user_id;
	bool back;
	int rc, st;

	*out = a;
	*out_n = 0;
	if ((rc = chg_load(&ch, &facts, req, c, id)))
		return rc;
	if (role == ROLE_AUDITOR)
		return 0;   /* the auditor only reads */
	if (role & (ROLE_ENGINEER | ROLE_ADMIN)) {
		rc = rules_can_upload(&back, ch.state, true);
		offer(a, &n, req, "Upload a version", "upload", "", rc, false);
	}
	for (i = 0; i < sizeof(sign_labels) / sizeof(sign_labels[0]); i++) {
		const char *meaning = sign_labels[i].meaning;

		/* offer a signature only where it is the next step: the role rule comes first */
		if (strcmp(meaning, "authorised") == 0 && ch.state != CHG_SUBMITTED)
			continue;
		if (strcmp(meaning, "approved") == 0 && ch.state != CHG_FAT &&
		    !(ch.emergency && (ch.state == CHG_DEPLOYED || ch.state == CHG_SAT)))
			continue;
		rc = rules_sign_change(&st, &ch, meaning, role, me);
		/* reviews are possible in most states: offer them only when allowed */
		if (strcmp(meaning, "reviewed") == 0 && rc)
			continue;
		offer(a, &n, req, sign_labels[i].label, "sign", sign_labels[i].meaning, rc, true);
	}
	for (i = 0; i < sizeof(transition_labels) / sizeof(transition_labels[0]); i++) {
		rc = rules_transition(&ch, transition_labels[i].to, role, me);
		offer(a, &n, req, transition_labels[i].label, "transition",
		      rules_state_name(transition_labels[i].to), rc, false);
	}
	if (ch.state == CHG_SAT) {
		if (role & (ROLE_APPROVER | ROLE_ADMIN)) {
			rc = rules_can_release(&ch);
		} else {
			rc = err_set(OTCM_ERULE, NULL, "only an approver or an administrator releases");
			err_set_rule("release-role");
		}
		offer(a, &n, req, "Release (sign)", "release", "released", rc, true);
	}
	err_clear();
	*out_n = n;
	return 0;
}

static int change_page(struct http_req *req, unsigned status, const char *kind, const char *notice)
{
	struct web_page p;
	json_t *change = NULL, *events = NULL;
	struct web_action *acts = NULL;
	struct db_conn *c = NULL;
	size_t nacts = 0;
	int64_t id;
	struct html h;
	int rc;

	if ((rc = call_json(&change, req, h_changes_get)))
		return rc;
	keep(req, change);
	id = json_integer_value(json_object_get(change, "id"));
	if ((rc = svc_conn(&c, req)) ||
	    (rc = change_actions(&acts, &nacts, req, c, id)) ||
	    (rc = audit_list(&events, c, "change", web_str(change, "key"), 0, TRAIL_LIMIT)))
		goto out;
	keep(req, events);
	svc_end(c);
	c = NULL;
	p = page_of(req, web_str(change, "key"), "changes");
	html_init(&h, PAGE_CAP);
	page_change(&h, &p, change, events, acts, nacts, kind, notice);
	return reply_html(req, status, &h);
out:
	svc_end(c);
	return rc;
}

int h_page_change(struct http_req *req)
{
	const char *done = http_query(req, "done");

	/* only fixed sentences: nothing from the URL reaches the page */
	if (done && strcmp(done, "transition") == 0)
		return change_page(req, 200, "ok", "The change moved on.");
	if (done && strcmp(done, "sign") == 0)
		return change_page(req, 200, "ok", "Signed.");
	if (done && strcmp(done, "release") == 0)
		return change_page(req, 200, "ok", "Released: main now holds the approved versions.");
	return change_page(req, 200, NULL, NULL);
}

int h_page_change_action(struct http_req *req)
{
	const char *kind = form(req, "kind"), *value = form(req, "value"), *reason = form(req, "reason");
	const char *password = form(req, "password"), *totp = form(req, "totp_code");
	http_handler h = NULL;
	json_t *body = json_object(), *out = NULL;
	struct failure f;
	struct html loc;
	int rc;

	if (kind && value && strcmp(kind, "transition") == 0) {
		h = h_changes_transition;
		json_object_set_new(body, "to", json_string(value));
		if (reason)
			json_object_set_new(body, "reason", json_string(reason));
	} else if (kind && value && strcmp(kind, "sign") == 0) {
		h = h_signatures_change;
		json_object_set_new(body, "meaning", json_string(value));
		if (reason)
			json_object_set_new(body, "comment", json_string(reason));
	} else if (kind && strcmp(kind, "release") == 0) {
		h = h_changes_release;
		if (reason)
			json_object_set_new(body, "reason", json_string(reason));
	}
	if (!h) {
		json_decref(body);
		rc = err_set(OTCM_EINVAL, "kind", "unknown action");
		goto refused;
	}
	if (strcmp(kind, "transition") != 0) {
		json_object_set_new(body, "password", json_string(password ? password : ""));
		if (totp)
			json_object_set_new(body, "totp_code", json_string(totp));
	}
	set_json_body(req, body);
	rc = call_json(&out, req, h);
	if (rc)
		goto refused;
	json_decref(out);
	html_init(&loc, 4096);
	html_raw(&loc, "/changes/");
	html_url(&loc, http_param(req, 0));
	html_raw(&loc, "?done=");
	html_url(&loc, kind);
	rc = loc.err ? loc.err : redirect(req, arena_strdup(req->arena, buf_cstr(&loc.buf)));
	html_release(&loc);
	return rc;
refused:
	keep_failure(&f, req, rc);
	if (f.status == 404)
		return rc;
	return change_page(req, f.status, "error", f.message);
}
