/*
 * server/cmd_verify.c - `otcm verify BUNDLE [--trust KEYS.pub]...`: check an
 * evidence bundle (domain/bundle.h) or a sample's archive of bundles
 * (domain/samples.h) offline, print each check, exit 0
 * when all pass and 1 when any fails.  --trust names a public key or a key
 * set (several PEM keys in one file), and may be repeated: the bundle must
 * verify under one of the keys.  Needs no server and no database.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "server/cmd.h"
#include "domain/bundle.h"
#include "domain/samples.h"
#include "storage/repo.h"

#define VERIFY_MAX_BUNDLE ((size_t)2 << 30)

static int read_file(struct buf *out, const char *path)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f)
		return err_set(OTCM_EIO, NULL, "cannot open '%s'", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if ((rc = buf_add(out, chunk, n)))
			break;
	if (!rc && ferror(f))
		rc = err_set(OTCM_EIO, NULL, "cannot read '%s'", path);
	fclose(f);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: otcm verify BUNDLE.tar|SAMPLE.tar [--trust KEYS.pub]...\n");
	return 2;
}

#define VERIFY_MAX_KEYS 64
#define PEM_BEGIN "-----BEGIN PUBLIC KEY-----"
#define PEM_END "-----END PUBLIC KEY-----"

/*
 * Append every Ed25519 public key in the PEM text `pem` (one key, or a key
 * set: several PEM blocks one after the other) to keys[*n].
 */
static int add_keys(unsigned char keys[][CRYPTO_ED25519_PUB_LEN], size_t *n, const char *pem,
		    const char *path)
{
	const char *p = pem, *begin, *end;
	size_t found = 0;
	int rc;

	while ((begin = strstr(p, PEM_BEGIN)) && (end = strstr(begin, PEM_END))) {
		end += strlen(PEM_END);
		if (*n >= VERIFY_MAX_KEYS)
			return err_set(OTCM_EINVAL, "trust", "more than %d trusted keys", VERIFY_MAX_KEYS);
		if ((rc = crypto_ed25519_public_from_pem(keys[*n], begin, (size_t)(end - begin))))
			return rc;
		(*n)++;
		found++;
		p = end;
	}
	if (!found)
		return err_set(OTCM_EINVAL, "trust", "'%s' holds no PEM public key", path);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static unsigned char keys[VERIFY_MAX_KEYS][CRYPTO_ED25519_PUB_LEN];
	struct buf tar, pem, report = BUF_INIT;
	const char *bundle = NULL;
	size_t nkeys = 0;
	bool sample;
	int i, rc, code = 1;

	buf_init(&tar, VERIFY_MAX_BUNDLE);
	buf_init(&pem, 1 << 20);
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc) {
			const char *path = argv[++i];

			buf_reset(&pem);
			if ((rc = read_file(&pem, path)) || (rc = add_keys(keys, &nkeys, buf_cstr(&pem), path))) {
				fprintf(stderr, "otcm verify: '%s' is not an Ed25519 public key or key set "
					"(PEM): %s\n", path, err_message());
				goto out;
			}
		} else if (argv[i][0] != '-' && !bundle) {
			bundle = argv[i];
		} else {
			code = usage();
			goto out;
		}
	}
	if (!bundle) {
		code = usage();
		goto out;
	}
	if ((rc = read_file(&tar, bundle))) {
		fprintf(stderr, "otcm verify: %s\n", err_message());
		goto out;
	}
	if (repo_global_init()) {
		fprintf(stderr, "otcm verify: %s\n", err_message());
		goto out;
	}
	/*
	 * With a key set (every key the server has published, e.g. before and
	 * after a key change), the bundle verifies when it verifies under any
	 * of them; the report shown is that one's, or the last key's.
	 */
	rc = -1;
	sample = sample_archive_is(tar.data ? tar.data : "", tar.len);
	for (size_t k = 0; k < (nkeys ? nkeys : 1) && rc != 0; k++) {
		buf_reset(&report);
		if (sample)
			rc = sample_verify(&report, tar.data ? tar.data : "", tar.len, nkeys ? keys[k] : NULL);
		else
			rc = bundle_verify(&report, tar.data ? tar.data : "", tar.len, nkeys ? keys[k] : NULL);
	}
	repo_global_shutdown();
	fputs(buf_cstr(&report), stdout);
	if (rc && nkeys > 1)
		printf("none of the %zu trusted keys verifies this bundle\n", nkeys);
	code = rc ? 1 : 0;
out:
	buf_release(&tar);
	buf_release(&pem);
	buf_release(&report);
	return code;
}
