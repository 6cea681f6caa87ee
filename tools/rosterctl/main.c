/* rosterctl: parses the command line, loads the API key a live command
 * presents, and runs the command it names. */
#include "cli.h"
#include "compact.h"
#include "credential.h"
#include "dump.h"
#include "import.h"
#include "environment.h"
#include "keys.h"
#include "load.h"
#include "migrate.h"
#include "output.h"
#include "service.h"
#include "storestat.h"
#include "tenants.h"
#include "users.h"
#include "verify.h"
#include "watch.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether the command talks to the service (and so presents a key). */
static bool is_live(const ctl_args *a)
{
    switch (a->cmd->id) {
    case CTL_CMD_DUMP:
    case CTL_CMD_LOAD:
    case CTL_CMD_VERIFY:
    case CTL_CMD_COMPACT:
    case CTL_CMD_UPGRADE:
    case CTL_CMD_MIGRATE:
        return false;
    default:
        return ctl_args_get(a, "offline") == NULL;
    }
}

int main(int argc, char **argv)
{
    static ctl_credential cred; /* wiped before exit */
    signal(SIGPIPE, SIG_IGN);
    ctl_args *a = calloc(1, sizeof *a);
    if (a == NULL) {
        ctl_report_error(false, "", ROSTER_E_NOMEM, NULL, NULL);
        return CTL_EXIT_INTERNAL;
    }
    roster_err_detail d = {{0}};
    int code;
    if (ctl_cli_parse(a, argc, argv, &d) != ROSTER_E_OK) {
        bool json = false;
        for (int i = 1; i < argc; i++)
            json = json || strcmp(argv[i], "--json") == 0;
        ctl_report_error(json, "", ROSTER_E_INVALID_ARGUMENT, d.message, NULL);
        code = CTL_EXIT_USAGE;
        goto done;
    }
    if (a->help) {
        ctl_cli_help(stdout, a);
        code = CTL_EXIT_OK;
        goto done;
    }
    /* --json keeps stderr machine-readable: no plain progress lines. */
    if (a->json && !isatty(STDERR_FILENO))
        a->progress = false;
    if (is_live(a)) {
        /* A key file others may read is a usage error: fix the file. */
        if (ctl_credential_load(&cred, a, &d) != ROSTER_E_OK) {
            ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT, d.message, NULL);
            code = CTL_EXIT_USAGE;
            goto done;
        }
        a->credential = cred.set ? cred.text : NULL;
        a->credential_source = cred.source;
    }
    switch (a->cmd->id) {
    case CTL_CMD_USERS_GET:
        code = ctl_cmd_users_get(a);
        break;
    case CTL_CMD_USERS_LIST:
        code = ctl_cmd_users_list(a);
        break;
    case CTL_CMD_USERS_CREATE:
        code = ctl_cmd_users_create(a);
        break;
    case CTL_CMD_USERS_UPDATE:
        code = ctl_cmd_users_update(a);
        break;
    case CTL_CMD_USERS_DEACTIVATE:
        code = ctl_cmd_users_deactivate(a);
        break;
    case CTL_CMD_USERS_DELETE:
        code = ctl_cmd_users_delete(a);
        break;
    case CTL_CMD_USERS_IMPORT:
        code = ctl_cmd_users_import(a);
        break;
    case CTL_CMD_TENANTS_GET:
        code = ctl_cmd_tenants_get(a);
        break;
    case CTL_CMD_TENANTS_LIST:
        code = ctl_cmd_tenants_list(a);
        break;
    case CTL_CMD_TENANTS_CREATE:
        code = ctl_cmd_tenants_create(a);
        break;
    case CTL_CMD_TENANTS_UPDATE:
        code = ctl_cmd_tenants_update(a);
        break;
    case CTL_CMD_TENANTS_SET_DEFAULT:
        code = ctl_cmd_tenants_set_default(a);
        break;
    case CTL_CMD_TENANTS_DELETE:
        code = ctl_cmd_tenants_delete(a);
        break;
    case CTL_CMD_HEALTH:
        code = ctl_cmd_health(a);
        break;
    case CTL_CMD_STATS:
        code = ctl_args_get(a, "offline") ? ctl_cmd_store_stats(a) : ctl_cmd_service_stats(a);
        break;
    case CTL_CMD_DUMP:
        code = ctl_cmd_dump(a);
        break;
    case CTL_CMD_LOAD:
        code = ctl_cmd_load(a);
        break;
    case CTL_CMD_VERIFY:
        code = ctl_cmd_verify(a);
        break;
    case CTL_CMD_COMPACT:
        code = ctl_cmd_compact(a);
        break;
    case CTL_CMD_UPGRADE:
        code = ctl_cmd_upgrade(a);
        break;
    case CTL_CMD_MIGRATE:
        code = ctl_cmd_migrate(a);
        break;
    case CTL_CMD_KEYS_CREATE:
        code = ctl_cmd_keys_create(a);
        break;
    case CTL_CMD_KEYS_LIST:
        code = ctl_cmd_keys_list(a);
        break;
    case CTL_CMD_KEYS_SHOW:
        code = ctl_cmd_keys_show(a);
        break;
    case CTL_CMD_KEYS_REVOKE:
        code = ctl_cmd_keys_revoke(a);
        break;
    case CTL_CMD_KEYS_ROTATE:
        code = ctl_cmd_keys_rotate(a);
        break;
    case CTL_CMD_ENVIRONMENT:
        code = ctl_cmd_environment(a);
        break;
    case CTL_CMD_ENVIRONMENT_ROTATE:
        code = ctl_cmd_environment_rotate(a);
        break;
    case CTL_CMD_WATCH:
        code = ctl_cmd_watch(a);
        break;
    default:
        code = CTL_EXIT_INTERNAL;
        break;
    }
done:
    ctl_credential_wipe(&cred);
    free(a);
    if (fflush(stdout) != 0 && code == CTL_EXIT_OK)
        code = CTL_EXIT_INTERNAL;
    return code;
}
