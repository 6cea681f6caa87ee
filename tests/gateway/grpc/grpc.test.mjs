// roster-gateway's gRPC front against the real daemons, with
// @grpc/grpc-js: every unary method of roster.v1.UserService, the status
// codes the service returns (with their messages), keys (none, wrong,
// wrong role, wrong tenant), deadlines, client cancellation, unknown
// methods, oversize messages, 100 concurrent calls on one connection and
// the standard health service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startStack } from './lib.mjs';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
// protobufjs comes with @grpc/proto-loader; it decodes grpc-status-details-bin.
const protobuf = require('protobufjs');

const PORT = Number(process.env.GW_TEST_PORT || 23190);
const GRPC_PORT = PORT + 1000;
const PROTO = process.env.ROSTER_PROTO;
const HEALTH_PROTO = process.env.GRPC_HEALTH_PROTO;
const RPC_PROTO_DIR = process.env.GOOGLE_RPC_PROTO_DIR; // status.proto, error_details.proto
const loaderOpts = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true };

const roster = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, loaderOpts)).roster.v1;
const health = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO, loaderOpts)).grpc.health.v1;
const reflection = grpc.loadPackageDefinition(protoLoader.loadSync(process.env.GRPC_REFLECTION_PROTO, loaderOpts)).grpc
  .reflection.v1alpha;

let stack;
let client; // UserService on one connection
let healthClient;

function md(key) {
  const m = new grpc.Metadata();
  if (key) m.set('authorization', `Bearer ${key}`);
  return m;
}

// One unary call: resolves {value} or {error} (a ServiceError).
function call(method, req, key = stack.adminKey, opts = {}, c = client) {
  return new Promise((resolve) => {
    c[method](req, md(key), opts, (error, value) => resolve(error ? { error } : { value }));
  });
}

async function ok(method, req, key) {
  const r = await call(method, req, key);
  if (r.error) assert.fail(`${method}: ${r.error.code} ${r.error.details}`);
  return r.value;
}

async function fails(method, req, code, key = stack.adminKey, messageRe = null) {
  const r = await call(method, req, key);
  assert.ok(r.error, `${method} should fail with ${code}`);
  assert.equal(r.error.code, code, `${method}: ${r.error.code} ${r.error.details}`);
  if (messageRe) assert.match(r.error.details, messageRe);
  return r.error;
}

before(async () => {
  stack = await startStack({ port: PORT, gatewayArgs: ['--grpc-listen', `127.0.0.1:${GRPC_PORT}`] });
  client = new roster.UserService(`127.0.0.1:${GRPC_PORT}`, grpc.credentials.createInsecure());
  healthClient = new health.Health(`127.0.0.1:${GRPC_PORT}`, grpc.credentials.createInsecure());
});

after(async () => {
  client?.close();
  healthClient?.close();
  const r = await stack.stop();
  assert.equal(r.gateway.code, 0, `gateway exit: ${JSON.stringify(r.gateway)}\n${stack.gateway?.stderrText || ''}`);
});

test('every unary method answers through the gateway', async () => {
  const t = await ok('CreateTenant', { name: 'Acme', reference: 'acme' });
  assert.ok(t.id);
  const t2 = await ok('CreateTenant', { name: 'Other' });
  assert.equal((await ok('UpdateTenant', { id: t2.id, name: 'Other Co' })).name, 'Other Co');
  assert.equal((await ok('GetTenant', { id: t.id })).name, 'Acme');
  assert.equal((await ok('BatchGetTenants', { ids: [t.id, t2.id] })).tenants.length, 2);
  assert.ok((await ok('ListTenants', { limit: 10 })).tenants.length >= 2);
  const u = await ok('CreateUser', { reference: 'ada@example.com', email: 'ada@example.com', first_name: 'Ada', tenant_id: t.id });
  assert.equal(u.email, 'ada@example.com');
  assert.equal((await ok('UpdateUser', { id: u.id, last_name: 'Lovelace' })).last_name, 'Lovelace');
  assert.equal((await ok('GetUser', { id: u.id })).first_name, 'Ada');
  assert.equal((await ok('BatchGetUsers', { ids: [u.id] })).users.length, 1);
  assert.ok((await ok('ListUsers', { limit: 5 })).users.length >= 1);
  const bw = await ok('BulkWrite', {
    operations: [{ create_user: { reference: 'b1@example.com', email: 'b1@example.com', tenant_id: t.id } }, { create_user: { reference: 'b2@example.com', email: 'b2@example.com', tenant_id: t.id } }],
  });
  assert.equal(bw.results.length, 2);
  const victim = await ok('CreateUser', { reference: 'gone@example.com', email: 'gone@example.com', tenant_id: t.id });
  await ok('DeleteUser', { id: victim.id });
  await ok('DeleteTenant', { id: t2.id });
  assert.equal((await ok('Health', {}, null)).status, 'SERVING');
  assert.ok(Number((await ok('Stats', {})).users) >= 3);
  const k = await ok('CreateKey', { name: 'grpc-writer', role: 'ROLE_WRITER', tenant_id: t.id });
  assert.match(k.secret, /^rstr_/);
  assert.equal((await ok('GetKey', { id: k.key.id })).name, 'grpc-writer');
  assert.ok((await ok('ListKeys', {})).keys.length >= 2);
  const rotated = await ok('RotateKey', { id: k.key.id, grace_seconds: 0 });
  assert.notEqual(rotated.secret, k.secret);
  assert.ok((await ok('RevokeKey', { id: k.key.id })).revoked_at);
  const env = await ok('GetEnvironment', {});
  assert.ok(env.id);
  const token = (await ok('IssueServiceToken', { environment_id: env.id })).access_token;
  assert.ok(token);
  // An access token is a bearer credential too.
  assert.ok((await ok('ListUsers', { limit: 1 }, token)).users.length === 1);
  assert.ok((await ok('IssueUserToken', { environment_id: env.id, user_id: u.id })).access_token);
  assert.ok((await ok('RotateSigningKey', {})).signing_key_id);
  const ch = await ok('ListChanges', { after: '0', limit: 1000 });
  assert.ok(ch.changes.length >= 5);
  assert.equal(ch.changes[0].seq, '1');
});

// The google.rpc.Status in an error's grpc-status-details-bin, with its
// BadRequest (if any) unpacked: {code, message, violations: [{field, description}]}.
function statusDetails(error) {
  const root = protobuf.loadSync([`${RPC_PROTO_DIR}/status.proto`, `${RPC_PROTO_DIR}/error_details.proto`]);
  const bin = error.metadata.get('grpc-status-details-bin');
  assert.equal(bin.length, 1, 'one grpc-status-details-bin trailer');
  const st = root.lookupType('google.rpc.Status').decode(bin[0]);
  const violations = [];
  for (const any of st.details) {
    assert.equal(any.type_url ?? any.typeUrl, 'type.googleapis.com/google.rpc.BadRequest');
    const br = root.lookupType('google.rpc.BadRequest').decode(any.value);
    for (const v of br.field_violations ?? br.fieldViolations) violations.push({ field: v.field, description: v.description });
  }
  return { code: st.code, message: st.message, violations };
}

test('the service status codes and messages reach the client', async () => {
  const e = await fails('CreateUser', { reference: 'bad-email', email: 'not an email' }, grpc.status.INVALID_ARGUMENT, undefined, /email/i);
  const st = statusDetails(e);
  assert.equal(st.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(st.message, e.details);
  assert.equal(st.violations.length, 1);
  assert.equal(st.violations[0].field, 'email');
  assert.match(st.violations[0].description, /email/i);
  const nf = await fails('GetUser', { id: 'not-a-uuid' }, grpc.status.INVALID_ARGUMENT);
  assert.equal(statusDetails(nf).violations[0].field, 'id');
  await fails('GetUser', { id: '0190d7a0-0000-7000-8000-000000000000' }, grpc.status.NOT_FOUND);
  await ok('CreateUser', { reference: 'dup@example.com', email: 'dup@example.com' });
  const dup = await fails('CreateUser', { reference: 'dup@example.com', email: 'dup@example.com' }, grpc.status.ALREADY_EXISTS);
  assert.ok(['email', 'reference'].includes(statusDetails(dup).violations[0]?.field));
  const t = await ok('CreateTenant', { name: 'Busy' });
  await ok('CreateUser', { reference: 'busy@example.com', email: 'busy@example.com', tenant_id: t.id });
  const fp = await fails('DeleteTenant', { id: t.id }, grpc.status.FAILED_PRECONDITION, undefined, /still has/);
  assert.equal(statusDetails(fp).violations[0]?.field, 'id');
  const oor = await fails('ListChanges', { after: '999999999' }, grpc.status.OUT_OF_RANGE, undefined, /past the latest/);
  assert.equal(statusDetails(oor).code, grpc.status.OUT_OF_RANGE);
  assert.equal(statusDetails(oor).violations[0]?.field, 'after');
});

test('keys: none, malformed, unknown, wrong role, wrong tenant', async () => {
  await fails('ListUsers', {}, grpc.status.UNAUTHENTICATED, null, /API key is required/);
  await fails('ListUsers', {}, grpc.status.UNAUTHENTICATED, 'not-a-key');
  await fails('ListUsers', {}, grpc.status.UNAUTHENTICATED, `rstr_${'A'.repeat(60)}`);
  const a = await ok('CreateTenant', { name: 'Tenant A' });
  const b = await ok('CreateTenant', { name: 'Tenant B' });
  const writer = (await ok('CreateKey', { name: 'a-writer', role: 'ROLE_WRITER', tenant_id: a.id })).secret;
  const reader = (await ok('CreateKey', { name: 'a-reader', role: 'ROLE_READER', tenant_id: a.id })).secret;
  const inB = await ok('CreateUser', { reference: 'b@example.com', email: 'b@example.com', tenant_id: b.id });
  const inA = await ok('CreateUser', { reference: 'a@example.com', email: 'a@example.com', tenant_id: a.id }, writer);
  assert.equal(inA.tenant_id, a.id);
  assert.equal((await ok('GetUser', { id: inA.id }, reader)).email, 'a@example.com');
  await fails('CreateUser', { reference: 'r@example.com', email: 'r@example.com', tenant_id: a.id }, grpc.status.PERMISSION_DENIED, reader);
  await fails('CreateUser', { reference: 'x@example.com', email: 'x@example.com', tenant_id: b.id }, grpc.status.PERMISSION_DENIED, writer);
  const wrongTenant = await call('GetUser', { id: inB.id }, writer);
  assert.ok([grpc.status.NOT_FOUND, grpc.status.PERMISSION_DENIED].includes(wrongTenant.error?.code));
  await fails('CreateTenant', { name: 'nope' }, grpc.status.PERMISSION_DENIED, writer);
  await fails('ListKeys', {}, grpc.status.PERMISSION_DENIED, reader);
});

test('a deadline shorter than the call ends DEADLINE_EXCEEDED', async () => {
  const operations = [];
  for (let i = 0; i < 1000; i++) operations.push({ create_user: { reference: `slow${i}@example.com`, email: `slow${i}@example.com` } });
  const r = await call('BulkWrite', { operations, dry_run: true }, stack.adminKey, { deadline: Date.now() + 3 });
  assert.equal(r.error?.code, grpc.status.DEADLINE_EXCEEDED);
  // The gateway goes on serving.
  await ok('ListUsers', { limit: 1 });
});

test('a cancelled call leaves the server healthy', async () => {
  const operations = [];
  for (let i = 0; i < 500; i++) operations.push({ create_user: { reference: `c${i}@example.com`, email: `c${i}@example.com` } });
  const calls = [];
  for (let i = 0; i < 20; i++) {
    calls.push(
      new Promise((resolve) => {
        const c = client.BulkWrite({ operations, dry_run: true }, md(stack.adminKey), (error) => resolve(error));
        setTimeout(() => c.cancel(), i % 5);
      }),
    );
  }
  const errors = await Promise.all(calls);
  assert.ok(errors.some((e) => e && e.code === grpc.status.CANCELLED));
  await ok('ListUsers', { limit: 1 });
  // Writes too. roster-users still works through the bulk writes the
  // gateway could not take back (a cancel does not reach it), each until
  // its own deadline: on PostgreSQL under load that took over the default
  // 5 s, so this write may wait longer.
  const w = await call('CreateUser', { reference: 'after-cancel@example.com', email: 'after-cancel@example.com' }, stack.adminKey, {
    deadline: Date.now() + 30000,
  });
  assert.equal(w.error, undefined, w.error?.details);
});

test('an unknown method is UNIMPLEMENTED at once', async () => {
  for (const path of ['/roster.v1.UserService/NoSuchMethod', '/other.Service/Call']) {
    const started = Date.now();
    const err = await new Promise((resolve) => {
      client.makeUnaryRequest(path, (x) => x, (x) => x, Buffer.alloc(0), md(stack.adminKey), { deadline: Date.now() + 10000 }, (e) => resolve(e));
    });
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED, path);
    assert.ok(Date.now() - started < 2000, 'answered without waiting for the deadline');
  }
});

test('a message past the size limit is RESOURCE_EXHAUSTED', async () => {
  const r = await call('CreateUser', { reference: 'big@example.com', email: 'big@example.com', custom_data: 'x'.repeat(5 * 1024 * 1024) });
  assert.equal(r.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  await ok('ListUsers', { limit: 1 });
});

test('100 concurrent calls on one connection', async () => {
  const u = await ok('CreateUser', { reference: 'many@example.com', email: 'many@example.com' });
  const rs = await Promise.all(Array.from({ length: 100 }, () => call('GetUser', { id: u.id })));
  for (const r of rs) assert.equal(r.value?.email, 'many@example.com', r.error?.details);
});

test('health: Check and Watch without a key', async () => {
  const check = (service) =>
    new Promise((resolve) => healthClient.Check({ service }, (error, value) => resolve(error ? { error } : { value })));
  assert.equal((await check('')).value.status, 'SERVING');
  assert.equal((await check('roster.v1.UserService')).value.status, 'SERVING');
  assert.equal((await check('no.such.Service')).error.code, grpc.status.NOT_FOUND);
  const first = await new Promise((resolve, reject) => {
    const w = healthClient.Watch({ service: '' });
    w.on('data', (m) => {
      resolve(m.status);
      w.cancel();
    });
    w.on('error', (e) => {
      if (e.code !== grpc.status.CANCELLED) reject(e);
    });
  });
  assert.equal(first, 'SERVING');
  const unknown = await new Promise((resolve, reject) => {
    const w = healthClient.Watch({ service: 'no.such.Service' });
    w.on('data', (m) => {
      resolve(m.status);
      w.cancel();
    });
    w.on('error', (e) => {
      if (e.code !== grpc.status.CANCELLED) reject(e);
    });
  });
  assert.equal(unknown, 'SERVICE_UNKNOWN');
});

test('reflection lists the services and serves their files, without a key', async () => {
  const rc = new reflection.ServerReflection(`127.0.0.1:${GRPC_PORT}`, grpc.credentials.createInsecure());
  const answers = await new Promise((resolve, reject) => {
    const got = [];
    const s = rc.ServerReflectionInfo();
    s.on('data', (m) => got.push(m));
    s.on('error', reject);
    s.on('end', () => resolve(got));
    s.write({ host: '', list_services: '' });
    s.write({ host: '', file_containing_symbol: 'roster.v1.UserService.WatchChanges' });
    s.write({ host: '', file_by_filename: 'no/such.proto' });
    s.end();
  });
  rc.close();
  assert.equal(answers.length, 3);
  const names = answers[0].list_services_response.service.map((x) => x.name).sort();
  assert.deepEqual(names, ['grpc.health.v1.Health', 'grpc.reflection.v1alpha.ServerReflection', 'roster.v1.UserService']);
  const files = answers[1].file_descriptor_response.file_descriptor_proto;
  assert.ok(files.length >= 1);
  // The first file is roster.proto and it declares the stream.
  assert.ok(files[0].includes(Buffer.from('roster.proto')));
  assert.ok(files[0].includes(Buffer.from('WatchChanges')));
  assert.equal(answers[2].error_response.error_code, grpc.status.NOT_FOUND);
});

// Reads `n` messages of a WatchChanges stream, then cancels it.
function watchChanges(req, key, n, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const s = client.WatchChanges(req, md(key));
    const t = setTimeout(() => {
      s.cancel();
      reject(new Error(`timed out with ${got.length} of ${n} events`));
    }, timeoutMs);
    s.on('data', (m) => {
      got.push(m);
      if (got.length === n) {
        clearTimeout(t);
        s.cancel();
        resolve(got);
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      if (e.code === grpc.status.CANCELLED && got.length === n) return;
      reject(e);
    });
  });
}

function assertConsecutive(events, from) {
  events.forEach((e, i) => assert.equal(BigInt(e.seq), BigInt(from) + BigInt(i + 1), `event ${i}`));
}

test('WatchChanges: catch-up, then 1,000 live events in order, no gap, no duplicate', async () => {
  const head = await ok('ListChanges', { after: '0', limit: 0 });
  const latest = BigInt(head.latest_seq || '0');
  // Catch-up from the start, past one page (500): every event so far, in order.
  const past = await watchChanges({ after: '0' }, stack.adminKey, Number(latest));
  assertConsecutive(past, 0);
  // Live: the stream is open before the writes.
  const live = watchChanges({ after: String(latest) }, stack.adminKey, 1000);
  await new Promise((r) => setTimeout(r, 100));
  const operations = [];
  for (let i = 0; i < 1000; i++) operations.push({ create_user: { reference: `w${i}`, email: `w${i}@example.com` } });
  const bw = await ok('BulkWrite', { operations });
  assert.equal(Number(bw.applied), 1000);
  const events = await live;
  assertConsecutive(events, latest);
  assert.ok(events.every((e) => e.kind === 'CHANGE_KIND_USER_CREATED'));
  assert.deepEqual(events.map((e) => e.user.reference), operations.map((o) => o.create_user.reference));
});

test('WatchChanges: scoped by the key, refused without one, OUT_OF_RANGE past the latest', async () => {
  const a = await ok('CreateTenant', { name: 'Watch A' });
  const b = await ok('CreateTenant', { name: 'Watch B' });
  const reader = (await ok('CreateKey', { name: 'watch-reader', role: 'ROLE_READER', tenant_id: a.id })).secret;
  const head = await ok('ListChanges', { after: '0', limit: 0 });
  const stream = watchChanges({ after: head.latest_seq }, reader, 3);
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 3; i++) {
    await ok('CreateUser', { reference: `wb${i}`, email: `wb${i}@example.com`, tenant_id: b.id });
    await ok('CreateUser', { reference: `wa${i}`, email: `wa${i}@example.com`, tenant_id: a.id });
  }
  const events = await stream;
  assert.deepEqual(events.map((e) => e.user.reference), ['wa0', 'wa1', 'wa2']);
  assert.ok(events.every((e) => e.tenant_id === a.id));
  await assert.rejects(watchChanges({ after: '0' }, null, 1), (e) => e.code === grpc.status.UNAUTHENTICATED);
  await assert.rejects(watchChanges({ after: '99999999' }, stack.adminKey, 1), (e) => e.code === grpc.status.OUT_OF_RANGE && /past the latest/.test(e.details));
});
