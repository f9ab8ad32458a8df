/*
 * diff/fmt_json.c - JSON documents: HMI views (Ignition Perspective),
 * Node-RED flows, JSON recipes, and any other JSON.
 *
 * Objects flatten into attrs of the node that holds them, named by their
 * dotted path ("props.style.color"); scalars keep their JSON text (strings
 * unquoted), so numbers get a delta from the differ.  Arrays of scalars are
 * one attr holding the compact array.  An array of objects that all carry a
 * unique "id", "name" or "meta.name" becomes named children, typed by the
 * array's path: a Perspective view reads root.children[Label]/children[Btn],
 * a Node-RED flow node[8a2f.4c1]; a recipe list parameters[Temp] with its
 * "value" and "unit".  Other arrays are sequences (aligned by content) of
 * item nodes.  Nesting deeper than JSON_MAX_DEPTH is kept as compact JSON.
 */
#include "diff/formats.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/mem.h"
#include "diff/text.h"

#define JSON_MAX_DEPTH 64

static const char *const identity_keys[] = { "id", "name", "meta.name", NULL };

static void walk_value(struct text_names *names, struct dnode *node, const char *path,
                       json_t *v, int depth);

/* The member at a dotted path ("meta.name") of an object, or NULL. */
static json_t *member_at(json_t *obj, const char *path)
{
	const char *dot = strchr(path, '.');

	if (!json_is_object(obj))
		return NULL;
	if (!dot)
		return json_object_get(obj, path);
	{
		char *head = xstrndup(path, (size_t)(dot - path));
		json_t *sub = json_object_get(obj, head);

		free(head);
		return member_at(sub, dot + 1);
	}
}

/* A scalar as text: strings as they are, numbers and literals as JSON. */
static char *scalar_text(json_t *v)
{
	if (json_is_string(v))
		return xstrndup(json_string_value(v), json_string_length(v));
	if (json_is_integer(v))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v)) {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		char *copy = xstrdup(s ? s : "0");

		free(s);
		return copy;
	}
	if (json_is_true(v))
		return xstrdup("true");
	if (json_is_false(v))
		return xstrdup("false");
	return xstrdup("null");
}

static char *compact(json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
	char *copy = xstrdup(s ? s : "");

	free(s);
	return copy;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Which identity key names every element of arr uniquely; NULL if none. */
static const char *identity_of(json_t *arr)
{
	size_t k, i, n = json_array_size(arr);

	for (k = 0; identity_keys[k]; k++) {
		char **ids = xcalloc(n, sizeof(*ids));
		bool ok = true;

		for (i = 0; i < n && ok; i++) {
			json_t *id = member_at(json_array_get(arr, i), identity_keys[k]);

			if (json_is_string(id) && json_string_length(id) > 0)
				ids[i] = xstrdup(json_string_value(id));
			else if (json_is_integer(id))
				ids[i] = scalar_text(id);
			else
				ok = false;
		}
		if (ok) {
			qsort(ids, n, sizeof(*ids), cmp_str);
			for (i = 1; i < n && ok; i++) {
				if (strcmp(ids[i - 1], ids[i]) == 0)
					ok = false;
			}
		}
		for (i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		if (ok)
			return identity_keys[k];
	}
	return NULL;
}

static void walk_object(struct text_names *names, struct dnode *node, const char *prefix,
                        json_t *obj, int depth)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char *path = *prefix ? xasprintf("%s.%s", prefix, key) : xstrdup(key);

		walk_value(names, node, path, v, depth + 1);
		free(path);
	}
}

static void walk_array(struct text_names *names, struct dnode *node, const char *path,
                       json_t *arr, int depth)
{
	size_t i, n = json_array_size(arr);
	bool containers = false;
	const char *idkey;
	const char *type = *path ? path : "node";

	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);

		if (json_is_object(e))
			containers = true;
		else if (json_is_array(e)) {
			size_t j;

			for (j = 0; j < json_array_size(e); j++) {
				if (json_is_object(json_array_get(e, j)) || json_is_array(json_array_get(e, j)))
					containers = true;
			}
		}
	}
	if (!containers) {
		char *s = compact(arr);

		dnode_set_attr(node, *path ? path : "value", s);
		free(s);
		return;
	}
	idkey = identity_of(arr);
	if (idkey) {
		for (i = 0; i < n; i++) {
			json_t *e = json_array_get(arr, i);
			char *id = scalar_text(member_at(e, idkey));
			struct dnode *kid = text_add_unique(names, node, type, id);

			free(id);
			walk_object(names, kid, "", e, depth + 1);
		}
		return;
	}
	{
		struct dnode *seq = *path ? dnode_add(node, path, NULL) : node;

		seq->flags |= DNODE_SEQUENCE;
		for (i = 0; i < n; i++) {
			json_t *e = json_array_get(arr, i);
			struct dnode *kid = dnode_add(seq, "item", NULL);

			if (json_is_object(e))
				walk_object(names, kid, "", e, depth + 1);
			else
				walk_value(names, kid, "value", e, depth + 1);
		}
	}
}

static void walk_value(struct text_names *names, struct dnode *node, const char *path,
                       json_t *v, int depth)
{
	if ((json_is_object(v) || json_is_array(v)) && depth > JSON_MAX_DEPTH) {
		char *s = compact(v);

		dnode_set_attr(node, *path ? path : "value", s);
		free(s);
	} else if (json_is_object(v)) {
		if (json_object_size(v) == 0)
			dnode_set_attr(node, *path ? path : "value", "{}");
		else
			walk_object(names, node, path, v, depth);
	} else if (json_is_array(v)) {
		if (json_array_size(v) == 0)
			dnode_set_attr(node, *path ? path : "value", "[]");
		else
			walk_array(names, node, path, v, depth);
	} else {
		char *s = scalar_text(v);

		dnode_set_attr(node, *path ? path : "value", s);
		free(s);
	}
}

static json_t *load(const char *text, size_t len, json_error_t *jerr)
{
	return json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, jerr);
}

static int json_detect(const char *text, size_t len)
{
	size_t p = 0;
	json_error_t jerr;
	json_t *v;
	int score;

	while (p < len && (text[p] == ' ' || text[p] == '\t' || text[p] == '\n' || text[p] == '\r'))
		p++;
	if (p >= len || (text[p] != '{' && text[p] != '['))
		return 0;
	v = load(text, len, &jerr);
	if (!v)
		return 0;
	score = 80;
	/* Perspective views and Node-RED flows are what we know best */
	if (json_is_object(v) && member_at(json_object_get(v, "root"), "meta.name"))
		score = 90;
	if (json_is_array(v)) {
		size_t i;

		for (i = 0; i < json_array_size(v) && i < 16; i++) {
			if (json_object_get(json_array_get(v, i), "wires"))
				score = 90;
		}
	}
	json_decref(v);
	return score;
}

static int json_parse(struct dnode **out, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *v = load(text, len, &jerr);
	struct text_names *names;
	struct dnode *root;

	*out = NULL;
	if (!v)
		return err_set(OTCM_EINVAL, NULL, "invalid JSON at line %d column %d: %s",
		               jerr.line, jerr.column, jerr.text);
	names = text_names_new();
	root = dnode_new("Document", NULL);
	walk_value(names, root, "", v, 0);
	text_names_free(names);
	json_decref(v);
	*out = root;
	return 0;
}

const struct diff_format diff_fmt_json = {
	.name = "json",
	.description = "JSON: HMI views, Node-RED flows, recipes",
	.detect = json_detect,
	.parse = json_parse,
};
