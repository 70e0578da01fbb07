/*
 * svc_tz.c - zone names checked against the compiled tz database (svc_tz.h).
 *
 * The check opens <dir>/<name> and reads the TZif magic: the C library's own
 * zone loader reads the same files, so a name accepted here is one that
 * localtime_r under TZ=<name> understands. Names are restricted to the
 * characters the database uses, with no "." component, so a name cannot
 * leave the directory. Verdicts are cached in a small open-addressing table.
 */
#include "svc_tz.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 64
#define CACHE_SLOTS 1024 /* the database has about 600 names */

typedef struct slot {
    char name[NAME_MAX_LEN + 1];
    bool used, valid;
} slot;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static slot g_cache[CACHE_SLOTS];
static size_t g_used;

const char *svc_tz_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

static bool name_shape_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN || name[0] == '/' || name[n - 1] == '/')
        return false;
    const char *seg = name;
    for (const char *p = name;; p++) {
        if (*p == '/' || *p == '\0') {
            if (p == seg || seg[0] == '.') /* empty, ".", ".." or hidden component */
                return false;
            if (!*p)
                return true;
            seg = p + 1;
            continue;
        }
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || c == '+' || c == '.';
        if (!ok)
            return false;
    }
}

static bool file_is_tzif(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", svc_tz_dir(), name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    char magic[4];
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Looks the name up; *found tells whether it was cached. Caller holds g_mu. */
static slot *cache_find(const char *name, bool *found)
{
    for (uint32_t i = hash(name) % CACHE_SLOTS, k = 0; k < CACHE_SLOTS; k++, i = (i + 1) % CACHE_SLOTS) {
        if (!g_cache[i].used) {
            *found = false;
            return &g_cache[i];
        }
        if (strcmp(g_cache[i].name, name) == 0) {
            *found = true;
            return &g_cache[i];
        }
    }
    *found = false;
    return NULL;
}

bool svc_tz_valid(const char *name, char *why, size_t why_cap)
{
    if (!name || !name_shape_ok(name)) {
        if (why)
            snprintf(why, why_cap, "not an IANA time zone name");
        return false;
    }
    bool found, valid;
    pthread_mutex_lock(&g_mu);
    slot *s = cache_find(name, &found);
    if (found) {
        valid = s->valid;
    } else {
        valid = file_is_tzif(name);
        if (s && g_used < CACHE_SLOTS * 3 / 4) { /* keep the table sparse; beyond that, no caching */
            snprintf(s->name, sizeof s->name, "%s", name);
            s->used = true;
            s->valid = valid;
            g_used++;
        }
    }
    pthread_mutex_unlock(&g_mu);
    if (!valid && why)
        snprintf(why, why_cap, "unknown time zone (not in the tz database at %s)", svc_tz_dir());
    return valid;
}
