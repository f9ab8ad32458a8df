/* domain/incidents.c - incidents and their NIS2 Art. 23 reporting; see incidents.h. */
#include "domain/incidents.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "domain/auth.h"
#include "domain/signing.h"
#include "storage/incidents.h"

#define INCIDENT_TITLE_MAX 200
#define INCIDENT_TEXT_MAX 20000
#define INCIDENT_ASSETS_MAX 1000
#define INCIDENT_FILENAME_MAX 200

static const char *const categories[] = {
	"malware", "ransomware", "unauthorised_access", "unauthorised_change", "denial_of_service",
	"data_breach", "supply_chain", "physical", "misconfiguration", "other", NULL
};
static const char *const severities[] = { "low", "medium", "high", "critical", NULL };
static const char *const report_kinds[] = { "early_warning", "notification", "intermediate", "progress",
					     "final", NULL };
static const char *const link_kinds[] = { "audit_event", "change", "test_run", "readback", NULL };

static bool one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(v, *set))
			return true;
	return false;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

int dom_incident_parse_key(int64_t *out, const char *key)
{
	char *end;
	long long v;

	if (!key || strncmp(key, "INC-", 4) || !isdigit((unsigned char)key[4]) || strlen(key + 4) > 18)
		return err_set(OTCM_ENOTFOUND, "key", "incident '%.40s' not found", key ? key : "");
	v = strtoll(key + 4, &end, 10);
	if (*end || v <= 0)
		return err_set(OTCM_ENOTFOUND, "key", "incident '%.40s' not found", key);
	*out = v;
	return 0;
}

/* ---- the deadlines (pure) ---- */

static int month_days(int y, int m0)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m0 == 1 && leap ? 29 : days[m0];
}

int64_t dom_incident_add_months(int64_t us, int months)
{
	time_t secs = (time_t)(us / 1000000);
	int64_t frac = us % 1000000;
	struct tm tm;
	int y, m0, last;

	gmtime_r(&secs, &tm);
	y = tm.tm_year + 1900;
	m0 = tm.tm_mon + months;
	y += m0 / 12;
	m0 %= 12;
	last = month_days(y, m0);
	tm.tm_year = y - 1900;
	tm.tm_mon = m0;
	if (tm.tm_mday > last)
		tm.tm_mday = last;
	return (int64_t)timegm(&tm) * 1000000 + frac;
}

/* The first report of one of `kinds` (NULL-terminated), its sent_at in *out_us; NULL when none. */
static const json_t *first_report(int64_t *out_us, const json_t *reports, const char *const *kinds)
{
	const json_t *r, *best = NULL;
	char norm[TIME_RFC3339_INPUT_LEN];
	int64_t at, best_at = 0;
	size_t i;

	json_array_foreach(reports, i, r) {
		if (!one_of(jstr(r, "kind"), kinds) || !time_parse_rfc3339(&at, norm, jstr(r, "sent_at")))
			continue;
		if (!best || at < best_at) {
			best = r;
			best_at = at;
		}
	}
	*out_us = best_at;
	return best;
}

/* One deadline's row; due_us < 0 when it cannot be known yet. */
static json_t *deadline(const char *obligation, const char *article, const char *basis, int64_t due_us,
			const json_t *met, int64_t met_us, int64_t now_us)
{
	char due[TIME_RFC3339_LEN], sent[TIME_RFC3339_LEN];
	const char *status;
	json_t *left = json_null();

	if (due_us >= 0)
		time_format_rfc3339(due, due_us);
	if (met)
		time_format_rfc3339(sent, met_us);
	if (met)
		status = due_us < 0 || met_us <= due_us ? "met" : "late";
	else if (due_us >= 0 && now_us > due_us)
		status = "overdue";
	else
		status = "pending";
	if (!met && due_us >= 0 && now_us <= due_us)
		left = json_integer((due_us - now_us) / 1000000);
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:o}", "obligation", obligation, "article", article,
			 "basis", basis, "due_at", due_us >= 0 ? json_string(due) : json_null(),
			 "met_by", met ? json_string(jstr(met, "kind")) : json_null(),
			 "sent_at", met ? json_string(sent) : json_null(), "status", status,
			 "seconds_left", left);
}

int dom_incident_deadlines(json_t **out, const json_t *incident, int64_t now_us)
{
	static const char *const early_kinds[] = { "early_warning", "notification", NULL };
	static const char *const notification_kinds[] = { "notification", NULL };
	static const char *const final_kinds[] = { "final", NULL };
	static const char *const progress_kinds[] = { "progress", NULL };
	const json_t *reports = json_object_get(incident, "reports"), *early, *notif, *fin, *prog;
	const char *closed_text = json_string_value(json_object_get(incident, "closed_at"));
	char norm[TIME_RFC3339_INPUT_LEN];
	int64_t sig, closed = -1, early_at, notif_at, fin_at, prog_at, notif_due, final_due;
	const char *final_basis;
	json_t *list;

	list = json_array();
	if (!json_is_string(json_object_get(incident, "significant_at")) ||
	    !time_parse_rfc3339(&sig, norm, jstr(incident, "significant_at"))) {
		*out = list;
		return 0;
	}
	if (closed_text && !time_parse_rfc3339(&closed, norm, closed_text))
		closed = -1;
	early = first_report(&early_at, reports, early_kinds);
	notif = first_report(&notif_at, reports, notification_kinds);
	fin = first_report(&fin_at, reports, final_kinds);
	prog = first_report(&prog_at, reports, progress_kinds);
	notif_due = sig + (int64_t)INCIDENT_NOTIFICATION_S * 1000000;

	/* Art. 23(4)(d): one month after the notification was submitted; until then, after it was due */
	final_due = dom_incident_add_months(notif ? notif_at : notif_due, 1);
	final_basis = notif ? "one month after the incident notification was sent"
			    : "one month after the incident notification is due (provisional until it is sent)";
	/* Art. 23(4)(e): a progress report in time moves the final report to a month after handling ends */
	if (prog && prog_at <= final_due && !(fin && fin_at <= final_due)) {
		final_due = closed >= 0 ? dom_incident_add_months(closed, 1) : -1;
		final_basis = "one month after the incident is closed (a progress report was sent in time)";
	}
	json_array_append_new(list, deadline("early_warning", "NIS2 Art. 23(4)(a)",
					     "24 hours after the incident was judged significant",
					     sig + (int64_t)INCIDENT_EARLY_WARNING_S * 1000000, early, early_at,
					     now_us));
	json_array_append_new(list, deadline("notification", "NIS2 Art. 23(4)(b)",
					     "72 hours after the incident was judged significant", notif_due,
					     notif, notif_at, now_us));
	json_array_append_new(list, deadline("final_report", "NIS2 Art. 23(4)(d)-(e)", final_basis, final_due,
					     fin, fin_at, now_us));
	*out = list;
	return 0;
}

/* The deadlines of `inc` at now_us set on it, with "overdue" counting those overdue. */
static void with_deadlines(json_t *inc, int64_t now_us)
{
	json_t *dl = NULL, *x;
	size_t i, overdue = 0;

	dom_incident_deadlines(&dl, inc, now_us);
	json_array_foreach(dl, i, x)
		if (!strcmp(jstr(x, "status"), "overdue"))
			overdue++;
	json_object_set_new(inc, "deadlines", dl);
	json_object_set_new(inc, "overdue", json_integer((json_int_t)overdue));
}

/* ---- reading input ---- */

static int check_text(const char *v, const char *field, size_t max)
{
	if (v && strlen(v) > max)
		return err_set(OTCM_EINVAL, field, "'%s' is longer than %zu bytes", field, max);
	return 0;
}

/* title, category, severity, description of `in`; required on create. */
static int read_fields(struct incident_fields *f, json_t *in, bool create)
{
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = json_get_str(in, "title", create, &f->title)) ||
	    (rc = json_get_str(in, "category", create, &f->category)) ||
	    (rc = json_get_str(in, "severity", create, &f->severity)) ||
	    (rc = json_get_str(in, "description", false, &f->description)) ||
	    (rc = check_text(f->title, "title", INCIDENT_TITLE_MAX)) ||
	    (rc = check_text(f->description, "description", INCIDENT_TEXT_MAX)))
		return rc;
	if (f->title && !*f->title)
		return err_set(OTCM_EINVAL, "title", "'title' must not be empty");
	if (f->category && !one_of(f->category, categories))
		return err_set(OTCM_EINVAL, "category", "'category' must be one of malware, ransomware, "
			       "unauthorised_access, unauthorised_change, denial_of_service, data_breach, "
			       "supply_chain, physical, misconfiguration, other");
	if (f->severity && !one_of(f->severity, severities))
		return err_set(OTCM_EINVAL, "severity", "'severity' must be low, medium, high or critical");
	return 0;
}

/* The "assets" member: *out_ids (in d's arena) and their count; *out_given false when absent. */
static int read_assets(int64_t **out_ids, size_t *out_n, bool *out_given, const struct dom *d,
		       const json_t *in)
{
	const json_t *a = json_object_get(in, "assets"), *x;
	int64_t *ids;
	size_t i, j, n = 0;

	*out_given = a != NULL;
	*out_ids = NULL;
	*out_n = 0;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > INCIDENT_ASSETS_MAX)
		return err_set(OTCM_EINVAL, "assets", "'assets' must be a list of at most %d asset ids",
			       INCIDENT_ASSETS_MAX);
	ids = arena_alloc(d->arena, (json_array_size(a) + 1) * sizeof(*ids));
	json_array_foreach(a, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) <= 0)
			return err_set(OTCM_EINVAL, "assets", "'assets' item %zu is not an asset id", i + 1);
		for (j = 0; j < n; j++)
			if (ids[j] == json_integer_value(x))
				break;
		if (j == n)
			ids[n++] = json_integer_value(x);
	}
	*out_ids = ids;
	*out_n = n;
	return 0;
}

static int check_assets_exist(struct db_conn *c, const int64_t *ids, size_t n)
{
	size_t have = 0;
	int rc;

	if (!n)
		return 0;
	if ((rc = incidents_assets_existing(&have, c, ids, n)))
		return rc;
	if (have != n)
		return err_set(OTCM_EINVAL, "assets", "'assets' names an asset that does not exist");
	return 0;
}

/* ---- operations ---- */

static int read_one(json_t **out, struct db_conn *c, int64_t id)
{
	json_t *inc = NULL;
	int rc;

	if ((rc = incidents_get(&inc, c, id)))
		return rc;
	with_deadlines(inc, time_now_us());
	*out = inc;
	return 0;
}

int dom_incident_create(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const fields[] = { "title", "category", "severity", "description", "assets",
					      "significant", NULL };
	json_t *body = (json_t *)in, *inc = NULL;
	struct incident_fields f;
	struct db_conn *c = NULL;
	bool significant = false, given;
	int64_t id = 0, *assets;
	size_t nassets;
	char key[32] = "";
	int rc;

	if ((rc = dom_permit(d, OP_INCIDENT_CREATE)))
		return rc;
	if (!json_is_object(body)) {
		rc = err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
		goto out;
	}
	if ((rc = json_only_fields(body, fields)) || (rc = read_fields(&f, body, true)) ||
	    (rc = read_assets(&assets, &nassets, &given, d, body)) ||
	    (rc = json_get_bool(body, "significant", false, &significant)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = check_assets_exist(c, assets, nassets)) ||
	    (rc = incidents_insert(&id, c, &f, significant, d->who->user_id)) ||
	    (rc = incidents_set_assets(c, id, assets, nassets)) || (rc = read_one(&inc, c, id)))
		goto out;
	snprintf(key, sizeof(key), "INC-%" PRId64, id);
	if ((rc = dom_audit(d, c, "incident.create", "incident", key, NULL, inc, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = inc;
	inc = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "incident.create", "incident", key[0] ? key : NULL, rc);
	dom_end(c);
	json_decref(inc);
	return rc;
}

int dom_incident_list(json_t **out, const struct dom *d, bool open_only, unsigned limit, int64_t before)
{
	struct db_conn *c = NULL;
	json_t *items = NULL, *x;
	char now[TIME_RFC3339_LEN];
	int64_t now_us = time_now_us();
	size_t i;
	int rc;

	if ((rc = dom_permit(d, OP_INCIDENT_READ)))
		return rc;
	if (limit < 1 || limit > 500)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to 500");
	if ((rc = dom_conn(&c, d)) || (rc = incidents_list(&items, c, open_only, limit, before)))
		goto out;
	json_array_foreach(items, i, x)
		with_deadlines(x, now_us);
	time_format_rfc3339(now, now_us);
	*out = json_pack("{s:o,s:s}", "items", items, "now", now);
	items = NULL;
out:
	json_decref(items);
	dom_end(c);
	return rc;
}

int dom_incident_read(json_t **out, const struct dom *d, const char *key)
{
	struct db_conn *c = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_permit(d, OP_INCIDENT_READ)))
		return rc;
	if ((rc = dom_incident_parse_key(&id, key)) || (rc = dom_conn(&c, d)))
		goto out;
	rc = read_one(out, c, id);
out:
	dom_end(c);
	return rc;
}

static int refuse_closed(const json_t *inc)
{
	if (!strcmp(jstr(inc, "state"), "closed")) {
		err_set(OTCM_ERULE, "key", "incident %s is closed: nothing about it changes any more",
			jstr(inc, "key"));
		err_set_rule("incident-closed");
		return OTCM_ERULE;
	}
	return 0;
}

/* Lock incident `key` in c's transaction and read it: *out_id and *out (the caller's). */
static int lock_read(int64_t *out_id, json_t **out, struct db_conn *c, const char *key)
{
	int rc;

	if ((rc = dom_incident_parse_key(out_id, key)) || (rc = incidents_lock(c, *out_id)))
		return rc;
	return incidents_get(out, c, *out_id);
}

/* The closing rules: a review, and for a significant incident its final report. */
static int may_close(const json_t *inc)
{
	static const char *const final_kinds[] = { "final", NULL };
	int64_t at;

	if (json_array_size(json_object_get(inc, "reviews")) == 0) {
		err_set(OTCM_ERULE, "state", "incident %s cannot close before an approver signs its "
			"post-incident review", jstr(inc, "key"));
		err_set_rule("incident-review-missing");
		return OTCM_ERULE;
	}
	if (json_is_string(json_object_get(inc, "significant_at")) &&
	    !first_report(&at, json_object_get(inc, "reports"), final_kinds)) {
		err_set(OTCM_ERULE, "state", "incident %s was significant: it cannot close before its final "
			"report (NIS2 Art. 23(4)(d)) is recorded as sent", jstr(inc, "key"));
		err_set_rule("incident-final-report-missing");
		return OTCM_ERULE;
	}
	return 0;
}

int dom_incident_update(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	static const char *const fields[] = { "title", "category", "severity", "description", "assets",
					      "significant", "state", NULL };
	json_t *body = (json_t *)in, *before = NULL, *after = NULL, *sig = json_object_get(in, "significant");
	struct incident_fields f;
	struct db_conn *c = NULL;
	const char *state = NULL;
	bool given;
	int64_t id = 0, *assets;
	size_t nassets;
	int rc;

	if ((rc = dom_permit(d, OP_INCIDENT_UPDATE)))
		return rc;
	if (!json_is_object(body)) {
		rc = err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
		goto out;
	}
	if (json_object_size(body) == 0) {
		rc = err_set(OTCM_EINVAL, "body", "nothing to change: give a field, significant or state");
		goto out;
	}
	if ((rc = json_only_fields(body, fields)) || (rc = read_fields(&f, body, false)) ||
	    (rc = read_assets(&assets, &nassets, &given, d, body)) ||
	    (rc = json_get_str(body, "state", false, &state)))
		goto out;
	if (sig && !json_is_boolean(sig)) {
		rc = err_set(OTCM_EINVAL, "significant", "'significant' must be true or false");
		goto out;
	}
	if (state && strcmp(state, "closed")) {
		rc = err_set(OTCM_EINVAL, "state", "'state' can only be set to closed");
		goto out;
	}
	if ((rc = dom_begin(&c, d)) || (rc = lock_read(&id, &before, c, key)) || (rc = refuse_closed(before)))
		goto out;
	if (json_is_false(sig) && json_is_string(json_object_get(before, "significant_at"))) {
		rc = err_set(OTCM_ERULE, "significant", "incident %s was judged significant at %s; that "
			     "judgement and its reporting deadlines cannot be taken back", key,
			     jstr(before, "significant_at"));
		err_set_rule("incident-significance-final");
		goto out;
	}
	if ((given && (rc = check_assets_exist(c, assets, nassets))) ||
	    (rc = incidents_update(c, id, &f)) || (given && (rc = incidents_set_assets(c, id, assets, nassets))) ||
	    (json_is_true(sig) && (rc = incidents_mark_significant(c, id))))
		goto out;
	if (state) {
		json_t *now = NULL;

		if ((rc = incidents_get(&now, c, id)))
			goto out;
		rc = may_close(now);
		json_decref(now);
		if (rc || (rc = incidents_close(c, id)))
			goto out;
	}
	if ((rc = read_one(&after, c, id)) ||
	    (rc = dom_audit(d, c, state ? "incident.close" : "incident.update", "incident", key, before, after,
			    NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, state ? "incident.close" : "incident.update", "incident", key, rc);
	dom_end(c);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* The client's file name without folders; printable, at most INCIDENT_FILENAME_MAX bytes. */
static int document_name(const char **out, const struct dom *d, const char *name)
{
	const char *base, *p;

	if (!name || !*name)
		return err_set(OTCM_EINVAL, "file", "'file' needs a file name");
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (strrchr(base, '\\'))
		base = strrchr(base, '\\') + 1;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || strlen(base) > INCIDENT_FILENAME_MAX)
		return err_set(OTCM_EINVAL, "file", "'file' needs a file name of 1 to %d bytes",
			       INCIDENT_FILENAME_MAX);
	for (p = base; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(OTCM_EINVAL, "file", "the file name holds a control character");
	*out = arena_strdup(d->arena, base);
	return 0;
}

/* The content type of a report document, from its name: what authorities' portals take. */
static const char *document_type(const char *name)
{
	static const char *const map[][2] = {
		{ ".pdf", "application/pdf" }, { ".txt", "text/plain; charset=utf-8" },
		{ ".json", "application/json" }, { ".xml", "application/xml" },
		{ ".eml", "message/rfc822" }, { ".html", "text/plain; charset=utf-8" },
	};
	size_t n = strlen(name), i, m;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		m = strlen(map[i][0]);
		if (n > m && !strcasecmp(name + n - m, map[i][0]))
			return map[i][1];
	}
	return "application/octet-stream";
}

int dom_incident_report(json_t **out, const struct dom *d, const char *key,
			const struct dom_incident_report *r)
{
	static const char *const notification_kinds[] = { "notification", NULL };
	const struct dom_file *file = r->nfiles ? &r->files[0] : NULL;
	struct incident_report_row row;
	struct db_conn *c = NULL;
	json_t *inc = NULL, *rep = NULL;
	char sha[2 * CRYPTO_SHA256_LEN + 1];
	const char *name = NULL;
	int64_t id = 0, at;
	int rc;

	if ((rc = dom_permit(d, OP_INCIDENT_REPORT)))
		return rc;
	if (!r->kind || !one_of(r->kind, report_kinds)) {
		rc = err_set(OTCM_EINVAL, "kind", "'kind' must be early_warning, notification, intermediate, "
			     "progress or final");
		goto out;
	}
	if (!r->authority || !*r->authority || strlen(r->authority) > INCIDENT_TITLE_MAX) {
		rc = err_set(OTCM_EINVAL, "authority", "'authority' names the CSIRT or competent authority "
			     "the report went to (1 to %d bytes)", INCIDENT_TITLE_MAX);
		goto out;
	}
	if ((rc = check_text(r->reference, "reference", INCIDENT_TITLE_MAX)))
		goto out;
	if (r->nfiles != 1) {
		rc = err_set(OTCM_EINVAL, "file", "'file' is required: exactly one document, the report as sent");
		goto out;
	}
	if (file->len > d->cfg->max_attachment) {
		rc = err_set(OTCM_ETOOBIG, "file", "'file' is larger than %llu bytes",
			     (unsigned long long)d->cfg->max_attachment);
		goto out;
	}
	if (file->len == 0) {
		rc = err_set(OTCM_EINVAL, "file", "'file' is empty");
		goto out;
	}
	if ((rc = document_name(&name, d, file->name)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = lock_read(&id, &inc, c, key)))
		goto out;
	if (!json_is_string(json_object_get(inc, "significant_at"))) {
		rc = err_set(OTCM_ERULE, "kind", "incident %s was not judged significant: it has no reporting "
			     "obligations yet (judge it significant first)", key);
		err_set_rule("incident-not-significant");
		goto out;
	}
	if (!strcmp(r->kind, "final") && !first_report(&at, json_object_get(inc, "reports"), notification_kinds)) {
		rc = err_set(OTCM_ERULE, "kind", "a final report follows the incident notification "
			     "(NIS2 Art. 23(4)(d)): record the notification first");
		err_set_rule("incident-notification-first");
		goto out;
	}
	crypto_sha256_hex(sha, file->data, file->len);
	memset(&row, 0, sizeof(row));
	row.kind = r->kind;
	row.authority = r->authority;
	row.reference = r->reference;
	row.filename = name;
	row.content_type = document_type(name);
	row.sha256 = sha;
	row.data = file->data;
	row.len = file->len;
	row.sent_by = d->who->user_id;
	if ((rc = incidents_report_insert(&rep, c, id, &row)) ||
	    (rc = dom_audit(d, c, "incident.report", "incident", key, NULL, rep, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = rep;
	rep = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "incident.report", "incident", key, rc);
	dom_end(c);
	json_decref(inc);
	json_decref(rep);
	return rc;
}

int dom_incident_report_document(struct dom_attachment *out, const struct dom *d, const char *key,
				 const char *report_id)
{
	struct db_conn *c = NULL;
	json_t *meta = NULL;
	void *data = NULL;
	size_t len = 0;
	int64_t id, rid;
	int rc;

	if ((rc = dom_permit(d, OP_INCIDENT_READ)))
		return rc;
	if ((rc = dom_incident_parse_key(&id, key)) || (rc = dom_run_parse_id(&rid, report_id, "report")) ||
	    (rc = dom_conn(&c, d)) || (rc = incidents_report_content(&data, &len, &meta, c, id, rid)))
		goto out;
	out->filename = arena_strdup(d->arena, jstr(meta, "filename"));
	out->content_type = arena_strdup(d->arena, jstr(meta, "content_type"));
	out->data = arena_alloc(d->arena, len + 1);
	memcpy(out->data, data, len);
	out->len = len;
out:
	free(data);
	json_decref(meta);
	dom_end(c);
	return rc;
}

int dom_incident_link(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	static const char *const fields[] = { "kind", "ref", "note", NULL };
	json_t *body = (json_t *)in, *inc = NULL, *link = NULL;
	const char *kind = NULL, *ref = NULL, *note = NULL;
	struct db_conn *c = NULL;
	bool exists = false;
	int64_t id = 0, seq;
	char *end;
	int rc;

	if ((rc = dom_permit(d, OP_INCIDENT_LINK)))
		return rc;
	if (!json_is_object(body)) {
		rc = err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
		goto out;
	}
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "kind", true, &kind)) ||
	    (rc = json_get_str(body, "ref", true, &ref)) || (rc = json_get_str(body, "note", false, &note)) ||
	    (rc = check_text(note, "note", INCIDENT_TEXT_MAX)) || (rc = check_text(ref, "ref", 64)))
		goto out;
	if (!one_of(kind, link_kinds)) {
		rc = err_set(OTCM_EINVAL, "kind", "'kind' must be audit_event, change, test_run or readback");
		goto out;
	}
	if (strcmp(kind, "change")) {
		/* event seqs and run ids are positive numbers, written without leading zeros */
		seq = strtoll(ref, &end, 10);
		if (*end || seq <= 0 || strlen(ref) > 18 || ref[0] == '0' || ref[0] == '+' || ref[0] == '-' || ref[0] == ' ') {
			rc = err_set(OTCM_EINVAL, "ref", "'ref' must be the %s as a positive number",
				     !strcmp(kind, "audit_event") ? "audit event's seq"
				     : !strcmp(kind, "readback") ? "read-back's id" : "test run's id");
			goto out;
		}
	}
	if ((rc = dom_begin(&c, d)) || (rc = lock_read(&id, &inc, c, key)) || (rc = refuse_closed(inc)) ||
	    (rc = incidents_ref_exists(&exists, c, kind, ref)))
		goto out;
	if (!exists) {
		rc = err_set(OTCM_ENOTFOUND, "ref", "there is no %s '%s'",
			     !strcmp(kind, "audit_event") ? "audit event" : !strcmp(kind, "change") ? "change"
			     : !strcmp(kind, "readback") ? "read-back" : "test run", ref);
		goto out;
	}
	if ((rc = incidents_link_insert(&link, c, id, kind, ref, note, d->who->user_id)) ||
	    (rc = dom_audit(d, c, "incident.link", "incident", key, NULL, link, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = link;
	link = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "incident.link", "incident", key, rc);
	dom_end(c);
	json_decref(inc);
	json_decref(link);
	return rc;
}

/* What a review signs: the incident's facts, not its deadlines or the clock. */
static json_t *review_content(const json_t *inc, const char *comment)
{
	json_t *reports = json_array(), *x;
	size_t i;

	json_array_foreach(json_object_get(inc, "reports"), i, x)
		json_array_append_new(reports, json_pack("{s:O,s:O,s:O,s:O,s:O}", "id", json_object_get(x, "id"),
							 "kind", json_object_get(x, "kind"), "authority",
							 json_object_get(x, "authority"), "sent_at",
							 json_object_get(x, "sent_at"), "sha256",
							 json_object_get(x, "sha256")));
	return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:o,s:O,s:s}", "incident", json_object_get(inc, "key"),
			 "title", json_object_get(inc, "title"), "category", json_object_get(inc, "category"),
			 "severity", json_object_get(inc, "severity"), "description",
			 json_object_get(inc, "description"), "detected_at", json_object_get(inc, "detected_at"),
			 "significant_at", json_object_get(inc, "significant_at"), "assets",
			 json_object_get(inc, "assets"), "reports", reports, "links", json_object_get(inc, "links"),
			 "comment", comment);
}

int dom_incident_review(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	static const char *const fields[] = { "meaning", "password", "totp_code", "comment", NULL };
	json_t *body = (json_t *)in, *inc = NULL, *content = NULL, *sig = NULL;
	const char *meaning = NULL, *password = NULL, *code = NULL, *comment = NULL, *method = NULL;
	struct incident_review_row row;
	struct dom_seal sg;
	struct db_conn *c = NULL;
	int64_t id = 0;
	int rc;

	if ((rc = dom_permit(d, OP_INCIDENT_REVIEW)))
		return rc;
	if (!json_is_object(body)) {
		rc = err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
		goto out;
	}
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "meaning", true, &meaning)) ||
	    (rc = json_get_str(body, "comment", true, &comment)) ||
	    (rc = check_text(comment, "comment", INCIDENT_TEXT_MAX)) ||
	    (rc = json_get_str(body, "password", true, &password)) ||
	    (rc = json_get_str(body, "totp_code", false, &code)))
		goto out;
	if (strcmp(meaning, "reviewed")) {
		rc = err_set(OTCM_EINVAL, "meaning", "an incident's review is signed with meaning 'reviewed'");
		goto out;
	}
	if ((rc = dom_begin(&c, d)) || (rc = lock_read(&id, &inc, c, key)) || (rc = refuse_closed(inc)) ||
	    (rc = dom_reauth(&method, d, c, password, code)))
		goto out;
	content = review_content(inc, comment);
	if ((rc = dom_signing_seal(&sg, d, c, meaning, content)))
		goto out;
	memset(&row, 0, sizeof(row));
	row.meaning = meaning;
	row.signer_id = sg.signer_id;
	row.printed_name = sg.printed_name;
	row.role = sg.role;
	row.auth_method = method;
	row.content = sg.text;
	row.content_sha256 = sg.sha256;
	if ((rc = incidents_review_insert(&sig, c, id, &row)) ||
	    (rc = dom_audit(d, c, "incident.review", "incident", key, NULL, sig, comment)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = sig;
	sig = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "incident.review", "incident", key, rc);
	dom_end(c);
	json_decref(content);
	json_decref(inc);
	json_decref(sig);
	return rc;
}

/* ---- the reports of a period ---- */

/* The report's instant: `to`, or now when `to` is still to come. */
static int64_t as_of(const char *to)
{
	char norm[TIME_RFC3339_INPUT_LEN];
	int64_t at, now = time_now_us();

	if (!to || !time_parse_rfc3339(&at, norm, to) || at > now)
		return now;
	return at;
}

int dom_incident_population(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	json_t *items = NULL, *x;
	int64_t at = as_of(to);
	size_t i;
	int rc;

	if ((rc = incidents_for_period(&items, c, from, to)))
		return rc;
	json_array_foreach(items, i, x)
		with_deadlines(x, at);
	*out = items;
	return 0;
}

int dom_incident_exceptions(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	json_t *items = NULL, *x, *dl, *list;
	char norm[TIME_RFC3339_INPUT_LEN], why[300];
	int64_t at = as_of(to), from_us = 0, sent;
	size_t i, j;
	int rc;

	if ((rc = incidents_for_period(&items, c, from, to)))
		return rc;
	if (!time_parse_rfc3339(&from_us, norm, from))
		from_us = 0;
	list = json_array();
	json_array_foreach(items, i, x) {
		json_t *deadlines = NULL;

		dom_incident_deadlines(&deadlines, x, at);
		json_array_foreach(deadlines, j, dl) {
			const char *status = jstr(dl, "status"), *rule;

			if (!strcmp(status, "overdue")) {
				rule = "incident-report-overdue";
				snprintf(why, sizeof(why), "the %s of %s was due at %s and had not been sent",
					 jstr(dl, "obligation"), jstr(x, "key"), jstr(dl, "due_at"));
			} else if (!strcmp(status, "late") && time_parse_rfc3339(&sent, norm, jstr(dl, "sent_at")) &&
				   sent >= from_us) {
				rule = "incident-report-late";
				snprintf(why, sizeof(why), "the %s of %s was due at %s and was sent at %s",
					 jstr(dl, "obligation"), jstr(x, "key"), jstr(dl, "due_at"), jstr(dl, "sent_at"));
			} else {
				continue;
			}
			json_array_append_new(list, json_pack("{s:s,s:O,s:O,s:O,s:O,s:O,s:s}", "rule", rule,
							      "incident", json_object_get(x, "key"), "title",
							      json_object_get(x, "title"), "obligation",
							      json_object_get(dl, "obligation"), "due_at",
							      json_object_get(dl, "due_at"), "sent_at",
							      json_object_get(dl, "sent_at"), "why", why));
		}
		json_decref(deadlines);
	}
	json_decref(items);
	*out = list;
	return 0;
}
