/*
 * agent/queue.c - the agent's on-disk state: the sequence number, the queue
 * of results waiting for the server, the signing key and the offline
 * read-back file; see agent.h.
 *
 * Each result is written to a temporary name, fsync'd and renamed into
 * queue/<20-digit seq>.json, so a crash leaves either the whole result or
 * none, and names sort in the order the results were made.
 */
#include "agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define MAX_QUEUED 100000

static char *path_of(const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		return err_set(OTCM_EIO, "state_dir", "cannot make '%s': %s", dir, strerror(errno));
	return 0;
}

/* Write `len` bytes to `path` durably: temporary file, fsync, rename, fsync the folder. */
static int write_durable(const char *dir, const char *path, const char *data, size_t len)
{
	char *tmp = NULL;
	int fd, dfd, rc = 0;
	size_t done = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		abort();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(OTCM_EIO, "state_dir", "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = err_set(OTCM_EIO, "state_dir", "cannot write '%s': %s", tmp, strerror(errno));
			close(fd);
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) || close(fd) || rename(tmp, path)) {
		rc = err_set(OTCM_EIO, "state_dir", "cannot store '%s': %s", path, strerror(errno));
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

/*
 * The next sequence number, kept in <state_dir>/seq: one more than the
 * last, and never less than the clock in microseconds, so an agent whose
 * state folder was lost or rebuilt never reuses a number the server holds.
 */
static int next_seq(long long *out, const char *state_dir)
{
	char *p = path_of(state_dir, "seq"), text[32];
	long long seq = 0;
	FILE *f = fopen(p, "r");
	int rc;

	if (f) {
		if (fscanf(f, "%lld", &seq) != 1)
			seq = 0;
		fclose(f);
	}
	seq++;
	if (seq < (long long)time_now_us())
		seq = (long long)time_now_us();
	snprintf(text, sizeof(text), "%lld\n", seq);
	rc = write_durable(state_dir, p, text, strlen(text));
	free(p);
	if (rc == 0)
		*out = seq;
	return rc;
}

/*
 * What a result says, as hex SHA-256 over its asset, outcome, error and
 * files' digests: two results with the same key carry the same read-back.
 */
static void result_key(char out[2 * CRYPTO_SHA256_LEN + 1], const json_t *result)
{
	struct buf b = BUF_INIT;
	const json_t *f;
	size_t i;

	buf_init(&b, 0);
	buf_addf(&b, "%s\n%d\n%s\n", json_string_value(json_object_get(result, "asset")),
		 json_is_true(json_object_get(result, "ok")),
		 json_is_string(json_object_get(result, "error")) ? json_string_value(json_object_get(result, "error")) : "");
	json_array_foreach(json_object_get(result, "files"), i, f)
		buf_addf(&b, "%s %s\n", json_string_value(json_object_get(f, "sha256")),
			 json_string_value(json_object_get(f, "path")));
	crypto_sha256_hex(out, b.data, b.len);
	buf_release(&b);
}

/*
 * Is the newest queued result of `asset` the same read-back as `key`?  Each
 * queued result has a small <seq>.key beside it ("<key> <asset>"), so this
 * reads no file contents.
 */
static bool queued_same(const char *qdir, const char *asset, const char *key)
{
	DIR *d = opendir(qdir);
	struct dirent *e;
	char best[32] = "", best_key[2 * CRYPTO_SHA256_LEN + 1] = "";

	if (!d)
		return false;
	while ((e = readdir(d))) {
		char line[1024], *p, *nl;
		FILE *f;

		if (strlen(e->d_name) != 24 || strcmp(e->d_name + 20, ".key") || strncmp(e->d_name, best, 20) < 0)
			continue;
		p = path_of(qdir, e->d_name);
		f = fopen(p, "r");
		free(p);
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && strlen(line) > 65 && line[64] == ' ') {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (strcmp(line + 65, asset) == 0) {
				snprintf(best, sizeof(best), "%.20s", e->d_name);
				memcpy(best_key, line, 64);
				best_key[64] = '\0';
			}
		}
		fclose(f);
	}
	closedir(d);
	return best[0] && strcmp(best_key, key) == 0;
}

int agent_queue_add(const char *state_dir, json_t *result)
{
	char name[40], *qdir = path_of(state_dir, "queue"), *p = NULL, *text = NULL, *kp = NULL;
	char key[2 * CRYPTO_SHA256_LEN + 1], *key_line = NULL;
	const char *asset = json_string_value(json_object_get(result, "asset"));
	long long seq = 0;
	int rc;

	if ((rc = ensure_dir(state_dir)) || (rc = ensure_dir(qdir)))
		goto out;
	/* an outage makes the same job due round after round: queue each read-back once */
	result_key(key, result);
	if (asset && queued_same(qdir, asset, key))
		goto out;
	if ((rc = next_seq(&seq, state_dir)))
		goto out;
	json_object_set_new(result, "seq", json_integer(seq));
	snprintf(name, sizeof(name), "%020lld.json", seq);
	p = path_of(qdir, name);
	text = json_dumps(result, JSON_COMPACT);
	if (!text) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot encode a result");
		goto out;
	}
	rc = write_durable(qdir, p, text, strlen(text));
	if (rc == 0 && asset) {
		snprintf(name, sizeof(name), "%020lld.key", seq);
		kp = path_of(qdir, name);
		if (asprintf(&key_line, "%s %s\n", key, asset) < 0)
			abort();
		rc = write_durable(qdir, kp, key_line, strlen(key_line));
	}
out:
	free(key_line);
	free(kp);
	free(text);
	free(p);
	free(qdir);
	return rc;
}

/* Remove the .key beside queued result `name` (<seq>.json). */
static void drop_key(const char *qdir, const char *name)
{
	char kname[40], *kp;

	snprintf(kname, sizeof(kname), "%.20s.key", name);
	kp = path_of(qdir, kname);
	unlink(kp);
	free(kp);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The queued file names, oldest first. */
static int queued(char ***out, size_t *out_n, const char *qdir)
{
	DIR *d = opendir(qdir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	*out = NULL;
	*out_n = 0;
	if (!d)
		return errno == ENOENT ? 0 : err_set(OTCM_EIO, "state_dir", "cannot read '%s': %s", qdir,
						      strerror(errno));
	while ((e = readdir(d)) && n < MAX_QUEUED) {
		size_t len = strlen(e->d_name);

		if (len != 25 || strcmp(e->d_name + 20, ".json"))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*out_n = n;
	return 0;
}

/*
 * Upload one result: first its files' digests alone, which is all the
 * server needs when they are those of the previous read-back; when it
 * answers that the files differ (409 "content-required"), the whole result.
 */
static int upload(long *out_status, struct buf *answer, const struct agent_config *cfg,
		  const char *text)
{
	json_error_t jerr;
	json_t *res = json_loads(text, 0, &jerr), *files, *f;
	char *lite = NULL;
	size_t i;
	int rc;

	files = json_object_get(res, "files");
	if (json_is_true(json_object_get(res, "ok")) && json_array_size(files) > 0) {
		json_array_foreach(files, i, f)
			json_object_del(f, "content");
		lite = json_dumps(res, JSON_COMPACT);
	}
	json_decref(res);
	if (lite) {
		rc = agent_http(out_status, answer, cfg, "POST", "/api/v1/agent/readbacks", lite);
		free(lite);
		if (rc || *out_status != 409 || !strstr(buf_cstr(answer), "content-required"))
			return rc;
		buf_reset(answer);
	}
	return agent_http(out_status, answer, cfg, "POST", "/api/v1/agent/readbacks", text);
}

int agent_queue_flush(size_t *out_sent, const struct agent_config *cfg)
{
	char *qdir = path_of(cfg->state_dir, "queue"), *rdir = path_of(cfg->state_dir, "rejected");
	char **names = NULL;
	size_t n = 0, i;
	int rc;

	*out_sent = 0;
	if ((rc = queued(&names, &n, qdir)))
		goto out;
	for (i = 0; i < n; i++) {
		char *p = path_of(qdir, names[i]), *text = NULL;
		struct buf answer = BUF_INIT;
		long status = 0;
		FILE *f = fopen(p, "r");
		long size;

		if (!f) {
			free(p);
			continue;
		}
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		rewind(f);
		text = xmalloc((size_t)size + 1);
		if (size < 0 || fread(text, 1, (size_t)size, f) != (size_t)size) {
			fclose(f);
			free(text);
			free(p);
			rc = err_set(OTCM_EIO, "state_dir", "cannot read queued '%s'", names[i]);
			break;
		}
		fclose(f);
		text[size] = '\0';
		buf_init(&answer, 1 << 20);
		rc = upload(&status, &answer, cfg, text);
		if (rc == 0 && (status == 200 || status == 201)) {
			unlink(p);
			drop_key(qdir, names[i]);
			(*out_sent)++;
		} else if (rc == 0 && status >= 400 && status < 500 && status != 401 && status != 408 &&
			   status != 429) {
			/* refused for good: keep it aside with the answer, go on with the next */
			char *rp = path_of(rdir, names[i]), *ap = NULL;

			if (asprintf(&ap, "%s.answer", rp) < 0)
				abort();
			ensure_dir(rdir);
			write_durable(rdir, ap, buf_cstr(&answer), answer.len);
			rename(p, rp);
			drop_key(qdir, names[i]);
			log_msg(LOG_WARN, "read-back %s refused by the server (%ld): %s", names[i], status,
				buf_cstr(&answer));
			free(rp);
			free(ap);
		} else {
			if (rc == 0)
				rc = err_set(OTCM_EUNAVAIL, NULL, "the server answered %ld: %s", status,
					     buf_cstr(&answer));
			buf_release(&answer);
			free(text);
			free(p);
			break;
		}
		buf_release(&answer);
		free(text);
		free(p);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(qdir);
	free(rdir);
	return rc;
}

/* The key, made on first use. */
static int load_key(struct crypto_ed25519_key **out, const char *state_dir)
{
	char *p = path_of(state_dir, "agent.key");
	int rc;

	if ((rc = ensure_dir(state_dir)))
		goto out;
	if (access(p, F_OK) == 0) {
		rc = crypto_ed25519_load(out, p);
		goto out;
	}
	if ((rc = crypto_ed25519_generate(out)) || (rc = crypto_ed25519_save(*out, p))) {
		crypto_ed25519_free(*out);
		*out = NULL;
	}
out:
	free(p);
	return rc;
}

int agent_public_key(char out[64], const char *state_dir)
{
	struct crypto_ed25519_key *key = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	int rc;

	if ((rc = load_key(&key, state_dir)))
		return rc;
	crypto_ed25519_public(pub, key);
	crypto_base64(out, pub, sizeof(pub));
	crypto_ed25519_free(key);
	return 0;
}

int agent_write_offline(const struct agent_config *cfg, const char *path)
{
	struct crypto_ed25519_key *key = NULL;
	unsigned char sig[CRYPTO_ED25519_SIG_LEN];
	char sig64[CRYPTO_BASE64_LEN(CRYPTO_ED25519_SIG_LEN)], *text = NULL, *all = NULL;
	json_t *doc = NULL, *list = json_array(), *res = NULL;
	long long seq;
	int rc;

	if (!cfg->name) {
		rc = err_set(OTCM_EINVAL, "name", "an offline file needs the agent's user name: set name");
		goto out;
	}
	if ((rc = load_key(&key, cfg->state_dir)))
		goto out;
	for (size_t i = 0; i < cfg->ndevices; i++) {
		if ((rc = agent_collect(&res, &cfg->devices[i])) || (rc = next_seq(&seq, cfg->state_dir)))
			goto out;
		json_object_set_new(res, "seq", json_integer(seq));
		json_array_append_new(list, res);
		res = NULL;
	}
	doc = json_pack("{s:s,s:s,s:O}", "format", "otcm-readback/1", "agent", cfg->name, "readbacks", list);
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || (rc = crypto_ed25519_sign(sig, key, text, strlen(text)))) {
		rc = rc ? rc : err_set(OTCM_EINTERNAL, NULL, "cannot encode the file");
		goto out;
	}
	crypto_base64(sig64, sig, sizeof(sig));
	json_object_set_new(doc, "signature", json_string(sig64));
	all = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (!all) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot encode the file");
		goto out;
	}
	{
		char *dir = xstrdup(path), *slash = strrchr(dir, '/');

		if (slash)
			*slash = '\0';
		rc = write_durable(slash ? dir : ".", path, all, strlen(all));
		free(dir);
	}
out:
	crypto_ed25519_free(key);
	json_decref(doc);
	json_decref(list);
	json_decref(res);
	free(text);
	free(all);
	return rc;
}
