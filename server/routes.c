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

/* everyone who may read the change process: all roles but the collection agent */
#define CHG_READERS (ROLE_ADMIN | ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ROLE_AUDITOR)


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

	/* the change process (h_changes.c, h_signatures.c, h_protocols.c) */
	{ "POST", "/api/v1/changes", ROLE_ENGINEER | ROLE_ADMIN, h_changes_create, "raise a change (draft)" },
	{ "GET", "/api/v1/changes", CHG_READERS, h_changes_list,
	  "list changes (?state= ?type= ?asset= ?requester= ?from= ?to= ?overdue= ?limit= ?cursor=)" },
	{ "GET", "/api/v1/changes/{key}", CHG_READERS, h_changes_get,
	  "one change with its assets, runs, signatures and deployments" },
	{ "PATCH", "/api/v1/changes/{key}", ROLE_ENGINEER | ROLE_ADMIN, h_changes_patch,
	  "edit a change (after draft: with edit_reason)" },
	{ "POST", "/api/v1/changes/{key}/transitions", ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ROLE_ADMIN,
	  h_changes_transition, "move a change through its lifecycle" },
	{ "POST", "/api/v1/changes/{key}/signatures", ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ROLE_ADMIN,
	  h_signatures_change, "sign a change (password again, TOTP when enrolled)" },
	{ "GET", "/api/v1/changes/{key}/signatures", CHG_READERS, h_signatures_list,
	  "the signatures of a change" },
	{ "POST", "/api/v1/changes/{key}/test-runs", ROLE_QA | ROLE_ADMIN, h_runs_create,
	  "start a FAT or SAT run on the change branch head" },
	{ "GET", "/api/v1/changes/{key}/test-runs", CHG_READERS, h_runs_list, "the test runs of a change" },
	{ "POST", "/api/v1/changes/{key}/deployments", ROLE_ENGINEER | ROLE_ADMIN, h_changes_deploy,
	  "record a deployment to a device" },
	{ "POST", "/api/v1/changes/{key}/release", ROLE_APPROVER | ROLE_ADMIN, h_changes_release,
	  "release: move main to the approved tree and tag it" },
	{ "GET", "/api/v1/changes/{key}/evidence", CHG_READERS, h_evidence_get,
	  "the change's evidence bundle (tar) to verify offline; audited" },
	{ "GET", "/api/v1/reports/population", CHG_READERS, h_reports_population,
	  "every change of a period (?from= ?to= ?format=csv|json); audited" },
	{ "GET", "/api/v1/reports/exceptions", CHG_READERS, h_reports_exceptions,
	  "exceptions to the change process in a period (?from= ?to=); audited" },
	{ "GET", "/api/v1/change-settings", CHG_READERS, h_change_settings_get, "settings of the change process" },
	{ "PUT", "/api/v1/change-settings", ROLE_ADMIN, h_change_settings_put,
	  "change the settings of the change process" },
	{ "POST", "/api/v1/protocols", ROLE_QA | ROLE_ADMIN, h_protocols_create,
	  "a new test protocol, or the next version of one" },
	{ "GET", "/api/v1/protocols", CHG_READERS, h_protocols_list, "test protocols (?name=)" },
	{ "GET", "/api/v1/protocols/{id}", CHG_READERS, h_protocols_get, "one test protocol version" },
	{ "GET", "/api/v1/test-runs/{id}", CHG_READERS, h_runs_get, "one test run with its steps" },
	{ "PUT", "/api/v1/test-runs/{id}/steps/{no}", ROLE_QA | ROLE_ADMIN, h_runs_step,
	  "record the result of one step" },
	{ "POST", "/api/v1/test-runs/{id}/steps/{no}/attachments", ROLE_QA | ROLE_ADMIN, h_attachments_create,
	  "attach a photo or log to a step (multipart: file)" },
	{ "GET", "/api/v1/test-runs/{id}/attachments/{attachment_id}", CHG_READERS, h_attachments_get,
	  "the bytes of an attachment" },
	{ "POST", "/api/v1/test-runs/{id}/signatures", ROLE_QA | ROLE_ADMIN, h_signatures_run,
	  "sign a run tested (completes it) or witnessed" },
	{ "POST", "/api/v1/totp", CHG_READERS, h_totp_enrol, "start one-time code enrolment" },
	{ "POST", "/api/v1/totp/confirm", CHG_READERS, h_totp_confirm, "enable one-time codes with a first code" },

	{ "GET", "/api/v1/audit", ROLE_ADMIN | ROLE_AUDITOR, h_audit_list, "the audit trail" },
	{ "GET", "/api/v1/audit/checkpoint", ROLE_ADMIN | ROLE_AUDITOR, h_checkpoint_get,
	  "the newest signed audit checkpoint, or ?tree_size=N" },
	{ "POST", "/api/v1/audit/checkpoint", ROLE_ADMIN, h_checkpoint_create,
	  "sign a checkpoint of the audit trail now" },
	{ "GET", "/api/v1/audit/events/{seq}/inclusion", ROLE_ADMIN | ROLE_AUDITOR, h_audit_inclusion,
	  "inclusion proof of an audit event in a checkpoint (?tree_size=N, default the newest)" },
	{ "GET", "/api/v1/audit/consistency", ROLE_ADMIN | ROLE_AUDITOR, h_audit_consistency,
	  "consistency proof between two checkpoints (?first=M&second=N)" },
	{ "GET", "/api/v1/keys/server.pub", ROLE_PUBLIC, h_keys_server_pub,
	  "the server's Ed25519 public key (PEM) that signs audit checkpoints" },

	/* web pages (h_pages.c): HTML, not part of the API or its OpenAPI document */
	{ "GET", "/static/{name}", ROLE_PUBLIC, h_page_static, "page stylesheet and script" },
	{ "GET", "/login", ROLE_PUBLIC, h_page_login_form, "page: log in" },
	{ "POST", "/login", ROLE_PUBLIC, h_page_login, "page: log in" },
	{ "POST", "/logout", ROLE_ANY, h_page_logout, "page: log out" },
	{ "GET", "/", ROLE_ANY, h_page_home, "page: my work" },
	{ "GET", "/changes", CHG_READERS, h_page_changes, "page: changes" },
	{ "GET", "/changes/{key}", CHG_READERS, h_page_change, "page: one change" },
	{ "POST", "/changes/{key}/actions", ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ROLE_ADMIN,
	  h_page_change_action, "page: transition, sign or release a change" },
	{ "GET", "/assets", ROLE_ANY, h_page_assets, "page: the asset tree" },
	{ "GET", "/assets/{id}", ROLE_ANY, h_page_asset, "page: one asset" },
	{ "GET", "/assets/{id}/versions/{commit}", ROLE_ANY, h_page_version, "page: one version" },
	{ "GET", "/assets/{id}/diff", ROLE_ANY, h_page_diff, "page: what changed" },
	{ "GET", "/assets/{id}/upload", ROLE_ENGINEER | ROLE_ADMIN, h_page_upload_form,
	  "page: upload a version" },
	{ "POST", "/assets/{id}/upload", ROLE_ENGINEER | ROLE_ADMIN, h_page_upload,
	  "page: upload a version" },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
