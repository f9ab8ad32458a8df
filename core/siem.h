/*
 * core/siem.h - audit events in the forms a plant's SIEM reads: RFC 5424
 * syslog messages with structured data, optionally carrying a CEF line,
 * framed by octet counting (RFC 6587) for a TCP stream; and the
 * `--syslog` destination URL.
 *
 * Pure functions over plain data: no I/O, no clock, no parser.  The field
 * names and their SIEM mapping are in docs/operations.md ("Audit events to
 * the SIEM").
 *
 * Thread-safety: every function is reentrant.
 */
#ifndef OTCM_CORE_SIEM_H
#define OTCM_CORE_SIEM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

/* The structured-data id: "otcm" at the documentation enterprise number. */
#define SIEM_SD_ID "otcm@32473"

enum siem_format { SIEM_RFC5424, SIEM_CEF };

/* One audit event as a SIEM sees it; every text borrowed, NULL for none. */
struct siem_event {
	int64_t seq;
	int64_t at_us;            /* microseconds since the Unix epoch, UTC */
	const char *hash;         /* the event's chain hash, hex */
	const char *actor;
	const char *role;
	const char *source;       /* client address */
	const char *request_id;
	const char *action;
	const char *object_type;
	const char *object_id;
	const char *reason;
};

/* A parsed `--syslog` destination: tcp://HOST:PORT or tls://HOST:PORT. */
struct siem_url {
	bool tls;                 /* tls:// (RFC 5425) */
	char host[256];           /* a name or address; IPv6 without brackets */
	char port[6];
};

/*
 * Parse `url` (tcp://HOST:PORT or tls://HOST:PORT, IPv6 as
 * tcp://[::1]:514) into *out.  Anything else is OTCM_EINVAL naming
 * `field`, with a message saying what is accepted.
 */
int siem_url_parse(struct siem_url *out, const char *url, const char *field);

/*
 * What an event's action says about its outcome: "refused" for actions
 * ending in ".refused" and for "access.unauthenticated", "failure" for
 * ".failed", "success" otherwise.  Returns a static string.
 */
const char *siem_result(const char *action);

/*
 * Append one RFC 5424 message for `ev` to out, without framing:
 *
 *   <PRI>1 TIMESTAMP HOST otcm - ACTION [otcm@32473 seq=".." ...] MSG
 *
 * facility 13 (log audit), severity notice for success and warning
 * otherwise.  `host` is sanitised to printable US-ASCII (NULL or empty:
 * "-").  With SIEM_CEF the message text is siem_format_cef()'s line;
 * otherwise a short UTF-8 sentence behind a BOM.  Fails only when out's
 * cap is reached (OTCM_ETOOBIG; out may then hold part of the message).
 */
int siem_format(struct buf *out, const struct siem_event *ev, const char *host,
		enum siem_format format, const char *version);

/*
 * Append the CEF line (ArcSight CEF 0) for `ev`:
 *   CEF:0|otcm|otcm|VERSION|ACTION|ACTION|SEVERITY|EXTENSION
 * header fields escaped with siem_cef_header_escape, extension values
 * with siem_cef_value_escape.
 */
int siem_format_cef(struct buf *out, const struct siem_event *ev, const char *version);

/*
 * Append the `len` bytes of `msg` to out as one octet-counted frame (RFC 6587 3.4.1):
 * "LEN SP MESSAGE".
 */
int siem_frame(struct buf *out, const char *msg, size_t len);

/* Append `s` escaped for an SD-PARAM value (RFC 5424 6.3.3: \" \\ \]). */
int siem_sd_escape(struct buf *out, const char *s);

/* Append `s` escaped for a CEF header field: \| and \\; line breaks as spaces. */
int siem_cef_header_escape(struct buf *out, const char *s);

/* Append `s` escaped for a CEF extension value: \= \\ and \n \r. */
int siem_cef_value_escape(struct buf *out, const char *s);

#endif
