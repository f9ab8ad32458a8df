/*
 * core/tls.h - a TLS client over a connected socket, for sending the audit
 * trail to a syslog collector (RFC 5425).  Beside core/crypto.h, this is
 * the only module that includes OpenSSL headers (libssl).
 *
 * The peer's certificate must chain to the trust anchors (a PEM file, or
 * the system's store) and name the host asked for (DNS name, or IP
 * address); TLS 1.2 at least.  Sockets are non-blocking; each call waits
 * with poll() at most its timeout.
 *
 * Thread-safety: a struct tls_conn belongs to one thread.
 */
#ifndef OTCM_CORE_TLS_H
#define OTCM_CORE_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct tls_conn;

/*
 * Handshake on the connected non-blocking socket `fd` as a client of
 * `host` within `timeout_ms`, trusting the certificates in `ca_file` (PEM;
 * NULL: the system's default store).  *out is the caller's (tls_free);
 * the socket stays the caller's.  OTCM_EIO naming "syslog" with OpenSSL's
 * reason (an unverified certificate says so) on failure.
 */
int tls_connect(struct tls_conn **out, int fd, const char *host, const char *ca_file,
		int timeout_ms);

/* Write all `len` bytes within `timeout_ms`; OTCM_EIO when the session fails. */
int tls_write_all(struct tls_conn *t, const void *data, size_t len, int timeout_ms);

/*
 * Is the session still up?  Reads (and drops) whatever the peer sent
 * without waiting: false once it closed (close_notify or end of stream)
 * or the session failed.
 */
bool tls_alive(struct tls_conn *t);

/* Free the session (without closing the socket).  NULL is fine. */
void tls_free(struct tls_conn *t);

#endif
