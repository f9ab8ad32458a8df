/*
 * server/bootstrap.h - first start: the first administrator.
 */
#ifndef OTCM_SERVER_BOOTSTRAP_H
#define OTCM_SERVER_BOOTSTRAP_H

#include "server/http.h"

/*
 * Create the administrator `admin` when no user exists yet, through the
 * domain's dom_user_create() as the command line's actor (cmd_actor(),
 * "system"), in one transaction with its audit event.  The password is
 * cfg->admin_password (OTCM_ADMIN_PASSWORD) when set, otherwise generated
 * and printed once on stdout.  Safe to call on every start and from
 * several processes at once: the one that loses the race for the name
 * finds the administrator made.
 */
int server_bootstrap(const struct server *srv);

#endif
