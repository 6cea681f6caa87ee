// The GraphiQL files committed in gateway/graphiql/vendor/ are the ones in
// the npm packages pinned by gateway/graphiql/package-lock.json, byte for
// byte (installed by the gateway_graphiql_npm_ci fixture), and VERSIONS
// names the installed versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const modules = join(process.env.GRAPHIQL_NPM_DIR, 'node_modules');
const vendor = process.env.GRAPHIQL_VENDOR_DIR;

const FILES = [
  ['graphiql.min.js', 'graphiql/graphiql.min.js'],
  ['graphiql.min.css', 'graphiql/graphiql.min.css'],
  ['react.production.min.js', 'react/umd/react.production.min.js'],
  ['react-dom.production.min.js', 'react-dom/umd/react-dom.production.min.js'],
];

test('vendor files equal the pinned packages', () => {
  for (const [mine, theirs] of FILES) {
    const a = readFileSync(join(vendor, mine));
    const b = readFileSync(join(modules, theirs));
    assert.ok(a.equals(b), `${mine} differs from ${theirs}: run gateway/graphiql/update.sh`);
  }
});

test('VERSIONS and LICENSES.txt name the installed packages', () => {
  const versions = readFileSync(join(vendor, 'VERSIONS'), 'utf8');
  const licenses = readFileSync(join(vendor, 'LICENSES.txt'), 'utf8');
  for (const p of ['graphiql', 'react', 'react-dom']) {
    const pkg = JSON.parse(readFileSync(join(modules, p, 'package.json'), 'utf8'));
    const line = `${pkg.name} ${pkg.version} ${pkg.license}`;
    assert.match(versions, new RegExp(`^${line.replace(/\./g, '\\.')}$`, 'm'));
    assert.ok(licenses.includes(`== ${line} ==`), line);
    assert.ok(licenses.includes(readFileSync(join(modules, p, 'LICENSE'), 'utf8')), `${p} license`);
  }
});
