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
#include "server/handlers.h"


const struct route routes[] = {
	{ "GET", "/healthz", ROLE_PUBLIC, h_healthz, "the process is alive" },
	{ "GET", "/readyz", ROLE_PUBLIC, h_readyz, "the database answers" },
	{ "GET", "/api/v1/openapi.json", ROLE_PUBLIC, h_openapi, "this API's OpenAPI 3.1 description" },

	{ "POST", "/api/v1/session", ROLE_PUBLIC, h_session_create, "log in: sets the session cookie" },
	{ "GET", "/api/v1/session", ROLE_ANY, h_session_get, "who is logged in" },
	{ "DELETE", "/api/v1/session", ROLE_ANY, h_session_delete, "log out" },
	{ "POST", "/api/v1/tokens", ROLE_ANY, h_tokens_create, "issue an API token, shown once" },
	{ "GET", "/api/v1/tokens", ROLE_ANY, h_tokens_list, "the caller's API tokens" },
	{ "DELETE", "/api/v1/tokens/{id}", ROLE_ANY, h_tokens_delete, "revoke an API token" },

	{ "POST", "/api/v1/users", ROLE_ADMIN, h_users_create, "create a user" },
	{ "GET", "/api/v1/users", ROLE_ADMIN | ROLE_AUDITOR, h_users_list, "list users" },
	{ "GET", "/api/v1/users/{id}", ROLE_ADMIN | ROLE_AUDITOR, h_users_get, "one user" },
	{ "PATCH", "/api/v1/users/{id}", ROLE_ADMIN, h_users_patch,
	  "change a user's name, role, password; disable or unlock" },

	{ "POST", "/api/v1/assets", ROLE_ADMIN, h_assets_create, "register an asset" },
	{ "GET", "/api/v1/assets", ROLE_ANY, h_assets_list,
	  "list assets by path (?prefix= ?path= ?type= ?limit= ?cursor=)" },
	{ "GET", "/api/v1/assets/{id}", ROLE_ANY, h_assets_get, "one asset" },
	{ "PATCH", "/api/v1/assets/{id}", ROLE_ADMIN, h_assets_patch, "change an asset's fields" },
	{ "POST", "/api/v1/assets/{id}/versions", ROLE_ENGINEER | ROLE_ADMIN, h_versions_create,
	  "upload a new version (multipart: files or one archive)" },
	{ "PUT", "/api/v1/assets/{id}/files/{path+}", ROLE_ENGINEER | ROLE_ADMIN, h_versions_put_file,
	  "upload one file as a new version" },
	{ "GET", "/api/v1/assets/{id}/versions", ROLE_ANY, h_versions_list,
	  "history of a branch, newest first" },
	{ "GET", "/api/v1/assets/{id}/versions/{commit}", ROLE_ANY, h_versions_get,
	  "one version with its file list" },
	{ "GET", "/api/v1/assets/{id}/versions/{commit}/files/{path+}", ROLE_ANY, h_versions_file,
	  "one file of a version" },
	{ "GET", "/api/v1/assets/{id}/versions/{commit}/archive", ROLE_ANY, h_versions_archive,
	  "a version as a zip or tar download" },
	{ "GET", "/api/v1/assets/{id}/diff", ROLE_ANY, h_versions_diff,
	  "what changed between two versions" },

	{ "GET", "/api/v1/audit", ROLE_ADMIN | ROLE_AUDITOR, h_audit_list, "the audit trail" },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
