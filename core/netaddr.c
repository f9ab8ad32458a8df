/* core/netaddr.c - public and non-public addresses; see netaddr.h. */
#include "core/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/* IPv4 address a (host order) within prefix/len? */
static bool in4(uint32_t a, uint32_t prefix, unsigned len)
{
	uint32_t mask = len ? ~(uint32_t)0 << (32 - len) : 0;

	return (a & mask) == (prefix & mask);
}

static bool public4(uint32_t a)
{
	static const struct { uint32_t prefix; unsigned len; } not_public[] = {
		{ 0x00000000, 8 },    /* "this network" */
		{ 0x0a000000, 8 },    /* private */
		{ 0x64400000, 10 },   /* shared address space (carrier NAT) */
		{ 0x7f000000, 8 },    /* loopback */
		{ 0xa9fe0000, 16 },   /* link-local, cloud metadata */
		{ 0xac100000, 12 },   /* private */
		{ 0xc0000000, 24 },   /* IETF protocol assignments */
		{ 0xc0000200, 24 },   /* documentation */
		{ 0xc0a80000, 16 },   /* private */
		{ 0xc6120000, 15 },   /* benchmarking */
		{ 0xc6336400, 24 },   /* documentation */
		{ 0xcb007100, 24 },   /* documentation */
		{ 0xe0000000, 4 },    /* multicast */
		{ 0xf0000000, 4 },    /* reserved, broadcast */
	};

	for (size_t i = 0; i < sizeof(not_public) / sizeof(not_public[0]); i++)
		if (in4(a, not_public[i].prefix, not_public[i].len))
			return false;
	return true;
}

static bool public6(const unsigned char *b)
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return public4((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
	if (memcmp(b, zero, 15) == 0)
		return false;                      /* :: and ::1 */
	if ((b[0] & 0xfe) == 0xfc)                 /* unique local fc00::/7 */
		return false;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* link-local fe80::/10 */
		return false;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* site-local fec0::/10 (deprecated) */
		return false;
	if (b[0] == 0xff)                          /* multicast */
		return false;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)  /* documentation */
		return false;
	if (memcmp(b, zero, 12) == 0)              /* IPv4-compatible (deprecated) */
		return false;
	return true;
}

bool netaddr_is_public(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return public4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return public6(in6->sin6_addr.s6_addr);
	}
	return false;
}

bool netaddr_literal(const char *host, bool *out_public)
{
	char buf[64];
	size_t n = strlen(host);
	struct in_addr a4;
	struct in6_addr a6;

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, host, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		*out_public = public4(ntohl(a4.s_addr));
		return true;
	}
	if (inet_pton(AF_INET6, buf, &a6) == 1) {
		*out_public = public6(a6.s6_addr);
		return true;
	}
	return false;
}
