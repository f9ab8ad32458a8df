/* server/hooksend.c - delivering webhooks with libcurl; see hooksend.h. */
#include "server/hooksend.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/hooksig.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/netaddr.h"
#include "core/timeutil.h"
#include "core/worker.h"
#include "domain/webhooks.h"
#include "storage/leader.h"
#include "storage/webhooks.h"

#define HOOK_IDLE_MS 500            /* between looks when nothing was delivered */
#define HOOK_FOLLOWER_MS 1000       /* between looks while another node leads */
#define HOOK_TIMEOUT_MS 10000       /* one attempt, connect to last byte */
#define HOOK_CONNECT_MS 5000
#define HOOK_RETRY_MAX_S 600
#define HOOK_PRUNE_EVERY_US (3600LL * 1000000)  /* the delivery log's old rows, hourly */

struct hooksend {
	struct worker *worker;
	struct db_pool *pool;
	const struct config *cfg;
	struct leader *leader;
	CURLM *multi;
	char *user_agent;
	bool allow_private;
	int64_t pruned_at_us;         /* monotonic; 0: not yet while leading */
};

/* One attempt in flight: a subscription's next event to its receiver. */
struct attempt {
	struct hooksend *h;
	const struct webhook_job *job;
	CURL *easy;
	struct curl_slist *headers;
	int64_t started_us;
	struct webhook_attempt a;
	bool done;
	char message_id[32];
	char timestamp[24];
	char signature[HOOKSIG_LEN];
	char curl_error[CURL_ERROR_SIZE];
	char refused[128];            /* the address open_socket refused */
	char error[256];
};

/* libcurl's socket: only public addresses unless private networks are allowed. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct attempt *t = clientp;
	int fd;

	(void)purpose;
	if (!t->h->allow_private && !netaddr_is_public(&addr->addr)) {
		char text[INET6_ADDRSTRLEN] = "?";
		const void *a = addr->family == AF_INET6
			? (const void *)&((const struct sockaddr_in6 *)(const void *)&addr->addr)->sin6_addr
			: (const void *)&((const struct sockaddr_in *)(const void *)&addr->addr)->sin_addr;

		inet_ntop(addr->family, a, text, sizeof(text));
		snprintf(t->refused, sizeof(t->refused), "the address %s is not on the public internet "
			 "(--webhook-private-networks refuse)", text);
		return CURL_SOCKET_BAD;
	}
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* The receiver's answer body is not kept. */
static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * n;
}

static void add_header(struct attempt *t, const char *name, const char *value)
{
	char line[160];

	snprintf(line, sizeof(line), "%s: %s", name, value);
	t->headers = curl_slist_append(t->headers, line);
}

/* Sign t's event and make its request; false (t->error set) when it cannot start. */
static bool attempt_prepare(struct attempt *t)
{
	const struct webhook_job *job = t->job;
	CURL *e;

	snprintf(t->message_id, sizeof(t->message_id), "evt_%" PRId64, job->event_seq);
	snprintf(t->timestamp, sizeof(t->timestamp), "%lld", (long long)time(NULL));
	t->a.seq = job->event_seq;
	t->a.message_id = t->message_id;
	t->a.attempt = job->attempts + 1;
	t->started_us = time_mono_us();
	if (hooksig_sign(t->signature, job->secret, t->message_id, t->timestamp, job->body,
			 strlen(job->body))) {
		snprintf(t->error, sizeof(t->error), "%s", err_message());
		err_clear();
		return false;
	}
	if (!(t->easy = e = curl_easy_init())) {
		snprintf(t->error, sizeof(t->error), "cannot make a libcurl handle");
		return false;
	}
	add_header(t, "Content-Type", "application/json");
	add_header(t, "webhook-id", t->message_id);
	add_header(t, "webhook-timestamp", t->timestamp);
	add_header(t, "webhook-signature", t->signature);
	t->headers = curl_slist_append(t->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_URL, job->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)HOOK_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)HOOK_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (t->h->cfg->webhook_ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, t->h->cfg->webhook_ca);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error);
	curl_easy_setopt(e, CURLOPT_USERAGENT, t->h->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, job->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(job->body));
	return true;
}

/* t's request ended with cc: its status, or why there was no 2xx. */
static void attempt_finish(struct attempt *t, CURLcode cc)
{
	long status = 0;

	t->done = true;
	t->a.duration_ms = (int)((time_mono_us() - t->started_us) / 1000);
	if (cc != CURLE_OK) {
		snprintf(t->error, sizeof(t->error), "%s", t->refused[0] ? t->refused
			 : t->curl_error[0] ? t->curl_error : curl_easy_strerror(cc));
		return;
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	t->a.status = (int)status;
	if (status < 200 || status > 299)
		snprintf(t->error, sizeof(t->error), "the receiver answered %ld", status);
}

static void attempt_release(struct hooksend *h, struct attempt *t)
{
	if (t->easy) {
		curl_multi_remove_handle(h->multi, t->easy);
		curl_easy_cleanup(t->easy);
	}
	curl_slist_free_all(t->headers);
	t->easy = NULL;
	t->headers = NULL;
}

/*
 * Post every attempt at once (one receiver's delay holds no other's) and
 * wait until each is done or the thread is asked to stop; unfinished ones
 * are left undone (not recorded: tried again, at-least-once).
 */
static void attempts_run(struct hooksend *h, struct attempt *ts, size_t n)
{
	int running = 0;

	for (size_t i = 0; i < n; i++)
		if (ts[i].easy && curl_multi_add_handle(h->multi, ts[i].easy) != CURLM_OK)
			attempt_finish(&ts[i], CURLE_FAILED_INIT);
	do {
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(h->multi, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(h->multi, &left))) {
			struct attempt *t = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			if (t && !t->done)
				attempt_finish(t, msg->data.result);
		}
		if (running && curl_multi_poll(h->multi, NULL, 0, 200, NULL) != CURLM_OK)
			break;
	} while (running && !worker_stopping(h->worker));
}

/* The server disables a subscription failing too long, as "system" (domain/actor.h). */
static void disable_failing(struct hooksend *h, const struct webhook_job *job)
{
	struct actor who = { .username = "system", .display_name = "System", .role = ROLE_ADMIN,
			     .auth = "cli", .door = DOOR_CLI };
	struct dom d = { .who = &who, .db = h->pool, .cfg = h->cfg };

	d.arena = arena_new();
	if (dom_webhook_disable_failing(&d, job->id, job->failing_for_s, job->last_error)) {
		log_msg(LOG_WARN, "cannot disable webhook %" PRId64 ": %s", job->id, err_message());
		err_clear();
	} else {
		log_msg(LOG_WARN, "webhook %" PRId64 " disabled: failing for %" PRId64 " s", job->id,
			job->failing_for_s);
	}
	arena_free(d.arena);
}

/* Delete the delivery log's rows older than --webhook-log-days, on taking the lead and hourly. */
static void prune(struct hooksend *h)
{
	struct db_conn *c = NULL;
	uint64_t n = 0;

	if (h->pruned_at_us && time_mono_us() - h->pruned_at_us < HOOK_PRUNE_EVERY_US)
		return;
	h->pruned_at_us = time_mono_us();
	if (db_acquire(&c, h->pool) || webhooks_prune(&n, c, h->cfg->webhook_log_days)) {
		log_msg(LOG_WARN, "cannot prune the webhook delivery log: %s", err_message());
		err_clear();
	} else if (n) {
		log_msg(LOG_INFO, "webhook delivery log: %" PRIu64 " attempts older than %u days deleted",
			n, h->cfg->webhook_log_days);
	}
	db_release(c);
}

/* Record a finished attempt and move the subscription; true when it was delivered. */
static bool record(struct hooksend *h, struct attempt *t)
{
	const struct webhook_job *job = t->job;
	struct db_conn *c = NULL;
	unsigned retry_s = job->attempts >= 10 ? HOOK_RETRY_MAX_S : 1u << job->attempts;
	bool delivered = false;

	if (retry_s > HOOK_RETRY_MAX_S)
		retry_s = HOOK_RETRY_MAX_S;
	t->a.error = t->error[0] ? t->error : NULL;
	if (db_acquire(&c, h->pool) || webhooks_record(c, job->id, job->seq, &t->a, retry_s)) {
		/* delivered but not recorded: delivered again next time (at-least-once) */
		log_msg(LOG_WARN, "webhook %" PRId64 ": cannot record attempt on event %" PRId64 ": %s",
			job->id, t->a.seq, err_message());
		err_clear();
	} else if (t->a.error) {
		if (job->attempts == 0)
			log_msg(LOG_WARN, "webhook %" PRId64 " paused at event %" PRId64 ", retrying: %s",
				job->id, t->a.seq, t->a.error);
	} else {
		if (job->attempts > 0)
			log_msg(LOG_INFO, "webhook %" PRId64 " resumed at event %" PRId64, job->id, t->a.seq);
		delivered = true;
	}
	db_release(c);
	return delivered;
}

/* One look: each due subscription's next event.  Returns ms to wait before the next look. */
static unsigned hooksend_step(void *arg)
{
	struct hooksend *h = arg;
	struct webhook_jobs jobs = { 0 };
	struct attempt *ts = NULL;
	struct db_conn *c = NULL;
	int64_t window = (int64_t)h->cfg->webhook_disable_after_hours * 3600;
	unsigned wait = HOOK_IDLE_MS;
	size_t n = 0;
	int rc;

	if (!leader_hold(h->leader)) {
		h->pruned_at_us = 0;
		return HOOK_FOLLOWER_MS;
	}
	prune(h);
	if ((rc = db_acquire(&c, h->pool)) || (rc = webhooks_due(&jobs, c))) {
		log_msg(LOG_WARN, "webhook delivery cannot read what is due: %s", err_message());
		err_clear();
		wait = HOOK_FOLLOWER_MS;
		goto out;
	}
	db_release(c);
	c = NULL;
	ts = jobs.n ? xcalloc(jobs.n, sizeof(*ts)) : NULL;
	for (size_t i = 0; i < jobs.n; i++) {
		const struct webhook_job *job = &jobs.jobs[i];

		if (job->failing_for_s >= window) {
			disable_failing(h, job);
		} else if (!job->body) {
			/* nothing matches up to the head: move the mark there */
			if (job->head > job->seq &&
			    (db_acquire(&c, h->pool) == 0) && webhooks_skip(c, job->id, job->seq, job->head))
				err_clear();
			db_release(c);
			c = NULL;
		} else {
			struct attempt *t = &ts[n++];

			t->h = h;
			t->job = job;
			if (!attempt_prepare(t))
				t->done = true;
		}
	}
	attempts_run(h, ts, n);
	for (size_t i = 0; i < n; i++) {
		if (ts[i].done && record(h, &ts[i]))
			wait = 0;    /* more may be waiting */
		attempt_release(h, &ts[i]);
	}
out:
	free(ts);
	db_release(c);
	webhook_jobs_release(&jobs);
	return wait;
}

static void hooksend_free(struct hooksend *h)
{
	leader_free(h->leader);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	free(h->user_agent);
	free(h);
}

int hooksend_start(struct hooksend **out, struct db_pool *pool, const struct config *cfg,
		   const char *version)
{
	struct hooksend *h;
	int rc = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(OTCM_EINTERNAL, NULL, "cannot initialise libcurl");
	h = xcalloc(1, sizeof(*h));
	h->pool = pool;
	h->cfg = cfg;
	h->allow_private = strcmp(cfg->webhook_private_networks, "allow") == 0;
	h->user_agent = xasprintf("otcm/%s", version ? version : "");
	leader_new_for(&h->leader, pool, LEADER_WEBHOOK_KEY, "webhook delivery");
	if (!(h->multi = curl_multi_init())) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot make a libcurl multi handle");
		goto out;
	}
	if ((rc = worker_start(&h->worker, hooksend_step, h, "the webhook delivery")))
		goto out;
	*out = h;
	h = NULL;
out:
	if (h) {
		hooksend_free(h);
		curl_global_cleanup();
	}
	return rc;
}

void hooksend_stop(struct hooksend *h)
{
	if (!h)
		return;
	worker_stop(h->worker);
	hooksend_free(h);
	curl_global_cleanup();
}
