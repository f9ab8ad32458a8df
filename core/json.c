/* core/json.c - strict readers over jansson; see json.h. */
#include "core/json.h"

#include <string.h>

#include "core/err.h"

static int depth_of(const json_t *v, int limit)
{
	int best = 0;

	if (limit < 0)
		return 1;
	if (json_is_object(v)) {
		const char *k;
		json_t *c;

		json_object_foreach((json_t *)v, k, c) {
			int d = depth_of(c, limit - 1);

			if (d > best)
				best = d;
			if (best > limit)
				break;
		}
		return best + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *c;

		json_array_foreach(v, i, c) {
			int d = depth_of(c, limit - 1);

			if (d > best)
				best = d;
			if (best > limit)
				break;
		}
		return best + 1;
	}
	return 0;
}

int json_parse_object(json_t **out, const char *data, size_t len, int max_depth)
{
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	if (len == 0)
		return err_set(OTCM_EINVAL, "body", "request body is empty; a JSON object is required");
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return err_set(OTCM_EINVAL, "body", "body is not valid JSON: %s at line %d column %d",
			       jerr.text, jerr.line, jerr.column);
	if (!json_is_object(v)) {
		json_decref(v);
		return err_set(OTCM_EINVAL, "body", "body must be a JSON object");
	}
	if (depth_of(v, max_depth) > max_depth) {
		json_decref(v);
		return err_set(OTCM_EINVAL, "body", "body nests deeper than %d levels", max_depth);
	}
	*out = v;
	return 0;
}

int json_get_str(json_t *obj, const char *field, bool required, const char **out)
{
	json_t *v = json_object_get(obj, field);
	const char *s;
	size_t i, len;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return err_set(OTCM_EINVAL, field, "'%s' is required", field);
		return 0;
	}
	if (!json_is_string(v))
		return err_set(OTCM_EINVAL, field, "'%s' must be a string", field);
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len)
		return err_set(OTCM_EINVAL, field, "'%s' must not contain NUL characters", field);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return err_set(OTCM_EINVAL, field, "'%s' contains a control character", field);
	}
	if (required && len == 0)
		return err_set(OTCM_EINVAL, field, "'%s' must not be empty", field);
	*out = s;
	return 0;
}

int json_get_int(json_t *obj, const char *field, bool required, int64_t *out)
{
	json_t *v = json_object_get(obj, field);

	if (!v || json_is_null(v)) {
		if (required)
			return err_set(OTCM_EINVAL, field, "'%s' is required", field);
		return 0;
	}
	if (!json_is_integer(v))
		return err_set(OTCM_EINVAL, field, "'%s' must be an integer", field);
	*out = json_integer_value(v);
	return 0;
}

int json_get_bool(json_t *obj, const char *field, bool required, bool *out)
{
	json_t *v = json_object_get(obj, field);

	if (!v || json_is_null(v)) {
		if (required)
			return err_set(OTCM_EINVAL, field, "'%s' is required", field);
		return 0;
	}
	if (!json_is_boolean(v))
		return err_set(OTCM_EINVAL, field, "'%s' must be true or false", field);
	*out = json_is_true(v);
	return 0;
}

int json_only_fields(json_t *obj, const char *const *allowed)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		const char *const *a;
		bool ok = false;

		for (a = allowed; *a; a++) {
			if (strcmp(*a, k) == 0) {
				ok = true;
				break;
			}
		}
		if (!ok)
			return err_set(OTCM_EINVAL, k, "unknown field '%s'", k);
	}
	return 0;
}

char *json_dump_compact(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}
