/*
 * server/routes.h - the route table (server/routes.c): every URL otcm
 * serves, its method, the roles allowed as a first filter, the handler and
 * the domain operation it calls.
 *
 * Thread-safety: read-only data.
 */
#ifndef OTCM_SERVER_ROUTES_H
#define OTCM_SERVER_ROUTES_H

#include <stddef.h>

#include "domain/ops.h"
#include "server/http.h"

/*
 * One row of the route table.  Patterns are literal segments and captures:
 * "/api/v1/assets/{id}", "/api/v1/assets/{id}/files/{path+}" ({name+}
 * captures the rest of the path, slashes included, less a literal suffix:
 * "/git/{asset+}.git/info/refs").  `roles` is the set of
 * roles allowed (ROLE_PUBLIC for no authentication); `summary` appears in
 * the OpenAPI document.
 */
struct route {
	const char *method;
	const char *pattern;
	unsigned roles;
	http_handler handler;
	const char *summary;
	enum dom_op op;              /* the domain operation it calls (OP_NONE: none) */
};

extern const struct route routes[];
extern const size_t routes_count;

#endif
