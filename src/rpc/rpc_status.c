#include "rpc_status.h"

#include <string.h>

void rpc_status_reply(Roster__V1__RpcReply *reply, rpc_status *st, int err,
                      const roster_err_detail *detail)
{
    roster__v1__rpc_reply__init(reply);
    memset(&st->detail, 0, sizeof st->detail);
    if (detail != NULL && detail != &st->detail)
        st->detail = *detail;
    reply->has_code = 1;
    reply->code = roster_err_to_status(err);
    if (err == ROSTER_E_OK)
        return;
    reply->message = st->detail.message[0] ? st->detail.message : (char *)roster_strerror(err);
    if (st->detail.field[0]) {
        roster__v1__field_violation__init(&st->violation);
        st->violation.field = st->detail.field;
        st->violation.description =
            st->detail.message[0] ? st->detail.message : (char *)roster_strerror(err);
        st->violations[0] = &st->violation;
        reply->n_violations = 1;
        reply->violations = st->violations;
    }
}
