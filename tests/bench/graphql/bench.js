'use strict';
// graphql-js (and graphql-jit when installed) on the benchmark documents:
// parse, validate and execute against the oracle's stub resolvers
// (tests/graphql-oracle/stub.js), ops/s per document per phase.
//
//   node bench.js DOCS_DIR SCHEMA [SECONDS_PER_MEASUREMENT]
//
// Prints one JSON object per line:
//   {"engine": "graphql-js", "doc": "user_by_id", "phase": "parse", "ops_per_s": 12345}
// "execute" includes JSON.stringify of the result (our engine's execute
// writes the JSON response). graphql-jit's "execute" runs the query compiled
// once beforehand (as a server caching compiled queries would); its compile
// time is reported as phase "compile".

const fs = require('fs');
const path = require('path');
const graphql = require('graphql');
const { makeSchema } = require('../../graphql-oracle/stub.js');

let jit = null;
try {
  jit = require('graphql-jit');
} catch (e) {
  jit = null;
}

const [docsDir, schemaPath, secondsArg] = process.argv.slice(2);
if (!docsDir || !schemaPath) {
  console.error('usage: node bench.js DOCS_DIR SCHEMA [SECONDS]');
  process.exit(2);
}
const seconds = Number(secondsArg || '1');
const { schema } = makeSchema(graphql, fs.readFileSync(schemaPath, 'utf8'));

function measure(fn) {
  // Warm up for a fifth of the time, then count whole batches.
  const warm = process.hrtime.bigint() + BigInt(Math.round(seconds * 2e8));
  while (process.hrtime.bigint() < warm) fn();
  let ops = 0;
  let batch = 1;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    if (batch < 1024) batch *= 2;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

function emit(engine, doc, phase, opsPerS) {
  console.log(JSON.stringify({ engine, doc, phase, ops_per_s: Math.round(opsPerS) }));
}

const names = fs
  .readdirSync(docsDir)
  .filter((f) => f.endsWith('.graphql'))
  .map((f) => f.slice(0, -8))
  .sort();

for (const name of names) {
  const text = fs.readFileSync(path.join(docsDir, name + '.graphql'), 'utf8');
  const side = JSON.parse(fs.readFileSync(path.join(docsDir, name + '.json'), 'utf8'));
  const vars = side.variables || {};
  const op = side.operationName;
  const doc = graphql.parse(text);
  const errs = graphql.validate(schema, doc);
  if (errs.length) throw new Error(name + ': ' + errs[0].message);
  const args = { schema, document: doc, variableValues: vars, operationName: op };
  const check = graphql.execute(args);
  if (check.errors && name !== 'user_by_id' && name !== 'users_page') {
    throw new Error(name + ': ' + check.errors[0].message);
  }

  emit('graphql-js', name, 'parse', measure(() => graphql.parse(text)));
  emit('graphql-js', name, 'validate', measure(() => graphql.validate(schema, doc)));
  emit('graphql-js', name, 'execute', measure(() => JSON.stringify(graphql.execute(args))));

  if (jit) {
    const compiled = jit.compileQuery(schema, doc, op);
    if (!jit.isCompiledQuery(compiled)) throw new Error(name + ': graphql-jit cannot compile');
    emit('graphql-jit', name, 'compile', measure(() => jit.compileQuery(schema, doc, op)));
    emit(
      'graphql-jit',
      name,
      'execute',
      measure(() => compiled.stringify(compiled.query(undefined, undefined, vars))),
    );
  }
}
