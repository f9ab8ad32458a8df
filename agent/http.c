/*
 * agent/http.c - the agent's HTTP(S) client, the only libcurl user; see
 * agent.h.  TLS certificates are verified (the system's store, or
 * ca_file); redirects are not followed, so the token goes nowhere else.
 */
#include "agent/agent.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 300L

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;

	if (b && buf_try_grow(b, size * n) == 0)
		buf_add(b, data, size * n);
	return size * n;
}

int agent_http(long *out_status, struct buf *answer, const struct agent_config *cfg,
	       const char *method, const char *path, const char *body)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *auth = NULL;
	CURL *h;
	CURLcode cc;
	int rc = 0;

	*out_status = 0;
	if (!cfg->server || !cfg->token)
		return err_set(OTCM_EINVAL, "server", "the configuration names no server or token_file");
	h = curl_easy_init();
	if (!h)
		return err_set(OTCM_EINTERNAL, NULL, "cannot start an HTTP client");
	if (asprintf(&url, "%s%s", cfg->server, path) < 0 ||
	    asprintf(&auth, "Authorization: Bearer %s", cfg->token) < 0)
		abort();
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "otcm-agent/" OTCM_VERSION);
	if (cfg->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		rc = err_set(OTCM_EUNAVAIL, "server", "cannot reach %s: %s", cfg->server,
			     curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, out_status);
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(url);
	if (auth)
		memset(auth, 0, strlen(auth));
	free(auth);
	return rc;
}
