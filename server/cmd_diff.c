/*
 * server/cmd_diff.c - `otcm diff OLD NEW [--format json|text|html]` and
 * `otcm textconv FILE`: the semantic diff engine on local files, without a
 * database.  The only place the diff engine's inputs come from files.
 */
#include "server/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
	struct stat st;
	size_t n;
	int rc = 0;

	if (!f)
		return err_set(OTCM_EIO, NULL, "cannot open '%s': %s", path, strerror(errno));
	buf_init(b, DIFF_MAX_INPUT);
	/* a regular file is read straight into a buffer of its size */
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (size_t)st.st_size <= DIFF_MAX_INPUT && !(rc = buf_grow(b, (size_t)st.st_size))) {
		while (b->len < (size_t)st.st_size &&
		       (n = fread(b->data + b->len, 1, (size_t)st.st_size - b->len, f)) > 0)
			b->len += n;
		b->data[b->len] = '\0';
	}
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
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

/*
 * A file as a diff source: opened when the engine opens it, given back when
 * it closes it, so the two files are not held at once.  A regular file is
 * mapped, with a zero page behind it for the NUL a source promises, and the
 * pages the engine has read are dropped as it goes (release), so even the
 * side being parsed is never whole in memory.  Anything else (standard
 * input, which cannot be read twice, is read on the first open and kept) is
 * read into a buffer.
 */
struct file_source {
	const char *path;
	struct buf b;
	bool loaded;
	unsigned char *map;
	size_t map_len, len, released;
};

/* Map the regular file at fs->path; 1 when it is not one worth mapping. */
static int file_source_map(struct file_source *fs)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct stat st;
	void *base, *file;
	int fd, rc = 1;

	fd = open(fs->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;   /* read_file says why */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size > DIFF_MAX_INPUT)
		goto out;
	fs->len = (size_t)st.st_size;
	fs->map_len = (fs->len / page + 1) * page;
	base = mmap(NULL, fs->map_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		goto out;
	file = mmap(base, fs->len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	if (file == MAP_FAILED) {
		munmap(base, fs->map_len);
		goto out;
	}
	fs->map = base;
	fs->released = 0;
	rc = 0;
out:
	close(fd);
	return rc;
}

static int file_source_open(void *ctx, const void **out_data, size_t *out_len)
{
	struct file_source *fs = ctx;
	int rc;

	if (!fs->loaded) {
		if (strcmp(fs->path, "-") && !file_source_map(fs)) {
			fs->loaded = true;
			*out_data = fs->map;
			*out_len = fs->len;
			return 0;
		}
		if ((rc = read_file(&fs->b, fs->path)))
			return rc;
		fs->loaded = true;
	}
	*out_data = fs->b.data;   /* a buf is always NUL-terminated */
	*out_len = fs->b.len;
	return 0;
}

static void file_source_release(void *ctx, size_t upto)
{
	struct file_source *fs = ctx;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), end = upto / page * page;

	if (fs->map && end > fs->released && end <= fs->len) {
		(void)madvise(fs->map + fs->released, end - fs->released, MADV_DONTNEED);
		fs->released = end;
	}
}

static void file_source_close(void *ctx)
{
	struct file_source *fs = ctx;

	if (fs->map) {
		munmap(fs->map, fs->map_len);
		fs->map = NULL;
		fs->loaded = false;
	} else if (strcmp(fs->path, "-")) {
		buf_release(&fs->b);
		fs->loaded = false;
	}
}

static void diff_usage(void)
{
	fprintf(stderr, "usage: otcm diff OLD NEW [--format json|text|html]\n"
	                "       (OLD or NEW may be /dev/null for an added or removed file)\n");
}

int cmd_diff(int argc, char **argv)
{
	const char *paths[2] = { NULL, NULL }, *format = "text";
	struct file_source fa = { .path = NULL, .b = BUF_INIT }, fb = { .path = NULL, .b = BUF_INIT };
	const struct diff_source sa = { file_source_open, file_source_close, file_source_release, &fa };
	const struct diff_source sb = { file_source_open, file_source_close, file_source_release, &fb };
	struct buf out = BUF_INIT;
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
	fa.path = paths[0];
	fb.path = paths[1];
	if ((rc = diff_compare_sources(&r, strcmp(paths[1], "/dev/null") ? paths[1] : paths[0],
	                               strcmp(paths[0], "/dev/null") ? &sa : NULL,
	                               strcmp(paths[1], "/dev/null") ? &sb : NULL)))
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
	file_source_close(&fa);
	file_source_close(&fb);
	buf_release(&fa.b);
	buf_release(&fb.b);
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
