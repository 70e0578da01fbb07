/*
 * pattern.c - the `pattern` constraint (mf_pattern_check, codec_int.h).
 *
 * The generator translates each ECMA-262 pattern to a POSIX extended regular
 * expression (docs/formats.md lists the supported subset). The runtime compiles
 * it lazily, exactly once per process: the fast path is an acquire load of
 * p->state; compilation happens under one global mutex and publishes the
 * regex_t with a release store. The compiled regex_t lives until the process
 * exits (descriptor tables are static, so there is nothing to free it with).
 * regexec on a shared regex_t is thread-safe in glibc and musl.
 */
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>

#include "codec_int.h"
#include "mf/status.h"

static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

/* Returns 1 (ready) or -1 (failed); compiles on first call. */
static int pattern_ready(mf_pattern *p)
{
    int st = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
    if (st != 0)
        return st;
    pthread_mutex_lock(&compile_lock);
    st = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
    if (st == 0) {
        regex_t *re = malloc(sizeof *re);
        if (re && p->ere && regcomp(re, p->ere, REG_EXTENDED | REG_NOSUB) == 0) {
            p->compiled = re;
            st = 1;
        } else {
            free(re);
            st = -1;
        }
        __atomic_store_n(&p->state, st, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&compile_lock);
    return st;
}

mf_status mf_pattern_check(mf_pattern *p, const char *s, size_t n, const char *pointer,
                           mf_error *err)
{
    const char *src = p && p->source ? p->source : "";
    if (!p || !s)
        return mf_error_set(err, MF_ERR_PATTERN, pointer, "pattern %s could not be applied", src);
    if (pattern_ready(p) < 0)
        return mf_error_set(err, MF_ERR_PATTERN, pointer, "pattern %s could not be compiled", src);
    /* s[n] is NUL; an embedded NUL never gets here (strings are checked first). */
    if (regexec((const regex_t *)p->compiled, s, 0, NULL, 0) == 0)
        return MF_OK;
    /* At most 40 bytes of the value, cut back to a character boundary so the
     * message stays valid UTF-8. */
    size_t shown = n > 40 ? 40 : n;
    while (shown < n && shown > 0 && ((unsigned char)s[shown] & 0xC0) == 0x80)
        shown--;
    return mf_error_set(err, MF_ERR_PATTERN, pointer, "\"%.*s\" does not match %s", (int)shown, s,
                        src);
}
