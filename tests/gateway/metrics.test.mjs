// /metrics in the Prometheus text format, checked by promtool: the real
// daemons, the gateway with --metrics-require-key, traffic that gives every
// metric family samples (queries, a mutation, parse, validation and field
// errors, refused keys, a reader key's request, a cached document), then
// `promtool check metrics` on what an admin key fetches, and the grouping
// of each family's samples that the format requires.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startStack, authHeaders, metricSum } from './lib.mjs';

const PROMTOOL = process.env.ROSTER_PROMTOOL || 'promtool';

let s;
before(async () => {
  s = await startStack({ port: Number(process.env.GW_TEST_PORT || 23112), gatewayArgs: ['--metrics-require-key'] });
});
after(async () => {
  await s.stop();
});

function wrongSecret(key) {
  const last = key[key.length - 2];
  return key.slice(0, -2) + (last === 'A' ? 'B' : 'A') + key[key.length - 1];
}

async function traffic() {
  const t = await s.gql('mutation { createTenant(tenant: {name: "metrics"}) { id } }');
  assert.equal(t.status, 200, t.text);
  const tenant = t.body.data.createTenant.id;
  for (let i = 0; i < 3; i++) {
    const r = await s.gql('{ users(limit: 5) { totalCount data { id } } }');
    assert.equal(r.status, 200, r.text);
  }
  const created = await s.gql(
    'mutation ($t: ID) { createUser(user: {reference: "m-1", email: "m1@example.com", tenantId: $t}) { id } }',
    { t: tenant },
  );
  assert.equal(created.status, 200, created.text);
  // A field error: NOT_FOUND from GetUser.
  const missing = await s.gql('{ user(id: "0190a0a0-0000-7000-8000-000000000000") { id } }');
  assert.equal(missing.body.errors[0].extensions.code, 'NOT_FOUND');
  // A syntax error and a validation error.
  assert.equal((await s.gql('{ users {')).body.errors[0].extensions.code, 'GRAPHQL_PARSE_FAILED');
  assert.equal((await s.gql('{ nope }')).body.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
  // Refused credentials: none, a wrong secret.
  assert.equal((await s.gql('{ users { totalCount } }', undefined, { key: null })).status, 401);
  assert.equal((await s.gql('{ users { totalCount } }', undefined, { key: wrongSecret(s.adminKey) })).status, 401);
  // A reader key's request: verified by the service, scoped to its tenant.
  const reader = s.createKey('metrics-reader', 'reader', tenant);
  const r = await s.gql('{ users { totalCount } }', undefined, { key: reader.secret });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.data.users.totalCount, 1);
  // A reader key may not read /metrics.
  assert.equal((await fetch(`${s.url}/metrics`, { headers: authHeaders(reader.secret) })).status, 403);
  // A 404 for the HTTP classes.
  assert.equal((await s.raw({}, '/nope')).status, 404);
}

// Families in order of their TYPE lines: {name, type, samples: [lines]};
// fails when a sample comes outside its family's group.
function families(text) {
  const out = [];
  const byName = new Map();
  let current = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/);
    if (type) {
      assert.ok(!byName.has(type[1]), `one TYPE line for ${type[1]}`);
      current = { name: type[1], type: type[2], samples: [] };
      byName.set(current.name, current);
      out.push(current);
      continue;
    }
    if (line.startsWith('#')) continue;
    const name = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)/)[1];
    const suffixes = current && current.type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    assert.ok(
      current && suffixes.some((x) => name === current.name + x),
      `sample "${line}" is in the group of its family (after "# TYPE ${current && current.name}")`,
    );
    current.samples.push(line);
  }
  return out;
}

test('/metrics passes promtool check metrics, every family with samples', async () => {
  await traffic();
  assert.equal((await s.raw({ key: null }, '/metrics')).status, 401);
  const m = await s.raw({}, '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);

  const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: m.text, encoding: 'utf8' });
  assert.equal(check.error, undefined, `running ${PROMTOOL}: ${check.error}`);
  assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}\n---\n${m.text}`);
  assert.equal((check.stdout + check.stderr).trim(), '', 'promtool reports nothing');

  const fams = families(m.text);
  const names = fams.map((f) => f.name);
  for (const name of [
    'roster_gateway_requests_total',
    'roster_gateway_request_duration_seconds',
    'roster_gateway_requests_in_flight',
    'roster_gateway_http_responses_total',
    'roster_gateway_upstream_rpc_duration_seconds',
    'roster_gateway_upstream_rpc_total',
    'roster_gateway_upstream_rpc_errors_total',
    'roster_gateway_upstream_ready',
    'roster_gateway_auth_total',
    'roster_gateway_document_cache_total',
  ])
    assert.ok(names.includes(name), `${name} in /metrics`);
  for (const f of fams) {
    assert.ok(f.samples.length > 0, `${f.name} has samples`);
    assert.ok(m.text.includes(`# HELP ${f.name} `), `${f.name} has HELP`);
    if (f.type === 'counter') assert.match(f.name, /_total$/);
  }

  // The traffic shows where it should.
  const v = (name, labels) => metricSum(m.text, name, labels);
  assert.ok(v('roster_gateway_requests_total', { operation: 'query', outcome: 'ok' }) >= 4);
  assert.ok(v('roster_gateway_requests_total', { operation: 'mutation', outcome: 'ok' }) >= 2);
  assert.ok(v('roster_gateway_requests_total', { operation: 'query', outcome: 'field_errors' }) >= 1);
  assert.ok(v('roster_gateway_requests_total', { outcome: 'request_error' }) >= 2);
  assert.ok(v('roster_gateway_auth_total', { result: 'rejected' }) >= 2);
  assert.ok(v('roster_gateway_auth_total', { result: 'verified' }) >= 2);
  assert.ok(v('roster_gateway_auth_total', { result: 'cache_hit' }) >= 1);
  assert.ok(v('roster_gateway_upstream_rpc_errors_total', { method: 'GetUser', status: 'NOT_FOUND' }) >= 1);
  assert.ok(v('roster_gateway_upstream_rpc_total', { method: 'ListUsers', status: 'OK' }) >= 4);
  assert.ok(v('roster_gateway_document_cache_total', { result: 'hit' }) >= 2);
  assert.equal(v('roster_gateway_upstream_ready'), 1);
  for (const cls of ['2xx', '4xx']) assert.ok(v('roster_gateway_http_responses_total', { class: cls }) >= 1);
  // Histogram buckets are cumulative and end in +Inf equal to _count.
  const hist = fams.find((f) => f.name === 'roster_gateway_request_duration_seconds');
  const buckets = hist.samples.filter((l) => l.includes('_bucket')).map((l) => Number(l.split(' ')[1]));
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] >= buckets[i - 1]);
  assert.ok(hist.samples.some((l) => l.includes('le="+Inf"')));
  assert.equal(buckets.at(-1), v('roster_gateway_request_duration_seconds_count'));
});
