/*
 * server/bootstrap.h - first start: the first administrator.
 */
#ifndef OTCM_SERVER_BOOTSTRAP_H
#define OTCM_SERVER_BOOTSTRAP_H

#include "server/http.h"

/*
 * Create the administrator `admin` when no user exists yet, in one
 * transaction with its audit event (actor "system").  The password is
 * cfg->admin_password (OTCM_ADMIN_PASSWORD) when set, otherwise generated
 * and printed once on stdout.  Safe to call on every start and from
 * several processes at once (an advisory lock serialises them).
 */
int server_bootstrap(const struct server *srv);

#endif
