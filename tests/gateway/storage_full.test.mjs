// The user service's storage full (a 1 MiB map): writes fail with
// extensions.code STORAGE_FULL and statusCode 507 naming --map-size, not
// UNAVAILABLE; every acknowledged write reads back and reads go on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib.mjs';

let s;
before(async () => {
  s = await startStack({ port: Number(process.env.GW_TEST_PORT || 23108), usersArgs: ['--map-size', '1M'] });
});
after(async () => {
  await s.stop();
});

test('a full map: STORAGE_FULL 507, data intact, reads served', async () => {
  const pad = 'x'.repeat(100);
  const created = [];
  let full = null;
  for (let round = 0; round < 400 && full === null; round++) {
    const rs = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        s.gql(`mutation { createTenant(tenant: {name: "${pad}-${round}-${i}"}) { id name } }`),
      ),
    );
    for (const r of rs) {
      assert.equal(r.status, 200, r.text);
      if (r.body.errors) {
        assert.equal(r.body.errors[0].extensions.code, 'STORAGE_FULL', r.text);
        full = r.body.errors[0];
      } else {
        created.push(r.body.data.createTenant);
      }
    }
  }
  assert.ok(full, 'the map filled');
  assert.equal(full.extensions.response.statusCode, 507);
  assert.equal(full.extensions.response.errorCode, 'STORAGE_FULL');
  assert.match(full.message, /storage full/);
  assert.match(full.message, /--map-size/);
  assert.ok(created.length > 0);
  for (const t of created) {
    const back = await s.gql(`{ tenant(id: "${t.id}") { id name } }`);
    assert.equal(back.status, 200, back.text);
    assert.deepEqual(back.body.data.tenant, t);
  }
  const count = await s.gql('{ tenants { totalCount } }');
  assert.equal(count.body.data.tenants.totalCount, created.length);
  assert.equal((await s.raw({}, '/readyz')).status, 200);
});
