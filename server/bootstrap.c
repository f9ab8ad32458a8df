/* server/bootstrap.c - the first administrator; see bootstrap.h. */
#include "server/bootstrap.h"

#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "domain/auth.h"
#include "domain/users.h"
#include "server/cmd.h"
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
	const struct config *cfg = srv->cfg;
	struct db_conn *c = NULL;
	struct arena *arena = NULL;
	char password[32] = "";
	const char *pw = cfg->admin_password;
	struct dom_user_new in;
	struct actor who;
	struct dom d;
	json_t *out = NULL;
	int64_t n = 0;
	int rc;

	rc = db_acquire(&c, srv->db);
	if (rc == 0)
		rc = users_count(&n, c);
	db_release(c);
	if (rc || n > 0)
		goto out;
	if (!pw) {
		if ((rc = generate_password(password)))
			goto out;
		pw = password;
	} else if ((rc = auth_check_password(cfg, "admin", pw))) {
		err_set(rc, "admin-password", "OTCM_ADMIN_PASSWORD: %s", err_message());
		goto out;
	}
	arena = arena_new();
	cmd_actor(&who);
	memset(&d, 0, sizeof(d));
	d.who = &who;
	d.arena = arena;
	d.db = srv->db;
	d.cfg = cfg;
	memset(&in, 0, sizeof(in));
	in.username = "admin";
	in.display_name = "Administrator";
	in.role = "admin";
	in.password = pw;
	in.first_admin = true;
	rc = dom_user_create(&out, &d, &in);
	if (rc == OTCM_ECONFLICT) {
		/* another process starting at the same moment created it first */
		err_clear();
		rc = 0;
		goto out;
	}
	if (rc)
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
	memset(password, 0, sizeof(password));
	json_decref(out);
	if (arena)
		arena_free(arena);
	return rc;
}
