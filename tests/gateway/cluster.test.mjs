// Two roster-users and two gateways on one PostgreSQL database (run with
// ROSTER_TEST_STORE=postgres): what is written through one is read through
// the other, and when one roster-users is killed (SIGKILL) under write load
// the other goes on serving and every write that was acknowledged is there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib.mjs';

const port = Number(process.env.GW_TEST_PORT || 23210);
let a;
let b;

before(async () => {
  a = await startStack({ port });
  b = await startStack({ port: port + 1, shareWith: a });
});

after(async () => {
  await b.stop();
  await a.stop();
});

function ok(r) {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.errors, undefined, r.text);
  return r.body.data;
}

const CREATE = `mutation($u: UserCreateDto!) { createUser(user: $u) { id email } }`;
const GET = `query($id: ID!) { user(id: $id) { id email tenantId } }`;

test('a tenant and a user written through one stack are read through the other', async () => {
  const t = ok(await a.gql(`mutation { createTenant(tenant: {name: "Shared"}) { id } }`)).createTenant;
  const u = ok(await a.gql(CREATE, { u: { reference: 'c1', email: 'c1@x.io', tenantId: t.id } })).createUser;
  const got = ok(await b.gql(GET, { id: u.id })).user;
  assert.deepEqual(got, { id: u.id, email: 'c1@x.io', tenantId: t.id });
  // Uniqueness holds across processes: the same email through the other.
  const dup = await b.gql(CREATE, { u: { reference: 'c2', email: 'C1@x.io', tenantId: t.id } });
  assert.equal(dup.status, 200);
  assert.equal(dup.body.errors[0].extensions.code, 'ALREADY_EXISTS');
  const counted = ok(await b.gql(`query($id: ID!) { tenant(id: $id) { users { totalCount } } }`, { id: t.id }));
  assert.equal(counted.tenant.users.totalCount, 1);
});

test('kill -9 of one roster-users under writes: the other serves, no acknowledged write is lost', async () => {
  const acked = [];
  let n = 0;
  let stop = false;
  // Writers through both stacks at once; through stack a, failures are
  // expected once its roster-users is gone.
  async function writer(stack, tag) {
    while (!stop) {
      const i = n++;
      let r;
      try {
        r = await stack.gql(CREATE, { u: { reference: `k${tag}${i}`, email: `k${tag}${i}@x.io` } });
      } catch {
        continue; // the connection itself failed: not acknowledged
      }
      if (r.status === 200 && r.body.data && r.body.data.createUser) acked.push(r.body.data.createUser.id);
    }
  }
  const writers = [writer(a, 'a'), writer(a, 'a'), writer(b, 'b'), writer(b, 'b')];
  await new Promise((r) => setTimeout(r, 1500));
  const before = acked.length;
  const killed = await a.stopUsers('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1500));
  stop = true;
  await Promise.all(writers);
  assert.ok(before > 20, `writes went through before the kill (${before})`);
  assert.ok(acked.length > before, 'stack b kept acknowledging writes after the kill');
  // Every acknowledged user is there, read through the survivor.
  for (let i = 0; i < acked.length; i += 50) {
    const ids = acked.slice(i, i + 50);
    const d = ok(
      await b.gql(`query($ids: [ID!]!) { users(filter: {id: {valueIn: $ids}}, limit: 100) { totalCount } }`, {
        ids,
      }),
    );
    assert.equal(d.users.totalCount, ids.length);
  }
  // The store is consistent with what was acknowledged: the restarted
  // roster-users serves the same data.
  await a.startUsers();
  const total = ok(await a.gql(`{ users(limit: 0, filter: {withDeactivated: {equalTo: true}}) { totalCount } }`));
  assert.ok(total.users.totalCount >= acked.length + 1);
});
