/* domain/reports.c - reports of a period; see reports.h. */
#include "domain/reports.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/merkle.h"
#include "core/signednote.h"
#include "core/timeutil.h"
#include "core/mem.h"
#include "domain/checklist.h"
#include "domain/drills.h"
#include "domain/readbacks.h"
#include "domain/evidence.h"
#include "domain/incidents.h"
#include "storage/advisories.h"
#include "storage/changes.h"
#include "storage/checkpoint.h"
#include "storage/drills.h"
#include "storage/reports.h"

/* The period's texts for the database, and `to` clamped to now. */
struct period {
	char from[TIME_RFC3339_INPUT_LEN];
	char to[TIME_RFC3339_INPUT_LEN];
	char until[TIME_RFC3339_INPUT_LEN];
};

/*
 * from and to: required, RFC 3339 dates or date-times, from not after to;
 * OTCM_EINVAL naming the field otherwise.
 */
static int read_period(struct period *out, const char *from, const char *to)
{
	static const char *const names[2] = { "from", "to" };
	const char *given[2] = { from, to };
	char *norm[2] = { out->from, out->to };
	int64_t us[2], now = time_now_us();
	int i;

	for (i = 0; i < 2; i++) {
		if (!given[i])
			return err_set(OTCM_EINVAL, names[i], "'%s' is required: a time such as "
				       "2030-01-31T00:00:00Z or a date such as 2030-01-31", names[i]);
		if (!time_parse_rfc3339(&us[i], norm[i], given[i]))
			return err_set(OTCM_EINVAL, names[i], "'%s' is not an RFC 3339 date or time such as "
				       "2030-01-31T00:00:00Z or 2030-01-31: '%.64s'", names[i], given[i]);
	}
	if (us[0] > us[1])
		return err_set(OTCM_EINVAL, "from", "'from' (%s) is after 'to' (%s)", out->from, out->to);
	/* no event can lie in the future: what the period needs ends now at the latest */
	if (us[1] > now) {
		char t[TIME_RFC3339_LEN];

		time_format_rfc3339(t, now);
		snprintf(out->until, sizeof(out->until), "%s", t);
	} else {
		snprintf(out->until, sizeof(out->until), "%s", out->to);
	}
	return 0;
}

/*
 * Sizes of the checkpoints at the start and end of the period (see
 * reports.h), after verifying the trail from the newest checkpoint on;
 * the end one is signed now when none covers what the report needs.
 * c must be idle.
 */
static int period_checkpoints(uint64_t *out_start, uint64_t *out_end, const struct dom *d,
			      struct db_conn *c, const struct period *p)
{
	struct checkpoint *cp = NULL;
	uint64_t need = 0;
	int rc;

	if (!d->key || !d->origin)
		return err_set(OTCM_EINTERNAL, NULL, "no signing key to sign a checkpoint with");
	if ((rc = reports_start_checkpoint(out_start, c, p->from)) ||
	    (rc = reports_needed_event(&need, c, p->until)))
		goto out;
	rc = checkpoint_cover(&cp, NULL, c, d->key, d->origin, need ? need : 1);
	if (rc == OTCM_ERULE) {
		err_set_rule("audit-trail-intact");
		goto out;
	}
	if (rc)
		goto out;
	*out_end = cp->tree_size;
	if (*out_start == 0 || *out_start > *out_end)
		*out_start = *out_end;
out:
	checkpoint_free(cp);
	return rc;
}

/* Add start_checkpoint, end_checkpoint and consistency_proof to `into`. */
static int add_checkpoints(json_t *into, struct db_conn *c, uint64_t start, uint64_t end)
{
	json_t *proof = NULL;
	int rc;

	if ((rc = checkpoint_consistency(&proof, c, start, end)))
		return rc;
	json_object_set(into, "start_checkpoint", json_object_get(proof, "first_checkpoint"));
	json_object_set(into, "end_checkpoint", json_object_get(proof, "second_checkpoint"));
	json_object_set(into, "consistency_proof", json_object_get(proof, "proof"));
	json_decref(proof);
	return 0;
}

/* The incidents the period concerns with their NIS2 deadlines (domain/incidents.h), as "incidents". */
static int add_incident_population(json_t *report, struct db_conn *c, const struct period *p)
{
	json_t *incidents = NULL;
	int rc;

	if ((rc = dom_incident_population(&incidents, c, p->from, p->to)))
		return rc;
	json_object_set_new(report, "incidents", incidents);
	return 0;
}

/* Incident reports overdue at the period's end or sent late within it, as "overdue_incident_reports". */
static int add_incident_exceptions(json_t *report, struct db_conn *c, const struct period *p)
{
	json_t *overdue = NULL;
	int rc;

	if ((rc = dom_incident_exceptions(&overdue, c, p->from, p->to)))
		return rc;
	json_object_set_new(report, "overdue_incident_reports", overdue);
	return 0;
}

int dom_report_population_in(json_t **out, const struct dom *d, struct db_conn *c, const char *from,
			     const char *to)
{
	struct period p;
	json_t *items = NULL, *report = NULL, *drills = NULL;
	uint64_t start = 0, end = 0;
	int rc;

	if ((rc = read_period(&p, from, to)) || (rc = period_checkpoints(&start, &end, d, c, &p)) ||
	    (rc = db_begin_snapshot(c, false)) || (rc = reports_population(&items, c, p.from, p.to)) ||
	    (rc = drills_in_period(&drills, c, p.from, p.to)))
		goto out;
	/* restore drills of the period: SOC 2 A1.3 evidence beside the changes */
	report = json_pack("{s:s, s:s, s:O, s:O}", "from", p.from, "to", p.to, "items", items,
			   "restore_drills", drills);
	if ((rc = add_incident_population(report, c, &p)) || (rc = add_checkpoints(report, c, start, end)))
		goto out;
	*out = report;
	report = NULL;
out:
	json_decref(items);
	json_decref(drills);
	json_decref(report);
	return rc;
}

int dom_report_population(json_t **out, const struct dom *d, const char *from, const char *to,
			  const char *format)
{
	struct db_conn *c = NULL;
	json_t *report = NULL, *after = NULL;
	const json_t *sc, *ec;
	int rc;

	if ((rc = dom_permit(d, OP_REPORT_READ)))
		return rc;
	if (format && strcmp(format, "json") && strcmp(format, "csv"))
		return err_set(OTCM_EINVAL, "format", "'format' must be json or csv");
	if ((rc = dom_conn(&c, d)) || (rc = dom_report_population_in(&report, d, c, from, to)))
		goto out;
	sc = json_object_get(report, "start_checkpoint");
	ec = json_object_get(report, "end_checkpoint");
	after = json_pack("{s:O, s:O, s:s, s:I, s:I, s:I}", "from", json_object_get(report, "from"), "to",
			  json_object_get(report, "to"), "format", format ? format : "json", "changes",
			  (json_int_t)json_array_size(json_object_get(report, "items")), "start_tree_size",
			  json_integer_value(json_object_get(sc, "tree_size")), "end_tree_size",
			  json_integer_value(json_object_get(ec, "tree_size")));
	if ((rc = dom_audit(d, c, "report.population", "report", "population", NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = report;
	report = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "report.population", "report", "population", rc);
	json_decref(report);
	json_decref(after);
	dom_end(c);
	return rc;
}

/*
 * The control effectiveness of the period's population (checklist.h,
 * checklist_effectiveness): every change's checklist, its events proved
 * against one checkpoint that signs the newest event of them all (signed
 * now when none does).  c is idle at entry and left idle.
 */
static int period_checklists(json_t **out, const struct dom *d, struct db_conn *c, const struct period *p)
{
	struct checkpoint *cp = NULL;
	json_t *items = NULL, *list = NULL, *keys = json_array(), *it;
	uint64_t need = 0, newest;
	int64_t id;
	size_t i;
	int rc;

	if ((rc = reports_population(&items, c, p->from, p->to)))
		goto out;
	json_array_foreach(items, i, it) {
		if ((rc = changes_parse_key(&id, json_string_value(json_object_get(it, "key")))) ||
		    (rc = dom_evidence_newest_event(&newest, c, id)))
			goto out;
		if (newest > need)
			need = newest;
	}
	if (!need) {
		list = json_array();
		goto done;
	}
	rc = checkpoint_cover(&cp, NULL, c, d->key, d->origin, need);
	if (rc == OTCM_ERULE)
		err_set_rule("audit-trail-intact");
	json_array_foreach(items, i, it)
		json_array_append(keys, json_object_get(it, "key"));
	if (rc || (rc = db_begin_snapshot(c, true)))
		goto out;
	rc = dom_evidence_checklists(&list, c, keys, cp->tree_size);
	if (rc) {
		db_rollback(c);
		goto out;
	}
	if ((rc = db_commit(c)))
		goto out;
done:
	rc = checklist_effectiveness(out, list);
out:
	checkpoint_free(cp);
	json_decref(items);
	json_decref(keys);
	json_decref(list);
	return rc;
}

int dom_report_exceptions(json_t **out, const struct dom *d, const char *from, const char *to)
{
	struct db_conn *c = NULL;
	struct period p;
	json_t *report = NULL, *after = NULL, *drills = NULL, *effect = NULL, *v;
	json_t *affected = NULL, *overdue = NULL, *drift = NULL, *stale = NULL;
	const char *k;
	uint64_t start = 0, end = 0;
	int rc;

	if ((rc = dom_permit(d, OP_REPORT_READ)))
		return rc;
	if ((rc = read_period(&p, from, to)) || (rc = dom_conn(&c, d)) ||
	    (rc = period_checkpoints(&start, &end, d, c, &p)) || (rc = period_checklists(&effect, d, c, &p)) ||
	    (rc = db_begin(c)) || (rc = reports_exceptions(&report, c, p.from, p.to)) ||
	    (rc = dom_drill_exceptions(&drills, c, p.to, d->cfg->drill_max_age_days)) ||
	    (rc = advisories_exceptions(&affected, &overdue, c, p.to)) ||
	    (rc = dom_readback_exceptions(&drift, c, p.from, p.to)) ||
	    (rc = dom_readback_stale(&stale, c, p.to)))
		goto out;
	json_object_set_new(report, "missing_restore_drills", drills);
	drills = NULL;
	/* what the devices ran: drift and failed read-backs of the period, stale devices at its end */
	json_object_set_new(report, "readback_drift", drift);
	json_object_set_new(report, "stale_readbacks", stale);
	drift = stale = NULL;
	/* patch management: assets left affected, and matches past their due date (docs/patch.md) */
	json_object_set_new(report, "affected_assessments", affected);
	json_object_set_new(report, "overdue_assessments", overdue);
	affected = overdue = NULL;
	if ((rc = add_incident_exceptions(report, c, &p)))
		goto out;
	after = json_pack("{s:s, s:s, s:I, s:I}", "from", p.from, "to", p.to,
			  "start_tree_size", (json_int_t)start, "end_tree_size", (json_int_t)end);
	json_object_foreach(report, k, v)
		json_object_set_new(after, k, json_integer((json_int_t)json_array_size(v)));
	json_object_set_new(report, "from", json_string(p.from));
	json_object_set_new(report, "to", json_string(p.to));
	/* per control of the checklist: how many of the period's changes met it, and the exceptions */
	json_object_set(report, "control_effectiveness", effect);
	if ((rc = add_checkpoints(report, c, start, end)) ||
	    (rc = dom_audit(d, c, "report.exceptions", "report", "exceptions", NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = report;
	report = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "report.exceptions", "report", "exceptions", rc);
	json_decref(report);
	json_decref(drills);
	json_decref(drift);
	json_decref(stale);
	json_decref(effect);
	json_decref(after);
	json_decref(affected);
	json_decref(overdue);
	dom_end(c);
	return rc;
}

/* ---- checking a report as an auditor would ---- */

static const char *str_of(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/*
 * Check a checkpoint as the report carries it: its note is signed by `pub`
 * under its origin and says the size and root of the row.  NULL when it
 * holds, else why not.
 */
static const char *checkpoint_problem(const json_t *cp, const unsigned char *pub)
{
	const char *note = str_of(cp, "note"), *origin = str_of(cp, "origin");
	struct signednote *sn = NULL;
	unsigned char root[CRYPTO_SHA256_LEN], row_root[CRYPTO_SHA256_LEN];
	char *note_origin = NULL;
	const char *why = NULL;
	uint64_t size = 0;

	if (!note || !origin || !str_of(cp, "root_hash") ||
	    crypto_unhex(row_root, sizeof(row_root), str_of(cp, "root_hash")))
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

void dom_report_check(struct dom_report_check *out, const struct dom *d, const json_t *report)
{
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];

	if (!d->key) {
		report_check_key(out, NULL, report);
		return;
	}
	crypto_ed25519_public(pub, d->key);
	report_check_key(out, pub, report);
}

void report_check_key(struct dom_report_check *out, const unsigned char *pub, const json_t *report)
{
	const json_t *first = json_object_get(report, "start_checkpoint");
	const json_t *second = json_object_get(report, "end_checkpoint");
	const json_t *proof = json_object_get(report, "consistency_proof"), *step;
	merkle_hash old_root, new_root, *path = NULL;
	uint64_t m, n;
	size_t i, len = json_array_size(proof);

	memset(out, 0, sizeof(*out));
	out->start_problem = checkpoint_problem(first, pub);
	out->end_problem = checkpoint_problem(second, pub);
	err_clear();
	m = (uint64_t)json_integer_value(json_object_get(first, "tree_size"));
	n = (uint64_t)json_integer_value(json_object_get(second, "tree_size"));
	if (out->start_problem || out->end_problem) {
		out->consistency_problem = "the checkpoints themselves do not verify";
		return;
	}
	path = xcalloc(len ? len : 1, sizeof(*path));
	crypto_unhex(old_root, sizeof(old_root), str_of(first, "root_hash"));
	crypto_unhex(new_root, sizeof(new_root), str_of(second, "root_hash"));
	json_array_foreach(proof, i, step) {
		if (!json_is_string(step) || crypto_unhex(path[i], sizeof(path[i]), json_string_value(step))) {
			out->consistency_problem = "the proof is malformed";
			goto out;
		}
	}
	if (merkle_consistency_verify(m, n, old_root, new_root, path, len)) {
		err_clear();
		out->consistency_problem = "the proof does not hold: the trail was not only appended to";
		goto out;
	}
	out->verified = true;
out:
	free(path);
}
