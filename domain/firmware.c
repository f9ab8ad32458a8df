/* domain/firmware.c - controlled firmware updates; see firmware.h. */
#include "domain/firmware.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "domain/changes.h"
#include "domain/rules.h"
#include "storage/advisories.h"
#include "storage/assets.h"
#include "storage/changes.h"
#include "storage/firmware.h"

#define FIRMWARE_TEXT_MAX 200
#define FIRMWARE_FILENAME_MAX 200

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A firmware version or an advisory id: 1 to 200 bytes, no leading or trailing space. */
static int check_value(const char *v, const char *field)
{
	size_t n;

	if (!v)
		return 0;
	n = strlen(v);
	if (n == 0 || n > FIRMWARE_TEXT_MAX || v[0] == ' ' || v[n - 1] == ' ' || strchr(v, '\n') || strchr(v, '\t'))
		return err_set(OTCM_EINVAL, field, "'%s' must be 1 to %d characters on one line without "
			       "leading or trailing spaces", field, FIRMWARE_TEXT_MAX);
	return 0;
}

/* The asset id of the path, affected by the locked change. */
static int affected_asset(int64_t *out, const struct dom_change_state *ch, const char *asset_id)
{
	size_t i;
	int rc;

	if ((rc = assets_parse_id(out, asset_id)))
		return err_set(OTCM_ENOTFOUND, "asset_id", "asset '%.40s' not found", asset_id ? asset_id : "");
	for (i = 0; i < ch->view.nassets; i++)
		if (ch->view.assets[i].asset_id == *out)
			return 0;
	err_set(OTCM_ERULE, "asset_id", "asset %" PRId64 " is not affected by %s", *out, ch->key);
	err_set_rule("asset-not-affected");
	return OTCM_ERULE;
}

/* The asset's inventory firmware now; rule firmware-inventory-empty without one. */
static int inventory_firmware(const char **out, const struct dom *d, struct db_conn *c, int64_t asset_id,
			      const char *field)
{
	json_t *asset = NULL;
	const char *fw;
	int rc;

	if ((rc = assets_get(&asset, c, asset_id, false)))
		return rc;
	fw = jstr(asset, "firmware");
	if (!fw || !*fw) {
		json_decref(asset);
		err_set(OTCM_ERULE, field, "asset %" PRId64 " has no firmware in its inventory to take", asset_id);
		err_set_rule("firmware-inventory-empty");
		return OTCM_ERULE;
	}
	*out = arena_strdup(d->arena, fw);
	json_decref(asset);
	return 0;
}

/* The update of `asset_id` among the change's, or NULL. */
static json_t *update_of(const json_t *list, int64_t asset_id)
{
	json_t *x;
	size_t i;

	json_array_foreach(list, i, x)
		if (json_integer_value(json_object_get(x, "asset_id")) == asset_id)
			return x;
	return NULL;
}

int dom_firmware_record(json_t **out, const struct dom *d, const char *key, const char *asset_id,
			const json_t *in)
{
	static const char *const fields[] = { "before", "after", "before_from_inventory", "after_from_inventory",
					      "advisory", NULL };
	json_t *body = (json_t *)in, *list = NULL, *after = NULL;
	struct dom_change_state ch;
	struct firmware_fields f;
	struct db_conn *c = NULL;
	bool before_inv = false, after_inv = false;
	int64_t aid = 0, adv = 0;
	int rc;

	memset(&ch, 0, sizeof(ch));
	memset(&f, 0, sizeof(f));
	if ((rc = dom_permit(d, OP_CHANGE_FIRMWARE)))
		return rc;
	if (!json_is_object(body)) {
		rc = err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
		goto out;
	}
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "before", false, &f.before)) ||
	    (rc = json_get_str(body, "after", false, &f.after)) ||
	    (rc = json_get_str(body, "advisory", false, &f.advisory)) ||
	    (rc = json_get_bool(body, "before_from_inventory", false, &before_inv)) ||
	    (rc = json_get_bool(body, "after_from_inventory", false, &after_inv)) ||
	    (rc = check_value(f.before, "before")) || (rc = check_value(f.after, "after")) ||
	    (rc = check_value(f.advisory, "advisory")))
		goto out;
	if ((before_inv && f.before) || (after_inv && f.after)) {
		rc = err_set(OTCM_EINVAL, before_inv && f.before ? "before" : "after",
			     "give the firmware typed or take it from the inventory, not both");
		goto out;
	}
	if ((rc = dom_begin(&c, d)) || (rc = dom_change_lock(&ch, d, c, key)) ||
	    (rc = rules_firmware_record(ch.view.state)) || (rc = affected_asset(&aid, &ch, asset_id)))
		goto out;
	/* the advisory must be one imported (docs/patch.md), so release can mark its assessment fixed */
	if (f.advisory && (rc = advisories_id(&adv, c, f.advisory)))
		goto out;
	if (f.before)
		f.before_source = "typed";
	if (f.after)
		f.after_source = "typed";
	if (before_inv && (rc = inventory_firmware(&f.before, d, c, aid, "before_from_inventory")) == 0)
		f.before_source = "inventory";
	if (rc || (after_inv && (rc = inventory_firmware(&f.after, d, c, aid, "after_from_inventory"))))
		goto out;
	if (after_inv)
		f.after_source = "inventory";
	if ((rc = firmware_upsert(c, ch.id, aid, &f, d->who->user_id)) || (rc = firmware_list(&list, c, ch.id)))
		goto out;
	after = json_incref(update_of(list, aid));
	if ((rc = dom_audit(d, c, "change.firmware", "change", ch.key, NULL, after, NULL)) || (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "change.firmware", "change", ch.key ? ch.key : key, rc);
	dom_end(c);
	json_decref(list);
	json_decref(after);
	return rc;
}

/* The file name without folders, printable, at most FIRMWARE_FILENAME_MAX bytes. */
static int file_name(const char **out, const char *name)
{
	const char *base, *p;

	if (!name || !*name)
		return err_set(OTCM_EINVAL, "file", "'file' needs a file name");
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	base = strrchr(base, '\\') ? strrchr(base, '\\') + 1 : base;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || strlen(base) > FIRMWARE_FILENAME_MAX)
		return err_set(OTCM_EINVAL, "file", "'file' needs a file name of 1 to %d bytes", FIRMWARE_FILENAME_MAX);
	for (p = base; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(OTCM_EINVAL, "file", "the file name holds a control character");
	*out = base;
	return 0;
}

int dom_firmware_file(json_t **out, const struct dom *d, const char *key, const char *asset_id,
		      const char *kind, const struct dom_file *files, size_t n)
{
	struct dom_change_state ch;
	struct firmware_fields none;
	struct db_conn *c = NULL;
	json_t *rec = NULL;
	const char *name = NULL;
	char sha[2 * CRYPTO_SHA256_LEN + 1];
	int64_t aid = 0;
	int rc;

	memset(&ch, 0, sizeof(ch));
	memset(&none, 0, sizeof(none));
	if ((rc = dom_permit(d, OP_CHANGE_FIRMWARE_FILE)))
		return rc;
	if (!kind || (strcmp(kind, "package") && strcmp(kind, "signature"))) {
		rc = err_set(OTCM_EINVAL, "kind", "'kind' must be package or signature");
		goto out;
	}
	if (n != 1) {
		rc = err_set(OTCM_EINVAL, "file", "'file' is required: exactly one file");
		goto out;
	}
	if (files[0].len == 0) {
		rc = err_set(OTCM_EINVAL, "file", "'file' is empty");
		goto out;
	}
	if ((rc = file_name(&name, files[0].name)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = dom_change_lock(&ch, d, c, key)) ||
	    (rc = rules_firmware_record(ch.view.state)) || (rc = affected_asset(&aid, &ch, asset_id)))
		goto out;
	crypto_sha256_hex(sha, files[0].data, files[0].len);
	if ((rc = firmware_upsert(c, ch.id, aid, &none, d->who->user_id)) ||
	    (rc = firmware_file_insert(&rec, c, ch.id, aid, kind, name, files[0].data, files[0].len, sha,
				       d->who->user_id)) ||
	    (rc = dom_audit(d, c, "change.firmware", "change", ch.key, NULL, rec, NULL)) || (rc = dom_commit(c)))
		goto out;
	*out = rec;
	rec = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "change.firmware", "change", ch.key ? ch.key : key, rc);
	dom_end(c);
	json_decref(rec);
	return rc;
}

int dom_firmware_list(json_t **out, const struct dom *d, const char *key)
{
	struct dom_change_state ch;
	struct db_conn *c = NULL;
	json_t *list = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_permit(d, OP_CHANGE_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = changes_parse_key(&id, key)) || (rc = dom_change_load(&ch, d, c, id)) ||
	    (rc = firmware_list(&list, c, id)))
		goto out;
	*out = json_pack("{s:o}", "items", list);
out:
	dom_end(c);
	return rc;
}
