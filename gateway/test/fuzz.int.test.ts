import { Supergraph } from '@apollo/federation-internals';
import fc from 'fast-check';
import {
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import {
  gql,
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// Property-based fuzzing of the public endpoint (issue 9): generated documents (valid-ish ones built from
// the supergraph's own fields, garbage, and mutations of a sample query), variables and whole HTTP
// requests (random JSON, wrong types, huge strings, wrong content types and methods) against a real
// gateway over HTTP. Whatever comes in: no 5xx but the OVERLOADED 503, a JSON body in the
// GraphQL-over-HTTP shape, and afterwards the gateway still answers a valid query right.
// fast-check prints the seed and path of a failure; FUZZ_SEED=<seed> replays a run.
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const files = tempFiles('fuzz');
let products: TestSubgraph;
let reviews: TestSubgraph;
let gateway: Gateway;
let url: string;
let schema: GraphQLSchema;
let sent = 0;
const statuses = new Map<number, number>();

beforeAll(async () => {
  [products, reviews] = await Promise.all([
    startTestSubgraph(PRODUCTS_SDL, productsResolvers),
    startTestSubgraph(REVIEWS_SDL, reviewsResolvers),
  ]);
  gateway = await createGateway({
    config: loadConfig({
      env: { NODE_ENV: 'production' },
      base: {
        server: { port: 0, host: '127.0.0.1' },
        // budgets would turn most of the run into 429s; every other production default stays on
        ratelimit: { enabled: false },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: files.write('p.graphql', PRODUCTS_SDL) },
          { name: 'reviews', replicas: [reviews.url], schemaFile: files.write('r.graphql', REVIEWS_SDL) },
        ],
      },
    }),
  });
  url = await gateway.listen();
  schema = Supergraph.build(gateway.supergraphSdl).apiSchema().toGraphQLJSSchema();
});
afterAll(async () => {
  await gateway?.close(100);
  await Promise.all([products?.stop(), reviews?.stop()]);
});

interface Request {
  method: string;
  search?: string;
  headers?: Record<string, string>;
  body?: string;
}

const GRAPHQL_TYPES = ['application/json', 'application/graphql-response+json'];

/** Sends one request and checks the response against the endpoint's promises. */
async function check(request: Request): Promise<void> {
  sent++;
  const res = await fetch(`${url}${request.search ?? ''}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  const where = `${request.method} ${request.search ?? ''} ${JSON.stringify(request.headers)} ${(request.body ?? '').slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;
  if (request.method === 'HEAD') {
    expect(res.status, where).toBeLessThan(500);
    return;
  }
  // OPTIONS never reaches GraphQL: 204 with Allow, or a CORS preflight's answer (cors.ts)
  if (request.method === 'OPTIONS') {
    expect([204, 403], where).toContain(res.status);
    return;
  }
  const type = res.headers.get('content-type') ?? '';
  let results: unknown[];
  if (type.startsWith('text/event-stream')) {
    // a client that asked for GraphQL over SSE gets its result as events: each `data:` is a result, and
    // the stream ends with `event: complete`
    expect(request.headers?.accept, where).toContain('text/event-stream');
    expect(text.trimEnd().endsWith('event: complete\ndata:') || text.includes('event: complete'), where).toBe(
      true,
    );
    results = text
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l.length > 6)
      .map((l) => JSON.parse(l.slice(6)) as unknown);
    expect(results.length, where).toBeGreaterThan(0);
  } else {
    expect(
      GRAPHQL_TYPES.some((t) => type.startsWith(t)),
      where,
    ).toBe(true);
    let body: unknown;
    expect(() => {
      body = JSON.parse(text);
    }, where).not.toThrow();
    results = Array.isArray(body) ? body : [body];
  }
  for (const result of results) {
    expect(typeof result === 'object' && result !== null, where).toBe(true);
    const { data, errors } = result as { data?: unknown; errors?: unknown };
    expect(data !== undefined || errors !== undefined, where).toBe(true);
    if (errors !== undefined) {
      expect(Array.isArray(errors) && errors.length > 0, where).toBe(true);
      for (const e of errors as { message?: unknown; extensions?: { code?: unknown } }[]) {
        expect(typeof e.message, where).toBe('string');
        expect(typeof e.extensions?.code, where).toBe('string');
      }
    }
    if (res.status >= 500) {
      // the only 5xx allowed: the overload guard's
      expect(res.status, where).toBe(503);
      expect((errors as { extensions: { code: string } }[])[0]?.extensions.code, where).toBe('OVERLOADED');
    }
  }
}

const post = (body: unknown, headers: Record<string, string> = {}): Request => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

// --- documents built from the schema's own fields -------------------------------------------------

const literal = (type: GraphQLInputType): fc.Arbitrary<string> => {
  const named = getNamedType(type);
  const wrong = fc.oneof(
    fc.constant('null'),
    fc.constant('"text"'),
    fc.constant('true'),
    fc.constant('[1, 2]'),
    fc.constant('{ a: 1 }'),
    fc.constant('$undeclared'),
    fc.constant('99999999999999999999'),
    fc.constant('-1'),
    fc.constant('1.5'),
  );
  const right =
    isScalarType(named) && (named.name === 'Int' || named.name === 'Float')
      ? fc.integer({ min: -5, max: 200 }).map(String)
      : isScalarType(named)
        ? fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s))
        : isEnumType(named)
          ? fc.constantFrom(...named.getValues().map((v) => v.name))
          : fc.constant('{}');
  return fc.oneof({ weight: 6, arbitrary: right }, { weight: 1, arbitrary: wrong });
};

const NAME = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,5}$/);
/** `arb` one time in `every`, else ''. */
const sometimes = (arb: fc.Arbitrary<string>, every: number) =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant('') }, { weight: 1, arbitrary: arb });

function field(f: GraphQLField<unknown, unknown>, depth: number): fc.Arbitrary<string> {
  const args = f.args.length
    ? fc
        .subarray(f.args.map((a) => a))
        .chain((picked) =>
          picked.length
            ? fc
                .tuple(...picked.map((a) => literal(a.type).map((v) => `${a.name}: ${v}`)))
                .map((p) => `(${p.join(', ')})`)
            : fc.constant(''),
        )
    : fc.constant('');
  const named = getNamedType(f.type);
  const sub = isObjectType(named)
    ? depth > 0
      ? fc.oneof(
          { weight: 19, arbitrary: selection(named, depth - 1) },
          { weight: 1, arbitrary: fc.constant('') },
        ) // a missing selection: invalid
      : fc.constant('{ __typename }')
    : sometimes(fc.constant('{ __typename }'), 30); // a selection on a leaf: invalid
  const alias = sometimes(
    NAME.map((a) => `${a}: `),
    4,
  );
  const directive = sometimes(
    fc.constantFrom(
      '@skip(if: false)',
      '@include(if: true)',
      '@include(if: $flag)',
      '@skip(if: "no")',
      '@unknown',
    ),
    6,
  );
  return fc
    .tuple(alias, args, directive, sub)
    .map(([a, ar, d, s]) => `${a}${f.name}${ar}${d ? ` ${d}` : ''}${s ? ` ${s}` : ''}`);
}

function selection(type: GraphQLObjectType, depth: number): fc.Arbitrary<string> {
  const fields = Object.values(type.getFields());
  // each field at most once (the same field twice with other arguments would not merge: invalid)
  const own = fc
    .uniqueArray(fc.constantFrom(...fields), {
      minLength: 1,
      maxLength: Math.min(4, fields.length),
      selector: (f) => f.name,
    })
    .chain((picked) => fc.tuple(...picked.map((f) => field(f, depth))));
  const extra = fc.oneof(
    { weight: 24, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: NAME }, // a field the type does not have
    { weight: 1, arbitrary: fc.constant('__typename') },
    { weight: 1, arbitrary: fc.constant(`... on ${type.name} { __typename }`) },
    { weight: 1, arbitrary: fc.constant(`... on Unknown { __typename }`) },
  );
  return fc.tuple(own, extra).map(([parts, more]) => `{ ${[...parts, more].join(' ')} }`);
}

const validish = (): fc.Arbitrary<string> =>
  fc
    .tuple(
      selection(schema.getQueryType()!, 3),
      fc.constantFrom('', 'query ', 'query Q '),
      fc.oneof(
        { weight: 12, arbitrary: fc.constant('') },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'mutation ',
            'subscription ',
            'query Q($flag: Strin) ',
            'query Q($other: Int) ',
          ),
        },
      ),
    )
    // $flag declared exactly when used, but now and then a head that breaks it
    .map(
      ([body, head, broken]) =>
        `${broken || (body.includes('$flag') ? 'query Q($flag: Boolean = true) ' : head)}${body}`,
    );

// --- garbage and mutations of a sample query -------------------------------------------------------

const SAMPLE = 'query Top($n: Int = 2) { topProducts(first: $n) { upc name price reviews { id body } } }';
const GRAPHQL_PIECES = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  '...',
  '$',
  ':',
  '@',
  '!',
  '=',
  '|',
  '&',
  ',',
  '#',
  '"',
  '"""',
  '\\',
  '\\u',
  'query',
  'mutation',
  'fragment',
  'on',
  'topProducts',
  'upc',
  'reviews',
  '__schema',
  '__type',
  ' ',
  '\n',
  '\u0000',
  '\uD800',
  '\u200B',
  '𝔤',
  '1e309',
  '-0',
  '0x1',
];
const garbage = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.array(fc.constantFrom(...GRAPHQL_PIECES), { maxLength: 80 }).map((p) => p.join('')),
);
const mutated = fc
  .array(
    fc.tuple(
      fc.constantFrom('delete', 'insert', 'duplicate', 'replace'),
      fc.nat(),
      fc.nat({ max: 12 }),
      fc.constantFrom(...GRAPHQL_PIECES),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((edits) => {
    let q = SAMPLE;
    for (const [op, at, len, piece] of edits) {
      const i = at % (q.length + 1);
      if (op === 'delete') q = q.slice(0, i) + q.slice(i + len);
      else if (op === 'insert') q = q.slice(0, i) + piece + q.slice(i);
      else if (op === 'duplicate') q = q.slice(0, i + len) + q.slice(i, i + len) + q.slice(i + len);
      else q = q.slice(0, i) + piece + q.slice(i + 1);
    }
    return q;
  });

// --- variables and bodies ------------------------------------------------------------------------

const jsonish = fc.jsonValue({ maxDepth: 3 });
const wrongVariable = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  jsonish,
  fc.constant('x'.repeat(200_000)),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(2 ** 31),
);
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/graphql-response+json',
  'application/graphql',
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

const runs = (n: number) => ({ numRuns: n, seed, endOnFailure: true });
// Each run sends a few inputs at once: the gateway serves them concurrently, as it would real clients.
const several = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 1, maxLength: 6 });
const started = performance.now();

describe('fuzzing the public endpoint', () => {
  it('generated documents from the schema, garbage and mutated queries', async () => {
    const document = fc.oneof(
      { weight: 4, arbitrary: validish() },
      { weight: 2, arbitrary: garbage },
      { weight: 3, arbitrary: mutated },
    );
    await fc.assert(
      fc.asyncProperty(
        several(
          fc.tuple(document, fc.option(fc.constantFrom('Q', 'Top', 'Nope', ''), { nil: undefined, freq: 2 })),
        ),
        async (inputs) => {
          await Promise.all(
            inputs.map(([query, operationName]) =>
              check(post({ query, operationName, variables: { flag: true } })),
            ),
          );
        },
      ),
      runs(400),
    );
  });

  it('variables of every type against a query that declares them', async () => {
    const variables = fc.oneof(
      fc.record({ n: wrongVariable }, { requiredKeys: [] }),
      fc.dictionary(NAME, wrongVariable, { maxKeys: 5 }),
      fc.constantFrom<unknown>([], 'n=1', 5, null, true),
    );
    await fc.assert(
      fc.asyncProperty(
        several(
          fc.tuple(variables, fc.constantFrom(SAMPLE, 'query ($n: Int!) { topProducts(first: $n) { upc } }')),
        ),
        async (inputs) => {
          await Promise.all(inputs.map(([v, query]) => check(post({ query, variables: v }))));
        },
      ),
      runs(120),
    );
  });

  it('HTTP requests: random JSON bodies, wrong field types, huge strings, content types and methods', async () => {
    const field = fc.oneof(
      fc.string({ maxLength: 30 }),
      jsonish,
      fc.constant(SAMPLE),
      fc.constant(`{ topProducts { upc } } #${'x'.repeat(300_000)}`),
    );
    const body = fc.oneof(
      jsonish.map((j) => JSON.stringify(j)),
      fc
        .record(
          { query: field, variables: field, operationName: field, extensions: field, documentId: field },
          { requiredKeys: [] },
        )
        .map((r) => JSON.stringify(r)),
      fc
        .record({
          extensions: fc.record({
            persistedQuery: fc.record({ version: jsonish, sha256Hash: jsonish }, { requiredKeys: [] }),
          }),
        })
        .map((r) => JSON.stringify(r)),
      fc.array(fc.record({ query: fc.constant(SAMPLE) }), { maxLength: 3 }).map((a) => JSON.stringify(a)),
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constant('x'.repeat(1_500_000)),
    );
    const search = fc.oneof(
      fc.constant(''),
      fc.constant(`?query=${encodeURIComponent(SAMPLE)}`),
      fc
        .dictionary(
          fc.constantFrom('query', 'variables', 'extensions', 'operationName', 'documentId', 'x'),
          fc.string({ maxLength: 40 }),
          { maxKeys: 4 },
        )
        .map((d) => `?${new URLSearchParams(d)}`),
      fc.string({ maxLength: 40 }).map((s) => `?${s}`),
    );
    const request = fc
      .tuple(
        fc.constantFrom(...METHODS),
        search,
        fc.constantFrom(...CONTENT_TYPES),
        body,
        fc.boolean(),
        fc.constantFrom(
          '*/*',
          'application/json',
          'application/graphql-response+json',
          'text/event-stream',
          'multipart/mixed',
        ),
      )
      .map(
        ([method, s, type, b, preflight, accept]): Request => ({
          method,
          search: s,
          headers: {
            accept,
            ...(type ? { 'content-type': type } : {}),
            ...(preflight ? { 'apollo-require-preflight': 'true' } : {}),
          },
          body: method === 'GET' || method === 'HEAD' ? undefined : b,
        }),
      );
    await fc.assert(
      fc.asyncProperty(several(request), async (requests) => {
        await Promise.all(requests.map(check));
      }),
      runs(300),
    );
  });

  it('still answers a valid query right afterwards', async () => {
    const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([k, v]) => `${k}: ${v}`);
    console.info(
      `fuzz: ${sent} requests in ${((performance.now() - started) / 1000).toFixed(1)} s (${byStatus.join(', ')})`,
    );
    expect(sent).toBeGreaterThan(2_000);
    // the generators reach execution, not only the parser: many inputs were valid and answered
    expect(statuses.get(200) ?? 0).toBeGreaterThan(150);
    const res = await gql(url, '{ topProducts(first: 2) { upc name reviews { body } } }');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      data: {
        topProducts: [
          { upc: '1', name: 'Product 1', reviews: [{ body: 'Review of 1' }] },
          { upc: '2', name: 'Product 2', reviews: [{ body: 'Review of 2' }] },
        ],
      },
    });
    expect((await fetch(url.replace('/graphql', '/health/live'))).status).toBe(200);
  });
});
