/*
 * storage/checkpoint.c - signing, storing, proving and checking audit
 * checkpoints, and the thread that writes them; see checkpoint.h.
 *
 * Inclusion proofs are built from stored subtree hashes (audit_merkle_nodes,
 * complete subtrees of 256 events and up, stored right after a checkpoint
 * is signed) and the hashes of the few 256-event chunks the proofs reach into:
 * O(log n) per event, the nodes and chunks of all the events of a request
 * read in one query each.  When a node is missing (a checkpoint signed
 * before the table existed, and none since) or the events to prove reach
 * into most of the trail anyway, every event hash up to the tree size is
 * read instead, as consistency proofs still do from the first checkpoint's
 * compact range on.
 */
#include "storage/checkpoint.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/signednote.h"
#include "core/timeutil.h"
#include "core/worker.h"
#include "storage/leader.h"

void checkpoint_free(struct checkpoint *cp)
{
	if (!cp)
		return;
	free(cp->origin);
	free(cp->note);
	free(cp);
}

json_t *checkpoint_json(const struct checkpoint *cp)
{
	char root[2 * MERKLE_HASH_LEN + 1], at[AUDIT_TIME_LEN], id[9];

	crypto_hex(root, cp->root, MERKLE_HASH_LEN);
	audit_time_format(at, cp->at_us);
	snprintf(id, sizeof(id), "%08" PRIx32, cp->key_id);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "tree_size", (json_int_t)cp->tree_size,
			 "root_hash", root, "origin", cp->origin, "at", at, "key_id", id,
			 "note", cp->note);
}

char *checkpoint_origin(const struct config *cfg)
{
	char host[256] = "localhost";

	if (cfg->server_name && *cfg->server_name)
		return xasprintf("otcm/%s", cfg->server_name);
	if (gethostname(host, sizeof(host) - 1) != 0 || !*host)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* key names may not hold spaces or '+' */
	for (char *p = host; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '+')
			*p = '-';
	return xasprintf("otcm/%s", host);
}

char *checkpoint_key_path(const char *data_dir)
{
	return xasprintf("%s/keys/server.key", data_dir);
}

int checkpoint_key_open(struct crypto_ed25519_key **out, bool *out_created, const char *data_dir,
			bool create)
{
	struct crypto_ed25519_key *key = NULL;
	char *path = checkpoint_key_path(data_dir), *dir = xasprintf("%s/keys", data_dir);
	int rc;

	if (out_created)
		*out_created = false;
	rc = crypto_ed25519_load(out, path);
	if (rc != OTCM_ENOTFOUND || !create)
		goto out;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	if ((rc = crypto_ed25519_generate(&key)))
		goto out;
	rc = crypto_ed25519_save(key, path);
	if (rc == OTCM_ECONFLICT) {
		/* another process created it first: use theirs */
		rc = crypto_ed25519_load(out, path);
		goto out;
	}
	if (rc)
		goto out;
	log_msg(LOG_INFO, "generated the server's signing key '%s'", path);
	if (out_created)
		*out_created = true;
	*out = key;
	key = NULL;
out:
	crypto_ed25519_free(key);
	free(path);
	free(dir);
	return rc;
}

/* Row of `res` (tree_size, root, at_us, origin, key_id, note) as a checkpoint. */
static int row_checkpoint(struct checkpoint **out, const struct db_res *res, size_t i)
{
	struct checkpoint *cp = xcalloc(1, sizeof(*cp));
	unsigned char id[4];

	cp->tree_size = strtoull(db_res_get(res, i, 0), NULL, 10);
	cp->at_us = strtoll(db_res_get(res, i, 2), NULL, 10);
	cp->origin = xstrdup(db_res_get(res, i, 3));
	cp->note = xstrdup(db_res_get(res, i, 5));
	if (crypto_unhex(cp->root, MERKLE_HASH_LEN, db_res_get(res, i, 1)) ||
	    crypto_unhex(id, sizeof(id), db_res_get(res, i, 4))) {
		checkpoint_free(cp);
		return err_set(OTCM_EDB, NULL, "checkpoint row is malformed");
	}
	cp->key_id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
	*out = cp;
	return 0;
}

#define CHECKPOINT_COLS \
	"tree_size, encode(root_hash, 'hex'), (extract(epoch FROM at) * 1000000)::bigint," \
	" origin, encode(key_id, 'hex'), note"

int checkpoint_count(uint64_t *out, struct db_conn *c)
{
	static const char sql[] = "SELECT count(*) FROM audit_checkpoints";
	struct db_res *res = NULL;
	int rc;

	if ((rc = db_exec(&res, c, sql, 0, NULL, false)))
		return rc;
	*out = strtoull(db_res_get(res, 0, 0), NULL, 10);
	db_res_free(res);
	return 0;
}

int checkpoint_get(struct checkpoint **out, struct db_conn *c, uint64_t tree_size)
{
	static const char sql[] =
		"SELECT " CHECKPOINT_COLS " FROM audit_checkpoints"
		" WHERE $1::bigint = 0 OR tree_size = $1::bigint ORDER BY tree_size DESC LIMIT 1";
	struct db_res *res = NULL;
	char size_s[24];
	int rc;

	snprintf(size_s, sizeof(size_s), "%" PRIu64, tree_size);
	{
		const struct db_param params[] = { DB_TEXT(size_s) };

		if ((rc = db_exec(&res, c, sql, 1, params, false)))
			goto out;
	}
	if (db_res_rows(res) == 0) {
		rc = tree_size ? err_set(OTCM_ENOTFOUND, "tree_size", "no checkpoint of size %" PRIu64, tree_size)
			       : err_set(OTCM_ENOTFOUND, NULL, "no checkpoint has been written yet");
		goto out;
	}
	rc = row_checkpoint(out, res, 0);
out:
	db_res_free(res);
	return rc;
}

/* The compact range as stored: its subtree roots, largest first, 32 bytes each. */
static unsigned char *range_bytes(size_t *out_len, const struct merkle_range *r)
{
	unsigned char *b = xmalloc(r->n ? r->n * MERKLE_HASH_LEN : 1);

	for (unsigned i = 0; i < r->n; i++)
		memcpy(b + i * MERKLE_HASH_LEN, r->h[i], MERKLE_HASH_LEN);
	*out_len = r->n * MERKLE_HASH_LEN;
	return b;
}

/* The compact range over `size` leaves from its stored bytes; false when they do not fit. */
static bool range_load(struct merkle_range *out, const unsigned char *data, size_t len, uint64_t size)
{
	unsigned n = 0;

	memset(out, 0, sizeof(*out));
	for (int bit = 63; bit >= 0; bit--) {
		if (!(size >> bit & 1))
			continue;
		if ((size_t)(n + 1) * MERKLE_HASH_LEN > len)
			return false;
		memcpy(out->h[n], data + (size_t)n * MERKLE_HASH_LEN, MERKLE_HASH_LEN);
		out->height[n++] = (unsigned)bit;
	}
	out->n = n;
	out->size = size;
	return (size_t)n * MERKLE_HASH_LEN == len;
}

/* The root over `prefix`'s leaves and then the leaf of event hash `last`. */
static void root_with(merkle_hash out, const struct merkle_range *prefix, const merkle_hash last)
{
	struct merkle_range r = *prefix;
	merkle_hash leaf;

	merkle_leaf_hash(leaf, last, MERKLE_HASH_LEN);
	merkle_range_append(&r, leaf);
	merkle_range_root(out, &r);
}

static void nodes_store(struct db_conn *c, uint64_t size);

/*
 * Sign the checkpoint of events 1..size (their leaves but the last in
 * `prefix`, the last event's hash in `last`) and store it with its compact
 * range, committing c's open transaction; *out is the stored row.
 */
static int sign_store(struct checkpoint **out, struct db_conn *c, const struct crypto_ed25519_key *key,
		      const char *origin, const struct merkle_range *prefix, const merkle_hash last,
		      uint64_t size)
{
	static const char sql_insert[] =
		"INSERT INTO audit_checkpoints (tree_size, root_hash, origin, key_id, note, compact_range)"
		" VALUES ($1, $2::bytea, $3, $4::bytea, $5, $6::bytea) ON CONFLICT (tree_size) DO NOTHING";
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], id[4], *range = NULL;
	char *text = NULL, *note = NULL, size_s[24];
	merkle_hash root;
	size_t range_len = 0;
	uint32_t key_id;
	int rc;

	assert(prefix->size + 1 == size);
	crypto_ed25519_public(pub, key);
	if ((rc = signednote_key_id(&key_id, origin, pub)))
		goto out;
	root_with(root, prefix, last);
	text = signednote_checkpoint_text(origin, size, root);
	if ((rc = signednote_sign(&note, text, origin, key)))
		goto out;
	snprintf(size_s, sizeof(size_s), "%" PRIu64, size);
	id[0] = (unsigned char)(key_id >> 24);
	id[1] = (unsigned char)(key_id >> 16);
	id[2] = (unsigned char)(key_id >> 8);
	id[3] = (unsigned char)key_id;
	range = range_bytes(&range_len, prefix);
	{
		const struct db_param params[] = {
			DB_TEXT(size_s), DB_BYTES(root, sizeof(root)), DB_TEXT(origin),
			DB_BYTES(id, sizeof(id)), DB_TEXT(note), DB_BYTES(range, range_len),
		};

		if ((rc = db_exec(NULL, c, sql_insert, 6, params, false)))
			goto out;
	}
	if ((rc = db_commit(c)))
		goto out;
	nodes_store(c, size);
	/* read it back: a concurrent writer may have stored this size first */
	rc = checkpoint_get(out, c, size);
out:
	free(range);
	free(text);
	free(note);
	return rc;
}

int checkpoint_write(struct checkpoint **out, bool *out_new, struct db_conn *c,
		     const struct crypto_ed25519_key *key, const char *origin)
{
	struct audit_chain chain = { 0 };
	struct checkpoint *last = NULL;
	struct merkle_range range = MERKLE_RANGE_INIT, prefix = MERKLE_RANGE_INIT;
	merkle_hash root;
	int rc;

	assert(out && c && key && origin);
	if ((rc = db_begin_snapshot(c, false)) ||
	    (rc = audit_verify_chain(&chain, c)))
		goto out;
	if (chain.bad_seq) {
		rc = err_set(OTCM_ERULE, NULL, "the audit trail does not verify, nothing signed: %s",
			     chain.problem);
		goto out;
	}
	if (chain.verified == 0) {
		rc = err_set(OTCM_ENOTFOUND, NULL, "the audit trail is empty");
		goto out;
	}
	rc = checkpoint_get(&last, c, 0);
	if (rc && rc != OTCM_ENOTFOUND)
		goto out;
	rc = 0;
	if (last && last->tree_size > chain.verified) {
		rc = err_set(OTCM_ERULE, NULL, "checkpoint %" PRIu64 " covers events that are gone "
			     "(the trail holds %" PRIu64 "), nothing signed", last->tree_size, chain.verified);
		goto out;
	}
	for (uint64_t i = 0; i < chain.verified; i++) {
		merkle_hash leaf;

		if (i + 1 == chain.verified)
			prefix = range;
		merkle_leaf_hash(leaf, chain.leaves[i], MERKLE_HASH_LEN);
		merkle_range_append(&range, leaf);
		if (last && range.size == last->tree_size) {
			merkle_range_root(root, &range);
			if (!crypto_equal(root, last->root, MERKLE_HASH_LEN)) {
				rc = err_set(OTCM_ERULE, NULL, "events 1 to %" PRIu64 " no longer match "
					     "their checkpoint, nothing signed", last->tree_size);
				goto out;
			}
		}
	}
	if (last && last->tree_size == chain.verified) {
		if ((rc = db_rollback(c)))
			goto out;
		*out = last;
		last = NULL;
		if (out_new)
			*out_new = false;
		goto out;
	}
	if ((rc = sign_store(out, c, key, origin, &prefix, chain.leaves[chain.verified - 1],
			     chain.verified)))
		goto out;
	if (out_new)
		*out_new = true;
out:
	if (db_in_transaction(c))
		db_rollback(c);
	audit_chain_release(&chain);
	checkpoint_free(last);
	return rc;
}

static void tail_problem(struct checkpoint_tail *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tail_problem(struct checkpoint_tail *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->problem, sizeof(t->problem), fmt, ap);
	va_end(ap);
}

/* Event `verified + 1`, of hash `h`, joins the tail. */
static void tail_push(struct checkpoint_tail *t, const merkle_hash h)
{
	if (t->verified) {
		merkle_hash leaf;

		merkle_leaf_hash(leaf, t->last, MERKLE_HASH_LEN);
		merkle_range_append(&t->range, leaf);
	}
	memcpy(t->last, h, MERKLE_HASH_LEN);
	t->verified++;
}

/*
 * Why the note of `cp` does not hold (it is not signed by `pub` under its
 * origin's name, or does not say what its row says), or NULL when it holds.
 */
static const char *note_problem(const struct checkpoint *cp, const unsigned char *pub)
{
	struct signednote *note = NULL;
	char *origin = NULL;
	const char *why = NULL;
	uint64_t size = 0;
	merkle_hash root;
	uint32_t id;

	if (signednote_parse(&note, cp->note, strlen(cp->note)))
		why = "its note is malformed";
	else if (signednote_key_id(&id, cp->origin, pub) || signednote_verify(note, cp->origin, pub))
		why = "the note is not signed by the server's key under its origin";
	else if (signednote_checkpoint_parse(&origin, &size, root, note->text) ||
		 strcmp(origin, cp->origin) != 0 || size != cp->tree_size ||
		 !crypto_equal(root, cp->root, MERKLE_HASH_LEN) || id != cp->key_id)
		why = "the row does not say what its signed note says";
	free(origin);
	signednote_free(note);
	return why;
}

int checkpoint_verify_tail(struct checkpoint_tail *out, struct db_conn *c,
			   const unsigned char pub[CRYPTO_ED25519_PUB_LEN])
{
	static const char sql_latest[] =
		"SELECT " CHECKPOINT_COLS ", encode(compact_range, 'hex') FROM audit_checkpoints"
		" ORDER BY tree_size DESC LIMIT 1";
	static const char sql_head[] = "SELECT seq FROM audit_head";
	static const merkle_hash zero = { 0 };
	struct checkpoint_tail t;
	struct audit_chain chain = { 0 };
	struct merkle_range prefix = MERKLE_RANGE_INIT;
	struct db_res *res = NULL;
	unsigned char *range = NULL;
	merkle_hash base, root;
	const char *why;
	int rc;

	assert(out && c && pub);
	memset(&t, 0, sizeof(t));
	if ((rc = db_exec(&res, c, sql_head, 0, NULL, false)))
		goto out;
	t.head_seq = db_res_rows(res) ? strtoll(db_res_get(res, 0, 0), NULL, 10) : 0;
	db_res_free(res);
	res = NULL;
	if ((rc = db_exec(&res, c, sql_latest, 0, NULL, false)))
		goto out;
	if (db_res_rows(res) && (rc = row_checkpoint(&t.latest, res, 0)))
		goto out;
	if (t.latest && (why = note_problem(t.latest, pub))) {
		t.bad_size = t.latest->tree_size;
		tail_problem(&t, "%s", why);
		goto done;
	}
	if (t.latest && db_res_get(res, 0, 6)) {
		const char *hex = db_res_get(res, 0, 6);
		size_t len = strlen(hex) / 2;
		uint64_t size = t.latest->tree_size;

		range = xmalloc(len ? len : 1);
		if (crypto_unhex(range, len, hex) || !range_load(&prefix, range, len, size - 1)) {
			t.bad_size = size;
			tail_problem(&t, "its stored compact range is malformed");
			goto done;
		}
		rc = audit_event_hash(base, c, (int64_t)size);
		if (rc == OTCM_ENOTFOUND) {
			rc = 0;
			t.bad_size = size;
			tail_problem(&t, "it signed events 1 to %" PRIu64 ", but event %" PRIu64 " is gone",
				     size, size);
			goto done;
		}
		if (rc)
			goto out;
		root_with(root, &prefix, base);
		if (!crypto_equal(root, t.latest->root, MERKLE_HASH_LEN)) {
			t.bad_size = size;
			tail_problem(&t, "events 1 to %" PRIu64 " do not have the signed root: some were "
				     "changed, removed, inserted or reordered", size);
			goto done;
		}
		t.trusted = t.verified = size;
		t.range = prefix;
		memcpy(t.last, base, MERKLE_HASH_LEN);
		if ((rc = audit_verify_chain_since(&chain, c, size, base)))
			goto out;
	} else if ((rc = audit_verify_chain_since(&chain, c, 0, zero))) {
		goto out;
	}
	for (uint64_t i = chain.base; i < chain.verified; i++) {
		tail_push(&t, chain.leaves[i - chain.base]);
		if (t.latest && !t.trusted && t.verified == t.latest->tree_size) {
			root_with(root, &t.range, t.last);
			if (!crypto_equal(root, t.latest->root, MERKLE_HASH_LEN)) {
				t.bad_size = t.latest->tree_size;
				tail_problem(&t, "events 1 to %" PRIu64 " do not have the signed root: some "
					     "were changed, removed, inserted or reordered", t.verified);
				goto done;
			}
		}
	}
	t.head_seq = chain.head_seq;
	if (chain.bad_seq) {
		t.bad_seq = chain.bad_seq;
		tail_problem(&t, "%s", chain.problem);
	} else if (t.latest && t.verified < t.latest->tree_size) {
		t.bad_size = t.latest->tree_size;
		tail_problem(&t, "it signed events 1 to %" PRIu64 ", but events %" PRIu64 " to %" PRIu64
			     " are gone", t.latest->tree_size, t.verified + 1, t.latest->tree_size);
	}
done:
	*out = t;
	memset(&t, 0, sizeof(t));
out:
	checkpoint_free(t.latest);
	audit_chain_release(&chain);
	free(range);
	db_res_free(res);
	return rc;
}

void checkpoint_tail_release(struct checkpoint_tail *t)
{
	if (!t)
		return;
	checkpoint_free(t->latest);
	memset(t, 0, sizeof(*t));
}

int checkpoint_cover(struct checkpoint **out, bool *out_new, struct db_conn *c,
		     const struct crypto_ed25519_key *key, const char *origin, uint64_t need)
{
	static const char sql_cover[] =
		"SELECT min(tree_size) FROM audit_checkpoints WHERE tree_size >= $1::bigint";
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	struct checkpoint_tail t = { 0 };
	struct db_res *res = NULL;
	char need_s[24];
	int rc;

	assert(out && c && key && origin);
	if (out_new)
		*out_new = false;
	crypto_ed25519_public(pub, key);
	if ((rc = db_begin_snapshot(c, false)) ||
	    (rc = checkpoint_verify_tail(&t, c, pub)))
		goto out;
	if (t.bad_size) {
		rc = err_set(OTCM_ERULE, NULL, "the audit trail does not verify, nothing signed: "
			     "checkpoint %" PRIu64 ": %s", t.bad_size, t.problem);
		goto out;
	}
	if (t.bad_seq) {
		rc = err_set(OTCM_ERULE, NULL, "the audit trail does not verify, nothing signed: %s",
			     t.problem);
		goto out;
	}
	if (t.verified == 0) {
		rc = err_set(OTCM_ENOTFOUND, NULL, "the audit trail is empty");
		goto out;
	}
	if (need == 0 || need > t.verified)
		need = t.verified;
	snprintf(need_s, sizeof(need_s), "%" PRIu64, need);
	{
		const struct db_param params[] = { DB_TEXT(need_s) };

		if ((rc = db_exec(&res, c, sql_cover, 1, params, false)))
			goto out;
	}
	if (db_res_get(res, 0, 0)) {
		rc = checkpoint_get(out, c, strtoull(db_res_get(res, 0, 0), NULL, 10));
		goto out;
	}
	if ((rc = sign_store(out, c, key, origin, &t.range, t.last, t.verified)))
		goto out;
	if (out_new)
		*out_new = true;
out:
	if (db_in_transaction(c))
		db_rollback(c);
	db_res_free(res);
	checkpoint_tail_release(&t);
	return rc;
}

/* The Merkle leaf hashes of events after+1..n: *out (free()) gets exactly n - after of them. */
static int read_leaves_after(merkle_hash **out, struct db_conn *c, uint64_t after, uint64_t n)
{
	static const char sql[] =
		"SELECT seq, hash FROM audit_events WHERE seq > $1::bigint AND seq <= $2::bigint ORDER BY seq";
	struct db_res *res = NULL;
	merkle_hash *leaves = NULL;
	char after_s[24], n_s[24];
	int rc;

	assert(after <= n);
	snprintf(after_s, sizeof(after_s), "%" PRIu64, after);
	snprintf(n_s, sizeof(n_s), "%" PRIu64, n);
	{
		const struct db_param params[] = { DB_TEXT(after_s), DB_TEXT(n_s) };

		if ((rc = db_exec(&res, c, sql, 2, params, true)))
			goto out;
	}
	if (db_res_rows(res) != n - after) {
		rc = err_set(OTCM_EDB, NULL, "the audit trail holds %zu of events %" PRIu64 " to %" PRIu64
			     ": run 'otcm audit verify'", db_res_rows(res), after + 1, n);
		goto out;
	}
	leaves = xcalloc(n - after ? n - after : 1, sizeof(merkle_hash));
	for (size_t i = 0; i < n - after; i++) {
		if (db_res_len(res, i, 1) != MERKLE_HASH_LEN) {
			rc = err_set(OTCM_EDB, NULL, "event %" PRIu64 " has a malformed hash", after + i + 1);
			goto out;
		}
		merkle_leaf_hash(leaves[i], db_res_get(res, i, 1), MERKLE_HASH_LEN);
	}
	*out = leaves;
	leaves = NULL;
out:
	free(leaves);
	db_res_free(res);
	return rc;
}

/* The Merkle leaf hashes of events 1..n: *out (free()) gets exactly n of them. */
static int read_leaves(merkle_hash **out, struct db_conn *c, uint64_t n)
{
	return read_leaves_after(out, c, 0, n);
}

/*
 * The compact range of all the events checkpoint `cp` signs, from its
 * stored range and the stored hash of its last event, when it has one and
 * the two give its signed root; *out_have false otherwise.
 */
static int signed_range(struct merkle_range *out, bool *out_have, struct db_conn *c,
			const struct checkpoint *cp)
{
	static const char sql[] =
		"SELECT encode(compact_range, 'hex') FROM audit_checkpoints WHERE tree_size = $1::bigint";
	struct db_res *res = NULL;
	unsigned char *range = NULL;
	merkle_hash last, leaf, root;
	char size_s[24];
	size_t len;
	int rc;

	*out_have = false;
	snprintf(size_s, sizeof(size_s), "%" PRIu64, cp->tree_size);
	{
		const struct db_param params[] = { DB_TEXT(size_s) };

		if ((rc = db_exec(&res, c, sql, 1, params, false)))
			goto out;
	}
	if (db_res_rows(res) != 1 || !db_res_get(res, 0, 0))
		goto out;
	len = strlen(db_res_get(res, 0, 0)) / 2;
	range = xmalloc(len ? len : 1);
	if (crypto_unhex(range, len, db_res_get(res, 0, 0)) ||
	    !range_load(out, range, len, cp->tree_size - 1)) {
		err_clear();
		goto out;
	}
	rc = audit_event_hash(last, c, (int64_t)cp->tree_size);
	if (rc == OTCM_ENOTFOUND) {
		rc = 0;
		err_clear();
		goto out;
	}
	if (rc)
		goto out;
	merkle_leaf_hash(leaf, last, MERKLE_HASH_LEN);
	merkle_range_append(out, leaf);
	merkle_range_root(root, out);
	*out_have = crypto_equal(root, cp->root, MERKLE_HASH_LEN);
out:
	free(range);
	db_res_free(res);
	return rc;
}

static json_t *hex_array(const merkle_hash *h, size_t n)
{
	json_t *a = json_array();
	char hex[2 * MERKLE_HASH_LEN + 1];

	for (size_t i = 0; i < n; i++) {
		crypto_hex(hex, h[i], MERKLE_HASH_LEN);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

static size_t uniq(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

static int i64_cmp(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/*
 * The stored rows of events seqs[0..n-1], one query for all: *out (the
 * caller frees it with db_res_free) has one row per distinct event, in seq
 * order; event_canonical() reads one.  OTCM_ENOTFOUND naming "seq" for an
 * event that is not there.
 */
static int event_rows(struct db_res **out, struct db_conn *c, const int64_t *seqs, size_t n)
{
	static const char sql[] =
		"SELECT seq, (extract(epoch FROM at) * 1000000)::bigint, actor_id, actor, role, source,"
		" request_id, action, object_type, object_id, before::text, after::text, reason,"
		" encode(prev_hash, 'hex'), encode(hash, 'hex')"
		" FROM audit_events WHERE seq = ANY($1::bigint[]) ORDER BY seq";
	struct buf list = BUF_INIT;
	struct db_res *res = NULL;
	int64_t *sorted = xcalloc(n ? n : 1, sizeof(int64_t));
	size_t distinct = 0;
	int rc = buf_addch(&list, '{');

	memcpy(sorted, seqs, n * sizeof(int64_t));
	distinct = uniq(sorted, n, sizeof(int64_t), i64_cmp);
	for (size_t i = 0; rc == 0 && i < distinct; i++)
		rc = buf_addf(&list, i ? ",%" PRId64 : "%" PRId64, sorted[i]);
	if (rc || (rc = buf_addch(&list, '}')))
		goto out;
	{
		const struct db_param params[] = { DB_TEXT(buf_cstr(&list)) };

		if ((rc = db_exec(&res, c, sql, 1, params, false)))
			goto out;
	}
	for (size_t i = 0; i < distinct; i++) {
		if (i >= db_res_rows(res) || strtoll(db_res_get(res, i, 0), NULL, 10) != sorted[i]) {
			rc = err_set(OTCM_ENOTFOUND, "seq", "event %" PRId64 " not found", sorted[i]);
			goto out;
		}
	}
	*out = res;
	res = NULL;
out:
	free(sorted);
	buf_release(&list);
	db_res_free(res);
	return rc;
}

/* The canonical text of event seq and its stored hashes (hex), from its row in `rows` (event_rows()). */
static int event_canonical(json_t *into, const struct db_res *rows, int64_t seq)
{
	struct buf canon = BUF_INIT;
	struct audit_stored st;
	size_t lo = 0, hi = db_res_rows(rows), i;
	int rc;

	/* rows are in seq order: find seq's */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strtoll(db_res_get(rows, mid, 0), NULL, 10) < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	assert(i < db_res_rows(rows) && strtoll(db_res_get(rows, i, 0), NULL, 10) == seq);
	st = (struct audit_stored){
		.seq = seq,
		.at_us = strtoll(db_res_get(rows, i, 1), NULL, 10),
		.has_actor_id = db_res_get(rows, i, 2) != NULL,
		.actor_id = db_res_get(rows, i, 2) ? strtoll(db_res_get(rows, i, 2), NULL, 10) : 0,
		.actor = db_res_get(rows, i, 3),
		.role = db_res_get(rows, i, 4),
		.source = db_res_get(rows, i, 5),
		.request_id = db_res_get(rows, i, 6),
		.action = db_res_get(rows, i, 7),
		.object_type = db_res_get(rows, i, 8),
		.object_id = db_res_get(rows, i, 9),
		.before = db_res_get(rows, i, 10),
		.after = db_res_get(rows, i, 11),
		.reason = db_res_get(rows, i, 12),
	};
	if ((rc = audit_canonical(&canon, &st)))
		goto out;
	json_object_set_new(into, "canonical", json_stringn(canon.data, canon.len));
	json_object_set_new(into, "prev_hash", json_string(db_res_get(rows, i, 13)));
	json_object_set_new(into, "event_hash", json_string(db_res_get(rows, i, 14)));
out:
	buf_release(&canon);
	return rc;
}

/* ---- stored subtrees: inclusion proofs in O(log n) ---- */

/* The smallest stored subtree: 2^NODE_LEVEL events (schema/0080_merkle_nodes.sql). */
#define NODE_LEVEL 8
#define CHUNK ((uint64_t)1 << NODE_LEVEL)
/* At most this many chunks' events (a million) are read to store rows at once. */
#define FILL_MAX_CHUNKS 4096

/* Store nodes[0..n-1] as the subtrees idx first..first+n-1 of `level`. */
static int nodes_put(struct db_conn *c, unsigned level, uint64_t first, const merkle_hash *nodes, uint64_t n)
{
	static const char sql[] =
		"INSERT INTO audit_merkle_nodes (level, idx, hash)"
		" SELECT $1::smallint, $2::bigint + i, substring($3::bytea FROM (i * 32 + 1)::int FOR 32)"
		" FROM generate_series(0, $4::bigint - 1) AS i ON CONFLICT (level, idx) DO NOTHING";
	char level_s[8], first_s[24], n_s[24];
	const struct db_param params[] = {
		DB_TEXT(level_s), DB_TEXT(first_s), DB_BYTES(nodes, n * MERKLE_HASH_LEN), DB_TEXT(n_s),
	};

	snprintf(level_s, sizeof(level_s), "%u", level);
	snprintf(first_s, sizeof(first_s), "%" PRIu64, first);
	snprintf(n_s, sizeof(n_s), "%" PRIu64, n);
	return db_exec(NULL, c, sql, 4, params, false);
}

/* The stored subtree (level, idx); OTCM_ENOTFOUND when it is not stored. */
static int node_get(merkle_hash out, struct db_conn *c, unsigned level, uint64_t idx)
{
	static const char sql[] =
		"SELECT hash FROM audit_merkle_nodes WHERE level = $1::smallint AND idx = $2::bigint";
	struct db_res *res = NULL;
	char level_s[8], idx_s[24];
	const struct db_param params[] = { DB_TEXT(level_s), DB_TEXT(idx_s) };
	int rc;

	snprintf(level_s, sizeof(level_s), "%u", level);
	snprintf(idx_s, sizeof(idx_s), "%" PRIu64, idx);
	if ((rc = db_exec(&res, c, sql, 2, params, true)))
		goto out;
	if (db_res_rows(res) != 1 || db_res_len(res, 0, 0) != MERKLE_HASH_LEN) {
		rc = err_set(OTCM_ENOTFOUND, NULL, "Merkle subtree %u/%" PRIu64 " is not stored", level, idx);
		goto out;
	}
	memcpy(out, db_res_get(res, 0, 0), MERKLE_HASH_LEN);
out:
	db_res_free(res);
	return rc;
}

/*
 * Store every complete subtree of NODE_LEVEL and up inside events 1..size
 * that is not stored yet (those of the first FILL_MAX_CHUNKS chunks not
 * stored yet, when there are more), in c's open transaction.  The stored ones are always every complete subtree of a
 * prefix, so only the events after the last stored chunk are read, and at
 * most one stored node per level.
 */
static int nodes_fill(struct db_conn *c, uint64_t size)
{
	static const char sql_next[] =
		"SELECT coalesce(max(idx) + 1, 0) FROM audit_merkle_nodes WHERE level = 8";
	struct db_res *res = NULL;
	merkle_hash *leaves = NULL, *cur = NULL, *next = NULL;
	uint64_t first, count;
	unsigned level;
	int rc;

	if ((rc = db_exec(&res, c, sql_next, 0, NULL, false)))
		goto out;
	first = strtoull(db_res_get(res, 0, 0), NULL, 10);
	count = size >> NODE_LEVEL;
	if (first >= count)
		goto out;
	/* a long trail without rows (signed before 0080) catches up over several checkpoints */
	if (count - first > FILL_MAX_CHUNKS)
		count = first + FILL_MAX_CHUNKS;
	size = count * CHUNK;
	if ((rc = read_leaves_after(&leaves, c, first * CHUNK, count * CHUNK)))
		goto out;
	cur = xcalloc(count - first, sizeof(merkle_hash));
	for (uint64_t j = first; j < count; j++)
		merkle_root(cur[j - first], leaves + (j - first) * CHUNK, CHUNK);
	if ((rc = nodes_put(c, NODE_LEVEL, first, cur, count - first)))
		goto out;
	/* a parent is new when its right child is: its left one is new too, or the last stored */
	for (level = NODE_LEVEL + 1; level < 64 && (first >> 1) < (size >> level); level++) {
		uint64_t nfirst = first >> 1, ncount = size >> level;

		next = xcalloc(ncount - nfirst, sizeof(merkle_hash));
		for (uint64_t j = nfirst; j < ncount; j++) {
			merkle_hash left;

			if (2 * j >= first)
				memcpy(left, cur[2 * j - first], MERKLE_HASH_LEN);
			else if ((rc = node_get(left, c, level - 1, 2 * j)))
				goto out;
			merkle_node_hash(next[j - nfirst], left, cur[2 * j + 1 - first]);
		}
		if ((rc = nodes_put(c, level, nfirst, next, ncount - nfirst)))
			goto out;
		free(cur);
		cur = next;
		next = NULL;
		first = nfirst;
		count = ncount;
	}
out:
	free(next);
	free(cur);
	free(leaves);
	db_res_free(res);
	return rc;
}

/*
 * nodes_fill() in a transaction of its own on the idle connection c, after
 * the checkpoint of `size` is committed.  READ COMMITTED, so that signers
 * racing each other (the writer thread and a bundle's checkpoint) only wait
 * for each other's rows instead of failing to serialize.  The rows are a
 * derived index the proofs can do without (they read every event hash
 * then), so a failure is logged and the checkpoint stands; the next one
 * stores what is missing.  The events they are made of are append-only,
 * and a row made of anything else only yields proofs that do not verify.
 */
static void nodes_store(struct db_conn *c, uint64_t size)
{
	int rc;

	if ((rc = db_begin(c)) == 0 && (rc = nodes_fill(c, size)) == 0)
		rc = db_commit(c);
	if (rc) {
		log_msg(LOG_WARN, "cannot store the Merkle subtrees of checkpoint %" PRIu64 ": %s", size,
			err_message());
		err_clear();
	}
	if (db_in_transaction(c))
		db_rollback(c);
}

/* A subtree a proof needs: stored (level >= NODE_LEVEL) or within a chunk. */
struct node_want {
	uint64_t idx;
	unsigned level;
	merkle_hash h;
};

/*
 * The subtrees of a set of proofs.  Planning, the callback records what the
 * proofs need (and answers zeros: a proof's shape depends only on its
 * index and size); then the stored nodes and the chunks' event hashes are
 * read once, and answering, the callback looks them up.
 */
struct prover {
	bool planning;
	uint64_t tree_size;
	struct node_want *nodes;     /* answering: sorted, unique, with their hashes */
	size_t nnodes, capnodes;
	uint64_t *chunks;            /* answering: sorted, unique */
	size_t nchunks, capchunks;
	merkle_hash *leaves;         /* CHUNK leaf hashes per chunk, in chunks' order */
};

static int node_cmp(const void *a, const void *b)
{
	const struct node_want *x = a, *y = b;

	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int u64_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int prover_subtree(merkle_hash out, unsigned level, uint64_t idx, void *ctx)
{
	struct prover *p = ctx;
	uint64_t lo = idx << level, chunk = lo >> NODE_LEVEL;

	if (p->planning) {
		memset(out, 0, MERKLE_HASH_LEN);
		if (level >= NODE_LEVEL) {
			if (p->nnodes == p->capnodes) {
				p->capnodes = p->capnodes ? 2 * p->capnodes : 64;
				p->nodes = xrealloc(p->nodes, p->capnodes * sizeof(*p->nodes));
			}
			p->nodes[p->nnodes++] = (struct node_want){ .idx = idx, .level = level };
		} else {
			if (p->nchunks == p->capchunks) {
				p->capchunks = p->capchunks ? 2 * p->capchunks : 64;
				p->chunks = xrealloc(p->chunks, p->capchunks * sizeof(*p->chunks));
			}
			p->chunks[p->nchunks++] = chunk;
		}
		return 0;
	}
	if (level >= NODE_LEVEL) {
		struct node_want key = { .idx = idx, .level = level }, *n;

		n = bsearch(&key, p->nodes, p->nnodes, sizeof(*p->nodes), node_cmp);
		assert(n);
		memcpy(out, n->h, MERKLE_HASH_LEN);
	} else {
		uint64_t *at = bsearch(&chunk, p->chunks, p->nchunks, sizeof(*p->chunks), u64_cmp);

		assert(at);
		merkle_root(out, p->leaves + (size_t)(at - p->chunks) * CHUNK + (lo - chunk * CHUNK),
			    UINT64_C(1) << level);
	}
	return 0;
}

static void prover_release(struct prover *p)
{
	free(p->nodes);
	free(p->chunks);
	free(p->leaves);
}

/* Sort and drop duplicates: n elements of `size` bytes; the new count. */
static size_t uniq(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	size_t k = 0;

	if (n == 0)
		return 0;
	qsort(b, n, size, cmp);
	for (size_t i = 1; i < n; i++)
		if (cmp(b + k * size, b + i * size) != 0)
			memmove(b + ++k * size, b + i * size, size);
	return k + 1;
}

/* "{a,b,...}" of the values f(i) for i < n: a PostgreSQL array literal. */
static int array_text(struct buf *out, size_t n, uint64_t (*f)(const struct prover *, size_t),
		      const struct prover *p)
{
	int rc = buf_addch(out, '{');

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = buf_addf(out, i ? ",%" PRIu64 : "%" PRIu64, f(p, i));
	if (rc == 0)
		rc = buf_addch(out, '}');
	return rc;
}

static uint64_t node_level_at(const struct prover *p, size_t i) { return p->nodes[i].level; }
static uint64_t node_idx_at(const struct prover *p, size_t i) { return p->nodes[i].idx; }
static uint64_t chunk_at(const struct prover *p, size_t i) { return p->chunks[i]; }

/*
 * Read what planning recorded: the stored nodes and the chunks' event
 * hashes.  *out_have false (nothing read) when a node is not stored.
 */
static int prover_load(bool *out_have, struct prover *p, struct db_conn *c)
{
	static const char sql_nodes[] =
		"SELECT n.level::text, n.idx::text, n.hash FROM audit_merkle_nodes n"
		" JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx";
	/* 256 = CHUNK */
	static const char sql_chunks[] =
		"SELECT e.seq::text, e.hash FROM unnest($1::bigint[]) AS w(chunk)"
		" JOIN audit_events e ON e.seq > w.chunk * 256 AND e.seq <= least(w.chunk * 256 + 256, $2::bigint)";
	struct db_res *res = NULL;
	struct buf a = BUF_INIT, b = BUF_INIT;
	char size_s[24];
	size_t want = 0;
	int rc;

	*out_have = false;
	p->nnodes = uniq(p->nodes, p->nnodes, sizeof(*p->nodes), node_cmp);
	p->nchunks = uniq(p->chunks, p->nchunks, sizeof(*p->chunks), u64_cmp);
	if ((rc = array_text(&a, p->nnodes, node_level_at, p)) || (rc = array_text(&b, p->nnodes, node_idx_at, p)))
		goto out;
	{
		const struct db_param params[] = { DB_TEXT(buf_cstr(&a)), DB_TEXT(buf_cstr(&b)) };

		if ((rc = db_exec(&res, c, sql_nodes, 2, params, true)))
			goto out;
	}
	if (db_res_rows(res) != p->nnodes)
		goto out;
	for (size_t i = 0; i < db_res_rows(res); i++) {
		struct node_want key = {
			.level = (unsigned)strtoul(db_res_get(res, i, 0), NULL, 10),
			.idx = strtoull(db_res_get(res, i, 1), NULL, 10),
		}, *n = bsearch(&key, p->nodes, p->nnodes, sizeof(*p->nodes), node_cmp);

		if (!n || db_res_len(res, i, 2) != MERKLE_HASH_LEN) {
			rc = err_set(OTCM_EDB, NULL, "Merkle subtree %u/%" PRIu64 " is malformed", key.level, key.idx);
			goto out;
		}
		memcpy(n->h, db_res_get(res, i, 2), MERKLE_HASH_LEN);
	}
	db_res_free(res);
	res = NULL;

	buf_reset(&a);
	if ((rc = array_text(&a, p->nchunks, chunk_at, p)))
		goto out;
	snprintf(size_s, sizeof(size_s), "%" PRIu64, p->tree_size);
	{
		const struct db_param params[] = { DB_TEXT(buf_cstr(&a)), DB_TEXT(size_s) };

		if ((rc = db_exec(&res, c, sql_chunks, 2, params, true)))
			goto out;
	}
	p->leaves = xcalloc(p->nchunks ? p->nchunks * CHUNK : 1, sizeof(merkle_hash));
	for (size_t i = 0; i < p->nchunks; i++) {
		uint64_t end = (p->chunks[i] + 1) * CHUNK;

		want += (end < p->tree_size ? end : p->tree_size) - p->chunks[i] * CHUNK;
	}
	if (db_res_rows(res) != want) {
		rc = err_set(OTCM_EDB, NULL, "the audit trail holds %zu of the %zu events a proof needs: "
			     "run 'otcm audit verify'", db_res_rows(res), want);
		goto out;
	}
	for (size_t i = 0; i < db_res_rows(res); i++) {
		uint64_t at = strtoull(db_res_get(res, i, 0), NULL, 10) - 1, chunk = at / CHUNK;
		uint64_t *k = bsearch(&chunk, p->chunks, p->nchunks, sizeof(*p->chunks), u64_cmp);

		if (!k || db_res_len(res, i, 1) != MERKLE_HASH_LEN) {
			rc = err_set(OTCM_EDB, NULL, "event %" PRIu64 " has a malformed hash", at + 1);
			goto out;
		}
		merkle_leaf_hash(p->leaves[(size_t)(k - p->chunks) * CHUNK + at % CHUNK], db_res_get(res, i, 1),
				 MERKLE_HASH_LEN);
	}
	*out_have = true;
out:
	buf_release(&a);
	buf_release(&b);
	db_res_free(res);
	return rc;
}

/*
 * The inclusion proofs of events seqs[0..n-1] in the tree of tree_size, one
 * after the other: *out (free()) gets them all, proof i (*out_lens)[i]
 * hashes long (free() the lengths too).
 */
static int prove_all(merkle_hash **out, size_t **out_lens, struct db_conn *c, const int64_t *seqs, size_t n,
		     uint64_t tree_size)
{
	struct prover p = { .planning = true, .tree_size = tree_size };
	merkle_hash *all = NULL, *leaves = NULL, *proof = NULL;
	size_t *lens = xcalloc(n ? n : 1, sizeof(size_t)), total = 0, cap = 0;
	bool have = false;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (seqs[i] < 1 || (uint64_t)seqs[i] > tree_size) {
			rc = err_set(OTCM_EINVAL, "seq", "event %" PRId64 " is not in the checkpoint of size %"
				     PRIu64, seqs[i], tree_size);
			goto out;
		}
		if ((rc = merkle_inclusion_proof_by(&proof, &lens[i], tree_size, (uint64_t)seqs[i] - 1,
						    prover_subtree, &p)))
			goto out;
		free(proof);
		proof = NULL;
	}
	/* when the chunks to read come near the whole trail, read the whole trail */
	p.nchunks = uniq(p.chunks, p.nchunks, sizeof(*p.chunks), u64_cmp);
	if (p.nchunks * CHUNK * 2 < tree_size && (rc = prover_load(&have, &p, c)))
		goto out;
	if (!have && (rc = read_leaves(&leaves, c, tree_size)))
		goto out;
	p.planning = false;
	for (size_t i = 0; i < n; i++) {
		if (have)
			rc = merkle_inclusion_proof_by(&proof, &lens[i], tree_size, (uint64_t)seqs[i] - 1,
						       prover_subtree, &p);
		else
			rc = merkle_inclusion_proof(&proof, &lens[i], leaves, tree_size, (uint64_t)seqs[i] - 1);
		if (rc)
			goto out;
		if (total + lens[i] > cap) {
			cap = 2 * (total + lens[i]);
			all = xrealloc(all, cap * sizeof(merkle_hash));
		}
		memcpy(all[total], proof, lens[i] * sizeof(merkle_hash));
		total += lens[i];
		free(proof);
		proof = NULL;
	}
	if (!all)
		all = xcalloc(1, sizeof(merkle_hash));
	*out = all;
	all = NULL;
	*out_lens = lens;
	lens = NULL;
out:
	free(proof);
	free(all);
	free(lens);
	free(leaves);
	prover_release(&p);
	return rc;
}

/* {seq, leaf_index, tree_size, event_hash, prev_hash, canonical, proof} of event seq. */
static int inclusion_of(json_t **out, const struct db_res *rows, const merkle_hash *proof, size_t plen,
			uint64_t tree_size, int64_t seq)
{
	json_t *j = NULL;
	int rc;

	j = json_pack("{s:I, s:I, s:I}", "seq", (json_int_t)seq, "leaf_index", (json_int_t)(seq - 1),
		      "tree_size", (json_int_t)tree_size);
	if ((rc = event_canonical(j, rows, seq)))
		goto out;
	json_object_set_new(j, "proof", hex_array(proof, plen));
	*out = j;
	j = NULL;
out:
	json_decref(j);
	return rc;
}

int checkpoint_inclusion(json_t **out, struct db_conn *c, int64_t seq, uint64_t tree_size)
{
	struct checkpoint *cp = NULL;
	json_t *list = NULL, *j;
	int rc;

	if ((rc = checkpoint_get(&cp, c, tree_size)))
		goto out;
	if ((rc = checkpoint_inclusions(&list, c, &seq, 1, cp->tree_size)))
		goto out;
	j = json_array_get(list, 0);
	json_object_set_new(j, "checkpoint", checkpoint_json(cp));
	*out = json_incref(j);
out:
	json_decref(list);
	checkpoint_free(cp);
	return rc;
}

int checkpoint_inclusions(json_t **out, struct db_conn *c, const int64_t *seqs, size_t n,
			  uint64_t tree_size)
{
	merkle_hash *proofs = NULL;
	size_t *lens = NULL, at = 0;
	struct db_res *rows = NULL;
	json_t *list = json_array(), *j = NULL;
	int rc;

	assert(tree_size > 0);
	if ((rc = prove_all(&proofs, &lens, c, seqs, n, tree_size)) || (rc = event_rows(&rows, c, seqs, n)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((rc = inclusion_of(&j, rows, proofs + at, lens[i], tree_size, seqs[i])))
			goto out;
		at += lens[i];
		json_array_append_new(list, j);
	}
	*out = list;
	list = NULL;
out:
	json_decref(list);
	db_res_free(rows);
	free(proofs);
	free(lens);
	return rc;
}

int checkpoint_consistency(json_t **out, struct db_conn *c, uint64_t first, uint64_t second)
{
	struct checkpoint *a = NULL, *b = NULL;
	merkle_hash *leaves = NULL, *proof = NULL;
	size_t plen = 0;
	int rc;

	if (first == 0 || second == 0 || first > second) {
		rc = err_set(OTCM_EINVAL, "first", "need two checkpoint sizes with 0 < first <= second");
		goto out;
	}
	if ((rc = checkpoint_get(&a, c, first)) || (rc = checkpoint_get(&b, c, second)))
		goto out;
	/*
	 * A tree is consistent with itself by an empty proof: nothing to read.
	 * Otherwise, from the first checkpoint's compact range only the events
	 * between the two are read; without one, every event up to the second.
	 */
	if (first < second) {
		struct merkle_range left;
		bool have = false;

		if ((rc = signed_range(&left, &have, c, a)))
			goto out;
		if (have)
			rc = read_leaves_after(&leaves, c, first, second);
		else
			rc = read_leaves(&leaves, c, second);
		if (rc)
			goto out;
		if (have)
			rc = merkle_consistency_proof_from(&proof, &plen, &left, leaves, second);
		else
			rc = merkle_consistency_proof(&proof, &plen, leaves, second, first);
		if (rc)
			goto out;
	}
	*out = json_pack("{s:I, s:I, s:o, s:o, s:o}", "first", (json_int_t)first,
			 "second", (json_int_t)second, "proof", hex_array(proof, plen),
			 "first_checkpoint", checkpoint_json(a), "second_checkpoint", checkpoint_json(b));
out:
	free(leaves);
	free(proof);
	checkpoint_free(a);
	checkpoint_free(b);
	return rc;
}

static void check_problem(struct checkpoint_check *ck, uint64_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check_problem(struct checkpoint_check *ck, uint64_t size, const char *fmt, ...)
{
	va_list ap;

	ck->bad_size = size;
	va_start(ap, fmt);
	vsnprintf(ck->problem, sizeof(ck->problem), fmt, ap);
	va_end(ap);
}

int checkpoint_verify_all(struct checkpoint_check *out, struct db_conn *c,
			  const struct audit_chain *chain,
			  const unsigned char pub[CRYPTO_ED25519_PUB_LEN])
{
	static const char sql[] = "SELECT " CHECKPOINT_COLS " FROM audit_checkpoints ORDER BY tree_size";
	struct checkpoint_check ck = { 0 };
	struct merkle_range range = MERKLE_RANGE_INIT;
	struct db_res *res = NULL;
	int rc;

	if ((rc = db_exec(&res, c, sql, 0, NULL, false)))
		goto out;
	for (size_t i = 0; i < db_res_rows(res) && ck.bad_size == 0; i++) {
		struct checkpoint *cp = NULL;
		struct signednote *note = NULL;
		char *origin = NULL;
		uint64_t size = 0;
		merkle_hash root, computed;
		uint32_t id;

		if ((rc = row_checkpoint(&cp, res, i)))
			goto out;
		ck.latest_size = cp->tree_size;
		if (signednote_parse(&note, cp->note, strlen(cp->note))) {
			check_problem(&ck, cp->tree_size, "checkpoint %" PRIu64 ": its note is malformed: %s",
				      cp->tree_size, err_message());
		} else if (signednote_key_id(&id, cp->origin, pub) ||
			   signednote_verify(note, cp->origin, pub)) {
			check_problem(&ck, cp->tree_size, "checkpoint %" PRIu64 ": the note is not signed "
				      "by the server's key under '%s'", cp->tree_size, cp->origin);
		} else if (signednote_checkpoint_parse(&origin, &size, root, note->text) ||
			   strcmp(origin, cp->origin) != 0 || size != cp->tree_size ||
			   !crypto_equal(root, cp->root, MERKLE_HASH_LEN) || id != cp->key_id) {
			check_problem(&ck, cp->tree_size, "checkpoint %" PRIu64 ": the row does not say "
				      "what its signed note says", cp->tree_size);
		} else if (size > chain->verified) {
			if (chain->bad_seq && (uint64_t)chain->bad_seq <= size)
				check_problem(&ck, size, "checkpoint %" PRIu64 " signed events 1 to %" PRIu64
					      ", but event %" PRId64 " no longer verifies", size, size,
					      chain->bad_seq);
			else
				check_problem(&ck, size, "checkpoint %" PRIu64 " signed events 1 to %" PRIu64
					      ", but events %" PRIu64 " to %" PRIu64 " are gone", size, size,
					      chain->verified + 1, size);
		} else {
			while (range.size < size) {
				merkle_hash leaf;

				merkle_leaf_hash(leaf, chain->leaves[range.size], MERKLE_HASH_LEN);
				merkle_range_append(&range, leaf);
			}
			merkle_range_root(computed, &range);
			if (!crypto_equal(computed, root, MERKLE_HASH_LEN))
				check_problem(&ck, size, "checkpoint %" PRIu64 ": events 1 to %" PRIu64
					      " do not have the signed root: some were changed, removed, "
					      "inserted or reordered", size, size);
			else
				ck.checked++;
		}
		free(origin);
		signednote_free(note);
		checkpoint_free(cp);
	}
	*out = ck;
out:
	db_res_free(res);
	return rc;
}

/* ---- the writer thread ------------------------------------------------ */

struct checkpoint_writer {
	struct worker *worker;   /* core/worker.h: the loop */
	struct db_pool *pool;
	const struct crypto_ed25519_key *key;
	const char *origin;
	unsigned every_events, every_minutes;
	struct leader *leader;   /* only the leading node signs (storage/leader.h) */
};

/* Seconds between looks at the trail. */
#define WRITER_TICK 2

/* Whether a checkpoint is due: new events past the count, or old enough. */
static int writer_due(bool *out, struct checkpoint_writer *w, struct db_conn *c)
{
	static const char sql[] =
		"SELECT h.seq, coalesce(max(k.tree_size), 0),"
		" coalesce(extract(epoch FROM now() - max(k.at)), 1e12)::bigint"
		" FROM audit_head h LEFT JOIN audit_checkpoints k ON true GROUP BY h.seq";
	struct db_res *res = NULL;
	int64_t head, last, age;
	int rc;

	*out = false;
	if ((rc = db_exec(&res, c, sql, 0, NULL, false)))
		return rc;
	if (db_res_rows(res) == 1) {
		head = strtoll(db_res_get(res, 0, 0), NULL, 10);
		last = strtoll(db_res_get(res, 0, 1), NULL, 10);
		age = strtoll(db_res_get(res, 0, 2), NULL, 10);
		*out = head > last &&
		       ((w->every_events && head - last >= (int64_t)w->every_events) ||
			(w->every_minutes && age >= (int64_t)w->every_minutes * 60));
	}
	db_res_free(res);
	return 0;
}

/* One look at the trail: sign a checkpoint when one is due; look again in WRITER_TICK seconds. */
static unsigned writer_step(void *arg)
{
	struct checkpoint_writer *w = arg;
	struct db_conn *c = NULL;
	struct checkpoint *cp = NULL;
	bool due = false, made = false;

	if (leader_hold(w->leader) && db_acquire(&c, w->pool) == 0 &&
	    writer_due(&due, w, c) == 0 && due) {
		if (checkpoint_cover(&cp, &made, c, w->key, w->origin, 0))
			log_msg(LOG_ERROR, "cannot write an audit checkpoint: %s", err_message());
		else if (made)
			log_msg(LOG_INFO, "signed audit checkpoint %" PRIu64, cp->tree_size);
	}
	checkpoint_free(cp);
	db_release(c);
	return WRITER_TICK * 1000;
}

int checkpoint_writer_start(struct checkpoint_writer **out, struct db_pool *pool,
			    const struct crypto_ed25519_key *key, const char *origin,
			    unsigned every_events, unsigned every_minutes)
{
	struct checkpoint_writer *w = xcalloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	w->pool = pool;
	w->key = key;
	w->origin = origin;
	w->every_events = every_events;
	w->every_minutes = every_minutes;
	leader_new(&w->leader, pool);
	if ((rc = worker_start(&w->worker, writer_step, w, "the checkpoint writer"))) {
		leader_free(w->leader);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void checkpoint_writer_stop(struct checkpoint_writer *w)
{
	if (!w)
		return;
	worker_stop(w->worker);
	leader_free(w->leader);
	free(w);
}
