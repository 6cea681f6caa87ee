// Requests for the gateway's callgrind profile (callgrind.sh).
//   node drive.mjs URL seed N IDS_FILE    create N users, write their ids
//   node drive.mjs URL MODE N IDS_FILE    send N requests of MODE, one at a time
// MODE: user (user(id), 6 fields), page (users page of 20 with totalCount),
// filter (users with five filters, search and order), update (updateUser
// setting, clearing and replacing customData).
import { readFileSync, writeFileSync } from 'node:fs';

const [url, mode, nStr, idsFile] = process.argv.slice(2);
const n = Number(nStr);
const F = 'id email firstName lastName createdAt active';
const post = async (query, variables) => {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
};

if (mode === 'seed') {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const u = { reference: `cg-${i}`, email: `cg${i}@cg.example`, firstName: ['A', 'B', 'Cg'][i % 3], lastName: 'User' };
    const j = await post('mutation C($u: UserCreateDto!) { createUser(user: $u) { id } }', { u });
    if (j.errors) throw new Error(JSON.stringify(j.errors));
    ids.push(j.data.createUser.id);
  }
  writeFileSync(idsFile, ids.join('\n') + '\n');
  process.exit(0);
}

const ids = readFileSync(idsFile, 'utf8').trim().split('\n');
const requests = {
  user: (i) => [`query U($id: ID!) { user(id: $id) { ${F} } }`, { id: ids[i % ids.length] }],
  page: (i) => [
    `query P($o: Int) { users(limit: 20, offset: $o, order: {order: DESC, sort: CREATED_AT}) { totalCount data { ${F} } } }`,
    { o: i % 30 },
  ],
  filter: (i) => [
    `query P($o: Int) { users(limit: 5, offset: $o, filter: {email: {iLike: "%cg%", notEqualTo: null}, firstName: {valueIn: ["A", "B", "Cg"]}, active: {equalTo: true}, createdAt: {moreThan: "2020-01-01T00:00:00.000Z"}, tenantId: {equalTo: null}}, search: {key: email, value: "cg"}, order: {order: ASC, sort: email}) { totalCount data { ${F} } } }`,
    { o: i % 3 },
  ],
  update: (i) => [
    `mutation M($id: ID!, $u: UserUpdateDto!) { updateUser(id: $id, user: $u) { ${F} } }`,
    { id: ids[i % ids.length], u: { firstName: `F${i % 7}`, lastName: null, active: true, customData: { k: i % 5 } } },
  ],
};
let errors = 0;
for (let i = 0; i < n; i++) {
  const j = await post(...requests[mode](i));
  if (j.errors && errors++ < 3) console.error(JSON.stringify(j.errors));
}
console.log(`${mode}: ${n} requests, ${errors} with errors`);
process.exit(errors ? 1 : 0);
