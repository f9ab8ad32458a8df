/*
 * server/h_drills.c - restore drills through the API and the pages:
 *
 *   GET /api/v1/drills   the drills, newest first, and whether one is due
 *   GET /drills          the same as a page
 *
 * Both call dom_drill_list(); drills are recorded by `otcm drill`
 * (server/cmd_backup.c).
 */
#include "domain/drills.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "web/pages.h"

#define DRILLS_SHOWN 100

int h_drills_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc = dom_drill_list(&out, &req->dom, DRILLS_SHOWN);

	if (rc)
		return rc;
	return http_reply_json(req, 200, out);
}

int h_page_drills(struct http_req *req)
{
	struct web_page p = pg_page(req, "Restore drills", "drills");
	json_t *drills = NULL;
	struct html h;
	int rc = dom_drill_list(&drills, &req->dom, DRILLS_SHOWN);

	if (rc)
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_drills(&h, &p, drills);
	json_decref(drills);
	return pg_reply(req, 200, &h);
}
