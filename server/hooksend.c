/* server/hooksend.c - delivering webhooks with libcurl; see hooksend.h. */
#include "server/hooksend.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
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
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct db_pool *pool;
	const struct config *cfg;
	struct leader *leader;
	CURL *curl;
	char *user_agent;
	bool allow_private;
	int64_t pruned_at_us;         /* monotonic; 0: not yet while leading */
	char refused[128];            /* the address open_socket refused, for the log */
};

/* libcurl's socket: only public addresses unless private networks are allowed. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct hooksend *h = clientp;
	int fd;

	(void)purpose;
	if (!h->allow_private && !netaddr_is_public(&addr->addr)) {
		char text[INET6_ADDRSTRLEN] = "?";
		const void *a = addr->family == AF_INET6
			? (const void *)&((const struct sockaddr_in6 *)(const void *)&addr->addr)->sin6_addr
			: (const void *)&((const struct sockaddr_in *)(const void *)&addr->addr)->sin_addr;

		inet_ntop(addr->family, a, text, sizeof(text));
		snprintf(h->refused, sizeof(h->refused), "the address %s is not on the public internet "
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

/* One attempt: post job's event.  *a gets the outcome (error NULL on a 2xx). */
static void post(struct hooksend *h, const struct webhook_job *job, struct webhook_attempt *a,
		 char *error, size_t error_cap, char *message_id, size_t id_cap)
{
	char curl_error[CURL_ERROR_SIZE] = "", timestamp[24], signature[HOOKSIG_LEN], header[160];
	struct curl_slist *headers = NULL;
	int64_t started = time_mono_us();
	long status = 0;
	CURLcode cc;

	snprintf(message_id, id_cap, "evt_%" PRId64, job->event_seq);
	snprintf(timestamp, sizeof(timestamp), "%lld", (long long)time(NULL));
	a->seq = job->event_seq;
	a->message_id = message_id;
	a->attempt = job->attempts + 1;
	a->status = 0;
	a->error = NULL;
	error[0] = '\0';
	h->refused[0] = '\0';
	if (hooksig_sign(signature, job->secret, message_id, timestamp, job->body, strlen(job->body))) {
		snprintf(error, error_cap, "%s", err_message());
		err_clear();
		goto out;
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	snprintf(header, sizeof(header), "webhook-id: %s", message_id);
	headers = curl_slist_append(headers, header);
	snprintf(header, sizeof(header), "webhook-timestamp: %s", timestamp);
	headers = curl_slist_append(headers, header);
	snprintf(header, sizeof(header), "webhook-signature: %s", signature);
	headers = curl_slist_append(headers, header);
	headers = curl_slist_append(headers, "Expect:");

	curl_easy_reset(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_URL, job->url);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)HOOK_TIMEOUT_MS);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)HOOK_CONNECT_MS);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->cfg->webhook_ca)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, h->cfg->webhook_ca);
	curl_easy_setopt(h->curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h->curl, CURLOPT_OPENSOCKETDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, job->body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(job->body));
	cc = curl_easy_perform(h->curl);
	if (cc != CURLE_OK) {
		snprintf(error, error_cap, "%s", h->refused[0] ? h->refused
						 : curl_error[0] ? curl_error : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	a->status = (int)status;
	if (status < 200 || status > 299)
		snprintf(error, error_cap, "the receiver answered %ld", status);
out:
	/* the handle must not keep pointers to this frame's buffer and list */
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	a->duration_ms = (int)((time_mono_us() - started) / 1000);
	a->error = error[0] ? error : NULL;
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

/* One look: each due subscription's next event.  Returns ms to wait before the next look. */
static unsigned hooksend_step(struct hooksend *h)
{
	struct webhook_jobs jobs = { 0 };
	struct db_conn *c = NULL;
	int64_t window = (int64_t)h->cfg->webhook_disable_after_hours * 3600;
	unsigned wait = HOOK_IDLE_MS;
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
	for (size_t i = 0; i < jobs.n; i++) {
		const struct webhook_job *job = &jobs.jobs[i];
		struct webhook_attempt a;
		char error[256], message_id[32];
		unsigned retry_s;
		bool stopping;

		pthread_mutex_lock(&h->mu);
		stopping = h->stop;
		pthread_mutex_unlock(&h->mu);
		if (stopping)
			break;
		if (job->failing_for_s >= window) {
			disable_failing(h, job);
			continue;
		}
		if (!job->body) {
			/* nothing matches up to the head: move the mark there */
			if (job->head > job->seq &&
			    (db_acquire(&c, h->pool) == 0) && webhooks_skip(c, job->id, job->seq, job->head))
				err_clear();
			db_release(c);
			c = NULL;
			continue;
		}
		post(h, job, &a, error, sizeof(error), message_id, sizeof(message_id));
		retry_s = job->attempts >= 10 ? HOOK_RETRY_MAX_S : 1u << job->attempts;
		if (retry_s > HOOK_RETRY_MAX_S)
			retry_s = HOOK_RETRY_MAX_S;
		if ((rc = db_acquire(&c, h->pool)) ||
		    (rc = webhooks_record(c, job->id, job->seq, &a, retry_s))) {
			/* delivered but not recorded: delivered again next time (at-least-once) */
			log_msg(LOG_WARN, "webhook %" PRId64 ": cannot record attempt on event %" PRId64 ": %s",
				job->id, a.seq, err_message());
			err_clear();
		} else if (a.error) {
			if (job->attempts == 0)
				log_msg(LOG_WARN, "webhook %" PRId64 " paused at event %" PRId64
					", retrying: %s", job->id, a.seq, a.error);
		} else {
			if (job->attempts > 0)
				log_msg(LOG_INFO, "webhook %" PRId64 " resumed at event %" PRId64, job->id, a.seq);
			wait = 0;    /* more may be waiting */
		}
		db_release(c);
		c = NULL;
	}
out:
	db_release(c);
	webhook_jobs_release(&jobs);
	return wait;
}

static void *hooksend_main(void *arg)
{
	struct hooksend *h = arg;
	unsigned wait = 0;

	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		struct timespec until;

		if (wait) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += wait / 1000;
			until.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&h->cv, &h->mu, &until);
			if (h->stop)
				break;
		}
		pthread_mutex_unlock(&h->mu);
		wait = hooksend_step(h);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void hooksend_free(struct hooksend *h)
{
	leader_free(h->leader);
	if (h->curl)
		curl_easy_cleanup(h->curl);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
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
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->pool = pool;
	h->cfg = cfg;
	h->allow_private = strcmp(cfg->webhook_private_networks, "allow") == 0;
	h->user_agent = xasprintf("otcm/%s", version ? version : "");
	leader_new_for(&h->leader, pool, LEADER_WEBHOOK_KEY, "webhook delivery");
	if (!(h->curl = curl_easy_init())) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot make a libcurl handle");
		goto out;
	}
	if (pthread_create(&h->thread, NULL, hooksend_main, h) != 0) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot start the webhook delivery");
		goto out;
	}
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
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	hooksend_free(h);
	curl_global_cleanup();
}
