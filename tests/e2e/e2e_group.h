/*
 * e2e_group.h - the one-server-per-program setup shared by the client test
 * programs that are built once per server kind (E2E_KIND = E2E_NATS or
 * E2E_BROKER, see CMakeLists.txt). Include it once, after <cmocka.h>, in the
 * program's .c file: it defines the program's server, its cmocka group
 * setup/teardown, REQUIRE_SERVER() and connect_one().
 */
#ifndef MF_E2E_GROUP_H
#define MF_E2E_GROUP_H

#include "e2e_util.h"

#ifndef E2E_KIND
#define E2E_KIND E2E_NATS
#endif

static e2e_server g_srv; /* one server for all the tests of the program */
static bool g_up;

#define REQUIRE_SERVER() E2E_REQUIRE_SERVER(E2E_KIND, g_up)

static int group_setup(void **state)
{
    (void)state;
    g_up = e2e_group_start(&g_srv, E2E_KIND, E2E_SHARED_MAX_PAYLOAD);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_up)
        e2e_server_cleanup(&g_srv);
    return 0;
}

static mf_client *connect_one(e2e_events *ev)
{
    return e2e_connect_url(g_srv.url, ev);
}

#endif
