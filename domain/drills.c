/* domain/drills.c - what a restore drill checks, and its signed record; see drills.h. */
#include "domain/drills.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "storage/drills.h"

static void add_check(json_t *checks, bool *all_ok, const char *name, bool ok, const char *detail)
{
	json_array_append_new(checks, json_pack("{s:s,s:b,s:s}", "name", name, "ok", ok,
						"detail", detail));
	if (!ok)
		*all_ok = false;
}

static json_int_t count_of(const json_t *snapshot, const char *what)
{
	return json_integer_value(json_object_get(json_object_get(snapshot, "counts"), what));
}

int dom_drill_assess(json_t **out, const json_t *manifest, const struct drill_probe *p)
{
	static const char *const counted[] = { "assets", "versions", "changes", "events",
					       "git_objects" };
	const json_t *snap = json_object_get(manifest, "snapshot");
	const json_t *last = json_object_get(snap, "last_event");
	json_t *checks = json_array(), *rec;
	bool ok = true;
	char detail[512];

	snprintf(detail, sizeof(detail), "%" PRIu64 " events chained%s%s", p->events_chained,
		 p->chain_problem ? "; " : "", p->chain_problem ? p->chain_problem : "");
	add_check(checks, &ok, "audit-chain", p->chain_ok, detail);

	if (p->have_key)
		snprintf(detail, sizeof(detail), "%" PRIu64 " signed checkpoints verified%s%s",
			 p->checkpoints_checked, p->checkpoint_problem ? "; " : "",
			 p->checkpoint_problem ? p->checkpoint_problem : "");
	else
		snprintf(detail, sizeof(detail), "the backup holds no signing key to check checkpoints with");
	add_check(checks, &ok, "checkpoints", p->have_key && p->checkpoints_ok, detail);

	snprintf(detail, sizeof(detail), "%" PRIu64 " objects rehashed, %" PRIu64 " do not match%s%s",
		 p->git_checked, p->git_bad, p->git_bad ? ", first " : "",
		 p->git_bad && p->git_first_bad ? p->git_first_bad : "");
	add_check(checks, &ok, "git-objects", p->git_bad == 0, detail);

	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		json_int_t want = count_of(snap, counted[i]), have = count_of(p->restored, counted[i]);
		char name[48];

		snprintf(name, sizeof(name), "count-%s", counted[i]);
		snprintf(detail, sizeof(detail), "%" JSON_INTEGER_FORMAT " restored, %" JSON_INTEGER_FORMAT
			 " in the backup's snapshot", have, want);
		add_check(checks, &ok, name, have >= want, detail);
	}

	if (json_is_object(last)) {
		const char *want = json_string_value(json_object_get(last, "hash"));
		bool same = want && p->hash_at_last_seq && strcmp(want, p->hash_at_last_seq) == 0;

		snprintf(detail, sizeof(detail), "event %" JSON_INTEGER_FORMAT " %s",
			 json_integer_value(json_object_get(last, "seq")),
			 same ? "has the chain hash the snapshot recorded"
			      : p->hash_at_last_seq ? "has another chain hash than the snapshot recorded"
						    : "is missing");
		add_check(checks, &ok, "last-event", same, detail);
	} else {
		add_check(checks, &ok, "last-event", true, "the backup's snapshot had no events");
	}

	rec = json_pack("{s:{s:O*,s:O*,s:O*,s:O*},s:o,s:b,s:I,s:o,s:O*}",
			"backup",
			"format", json_object_get(manifest, "format"),
			"source", json_object_get(manifest, "source"),
			"started_at", json_object_get(manifest, "started_at"),
			"finished_at", json_object_get(manifest, "finished_at"),
			"checks", checks, "ok", ok,
			"recovery_time_ms", (json_int_t)p->recovery_time_ms,
			"recovery_point_ms",
			p->recovery_point_ms >= 0 ? json_integer(p->recovery_point_ms) : json_null(),
			"restored", json_object_get(p->restored, "counts"));
	if (!rec)
		return err_set(OTCM_EINTERNAL, NULL, "cannot build the drill record");
	*out = rec;
	return 0;
}

int dom_drill_record(json_t **out, const struct dom *d, const json_t *record)
{
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], digest[CRYPTO_SHA256_LEN];
	unsigned char sig[CRYPTO_ED25519_SIG_LEN];
	char key_id[17], sig64[CRYPTO_BASE64_LEN(CRYPTO_ED25519_SIG_LEN)], id_text[24];
	const json_t *ok = json_object_get(record, "ok");
	const json_t *rto = json_object_get(record, "recovery_time_ms");
	const json_t *rpo = json_object_get(record, "recovery_point_ms");
	const json_t *fin = json_object_get(json_object_get(record, "backup"), "finished_at");
	struct drill_row row = { 0 };
	struct db_conn *c = NULL;
	json_t *after = NULL;
	char *text = NULL;
	int64_t id = 0;
	int rc;

	if ((rc = dom_permit(d, OP_DRILL_RECORD)))
		return rc;
	if (!json_is_boolean(ok))
		return err_set(OTCM_EINVAL, "ok", "a drill record needs ok (true or false)");
	if (!json_is_integer(rto) || json_integer_value(rto) < 0)
		return err_set(OTCM_EINVAL, "recovery_time_ms",
			       "a drill record needs recovery_time_ms, a whole number of milliseconds");
	if (rpo && !json_is_null(rpo) && (!json_is_integer(rpo) || json_integer_value(rpo) < 0))
		return err_set(OTCM_EINVAL, "recovery_point_ms",
			       "recovery_point_ms must be a whole number of milliseconds or null");
	if (!json_is_string(fin))
		return err_set(OTCM_EINVAL, "backup.finished_at",
			       "a drill record needs the time its backup finished");
	if (!d->key)
		return err_set(OTCM_EINVAL, "key", "a drill record is signed: the server's key is needed");

	text = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return err_set(OTCM_EINTERNAL, NULL, "cannot encode the drill record");
	crypto_ed25519_public(pub, d->key);
	crypto_sha256(digest, pub, sizeof(pub));
	crypto_hex(key_id, digest, 8);
	if ((rc = crypto_ed25519_sign(sig, d->key, text, strlen(text))))
		goto out;
	crypto_base64(sig64, sig, sizeof(sig));

	row.backup_finished_at = json_string_value(fin);
	row.ok = json_is_true(ok);
	row.recovery_time_ms = json_integer_value(rto);
	row.recovery_point_ms = json_is_integer(rpo) ? json_integer_value(rpo) : -1;
	row.record = text;
	row.key_id = key_id;
	row.signature = sig64;
	if ((rc = dom_begin(&c, d)) || (rc = drills_insert(&id, c, &row)))
		goto out;
	snprintf(id_text, sizeof(id_text), "%" PRId64, id);
	after = json_pack("{s:I,s:b,s:I,s:O*,s:s,s:s}", "id", (json_int_t)id, "ok", row.ok,
			  "recovery_time_ms", (json_int_t)row.recovery_time_ms,
			  "recovery_point_ms", rpo, "key_id", key_id, "signature", sig64);
	if ((rc = dom_audit(d, c, "drill.record", "drill", id_text, NULL, after,
			    row.ok ? "restore drill passed" : "restore drill failed")) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "drill.record", "drill", NULL, rc);
	dom_end(c);
	json_decref(after);
	free(text);
	return rc;
}

int dom_drill_exceptions(json_t **out, struct db_conn *c, const char *as_of, unsigned max_age_days)
{
	char *at = NULL, why[160];
	int64_t age = -1;
	int rc;

	if ((rc = drills_newest_passed(&age, &at, c, as_of)))
		return rc;
	*out = json_array();
	if (age < 0 || age > (int64_t)max_age_days * 86400) {
		if (at)
			snprintf(why, sizeof(why), "no restore drill passed in the %u days before", max_age_days);
		else
			snprintf(why, sizeof(why), "no restore drill had ever passed");
		json_array_append_new(*out, json_pack("{s:s,s:s?,s:i,s:s?,s:s}", "rule",
						      "restore-drill-overdue", "last_passed_at", at,
						      "max_age_days", (int)max_age_days, "as_of", as_of,
						      "why", why));
	}
	free(at);
	return 0;
}

int dom_drill_list(json_t **out, const struct dom *d, unsigned limit)
{
	struct db_conn *c = NULL;
	json_t *items = NULL, *due = NULL;
	char *at = NULL;
	int64_t age = -1;
	int rc;

	if ((rc = dom_permit(d, OP_DRILL_READ)) || (rc = dom_conn(&c, d)))
		return rc;
	if ((rc = drills_list(&items, c, limit)) || (rc = drills_newest_passed(&age, &at, c, NULL)) ||
	    (rc = dom_drill_exceptions(&due, c, NULL, d->cfg->drill_max_age_days)))
		goto out;
	*out = json_pack("{s:o,s:i,s:s?,s:b}", "items", items, "max_age_days",
			 (int)d->cfg->drill_max_age_days, "last_passed_at", at, "overdue",
			 json_array_size(due) > 0);
	items = NULL;
out:
	json_decref(items);
	json_decref(due);
	free(at);
	dom_end(c);
	return rc;
}
