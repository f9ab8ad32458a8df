/*
 * server/cmd_verify.c - `otcm verify BUNDLE [--trust KEY.pub]`: check an
 * evidence bundle offline (domain/bundle.h), print each check, exit 0
 * when all pass and 1 when any fails.  Needs no server and no database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "server/cmd.h"
#include "domain/bundle.h"
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
	fprintf(stderr, "usage: otcm verify BUNDLE.tar [--trust SERVER.pub]\n");
	return 2;
}

int cmd_verify(int argc, char **argv)
{
	struct buf tar, pem, report = BUF_INIT;
	const char *bundle = NULL, *trust = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	int i, rc, code = 1;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc)
			trust = argv[++i];
		else if (argv[i][0] != '-' && !bundle)
			bundle = argv[i];
		else
			return usage();
	}
	if (!bundle)
		return usage();
	buf_init(&tar, VERIFY_MAX_BUNDLE);
	buf_init(&pem, 65536);
	if (trust && ((rc = read_file(&pem, trust)) ||
		      (rc = crypto_ed25519_public_from_pem(pub, pem.data, pem.len)))) {
		fprintf(stderr, "otcm verify: '%s' is not an Ed25519 public key (PEM): %s\n", trust,
			err_message());
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
	rc = bundle_verify(&report, tar.data ? tar.data : "", tar.len, trust ? pub : NULL);
	repo_global_shutdown();
	fputs(buf_cstr(&report), stdout);
	code = rc ? 1 : 0;
out:
	buf_release(&tar);
	buf_release(&pem);
	buf_release(&report);
	return code;
}
