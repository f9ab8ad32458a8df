/* domain/version_diff.c - the per-file diff of two versions; see version_diff.h. */
#include "domain/version_diff.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "diff/diff.h"

/*
 * The semantic diff of one changed file `f` (an element of repo_diff's
 * list): sets "semantic" and, when the engine does not compare it,
 * "semantic_skipped".  Files it cannot compare are no failure.
 */
static int add_semantic(json_t *f, struct repo *r, const char *from, const char *to)
{
	const char *path = json_string_value(json_object_get(f, "path"));
	const char *old_path = json_string_value(json_object_get(f, "old_path"));
	const char *status = json_string_value(json_object_get(f, "status"));
	void *old = NULL, *new_data = NULL;
	size_t old_len = 0, new_len = 0;
	char blob[REPO_OID_HEX];
	struct diff_result *res = NULL;
	json_t *sem = NULL;
	const char *skipped = NULL;
	int rc = 0;

	if (!path || !status) {
		/* repo_diff names every file; an entry without a path is nothing to read */
		skipped = "not a file on both sides";
		goto out;
	}
	/*
	 * binary content goes to the engine too: it compares what it can read
	 * (an archive's members, in their own formats) and hashes the rest
	 */
	if (from && strcmp(status, "added"))
		rc = repo_read_file(&old, &old_len, blob, r, from, old_path ? old_path : path);
	if (!rc && strcmp(status, "deleted"))
		rc = repo_read_file(&new_data, &new_len, blob, r, to, path);
	if (rc == OTCM_ENOTFOUND) {
		skipped = "not a file on both sides";
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if (old_len > VERSION_DIFF_SEMANTIC_MAX || new_len > VERSION_DIFF_SEMANTIC_MAX) {
		skipped = "too large";
		goto out;
	}
	rc = diff_compare(&res, path, old, old_len, new_data, new_len);
	if (rc == OTCM_ETOOBIG) {
		skipped = "too large";
		rc = 0;
		goto out;
	}
	if (rc || (rc = diff_to_json(&sem, res)))
		goto out;
out:
	if (!rc) {
		json_object_set_new(f, "semantic", sem ? sem : json_null());
		sem = NULL;
		if (skipped)
			json_object_set_new(f, "semantic_skipped", json_string(skipped));
	}
	json_decref(sem);
	diff_result_free(res);
	free(old);
	free(new_data);
	return rc;
}

int version_diff_files(json_t **out, struct buf *patch, struct repo *r, const char *from,
		       const char *to, bool semantic)
{
	json_t *files = NULL, *f;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = repo_diff(&files, patch, r, from, to)))
		goto out;
	if (semantic) {
		json_array_foreach(files, i, f) {
			if ((rc = add_semantic(f, r, from, to)))
				goto out;
		}
	}
	*out = files;
	files = NULL;
out:
	json_decref(files);
	return rc;
}

/* categories[name] as {"files", "changes"}, created on first use; borrowed. */
static json_t *category_slot(json_t *categories, const char *name)
{
	json_t *slot = json_object_get(categories, name);

	if (!slot) {
		slot = json_pack("{s:i, s:i}", "files", 0, "changes", 0);
		json_object_set_new(categories, name, slot);
	}
	return slot;
}

static void add_to(json_t *obj, const char *key, json_int_t n)
{
	json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + n));
}

json_t *version_diff_summary(const json_t *files)
{
	json_t *categories = json_object(), *file, *sum;
	json_int_t changes = 0, generated = 0, skipped = 0;
	size_t i;

	json_array_foreach(files, i, file) {
		const json_t *sem = json_object_get(file, "semantic");
		const char *cat = json_string_value(json_object_get(sem, "category"));
		const char *key;
		json_t *n;

		if (!json_is_object(sem)) {
			skipped++;
			add_to(category_slot(categories, "other"), "files", 1);
			continue;
		}
		add_to(category_slot(categories, cat ? cat : "other"), "files", 1);
		if (json_is_true(json_object_get(sem, "generated")))
			generated++;
		json_object_foreach((json_t *)json_object_get(sem, "categories"), key, n) {
			add_to(category_slot(categories, key), "changes", json_integer_value(n));
			changes += json_integer_value(n);
		}
	}
	sum = json_pack("{s:I, s:I, s:I, s:I, s:o}", "files", (json_int_t)json_array_size(files),
			"changes", changes, "generated_files", generated, "not_compared", skipped,
			"categories", categories);
	return sum;
}
