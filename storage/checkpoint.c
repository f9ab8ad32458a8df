/*
 * storage/checkpoint.c - signing, storing, proving and checking audit
 * checkpoints, and the thread that writes them; see checkpoint.h.
 *
 * Proofs and roots are computed from all event hashes up to the tree size,
 * read in one query: O(n) per request, fine for millions of events; a
 * stored compact range would make it O(log n) when that stops being so.
 */
#include "storage/checkpoint.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/signednote.h"
#include "core/timeutil.h"
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

int checkpoint_write(struct checkpoint **out, bool *out_new, struct db_conn *c,
		     const struct crypto_ed25519_key *key, const char *origin)
{
	static const char sql_rr[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";
	static const char sql_insert[] =
		"INSERT INTO audit_checkpoints (tree_size, root_hash, origin, key_id, note)"
		" VALUES ($1, $2::bytea, $3, $4::bytea, $5) ON CONFLICT (tree_size) DO NOTHING";
	struct audit_chain chain = { 0 };
	struct checkpoint *last = NULL, *cp = NULL;
	struct merkle_range range = MERKLE_RANGE_INIT;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], id[4];
	merkle_hash root;
	char *text = NULL, *note = NULL, size_s[24];
	uint32_t key_id;
	int rc;

	assert(out && c && key && origin);
	crypto_ed25519_public(pub, key);
	if ((rc = signednote_key_id(&key_id, origin, pub)))
		return rc;
	if ((rc = db_begin(c)) || (rc = db_exec(NULL, c, sql_rr, 0, NULL, false)) ||
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
	merkle_range_root(root, &range);
	text = signednote_checkpoint_text(origin, chain.verified, root);
	if ((rc = signednote_sign(&note, text, origin, key)))
		goto out;
	snprintf(size_s, sizeof(size_s), "%" PRIu64, chain.verified);
	id[0] = (unsigned char)(key_id >> 24);
	id[1] = (unsigned char)(key_id >> 16);
	id[2] = (unsigned char)(key_id >> 8);
	id[3] = (unsigned char)key_id;
	{
		const struct db_param params[] = {
			DB_TEXT(size_s), DB_BYTES(root, sizeof(root)), DB_TEXT(origin),
			DB_BYTES(id, sizeof(id)), DB_TEXT(note),
		};

		if ((rc = db_exec(NULL, c, sql_insert, 5, params, false)))
			goto out;
	}
	if ((rc = db_commit(c)))
		goto out;
	/* read it back: a concurrent writer may have stored this size first */
	if ((rc = checkpoint_get(&cp, c, chain.verified)))
		goto out;
	*out = cp;
	cp = NULL;
	if (out_new)
		*out_new = true;
out:
	if (db_in_transaction(c))
		db_rollback(c);
	audit_chain_release(&chain);
	checkpoint_free(last);
	checkpoint_free(cp);
	free(text);
	free(note);
	return rc;
}

/* The Merkle leaf hashes of events 1..n: *out (free()) gets exactly n of them. */
static int read_leaves(merkle_hash **out, struct db_conn *c, uint64_t n)
{
	static const char sql[] =
		"SELECT seq, hash FROM audit_events WHERE seq <= $1::bigint ORDER BY seq";
	struct db_res *res = NULL;
	merkle_hash *leaves = NULL;
	char n_s[24];
	int rc;

	snprintf(n_s, sizeof(n_s), "%" PRIu64, n);
	{
		const struct db_param params[] = { DB_TEXT(n_s) };

		if ((rc = db_exec(&res, c, sql, 1, params, true)))
			goto out;
	}
	if (db_res_rows(res) != n) {
		rc = err_set(OTCM_EDB, NULL, "the audit trail holds %zu of events 1 to %" PRIu64
			     ": run 'otcm audit verify'", db_res_rows(res), n);
		goto out;
	}
	leaves = xcalloc(n ? n : 1, sizeof(merkle_hash));
	for (size_t i = 0; i < n; i++) {
		if (db_res_len(res, i, 1) != MERKLE_HASH_LEN) {
			rc = err_set(OTCM_EDB, NULL, "event %zu has a malformed hash", i + 1);
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

/* The canonical text of event seq and its stored hashes (hex). */
static int event_canonical(json_t *into, struct db_conn *c, int64_t seq)
{
	static const char sql[] =
		"SELECT seq, (extract(epoch FROM at) * 1000000)::bigint, actor_id, actor, role, source,"
		" request_id, action, object_type, object_id, before::text, after::text, reason,"
		" encode(prev_hash, 'hex'), encode(hash, 'hex')"
		" FROM audit_events WHERE seq = $1::bigint";
	struct db_res *res = NULL;
	struct buf canon = BUF_INIT;
	struct audit_stored st;
	char seq_s[24];
	int rc;

	snprintf(seq_s, sizeof(seq_s), "%" PRId64, seq);
	{
		const struct db_param params[] = { DB_TEXT(seq_s) };

		if ((rc = db_exec(&res, c, sql, 1, params, false)))
			goto out;
	}
	if (db_res_rows(res) != 1) {
		rc = err_set(OTCM_ENOTFOUND, "seq", "event %" PRId64 " not found", seq);
		goto out;
	}
	st = (struct audit_stored){
		.seq = seq,
		.at_us = strtoll(db_res_get(res, 0, 1), NULL, 10),
		.has_actor_id = db_res_get(res, 0, 2) != NULL,
		.actor_id = db_res_get(res, 0, 2) ? strtoll(db_res_get(res, 0, 2), NULL, 10) : 0,
		.actor = db_res_get(res, 0, 3),
		.role = db_res_get(res, 0, 4),
		.source = db_res_get(res, 0, 5),
		.request_id = db_res_get(res, 0, 6),
		.action = db_res_get(res, 0, 7),
		.object_type = db_res_get(res, 0, 8),
		.object_id = db_res_get(res, 0, 9),
		.before = db_res_get(res, 0, 10),
		.after = db_res_get(res, 0, 11),
		.reason = db_res_get(res, 0, 12),
	};
	if ((rc = audit_canonical(&canon, &st)))
		goto out;
	json_object_set_new(into, "canonical", json_stringn(canon.data, canon.len));
	json_object_set_new(into, "prev_hash", json_string(db_res_get(res, 0, 13)));
	json_object_set_new(into, "event_hash", json_string(db_res_get(res, 0, 14)));
out:
	buf_release(&canon);
	db_res_free(res);
	return rc;
}

int checkpoint_inclusion(json_t **out, struct db_conn *c, int64_t seq, uint64_t tree_size)
{
	struct checkpoint *cp = NULL;
	merkle_hash *leaves = NULL, *proof = NULL;
	size_t plen = 0;
	json_t *j = NULL;
	int rc;

	if ((rc = checkpoint_get(&cp, c, tree_size)))
		goto out;
	if (seq < 1 || (uint64_t)seq > cp->tree_size) {
		rc = err_set(OTCM_EINVAL, "seq", "event %" PRId64 " is not in the checkpoint of size %"
			     PRIu64, seq, cp->tree_size);
		goto out;
	}
	if ((rc = read_leaves(&leaves, c, cp->tree_size)) ||
	    (rc = merkle_inclusion_proof(&proof, &plen, leaves, cp->tree_size, (uint64_t)seq - 1)))
		goto out;
	j = json_pack("{s:I, s:I, s:I}", "seq", (json_int_t)seq, "leaf_index", (json_int_t)(seq - 1),
		      "tree_size", (json_int_t)cp->tree_size);
	if ((rc = event_canonical(j, c, seq)))
		goto out;
	json_object_set_new(j, "proof", hex_array(proof, plen));
	json_object_set_new(j, "checkpoint", checkpoint_json(cp));
	*out = j;
	j = NULL;
out:
	json_decref(j);
	free(leaves);
	free(proof);
	checkpoint_free(cp);
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
	if ((rc = checkpoint_get(&a, c, first)) || (rc = checkpoint_get(&b, c, second)) ||
	    (rc = read_leaves(&leaves, c, second)) ||
	    (rc = merkle_consistency_proof(&proof, &plen, leaves, second, first)))
		goto out;
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
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
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

static void *writer_main(void *arg)
{
	struct checkpoint_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec until;
		struct db_conn *c = NULL;
		struct checkpoint *cp = NULL;
		bool due = false, made = false;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += WRITER_TICK;
		pthread_cond_timedwait(&w->cv, &w->mu, &until);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->mu);
		if (leader_hold(w->leader) && db_acquire(&c, w->pool) == 0 &&
		    writer_due(&due, w, c) == 0 && due) {
			if (checkpoint_write(&cp, &made, c, w->key, w->origin))
				log_msg(LOG_ERROR, "cannot write an audit checkpoint: %s", err_message());
			else if (made)
				log_msg(LOG_INFO, "signed audit checkpoint %" PRIu64, cp->tree_size);
		}
		checkpoint_free(cp);
		db_release(c);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int checkpoint_writer_start(struct checkpoint_writer **out, struct db_pool *pool,
			    const struct crypto_ed25519_key *key, const char *origin,
			    unsigned every_events, unsigned every_minutes)
{
	struct checkpoint_writer *w = xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->pool = pool;
	w->key = key;
	w->origin = origin;
	w->every_events = every_events;
	w->every_minutes = every_minutes;
	leader_new(&w->leader, pool);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		leader_free(w->leader);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return err_set(OTCM_EINTERNAL, NULL, "cannot start the checkpoint writer");
	}
	*out = w;
	return 0;
}

void checkpoint_writer_stop(struct checkpoint_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	leader_free(w->leader);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
