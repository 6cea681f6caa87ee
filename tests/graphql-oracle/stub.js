'use strict';
// The oracle's deterministic stub data source for graphql-js (STUB.md is the
// specification; oracle_stub.c implements the same for our engine).
// makeSchema(graphql, sdl) returns {schema} with the resolvers attached; it takes the
// graphql module as an argument so the benchmark can use its own copy.

const CREATED = '2026-01-01T00:00:00.000Z';
const UPDATED = '2026-01-02T00:00:00.000Z';
const TOUCHED = '2026-01-03T00:00:00.000Z';

class StubError extends Error {}

function n(s) {
  let k = 0;
  for (const b of Buffer.from(String(s), 'utf8')) k += b;
  return k;
}

function deriveUser(id) {
  const k = n(id);
  let tenantId;
  if (k % 6 === 0) tenantId = null;
  else if (k % 11 === 0) tenantId = 't-bad';
  else tenantId = 't' + (k % 4);
  return {
    id,
    reference: 'ref-' + id,
    email: id + '@example.com',
    firstName: 'First-' + id,
    lastName: k % 5 === 0 ? null : 'Last-' + id,
    phone: k % 4 === 0 ? '+1555' + k : null,
    locale: 'en-US',
    timezone: 'UTC',
    isOptedIn: k % 2 === 0,
    active: k % 3 !== 0,
    synced: true,
    avatarUrl: 'https://img.example.com/' + id + '.png',
    customData: { n: k, tags: ['a', 'b'] },
    twoFactorEnabled: false,
    tenantId,
    createdAt: CREATED,
    updatedAt: UPDATED,
  };
}

function deriveTenant(id) {
  return {
    id,
    name: 'Tenant ' + id,
    reference: n(id) % 2 === 0 ? 'ref-' + id : null,
    isDefault: id === 't1',
    createdAt: CREATED,
    updatedAt: UPDATED,
  };
}

function has(obj, key) {
  return obj !== null && obj !== undefined && Object.prototype.hasOwnProperty.call(obj, key);
}

function pageBounds(args) {
  const limit = args.limit === undefined || args.limit === null ? 20 : args.limit;
  const offset = args.offset === undefined || args.offset === null ? 0 : args.offset;
  if (limit < 0 || limit > 1000) throw new StubError('limit must be between 0 and 1000');
  if (offset < 0) throw new StubError('offset must not be negative');
  return { limit, offset };
}

function isDesc(args) {
  return has(args, 'order') && args.order !== null && args.order.order === 'DESC';
}

const root = {
  'Query.user'(_src, args) {
    const id = args.id;
    if (id.includes('erruser')) throw new StubError('user ' + id + ' not found');
    if (id.includes('nulluser')) return null;
    return deriveUser(id);
  },
  'Query.users'(_src, args) {
    const { limit, offset } = pageBounds(args);
    const filter = has(args, 'filter') ? args.filter : null;
    const idf = filter && has(filter, 'id') ? filter.id : null;
    let ids;
    if (idf && has(idf, 'valueIn') && idf.valueIn !== null) {
      ids = idf.valueIn.slice();
    } else if (idf && has(idf, 'equalTo') && typeof idf.equalTo === 'string') {
      ids = [idf.equalTo];
    } else {
      const prefix = has(args, 'search') && args.search !== null ? args.search.value : 'u';
      ids = [];
      for (let i = 0; i < 50; i++) ids.push(prefix + i);
    }
    const act = filter && has(filter, 'active') ? filter.active : null;
    if (act && has(act, 'equalTo') && typeof act.equalTo === 'boolean') {
      ids = ids.filter((id) => deriveUser(id).active === act.equalTo);
    }
    if (isDesc(args)) ids.reverse();
    return {
      totalCount: ids.length,
      data: ids.slice(offset, offset + limit).map(deriveUser),
    };
  },
  'Query.tenant'(_src, args) {
    if (args.id.includes('missing')) throw new StubError('tenant ' + args.id + ' not found');
    return deriveTenant(args.id);
  },
  'Query.tenants'(_src, args) {
    const { limit, offset } = pageBounds(args);
    let ts = ['t0', 't1', 't2', 't3'].map(deriveTenant);
    const filter = has(args, 'filter') ? args.filter : null;
    const nf = filter && has(filter, 'name') ? filter.name : null;
    if (nf && has(nf, 'equalTo') && typeof nf.equalTo === 'string') {
      ts = ts.filter((t) => t.name === nf.equalTo);
    }
    if (isDesc(args)) ts.reverse();
    return { totalCount: ts.length, data: ts.slice(offset, offset + limit) };
  },
  'Mutation.createUser'(_src, args) {
    const u = args.user;
    if (u.reference === 'dup') throw new StubError('reference dup already exists');
    if (!u.email.includes('@')) throw new StubError('email ' + u.email + ' is not valid');
    const opt = (k) => (has(u, k) ? u[k] : null);
    const dflt = (k, d) => (has(u, k) && u[k] !== null ? u[k] : d);
    return {
      id: 'new-' + u.reference,
      reference: u.reference,
      email: u.email,
      firstName: opt('firstName'),
      lastName: opt('lastName'),
      phone: opt('phone'),
      locale: opt('locale'),
      timezone: opt('timezone'),
      isOptedIn: dflt('isOptedIn', false),
      active: dflt('active', true),
      synced: true,
      avatarUrl: opt('avatarUrl'),
      customData: opt('customData'),
      twoFactorEnabled: dflt('twoFactorEnabled', false),
      tenantId: opt('tenantId'),
      createdAt: CREATED,
      updatedAt: CREATED,
    };
  },
  'Mutation.updateUser'(_src, args) {
    if (args.id.includes('erruser')) throw new StubError('user ' + args.id + ' not found');
    const rec = deriveUser(args.id);
    for (const k of Object.keys(args.user)) rec[k] = args.user[k];
    rec.updatedAt = TOUCHED;
    return rec;
  },
  'Mutation.createTenant'(_src, args) {
    const t = args.tenant;
    if (t.name === '') throw new StubError('tenant name must not be empty');
    return {
      id: 't-new-' + t.name,
      name: t.name,
      reference: has(t, 'reference') ? t.reference : null,
      isDefault: false,
      createdAt: CREATED,
      updatedAt: CREATED,
    };
  },
  'Mutation.updateTenant'(_src, args) {
    if (args.id.includes('missing')) throw new StubError('tenant ' + args.id + ' not found');
    const rec = deriveTenant(args.id);
    for (const k of Object.keys(args.tenant)) rec[k] = args.tenant[k];
    rec.updatedAt = TOUCHED;
    return rec;
  },
  'UserModel.email'(u) {
    if (u.id.includes('nullemail')) return null;
    if (u.id.includes('erremail')) throw new StubError('email failed for ' + u.id);
    return u.email;
  },
  'UserModel.avatarUrl'(u) {
    if (n(u.id) % 7 === 0) throw new StubError('avatar unavailable for ' + u.id);
    return u.avatarUrl;
  },
  'UserModel.tenant'(u) {
    if (u.id.includes('errtenant')) throw new StubError('tenant lookup failed for ' + u.id);
    if (u.tenantId === null || u.tenantId === undefined) return null;
    return deriveTenant(u.tenantId);
  },
  'TenantModel.name'(t) {
    if (t.id.includes('bad')) throw new StubError('tenant name failed for ' + t.id);
    return t.name;
  },
  'TenantModel.users'(t) {
    return { totalCount: n(t.id) % 50 };
  },
};

// Date input per roster_time_parse_iso (src/common/clock.c): a UTC or offset
// ISO-8601 timestamp with seconds, 1-9 fraction digits optional, fields in range.
const DATE_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?([Zz]|[+-]([0-9]{2}):([0-9]{2}))$/;

function isDate(v) {
  const m = typeof v === 'string' ? DATE_RE.exec(v) : null;
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const mdays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return true;
}

// A JSON value in GraphQL syntax, as graphql-js's print() writes literals
// (the engine's gql_value_print does the same for its messages).
function printValue(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(printValue).join(', ') + ']';
  if (typeof v === 'object') {
    return '{' + Object.keys(v).map((k) => k + ': ' + printValue(v[k])).join(', ') + '}';
  }
  return String(v);
}

function makeSchema(graphql, sdl) {
  const schema = graphql.buildSchema(sdl);
  const { GraphQLError, Kind, valueFromASTUntyped, print } = graphql;
  // Literals (validation) fail with plain errors, which graphql-js wraps as
  // 'Expected value of type "Date", found ...; <message>'; variables fail
  // with a GraphQLError, whose message graphql-js uses as it is after
  // 'Variable "$d" got invalid value ...; '. Both as our engine words them.
  const fail = (literal, message) => {
    throw literal ? new TypeError(message) : new GraphQLError(message);
  };
  const dateIn = (v, printed, literal) => {
    if (typeof v !== 'string') fail(literal, 'Date cannot represent a non string value: ' + printed);
    if (!isDate(v)) {
      fail(literal, 'Date must be an ISO-8601 timestamp such as 2026-11-27T04:24:50.123Z, got: ' +
        printed);
    }
    return v;
  };

  const date = schema.getType('Date');
  date.serialize = (v) => v;
  date.parseValue = (v) => dateIn(v, printValue(v), false);
  date.parseLiteral = (ast, variables) =>
    dateIn(valueFromASTUntyped(ast, variables), print(ast), true);

  const json = schema.getType('JsonObject');
  const jsonIn = (v, printed, literal) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      fail(literal, 'JsonObject cannot represent a non-object value: ' + printed);
    }
    return v;
  };
  json.serialize = (v) => v;
  json.parseValue = (v) => jsonIn(v, printValue(v), false);
  json.parseLiteral = (ast, variables) => {
    if (ast.kind !== Kind.OBJECT) jsonIn(null, print(ast), true);
    return valueFromASTUntyped(ast, variables);
  };

  // Resolvers live on the schema's fields (graphql-jit reads them there);
  // every other field uses graphql-js's default property resolver.
  for (const key of Object.keys(root)) {
    const [typeName, fieldName] = key.split('.');
    schema.getType(typeName).getFields()[fieldName].resolve = root[key];
  }
  return { schema };
}

module.exports = { makeSchema, StubError, n };
