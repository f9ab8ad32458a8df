/* core/json.c - strict readers over jansson; see json.h. */
#include "core/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
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

/* A string as jansson writes it: quote, backslash and controls escaped, the rest as is. */
static int render_string(struct buf *out, const char *s, size_t n)
{
	size_t run = 0;

	if (buf_addch(out, '"'))
		return OTCM_EINTERNAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		const char *e;

		if (c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		if (run && buf_add(out, s + i - run, run))
			return OTCM_EINTERNAL;
		run = 0;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			e = esc;
		}
		if (buf_adds(out, e))
			return OTCM_EINTERNAL;
	}
	if ((run && buf_add(out, s + n - run, run)) || buf_addch(out, '"'))
		return OTCM_EINTERNAL;
	return 0;
}

static int render(struct buf *out, const json_t *v, int depth)
{
	char num[32];
	int rc = 0;

	if (depth > 2048)
		return err_set(OTCM_EINTERNAL, NULL, "JSON value nested too deep to serialise");
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *member;
		bool first = true;

		if (buf_addch(out, '{'))
			return OTCM_EINTERNAL;
		json_object_foreach((json_t *)v, key, member) {
			if ((!first && buf_addch(out, ',')) || render_string(out, key, strlen(key)) ||
			    buf_addch(out, ':') || (rc = render(out, member, depth + 1)))
				return rc ? rc : OTCM_EINTERNAL;
			first = false;
		}
		return buf_addch(out, '}') ? OTCM_EINTERNAL : 0;
	}
	case JSON_ARRAY:
		if (buf_addch(out, '['))
			return OTCM_EINTERNAL;
		for (size_t i = 0; i < json_array_size(v); i++)
			if ((i && buf_addch(out, ',')) || (rc = render(out, json_array_get(v, i), depth + 1)))
				return rc ? rc : OTCM_EINTERNAL;
		return buf_addch(out, ']') ? OTCM_EINTERNAL : 0;
	case JSON_STRING:
		return render_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER: {
		json_int_t x = json_integer_value(v);
		unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
		size_t n = sizeof(num);

		do {
			num[--n] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (x < 0)
			num[--n] = '-';
		return buf_add(out, num + n, sizeof(num) - n) ? OTCM_EINTERNAL : 0;
	}
	case JSON_REAL: {
		/* rare: jansson's own text, so reals read back exactly as before */
		char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!t)
			return err_set(OTCM_EINTERNAL, NULL, "a number cannot be serialised");
		rc = buf_adds(out, t) ? OTCM_EINTERNAL : 0;
		free(t);
		return rc;
	}
	case JSON_TRUE:
		return buf_adds(out, "true") ? OTCM_EINTERNAL : 0;
	case JSON_FALSE:
		return buf_adds(out, "false") ? OTCM_EINTERNAL : 0;
	default:
		return buf_adds(out, "null") ? OTCM_EINTERNAL : 0;
	}
}

int json_render(struct buf *out, const json_t *v)
{
	/* most answers are small: one allocation instead of a doubling from nothing */
	if (out->alloc < 1024)
		(void)buf_try_grow(out, 1024);
	return render(out, v, 0);
}
