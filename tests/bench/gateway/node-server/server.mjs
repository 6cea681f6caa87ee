// Reference GraphQL server for the gateway benchmark: the same schema subset
// (user, users with totalCount and createdAt order, createUser) on fastify +
// mercurius with graphql-jit, stored in LMDB through lmdb-js. No response
// caching; writes are committed to disk like roster-users' (lmdb-js commits
// batched transactions durably by default).
//   node server.mjs PORT DATA_DIR [WORKERS]
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { open } from 'lmdb';

const [port, dataDir, workersArg] = process.argv.slice(2);
const workers = Number(workersArg || 1);

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const env = open({ path: dataDir, compression: false });
  const users = env.openDB({ name: 'users' });
  const byCreated = env.openDB({ name: 'by_created' });
  const byEmail = env.openDB({ name: 'by_email' });
  const byRef = env.openDB({ name: 'by_reference' });

  const schema = `
    scalar Date
    scalar JsonObject
    enum OrderEnum { ASC DESC }
    enum UserOrderSortEnum { createdAt CREATED_AT }
    input UserOrderArgType { order: OrderEnum!, sort: UserOrderSortEnum! }
    type UserModel {
      id: ID! reference: String! email: String! firstName: String lastName: String
      phone: String locale: String timezone: String isOptedIn: Boolean active: Boolean
      synced: Boolean avatarUrl: String customData: JsonObject twoFactorEnabled: Boolean
      tenantId: ID createdAt: Date! updatedAt: Date!
    }
    type UserPageModel { totalCount: Int!, data: [UserModel!]! }
    input UserCreateDto {
      reference: String! email: String! firstName: String lastName: String phone: String
      locale: String timezone: String isOptedIn: Boolean active: Boolean
      twoFactorEnabled: Boolean tenantId: ID avatarUrl: String customData: JsonObject
    }
    type Query {
      user(id: ID!): UserModel!
      users(limit: Int, offset: Int, order: UserOrderArgType): UserPageModel!
    }
    type Mutation { createUser(user: UserCreateDto!): UserModel! }
  `;

  const toDate = (ms) => new Date(ms).toISOString();
  const resolvers = {
    Date: { serialize: (v) => (typeof v === 'number' ? toDate(v) : v) },
    Query: {
      user: (_, { id }) => {
        const u = users.get(id);
        if (!u) throw new mercurius.ErrorWithProps('user not found', { code: 'NOT_FOUND' });
        return u;
      },
      users: (_, { limit = 20, offset = 0, order }) => {
        if (limit < 0 || limit > 1000 || offset < 0)
          throw new mercurius.ErrorWithProps('bad page', { code: 'BAD_USER_INPUT' });
        const reverse = !order || order.order === 'DESC';
        const data = [];
        for (const { value: id } of byCreated.getRange({ reverse, offset, limit })) data.push(users.get(id));
        return { totalCount: users.getStats().entryCount, data };
      },
    },
    UserModel: { synced: () => true },
    Mutation: {
      createUser: async (_, { user }) => {
        const email = user.email.toLowerCase();
        const now = Date.now();
        const u = {
          id: randomUUID(),
          reference: user.reference,
          email: user.email,
          firstName: user.firstName ?? null,
          lastName: user.lastName ?? null,
          phone: user.phone ?? null,
          locale: user.locale ?? null,
          timezone: user.timezone ?? null,
          isOptedIn: user.isOptedIn ?? false,
          active: user.active ?? true,
          twoFactorEnabled: user.twoFactorEnabled ?? false,
          tenantId: user.tenantId ?? null,
          avatarUrl: user.avatarUrl ?? null,
          customData: user.customData ?? null,
          createdAt: now,
          updatedAt: now,
        };
        const ok = await env.transaction(() => {
          if (byEmail.get(email) !== undefined || byRef.get(user.reference) !== undefined) return false;
          users.put(u.id, u);
          byCreated.put([now, u.id], u.id);
          byEmail.put(email, u.id);
          byRef.put(user.reference, u.id);
          return true;
        });
        if (!ok) throw new mercurius.ErrorWithProps('email or reference already used', { code: 'ALREADY_EXISTS' });
        return u;
      },
    },
  };

  const app = Fastify({ logger: false });
  app.register(mercurius, { schema, resolvers, jit: 1, graphiql: false });
  await app.listen({ port: Number(port), host: '127.0.0.1' });
  process.on('SIGTERM', async () => {
    await app.close();
    process.exit(0);
  });
}
