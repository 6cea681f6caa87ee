// The user service down, hung or restarting: UNAVAILABLE and
// DEADLINE_EXCEEDED errors, /readyz failing, and recovery without
// restarting the gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, startProcess, stopProcess, sigstopAndWait, waitFor, authHeaders, GATEWAY_BIN } from './lib.mjs';

let s;
before(async () => {
  s = await startStack({ port: Number(process.env.GW_TEST_PORT || 23104), gatewayArgs: ['--timeout-ms', '400'] });
});
after(async () => {
  await s.stop();
});

test('service down: UNAVAILABLE, /readyz 503, then recovery', async () => {
  const ok = await s.gql('mutation { createTenant(tenant: {name: "A"}) { id } }');
  assert.equal(ok.status, 200);
  assert.ok(ok.body.data.createTenant.id);
  await s.stopUsers();
  // While the key is in the gateway's cache the fields fail (HTTP 200,
  // data null); once it is older than a second the key cannot be verified,
  // so the whole request is answered 503.
  const r = await s.gql('{ tenants { totalCount } }');
  assert.ok([200, 503].includes(r.status), r.text);
  if (r.status === 200) assert.equal(r.body.data, null);
  assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(r.body.errors[0].extensions.code), r.text);
  assert.equal(r.body.errors[0].extensions.response.statusCode >= 500, true);
  await new Promise((res) => setTimeout(res, 1100));
  const later = await s.gql('{ tenants { totalCount } }');
  assert.equal(later.status, 503, later.text);
  assert.equal(later.headers.get('retry-after'), '1');
  assert.equal(later.body.data, undefined);
  assert.equal(later.body.errors[0].extensions.code, 'UNAVAILABLE');
  assert.equal(later.body.errors[0].extensions.response.statusCode, 503);
  const ready = await s.raw({}, '/readyz');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.status, 'unavailable');
  assert.equal((await s.raw({}, '/healthz')).status, 200, 'the process itself is healthy');
  await s.startUsers();
  await s.waitReady();
  const back = await s.gql('{ tenants { totalCount } }');
  assert.equal(back.status, 200);
  assert.deepEqual(back.body, { data: { tenants: { totalCount: 1 } } });
});

test('service hung: DEADLINE_EXCEEDED within the per-request deadline', async () => {
  await sigstopAndWait(s.users);
  try {
    const t0 = Date.now();
    const r = await s.gql('{ tenants { totalCount } }');
    const ms = Date.now() - t0;
    assert.ok(r.body && r.body.errors, r.text);
    assert.equal(r.body.errors[0].extensions.code, 'DEADLINE_EXCEEDED', r.text);
    assert.equal(r.body.errors[0].extensions.response.statusCode, 504);
    assert.ok(ms < 3000, `answered in ${ms} ms`);
  } finally {
    s.users.kill('SIGCONT');
  }
  await s.waitReady();
  const back = await s.gql('{ tenants { totalCount } }');
  assert.deepEqual(back.body, { data: { tenants: { totalCount: 1 } } });
});

test('over --max-inflight: 503 with Retry-After, then served again', async () => {
  const port = Number(process.env.GW_TEST_PORT || 23104) + 50;
  const url = `http://127.0.0.1:${port}`;
  const g = startProcess(GATEWAY_BIN, ['--listen', url, '--upstream', s.ipc, '--max-inflight', '1', '--timeout-ms', '1500'], 'gateway-limited');
  try {
    await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 'limited gateway');
    const post = () =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: authHeaders(s.adminKey, { 'content-type': 'application/json' }),
        body: '{"query":"{ tenants { totalCount } }"}',
      });
    await sigstopAndWait(s.users);
    let first;
    try {
      first = post();
      await new Promise((r) => setTimeout(r, 200));
      const second = await post();
      assert.equal(second.status, 503);
      assert.equal(second.headers.get('retry-after'), '1');
      const body = await second.json();
      assert.match(body.errors[0].message, /limit of 1 concurrent/);
    } finally {
      s.users.kill('SIGCONT');
    }
    assert.equal((await first).status, 200);
    await s.waitReady();
    const again = await post();
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { data: { tenants: { totalCount: 1 } } });
  } finally {
    const r = await stopProcess(g);
    assert.equal(r.code, 0);
  }
});

test('SIGTERM lets in-flight requests finish and exits 0', async () => {
  const g = s.gateway;
  const pending = Array.from({ length: 20 }, () => s.gql('{ tenants { totalCount } }'));
  await new Promise((r) => setTimeout(r, 5));
  const exit = s.stopGateway();
  const results = await Promise.allSettled(pending);
  const r = await exit;
  assert.equal(r.code, 0);
  for (const p of results) {
    if (p.status === 'fulfilled') assert.ok([200, 503].includes(p.value.status), String(p.value.status));
  }
  assert.match(g.stderrText, /event=shutdown/);
  assert.match(g.stderrText, /event=stopped/);
});
