#!/bin/sh
# rosterctl offline commands on real data directories: load, dump
# round trip (byte-identical) with thousands of records, stats --offline,
# verify on a clean store and on one with planted index damage, and bad
# load input reported by line with the store left unchanged.
#   offline.sh ROSTERCTL PLANT
set -eu
CTL=$1
PLANT=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

. "$(dirname "$0")/lib.sh"

# ---- a generated data set: 1500 tenants (one default), 4000 users, half
# of them with ids and dates given (restore), half created fresh.
awk 'BEGIN {
    for (t = 0; t < 1500; t++)
        printf "{\"__typename\":\"TenantModel\",\"id\":\"019a0000-0000-7000-8000-%012x\",\"name\":\"Tenant %d\",\"reference\":%s,\"isDefault\":%s,\"createdAt\":\"2026-01-%02dT%02d:%02d:00.000Z\",\"updatedAt\":\"2026-02-01T00:00:%02d.500Z\"}\n", t, t, (t % 3 ? "\"t" t "\"" : "null"), (t == 7 ? "true" : "false"), 1 + int(t / 1440), int(t / 60) % 24, t % 60, t % 60
    for (u = 0; u < 4000; u++) {
        tenant = (u % 7 == 0) ? "null" : sprintf("\"019a0000-0000-7000-8000-%012x\"", u % 1500)
        cd = (u % 5 == 0) ? sprintf("{\"n\":%d,\"tags\":[\"a\",\"b\"],\"nested\":{\"x\":true}}", u) : "null"
        if (u % 2 == 0)
            printf "{\"__typename\":\"UserModel\",\"id\":\"019b0000-0000-7000-8000-%012x\",\"reference\":\"ref-%d\",\"email\":\"User%d@Example.com\",\"firstName\":\"F%d\",\"lastName\":%s,\"phone\":null,\"locale\":\"en-US\",\"timezone\":\"Asia/Bangkok\",\"isOptedIn\":%s,\"active\":%s,\"avatarUrl\":null,\"customData\":%s,\"twoFactorEnabled\":false,\"tenantId\":%s,\"createdAt\":\"2026-03-01T10:00:00.%03dZ\",\"updatedAt\":\"2026-03-02T10:00:00.%03dZ\"}\n", u, u, u, u, (u % 4 ? "\"L" u "\"" : "null"), (u % 3 ? "true" : "false"), (u % 11 ? "true" : "false"), cd, tenant, u % 1000, u % 1000
        else
            printf "{\"__typename\":\"UserModel\",\"reference\":\"ref-%d\",\"email\":\"user%d@example.org\",\"firstName\":\"Ünïcødé %d\",\"customData\":%s,\"tenantId\":%s}\n", u, u, u, cd, tenant
    }
}' >"$T/gen.jsonl"

expect 0 "$CTL" --data "$T/a" load <"$T/gen.jsonl"
has "$T/out" "loaded 1500 tenant(s) and 4000 user(s)"

expect 0 "$CTL" --data "$T/a" dump
cp "$T/out" "$T/dump1"
[ "$(wc -l <"$T/dump1")" -eq 5500 ] || fail "dump has $(wc -l <"$T/dump1") lines, wanted 5500"
head -n 1500 "$T/dump1" | grep -c '^{"__typename":"TenantModel"' | grep -qx 1500 || fail "tenants first"
tail -n 4000 "$T/dump1" | grep -c '^{"__typename":"UserModel"' | grep -qx 4000 || fail "users after"
[ "$(grep -c '"isDefault":true' "$T/dump1")" -eq 1 ] || fail "one default tenant"
has "$T/dump1" '"id":"019b0000-0000-7000-8000-000000000002","reference":"ref-2","email":"User2@Example.com","firstName":"F2","lastName":"L2","phone":null,"locale":"en-US","timezone":"Asia/Bangkok","isOptedIn":true,"active":true,"avatarUrl":null,"customData":null,"twoFactorEnabled":false,"tenantId":"019a0000-0000-7000-8000-000000000002","createdAt":"2026-03-01T10:00:00.002Z","updatedAt":"2026-03-02T10:00:00.002Z"}'
has "$T/dump1" '"customData":{"n":5,"tags":\["a","b"\],"nested":{"x":true}}'
has "$T/dump1" '"id":"019a0000-0000-7000-8000-000000000007","name":"Tenant 7","reference":"t7","isDefault":true,"createdAt":"2026-01-01T00:07:00.000Z","updatedAt":"2026-02-01T00:00:07.500Z"'

# ---- round trip: load the dump into an empty directory, dump again.
expect 0 "$CTL" --data "$T/b" load <"$T/dump1"
has "$T/out" "loaded 1500 tenant(s) and 4000 user(s)"
expect 0 "$CTL" --data "$T/b" dump
cmp "$T/out" "$T/dump1" || fail "dump -> load -> dump is not byte-identical"

# ---- stats --offline
expect 0 "$CTL" --data "$T/b" stats --offline
has "$T/out" "users            4000"
has "$T/out" "tenants          1500"
has "$T/out" "schema version   3"
has "$T/out" "uniq_email"
expect 0 "$CTL" --data "$T/b" --json stats --offline
has "$T/out" '"users":4000'
has "$T/out" '"tenants":1500'
has "$T/out" '"databases":\[{"name":'

# ---- verify: clean store
expect 0 "$CTL" --data "$T/b" verify
has "$T/out" "ok: every index agrees with the records"
expect 0 "$CTL" --data "$T/b" --json verify
has "$T/out" '"ok":true,"issueCount":0'

# ---- bad load input: reported by line, nothing written.
cat >"$T/bad.jsonl" <<'JSONL'
{"__typename":"UserModel","reference":"fresh-1","email":"fresh1@example.com"}
{"__typename":"UserModel","reference":"broken",
{"__typename":"UserModel","reference":"no-email"}
{"__typename":"UserModel","reference":"dup","email":"USER2@example.com","tenantId":"019a0000-0000-7000-8000-000000000002"}
{"__typename":"UserModel","reference":"orphan","email":"orphan@example.com","tenantId":"019a0000-0000-7000-8000-0000000fffff"}

{"__typename":"TenantModel","name":"Fine Tenant"}
{"__typename":"UserModel","reference":"fresh-2","email":"twice@example.com"}
{"__typename":"UserModel","reference":"fresh-3","email":"Twice@Example.com"}
{"reference":"typeless","email":"typeless@example.com"}
{"__typename":"UserModel","reference":"colour","email":"c@example.com","colour":"red"}
JSONL
expect 4 "$CTL" --data "$T/b" load <"$T/bad.jsonl"
has "$T/err" "line 2: invalid JSON"
has "$T/err" "line 3: email"
has "$T/err" "line 4: email"
has "$T/err" "line 5: tenantId"
has "$T/err" "line 9: email"
has "$T/err" "line 10: __typename"
has "$T/err" "line 11: colour: unknown UserModel field"
has "$T/err" "7 bad line(s); nothing was written"
if grep -q "line 1:" "$T/err" || grep -q "line 7:" "$T/err" || grep -q "line 8:" "$T/err"; then
    cat "$T/err" >&2; fail "a good line was reported"
fi
expect 0 "$CTL" --data "$T/b" dump
cmp "$T/out" "$T/dump1" || fail "a rejected load changed the store"

# --json: the errors come as one object on stderr.
expect 4 "$CTL" --data "$T/b" --json load <"$T/bad.jsonl"
has "$T/err" '"code":"INVALID_ARGUMENT"'
has "$T/err" '{"line":3,"field":"email"'

# ---- dry run: valid input is checked, nothing written.
head -n 1 "$T/bad.jsonl" >"$T/good.jsonl"
sed -n 7,8p "$T/bad.jsonl" >>"$T/good.jsonl"
expect 0 "$CTL" --data "$T/b" load --dry-run <"$T/good.jsonl"
has "$T/out" "checked 1 tenant(s) and 2 user(s) (dry run, nothing written)"
expect 0 "$CTL" --data "$T/b" dump
cmp "$T/out" "$T/dump1" || fail "a dry run changed the store"
expect 0 "$CTL" --data "$T/b" --json load <"$T/good.jsonl"
has "$T/out" '{"tenants":1,"users":2,"dryRun":false}'
expect 0 "$CTL" --data "$T/b" dump
[ "$(wc -l <"$T/out")" -eq 5503 ] || fail "the good load did not add 3 records"
has "$T/out" '"email":"twice@example.com"'
# Loading the same dump again collides on every id.
expect 4 "$CTL" --data "$T/b" load <"$T/dump1"
has "$T/err" "line 1: id"

# ---- batches: committed up to the last good batch, nothing after it.
expect 0 "$CTL" --data "$T/b" dump
cp "$T/out" "$T/before-batch"
awk 'BEGIN {
    for (i = 1; i <= 6; i++)
        if (i == 5)
            printf "{\"__typename\":\"UserModel\",\"reference\":\"batch-%d\"}\n", i
        else
            printf "{\"__typename\":\"UserModel\",\"reference\":\"batch-%d\",\"email\":\"batch%d@example.com\"}\n", i, i
}' >"$T/batch.jsonl"
expect 4 "$CTL" --data "$T/b" load --batch 2 <"$T/batch.jsonl"
has "$T/err" "line 5: email"
has "$T/err" "1 bad line(s); lines 1-4 were committed (0 tenant(s), 4 user(s)), nothing after line 4 was written"
expect 0 "$CTL" --data "$T/b" dump
[ "$(wc -l <"$T/out")" -eq 5507 ] || fail "batch load: $(wc -l <"$T/out") lines, wanted 5507"
has "$T/out" '"reference":"batch-4"'
hasnt "$T/out" '"reference":"batch-6"'
expect 2 "$CTL" --data "$T/b" load --batch 0 <"$T/batch.jsonl"
has "$T/err" "--batch takes a positive number"
# A clean batched load of the whole dump round-trips too.
expect 0 "$CTL" --data "$T/c" load --batch 700 <"$T/dump1"
expect 0 "$CTL" --data "$T/c" dump
cmp "$T/out" "$T/dump1" || fail "batched load -> dump is not byte-identical"

# ---- API keys on the data directory (--offline): no service, no key needed.
unset ROSTER_KEY
expect 0 "$CTL" --data "$T/c" keys list --offline
has "$T/out" "0 of 0 keys"
expect 0 "$CTL" --data "$T/c" --json keys create --offline --name root --role admin
has "$T/out" '^{"key":{"id":"[0-9a-f-]*","name":"root","role":"admin","tenantId":null,"status":"active","createdAt":"20[^"]*","expiresAt":null,"revokedAt":null,"lastUsedAt":null,"rotatedAt":null,"previousValidUntil":null},"secret":"rstr_[0-9a-f]\{32\}_[A-Za-z0-9_-]\{43\}"}$'
has "$T/err" '"warning":"the secret is shown only this once'
ROOT=$(sed -n 's/^{"key":{"id":"\([^"]*\)".*/\1/p' "$T/out")
ROOT_SECRET=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/out")
echo "$ROOT_SECRET" | grep -q "^rstr_$(echo "$ROOT" | tr -d -)_" || fail "the secret does not carry the key id"
expect 0 "$CTL" --data "$T/c" keys create --offline --name reader --role reader \
    --tenant 019a0000-0000-7000-8000-000000000002 --expires 12h
has "$T/out" "^secret  *rstr_"
has "$T/err" "rosterctl: keys create: the secret is shown only this once"
RID=$(sed -n 's/^id  *//p' "$T/out")
expect 1 "$CTL" --data "$T/c" keys create --offline --name reader --role reader \
    --tenant 019a0000-0000-7000-8000-0000000fffff
has "$T/err" "tenantId"
expect 4 "$CTL" --data "$T/c" keys create --offline --name old --role admin --expires 2000-01-01T00:00:00Z
has "$T/err" "expiresAt"
expect 0 "$CTL" --data "$T/c" keys list --offline
has "$T/out" "root  *admin  *-  *active"
has "$T/out" "reader  *reader  *019a0000-0000-7000-8000-000000000002  *active"
has "$T/out" "2 of 2 keys"
hasnt "$T/out" "rstr_"
expect 0 "$CTL" --data "$T/c" --json keys show "$RID" --offline
has "$T/out" "\"id\":\"$RID\",\"name\":\"reader\",\"role\":\"reader\""
has "$T/out" '"expiresAt":"20'
expect 0 "$CTL" --data "$T/c" --json keys rotate "$ROOT" --offline --grace 2h
has "$T/out" '"rotatedAt":"20'
has "$T/out" '"previousValidUntil":"20'
NEW_SECRET=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/out")
[ -n "$NEW_SECRET" ] && [ "$NEW_SECRET" != "$ROOT_SECRET" ] || fail "rotate --offline gave no new secret"
expect 0 "$CTL" --data "$T/c" keys revoke "$RID" --offline
has "$T/out" "^status  *revoked"
expect 0 "$CTL" --data "$T/c" --json keys list --offline
has "$T/out" '"totalCount":1'
expect 0 "$CTL" --data "$T/c" --json keys list --offline --all
has "$T/out" '"totalCount":2'
has "$T/out" '"status":"revoked"'
expect 4 "$CTL" --data "$T/c" keys rotate "$RID" --offline
expect 1 "$CTL" --data "$T/c" keys show 0190b1c4-0000-7000-8000-000000000001 --offline
expect 4 "$CTL" --data "$T/c" keys show not-a-uuid --offline
expect 1 "$CTL" --data "$T/none" keys list --offline
has "$T/err" "data directory $T/none"
# offline commands never read a key: not even a bad key file
expect 0 "$CTL" --data "$T/c" --key-file "$T/none.key" keys list --offline
# the keys are part of what verify checks, and dump leaves them out
expect 0 "$CTL" --data "$T/c" verify
expect 0 "$CTL" --data "$T/c" dump
hasnt "$T/out" "rstr_"

# ---- verify finds planted damage and reports each item.
victim=019b0000-0000-7000-8000-000000000002
tenant=019a0000-0000-7000-8000-000000000002
stray=$("$PLANT" "$T/a" "$victim" "$tenant") || fail "planting failed"
expect 1 "$CTL" --data "$T/a" verify
grep "missing_entry" "$T/out" | grep "uniq_email" | grep -q "$victim" ||
    { cat "$T/out" >&2; fail "missing uniq_email entry of $victim not reported"; }
grep "stale_entry" "$T/out" | grep "idx_tenant" | grep -q "$stray" ||
    { cat "$T/out" >&2; fail "stray idx_tenant entry $stray not reported"; }
has "$T/err" "mismatch(es) found"
expect 1 "$CTL" --data "$T/a" --json verify
has "$T/out" '"ok":false'
has "$T/out" "\"kind\":\"missing_entry\",\"db\":\"uniq_email\",\"id\":\"$victim\""
has "$T/out" "\"kind\":\"stale_entry\",\"db\":\"idx_tenant\""

# ---- Unicode case folding of emails, and avatarUrl: duplicates by
# folding and bad URLs refused by line, nothing written.
cat >"$T/fold.jsonl" <<'JSONL'
{"__typename":"UserModel","reference":"e1","email":"élodie@example.com"}
{"__typename":"UserModel","reference":"e2","email":"ÉLODIE@example.com"}
{"__typename":"UserModel","reference":"s1","email":"STRASSE@example.com"}
{"__typename":"UserModel","reference":"s2","email":"straße@example.com"}
{"__typename":"UserModel","reference":"a1","email":"a1@example.com","avatarUrl":"javascript:alert(1)"}
{"__typename":"UserModel","reference":"a2","email":"a2@example.com","avatarUrl":"https://cdn.example.com/a2.png"}
JSONL
expect 4 "$CTL" --data "$T/u" load <"$T/fold.jsonl"
has "$T/err" "line 2: email"
has "$T/err" "line 4: email"
has "$T/err" "line 5: avatarUrl"
has "$T/err" "3 bad line(s); nothing was written"
expect 0 "$CTL" --data "$T/u" dump
[ ! -s "$T/out" ] || fail "a rejected load wrote records"
sed -n '1p;3p;6p' "$T/fold.jsonl" >"$T/fold-good.jsonl"
expect 0 "$CTL" --data "$T/u" load <"$T/fold-good.jsonl"
has "$T/out" "loaded 0 tenant(s) and 3 user(s)"
expect 0 "$CTL" --data "$T/u" verify
printf '%s\n' '{"__typename":"UserModel","reference":"s3","email":"Straße@Example.com"}' >"$T/fold-dup.jsonl"
expect 4 "$CTL" --data "$T/u" load <"$T/fold-dup.jsonl"
has "$T/err" "line 1: email"

# ---- errors on the data directory itself.
expect 1 "$CTL" --data "$T/none" dump
has "$T/err" "data directory $T/none"
: >"$T/file"
expect 4 "$CTL" --data "$T/file" verify
has "$T/err" "is not a directory"
# ---- --help on every command, group and the program.
for cmd in "users get" "users list" "users create" "users update" "users deactivate" \
    "tenants get" "tenants list" "tenants create" "tenants update" "tenants set-default" \
    health stats dump load verify "keys create" "keys list" "keys show" "keys revoke" \
    "keys rotate"; do
    # shellcheck disable=SC2086
    expect 0 "$CTL" $cmd --help
    has "$T/out" "^usage: rosterctl $cmd"
    has "$T/out" "Exit codes"
done
expect 0 "$CTL" tenants --help
has "$T/out" "tenants set-default ID"
expect 2 "$CTL" users
has "$T/err" "users: which one?"
echo "ok"
