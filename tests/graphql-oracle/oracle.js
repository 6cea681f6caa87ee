'use strict';
// graphql-js side of the oracle comparison.
//
//   node oracle.js gen    CORPUS_DIR OUT_DIR     write OUT_DIR/<case>.json verdicts
//   node oracle.js check  CORPUS_DIR EXPECTED    exit 1 unless EXPECTED is current
//   node oracle.js show   CORPUS_DIR CASE        print one verdict
//   node oracle.js introspection RESULT_JSON     buildClientSchema/printSchema check
//
// The schema is ../../gateway/schema.graphql (ORACLE_SCHEMA overrides it).
// A corpus case is CASE.graphql (the document, bytes as given) and an
// optional CASE.json {"variables": {...}, "operationName": "..."}.
//
// A verdict is normalized JSON that the C driver (oracle_driver.c) produces
// the same way for our engine:
//   {"parse": {"ok": true} | {"ok": false, "locations": [[l,c]], "message": m},
//    "validation": [{"locations": [[l,c],...], "message": m}, ...],   (parse ok)
//    "result": {"data": ..., "errors": [{"message", "locations", "path",
//               "stub"}]}}                                  (no validation errors)
// Validation errors are sorted by locations then message; execution errors
// by path then locations. "stub": true marks errors raised by the stub data
// source, whose messages both engines must reproduce exactly.

const fs = require('fs');
const path = require('path');
const graphql = require('graphql');
const { makeSchema, StubError } = require('./stub.js');

const schemaPath =
  process.env.ORACLE_SCHEMA || path.join(__dirname, '..', '..', 'gateway', 'schema.graphql');
const sdl = fs.readFileSync(schemaPath, 'utf8');
const { schema } = makeSchema(graphql, sdl);

function locs(err) {
  return (err.locations || []).map((l) => [l.line, l.column]);
}

function cmpKey(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function listCases(dir) {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .map((f) => f.slice(0, -'.graphql'.length))
    .sort();
}

function readCase(dir, name) {
  const text = fs.readFileSync(path.join(dir, name + '.graphql'), 'utf8');
  const side = path.join(dir, name + '.json');
  let opts = {};
  if (fs.existsSync(side)) opts = JSON.parse(fs.readFileSync(side, 'utf8'));
  return { text, variables: opts.variables, operationName: opts.operationName };
}

function verdict(c) {
  const v = {};
  let doc;
  try {
    doc = graphql.parse(c.text);
  } catch (e) {
    v.parse = { ok: false, locations: locs(e), message: e.message };
    return v;
  }
  v.parse = { ok: true };
  const verrs = graphql.validate(schema, doc).map((e) => ({
    locations: locs(e),
    message: e.message,
  }));
  verrs.sort(
    (a, b) =>
      cmpKey(JSON.stringify(a.locations), JSON.stringify(b.locations)) ||
      cmpKey(a.message, b.message),
  );
  v.validation = verrs;
  if (verrs.length) return v;

  const res = graphql.execute({
    schema,
    document: doc,
    variableValues: c.variables,
    operationName: c.operationName,
  });
  if (res && typeof res.then === 'function') throw new Error('stub resolvers must be synchronous');
  const out = {};
  if (Object.prototype.hasOwnProperty.call(res, 'data')) {
    out.data = JSON.parse(JSON.stringify(res.data));
  }
  if (res.errors && res.errors.length) {
    const errs = res.errors.map((e) => {
      const o = { message: e.message, locations: locs(e) };
      if (e.path) o.path = e.path;
      if (e.originalError instanceof StubError) o.stub = true;
      return o;
    });
    errs.sort(
      (a, b) =>
        cmpKey(JSON.stringify(a.path || []), JSON.stringify(b.path || [])) ||
        cmpKey(JSON.stringify(a.locations), JSON.stringify(b.locations)),
    );
    out.errors = errs;
  }
  v.result = out;
  return v;
}

function render(v) {
  return JSON.stringify(v, null, 1) + '\n';
}

function gen(corpus, outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const names = listCases(corpus);
  for (const name of names) {
    fs.writeFileSync(path.join(outDir, name + '.json'), render(verdict(readCase(corpus, name))));
  }
  console.log(`wrote ${names.length} verdicts to ${outDir}`);
}

function check(corpus, expDir) {
  const names = listCases(corpus);
  let stale = 0;
  for (const name of names) {
    const want = render(verdict(readCase(corpus, name)));
    const file = path.join(expDir, name + '.json');
    const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (have !== want) {
      stale++;
      console.log(`stale: ${file}${have === null ? ' (missing)' : ''}`);
    }
  }
  const extra = fs
    .readdirSync(expDir)
    .filter((f) => f.endsWith('.json') && !names.includes(f.slice(0, -5)));
  for (const f of extra) {
    stale++;
    console.log(`stale: ${path.join(expDir, f)} (no such corpus case)`);
  }
  console.log(`${names.length} cases, ${stale} stale expected files`);
  if (stale) {
    console.log('regenerate with: node tests/graphql-oracle/oracle.js gen ' +
      'tests/graphql-oracle/corpus tests/graphql-oracle/expected');
    process.exit(1);
  }
}

function introspection(resultFile) {
  const res = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  if (res.errors && res.errors.length) {
    console.log('introspection returned errors: ' + JSON.stringify(res.errors));
    process.exit(1);
  }
  let client;
  try {
    client = graphql.buildClientSchema(res.data);
  } catch (e) {
    console.log('buildClientSchema rejected the introspection result: ' + e.message);
    process.exit(1);
  }
  const got = graphql.printSchema(client);
  const want = graphql.printSchema(graphql.buildSchema(sdl));
  if (got !== want) {
    const g = got.split('\n');
    const w = want.split('\n');
    for (let i = 0; i < Math.max(g.length, w.length); i++) {
      if (g[i] !== w[i]) {
        console.log(`printSchema differs at line ${i + 1}:`);
        console.log(`  graphql-js: ${JSON.stringify(w[i])}`);
        console.log(`  ours:       ${JSON.stringify(g[i])}`);
        break;
      }
    }
    process.exit(1);
  }
  const errs = graphql.validateSchema(client);
  if (errs.length) {
    console.log('client schema invalid: ' + errs.map((e) => e.message).join('; '));
    process.exit(1);
  }
  console.log(`printSchema of our introspection equals graphql-js printSchema (${want.length} bytes)`);
}

function main(argv) {
  const [mode, a, b] = argv;
  if (mode === 'gen' && a && b) return gen(a, b);
  if (mode === 'check' && a && b) return check(a, b);
  if (mode === 'show' && a && b) return process.stdout.write(render(verdict(readCase(a, b))));
  if (mode === 'introspection' && a) return introspection(a);
  console.error('usage: oracle.js gen|check CORPUS_DIR EXPECTED_DIR | show CORPUS_DIR CASE |' +
    ' introspection RESULT_JSON');
  process.exit(2);
}

main(process.argv.slice(2));
