/*
 * server/watch.h - the advisory folder (--advisory-folder): for plants
 * without a network path to the vendors, CSAF files copied into a folder
 * are imported by the server itself (docs/patch.md).
 *
 * A background thread looks into the folder every --advisory-poll-seconds
 * on the node holding the advisory lead (storage/leader.h,
 * LEADER_ADVISORY_KEY), so several nodes watching one shared folder import
 * each file once.  Each regular file named *.json, not hidden and not
 * written to for two seconds, goes through dom_advisory_import() as the
 * command line's "system" actor with source "folder": an imported (or
 * unchanged) file moves to imported/, a refused one to refused/ beside a
 * NAME.error.json with the problem (field = the JSON pointer at fault).
 * A database that cannot be reached leaves the file for the next look.
 *
 * Thread-safety: watch_start and watch_stop from one thread.
 */
#ifndef OTCM_SERVER_WATCH_H
#define OTCM_SERVER_WATCH_H

#include "core/config.h"
#include "storage/db.h"

struct watch;

/* Start watching cfg->advisory_folder (must be set); *out is the caller's (watch_stop). */
int watch_start(struct watch **out, const struct config *cfg, struct db_pool *pool, const char *origin);

/* Stop the thread, give up the lead and free w.  NULL is fine. */
void watch_stop(struct watch *w);

#endif
