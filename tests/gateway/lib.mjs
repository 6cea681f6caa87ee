// Helpers for the gateway's end-to-end tests: start roster-users and
// roster-gateway on a temporary directory and a loopback port, send
// GraphQL requests, stop everything.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const USERS_BIN = process.env.ROSTER_USERS_BIN;
export const GATEWAY_BIN = process.env.ROSTER_GATEWAY_BIN;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function startProcess(bin, args, name) {
  const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderrText = '';
  p.stderr.on('data', (d) => {
    p.stderrText += d.toString();
    if (process.env.GW_TEST_VERBOSE) process.stderr.write(`[${name}] ${d}`);
  });
  p.exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  return p;
}

export async function stopProcess(p, signal = 'SIGTERM', timeoutMs = 10000) {
  if (!p || p.exitCode !== null || p.signalCode !== null) return p && p.exited;
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const r = await p.exited;
  clearTimeout(t);
  return r;
}

export async function waitFor(fn, what, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

// Starts both daemons. opts.port: HTTP port; opts.gatewayArgs: extra options.
export async function startStack(opts) {
  if (!USERS_BIN || !GATEWAY_BIN) throw new Error('ROSTER_USERS_BIN and ROSTER_GATEWAY_BIN must be set');
  const dir = mkdtempSync(join(tmpdir(), 'roster-gw-test-'));
  const ipc = `ipc://${dir}/users.ipc`;
  const stack = {
    dir,
    ipc,
    url: `http://127.0.0.1:${opts.port}`,
    users: null,
    gateway: null,
    async startUsers() {
      this.users = startProcess(USERS_BIN, ['--data', dir, '--listen', ipc, '--allow-keyless-ipc'], 'users');
      await waitFor(() => existsSync(`${dir}/users.ipc`), 'roster-users to listen');
    },
    async stopUsers(signal = 'SIGTERM') {
      const r = await stopProcess(this.users, signal);
      this.users = null;
      return r;
    },
    async startGateway(extra = []) {
      this.gateway = startProcess(
        GATEWAY_BIN,
        ['--listen', this.url, '--upstream', ipc, ...(opts.gatewayArgs || []), ...extra],
        'gateway',
      );
      await waitFor(async () => (await fetch(`${this.url}/healthz`)).status === 200, 'roster-gateway /healthz');
    },
    async stopGateway() {
      const r = await stopProcess(this.gateway);
      this.gateway = null;
      return r;
    },
    async waitReady() {
      await waitFor(async () => (await fetch(`${this.url}/readyz`)).status === 200, '/readyz 200');
    },
    async stop() {
      const g = await this.stopGateway();
      const u = await this.stopUsers();
      rmSync(dir, { recursive: true, force: true });
      return { gateway: g, users: u };
    },
    // POST a GraphQL request; returns {status, headers, body (parsed), text}.
    async gql(query, variables, extra = {}) {
      const res = await fetch(`${this.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: extra.accept || 'application/json' },
        body: JSON.stringify({ query, variables, operationName: extra.operationName }),
      });
      const text = await res.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, headers: res.headers, body, text };
    },
    async raw(init, path = '/graphql') {
      const res = await fetch(`${this.url}${path}`, init);
      const text = await res.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, headers: res.headers, body, text };
    },
  };
  await stack.startUsers();
  await stack.startGateway();
  await stack.waitReady();
  return stack;
}

// Sum of a Prometheus counter's samples whose labels contain every given
// name="value" pair.
export function metricSum(text, name, labels = {}) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = line.match(/^([a-z_]+)(\{([^}]*)\})? ([0-9.e+-]+)$/);
    if (!m || m[1] !== name) continue;
    const l = m[3] || '';
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[4]);
  }
  return sum;
}
