/*
 * accounts.c - the accounts file (--config): users, their hashed credentials
 * and their publish/subscribe permissions, as NATS authorization has them.
 *
 *   {"users": [
 *     {"user": "campaign-service", "password": "$2b$11$...",
 *      "permissions": {"publish":   {"allow": ["campaign.>"], "deny": ["campaign.internal.>"]},
 *                      "subscribe": {"allow": ["campaign.>", "_INBOX.campaign.>"]},
 *                      "allow_responses": true}},
 *     {"name": "dashboard", "token": "$2b$11$...", "permissions": {...}}]}
 *
 * The file is decoded by the runtime's own descriptor-driven codec (closed
 * objects: a misspelt key is an error with its JSON pointer). Credentials must
 * be bcrypt hashes ($2a$/$2b$/$2y$, libxcrypt's crypt_r): a clear-text password
 * is refused at start. `mf-broker --hash-password` makes the hashes.
 *
 * Permissions follow nats-server: a subject is allowed when the allow list is
 * absent or has a pattern matching it, and no deny pattern matches it. A
 * subscription subject is matched token by token, its '*' and '>' as plain
 * tokens (so SUB "a.>" needs an allow pattern like "a.>" or "a.*"). A user
 * with a subscribe deny list does not get messages whose subject matches it,
 * even through a wider wildcard subscription. allow_responses lets a user
 * publish to the reply subject of a request it received (responses_max times,
 * for responses_expires_ms milliseconds, 0 = no limit), whatever its publish
 * permissions say; without a publish allow list such a user may publish
 * nothing but responses (as in nats-server).
 */
#include "broker/broker.h"

#include <crypt.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mf/codec.h"

/* bcrypt's work factor for --hash-password: about 0.1-0.3 s per check. */
#define HASH_COST 11
/* The largest accounts file read. */
#define FILE_MAX (1u << 20)

typedef struct perm_list {
    char **pats;
    size_t n;
    bool set; /* the list was given (an empty allow list allows nothing) */
} perm_list;

struct mfb_user {
    char *name;
    char *login;       /* "user" value; NULL for a token user */
    char *hash;        /* bcrypt hash of the password or token */
    perm_list pub_allow, pub_deny, sub_allow, sub_deny;
    bool allow_responses;
    uint64_t resp_max;
    int resp_expires_ms;
};

/* ---------------------------------------------------------------- the file's shape */

typedef struct w_strs {
    char **items;
    size_t count;
} w_strs;

typedef struct w_list {
    w_strs allow;
    bool has_allow;
    w_strs deny;
    bool has_deny;
} w_list;

typedef struct w_perms {
    w_list publish;
    bool has_publish;
    w_list subscribe;
    bool has_subscribe;
    bool allow_responses;
    bool has_allow_responses;
    int64_t responses_max;
    bool has_responses_max;
    int64_t responses_expires_ms;
    bool has_responses_expires_ms;
} w_perms;

typedef struct w_user {
    char *user;
    bool has_user;
    char *password;
    bool has_password;
    char *token;
    bool has_token;
    char *name;
    bool has_name;
    w_perms permissions;
    bool has_permissions;
} w_user;

typedef struct w_file {
    struct {
        w_user *items;
        size_t count;
    } users;
} w_file;

#define FIELD(S, json, m, ty) {.name = json, .type = ty, .offset = offsetof(S, m), .has_offset = offsetof(S, has_##m), .null_offset = -1}

static const mf_type t_bool = {.kind = MF_K_BOOL, .name = "bool", .size = sizeof(bool)};
static const mf_type t_name = {.kind = MF_K_STR, .name = "string", .size = sizeof(char *), .min_len = 1, .max_len = 255};
static const mf_type t_secret = {.kind = MF_K_STR, .name = "hash", .size = sizeof(char *), .min_len = 1, .max_len = 1023};
static const mf_type t_subject = {.kind = MF_K_STR, .name = "subject", .size = sizeof(char *), .min_len = 1, .max_len = 1024};
static const mf_type t_subjects = {.kind = MF_K_ARR, .name = "subjects", .size = sizeof(mf_array), .item = &t_subject,
                                   .max_items = 10000};
static const mf_type t_count = {.kind = MF_K_INT, .name = "count", .size = sizeof(int64_t),
                                .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .imin = 0, .imax = 1000000};
static const mf_type t_ms = {.kind = MF_K_INT, .name = "milliseconds", .size = sizeof(int64_t),
                             .flags = MF_TF_HAS_MIN | MF_TF_HAS_MAX, .imin = 0, .imax = 86400000};

static const mf_field list_fields[] = {
    FIELD(w_list, "allow", allow, &t_subjects),
    FIELD(w_list, "deny", deny, &t_subjects),
};
static const mf_type t_list = {.kind = MF_K_OBJ, .name = "permission list", .size = sizeof(w_list),
                               .flags = MF_TF_CLOSED, .fields = list_fields, .field_count = 2};

static const mf_field perms_fields[] = {
    FIELD(w_perms, "publish", publish, &t_list),
    FIELD(w_perms, "subscribe", subscribe, &t_list),
    FIELD(w_perms, "allow_responses", allow_responses, &t_bool),
    FIELD(w_perms, "responses_max", responses_max, &t_count),
    FIELD(w_perms, "responses_expires_ms", responses_expires_ms, &t_ms),
};
static const mf_type t_perms = {.kind = MF_K_OBJ, .name = "permissions", .size = sizeof(w_perms),
                                .flags = MF_TF_CLOSED, .fields = perms_fields, .field_count = 5};

static const mf_field user_fields[] = {
    FIELD(w_user, "user", user, &t_name),
    FIELD(w_user, "password", password, &t_secret),
    FIELD(w_user, "token", token, &t_secret),
    FIELD(w_user, "name", name, &t_name),
    FIELD(w_user, "permissions", permissions, &t_perms),
};
static const mf_type t_user = {.kind = MF_K_OBJ, .name = "user", .size = sizeof(w_user), .flags = MF_TF_CLOSED,
                               .fields = user_fields, .field_count = 5};
static const mf_type t_users = {.kind = MF_K_ARR, .name = "users", .size = sizeof(mf_array), .item = &t_user,
                                .min_items = 1, .max_items = 10000};

static const mf_field file_fields[] = {
    {.name = "users", .type = &t_users, .offset = offsetof(w_file, users), .has_offset = -1, .null_offset = -1,
     .required = true},
};
static const mf_type t_file = {.kind = MF_K_OBJ, .name = "accounts", .size = sizeof(w_file), .flags = MF_TF_CLOSED,
                               .fields = file_fields, .field_count = 1};

/* ---------------------------------------------------------------- loading */

static bool is_bcrypt(const char *h)
{
    /* $2a$/$2b$/$2y$, a two-digit cost, '$', 53 characters of salt and hash */
    return strlen(h) == 60 && h[0] == '$' && h[1] == '2' && strchr("aby", h[2]) && h[3] == '$' && h[6] == '$';
}

static void list_free(perm_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->pats[i]);
    free(l->pats);
    memset(l, 0, sizeof *l);
}

/* Takes the patterns over from the decoded value; 0, or -1 with a message. */
static int list_take(perm_list *l, w_strs *s, bool given, const char *where, char *err, size_t errsz)
{
    l->set = given;
    for (size_t i = 0; i < s->count; i++) {
        const char *p = s->items[i];
        if (!mf_subject_valid(p, strlen(p), true)) {
            snprintf(err, errsz, "%s/%zu: \"%.80s\" is not a valid subject pattern", where, i, p);
            return -1;
        }
    }
    l->pats = s->items;
    l->n = s->count;
    s->items = NULL;
    s->count = 0;
    return 0;
}

struct mfb_accounts {
    mfb_user *users;
    size_t n;
    struct mfb_auth_worker *worker; /* authwork.c */
};

size_t mfb_accounts_count(const mfb_accounts *a)
{
    return a ? a->n : 0;
}

static void user_free(mfb_user *u)
{
    free(u->name);
    free(u->login);
    free(u->hash);
    list_free(&u->pub_allow);
    list_free(&u->pub_deny);
    list_free(&u->sub_allow);
    list_free(&u->sub_deny);
}

void mfb_accounts_free(mfb_accounts *a)
{
    if (!a)
        return;
    mfb_auth_worker_free(a->worker);
    for (size_t i = 0; i < a->n; i++)
        user_free(&a->users[i]);
    free(a->users);
    free(a);
}

static char *take_str(char **s)
{
    char *v = *s;
    *s = NULL;
    return v;
}

/* One decoded user -> mfb_user; 0, or -1 with a message. */
static int user_take(mfb_user *u, w_user *w, size_t i, char *err, size_t errsz)
{
    char where[96];
    if (w->has_user == w->has_token || w->has_user != w->has_password) {
        snprintf(err, errsz, "/users/%zu: give either \"user\" and \"password\", or \"token\"", i);
        return -1;
    }
    char *secret = w->has_token ? w->token : w->password;
    if (!is_bcrypt(secret)) {
        snprintf(err, errsz,
                 "/users/%zu/%s: not a bcrypt hash; credentials are stored hashed, never in clear "
                 "(make one with: mf-broker --hash-password)",
                 i, w->has_token ? "token" : "password");
        return -1;
    }
    u->hash = take_str(w->has_token ? &w->token : &w->password);
    if (w->has_user) {
        u->login = take_str(&w->user);
        u->name = strdup(w->has_name ? w->name : u->login);
    } else {
        char dflt[32];
        snprintf(dflt, sizeof dflt, "token #%zu", i);
        u->name = strdup(w->has_name ? w->name : dflt);
    }
    if (!u->name) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    w_perms *p = &w->permissions;
    u->resp_max = 1;
    if (w->has_permissions) {
        snprintf(where, sizeof where, "/users/%zu/permissions/publish/allow", i);
        if (list_take(&u->pub_allow, &p->publish.allow, p->has_publish && p->publish.has_allow, where, err, errsz))
            return -1;
        snprintf(where, sizeof where, "/users/%zu/permissions/publish/deny", i);
        if (list_take(&u->pub_deny, &p->publish.deny, p->has_publish && p->publish.has_deny, where, err, errsz))
            return -1;
        snprintf(where, sizeof where, "/users/%zu/permissions/subscribe/allow", i);
        if (list_take(&u->sub_allow, &p->subscribe.allow, p->has_subscribe && p->subscribe.has_allow, where, err,
                      errsz))
            return -1;
        snprintf(where, sizeof where, "/users/%zu/permissions/subscribe/deny", i);
        if (list_take(&u->sub_deny, &p->subscribe.deny, p->has_subscribe && p->subscribe.has_deny, where, err,
                      errsz))
            return -1;
        u->allow_responses = p->has_allow_responses && p->allow_responses;
        /* as nats-server: with allow_responses and no publish allow list, a user may publish
         * responses only */
        if (u->allow_responses && !u->pub_allow.set)
            u->pub_allow.set = true;
        if (p->has_responses_max)
            u->resp_max = (uint64_t)p->responses_max;
        if (p->has_responses_expires_ms)
            u->resp_expires_ms = (int)p->responses_expires_ms;
    }
    return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > FILE_MAX) {
        snprintf(err, errsz, "%s: %s", path, !buf ? "out of memory" : bad ? "read error" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Duplicate logins (or names) make "who is this" ambiguous. */
static int check_unique(const mfb_accounts *a, char *err, size_t errsz)
{
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < i; j++) {
            bool same_login = a->users[i].login && a->users[j].login && !strcmp(a->users[i].login, a->users[j].login);
            if (same_login || !strcmp(a->users[i].name, a->users[j].name)) {
                snprintf(err, errsz, "/users/%zu: user \"%.80s\" is already defined at /users/%zu", i,
                         a->users[i].name, j);
                return -1;
            }
        }
    return 0;
}

mfb_accounts *mfb_accounts_load(const char *path, char *err, size_t errsz)
{
    size_t len = 0;
    char *text = read_file(path, &len, err, errsz);
    if (!text)
        return NULL;
    w_file w;
    mf_error e;
    mf_status st = mf_decode(&t_file, text, len, &w, &e);
    free(text);
    if (st != MF_OK) {
        snprintf(err, errsz, "%s: at %s: %s", path, e.pointer[0] ? e.pointer : "/", e.message);
        return NULL;
    }
    mfb_accounts *a = calloc(1, sizeof *a);
    if (a)
        a->users = calloc(w.users.count, sizeof *a->users);
    if (!a || !a->users) {
        snprintf(err, errsz, "out of memory");
        free(a);
        mf_free(&t_file, &w);
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < w.users.count && !rc; i++, a->n++)
        rc = user_take(&a->users[i], &w.users.items[i], i, err, errsz);
    if (!rc)
        rc = check_unique(a, err, errsz);
    mf_free(&t_file, &w);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %s", path, err);
        snprintf(err, errsz, "%s", msg);
        mfb_accounts_free(a);
        return NULL;
    }
    return a;
}

/* ---------------------------------------------------------------- permissions */

const char *mfb_user_name(const mfb_user *u)
{
    return u ? u->name : "";
}

static bool list_matches(const perm_list *l, const char *subject, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (mf_subject_matches(l->pats[i], strlen(l->pats[i]), subject, len))
            return true;
    return false;
}

static bool allowed(const perm_list *allow, const perm_list *deny, const char *subject, size_t len)
{
    if (allow->set && !list_matches(allow, subject, len))
        return false;
    return !list_matches(deny, subject, len);
}

bool mfb_user_may_publish(const mfb_user *u, const char *subject, size_t len)
{
    return !u || allowed(&u->pub_allow, &u->pub_deny, subject, len);
}

bool mfb_user_may_subscribe(const mfb_user *u, const char *subject, size_t len, const char *queue)
{
    (void)queue; /* no queue-specific permissions: an entry covers plain and queue subscriptions */
    return !u || allowed(&u->sub_allow, &u->sub_deny, subject, len);
}

bool mfb_user_may_receive(const mfb_user *u, const char *subject, size_t len)
{
    return !u || !u->sub_deny.n || !list_matches(&u->sub_deny, subject, len);
}

bool mfb_user_allow_responses(const mfb_user *u, uint64_t *max_msgs, int *expires_ms)
{
    if (!u || !u->allow_responses)
        return false;
    *max_msgs = u->resp_max;
    *expires_ms = u->resp_expires_ms;
    return true;
}

/* ---------------------------------------------------------------- hashes */

char *mfb_hash_password(const char *password, char *err, size_t errsz)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!password || !*password) {
        snprintf(err, errsz, "empty password");
        return NULL;
    }
    if (!crypt_gensalt_rn("$2b$", HASH_COST, NULL, 0, salt, sizeof salt)) {
        snprintf(err, errsz, "crypt_gensalt: %s", strerror(errno));
        return NULL;
    }
    struct crypt_data *cd = calloc(1, sizeof *cd);
    char *out = NULL;
    if (cd) {
        const char *h = crypt_r(password, salt, cd);
        if (h && is_bcrypt(h))
            out = strdup(h);
        explicit_bzero(cd, sizeof *cd);
    }
    free(cd);
    if (!out)
        snprintf(err, errsz, "bcrypt failed");
    return out;
}

bool mfb_user_check_secret(const mfb_user *u, const char *secret, struct crypt_data *cd)
{
    const char *h = crypt_r(secret, u->hash, cd);
    size_t n = strlen(u->hash);
    return h && strlen(h) == n && CRYPTO_memcmp(h, u->hash, n) == 0;
}

const mfb_user *mfb_accounts_find_login(const mfb_accounts *a, const char *login)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->users[i].login && !strcmp(a->users[i].login, login))
            return &a->users[i];
    return NULL;
}

const mfb_user *mfb_accounts_user(const mfb_accounts *a, size_t i)
{
    return i < a->n ? &a->users[i] : NULL;
}

bool mfb_user_is_token(const mfb_user *u)
{
    return !u->login;
}

struct mfb_auth_worker **mfb_accounts_worker_slot(mfb_accounts *a)
{
    return &a->worker;
}
