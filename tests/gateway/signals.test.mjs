// Signals with requests in flight: SIGTERM, SIGINT and SIGQUIT drain and
// exit 0, for the gateway and for the user service behind it; SIGHUP stops
// neither, and both keep serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib.mjs';

let s;
before(async () => {
  s = await startStack({ port: Number(process.env.GW_TEST_PORT || 23107) });
});
after(async () => {
  await s.stop();
});

const burst = (n, tag) =>
  Array.from({ length: n }, (_, i) => s.gql(`mutation { createTenant(tenant: {name: "${tag}-${i}"}) { id name } }`));

for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT']) {
  test(`gateway: ${signal} lets in-flight requests finish and exits 0`, async () => {
    const g = s.gateway;
    const pending = burst(20, `g-${signal}`);
    await new Promise((r) => setTimeout(r, 5));
    const exit = s.stopGateway(signal);
    const results = await Promise.allSettled(pending);
    const r = await exit;
    assert.deepEqual(r, { code: 0, signal: null }, g.stderrText);
    for (const p of results) {
      if (p.status === 'fulfilled') assert.ok([200, 503].includes(p.value.status), String(p.value.status));
    }
    assert.match(g.stderrText, new RegExp(`event=shutdown signal=${signal}`));
    assert.match(g.stderrText, /event=stopped/);
    await s.startGateway();
    await s.waitReady();
  });

  test(`user service: ${signal} answers what it received and exits 0`, async () => {
    const u = s.users;
    const pending = burst(20, `u-${signal}`);
    await new Promise((r) => setTimeout(r, 5));
    const exit = s.stopUsers(signal);
    const results = await Promise.allSettled(pending);
    const r = await exit;
    assert.deepEqual(r, { code: 0, signal: null }, u.stderrText);
    assert.match(u.stderrText, new RegExp(`event=shutdown_begin signal=${signal}`));
    const created = [];
    for (const p of results) {
      assert.equal(p.status, 'fulfilled');
      const v = p.value;
      if (v.status === 200 && v.body.data && v.body.data.createTenant) created.push(v.body.data.createTenant);
      else assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(v.body.errors[0].extensions.code), v.text);
    }
    await s.startUsers();
    await s.waitReady();
    // Every acknowledged write survived the stop.
    for (const t of created) {
      const back = await s.gql(`{ tenant(id: "${t.id}") { id name } }`);
      assert.equal(back.status, 200, back.text);
      assert.deepEqual(back.body.data.tenant, t);
    }
  });
}

test('SIGHUP stops neither daemon; both keep serving', async () => {
  const g = s.gateway;
  const u = s.users;
  const pending = burst(40, 'hup');
  await new Promise((r) => setTimeout(r, 5));
  g.kill('SIGHUP');
  u.kill('SIGHUP');
  const results = await Promise.all(pending);
  for (const r of results) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.errors, undefined, r.text);
  }
  g.kill('SIGHUP');
  u.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(g.exitCode, null);
  assert.equal(g.signalCode, null);
  assert.equal(u.exitCode, null);
  assert.equal(u.signalCode, null);
  for (const r of results) {
    const t = r.body.data.createTenant;
    const back = await s.gql(`{ tenant(id: "${t.id}") { id name } }`);
    assert.equal(back.status, 200, back.text);
    assert.deepEqual(back.body.data.tenant, t);
  }
  assert.match(g.stderrText, /event=signal_ignored signal=SIGHUP/);
  assert.match(u.stderrText, /event=signal_ignored signal=SIGHUP/);
  assert.equal((await s.raw({}, '/readyz')).status, 200);
});
