/* server/bootstrap.c - the first administrator; see bootstrap.h. */
#include "server/bootstrap.h"

#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "domain/auth.h"
#include "storage/audit.h"
#include "storage/users.h"

/* 20 random bytes as base64 without padding characters a shell would mangle */
static int generate_password(char out[32])
{
	unsigned char raw[18];
	char b64[CRYPTO_BASE64_LEN(18)];
	size_t i;
	int rc = crypto_random(raw, sizeof(raw));

	if (rc)
		return rc;
	crypto_base64(b64, raw, sizeof(raw));
	for (i = 0; b64[i]; i++)
		out[i] = b64[i] == '+' ? 'x' : b64[i] == '/' ? 'y' : b64[i];
	out[i] = '\0';
	return 0;
}

int server_bootstrap(const struct server *srv)
{
	static const char lock_sql[] = "SELECT pg_advisory_xact_lock(7463202601)";
	const struct config *cfg = srv->cfg;
	struct db_conn *c = NULL;
	char password[32], hash[CRYPTO_PASSWORD_HASH_MAX];
	const char *pw = cfg->admin_password;
	struct audit_event ev = { 0 };
	json_t *after = NULL;
	int64_t n = 0, id = 0;
	int rc;

	if ((rc = db_acquire(&c, srv->db)) || (rc = db_begin(c)) ||
	    (rc = db_execv(NULL, c, lock_sql, 0, NULL)) || (rc = users_count(&n, c)))
		goto out;
	if (n > 0)
		goto out;
	if (!pw) {
		if ((rc = generate_password(password)))
			goto out;
		pw = password;
	} else if ((rc = auth_check_password(cfg, "admin", pw))) {
		err_set(rc, "admin-password", "OTCM_ADMIN_PASSWORD: %s", err_message());
		goto out;
	}
	if ((rc = auth_hash_password(hash, cfg, pw)) ||
	    (rc = users_insert(&id, c, "admin", "Administrator", NULL, "admin", hash)))
		goto out;
	after = json_pack("{s:s,s:s,s:b}", "username", "admin", "role", "admin",
			  "generated_password", cfg->admin_password == NULL);
	ev.actor = "system";
	ev.action = "user.create";
	ev.object_type = "user";
	ev.object_id = "admin";
	ev.after = after;
	ev.reason = "first start";
	if ((rc = audit_append(NULL, c, &ev)) || (rc = db_commit(c)))
		goto out;
	if (cfg->admin_password) {
		printf("otcm: created administrator 'admin' with the password from OTCM_ADMIN_PASSWORD\n");
	} else {
		printf("otcm: created administrator 'admin' with one-time password: %s\n", password);
		printf("otcm: this password is not shown again; change it after logging in\n");
	}
	fflush(stdout);
	log_msg(LOG_INFO, "first administrator created");
out:
	json_decref(after);
	db_release(c);
	return rc;
}
