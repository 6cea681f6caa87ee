// GraphQL over HTTP conformance: every server audit of the graphql-http
// package (MUST, SHOULD and MAY) against the real gateway, every request
// carrying an admin API key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serverAudits } from 'graphql-http';
import { startStack, fetchWithKey } from './lib.mjs';

let s;
before(async () => {
  s = await startStack({ port: Number(process.env.GW_TEST_PORT || 23102) });
});
after(async () => {
  await s.stop();
});

test('all graphql-http server audits pass', async () => {
  const audits = serverAudits({ url: `${s.url}/graphql`, fetchFn: fetchWithKey(s.adminKey) });
  assert.equal(audits.length, 61, 'the package has 61 server audits');
  const failed = [];
  for (const a of audits) {
    const r = await a.fn();
    if (r.status !== 'ok') failed.push(`${r.id} ${r.name}: ${r.reason}`);
  }
  assert.deepEqual(failed, [], failed.join('\n'));
  console.log(`${audits.length} passed, 0 failed`);
});
