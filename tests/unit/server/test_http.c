/*
 * tests/unit/server/test_http.c - route matching (server/dispatch.h),
 * error-to-status mapping, roles and multipart parsing of the HTTP layer
 * (server/http_internal.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "server/dispatch.h"
#include "server/http.h"
#include "server/http_internal.h"
#include "server/routes.h"

static int h_dummy(struct http_req *req)
{
	return 0;
}

static const struct route table[] = {
	{ "GET", "/healthz", ROLE_PUBLIC, h_dummy, "", OP_NONE },
	{ "GET", "/api/v1/assets", ROLE_ANY, h_dummy, "", OP_NONE },
	{ "POST", "/api/v1/assets", ROLE_ENGINEER, h_dummy, "", OP_NONE },
	{ "GET", "/api/v1/assets/{id}", ROLE_ANY, h_dummy, "", OP_NONE },
	{ "DELETE", "/api/v1/assets/{id}", ROLE_ADMIN, h_dummy, "", OP_NONE },
	{ "GET", "/api/v1/assets/{id}/files/{path+}", ROLE_ANY, h_dummy, "", OP_NONE },
	{ "GET", "/api/v1/assets/{id}/versions/{v}", ROLE_ANY, h_dummy, "", OP_NONE },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

struct match {
	int rc;
	const struct route *route;
	const char *params[HTTP_MAX_PARAMS];
	size_t nparams;
	struct buf allow;
};

static void match(struct match *m, struct arena *a, const char *method, const char *path)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->allow, 1024);
	m->rc = dispatch_route_match(&m->route, table, NTABLE, method, path, a, m->params, &m->nparams,
				 &m->allow);
}

static void test_literal_routes(void **state)
{
	struct arena *a = arena_new();
	struct match m;

	match(&m, a, "GET", "/healthz");
	assert_int_equal(m.rc, 0);
	assert_ptr_equal(m.route, &table[0]);
	assert_int_equal(m.nparams, 0);
	buf_release(&m.allow);

	match(&m, a, "POST", "/api/v1/assets");
	assert_int_equal(m.rc, 0);
	assert_ptr_equal(m.route, &table[2]);
	buf_release(&m.allow);

	/* HEAD is served by the GET route */
	match(&m, a, "HEAD", "/healthz");
	assert_int_equal(m.rc, 0);
	assert_ptr_equal(m.route, &table[0]);
	buf_release(&m.allow);
	arena_free(a);
}

static void test_captures(void **state)
{
	struct arena *a = arena_new();
	struct match m;

	match(&m, a, "GET", "/api/v1/assets/42");
	assert_int_equal(m.rc, 0);
	assert_ptr_equal(m.route, &table[3]);
	assert_int_equal(m.nparams, 1);
	assert_string_equal(m.params[0], "42");
	buf_release(&m.allow);

	match(&m, a, "GET", "/api/v1/assets/7/files/src/main/OB1.st");
	assert_int_equal(m.rc, 0);
	assert_ptr_equal(m.route, &table[5]);
	assert_int_equal(m.nparams, 2);
	assert_string_equal(m.params[0], "7");
	assert_string_equal(m.params[1], "src/main/OB1.st");
	buf_release(&m.allow);

	match(&m, a, "GET", "/api/v1/assets/7/versions/3");
	assert_int_equal(m.rc, 0);
	assert_ptr_equal(m.route, &table[6]);
	assert_string_equal(m.params[1], "3");
	buf_release(&m.allow);
	arena_free(a);
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {
		"/", "", "/healthz/", "/healthzz", "/health", "/api/v1/assets/",
		"/api/v1/assets//files/x", "/api/v1/assets/7/files/", "/api/v1/assets/7/files",
		"/api/v1/assets/7/versions/3/extra", "/API/v1/assets",
	};
	struct arena *a = arena_new();
	struct match m;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		match(&m, a, "GET", paths[i]);
		if (m.rc != OTCM_ENOTFOUND)
			fail_msg("'%s' gave %d", paths[i], m.rc);
		assert_int_equal(m.allow.len, 0);
		buf_release(&m.allow);
	}
	arena_free(a);
}

static void test_method_not_allowed(void **state)
{
	struct arena *a = arena_new();
	struct match m;

	match(&m, a, "PUT", "/api/v1/assets/9");
	assert_int_equal(m.rc, OTCM_EMETHOD);
	assert_string_equal(buf_cstr(&m.allow), "GET, HEAD, DELETE");
	buf_release(&m.allow);

	match(&m, a, "DELETE", "/healthz");
	assert_int_equal(m.rc, OTCM_EMETHOD);
	assert_string_equal(buf_cstr(&m.allow), "GET, HEAD");
	assert_non_null(strstr(err_message(), "DELETE"));
	buf_release(&m.allow);

	/* a method name that is a prefix of another must not be hidden by it */
	match(&m, a, "PATCH", "/api/v1/assets");
	assert_int_equal(m.rc, OTCM_EMETHOD);
	assert_string_equal(buf_cstr(&m.allow), "GET, HEAD, POST");
	buf_release(&m.allow);
	arena_free(a);
}

static void test_pattern_edge_cases(void **state)
{
	struct arena *a = arena_new();
	const char *p[HTTP_MAX_PARAMS];
	size_t n = 99;

	assert_true(dispatch_pattern_match("/x/{a}/{b}/{c}/{d}", "/x/1/2/3/4", a, p, &n));
	assert_int_equal(n, 4);
	assert_string_equal(p[3], "4");
	/* more captures than HTTP_MAX_PARAMS: the pattern matches nothing */
	assert_false(dispatch_pattern_match("/{a}/{b}/{c}/{d}/{e}", "/1/2/3/4/5", a, p, &n));
	/* {name+} takes the rest of the path, less a literal suffix after it */
	assert_true(dispatch_pattern_match("/{a+}/x", "/1/2/x", a, p, &n));
	assert_string_equal(p[0], "1/2");
	assert_false(dispatch_pattern_match("/{a+}/x", "/1/2/y", a, p, &n));
	assert_false(dispatch_pattern_match("/{a+}/x", "/x", a, p, &n));      /* empty capture */
	assert_false(dispatch_pattern_match("/{a+}/{b}", "/1/2", a, p, &n));  /* no capture after it */
	assert_true(dispatch_pattern_match("/git/{asset+}.git/info/refs",
					   "/git/plant-a/line-3/plc-1.git/info/refs", a, p, &n));
	assert_int_equal(n, 1);
	assert_string_equal(p[0], "plant-a/line-3/plc-1");
	assert_false(dispatch_pattern_match("/git/{asset+}.git/info/refs",
					    "/git/plant-a/plc-1.git/git-upload-pack", a, p, &n));
	assert_false(dispatch_pattern_match("/git/{asset+}.git/info/refs", "/git/.git/info/refs", a,
					    p, &n));
	/* unterminated capture */
	assert_false(dispatch_pattern_match("/{a", "/1", a, p, &n));
	/* captures do not cross slashes */
	assert_false(dispatch_pattern_match("/{a}", "/1/2", a, p, &n));
	assert_true(dispatch_pattern_match("/{a+}", "/1/2", a, p, &n));
	assert_string_equal(p[0], "1/2");
	/* a capture is a whole segment: no literal text may follow it within one */
	assert_false(dispatch_pattern_match("/f/{a}.json", "/f/x.json", a, p, &n));
	arena_free(a);
}

static void test_status_for(void **state)
{
	static const struct {
		int code;
		unsigned status;
	} cases[] = {
		{ OTCM_EINVAL, 400 }, { OTCM_ENOTFOUND, 404 }, { OTCM_ECONFLICT, 409 },
		{ OTCM_EAUTH, 401 }, { OTCM_EFORBIDDEN, 403 }, { OTCM_ETOOBIG, 413 },
		{ OTCM_ELOCKED, 423 }, { OTCM_ETHROTTLED, 429 }, { OTCM_EUNAVAIL, 503 },
		{ OTCM_EMEDIA, 415 }, { OTCM_ERULE, 409 }, { OTCM_EMETHOD, 405 },
		{ OTCM_EIO, 500 }, { OTCM_EDB, 500 }, { OTCM_EGIT, 500 },
		{ OTCM_EINTERNAL, 500 }, { OTCM_ERETRY, 500 }, { OTCM_ETIMEOUT, 408 },
		{ OTCM_EHEADERS, 431 }, { -1000, 500 }, { 5, 500 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (http_status_for(cases[i].code) != cases[i].status)
			fail_msg("code %d gave %u, want %u", cases[i].code,
				 http_status_for(cases[i].code), cases[i].status);
	}
}

static void test_roles(void **state)
{
	static const char *const names[] = { "admin", "engineer", "qa", "approver", "auditor", "agent" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unsigned r = role_from_name(names[i]);

		assert_true(r != 0 && (r & ROLE_ANY) == r && (r & (r - 1)) == 0);
		assert_string_equal(role_name(r), names[i]);
	}
	assert_int_equal(role_from_name("root"), 0);
	assert_int_equal(role_from_name("Admin"), 0);
	assert_int_equal(role_from_name(""), 0);
	assert_int_equal(role_from_name(NULL), 0);
	assert_null(role_name(0));
	assert_null(role_name(ROLE_ADMIN | ROLE_QA));
}

/* Uploads keep --max-body once authenticated; everything else gets --max-form-body. */
static void test_body_limit(void **state)
{
	static const struct route upload = { "POST", "/u", ROLE_ENGINEER, h_dummy, "", OP_VERSION_UPLOAD };
	static const struct route attach = { "POST", "/a", ROLE_QA, h_dummy, "", OP_RUN_ATTACH };
	static const struct route login = { "POST", "/login", ROLE_PUBLIC, h_dummy, "", OP_SESSION_LOGIN };
	static const struct route change = { "POST", "/c", ROLE_ENGINEER, h_dummy, "", OP_CHANGE_CREATE };
	struct config cfg;
	struct server srv = { 0 };
	struct http_req req;

	(void)state;
	config_defaults(&cfg);
	srv.cfg = &cfg;
	memset(&req, 0, sizeof(req));
	req.srv = &srv;
	assert_int_equal(cfg.max_form_body, 1u << 20);
	/* anonymous: the small limit everywhere */
	assert_int_equal(dispatch_body_limit(&req, &upload), cfg.max_form_body);
	assert_int_equal(dispatch_body_limit(&req, &login), cfg.max_form_body);
	req.who.user_id = 7;
	assert_int_equal(dispatch_body_limit(&req, &upload), cfg.max_body);
	assert_int_equal(dispatch_body_limit(&req, &attach), cfg.max_body);
	assert_int_equal(dispatch_body_limit(&req, &change), cfg.max_form_body);
	/* the form limit never exceeds --max-body */
	cfg.max_body = 64 << 10;
	assert_int_equal(dispatch_body_limit(&req, &change), 64 << 10);
	config_release(&cfg);
}

#define CT "multipart/form-data; boundary=XyZ"

/* A writable copy of a test body, as the request's own buffer is: the parser writes into it. */
static char *body_copy(struct arena *a, const char *body, size_t len)
{
	return arena_memdup(a, body, len + 1);
}

static void test_multipart(void **state)
{
	static const char body[] =
		"preamble\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"comment\"\r\n"
		"\r\n"
		"first line\r\nsecond\r\n"
		"--XyZ\r\n"
		"content-disposition: form-data; name=\"file\"; filename=\"a %22b%22.st\"\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"bytes\0with NUL\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=empty\r\n"
		"\r\n"
		"\r\n"
		"--XyZ--\r\nepilogue";
	struct arena *a = arena_new();
	struct http_part *parts = NULL;
	char *buf = body_copy(a, body, sizeof(body) - 1);
	size_t n = 0;

	assert_int_equal(http_multipart_parse(&parts, &n, a, CT, buf, sizeof(body) - 1, 10), 0);
	assert_int_equal(n, 3);
	assert_string_equal(parts[0].name, "comment");
	assert_null(parts[0].filename);
	assert_int_equal(parts[0].len, strlen("first line\r\nsecond"));
	assert_memory_equal(parts[0].data, "first line\r\nsecond", parts[0].len);
	assert_string_equal(parts[1].name, "file");
	assert_string_equal(parts[1].filename, "a %22b%22.st"); /* as browsers send '"' */
	assert_string_equal(parts[1].content_type, "text/plain");
	assert_int_equal(parts[1].len, 14);
	assert_memory_equal(parts[1].data, "bytes\0with NUL", 14);
	assert_int_equal(parts[1].data[14], '\0');
	assert_string_equal(parts[2].name, "empty");
	assert_int_equal(parts[2].len, 0);
	assert_int_equal(parts[2].data[0], '\0');
	/* no copies: every part's data lies in the body, where it was sent */
	for (size_t i = 0; i < n; i++) {
		assert_true(parts[i].data >= buf);
		assert_true(parts[i].data + parts[i].len < buf + sizeof(body) - 1);
	}
	assert_ptr_equal(parts[0].data, strstr(body, "first line") - body + buf);

	/* the part limit */
	buf = body_copy(a, body, sizeof(body) - 1);
	assert_int_equal(http_multipart_parse(&parts, &n, a, CT, buf, sizeof(body) - 1, 2),
			 OTCM_ETOOBIG);
	arena_free(a);
}

/*
 * A backslash in a quoted file name is part of the name, as browsers send
 * it (they escape nothing with backslashes): "a\b.L5X" stays "a\b.L5X",
 * so the upload's path rules see it and refuse it.
 */
static void test_multipart_backslash_is_literal(void **state)
{
	static const char body[] =
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"files\"; filename=\"a\\b.L5X\"\r\n"
		"\r\n"
		"x\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"files\"; filename=\"dir\\\"\r\n"
		"\r\n"
		"y\r\n"
		"--XyZ--\r\n";
	struct arena *a = arena_new();
	struct http_part *parts = NULL;
	size_t n = 0;

	assert_int_equal(http_multipart_parse(&parts, &n, a, CT, body_copy(a, body, sizeof(body) - 1),
						sizeof(body) - 1, 10), 0);
	assert_int_equal(n, 2);
	assert_string_equal(parts[0].filename, "a\\b.L5X");
	assert_string_equal(parts[1].filename, "dir\\"); /* a trailing backslash ends nothing */
	assert_string_equal(parts[1].name, "files");
	arena_free(a);
}

static void test_multipart_bad(void **state)
{
	static const char *const bodies[] = {
		"",
		"--XyZ",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
		"--XyZ\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--",
		"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--",
		"--XyZgarbage\r\n",
	};
	struct arena *a = arena_new();
	struct http_part *parts = NULL;
	size_t i, n = 0;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t len = strlen(bodies[i]);
		int rc = http_multipart_parse(&parts, &n, a, CT, body_copy(a, bodies[i], len), len, 10);

		if (rc != OTCM_EINVAL)
			fail_msg("body %zu gave %d", i, rc);
	}
	assert_int_equal(http_multipart_parse(&parts, &n, a, "multipart/form-data",
					      body_copy(a, "x", 1), 1, 10),
			 OTCM_EINVAL);
	assert_int_equal(http_multipart_parse(&parts, &n, a, "application/json", body_copy(a, "x", 1),
					      1, 10),
			 OTCM_EMEDIA);
	assert_true(http_is_multipart("Multipart/Form-Data; boundary=a"));
	assert_false(http_is_multipart("multipart/form-datax"));
	assert_false(http_is_multipart(NULL));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_routes),
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_pattern_edge_cases),
		cmocka_unit_test(test_status_for),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_multipart_backslash_is_literal),
		cmocka_unit_test(test_multipart_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
