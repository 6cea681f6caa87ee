#include "live.h"

#include "datadir.h"
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The rosterctl option behind a client option the library names. */
static const char *option_of(const char *field)
{
    if (strcmp(field, "tls_ca_file") == 0)
        return "--tls-ca";
    if (strcmp(field, "tls_server_name") == 0)
        return "--tls-server-name";
    if (strcmp(field, "url") == 0)
        return "--connect";
    return field;
}

int ctl_live_open(ctl_live *out, const ctl_args *a)
{
    memset(out, 0, sizeof *out);
    int err;
    if (a->connect != NULL) {
        if (snprintf(out->url, sizeof out->url, "%s", a->connect) >= (int)sizeof out->url)
            err = ROSTER_E_LIMIT;
        else
            err = ROSTER_E_OK;
    } else {
        err = ctl_datadir_default_url(out->url, sizeof out->url, a->data);
    }
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, a->cmd ? a->cmd->words : "", err,
                         "the service address is too long", NULL);
        return err;
    }
    out->call.timeout_ms = (uint32_t)a->timeout_ms;
    roster_client_options o = {0};
    o.default_timeout_ms = (uint32_t)a->timeout_ms;
    o.tls_ca_file = a->tls_ca;
    o.tls_server_name = a->tls_server_name;
    roster_err_detail d = {{0}};
    err = roster_client_open(&out->client, out->url, &o, &d);
    if (err != ROSTER_E_OK) {
        char msg[4600];
        static const char prefix[] = "cannot reach the service: ";
        const char *why = d.message[0] ? d.message : roster_strerror(err);
        if (strncmp(why, prefix, sizeof prefix - 1) == 0)
            why += sizeof prefix - 1;
        if (err == ROSTER_E_UNAVAILABLE || err == ROSTER_E_CLOSED)
            snprintf(msg, sizeof msg, "cannot reach the service at %s: %s", out->url, why);
        else
            snprintf(msg, sizeof msg, "cannot open a client on %s: %s%s%s", out->url,
                     option_of(d.field), d.field[0] ? ": " : "", why);
        ctl_report_error(a->json, a->cmd ? a->cmd->words : "", err, msg, NULL);
        out->client = NULL;
        return err;
    }
    return ROSTER_E_OK;
}

void ctl_live_close(ctl_live *l)
{
    if (l == NULL)
        return;
    roster_client_close(l->client);
    l->client = NULL;
}

int ctl_live_fail(const ctl_args *a, const char *what, int err, const roster_status *st)
{
    json_t *vio = NULL;
    if (st != NULL && st->violation_count > 0) {
        vio = json_array();
        for (size_t i = 0; i < st->violation_count; i++)
            json_array_append_new(vio, json_pack("{s:s, s:s}", "field", st->violations[i].field,
                                                 "description", st->violations[i].message));
    }
    const char *msg = st != NULL && st->message[0] ? st->message : NULL;
    ctl_report_error(a->json, what, err, msg, vio);
    json_decref(vio);
    return ctl_exit_code(err);
}

#define VIEW_STR(field) out->field = in->has_##field ? (char *)in->field : NULL
#define VIEW_VAL(field)                                                                            \
    do {                                                                                           \
        out->has_##field = in->has_##field;                                                        \
        out->field = in->field;                                                                    \
    } while (0)

void ctl_user_view(Roster__V1__User *out, const roster_v1_User *in)
{
    roster__v1__user__init(out);
    VIEW_STR(id);
    VIEW_STR(reference);
    VIEW_STR(email);
    VIEW_STR(first_name);
    VIEW_STR(last_name);
    VIEW_STR(phone);
    VIEW_STR(locale);
    VIEW_STR(timezone);
    VIEW_VAL(is_opted_in);
    VIEW_VAL(active);
    VIEW_STR(avatar_url);
    VIEW_STR(custom_data);
    VIEW_VAL(two_factor_enabled);
    VIEW_STR(tenant_id);
    VIEW_VAL(created_at);
    VIEW_VAL(updated_at);
}

void ctl_tenant_view(Roster__V1__Tenant *out, const roster_v1_Tenant *in)
{
    roster__v1__tenant__init(out);
    VIEW_STR(id);
    VIEW_STR(name);
    VIEW_STR(reference);
    VIEW_VAL(is_default);
    VIEW_VAL(created_at);
    VIEW_VAL(updated_at);
    VIEW_VAL(user_count);
}

int ctl_parse_bool(bool *out, const char *name, const char *text, roster_err_detail *d)
{
    if (strcmp(text, "true") == 0) {
        *out = true;
        return ROSTER_E_OK;
    }
    if (strcmp(text, "false") == 0) {
        *out = false;
        return ROSTER_E_OK;
    }
    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, name, "--%s takes true or false, not '%s'",
                       name, text);
}

int ctl_parse_count(int32_t *out, const char *name, const char *text, roster_err_detail *d)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno != 0 || v < 0 || v > INT32_MAX)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, name,
                           "--%s takes a whole number from 0 to 2147483647, not '%s'", name, text);
    *out = (int32_t)v;
    return ROSTER_E_OK;
}
