/*
 * diff/fmt_ini.c - INI-style key/value files (drive and HMI parameter
 * sets, recipe exports, tool settings).
 *
 * Tree: Section[name] per [name] header (repeated headers merge), holding
 * Parameter[key] with attr "value" for each `key = value` line (keys before
 * the first section sit at the top).  Full-line comments (';' or '#') just
 * above a key or section become its attr "comment".  A numeric value that
 * changes reports its delta.
 */
#include "diff/formats.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "diff/text.h"

enum ini_line { INI_BLANK, INI_COMMENT, INI_SECTION, INI_KEY, INI_OTHER };

/* Classify one trimmed line; for sections and keys set name/value spans. */
static enum ini_line classify(const char *p, size_t n, const char **name, size_t *name_len,
                              const char **value, size_t *value_len)
{
	const char *eq;

	if (n == 0)
		return INI_BLANK;
	if (p[0] == ';' || p[0] == '#')
		return INI_COMMENT;
	if (p[0] == '[') {
		const char *close = memchr(p, ']', n);

		if (!close || close == p + 1)
			return INI_OTHER;
		*name = p + 1;
		*name_len = (size_t)(close - p - 1);
		text_trim(name, name_len);
		return *name_len ? INI_SECTION : INI_OTHER;
	}
	eq = memchr(p, '=', n);
	if (!eq || eq == p || eq[-1] == ':' || eq[-1] == '<' || eq[-1] == '>' || eq[-1] == '!')
		return INI_OTHER;
	*name = p;
	*name_len = (size_t)(eq - p);
	text_trim(name, name_len);
	*value = eq + 1;
	*value_len = n - (size_t)(eq + 1 - p);
	text_trim(value, value_len);
	if (*name_len == 0 || memchr(*name, '"', *name_len) || memchr(*name, '(', *name_len))
		return INI_OTHER;
	return INI_KEY;
}

static int ini_detect(const char *text, size_t len)
{
	size_t pos = 0, sections = 0, keys = 0, other = 0;

	if (len == 0 || memchr(text, '\0', len < 8192 ? len : 8192) || text[0] == '<' ||
	    text[0] == '{')
		return 0;
	if (len > 65536)
		len = 65536;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *p = text + pos, *name = NULL, *value = NULL;
		size_t n = end - pos, nn = 0, vn = 0;

		pos = end + 1;
		text_trim(&p, &n);
		switch (classify(p, n, &name, &nn, &value, &vn)) {
		case INI_SECTION:
			sections++;
			break;
		case INI_KEY:
			keys++;
			break;
		case INI_OTHER:
			other++;
			break;
		default:
			break;
		}
	}
	if (keys == 0 || other * 10 > (sections + keys + other))
		return 0;
	if (sections)
		return 70;
	return keys >= 2 ? 35 : 0;
}

static int ini_parse(struct dnode **out, const char *text, size_t len)
{
	struct dnode *root = dnode_new("File", NULL), *cur = root;
	struct text_names *names = text_names_new();
	struct buf comment = BUF_INIT, other = BUF_INIT;
	size_t pos = 0, found = 0;

	*out = NULL;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *p = text + pos, *name = NULL, *value = NULL;
		size_t n = end - pos, nn = 0, vn = 0, k;
		struct dnode *kid;

		pos = end + 1;
		text_trim(&p, &n);
		switch (classify(p, n, &name, &nn, &value, &vn)) {
		case INI_BLANK:
			break;
		case INI_COMMENT:
			p++;
			n--;
			text_trim(&p, &n);
			if (comment.len)
				buf_addch(&comment, '\n');
			buf_add(&comment, p, n);
			break;
		case INI_SECTION: {
			char *sname = xstrndup(name, nn);

			cur = NULL;
			for (k = 0; k < root->nkids; k++) {
				if (root->kids[k]->name && strcmp(root->kids[k]->type, "Section") == 0 &&
				    strcmp(root->kids[k]->name, sname) == 0)
					cur = root->kids[k];
			}
			if (!cur)
				cur = text_add_unique(names, root, "Section", sname);
			free(sname);
			if (comment.len)
				dnode_set_attr(cur, "comment", buf_cstr(&comment));
			buf_reset(&comment);
			found++;
			break;
		}
		case INI_KEY: {
			char *kname = xstrndup(name, nn);

			kid = text_add_unique(names, cur, "Parameter", kname);
			free(kname);
			dnode_set_attrn(kid, "value", value, vn);
			if (comment.len)
				dnode_set_attr(kid, "comment", buf_cstr(&comment));
			buf_reset(&comment);
			found++;
			break;
		}
		case INI_OTHER:
			if (other.len)
				buf_addch(&other, '\n');
			buf_add(&other, p, n);
			break;
		}
	}
	if (comment.len)
		dnode_set_attr(root, "comment", buf_cstr(&comment));
	if (other.len)
		dnode_set_bodyn(root, other.data, other.len, "other lines");
	buf_release(&comment);
	buf_release(&other);
	text_names_free(names);
	if (!found) {
		dnode_free(root);
		return err_set(OTCM_EINVAL, NULL, "no [section] or key=value line found");
	}
	*out = root;
	return 0;
}

const struct diff_format diff_fmt_ini = {
	.name = "ini",
	.description = "INI-style sections and key/value parameters",
	.detect = ini_detect,
	.parse = ini_parse,
};
