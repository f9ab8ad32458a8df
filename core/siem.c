/*
 * core/siem.c - RFC 5424 and CEF text for audit events, octet-counted
 * framing and the destination URL; see siem.h.
 */
#include "core/siem.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

/* RFC 5424: facility 13 (log audit); severity 5 (notice) or 4 (warning). */
#define SIEM_FACILITY 13
#define SIEM_SEV_OK 5
#define SIEM_SEV_BAD 4

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && memcmp(s + n - t, tail, t) == 0;
}

const char *siem_result(const char *action)
{
	if (!action)
		return "success";
	if (ends_with(action, ".refused") || strcmp(action, "access.unauthenticated") == 0)
		return "refused";
	if (ends_with(action, ".failed"))
		return "failure";
	return "success";
}

int siem_url_parse(struct siem_url *out, const char *url, const char *field)
{
	const char *host, *end, *colon;
	size_t hlen;
	char *stop;
	long port;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "tls://", 6) == 0)
		out->tls = true;
	else if (strncmp(url, "tcp://", 6) != 0)
		return err_set(OTCM_EINVAL, field, "--%s must be tcp://HOST:PORT or tls://HOST:PORT, "
			       "got '%s'", field, url);
	host = url + 6;
	if (*host == '[') {
		end = strchr(host, ']');
		if (!end || end[1] != ':')
			return err_set(OTCM_EINVAL, field, "--%s has a bad IPv6 address in '%s'", field, url);
		colon = end + 1;
		host++;
	} else {
		colon = strrchr(host, ':');
		end = colon;
	}
	if (!colon || !end || end == host)
		return err_set(OTCM_EINVAL, field, "--%s must name a host and a port: tcp://HOST:PORT "
			       "or tls://HOST:PORT, got '%s'", field, url);
	hlen = (size_t)(end - host);
	if (hlen >= sizeof(out->host) || memchr(host, '/', hlen) || memchr(host, '@', hlen))
		return err_set(OTCM_EINVAL, field, "--%s has a bad host in '%s'", field, url);
	port = strtol(colon + 1, &stop, 10);
	if (colon[1] < '0' || colon[1] > '9' || *stop || port < 1 || port > 65535)
		return err_set(OTCM_EINVAL, field, "--%s has a bad port in '%s' (1 to 65535)", field, url);
	memcpy(out->host, host, hlen);
	snprintf(out->port, sizeof(out->port), "%ld", port);
	return 0;
}

/* Printable US-ASCII (33..126) for header fields; others become '_'. */
static int add_header_token(struct buf *out, const char *s, size_t max)
{
	size_t i;
	int rc = 0;

	if (!s || !*s)
		return buf_addch(out, '-');
	for (i = 0; s[i] && i < max && rc == 0; i++) {
		unsigned char ch = (unsigned char)s[i];

		rc = buf_addch(out, ch >= 33 && ch <= 126 ? (char)ch : '_');
	}
	return rc;
}

int siem_sd_escape(struct buf *out, const char *s)
{
	int rc = 0;

	for (; s && *s && rc == 0; s++) {
		if (*s == '"' || *s == '\\' || *s == ']')
			rc = buf_addch(out, '\\');
		if (rc == 0)
			rc = buf_addch(out, *s);
	}
	return rc;
}

int siem_cef_header_escape(struct buf *out, const char *s)
{
	int rc = 0;

	for (; s && *s && rc == 0; s++) {
		if (*s == '\r' || *s == '\n') {
			rc = buf_addch(out, ' ');
			continue;
		}
		if (*s == '|' || *s == '\\')
			rc = buf_addch(out, '\\');
		if (rc == 0)
			rc = buf_addch(out, *s);
	}
	return rc;
}

int siem_cef_value_escape(struct buf *out, const char *s)
{
	int rc = 0;

	for (; s && *s && rc == 0; s++) {
		if (*s == '\n')
			rc = buf_adds(out, "\\n");
		else if (*s == '\r')
			rc = buf_adds(out, "\\r");
		else if (*s == '=' || *s == '\\')
			rc = buf_addch(out, '\\');
		if (rc == 0 && *s != '\n' && *s != '\r')
			rc = buf_addch(out, *s);
	}
	return rc;
}

/* One SD-PARAM ` name="value"`; nothing for a NULL value. */
static int add_param(struct buf *out, const char *name, const char *value)
{
	int rc;

	if (!value)
		return 0;
	if ((rc = buf_addf(out, " %s=\"", name)) || (rc = siem_sd_escape(out, value)))
		return rc;
	return buf_addch(out, '"');
}

/* One CEF extension ` key=value`; nothing for a NULL value. */
static int add_ext(struct buf *out, const char *key, const char *value)
{
	int rc;

	if (!value)
		return 0;
	if ((rc = buf_addf(out, " %s=", key)))
		return rc;
	return siem_cef_value_escape(out, value);
}

int siem_format_cef(struct buf *out, const struct siem_event *ev, const char *version)
{
	const char *result = siem_result(ev->action);
	char seq[24], rt[24];
	int rc;

	snprintf(seq, sizeof(seq), "%" PRId64, ev->seq);
	snprintf(rt, sizeof(rt), "%" PRId64, ev->at_us / 1000);
	if ((rc = buf_adds(out, "CEF:0|otcm|otcm|")) ||
	    (rc = siem_cef_header_escape(out, version ? version : "")) ||
	    (rc = buf_addch(out, '|')) || (rc = siem_cef_header_escape(out, ev->action)) ||
	    (rc = buf_addch(out, '|')) || (rc = siem_cef_header_escape(out, ev->action)) ||
	    (rc = buf_addf(out, "|%d|", strcmp(result, "success") == 0 ? 3 : 7)))
		return rc;
	/* the first extension has no leading space */
	if ((rc = buf_addf(out, "rt=%s", rt)) ||
	    (rc = add_ext(out, "externalId", seq)) ||
	    (rc = add_ext(out, "act", ev->action)) ||
	    (rc = add_ext(out, "outcome", result)) ||
	    (rc = add_ext(out, "suser", ev->actor)) ||
	    (rc = add_ext(out, "spriv", ev->role)) ||
	    (rc = add_ext(out, "src", ev->source)) ||
	    (rc = add_ext(out, "cs1Label", "object_type")) ||
	    (rc = add_ext(out, "cs1", ev->object_type)) ||
	    (rc = add_ext(out, "cs2Label", "object_id")) ||
	    (rc = add_ext(out, "cs2", ev->object_id)) ||
	    (rc = add_ext(out, "cs3Label", "hash")) ||
	    (rc = add_ext(out, "cs3", ev->hash)) ||
	    (rc = add_ext(out, "cs4Label", "request_id")) ||
	    (rc = add_ext(out, "cs4", ev->request_id)) ||
	    (rc = add_ext(out, "reason", ev->reason)))
		return rc;
	return 0;
}

int siem_format(struct buf *out, const struct siem_event *ev, const char *host,
		enum siem_format format, const char *version)
{
	const char *result = siem_result(ev->action);
	int64_t secs = ev->at_us >= 0 ? ev->at_us / 1000000 : (ev->at_us - 999999) / 1000000;
	time_t t = (time_t)secs;
	struct tm tm;
	char seq[24];
	int rc;

	snprintf(seq, sizeof(seq), "%" PRId64, ev->seq);
	gmtime_r(&t, &tm);
	if ((rc = buf_addf(out, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06dZ ",
			   SIEM_FACILITY * 8 + (strcmp(result, "success") == 0 ? SIEM_SEV_OK : SIEM_SEV_BAD),
			   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			   tm.tm_sec, (int)(ev->at_us - secs * 1000000))) ||
	    (rc = add_header_token(out, host, 255)) || (rc = buf_adds(out, " otcm - ")) ||
	    (rc = add_header_token(out, ev->action, 32)))
		return rc;
	if ((rc = buf_adds(out, " [" SIEM_SD_ID)) ||
	    (rc = add_param(out, "seq", seq)) ||
	    (rc = add_param(out, "hash", ev->hash)) ||
	    (rc = add_param(out, "actor", ev->actor)) ||
	    (rc = add_param(out, "role", ev->role)) ||
	    (rc = add_param(out, "action", ev->action)) ||
	    (rc = add_param(out, "object_type", ev->object_type)) ||
	    (rc = add_param(out, "object_id", ev->object_id)) ||
	    (rc = add_param(out, "result", result)) ||
	    (rc = add_param(out, "source", ev->source)) ||
	    (rc = add_param(out, "request_id", ev->request_id)) ||
	    (rc = buf_adds(out, "] ")))
		return rc;
	if (format == SIEM_CEF)
		return siem_format_cef(out, ev, version);
	/* MSG: UTF-8 behind a BOM (RFC 5424 6.4), one line */
	if ((rc = buf_adds(out, "\xef\xbb\xbf")) ||
	    (rc = buf_addf(out, "%s %s %s", ev->actor ? ev->actor : "-",
			   ev->action ? ev->action : "-", ev->object_type ? ev->object_type : "-")))
		return rc;
	if (ev->object_id && (rc = buf_addf(out, " %s", ev->object_id)))
		return rc;
	if ((rc = buf_addf(out, ": %s", result)))
		return rc;
	if (ev->reason) {
		if ((rc = buf_adds(out, " (")))
			return rc;
		for (const char *p = ev->reason; *p && rc == 0; p++)
			rc = buf_addch(out, *p == '\n' || *p == '\r' ? ' ' : *p);
		if (rc || (rc = buf_addch(out, ')')))
			return rc;
	}
	return 0;
}

int siem_frame(struct buf *out, const char *msg, size_t len)
{
	int rc;

	if ((rc = buf_addf(out, "%zu ", len)))
		return rc;
	return buf_add(out, msg, len);
}
