// roster-gateway to roster-users over tls+tcp://: the CA and the expected
// certificate name are checked; a wrong name leaves the gateway unready.
// Without a CA the gateway refuses to start unless told to skip
// verification (then it says so in its log); roster-users refuses a
// private key file others can read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, stopProcess, waitFor, readAdminKey, authHeaders, USERS_BIN, GATEWAY_BIN } from './lib.mjs';

const port = Number(process.env.GW_TEST_PORT || 23105);
const rpcPort = port + 50;
const url = `http://127.0.0.1:${port}`;
let dir;
let users;
let adminKey;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roster-gw-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  chmodSync(join(dir, 'key.pem'), 0o600);
  users = startProcess(USERS_BIN, ['--data', join(dir, 'data'), '--listen', `tls+tcp://127.0.0.1:${rpcPort}`,
    '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'),
    '--init-admin-key', join(dir, 'admin.key')], 'users-tls');
  adminKey = await readAdminKey(join(dir, 'admin.key'));
});

after(async () => {
  await stopProcess(users);
  rmSync(dir, { recursive: true, force: true });
});

async function withGateway(extra, fn, ca = ['--upstream-ca', join(dir, 'cert.pem')]) {
  const g = startProcess(GATEWAY_BIN, ['--listen', url, '--upstream', `tls+tcp://127.0.0.1:${rpcPort}`,
    ...ca, ...extra], 'gateway-tls');
  try {
    await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 'gateway');
    await fn(g);
  } finally {
    const r = await stopProcess(g);
    assert.equal(r.code, 0);
  }
}

const post = (query) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: authHeaders(adminKey, { 'content-type': 'application/json' }),
    body: JSON.stringify({ query }),
  });

test('verified TLS upstream serves queries', async () => {
  await withGateway(['--upstream-server-name', 'localhost'], async () => {
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, '/readyz over TLS');
    const res = await post('mutation { createTenant(tenant: {name: "T"}) { name } }');
    assert.deepEqual(await res.json(), { data: { createTenant: { name: 'T' } } });
  });
});

test('a certificate for another name is refused', async () => {
  await withGateway(['--upstream-server-name', 'wrong.example'], async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    const res = await post('{ tenants { totalCount } }');
    const body = await res.json();
    assert.equal(body.errors[0].extensions.code, 'UNAVAILABLE');
  });
});

test('tls+tcp:// upstream without a CA: refused at start', async () => {
  const g = startProcess(GATEWAY_BIN, ['--listen', url, '--upstream', `tls+tcp://127.0.0.1:${rpcPort}`], 'gateway-noca');
  const r = await g.exited;
  assert.equal(r.code, 2);
  assert.match(g.stderrText, /no --upstream-ca/);
  assert.match(g.stderrText, /--upstream-tls-insecure/);
});

test('--upstream-tls-insecure: starts, serves, and logs a warning', async () => {
  await withGateway(['--upstream-tls-insecure'], async (g) => {
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, '/readyz over unverified TLS');
    const res = await post('{ tenants { totalCount } }');
    assert.deepEqual(await res.json(), { data: { tenants: { totalCount: 1 } } });
    assert.match(g.stderrText, /level=warn .*event=upstream_tls_insecure/);
  }, []);
});

test('a private key file readable by others is refused at start, naming the file and mode', async () => {
  const loose = join(dir, 'loose-key.pem');
  copyFileSync(join(dir, 'key.pem'), loose);
  chmodSync(loose, 0o644);
  const u = startProcess(USERS_BIN, ['--data', join(dir, 'data2'), '--listen', `tls+tcp://127.0.0.1:${rpcPort + 1}`,
    '--tls-cert', join(dir, 'cert.pem'), '--tls-key', loose], 'users-loose-key');
  const t = setTimeout(() => u.kill('SIGKILL'), 10000);
  const r = await u.exited;
  clearTimeout(t);
  assert.notEqual(r.code, 0);
  assert.ok(u.stderrText.includes(loose), u.stderrText);
  assert.match(u.stderrText, /0644/);
  assert.match(u.stderrText, /readable by group or others/);
});
