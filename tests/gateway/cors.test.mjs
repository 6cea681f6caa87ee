// CORS at the API paths: none by default; with --cors-origins (or its
// environment variable) a listed origin's preflight gets 204 with the
// allowed methods and headers, its answers Access-Control-Allow-Origin and
// Vary: Origin; other origins, and preflights asking for other headers or
// methods, get no Access-Control-* header (preflights: 403). CORS is not
// authentication: a listed origin still needs a key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startStack } from './lib.mjs';

const port = Number(process.env.GW_TEST_PORT || 23114);
const APP = 'https://app.example';
const DEV = 'http://localhost:3000';
const PATHS = ['/graphql', '/v01/server/graphql', '/v01/authorize/serviceAccount', '/v01/authorize'];
let s;

// One request over node:http (so Origin is sent as given): {status, headers, body}.
function send(method, path, headers = {}, body = undefined) {
  if (body !== undefined) headers = { ...headers, 'content-length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function preflight(path, origin, method = 'POST', reqHeaders = 'content-type, authorization') {
  const h = { origin, 'access-control-request-method': method };
  if (reqHeaders) h['access-control-request-headers'] = reqHeaders;
  return send('OPTIONS', path, h);
}

function gqlPost(path, origin, key) {
  const h = { 'content-type': 'application/json' };
  if (origin) h.origin = origin;
  if (key) h.authorization = `Bearer ${key}`;
  return send('POST', path, h, JSON.stringify({ query: '{ __typename }' }));
}

function accessControl(headers) {
  return Object.keys(headers).filter((k) => k.startsWith('access-control-'));
}

before(async () => {
  s = await startStack({ port });
});

after(async () => {
  const r = await s.stop();
  assert.equal(r.gateway.code, 0);
});

test('default: no CORS headers, preflights refused', async () => {
  for (const path of PATHS) {
    const p = await preflight(path, APP);
    assert.equal(p.status, 403, path);
    assert.deepEqual(accessControl(p.headers), [], path);
    assert.equal(p.headers.vary, undefined);
  }
  const r = await gqlPost('/graphql', APP, s.adminKey);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(accessControl(r.headers), []);
  assert.equal(r.headers.vary, undefined);
});

test('bad --cors-origins: the gateway does not start', async () => {
  const { startProcess, GATEWAY_BIN } = await import('./lib.mjs');
  for (const bad of ['*', 'https://app.example/', 'null']) {
    const p = startProcess(GATEWAY_BIN, ['--listen', 'http://127.0.0.1:0', '--upstream', s.ipc, '--cors-origins', bad], 'bad');
    const r = await p.exited;
    assert.equal(r.code, 2, bad);
    assert.match(p.stderrText, /cors-origins/);
  }
});

test('configured origins (option)', async () => {
  await s.stopGateway();
  await s.startGateway(['--cors-origins', `${APP},${DEV}`]);
  await s.waitReady();

  for (const path of PATHS) {
    const p = await preflight(path, APP);
    assert.equal(p.status, 204, path);
    assert.equal(p.headers['access-control-allow-origin'], APP);
    assert.equal(p.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
    const allowed = p.headers['access-control-allow-headers'].split(',').map((h) => h.trim());
    assert.deepEqual(allowed.sort(), ['authorization', 'content-type', 'roq-platform-authorization', 'roq-platform-server-authorization']);
    assert.equal(p.headers['access-control-max-age'], '600');
    assert.match(p.headers.vary, /Origin/);
    assert.equal(p.headers['access-control-allow-credentials'], undefined);
    assert.equal(p.headers['content-length'], undefined);
    assert.equal(p.body, '');
  }
  // The ROQ headers, and no requested headers at all.
  const roq = await preflight('/v01/server/graphql', DEV, 'POST', 'Roq-Platform-Authorization,roq-platform-server-authorization');
  assert.equal(roq.status, 204);
  assert.equal(roq.headers['access-control-allow-origin'], DEV);
  const get = await preflight('/graphql', APP, 'GET', null);
  assert.equal(get.status, 204);

  // Refused preflights: other origin, other header, other method.
  for (const [origin, method, hdrs] of [
    ['https://evil.example', 'POST', 'content-type'],
    ['https://app.example.evil', 'POST', 'content-type'],
    [APP, 'POST', 'content-type, x-custom'],
    [APP, 'DELETE', 'content-type'],
  ]) {
    const p = await preflight('/graphql', origin, method, hdrs);
    assert.equal(p.status, 403, `${origin} ${method} ${hdrs}`);
    assert.deepEqual(accessControl(p.headers), []);
  }

  // Actual requests.
  const ok = await gqlPost('/graphql', APP, s.adminKey);
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.headers['access-control-allow-origin'], APP);
  assert.equal(ok.headers.vary, 'Origin');
  assert.deepEqual(accessControl(ok.headers), ['access-control-allow-origin']);
  // An error answer from a listed origin is readable too, and CORS is not
  // authentication: no key is still 401.
  const nokey = await gqlPost('/graphql', DEV, null);
  assert.equal(nokey.status, 401);
  assert.equal(nokey.headers['access-control-allow-origin'], DEV);
  const tok = await send('POST', '/v01/authorize/serviceAccount', { origin: APP, 'content-type': 'application/json' }, '{}');
  assert.equal(tok.status, 400);
  assert.equal(tok.headers['access-control-allow-origin'], APP);
  // Other origins and no Origin: nothing but Vary.
  const evil = await gqlPost('/graphql', 'https://evil.example', s.adminKey);
  assert.equal(evil.status, 200);
  assert.deepEqual(accessControl(evil.headers), []);
  assert.equal(evil.headers.vary, 'Origin');
  const none = await gqlPost('/graphql', null, s.adminKey);
  assert.equal(none.status, 200);
  assert.deepEqual(accessControl(none.headers), []);
  // The page merges its Vary with CORS's.
  const page = await send('GET', '/graphql', { origin: APP, accept: 'text/html' });
  assert.equal(page.status, 200);
  assert.match(page.headers.vary, /Accept/);
  assert.match(page.headers.vary, /Origin/);
  // Paths outside the API get no CORS headers.
  const h = await send('GET', '/healthz', { origin: APP });
  assert.deepEqual(accessControl(h.headers), []);
  const hp = await preflight('/healthz', APP);
  assert.deepEqual(accessControl(hp.headers), []);
});

test('configured origins (environment variable)', async () => {
  await s.stopGateway();
  process.env.ROSTER_GATEWAY_CORS_ORIGINS = DEV;
  try {
    await s.startGateway();
  } finally {
    delete process.env.ROSTER_GATEWAY_CORS_ORIGINS;
  }
  await s.waitReady();
  const p = await preflight('/graphql', DEV);
  assert.equal(p.status, 204);
  assert.equal(p.headers['access-control-allow-origin'], DEV);
  const q = await preflight('/graphql', APP);
  assert.equal(q.status, 403);
});
