/*
 * server/cmd_routes.c - `otcm routes`: the route table and the domain's
 * operation table as JSON, so that tests (and reviewers) can see which
 * door exposes which operation to which roles without reading C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "domain/ops.h"
#include "server/cmd.h"
#include "server/http.h"
#include "server/routes.h"

static json_t *role_list(unsigned roles)
{
	json_t *a = json_array();
	unsigned bit;

	for (bit = 1; bit <= ROLE_AGENT; bit <<= 1)
		if (roles & bit)
			json_array_append_new(a, json_string(role_name(bit)));
	return a;
}

/* "api" for /api/, "git" for /git/, "ops" for health and metrics, else "page". */
static const char *door_of(const char *pattern)
{
	if (strncmp(pattern, "/api/v1/agent/", 14) == 0)
		return "agent";
	if (strncmp(pattern, "/api/", 5) == 0)
		return "api";
	if (strncmp(pattern, "/git/", 5) == 0)
		return "git";
	if (!http_is_page_path(pattern))
		return "ops";
	return "page";
}

int cmd_routes(int argc, char **argv)
{
	json_t *doc = json_object(), *ops = json_array(), *rs = json_array();
	char *text;
	size_t i;
	int op;

	(void)argv;
	if (argc > 0) {
		fprintf(stderr, "usage: otcm routes\n");
		json_decref(doc);
		json_decref(ops);
		json_decref(rs);
		return 2;
	}
	for (op = OP_NONE + 1; op < OP_COUNT; op++) {
		const struct dom_op_info *info = dom_op_info((enum dom_op)op);

		json_array_append_new(ops, json_pack("{s:s, s:o, s:s}", "name", info->name, "roles",
						     role_list(info->roles), "what", info->what));
	}
	for (i = 0; i < routes_count; i++) {
		const struct route *r = &routes[i];

		json_array_append_new(rs, json_pack("{s:s, s:s, s:o, s:s?, s:s}", "method", r->method,
						    "pattern", r->pattern, "roles", role_list(r->roles),
						    "op", r->op == OP_NONE ? NULL : dom_op_info(r->op)->name,
						    "door", door_of(r->pattern)));
	}
	json_object_set_new(doc, "operations", ops);
	json_object_set_new(doc, "routes", rs);
	text = json_dumps(doc, JSON_INDENT(1));
	json_decref(doc);
	if (!text)
		return 1;
	puts(text);
	free(text);
	return 0;
}
