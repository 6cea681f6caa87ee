// Bad input of every kind gets a clear error and the gateway keeps serving.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib.mjs';

let s;
before(async () => {
  s = await startStack({ port: Number(process.env.GW_TEST_PORT || 23103) });
});
after(async () => {
  const r = await s.stop();
  assert.equal(r.gateway.code, 0);
});
afterEach(async () => {
  const r = await s.gql('{ __typename }');
  assert.equal(r.status, 200, 'the gateway still serves');
  assert.deepEqual(r.body, { data: { __typename: 'Query' } });
});

const post = (body, headers = { 'content-type': 'application/json' }) =>
  s.raw({ method: 'POST', headers, body });

function requestError(r, status, pattern) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.data, undefined);
  assert.ok(r.body.errors.length >= 1);
  assert.match(r.body.errors[0].message, pattern);
}

test('malformed JSON', async () => {
  requestError(await post('{"query": "{ __typename }"'), 400, /not valid JSON/);
  requestError(await post('{"query": }'), 400, /not valid JSON/);
});

test('non-object bodies', async () => {
  requestError(await post('[{"query": "{ __typename }"}]'), 400, /JSON object, not an array/);
  requestError(await post('"{ __typename }"'), 400, /JSON object, not a string/);
  requestError(await post('42'), 400, /JSON object, not a number/);
  requestError(await post('null'), 400, /JSON object, not null/);
});

test('missing body, missing or non-string query, bad parameters', async () => {
  requestError(await post(''), 400, /body is empty/);
  requestError(await post('{}'), 400, /no "query"/);
  requestError(await post('{"query": 1}'), 400, /"query" must be a string/);
  requestError(await post('{"query": "{ __typename }", "variables": [1]}'), 400, /"variables" must be an object/);
  requestError(await post('{"query": "{ __typename }", "operationName": 5}'), 400, /"operationName" must be a string/);
  requestError(await post('{"query": "{ __typename }", "extensions": "x"}'), 400, /"extensions" must be an object/);
});

test('wrong Content-Type', async () => {
  requestError(await post('{"query": "{ __typename }"}', { 'content-type': 'text/plain' }), 415, /Content-Type must be application\/json/);
  requestError(await post('query=%7B__typename%7D', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /Content-Type/);
  requestError(await post('{"query": "{ __typename }"}', { 'content-type': 'application/json; charset=latin1' }), 415, /UTF-8/);
});

test('invalid UTF-8', async () => {
  const bytes = Buffer.concat([Buffer.from('{"query": "{ __typename } #'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
  requestError(await post(bytes), 400, /not valid JSON/);
  const r = await s.raw({ method: 'GET' }, '/graphql?query=%7B__typename%7D%23%FF');
  requestError(r, 400, /UTF-8/);
});

test('body over the limit gets 413', async () => {
  const big = JSON.stringify({ query: `{ __typename } #${'x'.repeat(1100 * 1024)}` });
  const r = await post(big);
  assert.equal(r.status, 413);
  assert.match(r.body.errors[0].message, /larger than the 1048576 allowed/);
});

test('huge strings inside the limit', async () => {
  const r = await s.gql('mutation($u: UserCreateDto!) { createUser(user: $u) { id } }', {
    u: { reference: 'r'.repeat(900 * 1024), email: 'huge@example.com' },
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.data, null);
  assert.equal(r.body.errors[0].extensions.code, 'BAD_USER_INPUT');
  assert.match(r.body.errors[0].message, /reference/);
});

test('deep nesting: documents and JSON', async () => {
  const deep = `{ ${'users { data { tenant { users { '.repeat(10)}totalCount${' } } } }'.repeat(10)} }`;
  const r = await s.gql(deep);
  assert.equal(r.status, 200);
  assert.equal(r.body.data, undefined);
  assert.match(r.body.errors[0].message, /depth|nest/i);
  const json = `{"query": "{ __typename }", "variables": {"a": ${'['.repeat(5000)}${']'.repeat(5000)}}}`;
  requestError(await post(json), 400, /not valid JSON/);
});

test('thousands of aliases hit the token limit', async () => {
  const q = `{ ${Array.from({ length: 6000 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
  const r = await s.gql(q, undefined, { accept: 'application/graphql-response+json' });
  assert.equal(r.status, 400);
  assert.equal(r.body.errors[0].extensions.code, 'GRAPHQL_PARSE_FAILED');
  assert.match(r.body.errors[0].message, /token/i);
});

test('thousands of aliased root fields are capped at --max-rpcs upstream calls', async () => {
  const q = `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: tenants { totalCount }`).join(' ')} }`;
  const before = await (await fetch(`${s.url}/metrics`)).text();
  const r = await s.gql(q);
  const after = await (await fetch(`${s.url}/metrics`)).text();
  assert.equal(r.status, 200);
  assert.equal(r.body.data, null);
  const capped = r.body.errors.filter((e) => /needs more than 100 calls/.test(e.message));
  assert.ok(capped.length >= 1, r.text.slice(0, 300));
  assert.equal(capped[0].extensions.code, 'BAD_USER_INPUT');
  const count = (t) => t.split('\n').filter((l) => l.startsWith('roster_gateway_upstream_rpc_total{method="ListTenants"')).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  assert.ok(count(after) - count(before) <= 100, `${count(after) - count(before)} ListTenants calls`);
});

test('unknown operations and wrong variable types', async () => {
  const r = await s.gql('query A { __typename } query B { __typename }', undefined, { operationName: 'C' });
  assert.equal(r.status, 200);
  assert.equal(r.body.data, undefined);
  assert.match(r.body.errors[0].message, /Unknown operation named "C"/);
  const m = await s.gql('query A { __typename } query B { __typename }');
  assert.match(m.body.errors[0].message, /Must provide operation name/);
  const v = await s.gql('query($n: Int) { users(limit: $n) { totalCount } }', { n: 'ten' }, { accept: 'application/graphql-response+json' });
  assert.equal(v.status, 400);
  assert.equal(v.body.data, undefined);
  assert.match(v.body.errors[0].message, /\$n/);
  const d = await s.gql('mutation($u: UserCreateDto!) { createUser(user: $u) { id } }', { u: { email: 'x' } });
  assert.equal(d.status, 200);
  assert.equal(d.body.data, undefined, 'no execution on a coercion error');
  assert.match(d.body.errors[0].message, /reference/);
  const users = await s.gql('{ users(filter: {withDeactivated: {equalTo: true}}) { totalCount } }');
  assert.equal(users.body.data.users.totalCount, 0, 'nothing was created');
});

test('syntax errors and unknown fields', async () => {
  const p = await s.gql('{ users { ', undefined, { accept: 'application/graphql-response+json' });
  assert.equal(p.status, 400);
  assert.equal(p.body.errors[0].extensions.code, 'GRAPHQL_PARSE_FAILED');
  assert.equal(p.body.errors[0].extensions.response.statusCode, 400);
  const v = await s.gql('{ users { nope } }');
  assert.equal(v.status, 200);
  assert.equal(v.body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.match(v.body.errors[0].message, /Cannot query field "nope" on type "UserPageModel"/);
});

test('unsupported methods and paths', async () => {
  const r = await s.raw({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(r.status, 405);
  assert.match(r.headers.get('allow'), /POST/);
  const n = await s.raw({}, '/nope');
  assert.equal(n.status, 404);
  const m = await s.raw({ method: 'POST' }, '/metrics');
  assert.equal(m.status, 405);
});
