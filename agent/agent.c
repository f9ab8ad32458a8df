/*
 * agent/agent.c - `otcm agent`: the loop of the collection agent; see
 * agent.h.
 *
 *   otcm agent --config FILE            poll, collect, upload, forever
 *   otcm agent --config FILE --once     one round (poll, collect, upload), then exit
 *   otcm agent --config FILE --offline OUT
 *                                       read every configured asset back into a
 *                                       signed file for POST /api/v1/readbacks/import
 *   otcm agent --config FILE --key      print the public key offline files are
 *                                       signed with
 *
 * A round: upload what is queued (oldest first), call in (version, host
 * name, public key) for the due jobs, read each job's asset back with its
 * configured collector into the queue, and upload again.  A job for an
 * asset the file does not name becomes a failed read-back saying so.
 * SIGTERM and SIGINT end the loop between rounds.
 */
#include "agent/agent.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/err.h"
#include "core/log.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *f)
{
	fputs("usage: otcm agent --config FILE [--once | --offline OUT | --key]\n", f);
}

/* Call in; *out gets the answer {agent, jobs, poll_seconds}. */
static int poll_jobs(json_t **out, const struct agent_config *cfg)
{
	char key[64], host[256] = "", *body = NULL;
	struct buf answer = BUF_INIT;
	json_t *req = NULL;
	json_error_t jerr;
	long status = 0;
	int rc;

	if ((rc = agent_public_key(key, cfg->state_dir)))
		return rc;
	gethostname(host, sizeof(host) - 1);
	req = json_pack("{s:s,s:s,s:s}", "version", OTCM_VERSION, "hostname", host, "public_key", key);
	body = json_dumps(req, JSON_COMPACT);
	buf_init(&answer, 16 << 20);
	rc = agent_http(&status, &answer, cfg, "POST", "/api/v1/agent/poll", body);
	if (rc == 0 && status != 200)
		rc = err_set(status == 401 || status == 403 ? OTCM_EAUTH : OTCM_EUNAVAIL, NULL,
			     "calling in: the server answered %ld: %.300s", status, buf_cstr(&answer));
	if (rc == 0) {
		*out = json_loads(buf_cstr(&answer), 0, &jerr);
		if (!*out)
			rc = err_set(OTCM_EUNAVAIL, NULL, "calling in: unreadable answer: %s", jerr.text);
	}
	buf_release(&answer);
	json_decref(req);
	free(body);
	return rc;
}

/* Read the jobs' assets back into the queue. */
static int run_jobs(const struct agent_config *cfg, const json_t *jobs)
{
	const json_t *job;
	size_t i;
	int rc = 0;

	json_array_foreach(jobs, i, job) {
		const char *asset = json_string_value(json_object_get(job, "asset"));
		const struct agent_device *dev = asset ? agent_config_device(cfg, asset) : NULL;
		json_t *res = NULL;

		if (!asset)
			continue;
		if (!dev) {
			res = json_pack("{s:s,s:s,s:b,s:s}", "asset", asset, "collector", "folder", "ok", 0,
					"error", "the agent's configuration names no collector for this asset");
		} else if ((rc = agent_collect(&res, dev))) {
			return rc;
		}
		log_msg(LOG_INFO, "read back %s: %s", asset,
			json_is_true(json_object_get(res, "ok")) ? "ok"
								 : json_string_value(json_object_get(res, "error")));
		rc = agent_queue_add(cfg->state_dir, res);
		json_decref(res);
		if (rc)
			return rc;
		if (stopping)
			break;
	}
	return 0;
}

/* One round; *out_poll gets the seconds the server asks to wait. */
static int round_once(unsigned *out_poll, const struct agent_config *cfg)
{
	json_t *answer = NULL;
	size_t sent = 0;
	int rc;

	*out_poll = cfg->poll_seconds;
	/* a queue the server will not take now does not stop new read-backs */
	if (agent_queue_flush(&sent, cfg))
		log_msg(LOG_WARN, "uploading the queue: %s", err_message());
	if ((rc = poll_jobs(&answer, cfg)))
		return rc;
	if (json_integer_value(json_object_get(answer, "poll_seconds")) > 0 &&
	    (unsigned)json_integer_value(json_object_get(answer, "poll_seconds")) < *out_poll)
		*out_poll = (unsigned)json_integer_value(json_object_get(answer, "poll_seconds"));
	rc = run_jobs(cfg, json_object_get(answer, "jobs"));
	json_decref(answer);
	if (rc == 0)
		rc = agent_queue_flush(&sent, cfg);
	return rc;
}

int agent_main(int argc, char **argv)
{
	const char *config = NULL, *offline = NULL;
	struct agent_config cfg;
	bool once = false, key = false;
	int code = 0, i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (strcmp(argv[i], "--offline") == 0 && i + 1 < argc) {
			offline = argv[++i];
		} else if (strcmp(argv[i], "--once") == 0) {
			once = true;
		} else if (strcmp(argv[i], "--key") == 0) {
			key = true;
		} else {
			fprintf(stderr, "otcm agent: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!config) {
		usage(stderr);
		return 2;
	}
	if (agent_config_load(&cfg, config)) {
		fprintf(stderr, "otcm agent: %s: %s\n", config, err_message());
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "otcm agent: cannot start libcurl\n");
		agent_config_release(&cfg);
		return 1;
	}
	if (key) {
		char pub[64];

		if (agent_public_key(pub, cfg.state_dir)) {
			fprintf(stderr, "otcm agent: %s\n", err_message());
			code = 1;
		} else {
			printf("%s\n", pub);
		}
		goto out;
	}
	if (offline) {
		if (agent_write_offline(&cfg, offline)) {
			fprintf(stderr, "otcm agent: %s\n", err_message());
			code = 1;
		}
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	log_msg(LOG_INFO, "agent %s: %zu assets, server %s", OTCM_VERSION, cfg.ndevices,
		cfg.server ? cfg.server : "(none)");
	while (!stopping) {
		unsigned wait = cfg.poll_seconds;
		int rc = round_once(&wait, &cfg);

		if (rc) {
			log_msg(LOG_WARN, "%s", err_message());
			if (once)
				code = 1;
		}
		if (once)
			break;
		for (unsigned s = 0; s < wait && !stopping; s++)
			sleep(1);
	}
out:
	curl_global_cleanup();
	agent_config_release(&cfg);
	return code;
}
