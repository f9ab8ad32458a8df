/*
 * tests/unit/domain/test_upload.c - domain/upload.c: archives and multipart
 * parts become validated files, and every hostile entry is refused.
 *
 * Archives are built here with core/archive.h's writer (links, FIFOs and
 * all), so each test shows exactly which entry it smuggles in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/archive.h"
#include "core/arena.h"
#include "core/err.h"
#include "domain/upload.h"

enum kind { REG, DIR_, SYMLINK, HARDLINK, FIFO };

struct entry {
	const char *path;
	enum kind kind;
	const char *data;   /* REG: contents; SYMLINK/HARDLINK: target */
	unsigned mode;      /* permission bits, 0 = 0644/0755 */
};

enum fmt { TAR, TGZ, ZIP };

#define ARCHIVE_MAX ((size_t)8 << 20)

/* Build an archive in memory with core/archive.h's writer; the caller frees it. */
static void *make_archive(size_t *out_len, enum fmt fmt, const struct entry *e, size_t n)
{
	static const enum arc_type types[] = {
		[REG] = ARC_FILE, [DIR_] = ARC_DIR, [SYMLINK] = ARC_SYMLINK,
		[HARDLINK] = ARC_HARDLINK, [FIFO] = ARC_OTHER,
	};
	struct buf out = BUF_INIT;
	struct arc_writer *w = NULL;

	buf_init(&out, ARCHIVE_MAX);
	assert_int_equal(arc_writer_open(&w, &out, fmt == ZIP ? ARC_ZIP : fmt == TGZ ? ARC_TAR_GZ
									  : ARC_TAR), 0);
	for (size_t i = 0; i < n; i++) {
		struct arc_entry ae;

		memset(&ae, 0, sizeof(ae));
		ae.name = e[i].path;
		ae.type = types[e[i].kind];
		if (e[i].kind == REG) {
			ae.data = e[i].data;
			ae.len = e[i].data ? strlen(e[i].data) : 0;
		} else if (e[i].kind == SYMLINK || e[i].kind == HARDLINK) {
			ae.link = e[i].data;
		}
		ae.mode = e[i].mode ? e[i].mode : e[i].kind == DIR_ ? 0755 :
			  e[i].kind == SYMLINK ? 0777 : 0644;
		assert_int_equal(arc_writer_add(w, &ae), 0);
	}
	assert_int_equal(arc_writer_close(w), 0);
	arc_writer_free(w);
	*out_len = out.len;
	return buf_detach(&out, out_len);
}

static const struct upload_limits roomy = { 1000, (uint64_t)64 << 20 };

/* Unpack `e` written as `fmt`; returns the code, files in *out. */
static int unpack(struct arena *ar, struct repo_file **out, size_t *out_n, enum fmt fmt,
		  const struct entry *e, size_t n, const struct upload_limits *lim)
{
	size_t len;
	void *mem = make_archive(&len, fmt, e, n);
	int rc;

	err_clear();
	rc = upload_read_archive(out, out_n, ar, mem, len, "test.tar", lim);
	free(mem);
	return rc;
}

/* Unpacking must fail with `code`, and the message must quote `needle`. */
static void expect_refused(enum fmt fmt, const struct entry *e, size_t n,
			   const struct upload_limits *lim, int code, const char *needle)
{
	struct arena *ar = arena_new();
	struct repo_file *files = NULL;
	size_t nfiles = 0;
	int rc = unpack(ar, &files, &nfiles, fmt, e, n, lim);

	if (rc != code || !strstr(err_message(), needle))
		fail_msg("expected code %d mentioning '%s', got %d: %s", code, needle, rc,
			 err_message());
	assert_string_equal(err_field(), "archive");
	assert_null(files);
	assert_int_equal(nfiles, 0);
	arena_free(ar);
}

#define N(x) (sizeof(x) / sizeof((x)[0]))

static void test_nested_folders_ok(void **state)
{
	static const struct entry e[] = {
		{ "./", DIR_, NULL, 0 },
		{ "./Project/", DIR_, NULL, 0 },
		{ "./Project/Controller/", DIR_, NULL, 0 },
		{ "./Project/Controller/Main.L5X", REG, "<RSLogix5000Content/>", 0 },
		{ "Project/tools/build.sh", REG, "#!/bin/sh\n", 0755 },
		{ "Project/empty.txt", REG, "", 0 },
	};
	enum fmt fmts[] = { TAR, TGZ, ZIP };

	for (size_t f = 0; f < N(fmts); f++) {
		struct arena *ar = arena_new();
		struct repo_file *files = NULL;
		size_t n = 0;

		assert_int_equal(unpack(ar, &files, &n, fmts[f], e, N(e), &roomy), 0);
		assert_int_equal(n, 3);
		/* sorted by path, folders implied, "./" dropped */
		assert_string_equal(files[0].path, "Project/Controller/Main.L5X");
		assert_int_equal(files[0].len, strlen("<RSLogix5000Content/>"));
		assert_memory_equal(files[0].data, "<RSLogix5000Content/>", files[0].len);
		assert_false(files[0].executable);
		assert_string_equal(files[1].path, "Project/empty.txt");
		assert_int_equal(files[1].len, 0);
		assert_string_equal(files[2].path, "Project/tools/build.sh");
		assert_true(files[2].executable);
		arena_free(ar);
	}
}

static void test_dotdot_refused(void **state)
{
	static const struct entry e[] = {
		{ "ok.txt", REG, "fine", 0 },
		{ "a/../../etc/cron.d/evil", REG, "x", 0 },
	};

	expect_refused(TAR, e, N(e), &roomy, OTCM_EINVAL, "a/../../etc/cron.d/evil");
	expect_refused(ZIP, e, N(e), &roomy, OTCM_EINVAL, "a/../../etc/cron.d/evil");
}

static void test_absolute_refused(void **state)
{
	static const struct entry e[] = { { "/etc/passwd", REG, "root:x:0:0", 0 } };

	expect_refused(TAR, e, N(e), &roomy, OTCM_EINVAL, "absolute");
}

static void test_symlink_refused(void **state)
{
	static const struct entry e[] = {
		{ "real.txt", REG, "data", 0 },
		{ "link.txt", SYMLINK, "/etc/shadow", 0 },
	};

	expect_refused(TAR, e, N(e), &roomy, OTCM_EINVAL, "'link.txt'");
	expect_refused(ZIP, e, N(e), &roomy, OTCM_EINVAL, "symbolic link");
}

static void test_hardlink_refused(void **state)
{
	static const struct entry e[] = {
		{ "real.txt", REG, "data", 0 },
		{ "twin.txt", HARDLINK, "real.txt", 0 },
	};

	expect_refused(TAR, e, N(e), &roomy, OTCM_EINVAL, "hard link");
}

static void test_device_refused(void **state)
{
	static const struct entry e[] = { { "pipe", FIFO, NULL, 0 } };

	expect_refused(TAR, e, N(e), &roomy, OTCM_EINVAL, "not a regular file");
}

static void test_duplicate_refused(void **state)
{
	static const struct entry e[] = {
		{ "prog/Main.L5X", REG, "one", 0 },
		{ "./prog/Main.L5X", REG, "two", 0 },
	};

	expect_refused(TAR, e, N(e), &roomy, OTCM_EINVAL, "appears twice");
}

static void test_file_and_folder_refused(void **state)
{
	static const struct entry e[] = {
		{ "prog", REG, "a file", 0 },
		{ "prog/Main.L5X", REG, "inside", 0 },
	};

	expect_refused(TAR, e, N(e), &roomy, OTCM_EINVAL, "also the folder");
}

static void test_git_refused(void **state)
{
	static const struct entry hooks[] = { { ".git/hooks/post-checkout", REG, "#!/bin/sh", 0755 } };
	static const struct entry upper[] = { { "sub/.GIT/config", REG, "[core]", 0 } };
	static const struct entry alias[] = { { "GIT~1/config", REG, "[core]", 0 } };
	static const struct entry dir[] = { { "x/.git/", DIR_, NULL, 0 } };

	expect_refused(TAR, hooks, 1, &roomy, OTCM_EINVAL, ".git");
	expect_refused(ZIP, upper, 1, &roomy, OTCM_EINVAL, ".git");
	expect_refused(TAR, alias, 1, &roomy, OTCM_EINVAL, ".git");
	expect_refused(TAR, dir, 1, &roomy, OTCM_EINVAL, ".git");
}

/* git's NTFS and HFS+ readings of ".git" in archive entries, too */
static void test_git_aliases_refused(void **state)
{
	static const struct entry dots[] = { { ".git./config", REG, "[core]", 0 } };
	static const struct entry joiner[] = { { "sub/.g\xe2\x80\x8cit/config", REG, "[core]", 0 } };

	expect_refused(TAR, dots, 1, &roomy, OTCM_EINVAL, ".git");
	expect_refused(ZIP, joiner, 1, &roomy, OTCM_EINVAL, ".git");
}

static void test_too_many_entries(void **state)
{
	static const struct entry e[] = {
		{ "a", REG, "1", 0 }, { "b", REG, "2", 0 }, { "c", REG, "3", 0 }, { "d", REG, "4", 0 },
	};
	static const struct upload_limits three = { 3, (uint64_t)1 << 20 };

	expect_refused(TAR, e, N(e), &three, OTCM_ETOOBIG, "'d'");
	expect_refused(ZIP, e, N(e), &three, OTCM_ETOOBIG, "more than 3 entries");
}

static void test_too_many_bytes(void **state)
{
	static const struct upload_limits small = { 100, 4096 };
	char *big = malloc(4000), *big2 = malloc(200);
	struct entry e[2];

	memset(big, 'A', 3999);
	big[3999] = '\0';
	memset(big2, 'B', 199);
	big2[199] = '\0';
	e[0] = (struct entry){ "first.txt", REG, big, 0 };
	e[1] = (struct entry){ "second.txt", REG, big2, 0 };
	expect_refused(TAR, e, 2, &small, OTCM_ETOOBIG, "second.txt");
	expect_refused(ZIP, e, 2, &small, OTCM_ETOOBIG, "more than 4096 bytes");
	free(big);
	free(big2);
}

/* A few KB of gzip that unpack to 16 MB stop at the limit, not at the end. */
static void test_decompression_bomb(void **state)
{
	static const struct upload_limits lim = { 100, (uint64_t)1 << 20 };
	size_t size = (size_t)16 << 20;
	char *zeros = calloc(1, size + 1);
	struct entry e[1];
	size_t len;
	void *mem;
	struct arena *ar = arena_new();
	struct repo_file *files = NULL;
	size_t n = 0;

	memset(zeros, '0', size);
	e[0] = (struct entry){ "bomb.bin", REG, zeros, 0 };
	mem = make_archive(&len, TGZ, e, 1);
	assert_true(len < size / 100);
	assert_int_equal(upload_read_archive(&files, &n, ar, mem, len, "bomb.tgz", &lim),
			 OTCM_ETOOBIG);
	assert_non_null(strstr(err_message(), "bomb.bin"));
	free(mem);
	free(zeros);
	arena_free(ar);
}

static void test_not_an_archive(void **state)
{
	struct arena *ar = arena_new();
	struct repo_file *files = NULL;
	size_t n = 0;
	static const char text[] = "<?xml version=\"1.0\"?><RSLogix5000Content/>";

	assert_int_equal(upload_read_archive(&files, &n, ar, text, sizeof(text) - 1, "x.zip", &roomy),
			 OTCM_EMEDIA);
	assert_string_equal(err_field(), "archive");
	arena_free(ar);
}

static void test_empty_archive(void **state)
{
	static const struct entry e[] = { { "only/", DIR_, NULL, 0 } };

	expect_refused(TAR, e, N(e), &roomy, OTCM_EINVAL, "holds no files");
}

static void test_check_path(void **state)
{
	static const char *const bad[] = {
		"", "/abs", "a//b", "a/./b", "..", "a/..", ".git", "a/.Git/b", "git~1/x",
		"tab\there", "bell\a", "back\\slash", "del\x7f", "latin1-\xe9.txt", "trailing/",
	};

	for (size_t i = 0; i < N(bad); i++) {
		err_clear();
		if (upload_check_path(bad[i], strlen(bad[i]), "files") != OTCM_EINVAL)
			fail_msg("path '%s' was accepted", bad[i]);
		assert_string_equal(err_field(), "files");
	}
	/* NUL inside the given length */
	assert_int_equal(upload_check_path("a\0b", 3, "files"), OTCM_EINVAL);
	assert_int_equal(upload_check_path("Line 3 (new)/Main@v2.L5X", 24, "files"), 0);
	assert_int_equal(upload_check_path("Anlage/Ölpumpe.scl", strlen("Anlage/Ölpumpe.scl"),
					   "files"), 0);
	assert_int_equal(upload_check_path(".gitignore", 10, "files"), 0);
}

/*
 * Names that git itself reads as ".git" on NTFS (trailing dots and spaces,
 * the 8.3 alias, an alternate data stream) or HFS+ (code points HFS+
 * ignores), in any path component: refused with the path named.
 */
static void test_check_path_git_rules(void **state)
{
	static const char *const bad[] = {
		".git./config", ".git /config", ".git. . ./x", "sub/.GIT../x", "a/.git.",
		"GIT~1./x", "git~1 /x", ".git:stream/x", ".git::$INDEX_ALLOCATION/x",
		".g\xe2\x80\x8cit/x",                 /* U+200C zero width non-joiner */
		".git\xe2\x80\x8f/x",                 /* U+200F right-to-left mark */
		"\xef\xbb\xbf.git/x",                 /* U+FEFF zero width no-break space */
		".\xe2\x80\xaeg\xe2\x80\xadIT/hooks",  /* U+202E, U+202D */
		"x/.gi\xe2\x81\xaft\xe2\x80\x8d/y",     /* U+206F, U+200D */
	};
	static const char *const good[] = {
		".gitignore", ".git-x/y", ".gitx", "git~2/x", "a.git/b", "git/x", "x.git.",
		".g\xe2\x80\x8cx/y", "x\xe2\x80\x8c.txt", ".gi\xc3\x9f/x", "..git/x", ".git~1/x",
	};

	for (size_t i = 0; i < N(bad); i++) {
		err_clear();
		if (upload_check_path(bad[i], strlen(bad[i]), "files") != OTCM_EINVAL)
			fail_msg("path '%s' was accepted", bad[i]);
		assert_string_equal(err_field(), "files");
		assert_non_null(strstr(err_message(), bad[i]));
		assert_non_null(strstr(err_message(), ".git"));
	}
	for (size_t i = 0; i < N(good); i++) {
		err_clear();
		if (upload_check_path(good[i], strlen(good[i]), "files") != 0)
			fail_msg("path '%s' was refused: %s", good[i], err_message());
	}
}

static struct upload_part part(const char *name, const char *filename, const char *data, size_t len)
{
	struct upload_part p;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.filename = filename;
	p.data = data;
	p.len = len;
	return p;
}

static void test_parts_files(void **state)
{
	struct arena *ar = arena_new();
	struct upload up;
	struct upload_part parts[5];

	parts[0] = part("message", NULL, "tune PID loop", 13);
	parts[1] = part("file", "prog/Main.L5X", "<a/>", 4);
	parts[2] = part("files", "hmi/screen.xml", "<b/>", 4);
	parts[3] = part("branch", NULL, "chg-12", 6);
	parts[4] = part("parent", NULL, "0123456789012345678901234567890123456789", 40);
	assert_int_equal(upload_from_parts(&up, ar, parts, 5, &roomy), 0);
	assert_int_equal(up.nfiles, 2);
	assert_false(up.replace_tree);
	assert_string_equal(up.files[0].path, "hmi/screen.xml");
	assert_string_equal(up.files[1].path, "prog/Main.L5X");
	assert_string_equal(up.message, "tune PID loop");
	assert_string_equal(up.branch, "chg-12");
	assert_non_null(up.parent);
	arena_free(ar);
}

static void test_parts_archive(void **state)
{
	static const struct entry e[] = { { "Main.L5X", REG, "<x/>", 0 } };
	struct arena *ar = arena_new();
	struct upload up;
	struct upload_part parts[2];
	size_t len;
	void *mem = make_archive(&len, ZIP, e, 1);

	parts[0] = part("archive", "project.zip", mem, len);
	parts[1] = part("message", NULL, "m", 1);
	assert_int_equal(upload_from_parts(&up, ar, parts, 2, &roomy), 0);
	assert_true(up.replace_tree);
	assert_int_equal(up.nfiles, 1);
	assert_string_equal(up.files[0].path, "Main.L5X");

	/* archive together with files, or twice: refused */
	parts[1] = part("file", "extra.txt", "x", 1);
	assert_int_equal(upload_from_parts(&up, ar, parts, 2, &roomy), OTCM_EINVAL);
	assert_string_equal(err_field(), "archive");
	parts[1] = part("archive", "again.zip", mem, len);
	assert_int_equal(upload_from_parts(&up, ar, parts, 2, &roomy), OTCM_EINVAL);
	free(mem);
	arena_free(ar);
}

static void test_parts_refused(void **state)
{
	static const struct upload_limits two = { 2, 10 };
	struct arena *ar = arena_new();
	struct upload up;
	struct upload_part parts[3];

	/* no file at all */
	parts[0] = part("message", NULL, "m", 1);
	assert_int_equal(upload_from_parts(&up, ar, parts, 1, &roomy), OTCM_EINVAL);
	assert_string_equal(err_field(), "files");
	/* unknown part */
	parts[1] = part("comment", NULL, "hi", 2);
	assert_int_equal(upload_from_parts(&up, ar, parts, 2, &roomy), OTCM_EINVAL);
	assert_string_equal(err_field(), "comment");
	/* bad and duplicate paths */
	parts[0] = part("file", "../x", "1", 1);
	assert_int_equal(upload_from_parts(&up, ar, parts, 1, &roomy), OTCM_EINVAL);
	assert_string_equal(err_field(), "files");
	assert_non_null(strstr(err_message(), "'../x'"));
	parts[0] = part("file", "a.txt", "1", 1);
	parts[1] = part("file", "a.txt", "2", 1);
	assert_int_equal(upload_from_parts(&up, ar, parts, 2, &roomy), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "appears twice"));
	/* limits */
	parts[1] = part("file", "b.txt", "2", 1);
	parts[2] = part("file", "c.txt", "3", 1);
	assert_int_equal(upload_from_parts(&up, ar, parts, 3, &two), OTCM_ETOOBIG);
	assert_non_null(strstr(err_message(), "c.txt"));
	parts[1] = part("file", "b.txt", "0123456789", 10);
	assert_int_equal(upload_from_parts(&up, ar, parts, 2, &two), OTCM_ETOOBIG);
	assert_string_equal(err_field(), "files");
	/* a message with a control character */
	parts[0] = part("message", NULL, "a\033b", 3);
	parts[1] = part("file", "a.txt", "1", 1);
	assert_int_equal(upload_from_parts(&up, ar, parts, 2, &roomy), OTCM_EINVAL);
	assert_string_equal(err_field(), "message");
	arena_free(ar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_folders_ok),
		cmocka_unit_test(test_dotdot_refused),
		cmocka_unit_test(test_absolute_refused),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_hardlink_refused),
		cmocka_unit_test(test_device_refused),
		cmocka_unit_test(test_duplicate_refused),
		cmocka_unit_test(test_file_and_folder_refused),
		cmocka_unit_test(test_git_refused),
		cmocka_unit_test(test_git_aliases_refused),
		cmocka_unit_test(test_too_many_entries),
		cmocka_unit_test(test_too_many_bytes),
		cmocka_unit_test(test_decompression_bomb),
		cmocka_unit_test(test_not_an_archive),
		cmocka_unit_test(test_empty_archive),
		cmocka_unit_test(test_check_path),
		cmocka_unit_test(test_check_path_git_rules),
		cmocka_unit_test(test_parts_files),
		cmocka_unit_test(test_parts_archive),
		cmocka_unit_test(test_parts_refused),
	};

	return cmocka_run_group_tests_name("upload", tests, NULL, NULL);
}
