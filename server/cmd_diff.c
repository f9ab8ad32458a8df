/*
 * server/cmd_diff.c - `otcm diff OLD NEW [--format json|text|html]` and
 * `otcm textconv FILE`: the semantic diff engine on local files, without a
 * database.  The only place the diff engine's inputs come from files.
 */
#include "server/cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "diff/diff.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE_ERR = 2 };

/* Read a whole file ("-" is stdin) into b, refusing more than DIFF_MAX_INPUT. */
static int read_file(struct buf *b, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f)
		return err_set(OTCM_EIO, NULL, "cannot open '%s': %s", path, strerror(errno));
	buf_init(b, DIFF_MAX_INPUT);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if ((rc = buf_add(b, chunk, n)))
			break;
	if (!rc && ferror(f))
		rc = err_set(OTCM_EIO, NULL, "cannot read '%s'", path);
	if (!rc && !b->data)
		rc = buf_adds(b, "");
	if (f != stdin)
		fclose(f);
	return rc;
}

static void diff_usage(void)
{
	fprintf(stderr, "usage: otcm diff OLD NEW [--format json|text|html]\n"
	                "       (OLD or NEW may be /dev/null for an added or removed file)\n");
}

int cmd_diff(int argc, char **argv)
{
	const char *paths[2] = { NULL, NULL }, *format = "text";
	struct buf a = BUF_INIT, b = BUF_INIT, out = BUF_INIT;
	struct diff_result *r = NULL;
	json_t *j = NULL;
	int npaths = 0, rc = 0, code = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			format = argv[++i];
		} else if (!strncmp(argv[i], "--format=", 9)) {
			format = argv[i] + 9;
		} else if (argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "-")) {
			diff_usage();
			return EXIT_USAGE_ERR;
		} else if (npaths < 2) {
			paths[npaths++] = argv[i];
		} else {
			diff_usage();
			return EXIT_USAGE_ERR;
		}
	}
	if (npaths != 2 || (strcmp(format, "json") && strcmp(format, "text") && strcmp(format, "html"))) {
		diff_usage();
		return EXIT_USAGE_ERR;
	}
	if ((strcmp(paths[0], "/dev/null") && (rc = read_file(&a, paths[0]))) ||
	    (strcmp(paths[1], "/dev/null") && (rc = read_file(&b, paths[1]))))
		goto out;
	if ((rc = diff_compare(&r, strcmp(paths[1], "/dev/null") ? paths[1] : paths[0],
	                       a.data, a.len, b.data, b.len)))
		goto out;
	if (!strcmp(format, "json")) {
		char *s;

		if ((rc = diff_to_json(&j, r)))
			goto out;
		s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s) {
			fputs(s, stdout);
			fputc('\n', stdout);
		}
		free(s);
	} else {
		rc = !strcmp(format, "html") ? diff_to_html(&out, r) : diff_to_text(&out, r);
		if (rc)
			goto out;
		fwrite(buf_cstr(&out), 1, out.len, stdout);
	}
out:
	if (rc) {
		fprintf(stderr, "otcm: diff: %s\n", err_message());
		code = EXIT_RUNTIME;
	}
	json_decref(j);
	diff_result_free(r);
	buf_release(&a);
	buf_release(&b);
	buf_release(&out);
	return code;
}

int cmd_textconv(int argc, char **argv)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	int rc, code = 0;

	if (argc != 1) {
		fprintf(stderr, "usage: otcm textconv FILE\n");
		return EXIT_USAGE_ERR;
	}
	if (!(rc = read_file(&in, argv[0])) && !(rc = diff_textconv(&out, argv[0], in.data, in.len)))
		fwrite(buf_cstr(&out), 1, out.len, stdout);
	if (rc) {
		fprintf(stderr, "otcm: textconv: %s\n", err_message());
		code = EXIT_RUNTIME;
	}
	buf_release(&in);
	buf_release(&out);
	return code;
}
