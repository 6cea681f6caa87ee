// End-to-end: every operation of the schema against the real roster-users
// and roster-gateway, the ROQ documentation examples, error paths, batching
// and introspection through graphql-js.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClientSchema, buildSchema, getIntrospectionQuery, printSchema } from 'graphql';
import { startStack, metricSum, startProcess, stopProcess, waitFor, authHeaders, GATEWAY_BIN } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SCHEMA = process.env.ROSTER_SCHEMA || join(here, '../../gateway/schema.graphql');
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let s;
let tenant;

before(async () => {
  s = await startStack({ port: Number(process.env.GW_TEST_PORT || 23101) });
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

const USER_FIELDS = `
  fragment U on UserModel {
    id reference email firstName lastName phone locale timezone isOptedIn active synced
    avatarUrl customData twoFactorEnabled tenantId createdAt updatedAt __typename
  }`;

test('createTenant and tenant(id) with users.totalCount', async () => {
  const d = ok(
    await s.gql(
      `mutation($t: TenantCreateDto!) { createTenant(tenant: $t) { id name reference isDefault createdAt updatedAt } }`,
      { t: { name: 'Acme', reference: 'acme' } },
    ),
  );
  tenant = d.createTenant;
  assert.equal(tenant.name, 'Acme');
  assert.equal(tenant.reference, 'acme');
  assert.equal(tenant.isDefault, false);
  assert.match(tenant.createdAt, ISO);
  const t = ok(await s.gql(`query($id: ID!) { tenant(id: $id) { id name users { totalCount } } }`, { id: tenant.id }));
  assert.deepEqual(t.tenant, { id: tenant.id, name: 'Acme', users: { totalCount: 0 } });
});

test('createUser: the ROQ documentation example', async () => {
  const d = ok(
    await s.gql(`mutation {
      createUser(user: {
        reference: "abc123"
        email: "xyz789@example.com"
        phone: "+6612345678"
        firstName: "xyz789"
        lastName: "abc123"
        locale: "en-US"
        timezone: "Asia/Bangkok"
        isOptedIn: false
        active: false
        tenantId: "${tenant.id}"
      }) { id }
    }`),
  );
  assert.match(d.createUser.id, /^[0-9a-f-]{36}$/);
  const u = ok(await s.gql(`query($id: ID!) { user(id: $id) { ...U } } ${USER_FIELDS}`, { id: d.createUser.id }));
  assert.equal(u.user.reference, 'abc123');
  assert.equal(u.user.email, 'xyz789@example.com');
  assert.equal(u.user.active, false);
  assert.equal(u.user.isOptedIn, false);
  assert.equal(u.user.synced, true);
  assert.equal(u.user.avatarUrl, null);
  assert.equal(u.user.customData, null);
  assert.equal(u.user.tenantId, tenant.id);
  assert.equal(u.user.__typename, 'UserModel');
  assert.match(u.user.createdAt, ISO);
});

test('createUser with variables, customData and defaults', async () => {
  for (let i = 0; i < 5; i++) {
    const d = ok(
      await s.gql(`mutation C($u: UserCreateDto!) { createUser(user: $u) { ...U } } ${USER_FIELDS}`, {
        u: {
          reference: `ref-${i}`,
          email: `User${i}@Example.com`,
          firstName: `First${i}`,
          customData: { plan: 'pro', n: i, tags: ['a', 'b'] },
          tenantId: i % 2 ? tenant.id : null,
        },
      }),
    );
    const u = d.createUser;
    assert.equal(u.reference, `ref-${i}`);
    assert.deepEqual(u.customData, { plan: 'pro', n: i, tags: ['a', 'b'] });
    assert.equal(u.active, true, 'active defaults to true');
    assert.equal(u.isOptedIn, false, 'isOptedIn defaults to false');
    assert.equal(u.twoFactorEnabled, false);
    assert.equal(u.lastName, null, 'absent optional is null');
    assert.equal(u.tenantId, i % 2 ? tenant.id : null);
  }
});

test('users(limit: 10, offset: 0, order: {order: ASC, sort: CREATED_AT}) (ROQ example)', async () => {
  const d = ok(await s.gql(`{ users(limit: 10, offset: 0, order: {order: ASC, sort: CREATED_AT}) { totalCount data { reference createdAt } } }`));
  // The ROQ example user is inactive and so left out by default.
  assert.equal(d.users.totalCount, 5);
  assert.deepEqual(d.users.data.map((u) => u.reference), ['ref-0', 'ref-1', 'ref-2', 'ref-3', 'ref-4']);
  const desc = ok(await s.gql(`{ users(order: {order: DESC, sort: createdAt}, limit: 2) { data { reference } } }`));
  assert.deepEqual(desc.users.data.map((u) => u.reference), ['ref-4', 'ref-3']);
});

test('users(filter: {active: {equalTo: true}}) and other filters (ROQ example)', async () => {
  const a = ok(await s.gql(`{ users(filter: {active: {equalTo: true}}) { totalCount } }`));
  assert.equal(a.users.totalCount, 5);
  const inactive = ok(await s.gql(`{ users(filter: {active: {equalTo: false}}) { totalCount data { reference } } }`));
  assert.deepEqual(inactive.users.data.map((u) => u.reference), ['abc123']);
  const withDeact = ok(await s.gql(`{ users(filter: {withDeactivated: {equalTo: true}}) { totalCount } }`));
  assert.equal(withDeact.users.totalCount, 6);
  const byTenant = ok(
    await s.gql(`query($t: ID) { users(filter: {tenantId: {equalTo: $t}}) { totalCount } }`, { t: tenant.id }),
  );
  assert.equal(byTenant.users.totalCount, 2);
  const noTenant = ok(await s.gql(`{ users(filter: {tenantId: {equalTo: null}}) { totalCount } }`));
  assert.equal(noTenant.users.totalCount, 3);
  const like = ok(await s.gql(`{ users(filter: {email: {iLike: "user1%"}}) { data { reference } } }`));
  assert.deepEqual(like.users.data.map((u) => u.reference), ['ref-1']);
  const inList = ok(await s.gql(`{ users(filter: {reference: {valueIn: ["ref-2", "ref-3"]}}, order: {order: ASC, sort: CREATED_AT}) { data { reference } } }`));
  assert.deepEqual(inList.users.data.map((u) => u.reference), ['ref-2', 'ref-3']);
  const search = ok(await s.gql(`{ users(search: {key: firstName, value: "first4"}) { data { reference } } }`));
  assert.deepEqual(search.users.data.map((u) => u.reference), ['ref-4']);
  const dates = ok(await s.gql(`{ users(filter: {createdAt: {moreThan: "2000-01-01T00:00:00.000Z"}}) { totalCount } }`));
  assert.equal(dates.users.totalCount, 5);
});

test('users { totalCount } (ROQ example) and users { data { email } }', async () => {
  const d = ok(await s.gql(`query { users { totalCount } }`));
  assert.equal(d.users.totalCount, 5);
  const e = ok(await s.gql(`query { users { data { email } } }`));
  assert.equal(e.users.data.length, 5);
});

test('UserModel.tenant and TenantModel.users are one batched RPC per level', async () => {
  const before = await (await fetch(`${s.url}/metrics`)).text();
  const d = ok(await s.gql(`{ users(filter: {withDeactivated: {equalTo: true}}) { data { reference tenant { id name users { totalCount } } } } }`));
  const after = await (await fetch(`${s.url}/metrics`)).text();
  const calls = (t) => metricSum(t, 'roster_gateway_upstream_rpc_total', { method: 'BatchGetTenants' });
  assert.equal(calls(after) - calls(before), 1, 'one BatchGetTenants for the whole page');
  const withTenant = d.users.data.filter((u) => u.tenant);
  assert.equal(withTenant.length, 3);
  for (const u of withTenant) assert.deepEqual(u.tenant, { id: tenant.id, name: 'Acme', users: { totalCount: 2 } });
  assert.equal(d.users.data.filter((u) => u.tenant === null).length, 3);
});

test('tenants() with filter, order and counts', async () => {
  ok(await s.gql(`mutation { createTenant(tenant: {name: "Beta"}) { id } }`));
  const d = ok(await s.gql(`{ tenants(order: {order: ASC, sort: NAME}) { totalCount data { name reference users { totalCount } } } }`));
  assert.equal(d.tenants.totalCount, 2);
  assert.deepEqual(d.tenants.data, [
    { name: 'Acme', reference: 'acme', users: { totalCount: 2 } },
    { name: 'Beta', reference: null, users: { totalCount: 0 } },
  ]);
  const f = ok(await s.gql(`{ tenants(filter: {name: {equalTo: "Beta"}}) { totalCount } }`));
  assert.equal(f.tenants.totalCount, 1);
});

test('updateUser changes given fields and clears fields given as null', async () => {
  const list = ok(await s.gql(`{ users(filter: {reference: {equalTo: "ref-0"}}) { data { id firstName } } }`));
  const id = list.users.data[0].id;
  const d = ok(
    await s.gql(`mutation($id: ID!, $u: UserUpdateDto!) { updateUser(id: $id, user: $u) { firstName lastName phone customData updatedAt } }`, {
      id,
      u: { firstName: 'Changed', phone: '+100', customData: { x: 1 } },
    }),
  );
  assert.deepEqual(
    { ...d.updateUser, updatedAt: undefined },
    { firstName: 'Changed', lastName: null, phone: '+100', customData: { x: 1 }, updatedAt: undefined },
  );
  const c = ok(await s.gql(`mutation($id: ID!) { updateUser(id: $id, user: {phone: null, customData: null}) { firstName phone customData } }`, { id }));
  assert.deepEqual(c.updateUser, { firstName: 'Changed', phone: null, customData: null });
});

test('updateTenant renames and clears the reference', async () => {
  const d = ok(await s.gql(`mutation($id: ID!) { updateTenant(id: $id, tenant: {name: "Acme Corp", reference: null}) { name reference } }`, { id: tenant.id }));
  assert.deepEqual(d.updateTenant, { name: 'Acme Corp', reference: null });
});

test('sibling root fields, aliases, @skip/@include, inline fragments, operationName', async () => {
  const d = ok(
    await s.gql(
      `query A { x: tenant(id: "${tenant.id}") { name } } query B($skip: Boolean!) {
         a: users(limit: 1) { totalCount } b: tenants { totalCount }
         c: tenant(id: "${tenant.id}") { ... on TenantModel { name } id @skip(if: $skip) reference @include(if: $skip) }
       }`,
      { skip: true },
      { operationName: 'B' },
    ),
  );
  assert.deepEqual(d, { a: { totalCount: 5 }, b: { totalCount: 2 }, c: { name: 'Acme Corp', reference: null } });
});

test('errors: NOT_FOUND with path, locations and extensions.response', async () => {
  const r = await s.gql(`{\n  user(id: "0190a0a0-0000-7000-8000-000000000000") { id }\n}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.data, null, 'user is non-null, so data is null');
  const e = r.body.errors[0];
  assert.equal(e.extensions.code, 'NOT_FOUND');
  assert.deepEqual(e.path, ['user']);
  assert.deepEqual(e.locations, [{ line: 2, column: 3 }]);
  assert.equal(e.extensions.response.statusCode, 404);
  assert.equal(e.extensions.response.errorCode, 'NOT_FOUND');
  assert.equal(typeof e.extensions.response.message, 'string');
});

test('errors: ALREADY_EXISTS, BAD_USER_INPUT naming the field, mutations run in order', async () => {
  const r = await s.gql(`mutation {
    first: createUser(user: {reference: "order-1", email: "order@example.com"}) { id }
    second: createUser(user: {reference: "order-2", email: "ORDER@example.com"}) { id }
  }`);
  assert.equal(r.status, 200);
  const e = r.body.errors[0];
  assert.equal(e.extensions.code, 'ALREADY_EXISTS');
  assert.deepEqual(e.path, ['second']);
  assert.equal(e.extensions.response.statusCode, 409);
  const first = ok(await s.gql(`{ users(filter: {reference: {equalTo: "order-1"}}) { totalCount } }`));
  assert.equal(first.users.totalCount, 1, 'the first mutation ran before the second');

  const bad = await s.gql(`mutation { createUser(user: {reference: "bad", email: "not-an-email"}) { id } }`);
  const b = bad.body.errors[0];
  assert.equal(b.extensions.code, 'BAD_USER_INPUT');
  assert.match(b.message, /email/);
  assert.equal(b.extensions.field, 'email');
  assert.equal(b.extensions.response.statusCode, 400);

  const lim = await s.gql(`{ users(limit: 5000) { totalCount } }`);
  assert.equal(lim.body.errors[0].extensions.code, 'BAD_USER_INPUT');
  assert.equal(lim.body.errors[0].extensions.field, 'limit');
  const off = await s.gql(`{ users(offset: -1) { totalCount } }`);
  assert.equal(off.body.errors[0].extensions.field, 'offset');
  const ten = await s.gql(`mutation { createUser(user: {reference: "t", email: "t@example.com", tenantId: "0190a0a0-0000-7000-8000-000000000000"}) { id } }`);
  assert.ok(['BAD_USER_INPUT', 'NOT_FOUND'].includes(ten.body.errors[0].extensions.code), ten.text);
  // The ROQ example passes tenantId as an integer literal: an ID, so accepted
  // as "4", and then refused by the service as no such tenant.
  const roq = await s.gql(`mutation { createUser(user: {reference: "roq4", email: "roq4@example.com", tenantId: 4}) { id } }`);
  assert.deepEqual(roq.body.errors[0].path, ['createUser']);
  assert.ok(['BAD_USER_INPUT', 'NOT_FOUND'].includes(roq.body.errors[0].extensions.code), roq.text);
  assert.match(roq.body.errors[0].message, /tenant/i);
});

test('partial data: a failed nullable field is null beside its siblings', async () => {
  // A gateway allowed one upstream call per request: ListUsers succeeds,
  // the batched tenant lookup is refused, so every tenant is null with an
  // error at its path and the rest of the page is kept.
  const port = Number(process.env.GW_TEST_PORT || 23101) + 50;
  const url = `http://127.0.0.1:${port}`;
  const g = startProcess(GATEWAY_BIN, ['--listen', url, '--upstream', s.ipc, '--max-rpcs', '1'], 'gateway-1rpc');
  try {
    await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 'second gateway');
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: authHeaders(s.adminKey, { 'content-type': 'application/json' }),
      body: JSON.stringify({ query: '{ users(filter: {tenantId: {equalTo: "' + tenant.id + '"}}) { totalCount data { reference tenant { name } } } }' }),
    });
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.equal(body.data.users.totalCount, 2);
    assert.equal(body.data.users.data.length, 2);
    for (const u of body.data.users.data) {
      assert.match(u.reference, /^ref-/);
      assert.equal(u.tenant, null);
    }
    assert.equal(body.errors.length, 2);
    assert.deepEqual(body.errors.map((e) => e.path).sort(), [['users', 'data', 0, 'tenant'], ['users', 'data', 1, 'tenant']]);
  } finally {
    const r = await stopProcess(g);
    assert.equal(r.code, 0);
  }
});

test('GET queries, mutation over GET is 405 with Allow: POST', async () => {
  const q = encodeURIComponent('query($n: Int) { users(limit: $n) { totalCount } }');
  const v = encodeURIComponent(JSON.stringify({ n: 1 }));
  const r = await s.raw({ method: 'GET' }, `/graphql?query=${q}&variables=${v}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.data.users.totalCount, 6, 'five users plus order-1');
  const m = await s.raw({ method: 'GET' }, `/graphql?query=${encodeURIComponent('mutation { createTenant(tenant: {name: "x"}) { id } }')}`);
  assert.equal(m.status, 405);
  assert.equal(m.headers.get('allow'), 'POST');
  const t = ok(await s.gql(`{ tenants(filter: {name: {equalTo: "x"}}) { totalCount } }`));
  assert.equal(t.tenants.totalCount, 0, 'the GET mutation did not run');
});

test('content negotiation', async () => {
  const gr = await s.gql('{ __typename }', undefined, { accept: 'application/graphql-response+json' });
  assert.match(gr.headers.get('content-type'), /^application\/graphql-response\+json/);
  const js = await s.gql('{ __typename }', undefined, { accept: 'application/json' });
  assert.match(js.headers.get('content-type'), /^application\/json/);
  const bad = await s.gql('{ nope }', undefined, { accept: 'application/graphql-response+json' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.data, undefined);
  assert.equal(bad.body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
  const badJson = await s.gql('{ nope }');
  assert.equal(badJson.status, 200);
  const none = await s.gql('{ __typename }', undefined, { accept: 'text/html' });
  assert.equal(none.status, 406);
});

test('introspection: graphql-js buildClientSchema gives the committed schema', async () => {
  const d = ok(await s.gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true })));
  const client = buildClientSchema(d);
  const expected = buildSchema(readFileSync(SCHEMA, 'utf8'));
  assert.equal(printSchema(client), printSchema(expected));
});

test('/healthz, /readyz and /metrics', async () => {
  assert.equal((await s.raw({}, '/healthz')).status, 200);
  const ready = await s.raw({}, '/readyz');
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'ready');
  const m = await s.raw({}, '/metrics');
  assert.equal(m.status, 200);
  for (const name of [
    'roster_gateway_requests_total',
    'roster_gateway_request_duration_seconds_bucket',
    'roster_gateway_requests_in_flight',
    'roster_gateway_upstream_rpc_duration_seconds_bucket',
    'roster_gateway_upstream_rpc_total',
  ])
    assert.ok(m.text.includes(name), `${name} in /metrics`);
  assert.ok(metricSum(m.text, 'roster_gateway_requests_total', { operation: 'mutation', outcome: 'ok' }) >= 5);
  assert.ok(metricSum(m.text, 'roster_gateway_requests_total', { operation: 'query', outcome: 'field_errors' }) >= 1);
  assert.ok(metricSum(m.text, 'roster_gateway_upstream_rpc_errors_total', { method: 'GetUser', status: 'NOT_FOUND' }) >= 1);
});

test('cursor paging: users and tenants walked by after/pageInfo match one big page', async () => {
  for (let i = 0; i < 7; i++)
    ok(await s.gql(`mutation($u: UserCreateDto!) { createUser(user: $u) { id } }`, {
      u: { email: `cursor${i}@example.com`, reference: `cursor-${i}`, firstName: `C${i % 3}` },
    }));
  for (const order of [
    { order: 'DESC', sort: 'CREATED_AT' },
    { order: 'ASC', sort: 'EMAIL' },
    { order: 'DESC', sort: 'FIRST_NAME' },
  ]) {
    const all = ok(await s.gql(`query($o: UserOrderArgType) { users(limit: 1000, order: $o) { totalCount data { id } pageInfo { hasNextPage endCursor } } }`, { o: order })).users;
    assert.equal(all.pageInfo.hasNextPage, false);
    const seen = [];
    let after = null;
    for (let guard = 0; guard < 100; guard++) {
      const p = ok(await s.gql(`query($o: UserOrderArgType, $a: String) { users(limit: 3, order: $o, after: $a) { totalCount data { id } pageInfo { hasNextPage endCursor } } }`, { o: order, a: after })).users;
      assert.equal(p.totalCount, all.totalCount, 'totalCount stays exact on every page');
      seen.push(...p.data.map((u) => u.id));
      if (!p.pageInfo.hasNextPage) break;
      assert.ok(p.pageInfo.endCursor, 'a page with a next page has an endCursor');
      after = p.pageInfo.endCursor;
    }
    assert.deepEqual(seen, all.data.map((u) => u.id), `every user once, in order (${order.sort} ${order.order})`);
  }
  const first = ok(await s.gql(`{ users(limit: 2) { pageInfo { endCursor } } }`)).users.pageInfo.endCursor;
  // With an offset, another order, another filter, or not a cursor: BAD_USER_INPUT naming after.
  for (const [q, v] of [
    [`query($a: String) { users(limit: 2, offset: 1, after: $a) { data { id } } }`, { a: first }],
    [`query($a: String) { users(limit: 2, order: {order: ASC, sort: EMAIL}, after: $a) { data { id } } }`, { a: first }],
    [`query($a: String) { users(limit: 2, filter: {active: {equalTo: true}}, after: $a) { data { id } } }`, { a: first }],
    [`query($a: String) { users(after: $a) { data { id } } }`, { a: 'not-a-cursor' }],
    [`query($a: String) { users(after: $a) { data { id } } }`, { a: first.slice(0, -2) }],
  ]) {
    const r = await s.gql(q, v);
    assert.equal(r.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', r.text);
    assert.equal(r.body.errors[0].extensions.field, 'after', r.text);
  }
  // Tenants: the empty page has no endCursor and no next page.
  const t = ok(await s.gql(`{ tenants(limit: 1) { totalCount data { id } pageInfo { hasNextPage endCursor } } }`)).tenants;
  if (t.totalCount > 1) {
    assert.equal(t.pageInfo.hasNextPage, true);
    const t2 = ok(await s.gql(`query($a: String) { tenants(limit: 1000, after: $a) { data { id } pageInfo { hasNextPage } } }`, { a: t.pageInfo.endCursor })).tenants;
    assert.equal(t2.data.length, t.totalCount - 1);
    assert.equal(t2.pageInfo.hasNextPage, false);
  }
  const none = ok(await s.gql(`{ users(filter: {email: {equalTo: "nobody@nowhere.example"}}) { data { id } pageInfo { hasNextPage endCursor } } }`)).users;
  assert.deepEqual(none.pageInfo, { hasNextPage: false, endCursor: null });
});
