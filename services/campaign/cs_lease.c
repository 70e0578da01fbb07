/* cs_lease.c - see cs_lease.h. */
#include "cs_lease.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "cs_db.h"
#include "svc_db.h"

struct cs_lease {
    sqlite3 *db;
    int ttl_ms;
    char owner[64];
    sqlite3_stmt *get, *put, *renew, *del;
};

int64_t cs_lease_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

mf_status cs_lease_open(sqlite3 *db, int ttl_ms, cs_lease **out, mf_error *err)
{
    *out = NULL;
    cs_lease *l = calloc(1, sizeof *l);
    if (!l)
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    l->db = db;
    l->ttl_ms = ttl_ms > 0 ? ttl_ms : 10000;
    unsigned char rnd[4] = {0};
    char host[32] = "";
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        memset(rnd, 0, sizeof rnd);
    gethostname(host, sizeof host - 1);
    snprintf(l->owner, sizeof l->owner, "%.31s/%ld/%02x%02x%02x%02x", host, (long)getpid(), rnd[0], rnd[1], rnd[2],
             rnd[3]);
    mf_status st = cs_db_prepare(db, "SELECT owner, pid, expires_at FROM cs_leases WHERE execution_id = ?1", &l->get, err);
    if (st == MF_OK)
        st = cs_db_prepare(db, "INSERT OR REPLACE INTO cs_leases (execution_id, owner, pid, expires_at) "
                               "VALUES (?1, ?2, ?3, ?4)", &l->put, err);
    if (st == MF_OK)
        st = cs_db_prepare(db, "UPDATE cs_leases SET expires_at = ?3 WHERE execution_id = ?1 AND owner = ?2",
                           &l->renew, err);
    if (st == MF_OK)
        st = cs_db_prepare(db, "DELETE FROM cs_leases WHERE execution_id = ?1 AND owner = ?2", &l->del, err);
    if (st != MF_OK) {
        cs_lease_close(l);
        return st;
    }
    *out = l;
    return MF_OK;
}

void cs_lease_close(cs_lease *l)
{
    if (!l)
        return;
    sqlite3_finalize(l->get);
    sqlite3_finalize(l->put);
    sqlite3_finalize(l->renew);
    sqlite3_finalize(l->del);
    free(l);
}

const char *cs_lease_owner(const cs_lease *l)
{
    return l->owner;
}

int cs_lease_ttl(const cs_lease *l)
{
    return l->ttl_ms;
}

/* Whether the row at l->get leaves the lease free for us. */
static bool is_free(cs_lease *l, int64_t now, char holder[64])
{
    const char *owner = (const char *)sqlite3_column_text(l->get, 0);
    long pid = (long)sqlite3_column_int64(l->get, 1);
    bool mine = owner && strcmp(owner, l->owner) == 0;
    bool dead = pid != (long)getpid() && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    if (holder)
        snprintf(holder, 64, "%s", owner ? owner : "");
    return mine || dead || sqlite3_column_int64(l->get, 2) < now;
}

int cs_lease_claim(cs_lease *l, const char *execution_id, char holder[64], mf_error *err)
{
    if (holder)
        holder[0] = '\0';
    if (svc_db_begin(l->db, err) != MF_OK)
        return -1;
    int64_t now = cs_lease_now();
    sqlite3_reset(l->get);
    sqlite3_bind_text(l->get, 1, execution_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(l->get);
    bool free_ = rc == SQLITE_DONE || (rc == SQLITE_ROW && is_free(l, now, holder));
    sqlite3_reset(l->get);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        svc_db_status(l->db, rc, "reading a lease", err);
        svc_db_rollback(l->db);
        return -1;
    }
    if (free_) {
        sqlite3_reset(l->put);
        sqlite3_bind_text(l->put, 1, execution_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(l->put, 2, l->owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(l->put, 3, (sqlite3_int64)getpid());
        sqlite3_bind_int64(l->put, 4, now + l->ttl_ms);
        rc = sqlite3_step(l->put);
        sqlite3_reset(l->put);
        if (rc != SQLITE_DONE) {
            svc_db_status(l->db, rc, "taking a lease", err);
            svc_db_rollback(l->db);
            return -1;
        }
    }
    if (svc_db_commit(l->db, err) != MF_OK) {
        svc_db_rollback(l->db);
        return -1;
    }
    return free_ ? 1 : 0;
}

int cs_lease_renew(cs_lease *l, const char *execution_id, mf_error *err)
{
    sqlite3_reset(l->renew);
    sqlite3_bind_text(l->renew, 1, execution_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->renew, 2, l->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(l->renew, 3, cs_lease_now() + l->ttl_ms);
    int rc = sqlite3_step(l->renew);
    sqlite3_reset(l->renew);
    if (rc != SQLITE_DONE) {
        svc_db_status(l->db, rc, "renewing a lease", err);
        return -1;
    }
    return sqlite3_changes(l->db) == 1 ? 1 : 0;
}

void cs_lease_release(cs_lease *l, const char *execution_id)
{
    sqlite3_reset(l->del);
    sqlite3_bind_text(l->del, 1, execution_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(l->del, 2, l->owner, -1, SQLITE_STATIC);
    sqlite3_step(l->del);
    sqlite3_reset(l->del);
}

bool cs_lease_holder(cs_lease *l, const char *execution_id, char owner[64], long *pid)
{
    sqlite3_reset(l->get);
    sqlite3_bind_text(l->get, 1, execution_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(l->get) == SQLITE_ROW;
    if (found) {
        const char *o = (const char *)sqlite3_column_text(l->get, 0);
        snprintf(owner, 64, "%s", o ? o : "");
        *pid = (long)sqlite3_column_int64(l->get, 1);
    }
    sqlite3_reset(l->get);
    return found;
}
