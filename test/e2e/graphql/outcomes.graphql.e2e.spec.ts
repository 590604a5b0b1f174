import { setTimeout as sleepFor } from 'node:timers/promises';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockService, WithLock, requestKey } from '../../../lib';
import { type LoggedApp, startLoggedApp } from '../../support/logged-app';
import { waitFor } from '../../support/wait-for';

const typeDefs = `
  type Query { ping: String }
  type Mutation {
    pay(id: ID!): String
    payFor(order: OrderInput!): String
    reserve(sku: String!): String
    work(id: ID!): String
    exportFor(tenantId: ID!): String
    readDoc(id: ID!): String
  }
  input OrderInput { id: ID! }
`;

@Resolver()
class OrdersResolver {
  constructor(private readonly locks: LockService) {}

  @Query('ping')
  ping() {
    return 'pong';
  }

  // Templates read the resolver's arguments.
  @Mutation('pay')
  @WithLock('order:{id}', { wait: 0 })
  pay(@Args('id') id: string) {
    return `paid ${id}`;
  }

  // A factory receives the arguments first, then the execution context (marked with requestKey).
  @Mutation('payFor')
  @WithLock(requestKey((args: { order: { id: string } }) => `order:${args.order.id}`), { wait: 0 })
  payFor(@Args('order') order: { id: string }) {
    return `paid ${order.id}`;
  }

  // Undecorated: the module's global LockExceptionFilter answers (the app registers no filter).
  @Mutation('reserve')
  reserve(@Args('sku') sku: string) {
    return this.locks.withLock(`sku:${sku}`, () => sku, { wait: 0 });
  }

  // A counting lock and a read lock: busy answers as a busy mutex does.
  @Mutation('exportFor')
  @WithLock('export:{tenantId}', { limit: 2, wait: 0 })
  exportFor(@Args('tenantId') tenantId: string) {
    return `exported ${tenantId}`;
  }

  @Mutation('readDoc')
  @WithLock('doc:{id}', { mode: 'read', wait: 0 })
  readDoc(@Args('id') id: string) {
    return `read ${id}`;
  }

  @Mutation('work')
  @WithLock('work:{id}', { ttl: 300 })
  work() {
    return sleepFor(20_000, 'done', { signal: this.locks.current()!.signal });
  }
}

interface GraphQLAnswer {
  data: Record<string, unknown> | null;
  errors?: { message: string; path: string[]; extensions: Record<string, unknown> & { stacktrace?: string[] } }[];
}

describe('lock outcomes over GraphQL (Apollo over HTTP)', () => {
  let app: LoggedApp;

  beforeAll(async () => {
    app = await startLoggedApp('express', {
      imports: [
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          typeDefs,
          // What development looks like: Apollo would show a stack for a crash.
          includeStacktraceInErrorResponses: true,
        }),
      ],
      providers: [OrdersResolver],
    });
  });

  afterAll(() => app?.stop());

  const mutate = async (query: string): Promise<GraphQLAnswer> => {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as GraphQLAnswer;
  };

  it('a busy mutation answers extensions.code LOCK_BUSY with the key, no stack, nothing logged as an error', async () => {
    const held = await app.locks.acquire('order:1');
    for (const query of ['mutation { pay(id: "1") }', 'mutation { payFor(order: { id: "1" }) }']) {
      const answer = await mutate(query);
      expect(answer.errors).toHaveLength(1);
      const [error] = answer.errors!;
      expect(error!.message).toContain('"order:1" is held by another owner');
      expect(error!.extensions).toMatchObject({ code: 'LOCK_BUSY', lock: 'order:1' });
      expect(error!.extensions.stacktrace ?? []).not.toContainEqual(expect.stringMatching(/^\s+at /));
    }
    await held.release();
    expect(await mutate('mutation { pay(id: "1") }')).toEqual({ data: { pay: 'paid 1' } });
    expect(await mutate('mutation { payFor(order: { id: "1" }) }')).toEqual({ data: { payFor: 'paid 1' } });
    expect(app.logger.texts('error')).toEqual([]);
  });

  it('a busy counting lock and a busy read lock answer LOCK_BUSY as a busy mutex', async () => {
    const permits = [
      await app.locks.acquire('export:t1', { limit: 2 }),
      await app.locks.acquire('export:t1', { limit: 2 }),
    ];
    const writer = await app.locks.acquire('doc:1', { mode: 'write' });
    expect((await mutate('mutation { exportFor(tenantId: "t1") }')).errors?.[0]?.extensions).toMatchObject({
      code: 'LOCK_BUSY',
      lock: 'export:t1',
    });
    expect((await mutate('mutation { readDoc(id: "1") }')).errors?.[0]?.extensions).toMatchObject({
      code: 'LOCK_BUSY',
      lock: 'doc:1',
    });
    for (const lock of [...permits, writer]) await lock.release();
    expect(await mutate('mutation { exportFor(tenantId: "t1") }')).toEqual({ data: { exportFor: 'exported t1' } });
    expect(await mutate('mutation { readDoc(id: "1") }')).toEqual({ data: { readDoc: 'read 1' } });
    expect(app.logger.texts('error')).toEqual([]);
  });

  it('a busy withLock in an undecorated resolver answers LOCK_BUSY with no filter registered by the app', async () => {
    const held = await app.locks.acquire('sku:apple');
    const answer = await mutate('mutation { reserve(sku: "apple") }');
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'LOCK_BUSY', lock: 'sku:apple' });
    await held.release();
    expect(await mutate('mutation { reserve(sku: "apple") }')).toEqual({ data: { reserve: 'apple' } });
    expect(app.logger.texts('error')).toEqual([]);
  });

  it('a resolver stopped by a lost lock answers LOCK_LOST', async () => {
    const answer = mutate('mutation { work(id: "7") }');
    await waitFor(() => app.locks.isLocked('work:7'));
    await app.server.client().del('lock:{work:7}');
    const { errors } = await answer;
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'LOCK_LOST', lock: 'work:7' });
    expect(errors?.[0]?.message).toBe('Lock "work:7" was lost before the work finished');
    expect(app.logger.texts('error')).toEqual([]);
  });
});
