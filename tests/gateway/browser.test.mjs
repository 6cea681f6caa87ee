// GraphiQL in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): the page loads with every request going to the
// gateway itself (requests to any other host are recorded and refused),
// the documentation explorer lists the schema once an API key is in the
// headers editor, and a query typed into the editor runs and its result
// appears in the result pane. A screenshot is written beside the test
// (its path is printed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { startStack } from './lib.mjs';

const port = Number(process.env.GW_TEST_PORT || 23115);
const CHROMIUM = process.env.ROSTER_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = resolve(process.env.GW_SCREENSHOT || 'graphiql.png');
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
let s;
let browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/install-deps.sh installs chromium`);
  s = await startStack({ port });
  const r = await s.gql('mutation { createUser(user: {reference: "b1", email: "browser@example.com"}) { id } }');
  assert.equal(r.status, 200, r.text);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
});

after(async () => {
  if (browser) await browser.close();
  const r = await s.stop();
  assert.equal(r.gateway.code, 0);
});

test('GraphiQL: offline page, schema in the docs, a query typed and run', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const external = [];
  const failures = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || LOOPBACK.has(url.hostname) || LOOPBACK.has(url.host)) return route.continue();
    external.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The introspection sent before a key is pasted is refused (401).
    if (m.type() === 'error' && !/status of 401/.test(m.text())) failures.push(`console: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    if (!external.includes(r.url())) failures.push(`request failed: ${r.url()}`);
  });

  page.setDefaultTimeout(15000);
  try {
    await runPage(page);
  } catch (e) {
    // What the page showed, for the failure report.
    await page.screenshot({ path: SCREENSHOT }).catch(() => {});
    console.log(`screenshot: ${SCREENSHOT}`);
    console.log(`page text: ${await page.locator('body').innerText().catch(() => '?')}`);
    console.log(`errors: ${JSON.stringify(failures)}; external requests: ${JSON.stringify(external)}`);
    throw e;
  }
  assert.deepEqual(external, [], 'requests to hosts other than the gateway');
  assert.deepEqual(failures, []);
  await context.close();
});

async function runPage(page) {
  const res = await page.goto(`${s.url}/graphql`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'text/html; charset=utf-8');
  await page.locator('.graphiql-container').waitFor();

  // The headers editor starts with an empty bearer credential; the user
  // pastes a key into it.
  const headersEditor = page.locator('.graphiql-editor-tool .CodeMirror').filter({ hasText: 'Authorization' });
  await headersEditor.waitFor();
  assert.match(await headersEditor.innerText(), /"Authorization": "Bearer "/);
  await headersEditor.evaluate((el, key) => el.CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${key}` })), s.adminKey);

  // The schema, fetched with the key, in the documentation explorer.
  // GraphiQL takes the editor's text into its state after a short
  // debounce, so the re-fetch is repeated until the schema arrives.
  await page.locator('button[aria-label="Show Documentation Explorer"]').click();
  const queryType = page.locator('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name', { hasText: /^Query$/ }).first();
  const until = Date.now() + 15000;
  for (;;) {
    await page.locator('button[aria-label="Re-fetch GraphQL schema"]:not([disabled])').click();
    try {
      await queryType.waitFor({ timeout: 1000 });
      break;
    } catch (e) {
      if (Date.now() > until) throw e;
    }
  }
  await queryType.click();
  await page.locator('.graphiql-doc-explorer-field-name', { hasText: /^user$/ }).first().waitFor();
  await page.locator('.graphiql-doc-explorer-field-name', { hasText: /^users$/ }).first().waitFor();

  // A query typed into the editor (the editor closes brackets itself, so
  // typing the closing ones steps over them), then run.
  const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
  await queryEditor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('{ users(limit: 5) { totalCount data { email } } }');
  await page.keyboard.press('Escape');
  const typed = await queryEditor.evaluate((el) => el.CodeMirror.getValue());
  assert.equal(typed.replace(/\s+/g, ' ').trim(), '{ users(limit: 5) { totalCount data { email } } }');
  await page.locator('button.graphiql-execute-button').click();
  const result = page.locator('.graphiql-response .CodeMirror');
  await result.filter({ hasText: 'browser@example.com' }).waitFor();
  const text = await result.evaluate((el) => el.CodeMirror.getValue());
  assert.deepEqual(JSON.parse(text), { data: { users: { totalCount: 1, data: [{ email: 'browser@example.com' }] } } });

  await page.screenshot({ path: SCREENSHOT });
  console.log(`screenshot: ${SCREENSHOT}`);
}
