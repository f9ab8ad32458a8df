/*
 * diff/fmt_csv.c - recipe and parameter tables in CSV.
 *
 * Tree: the root ("Recipe") holds one Parameter[key] per data row, keyed by
 * the column named like name / parameter / tag / id / key (else the first
 * column), with one attr per other column named by its header in lower
 * case ("value", "unit", "min"...), so a changed value reports old, new
 * and, when numeric, the delta.  The delimiter (',', ';' or tab) is the
 * one that splits the header and the first rows into equal field counts;
 * quoting follows RFC 4180 (fields in double quotes, "" for a quote,
 * line breaks inside quotes).
 */
#include "diff/formats.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "diff/text.h"

#define CSV_MAX_FIELDS 4096
#define CSV_PROBE_ROWS 20

struct csv_row {
	char **f;
	size_t n, alloc;
};

static void row_release(struct csv_row *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->f[i]);
	free(r->f);
	r->f = NULL;
	r->n = r->alloc = 0;
}

/*
 * Read one record from text at *pos into r (replacing its fields).  Returns
 * false at the end of the text.  Fields past CSV_MAX_FIELDS are dropped.
 */
static bool read_row(struct csv_row *r, const char *text, size_t len, size_t *pos, char delim)
{
	struct buf field = BUF_INIT;
	size_t p = *pos;
	bool quoted = false, was_quoted = false;

	row_release(r);
	if (p >= len)
		return false;
	for (;;) {
		bool end_field = false, end_row = false;

		if (p >= len) {
			end_field = end_row = true;
		} else if (quoted) {
			if (text[p] == '"' && p + 1 < len && text[p + 1] == '"') {
				buf_addch(&field, '"');
				p += 2;
				continue;
			} else if (text[p] == '"') {
				quoted = false;
			} else {
				buf_addch(&field, text[p]);
			}
			p++;
			continue;
		} else if (text[p] == '"' && field.len == 0 && !was_quoted) {
			quoted = was_quoted = true;
			p++;
			continue;
		} else if (text[p] == delim) {
			end_field = true;
			p++;
		} else if (text[p] == '\n') {
			end_field = end_row = true;
			p++;
		} else {
			if (text[p] != '\r')
				buf_addch(&field, text[p]);
			p++;
			continue;
		}
		if (end_field) {
			const char *s = buf_cstr(&field);
			size_t n = field.len;

			if (!was_quoted)
				text_trim(&s, &n);
			if (r->n < CSV_MAX_FIELDS) {
				if (r->n == r->alloc) {
					r->alloc = r->alloc ? 2 * r->alloc : 8;
					r->f = xrealloc(r->f, r->alloc * sizeof(*r->f));
				}
				r->f[r->n++] = xstrndup(s, n);
			}
			buf_reset(&field);
			was_quoted = false;
		}
		if (end_row)
			break;
	}
	buf_release(&field);
	*pos = p;
	return true;
}

static bool row_blank(const struct csv_row *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->f[i][0])
			return false;
	}
	return true;
}

/* The delimiter that gives the header >= 2 fields and every probed row as many; 0 if none. */
static char find_delim(const char *text, size_t len, size_t *out_rows)
{
	static const char delims[] = { ',', ';', '\t' };
	char best = 0;
	size_t best_fields = 1, k;

	*out_rows = 0;
	for (k = 0; k < sizeof(delims); k++) {
		struct csv_row r = { NULL, 0, 0 };
		size_t pos = 0, fields = 0, rows = 0;
		bool ok = true;

		while (rows < CSV_PROBE_ROWS && read_row(&r, text, len, &pos, delims[k])) {
			if (row_blank(&r))
				continue;
			if (rows == 0)
				fields = r.n;
			else if (r.n != fields)
				ok = false;
			rows++;
		}
		row_release(&r);
		if (ok && rows >= 2 && fields > best_fields) {
			best = delims[k];
			best_fields = fields;
			*out_rows = rows;
		}
	}
	return best;
}

static bool is_key_header(const char *h)
{
	static const char *const keys[] = {
		"name", "parameter", "param", "tag", "tagname", "id", "key", "item",
		"variable", "parameter name", NULL
	};
	size_t i;

	for (i = 0; keys[i]; i++) {
		if (text_ieq(h, strlen(h), keys[i]))
			return true;
	}
	return false;
}

static int csv_detect(const char *text, size_t len)
{
	struct csv_row header = { NULL, 0, 0 };
	size_t rows, pos = 0, i;
	char delim;
	int score;

	if (len == 0 || memchr(text, '\0', len < 8192 ? len : 8192) ||
	    text[0] == '<' || text[0] == '{' || text[0] == '[')
		return 0;
	delim = find_delim(text, len < 65536 ? len : 65536, &rows);
	if (!delim)
		return 0;
	score = 45;
	read_row(&header, text, len, &pos, delim);
	for (i = 0; i < header.n; i++) {
		if (is_key_header(header.f[i]) || text_ieq(header.f[i], strlen(header.f[i]), "value") ||
		    text_ieq(header.f[i], strlen(header.f[i]), "unit"))
			score = 65;
	}
	row_release(&header);
	return score;
}

static int csv_parse(struct dnode **out, const char *text, size_t len)
{
	struct csv_row header = { NULL, 0, 0 }, r = { NULL, 0, 0 };
	struct text_names *names = NULL;
	struct dnode *root = NULL;
	char **attr = NULL;
	size_t rows, pos = 0, key = 0, i, rowno = 1;
	char delim;

	*out = NULL;
	delim = find_delim(text, len < 65536 ? len : 65536, &rows);
	if (!delim)
		return err_set(OTCM_EINVAL, NULL, "no delimiter splits the rows into equal columns");
	while (read_row(&header, text, len, &pos, delim) && row_blank(&header))
		rowno++;
	for (i = 0; i < header.n; i++) {
		if (is_key_header(header.f[i])) {
			key = i;
			break;
		}
	}
	attr = xcalloc(header.n + 1, sizeof(*attr));
	for (i = 0; i < header.n; i++) {
		char *p;

		attr[i] = header.f[i][0] ? xstrdup(header.f[i]) : xasprintf("column %zu", i + 1);
		for (p = attr[i]; *p; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
	}
	root = dnode_new("Recipe", NULL);
	{
		struct buf cols = BUF_INIT;

		for (i = 0; i < header.n; i++)
			buf_addf(&cols, "%s%s", i ? ", " : "", header.f[i]);
		dnode_set_attr(root, "columns", buf_cstr(&cols));
		buf_release(&cols);
	}
	names = text_names_new();
	while (read_row(&r, text, len, &pos, delim)) {
		struct dnode *p;
		char *rowname;

		rowno++;
		if (row_blank(&r))
			continue;
		rowname = key < r.n && r.f[key][0] ? xstrdup(r.f[key]) : xasprintf("row %zu", rowno);
		p = text_add_unique(names, root, "Parameter", rowname);
		free(rowname);
		for (i = 0; i < r.n; i++) {
			if (i == key)
				continue;
			if (i < header.n) {
				dnode_set_attr(p, attr[i], r.f[i]);
			} else {
				char *extra = xasprintf("column %zu", i + 1);

				dnode_set_attr(p, extra, r.f[i]);
				free(extra);
			}
		}
	}
	for (i = 0; i < header.n; i++)
		free(attr[i]);
	free(attr);
	row_release(&header);
	row_release(&r);
	text_names_free(names);
	*out = root;
	return 0;
}

const struct diff_format diff_fmt_csv = {
	.name = "csv",
	.description = "recipe or parameter table in CSV",
	.detect = csv_detect,
	.parse = csv_parse,
};
