// roster-gateway's gRPC front over TLS (--grpc-tls-cert, --grpc-tls-key),
// WatchChanges without commit announcements (--upstream-changes off: the
// stream asks every second), and SIGTERM with streams open: they end
// UNAVAILABLE and the gateway exits 0 (with LeakSanitizer on).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from './lib.mjs';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PORT = Number(process.env.GW_TEST_PORT || 23191);
const GRPC_PORT = PORT + 1000;
const loaderOpts = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true };
const roster = grpc.loadPackageDefinition(protoLoader.loadSync(process.env.ROSTER_PROTO, loaderOpts)).roster.v1;
const health = grpc.loadPackageDefinition(protoLoader.loadSync(process.env.GRPC_HEALTH_PROTO, loaderOpts)).grpc.health.v1;

let stack;
let certDir;
let client;

function md(key) {
  const m = new grpc.Metadata();
  if (key) m.set('authorization', `Bearer ${key}`);
  return m;
}

function call(method, req, key = stack.adminKey) {
  return new Promise((resolve) => client[method](req, md(key), (error, value) => resolve(error ? { error } : { value })));
}

before(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'roster-grpc-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
  ], { stdio: 'ignore' });
  stack = await startStack({
    port: PORT,
    gatewayArgs: [
      '--grpc-listen', `127.0.0.1:${GRPC_PORT}`,
      '--grpc-tls-cert', join(certDir, 'cert.pem'),
      '--grpc-tls-key', join(certDir, 'key.pem'),
      '--upstream-changes', 'off',
    ],
  });
  const creds = grpc.credentials.createSsl(readFileSync(join(certDir, 'cert.pem')));
  client = new roster.UserService(`localhost:${GRPC_PORT}`, creds);
});

after(async () => {
  client?.close();
  if (stack.gateway) await stack.stop();
  else await stack.stopUsers();
  rmSync(certDir, { recursive: true, force: true });
  rmSync(stack.dir, { recursive: true, force: true });
});

test('TLS: calls succeed with the certificate trusted, fail without it', async () => {
  const u = await call('CreateUser', { reference: 'tls', email: 'tls@example.com' });
  assert.equal(u.value?.email, 'tls@example.com', u.error?.details);
  const untrusted = new roster.UserService(`localhost:${GRPC_PORT}`, grpc.credentials.createSsl());
  const r = await new Promise((resolve) =>
    untrusted.GetUser({ id: u.value.id }, md(stack.adminKey), { deadline: Date.now() + 3000 }, (error) => resolve(error)),
  );
  untrusted.close();
  assert.equal(r?.code, grpc.status.UNAVAILABLE);
  const plain = new roster.UserService(`127.0.0.1:${GRPC_PORT}`, grpc.credentials.createInsecure());
  const p = await new Promise((resolve) =>
    plain.GetUser({ id: u.value.id }, md(stack.adminKey), { deadline: Date.now() + 3000 }, (error) => resolve(error)),
  );
  plain.close();
  assert.ok(p && p.code !== grpc.status.OK);
});

test('WatchChanges without announcements: live events within the poll time', async () => {
  const head = (await call('ListChanges', { after: '0', limit: 0 })).value;
  const got = [];
  const s = client.WatchChanges({ after: head.latest_seq || '0' }, md(stack.adminKey));
  const done = new Promise((resolve, reject) => {
    s.on('data', (m) => {
      got.push(m);
      if (got.length === 3) resolve();
    });
    s.on('error', (e) => (e.code === grpc.status.CANCELLED ? null : reject(e)));
  });
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  for (let i = 0; i < 3; i++) assert.ok((await call('CreateUser', { reference: `poll${i}`, email: `poll${i}@example.com` })).value);
  await done;
  s.cancel();
  assert.ok(Date.now() - started < 3000);
  got.forEach((e, i) => assert.equal(BigInt(e.seq), BigInt(head.latest_seq || '0') + BigInt(i + 1)));
});

test('roster-users down: calls UNAVAILABLE, health NOT_SERVING; back: SERVING again', async () => {
  const hc = new health.Health(`localhost:${GRPC_PORT}`, grpc.credentials.createSsl(readFileSync(join(certDir, 'cert.pem'))));
  const check = () => new Promise((resolve) => hc.Check({ service: '' }, (error, value) => resolve(error ? { error } : { value })));
  assert.equal((await check()).value?.status, 'SERVING');
  // A Watch sees the changes as they happen.
  const seen = [];
  const watch = hc.Watch({ service: 'roster.v1.UserService' });
  watch.on('data', (m) => seen.push(m.status));
  watch.on('error', () => {});
  await new Promise((t) => setTimeout(t, 200));
  await stack.stopUsers();
  const r = await new Promise((resolve) =>
    client.ListUsers({ limit: 1 }, md(stack.adminKey), { deadline: Date.now() + 3000 }, (error) => resolve(error)),
  );
  assert.ok([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED].includes(r?.code), `${r?.code} ${r?.details}`);
  assert.equal((await check()).value?.status, 'NOT_SERVING');
  await stack.startUsers();
  const until = Date.now() + 10000;
  let st;
  while (Date.now() < until && (st = (await check()).value?.status) !== 'SERVING') await new Promise((t) => setTimeout(t, 100));
  assert.equal(st, 'SERVING');
  const untilWatch = Date.now() + 5000;
  while (Date.now() < untilWatch && seen.at(-1) !== 'SERVING') await new Promise((t) => setTimeout(t, 100));
  watch.cancel();
  assert.deepEqual(seen, ['SERVING', 'NOT_SERVING', 'SERVING'], 'each change once');
  hc.close();
});

test('SIGTERM ends open streams UNAVAILABLE and the gateway exits 0', async () => {
  const hc = new health.Health(`localhost:${GRPC_PORT}`, grpc.credentials.createSsl(readFileSync(join(certDir, 'cert.pem'))));
  const ended = (stream) =>
    new Promise((resolve) => {
      stream.on('data', () => {});
      stream.on('error', (e) => resolve(e.code));
      stream.on('end', () => resolve(grpc.status.OK));
    });
  const watch = hc.Watch({ service: '' });
  const changes = client.WatchChanges({ after: '0' }, md(stack.adminKey));
  const w = ended(watch);
  const c = ended(changes);
  await new Promise((r) => setTimeout(r, 300));
  const exit = await stack.stopGateway();
  assert.equal(exit.code, 0, stack.gateway?.stderrText);
  assert.equal(await w, grpc.status.UNAVAILABLE);
  assert.equal(await c, grpc.status.UNAVAILABLE);
  hc.close();
});
