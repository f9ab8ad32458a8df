/*
 * storage/samples.h - the record store of an auditor's samples of a period
 * (table samples, schema/0070_samples.sql): append one, read one, list
 * them.  How a sample is drawn and who may draw one is in domain/samples.h.
 *
 * Records come back as JSON (owned by the caller): {id, taken_at,
 * taken_by, from, to, size, seed, seed_source, algorithm,
 * population_size, population_sha256, keys}, times in RFC 3339 UTC from
 * the database server's clock.
 *
 * Errors: as db.h; OTCM_ENOTFOUND for an unknown sample.
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_SAMPLES_H
#define OTCM_STORAGE_SAMPLES_H

#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

struct sample_row {
	int64_t taken_by;
	const char *from, *to;          /* RFC 3339 */
	int64_t size;
	const char *seed, *seed_source, *algorithm;
	int64_t population_size;
	const char *population_sha256;
	const json_t *keys;             /* array of change keys */
};

/* Append `row` in c's open transaction; *out gets the record. */
int samples_insert(json_t **out, struct db_conn *c, const struct sample_row *row);

/* Sample `id`. */
int samples_get(json_t **out, struct db_conn *c, int64_t id);

/* The newest `limit` samples, newest first. */
int samples_list(json_t **out, struct db_conn *c, unsigned limit);

#endif
