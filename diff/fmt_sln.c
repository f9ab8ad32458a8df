/*
 * diff/fmt_sln.c - Visual Studio solution files (.sln), the top of every
 * TwinCAT 3 project: which projects it holds (the system manager project,
 * PLC projects, C++ modules) and its build configurations.
 *
 * Tree: Project[name] with "path", "type" (the project type GUID) and
 * "guid", and its ProjectSection[..] entries as attributes;
 * GlobalSection[name] (with "when": preSolution or postSolution) holding one
 * attribute per "key = value" line.  The header lines ("Format Version",
 * "VisualStudioVersion") are attributes of the root.  Lines the reader does
 * not place are the root's body, never dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "diff/formats.h"
#include "diff/text.h"

#define SLN_MAGIC "Microsoft Visual Studio Solution File"

static int sln_detect(const char *text, size_t len)
{
	size_t n = len < 512 ? len : 512;

	return memmem(text, n, SLN_MAGIC, strlen(SLN_MAGIC)) ? 90 : 0;
}

/* The next line of text[*pos, len), trimmed; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, const char **out, size_t *out_len)
{
	const char *s, *nl;

	if (*pos >= len)
		return false;
	s = text + *pos;
	nl = memchr(s, '\n', len - *pos);
	*out_len = nl ? (size_t)(nl - s) : len - *pos;
	*pos += *out_len + (nl ? 1 : 0);
	*out = s;
	text_trim(out, out_len);
	return true;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t m = strlen(prefix);

	return n >= m && !memcmp(s, prefix, m);
}

/* The i-th (0-based) double-quoted string of s[0, n) as a new string, or NULL. */
static char *quoted(const char *s, size_t n, int i)
{
	const char *end = s + n;

	for (int k = 0; s < end; k++) {
		const char *open = memchr(s, '"', (size_t)(end - s)), *close;

		if (!open || !(close = memchr(open + 1, '"', (size_t)(end - open - 1))))
			return NULL;
		if (k == i)
			return xstrndup(open + 1, (size_t)(close - open - 1));
		s = close + 1;
	}
	return NULL;
}

/* "key = value" into an attribute of n; false when the line has no " = ". */
static bool key_value(struct dnode *n, const char *s, size_t len)
{
	const char *eq = memmem(s, len, " = ", 3);
	char *key;

	if (!eq)
		return false;
	key = xstrndup(s, (size_t)(eq - s));
	dnode_set_attrn(n, key, eq + 3, len - (size_t)(eq - s) - 3);
	free(key);
	return true;
}

/* "GlobalSection(Name) = preSolution": the name between the parentheses and what follows. */
static struct dnode *section(struct text_names *names, struct dnode *parent, const char *type,
                             const char *s, size_t len)
{
	const char *open = memchr(s, '(', len), *close = open ? memchr(open, ')', len - (size_t)(open - s)) : NULL;
	char *name = close ? xstrndup(open + 1, (size_t)(close - open - 1)) : NULL;
	struct dnode *n = text_add_unique(names, parent, type, name);
	const char *eq = memmem(s, len, " = ", 3);

	if (eq)
		dnode_set_attrn(n, "when", eq + 3, len - (size_t)(eq - s) - 3);
	free(name);
	return n;
}

static int sln_parse(struct dnode **out, const char *text, size_t len)
{
	struct dnode *root = dnode_new("Solution", NULL), *project = NULL, *sec = NULL;
	struct text_names *names = text_names_new();
	struct buf rest = BUF_INIT;
	size_t pos = 0, n;
	const char *s;

	*out = NULL;
	while (next_line(text, len, &pos, &s, &n)) {
		if (!n || *s == '#' || starts(s, n, SLN_MAGIC)) {
			if (starts(s, n, SLN_MAGIC) && memmem(s, n, "Format Version ", 15)) {
				const char *v = (const char *)memmem(s, n, "Format Version ", 15) + 15;

				dnode_set_attrn(root, "format version", v, n - (size_t)(v - s));
			}
			continue;
		}
		if (starts(s, n, "Project(")) {
			char *type = quoted(s, n, 0), *name = quoted(s, n, 1), *path = quoted(s, n, 2);
			char *guid = quoted(s, n, 3);

			project = text_add_unique(names, root, "Project", name);
			sec = NULL;
			dnode_set_attr(project, "path", path);
			dnode_set_attr(project, "type", type);
			dnode_set_attr(project, "guid", guid);
			free(type);
			free(name);
			free(path);
			free(guid);
		} else if (starts(s, n, "EndProject") && !starts(s, n, "EndProjectSection")) {
			project = NULL;
		} else if (starts(s, n, "ProjectSection(") && project) {
			sec = section(names, project, "ProjectSection", s, n);
		} else if (starts(s, n, "GlobalSection(")) {
			sec = section(names, root, "GlobalSection", s, n);
		} else if (starts(s, n, "EndProjectSection") || starts(s, n, "EndGlobalSection")) {
			sec = NULL;
		} else if (starts(s, n, "Global") || starts(s, n, "EndGlobal")) {
			continue;
		} else if (!key_value(sec ? sec : root, s, n)) {
			(void)buf_add(&rest, s, n);
			(void)buf_addch(&rest, '\n');
		}
	}
	if (rest.len)
		dnode_set_body(root, buf_cstr(&rest), "text");
	buf_release(&rest);
	text_names_free(names);
	*out = root;
	return 0;
}

const struct diff_format diff_fmt_sln = {
	.name = "sln",
	.description = "Visual Studio solution (.sln): projects and build configurations",
	.detect = sln_detect,
	.parse = sln_parse,
};
