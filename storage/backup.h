/*
 * storage/backup.h - online backups of otcm's database, their manifest,
 * their verification and their restore (docs/operations.md).
 *
 * A backup folder holds
 *
 *     pg/                 pg_basebackup -Fp -Xstream: the whole cluster with
 *                         the WAL to make it consistent, and PostgreSQL's own
 *                         backup_manifest (SHA-256 of every file); or, when
 *                         the role may not replicate (an external database),
 *     dump/               pg_dump -Fd: the database in one consistent snapshot
 *                         (manifest "method" "pg_dump", with the "roles" its
 *                         objects name)
 *     keys/server.key     the server's signing key, when the data folder has one
 *     otcm-backup.json    our manifest: what was backed up, when (the database
 *                         server's clock), a snapshot of what it held when the
 *                         backup started (counts, the newest audit event and
 *                         its chain hash), and the SHA-256 and size of every
 *                         file in the folder
 *
 * The snapshot is taken just before the copy starts, so a restore holds at
 * least what it lists, and event `last_event.seq` with exactly that hash:
 * the restore drill checks both.
 *
 * Errors: OTCM_EINVAL (field named) for unusable folders, OTCM_EIO for
 * files and tools (their output is in the log file named in the message),
 * OTCM_ERULE with rule "backup-integrity" when a backup does not verify,
 * database errors as db.h.
 *
 * Thread-safety: none; the functions run PostgreSQL's tools as child
 * processes and walk folders with nftw.
 */
#ifndef OTCM_STORAGE_BACKUP_H
#define OTCM_STORAGE_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

#define BACKUP_MANIFEST "otcm-backup.json"
#define BACKUP_FORMAT "otcm-backup/1"

/*
 * What a database holds, read in one read-only snapshot on the idle
 * connection c: {"at", "server_version", "counts": {"assets", "versions",
 * "changes", "events", "git_objects"}, "last_event": {"seq", "hash", "at"}
 * or null}.  *out is owned by the caller.
 */
int backup_snapshot(json_t **out, struct db_conn *c);

/*
 * Back up the database at `conninfo` into the new or empty folder `to`:
 * snapshot, pg_basebackup from `bindir` (pg_dump -Fd when the login
 * role has neither REPLICATION nor superuser; `method` "pg_basebackup" or
 * "pg_dump" chooses, NULL or "auto" decides so; anything else is
 * OTCM_EINVAL naming "method"), the signing key from `data_dir`
 * (may be NULL), the manifest.  `source` says what was backed up ("private
 * cluster" or "database").  With `key` (CRYPTO_FILE_KEY_LEN bytes, or
 * NULL) every file is stored encrypted (core/crypto.h) as <path>.enc and
 * the manifest names the key by id; the clear copy is made in `to`/.plain
 * (mode 0700) and removed.  *out (may be NULL) gets the manifest.
 */
int backup_create(json_t **out, const char *to, const char *conninfo, const char *bindir,
		  const char *data_dir, const char *source, const char *method, const unsigned char *key);

/*
 * Verify the backup in `dir`: every file against the manifest's SHA-256 and
 * size, and no file more or less; then pg_verifybackup over pg/ (files and
 * WAL), or pg_restore --list over a dump's dump/, for an encrypted backup over a decrypted temporary copy, which
 * needs `key` (NULL otherwise).  *out_full is false when an encrypted
 * backup was checked without its key (our checks only).  *out (may be
 * NULL) gets the manifest; on OTCM_ERULE the message names the first
 * problem.  A key other than the backup's is OTCM_EINVAL, field "key".
 */
int backup_verify(json_t **out, bool *out_full, const char *dir, const char *bindir,
		  const unsigned char *key);

/*
 * Verify the backup in `from` (decrypting with `key` when it is
 * encrypted), then make it the private cluster of the data folder
 * `data_dir` (which must not have one yet) with the signing key beside it,
 * ready for `otcm serve --data data_dir`.  A dump is restored into a new
 * cluster started here: its roles created NOLOGIN where missing, then
 * pg_restore in one transaction (output in data_dir/restore.log).  *out (may be NULL) gets the
 * manifest.
 */
int backup_restore(json_t **out, const char *from, const char *data_dir, const char *bindir,
		   const unsigned char *key);

/*
 * In a restored database: *out_hash gets the hex chain hash of event `seq`
 * (malloc'd; NULL when there is no such event, or seq <= 0), and
 * *out_rpo_ms the milliseconds from its newest event to `finished_at` (a
 * timestamp), 0 when the newest event is later, -1 when there are none.
 */
int backup_probe_events(char **out_hash, int64_t *out_rpo_ms, struct db_conn *c, int64_t seq,
			const char *finished_at);

/*
 * Recompute the id of every git object in the database from its type and
 * content.  *out_checked counts the objects, *out_bad those whose id does
 * not match, out_first_bad (41 bytes) the hex id of the first (or "").
 */
int backup_git_rehash(uint64_t *out_checked, uint64_t *out_bad, char out_first_bad[41],
		      struct db_conn *c);

#endif
