/* domain/inventory.c - an asset's inventory and its history; see inventory.h. */
#include "domain/inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/utf8.h"
#include "domain/advisories.h"
#include "storage/assets.h"
#include "storage/inventory.h"

_Static_assert(INVENTORY_FIELD_COUNT == 7, "seven inventory fields");

/* The observation's members in the order of inventory_fields[]. */
static void obs_values(const char *out[INVENTORY_FIELD_COUNT], const struct inv_observation *obs)
{
	out[0] = obs->vendor;
	out[1] = obs->model;
	out[2] = obs->firmware;
	out[3] = obs->serial_number;
	out[4] = obs->order_number;
	out[5] = obs->cpe;
	out[6] = obs->purl;
}

static int check_text(const char *v, const char *field)
{
	size_t i, n = strlen(v);

	if (n > INV_MAX_TEXT)
		return err_set(OTCM_EINVAL, field, "'%s' is longer than %d characters", field,
			       INV_MAX_TEXT);
	if (!utf8_valid(v, n))
		return err_set(OTCM_EINVAL, field, "'%s' is not valid UTF-8", field);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch < 0x20 || ch == 0x7f)
			return err_set(OTCM_EINVAL, field, "'%s' must not hold control characters", field);
	}
	return 0;
}

/* Printable ASCII without spaces: what CPE names and package URLs are made of. */
static bool plain_ascii(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

/*
 * CPE 2.3 formatted string binding (NISTIR 7695 6.2): "cpe:2.3:" and eleven
 * more components separated by unescaped ':', part a, o or h; or a CPE 2.2
 * URI "cpe:/" with part a, o or h.
 */
static int check_cpe(const char *v)
{
	const char *s;
	size_t parts = 1;

	if (!*v)
		return 0;
	if (!plain_ascii(v))
		return err_set(OTCM_EINVAL, "cpe", "cpe must be printable ASCII without spaces");
	if (strncmp(v, "cpe:/", 5) == 0) {
		if (!strchr("aoh", v[5]) || v[5] == '\0' || (v[6] != '\0' && v[6] != ':'))
			return err_set(OTCM_EINVAL, "cpe",
				       "cpe '%.80s' is a CPE 2.2 URI whose part is not a, o or h", v);
		return 0;
	}
	if (strncmp(v, "cpe:2.3:", 8) != 0)
		return err_set(OTCM_EINVAL, "cpe",
			       "cpe '%.80s' must be a CPE 2.3 name (cpe:2.3:part:vendor:product:version:...) "
			       "or a CPE 2.2 URI (cpe:/part:vendor:product...)", v);
	for (s = v; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == ':')
			parts++;
	}
	if (parts != 13)
		return err_set(OTCM_EINVAL, "cpe", "cpe '%.80s' has %zu components; a CPE 2.3 name has 13",
			       v, parts);
	if (!strchr("aoh", v[8]) || v[8] == '\0' || v[9] != ':')
		return err_set(OTCM_EINVAL, "cpe", "cpe '%.80s': the part must be a, o or h", v);
	return 0;
}

/* Package URL: "pkg:" type "/" name..., the type of letters, digits, '.', '+', '-'. */
static int check_purl(const char *v)
{
	const char *s;

	if (!*v)
		return 0;
	if (!plain_ascii(v) || strncmp(v, "pkg:", 4) != 0)
		return err_set(OTCM_EINVAL, "purl",
			       "purl '%.80s' must be a package URL: pkg:type/namespace/name@version", v);
	s = v + 4;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '.' || *s == '+' || *s == '-'))
		return err_set(OTCM_EINVAL, "purl", "purl '%.80s' has no package type", v);
	s += strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-");
	if (*s != '/' || s[1] == '\0' || s[1] == '@' || s[1] == '?' || s[1] == '#')
		return err_set(OTCM_EINVAL, "purl", "purl '%.80s' has no package name", v);
	return 0;
}

int dom_inventory_check(const struct inv_observation *obs)
{
	const char *v[INVENTORY_FIELD_COUNT];
	size_t i;
	int rc;

	obs_values(v, obs);
	for (i = 0; i < INVENTORY_FIELD_COUNT; i++) {
		if (v[i] && (rc = check_text(v[i], inventory_fields[i])))
			return rc;
	}
	if ((obs->cpe && (rc = check_cpe(obs->cpe))) || (obs->purl && (rc = check_purl(obs->purl))))
		return rc;
	return 0;
}

static int check_source(const char *source, const char *source_ref)
{
	int rc;

	if (!source || (strcmp(source, "manual") != 0 && strcmp(source, "change") != 0 &&
			strcmp(source, "readback") != 0))
		return err_set(OTCM_EINVAL, "source", "source '%.40s' is not one of manual, change, readback",
			       source ? source : "");
	if (strcmp(source, "manual") != 0 && (!source_ref || !*source_ref))
		return err_set(OTCM_EINVAL, "source_ref",
			       "an inventory moved by a %s names it (source_ref)", source);
	if (source_ref && (rc = check_text(source_ref, "source_ref")))
		return rc;
	return 0;
}

int dom_inventory_observe(const struct dom *d, struct db_conn *c, const char *asset_id, const struct inv_observation *obs, const char *source, const char *source_ref)
{
	const char *given[INVENTORY_FIELD_COUNT], *now[INVENTORY_FIELD_COUNT];
	const char *value[INVENTORY_FIELD_COUNT] = { NULL };
	json_t *before = NULL, *after = NULL;
	const char *reason;
	int64_t id;
	size_t i, changed = 0;
	int rc;

	if ((rc = assets_parse_id(&id, asset_id)) || (rc = check_source(source, source_ref)) ||
	    (rc = dom_inventory_check(obs)))
		return rc;
	obs_values(given, obs);
	if ((rc = inventory_lock(now, d->arena, c, id)))
		return rc;
	before = json_object();
	after = json_object();
	for (i = 0; i < INVENTORY_FIELD_COUNT; i++) {
		if (!given[i] || strcmp(given[i], now[i]) == 0)
			continue;
		value[i] = given[i];
		json_object_set_new(before, inventory_fields[i], json_string(now[i]));
		json_object_set_new(after, inventory_fields[i], json_string(given[i]));
		changed++;
	}
	if (changed == 0)
		goto out;
	if ((rc = inventory_write(c, id, now, value, source, source_ref, d->who->user_id,
				  d->who->username ? d->who->username : "system")))
		goto out;
	reason = source_ref ? arena_printf(d->arena, "%s %s", source, source_ref) : source;
	if ((rc = dom_audit(d, c, "inventory.observe", "asset", asset_id, before, after, reason)))
		goto out;
	/* what the asset runs now decides which advisories concern it */
	rc = dom_advisory_match_asset(d, c, id);
out:
	json_decref(before);
	json_decref(after);
	return rc;
}

int dom_inventory_read(json_t **out, const struct dom *d, int64_t id, unsigned limit)
{
	struct db_conn *c = NULL;
	json_t *asset = NULL, *history = NULL, *current, *res;
	bool more = false;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ASSET_READ)))
		return rc;
	if (limit == 0)
		limit = DOM_INVENTORY_DEFAULT_LIMIT;
	if (limit > DOM_INVENTORY_MAX_LIMIT)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %d",
			       DOM_INVENTORY_MAX_LIMIT);
	if ((rc = dom_conn(&c, d)) || (rc = assets_get(&asset, c, id, false)) ||
	    (rc = inventory_history(&history, &more, c, id, limit)))
		goto out;
	current = json_object();
	for (i = 0; i < INVENTORY_FIELD_COUNT; i++)
		json_object_set(current, inventory_fields[i], json_object_get(asset, inventory_fields[i]));
	res = json_object();
	json_object_set(res, "asset_id", json_object_get(asset, "id"));
	json_object_set(res, "path", json_object_get(asset, "path"));
	json_object_set_new(res, "current", current);
	json_object_set_new(res, "history", history);
	json_object_set_new(res, "more", json_boolean(more));
	history = NULL;
	*out = res;
out:
	dom_end(c);
	json_decref(asset);
	json_decref(history);
	return rc;
}
