/*
 * server/h_versions.c - the versions API, a door onto domain/versions.h:
 * each handler parses the request (path, query, multipart parts or body),
 * calls one domain operation and renders its answer.
 *
 *   POST /api/v1/assets/{id}/versions                     dom_version_upload
 *   PUT  /api/v1/assets/{id}/files/{path+}                dom_version_put_file
 *   GET  /api/v1/assets/{id}/versions                     dom_version_history
 *   GET  /api/v1/assets/{id}/versions/{commit}            dom_version_read
 *   GET  /api/v1/assets/{id}/versions/{commit}/files/{path+}   dom_version_file
 *   GET  /api/v1/assets/{id}/versions/{commit}/archive    dom_version_archive
 *   GET  /api/v1/assets/{id}/diff                         dom_version_diff
 *
 * What is left here is HTTP: the multipart parts handed over as they came,
 * ETags and content types of stored files, the download's file name, and
 * whether a diff is wanted as JSON or as a patch.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/utf8.h"
#include "domain/assets.h"
#include "domain/versions.h"
#include "server/handlers.h"

/* The parts of a multipart request as the upload reads them (in the arena). */
static struct upload_part *parts_of(struct http_req *req)
{
	struct upload_part *parts = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*parts));

	for (size_t i = 0; i < req->nparts; i++) {
		parts[i].name = req->parts[i].name;
		parts[i].filename = req->parts[i].filename;
		parts[i].data = req->parts[i].data;
		parts[i].len = req->parts[i].len;
	}
	return parts;
}

static int reply_created(struct http_req *req, int64_t asset, json_t *version)
{
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/assets/%" PRId64 "/versions/%s", asset,
				     json_string_value(json_object_get(version, "commit"))));
	return http_reply_json(req, 201, version);
}

int h_versions_create(struct http_req *req)
{
	json_t *version = NULL;
	int64_t asset;
	int rc;

	if ((rc = dom_asset_id(&asset, http_param(req, 0))))
		return rc;
	if (!req->parts && req->body_len)
		return err_set(OTCM_EMEDIA, "body",
			       "send the version as multipart/form-data (file parts or one 'archive' part)");
	if ((rc = dom_version_upload(&version, &req->dom, asset, parts_of(req), req->nparts)))
		return rc;
	return reply_created(req, asset, version);
}

int h_versions_put_file(struct http_req *req)
{
	struct dom_version_fields f;
	json_t *version = NULL;
	int64_t asset;
	int rc;

	if ((rc = dom_asset_id(&asset, http_param(req, 0))))
		return rc;
	memset(&f, 0, sizeof(f));
	f.message = http_query(req, "message");
	f.branch = http_query(req, "branch");
	f.change = http_query(req, "change");
	f.parent = http_query(req, "parent");
	if ((rc = dom_version_put_file(&version, &req->dom, asset, http_param(req, 1), req->body,
				       req->body ? req->body_len : 0, &f)))
		return rc;
	return reply_created(req, asset, version);
}

/* ?limit=: a number; the domain checks its range. */
static int query_limit(size_t *out, struct http_req *req)
{
	const char *s = http_query(req, "limit");

	*out = 0;
	if (!s)
		return 0;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6 ||
	    strtoul(s, NULL, 10) < 1)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %d",
			       DOM_VERSIONS_MAX_LIMIT);
	*out = strtoul(s, NULL, 10);
	return 0;
}

int h_versions_list(struct http_req *req)
{
	json_t *page = NULL;
	int64_t asset;
	size_t limit;
	int rc;

	if ((rc = dom_asset_id(&asset, http_param(req, 0))) || (rc = query_limit(&limit, req)) ||
	    (rc = dom_version_history(&page, &req->dom, asset, http_query(req, "branch"),
				      http_query(req, "cursor"), limit)))
		return rc;
	return http_reply_json(req, 200, page);
}

int h_versions_get(struct http_req *req)
{
	json_t *version = NULL;
	int64_t asset;
	int rc;

	if ((rc = dom_asset_id(&asset, http_param(req, 0))) ||
	    (rc = dom_version_read(&version, &req->dom, asset, http_param(req, 1))))
		return rc;
	return http_reply_json(req, 200, version);
}

/* Does the If-None-Match header name entity tag `etag` (quoted)? */
static bool etag_matches(const char *header, const char *etag)
{
	const char *p = header;
	size_t n = strlen(etag);

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' ||
						 p[n] == '\t'))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

static const struct {
	const char *ext;
	const char *type;
	bool text;
} content_types[] = {
	{ "l5x", "application/xml", false }, { "xml", "application/xml", false },
	{ "tcpou", "application/xml", false }, { "tcdut", "application/xml", false },
	{ "tcgvl", "application/xml", false }, { "tctask", "application/xml", false },
	{ "tsproj", "application/xml", false }, { "plcproj", "application/xml", false },
	{ "xsd", "application/xml", false }, { "svg", "application/xml", false },
	{ "json", "application/json", false }, { "csv", "text/csv", true },
	{ "l5k", "text/plain", true }, { "st", "text/plain", true }, { "scl", "text/plain", true },
	{ "awl", "text/plain", true }, { "stl", "text/plain", true }, { "txt", "text/plain", true },
	{ "ini", "text/plain", true }, { "cfg", "text/plain", true }, { "md", "text/plain", true },
	{ "log", "text/plain", true }, { "html", "text/plain", true }, { "htm", "text/plain", true },
	{ "zip", "application/zip", false }, { "gz", "application/gzip", false },
	{ "tgz", "application/gzip", false }, { "tar", "application/x-tar", false },
	{ "pdf", "application/pdf", false }, { "png", "image/png", false },
	{ "jpg", "image/jpeg", false }, { "jpeg", "image/jpeg", false },
};

/*
 * A content type for a stored file: by extension, else by content (text
 * when it is UTF-8 without NUL bytes).  Never text/html or an SVG image
 * type: stored files are data, not pages (the response is sandboxed too).
 */
static const char *guess_type(const char *path, const void *data, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash + 1 : path, '.');
	size_t probe = len < 8192 ? len : 8192;
	bool utf8 = !memchr(data, '\0', probe) && utf8_valid(data, len);

	if (dot && dot[1]) {
		for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
			if (strcasecmp(dot + 1, content_types[i].ext))
				continue;
			if (content_types[i].text)
				return utf8 ? "text/plain; charset=utf-8" : content_types[i].type;
			return content_types[i].type;
		}
	}
	return utf8 ? "text/plain; charset=utf-8" : "application/octet-stream";
}

int h_versions_file(struct http_req *req)
{
	struct dom_file f;
	const char *path = http_param(req, 2), *inm;
	char *etag;
	int64_t asset;
	int rc;

	if ((rc = dom_asset_id(&asset, http_param(req, 0))) ||
	    (rc = dom_version_file(&f, &req->dom, asset, http_param(req, 1), path)))
		return rc;
	etag = arena_printf(req->arena, "\"%s\"", f.blob);
	http_set_header(req, "ETag", etag);
	http_set_header(req, "Cache-Control", "private, no-cache");
	inm = http_header(req, "If-None-Match");
	if (inm && etag_matches(inm, etag))
		return http_reply_empty(req, 304);
	http_set_header(req, "Content-Security-Policy", "sandbox; default-src 'none'");
	return http_reply_bytes(req, 200, guess_type(path, f.data, f.len), f.data, f.len);
}

int h_versions_archive(struct http_req *req)
{
	struct dom_archive a;
	int64_t asset;
	int rc;

	if ((rc = dom_asset_id(&asset, http_param(req, 0))) ||
	    (rc = dom_version_archive(&a, &req->dom, asset, http_param(req, 1),
				      http_query(req, "format"))))
		return rc;
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s\"", a.filename));
	return http_reply_bytes(req, 200, a.content_type, a.data, a.len);
}

/* Does the Accept header ask for a patch? */
static bool wants_patch(struct http_req *req)
{
	const char *fmt = http_query(req, "format");
	const char *accept = http_header(req, "Accept");

	if (fmt && strcmp(fmt, "patch") == 0)
		return true;
	return accept && strstr(accept, "text/x-diff") != NULL;
}

int h_versions_diff(struct http_req *req)
{
	const char *fmt = http_query(req, "format"), *sem_q = http_query(req, "semantic");
	const char *patch = NULL;
	size_t patch_len = 0;
	json_t *diff = NULL;
	bool as_patch, semantic;
	int64_t asset;
	int rc;

	if ((rc = dom_asset_id(&asset, http_param(req, 0))))
		return rc;
	if (fmt && strcmp(fmt, "patch") && strcmp(fmt, "json"))
		return err_set(OTCM_EINVAL, "format", "format must be 'json' or 'patch', got '%.20s'",
			       fmt);
	as_patch = wants_patch(req) && !(fmt && strcmp(fmt, "json") == 0);
	semantic = !(sem_q && (strcmp(sem_q, "false") == 0 || strcmp(sem_q, "0") == 0));
	if ((rc = dom_version_diff(&diff, as_patch ? &patch : NULL, &patch_len, &req->dom, asset,
				   http_query(req, "from"), http_query(req, "to"), semantic)))
		return rc;
	if (!as_patch)
		return http_reply_json(req, 200, diff);
	json_decref(diff);
	return http_reply_bytes(req, 200, "text/x-diff; charset=utf-8", patch, patch_len);
}
