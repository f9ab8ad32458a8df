/* Unit tests for core/config: defaults, environment, command line, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"

static void test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_string_equal(cfg.data, "var");
	assert_null(cfg.database);
	assert_int_equal(cfg.max_body, 256ull << 20);
	assert_true(cfg.password_iterations >= 600000);
	config_release(&cfg);
}

static void test_environment_then_command_line(void **state)
{
	struct config cfg;
	char *argv[] = { "otcm", "serve", "--listen", "127.0.0.1:9000", "--max-body=2M", "extra", NULL };
	int next = 0;

	(void)state;
	setenv("OTCM_LISTEN", "127.0.0.1:7000", 1);
	setenv("OTCM_THREADS", "3", 1);
	setenv("OTCM_DATABASE_URL", "postgresql:///otcm", 1);
	assert_int_equal(config_load(&cfg, 6, argv, 2, &next), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:9000"); /* the command line wins */
	assert_int_equal(cfg.threads, 3);
	assert_int_equal(cfg.max_body, 2u << 20);
	assert_string_equal(cfg.database, "postgresql:///otcm");
	assert_int_equal(next, 5);
	config_release(&cfg);
	unsetenv("OTCM_LISTEN");
	unsetenv("OTCM_THREADS");
	unsetenv("OTCM_DATABASE_URL");
}

static void expect_refused(char *opt, char *val, const char *field)
{
	struct config cfg;
	char *argv[] = { "otcm", "serve", opt, val, NULL };

	assert_int_equal(config_load(&cfg, val ? 4 : 3, argv, 2, NULL), OTCM_EINVAL);
	assert_string_equal(err_field(), field);
	config_release(&cfg);
}

static void test_bad_values_name_the_option(void **state)
{
	(void)state;
	expect_refused("--listen", "nowhere", "listen");
	expect_refused("--listen", "127.0.0.1:99999", "listen");
	expect_refused("--threads", "0", "threads");
	expect_refused("--threads", "many", "threads");
	expect_refused("--max-body", "12X", "max-body");
	expect_refused("--no-such-option", "1", "no-such-option");
	expect_refused("--log-level", "loud", "log-level");
	expect_refused("--threads", NULL, "threads");
}

static void test_tls_needs_both(void **state)
{
	struct config cfg;
	char *argv[] = { "otcm", "serve", "--tls-cert", "c.pem", NULL };

	(void)state;
	assert_int_equal(config_load(&cfg, 4, argv, 2, NULL), OTCM_EINVAL);
	config_release(&cfg);
}

static void test_ldap_options(void **state)
{
	struct config cfg;
	char *bad_map[] = { "otcm", "serve", "--ldap-url", "ldaps://dc1", "--ldap-user-base", "dc=x",
			    "--ldap-role-map", "root:cn=g,dc=x", NULL };
	char *no_dn[] = { "otcm", "serve", "--ldap-url", "ldaps://dc1", "--ldap-user-base", "dc=x",
			  "--ldap-role-map", "admin:admins", NULL };
	char *good[] = { "otcm", "serve", "--ldap-url", "ldaps://dc1", "--ldap-user-base", "dc=x",
			 "--ldap-role-map", "admin:cn=a,dc=x;qa:cn=q,dc=x", "--ldap-bind-dn", "cn=svc,dc=x",
			 NULL };

	(void)state;
	expect_refused("--ldap-url", "http://dc1", "ldap-url");
	expect_refused("--ldap-nested-groups", "maybe", "ldap-nested-groups");
	expect_refused("--ldap-user-filter", "(uid=alice)", "ldap-user-filter");
	/* a directory needs its base and its role map; the other options need a directory */
	expect_refused("--ldap-url", "ldap://dc1", "ldap-user-base");
	expect_refused("--ldap-bind-dn", "cn=svc,dc=x", "ldap-url");
	assert_int_equal(config_load(&cfg, 8, bad_map, 2, NULL), OTCM_EINVAL);
	assert_string_equal(err_field(), "ldap-role-map");
	config_release(&cfg);
	assert_int_equal(config_load(&cfg, 8, no_dn, 2, NULL), OTCM_EINVAL);
	assert_string_equal(err_field(), "ldap-role-map");
	config_release(&cfg);
	/* a service account without its password is refused; from the environment it is taken */
	assert_int_equal(config_load(&cfg, 10, good, 2, NULL), OTCM_EINVAL);
	assert_string_equal(err_field(), "ldap-bind-dn");
	config_release(&cfg);
	setenv("OTCM_LDAP_BIND_PASSWORD", "s3cret", 1);
	assert_int_equal(config_load(&cfg, 10, good, 2, NULL), 0);
	assert_string_equal(cfg.ldap_bind_password, "s3cret");
	assert_string_equal(cfg.ldap_nested_groups, "no");
	assert_int_equal(cfg.ldap_timeout, 5);
	config_release(&cfg);
	unsetenv("OTCM_LDAP_BIND_PASSWORD");
}

static void test_secrets_never_from_the_command_line(void **state)
{
	(void)state;
	expect_refused("--ldap-bind-password", "s3cret", "ldap-bind-password");
	assert_non_null(strstr(err_message(), "command line"));
	expect_refused("--ldap-bind-password=s3cret", NULL, "ldap-bind-password");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_environment_then_command_line),
		cmocka_unit_test(test_bad_values_name_the_option),
		cmocka_unit_test(test_tls_needs_both),
		cmocka_unit_test(test_ldap_options),
		cmocka_unit_test(test_secrets_never_from_the_command_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
