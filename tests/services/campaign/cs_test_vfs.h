/*
 * cs_test_vfs.h - a VFS for the Campaign Service's unit tests that counts the syncs of "-wal"
 * files and forwards everything else to the default VFS it wraps.
 *
 * Threads: the counter is a plain int; the tests that read it run one connection at a time.
 */
#ifndef CS_TEST_VFS_H
#define CS_TEST_VFS_H

/* Syncs of write-ahead log files since the test last set it to 0. */
extern int cs_test_wal_syncs;

/* Registers the counting VFS as the default one (idempotent; it stays registered). */
void cs_test_count_wal_syncs(void);

#endif /* CS_TEST_VFS_H */
