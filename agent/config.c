/* agent/config.c - the agent's configuration file; see agent.h and docs/agent.md. */
#include "agent/agent.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

#define LINE_MAX_LEN 4096

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The first line of a token file, without its newline. */
static int read_token(char **out, const char *path, unsigned line)
{
	char buf[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return err_set(OTCM_EINVAL, "token_file", "line %u: cannot read token file '%s': %s", line,
			       path, strerror(errno));
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return err_set(OTCM_EINVAL, "token_file", "line %u: token file '%s' is empty", line, path);
	}
	fclose(f);
	*out = xstrdup(trim(buf));
	return 0;
}

static int set_unsigned(unsigned *out, const char *v, unsigned min, unsigned max, const char *key,
			unsigned line)
{
	char *end = NULL;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || n < min || n > max)
		return err_set(OTCM_EINVAL, key, "line %u: %s must be a number from %u to %u", line, key,
			       min, max);
	*out = (unsigned)n;
	return 0;
}

static int device_key(struct agent_device *dev, const char *k, const char *v, unsigned line)
{
	char **slot = NULL;

	if (strcmp(k, "collector") == 0) {
		if (strcmp(v, "folder") && strcmp(v, "command") && strcmp(v, "opcua"))
			return err_set(OTCM_EINVAL, k, "line %u: collector must be folder, command or opcua",
				       line);
		slot = &dev->collector;
	} else if (strcmp(k, "path") == 0) {
		slot = &dev->path;
	} else if (strcmp(k, "command") == 0) {
		slot = &dev->command;
	} else if (strcmp(k, "endpoint") == 0) {
		slot = &dev->endpoint;
	} else if (strcmp(k, "opcua_script") == 0) {
		slot = &dev->opcua_script;
	} else if (strcmp(k, "opcua_folder") == 0) {
		slot = &dev->opcua_folder;
	} else if (strcmp(k, "timeout") == 0) {
		return set_unsigned(&dev->timeout, v, 1, 86400, k, line);
	} else {
		return err_set(OTCM_EINVAL, k, "line %u: unknown setting '%s' in an [asset] section", line, k);
	}
	free(*slot);
	*slot = xstrdup(v);
	return 0;
}

static int check_device(const struct agent_device *dev)
{
	if (!dev->collector)
		return err_set(OTCM_EINVAL, "collector", "[asset %s] needs a collector", dev->asset);
	if (strcmp(dev->collector, "folder") == 0 && !dev->path)
		return err_set(OTCM_EINVAL, "path", "[asset %s] (folder) needs a path", dev->asset);
	if (strcmp(dev->collector, "command") == 0 && !dev->command)
		return err_set(OTCM_EINVAL, "command", "[asset %s] (command) needs a command", dev->asset);
	if (strcmp(dev->collector, "opcua") == 0 && !dev->endpoint)
		return err_set(OTCM_EINVAL, "endpoint", "[asset %s] (opcua) needs an endpoint", dev->asset);
	return 0;
}

int agent_config_load(struct agent_config *out, const char *path)
{
	char line[LINE_MAX_LEN];
	struct agent_device *dev = NULL;
	unsigned no = 0;
	FILE *f;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->poll_seconds = 30;
	f = fopen(path, "r");
	if (!f)
		return err_set(OTCM_EIO, "config", "cannot read '%s': %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *k, *v;

		no++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (!end || end[1] || strncmp(s, "[asset ", 7)) {
				rc = err_set(OTCM_EINVAL, "config", "line %u: a section is [asset PATH]", no);
				goto out;
			}
			*end = '\0';
			if (dev && (rc = check_device(dev)))
				goto out;
			if (out->ndevices == AGENT_MAX_DEVICES) {
				rc = err_set(OTCM_EINVAL, "config", "line %u: at most %d assets", no,
					     AGENT_MAX_DEVICES);
				goto out;
			}
			out->devices = xrealloc(out->devices, (out->ndevices + 1) * sizeof(*dev));
			dev = &out->devices[out->ndevices++];
			memset(dev, 0, sizeof(*dev));
			dev->asset = xstrdup(trim(s + 7));
			dev->timeout = 300;
			if (!*dev->asset || agent_config_device(out, dev->asset) != dev) {
				rc = err_set(OTCM_EINVAL, "config", "line %u: asset '%s' is empty or listed twice",
					     no, dev->asset);
				goto out;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			rc = err_set(OTCM_EINVAL, "config", "line %u: expected 'name = value'", no);
			goto out;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (dev) {
			if ((rc = device_key(dev, k, v, no)))
				goto out;
		} else if (strcmp(k, "server") == 0) {
			if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
				rc = err_set(OTCM_EINVAL, k, "line %u: server must be an http:// or https:// URL", no);
				goto out;
			}
			free(out->server);
			out->server = xstrdup(v);
			while (strlen(out->server) > 8 && out->server[strlen(out->server) - 1] == '/')
				out->server[strlen(out->server) - 1] = '\0';
		} else if (strcmp(k, "token_file") == 0) {
			free(out->token);
			out->token = NULL;
			if ((rc = read_token(&out->token, v, no)))
				goto out;
		} else if (strcmp(k, "state_dir") == 0) {
			free(out->state_dir);
			out->state_dir = xstrdup(v);
		} else if (strcmp(k, "ca_file") == 0) {
			free(out->ca_file);
			out->ca_file = xstrdup(v);
		} else if (strcmp(k, "name") == 0) {
			free(out->name);
			out->name = xstrdup(v);
		} else if (strcmp(k, "poll_seconds") == 0) {
			if ((rc = set_unsigned(&out->poll_seconds, v, 1, 86400, k, no)))
				goto out;
		} else {
			rc = err_set(OTCM_EINVAL, k, "line %u: unknown setting '%s'", no, k);
			goto out;
		}
	}
	if (dev && (rc = check_device(dev)))
		goto out;
	if (!out->state_dir) {
		rc = err_set(OTCM_EINVAL, "state_dir", "the configuration needs state_dir");
		goto out;
	}
out:
	fclose(f);
	if (rc)
		agent_config_release(out);
	return rc;
}

void agent_config_release(struct agent_config *cfg)
{
	for (size_t i = 0; i < cfg->ndevices; i++) {
		struct agent_device *d = &cfg->devices[i];

		free(d->asset);
		free(d->collector);
		free(d->path);
		free(d->command);
		free(d->endpoint);
		free(d->opcua_script);
		free(d->opcua_folder);
	}
	free(cfg->devices);
	free(cfg->server);
	if (cfg->token)
		memset(cfg->token, 0, strlen(cfg->token));
	free(cfg->token);
	free(cfg->state_dir);
	free(cfg->ca_file);
	free(cfg->name);
	memset(cfg, 0, sizeof(*cfg));
}

const struct agent_device *agent_config_device(const struct agent_config *cfg, const char *asset)
{
	for (size_t i = 0; i < cfg->ndevices; i++)
		if (strcmp(cfg->devices[i].asset, asset) == 0)
			return &cfg->devices[i];
	return NULL;
}
