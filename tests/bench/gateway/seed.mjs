// Creates N users through a GraphQL endpoint's createUser (32 in flight)
// and writes their ids, one per line, to OUT. KEY, when given, is sent as
// Authorization: Bearer. CUSTOM, when given, adds customData of about that
// many bytes to each user; PLANS, when given, a customData plan "p<i mod
// PLANS>" (gql.lua's cdx mode draws from 50).
//   node seed.mjs URL N OUT [KEY] [CUSTOM] [PLANS]
import { writeFileSync } from 'node:fs';

const [url, nArg, out, key, customArg, plansArg] = process.argv.slice(2);
const pad = Number(customArg || 0) > 0 ? { pad: 'x'.repeat(Number(customArg) - 10) } : undefined;
const plans = Number(plansArg || 0);
const customOf = (i) => (plans > 0 ? { ...pad, plan: `p${i % plans}` } : pad);
const n = Number(nArg);
const ids = new Array(n);
let next = 0;
const q = 'mutation C($u: UserCreateDto!) { createUser(user: $u) { id } }';

async function worker() {
  for (;;) {
    const i = next++;
    if (i >= n) return;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({
        query: q,
        variables: { u: { reference: `seed-${i}`, email: `seed-${i}@bench.example`, firstName: `First${i}`, lastName: `Last${i}`, locale: 'en-US', customData: customOf(i) } },
      }),
    });
    const body = await res.json();
    if (!body.data || !body.data.createUser) throw new Error(`seed ${i}: ${JSON.stringify(body)}`);
    ids[i] = body.data.createUser.id;
  }
}

await Promise.all(Array.from({ length: 32 }, worker));
writeFileSync(out, ids.join('\n') + '\n');
