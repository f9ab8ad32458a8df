/* core/tls.c - the TLS client over OpenSSL's libssl; see tls.h. */
#include "core/tls.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"

struct tls_conn {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
};

static int ms_left(int64_t deadline_us)
{
	int64_t left = (deadline_us - time_mono_us()) / 1000;

	return left > 0 ? (int)left : 0;
}

/* OpenSSL's reason for the last failure (and the verification result). */
static int tls_fail(struct tls_conn *t, const char *what)
{
	unsigned long e = ERR_get_error();
	long v = t->ssl ? SSL_get_verify_result(t->ssl) : X509_V_OK;
	char reason[256] = "";

	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if (v != X509_V_OK)
		return err_set(OTCM_EIO, "syslog", "TLS %s: the collector's certificate does not "
			       "verify: %s", what, X509_verify_cert_error_string(v));
	return err_set(OTCM_EIO, "syslog", "TLS %s failed%s%s", what, *reason ? ": " : "", reason);
}

/* Wait until the socket is ready for what OpenSSL asked; false on timeout. */
static bool wait_io(struct tls_conn *t, int ssl_err, int64_t deadline)
{
	struct pollfd p = { .fd = t->fd, .events = ssl_err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT };
	int left = ms_left(deadline);

	return left > 0 && poll(&p, 1, left) == 1;
}

int tls_connect(struct tls_conn **out, int fd, const char *host, const char *ca_file,
		int timeout_ms)
{
	struct tls_conn *t = xcalloc(1, sizeof(*t));
	int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;
	int rc = 0, r;

	t->fd = fd;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx) {
		rc = tls_fail(t, "setup");
		goto out;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	r = ca_file ? SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) :
		      SSL_CTX_set_default_verify_paths(t->ctx);
	if (r != 1) {
		rc = err_set(OTCM_EIO, "syslog-ca", "cannot load the trust anchors %s%s%s",
			     ca_file ? "'" : "", ca_file ? ca_file : "of the system", ca_file ? "'" : "");
		ERR_clear_error();
		goto out;
	}
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
		rc = tls_fail(t, "setup");
		goto out;
	}
	/* the name to check: an IP address literally, otherwise a DNS name (and SNI) */
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1) {
		ERR_clear_error();
		if (SSL_set1_host(t->ssl, host) != 1 || SSL_set_tlsext_host_name(t->ssl, host) != 1) {
			rc = tls_fail(t, "setup");
			goto out;
		}
	}
	for (;;) {
		int e;

		r = SSL_connect(t->ssl);
		if (r == 1)
			break;
		e = SSL_get_error(t->ssl, r);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || !wait_io(t, e, deadline)) {
			rc = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ?
			     err_set(OTCM_EIO, "syslog", "TLS handshake timed out") :
			     tls_fail(t, "handshake");
			goto out;
		}
	}
	*out = t;
	t = NULL;
out:
	tls_free(t);
	return rc;
}

int tls_write_all(struct tls_conn *t, const void *data, size_t len, int timeout_ms)
{
	int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;
	size_t off = 0;

	while (off < len) {
		size_t n = 0;
		int r = SSL_write_ex(t->ssl, (const char *)data + off, len - off, &n), e;

		if (r == 1) {
			off += n;
			continue;
		}
		e = SSL_get_error(t->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return tls_fail(t, "write");
		if (!wait_io(t, e, deadline))
			return err_set(OTCM_EIO, "syslog", "TLS write timed out");
	}
	return 0;
}

bool tls_alive(struct tls_conn *t)
{
	char drain[512];

	for (;;) {
		size_t n = 0;
		int r = SSL_read_ex(t->ssl, drain, sizeof(drain), &n), e;

		if (r == 1)
			continue;
		e = SSL_get_error(t->ssl, r);
		ERR_clear_error();
		return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
	}
}

void tls_free(struct tls_conn *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
}
