/*
 * server/main.c - the `otcm` command: parses the subcommand and its
 * options (core/config.h) and runs it.
 *
 *   otcm serve [options]      migrate the database, then serve HTTP until
 *                             SIGTERM or SIGINT
 *   otcm migrate [options]    apply pending migrations and exit
 *   otcm user [options] add ...   user administration (server/cmd.h)
 *   otcm audit [options] verify   check the audit hash chain and checkpoints
 *   otcm diff OLD NEW         semantic diff of two PLC files
 *   otcm textconv FILE        normalised text of a PLC file
 *   otcm verify BUNDLE        check an evidence bundle offline
 *   otcm agent --config FILE  the collection agent (agent/agent.h)
 *   otcm backup | restore | drill   backups and restore drills (cmd_backup.c)
 *   otcm version | help
 *
 * Exit codes: 0 done, 1 a runtime failure, 2 a usage error.  Logs go to
 * stderr; stdout carries only what scripts read ("otcm: serving on URL",
 * a generated administrator password, command output).
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/embed.h"
#include "core/err.h"
#include "core/log.h"
#include "agent/agent.h"
#include "core/metrics.h"
#include "server/bootstrap.h"
#include "server/cmd.h"
#include "server/dispatch.h"
#include "server/forward.h"
#include "server/hooksend.h"
#include "server/mlisten.h"
#include "server/routes.h"
#include "server/watch.h"
#include "storage/checkpoint.h"
#include "storage/cluster.h"
#include "storage/db.h"
#include "storage/repo.h"

#ifndef OTCM_VERSION
#define OTCM_VERSION "0.1.0-dev"
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f,
		"usage: otcm serve [options]         serve HTTP (migrates the database first)\n"
		"       otcm migrate [options]       apply pending database migrations\n"
		"       otcm user [options] add ...  administer users directly in the database\n"
		"       otcm audit [options] verify  check the audit hash chain and signed checkpoints\n"
		"       otcm diff OLD NEW            semantic diff of two PLC files\n"
		"       otcm textconv FILE           normalised text of a PLC file\n"
		"       otcm verify BUNDLE [--trust KEY.pub]  check an evidence bundle offline\n"
		"       otcm agent --config FILE [--once | --offline OUT | --key]  the collection agent\n"
		"       otcm backup --to DIR         online backup with a manifest of SHA-256 sums\n"
		"       otcm backup verify DIR       pg_verifybackup and the manifest's sums\n"
		"       otcm restore --from DIR --data NEWDIR   restore a backup into a new data folder\n"
		"       otcm drill --from DIR        restore drill: restore, check, measure, record\n"
		"       otcm openapi                 print the OpenAPI document\n"
		"       otcm routes                  print the operations and the routes that call them\n"
		"       otcm version | help\n"
		"\n"
		"options (also from the environment as OTCM_<NAME>, e.g. OTCM_LISTEN;\n"
		"the database URL as OTCM_DATABASE_URL):\n");
	config_usage(f);
}

static void set_log_level(const struct config *cfg)
{
	const char *l = cfg->log_level ? cfg->log_level : "info";

	log_set_level(strcmp(l, "debug") == 0 ? LOG_DEBUG :
		      strcmp(l, "warn") == 0 ? LOG_WARN :
		      strcmp(l, "error") == 0 ? LOG_ERROR : LOG_INFO);
}

/*
 * The database to use: cfg->database, or the private cluster under
 * cfg->data, started here (*out_cluster, owned by the caller, NULL when
 * not started).  Pending migrations are applied on a connection of their
 * own.  *out_conninfo is borrowed from cfg or the cluster.
 */
static int open_database(struct cluster **out_cluster, const char **out_conninfo,
			 const struct config *cfg)
{
	struct cluster *cl = NULL;
	struct db_conn *c = NULL;
	const char *conninfo = cfg->database;
	unsigned applied = 0;
	int rc;

	if (!conninfo) {
		if ((rc = cluster_start(&cl, cfg->data, cfg->pg_bindir)))
			goto out;
		conninfo = cluster_conninfo(cl);
	}
	if ((rc = db_connect(&c, conninfo)) ||
	    (rc = db_migrate(c, db_schema, db_schema_count, &applied)))
		goto out;
	log_json(LOG_INFO, "database ready",
		 json_pack("{s:s, s:i, s:i}", "database", cl ? "private cluster" : "url",
			   "migrations_applied", (int)applied, "migrations_known", (int)db_schema_count));
	*out_cluster = cl;
	cl = NULL;
	*out_conninfo = conninfo;
out:
	db_disconnect(c);
	cluster_free(cl);
	return rc;
}

/*
 * Audit trail at serve start (docs/audit.md): pooled connections switch to
 * the application role (checked once here, so a missing role fails the
 * start rather than every request), the signing key is loaded or generated
 * under the data folder, and the checkpoint writer starts.
 */
static int start_audit(struct checkpoint_writer **out_writer, struct crypto_ed25519_key **out_key,
		       char **out_origin, const struct config *cfg, struct db_pool *pool)
{
	struct db_conn *c = NULL;
	int rc;

	if (cfg->db_role && strcmp(cfg->db_role, "none") != 0) {
		db_pool_set_role(pool, cfg->db_role);
		if ((rc = db_acquire(&c, pool))) {
			err_set(rc, NULL, "%s (create it as docs/audit.md shows, or pass --db-role none)",
				err_message());
			return rc;
		}
		db_release(c);
	}
	*out_origin = checkpoint_origin(cfg);
	if ((rc = checkpoint_key_open(out_key, NULL, cfg->data, true)))
		return rc;
	return checkpoint_writer_start(out_writer, pool, *out_key, *out_origin,
				       cfg->checkpoint_every, cfg->checkpoint_minutes);
}

/*
 * Audit events to the SIEM when --syslog is set (docs/operations.md);
 * *out stays NULL otherwise.  The messages name this server as the
 * checkpoints do: --server-name, or the host name.
 */
static int start_syslog(struct forward **out, const struct config *cfg, struct db_pool *pool)
{
	char host[256] = "";

	if (!cfg->syslog)
		return 0;
	if (cfg->syslog_ca && access(cfg->syslog_ca, R_OK) != 0)
		return err_set(OTCM_EINVAL, "syslog-ca", "--syslog-ca: cannot read '%s': %s",
			       cfg->syslog_ca, strerror(errno));
	/* OpenSSL writes with write(2): a collector that went away must not end the process */
	signal(SIGPIPE, SIG_IGN);
	if (cfg->server_name)
		snprintf(host, sizeof(host), "%s", cfg->server_name);
	else if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	return forward_start(out, pool, cfg->syslog, cfg->syslog_ca,
			     strcmp(cfg->syslog_format, "cef") == 0 ? SIEM_CEF : SIEM_RFC5424,
			     host, OTCM_VERSION);
}

/* Webhook deliveries (docs/operations.md): subscriptions live in the database. */
static int start_webhooks(struct hooksend **out, const struct config *cfg, struct db_pool *pool)
{
	if (cfg->webhook_ca && access(cfg->webhook_ca, R_OK) != 0)
		return err_set(OTCM_EINVAL, "webhook-ca", "--webhook-ca: cannot read '%s': %s",
			       cfg->webhook_ca, strerror(errno));
	return hooksend_start(out, pool, cfg, OTCM_VERSION);
}

static int run_serve(const struct config *cfg)
{
	struct cluster *cl = NULL;
	struct db_pool *pool = NULL;
	struct checkpoint_writer *writer = NULL;
	struct forward *forwarder = NULL;
	struct hooksend *hooks = NULL;
	struct mlisten *mlisten = NULL;
	struct watch *watcher = NULL;
	struct crypto_ed25519_key *key = NULL;
	char *origin = NULL;
	struct server srv = { 0 };
	const char *conninfo = NULL;
	bool git_ready = false;
	int rc;

	/*
	 * Blocks of 1 MiB and more (request bodies, git objects) get mappings
	 * of their own, returned to the system when freed.  Left to itself
	 * glibc raises that threshold to the size of the first large block
	 * freed, and later ones stay resident in the malloc arena of the worker
	 * thread that used them: each 20 MiB upload left 20 MiB behind in
	 * whichever of the HTTP workers ran it (docs/benchmarks.md).
	 */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	if ((rc = repo_global_init()))
		goto out;
	git_ready = true;
	if ((rc = open_database(&cl, &conninfo, cfg)) ||
	    (rc = db_pool_new(&pool, conninfo, cfg->db_pool)) ||
	    (rc = db_pool_start_caches(pool)) ||
	    (rc = start_audit(&writer, &key, &origin, cfg, pool)) ||
	    (rc = start_syslog(&forwarder, cfg, pool)) ||
	    (rc = start_webhooks(&hooks, cfg, pool)) ||
	    (cfg->advisory_folder && (rc = watch_start(&watcher, cfg, pool, origin))))
		goto out;
	srv.cfg = cfg;
	srv.db = pool;
	srv.tls = cfg->tls_cert != NULL;
	srv.key = key;
	srv.origin = origin;
	metrics_new(&srv.metrics, routes_count);
	if ((rc = server_bootstrap(&srv)) ||
	    (cfg->metrics_listen && (rc = mlisten_start(&mlisten, cfg->metrics_listen, &srv))) ||
	    (rc = dispatch_serve(&srv)))
		goto out;
	log_msg(LOG_INFO, "stopped");
out:
	mlisten_stop(mlisten);
	hooksend_stop(hooks);
	watch_stop(watcher);
	forward_stop(forwarder);
	checkpoint_writer_stop(writer);
	metrics_free(srv.metrics);
	crypto_ed25519_free(key);
	free(origin);
	db_pool_free(pool);
	if (cl && cluster_stop(cl) && rc == 0)
		rc = OTCM_EIO;
	cluster_free(cl);
	if (git_ready)
		repo_global_shutdown();
	return rc;
}

static int run_migrate(const struct config *cfg)
{
	struct cluster *cl = NULL;
	const char *conninfo = NULL;
	int rc;

	if ((rc = open_database(&cl, &conninfo, cfg)))
		goto out;
	if (cl && (rc = cluster_stop(cl)))
		goto out;
out:
	cluster_free(cl);
	return rc;
}

/* Parse the options after the subcommand; *out_next is the first other argument. */
static int load_options(struct config *cfg, int argc, char **argv, int *out_next)
{
	if (config_load(cfg, argc, argv, 2, out_next)) {
		fprintf(stderr, "otcm: %s\n\n", err_message());
		usage(stderr);
		return EXIT_USAGE;
	}
	set_log_level(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int next = argc, code = 0, rc = 0;

	if (!cmd) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "openapi") == 0) {
		/* the document the server serves, for linters and client generators */
		fputs(embed_openapi[0].data, stdout);
		return 0;
	}
	if (strcmp(cmd, "routes") == 0)
		return cmd_routes(argc - 2, argv + 2);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("otcm %s\n", OTCM_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "diff") == 0)
		return cmd_diff(argc - 2, argv + 2);
	if (strcmp(cmd, "textconv") == 0)
		return cmd_textconv(argc - 2, argv + 2);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 2, argv + 2);
	if (strcmp(cmd, "agent") == 0)
		return agent_main(argc - 2, argv + 2);
	if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0 || strcmp(cmd, "drill") == 0) {
		/* defaults and the environment here; the command parses its own options */
		if (config_load(&cfg, argc, argv, argc, NULL)) {
			fprintf(stderr, "otcm: %s\n", err_message());
			config_release(&cfg);
			return EXIT_USAGE;
		}
		set_log_level(&cfg);
		code = cmd_backup(&cfg, cmd, argc - 2, argv + 2);
		config_release(&cfg);
		return code;
	}
	if (strcmp(cmd, "serve") && strcmp(cmd, "migrate") && strcmp(cmd, "user") &&
	    strcmp(cmd, "audit")) {
		fprintf(stderr, "otcm: unknown command '%s'\n\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((code = load_options(&cfg, argc, argv, &next)))
		goto out;
	if (strcmp(cmd, "user") == 0) {
		code = cmd_user(&cfg, argc - next, argv + next);
		goto out;
	}
	if (strcmp(cmd, "audit") == 0) {
		code = cmd_audit(&cfg, argc - next, argv + next);
		goto out;
	}
	if (next < argc) {
		fprintf(stderr, "otcm: unexpected argument '%s'\n\n", argv[next]);
		usage(stderr);
		code = EXIT_USAGE;
		goto out;
	}
	rc = strcmp(cmd, "serve") == 0 ? run_serve(&cfg) : run_migrate(&cfg);
	if (rc) {
		fprintf(stderr, "otcm: %s\n", *err_message() ? err_message() : err_name(rc));
		code = EXIT_RUNTIME;
	}
out:
	config_release(&cfg);
	return code;
}
