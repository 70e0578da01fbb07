/*
 * mfctl - the command-line client for people, used like the `nats` CLI.
 *
 *   mfctl [OPTIONS] COMMAND [ARGS] [OPTIONS]
 *
 * main.c: the command table, the top-level help and the dispatch. Each command
 * lives in its cmd_*.c; options in opts.c. The manual is docs/mfctl.md.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mf/validate_tool.h"
#include "mf_sdk/registry.h"
#include "mfctl.h"

#ifndef MFCTL_VERSION
#define MFCTL_VERSION "dev"
#endif

const mf_registry *mfctl_reg = &mf_sdk_registry;

const char mfctl_help_connection[] =
    "Connection (every command that talks to a server):\n"
    "  -s, --server URL         ws://HOST:PORT or wss://HOST:PORT; repeatable, or a comma-separated\n"
    "                           list. Default: $MF_SERVER, else $NATS_URL, else ws://127.0.0.1:4280.\n"
    "                           A URL without a scheme gets ws://; nats:// URLs are refused.\n"
    "      --connect-timeout D  give up connecting after D (default 5s)\n"
    "      --token TOKEN        the server's auth token (default $MF_TOKEN)\n"
    "      --user USER          user and password of the server's accounts\n"
    "      --password PASSWORD  (default $MF_USER, $MF_PASSWORD; the environment keeps them out of ps)\n"
    "      --inbox-prefix P     reply inboxes under P (default _INBOX), for a user allowed only P.>\n"
    "Durations take a unit, as in the nats CLI: 500ms, 3s, 1m, 1m30s, 1h.\n";

const char mfctl_help_exit[] =
    "Exit status: 0 ok, 1 failure (invalid payload or reply, cannot connect, campaign failed or\n"
    "cancelled), 2 usage (bad command line), 3 timeout, 4 no responders, 5 refused by the\n"
    "responder, 130 interrupted.\n";

typedef struct command {
    const char *name;
    const char *alias;
    int (*run)(const mfctl_opts *o);
    void (*help)(FILE *f);
    const char *summary;
} command;

static void help_validate(FILE *f)
{
    char *argv[] = {"mfctl validate", "--help", NULL};
    fflush(f);
    mf_validate_tool_main(mfctl_reg, 2, argv);
}

static const command COMMANDS[] = {
    {"channels", "list", mfctl_cmd_channels, mfctl_help_channels,
     "the contract's channels: messages, direction, parameters"},
    {"pub", NULL, mfctl_cmd_pub, mfctl_help_pub, "publish a message on a channel (validated)"},
    {"sub", NULL, mfctl_cmd_sub, mfctl_help_sub, "print the messages of a subject or channel"},
    {"req", NULL, mfctl_cmd_req, mfctl_help_req, "send a request, print the reply"},
    {"validate", NULL, NULL, help_validate, "check a JSON document against a message"},
    {"campaign", NULL, mfctl_cmd_campaign, mfctl_help_campaign, "campaign watch: follow an execution's progress"},
    {"demo", NULL, mfctl_cmd_demo, mfctl_help_demo, "publish one example of every message the services send"},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof *COMMANDS)

static void usage(FILE *f)
{
    fprintf(f, "usage: mfctl [OPTIONS] COMMAND [ARGS] [OPTIONS]\n\n"
               "The command-line client of the %s %s contract. Options may come before or\n"
               "after the command.\n\nCommands:\n",
            mfctl_reg->title, mfctl_reg->version);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s%s%s%s\n", COMMANDS[i].name, COMMANDS[i].summary, COMMANDS[i].alias ? " (alias: " : "",
                COMMANDS[i].alias ? COMMANDS[i].alias : "", COMMANDS[i].alias ? ")" : "");
    fprintf(f, "  help CMD  the help of a command (also: mfctl CMD --help)\n\n%s\n"
               "  -h, --help               this help\n"
               "      --version            mfctl's and the contract's versions\n\n%s",
            mfctl_help_connection, mfctl_help_exit);
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; name && i < N_COMMANDS; i++)
        if (!strcmp(COMMANDS[i].name, name) || (COMMANDS[i].alias && !strcmp(COMMANDS[i].alias, name)))
            return &COMMANDS[i];
    return NULL;
}

/* `mfctl help [CMD]`. */
static int run_help(const mfctl_opts *o)
{
    if (o->n_args == 0) {
        usage(stdout);
        return MFCTL_OK;
    }
    const command *c = find_command(o->args[0]);
    if (!c)
        return mfctl_usage_error(NULL, "unknown command %s", o->args[0]);
    c->help(stdout);
    return MFCTL_OK;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    mfctl_opts o;
    char **pass = calloc((size_t)argc + 2, sizeof *pass);
    int n_pass = 0;
    if (!pass)
        return MFCTL_FAIL;
    int rc = mfctl_parse(argc, argv, &o, pass + 1, &n_pass);
    const command *c = find_command(o.cmd);
    if (rc) {
        /* printed */
    } else if (o.seen & MFCTL_O_VERSION) {
        printf("mfctl %s (mflow), contract %s %s\n", MFCTL_VERSION, mfctl_reg->title, mfctl_reg->version);
    } else if (!o.cmd) {
        usage((o.seen & MFCTL_O_HELP) ? stdout : stderr);
        rc = (o.seen & MFCTL_O_HELP) ? MFCTL_OK : MFCTL_USAGE;
    } else if (!strcmp(o.cmd, "help")) {
        rc = run_help(&o);
    } else if (!c) {
        rc = mfctl_usage_error(NULL, "unknown command %s", o.cmd);
    } else if (o.seen & MFCTL_O_HELP) {
        c->help(stdout);
    } else if (!c->run) { /* validate: its own options, after the global ones are taken out */
        pass[0] = "mfctl validate";
        rc = mf_validate_tool_main(mfctl_reg, n_pass + 1, pass);
    } else {
        rc = c->run(&o);
    }
    free(pass);
    if (!mfctl_flush_stdout() && rc == MFCTL_OK)
        rc = MFCTL_FAIL;
    return rc;
}
