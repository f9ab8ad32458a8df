/*
 * server/multipart.c - multipart/form-data bodies (RFC 7578) split into
 * parts.  The body is already fully buffered and bounded by --max-body, so
 * the parser works over one contiguous block; it never reads past `len`
 * and treats every malformation as bad input.  Parts are not copied: each
 * one's data stays where it is in the body, ended by a NUL written over
 * the CR of the delimiter that follows it (a 20 MiB file part would
 * otherwise exist twice).  Fuzzed by tests/fuzz/fuzz_multipart.c.
 */
#include "server/http_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/mem.h"

#define BOUNDARY_MAX 70     /* RFC 2046 */
#define PART_HEADERS_MAX 8192

bool http_is_multipart(const char *content_type)
{
	size_t n = strlen("multipart/form-data");

	if (!content_type)
		return false;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	return strncasecmp(content_type, "multipart/form-data", n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ' ||
		content_type[n] == '\t');
}

/*
 * Find parameter `name` in a header value of the form
 * `token; a=b; c="quoted text"` and copy its value into the arena (a
 * quoted value is literal: a backslash stays a backslash).
 * Parameter names compare case-insensitively.  NULL when absent or malformed.
 */
static char *header_param(struct arena *a, const char *v, size_t vlen, const char *name)
{
	const char *p = v, *end = v + vlen;
	size_t nlen = strlen(name);

	/* skip the leading token (form-data, multipart/form-data) */
	while (p < end && *p != ';')
		p++;
	while (p < end) {
		const char *key, *val;
		size_t klen, i;
		char *out;

		p++; /* the ';' */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		key = p;
		while (p < end && *p != '=' && *p != ';')
			p++;
		klen = (size_t)(p - key);
		while (klen > 0 && (key[klen - 1] == ' ' || key[klen - 1] == '\t'))
			klen--;
		if (p >= end || *p == ';')
			continue; /* a parameter without a value */
		p++; /* the '=' */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		val = p;
		if (p < end && *p == '"') {
			/*
			 * Quoted string, taken literally up to the next '"'.
			 * Browsers do not escape a backslash in a file name
			 * (they send '"' as %22, CR and LF as %0D and %0A), so
			 * a backslash is part of the name, never a quoted-pair
			 * escape: "a\b.L5X" must reach the path rules as it is.
			 */
			out = arena_alloc(a, (size_t)(end - p) + 1);
			i = 0;
			for (p++; p < end && *p != '"'; p++)
				out[i++] = *p;
			if (p >= end)
				return NULL; /* unterminated */
			p++;
			while (p < end && *p != ';')
				p++;
			if (klen == nlen && strncasecmp(key, name, nlen) == 0)
				return out;
			continue;
		}
		while (p < end && *p != ';')
			p++;
		if (klen == nlen && strncasecmp(key, name, nlen) == 0) {
			size_t l = (size_t)(p - val);

			while (l > 0 && (val[l - 1] == ' ' || val[l - 1] == '\t'))
				l--;
			return arena_strndup(a, val, l);
		}
	}
	return NULL;
}

/* The boundary parameter of the request's Content-Type, validated. */
static int find_boundary(char **out, struct arena *a, const char *content_type)
{
	char *b;
	size_t i, len;

	if (!http_is_multipart(content_type))
		return err_set(OTCM_EMEDIA, "Content-Type", "expected multipart/form-data");
	b = header_param(a, content_type, strlen(content_type), "boundary");
	len = b ? strlen(b) : 0;
	if (len == 0 || len > BOUNDARY_MAX)
		return err_set(OTCM_EINVAL, "Content-Type",
			       "multipart body needs a boundary of 1 to 70 characters");
	for (i = 0; i < len; i++) {
		if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] > 0x7e)
			return err_set(OTCM_EINVAL, "Content-Type", "multipart boundary has a bad character");
	}
	*out = b;
	return 0;
}

/* Parse the header block [h, h+hlen) of one part into *part. */
static int parse_part_headers(struct http_part *part, struct arena *a, const char *h, size_t hlen)
{
	const char *p = h, *end = h + hlen;
	bool disposition = false;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		const char *colon, *v;
		size_t linelen, nlen, vlen;

		linelen = eol ? (size_t)(eol - p) : (size_t)(end - p);
		colon = memchr(p, ':', linelen);
		if (!colon || colon == p)
			return err_set(OTCM_EINVAL, "body", "multipart part has a malformed header");
		nlen = (size_t)(colon - p);
		v = colon + 1;
		vlen = linelen - nlen - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		if (memchr(v, '\0', vlen))
			return err_set(OTCM_EINVAL, "body", "multipart part header contains NUL");
		if (nlen == strlen("Content-Disposition") &&
		    strncasecmp(p, "Content-Disposition", nlen) == 0) {
			if (vlen < strlen("form-data") || strncasecmp(v, "form-data", 9) != 0 ||
			    (vlen > 9 && v[9] != ';' && v[9] != ' '))
				return err_set(OTCM_EINVAL, "body", "multipart part is not form-data");
			if (disposition)
				return err_set(OTCM_EINVAL, "body",
					       "multipart part has two Content-Disposition headers");
			disposition = true;
			part->name = header_param(a, v, vlen, "name");
			part->filename = header_param(a, v, vlen, "filename");
		} else if (nlen == strlen("Content-Type") && strncasecmp(p, "Content-Type", nlen) == 0) {
			part->content_type = arena_strndup(a, v, vlen);
		}
		p = eol ? eol + 2 : end;
	}
	if (!part->name || !part->name[0])
		return err_set(OTCM_EINVAL, "body", "multipart part has no name");
	return 0;
}

int http_multipart_parse(struct http_part **out, size_t *out_n, struct arena *a,
			 const char *content_type, char *body, size_t len,
			 size_t max_parts)
{
	struct http_part *parts = NULL;
	size_t n = 0, alloc = 0;
	char *boundary = NULL, *delim;
	size_t dlen;
	char *p, *end = body + len;
	int rc;

	if ((rc = find_boundary(&boundary, a, content_type)))
		goto out;
	/* every delimiter but the first is preceded by CRLF */
	delim = arena_printf(a, "\r\n--%s", boundary);
	dlen = strlen(delim);
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
		p = body + dlen - 2;
	} else {
		char *d = body ? memmem(body, len, delim, dlen) : NULL;

		if (!d) {
			rc = err_set(OTCM_EINVAL, "body", "multipart body has no boundary line");
			goto out;
		}
		p = d + dlen; /* a preamble, which RFC 2046 says to ignore */
	}
	for (;;) {
		char *data, *next;
		struct http_part part = { 0 };
		size_t hlen;

		/* after a delimiter: "--" closes the body, else padding and CRLF */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			rc = err_set(OTCM_EINVAL, "body", "multipart body is truncated or malformed");
			goto out;
		}
		p += 2;
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			hlen = 0; /* no headers: the blank line follows at once */
			data = p + 2;
		} else {
			char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);

			if (!hend || hend - p > PART_HEADERS_MAX) {
				rc = err_set(OTCM_EINVAL, "body", "multipart part headers are malformed");
				goto out;
			}
			hlen = (size_t)(hend - p);
			data = hend + 4;
		}
		if ((rc = parse_part_headers(&part, a, p, hlen)))
			goto out;
		next = memmem(data, (size_t)(end - data), delim, dlen);
		if (!next) {
			rc = err_set(OTCM_EINVAL, "body", "multipart body has no closing boundary");
			goto out;
		}
		if (n == max_parts) {
			rc = err_set(OTCM_ETOOBIG, "body", "multipart body has more than %zu parts",
				     max_parts);
			goto out;
		}
		part.len = (size_t)(next - data);
		part.data = data;
		/* the delimiter's CR ends the part: parsing goes on after the delimiter */
		*next = '\0';
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			parts = xrealloc(parts, alloc * sizeof(*parts));
		}
		parts[n++] = part;
		p = next + dlen;
	}
	*out = n ? arena_memdup(a, parts, n * sizeof(*parts)) : NULL;
	*out_n = n;
	rc = 0;
out:
	free(parts);
	return rc;
}
