// The schema's deletion and customData parts against the real daemons:
// deleteUser and deleteTenant (counts, freed email, NOT_FOUND on a second
// delete, a tenant with users refused, no key / wrong key / wrong tenant /
// wrong role refused), and users filtered and ordered by declared customData
// indexes (exact totals, cursors in a customData order, undeclared paths and
// wrong-typed values refused naming the path, a tenant key sees its tenant).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib.mjs';

let s;
let tenantA;
let tenantB;
let readerA;
let writerA;

before(async () => {
  s = await startStack({
    port: Number(process.env.GW_TEST_PORT || 23118),
    // lastName and email ordered over every tenant through global orders
    // (on LMDB; a PostgreSQL store ignores them: its orders are global).
    usersArgs: [
      '--custom-index', 'plan:string', '--custom-index', 'billing.seats:integer',
      '--global-order', 'lastName', '--global-order', 'email',
    ],
  });
  tenantA = ok(await s.gql('mutation { createTenant(tenant: {name: "A"}) { id } }')).createTenant.id;
  tenantB = ok(await s.gql('mutation { createTenant(tenant: {name: "B"}) { id } }')).createTenant.id;
  readerA = s.createKey('reader-a', 'reader', tenantA);
  writerA = s.createKey('writer-a', 'writer', tenantA);
});

after(async () => {
  const r = await s.stop();
  assert.equal(r.gateway.code, 0, 'gateway exits 0 on SIGTERM');
});

function ok(r) {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.errors, undefined, r.text);
  return r.body.data;
}

function code(r) {
  return r.body?.errors?.[0]?.extensions?.code;
}

async function createUser(u) {
  return ok(await s.gql(`mutation($u: UserCreateDto!) { createUser(user: $u) { id } }`, { u })).createUser.id;
}

const count = async (tenantId) =>
  ok(await s.gql(`query($t: ID!) { tenant(id: $t) { users { totalCount } } }`, { t: tenantId })).tenant.users.totalCount;

test('deleteUser: the id back, the record gone everywhere, email free, NOT_FOUND the second time', async () => {
  const id = await createUser({ email: 'gone@example.com', reference: 'gone', tenantId: tenantA, customData: { plan: 'pro' } });
  const before = await count(tenantA);
  const total = ok(await s.gql('{ users { totalCount } }')).users.totalCount;
  assert.deepEqual(ok(await s.gql(`mutation($id: ID!) { deleteUser(id: $id) }`, { id })), { deleteUser: id });
  assert.equal(await count(tenantA), before - 1);
  assert.equal(ok(await s.gql('{ users { totalCount } }')).users.totalCount, total - 1);
  const r = await s.gql(`query($id: ID!) { user(id: $id) { id } }`, { id });
  assert.equal(code(r), 'NOT_FOUND', r.text);
  const plan = ok(await s.gql(`{ users(filter: {customData: [{path: "plan", equalTo: "pro"}], tenantId: {equalTo: "${tenantA}"}}) { data { id } } }`)).users;
  assert.ok(!plan.data.some((u) => u.id === id), 'gone from the customData index');
  // The email and reference are free again.
  const again = await createUser({ email: 'gone@example.com', reference: 'gone', tenantId: tenantA });
  assert.notEqual(again, id);
  const second = await s.gql(`mutation($id: ID!) { deleteUser(id: $id) }`, { id });
  assert.equal(code(second), 'NOT_FOUND', second.text);
  const bad = await s.gql(`mutation { deleteUser(id: "not-an-id") }`);
  assert.equal(code(bad), 'BAD_USER_INPUT', bad.text);
});

test('deleteTenant: refused while it has users, deleted when empty', async () => {
  const t = ok(await s.gql('mutation { createTenant(tenant: {name: "Short-lived"}) { id } }')).createTenant.id;
  const u = await createUser({ email: 'tenant-user@example.com', reference: 'tu', tenantId: t, active: false });
  const r = await s.gql(`mutation($id: ID!) { deleteTenant(id: $id) }`, { id: t });
  assert.equal(code(r), 'BAD_USER_INPUT', r.text); // FAILED_PRECONDITION naming the id
  assert.equal(r.body.errors[0].extensions.field, 'id', r.text);
  ok(await s.gql(`mutation($id: ID!) { deleteUser(id: $id) }`, { id: u }));
  assert.deepEqual(ok(await s.gql(`mutation($id: ID!) { deleteTenant(id: $id) }`, { id: t })), { deleteTenant: t });
  const gone = await s.gql(`query($id: ID!) { tenant(id: $id) { id } }`, { id: t });
  assert.equal(code(gone), 'NOT_FOUND', gone.text);
  const second = await s.gql(`mutation($id: ID!) { deleteTenant(id: $id) }`, { id: t });
  assert.equal(code(second), 'NOT_FOUND', second.text);
});

test('deletes refused: no key, wrong key, wrong tenant, wrong role', async () => {
  const inB = await createUser({ email: 'in-b@example.com', reference: 'in-b', tenantId: tenantB });
  const inA = await createUser({ email: 'in-a@example.com', reference: 'in-a', tenantId: tenantA });
  const del = (id, key) => s.gql(`mutation($id: ID!) { deleteUser(id: $id) }`, { id }, { key });
  const noKey = await del(inA, null);
  assert.equal(noKey.status, 401, noKey.text);
  const wrong = await del(inA, writerA.secret.slice(0, -2) + (writerA.secret.at(-2) === 'A' ? 'B' : 'A') + writerA.secret.at(-1));
  assert.equal(wrong.status, 401, wrong.text);
  // A writer of tenant A cannot see tenant B's user: NOT_FOUND, and it stays.
  assert.equal(code(await del(inB, writerA.secret)), 'NOT_FOUND');
  assert.ok(ok(await s.gql(`query($id: ID!) { user(id: $id) { id } }`, { id: inB })).user);
  // A reader may not delete; a writer may not delete tenants.
  assert.equal(code(await del(inA, readerA.secret)), 'FORBIDDEN');
  const t = await s.gql(`mutation($id: ID!) { deleteTenant(id: $id) }`, { id: tenantB }, { key: writerA.secret });
  assert.ok(['FORBIDDEN', 'NOT_FOUND'].includes(code(t)), t.text);
  assert.deepEqual(ok(await del(inA, writerA.secret)), { deleteUser: inA });
});

test('customData: indexed filters and order with exact totals and cursors', async () => {
  const plans = ['free', 'pro', 'team'];
  const ids = [];
  for (let i = 0; i < 12; i++)
    ids.push(await createUser({
      email: `cd${i}@example.com`,
      reference: `cd-${i}`,
      tenantId: i % 2 ? tenantA : tenantB,
      customData: { plan: plans[i % 3], billing: { seats: i * 10 } },
    }));
  const q = `query($f: UserFilterArgType, $o: UserOrderArgType, $a: String, $l: Int) {
    users(filter: $f, order: $o, after: $a, limit: $l) { totalCount data { id customData } pageInfo { hasNextPage endCursor } } }`;
  const pro = ok(await s.gql(q, { f: { customData: [{ path: 'plan', equalTo: 'pro' }] } })).users;
  assert.equal(pro.totalCount, 4);
  assert.ok(pro.data.every((u) => u.customData.plan === 'pro'));
  const range = ok(await s.gql(q, { f: { customData: [{ path: 'billing.seats', moreThanEqual: 30 }, { path: 'billing.seats', lessThan: 80 }] } })).users;
  assert.equal(range.totalCount, 5);
  const both = ok(await s.gql(q, { f: { customData: [{ path: 'plan', valueIn: ['pro', 'team'] }, { path: 'billing.seats', notEqualTo: 10 }] } })).users;
  assert.equal(both.totalCount, 7);
  // Ordered by an indexed path, walked by cursor: the same as one page.
  const order = { order: 'DESC', customData: 'billing.seats' };
  const all = ok(await s.gql(q, { o: order, l: 1000 })).users;
  assert.equal(all.totalCount, 12);
  const seats = all.data.map((u) => u.customData.billing.seats);
  assert.deepEqual(seats, [...seats].sort((a, b) => b - a));
  const walked = [];
  let after = null;
  for (let guard = 0; guard < 20; guard++) {
    const p = ok(await s.gql(q, { o: order, a: after, l: 5 })).users;
    assert.equal(p.totalCount, 12);
    walked.push(...p.data.map((u) => u.id));
    if (!p.pageInfo.hasNextPage) break;
    after = p.pageInfo.endCursor;
  }
  assert.deepEqual(walked, all.data.map((u) => u.id));
  // A cursor of this order does not continue another one.
  const other = await s.gql(q, { o: { order: 'ASC', customData: 'billing.seats' }, a: after, l: 5 });
  assert.equal(code(other), 'BAD_USER_INPUT', other.text);
  // A tenant reader sees its tenant only.
  const scoped = ok(await s.gql(q, { f: { customData: [{ path: 'plan', equalTo: 'pro' }] } }, { key: readerA.secret })).users;
  assert.equal(scoped.totalCount, 2);
  // Undeclared paths and wrong-typed values: BAD_USER_INPUT naming the path.
  for (const f of [
    { customData: [{ path: 'colour', equalTo: 'red' }] },
    { customData: [{ path: 'billing.seats', equalTo: 'ten' }] },
    { customData: [{ path: 'billing.seats', moreThan: 1.5 }] },
  ]) {
    const r = await s.gql(q, { f });
    assert.equal(code(r), 'BAD_USER_INPUT', r.text);
    assert.match(r.body.errors[0].message, new RegExp(f.customData[0].path.replace('.', '\\.')), r.text);
  }
  const undeclaredOrder = await s.gql(q, { o: { order: 'ASC', customData: 'colour' } });
  assert.equal(code(undeclaredOrder), 'BAD_USER_INPUT', undeclaredOrder.text);
  const neither = await s.gql(q, { o: { order: 'ASC' } });
  assert.equal(code(neither), 'BAD_USER_INPUT', neither.text);
  const bothSorts = await s.gql(q, { o: { order: 'ASC', sort: 'EMAIL', customData: 'plan' } });
  assert.equal(code(bothSorts), 'BAD_USER_INPUT', bothSorts.text);
});

test('global orders: every tenant by lastName, page by page by cursor, in order', async () => {
  const names = ['Moss', 'Abel', 'Zeno', 'Kahn', 'Abel', 'Fry', 'Lund'];
  for (let i = 0; i < names.length; i++)
    await createUser({
      email: `go${i}@example.com`,
      reference: `go-${i}`,
      lastName: names[i],
      tenantId: i % 2 ? tenantA : tenantB,
    });
  const q = `query($o: UserOrderArgType, $a: String, $l: Int) {
    users(order: $o, after: $a, limit: $l) { totalCount data { id lastName } pageInfo { hasNextPage endCursor } } }`;
  for (const dir of ['ASC', 'DESC']) {
    const o = { order: dir, sort: 'lastName' };
    const one = ok(await s.gql(q, { o, l: 1000 })).users;
    const walked = [];
    let after = null;
    for (let guard = 0; guard < 200; guard++) {
      const p = ok(await s.gql(q, { o, a: after, l: 3 })).users;
      assert.equal(p.totalCount, one.totalCount);
      walked.push(...p.data);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    assert.deepEqual(walked.map((u) => u.id), one.data.map((u) => u.id));
    // lastName order (nulls as the store orders them: one run, not interleaved)
    const named = one.data.filter((u) => u.lastName !== null).map((u) => u.lastName);
    const sorted = [...named].sort();
    assert.deepEqual(named, dir === 'ASC' ? sorted : sorted.reverse());
    for (const n of names) assert.ok(named.includes(n), n);
  }
});
