/*
 * mfctl.h - what the files of mfctl share: the parsed command line, exit
 * statuses, and the helpers every command uses (connecting, resolving a
 * channel or subject, checking payloads, printing messages, waiting).
 *
 * One file per job: main.c (dispatch, top-level help), opts.c (options),
 * duration.c, servers.c, connect.c, target.c (channel/subject resolution),
 * payload.c (input, validation, printing), wait.c (waiting for an end),
 * cmd_*.c (one command each). docs/mfctl.md is the user's manual.
 */
#ifndef MFCTL_H
#define MFCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mf/client.h"
#include "mf/registry.h"

/* Exit statuses: printed by `mfctl --help` and listed in docs/mfctl.md. */
enum {
    MFCTL_OK = 0,            /* done */
    MFCTL_FAIL = 1,          /* a failure at run time: invalid payload or reply, cannot connect, campaign failed */
    MFCTL_USAGE = 2,         /* the command line is wrong (unknown option, bad duration, bad parameter value) */
    MFCTL_TIMEOUT = 3,       /* what was awaited did not come in time */
    MFCTL_NO_RESPONDERS = 4, /* a request reached no responder */
    MFCTL_REFUSED = 5,       /* the responder refused the request (Nats-Service-Error) */
    MFCTL_INTERRUPTED = 130  /* SIGINT/SIGTERM before the end (`sub` ends with 0 instead) */
};

#define MFCTL_MAX_ARGS 4
#define MFCTL_MAX_PARAMS 8
#define MFCTL_MAX_SERVER_ARGS 16
#define MFCTL_SUBJECT_MAX 512

/* Options (bits of mfctl_opts.seen and of a command's accepted set). */
enum {
    MFCTL_O_SERVER = 1u << 0,
    MFCTL_O_CONNECT_TIMEOUT = 1u << 1,
    MFCTL_O_HELP = 1u << 2,
    MFCTL_O_TIMEOUT = 1u << 3,
    MFCTL_O_COUNT = 1u << 4,
    MFCTL_O_QUEUE = 1u << 5,
    MFCTL_O_MESSAGE = 1u << 6,
    MFCTL_O_PARAM = 1u << 7,
    MFCTL_O_RAW = 1u << 8,
    MFCTL_O_JSON = 1u << 9,
    MFCTL_O_CAMPAIGN = 1u << 10,
    MFCTL_O_VERSION = 1u << 11,
    MFCTL_O_TOKEN = 1u << 12,
    MFCTL_O_USER = 1u << 13,
    MFCTL_O_PASSWORD = 1u << 14,
    MFCTL_O_INBOX_PREFIX = 1u << 15
};
/* How to connect: accepted by every command. */
#define MFCTL_O_CONNECTION \
    (MFCTL_O_SERVER | MFCTL_O_CONNECT_TIMEOUT | MFCTL_O_TOKEN | MFCTL_O_USER | MFCTL_O_PASSWORD | MFCTL_O_INBOX_PREFIX)
/* Accepted by every command. */
#define MFCTL_O_GLOBAL (MFCTL_O_CONNECTION | MFCTL_O_HELP)

typedef struct mfctl_param {
    const char *name;  /* points into argv */
    size_t name_len;
    const char *value;
} mfctl_param;

/* The parsed command line. Strings point into argv. */
typedef struct mfctl_opts {
    const char *cmd;                         /* NULL: none given */
    const char *args[MFCTL_MAX_ARGS];        /* positional arguments after the command */
    int n_args;
    unsigned seen;                           /* MFCTL_O_* given */
    const char *server_args[MFCTL_MAX_SERVER_ARGS]; /* each -s value (may hold a comma-separated list) */
    size_t n_server_args;
    int connect_timeout_ms;                  /* default 5 s */
    int timeout_ms;                          /* valid when seen & MFCTL_O_TIMEOUT */
    long count;                              /* 0 = no limit */
    const char *queue;
    const char *message;
    const char *campaign;
    const char *token;                       /* --token, else NULL ($MF_TOKEN is read by mfctl_connect) */
    const char *user;                        /* --user ($MF_USER) */
    const char *password;                    /* --password ($MF_PASSWORD) */
    const char *inbox_prefix;                /* --inbox-prefix, else the client's "_INBOX" */
    mfctl_param params[MFCTL_MAX_PARAMS];
    size_t n_params;
    bool raw, json;
} mfctl_opts;

/* The contract mfctl was built with. */
extern const mf_registry *mfctl_reg;

/* ---- opts.c */

/*
 * Parses argv into *o. Options may come before or after the command. For
 * `validate`, options other than the global ones are left in place and the
 * arguments after the command are copied, in order, into pass/n_pass (room for
 * argc entries) for mf_validate_tool_main. Returns MFCTL_OK or MFCTL_USAGE
 * after printing the reason on stderr.
 */
int mfctl_parse(int argc, char **argv, mfctl_opts *o, char **pass, int *n_pass);

/* Checks that `o` uses only options in `accepted` (| MFCTL_O_GLOBAL). MFCTL_OK or MFCTL_USAGE (printed). */
int mfctl_check_options(const mfctl_opts *o, unsigned accepted);

/* Prints "mfctl: <fmt>" and "Run 'mfctl <cmd> --help' for usage." on stderr; returns MFCTL_USAGE. */
int mfctl_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- duration.c */

/*
 * A duration with units, as the nats CLI and Go's time.ParseDuration take it:
 * "500ms", "3s", "1m30s", "1.5h" (units ns us ms s m h). A bare number is
 * refused with a hint. The result is rounded up to whole milliseconds; it must
 * be > 0 and at most INT_MAX ms. 0 on success, else -1 with the reason in why.
 */
int mfctl_parse_duration(const char *s, int *ms, char *why, size_t why_cap);

/* "2s", "500ms", "1m30s": a duration for people. Returns buf. */
const char *mfctl_fmt_duration(int64_t ms, char *buf, size_t cap);

/* ---- servers.c */

/*
 * The server URLs to use, by precedence: -s/--server, $MF_SERVER, $NATS_URL,
 * ws://127.0.0.1:4280. Each source may be a comma-separated list; a URL without
 * a scheme gets ws://. A nats:// (or tls://) URL is refused: mfctl speaks NATS
 * over WebSocket. On success *urls is a malloc'd array of malloc'd strings
 * (mfctl_servers_free) and *source names where they came from. MFCTL_OK or
 * MFCTL_USAGE (printed).
 */
int mfctl_servers(const mfctl_opts *o, char ***urls, size_t *n, const char **source);
void mfctl_servers_free(char **urls, size_t n);

/* ---- connect.c */

/*
 * Creates a client for the servers of `o`, with its credentials (--token, else
 * $MF_TOKEN; --user/--password, else $MF_USER/$MF_PASSWORD) and inbox prefix,
 * and waits up to --connect-timeout for the connection; a server that refuses
 * the credentials ends the wait at once. NULL on failure, after printing why;
 * *rc then holds the exit status (MFCTL_USAGE for bad URLs or options,
 * MFCTL_FAIL otherwise).
 */
mf_client *mfctl_connect(const mfctl_opts *o, int *rc);

/*
 * The text of the first -ERR the server sent that left the connection open
 * (`Permissions Violation for Publish to "x"`), else NULL. The server answers
 * in order, so after a flush it covers every operation sent before it.
 */
const char *mfctl_server_error(void);

/* ---- target.c */

/* What a CHANNEL argument names once resolved. */
typedef struct mfctl_target {
    char subject[MFCTL_SUBJECT_MAX];     /* concrete subject, or a pattern for sub */
    const mf_channel_desc *ch;           /* the contract's channel, NULL when none matches */
    const mf_message_desc *msg;          /* --message, else NULL: the channel's (mfctl_channel_messages) */
    const mf_message_desc *reply;        /* request/reply on ch: the reply's message; else NULL */
} mfctl_target;

enum { MFCTL_LITERAL = 0, MFCTL_PATTERN = 1 };

/*
 * Resolves `name` (a channel key, a channel address, or a subject) with the
 * --param values of o. MFCTL_LITERAL needs a value for every parameter and no
 * wildcards (pub, req); MFCTL_PATTERN puts `*` for parameters not given and
 * accepts wildcards (sub). Parameter values are checked like the typed API
 * checks them (mf_param_check). MFCTL_OK or MFCTL_USAGE (printed).
 */
int mfctl_target_resolve(const mfctl_opts *o, const char *name, int mode, mfctl_target *t);

/*
 * The messages published on ch's subject: the messages of its operations (not
 * their replies, which travel to inboxes), else every message of ch. Writes at
 * most cap into out; returns how many.
 */
size_t mfctl_channel_messages(const mf_channel_desc *ch, const mf_message_desc **out, size_t cap);

/* The reply message of a request/reply operation on ch; NULL when there is none. */
const mf_message_desc *mfctl_channel_reply(const mf_channel_desc *ch);

/* ---- payload.c */

/* Reads FILE ("-" or NULL: standard input), at most 64 MiB. NULL after printing why. */
char *mfctl_read_input(const char *path, size_t *len);

/*
 * Checks data against `msg` or, when msg is NULL, against each message
 * published on ch (mfctl_channel_messages; valid when one accepts it).
 * With ch and `subject` (the concrete subject it goes or came on; NULL: no
 * subject check), a parameter whose value comes from the payload (its
 * `location`) must have the payload's value in the subject, as the typed
 * receivers require (MF_ERR_INVALID_ARG, err->pointer = the location).
 * *which receives the message checked (the one that accepted it, else the
 * first). MF_OK, else the codec's error in
 * err. MF_ERR_NOT_FOUND when there is nothing to check against.
 */
mf_status mfctl_check(const mf_channel_desc *ch, const char *subject, const mf_message_desc *msg, const void *data,
                      size_t len, const mf_message_desc **which, mf_error *err);

/* Whether a payload keeps the contract. */
typedef struct mfctl_verdict {
    bool applies;                 /* false: no channel or message to check against (or --raw) */
    bool valid;
    const mf_message_desc *msg;   /* the message checked */
    mf_error err;                 /* when !valid */
} mfctl_verdict;

/* Fills *v with mfctl_check(ch, subject, msg, ...); v->applies is false when ch and msg are both NULL. */
void mfctl_judge(const mf_channel_desc *ch, const char *subject, const mf_message_desc *msg, const void *data,
                 size_t len, mfctl_verdict *v);

/* Prints "mfctl: <what> is not a valid <Message>: <pointer>: <message>" on stderr. */
void mfctl_print_invalid(const char *what, const mfctl_verdict *v);

/*
 * Flushes stdout. false when it cannot be written (a closed pipe: `mfctl sub x |
 * head -1`, a full disk); the reason is printed unless it is a closed pipe.
 */
bool mfctl_flush_stdout(void);

/* Prints the payload on one line: compact JSON when it is JSON, else the text with
 * control and non-UTF-8 bytes escaped (\n, \xNN). raw: the bytes as they are. */
void mfctl_print_payload(FILE *f, const void *data, size_t len, bool raw);

/*
 * Prints one JSON envelope and a newline: {"subject","reply","headers","payload"
 * [,"encoding"][,"status"][,"message","valid"[,"error"]]}. `payload` is the JSON
 * value when the payload is JSON, else a string with "encoding": "text" or
 * "base64". 0, or -1 when out of memory.
 */
int mfctl_print_envelope(FILE *f, const mf_msg *m, const mfctl_verdict *v);

/* ---- wait.c */

/*
 * One end for the main thread to wait for: posted from a client callback, or
 * by SIGINT/SIGTERM (code MFCTL_INTERRUPTED). The first post wins.
 * mfctl_wait_init installs the signal handlers (commands that wait call it;
 * the others keep the default: Ctrl-C ends them). MFCTL_OK or MFCTL_FAIL (printed).
 */
int mfctl_wait_init(void);
void mfctl_wait_post(int code);
/* Waits up to timeout_ms (< 0: forever). true with *code when posted; false at the timeout. */
bool mfctl_wait(int timeout_ms, int *code);

/* ---- commands (cmd_*.c): each returns an exit status */
int mfctl_cmd_channels(const mfctl_opts *o);
int mfctl_cmd_pub(const mfctl_opts *o);
int mfctl_cmd_sub(const mfctl_opts *o);
int mfctl_cmd_req(const mfctl_opts *o);
int mfctl_cmd_demo(const mfctl_opts *o);
int mfctl_cmd_campaign(const mfctl_opts *o);
void mfctl_help_channels(FILE *f);
void mfctl_help_pub(FILE *f);
void mfctl_help_sub(FILE *f);
void mfctl_help_req(FILE *f);
void mfctl_help_demo(FILE *f);
void mfctl_help_campaign(FILE *f);

/* Text shared by the help of every command that connects. */
extern const char mfctl_help_connection[];
extern const char mfctl_help_exit[];

#endif /* MFCTL_H */
