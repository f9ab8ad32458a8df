/*
 * Unit tests for storage/directory's pure parts: filter escaping (RFC
 * 4515), the user filter, the membership filter (with Active Directory's
 * LDAP_MATCHING_RULE_IN_CHAIN for nested groups, which slapd does not
 * implement, so tests/integration/test_ldap.py cannot reach it), and
 * userAccountControl.  No directory is contacted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "storage/directory.h"

static void test_escape(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_string_equal(directory_filter_escape(a, "alice"), "alice");
	assert_string_equal(directory_filter_escape(a, "*"), "\\2a");
	assert_string_equal(directory_filter_escape(a, "a)(uid=*"), "a\\29\\28uid=\\2a");
	assert_string_equal(directory_filter_escape(a, "back\\slash"), "back\\5cslash");
	assert_string_equal(directory_filter_escape(a, ""), "");
	arena_free(a);
}

static void test_user_filter(void **state)
{
	struct arena *a = arena_new();
	char big[5000];

	(void)state;
	assert_string_equal(directory_user_filter(a, "(&(objectClass=person)(|(sAMAccountName=%s)(uid=%s)))",
						  "j.smith"),
			    "(&(objectClass=person)(|(sAMAccountName=j.smith)(uid=j.smith)))");
	/* an injection attempt stays a value */
	assert_string_equal(directory_user_filter(a, "(uid=%s)", "*)(objectClass=*"),
			    "(uid=\\2a\\29\\28objectClass=\\2a)");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(directory_user_filter(a, "(uid=%s)", big));
	arena_free(a);
}

static void test_member_filter(void **state)
{
	struct arena *a = arena_new();
	const char *dn = "CN=Smith\\, John,OU=Plant (North),DC=corp,DC=local";

	(void)state;
	assert_string_equal(directory_member_filter(a, "uid=alice,ou=people,dc=x", "alice", false),
			    "(|(member=uid=alice,ou=people,dc=x)(uniqueMember=uid=alice,ou=people,dc=x)"
			    "(memberUid=alice))");
	/* nested groups on Active Directory: the transitive matching rule, DN escaped */
	assert_string_equal(directory_member_filter(a, dn, "jsmith", true),
			    "(member:1.2.840.113556.1.4.1941:="
			    "CN=Smith\\5c, John,OU=Plant \\28North\\29,DC=corp,DC=local)");
	arena_free(a);
}

static void test_uac(void **state)
{
	(void)state;
	assert_false(directory_uac_disabled(NULL));
	assert_false(directory_uac_disabled(""));
	assert_false(directory_uac_disabled("512"));      /* NORMAL_ACCOUNT */
	assert_true(directory_uac_disabled("514"));       /* NORMAL_ACCOUNT | ACCOUNTDISABLE */
	assert_true(directory_uac_disabled("66050"));     /* ... | DONT_EXPIRE_PASSWORD */
	assert_false(directory_uac_disabled("66048"));
	assert_false(directory_uac_disabled("2x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_user_filter),
		cmocka_unit_test(test_member_filter),
		cmocka_unit_test(test_uac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
