/*
 * server/h_directory.c - the LDAP / Active Directory settings through the
 * API and the pages (administrators only):
 *
 *   GET  /api/v1/directory          the settings (never the password)
 *   POST /api/v1/directory/test     connect, bind the service account and,
 *                                   given {"username"}, look the user up
 *   GET  /admin/directory           the same as a page
 *   POST /admin/directory/test      the page's test form
 *
 * Each calls one operation of domain/directory.h.
 */
#include "core/err.h"
#include "domain/directory.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "web/pages.h"

int h_directory_get(struct http_req *req)
{
	json_t *out = NULL;
	int rc = dom_directory_read(&out, &req->dom);

	if (rc)
		return rc;
	return http_reply_json(req, 200, out);
}

int h_directory_test(struct http_req *req)
{
	static const char *const fields[] = { "username", NULL };
	json_t *body = NULL, *out = NULL;
	const char *username = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "username", false, &username)) ||
	    (rc = dom_directory_test(&out, &req->dom, username)))
		goto out;
	rc = http_reply_json(req, 200, out);
out:
	json_decref(body);
	return rc;
}

/* The page, with the outcome of a test when there was one. */
static int directory_page(struct http_req *req, const json_t *test, const char *error)
{
	struct web_page p = pg_page(req, "Directory", "directory");
	json_t *settings = NULL;
	struct html h;
	int rc = dom_directory_read(&settings, &req->dom);

	if (rc)
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_directory(&h, &p, settings, test, error);
	json_decref(settings);
	return pg_reply(req, 200, &h);
}

int h_page_directory(struct http_req *req)
{
	return directory_page(req, NULL, NULL);
}

int h_page_directory_test(struct http_req *req)
{
	const char *username = pg_form(req, "username");
	struct pg_failure f;
	json_t *out = NULL;
	int rc;

	if (username && !*username)
		username = NULL;
	rc = dom_directory_test(&out, &req->dom, username);
	if (rc) {
		pg_keep_failure(&f, req, rc);
		return directory_page(req, NULL, f.message);
	}
	pg_keep(req, out);
	return directory_page(req, out, NULL);
}
