/* tests/unit/domain/test_csaf.c - CSAF validation, version ranges and matching, by trying to break them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/csaf.h"

/* A small valid advisory in the shape CISA publishes. */
static const char doc_text[] =
	"{\"document\":{\"category\":\"csaf_security_advisory\",\"csaf_version\":\"2.0\","
	"\"publisher\":{\"category\":\"coordinator\",\"name\":\"CISA\",\"namespace\":\"https://www.cisa.gov/\"},"
	"\"title\":\"Siemens SIMATIC S7-1500\",\"distribution\":{\"tlp\":{\"label\":\"WHITE\"}},"
	"\"tracking\":{\"id\":\"ICSA-24-999-01\",\"status\":\"final\",\"version\":\"1\","
	"\"initial_release_date\":\"2024-01-09T00:00:00Z\",\"current_release_date\":\"2024-01-09T00:00:00.000000Z\","
	"\"revision_history\":[{\"date\":\"2024-01-09T00:00:00Z\",\"number\":\"1\",\"summary\":\"Initial\"}]}},"
	"\"product_tree\":{\"branches\":[{\"category\":\"vendor\",\"name\":\"Siemens\",\"branches\":["
	"{\"category\":\"product_name\",\"name\":\"SIMATIC S7-1500 CPU family\",\"branches\":["
	"{\"category\":\"product_version_range\",\"name\":\"<V3.1.0\",\"product\":{\"name\":\"S7-1500 <V3.1.0\","
	"\"product_id\":\"CSAFPID-0001\",\"product_identification_helper\":{\"model_numbers\":[\"6ES7515-2AM0*\"]}}}]}]}]},"
	"\"vulnerabilities\":[{\"cve\":\"CVE-2024-12345\",\"product_status\":{\"known_affected\":[\"CSAFPID-0001\"]},"
	"\"scores\":[{\"products\":[\"CSAFPID-0001\"],\"cvss_v3\":{\"version\":\"3.1\",\"baseScore\":9.8,"
	"\"baseSeverity\":\"CRITICAL\",\"vectorString\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}}],"
	"\"remediations\":[{\"category\":\"vendor_fix\",\"details\":\"Update to V3.1.0\",\"product_ids\":[\"CSAFPID-0001\"]}]}]}";

static json_t *doc(void)
{
	json_error_t e;
	json_t *d = json_loads(doc_text, 0, &e);

	assert_non_null(d);
	return d;
}

static void test_valid(void **state)
{
	json_t *d = doc(), *sum = NULL;

	(void)state;
	assert_int_equal(csaf_validate(d), 0);
	assert_int_equal(csaf_summary(&sum, d), 0);
	assert_string_equal(json_string_value(json_object_get(sum, "tracking_id")), "ICSA-24-999-01");
	assert_string_equal(json_string_value(json_object_get(sum, "severity")), "critical");
	json_decref(sum);
	json_decref(d);
}

/* Break `d` at `pointer` by setting (or, value NULL, deleting) a member; expect that pointer back. */
static void expect_refused(const char *container, const char *key, json_t *value, const char *field)
{
	json_t *d = doc(), *o = d;
	char path[128], *tok, *save = NULL;

	snprintf(path, sizeof(path), "%s", container);
	for (tok = strtok_r(path, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(tok)) : json_object_get(o, tok);
	assert_non_null(o);
	if (value)
		json_object_set_new(o, key, value);
	else
		json_object_del(o, key);
	err_clear();
	assert_int_equal(csaf_validate(d), OTCM_EINVAL);
	if (strcmp(err_field(), field) != 0)
		fail_msg("expected field %s, got %s (%s)", field, err_field(), err_message());
	json_decref(d);
}

static void test_broken(void **state)
{
	(void)state;
	expect_refused("/document/tracking", "id", NULL, "/document/tracking/id");
	expect_refused("/document/tracking", "id", json_string(" x"), "/document/tracking/id");
	expect_refused("/document/tracking", "status", json_string("done"), "/document/tracking/status");
	expect_refused("/document/tracking", "version", json_string("01"), "/document/tracking/version");
	expect_refused("/document/tracking", "revision_history", json_array(),
		       "/document/tracking/revision_history");
	expect_refused("/document/tracking", "current_release_date", json_string("2024-01-09"),
		       "/document/tracking/current_release_date");
	expect_refused("/document", "csaf_version", json_string("1.2"), "/document/csaf_version");
	expect_refused("/document", "category", json_string("_x"), "/document/category");
	expect_refused("/document", "publisher", NULL, "/document/publisher");
	expect_refused("/document/publisher", "category", json_string("vendorx"), "/document/publisher/category");
	expect_refused("/document/distribution/tlp", "label", json_string("CLEAR"),
		       "/document/distribution/tlp/label");
	expect_refused("", "extra", json_true(), "/extra");
	expect_refused("", "document", NULL, "/document");
	expect_refused("/vulnerabilities/0", "cve", json_string("CVE-24-1"), "/vulnerabilities/0/cve");
	expect_refused("/vulnerabilities/0/product_status", "known_affected", json_pack("[s]", "CSAFPID-9"),
		       "/vulnerabilities/0/product_status/known_affected/0");
	expect_refused("/vulnerabilities/0/product_status", "broken", json_pack("[s]", "CSAFPID-0001"),
		       "/vulnerabilities/0/product_status/broken");
	expect_refused("/vulnerabilities/0/scores/0/cvss_v3", "baseScore", json_real(11),
		       "/vulnerabilities/0/scores/0/cvss_v3/baseScore");
	expect_refused("/vulnerabilities/0/remediations/0", "category", json_string("pray"),
		       "/vulnerabilities/0/remediations/0/category");
	expect_refused("/vulnerabilities/0/remediations/0", "details", NULL,
		       "/vulnerabilities/0/remediations/0/details");
	expect_refused("/product_tree/branches/0", "category", json_string("maker"),
		       "/product_tree/branches/0/category");
	expect_refused("/product_tree/branches/0/branches/0/branches/0/product", "product_id", NULL,
		       "/product_tree/branches/0/branches/0/branches/0/product/product_id");
	expect_refused("/product_tree/branches/0/branches/0/branches/0", "branches", json_array(),
		       "/product_tree/branches/0/branches/0/branches/0/branches");
	expect_refused("/product_tree/branches/0/branches/0/branches/0/product/product_identification_helper",
		       "cpe", json_string("siemens"),
		       "/product_tree/branches/0/branches/0/branches/0/product/product_identification_helper/cpe");
	/* a VEX document needs product statuses */
	{
		json_t *d = doc();

		json_object_set_new(json_object_get(d, "document"), "category", json_string("csaf_vex"));
		json_object_del(json_array_get(json_object_get(d, "vulnerabilities"), 0), "product_status");
		assert_int_equal(csaf_validate(d), OTCM_EINVAL);
		assert_string_equal(err_field(), "/vulnerabilities/0/product_status");
		json_decref(d);
	}
	/* not an object at all */
	{
		json_t *a = json_array();

		assert_int_equal(csaf_validate(a), OTCM_EINVAL);
		assert_string_equal(err_field(), "/");
		json_decref(a);
	}
}

static void test_versions(void **state)
{
	(void)state;
	assert_true(csaf_version_cmp("V2.9.4", "2.10") < 0);
	assert_true(csaf_version_cmp("2.10", "v2.10.0") < 0);
	assert_int_equal(csaf_version_cmp("V3.0", "v3.0"), 0);
	assert_int_equal(csaf_version_cmp("Ver.2.40", "2.40"), 0);
	assert_true(csaf_version_cmp("V17 Update 6", "V17_Update_7") < 0);
	assert_true(csaf_version_cmp("33.011", "33.0110") < 0);

	assert_int_equal(csaf_version_in("V3.0.2", "<V3.1.0", true), 1);
	assert_int_equal(csaf_version_in("V3.1.0", "<V3.1.0", true), 0);
	assert_int_equal(csaf_version_in("3.3.23", "<=3.3.23", true), 1);
	assert_int_equal(csaf_version_in("3.3.24", "<=3.3.23", true), 0);
	assert_int_equal(csaf_version_in("anything", "vers:all/*", true), 1);
	assert_int_equal(csaf_version_in("", "vers:all/*", true), 1);
	assert_int_equal(csaf_version_in("2.3", "vers:all/<V2.4.0", true), 1);
	assert_int_equal(csaf_version_in("2.4.0", "vers:all/<V2.4.0", true), 0);
	assert_int_equal(csaf_version_in("1.5", "vers:generic/>=1.2|<2.0", true), 1);
	assert_int_equal(csaf_version_in("2.0", "vers:generic/>=1.2|<2.0", true), 0);
	assert_int_equal(csaf_version_in("R5.02.00", ">=R5.01.00|<=R5.04.20", true), 1);
	assert_int_equal(csaf_version_in("R5.05.00", ">=R5.01.00|<=R5.04.20", true), 0);
	assert_int_equal(csaf_version_in("R5.00.00", ">=R5.01.00|<=R5.04.20", true), 0);
	assert_int_equal(csaf_version_in("13.0", "12.0|13.0|14.0", true), 1);
	assert_int_equal(csaf_version_in("13.1", "12.0|13.0|14.0", true), 0);
	/* several product lines, each with its fix */
	assert_int_equal(csaf_version_in("34.011", "<V33.017_V34.014_V35.013_V36.011", true), 1);
	assert_int_equal(csaf_version_in("34.014", "<V33.017_V34.014_V35.013_V36.011", true), 0);
	assert_int_equal(csaf_version_in("32.002", "<V33.017_V34.014_V35.013_V36.011", true), 1);
	assert_int_equal(csaf_version_in("37.011", "<V33.017_V34.014_V35.013_V36.011", true), 0);
	assert_int_equal(csaf_version_in("35.011", "<v36.011_v35.013_v34.014", true), 1);
	/* one version with words in it */
	assert_int_equal(csaf_version_in("V17 Update 6", "<V17_Update_7", true), 1);
	assert_int_equal(csaf_version_in("V17 Update 8", "<V17_Update_7", true), 0);
	/* Siemens' words */
	assert_int_equal(csaf_version_in("V05.10", "All versions < CPCI85 V05.20", true), 1);
	assert_int_equal(csaf_version_in("V05.30", "All versions < CPCI85 V05.20", true), 0);
	assert_int_equal(csaf_version_in("V2.5", "All versions >= V2.0 < V3.0", true), 1);
	assert_int_equal(csaf_version_in("V3.5", "All versions >= V2.0 < V3.0", true), 0);
	assert_int_equal(csaf_version_in("1.0", "All versions", false), 1);
	/* not decidable */
	assert_int_equal(csaf_version_in("", "<V3.1", true), -1);
	assert_int_equal(csaf_version_in("3.0", "<May_1_2024", true), -1);
	assert_int_equal(csaf_version_in("3.0", "<with_Palo_Alto_Networks_Virtual_NGFW_V11.0.1", true), -1);
	assert_int_equal(csaf_version_in("3.0", "<=The_first_5_digits_of_serial_No._\"26061\"", true), -1);
	assert_int_equal(csaf_version_in("3.0", "All versions with Fortinet NGFW", true), 1);
	/* an exact product version */
	assert_int_equal(csaf_version_in("v3.002", "v3.002", false), 1);
	assert_int_equal(csaf_version_in("v3.003", "v3.002", false), 0);
}

static json_t *product(const char *vendor, const char *name, const char *version, bool range)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:[], s:s, s:s}", "product_id", "P1", "name", name,
			 "vendor", vendor, "product", name, "version", version, "range", range,
			 "model_numbers", "cpe", "", "purl", "");
}

static void test_match(void **state)
{
	struct csaf_asset a = { "Siemens AG", "SIMATIC S7-1500", "V3.0.2", "", "", "" };
	json_t *p = product("Siemens", "SIMATIC S7-1500 CPU family", "<V3.1.0", true);
	const char *why;

	(void)state;
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_YES);
	a.firmware = "V3.1.0";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_NO);
	assert_string_equal(why, "version outside the affected range");
	a.firmware = "";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_VERSION);
	a.firmware = "V3.0.2";
	a.vendor = "Rockwell Automation";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_NO);
	a.vendor = "Siemens";
	a.model = "SIMATIC S7-1200";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_NO);
	/* one short word is not enough to call two products the same */
	a.model = "CPU";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_NO);
	json_decref(p);

	/* model numbers decide when the asset has an order number */
	p = product("Siemens", "SIMATIC S7-1500 CPU family", "<V3.1.0", true);
	json_array_append_new(json_object_get(p, "model_numbers"), json_string("6ES7515-2AM0*"));
	a.model = "CPU 1515-2 PN";
	a.order_number = "6ES7 515-2AM02-0AB0";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_YES);
	assert_string_equal(why, "model number");
	a.order_number = "6ES7516-3AN02-0AB0";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_NO);
	json_decref(p);

	/* CPE and PURL on both sides */
	p = product("Siemens", "SIMATIC S7-1500", "<V3.1.0", true);
	json_object_set_new(p, "cpe", json_string("cpe:2.3:h:siemens:simatic_s7-1500:*:*:*:*:*:*:*:*"));
	a.order_number = "";
	a.model = "whatever";
	a.cpe = "cpe:2.3:h:Siemens:SIMATIC_S7-1500:-:*:*:*:*:*:*:*";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_YES);
	assert_string_equal(why, "CPE");
	a.cpe = "cpe:/h:siemens:simatic_s7-1200";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_NO);
	json_decref(p);
	p = product("Acme", "Gateway", "", false);
	json_object_set_new(p, "purl", json_string("pkg:generic/acme/gateway@2.1"));
	a.cpe = "";
	a.purl = "pkg:generic/acme/gateway@2.1";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_YES);
	a.purl = "pkg:generic/acme/gateway@2.2";
	assert_int_equal(csaf_match(p, &a, &why), CSAF_MATCH_NO);
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
