// The official ROQ Node SDK (@roq/nodejs) against roster-gateway, unchanged:
// its token exchange (/v01/authorize/serviceAccount, /v01/authorize), its
// GraphQL endpoint (/v01/server/graphql with roq-platform-authorization and
// roq-platform-server-authorization), and the examples of the ROQ user
// management documentation (createUser, updateUser, deactivating a user,
// updateTenant) with their results and errors as HttpException. Then user
// tokens (their own user only, profile fields only, expiry), revocation of
// the key behind a token, bad input at the exchange, and the refusals of
// the token methods (no key, wrong key, wrong tenant, wrong role).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import roq from '@roq/nodejs';
import { startStack, waitFor } from './lib.mjs';

const { Platform } = roq;
const port = Number(process.env.GW_TEST_PORT || 23109);
const CTL = process.env.ROSTER_CTL_BIN;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let s;
let env;
let tenantA;
let tenantB;
let userB;

// rosterctl against the stack's service with the admin key; parsed --json.
function ctl(...args) {
  const out = execFileSync(CTL, ['--connect', s.ipc, '--key', s.adminKey, '--json', ...args], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

function platform(apiKey, environmentId = env) {
  return new Platform({ host: s.url, environmentId, apiKey });
}

// Awaits `p`, which must reject with the SDK's HttpException.
async function httpException(p, statusCode, errorCode) {
  await assert.rejects(p, (e) => {
    assert.equal(e.constructor.name, 'HttpException', String(e));
    assert.equal(e.statusCode, statusCode, e.message);
    assert.equal(e.errorCode, errorCode, e.message);
    return true;
  });
}

async function postJson(path, body, headers = {}) {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text };
}

before(async () => {
  s = await startStack({ port });
  env = ctl('environment').environmentId;
  tenantA = ctl('tenants', 'create', '--name', 'Acme').id;
  tenantB = ctl('tenants', 'create', '--name', 'Beta').id;
  const u = await s.gql(
    `mutation { createUser(user: {reference: "b1", email: "b1@example.com", tenantId: "${tenantB}"}) { id } }`,
  );
  userB = u.body.data.createUser.id;
});

after(async () => {
  const r = await s.stop();
  assert.equal(r.gateway.code, 0);
  assert.equal(r.users.code, 0);
});

test('rosterctl environment: the same id live and offline', () => {
  assert.match(env, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const off = JSON.parse(execFileSync(CTL, [...s.storeArgs, '--json', 'environment', '--offline'], { encoding: 'utf8' }));
  assert.equal(off.environmentId, env);
  assert.match(off.signingKeyId, /^[0-9a-f]{16}$/);
});

test('service token: a JWT with exp, the key id and role; /v01/server/graphql accepts it', async () => {
  const r = await postJson('/v01/authorize/serviceAccount', {
    email: 'project-service-account@roq.tech',
    environmentId: env,
    apiKey: s.adminKey,
  });
  assert.equal(r.status, 200, r.text);
  const [h, p] = r.body.accessToken.split('.').slice(0, 2).map((x) => JSON.parse(Buffer.from(x, 'base64url')));
  assert.equal(h.alg, 'EdDSA');
  assert.match(h.kid, /^[0-9a-f]{16}$/);
  assert.equal(p.role, 'admin');
  assert.equal(p.env, env);
  assert.equal(p.key, s.adminKey.slice(5, 37).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'));
  assert.ok(p.exp > Date.now() / 1000 && p.exp <= Date.now() / 1000 + 3600, String(p.exp));
  const g = await postJson('/v01/server/graphql', { query: '{ tenants { totalCount } }' }, {
    'roq-platform-authorization': `Bearer ${r.body.accessToken}`,
  });
  assert.equal(g.status, 200, g.text);
  assert.equal(g.body.data.tenants.totalCount, 2);
  // The plain key works on the same path, and the token on /graphql.
  const k = await postJson('/v01/server/graphql', { query: '{ tenants { totalCount } }' }, { authorization: `Bearer ${s.adminKey}` });
  assert.equal(k.status, 200, k.text);
  const t = await postJson('/graphql', { query: '{ tenants { totalCount } }' }, { authorization: `Bearer ${r.body.accessToken}` });
  assert.equal(t.status, 200, t.text);
  // The Basic header's environment id must be the token's.
  const basic = Buffer.from(`00000000-0000-4000-8000-000000000000:${s.adminKey}`).toString('base64');
  const wrongEnv = await postJson('/v01/server/graphql', { query: '{ __typename }' }, {
    'roq-platform-authorization': `Bearer ${r.body.accessToken}`,
    'roq-platform-server-authorization': `Basic ${basic}`,
  });
  assert.equal(wrongEnv.status, 401, wrongEnv.text);
  assert.match(wrongEnv.body.errors[0].message, /environment id/);
});

test('documentation examples through the SDK: createUser, updateUser, deactivate, updateTenant', async () => {
  const sdk = platform(s.adminKey).asSuperAdmin();
  // The documentation's createUser, with its placeholder values made valid.
  const { createUser: u } = await sdk.createUser({
    user: {
      reference: 'abc123',
      email: 'xyz789@example.com',
      phone: '+15550100',
      firstName: 'xyz789',
      lastName: 'abc123',
      locale: 'en-US',
      timezone: 'Europe/Berlin',
      isOptedIn: false,
      active: false,
      tenantId: tenantA,
    },
  });
  assert.match(u.id, /^[0-9a-f-]{36}$/);
  assert.equal(u.reference, 'abc123');
  assert.equal(u.email, 'xyz789@example.com');
  assert.equal(u.tenantId, tenantA);
  assert.equal(u.active, false);

  const { updateUser: v } = await sdk.updateUser({ id: u.id, user: { firstName: 'Ada', active: true } });
  assert.equal(v.firstName, 'Ada');
  assert.equal(v.active, true);
  assert.equal(v.lastName, 'abc123');

  const { updateUser: off } = await sdk.updateUser({ id: u.id, user: { active: false } });
  assert.equal(off.active, false);

  const { updateTenant: t } = await sdk.updateTenant({ id: tenantA, tenant: { name: 'Acme Corp' } });
  assert.equal(t.id, tenantA);
  assert.equal(t.name, 'Acme Corp');
  assert.equal(ctl('tenants', 'get', tenantA).name, 'Acme Corp');

  // The same reference again in the same tenant: 409 ALREADY_EXISTS.
  await httpException(
    sdk.createUser({ user: { reference: 'abc123', email: 'other@example.com', tenantId: tenantA } }),
    409,
    'ALREADY_EXISTS',
  );
  await httpException(sdk.updateUser({ id: '00000000-0000-7000-8000-000000000000', user: { firstName: 'x' } }), 404, 'NOT_FOUND');
});

test('a wrong API key or environment id: JSON 401 at the exchange, logged, HttpException 401 from the SDK', async () => {
  const wrong = s.adminKey.slice(0, -2) + (s.adminKey.at(-2) === 'A' ? 'B' : 'A') + s.adminKey.at(-1);
  const r = await postJson('/v01/authorize/serviceAccount', { email: 'x', environmentId: env, apiKey: wrong });
  assert.equal(r.status, 401, r.text);
  assert.deepEqual(Object.keys(r.body).sort(), ['errorCode', 'message', 'statusCode']);
  assert.equal(r.body.statusCode, 401);
  assert.equal(r.body.errorCode, 'UNAUTHENTICATED');
  await waitFor(() => /event=auth_failed reason=rejected key_id=[0-9a-f-]{36} path=\/v01\/authorize\/serviceAccount/.test(s.gateway.stderrText), 'the refusal in the gateway log');

  const e = await postJson('/v01/authorize/serviceAccount', {
    email: 'x',
    environmentId: '00000000-0000-4000-8000-000000000000',
    apiKey: s.adminKey,
  });
  assert.equal(e.status, 401, e.text);
  assert.equal(e.body.message, r.body.message); // the same answer for either
  await waitFor(() => /event=auth_failed reason="wrong environment id" key_id=[0-9a-f-]{36}/.test(s.users.stderrText), 'the wrong environment in the service log');
  assert.match(s.gateway.stderrText, /path=\/v01\/authorize\/serviceAccount message="environmentId is not this deployment's"/);

  await httpException(platform(wrong).asSuperAdmin().createUser({ user: { reference: 'w1', email: 'w1@example.com' } }), 401, 'UNAUTHENTICATED');
  await httpException(
    platform(s.adminKey, '00000000-0000-4000-8000-000000000000').asSuperAdmin().updateTenant({ id: tenantA, tenant: { name: 'x' } }),
    401,
    'UNAUTHENTICATED',
  );
});

test('exchange input: method, media type, JSON, types, size', async () => {
  const get = await fetch(`${s.url}/v01/authorize/serviceAccount`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  const ct = await postJson('/v01/authorize/serviceAccount', '{}', { 'content-type': 'text/plain' });
  assert.equal(ct.status, 400);
  assert.match(ct.body.message, /Content-Type/);
  const bad = await postJson('/v01/authorize/serviceAccount', '{"apiKey": ');
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /not valid JSON/);
  const arr = await postJson('/v01/authorize/serviceAccount', '[1]');
  assert.match(arr.body.message, /JSON object/);
  const typ = await postJson('/v01/authorize/serviceAccount', { environmentId: env, apiKey: 42 });
  assert.equal(typ.status, 400);
  assert.equal(typ.body.message, 'apiKey must be a string');
  const missing = await postJson('/v01/authorize', { environmentId: env, apiKey: s.adminKey });
  assert.equal(missing.body.message, 'userId is required');
  const exp = await postJson('/v01/authorize', { environmentId: env, apiKey: s.adminKey, userId: userB, expiresIn: 'soon' });
  assert.equal(exp.status, 400);
  assert.match(exp.body.message, /expiresIn/);
  const long = await postJson('/v01/authorize', { environmentId: env, apiKey: s.adminKey, userId: userB, expiresIn: '2d' });
  assert.match(long.body.message, /expiresIn/);
  const big = await postJson('/v01/authorize/serviceAccount', JSON.stringify({ email: 'x'.repeat(20000), environmentId: env, apiKey: s.adminKey }));
  assert.equal(big.status, 413);
  assert.match(big.body.message, /at most 16384/);
});

test('user tokens: own user and tenant only, profile fields only', async () => {
  const admin = platform(s.adminKey);
  const { createUser: me } = await admin.asSuperAdmin().createUser({ user: { reference: 'me', email: 'me@example.com', tenantId: tenantA } });
  const asMe = admin.asUser(me.id);
  const { updateUser: v } = await asMe.updateUser({
    id: me.id,
    user: { firstName: 'Grace', lastName: 'Hopper', phone: '+15550101', locale: 'en-GB', timezone: 'Europe/London', avatarUrl: 'https://example.com/a.png' },
  });
  assert.equal(v.firstName, 'Grace');
  assert.equal(v.timezone, 'Europe/London');
  const read = await asMe.graphqlRequest(`{ user(id: "${me.id}") { email tenant { id name } } }`);
  assert.equal(read.data.user.email, 'me@example.com');
  assert.equal(read.data.user.tenant.id, tenantA);
  const tenant = await asMe.graphqlRequest(`{ tenant(id: "${tenantA}") { name } }`);
  assert.equal(tenant.data.tenant.name, 'Acme Corp');

  // Another user, other fields, lists and tenant writes: FORBIDDEN.
  await httpException(asMe.updateUser({ id: userB, user: { firstName: 'x' } }), 403, 'FORBIDDEN');
  await httpException(asMe.updateUser({ id: me.id, user: { active: false } }), 403, 'FORBIDDEN');
  await httpException(asMe.updateUser({ id: me.id, user: { email: 'new@example.com' } }), 403, 'FORBIDDEN');
  await httpException(asMe.updateTenant({ id: tenantA, tenant: { name: 'x' } }), 403, 'FORBIDDEN');
  await httpException(asMe.createUser({ user: { reference: 'x', email: 'x@example.com' } }), 403, 'FORBIDDEN');
  await httpException(asMe.graphqlRequest(`{ user(id: "${userB}") { id } }`), 403, 'FORBIDDEN');
  await httpException(asMe.graphqlRequest('{ users { totalCount } }'), 403, 'FORBIDDEN');
  await httpException(asMe.graphqlRequest(`{ tenant(id: "${tenantB}") { id } }`), 403, 'FORBIDDEN');
});

test('user tokens: expiry, and tokens cannot obtain tokens', async () => {
  const r = await postJson('/v01/authorize', { environmentId: env, apiKey: s.adminKey, userId: userB, expiresIn: '1' });
  assert.equal(r.status, 200, r.text);
  const tok = r.body.accessToken;
  const q = { query: `{ user(id: "${userB}") { id } }` };
  const ok = await postJson('/v01/server/graphql', q, { 'roq-platform-authorization': `Bearer ${tok}` });
  assert.equal(ok.status, 200, ok.text);
  const exp = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url')).exp;
  await sleep(Math.max(0, exp * 1000 - Date.now()) + 1100);
  const late = await postJson('/v01/server/graphql', q, { 'roq-platform-authorization': `Bearer ${tok}` });
  assert.equal(late.status, 401, late.text);
  assert.equal(late.body.errors[0].extensions.response.errorCode, 'UNAUTHENTICATED');
  await waitFor(() => /reason="token expired"/.test(s.users.stderrText), 'the expiry in the service log');

  const svc = await postJson('/v01/authorize/serviceAccount', { environmentId: env, apiKey: s.adminKey });
  const chain = await postJson('/v01/authorize/serviceAccount', { environmentId: env, apiKey: svc.body.accessToken });
  assert.equal(chain.status, 403, chain.text);
  assert.match(chain.body.message, /token cannot obtain tokens/);
});

test('token methods: wrong role, wrong tenant, no key', async () => {
  const reader = s.createKey('sdk-reader', 'reader', tenantA);
  const writer = s.createKey('sdk-writer', 'writer', tenantA);
  const asReader = await postJson('/v01/authorize', { environmentId: env, apiKey: reader.secret, userId: userB });
  assert.equal(asReader.status, 403, asReader.text);
  assert.equal(asReader.body.errorCode, 'FORBIDDEN');
  const otherTenant = await postJson('/v01/authorize', { environmentId: env, apiKey: writer.secret, userId: userB });
  assert.equal(otherTenant.status, 404, otherTenant.text);
  const wrongKey = await postJson('/v01/authorize', { environmentId: env, apiKey: writer.secret.slice(0, -1) + (writer.secret.at(-1) === 'A' ? 'B' : 'A'), userId: userB });
  assert.equal(wrongKey.status, 401, wrongKey.text);
  const wrongEnv = await postJson('/v01/authorize', { environmentId: '00000000-0000-4000-8000-000000000000', apiKey: s.adminKey, userId: userB });
  assert.equal(wrongEnv.status, 401, wrongEnv.text);
  const noKey = await postJson('/v01/authorize', { environmentId: env, userId: userB });
  assert.equal(noKey.status, 400);
  assert.equal(noKey.body.message, 'apiKey is required');
  // A writer's service token acts as the writer: its own tenant only.
  const w = platform(writer.secret).asSuperAdmin();
  const { createUser: wu } = await w.createUser({ user: { reference: 'wu', email: 'wu@example.com' } });
  assert.equal(wu.tenantId, tenantA);
  await httpException(w.updateTenant({ id: tenantA, tenant: { name: 'x' } }), 403, 'FORBIDDEN');
  await httpException(w.updateUser({ id: userB, user: { firstName: 'x' } }), 404, 'NOT_FOUND');
  // Environment and rotation: any key reads, only admin rotates.
  assert.throws(() => execFileSync(CTL, ['--connect', s.ipc, '--key', writer.secret, 'environment', 'rotate-signing-key'], { stdio: 'pipe' }), (e) => e.status === 6);
  assert.throws(() => execFileSync(CTL, ['--connect', s.ipc, 'environment'], { stdio: 'pipe' }), (e) => e.status === 6);
  assert.throws(() => execFileSync(CTL, ['--connect', s.ipc, 'environment', 'rotate-signing-key'], { stdio: 'pipe' }), (e) => e.status === 6);
  const badKey = reader.secret.slice(0, -1) + (reader.secret.at(-1) === 'A' ? 'B' : 'A');
  assert.throws(() => execFileSync(CTL, ['--connect', s.ipc, '--key', badKey, 'environment'], { stdio: 'pipe' }), (e) => e.status === 6);
  const seen = JSON.parse(execFileSync(CTL, ['--connect', s.ipc, '--key', reader.secret, '--json', 'environment'], { encoding: 'utf8' }));
  assert.equal(seen.environmentId, env);
});

test('revoking the key behind a token stops the token within a second', async () => {
  const k = s.createKey('sdk-revoke', 'admin');
  const sdk = platform(k.secret).asSuperAdmin();
  await sdk.updateTenant({ id: tenantB, tenant: { name: 'Beta 2' } });
  s.revokeKey(k.id);
  await sleep(1100);
  await httpException(sdk.updateTenant({ id: tenantB, tenant: { name: 'Beta 3' } }), 401, 'UNAUTHENTICATED');
  await waitFor(() => /reason="key revoked"/.test(s.users.stderrText), 'the revocation in the service log');
});

test('rotating the signing key: old tokens still verify, new ones use the new key', async () => {
  const before = await postJson('/v01/authorize/serviceAccount', { environmentId: env, apiKey: s.adminKey });
  const oldKid = JSON.parse(Buffer.from(before.body.accessToken.split('.')[0], 'base64url')).kid;
  const rotated = ctl('environment', 'rotate-signing-key');
  assert.notEqual(rotated.signingKeyId, oldKid);
  assert.equal(rotated.environmentId, env);
  const after = await postJson('/v01/authorize/serviceAccount', { environmentId: env, apiKey: s.adminKey });
  assert.equal(JSON.parse(Buffer.from(after.body.accessToken.split('.')[0], 'base64url')).kid, rotated.signingKeyId);
  for (const t of [before.body.accessToken, after.body.accessToken]) {
    const g = await postJson('/v01/server/graphql', { query: '{ __typename }' }, { 'roq-platform-authorization': `Bearer ${t}` });
    assert.equal(g.status, 200, g.text);
  }
  // After a restart the retired key is read back from the data directory.
  await s.stopUsers();
  await s.startUsers();
  await s.waitReady();
  const g = await postJson('/v01/server/graphql', { query: '{ tenants { totalCount } }' }, { 'roq-platform-authorization': `Bearer ${before.body.accessToken}` });
  assert.equal(g.status, 200, g.text);
  // Rotated offline while the service is stopped: used from its next start,
  // and tokens of both earlier keys still verify.
  await s.stopUsers();
  const off = JSON.parse(execFileSync(CTL, [...s.storeArgs, '--json', 'environment', 'rotate-signing-key', '--offline'], { encoding: 'utf8' }));
  assert.notEqual(off.signingKeyId, rotated.signingKeyId);
  await s.startUsers();
  await s.waitReady();
  assert.equal(ctl('environment').signingKeyId, off.signingKeyId);
  for (const t of [before.body.accessToken, after.body.accessToken]) {
    const r = await postJson('/v01/server/graphql', { query: '{ __typename }' }, { 'roq-platform-authorization': `Bearer ${t}` });
    assert.equal(r.status, 200, r.text);
  }
  // A token with a changed signature is refused.
  const forged = before.body.accessToken.slice(0, -4) + (before.body.accessToken.at(-4) === 'A' ? 'B' : 'A') + before.body.accessToken.slice(-3);
  const f = await postJson('/v01/server/graphql', { query: '{ __typename }' }, { 'roq-platform-authorization': `Bearer ${forged}` });
  assert.equal(f.status, 401, f.text);
});
