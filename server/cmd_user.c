/*
 * server/cmd_user.c - `otcm user`: user administration from the command
 * line, straight against the database, for setting up and for recovery
 * when no administrator can log in.  It is a door like any other: it calls
 * the domain's user operations (domain/users.h) as the actor "system",
 * role admin, door DOOR_CLI (domain/actor.h says why), so the rules and
 * audit events are the API's.
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
#include "domain/actor.h"
#include "domain/users.h"
#include "server/cmd.h"
#include "server/http.h"
#include "storage/cluster.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define CLI_POOL_SIZE 2

static void cmd_user_usage(void)
{
	fprintf(stderr,
		"usage: otcm user [OPTIONS] add USERNAME --role ROLE [--display-name NAME] [--email EMAIL]\n"
		"       otcm user [OPTIONS] unlock USERNAME\n"
		"       otcm user [OPTIONS] list\n"
		"The password of a new user is read from OTCM_USER_PASSWORD or standard input.\n");
}

/*
 * A pool on the configured database, starting the private cluster if
 * needed, after applying pending migrations.
 */
static int connect_db(struct db_pool **out, struct cluster **out_cluster, const struct config *cfg)
{
	struct cluster *cl = NULL;
	struct db_conn *c = NULL;
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
	if ((rc = db_connect(&c, conninfo)) || (rc = db_migrate(c, db_schema, db_schema_count, NULL)) ||
	    (rc = db_pool_new(out, conninfo, CLI_POOL_SIZE)))
		goto out;
	*out_cluster = cl;
	cl = NULL;
out:
	db_disconnect(c);
	free(running);
	if (cl)
		cluster_stop(cl);
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

static int user_add(const struct dom *d, int argc, char **argv)
{
	struct dom_user_new in;
	char *password = NULL;
	json_t *out = NULL;
	int i, rc;

	memset(&in, 0, sizeof(in));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			in.role = argv[++i];
		else if (strcmp(argv[i], "--display-name") == 0 && i + 1 < argc)
			in.display_name = argv[++i];
		else if (strcmp(argv[i], "--email") == 0 && i + 1 < argc)
			in.email = argv[++i];
		else if (argv[i][0] != '-' && !in.username)
			in.username = argv[i];
		else
			return err_set(OTCM_EINVAL, argv[i], "unexpected argument '%s'", argv[i]);
	}
	if (!in.username || !in.role)
		return err_set(OTCM_EINVAL, NULL, "user add needs USERNAME and --role ROLE");
	if (!in.display_name)
		in.display_name = in.username;
	password = read_password();
	if (!password)
		return err_set(OTCM_EINVAL, "password", "no password given (OTCM_USER_PASSWORD or standard input)");
	in.password = password;
	rc = dom_user_create(&out, d, &in);
	if (rc == 0)
		printf("created user '%s' (%s) with id %lld\n", in.username, in.role,
		       (long long)json_integer_value(json_object_get(out, "id")));
	memset(password, 0, strlen(password));
	free(password);
	json_decref(out);
	return rc;
}

static int user_unlock(const struct dom *d, const char *username)
{
	struct dom_user_change ch;
	json_t *out = NULL;
	int64_t id = 0;
	int rc;

	memset(&ch, 0, sizeof(ch));
	ch.disabled = -1;
	ch.unlock = true;
	if ((rc = dom_user_id(&id, d, username)) || (rc = dom_user_update(&out, d, id, &ch)))
		return rc;
	json_decref(out);
	printf("unlocked user '%s'\n", username);
	return 0;
}

static int user_list(const struct dom *d)
{
	json_t *list = NULL, *u;
	size_t i;
	int rc = dom_user_list(&list, d);

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

void cmd_actor(struct actor *out)
{
	memset(out, 0, sizeof(*out));
	out->user_id = 0;
	out->username = "system";
	out->display_name = "System";
	out->role = ROLE_ADMIN;
	out->auth = "cli";
	out->door = DOOR_CLI;
}

int cmd_user(const struct config *cfg, int argc, char **argv)
{
	struct db_pool *pool = NULL;
	struct cluster *cl = NULL;
	struct arena *arena = NULL;
	struct actor who;
	struct dom d;
	int rc;

	if (argc < 1 || (strcmp(argv[0], "add") && strcmp(argv[0], "unlock") && strcmp(argv[0], "list")) ||
	    (strcmp(argv[0], "unlock") == 0 && argc != 2) || (strcmp(argv[0], "list") == 0 && argc != 1)) {
		cmd_user_usage();
		return EXIT_USAGE;
	}
	if ((rc = connect_db(&pool, &cl, cfg)))
		goto out;
	arena = arena_new();
	cmd_actor(&who);
	memset(&d, 0, sizeof(d));
	d.who = &who;
	d.arena = arena;
	d.db = pool;
	d.cfg = cfg;
	if (strcmp(argv[0], "add") == 0)
		rc = user_add(&d, argc, argv);
	else if (strcmp(argv[0], "unlock") == 0)
		rc = user_unlock(&d, argv[1]);
	else
		rc = user_list(&d);
out:
	if (rc)
		fprintf(stderr, "otcm: %s\n", err_message());
	if (arena)
		arena_free(arena);
	db_pool_free(pool);
	if (cl)
		cluster_stop(cl);
	cluster_free(cl);
	return rc ? (rc == OTCM_EINVAL ? EXIT_USAGE : EXIT_RUNTIME) : 0;
}
