/*
 * server/cmd_user.c - `otcm user`: user administration from the command
 * line, straight against the database, for setting up and for recovery
 * when no administrator can log in.  Every change is an audit event with
 * actor "system" and reason "command line".
 *
 *     otcm user [OPTIONS] add USERNAME --role ROLE [--display-name NAME] [--email EMAIL]
 *     otcm user [OPTIONS] unlock USERNAME
 *     otcm user [OPTIONS] list
 *
 * The password of `add` comes from OTCM_USER_PASSWORD, or else the first
 * line of standard input, so it never appears in a process listing.
 * OPTIONS are the server's (--database, --data, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "domain/auth.h"
#include "server/cmd.h"
#include "server/http.h"
#include "storage/audit.h"
#include "storage/cluster.h"
#include "storage/users.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static void cmd_user_usage(void)
{
	fprintf(stderr,
		"usage: otcm user [OPTIONS] add USERNAME --role ROLE [--display-name NAME] [--email EMAIL]\n"
		"       otcm user [OPTIONS] unlock USERNAME\n"
		"       otcm user [OPTIONS] list\n"
		"The password of a new user is read from OTCM_USER_PASSWORD or standard input.\n");
}

/* Connect to the configured database, starting the private cluster if needed. */
static int connect_db(struct db_conn **out, struct cluster **out_cluster, const struct config *cfg)
{
	struct cluster *cl = NULL;
	char *running = NULL;
	const char *conninfo = cfg->database;
	int rc;

	if (!conninfo) {
		rc = cluster_start(&cl, cfg->data, cfg->pg_bindir);
		if (rc == OTCM_ECONFLICT) {
			/* the server owns the cluster: use it through its socket */
			if ((rc = cluster_running_conninfo(&running, cfg->data)))
				goto out;
			conninfo = running;
		} else if (rc) {
			goto out;
		} else {
			conninfo = cluster_conninfo(cl);
		}
	}
	if ((rc = db_connect(out, conninfo)))
		goto out;
	if ((rc = db_migrate(*out, db_schema, db_schema_count, NULL))) {
		db_disconnect(*out);
		*out = NULL;
		goto out;
	}
	*out_cluster = cl;
	cl = NULL;
out:
	free(running);
	cluster_free(cl);
	return rc;
}

static char *read_password(void)
{
	const char *env = getenv("OTCM_USER_PASSWORD");
	char line[1100];
	size_t n;

	if (env && *env)
		return strdup(env);
	if (!fgets(line, sizeof(line), stdin))
		return NULL;
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return strdup(line);
}

static int user_add(const struct config *cfg, struct db_conn *c, int argc, char **argv)
{
	const char *username = NULL, *role = NULL, *display = NULL, *email = NULL;
	char hash[CRYPTO_PASSWORD_HASH_MAX], *password = NULL;
	struct audit_event ev = { 0 };
	json_t *after = NULL;
	int64_t id;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strcmp(argv[i], "--display-name") == 0 && i + 1 < argc)
			display = argv[++i];
		else if (strcmp(argv[i], "--email") == 0 && i + 1 < argc)
			email = argv[++i];
		else if (argv[i][0] != '-' && !username)
			username = argv[i];
		else
			return err_set(OTCM_EINVAL, argv[i], "unexpected argument '%s'", argv[i]);
	}
	if (!username || !role)
		return err_set(OTCM_EINVAL, NULL, "user add needs USERNAME and --role ROLE");
	if (!display)
		display = username;
	if ((rc = auth_check_username(username)))
		return rc;
	if (role_from_name(role) == 0)
		return err_set(OTCM_EINVAL, "role", "role must be admin, engineer, qa, approver, auditor or agent");
	password = read_password();
	if (!password) {
		rc = err_set(OTCM_EINVAL, "password", "no password given (OTCM_USER_PASSWORD or standard input)");
		goto out;
	}
	if ((rc = auth_check_password(cfg, username, password)) ||
	    (rc = auth_hash_password(hash, cfg, password)) || (rc = db_begin(c)) ||
	    (rc = users_insert(&id, c, username, display, email, role, hash)))
		goto out;
	after = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id, "username", username,
			  "display_name", display, "role", role);
	ev.actor = "system";
	ev.action = "user.create";
	ev.object_type = "user";
	ev.object_id = username;
	ev.after = after;
	ev.reason = "command line";
	if ((rc = audit_append(NULL, c, &ev)) || (rc = db_commit(c)))
		goto out;
	printf("created user '%s' (%s) with id %lld\n", username, role, (long long)id);
out:
	if (password) {
		memset(password, 0, strlen(password));
		free(password);
	}
	json_decref(after);
	return rc;
}

static int user_unlock(struct db_conn *c, const char *username)
{
	struct arena *a = arena_new();
	struct audit_event ev = { 0 };
	struct user u;
	int rc;

	if ((rc = db_begin(c)) || (rc = users_by_name(&u, a, c, username, true)) ||
	    (rc = users_update(c, u.id, NULL, NULL, NULL, -1, true)))
		goto out;
	ev.actor = "system";
	ev.action = "user.unlock";
	ev.object_type = "user";
	ev.object_id = username;
	ev.reason = "command line";
	if ((rc = audit_append(NULL, c, &ev)) || (rc = db_commit(c)))
		goto out;
	printf("unlocked user '%s'\n", username);
out:
	arena_free(a);
	return rc;
}

static int user_list(struct db_conn *c)
{
	json_t *list = NULL, *u;
	size_t i;
	int rc = users_list(&list, c);

	if (rc)
		return rc;
	json_array_foreach(list, i, u) {
		printf("%-24s %-9s %s%s\n", json_string_value(json_object_get(u, "username")),
		       json_string_value(json_object_get(u, "role")),
		       json_string_value(json_object_get(u, "display_name")),
		       json_is_true(json_object_get(u, "locked")) ? " (locked)" : "");
	}
	json_decref(list);
	return 0;
}

int cmd_user(const struct config *cfg, int argc, char **argv)
{
	struct db_conn *c = NULL;
	struct cluster *cl = NULL;
	int rc;

	if (argc < 1 || (strcmp(argv[0], "add") && strcmp(argv[0], "unlock") && strcmp(argv[0], "list")) ||
	    (strcmp(argv[0], "unlock") == 0 && argc != 2) || (strcmp(argv[0], "list") == 0 && argc != 1)) {
		cmd_user_usage();
		return EXIT_USAGE;
	}
	if ((rc = connect_db(&c, &cl, cfg)))
		goto out;
	if (strcmp(argv[0], "add") == 0)
		rc = user_add(cfg, c, argc, argv);
	else if (strcmp(argv[0], "unlock") == 0)
		rc = user_unlock(c, argv[1]);
	else
		rc = user_list(c);
out:
	if (rc)
		fprintf(stderr, "otcm: %s\n", err_message());
	db_disconnect(c);
	if (cl)
		cluster_stop(cl);
	cluster_free(cl);
	return rc ? (rc == OTCM_EINVAL ? EXIT_USAGE : EXIT_RUNTIME) : 0;
}
