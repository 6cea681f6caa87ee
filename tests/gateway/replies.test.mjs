// Bounded replies through the gateway: a page of big records asked for by
// id only stays small (the gateway sends the selection's field mask), a
// page whose selected fields pass the reply limit is answered
// REPLY_TOO_LARGE, and neither disturbs the calls sharing the gateway's
// upstream connection: small queries and writes running beside them are
// answered as what they were.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib.mjs';

const N = 315; // with 15 KB of customData each: about 4.7 MB, over the 4 MiB limit
const BLOB = 'x'.repeat(15000);

let s;
before(async () => {
  s = await startStack({ port: Number(process.env.GW_TEST_PORT || 23109) });
  const create = `mutation($u: UserCreateDto!) { createUser(user: $u) { id } }`;
  for (let i = 0; i < N; i += 35) {
    const rs = await Promise.all(
      Array.from({ length: Math.min(35, N - i) }, (_, k) =>
        s.gql(create, { u: { reference: `big-${i + k}`, email: `big${i + k}@example.com`, customData: { blob: BLOB } } }),
      ),
    );
    for (const r of rs) assert.equal(r.body?.errors, undefined, r.text);
  }
});
after(async () => {
  await s.stop();
});

const BIG = '{ users(limit: 1000) { data { id customData } } }';

function assertTooLarge(r) {
  assert.equal(r.body.data, null, r.text);
  const e = r.body.errors[0];
  assert.equal(e.extensions.code, 'REPLY_TOO_LARGE', r.text);
  assert.equal(e.extensions.response.statusCode, 400);
  assert.match(e.message, /reply limit of \d+ bytes/);
  assert.match(e.message, /select fewer fields or ask for fewer records/);
}

test('a page of big records by id only: every id', async () => {
  const r = await s.gql('{ users(limit: 1000) { totalCount data { id } } }');
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.equal(r.body.errors, undefined, r.text.slice(0, 300));
  assert.equal(r.body.data.users.totalCount, N);
  const ids = new Set(r.body.data.users.data.map((u) => u.id));
  assert.equal(ids.size, N);
  // Fragments, aliases and a nested tenant take the same path.
  const f = await s.gql(
    'query { users(limit: 1000) { data { ...F k: id tenant { __typename } } } } fragment F on UserModel { email }',
  );
  assert.equal(f.body.errors, undefined, f.text.slice(0, 300));
  assert.equal(f.body.data.users.data.length, N);
  assert.match(f.body.data.users.data[0].email, /^big\d+@example\.com$/);
});

test('selecting customData on that page: REPLY_TOO_LARGE, not UNAVAILABLE', async () => {
  assertTooLarge(await s.gql(BIG));
  // A smaller page of the same fields is served.
  const r = await s.gql('{ users(limit: 100) { data { id customData } } }');
  assert.equal(r.body.errors, undefined, r.text.slice(0, 300));
  assert.equal(r.body.data.users.data.length, 100);
  assert.equal(r.body.data.users.data[0].customData.blob, BLOB);
});

test('beside 15 refused pages: 120 small queries and 20 writes all answered as what they were', async () => {
  const one = (await s.gql('{ users(limit: 1) { data { id } } }')).body.data.users.data[0].id;
  const big = Array.from({ length: 15 }, () => s.gql(BIG));
  const small = Array.from({ length: 120 }, (_, i) =>
    i % 2 ? s.gql(`{ user(id: "${one}") { id email } }`) : s.gql('{ users(limit: 5) { totalCount data { id email } } }'),
  );
  const writes = Array.from({ length: 20 }, (_, i) =>
    s.gql(`mutation { createUser(user: {reference: "side-${i}", email: "side${i}@example.com"}) { id reference } }`),
  );
  const [bigR, smallR, writeR] = await Promise.all([Promise.all(big), Promise.all(small), Promise.all(writes)]);
  for (const r of bigR) assertTooLarge(r);
  for (const r of smallR) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.errors, undefined, r.text);
  }
  for (const [i, r] of writeR.entries()) {
    assert.equal(r.body.errors, undefined, r.text);
    assert.equal(r.body.data.createUser.reference, `side-${i}`);
    const back = await s.gql(`{ user(id: "${r.body.data.createUser.id}") { reference } }`);
    assert.equal(back.body.data.user.reference, `side-${i}`);
  }
  const count = await s.gql('{ users(limit: 0) { totalCount } }');
  assert.equal(count.body.data.users.totalCount, N + 20);
});
