/*
 * tests/fuzz/fuzz_upload.c - libFuzzer target for domain/upload.c, the
 * parser that turns an upload into a list of validated files.
 *
 * The first byte picks what the rest is:
 *   even: one archive part (zip, tar, tar.gz/bz2/xz) unpacked under small
 *         limits, so decompression bombs and huge entry counts stay fast;
 *   odd:  NUL-separated "file" part names checked as upload paths and then
 *         as one multipart upload of those files.
 * Whatever comes back must hold only paths upload_check_path accepts, in
 * strictly increasing order (sorted, no duplicates), within the limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "domain/upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct upload_limits limits = { 64, 1 << 20 };

static void check_files(const struct repo_file *files, size_t n)
{
	uint64_t total = 0;

	if (n > limits.max_entries)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (upload_check_path(files[i].path, strlen(files[i].path), "files"))
			abort();
		if (i > 0 && strcmp(files[i - 1].path, files[i].path) >= 0)
			abort();
		total += files[i].len;
	}
	if (total > limits.max_bytes)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a;

	if (size < 1)
		return 0;
	a = arena_new();
	if ((data[0] & 1) == 0) {
		struct repo_file *files = NULL;
		size_t n = 0;

		if (upload_read_archive(&files, &n, a, data + 1, size - 1, "fuzz", &limits) == 0)
			check_files(files, n);
	} else {
		/* names separated by NUL; each becomes a file part holding its own name */
		struct upload_part parts[16];
		size_t nparts = 0, i = 1;
		struct upload up;

		while (i < size && nparts < 16) {
			const uint8_t *end = memchr(data + i, 0, size - i);
			size_t len = end ? (size_t)(end - (data + i)) : size - i;
			char *name = arena_strndup(a, (const char *)data + i, len);

			(void)upload_check_path(name, strlen(name), "files");
			memset(&parts[nparts], 0, sizeof(parts[nparts]));
			parts[nparts].name = "file";
			parts[nparts].filename = name;
			parts[nparts].data = name;
			parts[nparts].len = strlen(name);
			nparts++;
			i += len + 1;
		}
		if (upload_from_parts(&up, a, parts, nparts, &limits) == 0)
			check_files(up.files, up.nfiles);
	}
	err_clear();
	arena_free(a);
	return 0;
}
