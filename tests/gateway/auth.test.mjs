// API keys at the gateway: every refusal over HTTP (missing header, other
// scheme, malformed key, wrong secret, expired, revoked), roles and tenant
// scope enforced by roster-users through the passed-on credential, the
// Host allowlist, open probes, /metrics behind an admin key, and the audit
// log of refused credentials.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, startProcess, stopProcess, waitFor, metricSum, authHeaders, GATEWAY_BIN } from './lib.mjs';

const port = Number(process.env.GW_TEST_PORT || 23106);
let s;
let tenantA;
let tenantB;
let userB;
let readerA;
let writerA;

before(async () => {
  s = await startStack({ port });
  const a = await s.gql('mutation { createTenant(tenant: {name: "A"}) { id } }');
  tenantA = a.body.data.createTenant.id;
  const b = await s.gql('mutation { createTenant(tenant: {name: "B"}) { id } }');
  tenantB = b.body.data.createTenant.id;
  const u = await s.gql(`mutation { createUser(user: {reference: "b1", email: "b1@example.com", tenantId: "${tenantB}"}) { id } }`);
  userB = u.body.data.createUser.id;
  await s.gql(`mutation { createUser(user: {reference: "a1", email: "a1@example.com", tenantId: "${tenantA}"}) { id } }`);
  readerA = s.createKey('reader-a', 'reader', tenantA);
  writerA = s.createKey('writer-a', 'writer', tenantA);
});

after(async () => {
  const r = await s.stop();
  assert.equal(r.gateway.code, 0);
});

// A 401 answer: WWW-Authenticate: Bearer, one UNAUTHENTICATED error with
// the ROQ response object, no data.
function assert401(r) {
  assert.equal(r.status, 401, r.text);
  assert.match(r.headers.get('www-authenticate') || '', /^Bearer\b/);
  assert.equal(r.body.data, undefined);
  assert.equal(r.body.errors.length, 1);
  const e = r.body.errors[0];
  assert.equal(e.extensions.code, 'UNAUTHENTICATED');
  assert.equal(e.extensions.response.statusCode, 401);
  assert.equal(e.extensions.response.errorCode, 'UNAUTHENTICATED');
  assert.equal(typeof e.extensions.response.message, 'string');
  assert.equal(e.extensions.response.message, e.message);
}

// The key text with its secret changed: still well formed.
function wrongSecret(key) {
  const last = key[key.length - 2];
  return key.slice(0, -2) + (last === 'A' ? 'B' : 'A') + key[key.length - 1];
}

test('missing Authorization: 401 on POST and GET', async () => {
  assert401(await s.gql('{ tenants { totalCount } }', undefined, { key: null }));
  assert401(await s.raw({ method: 'GET', key: null }, `/graphql?query=${encodeURIComponent('{ __typename }')}`));
  const gr = await s.gql('{ __typename }', undefined, { key: null, accept: 'application/graphql-response+json' });
  assert401(gr);
  assert.match(gr.headers.get('content-type'), /^application\/graphql-response\+json/);
});

test('another scheme, a malformed key and a wrong secret: 401', async () => {
  const q = JSON.stringify({ query: '{ tenants { totalCount } }' });
  const post = (authorization) =>
    s.raw({ method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: q });
  assert401(await post(`Basic ${Buffer.from('admin:admin').toString('base64')}`));
  assert401(await post(`Token ${s.adminKey}`));
  assert401(await post(s.adminKey));
  assert401(await post('Bearer rstr_nothing'));
  assert401(await post(`Bearer ${s.adminKey}x`));
  assert401(await post(`Bearer ${s.adminKey.replace('rstr_', 'rstx_')}`));
  assert401(await post(`Bearer ${wrongSecret(s.adminKey)}`));
  // An unknown key id with a well-formed secret.
  const other = `rstr_${'0'.repeat(12)}7000800000000000dead${s.adminKey.slice(37)}`;
  assert401(await post(`Bearer ${other}`));
});

test('an expired key: accepted until it expires, then 401', async () => {
  const k = s.createKey('short', 'reader', tenantA, 1500);
  const ok = await s.gql('{ users { totalCount } }', undefined, { key: k.secret });
  assert.equal(ok.status, 200, ok.text);
  await new Promise((r) => setTimeout(r, 1700));
  let r;
  await waitFor(async () => (r = await s.gql('{ users { totalCount } }', undefined, { key: k.secret })).status === 401, 'expired key refused', 3000);
  assert401(r);
});

test('a revoked key is refused within one second', async () => {
  const k = s.createKey('to-revoke', 'reader', tenantA);
  const q = '{ users { totalCount } }';
  assert.equal((await s.gql(q, undefined, { key: k.secret })).status, 200);
  assert.equal((await s.gql(q, undefined, { key: k.secret })).status, 200, 'served from the cache');
  s.revokeKey(k.id);
  const t0 = Date.now();
  // The service refuses the key's calls at once: no data is served.
  const first = await s.gql(q, undefined, { key: k.secret });
  if (first.status === 200) {
    assert.equal(first.body.data, null);
    assert.equal(first.body.errors[0].extensions.code, 'UNAUTHENTICATED');
  } else {
    assert401(first);
  }
  let r;
  for (;;) {
    r = await s.gql(q, undefined, { key: k.secret });
    if (r.status === 401 || Date.now() - t0 > 3000) break;
    assert.equal(r.body.data, null);
    await new Promise((res) => setTimeout(res, 20));
  }
  const ms = Date.now() - t0;
  console.log(`revoked key answered 401 after ${ms} ms`);
  assert401(r);
  assert.ok(ms <= 1100, `refused with 401 after ${ms} ms`);
});

test('a reader running a mutation: FORBIDDEN on the field, HTTP 200', async () => {
  const r = await s.gql(`mutation { createUser(user: {reference: "r1", email: "r1@example.com", tenantId: "${tenantA}"}) { id } }`, undefined, { key: readerA.secret });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.data, null);
  const e = r.body.errors[0];
  assert.equal(e.extensions.code, 'FORBIDDEN');
  assert.deepEqual(e.path, ['createUser']);
  assert.equal(e.extensions.response.statusCode, 403);
  assert.equal(e.extensions.response.errorCode, 'FORBIDDEN');
  const reads = await s.gql('{ users { totalCount data { reference } } tenants { totalCount } }', undefined, { key: readerA.secret });
  assert.equal(reads.status, 200, reads.text);
  assert.equal(reads.body.errors, undefined, reads.text);
  assert.deepEqual(reads.body.data.users.data.map((u) => u.reference), ['a1'], 'only its tenant');
});

test('a writer calling createTenant: FORBIDDEN, while its other fields resolve', async () => {
  const r = await s.gql(
    `mutation {
      a: createUser(user: {reference: "w1", email: "w1@example.com", tenantId: "${tenantA}"}) { reference }
      b: createTenant(tenant: {name: "Nope"}) { id }
    }`,
    undefined,
    { key: writerA.secret },
  );
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.errors.length, 1, r.text);
  assert.equal(r.body.errors[0].extensions.code, 'FORBIDDEN');
  assert.deepEqual(r.body.errors[0].path, ['b']);
  const w = await s.gql('{ users(filter: {reference: {equalTo: "w1"}}) { totalCount } }', undefined, { key: writerA.secret });
  assert.equal(w.body.data.users.totalCount, 1, 'the first mutation ran');
  const t = await s.gql('{ tenants(filter: {name: {equalTo: "Nope"}}) { totalCount } }');
  assert.equal(t.body.data.tenants.totalCount, 0, 'no tenant was created');
  // A nullable field refused beside fields that resolve.
  const q = await s.gql(`{ users(filter: {reference: {equalTo: "w1"}}) { data { reference tenant { name } } } }`, undefined, { key: writerA.secret });
  assert.equal(q.status, 200);
  assert.equal(q.body.data.users.data[0].reference, 'w1');
});

test('a tenant key reading another tenant\'s user: NOT_FOUND', async () => {
  const r = await s.gql(`{ user(id: "${userB}") { id } }`, undefined, { key: readerA.secret });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.data, null);
  assert.equal(r.body.errors[0].extensions.code, 'NOT_FOUND');
  assert.equal(r.body.errors[0].extensions.response.statusCode, 404);
  const admin = await s.gql(`{ user(id: "${userB}") { reference } }`);
  assert.deepEqual(admin.body.data, { user: { reference: 'b1' } }, 'the admin key sees it');
  const list = await s.gql(`{ users(filter: {tenantId: {equalTo: "${tenantB}"}}) { totalCount } }`, undefined, { key: readerA.secret });
  assert.ok(list.body.data === null || list.body.data.users.totalCount === 0, list.text);
});

test('a Host not allowed: 421, nothing served, on every path', async () => {
  const http = await import('node:http');
  const req = (path, host, headers = {}) =>
    new Promise((resolve, reject) => {
      const r = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host, ...authHeaders(s.adminKey, headers) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      });
      r.on('error', reject);
      r.end();
    });
  const q = `/graphql?query=${encodeURIComponent('{ tenants { totalCount data { name } } }')}`;
  for (const path of [q, '/healthz', '/readyz', '/metrics', '/nope']) {
    const r = await req(path, 'rebind.attacker.example');
    assert.equal(r.status, 421, `${path}: ${r.text}`);
    assert.match(r.headers['content-type'], /^text\/plain/);
    assert.ok(!r.text.includes('"data"') && !r.text.includes('roster_gateway'), r.text);
    const alt = await req(path, `attacker.example:${port}`);
    assert.equal(alt.status, 421);
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
    const r = await req(q, host);
    assert.equal(r.status, 200, `${host}: ${r.text}`);
  }
  assert.equal((await req('/nope', 'localhost')).status, 404);
  assert.match(s.gateway.stderrText, /event=host_refused host="?rebind\.attacker\.example/);
});

test('/healthz and /readyz need no key', async () => {
  assert.equal((await s.raw({ key: null }, '/healthz')).status, 200);
  assert.equal((await s.raw({ key: null }, '/readyz')).status, 200);
});

test('/metrics with --metrics-require-key: an admin key only', async () => {
  const p2 = port + 50;
  const url = `http://127.0.0.1:${p2}`;
  const g = startProcess(GATEWAY_BIN, ['--listen', url, '--upstream', s.ipc, '--metrics-require-key'], 'gateway-metrics-key');
  try {
    await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 'gateway with --metrics-require-key');
    const none = await fetch(`${url}/metrics`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') || '', /^Bearer\b/);
    assert.ok(!(await none.text()).includes('roster_gateway'));
    const bad = await fetch(`${url}/metrics`, { headers: authHeaders(wrongSecret(s.adminKey)) });
    assert.equal(bad.status, 401);
    const reader = await fetch(`${url}/metrics`, { headers: authHeaders(readerA.secret) });
    assert.equal(reader.status, 403);
    assert.ok(!(await reader.text()).includes('roster_gateway'));
    const admin = await fetch(`${url}/metrics`, { headers: authHeaders(s.adminKey) });
    assert.equal(admin.status, 200);
    const text = await admin.text();
    assert.ok(metricSum(text, 'roster_gateway_auth_total', { result: 'verified' }) >= 1, text);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
  } finally {
    const r = await stopProcess(g);
    assert.equal(r.code, 0);
  }
  // Without the option /metrics stays open, and shows the cache at work.
  const open = await s.raw({ key: null }, '/metrics');
  assert.equal(open.status, 200);
  assert.ok(metricSum(open.text, 'roster_gateway_auth_total', { result: 'cache_hit' }) >= 1);
  assert.ok(metricSum(open.text, 'roster_gateway_auth_total', { result: 'rejected' }) >= 1);
});

test('every refused credential is logged with the client address, never the secret', async () => {
  const log = s.gateway.stderrText;
  for (const reason of ['missing', 'scheme', 'malformed', 'rejected'])
    assert.match(log, new RegExp(`event=auth_failed reason=${reason} `), reason);
  const rejected = log.split('\n').filter((l) => l.includes('event=auth_failed reason=rejected'));
  assert.ok(rejected.length >= 3);
  for (const l of rejected) {
    assert.match(l, /key_id=[0-9a-f-]{36} /);
    assert.match(l, /path="?\/graphql/);
    assert.match(l, / peer=127\.0\.0\.1:\d+( |$)/, 'the client address');
  }
  const secrets = [s.adminKey, wrongSecret(s.adminKey), readerA.secret, writerA.secret];
  for (const k of secrets) {
    assert.ok(!log.includes(k.slice(38)), 'no secret in the gateway log');
    assert.ok(!s.users.stderrText.includes(k.slice(38)), 'no secret in the service log');
  }
});
