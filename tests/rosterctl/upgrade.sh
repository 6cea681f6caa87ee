#!/bin/sh
# rosterctl upgrade on a store written by an older schema version
# (tests/store/fixtures/store-v1.dump.gz: an mdb_dump of a version 1 data
# directory with three tenants, 239 users among them deactivated, updated
# and deleted ones, customData indexes, API keys and the change feed;
# store-v2.dump.gz: the same store as schema version 2 wrote it;
# store-v1.jsonl: their rosterctl dump). The old store is refused with a
# message naming the upgrade, the upgrade keeps every record, verify is
# clean, and roster-users serves it: lists over every tenant (orders that
# merge the tenants' index ranges) and per tenant agree with the records.
#   upgrade.sh ROSTERCTL ROSTER_USERS FIXTURE_DIR FROM_VERSION
set -eu
CTL=$1
USERS=$2
FX=$3
FROM=$4
TO=3
T=$(mktemp -d)
D=$T/data
PID=
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT INT TERM
K=$T/admin.key
c() { "$CTL" --data "$D" --key-file "$K" "$@"; }

mkdir -p "$D"
gzip -dc "$FX/store-v$FROM.dump.gz" | mdb_load "$D" 2>"$T/load.err" || { cat "$T/load.err" >&2; fail "mdb_load"; }

# ---- the old format is refused, naming the way out
expect 4 "$CTL" --data "$D" verify
has "$T/err" "schema version $FROM .* older than this build's ($TO): upgrade it first with .rosterctl upgrade --data $D"
expect 4 "$CTL" --data "$D" dump
set +e
"$USERS" --data "$D" >"$T/daemon.log" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "roster-users served a version $FROM store"
has "$T/daemon.log" "rosterctl upgrade"


# ---- the upgrade
expect 0 "$CTL" --json upgrade "$D"
has "$T/out" "\"fromVersion\":$FROM,\"toVersion\":$TO,\"upgraded\":true"
expect 0 "$CTL" --data "$D" verify
has "$T/out" "ok: every index agrees with the records"
expect 0 "$CTL" --data "$D" dump
cmp -s "$T/out" "$FX/store-v1.jsonl" || { diff "$T/out" "$FX/store-v1.jsonl" | head >&2; fail "dump after the upgrade differs from before"; }
expect 0 "$CTL" --data "$D" stats --offline
has "$T/out" "^schema version   $TO"
has "$T/out" "^users            239 (214 active)"
# sort indexes hold one entry per user now (no all-users copy)
has "$T/out" "^idx_email  *239 "
expect 0 "$CTL" upgrade "$D"
has "$T/out" "at schema version $TO already: nothing to do"

# ---- roster-users serves the upgraded store (the store has keys: an
# admin key is minted offline)
expect 0 "$CTL" --data "$D" keys create --name upgrade-test --role admin --offline
sed -n 's/^secret  *\(rstr_[^ ]*\)$/\1/p' "$T/out" >"$K"
chmod 600 "$K"
[ -s "$K" ] || { cat "$T/out" >&2; fail "no key text"; }
"$USERS" --data "$D" --custom-index plan:string --custom-index seats:integer \
    >"$T/daemon.log" 2>&1 &
PID=$!
wait_health
# refused while the service has it open
expect 4 "$CTL" upgrade "$D"
has "$T/err" "roster-users"

emails() { grep -o '"email":"[^"]*"' | cut -d'"' -f4; }
# Every user ordered by email descending (a merge over the tenants).
expect 0 c --json users list --all --filter withDeactivated=true --order email:desc --fields id,email
emails <"$T/out" >"$T/got"
grep '"__typename":"UserModel"' "$FX/store-v1.jsonl" | emails | LC_ALL=C sort -r >"$T/want"
[ "$(wc -l <"$T/want")" = 239 ] || fail "fixture: $(wc -l <"$T/want") users"
cmp -s "$T/got" "$T/want" || { diff "$T/got" "$T/want" | head >&2; fail "email order over every tenant"; }
# Active users by firstName ascending, nulls last, ties by id: the ids
# of the users with firstName Ann, in id order, come as one run.
expect 0 c --json users list --all --order firstName:asc --fields id,firstName
grep -o '"id":"[^"]*","firstName":"Ann"' "$T/out" | cut -d'"' -f4 >"$T/got"
grep '"__typename":"UserModel"' "$FX/store-v1.jsonl" | grep '"firstName":"Ann"' | grep '"active":true' |
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | LC_ALL=C sort >"$T/want"
[ -s "$T/want" ] || fail "fixture has no active Ann"
cmp -s "$T/got" "$T/want" || { diff "$T/got" "$T/want" | head >&2; fail "firstName order: the Ann run"; }
# Per tenant: totals from the counters and an indexed equality.
for t in $(grep '"__typename":"TenantModel"' "$FX/store-v1.jsonl" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); do
    n=$(grep "\"tenantId\":\"$t\"" "$FX/store-v1.jsonl" | grep -c '"active":true')
    expect 0 c --json users list --filter "tenantId=$t" --limit 0
    has "$T/out" "\"totalCount\":$n"
    n=$(grep "\"tenantId\":\"$t\"" "$FX/store-v1.jsonl" | grep '"active":true' | grep -c '"locale":"th-TH"')
    expect 0 c --json users list --filter "tenantId=$t" --filter locale=th-TH --order locale:desc --limit 0
    has "$T/out" "\"totalCount\":$n"
done
# customData indexes came through as they were.
n=$(grep '"__typename":"UserModel"' "$FX/store-v1.jsonl" | grep '"active":true' | grep -c '"plan":"pro"')
expect 0 c --json users list --filter customData.plan=pro --limit 0
has "$T/out" "\"totalCount\":$n"
# Writes go on: a new user, then every index still agrees.
expect 0 c --json users create --reference up-1 --email up-1@example.com --first-name Ann
expect 0 c --json users list --filter firstName=Ann --filter email=up-1@example.com --limit 0
has "$T/out" '"totalCount":1'
kill -TERM "$PID"
wait "$PID" || fail "roster-users exited $? on SIGTERM"
PID=
expect 0 "$CTL" --data "$D" verify
echo "ok: upgrade"
