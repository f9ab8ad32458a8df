/*
 * tests/unit/domain/test_checklist.c - the auditor's control checklist
 * (checklist_compute): a compliant released change meets every control,
 * and each control fails on its own when the records break it; the
 * offline verifier refuses a sealed bundle whose stored checklist is not
 * the one its records give.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/json.h"
#include "core/merkle.h"
#include "core/signednote.h"
#include "domain/bundle.h"
#include "domain/checklist.h"
#include "storage/repo.h"

#define C1 "1111111111111111111111111111111111111111"
#define T1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define T2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* A normal change on one asset, driven to release by the rules. */
static const char COMPLIANT[] =
	"{\"key\":\"CHG-1\",\"type\":\"normal\",\"requester\":\"eng\",\"reason\":\"trips\",\"risk\":\"medium\","
	"\"implementation_plan\":\"edit\",\"rollback_plan\":\"redeploy\",\"safety_related\":false,"
	"\"created_at\":\"2026-12-03T09:00:00.000Z\",\"retrospective_approval_due\":null,\"overdue\":false,"
	"\"affected_assets\":[{\"id\":1,\"path\":\"plant/plc\",\"commit\":\"" C1 "\",\"tree\":\"" T1 "\"}],"
	"\"versions\":[{\"asset_id\":1,\"path\":\"plant/plc\",\"commit\":\"" C1 "\",\"tree\":\"" T1 "\","
	"\"uploaded_by\":\"eng2\",\"uploaded_at\":\"2026-12-03T09:02:00.000Z\"}],"
	"\"signatures\":["
	"{\"id\":1,\"meaning\":\"authorised\",\"signer\":\"appr\",\"role\":\"approver\",\"stale\":false,"
	"\"signed_at\":\"2026-12-03T09:01:00.000Z\",\"reauthenticated_with\":\"password\",\"trees\":{}},"
	"{\"id\":2,\"meaning\":\"approved\",\"signer\":\"appr\",\"role\":\"approver\",\"stale\":false,"
	"\"signed_at\":\"2026-12-03T09:04:00.000Z\",\"reauthenticated_with\":\"password+totp\","
	"\"trees\":{\"1\":\"" T1 "\"}},"
	"{\"id\":3,\"meaning\":\"released\",\"signer\":\"appr\",\"role\":\"approver\",\"stale\":false,"
	"\"signed_at\":\"2026-12-03T09:07:00.000Z\",\"reauthenticated_with\":\"password\","
	"\"trees\":{\"1\":\"" T1 "\"}}],"
	"\"test_runs\":["
	"{\"id\":1,\"asset_id\":1,\"tree\":\"" T1 "\",\"verdict\":\"pass\",\"stale\":false,\"witnessed\":true,"
	"\"protocol\":{\"kind\":\"fat\",\"witness_required\":true},\"completed_at\":\"2026-12-03T09:03:00.000Z\","
	"\"steps\":[{\"no\":1,\"recorded_at\":\"2026-12-03T09:03:00.000Z\"}]},"
	"{\"id\":2,\"asset_id\":1,\"tree\":\"" T1 "\",\"verdict\":\"pass\",\"stale\":false,\"witnessed\":false,"
	"\"protocol\":{\"kind\":\"sat\",\"witness_required\":false},\"completed_at\":\"2026-12-03T09:06:00.000Z\","
	"\"steps\":[]}],"
	"\"deployments\":[{\"id\":1,\"asset_id\":1,\"commit\":\"" C1 "\",\"tree\":\"" T1 "\",\"current\":true,"
	"\"deployed_at\":\"2026-12-03T09:05:00.000Z\",\"readback_match\":null,\"readback_sha256\":null}]}";

static const char EVENTS[] =
	"{\"action\":\"change.create\",\"at\":\"2026-12-03T09:00:00.000000Z\"}\n"
	"{\"action\":\"signature.create\",\"at\":\"2026-12-03T09:01:00.000000Z\"}\n"
	"{\"action\":\"change.version\",\"at\":\"2026-12-03T09:02:00.000000Z\"}\n"
	"{\"action\":\"signature.create\",\"at\":\"2026-12-03T09:04:00.000000Z\"}\n"
	"{\"action\":\"change.deployment\",\"at\":\"2026-12-03T09:05:00.000000Z\"}\n"
	"{\"action\":\"change.release\",\"at\":\"2026-12-03T09:07:00.000000Z\"}\n";

/* An audit part for `events`: hash chain, inclusion proofs and a signed checkpoint. */
struct audit {
	json_t *proofs;
	char *checkpoint;
};

static void audit_release(struct audit *a)
{
	json_decref(a->proofs);
	free(a->checkpoint);
}

static struct audit audit_of(const char *events)
{
	merkle_hash leaves[64], prev, root;
	struct crypto_ed25519_key *key = NULL;
	json_t *list = json_array();
	struct audit a;
	char hex[65], *text;
	const char *line = events;
	size_t n = 0, i, j;

	memset(prev, 0, sizeof(prev));
	while (*line) {
		const char *nl = strchr(line, '\n');
		struct crypto_sha256_ctx *h = crypto_sha256_new();
		merkle_hash ev;

		crypto_sha256_update(h, prev, sizeof(prev));
		crypto_sha256_update(h, line, (size_t)(nl - line));
		crypto_sha256_final(ev, h);
		crypto_hex(hex, prev, sizeof(prev));
		json_array_append_new(list, json_pack("{s:i, s:i, s:s}", "seq", (int)n + 1, "leaf_index", (int)n,
						      "prev_hash", hex));
		crypto_hex(hex, ev, sizeof(ev));
		json_object_set_new(json_array_get(list, n), "event_hash", json_string(hex));
		merkle_leaf_hash(leaves[n], ev, sizeof(ev));
		memcpy(prev, ev, sizeof(prev));
		n++;
		line = nl + 1;
	}
	for (i = 0; i < n; i++) {
		merkle_hash *path = NULL;
		size_t plen = 0;
		json_t *pr = json_array();

		assert_int_equal(merkle_inclusion_proof(&path, &plen, (const merkle_hash *)leaves, n, i), 0);
		for (j = 0; j < plen; j++) {
			crypto_hex(hex, path[j], sizeof(merkle_hash));
			json_array_append_new(pr, json_string(hex));
		}
		json_object_set_new(json_array_get(list, i), "proof", pr);
		free(path);
	}
	merkle_root(root, (const merkle_hash *)leaves, n);
	a.proofs = json_pack("{s:i, s:o}", "tree_size", (int)n, "events", list);
	assert_int_equal(crypto_ed25519_generate(&key), 0);
	text = signednote_checkpoint_text("otcm/test", n, root);
	assert_int_equal(signednote_sign(&a.checkpoint, text, "otcm/test", key), 0);
	free(text);
	crypto_ed25519_free(key);
	return a;
}

static json_t *compliant(void)
{
	json_t *c = json_loads(COMPLIANT, 0, NULL);

	assert_non_null(c);
	return c;
}

/* The checklist of `change` with `events`, their proofs and checkpoint. */
static json_t *compute(const json_t *change, const char *events)
{
	struct audit a = audit_of(events);
	struct checklist_records in = { change, events, strlen(events), a.proofs, a.checkpoint,
					strlen(a.checkpoint) };
	json_t *out = NULL;

	assert_int_equal(checklist_compute(&out, &in), 0);
	audit_release(&a);
	return out;
}

static const char *result(const json_t *list, const char *id)
{
	const json_t *c;
	size_t i;

	json_array_foreach(list, i, c)
		if (!strcmp(json_string_value(json_object_get(c, "id")), id))
			return json_string_value(json_object_get(c, "result"));
	fail_msg("no control %s", id);
	return NULL;
}

/* Every control but `except` has `want` (NULL: met, emergency not applicable). */
static void assert_only(const json_t *list, const char *except, const char *want)
{
	const json_t *c;
	size_t i;

	assert_int_equal(json_array_size(list), 13);
	json_array_foreach(list, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *r = json_string_value(json_object_get(c, "result"));

		assert_non_null(json_string_value(json_object_get(c, "detail")));
		assert_true(json_array_size(json_object_get(c, "evidence")) > 0);
		if (except && !strcmp(id, except))
			assert_string_equal(r, want);
		else if (!strcmp(id, "emergency"))
			assert_string_equal(r, CHECKLIST_NA);
		else if (strcmp(r, CHECKLIST_MET))
			fail_msg("control %s: %s (%s)", id, r,
				 json_string_value(json_object_get(c, "detail")));
	}
}

/* One control broken: that one is "not met", every other still met. */
static void assert_breaks(json_t *change, const char *events, const char *id)
{
	json_t *list = compute(change, events);

	assert_only(list, id, CHECKLIST_NOT_MET);
	json_decref(list);
	json_decref(change);
}

static json_t *at(json_t *change, const char *list, size_t i)
{
	return json_array_get(json_object_get(change, list), i);
}

static void test_compliant_change_meets_every_control(void **state)
{
	json_t *c = compliant(), *a = compute(c, EVENTS), *b = compute(c, EVENTS);

	(void)state;
	assert_only(a, NULL, NULL);
	assert_true(json_equal(a, b)); /* the same records give the same checklist */
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

static void test_recorded(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_object_set_new(c, "rollback_plan", json_string(""));
	assert_breaks(c, EVENTS, "recorded");
}

static void test_authorised_by_requester_or_late(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_object_set_new(at(c, "signatures", 0), "signer", json_string("eng"));
	assert_breaks(c, EVENTS, "authorised");
	c = compliant();
	json_object_set_new(at(c, "signatures", 0), "signed_at", json_string("2026-12-03T09:02:30.000Z"));
	assert_breaks(c, EVENTS, "authorised");
}

static void test_content_needs_commits_and_trees(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_object_set_new(at(c, "versions", 0), "tree", json_string("not-a-tree"));
	assert_breaks(c, EVENTS, "content");
}

static void test_approver_who_contributed_is_no_review(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_object_set_new(at(c, "versions", 0), "uploaded_by", json_string("appr"));
	assert_breaks(c, EVENTS, "independent-review");
}

static void test_fat_unwitnessed_or_on_another_tree(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_object_set_new(at(c, "test_runs", 0), "witnessed", json_false());
	assert_breaks(c, EVENTS, "fat");
	/* a passed FAT on another tree than the approved one: release also tested it, only FAT fails */
	c = compliant();
	json_object_set_new(json_object_get(at(c, "signatures", 1), "trees"), "1", json_string(T2));
	json_object_set_new(at(c, "deployments", 0), "tree", json_string(T2));
	json_object_set_new(at(c, "test_runs", 1), "tree", json_string(T2));
	json_object_set_new(json_object_get(at(c, "signatures", 2), "trees"), "1", json_string(T2));
	json_array_append_new(json_object_get(c, "test_runs"),
			      json_pack("{s:i, s:i, s:s, s:s, s:b, s:b, s:{s:s, s:b}, s:n, s:[]}", "id", 3,
					"asset_id", 1, "tree", T2, "verdict", "fail", "stale", 0, "witnessed", 1,
					"protocol", "kind", "fat", "witness_required", 1, "completed_at", "steps"));
	{
		json_t *list = compute(c, EVENTS);

		assert_string_equal(result(list, "fat"), CHECKLIST_NOT_MET);
		assert_string_equal(result(list, "released-tested"), CHECKLIST_NOT_MET);
		json_decref(list);
	}
	json_decref(c);
}

static void test_deployment_before_approval(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_object_set_new(at(c, "deployments", 0), "deployed_at", json_string("2026-12-03T09:03:30.000Z"));
	assert_breaks(c, EVENTS, "approval");
}

static void test_deployment_with_mismatched_readback(void **state)
{
	json_t *c = compliant(), *list;

	(void)state;
	json_object_set_new(at(c, "deployments", 0), "readback_match", json_false());
	json_object_set_new(at(c, "deployments", 0), "readback_sha256", json_string("ff"));
	assert_breaks(c, EVENTS, "deployed-approved");
	/* and a matching read-back is counted as such */
	c = compliant();
	json_object_set_new(at(c, "deployments", 0), "readback_match", json_true());
	list = compute(c, EVENTS);
	assert_only(list, NULL, NULL);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(list, 6), "detail")),
			       "1 confirmed by a device read-back"));
	json_decref(list);
	json_decref(c);
}

static void test_sat_missing(void **state)
{
	json_t *c = compliant(), *list;

	(void)state;
	json_array_remove(json_object_get(c, "test_runs"), 1);
	list = compute(c, EVENTS);
	assert_string_equal(result(list, "sat"), CHECKLIST_NOT_MET);
	assert_string_equal(result(list, "released-tested"), CHECKLIST_NOT_MET);
	assert_string_equal(result(list, "fat"), CHECKLIST_MET);
	json_decref(list);
	json_decref(c);
}

static void test_not_released(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_array_remove(json_object_get(c, "signatures"), 2);
	assert_breaks(c, EVENTS, "released-tested");
}

static void test_client_time(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_object_set_new(at(c, "deployments", 0), "deployed_at", json_string("2026-12-03 09:05:00+01"));
	{
		json_t *list = compute(c, EVENTS);

		assert_string_equal(result(list, "server-time"), CHECKLIST_NOT_MET);
		json_decref(list);
	}
	json_decref(c);
}

static void test_audit_trail_incomplete(void **state)
{
	char events[sizeof(EVENTS)];
	json_t *c = compliant(), *list;
	struct checklist_records in;
	struct audit a;
	char *cut;

	(void)state;
	/* the deployment's event is missing */
	memcpy(events, EVENTS, sizeof(EVENTS));
	cut = strstr(events, "{\"action\":\"change.deployment\"");
	memmove(cut, strchr(cut, '\n') + 1, strlen(strchr(cut, '\n') + 1) + 1);
	assert_breaks(c, events, "audit-trail");
	/* an event without its proof */
	c = compliant();
	a = audit_of(EVENTS);
	json_array_remove(json_object_get(a.proofs, "events"), 5);
	in = (struct checklist_records){ c, EVENTS, strlen(EVENTS), a.proofs, a.checkpoint, strlen(a.checkpoint) };
	assert_int_equal(checklist_compute(&list, &in), 0);
	assert_string_equal(result(list, "audit-trail"), CHECKLIST_NOT_MET);
	json_decref(list);
	audit_release(&a);
	/* an event edited after it was hashed: its proof no longer leads to the checkpoint */
	a = audit_of(EVENTS);
	memcpy(events, EVENTS, sizeof(EVENTS));
	*strstr(events, "09:04:00") = '1';
	in = (struct checklist_records){ c, events, strlen(events), a.proofs, a.checkpoint, strlen(a.checkpoint) };
	assert_int_equal(checklist_compute(&list, &in), 0);
	assert_string_equal(result(list, "audit-trail"), CHECKLIST_NOT_MET);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(list, 10), "detail")),
			       "event line 4 does not hash"));
	json_decref(list);
	/* no checkpoint */
	in = (struct checklist_records){ c, EVENTS, strlen(EVENTS), a.proofs, NULL, 0 };
	assert_int_equal(checklist_compute(&list, &in), 0);
	assert_string_equal(result(list, "audit-trail"), CHECKLIST_NOT_MET);
	json_decref(list);
	audit_release(&a);
	/* no events at all */
	in = (struct checklist_records){ c, NULL, 0, NULL, NULL, 0 };
	assert_int_equal(checklist_compute(&list, &in), 0);
	assert_string_equal(result(list, "audit-trail"), CHECKLIST_NOT_MET);
	json_decref(list);
	json_decref(c);
}

static void test_signer_not_reauthenticated(void **state)
{
	json_t *c = compliant();

	(void)state;
	json_object_set_new(at(c, "signatures", 1), "reauthenticated_with", json_string(""));
	assert_breaks(c, EVENTS, "reauthentication");
}

static void test_enrolled_signer_without_second_factor(void **state)
{
	json_t *c = compliant(), *list;

	(void)state;
	/* enrolled and gave a code: met; older signatures (no record) read as not enrolled */
	json_object_set_new(at(c, "signatures", 1), "second_factor_enrolled", json_true());
	json_object_set_new(at(c, "signatures", 2), "second_factor_enrolled", json_false());
	list = compute(c, EVENTS);
	assert_string_equal(result(list, "reauthentication"), CHECKLIST_MET);
	json_decref(list);
	/* enrolled, yet the password alone: not met, and nothing else breaks */
	json_object_set_new(at(c, "signatures", 2), "second_factor_enrolled", json_true());
	assert_breaks(c, EVENTS, "reauthentication");
}

/* The effectiveness row of control `id`. */
static const json_t *row(const json_t *rows, const char *id)
{
	const json_t *r;
	size_t i;

	json_array_foreach(rows, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "id")), id))
			return r;
	fail_msg("no row %s", id);
	return NULL;
}

static json_int_t count(const json_t *rows, const char *id, const char *what)
{
	return json_integer_value(json_object_get(row(rows, id), what));
}

static void test_effectiveness_counts_and_exceptions(void **state)
{
	json_t *good = compliant(), *selfish = compliant(), *changes, *rows = NULL;
	const json_t *ex;

	(void)state;
	/* the approver uploaded the version: no independent review */
	json_object_set_new(at(selfish, "versions", 0), "uploaded_by", json_string("appr"));
	changes = json_pack("[{s:s, s:o}, {s:s, s:o}, {s:s, s:[]}]", "key", "CHG-1", "checklist",
			    compute(good, EVENTS), "key", "CHG-2", "checklist", compute(selfish, EVENTS), "key",
			    "CHG-3", "checklist");
	assert_int_equal(checklist_effectiveness(&rows, changes), 0);
	assert_int_equal(json_array_size(rows), 13);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "id")), "recorded");
	assert_int_equal(count(rows, "recorded", "met"), 2);
	assert_int_equal(count(rows, "independent-review", "met"), 1);
	assert_int_equal(count(rows, "independent-review", "not_met"), 2);
	ex = json_object_get(row(rows, "independent-review"), "exceptions");
	assert_int_equal(json_array_size(ex), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "key")), "CHG-2");
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(ex, 0), "detail")), "uploaded"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 1), "key")), "CHG-3");
	/* a change whose checklist lacks a control did not meet it; not applicable stays apart */
	assert_int_equal(count(rows, "emergency", "not_applicable"), 2);
	assert_int_equal(count(rows, "emergency", "not_met"), 1);
	json_decref(rows);
	json_decref(changes);
	json_decref(good);
	json_decref(selfish);
	assert_int_equal(checklist_effectiveness(&rows, json_object_get(NULL, "x")), OTCM_EINVAL);
}

static void test_emergency(void **state)
{
	json_t *c = compliant(), *list;

	(void)state;
	/* deployed before its approval, approved within the deadline: met */
	json_object_set_new(c, "type", json_string("emergency"));
	json_object_set_new(c, "retrospective_approval_due", json_string("2026-12-06T09:05:00.000Z"));
	json_object_set_new(at(c, "deployments", 0), "deployed_at", json_string("2026-12-03T09:03:30.000Z"));
	list = compute(c, EVENTS);
	assert_string_equal(result(list, "emergency"), CHECKLIST_MET);
	assert_string_equal(result(list, "approval"), CHECKLIST_MET);
	json_decref(list);
	/* approved after its deadline */
	json_object_set_new(c, "retrospective_approval_due", json_string("2026-12-03T09:03:45.000Z"));
	list = compute(c, EVENTS);
	assert_string_equal(result(list, "emergency"), CHECKLIST_NOT_MET);
	json_decref(list);
	/* never approved */
	json_array_remove(json_object_get(c, "signatures"), 2);
	json_array_remove(json_object_get(c, "signatures"), 1);
	list = compute(c, EVENTS);
	assert_string_equal(result(list, "emergency"), CHECKLIST_NOT_MET);
	assert_string_equal(result(list, "independent-review"), CHECKLIST_NOT_MET);
	json_decref(list);
	json_decref(c);
}

static void test_malformed_records_are_not_met(void **state)
{
	json_t *c = json_pack("{s:i, s:s, s:[i], s:{}}", "key", 7, "versions", "no", "signatures", 3,
			      "deployments");
	struct checklist_records in = { c, "not json\n", 9, NULL, "garbage", 7 };
	json_t *list = NULL, *x;
	size_t i;

	(void)state;
	assert_int_equal(checklist_compute(&list, &in), 0);
	json_array_foreach(list, i, x)
		if (strcmp(json_string_value(json_object_get(x, "id")), "emergency"))
			assert_string_equal(json_string_value(json_object_get(x, "result")), CHECKLIST_NOT_MET);
	json_decref(list);
	json_decref(c);
	list = NULL;
	in = (struct checklist_records){ json_null(), NULL, 0, NULL, NULL, 0 };
	assert_int_equal(checklist_compute(&list, &in), OTCM_EINVAL);
	assert_null(list);
}

/* A sealed bundle of change.json (with `checklist`) and the audit files; its verification report. */
static char *verify_with(json_t *checklist)
{
	struct crypto_ed25519_key *key = NULL;
	struct bundle_files fs = { 0 };
	struct buf tar = BUF_INIT, report = BUF_INIT;
	json_t *c = compliant();
	struct audit a = audit_of(EVENTS);
	char *text;

	assert_int_equal(crypto_ed25519_generate(&key), 0);
	json_object_set(c, "checklist", checklist);
	bundle_files_add_json(&fs, "change.json", c);
	bundle_files_add(&fs, "audit/events.jsonl", EVENTS, strlen(EVENTS));
	bundle_files_add_json(&fs, "audit/proofs.json", a.proofs);
	bundle_files_add(&fs, "audit/checkpoint", a.checkpoint, strlen(a.checkpoint));
	assert_int_equal(bundle_seal(&tar, &fs, key, 0), 0);
	bundle_verify(&report, tar.data, tar.len, NULL);
	text = strdup(buf_cstr(&report));
	buf_release(&report);
	buf_release(&tar);
	bundle_files_release(&fs);
	crypto_ed25519_free(key);
	audit_release(&a);
	json_decref(c);
	return text;
}

static void test_verifier_recomputes_the_checklist(void **state)
{
	json_t *c = compliant(), *list = compute(c, EVENTS);
	char *report;

	(void)state;
	assert_int_equal(repo_global_init(), 0);
	report = verify_with(list);
	assert_non_null(strstr(report, "ok    checklist: 12 met, 0 not met, 1 not applicable"));
	assert_non_null(strstr(report, "met   5. FAT passed on the approved tree"));
	assert_non_null(strstr(report, "n/a   13. Emergency handling"));
	free(report);
	/* a stored checklist that claims more than the records give is refused */
	json_object_set_new(json_array_get(list, 12), "result", json_string(CHECKLIST_MET));
	report = verify_with(list);
	assert_non_null(strstr(report, "FAIL  checklist: the checklist in change.json is not the one its "
				       "records give"));
	free(report);
	/* and a bundle without one */
	report = verify_with(NULL);
	assert_non_null(strstr(report, "FAIL  checklist: change.json holds no checklist"));
	free(report);
	repo_global_shutdown();
	json_decref(list);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compliant_change_meets_every_control),
		cmocka_unit_test(test_recorded),
		cmocka_unit_test(test_authorised_by_requester_or_late),
		cmocka_unit_test(test_content_needs_commits_and_trees),
		cmocka_unit_test(test_approver_who_contributed_is_no_review),
		cmocka_unit_test(test_fat_unwitnessed_or_on_another_tree),
		cmocka_unit_test(test_deployment_before_approval),
		cmocka_unit_test(test_deployment_with_mismatched_readback),
		cmocka_unit_test(test_sat_missing),
		cmocka_unit_test(test_not_released),
		cmocka_unit_test(test_client_time),
		cmocka_unit_test(test_audit_trail_incomplete),
		cmocka_unit_test(test_signer_not_reauthenticated),
		cmocka_unit_test(test_enrolled_signer_without_second_factor),
		cmocka_unit_test(test_effectiveness_counts_and_exceptions),
		cmocka_unit_test(test_emergency),
		cmocka_unit_test(test_malformed_records_are_not_met),
		cmocka_unit_test(test_verifier_recomputes_the_checklist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
