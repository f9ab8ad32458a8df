/* Unit tests for core/netaddr: which addresses a webhook may reach by default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "core/netaddr.h"

static bool literal_public(const char *host)
{
	bool pub = true;

	assert_true(netaddr_literal(host, &pub));
	return pub;
}

static void test_not_public(void **state)
{
	static const char *const hosts[] = {
		"127.0.0.1", "127.1.2.3", "0.0.0.0", "10.0.0.1", "172.16.0.1", "172.31.255.255",
		"192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "255.255.255.255",
		"192.0.2.1", "198.18.0.1", "::", "::1", "[::1]", "fe80::1", "fc00::1", "fd12:3456::1",
		"ff02::1", "2001:db8::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
		"::127.0.0.1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (literal_public(hosts[i]))
			fail_msg("%s counted as public", hosts[i]);
}

static void test_public(void **state)
{
	static const char *const hosts[] = {
		"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1", "192.169.0.1",
		"2a00:1450:4001::1", "[2606:4700::1111]", "::ffff:8.8.8.8",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (!literal_public(hosts[i]))
			fail_msg("%s counted as not public", hosts[i]);
}

static void test_names_and_sockaddrs(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr un = { .sa_family = AF_UNIX };
	bool pub = true;

	(void)state;
	assert_false(netaddr_literal("localhost", &pub));
	assert_false(netaddr_literal("example.com", &pub));
	assert_false(netaddr_literal("127.1", &pub));   /* a name to inet_pton; the connect-time check holds */
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	assert_false(netaddr_is_public((struct sockaddr *)&in));
	inet_pton(AF_INET, "93.184.216.34", &in.sin_addr);
	assert_true(netaddr_is_public((struct sockaddr *)&in));
	inet_pton(AF_INET6, "::1", &in6.sin6_addr);
	assert_false(netaddr_is_public((struct sockaddr *)&in6));
	assert_false(netaddr_is_public(&un));
	assert_false(netaddr_is_public(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_public),
		cmocka_unit_test(test_public),
		cmocka_unit_test(test_names_and_sockaddrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
