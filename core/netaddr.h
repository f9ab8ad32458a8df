/*
 * core/netaddr.h - is an address on the public internet?  For outbound
 * requests a user can aim (webhook receivers): unless an administrator
 * allows private networks, otcm connects only to public unicast addresses,
 * so a subscription cannot make the server probe its own host, the plant
 * network or a cloud metadata service (docs/operations.md, "Webhooks").
 *
 * Pure functions: no I/O.  Thread-safety: reentrant.
 */
#ifndef OTCM_CORE_NETADDR_H
#define OTCM_CORE_NETADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/*
 * false for loopback, unspecified, private (RFC 1918, fc00::/7), shared
 * (100.64/10), link-local, multicast, reserved and documentation ranges,
 * IPv4-mapped and NAT64 forms of those, and for any family but
 * AF_INET/AF_INET6; true otherwise.
 */
bool netaddr_is_public(const struct sockaddr *sa);

/*
 * When `host` is a literal IPv4 or IPv6 address (brackets allowed), set
 * *out_public as netaddr_is_public() and return true; a name returns false.
 */
bool netaddr_literal(const char *host, bool *out_public);

#endif
