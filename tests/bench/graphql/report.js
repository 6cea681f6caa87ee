'use strict';
// Prints the GraphQL benchmark table from the JSON lines of bench_graphql
// and bench.js: ops/s per document and phase (the best of the rounds when a
// measurement was repeated), with our ratio to graphql-js and graphql-jit.
//   node report.js RESULTS.jsonl
const fs = require('fs');

const rows = fs
  .readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter((l) => l.trim().startsWith('{'))
  .map((l) => JSON.parse(l));
const get = (engine, doc, phase) => {
  const rs = rows.filter((x) => x.engine === engine && x.doc === doc && x.phase === phase);
  return rs.length ? Math.max(...rs.map((r) => r.ops_per_s)) : null;
};
const fmt = (v) => (v === null ? '-' : v.toLocaleString('en-US'));
const ratio = (a, b) => (a === null || b === null ? '-' : (a / b).toFixed(1) + '×');

const docs = [...new Set(rows.map((r) => r.doc))];
const out = [];
out.push('| document | phase | roster ops/s | graphql-js ops/s | vs graphql-js | graphql-jit ops/s | vs graphql-jit |');
out.push('|---|---|---:|---:|---:|---:|---:|');
for (const doc of docs) {
  for (const phase of ['parse', 'validate', 'execute']) {
    const ours = get('roster', doc, phase);
    const js = get('graphql-js', doc, phase);
    const jit = phase === 'execute' ? get('graphql-jit', doc, 'execute') : null;
    out.push(`| ${doc} | ${phase} | ${fmt(ours)} | ${fmt(js)} | ${ratio(ours, js)} | ${fmt(jit)} | ${ratio(ours, jit)} |`);
  }
  // All three phases back to back, as one uncached request does them.
  const total = (e) => {
    const ps = ['parse', 'validate', 'execute'].map((p) => get(e, doc, p));
    return ps.some((p) => p === null) ? null : Math.round(1 / ps.reduce((s, p) => s + 1 / p, 0));
  };
  out.push(`| ${doc} | all three | ${fmt(total('roster'))} | ${fmt(total('graphql-js'))} | ${ratio(total('roster'), total('graphql-js'))} | | |`);
  const cached = get('roster', doc, 'cached');
  out.push(`| ${doc} | cached + execute | ${fmt(cached)} | | | | |`);
}
console.log(out.join('\n'));
