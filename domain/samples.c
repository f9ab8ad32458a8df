/* domain/samples.c - random samples of a period and their evidence archive; see samples.h. */
#include "domain/samples.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/bundle.h"
#include "domain/checklist.h"
#include "domain/evidence.h"
#include "domain/reports.h"
#include "storage/changes.h"
#include "storage/checkpoint.h"
#include "storage/samples.h"

#define SAMPLE_LIST_MAX 200

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* ---- the draw: pure ---- */

/* The change number of "CHG-n", or -1. */
static int64_t key_number(const char *key)
{
	int64_t n = 0;
	const char *p;

	if (!key || strncmp(key, "CHG-", 4) || !key[4] || key[4] == '0' || strlen(key) > 22)
		return -1;
	for (p = key + 4; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

struct scored {
	int64_t number;
	const char *key;
	char score[2 * CRYPTO_SHA256_LEN + 1];
};

static int by_number(const void *a, const void *b)
{
	int64_t x = ((const struct scored *)a)->number, y = ((const struct scored *)b)->number;

	return x < y ? -1 : x > y;
}

static int by_score(const void *a, const void *b)
{
	int c = strcmp(((const struct scored *)a)->score, ((const struct scored *)b)->score);

	return c ? c : by_number(a, b);
}

/* The population's keys as scored entries (scores empty), sorted by number; NULL on a bad key. */
static struct scored *read_keys(size_t *out_n, const json_t *keys)
{
	size_t i, n = json_array_size(keys);
	struct scored *v = xcalloc(n + 1, sizeof(*v));
	const json_t *k;

	json_array_foreach(keys, i, k) {
		v[i].key = json_string_value(k);
		if ((v[i].number = key_number(v[i].key)) < 0) {
			err_set(OTCM_EINVAL, "keys", "'%.40s' is not a change key", v[i].key ? v[i].key : "(not text)");
			free(v);
			return NULL;
		}
	}
	qsort(v, n, sizeof(*v), by_number);
	for (i = 1; i < n; i++)
		if (v[i].number == v[i - 1].number) {
			err_set(OTCM_EINVAL, "keys", "'%.40s' appears twice", v[i].key);
			free(v);
			return NULL;
		}
	*out_n = n;
	return v;
}

int sample_population(json_t **out_sorted, char out[2 * CRYPTO_SHA256_LEN + 1], const json_t *keys)
{
	struct crypto_sha256_ctx *h;
	unsigned char digest[CRYPTO_SHA256_LEN];
	struct scored *v;
	json_t *sorted;
	size_t i, n = 0;

	if (!json_is_array(keys))
		return err_set(OTCM_EINVAL, "keys", "the population is not a list of change keys");
	if (!(v = read_keys(&n, keys)))
		return OTCM_EINVAL;
	sorted = json_array();
	h = crypto_sha256_new();
	for (i = 0; i < n; i++) {
		crypto_sha256_update(h, v[i].key, strlen(v[i].key));
		crypto_sha256_update(h, "\n", 1);
		json_array_append_new(sorted, json_string(v[i].key));
	}
	crypto_sha256_final(digest, h);
	crypto_hex(out, digest, sizeof(digest));
	free(v);
	*out_sorted = sorted;
	return 0;
}

int sample_draw(json_t **out, const json_t *population, const char *seed, size_t size)
{
	struct scored *v;
	json_t *list;
	size_t i, n = 0, take;

	if (!json_is_array(population))
		return err_set(OTCM_EINVAL, "keys", "the population is not a list of change keys");
	if (!(v = read_keys(&n, population)))
		return OTCM_EINVAL;
	for (i = 0; i < n; i++) {
		struct crypto_sha256_ctx *h = crypto_sha256_new();
		unsigned char digest[CRYPTO_SHA256_LEN];

		crypto_sha256_update(h, seed, strlen(seed));
		crypto_sha256_update(h, ":", 1);
		crypto_sha256_update(h, v[i].key, strlen(v[i].key));
		crypto_sha256_final(digest, h);
		crypto_hex(v[i].score, digest, sizeof(digest));
	}
	qsort(v, n, sizeof(*v), by_score);
	take = size < n ? size : n;
	qsort(v, take, sizeof(*v), by_number);
	list = json_array();
	for (i = 0; i < take; i++)
		json_array_append_new(list, json_string(v[i].key));
	free(v);
	*out = list;
	return 0;
}

/* ---- the archive's verifier: pure ---- */

struct sctx {
	struct buf *rep;
	unsigned failed;
	const struct bundle_files *fs;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
};

static void say(struct sctx *v, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void say(struct sctx *v, const char *tag, const char *fmt, va_list ap)
{
	buf_adds(v->rep, tag);
	buf_vaddf(v->rep, fmt, ap);
	buf_addch(v->rep, '\n');
}

static void ok(struct sctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(struct sctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(v, "ok    ", fmt, ap);
	va_end(ap);
}

static void fail(struct sctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sctx *v, const char *fmt, ...)
{
	va_list ap;

	v->failed++;
	va_start(ap, fmt);
	say(v, "FAIL  ", fmt, ap);
	va_end(ap);
}

static void skip(struct sctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct sctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(v, "skip  ", fmt, ap);
	va_end(ap);
}

static json_t *parse_file(const struct sctx *v, const char *name)
{
	const struct bundle_file *f = bundle_files_get(v->fs, name);

	return f ? json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
}

/* MANIFEST.sha256 lists every other file with its SHA-256, and its signature verifies. */
static void check_manifest(struct sctx *v)
{
	const struct bundle_file *m = bundle_files_get(v->fs, "MANIFEST.sha256");
	const struct bundle_file *s = bundle_files_get(v->fs, "MANIFEST.sha256.sig");
	json_t *listed = json_object();
	char hex[2 * CRYPTO_SHA256_LEN + 1], name[1100];
	const char *p, *end;
	unsigned before = v->failed;
	size_t i;

	if (!m || !s) {
		fail(v, "manifest: MANIFEST.sha256 or its signature is missing");
		goto out;
	}
	if (s->len != CRYPTO_ED25519_SIG_LEN ||
	    crypto_ed25519_verify(v->pub, m->data, m->len, (const unsigned char *)s->data))
		fail(v, "manifest: the signature of MANIFEST.sha256 does not verify");
	for (p = m->data, end = m->data + m->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const struct bundle_file *f;

		if (len < 2 * CRYPTO_SHA256_LEN + 3 || len - (2 * CRYPTO_SHA256_LEN + 2) >= sizeof(name) ||
		    p[2 * CRYPTO_SHA256_LEN] != ' ' || p[2 * CRYPTO_SHA256_LEN + 1] != ' ') {
			fail(v, "manifest: a line is not 'SHA-256  name'");
			break;
		}
		memcpy(name, p + 2 * CRYPTO_SHA256_LEN + 2, len - (2 * CRYPTO_SHA256_LEN + 2));
		name[len - (2 * CRYPTO_SHA256_LEN + 2)] = '\0';
		json_object_set_new(listed, name, json_true());
		if (!(f = bundle_files_get(v->fs, name))) {
			fail(v, "manifest: %s is listed but missing", name);
		} else {
			crypto_sha256_hex(hex, f->data, f->len);
			if (memcmp(hex, p, 2 * CRYPTO_SHA256_LEN))
				fail(v, "manifest: %s does not match its SHA-256", name);
		}
		p += len + 1;
	}
	for (i = 0; i < v->fs->n; i++) {
		const char *n = v->fs->v[i].name;

		if (strcmp(n, "MANIFEST.sha256") && strcmp(n, "MANIFEST.sha256.sig") && !json_object_get(listed, n))
			fail(v, "manifest: %s is not listed", n);
	}
	if (v->failed == before)
		ok(v, "manifest: %zu files match MANIFEST.sha256, and its signature verifies", json_object_size(listed));
out:
	json_decref(listed);
}

/* Whether two RFC 3339 texts name the same instant. */
static bool same_time(const char *a, const char *b)
{
	char na[TIME_RFC3339_INPUT_LEN], nb[TIME_RFC3339_INPUT_LEN];
	int64_t x, y;

	return time_parse_rfc3339(&x, na, a) && time_parse_rfc3339(&y, nb, b) && x == y;
}

/* The population report's checkpoints and proof, and the seed's draw over it. */
static void check_draw(struct sctx *v, const json_t *sample, const json_t *population)
{
	struct dom_report_check rc;
	json_t *keys = json_array(), *sorted = NULL, *mine = NULL;
	const json_t *it;
	char sha[2 * CRYPTO_SHA256_LEN + 1];
	json_int_t size = json_integer_value(json_object_get(sample, "size"));
	size_t i;

	report_check_key(&rc, v->pub, population);
	if (rc.verified)
		ok(v, "population.json: its checkpoints are signed by the key and the trail only grew between them");
	else
		fail(v, "population.json: %s", rc.start_problem ? rc.start_problem : rc.end_problem ?
		     rc.end_problem : rc.consistency_problem ? rc.consistency_problem : "does not verify");
	if (!same_time(jstr(population, "from"), jstr(sample, "from")) ||
	    !same_time(jstr(population, "to"), jstr(sample, "to")))
		fail(v, "population.json: its period is not the sample's");
	json_array_foreach(json_object_get(population, "items"), i, it)
		json_array_append(keys, json_object_get(it, "key"));
	if (sample_population(&sorted, sha, keys)) {
		fail(v, "population.json: %s", err_message());
		goto out;
	}
	if (strcmp(sha, jstr(sample, "population_sha256")) ||
	    (json_int_t)json_array_size(sorted) != json_integer_value(json_object_get(sample, "population_size")))
		fail(v, "population.json: its %zu changes are not the population the sample was drawn from",
		     json_array_size(sorted));
	else
		ok(v, "population.json: %zu changes, SHA-256 %s as the sample records", json_array_size(sorted), sha);
	if (strcmp(jstr(sample, "algorithm"), SAMPLE_ALGORITHM) || size < 1 || !*jstr(sample, "seed")) {
		fail(v, "sample.json: an unknown algorithm, or no seed or size");
		goto out;
	}
	if (sample_draw(&mine, sorted, jstr(sample, "seed"), (size_t)size) ||
	    !json_equal(mine, json_object_get(sample, "keys")))
		fail(v, "sample.json: the seed does not give these changes from the population");
	else
		ok(v, "sample.json: the seed gives exactly these %zu of %zu changes (%s)", json_array_size(mine),
		   json_array_size(sorted), SAMPLE_ALGORITHM);
out:
	json_decref(keys);
	json_decref(sorted);
	json_decref(mine);
}

/*
 * Whether every failed check of a bundle's report (bundle_verify) is one of
 * the change-process policy's ("FAIL  policy: ..."), counted in *out: the
 * bundle is then authentic and its change broke a rule.
 */
static bool only_policy_failures(size_t *out, const struct buf *rep)
{
	const char *line = buf_cstr(rep), *end = line + rep->len;

	*out = 0;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);

		if (len >= 6 && !strncmp(line, "FAIL  ", 6)) {
			if (strncmp(line, "FAIL  policy: ", 14))
				return false;
			(*out)++;
		}
		line += len + 1;
	}
	return *out > 0;
}

/* Every sampled change's bundle verifies under the same key; the effectiveness is theirs. */
static void check_changes(struct sctx *v, const json_t *sample)
{
	json_t *checklists = json_array(), *effect = NULL, *stored = parse_file(v, "effectiveness.json");
	const json_t *k;
	char name[64];
	size_t i, inner = 0;

	json_array_foreach(json_object_get(sample, "keys"), i, k) {
		const struct bundle_file *f, *cj;
		struct bundle_files fs = { 0 };
		struct buf rep = BUF_INIT;
		const char *line, *end;
		size_t findings;
		json_t *change;

		snprintf(name, sizeof(name), "changes/%.40s.tar", json_string_value(k) ? json_string_value(k) : "");
		if (!(f = bundle_files_get(v->fs, name))) {
			fail(v, "%s: a sampled change's bundle is missing", name);
			continue;
		}
		findings = 0;
		if (bundle_verify(&rep, f->data, f->len, v->pub) == 0)
			ok(v, "%s: the bundle verifies", name);
		else if (only_policy_failures(&findings, &rep))
			/* authentic: what its change did against the policy is a finding, not a forgery */
			ok(v, "%s: the bundle is authentic; its change has %zu policy findings (below, and in its "
			   "checklist)", name, findings);
		else
			fail(v, "%s: the bundle does not verify", name);
		/* the bundle's own report, indented */
		for (line = buf_cstr(&rep), end = line + rep.len; line < end;) {
			const char *nl = memchr(line, '\n', (size_t)(end - line));
			size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);

			buf_addf(v->rep, "        %.*s\n", (int)len, line);
			line += len + 1;
		}
		buf_release(&rep);
		if (bundle_read(&fs, f->data, f->len) == 0 && (cj = bundle_files_get(&fs, "change.json")) &&
		    (change = json_loadb(cj->data, cj->len, 0, NULL))) {
			if (strcmp(jstr(change, "key"), json_string_value(k) ? json_string_value(k) : ""))
				fail(v, "%s: holds %.40s, not the sampled change", name, jstr(change, "key"));
			json_array_append_new(checklists, json_pack("{s:O, s:O?}", "key", k, "checklist",
								    json_object_get(change, "checklist")));
			json_decref(change);
		}
		err_clear();
		bundle_files_release(&fs);
	}
	for (i = 0; i < v->fs->n; i++)
		if (!strncmp(v->fs->v[i].name, "changes/", 8))
			inner++;
	if (inner != json_array_size(json_object_get(sample, "keys")))
		fail(v, "changes/: %zu bundles for %zu sampled changes", inner,
		     json_array_size(json_object_get(sample, "keys")));
	if (checklist_effectiveness(&effect, checklists) || !stored || !json_equal(effect, stored))
		fail(v, "effectiveness.json: is not the control effectiveness of the sampled changes' checklists");
	else
		ok(v, "effectiveness.json: the control effectiveness of the %zu sampled changes' checklists",
		   json_array_size(checklists));
	json_decref(checklists);
	json_decref(effect);
	json_decref(stored);
}

bool sample_archive_is(const void *tar, size_t len)
{
	struct bundle_files fs = { 0 };
	bool is = bundle_read(&fs, tar, len) == 0 && bundle_files_get(&fs, "sample.json") != NULL;

	err_clear();
	bundle_files_release(&fs);
	return is;
}

int sample_verify(struct buf *report, const void *tar, size_t len, const unsigned char *trusted)
{
	struct bundle_files fs = { 0 };
	struct sctx v;
	const struct bundle_file *pem;
	json_t *sample = NULL, *population = NULL;

	memset(&v, 0, sizeof(v));
	v.rep = report;
	v.fs = &fs;
	if (bundle_read(&fs, tar, len)) {
		fail(&v, "archive: %s", err_message());
		goto out;
	}
	ok(&v, "archive: a tar of %zu files", fs.n);
	pem = bundle_files_get(&fs, "trust/server.pub");
	if (trusted) {
		unsigned char inarchive[CRYPTO_ED25519_PUB_LEN];

		memcpy(v.pub, trusted, sizeof(v.pub));
		if (!pem || crypto_ed25519_public_from_pem(inarchive, pem->data, pem->len) ||
		    memcmp(inarchive, trusted, sizeof(inarchive)))
			fail(&v, "key: trust/server.pub is not the trusted key");
		else
			ok(&v, "key: trust/server.pub is the trusted key");
	} else if (!pem || crypto_ed25519_public_from_pem(v.pub, pem->data, pem->len)) {
		fail(&v, "key: trust/server.pub is missing or not an Ed25519 public key");
		goto out;
	} else {
		skip(&v, "key: using the archive's own trust/server.pub; pin the server's key with --trust");
	}
	check_manifest(&v);
	sample = parse_file(&v, "sample.json");
	population = parse_file(&v, "population.json");
	if (!json_is_object(sample) || !json_is_array(json_object_get(sample, "keys"))) {
		fail(&v, "sample.json: missing or not a sample");
		goto out;
	}
	ok(&v, "sample.json: sample %" JSON_INTEGER_FORMAT " of %s to %s, %zu changes, seed %s",
	   json_integer_value(json_object_get(sample, "id")), jstr(sample, "from"), jstr(sample, "to"),
	   json_array_size(json_object_get(sample, "keys")), jstr(sample, "seed"));
	if (!json_is_object(population))
		fail(&v, "population.json: missing or not a population report");
	else
		check_draw(&v, sample, population);
	check_changes(&v, sample);
out:
	buf_addf(report, v.failed ? "FAILED: %u checks failed\n" : "verified: every check passed\n", v.failed);
	json_decref(sample);
	json_decref(population);
	bundle_files_release(&fs);
	return report->cap && report->len + 1 >= report->cap ? OTCM_ETOOBIG : v.failed ? OTCM_EAUTH : 0;
}

/* ---- the operations ---- */

/* A seed as given: 1..SAMPLE_SEED_MAX of [A-Za-z0-9._-]. */
static bool seed_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= SAMPLE_SEED_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						 "0123456789._-") == n;
}

/* The change keys of a population report's items. */
static json_t *keys_of(const json_t *population)
{
	json_t *keys = json_array();
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(population, "items"), i, it)
		json_array_append(keys, json_object_get(it, "key"));
	return keys;
}

int dom_sample_draw(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const fields[] = { "from", "to", "size", "seed", NULL };
	json_t *body = (json_t *)in;   /* the readers of core/json.h do not change it */
	struct db_conn *c = NULL;
	json_t *population = NULL, *keys = NULL, *sorted = NULL, *drawn = NULL, *sample = NULL, *after = NULL;
	const char *from = NULL, *to = NULL, *seed = NULL;
	char generated[2 * 32 + 1], sha[2 * CRYPTO_SHA256_LEN + 1], norm[TIME_RFC3339_INPUT_LEN];
	struct sample_row row;
	int64_t size = 0, to_us = 0;
	int rc;

	if ((rc = dom_permit(d, OP_SAMPLE_DRAW)))
		return rc;
	if (!json_is_object(body))
		return err_set(OTCM_EINVAL, NULL, "the body must be a JSON object {from, to, size, seed?}");
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "from", true, &from)) ||
	    (rc = json_get_str(body, "to", true, &to)) || (rc = json_get_int(body, "size", true, &size)) ||
	    (rc = json_get_str(body, "seed", false, &seed)))
		return rc;
	if (size < 1 || size > SAMPLE_MAX_SIZE)
		return err_set(OTCM_EINVAL, "size", "'size' must be from 1 to %d", SAMPLE_MAX_SIZE);
	if (seed && !seed_ok(seed))
		return err_set(OTCM_EINVAL, "seed", "'seed' must be 1 to %d letters, digits, '.', '_' or '-'",
			       SAMPLE_SEED_MAX);
	if (!seed) {
		if ((rc = crypto_random_hex(generated, 32)))
			return rc;
		seed = generated;
	}
	/* a period still running has a growing population: its draw could not be redone */
	if (time_parse_rfc3339(&to_us, norm, to) && to_us > time_now_us()) {
		rc = err_set(OTCM_ERULE, "to", "the period has not ended: 'to' (%s) is still to come, and a "
			     "growing population cannot be sampled reproducibly", norm);
		err_set_rule("period-not-ended");
		goto out;
	}
	if ((rc = dom_conn(&c, d)) || (rc = dom_report_population_in(&population, d, c, from, to)))
		goto out;
	keys = keys_of(population);
	if ((rc = sample_population(&sorted, sha, keys)) || (rc = sample_draw(&drawn, sorted, seed, (size_t)size)))
		goto out;
	memset(&row, 0, sizeof(row));
	row.taken_by = d->who->user_id;
	row.from = jstr(population, "from");
	row.to = jstr(population, "to");
	row.size = size;
	row.seed = seed;
	row.seed_source = seed == generated ? "generated" : "given";
	row.algorithm = SAMPLE_ALGORITHM;
	row.population_size = (int64_t)json_array_size(sorted);
	row.population_sha256 = sha;
	row.keys = drawn;
	if ((rc = samples_insert(&sample, c, &row)))
		goto out;
	after = json_deep_copy(sample);
	if ((rc = dom_audit(d, c, "sample.draw", "sample", arena_printf(d->arena, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(json_object_get(sample, "id"))), NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = sample;
	sample = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "sample.draw", "sample", NULL, rc);
	json_decref(population);
	json_decref(keys);
	json_decref(sorted);
	json_decref(drawn);
	json_decref(sample);
	json_decref(after);
	dom_end(c);
	return rc;
}

int dom_sample_get(json_t **out, const struct dom *d, int64_t id)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_SAMPLE_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)))
		return rc;
	rc = samples_get(out, c, id);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_ENOTFOUND, "id", "no sample %" PRId64, id);
	dom_end(c);
	return rc;
}

int dom_sample_list(json_t **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	json_t *items = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_SAMPLE_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = samples_list(&items, c, SAMPLE_LIST_MAX)))
		goto out;
	*out = json_pack("{s:o}", "items", items);
out:
	dom_end(c);
	return rc;
}

static const char README_FMT[] =
	"Evidence of sample %" JSON_INTEGER_FORMAT ": %zu changes of the period %s to %s\n"
	"\n"
	"sample.json         the sample: period, size, seed, algorithm, the population's\n"
	"                    SHA-256 and the sampled change keys\n"
	"population.json     the period's population report, tied to the audit trail by\n"
	"                    two signed checkpoints and their consistency proof\n"
	"effectiveness.json  per control of the checklist: how many sampled changes met it,\n"
	"                    did not, or to which it did not apply, with each exception\n"
	"changes/KEY.tar     each sampled change's evidence bundle (otcm verify checks it)\n"
	"MANIFEST.sha256     SHA-256 of every other file; MANIFEST.sha256.sig its Ed25519\n"
	"                    signature by trust/server.pub\n"
	"\n"
	"Check everything with:  otcm verify sample-%" JSON_INTEGER_FORMAT ".tar --trust server.pub\n"
	"\n"
	"Redo the draw (" SAMPLE_ALGORITHM ") with stock tools:\n"
	"\n"
	"  SEED=$(jq -r .seed sample.json); SIZE=$(jq -r .size sample.json)\n"
	"  jq -r '.items[].key' population.json | sort -t- -k2n > population.txt\n"
	"  sha256sum < population.txt            # = population_sha256\n"
	"  while read k; do printf '%%s %%s\\n' \"$(printf '%%s:%%s' \"$SEED\" \"$k\" | sha256sum | cut -c1-64)\" \"$k\"\n"
	"  done < population.txt | LC_ALL=C sort | head -n \"$SIZE\" | cut -d' ' -f2 | sort -t- -k2n\n"
	"                                        # = sample.json's keys\n";

/*
 * The checkpoint every sampled change's bundle is proved against: one
 * that signs the newest event of them all (signed now when none does).
 * c is idle.
 */
static int sample_checkpoint(uint64_t *out, const struct dom *d, struct db_conn *c, const json_t *keys)
{
	struct checkpoint *cp = NULL;
	const json_t *k;
	uint64_t need = 1, newest;
	int64_t id;
	size_t i;
	int rc;

	json_array_foreach(keys, i, k) {
		if ((rc = changes_parse_key(&id, json_string_value(k))) ||
		    (rc = dom_evidence_newest_event(&newest, c, id)))
			return rc;
		if (newest > need)
			need = newest;
	}
	rc = checkpoint_cover(&cp, NULL, c, d->key, d->origin, need);
	if (rc == OTCM_ERULE)
		err_set_rule("audit-trail-intact");
	if (rc == 0)
		*out = cp->tree_size;
	checkpoint_free(cp);
	return rc;
}

int dom_sample_evidence(struct buf *out, char out_sha256[2 * CRYPTO_SHA256_LEN + 1], const struct dom *d,
			int64_t id)
{
	struct bundle_files fs = { 0 };
	struct db_conn *c = NULL;
	json_t *sample = NULL, *population = NULL, *keys = NULL, *sorted = NULL, *checklists = json_array();
	json_t *effect = NULL, *after = NULL;
	const json_t *k;
	struct buf readme = BUF_INIT;
	char sha[2 * CRYPTO_SHA256_LEN + 1], name[64], *obj = arena_printf(d->arena, "sample-%" PRId64, id);
	char norm[TIME_RFC3339_INPUT_LEN];
	uint64_t tree_size = 0;
	int64_t taken_us = 0, cid;
	size_t i;
	int rc;

	if ((rc = dom_permit(d, OP_SAMPLE_READ)))
		goto out_plain;
	if (!d->key || !d->origin) {
		rc = err_set(OTCM_EINTERNAL, NULL, "no signing key to sign evidence with");
		goto out_plain;
	}
	buf_init(out, 2 * d->cfg->max_upload_bytes);
	if ((rc = dom_conn(&c, d)))
		goto out;
	rc = samples_get(&sample, c, id);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_ENOTFOUND, "id", "no sample %" PRId64, id);
	if (rc || (rc = sample_checkpoint(&tree_size, d, c, json_object_get(sample, "keys"))) ||
	    (rc = dom_report_population_in(&population, d, c, jstr(sample, "from"), jstr(sample, "to"))))
		goto out;
	keys = keys_of(population);
	if ((rc = sample_population(&sorted, sha, keys)))
		goto out;
	if (strcmp(sha, jstr(sample, "population_sha256"))) {
		rc = err_set(OTCM_ERULE, "id", "the population of %s to %s is no longer the one sample %" PRId64
			     " was drawn from", jstr(sample, "from"), jstr(sample, "to"), id);
		err_set_rule("sample-population-changed");
		goto out;
	}
	json_array_foreach(json_object_get(sample, "keys"), i, k) {
		struct bundle_files inner = { 0 };
		struct buf b;
		json_t *change = NULL;

		buf_init(&b, out->cap);
		if ((rc = changes_parse_key(&cid, json_string_value(k))) ||
		    (rc = dom_evidence_bundle(&b, d, c, cid, tree_size)) || (rc = bundle_read(&inner, b.data, b.len))) {
			buf_release(&b);
			bundle_files_release(&inner);
			goto out;
		}
		change = json_loadb(bundle_files_get(&inner, "change.json")->data,
				    bundle_files_get(&inner, "change.json")->len, 0, NULL);
		json_array_append_new(checklists, json_pack("{s:O, s:O?}", "key", k, "checklist",
							    json_object_get(change, "checklist")));
		json_decref(change);
		bundle_files_release(&inner);
		snprintf(name, sizeof(name), "changes/%.40s.tar", json_string_value(k));
		bundle_files_add(&fs, name, b.data, b.len);
		buf_release(&b);
	}
	if ((rc = checklist_effectiveness(&effect, checklists)))
		goto out;
	bundle_files_add_json(&fs, "sample.json", sample);
	bundle_files_add_json(&fs, "population.json", population);
	bundle_files_add_json(&fs, "effectiveness.json", effect);
	if ((rc = buf_addf(&readme, README_FMT, json_integer_value(json_object_get(sample, "id")),
			   json_array_size(json_object_get(sample, "keys")), jstr(sample, "from"), jstr(sample, "to"),
			   json_integer_value(json_object_get(sample, "id")))))
		goto out;
	bundle_files_add(&fs, "README.txt", readme.data, readme.len);
	time_parse_rfc3339(&taken_us, norm, jstr(sample, "taken_at"));
	if ((rc = bundle_seal(out, &fs, d->key, taken_us / 1000000)))
		goto out;
	crypto_sha256_hex(out_sha256, out->data, out->len);
	after = json_pack("{s:s, s:I, s:I, s:I}", "sha256", out_sha256, "bytes", (json_int_t)out->len,
			  "changes", (json_int_t)json_array_size(json_object_get(sample, "keys")),
			  "checkpoint_tree_size", (json_int_t)tree_size);
	if ((rc = dom_audit(d, c, "sample.export", "evidence", obj, NULL, after, NULL)) || (rc = dom_commit(c)))
		goto out;
out:
	if (rc) {
		buf_release(out);
		rc = dom_refused(d, &c, "sample.export", "evidence", obj, rc);
	}
out_plain:
	buf_release(&readme);
	bundle_files_release(&fs);
	json_decref(sample);
	json_decref(population);
	json_decref(keys);
	json_decref(sorted);
	json_decref(checklists);
	json_decref(effect);
	json_decref(after);
	dom_end(c);
	return rc;
}
