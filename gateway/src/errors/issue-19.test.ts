import { ApolloServer } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import { INTROSPECTION_DISABLED_MESSAGE } from './format.ts';
import { createFormatError } from './index.ts';

// issue 19: with production defaults GraphiQL opened on Apollo's "pass introspection: true to
// ApolloServer", an option Tollgate users cannot set; the message must name Tollgate's key.
describe('introspection refused', () => {
  const run = async (formatError?: ReturnType<typeof createFormatError>) => {
    const server = new ApolloServer({
      typeDefs: 'type Query { hello: String }',
      introspection: false,
      ...(formatError ? { formatError } : {}),
    });
    await server.start();
    try {
      const res = await server.executeOperation({ query: '{ __schema { queryType { name } } }' });
      if (res.body.kind !== 'single') throw new Error('expected a single result');
      return res.body.singleResult.errors ?? [];
    } finally {
      await server.stop();
    }
  };

  it("is Apollo's text without our formatter (so the rewrite below matches a real message)", async () => {
    const [error] = await run();
    expect(error?.message).toMatch(/^GraphQL introspection is not allowed by Apollo Server.*ApolloServer/);
  });

  it('names server.introspection and GATEWAY_SERVER_INTROSPECTION, keeping the validation code', async () => {
    const errors = await run(createFormatError({ hideSuggestions: true }));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(INTROSPECTION_DISABLED_MESSAGE);
    expect(errors[0]!.message).toContain('server.introspection: true');
    expect(errors[0]!.message).toContain('GATEWAY_SERVER_INTROSPECTION=true');
    expect(errors[0]!.message).not.toMatch(/ApolloServer/);
    expect(errors[0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
