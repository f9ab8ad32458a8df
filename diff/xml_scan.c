/*
 * diff/xml_scan.c - the fast reader for the plain subset of XML; see
 * xml_scan.h for what it accepts and why giving up is always safe.
 *
 * One pass over the bytes, no copies but for attribute values that hold a
 * reference or a tab or newline (rewritten as libxml2 rewrites them) and
 * for the text of references.  Plain ASCII runs are stepped over with a
 * table lookup per byte; other bytes are checked as UTF-8 XML characters.
 */
#include "diff/xml_scan.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/utf8.h"

/* Byte classes: what may be stepped over without a second look. */
enum {
	C_TEXT = 1,       /* plain in text: ASCII character but '<', '&', ']' */
	C_ATTR = 2,       /* plain in an attribute value: ASCII character but '<', '&', quotes */
	C_NAME_START = 4, /* [A-Za-z_] */
	C_NAME = 8,       /* [A-Za-z0-9._-] */
};

#define IS_NAME_START(c) (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || (c) == '_')
#define IS_NAME(c) (IS_NAME_START(c) || ((c) >= '0' && (c) <= '9') || (c) == '.' || (c) == '-')
#define IS_ASCII_CHAR(c) ((c) >= 0x20 && (c) < 0x80)
#define CLS(c) (unsigned char)( \
	((IS_ASCII_CHAR(c) && (c) != '<' && (c) != '&' && (c) != ']') || (c) == '\t' || \
	 (c) == '\n' ? C_TEXT : 0) | \
	(IS_ASCII_CHAR(c) && (c) != '<' && (c) != '&' && (c) != '"' && (c) != '\'' ? C_ATTR : 0) | \
	(IS_NAME_START(c) ? C_NAME_START : 0) | (IS_NAME(c) ? C_NAME : 0))
#define CLS4(c) CLS(c), CLS((c) + 1), CLS((c) + 2), CLS((c) + 3)
#define CLS16(c) CLS4(c), CLS4((c) + 4), CLS4((c) + 8), CLS4((c) + 12)
#define CLS64(c) CLS16(c), CLS16((c) + 16), CLS16((c) + 32), CLS16((c) + 48)

static const unsigned char cls[256] = { CLS64(0), CLS64(64), CLS64(128), CLS64(192) };

struct open_name {
	const unsigned char *s;
	size_t len;
};

struct scan {
	const unsigned char *p, *end;
	const struct xml_scan_events *ev;
	struct buf val;                 /* rewritten attribute values, one element's */
	struct xml_scan_attr *attrs;
	size_t *val_off;                /* where a rewritten value starts in val, or SIZE_MAX */
	size_t nattrs, attrs_alloc;
	struct open_name open[XML_SCAN_MAX_DEPTH];
	size_t depth;
	const unsigned char *start, *next_progress;
};

/* After an element ended: report progress once a step further on. */
static void progress(struct scan *s)
{
	if (s->p >= s->next_progress && s->ev->progress) {
		s->ev->progress(s->ev->ctx, (size_t)(s->p - s->start));
		s->next_progress = s->p + XML_SCAN_PROGRESS_STEP;
	}
}

static bool is_xml_char(uint32_t cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/*
 * Length of the character at p when it is a valid UTF-8 sequence of an XML
 * character other than CR (which libxml2 would rewrite), else 0.
 */
static size_t char_len(const unsigned char *p, const unsigned char *end)
{
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80)
		return p[0] >= 0x20 || p[0] == '\t' || p[0] == '\n' ? 1 : 0;
	n = utf8_decode(&cp, p, (size_t)(end - p));
	return n && is_xml_char(cp) ? n : 0;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Skip white space; whether there was any. */
static bool skip_space(struct scan *s)
{
	const unsigned char *p = s->p;

	while (s->p < s->end && is_space(*s->p))
		s->p++;
	return s->p != p;
}

static bool lit(const struct scan *s, const char *w, size_t n)
{
	return (size_t)(s->end - s->p) >= n && !memcmp(s->p, w, n);
}

/*
 * The hash of a name: its first and last eight bytes (overlapping in a
 * short one) and its length, mixed; a read of eight bytes needs eight bytes
 * at s, which the caller checks.
 */
static uint32_t name_hash_wide(const unsigned char *s, size_t len)
{
	uint64_t a, b, mask = len >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * len)) - 1;

	memcpy(&a, s, 8);
	a &= mask;
	if (len > 8)
		memcpy(&b, s + len - 8, 8);
	else
		b = a;
	a = (a ^ (b * 0x9e3779b97f4a7c15ULL) ^ len) * 0xff51afd7ed558ccdULL;
	return (uint32_t)(a >> 32) ^ (uint32_t)a;
}

/* The same for a name too close to the end of the text for wide reads. */
static uint32_t name_hash_near_end(const unsigned char *s, size_t len)
{
	unsigned char t[16] = { 0 };

	memcpy(t, s, len < 8 ? len : 8);
	if (len > 8)
		memcpy(t + 8, s + len - 8, 8);
	else
		memcpy(t + 8, t, 8);
	{
		uint64_t a, b;

		memcpy(&a, t, 8);
		memcpy(&b, t + 8, 8);
		a = (a ^ (b * 0x9e3779b97f4a7c15ULL) ^ len) * 0xff51afd7ed558ccdULL;
		return (uint32_t)(a >> 32) ^ (uint32_t)a;
	}
}

/*
 * A name at s->p: its length (s->p moves past it) and its hash, or 0 when
 * there is none.
 */
static size_t name(struct scan *s, uint32_t *out_hash)
{
	const unsigned char *p = s->p;
	size_t n;

	if (p >= s->end || !(cls[*p] & C_NAME_START))
		return 0;
	p++;
	while (p < s->end && (cls[*p] & C_NAME))
		p++;
	/* a ':' (a namespace prefix) or a non-ASCII name character: libxml2's */
	if (p < s->end && (*p == ':' || *p >= 0x80))
		return 0;
	n = (size_t)(p - s->p);
	if (n > XML_SCAN_MAX_NAME)
		return 0;
	*out_hash = s->end - s->p >= 8 ? name_hash_wide(s->p, n) : name_hash_near_end(s->p, n);
	s->p = p;
	return n;
}

static size_t put_utf8(unsigned char *t, uint32_t cp)
{
	if (cp < 0x80) {
		t[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		t[0] = (unsigned char)(0xc0 | cp >> 6);
		t[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		t[0] = (unsigned char)(0xe0 | cp >> 12);
		t[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	t[0] = (unsigned char)(0xf0 | cp >> 18);
	t[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	t[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	t[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A reference at s->p ('&'): its text written to out (at most 4 bytes),
 * its length returned and s->p moved past it; 0 when it is not a
 * predefined entity or a valid character reference.
 */
static size_t reference(struct scan *s, unsigned char *out)
{
	static const struct {
		const char *ref;
		size_t len;
		char c;
	} predefined[] = {
		{ "&lt;", 4, '<' }, { "&gt;", 4, '>' }, { "&amp;", 5, '&' },
		{ "&quot;", 6, '"' }, { "&apos;", 6, '\'' },
	};
	const unsigned char *p = s->p + 1;
	uint32_t cp = 0;
	int digits = 0;

	if (p < s->end && *p != '#') {
		for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++) {
			if (lit(s, predefined[i].ref, predefined[i].len)) {
				s->p += predefined[i].len;
				out[0] = (unsigned char)predefined[i].c;
				return 1;
			}
		}
		return 0;
	}
	p++;
	if (p < s->end && *p == 'x') {
		for (p++; p < s->end && digits < 7; p++, digits++) {
			unsigned c = *p;

			if (c >= '0' && c <= '9')
				cp = cp * 16 + (c - '0');
			else if (c >= 'a' && c <= 'f')
				cp = cp * 16 + (c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				cp = cp * 16 + (c - 'A' + 10);
			else
				break;
		}
	} else {
		for (; p < s->end && digits < 8; p++, digits++) {
			if (*p < '0' || *p > '9')
				break;
			cp = cp * 10 + (uint32_t)(*p - '0');
		}
	}
	if (!digits || p >= s->end || *p != ';' || !is_xml_char(cp))
		return 0;
	s->p = p + 1;
	return put_utf8(out, cp);
}

/* Text up to the next '<' (or the end), handed over in pieces. */
static int char_data(struct scan *s)
{
	const unsigned char *run = s->p, *p = s->p, *end = s->end;

	for (;;) {
		while (p < end && (cls[*p] & C_TEXT))
			p++;
		if (p >= end || *p == '<')
			break;
		if (*p == '&') {
			unsigned char r[4];
			size_t n;

			if (p > run)
				s->ev->text(s->ev->ctx, (const char *)run, (size_t)(p - run));
			s->p = p;
			if (!(n = reference(s, r)))
				return XML_SCAN_GIVE_UP;
			s->ev->text(s->ev->ctx, (const char *)r, n);
			run = p = s->p;
		} else if (*p == ']') {
			if (end - p >= 3 && p[1] == ']' && p[2] == '>')
				return XML_SCAN_GIVE_UP;
			p++;
		} else {
			size_t n = char_len(p, end);

			if (!n)
				return XML_SCAN_GIVE_UP;
			p += n;
		}
	}
	if (p > run)
		s->ev->text(s->ev->ctx, (const char *)run, (size_t)(p - run));
	s->p = p;
	return 0;
}

/* Characters up to `stop` (not included): all XML characters, at most XML_SCAN_MAX_RUN. */
static int chars_until(struct scan *s, const char *stop, size_t stop_len,
                       const unsigned char **out_end)
{
	const unsigned char *p = s->p, *limit = s->end;

	if ((size_t)(limit - p) > XML_SCAN_MAX_RUN + stop_len)
		limit = p + XML_SCAN_MAX_RUN + stop_len;
	while (p < limit) {
		size_t n;

		if (*p == (unsigned char)stop[0] && (size_t)(limit - p) >= stop_len &&
		    !memcmp(p, stop, stop_len)) {
			*out_end = p;
			return 0;
		}
		if (!(n = char_len(p, limit)))
			return XML_SCAN_GIVE_UP;
		p += n;
	}
	return XML_SCAN_GIVE_UP;
}

/* A comment at s->p ("<!--"): skipped; "--" inside it is not allowed. */
static int comment(struct scan *s)
{
	const unsigned char *e;

	s->p += 4;
	if (chars_until(s, "--", 2, &e))
		return XML_SCAN_GIVE_UP;
	if (s->end - e < 3 || e[2] != '>')
		return XML_SCAN_GIVE_UP;
	s->p = e + 3;
	return 0;
}

/* A CDATA section at s->p ("<![CDATA["): its content is text. */
static int cdata(struct scan *s)
{
	const unsigned char *e;

	s->p += 9;
	if (chars_until(s, "]]>", 3, &e))
		return XML_SCAN_GIVE_UP;
	if (e > s->p)
		s->ev->text(s->ev->ctx, (const char *)s->p, (size_t)(e - s->p));
	s->p = e + 3;
	return 0;
}

/*
 * An attribute value at s->p (its opening quote): read in place when it
 * holds only plain characters, else rewritten into s->val.
 */
static int attr_value(struct scan *s, struct xml_scan_attr *a, size_t *out_off)
{
	unsigned char quote = *s->p++;
	const unsigned char *start = s->p, *p = s->p, *end = s->end;
	size_t off;

	while (p < end && (cls[*p] & C_ATTR))
		p++;
	if (p < end && *p == quote) {
		if ((size_t)(p - start) > XML_SCAN_MAX_RUN)
			return XML_SCAN_GIVE_UP;
		a->value = (const char *)start;
		a->value_len = (size_t)(p - start);
		*out_off = SIZE_MAX;
		s->p = p + 1;
		return 0;
	}
	off = s->val.len;
	if (buf_add(&s->val, start, (size_t)(p - start)))
		return XML_SCAN_GIVE_UP;
	while (p < end && *p != quote) {
		const unsigned char *q = p;
		unsigned char r[4];
		size_t n;

		while (q < end && (cls[*q] & C_ATTR))
			q++;
		if (q > p && buf_add(&s->val, p, (size_t)(q - p)))
			return XML_SCAN_GIVE_UP;
		p = q;
		if (p >= end || *p == quote)
			break;
		if (*p == '&') {
			s->p = p;
			if (!(n = reference(s, r)) || buf_add(&s->val, r, n))
				return XML_SCAN_GIVE_UP;
			p = s->p;
		} else if (*p == '\t' || *p == '\n') {
			if (buf_addch(&s->val, ' '))
				return XML_SCAN_GIVE_UP;
			p++;
		} else if (*p == '"' || *p == '\'') {
			if (buf_addch(&s->val, (char)*p))
				return XML_SCAN_GIVE_UP;
			p++;
		} else if (*p == '<' || !(n = char_len(p, end))) {
			return XML_SCAN_GIVE_UP;
		} else {
			if (buf_add(&s->val, p, n))
				return XML_SCAN_GIVE_UP;
			p += n;
		}
		if (s->val.len - off > XML_SCAN_MAX_RUN)
			return XML_SCAN_GIVE_UP;
	}
	if (p >= end)
		return XML_SCAN_GIVE_UP;
	a->value = NULL;
	a->value_len = s->val.len - off;
	*out_off = off;
	s->p = p + 1;
	return 0;
}

/* A start tag at s->p ('<' and a name start); an empty element ends here too. */
static int start_tag(struct scan *s)
{
	const unsigned char *tag;
	size_t tag_len;
	uint32_t tag_hash;
	bool empty;

	s->p++;
	tag = s->p;
	if (!(tag_len = name(s, &tag_hash)))
		return XML_SCAN_GIVE_UP;
	s->nattrs = 0;
	buf_reset(&s->val);
	for (;;) {
		bool space = skip_space(s);
		struct xml_scan_attr *a;
		const unsigned char *an;
		size_t an_len;
		uint32_t an_hash;

		if (s->p >= s->end)
			return XML_SCAN_GIVE_UP;
		if (*s->p == '>') {
			s->p++;
			empty = false;
			break;
		}
		if (*s->p == '/') {
			if (s->end - s->p < 2 || s->p[1] != '>')
				return XML_SCAN_GIVE_UP;
			s->p += 2;
			empty = true;
			break;
		}
		an = s->p;
		if (!space || !(an_len = name(s, &an_hash)))
			return XML_SCAN_GIVE_UP;
		/* a namespace declaration: libxml2's business */
		if (an_len == 5 && !memcmp(an, "xmlns", 5))
			return XML_SCAN_GIVE_UP;
		skip_space(s);
		if (s->p >= s->end || *s->p != '=')
			return XML_SCAN_GIVE_UP;
		s->p++;
		skip_space(s);
		if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
			return XML_SCAN_GIVE_UP;
		if (s->nattrs == s->attrs_alloc) {
			s->attrs_alloc = s->attrs_alloc ? s->attrs_alloc * 2 : 32;
			s->attrs = xrealloc(s->attrs, s->attrs_alloc * sizeof(*s->attrs));
			s->val_off = xrealloc(s->val_off, s->attrs_alloc * sizeof(*s->val_off));
		}
		a = &s->attrs[s->nattrs];
		a->name = (const char *)an;
		a->name_len = an_len;
		a->name_hash = an_hash;
		if (attr_value(s, a, &s->val_off[s->nattrs]))
			return XML_SCAN_GIVE_UP;
		s->nattrs++;
	}
	for (size_t i = 0; i < s->nattrs; i++)
		if (s->val_off[i] != SIZE_MAX)
			s->attrs[i].value = (const char *)s->val.data + s->val_off[i];
	if (s->depth == XML_SCAN_MAX_DEPTH)
		return XML_SCAN_GIVE_UP;
	if (s->ev->start(s->ev->ctx, (const char *)tag, tag_len, tag_hash, s->attrs, s->nattrs))
		return XML_SCAN_GIVE_UP;
	if (empty)
		s->ev->end(s->ev->ctx);
	else
		s->open[s->depth++] = (struct open_name){ tag, tag_len };
	return 0;
}

/* An end tag at s->p ("</"): it must close the innermost open element. */
static int end_tag(struct scan *s)
{
	const unsigned char *n;
	size_t len;
	uint32_t h;
	struct open_name *top;

	if (!s->depth)
		return XML_SCAN_GIVE_UP;
	top = &s->open[s->depth - 1];
	s->p += 2;
	n = s->p;
	if (!(len = name(s, &h)) || len != top->len || memcmp(n, top->s, len))
		return XML_SCAN_GIVE_UP;
	skip_space(s);
	if (s->p >= s->end || *s->p != '>')
		return XML_SCAN_GIVE_UP;
	s->p++;
	s->depth--;
	s->ev->end(s->ev->ctx);
	progress(s);
	return 0;
}

/* "= 'value'" of a pseudo-attribute of the XML declaration (a name's characters). */
static int decl_value(struct scan *s, const unsigned char **out, size_t *out_len)
{
	const unsigned char *v;
	unsigned char q;

	skip_space(s);
	if (s->p >= s->end || *s->p != '=')
		return XML_SCAN_GIVE_UP;
	s->p++;
	skip_space(s);
	if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
		return XML_SCAN_GIVE_UP;
	q = *s->p++;
	v = s->p;
	while (s->p < s->end && (cls[*s->p] & C_NAME))
		s->p++;
	if (s->p >= s->end || *s->p != q)
		return XML_SCAN_GIVE_UP;
	*out = v;
	*out_len = (size_t)(s->p - v);
	s->p++;
	return 0;
}

static bool is_word(const unsigned char *v, size_t len, const char *w)
{
	return len == strlen(w) && !strncasecmp((const char *)v, w, len);
}

/*
 * The XML declaration, when the document starts with one: version 1.0,
 * then maybe an encoding (UTF-8: libxml2 would switch to any other one
 * named), then maybe standalone.
 */
static int declaration(struct scan *s)
{
	const unsigned char *v;
	size_t len;
	bool space;

	if (!lit(s, "<?xml", 5))
		return 0;
	s->p += 5;
	if (!skip_space(s) || !lit(s, "version", 7))
		return XML_SCAN_GIVE_UP;
	s->p += 7;
	if (decl_value(s, &v, &len) || len != 3 || memcmp(v, "1.0", 3))
		return XML_SCAN_GIVE_UP;
	space = skip_space(s);
	if (space && lit(s, "encoding", 8)) {
		s->p += 8;
		if (decl_value(s, &v, &len) || !is_word(v, len, "UTF-8"))
			return XML_SCAN_GIVE_UP;
		space = skip_space(s);
	}
	if (space && lit(s, "standalone", 10)) {
		s->p += 10;
		if (decl_value(s, &v, &len) ||
		    !((len == 3 && !memcmp(v, "yes", 3)) || (len == 2 && !memcmp(v, "no", 2))))
			return XML_SCAN_GIVE_UP;
		skip_space(s);
	}
	if (!lit(s, "?>", 2))
		return XML_SCAN_GIVE_UP;
	s->p += 2;
	return 0;
}

/* White space and comments outside the root element. */
static int misc(struct scan *s)
{
	for (;;) {
		skip_space(s);
		if (!lit(s, "<!--", 4))
			return 0;
		if (comment(s))
			return XML_SCAN_GIVE_UP;
	}
}

int xml_scan(const char *text, size_t len, const struct xml_scan_events *ev)
{
	struct scan s = { 0 };
	int rc = XML_SCAN_GIVE_UP;

	s.p = s.start = (const unsigned char *)text;
	s.end = s.p + len;
	s.next_progress = s.p + XML_SCAN_PROGRESS_STEP;
	s.ev = ev;
	buf_init(&s.val, 0);
	if (declaration(&s) || misc(&s))
		goto out;
	if (s.p + 1 >= s.end || *s.p != '<' || !(cls[s.p[1]] & C_NAME_START) || start_tag(&s))
		goto out;
	while (s.depth) {
		if (char_data(&s) || s.p + 1 >= s.end)
			goto out;
		if (s.p[1] == '/') {
			if (end_tag(&s))
				goto out;
		} else if (s.p[1] == '!') {
			if (lit(&s, "<!--", 4)) {
				if (comment(&s))
					goto out;
			} else if (lit(&s, "<![CDATA[", 9)) {
				if (cdata(&s))
					goto out;
			} else {
				goto out;
			}
		} else if (cls[s.p[1]] & C_NAME_START) {
			if (start_tag(&s))
				goto out;
		} else {
			goto out;
		}
	}
	if (misc(&s) || s.p != s.end)
		goto out;
	rc = 0;
out:
	buf_release(&s.val);
	free(s.attrs);
	free(s.val_off);
	return rc;
}
