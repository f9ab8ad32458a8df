/* domain/adopt.c - a read-back adopted as a change's version; see adopt.h. */
#include "domain/adopt.h"

#include <inttypes.h>
#include <string.h>

#include "core/err.h"
#include "domain/readbacks.h"
#include "domain/upload.h"
#include "domain/versions.h"

int dom_readback_adopt(json_t **out, const struct dom *d, int64_t asset, int64_t id, const json_t *in)
{
	static const char *const allowed[] = { "change", NULL };
	struct upload_part parts[3];
	const void *tar = NULL;
	const char *change;
	json_t *rec = NULL;
	size_t len = 0;
	int rc;

	if ((rc = dom_permit(d, OP_VERSION_UPLOAD)))
		return rc;
	if (!json_is_object(in))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if (json_only_fields((json_t *)in, allowed))
		return OTCM_EINVAL;
	change = json_string_value(json_object_get(in, "change"));
	if (!change || !*change)
		return err_set(OTCM_EINVAL, "change", "'change' (CHG-n) names the change that adopts the read-back");
	if ((rc = dom_readback_read(&rec, d, asset, id)) ||
	    (rc = dom_readback_archive(&tar, &len, d, asset, id, "tar")))
		goto out;
	memset(parts, 0, sizeof(parts));
	parts[0].name = "archive";
	parts[0].filename = arena_printf(d->arena, "readback-%" PRId64 ".tar", id);
	parts[0].data = tar;
	parts[0].len = len;
	parts[1].name = "change";
	parts[1].data = change;
	parts[1].len = strlen(change);
	parts[2].name = "message";
	parts[2].data = arena_printf(d->arena, "adopt read-back %" PRId64 " of %s (%s, %s, tree %s)", id,
				     json_string_value(json_object_get(rec, "asset")),
				     json_string_value(json_object_get(rec, "agent")),
				     json_string_value(json_object_get(rec, "read_at")),
				     json_string_value(json_object_get(rec, "tree")));
	parts[2].len = strlen(parts[2].data);
	rc = dom_version_upload(out, d, asset, parts, 3);
	if (rc == 0)
		json_object_set_new(*out, "readback_id", json_integer(id));
out:
	json_decref(rec);
	return rc;
}
