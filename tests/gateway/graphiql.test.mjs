// GraphiQL over HTTP: the page at the GraphQL paths for a browser's
// Accept, GraphQL clients answered as before, a GET with a query never run
// without a key whatever it accepts, and the assets under /graphiql/ with
// their content types and cache headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib.mjs';

const port = Number(process.env.GW_TEST_PORT || 23113);
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
let s;

before(async () => {
  s = await startStack({ port });
});

after(async () => {
  const r = await s.stop();
  assert.equal(r.gateway.code, 0);
});

test('a browser gets the page at /graphql and /v01/server/graphql, without a key', async () => {
  for (const path of ['/graphql', '/v01/server/graphql']) {
    const r = await s.raw({ method: 'GET', key: null, headers: { accept: BROWSER } }, path);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(r.text, /<title>Roster GraphiQL<\/title>/);
    assert.match(r.headers.get('content-security-policy'), /script-src 'self'/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.equal(r.headers.get('vary'), 'Accept');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    // Nothing outside the gateway.
    assert.doesNotMatch(r.text, /https?:\/\//);
  }
});

test('GraphQL clients keep their answers at GET /graphql', async () => {
  for (const accept of [undefined, '*/*', 'application/json', 'application/graphql-response+json, application/json']) {
    const headers = accept ? { accept } : {};
    const r = await s.raw({ method: 'GET', key: null, headers });
    assert.notEqual(r.headers.get('content-type'), 'text/html; charset=utf-8', String(accept));
    assert.equal(r.status, 401, `${accept}: ${r.text}`);
  }
  const ok = await s.raw({ method: 'GET', headers: { accept: 'application/json' } }, '/graphql?query=%7B__typename%7D');
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { data: { __typename: 'Query' } });
});

test('a GET with a query and text/html is a GraphQL request: no key, nothing runs', async () => {
  const q = encodeURIComponent('{ users { totalCount } }');
  const r = await s.raw({ method: 'GET', key: null, headers: { accept: BROWSER } }, `/graphql?query=${q}`);
  assert.equal(r.status, 401, r.text);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(r.body.data, undefined);
  assert.equal(r.body.errors[0].extensions.code, 'UNAUTHENTICATED');
  // With a key it runs and answers JSON, the browser's Accept notwithstanding.
  const k = await s.raw({ method: 'GET', headers: { accept: BROWSER } }, `/graphql?query=${q}`);
  assert.equal(k.status, 200, k.text);
  assert.equal(typeof k.body.data.users.totalCount, 'number');
  // Accepting only text/html: 406, never the page, never run.
  const h = await s.raw({ method: 'GET', key: null, headers: { accept: 'text/html' } }, `/graphql?query=${q}`);
  assert.equal(h.status, 406, h.text);
  // A mutation in a browser's GET: 401 before anything is parsed.
  const m = encodeURIComponent('mutation { createTenant(tenant: {name: "x"}) { id } }');
  const mr = await s.raw({ method: 'GET', key: null, headers: { accept: BROWSER } }, `/graphql?query=${m}`);
  assert.equal(mr.status, 401, mr.text);
  const t = await s.gql('{ tenants { totalCount } }');
  assert.equal(t.body.data.tenants.totalCount, 0);
});

test('POST from a browser is GraphQL, not the page', async () => {
  const r = await s.raw({
    method: 'POST',
    key: null,
    headers: { accept: BROWSER, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  assert.equal(r.status, 401, r.text);
});

test('assets: content types, cache headers, licenses, 404 and 405', async () => {
  const page = await s.raw({ method: 'GET', key: null, headers: { accept: BROWSER } });
  const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(refs.length, 6);
  for (const ref of refs) {
    const r = await fetch(`${s.url}${ref}`);
    const body = await r.arrayBuffer();
    assert.equal(r.status, 200, ref);
    assert.ok(body.byteLength > 0, ref);
    const type = ref.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assert.equal(r.headers.get('content-type'), type, ref);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    const cache = /\d+\.\d+\.\d+/.test(ref) ? 'public, max-age=31536000, immutable' : 'no-cache';
    assert.equal(r.headers.get('cache-control'), cache, ref);
  }
  // HEAD: the headers a GET gets, the GET's length, no body.
  const head = await fetch(`${s.url}/graphiql/roster.js`, { method: 'HEAD' });
  const js = await (await fetch(`${s.url}/graphiql/roster.js`)).arrayBuffer();
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(js.byteLength));
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  const pageHead = await fetch(`${s.url}/graphql`, { method: 'HEAD', headers: { accept: BROWSER } });
  assert.equal(pageHead.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(pageHead.headers.get('content-length'), String(Buffer.byteLength(page.text)));
  const lic = await fetch(`${s.url}/graphiql/LICENSES.txt`);
  assert.equal(lic.status, 200);
  assert.match(await lic.text(), /graphiql 3\.8\.3 MIT[\s\S]*react 18\.3\.1 MIT[\s\S]*react-dom 18\.3\.1 MIT/);
  assert.equal((await fetch(`${s.url}/graphiql/nothing.js`)).status, 404);
  assert.equal((await fetch(`${s.url}/graphiql/`)).status, 404);
  const post = await fetch(`${s.url}/graphiql/roster.js`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  // The Host allowlist holds for the page and the assets too.
  const { request } = await import('node:http');
  const status = await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/graphiql/roster.js', headers: { host: 'evil.example' } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 421);
});
