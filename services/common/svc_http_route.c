/*
 * svc_http_route.c - route patterns: literal segments and {name} parameters.
 */
#include <stdlib.h>
#include <string.h>

#include "svc_http_int.h"

typedef struct seg {
    char *text;    /* literal text, or the parameter name */
    bool param;
} seg;

typedef struct compiled {
    const svc_http_route *route;
    seg segs[SVC_ROUTE_SEGMENTS];
    size_t n;
} compiled;

struct svc_router {
    compiled *c;
    size_t n;
};

const char *svc_http_method_name(svc_http_method m)
{
    static const char *const names[] = {"?", "GET", "POST", "PUT", "PATCH", "DELETE"};
    return m >= SVC_HTTP_GET && m <= SVC_HTTP_DELETE ? names[m] : "?";
}

/* Splits "/a/b/" into segments (the trailing "/" ignored). Returns the count, or -1 when
 * there are too many or an empty one ("//"). `copy` receives a modifiable copy. */
static int split(const char *path, char *copy, size_t cap, char **out)
{
    if (path[0] != '/' || strlen(path) >= cap || strstr(path, "//"))
        return -1;
    strcpy(copy, path + 1);
    size_t len = strlen(copy);
    if (len > 0 && copy[len - 1] == '/')
        copy[--len] = '\0';
    if (len == 0)
        return 0;
    int n = 0;
    for (char *p = copy;; n++) {
        if (n == SVC_ROUTE_SEGMENTS)
            return -1;
        out[n] = p;
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (!*p)
            return -1;
        if (!slash)
            return n + 1;
        p = slash + 1;
    }
}

static mf_status compile(const svc_http_route *rt, compiled *c, mf_error *err)
{
    char copy[512], *parts[SVC_ROUTE_SEGMENTS];
    int n = rt->pattern ? split(rt->pattern, copy, sizeof copy, parts) : -1;
    if (n < 0 || !rt->handler || rt->method < SVC_HTTP_GET || rt->method > SVC_HTTP_DELETE)
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "bad route %s %s", svc_http_method_name(rt->method),
                            rt->pattern ? rt->pattern : "(null)");
    c->route = rt;
    size_t params = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(parts[i]);
        bool param = len > 2 && parts[i][0] == '{' && parts[i][len - 1] == '}';
        if (param) {
            parts[i][len - 1] = '\0';
            parts[i]++;
            if (++params > SVC_HTTP_MAX_PARAMS)
                return mf_error_set(err, MF_ERR_INVALID_ARG, "", "route %s has too many parameters", rt->pattern);
        } else if (strchr(parts[i], '{') || strchr(parts[i], '}')) {
            return mf_error_set(err, MF_ERR_INVALID_ARG, "", "route %s: a parameter must be a whole segment",
                                rt->pattern);
        }
        c->segs[i].text = strdup(parts[i]);
        c->segs[i].param = param;
        c->n = (size_t)i + 1;
        if (!c->segs[i].text)
            return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    return MF_OK;
}

void svc_router_free(svc_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        for (size_t j = 0; j < r->c[i].n; j++)
            free(r->c[i].segs[j].text);
    free(r->c);
    free(r);
}

mf_status svc_router_build(const svc_http_route *routes, size_t n, svc_router **out, mf_error *err)
{
    *out = NULL;
    svc_router *r = calloc(1, sizeof *r);
    if (!r || !(r->c = calloc(n ? n : 1, sizeof *r->c))) {
        free(r);
        return mf_error_set(err, MF_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        r->n = i + 1;
        mf_status st = compile(&routes[i], &r->c[i], err);
        if (st) {
            svc_router_free(r);
            return st;
        }
    }
    *out = r;
    return MF_OK;
}

/* Does the path (split) fit the compiled pattern? Fills the parameters when it does. */
static bool fits(const compiled *c, char **parts, size_t n, svc_route_match *m)
{
    if (c->n != n)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!c->segs[i].param) {
            if (strcmp(c->segs[i].text, parts[i]) != 0)
                return false;
            continue;
        }
        if (strlen(parts[i]) >= SVC_ROUTE_PARAM_MAX)
            return false;
        m->names[k] = c->segs[i].text;
        strcpy(m->values[k], parts[i]);
        k++;
    }
    m->n_params = k;
    return true;
}

svc_route_result svc_router_match(const svc_router *r, svc_http_method method, const char *path,
                                  svc_route_match *m)
{
    memset(m, 0, sizeof *m);
    char copy[2048], *parts[SVC_ROUTE_SEGMENTS];
    int n = path ? split(path, copy, sizeof copy, parts) : -1;
    if (n < 0)
        return SVC_ROUTE_NO_PATH;
    svc_route_match tmp;
    for (size_t i = 0; i < r->n; i++) {
        if (!fits(&r->c[i], parts, (size_t)n, &tmp))
            continue;
        if (r->c[i].route->method == method) {
            *m = tmp;
            m->route = r->c[i].route;
            return SVC_ROUTE_FOUND;
        }
        m->allow |= 1u << r->c[i].route->method;
    }
    return m->allow ? SVC_ROUTE_NO_METHOD : SVC_ROUTE_NO_PATH;
}
