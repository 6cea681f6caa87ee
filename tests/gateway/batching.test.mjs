// Cross-request batching of lookups by id, through the real daemons: bursts
// of concurrent user(id), tenant(id), tenant-with-user-count and page
// queries (whose users' tenants and tenants' counts are lookups too) from
// an admin key, a reader and a writer key scoped to tenant A, a user token,
// no key and a wrong key, over existing, nonexistent and malformed ids.
// Every request must get exactly its own answer: the one it gets with
// batching off (compared body for body), and the expected data, null or
// refusal (a reader of A asking for B's records gets NOT_FOUND while the
// admin's requests in the same burst succeed; a user token asking for
// another user gets FORBIDDEN while its own lookups succeed). /metrics
// shows lookups that shared an RPC with batching on, and none with it off.
// With roster-users stopped (SIGSTOP), waves of requests queued behind one
// another's batches each end at their own deadline, not before and not at
// a later request's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack, metricSum, sigstopAndWait, waitFor } from './lib.mjs';

const port = Number(process.env.GW_TEST_PORT || 23116);
const CTL = process.env.ROSTER_CTL_BIN;
let s;
let tenantA;
let tenantB;
const usersA = [];
const usersB = [];
let reader;
let writer;
let token; // a user token for usersA[0]
const MISSING = ['0190a0a0-0000-7000-8000-000000000001', '0190a0a0-0000-7000-8000-000000000002'];
const MISSING_TENANT = '0190a0a0-0000-7000-8000-0000000000ff';

const Q_USER = 'query ($id: ID!) { user(id: $id) { id email } }';
const Q_USER_TENANT = 'query ($id: ID!) { user(id: $id) { id tenant { id name } } }';
const Q_TENANT = 'query ($id: ID!) { tenant(id: $id) { id name } }';
const Q_TENANT_COUNT = 'query ($id: ID!) { tenant(id: $id) { id users { totalCount } } }';
const Q_PAGE = '{ users(limit: 8) { data { id tenant { id name users { totalCount } } } } }';

function wrongSecret(key) {
  const last = key[key.length - 2];
  return key.slice(0, -2) + (last === 'A' ? 'B' : 'A') + key[key.length - 1];
}

before(async () => {
  s = await startStack({ port });
  const t = async (name) => (await s.gql(`mutation { createTenant(tenant: {name: "${name}"}) { id } }`)).body.data.createTenant.id;
  tenantA = await t('A');
  tenantB = await t('B');
  for (let i = 0; i < 12; i++) {
    for (const [tid, list, tag] of [[tenantA, usersA, 'a'], [tenantB, usersB, 'b']]) {
      const r = await s.gql(
        `mutation { createUser(user: {reference: "${tag}${i}", email: "${tag}${i}@example.com", tenantId: "${tid}"}) { id } }`,
      );
      assert.equal(r.status, 200, r.text);
      list.push(r.body.data.createUser.id);
    }
  }
  reader = s.createKey('reader-a', 'reader', tenantA).secret;
  writer = s.createKey('writer-a', 'writer', tenantA).secret;
  const env = JSON.parse(
    execFileSync(CTL, ['--connect', s.ipc, '--key', s.adminKey, '--json', 'environment'], { encoding: 'utf8' }),
  ).environmentId;
  const tok = await fetch(`${s.url}/v01/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ environmentId: env, apiKey: s.adminKey, userId: usersA[0] }),
  });
  assert.equal(tok.status, 200);
  token = (await tok.json()).accessToken;
});

after(async () => {
  const r = await s.stop();
  assert.equal(r.gateway.code, 0);
});

// The burst: [{who, key, query, id, expect}] where expect is 'ok', a field
// error code (data null: the root fields are non-null), 401, or 'any'
// (compared with batching off only).
function requests() {
  const out = [];
  const add = (who, key, query, id, expect) => out.push({ who, key, query, id, expect });
  for (const [who, key] of [['admin', s.adminKey], ['reader', reader], ['writer', writer]]) {
    const own = who === 'admin' ? [...usersA, ...usersB] : usersA;
    const other = who === 'admin' ? [] : usersB;
    for (const id of own) add(who, key, Q_USER, id, 'ok');
    for (const id of other) add(who, key, Q_USER, id, 'NOT_FOUND');
    for (const id of MISSING) add(who, key, Q_USER, id, 'NOT_FOUND');
    add(who, key, Q_USER, 'not-a-uuid', 'any');
    for (const id of own.slice(0, 4)) add(who, key, Q_USER_TENANT, id, 'ok');
    add(who, key, Q_TENANT, tenantA, 'ok');
    add(who, key, Q_TENANT, tenantB, who === 'admin' ? 'ok' : 'NOT_FOUND');
    add(who, key, Q_TENANT, MISSING_TENANT, 'NOT_FOUND');
    add(who, key, Q_TENANT_COUNT, tenantA, 'ok');
    add(who, key, Q_TENANT_COUNT, tenantB, who === 'admin' ? 'ok' : 'NOT_FOUND');
    add(who, key, Q_PAGE, null, 'ok');
    add(who, key, Q_PAGE, null, 'ok');
  }
  // A user token: its own user and tenant, nothing else.
  for (let i = 0; i < 4; i++) {
    add('token', token, Q_USER, usersA[0], 'ok');
    add('token', token, Q_USER_TENANT, usersA[0], 'ok');
    add('token', token, Q_USER, usersA[1 + i], 'FORBIDDEN');
    add('token', token, Q_TENANT, tenantA, 'ok');
    add('token', token, Q_TENANT, tenantB, 'FORBIDDEN');
  }
  // Refused before anything runs.
  add('none', null, Q_USER, usersA[0], 401);
  add('wrong', wrongSecret(s.adminKey), Q_USER, usersA[0], 401);
  // Interleave the callers deterministically.
  return out.map((r, i) => ({ r, k: (i * 7919) % 1009 })).sort((a, b) => a.k - b.k).map((x) => x.r);
}

async function burst(reqs) {
  return Promise.all(
    reqs.map(async (q) => {
      const r = await s.gql(q.query, q.id === null ? undefined : { id: q.id }, { key: q.key });
      return { status: r.status, body: r.body };
    }),
  );
}

function checkOwn(reqs, res) {
  reqs.forEach((q, i) => {
    const { status, body } = res[i];
    const what = `${q.who} ${q.query} ${q.id}: ${JSON.stringify(body)}`;
    if (q.expect === 401) {
      assert.equal(status, 401, what);
      return;
    }
    assert.equal(status, 200, what);
    if (q.expect === 'any') return;
    const root = q.query.includes('tenant(id') ? 'tenant' : q.query.includes('user(id') ? 'user' : 'users';
    if (q.expect === 'ok') {
      assert.equal(body.errors, undefined, what);
      if (root === 'user') assert.equal(body.data.user.id, q.id, what);
      if (root === 'tenant') assert.equal(body.data.tenant.id, q.id, what);
      if (q.query === Q_USER_TENANT) {
        const want = usersA.includes(q.id) ? tenantA : tenantB;
        assert.equal(body.data.user.tenant.id, want, what);
      }
      if (q.query === Q_TENANT_COUNT) assert.equal(body.data.tenant.users.totalCount, 12, what);
      if (root === 'users') {
        for (const u of body.data.users.data) {
          assert.equal(u.tenant.id, usersA.includes(u.id) ? tenantA : tenantB, what);
          assert.equal(u.tenant.users.totalCount, 12, what);
          if (q.who !== 'admin') assert.equal(u.tenant.id, tenantA, what);
        }
      }
      return;
    }
    assert.equal(body.data, null, what); // user and tenant are non-null fields
    assert.equal(body.errors.length, 1, what);
    assert.equal(body.errors[0].extensions.code, q.expect, what);
  });
}

async function metrics() {
  return (await fetch(`${s.url}/metrics`)).text();
}

let withBatching;

test('batching on: concurrent lookups share RPCs and each request gets its own answer', async () => {
  const reqs = requests();
  let m;
  let rounds = 0;
  do {
    const res = await burst(reqs);
    checkOwn(reqs, res);
    if (!withBatching) withBatching = res;
    m = await metrics();
    rounds++;
  } while (
    rounds < 10 &&
    !(
      metricSum(m, 'roster_gateway_upstream_batched_lookups_total', { kind: 'user' }) > 0 &&
      metricSum(m, 'roster_gateway_upstream_batched_lookups_total', { kind: 'tenant' }) +
        metricSum(m, 'roster_gateway_upstream_batched_lookups_total', { kind: 'tenant_count' }) >
        0
    )
  );
  const shared = (kind) => metricSum(m, 'roster_gateway_upstream_batched_lookups_total', { kind });
  console.log(
    `after ${rounds} bursts of ${reqs.length}: lookups that shared an RPC: user ${shared('user')}, ` +
      `tenant ${shared('tenant')}, tenant_count ${shared('tenant_count')}; ` +
      `BatchGetUsers RPCs ${metricSum(m, 'roster_gateway_upstream_rpc_total', { method: 'BatchGetUsers' })}, ` +
      `GetUser RPCs ${metricSum(m, 'roster_gateway_upstream_rpc_total', { method: 'GetUser' })}`,
  );
  assert.ok(shared('user') > 0, 'user lookups shared RPCs');
  assert.ok(shared('tenant') + shared('tenant_count') > 0, 'tenant lookups shared RPCs');
  assert.ok(metricSum(m, 'roster_gateway_upstream_batches_total') > 0);
  // Not-found and refused root lookups were asked again alone.
  assert.ok(metricSum(m, 'roster_gateway_upstream_batch_resends_total', { kind: 'user' }) > 0);
});

// Restarts the gateway with `args`, runs the burst and compares every
// answer with the first burst's (batching on, defaults).
async function sameAnswersWith(args) {
  await s.stopGateway();
  await s.startGateway(args);
  await s.waitReady();
  const reqs = requests();
  const res = await burst(reqs);
  checkOwn(reqs, res);
  reqs.forEach((q, i) => {
    assert.deepEqual(withBatching[i], res[i], `${q.who} ${q.query} ${q.id}`);
  });
}

test('batching off: the same answers, body for body, and no batch RPCs', async () => {
  await sameAnswersWith(['--batch-lookups', 'no']);
  const m = await metrics();
  assert.equal(metricSum(m, 'roster_gateway_upstream_batches_total'), 0);
  assert.equal(metricSum(m, 'roster_gateway_upstream_batched_lookups_total'), 0);
  assert.equal(metricSum(m, 'roster_gateway_upstream_rpc_total', { method: 'BatchGetUsers' }), 0);
  assert.ok(metricSum(m, 'roster_gateway_upstream_rpc_total', { method: 'GetUser' }) > 0);
});

test('batch-max 2, and two batches in flight: answers unchanged', async () => {
  await sameAnswersWith(['--batch-max', '2']);
  await sameAnswersWith(['--batch-in-flight', '2']);
});

test('deadlines stay per request: a stalled service answers each request at its own deadline', async () => {
  const timeout = 1500;
  await s.stopGateway();
  await s.startGateway(['--timeout-ms', String(timeout)]);
  await s.waitReady();
  // The key is verified now and cached for a second: the lookups below
  // reach the batcher rather than a key check.
  assert.equal((await s.gql(Q_USER, { id: usersA[0] })).status, 200);
  await sigstopAndWait(s.users);
  try {
    const one = async (id) => {
      const t0 = Date.now();
      const r = await s.gql(Q_USER, { id });
      return { r, ms: Date.now() - t0 };
    };
    // Four waves 250 ms apart: the later waves queue behind the first
    // wave's batch, whose RPC deadline is the first wave's.
    const waves = [];
    for (let w = 0; w < 4; w++) {
      waves.push(Promise.all(usersA.slice(0, 6).map((id) => one(id))));
      await new Promise((res) => setTimeout(res, 250));
    }
    const all = (await Promise.all(waves)).flat();
    let fieldLevel = 0;
    for (const { r, ms } of all) {
      assert.ok(r.body && r.body.errors, `${r.status} after ${ms} ms: ${r.text}`);
      assert.equal(r.body.errors[0].extensions.code, 'DEADLINE_EXCEEDED', r.text);
      if (r.status === 200) fieldLevel++;
      // Not before its own deadline, and not long after it (the RPC
      // client waits 50 ms past a deadline for the service's own answer).
      assert.ok(ms >= timeout - 50, `answered after ${ms} ms, before its deadline`);
      assert.ok(ms <= timeout + 350, `answered after ${ms} ms, well past its deadline`);
    }
    assert.ok(fieldLevel > 0, 'some lookups went through the batcher');
  } finally {
    s.users.kill('SIGCONT');
  }
  await s.waitReady();
  const r = await s.gql(Q_USER, { id: usersA[1] });
  assert.equal(r.body.data.user.id, usersA[1]);
});
