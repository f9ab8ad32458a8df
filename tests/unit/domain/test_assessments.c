/*
 * tests/unit/domain/test_assessments.c - what a released firmware update
 * does to the patch records, through the functions it calls inside its own
 * transaction: dom_inventory_observe() moves the firmware with source
 * "change" (and the advisory stops matching), dom_assessment_fixed_by_change()
 * marks the assessment fixed with the change's key.  Runs against a fresh
 * database (tests/unit/storage/testdb.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>

#include "../storage/testdb.h"
#include "core/arena.h"
#include "core/config.h"
#include "domain/advisories.h"
#include "domain/assessments.h"
#include "domain/csaf.h"
#include "domain/exposure.h"
#include "domain/inventory.h"

static struct testdb tdb;
static struct db_pool *pool;
static struct config cfg;
static struct actor who;
static char asset_id[24];

static const char advisory[] =
	"{\"document\":{\"category\":\"csaf_security_advisory\",\"csaf_version\":\"2.0\","
	"\"publisher\":{\"category\":\"coordinator\",\"name\":\"CISA\",\"namespace\":\"https://www.cisa.gov/\"},"
	"\"title\":\"Yokogawa CENTUM\",\"tracking\":{\"id\":\"TEST-ADV-1\",\"status\":\"final\",\"version\":\"1\","
	"\"initial_release_date\":\"2024-06-20T06:00:00Z\",\"current_release_date\":\"2024-06-20T06:00:00Z\","
	"\"revision_history\":[{\"date\":\"2024-06-20T06:00:00Z\",\"number\":\"1\",\"summary\":\"Initial\"}]}},"
	"\"product_tree\":{\"branches\":[{\"category\":\"vendor\",\"name\":\"Yokogawa\",\"branches\":["
	"{\"category\":\"product_name\",\"name\":\"CENTUM VP\",\"branches\":[{\"category\":\"product_version_range\","
	"\"name\":\">=R5.01.00|<=R5.04.20\",\"product\":{\"name\":\"CENTUM VP R5\",\"product_id\":\"P1\"}}]}]}]},"
	"\"vulnerabilities\":[{\"cve\":\"CVE-2024-5650\",\"product_status\":{\"known_affected\":[\"P1\"]},"
	"\"scores\":[{\"products\":[\"P1\"],\"cvss_v3\":{\"version\":\"3.1\",\"baseScore\":7.5,"
	"\"baseSeverity\":\"HIGH\",\"vectorString\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\"}}],"
	"\"remediations\":[{\"category\":\"vendor_fix\",\"details\":\"Update to R5.04.20 patch\","
	"\"product_ids\":[\"P1\"]}]}]}";

static struct dom ctx(struct arena *a)
{
	struct dom d;

	memset(&d, 0, sizeof(d));
	d.who = &who;
	d.arena = a;
	d.db = pool;
	d.cfg = &cfg;
	d.origin = "otcm/test";
	return d;
}

/* Run `sql` on its own connection; the first column of the first row, or NULL. */
static char *scalar(const char *sql)
{
	struct db_conn *c = NULL;
	struct db_res *r = NULL;
	char *v = NULL;

	assert_int_equal(db_acquire(&c, pool), 0);
	assert_int_equal(db_execv(&r, c, sql, 0, NULL), 0);
	if (db_res_rows(r) && !db_res_isnull(r, 0, 0))
		v = xstrdup(db_res_get(r, 0, 0));
	db_res_free(r);
	db_release(c);
	return v;
}

static int group_setup(void **state)
{
	struct arena *a;
	struct dom d;
	json_t *out = NULL;
	char *id;

	(void)state;
	if (testdb_setup_migrated(&tdb) || db_pool_new(&pool, tdb.conninfo, 2))
		return -1;
	config_defaults(&cfg);
	memset(&who, 0, sizeof(who));
	who.username = "system";
	who.display_name = "System";
	who.role = ROLE_ADMIN;
	who.auth = "cli";
	who.door = DOOR_CLI;
	free(scalar("INSERT INTO users (username, display_name, role, password_hash) "
		    "VALUES ('owner', 'Owner', 'admin', 'x') RETURNING id"));
	id = scalar("INSERT INTO assets (path, type, vendor, model, firmware, created_by) "
		    "VALUES ('site/dcs/centum', 'scada', 'Yokogawa', 'CENTUM VP', 'R5.02.00', "
		    "(SELECT id FROM users WHERE username = 'owner')) RETURNING id");
	snprintf(asset_id, sizeof(asset_id), "%s", id);
	free(id);
	a = arena_new();
	d = ctx(a);
	if (dom_advisory_import(&out, &d, advisory, strlen(advisory), "upload", NULL)) {
		fprintf(stderr, "import: %s\n", err_message());
		return -1;
	}
	json_decref(out);
	arena_free(a);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	db_pool_free(pool);
	config_release(&cfg);
	testdb_teardown(&tdb);
	return 0;
}

static void test_release_moves_firmware_and_fixes(void **state)
{
	struct arena *a = arena_new();
	struct dom d = ctx(a);
	struct db_conn *c = NULL;
	struct inv_observation obs;
	json_t *x = NULL, *view = NULL;
	char *v;

	(void)state;
	/* the advisory concerns the asset before the update */
	assert_int_equal(dom_exposure(&x, &d, strtoll(asset_id, NULL, 10), NULL), 0);
	assert_int_equal(json_array_size(json_object_get(x, "items")), 1);
	json_decref(x);

	/* the release: one transaction, the firmware moved by the change, the assessment fixed */
	memset(&obs, 0, sizeof(obs));
	obs.firmware = "R5.04.30";
	assert_int_equal(dom_begin(&c, &d), 0);
	assert_int_equal(dom_inventory_observe(&d, c, asset_id, &obs, "change", "CHG-0007"), 0);
	assert_int_equal(dom_assessment_fixed_by_change(&d, c, "TEST-ADV-1", asset_id, "CHG-0007"), 0);
	assert_int_equal(dom_commit(c), 0);
	dom_end(c);

	assert_int_equal(dom_assessment_read(&view, &d, "TEST-ADV-1", strtoll(asset_id, NULL, 10)), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(view, "assessment"), "status")),
			    "fixed");
	assert_string_equal(json_string_value(json_object_get(json_object_get(view, "assessment"), "change_key")),
			    "CHG-0007");
	/* the new firmware is outside the range: no match left */
	assert_true(json_is_null(json_object_get(view, "match")));
	json_decref(view);

	v = scalar("SELECT source || ' ' || source_ref || ' ' || old_value || ' ' || new_value "
		   "FROM asset_inventory_history WHERE field = 'firmware' ORDER BY id DESC LIMIT 1");
	assert_string_equal(v, "change CHG-0007 R5.02.00 R5.04.30");
	free(v);
	v = scalar("SELECT count(*) FROM audit_events WHERE action = 'assessment.fixed' "
		   "AND object_id LIKE 'TEST-ADV-1/%' AND reason = 'CHG-0007'");
	assert_string_equal(v, "1");
	free(v);
	v = scalar("SELECT count(*) FROM audit_events WHERE action = 'inventory.observe' AND reason = 'change CHG-0007'");
	assert_string_equal(v, "1");
	free(v);

	/* the exports still state it: fixed, by the change */
	{
		json_t *doc = NULL, *vuln;
		char pid[48];

		snprintf(pid, sizeof(pid), "OTCM-ASSET-%s", asset_id);
		assert_int_equal(dom_exposure_export(&doc, &d, strtoll(asset_id, NULL, 10), NULL, "csaf-vex"), 0);
		assert_int_equal(csaf_validate(doc), 0);
		vuln = json_array_get(json_object_get(doc, "vulnerabilities"), 0);
		assert_string_equal(json_string_value(json_object_get(vuln, "cve")), "CVE-2024-5650");
		assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(vuln,
				    "product_status"), "fixed"), 0)), pid);
		json_decref(doc);
		assert_int_equal(dom_exposure_export(&doc, &d, strtoll(asset_id, NULL, 10), NULL, "cyclonedx"), 0);
		vuln = json_array_get(json_object_get(doc, "vulnerabilities"), 0);
		assert_string_equal(json_string_value(json_object_get(json_object_get(vuln, "analysis"), "state")),
				    "resolved");
		json_decref(doc);
	}

	/* the same observation again writes nothing */
	assert_int_equal(dom_begin(&c, &d), 0);
	assert_int_equal(dom_inventory_observe(&d, c, asset_id, &obs, "change", "CHG-0007"), 0);
	assert_int_equal(dom_commit(c), 0);
	dom_end(c);
	v = scalar("SELECT count(*) FROM asset_inventory_history WHERE source = 'change'");
	assert_string_equal(v, "1");
	free(v);
	arena_free(a);
}

static void test_refusals(void **state)
{
	struct arena *a = arena_new();
	struct dom d = ctx(a);
	struct db_conn *c = NULL;
	struct inv_observation obs;

	(void)state;
	assert_int_equal(dom_begin(&c, &d), 0);
	assert_int_equal(dom_assessment_fixed_by_change(&d, c, "NO-SUCH-1", asset_id, "CHG-1"), OTCM_ENOTFOUND);
	assert_string_equal(err_field(), "advisory");
	assert_int_equal(dom_assessment_fixed_by_change(&d, c, "TEST-ADV-1", "999999", "CHG-1"), OTCM_ENOTFOUND);
	assert_string_equal(err_field(), "id");
	assert_int_equal(dom_assessment_fixed_by_change(&d, c, "TEST-ADV-1", "x", "CHG-1"), OTCM_ENOTFOUND);
	assert_int_equal(dom_assessment_fixed_by_change(&d, c, "TEST-ADV-1", asset_id, ""), OTCM_EINVAL);
	assert_string_equal(err_field(), "change_key");
	memset(&obs, 0, sizeof(obs));
	obs.firmware = "R6";
	assert_int_equal(dom_inventory_observe(&d, c, asset_id, &obs, "change", NULL), OTCM_EINVAL);
	assert_string_equal(err_field(), "source_ref");
	assert_int_equal(dom_inventory_observe(&d, c, asset_id, &obs, "guess", "x"), OTCM_EINVAL);
	assert_string_equal(err_field(), "source");
	obs.firmware = NULL;
	obs.cpe = "cpe:2.3:h:yokogawa";
	assert_int_equal(dom_inventory_observe(&d, c, asset_id, &obs, "readback", "17"), OTCM_EINVAL);
	assert_string_equal(err_field(), "cpe");
	dom_end(c);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_moves_firmware_and_fixes),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
