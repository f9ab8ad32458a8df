/* domain/webhooks.c - webhook subscriptions and their rules; see webhooks.h. */
#include "domain/webhooks.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/hooksig.h"
#include "core/netaddr.h"
#include "storage/webhooks.h"

#define URL_MAX 2048
#define EVENTS_MAX 32
#define EVENT_MAX 100
#define DESCRIPTION_MAX 200
#define SECRET_MADE 32

int dom_webhook_id(int64_t *out, const char *s)
{
	char *end;
	long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return err_set(OTCM_EINVAL, "id", "a webhook id is a positive number");
	v = strtoll(s, &end, 10);
	if (*end || v <= 0 || v == LLONG_MAX)
		return err_set(OTCM_EINVAL, "id", "a webhook id is a positive number");
	*out = v;
	return 0;
}

/* The URL's shape, and its host when that is a literal address. */
static int check_url(const struct dom *d, const char *url)
{
	const char *p, *auth, *end, *host_end, *port;
	char host[256];
	size_t n = strlen(url);
	bool public_addr;

	if (n == 0 || n > URL_MAX)
		return err_set(OTCM_EINVAL, "url", "url must be 1 to %d bytes", URL_MAX);
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return err_set(OTCM_EINVAL, "url", "url may hold no spaces, control or non-ASCII "
				       "characters (percent-encode them)");
	if (strncmp(url, "https://", 8) == 0)
		auth = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		auth = url + 7;
	else
		return err_set(OTCM_EINVAL, "url", "url must start with https:// or http://");
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)))
		return err_set(OTCM_EINVAL, "url", "url may not carry a user name or password: "
			       "the receiver checks the signature instead");
	if (*auth == '[') {
		host_end = memchr(auth, ']', (size_t)(end - auth));
		if (!host_end)
			return err_set(OTCM_EINVAL, "url", "url has an unclosed IPv6 address");
		host_end++;
	} else {
		host_end = auth + strcspn(auth, ":/?#");
		if (host_end > end)
			host_end = end;
	}
	if (host_end == auth || (size_t)(host_end - auth) >= sizeof(host))
		return err_set(OTCM_EINVAL, "url", "url has no host");
	port = host_end;
	if (port < end) {
		long v;
		char *pe;

		if (*port != ':' || port + 1 == end)
			return err_set(OTCM_EINVAL, "url", "url has a malformed host or port");
		v = strtol(port + 1, &pe, 10);
		if (pe != end || v < 1 || v > 65535 || port[1] == '+' || port[1] == '-')
			return err_set(OTCM_EINVAL, "url", "url's port must be 1 to 65535");
	}
	memcpy(host, auth, (size_t)(host_end - auth));
	host[host_end - auth] = '\0';
	if (strcmp(d->cfg->webhook_private_networks, "allow") != 0 &&
	    netaddr_literal(host, &public_addr) && !public_addr)
		return err_set(OTCM_EINVAL, "url", "url's address %s is not on the public internet; "
			       "an administrator may allow private networks (--webhook-private-networks allow)",
			       host);
	return 0;
}

/* "*", "name.name" or "name.name.*" over [a-z0-9_]. */
static bool pattern_ok(const char *s)
{
	size_t n = strlen(s);
	bool at_start = true;

	if (n == 0 || n > EVENT_MAX)
		return false;
	if (strcmp(s, "*") == 0)
		return true;
	if (n >= 2 && strcmp(s + n - 2, ".*") == 0)
		n -= 2;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (at_start)
				return false;
			at_start = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
		at_start = false;
	}
	return !at_start;
}

/* events: a JSON array of 1..EVENTS_MAX patterns, to its compact text in *out (arena). */
static int check_events(const char **out, const struct dom *d, const json_t *events)
{
	const json_t *e;
	size_t i;
	char *text;

	if (!json_is_array(events) || json_array_size(events) == 0 ||
	    json_array_size(events) > EVENTS_MAX)
		return err_set(OTCM_EINVAL, "events", "events must be a list of 1 to %d patterns such "
			       "as \"change.*\"", EVENTS_MAX);
	json_array_foreach(events, i, e) {
		if (!json_is_string(e) || !pattern_ok(json_string_value(e)))
			return err_set(OTCM_EINVAL, "events", "event pattern %zu must be \"*\", an audit "
				       "action such as \"change.create\", or a prefix such as \"change.*\" "
				       "(lower-case letters, digits, _ and .)", i + 1);
	}
	text = json_dump_compact(events);
	*out = arena_strdup(d->arena, text);
	free(text);
	return 0;
}

static int check_secret(const char *s)
{
	unsigned char key[HOOKSIG_KEY_MAX];
	size_t len;
	int rc = hooksig_key(key, &len, s, "secret");

	memset(key, 0, sizeof(key));
	return rc;
}

/* A new secret "whsec_<base64 of 32 random bytes>" in the arena. */
static int make_secret(const char **out, const struct dom *d)
{
	unsigned char raw[SECRET_MADE];
	char b64[CRYPTO_BASE64_LEN(SECRET_MADE)];
	int rc;

	if ((rc = crypto_random(raw, sizeof(raw))))
		return rc;
	crypto_base64(b64, raw, sizeof(raw));
	*out = arena_printf(d->arena, HOOKSIG_PREFIX "%s", b64);
	return 0;
}

static int check_description(const char *s)
{
	if (s && strlen(s) > DESCRIPTION_MAX)
		return err_set(OTCM_EINVAL, "description", "description must be at most %d bytes",
			       DESCRIPTION_MAX);
	return 0;
}

static const char *id_text(const struct dom *d, int64_t id)
{
	return arena_printf(d->arena, "%" PRId64, id);
}

int dom_webhook_create(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const fields[] = { "url", "events", "description", "secret", NULL };
	json_t *body = (json_t *)in;   /* jansson's getters are not const; nothing changes it */
	struct webhook_fields f = { .enabled = -1 };
	struct db_conn *c = NULL;
	json_t *hook = NULL;
	const char *id = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_WEBHOOK_CREATE)))
		return rc;
	if (!json_is_object(body))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if ((rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "url", true, &f.url)) ||
	    (rc = json_get_str(body, "description", false, &f.description)) ||
	    (rc = json_get_str(body, "secret", false, &f.secret)))
		return rc;
	if (!json_object_get(body, "events"))
		return err_set(OTCM_EINVAL, "events", "events is required: a list of patterns such as "
			       "\"change.*\"");
	if ((rc = check_url(d, f.url)) ||
	    (rc = check_events(&f.events_json, d, json_object_get(body, "events"))) ||
	    (rc = check_description(f.description)) ||
	    (f.secret && (rc = check_secret(f.secret))) ||
	    (!f.secret && (rc = make_secret(&f.secret, d))))
		return rc;
	if ((rc = dom_begin(&c, d)) ||
	    (rc = webhooks_insert(&hook, c, &f, d->who->username ? d->who->username : "system")))
		goto out;
	id = id_text(d, (int64_t)json_integer_value(json_object_get(hook, "id")));
	if ((rc = dom_audit(d, c, "webhook.create", "webhook", id, NULL, hook, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	json_object_set_new(hook, "secret", json_string(f.secret));
	*out = hook;
	hook = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "webhook.create", "webhook", id, rc);
	dom_end(c);
	json_decref(hook);
	return rc;
}

int dom_webhook_list(json_t **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	json_t *items = NULL, *h;
	size_t i, disabled = 0;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_WEBHOOK_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = webhooks_list(&items, c)))
		goto out;
	json_array_foreach(items, i, h)
		disabled += !json_is_true(json_object_get(h, "enabled"));
	*out = json_pack("{s:o, s:I}", "items", items, "disabled", (json_int_t)disabled);
	items = NULL;
out:
	dom_end(c);
	json_decref(items);
	return rc;
}

int dom_webhook_read(json_t **out, const struct dom *d, int64_t id, unsigned deliveries)
{
	struct db_conn *c = NULL;
	json_t *hook = NULL, *log = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_WEBHOOK_READ)))
		return rc;
	if (deliveries > DOM_WEBHOOK_DELIVERIES_MAX)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %d",
			       DOM_WEBHOOK_DELIVERIES_MAX);
	if ((rc = dom_conn(&c, d)) || (rc = webhooks_get(&hook, c, id, false)))
		goto out;
	if (deliveries) {
		if ((rc = webhooks_deliveries(&log, c, id, deliveries)))
			goto out;
		json_object_set_new(hook, "deliveries", log);
		log = NULL;
	}
	*out = hook;
	hook = NULL;
out:
	dom_end(c);
	json_decref(hook);
	json_decref(log);
	return rc;
}

int dom_webhook_update(json_t **out, const struct dom *d, int64_t id, const json_t *in)
{
	static const char *const fields[] = { "url", "events", "description", "enabled", "secret",
					      "rotate_secret", NULL };
	json_t *body = (json_t *)in;
	struct webhook_fields f = { .enabled = -1 };
	struct db_conn *c = NULL;
	json_t *before = NULL, *after = NULL;
	bool enabled = false, rotate = false;
	const char *ids = id_text(d, id);
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_WEBHOOK_UPDATE)))
		return rc;
	if (!json_is_object(body))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if ((rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "url", false, &f.url)) ||
	    (rc = json_get_str(body, "description", false, &f.description)) ||
	    (rc = json_get_str(body, "secret", false, &f.secret)) ||
	    (rc = json_get_bool(body, "rotate_secret", false, &rotate)))
		return rc;
	if (json_object_get(body, "enabled")) {
		if ((rc = json_get_bool(body, "enabled", true, &enabled)))
			return rc;
		f.enabled = enabled;
		if (!enabled)
			f.disabled_reason = arena_printf(d->arena, "disabled by %s",
							 d->who->username ? d->who->username : "system");
	}
	if (f.secret && rotate)
		return err_set(OTCM_EINVAL, "rotate_secret", "give a secret or rotate_secret, not both");
	if ((f.url && (rc = check_url(d, f.url))) ||
	    (json_object_get(body, "events") &&
	     (rc = check_events(&f.events_json, d, json_object_get(body, "events")))) ||
	    (rc = check_description(f.description)) ||
	    (f.secret && (rc = check_secret(f.secret))) ||
	    (rotate && (rc = make_secret(&f.secret, d))))
		return rc;
	if ((rc = dom_begin(&c, d)) ||
	    (rc = webhooks_get(&before, c, id, true)) ||
	    (rc = webhooks_update(&after, c, id, &f)) ||
	    (rc = dom_audit(d, c, "webhook.update", "webhook", ids, before, after,
			    f.secret ? "secret replaced" : NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	if (f.secret)
		json_object_set_new(after, "secret", json_string(f.secret));
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "webhook.update", "webhook", ids, rc);
	dom_end(c);
	json_decref(before);
	json_decref(after);
	return rc;
}

int dom_webhook_delete(const struct dom *d, int64_t id)
{
	struct db_conn *c = NULL;
	json_t *before = NULL;
	const char *ids = id_text(d, id);
	int rc;

	if ((rc = dom_permit(d, OP_WEBHOOK_DELETE)))
		return rc;
	if ((rc = dom_begin(&c, d)) ||
	    (rc = webhooks_get(&before, c, id, true)) ||
	    (rc = webhooks_delete(c, id)) ||
	    (rc = dom_audit(d, c, "webhook.delete", "webhook", ids, before, NULL, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
out:
	if (rc)
		rc = dom_refused(d, &c, "webhook.delete", "webhook", ids, rc);
	dom_end(c);
	json_decref(before);
	return rc;
}

int dom_webhook_disable_failing(const struct dom *d, int64_t id, int64_t failing_for_s,
				const char *last_error)
{
	struct webhook_fields f = { .enabled = 0 };
	struct db_conn *c = NULL;
	json_t *before = NULL, *after = NULL;
	int64_t window = (int64_t)d->cfg->webhook_disable_after_hours * 3600;
	const char *ids = id_text(d, id);
	int rc;

	if ((rc = dom_permit(d, OP_WEBHOOK_UPDATE)))
		return rc;
	if (failing_for_s < window)
		return 0;
	f.disabled_reason = arena_printf(d->arena, "failing for %" PRId64 " hours (limit %u): %s",
					 failing_for_s / 3600, d->cfg->webhook_disable_after_hours,
					 last_error ? last_error : "no successful delivery");
	if ((rc = dom_begin(&c, d)) || (rc = webhooks_get(&before, c, id, true)))
		goto out;
	if (!json_is_true(json_object_get(before, "enabled")))
		goto out;   /* someone disabled it meanwhile */
	if ((rc = webhooks_update(&after, c, id, &f)) ||
	    (rc = dom_audit(d, c, "webhook.disabled", "webhook", ids, before, after, f.disabled_reason)) ||
	    (rc = dom_commit(c)))
		goto out;
out:
	dom_end(c);
	json_decref(before);
	json_decref(after);
	return rc;
}
