/*
 * storage/odb.c - the git_objects table as a libgit2 object database
 * backend; see odb.h for the contract and docs/storage.md for the costs.
 */
#include "storage/odb.h"

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "storage/db.h"

/*
 * The cache is direct-mapped on the first bytes of the id (SHA-1 spreads them
 * evenly): a new entry simply replaces the one in its slot.  Bytes are kept
 * only for objects up to ODB_CACHE_MAX_OBJECT, so the cache never holds more
 * than ODB_CACHE_SLOTS * ODB_CACHE_MAX_OBJECT bytes (4 MiB).
 */
#define ODB_CACHE_SLOTS 256
#define ODB_CACHE_MAX_OBJECT (16 * 1024)
#define ODB_SIZES_BATCH 500
/*
 * Objects from this size on are written with COPY, streamed from the
 * caller's buffer (db_copy_in), instead of as a statement parameter that
 * libpq would copy whole into a buffer kept for the connection's life.
 */
#define ODB_COPY_MIN ((size_t)256 * 1024)

struct odb_slot {
	bool used;
	git_oid id;
	git_object_t type;
	size_t size;
	unsigned char *data;   /* NULL: header only */
};

struct pg_backend {
	git_odb_backend parent;   /* first: libgit2 hands us this pointer */
	struct db_conn *c;
	int last_error;
	struct odb_stats stats;
	struct odb_slot slots[ODB_CACHE_SLOTS];
};

static struct pg_backend *pg_of(git_odb_backend *b)
{
	return (struct pg_backend *)b;
}

/* A database failure: keep our code for the caller, give libgit2 the text. */
static int pg_fail(struct pg_backend *pg, int rc)
{
	pg->last_error = rc;
	git_error_set_str(GIT_ERROR_ODB, err_message());
	return GIT_ERROR;
}

static struct odb_slot *slot_for(struct pg_backend *pg, const git_oid *id)
{
	return &pg->slots[((unsigned)id->id[0] << 8 | id->id[1]) % ODB_CACHE_SLOTS];
}

static struct odb_slot *cache_find(struct pg_backend *pg, const git_oid *id)
{
	struct odb_slot *s = slot_for(pg, id);

	if (s->used && git_oid_equal(&s->id, id))
		return s;
	return NULL;
}

static void cache_put(struct pg_backend *pg, const git_oid *id, git_object_t type,
		      const void *data, size_t size)
{
	struct odb_slot *s = slot_for(pg, id);

	if (s->used && git_oid_equal(&s->id, id) && (s->data || !data))
		return;
	free(s->data);
	s->used = true;
	git_oid_cpy(&s->id, id);
	s->type = type;
	s->size = size;
	s->data = NULL;
	if (data && size <= ODB_CACHE_MAX_OBJECT)
		s->data = xmemdup(size ? data : "", size ? size : 1);
}

/* Big-endian integer from a column of int2send()/int8send() bytes. */
static bool be_int(uint64_t *out, const struct db_res *res, size_t row, size_t col, size_t width)
{
	const unsigned char *p = (const unsigned char *)db_res_get(res, row, col);
	uint64_t v = 0;

	if (!p || db_res_len(res, row, col) != width)
		return false;
	for (size_t i = 0; i < width; i++)
		v = v << 8 | p[i];
	*out = v;
	return true;
}

static int corrupt(const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	git_error_set(GIT_ERROR_ODB, "object '%s' is corrupt in the database", hex);
	return GIT_ERROR;
}

/*
 * Every column is bytea (int2send/int8send for the numbers), so the result
 * reads the same whether the connection returns all columns in binary or
 * only the bytea ones.
 */
static const char sql_read[] =
	"SELECT int2send(type), data FROM git_objects WHERE oid = $1";

static int pg_read(void **out, size_t *out_len, git_object_t *out_type, git_odb_backend *b,
		   const git_oid *id)
{
	struct pg_backend *pg = pg_of(b);
	struct db_param p[1] = { DB_BYTES(id->id, GIT_OID_RAWSZ) };
	struct db_res *res = NULL;
	struct odb_slot *s;
	uint64_t type;
	size_t len;
	void *data = NULL;
	int rc;

	pg->stats.reads++;
	s = cache_find(pg, id);
	if (s && s->data) {
		pg->stats.cache_hits++;
		data = git_odb_backend_data_alloc(b, s->size ? s->size : 1);
		if (!data)
			return GIT_ERROR;
		memcpy(data, s->data, s->size);
		*out = data;
		*out_len = s->size;
		*out_type = s->type;
		return 0;
	}

	pg->stats.queries++;
	if ((rc = db_exec(&res, pg->c, sql_read, 1, p, true))) {
		rc = pg_fail(pg, rc);
		goto out;
	}
	if (db_res_rows(res) == 0) {
		rc = GIT_ENOTFOUND;
		goto out;
	}
	if (!be_int(&type, res, 0, 0, 2) || db_res_isnull(res, 0, 1)) {
		rc = corrupt(id);
		goto out;
	}
	len = db_res_len(res, 0, 1);
	data = git_odb_backend_data_alloc(b, len ? len : 1);
	if (!data) {
		rc = GIT_ERROR;
		goto out;
	}
	memcpy(data, db_res_get(res, 0, 1), len);
	pg->stats.bytes_read += len;
	cache_put(pg, id, (git_object_t)type, data, len);
	*out = data;
	*out_len = len;
	*out_type = (git_object_t)type;
	rc = 0;
out:
	db_res_free(res);
	return rc;
}

static const char sql_read_header[] =
	"SELECT int2send(type), int8send(size) FROM git_objects WHERE oid = $1";

static int pg_read_header(size_t *out_len, git_object_t *out_type, git_odb_backend *b,
			  const git_oid *id)
{
	struct pg_backend *pg = pg_of(b);
	struct db_param p[1] = { DB_BYTES(id->id, GIT_OID_RAWSZ) };
	struct db_res *res = NULL;
	struct odb_slot *s;
	uint64_t type, size;
	int rc;

	pg->stats.reads++;
	s = cache_find(pg, id);
	if (s) {
		pg->stats.cache_hits++;
		*out_len = s->size;
		*out_type = s->type;
		return 0;
	}

	pg->stats.queries++;
	if ((rc = db_exec(&res, pg->c, sql_read_header, 1, p, true))) {
		rc = pg_fail(pg, rc);
		goto out;
	}
	if (db_res_rows(res) == 0) {
		rc = GIT_ENOTFOUND;
		goto out;
	}
	if (!be_int(&type, res, 0, 0, 2) || !be_int(&size, res, 0, 1, 8)) {
		rc = corrupt(id);
		goto out;
	}
	cache_put(pg, id, (git_object_t)type, NULL, (size_t)size);
	*out_len = (size_t)size;
	*out_type = (git_object_t)type;
	rc = 0;
out:
	db_res_free(res);
	return rc;
}

/* The range of full ids that start with the first `len` hex digits of `short_id`. */
static void prefix_range(unsigned char lo[GIT_OID_RAWSZ], unsigned char hi[GIT_OID_RAWSZ],
			 const git_oid *short_id, size_t len)
{
	memcpy(lo, short_id->id, GIT_OID_RAWSZ);
	memcpy(hi, short_id->id, GIT_OID_RAWSZ);
	for (size_t i = 0; i < GIT_OID_RAWSZ; i++) {
		size_t bit = i * 2;   /* hex digits before this byte */

		if (bit >= len) {
			lo[i] = 0x00;
			hi[i] = 0xff;
		} else if (bit + 1 == len) {
			lo[i] &= 0xf0;
			hi[i] = (unsigned char)(lo[i] | 0x0f);
		}
	}
}

static const char sql_prefix[] =
	"SELECT oid FROM git_objects WHERE oid BETWEEN $1 AND $2 ORDER BY oid LIMIT 2";

/* The one full id starting with the prefix: GIT_ENOTFOUND or GIT_EAMBIGUOUS otherwise. */
static int find_prefix(git_oid *out, struct pg_backend *pg, const git_oid *short_id, size_t len)
{
	unsigned char lo[GIT_OID_RAWSZ], hi[GIT_OID_RAWSZ];
	struct db_param p[2];
	struct db_res *res = NULL;
	int rc;

	prefix_range(lo, hi, short_id, len);
	p[0] = DB_BYTES(lo, sizeof(lo));
	p[1] = DB_BYTES(hi, sizeof(hi));
	pg->stats.queries++;
	if ((rc = db_exec(&res, pg->c, sql_prefix, 2, p, true))) {
		rc = pg_fail(pg, rc);
		goto out;
	}
	if (db_res_rows(res) == 0) {
		rc = GIT_ENOTFOUND;
		goto out;
	}
	if (db_res_rows(res) > 1) {
		git_error_set_str(GIT_ERROR_ODB, "short object id is ambiguous");
		rc = GIT_EAMBIGUOUS;
		goto out;
	}
	if (db_res_len(res, 0, 0) != GIT_OID_RAWSZ) {
		rc = corrupt(short_id);
		goto out;
	}
	git_oid_fromraw(out, (const unsigned char *)db_res_get(res, 0, 0));
	rc = 0;
out:
	db_res_free(res);
	return rc;
}

static int pg_read_prefix(git_oid *out_id, void **out, size_t *out_len, git_object_t *out_type,
			  git_odb_backend *b, const git_oid *short_id, size_t len)
{
	git_oid full;
	int rc;

	if (len >= GIT_OID_HEXSZ)
		git_oid_cpy(&full, short_id);
	else if ((rc = find_prefix(&full, pg_of(b), short_id, len)))
		return rc;
	if ((rc = pg_read(out, out_len, out_type, b, &full)))
		return rc;
	git_oid_cpy(out_id, &full);
	return 0;
}

static const char sql_exists[] = "SELECT 1 FROM git_objects WHERE oid = $1";

/* 1 when present, 0 when absent or on failure (libgit2 reads any non-zero as found). */
static int pg_exists(git_odb_backend *b, const git_oid *id)
{
	struct pg_backend *pg = pg_of(b);
	struct db_param p[1] = { DB_BYTES(id->id, GIT_OID_RAWSZ) };
	struct db_res *res = NULL;
	int rc, found = 0;

	if (cache_find(pg, id)) {
		pg->stats.cache_hits++;
		return 1;
	}
	pg->stats.queries++;
	if ((rc = db_exec(&res, pg->c, sql_exists, 1, p, false))) {
		pg_fail(pg, rc);
		goto out;
	}
	found = db_res_rows(res) > 0;
out:
	db_res_free(res);
	return found;
}

static int pg_exists_prefix(git_oid *out, git_odb_backend *b, const git_oid *short_id, size_t len)
{
	if (len >= GIT_OID_HEXSZ) {
		if (!pg_exists(b, short_id))
			return pg_of(b)->last_error ? GIT_ERROR : GIT_ENOTFOUND;
		git_oid_cpy(out, short_id);
		return 0;
	}
	return find_prefix(out, pg_of(b), short_id, len);
}

static const char sql_write[] =
	"INSERT INTO git_objects (oid, type, size, data) VALUES ($1, $2, $3, $4) "
	"ON CONFLICT (oid) DO NOTHING";

/* Append `v` as a big-endian integer of `width` bytes at *p. */
static void put_be(unsigned char **p, uint64_t v, size_t width)
{
	for (size_t i = width; i > 0; i--)
		*(*p)++ = (unsigned char)(v >> (8 * (i - 1)));
}

static const char sql_copy[] =
	"COPY git_objects (oid, type, size, data) FROM STDIN (FORMAT binary)";

/*
 * One large object as one row of a binary COPY (PostgreSQL's documented
 * framing: signature, flags, header extension; a row of four fields each
 * with its length; the trailer).  The data goes from the caller's buffer
 * in pieces.  An object already stored is not sent again; one that a
 * concurrent writer stores first (the unique violation, undone by the
 * COPY's savepoint) is there all the same, with the same bytes.
 */
static int write_copy(struct pg_backend *pg, const git_oid *id, const void *data, size_t len,
		      git_object_t type)
{
	static const unsigned char signature[11] = "PGCOPY\n\377\r\n";
	unsigned char head[11 + 4 + 4 + 2 + (4 + GIT_OID_RAWSZ) + (4 + 2) + (4 + 8) + 4];
	unsigned char tail[2] = { 0xff, 0xff };
	unsigned char *p = head;
	struct db_param q[1] = { DB_BYTES(id->id, GIT_OID_RAWSZ) };
	struct db_chunk chunks[3];
	struct db_res *res = NULL;
	bool found;
	int rc;

	if (len > INT32_MAX)
		return err_set(OTCM_ETOOBIG, NULL, "object of %zu bytes is too large to store", len);
	pg->stats.queries++;
	if ((rc = db_exec(&res, pg->c, sql_exists, 1, q, false)))
		return rc;
	found = db_res_rows(res) > 0;
	db_res_free(res);
	if (found)
		return 0;

	memcpy(p, signature, sizeof(signature));
	p += sizeof(signature);
	put_be(&p, 0, 4);                      /* flags: no OIDs */
	put_be(&p, 0, 4);                      /* header extension length */
	put_be(&p, 4, 2);                      /* fields in the row */
	put_be(&p, GIT_OID_RAWSZ, 4);
	memcpy(p, id->id, GIT_OID_RAWSZ);
	p += GIT_OID_RAWSZ;
	put_be(&p, 2, 4);
	put_be(&p, (uint64_t)type, 2);         /* smallint */
	put_be(&p, 8, 4);
	put_be(&p, (uint64_t)len, 8);          /* bigint */
	put_be(&p, (uint64_t)len, 4);          /* the data's length, then the data */
	chunks[0] = (struct db_chunk){ head, (size_t)(p - head) };
	chunks[1] = (struct db_chunk){ data, len };
	chunks[2] = (struct db_chunk){ tail, sizeof(tail) };
	pg->stats.queries++;
	rc = db_copy_in(pg->c, sql_copy, chunks, 3);
	if (rc == OTCM_ECONFLICT)
		rc = 0;
	return rc;
}

static int pg_write(git_odb_backend *b, const git_oid *id, const void *data, size_t len,
		    git_object_t type)
{
	struct pg_backend *pg = pg_of(b);
	char type_s[8], size_s[24];
	struct db_param p[4];
	int rc;

	if (type < GIT_OBJECT_COMMIT || type > GIT_OBJECT_TAG) {
		git_error_set(GIT_ERROR_ODB, "object type %d cannot be stored", (int)type);
		return GIT_ERROR;
	}
	if (len >= ODB_COPY_MIN) {
		pg->stats.writes++;
		if ((rc = write_copy(pg, id, data, len, type)))
			return pg_fail(pg, rc);
		cache_put(pg, id, type, NULL, len);
		return 0;
	}
	snprintf(type_s, sizeof(type_s), "%d", (int)type);
	snprintf(size_s, sizeof(size_s), "%zu", len);
	p[0] = DB_BYTES(id->id, GIT_OID_RAWSZ);
	p[1] = DB_TEXT(type_s);
	p[2] = DB_TEXT(size_s);
	p[3] = DB_BYTES(len ? data : "", len);   /* never SQL NULL, even when empty */
	pg->stats.queries++;
	pg->stats.writes++;
	if ((rc = db_exec(NULL, pg->c, sql_write, 4, p, false)))
		return pg_fail(pg, rc);
	cache_put(pg, id, type, data, len);
	return 0;
}

/*
 * libgit2 asks "freshen" before each write and skips the write when the
 * object is found.  Answering "not here" always makes a write exactly one
 * INSERT ... ON CONFLICT DO NOTHING, one round trip instead of two, and
 * never trusts the cache on the write path.
 */
static int pg_freshen(git_odb_backend *b, const git_oid *id)
{
	return GIT_ENOTFOUND;
}

/* Every read goes to the database, so there is nothing stale to refresh. */
static int pg_refresh(git_odb_backend *b)
{
	return 0;
}

static void pg_free(git_odb_backend *b)
{
	struct pg_backend *pg = pg_of(b);

	if (!pg)
		return;
	for (size_t i = 0; i < ODB_CACHE_SLOTS; i++)
		free(pg->slots[i].data);
	free(pg);
}

int odb_backend_new(git_odb_backend **out, struct db_conn *c)
{
	struct pg_backend *pg = xcalloc(1, sizeof(*pg));

	if (git_odb_init_backend(&pg->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		free(pg);
		return err_set(OTCM_EGIT, NULL, "cannot initialise the object database backend");
	}
	pg->c = c;
	pg->parent.read = pg_read;
	pg->parent.read_header = pg_read_header;
	pg->parent.read_prefix = pg_read_prefix;
	pg->parent.write = pg_write;
	pg->parent.exists = pg_exists;
	pg->parent.exists_prefix = pg_exists_prefix;
	pg->parent.freshen = pg_freshen;
	pg->parent.refresh = pg_refresh;
	pg->parent.free = pg_free;
	*out = &pg->parent;
	return 0;
}

int odb_backend_take_error(git_odb_backend *backend)
{
	struct pg_backend *pg = pg_of(backend);
	int rc = pg->last_error;

	pg->last_error = 0;
	return rc;
}

void odb_backend_stats(struct odb_stats *out, const git_odb_backend *backend)
{
	*out = ((const struct pg_backend *)backend)->stats;
}

static const char sql_sizes[] =
	"SELECT oid, int8send(size), int2send(type) FROM git_objects WHERE oid IN "
	"(SELECT decode(h, 'hex') FROM unnest(string_to_array($1, ',')) AS h)";

/* Look up ids[0..n) (n <= ODB_SIZES_BATCH) not yet answered from the cache. */
static int sizes_batch(uint64_t *out, struct pg_backend *pg, const git_oid *ids, size_t n)
{
	char *list = xmalloc(n * (GIT_OID_HEXSZ + 1) + 1);
	struct db_param p[1];
	struct db_res *res = NULL;
	size_t pos = 0, rows;
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (pos)
			list[pos++] = ',';
		git_oid_tostr(list + pos, GIT_OID_HEXSZ + 1, &ids[i]);
		pos += GIT_OID_HEXSZ;
	}
	p[0] = DB_TEXT(list);
	pg->stats.queries++;
	if ((rc = db_exec(&res, pg->c, sql_sizes, 1, p, true)))
		goto out;
	rows = db_res_rows(res);
	for (size_t row = 0; row < rows; row++) {
		git_oid id;
		uint64_t size, type;

		if (db_res_len(res, row, 0) != GIT_OID_RAWSZ || !be_int(&size, res, row, 1, 8) ||
		    !be_int(&type, res, row, 2, 2)) {
			rc = err_set(OTCM_EDB, NULL, "unexpected object size row");
			goto out;
		}
		git_oid_fromraw(&id, (const unsigned char *)db_res_get(res, row, 0));
		cache_put(pg, &id, (git_object_t)type, NULL, (size_t)size);
		for (size_t i = 0; i < n; i++)
			if (git_oid_equal(&ids[i], &id))
				out[i] = size;
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i] == UINT64_MAX) {
			git_oid_tostr(hex, sizeof(hex), &ids[i]);
			rc = err_set(OTCM_ENOTFOUND, NULL, "object '%s' not found", hex);
			goto out;
		}
	}
	rc = 0;
out:
	db_res_free(res);
	free(list);
	return rc;
}

int odb_backend_sizes(uint64_t *out, git_odb_backend *backend, const git_oid *ids, size_t n)
{
	struct pg_backend *pg = pg_of(backend);
	git_oid *todo = NULL;
	uint64_t *found = NULL;
	size_t *where = NULL, ntodo = 0;
	int rc = 0;

	todo = xcalloc(n ? n : 1, sizeof(*todo));
	where = xcalloc(n ? n : 1, sizeof(*where));
	found = xcalloc(n ? n : 1, sizeof(*found));
	for (size_t i = 0; i < n; i++) {
		struct odb_slot *s = cache_find(pg, &ids[i]);

		if (s) {
			pg->stats.cache_hits++;
			out[i] = s->size;
			continue;
		}
		git_oid_cpy(&todo[ntodo], &ids[i]);
		where[ntodo++] = i;
	}
	for (size_t i = 0; i < ntodo; i += ODB_SIZES_BATCH) {
		size_t m = ntodo - i < ODB_SIZES_BATCH ? ntodo - i : ODB_SIZES_BATCH;

		for (size_t j = 0; j < m; j++)
			found[i + j] = UINT64_MAX;
		if ((rc = sizes_batch(found + i, pg, todo + i, m)))
			goto out;
	}
	for (size_t i = 0; i < ntodo; i++)
		out[where[i]] = found[i];
out:
	free(todo);
	free(where);
	free(found);
	return rc;
}
