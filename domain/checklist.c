/*
 * domain/checklist.c - the auditor's control checklist, decided from an
 * evidence bundle's records alone; see checklist.h and docs/evidence.md.
 *
 * Every input is untrusted bundle content: a missing or malformed record
 * makes a control "not met" with a detail that says what was missing.
 * Times are compared as text, which orders them because every time the
 * server writes has the one form YYYY-MM-DDTHH:MM:SS.fffZ (control 10
 * checks exactly that).
 */
#include "domain/checklist.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/merkle.h"
#include "core/mem.h"
#include "core/signednote.h"

#define DETAIL_MAX 600

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static bool is_hex40(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[40] == '\0';
}

/* A server time as the server writes it: YYYY-MM-DDTHH:MM:SS[.f...]Z. */
static bool is_server_time(const char *s)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; form[i]; i++)
		if (form[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != form[i])
			return false;
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			;
	}
	return s[i] == 'Z' && s[i + 1] == '\0';
}

/* The records the controls share, found once. */
struct facts {
	const json_t *change, *versions, *signatures, *runs, *deployments, *assets;
	const json_t *authorised, *approval, *release; /* current signatures, or NULL */
	const char *first_version, *last_version;      /* "" without versions */
	bool emergency;
};

/* The newest signature of `meaning` that is not stale, or NULL. */
static const json_t *current_signature(const json_t *signatures, const char *meaning)
{
	const json_t *s, *found = NULL;
	size_t i;

	json_array_foreach(signatures, i, s)
		if (!strcmp(jstr(s, "meaning"), meaning) && !json_is_true(json_object_get(s, "stale")))
			found = s;
	return found;
}

static void facts_init(struct facts *f, const json_t *change)
{
	const json_t *v;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->change = change;
	f->versions = json_object_get(change, "versions");
	f->signatures = json_object_get(change, "signatures");
	f->runs = json_object_get(change, "test_runs");
	f->deployments = json_object_get(change, "deployments");
	f->assets = json_object_get(change, "affected_assets");
	f->authorised = current_signature(f->signatures, "authorised");
	f->approval = current_signature(f->signatures, "approved");
	f->release = current_signature(f->signatures, "released");
	f->emergency = !strcmp(jstr(change, "type"), "emergency");
	f->first_version = f->last_version = "";
	json_array_foreach(f->versions, i, v) {
		const char *at = jstr(v, "uploaded_at");

		if (!*f->first_version || strcmp(at, f->first_version) < 0)
			f->first_version = at;
		if (strcmp(at, f->last_version) > 0)
			f->last_version = at;
	}
}

/* The tree `sig` (a signature) names for asset `asset_id`, or "". */
static const char *signed_tree(const json_t *sig, json_int_t asset_id)
{
	char id[32];

	snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, asset_id);
	return jstr(json_object_get(sig, "trees"), id);
}

/* Whether a current run of `kind` passed on `tree` of asset `asset_id`; *witnessed_ok where required. */
static bool passed(const struct facts *f, const char *kind, json_int_t asset_id, const char *tree,
		   bool *witnessed_ok)
{
	const json_t *r;
	size_t i;

	json_array_foreach(f->runs, i, r) {
		const json_t *proto = json_object_get(r, "protocol");

		if (strcmp(jstr(proto, "kind"), kind) || strcmp(jstr(r, "verdict"), "pass") ||
		    json_is_true(json_object_get(r, "stale")) || !*tree || strcmp(jstr(r, "tree"), tree) ||
		    json_integer_value(json_object_get(r, "asset_id")) != asset_id)
			continue;
		if (witnessed_ok && json_is_true(json_object_get(proto, "witness_required")) &&
		    !json_is_true(json_object_get(r, "witnessed")))
			continue;
		return true;
	}
	return false;
}

/* The current deployment of asset `asset_id`, or NULL. */
static const json_t *deployment_of(const struct facts *f, json_int_t asset_id)
{
	const json_t *d, *found = NULL;
	size_t i;

	json_array_foreach(f->deployments, i, d)
		if (json_integer_value(json_object_get(d, "asset_id")) == asset_id &&
		    !json_is_false(json_object_get(d, "current")))
			found = d;
	return found;
}

/* The statement file of signature `sig`, as evidence. */
static json_t *sig_file(const json_t *sig)
{
	char name[96];

	snprintf(name, sizeof(name), "statements/signature-%" JSON_INTEGER_FORMAT ".dsse.json",
		 json_integer_value(json_object_get(sig, "id")));
	return json_string(name);
}

/* ---- the controls: each sets *detail and returns its result, adding its evidence ---- */

typedef const char *(*control_fn)(const struct facts *f, char *detail, json_t *evidence);

static const char *c_recorded(const struct facts *f, char *detail, json_t *ev)
{
	static const char *const need[] = { "reason", "risk", "implementation_plan", "rollback_plan", NULL };
	size_t i;

	json_array_append_new(ev, json_string("change.json: reason, risk, safety_related, implementation_plan, "
					      "rollback_plan"));
	json_array_append_new(ev, json_string("audit/events.jsonl: change.create"));
	for (i = 0; need[i]; i++)
		if (!*jstr(f->change, need[i])) {
			snprintf(detail, DETAIL_MAX, "the ticket has no %s", need[i]);
			return CHECKLIST_NOT_MET;
		}
	snprintf(detail, DETAIL_MAX, "reason, risk (%s), implementation and rollback plans recorded",
		 jstr(f->change, "risk"));
	return CHECKLIST_MET;
}

static const char *c_authorised(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *a = f->authorised;

	json_array_append_new(ev, json_string("rule: segregation-of-duties"));
	if (!a) {
		snprintf(detail, DETAIL_MAX, "no authorised signature");
		return CHECKLIST_NOT_MET;
	}
	json_array_append_new(ev, sig_file(a));
	if (!strcmp(jstr(a, "signer"), jstr(f->change, "requester"))) {
		snprintf(detail, DETAIL_MAX, "authorised by the requester %.100s", jstr(a, "signer"));
		return CHECKLIST_NOT_MET;
	}
	if (*f->first_version && strcmp(jstr(a, "signed_at"), f->first_version) > 0) {
		snprintf(detail, DETAIL_MAX, "authorised at %.40s, after the first version (%.40s)",
			 jstr(a, "signed_at"), f->first_version);
		return CHECKLIST_NOT_MET;
	}
	snprintf(detail, DETAIL_MAX, "authorised by %.100s at %.40s, before any version; requester %.100s",
		 jstr(a, "signer"), jstr(a, "signed_at"), jstr(f->change, "requester"));
	return CHECKLIST_MET;
}

static const char *c_content(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *v;
	char name[1100];
	size_t i;

	json_array_append_new(ev, json_string("change.json: versions (commit, tree)"));
	json_array_foreach(f->assets, i, v)
		if (json_is_string(json_object_get(v, "commit"))) {
			snprintf(name, sizeof(name), "git/%.1000s.bundle", jstr(v, "path"));
			json_array_append_new(ev, json_string(name));
			snprintf(name, sizeof(name), "diffs/%.1000s/", jstr(v, "path"));
			json_array_append_new(ev, json_string(name));
		}
	if (json_array_size(f->versions) == 0) {
		snprintf(detail, DETAIL_MAX, "the change has no versions");
		return CHECKLIST_NOT_MET;
	}
	json_array_foreach(f->versions, i, v)
		if (!is_hex40(jstr(v, "commit")) || !is_hex40(jstr(v, "tree"))) {
			snprintf(detail, DETAIL_MAX, "version %zu has no commit and tree id", i + 1);
			return CHECKLIST_NOT_MET;
		}
	snprintf(detail, DETAIL_MAX, "%zu versions, each a git commit and tree in the git bundles",
		 json_array_size(f->versions));
	return CHECKLIST_MET;
}

static const char *c_review(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *v;
	size_t i;

	json_array_append_new(ev, json_string("change.json: versions (uploaded_by)"));
	json_array_append_new(ev, json_string("rule: segregation-of-duties"));
	if (!f->approval) {
		snprintf(detail, DETAIL_MAX, "no current approval, so no independent review");
		return CHECKLIST_NOT_MET;
	}
	json_array_append_new(ev, sig_file(f->approval));
	json_array_foreach(f->versions, i, v)
		if (!strcmp(jstr(v, "uploaded_by"), jstr(f->approval, "signer"))) {
			snprintf(detail, DETAIL_MAX, "the approver %.100s uploaded version %zu",
				 jstr(f->approval, "signer"), i + 1);
			return CHECKLIST_NOT_MET;
		}
	snprintf(detail, DETAIL_MAX, "the approver %.100s uploaded none of the %zu versions",
		 jstr(f->approval, "signer"), json_array_size(f->versions));
	return CHECKLIST_MET;
}

static const char *c_fat(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *a;
	size_t i, n = 0;

	json_array_append_new(ev, json_string("change.json: test_runs (kind fat, verdict, tree, witnessed)"));
	json_array_append_new(ev, json_string("tests/run-ID.json"));
	json_array_append_new(ev, json_string("rule: fat-required"));
	if (!f->approval) {
		snprintf(detail, DETAIL_MAX, "no current approval names the tree to test");
		return CHECKLIST_NOT_MET;
	}
	json_array_foreach(f->assets, i, a) {
		json_int_t id = json_integer_value(json_object_get(a, "id"));
		const char *tree = signed_tree(f->approval, id);
		bool witnessed = true;

		if (!*tree)
			continue;
		n++;
		if (!passed(f, "fat", id, tree, &witnessed)) {
			snprintf(detail, DETAIL_MAX, "no current FAT run %s on the approved tree %.40s of %.200s",
				 passed(f, "fat", id, tree, NULL) ? "was witnessed as its protocol requires" : "passed",
				 tree, jstr(a, "path"));
			return CHECKLIST_NOT_MET;
		}
	}
	if (n == 0) {
		snprintf(detail, DETAIL_MAX, "the approval names no tree");
		return CHECKLIST_NOT_MET;
	}
	snprintf(detail, DETAIL_MAX, "a FAT passed on the approved tree of each of %zu assets, witnessed where "
		 "the protocol requires", n);
	return CHECKLIST_MET;
}

static const char *c_approval(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *d;
	const char *at;
	size_t i;

	json_array_append_new(ev, json_string("change.json: signatures (meaning approved), deployments"));
	json_array_append_new(ev, json_string("rule: approval-required"));
	if (!f->approval) {
		snprintf(detail, DETAIL_MAX, "no current approval signature");
		return CHECKLIST_NOT_MET;
	}
	json_array_append_new(ev, sig_file(f->approval));
	at = jstr(f->approval, "signed_at");
	if (strcmp(at, f->last_version) <= 0) {
		snprintf(detail, DETAIL_MAX, "approved at %.40s, not after the last version (%.40s)", at,
			 f->last_version);
		return CHECKLIST_NOT_MET;
	}
	json_array_foreach(f->deployments, i, d)
		if (!f->emergency && strcmp(jstr(d, "deployed_at"), at) < 0) {
			snprintf(detail, DETAIL_MAX, "deployment %" JSON_INTEGER_FORMAT " at %.40s came before the "
				 "approval at %.40s", json_integer_value(json_object_get(d, "id")),
				 jstr(d, "deployed_at"), at);
			return CHECKLIST_NOT_MET;
		}
	snprintf(detail, DETAIL_MAX, "e-signature by %.100s (%.100s) at %.40s, after the last version%s",
		 jstr(f->approval, "signer"), jstr(f->approval, "role"), at,
		 f->emergency ? " (emergency: deployment may precede it, see the emergency control)" :
		 " and before every deployment");
	return CHECKLIST_MET;
}

static const char *c_deployed(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *a, *d;
	size_t i, n = 0, readback = 0;

	json_array_append_new(ev, json_string("change.json: deployments (tree, readback_match)"));
	json_array_append_new(ev, json_string("statements/deployment-ID.dsse.json"));
	if (!f->approval) {
		snprintf(detail, DETAIL_MAX, "no current approval names the tree to deploy");
		return CHECKLIST_NOT_MET;
	}
	json_array_foreach(f->assets, i, a) {
		json_int_t id = json_integer_value(json_object_get(a, "id"));
		const char *tree = signed_tree(f->approval, id);

		if (!*tree)
			continue;
		if (!(d = deployment_of(f, id))) {
			snprintf(detail, DETAIL_MAX, "%.200s was not deployed", jstr(a, "path"));
			return CHECKLIST_NOT_MET;
		}
		n++;
		if (strcmp(jstr(d, "tree"), tree)) {
			snprintf(detail, DETAIL_MAX, "deployed tree %.40s of %.200s is not the approved tree %.40s",
				 jstr(d, "tree"), jstr(a, "path"), tree);
			return CHECKLIST_NOT_MET;
		}
		if (json_is_false(json_object_get(d, "readback_match"))) {
			snprintf(detail, DETAIL_MAX, "the device's read-back of %.200s (SHA-256 %.64s) does not match "
				 "the deployed tree", jstr(a, "path"), jstr(d, "readback_sha256"));
			return CHECKLIST_NOT_MET;
		}
		if (json_is_true(json_object_get(d, "readback_match")))
			readback++;
	}
	if (n == 0) {
		snprintf(detail, DETAIL_MAX, "nothing was deployed");
		return CHECKLIST_NOT_MET;
	}
	snprintf(detail, DETAIL_MAX, "each of %zu deployed trees is the approved tree; %zu confirmed by a device "
		 "read-back, %zu without a read-back (no agent)", n, readback, n - readback);
	return CHECKLIST_MET;
}

static const char *c_sat(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *a, *d;
	size_t i, n = 0;

	json_array_append_new(ev, json_string("change.json: test_runs (kind sat, verdict, tree)"));
	json_array_append_new(ev, json_string("tests/run-ID.json"));
	json_array_foreach(f->assets, i, a) {
		json_int_t id = json_integer_value(json_object_get(a, "id"));

		if (!(d = deployment_of(f, id)))
			continue;
		n++;
		if (!passed(f, "sat", id, jstr(d, "tree"), NULL)) {
			snprintf(detail, DETAIL_MAX, "no current SAT run passed on the deployed tree %.40s of %.200s",
				 jstr(d, "tree"), jstr(a, "path"));
			return CHECKLIST_NOT_MET;
		}
	}
	if (n == 0) {
		snprintf(detail, DETAIL_MAX, "nothing was deployed to test on site");
		return CHECKLIST_NOT_MET;
	}
	snprintf(detail, DETAIL_MAX, "a SAT passed on the deployed tree of each of %zu assets", n);
	return CHECKLIST_MET;
}

static const char *c_released(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *a;
	size_t i, n = 0;

	json_array_append_new(ev, json_string("change.json: signatures (meaning released), test_runs"));
	json_array_append_new(ev, json_string("rule: release-requirements"));
	if (!f->release) {
		snprintf(detail, DETAIL_MAX, "the change was not released");
		return CHECKLIST_NOT_MET;
	}
	json_array_append_new(ev, sig_file(f->release));
	json_array_foreach(f->assets, i, a) {
		json_int_t id = json_integer_value(json_object_get(a, "id"));
		const char *tree = signed_tree(f->release, id);

		if (!*tree)
			continue;
		n++;
		if (!passed(f, "fat", id, tree, NULL) || !passed(f, "sat", id, tree, NULL)) {
			snprintf(detail, DETAIL_MAX, "released tree %.40s of %.200s did not pass both FAT and SAT", tree,
				 jstr(a, "path"));
			return CHECKLIST_NOT_MET;
		}
	}
	if (n == 0) {
		snprintf(detail, DETAIL_MAX, "the release names no tree");
		return CHECKLIST_NOT_MET;
	}
	snprintf(detail, DETAIL_MAX, "the released tree of each of %zu assets passed FAT and SAT", n);
	return CHECKLIST_MET;
}

/* Count the times of `list`'s members under `key` (nested one level by `sub`), and the first bad one. */
static void times_of(const json_t *list, const char *key, const char *sub, const char *subkey, size_t *n,
		     const char **bad)
{
	const json_t *x;
	size_t i;

	json_array_foreach(list, i, x) {
		const json_t *t = json_object_get(x, key);

		if (!json_is_null(t)) {
			(*n)++;
			if (!*bad && !is_server_time(json_is_string(t) ? json_string_value(t) : ""))
				*bad = json_is_string(t) ? json_string_value(t) : key;
		}
		if (sub)
			times_of(json_object_get(x, sub), subkey, NULL, NULL, n, bad);
	}
}

struct events {
	json_t *list;       /* the parsed lines, a JSON array */
	size_t lines;
	bool malformed;
};

static const char *c_timestamps(const struct facts *f, const struct events *e, char *detail, json_t *ev)
{
	const char *bad = NULL, *created = jstr(f->change, "created_at");
	const json_t *s;
	json_t *top = json_pack("[O]", f->change);
	size_t n = 0, i;

	json_array_append_new(ev, json_string("change.json: created_at, uploaded_at, signed_at, completed_at, "
					      "recorded_at, deployed_at"));
	json_array_append_new(ev, json_string("audit/events.jsonl: at"));

	times_of(top, "created_at", NULL, NULL, &n, &bad);
	json_decref(top);
	times_of(f->versions, "uploaded_at", NULL, NULL, &n, &bad);
	times_of(f->signatures, "signed_at", NULL, NULL, &n, &bad);
	times_of(f->runs, "completed_at", "steps", "recorded_at", &n, &bad);
	times_of(f->deployments, "deployed_at", NULL, NULL, &n, &bad);
	times_of(e->list, "at", NULL, NULL, &n, &bad);
	if (bad) {
		snprintf(detail, DETAIL_MAX, "'%.60s' is not a server time (UTC)", bad);
		return CHECKLIST_NOT_MET;
	}
	json_array_foreach(f->signatures, i, s)
		if (strcmp(jstr(s, "signed_at"), created) < 0) {
			snprintf(detail, DETAIL_MAX, "signature %" JSON_INTEGER_FORMAT " at %.40s predates the ticket "
				 "(%.40s)", json_integer_value(json_object_get(s, "id")), jstr(s, "signed_at"), created);
			return CHECKLIST_NOT_MET;
		}
	snprintf(detail, DETAIL_MAX, "all %zu times are the server's clock in UTC, none set by a client or "
		 "taken from git", n);
	return CHECKLIST_MET;
}

static size_t count_action(const struct events *e, const char *action)
{
	const json_t *x;
	size_t i, n = 0;

	json_array_foreach(e->list, i, x)
		if (!strcmp(jstr(x, "action"), action))
			n++;
	return n;
}

static bool unhex32(merkle_hash out, const json_t *s)
{
	return json_is_string(s) && strlen(json_string_value(s)) == 64 &&
	       crypto_unhex(out, 32, json_string_value(s)) == 0;
}

/*
 * Whether every event line hashes, with its proof's prev_hash, to its
 * proof's event_hash and that proof leads to the checkpoint's root; 0 when
 * all do, else the 1-based line that does not (or 1 for an unreadable
 * checkpoint, with *no_checkpoint set).
 */
static size_t first_unproved(bool *no_checkpoint, const struct checklist_records *in)
{
	const json_t *list = json_object_get(in->proofs, "events");
	struct signednote *note = NULL;
	merkle_hash root, prev, want, got, leaf, *path = NULL;
	const char *line = in->events ? in->events : "", *end = line + (in->events ? in->events_len : 0);
	char *origin = NULL;
	uint64_t size = 0;
	size_t i = 0, bad = 0;

	*no_checkpoint = !in->checkpoint || signednote_parse(&note, in->checkpoint, in->checkpoint_len) ||
			 signednote_checkpoint_parse(&origin, &size, root, note->text);
	if (*no_checkpoint) {
		bad = 1;
		goto out;
	}
	for (; line < end && !bad; i++) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line), plen, j;
		const json_t *p = json_array_get(list, i), *pr = json_object_get(p, "proof");
		json_int_t index = json_integer_value(json_object_get(p, "leaf_index"));
		struct crypto_sha256_ctx *h;

		if (!unhex32(prev, json_object_get(p, "prev_hash")) || !unhex32(want, json_object_get(p, "event_hash")) ||
		    !json_is_array(pr) || json_array_size(pr) > MERKLE_MAX_PROOF || index < 0 ||
		    (uint64_t)index >= size) {
			bad = i + 1;
			break;
		}
		h = crypto_sha256_new();
		crypto_sha256_update(h, prev, sizeof(prev));
		crypto_sha256_update(h, line, len);
		crypto_sha256_final(got, h);
		plen = json_array_size(pr);
		path = xcalloc(plen + 1, sizeof(merkle_hash));
		for (j = 0; j < plen && unhex32(path[j], json_array_get(pr, j)); j++)
			;
		merkle_leaf_hash(leaf, want, sizeof(want));
		if (memcmp(got, want, sizeof(got)) || j < plen ||
		    merkle_inclusion_verify((uint64_t)index, size, leaf, (const merkle_hash *)path, plen, root))
			bad = i + 1;
		free(path);
		path = NULL;
		line += len + 1;
	}
out:
	free(origin);
	signednote_free(note);
	return bad;
}

static const char *c_audit(const struct facts *f, const struct events *e, const struct checklist_records *in,
			   char *detail, json_t *ev)
{
	size_t nproofs = json_array_size(json_object_get(in->proofs, "events")), unproved;
	bool no_checkpoint;
	size_t sigs = count_action(e, "signature.create") + count_action(e, "change.release");

	json_array_append_new(ev, json_string("audit/events.jsonl"));
	json_array_append_new(ev, json_string("audit/proofs.json"));
	json_array_append_new(ev, json_string("audit/checkpoint"));
	if (e->lines == 0 || e->malformed) {
		snprintf(detail, DETAIL_MAX, "%s", e->lines ? "an event line is not a JSON object" :
			 "the change has no audit events");
		return CHECKLIST_NOT_MET;
	}
	if (nproofs != e->lines) {
		snprintf(detail, DETAIL_MAX, "%zu events but %zu inclusion proofs", e->lines, nproofs);
		return CHECKLIST_NOT_MET;
	}
	if (count_action(e, "change.create") != 1 ||
	    count_action(e, "change.version") < json_array_size(f->versions) ||
	    sigs < json_array_size(f->signatures) ||
	    count_action(e, "change.deployment") + count_action(e, "change.deployment.mismatch") <
	    json_array_size(f->deployments)) {
		snprintf(detail, DETAIL_MAX, "the events do not cover every record: %zu change.create, %zu "
			 "change.version for %zu versions, %zu signature events for %zu signatures, %zu "
			 "change.deployment for %zu deployments", count_action(e, "change.create"),
			 count_action(e, "change.version"), json_array_size(f->versions), sigs,
			 json_array_size(f->signatures), count_action(e, "change.deployment"),
			 json_array_size(f->deployments));
		return CHECKLIST_NOT_MET;
	}
	if ((unproved = first_unproved(&no_checkpoint, in))) {
		if (no_checkpoint)
			snprintf(detail, DETAIL_MAX, "audit/checkpoint is missing or not a checkpoint");
		else
			snprintf(detail, DETAIL_MAX, "event line %zu does not hash to its recorded hash or its "
				 "inclusion proof does not lead to the checkpoint", unproved);
		return CHECKLIST_NOT_MET;
	}
	snprintf(detail, DETAIL_MAX, "%zu events, one for the ticket's creation and one for every version, "
		 "signature and deployment, each hashing to its recorded hash with an inclusion proof that "
		 "leads to the checkpoint", e->lines);
	return CHECKLIST_MET;
}

static const char *c_reauth(const struct facts *f, char *detail, json_t *ev)
{
	const json_t *s;
	size_t i, totp = 0, enrolled = 0;

	json_array_append_new(ev, json_string("change.json: signatures (reauthenticated_with, "
					      "second_factor_enrolled)"));
	json_array_append_new(ev, json_string("statements/signature-ID.dsse.json"));
	if (json_array_size(f->signatures) == 0) {
		snprintf(detail, DETAIL_MAX, "the change has no signatures");
		return CHECKLIST_NOT_MET;
	}
	json_array_foreach(f->signatures, i, s) {
		const char *how = jstr(s, "reauthenticated_with");
		bool second = !strcmp(how, "password+totp");

		if (!second && strcmp(how, "password")) {
			snprintf(detail, DETAIL_MAX, "signature %" JSON_INTEGER_FORMAT " records no re-authentication",
				 json_integer_value(json_object_get(s, "id")));
			return CHECKLIST_NOT_MET;
		}
		/* an enrolled signer must have given a one-time code as well */
		if (json_is_true(json_object_get(s, "second_factor_enrolled"))) {
			enrolled++;
			if (!second) {
				snprintf(detail, DETAIL_MAX, "signature %" JSON_INTEGER_FORMAT " by %.100s, enrolled "
					 "in one-time codes, was re-authenticated with the password alone",
					 json_integer_value(json_object_get(s, "id")), jstr(s, "signer"));
				return CHECKLIST_NOT_MET;
			}
		}
		if (second)
			totp++;
	}
	snprintf(detail, DETAIL_MAX, "every one of %zu signatures re-entered the password at signing; %zu "
		 "by signers enrolled in one-time codes, each with a code; %zu with a one-time code in all",
		 json_array_size(f->signatures), enrolled, totp);
	return CHECKLIST_MET;
}

static const char *c_emergency(const struct facts *f, char *detail, json_t *ev)
{
	const char *due = jstr(f->change, "retrospective_approval_due");

	json_array_append_new(ev, json_string("change.json: type, retrospective_approval_due, overdue"));
	json_array_append_new(ev, json_string("rule: retrospective-approval-required"));
	if (!f->emergency) {
		snprintf(detail, DETAIL_MAX, "a %.40s change, not an emergency", jstr(f->change, "type"));
		return CHECKLIST_NA;
	}
	if (!f->approval) {
		snprintf(detail, DETAIL_MAX, "emergency change without a retrospective approval (due %.40s)",
			 *due ? due : "unknown");
		return CHECKLIST_NOT_MET;
	}
	json_array_append_new(ev, sig_file(f->approval));
	if (!*due || strcmp(jstr(f->approval, "signed_at"), due) > 0) {
		snprintf(detail, DETAIL_MAX, "approved at %.40s, after its deadline %.40s",
			 jstr(f->approval, "signed_at"), *due ? due : "(none recorded)");
		return CHECKLIST_NOT_MET;
	}
	snprintf(detail, DETAIL_MAX, "approved retrospectively at %.40s, within its deadline %.40s",
		 jstr(f->approval, "signed_at"), due);
	return CHECKLIST_MET;
}

static void events_parse(struct events *e, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	e->list = json_array();
	while (data && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *x = json_loadb(p, n, 0, NULL);

		if (n) {
			e->lines++;
			if (!json_is_object(x))
				e->malformed = true;
			else
				json_array_append(e->list, x);
		}
		json_decref(x);
		p += n + 1;
	}
}

static void add(json_t *out, const char *id, const char *words, const char *result, const char *detail,
		json_t *evidence)
{
	json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "control", words, "result",
					     result, "detail", detail, "evidence", evidence));
}

int checklist_compute(json_t **out, const struct checklist_records *in)
{
	static const struct {
		const char *id, *words;
		control_fn fn;
	} simple[] = {
		{ "recorded", "Change recorded with reason, risk and rollback plan", c_recorded },
		{ "authorised", "Authorised before implementation, by someone other than the requester", c_authorised },
		{ "content", "The exact content: commits and trees", c_content },
		{ "independent-review", "Independent review: the approver contributed no content", c_review },
		{ "fat", "FAT passed on the approved tree, witnessed where required", c_fat },
		{ "approval", "Approval as an e-signature before deployment", c_approval },
		{ "deployed-approved", "Deployed tree equals approved tree (read-back where an agent exists)", c_deployed },
		{ "sat", "SAT passed on the deployed tree", c_sat },
		{ "released-tested", "Released tree equals tested tree", c_released },
	};
	struct facts f;
	struct events e = { 0 };
	json_t *list, *evidence;
	char detail[DETAIL_MAX];
	const char *result;
	size_t i;

	if (!json_is_object(in->change))
		return err_set(OTCM_EINVAL, "change", "the change is not a JSON object");
	facts_init(&f, in->change);
	events_parse(&e, in->events, in->events_len);
	list = json_array();
	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		evidence = json_array();
		result = simple[i].fn(&f, detail, evidence);
		add(list, simple[i].id, simple[i].words, result, detail, evidence);
	}
	evidence = json_array();
	result = c_timestamps(&f, &e, detail, evidence);
	add(list, "server-time", "Server timestamps", result, detail, evidence);
	evidence = json_array();
	result = c_audit(&f, &e, in, detail, evidence);
	add(list, "audit-trail", "Audit trail complete (inclusion proofs verify)", result, detail, evidence);
	evidence = json_array();
	result = c_reauth(&f, detail, evidence);
	add(list, "reauthentication", "Signers re-authenticated (with a second factor where enrolled)", result,
	    detail, evidence);
	evidence = json_array();
	result = c_emergency(&f, detail, evidence);
	add(list, "emergency", "Emergency handling: retrospective approval in time", result, detail, evidence);
	json_decref(e.list);
	*out = list;
	return 0;
}

int checklist_effectiveness(json_t **out, const json_t *changes)
{
	struct checklist_records none = { 0 };
	json_t *blank, *controls = NULL, *list, *row;
	const json_t *ch, *ctl;
	size_t i, j, k;
	int rc;

	if (!json_is_array(changes))
		return err_set(OTCM_EINVAL, "changes", "the changes are not a JSON array");
	/* the controls in their fixed order, from the checklist of an empty ticket */
	blank = json_object();
	none.change = blank;
	rc = checklist_compute(&controls, &none);
	json_decref(blank);
	if (rc)
		return rc;
	list = json_array();
	json_array_foreach(controls, i, ctl) {
		const char *id = jstr(ctl, "id");
		json_int_t met = 0, not_met = 0, na = 0;
		json_t *exceptions = json_array();

		json_array_foreach(changes, j, ch) {
			const json_t *mine = NULL, *c;

			json_array_foreach(json_object_get(ch, "checklist"), k, c)
				if (!strcmp(jstr(c, "id"), id))
					mine = c;
			if (mine && !strcmp(jstr(mine, "result"), CHECKLIST_MET)) {
				met++;
			} else if (mine && !strcmp(jstr(mine, "result"), CHECKLIST_NA)) {
				na++;
			} else {
				not_met++;
				json_array_append_new(exceptions, json_pack("{s:s, s:s}", "key", jstr(ch, "key"),
					"detail", mine ? jstr(mine, "detail") : "the change's checklist lacks this control"));
			}
		}
		row = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "id", id, "control", jstr(ctl, "control"), "met",
				met, "not_met", not_met, "not_applicable", na, "exceptions", exceptions);
		json_array_append_new(list, row);
	}
	json_decref(controls);
	*out = list;
	return 0;
}
