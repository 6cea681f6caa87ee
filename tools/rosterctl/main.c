/* rosterctl: parses the command line and runs the command it names. */
#include "cli.h"
#include "dump.h"
#include "load.h"
#include "output.h"
#include "service.h"
#include "storestat.h"
#include "tenants.h"
#include "users.h"
#include "verify.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
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
    default:
        code = CTL_EXIT_INTERNAL;
        break;
    }
done:
    free(a);
    if (fflush(stdout) != 0 && code == CTL_EXIT_OK)
        code = CTL_EXIT_INTERNAL;
    return code;
}
