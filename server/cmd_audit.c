/*
 * server/cmd_audit.c - `otcm audit verify`: recompute the audit trail's
 * hash chain and check every signed checkpoint against it, straight from
 * the database, and name the first event and the first checkpoint that do
 * not match (docs/audit.md).  Reads only; never migrates or writes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"
#include "server/cmd.h"
#include "storage/audit.h"
#include "storage/checkpoint.h"
#include "storage/cluster.h"
#include "storage/db.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: otcm audit [OPTIONS] verify [--database URL] [--data DIR] [--public-key FILE]\n"
		"Recomputes the audit hash chain and checks every signed checkpoint.\n"
		"The checkpoints' key is FILE (PEM public key, as served at /api/v1/keys/server.pub)\n"
		"or else the server key in the data folder.  Exit status 0 when everything\n"
		"verifies, 1 when something does not (or the database cannot be read).\n");
}

/* Read a whole small file; *out (free()) is NUL-terminated. */
static int read_file(char **out, size_t *out_len, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data = xmalloc(65537);
	size_t n;

	if (!f) {
		free(data);
		return err_set(OTCM_EIO, NULL, "cannot open '%s'", path);
	}
	n = fread(data, 1, 65536, f);
	fclose(f);
	data[n] = '\0';
	*out = data;
	*out_len = n;
	return 0;
}

/* The public key checkpoints must be signed with; *out_have false when there is none. */
static int trusted_key(unsigned char pub[CRYPTO_ED25519_PUB_LEN], bool *out_have,
		       const char *pub_path, const char *data_dir)
{
	struct crypto_ed25519_key *key = NULL;
	char *pem = NULL;
	size_t len = 0;
	int rc;

	*out_have = false;
	if (pub_path) {
		if ((rc = read_file(&pem, &len, pub_path)) ||
		    (rc = crypto_ed25519_public_from_pem(pub, pem, len)))
			goto out;
		*out_have = true;
		goto out;
	}
	rc = checkpoint_key_open(&key, NULL, data_dir, false);
	if (rc == OTCM_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	crypto_ed25519_public(pub, key);
	*out_have = true;
out:
	free(pem);
	crypto_ed25519_free(key);
	return rc;
}

static int verify(const struct config *cfg, const char *pub_path)
{
	struct cluster *cl = NULL;
	struct db_conn *c = NULL;
	struct audit_chain chain = { 0 };
	struct checkpoint_check ck = { 0 };
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	const char *conninfo = cfg->database;
	char *running = NULL;
	bool have_key = false, ok;
	uint64_t ncheckpoints = 0;
	int rc;

	if ((rc = trusted_key(pub, &have_key, pub_path, cfg->data)))
		goto out;
	if (!conninfo) {
		rc = cluster_start(&cl, cfg->data, cfg->pg_bindir);
		if (rc == OTCM_ECONFLICT) {
			if ((rc = cluster_running_conninfo(&running, cfg->data)))
				goto out;
			conninfo = running;
		} else if (rc) {
			goto out;
		} else {
			conninfo = cluster_conninfo(cl);
		}
	}
	if ((rc = db_connect(&c, conninfo)) || (rc = db_begin_snapshot(c, true)) ||
	    (rc = audit_verify_chain(&chain, c)) || (rc = checkpoint_count(&ncheckpoints, c)))
		goto out;
	if (ncheckpoints > 0 && !have_key) {
		rc = err_set(OTCM_EINVAL, NULL, "there are %" PRIu64 " checkpoints but no key to check them: "
			     "pass --public-key or --data", ncheckpoints);
		goto out;
	}
	if (have_key && (rc = checkpoint_verify_all(&ck, c, &chain, pub)))
		goto out;
	ok = chain.bad_seq == 0 && ck.bad_size == 0;
	if (chain.bad_seq)
		printf("event %" PRId64 ": %s\n", chain.bad_seq, chain.problem);
	if (ck.bad_size)
		printf("checkpoint %" PRIu64 ": %s\n", ck.bad_size, ck.problem);
	if (ok) {
		printf("ok: %" PRIu64 " events chained, %" PRIu64 " checkpoints verified", chain.verified,
		       ck.checked);
		if (ck.latest_size)
			printf(", the newest signs events 1 to %" PRIu64 "%s", ck.latest_size,
			       ck.latest_size < chain.verified ? " (later events are not yet signed)" : "");
		printf("\n");
	} else {
		printf("FAILED: the audit trail does not verify\n");
	}
	rc = ok ? 0 : OTCM_ERULE;
	if (!ok)
		err_set(OTCM_ERULE, NULL, "the audit trail does not verify");
out:
	audit_chain_release(&chain);
	db_disconnect(c);
	if (cl)
		cluster_stop(cl);
	cluster_free(cl);
	free(running);
	return rc;
}

int cmd_audit(const struct config *cfg, int argc, char **argv)
{
	struct config local = *cfg;    /* shallow: overrides below are borrowed from argv */
	const char *pub_path = NULL;
	int rc;

	if (argc < 1 || strcmp(argv[0], "verify") != 0) {
		usage();
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			usage();
			return 2;
		}
		if (strcmp(argv[i], "--public-key") == 0)
			pub_path = v;
		else if (strcmp(argv[i], "--database") == 0)
			local.database = (char *)v;
		else if (strcmp(argv[i], "--data") == 0)
			local.data = (char *)v;
		else {
			usage();
			return 2;
		}
		i++;
	}
	rc = verify(&local, pub_path);
	if (rc && rc != OTCM_ERULE)
		fprintf(stderr, "otcm: %s\n", err_message());
	return rc ? 1 : 0;
}
