/* domain/readbacks.c - device read-backs, their comparison and states; see readbacks.h. */
#include "domain/readbacks.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/cron.h"
#include "domain/inventory.h"
#include "domain/version_diff.h"
#include "storage/readbacks.h"
#include "storage/repo.h"
#include "storage/users.h"

#define POLL_SECONDS 30
#define JOBS_PER_POLL 200
#define MAX_ERROR_TEXT 4096
#define MAX_STDERR_TEXT 16384

/* ---- input ---------------------------------------------------------- */

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/*
 * A read-back's files, decoded and checked against their stated SHA-256.
 * An agent may leave out every file's content: when the digests are those
 * of its previous read-back the server needs none (metadata only), and
 * otherwise it asks for them (content_missing).
 */
struct rb_files {
	struct repo_file *v;
	size_t n;
	json_t *manifest;     /* {path: sha256}, owned */
	bool content_missing; /* no file carried its content */
};

static void rb_files_release(struct rb_files *f)
{
	json_decref(f->manifest);
	f->manifest = NULL;
}

static int decode_files(struct rb_files *out, const struct dom *d, const json_t *files)
{
	size_t i, n = json_array_size(files);
	const json_t *f;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(files))
		return err_set(OTCM_EINVAL, "files", "'files' must be an array of {path, sha256, content}");
	if (n > DOM_READBACK_MAX_FILES)
		return err_set(OTCM_ETOOBIG, "files", "a read-back carries at most %d files",
			       DOM_READBACK_MAX_FILES);
	out->v = arena_alloc(d->arena, (n ? n : 1) * sizeof(*out->v));
	out->manifest = json_object();
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *sha = json_string_value(json_object_get(f, "sha256"));
		const char *b64 = json_string_value(json_object_get(f, "content"));
		char have[2 * CRYPTO_SHA256_LEN + 1];
		unsigned char *data;
		size_t cap, len = 0;
		int rc;

		if (!json_is_object(f) || !path || !sha)
			return err_set(OTCM_EINVAL, "files", "files[%zu] needs path, sha256 and content", i);
		if (!b64 && json_object_get(f, "content"))
			return err_set(OTCM_EINVAL, "files", "files[%zu].content must be base64 text", i);
		if (i > 0 && !b64 != out->content_missing)
			return err_set(OTCM_EINVAL, "files",
				       "files[%zu]: give the content of every file or of none", i);
		out->content_missing = !b64;
		if ((rc = repo_check_path(path)))
			return err_set(OTCM_EINVAL, "files", "files[%zu]: %s", i, err_message());
		if (!is_hex64(sha))
			return err_set(OTCM_EINVAL, "files", "files[%zu].sha256 must be 64 lowercase hex digits", i);
		if (json_object_get(out->manifest, path))
			return err_set(OTCM_EINVAL, "files", "files[%zu]: '%s' is listed twice", i, path);
		json_object_set_new(out->manifest, path, json_string(sha));
		if (!b64)
			continue;
		cap = strlen(b64) / 4 * 3 + 3;
		if ((uint64_t)cap > d->cfg->max_upload_bytes)
			return err_set(OTCM_ETOOBIG, "files", "files[%zu] is larger than --max-upload-bytes", i);
		data = arena_alloc(d->arena, cap);
		if (crypto_unbase64(data, cap, &len, b64))
			return err_set(OTCM_EINVAL, "files", "files[%zu].content is not base64", i);
		crypto_sha256_hex(have, data, len);
		if (strcmp(have, sha))
			return err_set(OTCM_EINVAL, "files",
				       "files[%zu] ('%s'): its content does not have the SHA-256 it states", i,
				       path);
		out->v[i].path = path;
		out->v[i].data = data;
		out->v[i].len = len;
	}
	out->n = n;
	return 0;
}

/* Validated scalar fields of a read-back. */
struct rb_input {
	const char *asset, *collector, *error, *stderr_text;
	int64_t seq, duration_ms;
	int exit_status;
	bool ok;
	const json_t *identity, *files;
};

static int parse_input(struct rb_input *out, const json_t *in)
{
	static const char *const allowed[] = { "asset", "seq", "collector", "ok", "duration_ms", "error",
					       "exit_status", "stderr", "identity", "files", NULL };
	const json_t *v;

	memset(out, 0, sizeof(*out));
	out->exit_status = INT32_MIN;
	out->duration_ms = -1;
	if (!json_is_object(in))
		return err_set(OTCM_EINVAL, "body", "a read-back is a JSON object");
	if (json_only_fields((json_t *)in, allowed))
		return OTCM_EINVAL;
	out->asset = json_string_value(json_object_get(in, "asset"));
	if (!out->asset || !*out->asset)
		return err_set(OTCM_EINVAL, "asset", "'asset' (the asset's path) is required");
	v = json_object_get(in, "seq");
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return err_set(OTCM_EINVAL, "seq", "'seq' must be a positive whole number");
	out->seq = json_integer_value(v);
	out->collector = json_string_value(json_object_get(in, "collector"));
	if (!out->collector || (strcmp(out->collector, "folder") && strcmp(out->collector, "command") &&
				strcmp(out->collector, "opcua")))
		return err_set(OTCM_EINVAL, "collector", "'collector' must be folder, command or opcua");
	v = json_object_get(in, "ok");
	if (!json_is_boolean(v))
		return err_set(OTCM_EINVAL, "ok", "'ok' must be true or false");
	out->ok = json_is_true(v);
	v = json_object_get(in, "duration_ms");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return err_set(OTCM_EINVAL, "duration_ms", "'duration_ms' must be a whole number >= 0");
		out->duration_ms = json_integer_value(v);
	}
	v = json_object_get(in, "exit_status");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < -255 || json_integer_value(v) > 255)
			return err_set(OTCM_EINVAL, "exit_status", "'exit_status' must be -255..255");
		out->exit_status = (int)json_integer_value(v);
	}
	v = json_object_get(in, "error");
	if (v && !json_is_null(v) && (!json_is_string(v) || json_string_length(v) > MAX_ERROR_TEXT))
		return err_set(OTCM_EINVAL, "error", "'error' must be text of at most %d bytes", MAX_ERROR_TEXT);
	out->error = json_string_value(v);
	v = json_object_get(in, "stderr");
	if (v && !json_is_null(v) && (!json_is_string(v) || json_string_length(v) > MAX_STDERR_TEXT))
		return err_set(OTCM_EINVAL, "stderr", "'stderr' must be text of at most %d bytes",
			       MAX_STDERR_TEXT);
	out->stderr_text = json_string_value(v);
	v = json_object_get(in, "identity");
	if (v && !json_is_null(v)) {
		const char *k;
		json_t *x;

		if (!json_is_object(v) || json_object_size(v) > 32)
			return err_set(OTCM_EINVAL, "identity", "'identity' must be an object of at most 32 texts");
		json_object_foreach((json_t *)v, k, x)
			if (!json_is_string(x) || json_string_length(x) > 256 || strlen(k) > 64)
				return err_set(OTCM_EINVAL, "identity", "identity.%.64s must be text of at most 256 bytes", k);
		out->identity = v;
	}
	out->files = json_object_get(in, "files");
	if (out->ok && !out->files)
		return err_set(OTCM_EINVAL, "files", "a good read-back carries its files");
	if (!out->ok && out->files && json_array_size(out->files))
		return err_set(OTCM_EINVAL, "files", "a failed read-back carries no files");
	if (!out->ok && !out->error)
		return err_set(OTCM_EINVAL, "error", "a failed read-back says why in 'error'");
	return 0;
}

/* The first of `names` the identity holds, or NULL. */
static const char *identity_field(const json_t *identity, const char *const *names)
{
	for (; *names; names++) {
		const char *v = json_string_value(json_object_get(identity, *names));

		if (v && *v)
			return v;
	}
	return NULL;
}

/*
 * The inventory a device's identity observes.  Collectors name fields as
 * OPC UA does (manufacturer, model, serial_number, firmware revision) or
 * as the inventory does; both are read.
 */
static void identity_observation(struct inv_observation *out, const json_t *identity)
{
	static const char *const vendor[] = { "vendor", "manufacturer", NULL };
	static const char *const model[] = { "model", NULL };
	static const char *const firmware[] = { "firmware", "firmware_revision", "software_revision", NULL };
	static const char *const serial[] = { "serial_number", NULL };
	static const char *const order[] = { "order_number", "product_code", NULL };

	memset(out, 0, sizeof(*out));
	out->vendor = identity_field(identity, vendor);
	out->model = identity_field(identity, model);
	out->firmware = identity_field(identity, firmware);
	out->serial_number = identity_field(identity, serial);
	out->order_number = identity_field(identity, order);
}

/* ---- comparison ----------------------------------------------------- */

/* Does a normalisation rule allow this difference?  (rule: {path, object?}) */
static bool rule_allows(const json_t *rules, const char *path, const char *object)
{
	const json_t *rule;
	size_t i;

	json_array_foreach(rules, i, rule) {
		const char *rp = json_string_value(json_object_get(rule, "path"));
		const char *ro = json_string_value(json_object_get(rule, "object"));

		if (!rp || fnmatch(rp, path, 0) != 0)
			continue;
		if (!ro && !object)
			return true;
		if (ro && object && fnmatch(ro, object, 0) == 0)
			return true;
	}
	return false;
}

/*
 * Apply the normalisation rules to a file list of version_diff_files():
 * drop whole files a rule allows and changes a rule allows; a file with
 * a semantic diff whose every change is allowed drops too.  The allowed
 * ones are listed in *out_allowed.  Returns the differences that remain.
 */
static json_t *normalise(json_t **out_allowed, const json_t *files, const json_t *rules)
{
	json_t *left = json_array(), *allowed = json_array(), *f;
	size_t i;

	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		json_t *sem = json_object_get(f, "semantic");
		json_t *changes = json_object_get(sem, "changes");
		json_t *kept, *ch;
		size_t j;

		if (!path)
			path = "";
		if (rule_allows(rules, path, NULL)) {
			json_array_append_new(allowed, json_pack("{s:s,s:s}", "path", path, "what", "file"));
			continue;
		}
		if (!json_is_array(changes) || json_array_size(changes) == 0) {
			json_array_append(left, f);
			continue;
		}
		kept = json_array();
		json_array_foreach(changes, j, ch) {
			const char *obj = json_string_value(json_object_get(ch, "path"));

			if (obj && rule_allows(rules, path, obj))
				json_array_append_new(allowed, json_pack("{s:s,s:s}", "path", path, "what", obj));
			else
				json_array_append(kept, ch);
		}
		if (json_array_size(kept) == 0) {
			json_decref(kept);
			continue;
		}
		f = json_deep_copy(f);
		json_object_set_new(json_object_get(f, "semantic"), "changes", kept);
		json_array_append_new(left, f);
	}
	*out_allowed = allowed;
	return left;
}

/* What the newest read-back is compared with, and the answer. */
struct rb_compare {
	const char *state;
	char released[REPO_OID_HEX];   /* main when compared, "" when none */
	char pending[32];              /* the change whose tree the device holds, "" */
	json_t *comparison;            /* owned */
};

static int compare(struct rb_compare *out, const struct dom *d, struct db_conn *c, struct repo *r,
		   int64_t asset, const char *commit, const char *tree, const json_t *settings,
		   const char *prev_commit)
{
	json_t *main_info = NULL, *files = NULL, *left = NULL, *allowed = NULL, *since = NULL;
	const char *main_tree = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->comparison = json_object();
	rc = repo_ref_get(out->released, r, "refs/heads/main");
	if (rc == OTCM_ENOTFOUND) {
		out->released[0] = '\0';
		rc = 0;
	}
	if (rc)
		goto out;
	if (out->released[0]) {
		if ((rc = repo_commit_info(&main_info, r, out->released)))
			goto out;
		main_tree = json_string_value(json_object_get(main_info, "tree"));
	}
	json_object_set_new(out->comparison, "released_commit",
			    out->released[0] ? json_string(out->released) : json_null());
	json_object_set_new(out->comparison, "released_tree", main_tree ? json_string(main_tree) : json_null());
	if ((rc = readbacks_pending_change(out->pending, c, asset, tree)))
		goto out;
	/* equal trees short-circuit: no diff is needed to know they are equal */
	if (main_tree && strcmp(main_tree, tree) == 0) {
		out->state = "in_sync";
		json_object_set_new(out->comparison, "equal", json_true());
	} else if (out->pending[0]) {
		out->state = "pending_release";
		json_object_set_new(out->comparison, "pending_change", json_string(out->pending));
	} else {
		if ((rc = version_diff_files(&files, NULL, r, out->released[0] ? out->released : NULL,
					     commit, true)))
			goto out;
		left = normalise(&allowed, files, json_object_get(settings, "normalise"));
		out->state = json_array_size(left) ? "drift" : "in_sync";
		json_object_set_new(out->comparison, "equal", json_false());
		json_object_set_new(out->comparison, "summary", version_diff_summary(left));
		json_object_set(out->comparison, "files", left);
		json_object_set(out->comparison, "normalised", allowed);
		if (!out->released[0])
			json_object_set_new(out->comparison, "why",
					    json_string("the asset has no released version to compare with"));
	}
	if (prev_commit && strcmp(prev_commit, commit)) {
		json_t *pf = NULL;

		if ((rc = version_diff_files(&pf, NULL, r, prev_commit, commit, false)))
			goto out;
		since = json_array();
		for (size_t i = 0; i < json_array_size(pf); i++) {
			json_t *f = json_array_get(pf, i);

			json_array_append_new(since, json_pack("{s:O,s:O}", "path", json_object_get(f, "path"),
							       "status", json_object_get(f, "status")));
		}
		json_decref(pf);
		json_object_set_new(out->comparison, "since_previous", since);
	}
out:
	json_decref(main_info);
	json_decref(files);
	json_decref(left);
	json_decref(allowed);
	return rc;
}

/* ---- recording ------------------------------------------------------ */

static int asset_text(char out[24], int64_t id)
{
	snprintf(out, 24, "%" PRId64, id);
	return 0;
}

/*
 * The next run of cron expression `expr` after now, as RFC 3339 text
 * (domain/cron.h: five fields, UTC).  OTCM_EINVAL naming "cron".
 */
static int cron_due(char out[TIME_RFC3339_LEN], const char *expr)
{
	struct cron cr;
	int64_t next = 0;
	int rc;

	if ((rc = cron_parse(&cr, expr)) || (rc = cron_next(&next, &cr, time_now_us() / 1000000)))
		return rc;
	time_format_rfc3339(out, next * 1000000);
	return 0;
}

/*
 * One read-back in the caller's transaction: `via` "agent" or "import",
 * by agent `agent_id` named `agent_name`.  *out gets the record.
 */
static int record_one(json_t **out, const struct dom *d, struct db_conn *c, int64_t agent_id,
		      const char *agent_name, const char *via, const json_t *in)
{
	struct rb_input ri;
	struct rb_files files = { 0 };
	struct rb_compare cmp = { 0 };
	struct inv_observation obs;
	struct readback_row row;
	struct repo *r = NULL;
	json_t *settings = NULL, *prev = NULL, *after = NULL, *rec = NULL;
	char commit[REPO_OID_HEX] = "", tree[REPO_OID_HEX] = "", head[REPO_OID_HEX] = "";
	char ref[128], read_at[40], id_text[24], asset_id_text[24], due[TIME_RFC3339_LEN];
	const char *prev_commit = NULL, *comparison_text = NULL, *cron;
	char *files_text = NULL, *identity_text = NULL, *cmp_text = NULL;
	int64_t asset = 0, id = 0, dep = 0;
	const json_t *agent_of;
	bool unchanged = false;
	int rc;

	if ((rc = parse_input(&ri, in)))
		return rc;
	if (ri.identity) {
		identity_observation(&obs, ri.identity);
		if ((rc = dom_inventory_check(&obs)))
			return err_set(rc, "identity", "identity: %s", err_message());
	}
	/* a retry of a read-back already recorded gets the first answer */
	rc = readbacks_by_seq(&rec, c, agent_id, via, ri.seq);
	if (rc == 0 && strcmp(json_string_value(json_object_get(rec, "asset")), ri.asset)) {
		json_decref(rec);
		return err_set(OTCM_ECONFLICT, "seq",
			       "the agent sent read-back %" PRId64 " before, for another asset", ri.seq);
	}
	if (rc == 0) {
		json_object_set_new(rec, "duplicate", json_true());
		*out = rec;
		return 0;
	}
	if (rc != OTCM_ENOTFOUND)
		return rc;
	err_clear();
	if (ri.ok && (rc = decode_files(&files, d, ri.files)))
		goto out;
	if ((rc = readbacks_asset_by_path(&asset, c, ri.asset)) ||
	    (rc = readbacks_settings_get(&settings, c, asset)))
		goto out;
	asset_text(asset_id_text, asset);
	agent_of = json_object_get(settings, "agent_id");
	if (!json_is_integer(agent_of) || json_integer_value(agent_of) != agent_id) {
		rc = err_set(OTCM_EFORBIDDEN, "asset", "asset '%s' is not read back by agent '%s'", ri.asset,
			     agent_name);
		err_set_rule("agent-not-assigned");
		goto out;
	}
	if (json_is_integer(json_object_get(settings, "due_deployment")))
		dep = json_integer_value(json_object_get(settings, "due_deployment"));
	snprintf(ref, sizeof(ref), "refs/readback/%s", agent_name);
	if ((rc = repo_open(&r, c, asset)))
		goto out;
	memset(&row, 0, sizeof(row));
	row.state = "read_failed";
	if (ri.ok) {
		rc = readbacks_previous(&prev, c, asset, agent_name);
		if (rc && rc != OTCM_ENOTFOUND)
			goto out;
		err_clear();
		rc = 0;
		if (prev)
			prev_commit = json_string_value(json_object_get(prev, "commit"));
		unchanged = prev && json_equal(json_object_get(prev, "files"), files.manifest);
		if (!unchanged && files.content_missing) {
			/* not a refusal: the agent sends the same read-back again with its files */
			rc = err_set(OTCM_ECONFLICT, "files",
				     "content-required: the files differ from the previous read-back; "
				     "send them with their content");
			goto out;
		}
		if (unchanged) {
			/* the same files: the read-back keeps only its metadata */
			snprintf(commit, sizeof(commit), "%s", prev_commit);
			snprintf(tree, sizeof(tree), "%s", json_string_value(json_object_get(prev, "tree")));
		} else {
			struct repo_signature who = { agent_name,
						      arena_printf(d->arena, "%s@otcm.invalid", agent_name),
						      time_now_us() };
			char *msg = arena_printf(d->arena, "read-back of %s by %s (%s)\n", ri.asset,
						 agent_name, ri.collector);

			rc = repo_ref_get(head, r, ref);
			if (rc && rc != OTCM_ENOTFOUND)
				goto out;
			err_clear();
			if ((rc = repo_commit_files(commit, tree, r, head[0] ? head : NULL, files.v,
						    files.n, true, &who, msg)) ||
			    (rc = repo_ref_cas(r, ref, head[0] ? head : NULL, commit)))
				goto out;
		}
		/*
		 * unchanged against the same baseline, and no change approved
		 * since holds this tree: the comparison holds as it was
		 */
		if (unchanged && json_is_string(json_object_get(prev, "released_commit"))) {
			char main_now[REPO_OID_HEX] = "";

			rc = repo_ref_get(main_now, r, "refs/heads/main");
			if (rc && rc != OTCM_ENOTFOUND)
				goto out;
			err_clear();
			rc = 0;
			char pending[32] = "";

			if ((rc = readbacks_pending_change(pending, c, asset, tree)))
				goto out;
			if (!pending[0] &&
			    strcmp(main_now, json_string_value(json_object_get(prev, "released_commit"))) == 0 &&
			    strcmp(json_string_value(json_object_get(prev, "state")), "pending_release")) {
				cmp.state = strcmp(json_string_value(json_object_get(prev, "state")), "in_sync")
						    ? "drift" : "in_sync";
				snprintf(cmp.released, sizeof(cmp.released), "%s", main_now);
				cmp.comparison = json_incref(json_object_get(prev, "comparison"));
			}
		}
		if (!cmp.state && (rc = compare(&cmp, d, c, r, asset, commit, tree, settings,
						unchanged ? NULL : prev_commit)))
			goto out;
		row.state = cmp.state;
		row.commit = commit;
		row.tree = tree;
		row.released_commit = cmp.released[0] ? cmp.released : NULL;
		files_text = json_dumps(files.manifest, JSON_COMPACT | JSON_SORT_KEYS);
		cmp_text = json_dumps(cmp.comparison, JSON_COMPACT);
		comparison_text = cmp_text;
	}
	if (ri.identity)
		identity_text = json_dumps(ri.identity, JSON_COMPACT | JSON_SORT_KEYS);
	row.asset_id = asset;
	row.agent_id = agent_id;
	row.agent_seq = ri.seq;
	row.duration_ms = ri.duration_ms;
	row.deployment_id = dep;
	row.source = agent_name;
	row.via = via;
	row.collector = ri.collector;
	row.ok = ri.ok;
	row.unchanged = unchanged;
	row.error = ri.error;
	row.stderr_text = ri.stderr_text;
	row.exit_status = ri.exit_status;
	row.files = files_text;
	row.identity = identity_text;
	row.comparison = comparison_text;
	cron = json_string_value(json_object_get(settings, "cron"));
	if (cron && cron_due(due, cron)) {
		/* an expression stored before it was checked as strictly: no schedule, said in the log */
		log_msg(LOG_WARN, "asset %" PRId64 ": read-back schedule '%s' ignored: %s", asset, cron,
			err_message());
		err_clear();
		cron = NULL;
	}
	if ((rc = readbacks_insert(&id, read_at, c, &row)) ||
	    (rc = readbacks_schedule_next(c, asset, cron ? due : NULL)))
		goto out;
	snprintf(id_text, sizeof(id_text), "%" PRId64, id);
	/* what the device says it is moves the asset's inventory, with its history */
	if (ri.ok && ri.identity &&
	    (rc = dom_inventory_observe(d, c, asset_id_text, &obs, "readback", id_text)))
		goto out;
	/* jansson has no optional integer: the deployment is added only when there is one */
	after = json_pack("{s:I,s:I,s:s,s:s,s:s,s:b,s:s?,s:s?,s:b,s:s?,s:s}", "id", (json_int_t)id,
			  "asset_id", (json_int_t)asset, "asset", ri.asset, "agent", agent_name, "via", via,
			  "ok", ri.ok, "commit", row.commit, "tree", row.tree, "unchanged", unchanged,
			  "error", ri.error, "state", row.state);
	if (!after) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot describe read-back %" PRId64 " for the trail", id);
		goto out;
	}
	if (dep > 0)
		json_object_set_new(after, "deployment_id", json_integer((json_int_t)dep));
	if ((rc = dom_audit(d, c, ri.ok ? "readback.record" : "readback.failed", "asset", asset_id_text,
			    NULL, after, ri.ok ? NULL : ri.error)))
		goto out;
	if (ri.ok && strcmp(row.state, "drift") == 0 &&
	    !(unchanged && strcmp(json_string_value(json_object_get(prev, "state")), "drift") == 0)) {
		json_t *ev = json_pack("{s:I,s:s,s:s,s:s?,s:O*}", "readback_id", (json_int_t)id, "asset",
				       ri.asset, "tree", tree, "released_commit", row.released_commit,
				       "summary", json_object_get(cmp.comparison, "summary"));

		rc = dom_audit(d, c, "readback.drift", "asset", asset_id_text, NULL, ev,
			       "the device differs from the released version and from every approved change");
		json_decref(ev);
		if (rc)
			goto out;
	}
	if ((rc = readbacks_get(&rec, c, asset, id)))
		goto out;
	*out = rec;
	rec = NULL;
out:
	repo_free(r);
	rb_files_release(&files);
	json_decref(cmp.comparison);
	json_decref(settings);
	json_decref(prev);
	json_decref(after);
	json_decref(rec);
	free(files_text);
	free(identity_text);
	free(cmp_text);
	return rc;
}

/*
 * The agent's door: DOOR_AGENT only, so its answers never mix with a
 * person's, and with an API token only: an agent runs unattended on an
 * edge box with a token it can be given and have revoked on its own; a
 * password session of an agent user (somebody logged in with the agent's
 * password) is not the agent.
 */
static int agent_door(const struct dom *d)
{
	int rc;

	if (d->who->door != DOOR_AGENT) {
		rc = err_set(OTCM_EFORBIDDEN, NULL, "agents call in through /api/v1/agent/ only");
		err_set_rule("agent-door");
		return rc;
	}
	if (d->who->token_id == 0) {
		rc = err_set(OTCM_EAUTH, "Authorization",
			     "agents call in with an API token of role agent (Authorization: Bearer <token>); "
			     "a password session is not accepted here");
		err_set_rule("agent-token");
		return rc;
	}
	return 0;
}

/* `key` is a base64 Ed25519 public key; OTCM_EINVAL naming "public_key" when not. */
static int check_public_key(const char *key)
{
	unsigned char pub[CRYPTO_ED25519_PUB_LEN + 3];
	size_t len = 0;

	if (strlen(key) != 44 || crypto_unbase64(pub, sizeof(pub), &len, key) ||
	    len != CRYPTO_ED25519_PUB_LEN)
		return err_set(OTCM_EINVAL, "public_key",
			       "'public_key' must be a base64 Ed25519 public key (32 bytes), as "
			       "`otcm agent --key` prints it");
	return 0;
}

int dom_agent_poll(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const allowed[] = { "version", "hostname", "public_key", NULL };
	struct db_conn *c = NULL;
	json_t *jobs = NULL;
	const char *version = NULL, *host = NULL, *key = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_AGENT_POLL)))
		return rc;
	if ((rc = agent_door(d)))
		return dom_refused(d, NULL, "agent.poll.refused", "user", d->who->username, rc);
	if (in && !json_is_object(in))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if (in && json_only_fields((json_t *)in, allowed))
		return OTCM_EINVAL;
	version = json_string_value(json_object_get(in, "version"));
	host = json_string_value(json_object_get(in, "hostname"));
	key = json_string_value(json_object_get(in, "public_key"));
	if (version && strlen(version) > 64)
		return err_set(OTCM_EINVAL, "version", "'version' is at most 64 bytes");
	if (host && strlen(host) > 255)
		return err_set(OTCM_EINVAL, "hostname", "'hostname' is at most 255 bytes");
	if (key && (rc = check_public_key(key)))
		return rc;
	if ((rc = dom_begin(&c, d)) ||
	    (rc = readbacks_agent_touch(c, d->who->user_id, version, host)))
		goto out;
	if (key) {
		char have[64] = "";

		rc = readbacks_agent_key(have, c, d->who->user_id);
		if (rc && rc != OTCM_ENOTFOUND)
			goto out;
		err_clear();
		rc = 0;
		if (strcmp(have, key)) {
			json_t *after = json_pack("{s:s}", "public_key", key);

			rc = readbacks_agent_set_key(c, d->who->user_id, key);
			if (rc == 0)
				rc = dom_audit(d, c, "agent.key", "user", d->who->username, NULL, after,
					       "the agent's key for offline read-back files");
			json_decref(after);
			if (rc)
				goto out;
		}
	}
	if ((rc = readbacks_due(&jobs, c, d->who->user_id, JOBS_PER_POLL)) || (rc = dom_commit(c)))
		goto out;
	*out = json_pack("{s:s,s:o,s:i}", "agent", d->who->username, "jobs", jobs, "poll_seconds",
			 POLL_SECONDS);
	jobs = NULL;
out:
	json_decref(jobs);
	dom_end(c);
	return rc;
}

int dom_readback_record(json_t **out, const struct dom *d, const json_t *in)
{
	struct db_conn *c = NULL;
	const char *asset = json_string_value(json_object_get(in, "asset"));
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_RECORD)))
		return rc;
	if ((rc = agent_door(d)))
		return dom_refused(d, NULL, "readback.refused", "asset", asset, rc);
	if ((rc = dom_begin(&c, d)) ||
	    (rc = readbacks_agent_touch(c, d->who->user_id, NULL, NULL)) ||
	    (rc = record_one(out, d, c, d->who->user_id, d->who->username, "agent", in)) ||
	    (rc = dom_commit(c)))
		goto out;
out:
	if (rc)
		rc = dom_refused(d, &c, "readback.refused", "asset", asset, rc);
	dom_end(c);
	return rc;
}

int dom_readback_import(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const allowed[] = { "format", "agent", "readbacks", "signature", NULL };
	unsigned char pub[CRYPTO_ED25519_PUB_LEN + 3], sig[CRYPTO_ED25519_SIG_LEN + 3];
	const char *format, *agent, *sig64;
	const json_t *list, *item;
	struct db_conn *c = NULL;
	struct user u;
	json_t *signed_part = NULL, *done = NULL, *rec = NULL;
	char key64[64] = "", *text = NULL;
	size_t len = 0, i;
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_IMPORT)))
		return rc;
	if (!json_is_object(in))
		return err_set(OTCM_EINVAL, "body", "a read-back file is a JSON object");
	if (json_only_fields((json_t *)in, allowed))
		return OTCM_EINVAL;
	format = json_string_value(json_object_get(in, "format"));
	agent = json_string_value(json_object_get(in, "agent"));
	sig64 = json_string_value(json_object_get(in, "signature"));
	list = json_object_get(in, "readbacks");
	if (!format || strcmp(format, "otcm-readback/1"))
		return err_set(OTCM_EINVAL, "format", "'format' must be 'otcm-readback/1'");
	if (!agent)
		return err_set(OTCM_EINVAL, "agent", "'agent' (the agent's user name) is required");
	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 10000)
		return err_set(OTCM_EINVAL, "readbacks", "'readbacks' must be a list of 1 to 10000 read-backs");
	if (!sig64 || crypto_unbase64(sig, sizeof(sig), &len, sig64) || len != CRYPTO_ED25519_SIG_LEN)
		return err_set(OTCM_EINVAL, "signature", "'signature' must be a base64 Ed25519 signature");
	if ((rc = dom_begin(&c, d)))
		goto out;
	memset(&u, 0, sizeof(u));
	rc = users_by_name(&u, d->arena, c, agent, false);
	if (rc == 0 && strcmp(u.role, "agent") != 0)
		rc = OTCM_ENOTFOUND;
	if (rc == 0)
		rc = readbacks_agent_key(key64, c, u.id);
	if (rc == OTCM_ENOTFOUND) {
		rc = err_set(OTCM_ERULE, "agent", "agent '%.64s' has registered no key to check its file with",
			     agent);
		err_set_rule("readback-signature");
		goto out;
	}
	if (rc)
		goto out;
	signed_part = json_deep_copy(in);
	json_object_del(signed_part, "signature");
	text = json_dumps(signed_part, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || crypto_unbase64(pub, sizeof(pub), &len, key64) || len != CRYPTO_ED25519_PUB_LEN ||
	    crypto_ed25519_verify(pub, text, strlen(text), sig) != 0) {
		rc = err_set(OTCM_ERULE, "signature",
			     "the file's signature does not verify with agent '%.64s''s key: it was changed "
			     "after the agent wrote it, or another key signed it", agent);
		err_set_rule("readback-signature");
		goto out;
	}
	done = json_array();
	json_array_foreach(list, i, item) {
		if ((rc = record_one(&rec, d, c, u.id, u.username, "import", item))) {
			err_set(rc, err_field(), "readbacks[%zu]: %s", i, err_message());
			goto out;
		}
		json_array_append_new(done, rec);
		rec = NULL;
	}
	if ((rc = dom_commit(c)))
		goto out;
	*out = json_pack("{s:s,s:o}", "agent", u.username, "imported", done);
	done = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "readback.import.refused", "user", agent, rc);
	dom_end(c);
	json_decref(signed_part);
	json_decref(done);
	json_decref(rec);
	free(text);
	return rc;
}

/* ---- reading -------------------------------------------------------- */

/* The state of one row of readbacks_states(); may open the asset's repository. */
static int state_of(const char **out, const char **out_note, struct db_conn *c, const json_t *row)
{
	const json_t *last = json_object_get(row, "last"), *good = json_object_get(row, "good");
	const char *main_commit = json_string_value(json_object_get(row, "main_commit"));
	const char *compared = json_string_value(json_object_get(good, "released_commit"));
	const char *stored = json_string_value(json_object_get(good, "state"));
	const char *tree = json_string_value(json_object_get(good, "tree"));
	bool pending = json_is_string(json_object_get(row, "pending_change"));
	json_int_t age = json_integer_value(json_object_get(good, "age_seconds"));
	json_int_t max_age = json_integer_value(json_object_get(row, "max_age_seconds"));
	struct repo *r = NULL;
	json_t *info = NULL;
	int rc = 0;

	*out = "drift";
	*out_note = NULL;
	if (!json_is_object(last)) {
		*out = "never_read";
		return 0;
	}
	if (!json_is_true(json_object_get(last, "ok"))) {
		*out = "read_failed";
		return 0;
	}
	if (age > max_age) {
		*out = "stale";
		return 0;
	}
	if (main_commit && compared && strcmp(main_commit, compared) == 0) {
		*out = pending ? "pending_release" : strcmp(stored, "in_sync") == 0 ? "in_sync" : "drift";
		return 0;
	}
	/* main moved since the comparison (a release): compare the trees again */
	if (main_commit) {
		if ((rc = repo_open(&r, c, json_integer_value(json_object_get(row, "asset_id")))) ||
		    (rc = repo_commit_info(&info, r, main_commit)))
			goto out;
		if (tree && strcmp(json_string_value(json_object_get(info, "tree")), tree) == 0) {
			*out = "in_sync";
			goto out;
		}
	}
	*out = pending ? "pending_release" : "drift";
	if (!pending && strcmp(stored, "in_sync") == 0)
		*out_note = "the released version changed since this read-back: read it back again";
out:
	json_decref(info);
	repo_free(r);
	return rc;
}

int dom_readback_states(json_t **out, const struct dom *d, const char *prefix, bool with_diffs)
{
	struct db_conn *c = NULL;
	json_t *rows = NULL, *items = NULL, *counts = NULL, *row;
	size_t i;
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_READ)) || (rc = dom_conn(&c, d)))
		return rc;
	if ((rc = readbacks_states(&rows, c, prefix && *prefix ? prefix : NULL)))
		goto out;
	items = json_array();
	counts = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "in_sync", 0, "pending_release", 0, "drift", 0,
			   "read_failed", 0, "stale", 0, "never_read", 0);
	json_array_foreach(rows, i, row) {
		const json_t *last = json_object_get(row, "last"), *good = json_object_get(row, "good");
		const char *state = NULL, *note = NULL;

		if ((rc = state_of(&state, &note, c, row)))
			goto out;
		json_object_set_new(counts, state,
				    json_integer(json_integer_value(json_object_get(counts, state)) + 1));
		json_array_append_new(items, json_pack(
			"{s:O,s:O,s:O,s:s,s:O,s:O*,s:O*,s:O*,s:O*,s:O*,s:O,s:s?}",
			"asset_id", json_object_get(row, "asset_id"), "path", json_object_get(row, "path"),
			"type", json_object_get(row, "type"), "state", state,
			"agent", json_object_get(row, "agent"),
			"last_read_at", json_object_get(last, "read_at"),
			"last_good_at", json_object_get(good, "read_at"),
			"error", json_is_true(json_object_get(last, "ok")) ? NULL : json_object_get(last, "error"),
			"readback_id", json_object_get(good, "id"),
			"pending_change", json_object_get(row, "pending_change"),
			"max_age_seconds", json_object_get(row, "max_age_seconds"), "note", note));
		if (with_diffs && strcmp(state, "drift") == 0 && json_is_integer(json_object_get(good, "id"))) {
			json_t *rec = NULL;

			if ((rc = readbacks_get(&rec, c, json_integer_value(json_object_get(row, "asset_id")),
						json_integer_value(json_object_get(good, "id")))))
				goto out;
			json_object_set(json_array_get(items, json_array_size(items) - 1), "drift_files",
					json_object_get(json_object_get(rec, "comparison"), "files"));
			json_decref(rec);
		}
	}
	*out = json_pack("{s:o,s:o}", "items", items, "counts", counts);
	items = counts = NULL;
out:
	json_decref(rows);
	json_decref(items);
	json_decref(counts);
	dom_end(c);
	return rc;
}

int dom_readback_list(json_t **out, const struct dom *d, int64_t asset, unsigned limit)
{
	struct db_conn *c = NULL;
	json_t *s = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_READ)) || (rc = dom_conn(&c, d)))
		return rc;
	if ((rc = readbacks_settings_get(&s, c, asset)) == 0)
		rc = readbacks_list(out, c, asset, limit ? limit : 50);
	if (rc == OTCM_ENOTFOUND)
		err_set(rc, "id", "no asset %" PRId64, asset);
	json_decref(s);
	dom_end(c);
	return rc;
}

int dom_readback_read(json_t **out, const struct dom *d, int64_t asset, int64_t id)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_READ)) || (rc = dom_conn(&c, d)))
		return rc;
	rc = readbacks_get(out, c, asset, id);
	if (rc == OTCM_ENOTFOUND)
		err_set(rc, "readback", "asset %" PRId64 " has no read-back %" PRId64, asset, id);
	dom_end(c);
	return rc;
}

int dom_readback_archive(const void **out, size_t *out_len, const struct dom *d, int64_t asset,
			 int64_t id, const char *format)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	json_t *rec = NULL;
	struct buf b = BUF_INIT;
	const char *commit;
	char *data;
	size_t len = 0;
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_READ)))
		return rc;
	if (!format || !*format)
		format = "zip";
	if (strcmp(format, "zip") && strcmp(format, "tar"))
		return err_set(OTCM_EINVAL, "format", "format must be 'zip' or 'tar'");
	if ((rc = dom_conn(&c, d)))
		return rc;
	rc = readbacks_get(&rec, c, asset, id);
	if (rc == OTCM_ENOTFOUND)
		err_set(rc, "readback", "asset %" PRId64 " has no read-back %" PRId64, asset, id);
	if (rc)
		goto out;
	commit = json_string_value(json_object_get(rec, "commit"));
	if (!commit) {
		rc = err_set(OTCM_ENOTFOUND, "readback", "read-back %" PRId64 " failed: it has no files", id);
		goto out;
	}
	buf_init(&b, (size_t)d->cfg->max_upload_bytes * 2);
	if ((rc = repo_open(&r, c, asset)) || (rc = repo_archive(&b, r, commit, format)))
		goto out;
	data = buf_detach(&b, &len);
	if (data)
		arena_on_free(d->arena, free, data);
	*out = data ? data : "";
	*out_len = len;
out:
	buf_release(&b);
	repo_free(r);
	json_decref(rec);
	dom_end(c);
	return rc;
}

int dom_readback_settings(json_t **out, const struct dom *d, int64_t asset)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_READ)) || (rc = dom_conn(&c, d)))
		return rc;
	rc = readbacks_settings_get(out, c, asset);
	if (rc == OTCM_ENOTFOUND)
		err_set(rc, "id", "no asset %" PRId64, asset);
	dom_end(c);
	return rc;
}

/*
 * The settings `in` asks for, checked, as the row's fields in *out (a new
 * object) with the next scheduled run in `due` ("" when none).  `in` may
 * hold "prefix" too when `group` (a whole site, area or line).
 */
static int settings_from(json_t **out, char due[TIME_RFC3339_LEN], const json_t *in, bool group)
{
	static const char *const allowed[] = { "agent", "interval_seconds", "daily_at", "cron",
					       "after_deploy", "max_age_seconds", "normalise", NULL };
	static const char *const allowed_group[] = { "prefix", "agent", "interval_seconds", "daily_at",
						     "cron", "after_deploy", "max_age_seconds",
						     "normalise", NULL };
	json_t *s = NULL;
	const json_t *v, *rule;
	size_t i;
	int rc = 0;

	due[0] = '\0';
	if (!json_is_object(in))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if (json_only_fields((json_t *)in, group ? allowed_group : allowed))
		return OTCM_EINVAL;
	s = json_object();
	v = json_object_get(in, "interval_seconds");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 60 || json_integer_value(v) > 31622400) {
			rc = err_set(OTCM_EINVAL, "interval_seconds", "'interval_seconds' must be 60..31622400");
			goto out;
		}
		json_object_set(s, "interval_seconds", (json_t *)v);
	}
	v = json_object_get(in, "daily_at");
	if (v && !json_is_null(v)) {
		unsigned h, m;
		const char *t = json_string_value(v);

		if (!t || strlen(t) != 5 || sscanf(t, "%2u:%2u", &h, &m) != 2 || h > 23 || m > 59) {
			rc = err_set(OTCM_EINVAL, "daily_at", "'daily_at' must be HH:MM (UTC)");
			goto out;
		}
		json_object_set(s, "daily_at", (json_t *)v);
	}
	v = json_object_get(in, "cron");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || (rc = cron_due(due, json_string_value(v))))
			goto out_bad_cron;
		if (json_object_get(s, "daily_at") || json_object_get(s, "interval_seconds")) {
			rc = err_set(OTCM_EINVAL, "cron", "a schedule is an interval, a daily time or a cron "
				     "expression: give one of 'interval_seconds', 'daily_at' and 'cron'");
			goto out;
		}
		json_object_set(s, "cron", (json_t *)v);
	}
	if (json_object_get(s, "interval_seconds") && json_object_get(s, "daily_at")) {
		rc = err_set(OTCM_EINVAL, "interval_seconds",
			     "a schedule is an interval, a daily time or a cron expression, not two of them");
		goto out;
	}
	v = json_object_get(in, "after_deploy");
	if (v) {
		if (!json_is_boolean(v)) {
			rc = err_set(OTCM_EINVAL, "after_deploy", "'after_deploy' must be true or false");
			goto out;
		}
		json_object_set(s, "after_deploy", (json_t *)v);
	}
	v = json_object_get(in, "max_age_seconds");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 31622400) {
			rc = err_set(OTCM_EINVAL, "max_age_seconds", "'max_age_seconds' must be 1..31622400");
			goto out;
		}
		json_object_set(s, "max_age_seconds", (json_t *)v);
	}
	v = json_object_get(in, "normalise");
	if (v) {
		if (!json_is_array(v) || json_array_size(v) > 100) {
			rc = err_set(OTCM_EINVAL, "normalise", "'normalise' must be a list of at most 100 rules");
			goto out;
		}
		json_array_foreach(v, i, rule) {
			const char *p = json_string_value(json_object_get(rule, "path"));
			const json_t *o = json_object_get(rule, "object");
			const char *why = json_string_value(json_object_get(rule, "reason"));

			if (!json_is_object(rule) || !p || !*p || strlen(p) > 255 ||
			    (o && (!json_is_string(o) || !*json_string_value(o))) || !why || !*why ||
			    json_object_size(rule) > 3u) {
				rc = err_set(OTCM_EINVAL, "normalise",
					     "normalise[%zu] must be {path: glob, object?: glob, reason: text}", i);
				goto out;
			}
		}
		json_object_set(s, "normalise", (json_t *)v);
	}
	*out = s;
	s = NULL;
	goto out;
out_bad_cron:
	if (!rc)
		rc = err_set(OTCM_EINVAL, "cron", "'cron' must be text");
out:
	json_decref(s);
	return rc;
}

/*
 * Apply checked settings `checked` (settings_from's) to `asset` in c's
 * transaction, with the agent `in` names, and audit it; *out gets the
 * settings after.
 */
static int configure_one(json_t **out, const struct dom *d, struct db_conn *c, int64_t asset,
			 const json_t *in, const json_t *checked, const char *due)
{
	json_t *before = NULL, *s = json_deep_copy(checked), *after = NULL;
	const json_t *v;
	char id_text[24];
	int rc;

	if ((rc = readbacks_settings_get(&before, c, asset)))
		goto out;
	v = json_object_get(in, "agent");
	if (v && !json_is_null(v)) {
		struct user u;

		memset(&u, 0, sizeof(u));
		if (!json_is_string(v)) {
			rc = err_set(OTCM_EINVAL, "agent", "'agent' must be a user name of role agent, or null");
			goto out;
		}
		rc = users_by_name(&u, d->arena, c, json_string_value(v), false);
		if (rc == OTCM_ENOTFOUND || (rc == 0 && strcmp(u.role, "agent") != 0)) {
			rc = err_set(OTCM_EINVAL, "agent", "'%.64s' is not a user of role agent",
				     json_string_value(v));
			goto out;
		}
		if (rc)
			goto out;
		json_object_set_new(s, "agent_id", json_integer(u.id));
	} else if (!v && json_is_integer(json_object_get(before, "agent_id"))) {
		json_object_set(s, "agent_id", json_object_get(before, "agent_id"));
	}
	if ((rc = readbacks_settings_put(c, asset, s, due[0] ? due : NULL)) ||
	    (rc = readbacks_settings_get(&after, c, asset)))
		goto out;
	snprintf(id_text, sizeof(id_text), "%" PRId64, asset);
	if ((rc = dom_audit(d, c, "readback.settings", "asset", id_text, before, after, NULL)))
		goto out;
	*out = after;
	after = NULL;
out:
	json_decref(before);
	json_decref(s);
	json_decref(after);
	return rc;
}

int dom_readback_configure(json_t **out, const struct dom *d, int64_t asset, const json_t *in)
{
	struct db_conn *c = NULL;
	json_t *s = NULL, *after = NULL;
	char due[TIME_RFC3339_LEN];
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_CONFIGURE)) || (rc = settings_from(&s, due, in, false)) ||
	    (rc = dom_begin(&c, d)) || (rc = configure_one(&after, d, c, asset, in, s, due)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc == OTCM_ENOTFOUND && !err_field())
		err_set(rc, "id", "no asset %" PRId64, asset);
	dom_end(c);
	json_decref(s);
	json_decref(after);
	return rc;
}

/* The ids of the assets at or under `prefix` (whole path segments), at most GROUP_MAX. */
#define GROUP_MAX 10000

static int group_assets(json_t **out, struct db_conn *c, const json_t *in)
{
	const char *prefix = json_string_value(json_object_get(in, "prefix"));
	json_t *states = NULL, *ids = NULL;
	const json_t *item;
	size_t i;
	int rc;

	if (!prefix || !*prefix || strlen(prefix) > 1024 || prefix[strlen(prefix) - 1] == '/')
		return err_set(OTCM_EINVAL, "prefix", "'prefix' must be a site, area or line: an asset "
			       "path prefix of whole segments, without a trailing '/'");
	if ((rc = readbacks_states(&states, c, prefix)))
		return rc;
	if (json_array_size(states) == 0) {
		json_decref(states);
		return err_set(OTCM_ENOTFOUND, "prefix", "no asset at or under '%.200s'", prefix);
	}
	if (json_array_size(states) > GROUP_MAX) {
		json_decref(states);
		return err_set(OTCM_EINVAL, "prefix", "'%.200s' holds more than %d assets: name a smaller "
			       "part of the plant", prefix, GROUP_MAX);
	}
	ids = json_array();
	json_array_foreach(states, i, item)
		json_array_append(ids, json_object_get(item, "asset_id"));
	json_decref(states);
	*out = ids;
	return 0;
}

int dom_readback_configure_group(json_t **out, const struct dom *d, const json_t *in)
{
	struct db_conn *c = NULL;
	json_t *s = NULL, *ids = NULL, *items = NULL, *one = NULL;
	const json_t *id;
	char due[TIME_RFC3339_LEN];
	size_t i;
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_CONFIGURE)) || (rc = settings_from(&s, due, in, true)) ||
	    (rc = dom_begin(&c, d)) || (rc = group_assets(&ids, c, in)))
		goto out;
	items = json_array();
	json_array_foreach(ids, i, id) {
		if ((rc = configure_one(&one, d, c, json_integer_value(id), in, s, due)))
			goto out;
		json_array_append_new(items, one);
		one = NULL;
	}
	if ((rc = dom_commit(c)))
		goto out;
	*out = json_pack("{s:O, s:O}", "prefix", json_object_get(in, "prefix"), "items", items);
out:
	dom_end(c);
	json_decref(s);
	json_decref(ids);
	json_decref(items);
	return rc;
}

int dom_readback_request(json_t **out, const struct dom *d, int64_t asset)
{
	struct db_conn *c = NULL;
	json_t *s = NULL;
	char id_text[24];
	bool has_agent = false;
	int rc;

	snprintf(id_text, sizeof(id_text), "%" PRId64, asset);
	if ((rc = dom_permit(d, OP_READBACK_REQUEST)))
		return rc;
	if ((rc = dom_begin(&c, d)) || (rc = readbacks_settings_get(&s, c, asset)))
		goto out;
	if ((rc = readbacks_make_due(&has_agent, c, asset, "on demand", 0)))
		goto out;
	if (!has_agent) {
		rc = err_set(OTCM_ERULE, "id", "no agent reads asset %" PRId64 " back: set one first", asset);
		err_set_rule("no-agent");
		goto out;
	}
	json_decref(s);
	s = NULL;
	if ((rc = readbacks_settings_get(&s, c, asset)) ||
	    (rc = dom_audit(d, c, "readback.request", "asset", id_text, NULL, s, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = s;
	s = NULL;
out:
	if (rc == OTCM_ENOTFOUND && !err_field())
		err_set(rc, "id", "no asset %" PRId64, asset);
	if (rc)
		rc = dom_refused(d, &c, "readback.request", "asset", id_text, rc);
	dom_end(c);
	json_decref(s);
	return rc;
}

int dom_readback_request_group(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const allowed[] = { "prefix", NULL };
	struct db_conn *c = NULL;
	json_t *ids = NULL, *asked = NULL, *without = NULL, *after = NULL;
	const json_t *id;
	const char *prefix = json_string_value(json_object_get(in, "prefix"));
	size_t i;
	int rc;

	if ((rc = dom_permit(d, OP_READBACK_REQUEST)))
		return rc;
	if (!json_is_object(in))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if (json_only_fields((json_t *)in, allowed))
		return OTCM_EINVAL;
	if ((rc = dom_begin(&c, d)) || (rc = group_assets(&ids, c, in)))
		goto out;
	asked = json_array();
	without = json_array();
	json_array_foreach(ids, i, id) {
		bool has_agent = false;

		if ((rc = readbacks_make_due(&has_agent, c, json_integer_value(id), "on demand", 0)))
			goto out;
		json_array_append(has_agent ? asked : without, (json_t *)id);
	}
	if (json_array_size(asked) == 0) {
		rc = err_set(OTCM_ERULE, "prefix", "no agent reads any asset under '%.200s' back: set one first",
			     prefix);
		err_set_rule("no-agent");
		goto out;
	}
	after = json_pack("{s:s, s:O, s:O}", "prefix", prefix, "requested", asked, "without_agent", without);
	if ((rc = dom_audit(d, c, "readback.request", "prefix", prefix, NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "readback.request", "prefix", prefix ? prefix : "", rc);
	dom_end(c);
	json_decref(ids);
	json_decref(asked);
	json_decref(without);
	json_decref(after);
	return rc;
}

int dom_readback_after_deploy(const struct dom *d, struct db_conn *c, int64_t asset,
			      int64_t deployment_id)
{
	json_t *s = NULL;
	bool has_agent = false;
	int rc;

	if ((rc = readbacks_settings_get(&s, c, asset)))
		return rc;
	if (json_is_integer(json_object_get(s, "agent_id")) &&
	    json_is_true(json_object_get(s, "after_deploy")))
		rc = readbacks_make_due(&has_agent, c, asset, "deployment", deployment_id);
	json_decref(s);
	return rc;
}

int dom_agent_list(json_t **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_AGENT_LIST)) || (rc = dom_conn(&c, d)))
		return rc;
	rc = readbacks_agent_list(out, c);
	dom_end(c);
	return rc;
}

int dom_readback_for_change(json_t **out, struct db_conn *c, int64_t change_id)
{
	return readbacks_for_change(out, c, change_id);
}

int dom_readback_exceptions(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	json_t *rows = NULL, *row;
	size_t i;
	int rc;

	if ((rc = readbacks_exceptions(&rows, c, from, to)))
		return rc;
	json_array_foreach(rows, i, row) {
		const char *st = json_string_value(json_object_get(row, "state"));

		json_object_set_new(row, "rule", json_string(strcmp(st, "drift") == 0 ? "readback-drift"
											: "readback-failed"));
	}
	*out = rows;
	return 0;
}

int dom_readback_stale(json_t **out, struct db_conn *c, const char *as_of)
{
	json_t *rows = NULL, *row;
	size_t i;
	int rc;

	if ((rc = readbacks_stale_at(&rows, c, as_of)))
		return rc;
	json_array_foreach(rows, i, row)
		json_object_set_new(row, "rule", json_string("readback-stale"));
	*out = rows;
	return 0;
}

int dom_readback_population(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	json_t *rows = NULL, *row;
	size_t i;
	int rc;

	if ((rc = readbacks_population(&rows, c, from, to)))
		return rc;
	/* the outcome an auditor samples by: the asset's state that read-back set */
	json_array_foreach(rows, i, row) {
		const char *st = json_string_value(json_object_get(row, "state"));

		json_object_set_new(row, "outcome", json_string(strcmp(st, "drift") == 0 ? "drift"
							: strcmp(st, "read_failed") == 0 ? "failed" : "good"));
	}
	*out = rows;
	return 0;
}

int dom_agent_key_register(json_t **out, const struct dom *d, const char *agent, const json_t *in)
{
	static const char *const allowed[] = { "public_key", NULL };
	struct db_conn *c = NULL;
	struct user u;
	json_t *before = NULL, *after = NULL;
	const char *key;
	char have[64] = "";
	int rc;

	if ((rc = dom_permit(d, OP_AGENT_KEY_REGISTER)))
		return rc;
	if (!json_is_object(in))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if (json_only_fields((json_t *)in, allowed))
		return OTCM_EINVAL;
	key = json_string_value(json_object_get(in, "public_key"));
	if (!key)
		return err_set(OTCM_EINVAL, "public_key", "'public_key' is required: the agent's key as "
			       "`otcm agent --key` prints it");
	if ((rc = check_public_key(key)))
		return rc;
	if ((rc = dom_begin(&c, d)))
		goto out;
	memset(&u, 0, sizeof(u));
	rc = agent ? users_by_name(&u, d->arena, c, agent, false) : OTCM_ENOTFOUND;
	if (rc == 0 && strcmp(u.role, "agent") != 0)
		rc = OTCM_ENOTFOUND;
	if (rc == OTCM_ENOTFOUND) {
		rc = err_set(OTCM_ENOTFOUND, "agent", "no user of role agent named '%.64s'", agent ? agent : "");
		goto out;
	}
	if (rc)
		goto out;
	rc = readbacks_agent_key(have, c, u.id);
	if (rc && rc != OTCM_ENOTFOUND)
		goto out;
	err_clear();
	if (have[0])
		before = json_pack("{s:s}", "public_key", have);
	after = json_pack("{s:s,s:s}", "public_key", key, "registered", "by hand");
	if ((rc = readbacks_agent_register_key(c, u.id, key, d->who->user_id)) ||
	    (rc = dom_audit(d, c, "agent.key", "user", u.username, before, after,
			    "the agent's key for offline read-back files, registered by hand")) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = json_pack("{s:s,s:s,s:s}", "agent", u.username, "public_key", key, "registered_by",
			 d->who->username ? d->who->username : "system");
out:
	if (rc)
		rc = dom_refused(d, &c, "agent.key.refused", "user", agent, rc);
	json_decref(before);
	json_decref(after);
	dom_end(c);
	return rc;
}

int dom_readback_stale_periods(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	json_t *rows = NULL, *row;
	size_t i;
	int rc;

	if ((rc = readbacks_stale_periods(&rows, c, from, to)))
		return rc;
	json_array_foreach(rows, i, row)
		json_object_set_new(row, "rule", json_string("readback-stale"));
	*out = rows;
	return 0;
}
