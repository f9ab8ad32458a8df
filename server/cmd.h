/*
 * server/cmd.h - the `otcm` subcommands other than serve and migrate, run
 * from server/main.c.  Each returns the process exit code: 0 done, 1 a
 * runtime failure (message already printed on stderr), 2 a usage error
 * (usage already printed on stderr).  argv[0] is the subcommand's first
 * word after its name ("add" for `otcm user add ...`); argc counts from it.
 */
#ifndef OTCM_SERVER_CMD_H
#define OTCM_SERVER_CMD_H

#include "core/config.h"

struct actor;

/*
 * The command line's actor (server/cmd_user.c): user id 0 named "system",
 * role admin, door DOOR_CLI.  Whoever runs otcm with the database's
 * credentials already holds all the data (domain/actor.h); the audit events
 * of what it does name "system".
 */
void cmd_actor(struct actor *out);

/*
 * `otcm user add USERNAME --role ROLE ...` and friends (server/cmd_user.c):
 * user administration straight against the database named by `cfg`
 * (cfg->database, or the private cluster under cfg->data), for recovery
 * when no administrator can log in, through the domain's user operations
 * as cmd_actor().  Every change is audited.
 */
int cmd_user(const struct config *cfg, int argc, char **argv);

/*
 * `otcm audit verify [--database URL] [--data DIR] [--public-key FILE]`
 * (server/cmd_audit.c): recompute the audit hash chain and check every
 * signed checkpoint; prints the first event and the first checkpoint that
 * do not match.  0 when all verifies, 1 otherwise.
 */
int cmd_audit(const struct config *cfg, int argc, char **argv);

/*
 * `otcm backup ...`, `otcm backup verify DIR`, `otcm restore ...` and
 * `otcm drill ...` (server/cmd_backup.c); `name` is the subcommand
 * ("backup", "restore" or "drill") and argv what follows it.  Options are
 * the command's own (--to, --from, --data, --database, --pg-bindir, --as,
 * --scratch, --keep); `cfg` holds the defaults and the environment.
 */
int cmd_backup(const struct config *cfg, const char *name, int argc, char **argv);

/*
 * `otcm diff OLD NEW` (server/cmd_diff.c): the semantic diff of two PLC
 * files, as the server would show it, printed on stdout.  Works offline,
 * without a database.
 */
int cmd_diff(int argc, char **argv);

/*
 * `otcm textconv FILE` (server/cmd_diff.c): the normalised text form of a
 * PLC file on stdout, for `git diff` with a textconv driver.
 */
int cmd_textconv(int argc, char **argv);

/*
 * `otcm verify BUNDLE [--trust KEY.pub]` (server/cmd_verify.c): check an
 * evidence bundle offline and print each check; 0 when all pass, 1 when
 * any fails.  Needs no server or database.
 */
int cmd_verify(int argc, char **argv);

/*
 * `otcm routes` (server/cmd_routes.c): the domain's operations with the
 * roles that may perform each, and every route with its method, pattern,
 * roles, door and the operation it calls, as JSON on stdout.
 */
int cmd_routes(int argc, char **argv);

#endif
