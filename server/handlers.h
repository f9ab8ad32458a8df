/*
 * server/handlers.h - every request handler, grouped by the file that
 * defines it.  Each takes a fully read, authenticated, role-checked request
 * (server/http.h) and answers it or returns an error code.
 */
#ifndef OTCM_SERVER_HANDLERS_H
#define OTCM_SERVER_HANDLERS_H

#include "server/http.h"

/* h_session.c: logging in and out, API tokens */
int h_session_create(struct http_req *req);
int h_session_delete(struct http_req *req);
int h_session_get(struct http_req *req);
int h_tokens_create(struct http_req *req);
int h_tokens_list(struct http_req *req);
int h_tokens_delete(struct http_req *req);

/* h_users.c: user administration */
int h_users_create(struct http_req *req);
int h_users_list(struct http_req *req);
int h_users_get(struct http_req *req);
int h_users_patch(struct http_req *req);

/* h_assets.c: the asset register */
int h_assets_create(struct http_req *req);
int h_assets_get(struct http_req *req);
int h_assets_list(struct http_req *req);
int h_assets_patch(struct http_req *req);

/* h_versions.c: versions of an asset, their files, archives and diffs */
int h_versions_archive(struct http_req *req);
int h_versions_create(struct http_req *req);
int h_versions_diff(struct http_req *req);
int h_versions_file(struct http_req *req);
int h_versions_get(struct http_req *req);
int h_versions_list(struct http_req *req);
int h_versions_put_file(struct http_req *req);

/* h_audit.c: the audit trail */
int h_audit_list(struct http_req *req);

/* h_openapi.c: the API description */
int h_openapi(struct http_req *req);

#endif
