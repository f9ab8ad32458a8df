/*
 * server/h_pages.h - what the page handlers (server/h_pages*.c) share:
 * the frame of a page for the caller, HTML and redirect replies, reading
 * urlencoded form fields, and keeping a refusal to show on the page.
 * Pages call domain operations (the headers of domain/) with the request's context,
 * never an API handler.
 *
 * Everything returned lives in the request's arena (or is released with
 * it); errors are the codes of core/err.h with the message kept.
 *
 * Thread-safety: as the request; one request per thread.
 */
#ifndef OTCM_SERVER_H_PAGES_H
#define OTCM_SERVER_H_PAGES_H

#include <stdbool.h>

#include "domain/changes.h"
#include "server/http.h"
#include "web/layout.h"

struct change_query;

/* Largest page a handler renders. */
#define PG_PAGE_CAP ((size_t)64 << 20)

/*
 * Answer a failure on a page path with an HTML page (the dispatcher's
 * hooks.html_error): the status and a message already stripped of
 * internals for 5xx.  401 redirects to the login page.
 */
int page_reply_error(struct http_req *req, unsigned status, const char *title, const char *detail);

/* The frame of a page titled `title` under navigation entry `section`, for the caller. */
struct web_page pg_page(struct http_req *req, const char *title, const char *section);

/*
 * Answer with the page in `h` (released here) and the pages' headers
 * (Content-Security-Policy, Cache-Control: no-store); a page over the cap
 * is an error.
 */
int pg_reply(struct http_req *req, unsigned status, struct html *h);

/* 303 See Other to `location`, a local path built from escaped parts. */
int pg_redirect(struct http_req *req, const char *location);

/* A non-empty field of the urlencoded form body, or NULL. */
const char *pg_form(struct http_req *req, const char *name);

/* Release `j` with the request's arena; returns j. */
json_t *pg_keep(struct http_req *req, json_t *j);

/* An error code with its message and rule, kept before more work may set others. */
struct pg_failure {
	int code;
	unsigned status;
	const char *message;         /* the API's sentence; a fixed one for 5xx */
	const char *rule;            /* the rule that refused (409), or NULL */
};

/*
 * Keep the failure of `code` for the page that shows it; a throttle or a
 * lock that recorded its wait (err_retry_after()) is answered with
 * Retry-After, as http_reply_error() answers the API's.
 */
void pg_keep_failure(struct pg_failure *f, struct http_req *req, int code);

/*
 * The changes matching q (dom_change_list), tied to the request; an empty
 * array for a role that may not read changes (the collection agent).
 */
int pg_list_changes(json_t **out, struct http_req *req, const struct dom_change_query *q);

#endif
