/*
 * store_walk.c - bench-user-store-walk: the user store's profile reads inside read
 * transactions, every k-th user in user_id order (k = 1: a campaign to every user; larger k:
 * a sparser segment). Prints microseconds of CPU per read; run it under callgrind for
 * instructions (`--toggle-collect=walk`, divided by 2 x the reads printed: a warm pass and a
 * measured pass). Builds its own store of N users (--users, default 20,000) in a temporary
 * directory, 20 reads per read transaction (like a batch of user.info.request).
 *
 *   build/bin/bench-user-store-walk --stride 8
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svc_db.h"
#include "user_store.h"

#define PER_TX 20

static int by_id(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Reads every stride-th id in read transactions of PER_TX reads; returns the reads made. */
__attribute__((noinline)) static long walk(us_store *r, char **ids, int n, int stride)
{
    mf_error err;
    long reads = 0;
    for (int i = 0; i < n;) {
        if (us_store_read_begin(r, &err))
            return -1;
        for (int j = 0; j < PER_TX && i < n; j++, i += stride, reads++) {
            us_profile p;
            if (us_store_profile(r, ids[i], &p, &err))
                return -1;
            us_profile_free(&p);
        }
        us_store_read_end(r);
    }
    return reads;
}

static mf_status fill(const char *path, char **ids, int n, mf_error *err)
{
    sqlite3 *db;
    mf_status st = svc_db_open(path, &db, err);
    if (st == MF_OK)
        st = svc_db_migrate(db, SVC_OUTBOX_COMPONENT, svc_outbox_migrations, svc_outbox_migration_count, err);
    if (st == MF_OK)
        st = svc_db_migrate(db, "user", us_store_sqlite_migrations, us_store_sqlite_migration_count, err);
    svc_db_close(db);
    us_store *s = NULL;
    if (st == MF_OK)
        st = us_store_sqlite_open(path, &s, err);
    if (st == MF_OK)
        st = us_store_begin(s, err);
    srand(1);
    for (int i = 0; st == MF_OK && i < n; i++) {
        char email[64];
        ids[i] = malloc(40);
        snprintf(ids[i], 40, "%08x-%04x-4%03x-8%03x-%04x%08x", (unsigned)rand(), (unsigned)rand() & 0xffff,
                 (unsigned)rand() & 0xfff, (unsigned)rand() & 0xfff, (unsigned)rand() & 0xffff, (unsigned)rand());
        snprintf(email, sizeof email, "bench%d@example.com", i);
        us_user u;
        us_user_init(&u);
        u.user_id = strdup(ids[i]), u.has_user_id = true;
        u.email = strdup(email), u.has_email = true;
        u.name = strdup("Bench User"), u.has_name = true;
        st = us_user_fill_defaults(&u, "2026-01-01T00:00:00.000Z", err);
        u.updated_at = strdup("2026-01-01T00:00:00.000Z"), u.has_updated_at = true;
        if (st == MF_OK)
            st = us_store_insert(s, &u, err);
        us_user_free(&u);
    }
    if (st == MF_OK)
        st = us_store_commit(s, err);
    us_store_close(s);
    return st;
}

int main(int argc, char **argv)
{
    int n = 20000, stride = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--users") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "--stride") == 0 && i + 1 < argc)
            stride = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--users N (20000)] [--stride K (1)]\n", argv[0]);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (n < 1 || stride < 1) {
        fprintf(stderr, "bench-user-store-walk: --users and --stride must be >= 1\n");
        return 2;
    }
    us_user_types_init();
    char dir[] = "/tmp/bench-user-store-walk-XXXXXX", path[64], cmd[96];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/u.db", dir);
    char **ids = calloc((size_t)n, sizeof *ids);
    mf_error err;
    us_store *r = NULL;
    mf_status st = ids ? fill(path, ids, n, &err) : MF_ERR_NOMEM;
    if (st == MF_OK) {
        qsort(ids, (size_t)n, sizeof *ids, by_id);
        st = us_store_sqlite_open(path, &r, &err);
    }
    long reads = -1;
    double t0 = 0;
    if (st == MF_OK && walk(r, ids, n, stride) > 0) { /* a warm pass, then the measured one */
        t0 = cpu_s();
        reads = walk(r, ids, n, stride);
    }
    if (reads > 0)
        printf("users %d, every %d-th in user_id order, %d per read transaction: %ld reads, %.2f us of CPU each\n",
               n, stride, PER_TX, reads, (cpu_s() - t0) / (double)reads * 1e6);
    else
        fprintf(stderr, "bench-user-store-walk: %s\n", st ? err.message : "a read failed");
    us_store_close(r);
    for (int i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench-user-store-walk: could not remove %s\n", dir);
    return reads > 0 ? 0 : 1;
}
