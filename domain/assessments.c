/* domain/assessments.c - signed assessments of advisories on assets; see assessments.h. */
#include "domain/assessments.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "domain/auth.h"
#include "domain/signing.h"
#include "storage/advisories.h"
#include "storage/assets.h"

#define ASSESSMENT_MAX_TEXT 4000

static const char *const statuses[] = {
	"affected", "not_affected", "fixed", "under_investigation", NULL
};

static const char *const justifications[] = {
	"component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
	"vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist", NULL
};

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

struct decision {
	const char *status, *justification, *impact, *controls, *password, *code;
};

static int read_decision(struct decision *out, const json_t *in)
{
	static const char *const fields[] = {
		"status", "justification", "impact", "controls", "password", "totp_code", NULL
	};
	json_t *body = (json_t *)in;   /* the readers of core/json.h do not change it */
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(body))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "status", true, &out->status)) ||
	    (rc = json_get_str(body, "justification", false, &out->justification)) ||
	    (rc = json_get_str(body, "impact", false, &out->impact)) ||
	    (rc = json_get_str(body, "controls", false, &out->controls)) ||
	    (rc = json_get_str(body, "password", true, &out->password)) ||
	    (rc = json_get_str(body, "totp_code", false, &out->code)))
		return rc;
	if (out->justification && !*out->justification)
		out->justification = NULL;
	if (!one_of(out->status, statuses))
		return err_set(OTCM_EINVAL, "status",
			       "status '%.40s' is not one of affected, not_affected, fixed, under_investigation",
			       out->status);
	if (strcmp(out->status, "not_affected") == 0 && !out->justification)
		return err_set(OTCM_EINVAL, "justification",
			       "not_affected needs a justification: component_not_present, "
			       "vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
			       "vulnerable_code_cannot_be_controlled_by_adversary or "
			       "inline_mitigations_already_exist");
	if (strcmp(out->status, "not_affected") != 0 && out->justification)
		return err_set(OTCM_EINVAL, "justification", "only a not_affected status has a justification");
	if (out->justification && !one_of(out->justification, justifications))
		return err_set(OTCM_EINVAL, "justification",
			       "justification '%.60s' is not one of the CSAF/VEX justifications", out->justification);
	if (out->impact && strlen(out->impact) > ASSESSMENT_MAX_TEXT)
		return err_set(OTCM_EINVAL, "impact", "'impact' is longer than %d characters", ASSESSMENT_MAX_TEXT);
	if (out->controls && strlen(out->controls) > ASSESSMENT_MAX_TEXT)
		return err_set(OTCM_EINVAL, "controls", "'controls' is longer than %d characters",
			       ASSESSMENT_MAX_TEXT);
	return 0;
}

/* The exposure row of (advisory, asset), or NULL (*out) when the advisory does not concern it now. */
static int match_of(json_t **out, struct db_conn *c, const char *tracking_id, int64_t asset_id)
{
	json_t *rows = NULL;
	const json_t *e;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = advisories_exposure(&rows, c, asset_id, NULL)))
		return rc;
	json_array_foreach(rows, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "tracking_id")), tracking_id) == 0) {
			*out = json_incref((json_t *)e);
			break;
		}
	}
	json_decref(rows);
	return 0;
}

int dom_assessment_sign(json_t **out, const struct dom *d, const char *tracking_id, int64_t asset_id,
			const json_t *in)
{
	struct db_conn *c = NULL;
	struct decision dec;
	struct dom_seal seal;
	struct assessment_record r;
	struct assessment_signature s;
	json_t *asset = NULL, *adv = NULL, *match = NULL, *old = NULL, *content = NULL, *sig = NULL;
	json_t *assessment = NULL, *after = NULL;
	const char *method = NULL, *object;
	int64_t advisory_id = 0, assessment_id = 0;
	int rc;

	*out = NULL;
	object = arena_printf(d->arena, "%s/%" PRId64, tracking_id, asset_id);
	if ((rc = dom_permit(d, OP_ASSESSMENT_SIGN)))
		return rc;
	if ((rc = read_decision(&dec, in)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = advisories_id(&advisory_id, c, tracking_id)) ||
	    (rc = assets_get(&asset, c, asset_id, true)) ||
	    (rc = advisories_assessment_get(&old, c, advisory_id, asset_id, true)) ||
	    (rc = match_of(&match, c, tracking_id, asset_id)))
		goto out;
	if (!match && !old) {
		rc = err_set(OTCM_ERULE, "advisory",
			     "advisory %s does not concern asset %s by its inventory; correct the inventory "
			     "if it should", tracking_id, json_string_value(json_object_get(asset, "path")));
		err_set_rule("assessment-not-matched");
		goto out;
	}
	if (strcmp(dec.status, "affected") == 0 && (!dec.controls || !*dec.controls)) {
		rc = err_set(OTCM_ERULE, "controls",
			     "an affected asset that stays in service names its compensating controls");
		err_set_rule("assessment-controls");
		goto out;
	}
	if ((rc = dom_reauth(&method, d, c, dec.password, dec.code)))
		goto out;
	memset(&r, 0, sizeof(r));
	r.advisory_id = advisory_id;
	r.asset_id = asset_id;
	r.status = dec.status;
	r.justification = dec.justification;
	r.impact = dec.impact;
	r.controls = dec.controls;
	r.user_id = d->who->user_id;
	r.username = d->who->username ? d->who->username : "system";
	if ((rc = advisories_assessment_put(&assessment_id, c, &r)) ||
	    (rc = advisories_get(&adv, c, tracking_id)))
		goto out;
	content = json_pack("{s:{s:s, s:O, s:O}, s:{s:I, s:O, s:O, s:O, s:O, s:O}, s:s, s:s?, s:s, s:s}",
			    "advisory", "tracking_id", tracking_id, "version", json_object_get(adv, "version"),
			    "sha256", json_object_get(adv, "sha256"),
			    "asset", "id", (json_int_t)asset_id, "path", json_object_get(asset, "path"),
			    "vendor", json_object_get(asset, "vendor"), "model", json_object_get(asset, "model"),
			    "firmware", json_object_get(asset, "firmware"), "order_number",
			    json_object_get(asset, "order_number"),
			    "status", dec.status, "justification", dec.justification,
			    "impact", dec.impact ? dec.impact : "", "controls", dec.controls ? dec.controls : "");
	if ((rc = dom_signing_seal(&seal, d, c, "assessed", content)))
		goto out;
	memset(&s, 0, sizeof(s));
	s.assessment_id = assessment_id;
	s.signer_id = seal.signer_id;
	s.printed_name = seal.printed_name;
	s.role = seal.role;
	s.auth_method = method;
	s.content = seal.text;
	s.content_sha256 = seal.sha256;
	s.second_factor_enrolled = seal.second_factor_enrolled;
	if ((rc = advisories_assessment_sign(&sig, c, &s)) ||
	    (rc = advisories_assessment_get(&assessment, c, advisory_id, asset_id, false)))
		goto out;
	after = json_pack("{s:s, s:s?, s:s, s:s, s:O}", "status", dec.status, "justification",
			  dec.justification, "impact", dec.impact ? dec.impact : "", "controls",
			  dec.controls ? dec.controls : "", "content_sha256", json_object_get(sig, "content_sha256"));
	if ((rc = dom_audit(d, c, "assessment.sign", "assessment", object, old, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = json_pack("{s:O, s:O}", "assessment", assessment, "signature", sig);
out:
	if (rc)
		rc = dom_refused(d, &c, "assessment.refused", "assessment", object, rc);
	dom_end(c);
	json_decref(asset);
	json_decref(adv);
	json_decref(match);
	json_decref(old);
	json_decref(content);
	json_decref(sig);
	json_decref(assessment);
	json_decref(after);
	return rc;
}

int dom_assessment_read(json_t **out, const struct dom *d, const char *tracking_id, int64_t asset_id)
{
	struct db_conn *c = NULL;
	json_t *asset = NULL, *match = NULL, *assessment = NULL, *sigs = NULL;
	int64_t advisory_id;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ADVISORY_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = advisories_id(&advisory_id, c, tracking_id)) ||
	    (rc = assets_get(&asset, c, asset_id, false)) ||
	    (rc = match_of(&match, c, tracking_id, asset_id)) ||
	    (rc = advisories_assessment_get(&assessment, c, advisory_id, asset_id, false)))
		goto out;
	if (assessment) {
		if ((rc = advisories_assessment_signatures(&sigs, c, json_integer_value(json_object_get(assessment, "id")))))
			goto out;
	} else {
		sigs = json_array();
	}
	*out = json_pack("{s:s, s:I, s:O, s:O, s:O, s:O}", "tracking_id", tracking_id, "asset_id",
			 (json_int_t)asset_id, "path", json_object_get(asset, "path"), "match",
			 match ? match : json_null(), "assessment", assessment ? assessment : json_null(),
			 "signatures", sigs);
out:
	dom_end(c);
	json_decref(asset);
	json_decref(match);
	json_decref(assessment);
	json_decref(sigs);
	return rc;
}

int dom_assessment_fixed_by_change(const struct dom *d, struct db_conn *c, const char *advisory_id, const char *asset_id, const char *change_key)
{
	struct assessment_record r;
	json_t *asset = NULL, *old = NULL, *after = NULL;
	int64_t adv = 0, id = 0, assessment_id;
	int rc;

	if (!change_key || !*change_key)
		return err_set(OTCM_EINVAL, "change_key", "the change that fixed the advisory is required");
	if ((rc = assets_parse_id(&id, asset_id)) || (rc = advisories_id(&adv, c, advisory_id)) ||
	    (rc = assets_get(&asset, c, id, false)) ||
	    (rc = advisories_assessment_get(&old, c, adv, id, true)))
		goto out;
	memset(&r, 0, sizeof(r));
	r.advisory_id = adv;
	r.asset_id = id;
	r.status = "fixed";
	r.impact = old ? json_string_value(json_object_get(old, "impact")) : "";
	r.controls = old ? json_string_value(json_object_get(old, "controls")) : "";
	r.change_key = change_key;
	r.user_id = d->who->user_id;
	r.username = d->who->username ? d->who->username : "system";
	if ((rc = advisories_assessment_put(&assessment_id, c, &r)))
		goto out;
	after = json_pack("{s:s, s:s, s:O}", "status", "fixed", "change_key", change_key, "firmware",
			  json_object_get(asset, "firmware"));
	rc = dom_audit(d, c, "assessment.fixed", "assessment",
		       arena_printf(d->arena, "%s/%" PRId64, advisory_id, id), old, after, change_key);
out:
	json_decref(asset);
	json_decref(old);
	json_decref(after);
	return rc;
}
