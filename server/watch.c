/* server/watch.c - the advisory folder's watch; see watch.h. */
#include "server/watch.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/worker.h"
#include "domain/actor.h"
#include "domain/advisories.h"
#include "domain/domain.h"
#include "server/cmd.h"
#include "storage/leader.h"

#define WATCH_QUIET_SECONDS 2          /* a file still being written is left for the next look */
#define WATCH_MAX_FILES 1000           /* files looked at in one pass */

struct watch {
	const struct config *cfg;
	struct db_pool *pool;
	const char *origin;
	struct leader *leader;
	struct worker *worker;
};

/* Move `name` into the folder's `sub`/ (created when needed), not over an earlier file. */
static void move_into(const char *dir, const char *sub, const char *name)
{
	char *from = xasprintf("%s/%s", dir, name), *to_dir = xasprintf("%s/%s", dir, sub);
	char *to = xasprintf("%s/%s", to_dir, name);

	if (mkdir(to_dir, 0750) != 0 && errno != EEXIST)
		log_msg(LOG_WARN, "advisory folder: cannot create %s: %s", to_dir, strerror(errno));
	if (access(to, F_OK) == 0) {
		free(to);
		to = xasprintf("%s/%lld-%s", to_dir, (long long)time(NULL), name);
	}
	if (rename(from, to) != 0)
		log_msg(LOG_WARN, "advisory folder: cannot move %s to %s: %s", from, to, strerror(errno));
	free(from);
	free(to_dir);
	free(to);
}

/* Write the refusal beside the refused file: refused/NAME.error.json. */
static void write_refusal(const char *dir, const char *name, int code)
{
	json_t *p = json_pack("{s:s, s:s?, s:s?, s:s}", "error", err_name(code), "field", err_field(),
			      "rule", err_rule(), "detail", err_message());
	char *path = xasprintf("%s/refused/%s.error.json", dir, name);

	if (p && json_dump_file(p, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		log_msg(LOG_WARN, "advisory folder: cannot write %s", path);
	json_decref(p);
	free(path);
}

/* Read a whole file of at most `max` bytes; NULL when it cannot be read or is larger. */
static char *read_file(const char *path, size_t max, size_t *out_len)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n, size;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > max) {
		fclose(f);
		return NULL;
	}
	size = (size_t)st.st_size;
	data = xmalloc(size + 1);
	/* one byte more than it had: a file that grew since is refused, not cut */
	n = fread(data, 1, size + 1, f);
	fclose(f);
	if (n != size) {
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*out_len = n;
	return data;
}

static bool is_candidate(const char *dir, const char *name)
{
	struct stat st;
	char *path;
	size_t n = strlen(name);
	bool ok;

	if (name[0] == '.' || n < 6 || strcmp(name + n - 5, ".json") != 0)
		return false;
	path = xasprintf("%s/%s", dir, name);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) && time(NULL) - st.st_mtime >= WATCH_QUIET_SECONDS;
	free(path);
	return ok;
}

static void import_one(struct watch *w, const char *name)
{
	const char *dir = w->cfg->advisory_folder;
	struct arena *arena = arena_new();
	struct actor who;
	struct dom d;
	json_t *out = NULL;
	char *path = xasprintf("%s/%s", dir, name), *data;
	size_t len = 0;
	int rc;

	data = read_file(path, (size_t)w->cfg->max_body, &len);
	if (!data) {
		err_set(OTCM_ETOOBIG, "file", "cannot read '%s' or it is larger than --max-body", name);
		move_into(dir, "refused", name);
		write_refusal(dir, name, OTCM_ETOOBIG);
		goto out;
	}
	cmd_actor(&who);
	who.auth = "folder";
	memset(&d, 0, sizeof(d));
	d.who = &who;
	d.arena = arena;
	d.db = w->pool;
	d.cfg = w->cfg;
	d.origin = w->origin;
	err_clear();
	rc = dom_advisory_import(&out, &d, data, len, "folder", name);
	if (rc == 0) {
		log_msg(LOG_INFO, "advisory folder: imported %s as %s", name,
			json_string_value(json_object_get(out, "tracking_id")));
		move_into(dir, "imported", name);
	} else if (rc == OTCM_EINVAL || rc == OTCM_ERULE || rc == OTCM_ETOOBIG) {
		log_msg(LOG_WARN, "advisory folder: refused %s: %s", name, err_message());
		move_into(dir, "refused", name);
		write_refusal(dir, name, rc);
	} else {
		log_msg(LOG_WARN, "advisory folder: %s left for the next look: %s", name, err_message());
	}
out:
	json_decref(out);
	free(data);
	free(path);
	arena_free(arena);
	err_clear();
}

/* One look into the folder.  Returns ms to wait before the next. */
static unsigned watch_step(void *arg)
{
	struct watch *w = arg;
	unsigned wait = w->cfg->advisory_poll_seconds * 1000u;
	const char *dir = w->cfg->advisory_folder;
	char **names = NULL;
	size_t n = 0, i;
	struct dirent *e;
	DIR *dp;

	if (!leader_hold(w->leader))
		return wait;
	dp = opendir(dir);
	if (!dp) {
		log_msg(LOG_WARN, "advisory folder %s: %s", dir, strerror(errno));
		return wait;
	}
	names = xcalloc(WATCH_MAX_FILES, sizeof(*names));
	while (n < WATCH_MAX_FILES && (e = readdir(dp)) != NULL) {
		if (is_candidate(dir, e->d_name))
			names[n++] = xstrdup(e->d_name);
	}
	closedir(dp);
	for (i = 0; i < n; i++) {
		import_one(w, names[i]);
		free(names[i]);
	}
	free(names);
	return wait;
}

static void watch_free(struct watch *w)
{
	leader_free(w->leader);
	free(w);
}

int watch_start(struct watch **out, const struct config *cfg, struct db_pool *pool, const char *origin)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	struct stat st;
	int rc = 0;

	*out = NULL;
	w->cfg = cfg;
	w->pool = pool;
	w->origin = origin;
	if (stat(cfg->advisory_folder, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = err_set(OTCM_EINVAL, "advisory-folder", "--advisory-folder: '%s' is not a folder",
			     cfg->advisory_folder);
		goto out;
	}
	leader_new_for(&w->leader, pool, LEADER_ADVISORY_KEY, "advisory folder");
	if ((rc = worker_start(&w->worker, watch_step, w, "the advisory folder's watch")))
		goto out;
	log_msg(LOG_INFO, "advisories dropped into %s are imported every %u s", cfg->advisory_folder,
		cfg->advisory_poll_seconds);
	*out = w;
	w = NULL;
out:
	if (w)
		watch_free(w);
	return rc;
}

void watch_stop(struct watch *w)
{
	if (!w)
		return;
	worker_stop(w->worker);
	watch_free(w);
}
