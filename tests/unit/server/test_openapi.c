/*
 * The OpenAPI document compiled into the binary and the route table list
 * the same operations, with the same roles (x-otcm-roles).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/embed.h"
#include "core/json.h"
#include "server/http.h"
#include "server/routes.h"

static json_t *doc;

static int load(void **state)
{
	json_error_t e;

	(void)state;
	doc = json_loads(embed_openapi[0].data, 0, &e);
	if (!doc)
		fprintf(stderr, "openapi.json: %s at line %d\n", e.text, e.line);
	return doc ? 0 : -1;
}

static int unload(void **state)
{
	(void)state;
	json_decref(doc);
	return 0;
}

/* "/a/{path+}" -> "/a/{path}" */
static void openapi_path(char *out, size_t n, const char *pattern)
{
	size_t i = 0;

	for (; *pattern && i + 1 < n; pattern++)
		if (*pattern != '+')
			out[i++] = *pattern;
	out[i] = '\0';
}

static void lower(char *out, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[i] = '\0';
}

static void test_every_route_is_documented_with_its_roles(void **state)
{
	size_t i, j;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	for (i = 0; i < routes_count; i++) {
		char path[256], method[16];
		json_t *op, *roles, *r;
		unsigned documented = 0;

		if (http_is_page_path(routes[i].pattern))
			continue;   /* web pages are HTML, not API operations */
		openapi_path(path, sizeof(path), routes[i].pattern);
		lower(method, sizeof(method), routes[i].method);
		op = json_object_get(json_object_get(json_object_get(doc, "paths"), path), method);
		if (!op)
			fail_msg("route %s %s is missing from openapi.json", routes[i].method, path);
		roles = json_object_get(op, "x-otcm-roles");
		if (!json_is_array(roles))
			fail_msg("%s %s has no x-otcm-roles", routes[i].method, path);
		json_array_foreach(roles, j, r) {
			unsigned bit = role_from_name(json_string_value(r));

			if (!bit)
				fail_msg("%s %s names unknown role %s", routes[i].method, path, json_string_value(r));
			documented |= bit;
		}
		if (documented != routes[i].roles)
			fail_msg("%s %s: route table allows roles 0x%x, openapi.json says 0x%x",
				 routes[i].method, path, routes[i].roles, documented);
	}
}

static void test_every_documented_operation_is_routed(void **state)
{
	const char *path, *method;
	json_t *item, *op;
	size_t i;

	(void)state;
	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		json_object_foreach(item, method, op) {
			bool found = false;

			for (i = 0; i < routes_count && !found; i++) {
				char p[256], m[16];

				openapi_path(p, sizeof(p), routes[i].pattern);
				lower(m, sizeof(m), routes[i].method);
				found = strcmp(p, path) == 0 && strcmp(m, method) == 0;
			}
			if (!found)
				fail_msg("openapi.json documents %s %s, which no route serves", method, path);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route_is_documented_with_its_roles),
		cmocka_unit_test(test_every_documented_operation_is_routed),
	};

	return cmocka_run_group_tests(tests, load, unload);
}
