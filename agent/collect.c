/*
 * agent/collect.c - the collectors: a folder's files, a command that
 * writes into a fresh temporary folder, and the OPC UA collector (a Node
 * script run like a command); see agent.h and docs/agent.md.
 */
#include "agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define AGENT_MAX_FILES 10000
#define AGENT_MAX_FILE_BYTES ((size_t)256 << 20)

/* ---- folders -------------------------------------------------------- */

static int read_whole(unsigned char **out, size_t *out_len, const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	unsigned char *data = NULL;
	size_t got = 0;
	int rc = 0;

	if (fd < 0)
		return err_set(OTCM_EIO, "path", "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = err_set(OTCM_EIO, "path", "'%s' is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > AGENT_MAX_FILE_BYTES) {
		rc = err_set(OTCM_ETOOBIG, "path", "'%s' is larger than 256 MiB", path);
		goto out;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = err_set(OTCM_EIO, "path", "cannot read '%s': %s", path,
				     n < 0 ? strerror(errno) : "it shrank while read");
			goto out;
		}
		got += (size_t)n;
	}
	*out = data;
	*out_len = got;
	data = NULL;
out:
	free(data);
	close(fd);
	return rc;
}

static int add_file(json_t *files, const char *full, const char *rel)
{
	unsigned char *data = NULL;
	char sha[2 * CRYPTO_SHA256_LEN + 1], *b64;
	size_t len = 0;
	int rc;

	if ((rc = read_whole(&data, &len, full)))
		return rc;
	crypto_sha256_hex(sha, data, len);
	b64 = xmalloc(CRYPTO_BASE64_LEN(len));
	crypto_base64(b64, data, len);
	json_array_append_new(files, json_pack("{s:s,s:s,s:s}", "path", rel, "sha256", sha, "content", b64));
	free(b64);
	free(data);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk `dir` (prefix `rel`), in name order so the same folder gives the same list. */
static int walk(json_t *files, const char *dir, const char *rel, unsigned depth)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (depth > 32)
		return err_set(OTCM_EIO, "path", "'%s' is nested too deeply", dir);
	d = opendir(dir);
	if (!d)
		return err_set(OTCM_EIO, "path", "cannot read folder '%s': %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && rc == 0; i++) {
		char *full = NULL, *sub = NULL;
		struct stat st;

		if (asprintf(&full, "%s/%s", dir, names[i]) < 0 ||
		    asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", names[i]) < 0)
			abort();
		if (lstat(full, &st)) {
			rc = err_set(OTCM_EIO, "path", "cannot read '%s': %s", full, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(files, full, sub, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			if (json_array_size(files) >= AGENT_MAX_FILES)
				rc = err_set(OTCM_ETOOBIG, "path", "more than %d files under the folder",
					     AGENT_MAX_FILES);
			else
				rc = add_file(files, full, sub);
		}
		/* links, devices, sockets: not part of a device's program; skipped */
		free(full);
		free(sub);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int agent_read_folder(json_t **out, const char *dir)
{
	json_t *files = json_array();
	int rc = walk(files, dir, "", 0);

	if (rc) {
		json_decref(files);
		return rc;
	}
	*out = files;
	return 0;
}

/* ---- commands ------------------------------------------------------- */

/* Remove a folder and everything under it (our own temporary folders only). */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d))) {
			char *full = NULL;
			struct stat st;

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if (asprintf(&full, "%s/%s", dir, e->d_name) < 0)
				abort();
			if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(full);
			else
				unlink(full);
			free(full);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* What a command did. */
struct run_result {
	int exit_status;      /* INT32_MIN when killed or not started */
	bool timed_out;
	char *err;            /* error output, at most AGENT_MAX_STDERR bytes, malloc'd */
};

/*
 * Run argv (argv[0] found on PATH) with OTCM_OUT=out_dir and
 * OTCM_IDENTITY=identity_path in its environment, its own process group,
 * stdin from /dev/null, stdout discarded, stderr captured; killed (the
 * whole group) after `timeout` seconds.
 */
static void run(struct run_result *res, char *const argv[], const char *out_dir,
		const char *identity_path, unsigned timeout)
{
	int errpipe[2];
	struct buf err = BUF_INIT;
	int64_t deadline = time_mono_us() + (int64_t)timeout * 1000000;
	pid_t pid;
	int status = 0;

	memset(res, 0, sizeof(*res));
	res->exit_status = INT32_MIN;
	buf_init(&err, AGENT_MAX_STDERR + 1);
	if (pipe2(errpipe, O_CLOEXEC)) {
		res->err = xstrdup(strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		res->err = xstrdup(strerror(errno));
		close(errpipe[0]);
		close(errpipe[1]);
		return;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(errpipe[1], 2);
		setenv("OTCM_OUT", out_dir, 1);
		setenv("OTCM_IDENTITY", identity_path, 1);
		if (chdir(out_dir) == 0)
			execvp(argv[0], argv);
		dprintf(2, "cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(errpipe[1]);
	for (;;) {
		struct pollfd p = { errpipe[0], POLLIN, 0 };
		int64_t left = deadline - time_mono_us();
		char chunk[4096];
		ssize_t n;

		if (left <= 0) {
			res->timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)(left / 1000 + 1)) < 0 && errno != EINTR)
			break;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(errpipe[0], chunk, sizeof(chunk));
		if (n <= 0)
			break;
		if (err.len < AGENT_MAX_STDERR)
			buf_add(&err, chunk, (size_t)n < AGENT_MAX_STDERR - err.len ? (size_t)n
										  : AGENT_MAX_STDERR - err.len);
	}
	close(errpipe[0]);
	/* the pipe closed: wait for the exit, still within the deadline */
	while (!res->timed_out) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (time_mono_us() >= deadline) {
			res->timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		usleep(10000);
	}
	if (res->timed_out)
		waitpid(pid, &status, 0);
	else if (WIFEXITED(status))
		res->exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->exit_status = -WTERMSIG(status);
	res->err = xstrdup(buf_cstr(&err));
	buf_release(&err);
}

/* The identity a command left in OTCM_IDENTITY, as an object of texts; NULL when none. */
static json_t *read_identity(const char *path)
{
	json_error_t jerr;
	json_t *id = json_load_file(path, 0, &jerr), *v, *clean;
	const char *k;

	if (!json_is_object(id)) {
		json_decref(id);
		return NULL;
	}
	clean = json_object();
	json_object_foreach(id, k, v)
		if (json_is_string(v) && json_string_length(v) <= 256 && strlen(k) <= 64 &&
		    json_object_size(clean) < 32)
			json_object_set(clean, k, v);
	json_decref(id);
	return clean;
}

/* Run a command-like collector in a fresh folder; fill `res` (the result object). */
static int collect_command(json_t *res, const struct agent_device *dev, char *const argv[])
{
	char tmpl[] = "/tmp/otcm-agent-XXXXXX", *out_dir, *identity = NULL, *files_dir = NULL;
	struct run_result rr;
	json_t *files = NULL, *id;
	int rc = 0;

	out_dir = mkdtemp(tmpl);
	if (!out_dir) {
		json_object_set_new(res, "ok", json_false());
		json_object_set_new(res, "error", json_sprintf("cannot make a temporary folder: %s",
							       strerror(errno)));
		return 0;
	}
	if (asprintf(&files_dir, "%s/files", out_dir) < 0 ||
	    asprintf(&identity, "%s/identity.json", out_dir) < 0)
		abort();
	if (mkdir(files_dir, 0700)) {
		json_object_set_new(res, "ok", json_false());
		json_object_set_new(res, "error", json_sprintf("cannot make '%s': %s", files_dir,
							       strerror(errno)));
		goto out;
	}
	run(&rr, argv, files_dir, identity, dev->timeout);
	if (rr.exit_status != INT32_MIN)
		json_object_set_new(res, "exit_status", json_integer(rr.exit_status));
	if (rr.err && *rr.err)
		json_object_set_new(res, "stderr", json_string(rr.err));
	if (rr.timed_out) {
		json_object_set_new(res, "ok", json_false());
		json_object_set_new(res, "error", json_sprintf("timed out after %u s: killed", dev->timeout));
	} else if (rr.exit_status != 0) {
		json_object_set_new(res, "ok", json_false());
		json_object_set_new(res, "error", rr.exit_status == INT32_MIN
							   ? json_sprintf("cannot run: %s", rr.err ? rr.err : "")
							   : json_sprintf("exited with status %d", rr.exit_status));
	} else if ((rc = agent_read_folder(&files, files_dir))) {
		json_object_set_new(res, "ok", json_false());
		json_object_set_new(res, "error", json_string(err_message()));
		rc = 0;
	} else {
		json_object_set_new(res, "ok", json_true());
		json_object_set_new(res, "files", files);
		if ((id = read_identity(identity)))
			json_object_set_new(res, "identity", id);
	}
	free(rr.err);
out:
	remove_tree(out_dir);
	free(files_dir);
	free(identity);
	return rc;
}

/*
 * The OPC UA collector `make install` puts beside the binary:
 * <prefix>/share/otcm/opcua/collect.js for <prefix>/bin/otcm.
 */
static char *default_opcua_script(void)
{
	char exe[4096], *slash, *out = NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return xstrdup("/usr/local/share/otcm/opcua/collect.js");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&out, "%s/../share/otcm/opcua/collect.js", exe) < 0)
		abort();
	return out;
}

int agent_collect(json_t **out, const struct agent_device *dev)
{
	int64_t start = time_mono_us();
	json_t *res = json_pack("{s:s,s:s}", "asset", dev->asset, "collector", dev->collector);
	json_t *files = NULL;
	int rc = 0;

	if (strcmp(dev->collector, "folder") == 0) {
		if (agent_read_folder(&files, dev->path)) {
			json_object_set_new(res, "ok", json_false());
			json_object_set_new(res, "error", json_string(err_message()));
		} else {
			json_object_set_new(res, "ok", json_true());
			json_object_set_new(res, "files", files);
		}
	} else if (strcmp(dev->collector, "command") == 0) {
		char *argv[] = { "/bin/sh", "-c", dev->command, NULL };

		rc = collect_command(res, dev, argv);
	} else {
		char *script = dev->opcua_script ? xstrdup(dev->opcua_script) : default_opcua_script();
		char *argv[] = { "node", script, "--endpoint", dev->endpoint, "--folder",
				 dev->opcua_folder ? dev->opcua_folder : "", NULL };

		rc = collect_command(res, dev, argv);
		free(script);
	}
	json_object_set_new(res, "duration_ms", json_integer((time_mono_us() - start) / 1000));
	if (rc) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return 0;
}
