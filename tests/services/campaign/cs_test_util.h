/*
 * cs_test_util.h - helpers shared by the Campaign Service's unit tests.
 *
 * JSON in C strings: the helpers take JSON written with single quotes ('a': 'b') and turn every
 * ' into " before decoding, so test data stays readable. (No test value needs a literal '.)
 */
#ifndef CS_TEST_UTIL_H
#define CS_TEST_UTIL_H

#include <stdint.h>
#include <sqlite3.h>
#include "mf_sdk/types.h"

/* A JSON text with ' turned into " (malloc'd; free it). */
char *cs_test_json(const char *single_quoted);

/* Decodes a CampaignCreate from single-quoted JSON; fails the test when it does not decode. */
void cs_test_campaign(const char *single_quoted, mf_campaign_create *out);

/* The full example campaign (A/B, localization, recurring) with campaign_id id. */
void cs_test_example_campaign(mf_campaign_create *out);

/* Instant of a UTC civil time, in ms. */
int64_t cs_test_ms(int y, unsigned mo, unsigned d, int h, int mi, int s);

/* A deterministic UUID from a number (for populations). */
void cs_test_uuid(uint64_t n, char out[37]);

/* Removes a test database file and its WAL and shared-memory files (-wal, -shm). */
void cs_test_db_unlink(const char *path);

/* The integer in the first column of sql's first row on db ("PRAGMA page_size"). */
int cs_test_db_int(sqlite3 *db, const char *sql);

/* The frames of path's write-ahead log not yet copied into the database file (mxFrame - nBackfill
 * of the wal-index in path-shm, https://www.sqlite.org/walformat.html): read from the file, so
 * the check itself checkpoints nothing. Fails the test when the file cannot be read. */
uint32_t cs_test_wal_backlog(const char *path);

/* xorshift64* random numbers, seedable, for reproducible populations. */
uint64_t cs_test_rand(uint64_t *state);

#endif /* CS_TEST_UTIL_H */
