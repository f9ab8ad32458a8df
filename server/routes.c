/*
 * server/routes.c - the route table: every URL otcm serves, its method,
 * the roles allowed and the handler (see struct route in http.h).
 *
 * Rows look like
 *
 *     { "GET",  "/api/v1/assets",                   ROLE_ANY,   h_assets_list,
 *       "list assets" },
 *     { "POST", "/api/v1/assets/{id}/versions",     ROLE_ENGINEER | ROLE_ADMIN,
 *       h_versions_create, "upload a new version" },
 *     { "GET",  "/api/v1/assets/{id}/files/{path+}", ROLE_ANY,  h_files_get,
 *       "one file of a version" },
 *
 * ROLE_PUBLIC rows need no authentication.  Captures are read with
 * http_param(req, i) in pattern order.  Handlers are declared in the
 * header of the file that defines them, included below.
 */
#include "server/http.h"

#include "server/h_health.h"

const struct route routes[] = {
	{ "GET", "/healthz", ROLE_PUBLIC, h_healthz, "the process is alive" },
	{ "GET", "/readyz", ROLE_PUBLIC, h_readyz, "the database answers" },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
