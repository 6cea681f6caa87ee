// Helpers for the gateway's end-to-end tests: start roster-users and
// roster-gateway on a temporary directory and a loopback port, send
// GraphQL requests, stop everything.
//
// roster-users mints an admin key at its first start (--init-admin-key);
// every request the helpers send carries it (Authorization: Bearer) unless
// told otherwise, and keys of other roles are made over RPC with it
// (gw_keytool).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const USERS_BIN = process.env.ROSTER_USERS_BIN;
export const GATEWAY_BIN = process.env.ROSTER_GATEWAY_BIN;
export const KEYTOOL_BIN = process.env.ROSTER_GW_KEYTOOL;

// Headers with `key` as the bearer credential (none when key is null).
export function authHeaders(key, headers = {}) {
  return key ? { ...headers, authorization: `Bearer ${key}` } : { ...headers };
}

// fetch with the admin key of `stack` unless init.headers already has an
// authorization header or init.key says otherwise (null: no header).
export function fetchWithKey(key) {
  return (url, init = {}) => {
    const h = new Headers(init.headers || {});
    if (!h.has('authorization') && key) h.set('authorization', `Bearer ${key}`);
    return fetch(url, { ...init, headers: h });
  };
}

// Waits for roster-users to write its initial admin key and returns it.
export async function readAdminKey(file) {
  await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').trim().length > 0, 'the initial admin key');
  return readFileSync(file, 'utf8').trim();
}

// Creates a key over RPC (`rpcUrl`, with the admin key in adminKeyFile):
// returns {id, secret}. tenant may be null; expiresInMs makes it expire.
export function createKey(rpcUrl, adminKeyFile, name, role, tenant = null, expiresInMs = undefined) {
  const args = [rpcUrl, adminKeyFile, 'create', name, role, tenant || '-'];
  if (expiresInMs !== undefined) args.push(String(expiresInMs));
  return JSON.parse(execFileSync(KEYTOOL_BIN, args, { encoding: 'utf8' }));
}

export function revokeKey(rpcUrl, adminKeyFile, id) {
  return JSON.parse(execFileSync(KEYTOOL_BIN, [rpcUrl, adminKeyFile, 'revoke', id], { encoding: 'utf8' }));
}

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

// Stops process p (SIGSTOP) and waits until every one of its threads is
// stopped ("T" in /proc/PID/task/TID/stat): the signal takes effect
// asynchronously, and a thread not yet stopped (one busy on a loaded
// machine, or in the middle of a disk read) could still answer a request
// sent after the kill.
export async function sigstopAndWait(p, timeoutMs = 5000) {
  p.kill('SIGSTOP');
  const stopped = () =>
    readdirSync(`/proc/${p.pid}/task`).every(
      (t) => readFileSync(`/proc/${p.pid}/task/${t}/stat`, 'utf8').split(') ')[1][0] === 'T',
    );
  await waitFor(stopped, `process ${p.pid} to stop`, timeoutMs);
}

// With ROSTER_TEST_STORE=postgres, each stack's roster-users keeps its
// store in a database of its own on the test cluster (ROSTER_TEST_PG_URL),
// made here with psql and dropped by stop().
const PG_BASE = process.env.ROSTER_TEST_STORE === 'postgres' ? process.env.ROSTER_TEST_PG_URL : null;
if (process.env.ROSTER_TEST_STORE === 'postgres' && !PG_BASE) {
  throw new Error('ROSTER_TEST_STORE=postgres needs ROSTER_TEST_PG_URL');
}

function pgAdmin(sql) {
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_BASE, '-c', sql], { stdio: 'pipe' });
}

function pgDatabase(dir) {
  const name = `g_${dir.slice(dir.lastIndexOf('-') + 1).toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  pgAdmin(`CREATE DATABASE ${name}`);
  return { name, url: `${PG_BASE.slice(0, PG_BASE.lastIndexOf('/'))}/${name}` };
}

// Starts both daemons. opts.port: HTTP port; opts.gatewayArgs,
// opts.usersArgs: extra options for each. opts.shareWith: another stack
// whose PostgreSQL database this one's roster-users serves too (its admin
// key included); the database then stays until that stack stops.
export async function startStack(opts) {
  if (!USERS_BIN || !GATEWAY_BIN) throw new Error('ROSTER_USERS_BIN and ROSTER_GATEWAY_BIN must be set');
  const dir = mkdtempSync(join(tmpdir(), 'roster-gw-test-'));
  const shared = opts.shareWith ? opts.shareWith.pg : null;
  if (opts.shareWith && !shared) throw new Error('shareWith needs a stack on a PostgreSQL store');
  const pg = shared || (PG_BASE ? pgDatabase(dir) : null);
  const ipc = `ipc://${dir}/users.ipc`;
  const stack = {
    dir,
    ipc,
    url: `http://127.0.0.1:${opts.port}`,
    users: null,
    gateway: null,
    adminKeyFile: opts.shareWith ? opts.shareWith.adminKeyFile : join(dir, 'admin.key'),
    adminKey: opts.shareWith ? opts.shareWith.adminKey : null,
    pg,
    // roster-users' and offline rosterctl's options naming this stack's
    // store: the data directory, and the database when on PostgreSQL.
    storeArgs: ['--data', dir, ...(pg ? ['--store', pg.url] : [])],
    async startUsers() {
      const first = this.adminKey === null;
      // Readiness below is the socket file appearing; one left behind by a
      // roster-users killed with SIGKILL would say so at once.
      rmSync(`${dir}/users.ipc`, { force: true });
      this.users = startProcess(
        USERS_BIN,
        [
          ...this.storeArgs,
          '--listen',
          ipc,
          ...(opts.usersArgs || []),
          ...(first ? ['--init-admin-key', this.adminKeyFile] : []),
        ],
        'users',
      );
      const p = this.users;
      const gone = () => p.exitCode !== null || p.signalCode !== null;
      await waitFor(() => gone() || existsSync(`${dir}/users.ipc`), 'roster-users to listen', 30000);
      if (gone()) throw new Error(`roster-users exited before listening:\n${p.stderrText}`);
      if (first) this.adminKey = await readAdminKey(this.adminKeyFile);
    },
    // A new key of `role` ({id, secret}) made with the admin key.
    createKey(name, role, tenant = null, expiresInMs = undefined) {
      return createKey(ipc, this.adminKeyFile, name, role, tenant, expiresInMs);
    },
    revokeKey(id) {
      return revokeKey(ipc, this.adminKeyFile, id);
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
    async stopGateway(signal = 'SIGTERM') {
      const r = await stopProcess(this.gateway, signal);
      this.gateway = null;
      return r;
    },
    // Ready means every upstream socket answers: the gateway spreads calls
    // over its sockets (4 by default, 16 at most), and after roster-users
    // restarts one may still be reconnecting, or be replaced by the stuck-
    // reaper containment (docs/client.md), for some seconds while another
    // already answers. 16 answers in a row have gone through each.
    async waitReady() {
      const until = Date.now() + 30000;
      for (let inRow = 0; inRow < 16; ) {
        if (Date.now() > until) throw new Error('timed out waiting for /readyz 200 16 times in a row');
        let ok = false;
        try {
          ok = (await fetch(`${this.url}/readyz`)).status === 200;
        } catch {
          ok = false;
        }
        if (ok) {
          inRow++;
        } else {
          inRow = 0;
          await sleep(50);
        }
      }
    },
    async stop() {
      const g = await this.stopGateway();
      const u = await this.stopUsers();
      rmSync(dir, { recursive: true, force: true });
      if (pg && !shared) pgAdmin(`DROP DATABASE IF EXISTS ${pg.name} WITH (FORCE)`);
      return { gateway: g, users: u };
    },
    // POST a GraphQL request with the admin key (extra.key: another key,
    // null for none); returns {status, headers, body (parsed), text}.
    async gql(query, variables, extra = {}) {
      const key = 'key' in extra ? extra.key : this.adminKey;
      const res = await fetch(`${this.url}/graphql`, {
        method: 'POST',
        headers: authHeaders(key, { 'content-type': 'application/json', accept: extra.accept || 'application/json' }),
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
    // Any request; the admin key is added unless init.headers has an
    // authorization header or init.key is given (null: none).
    async raw(init, path = '/graphql') {
      const { key, ...rest } = init;
      const res = await fetchWithKey(key === undefined ? this.adminKey : key)(`${this.url}${path}`, rest);
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
