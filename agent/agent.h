/*
 * agent/agent.h - the collection agent, `otcm agent --config FILE`: reads
 * back what runs on controllers and HMIs and reports it to the server.
 *
 * The agent is outbound only.  It calls the server's agent door
 * (/api/v1/agent/...) over HTTP(S) with an API token of role agent, asks
 * for its due jobs, runs the collector configured locally for each asset
 * (folder, command, opcua: docs/agent.md), and uploads each result.  What
 * a collector may run is decided by the configuration file on the agent's
 * machine, never by the server: a server can only ask for a read-back of an
 * asset the file names.  Results wait in an on-disk queue
 * (<state_dir>/queue/) and are uploaded oldest first; while the server is
 * unreachable they stay there, in order, across restarts.  For sites with
 * no link, `--offline FILE` reads every configured asset back and writes a
 * read-back file signed with the agent's own Ed25519 key
 * (<state_dir>/agent.key), which the server checks on import.
 *
 * Files: config.c (the configuration file), collect.c (the collectors),
 * queue.c (the on-disk queue and the offline file), http.c (the only
 * libcurl user), agent.c (the loop).
 *
 * Errors: 0 or a negative code from core/err.h with a message.
 *
 * Thread-safety: single-threaded.
 */
#ifndef OTCM_AGENT_AGENT_H
#define OTCM_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"

/* the version the agent reports; the build may set it, as for the server */
#ifndef OTCM_VERSION
#define OTCM_VERSION "0.1.0-dev"
#endif

#define AGENT_MAX_DEVICES 10000
#define AGENT_MAX_STDERR 16384

/* One asset the agent reads back, from a [asset PATH] section. */
struct agent_device {
	char *asset;          /* the asset's path on the server */
	char *collector;      /* "folder", "command" or "opcua" */
	char *path;           /* folder: the folder read */
	char *command;        /* command: run by /bin/sh -c */
	char *endpoint;       /* opcua: opc.tcp://host:port */
	char *opcua_script;   /* opcua: the Node collector (default: next to the binary's share) */
	char *opcua_folder;   /* opcua: browse path of the FileDirectoryType folder, "" the root */
	unsigned timeout;     /* seconds a command or opcua read may take */
};

/* The configuration file (docs/agent.md). */
struct agent_config {
	char *server;         /* base URL, http:// or https:// */
	char *token;          /* the API token, read from token_file */
	char *state_dir;      /* queue, sequence number, key */
	char *ca_file;        /* PEM bundle for an https server, NULL: the system's */
	char *name;           /* the agent's user name, for offline files; NULL: unset */
	unsigned poll_seconds;
	struct agent_device *devices;
	size_t ndevices;
};

/*
 * Parse the file at `path` into *out (release with agent_config_release).
 * OTCM_EINVAL naming the line for a bad line, unknown key, missing
 * setting or unreadable token file; OTCM_EIO when the file cannot be read.
 */
int agent_config_load(struct agent_config *out, const char *path);
void agent_config_release(struct agent_config *cfg);

/* The device for asset `asset`, or NULL. */
const struct agent_device *agent_config_device(const struct agent_config *cfg, const char *asset);

/*
 * Read `dev` back: *out = {"asset", "collector", "ok", "duration_ms",
 * "error"?, "exit_status"?, "stderr"?, "identity"?, "files": [{path, sha256,
 * content}]}, owned by the caller.  A collector that fails (missing folder,
 * non-zero exit, timeout) is not an error of this call: the result says
 * ok false with the error.  Only an allocation or programmer error fails.
 */
int agent_collect(json_t **out, const struct agent_device *dev);

/*
 * Read every file under `dir` (regular files only, no links; paths
 * relative, '/'-separated) into the array *out as {path, sha256, content}.
 * OTCM_EIO naming the file that cannot be read; OTCM_ETOOBIG past
 * AGENT_MAX_FILES files.
 */
int agent_read_folder(json_t **out, const char *dir);

/*
 * The queue under `state_dir`: append `result` with the next sequence
 * number (kept in <state_dir>/seq, fsync'd), as <state_dir>/queue/<seq>.json.
 */
int agent_queue_add(const char *state_dir, json_t *result);

/*
 * Upload queued results oldest first through `post` (0: sent, or refused for
 * good; any other code: stop and keep the rest for later).  A result the
 * server refuses for good (4xx other than 401/408/429) moves to
 * <state_dir>/rejected/ with the answer beside it.  *out_sent counts uploads.
 */
int agent_queue_flush(size_t *out_sent, const struct agent_config *cfg);

/*
 * The agent's Ed25519 key (<state_dir>/agent.key, created on first use);
 * out gets its public half in base64 (45 bytes with the NUL).
 */
int agent_public_key(char out[64], const char *state_dir);

/*
 * Write a signed offline read-back file to `path`: every configured
 * device read back now, as {"format": "otcm-readback/1", "agent":
 * cfg->name, "readbacks": [...], "signature"} (domain/readbacks.h).  Each
 * read-back takes the next sequence number, as queued ones do.
 */
int agent_write_offline(const struct agent_config *cfg, const char *path);

/*
 * One HTTP request to the server: `method` to cfg->server + `path` with
 * the token, `body` (JSON text or NULL).  *out_status gets the status
 * (0 when the server could not be reached: OTCM_EUNAVAIL), `answer` (may
 * be NULL) the body.
 */
int agent_http(long *out_status, struct buf *answer, const struct agent_config *cfg,
	       const char *method, const char *path, const char *body);

/* `otcm agent --config FILE [--once] [--offline FILE]`: the process's exit code. */
int agent_main(int argc, char **argv);

#endif
