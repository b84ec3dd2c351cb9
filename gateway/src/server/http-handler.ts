import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { HttpError, readBody, sendJson } from '@tollgate/kit/http';
import { ErrorCode } from '../errors/index.ts';
import { ideAsset, idePage } from './ide.ts';

export interface HttpHandlerOptions<TContext extends BaseContext> {
  server: ApolloServer<TContext>;
  context: (req: IncomingMessage) => Promise<TContext>;
  maxBodyBytes: number;
  ide: boolean;
  /** GraphQL requests served at once; more get 503 with Retry-After at once, never a queue. */
  maxConcurrent: number;
  /** Sheds GraphQL requests with 503 while this says the process is overloaded (event-loop lag). */
  overloaded?: () => boolean;
  /** Operations accepted in one batched (JSON array) request; 0 refuses batches with 400. @default 0 */
  maxBatchSize?: number;
  /** Rewrites a request before Apollo Server sees it (persisted queries: `documentId`). */
  rewriteRequest?: (request: { search: string; body: unknown }) => { search: string; body: unknown };
  /** Extra GET routes: path → handler returning status and JSON body. */
  routes: Readonly<
    Record<string, (req: IncomingMessage) => Promise<{ status: number; body: unknown; contentType?: string }>>
  >;
}

function badRequest(
  res: ServerResponse,
  status: number,
  message: string,
  extensions: Record<string, unknown> = {},
): void {
  sendJson(res, status, {
    errors: [{ message, extensions: { code: ErrorCode.BAD_REQUEST, ...extensions } }],
  });
}

async function writeGraphQLResponse(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of response.headers) headers[k] = v;
  if (response.body.kind === 'complete') {
    headers['content-length'] = String(Buffer.byteLength(response.body.string));
    res.writeHead(response.status ?? 200, headers);
    res.end(response.body.string);
    return;
  }
  res.writeHead(response.status ?? 200, headers);
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * The gateway's HTTP front: a plain node:http handler (no express: a performance choice) that serves
 * health and admin routes, the IDE, and hands GraphQL requests to Apollo Server.
 */
export function createHttpHandler<TContext extends BaseContext>(options: HttpHandlerOptions<TContext>) {
  const { server, maxBodyBytes } = options;
  let inFlight = 0;
  const shed = (res: ServerResponse, message: string) =>
    sendJson(
      res,
      503,
      { errors: [{ message, extensions: { code: ErrorCode.OVERLOADED } }] },
      { 'retry-after': '1' },
    );
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const graphql = (req.url ?? '').startsWith('/graphql') && !(req.url ?? '').startsWith('/graphql/ide/');
    if (graphql) {
      // Overload: refuse at once rather than queue, so admitted requests keep their latency.
      if (inFlight >= options.maxConcurrent)
        return shed(
          res,
          `The gateway is at its limit of ${options.maxConcurrent} concurrent requests; retry shortly`,
        );
      if (options.overloaded?.()) return shed(res, 'The gateway is overloaded; retry shortly');
      inFlight++;
      res.once('close', () => inFlight--);
    }
    try {
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
      const search = q === -1 ? '' : rawUrl.slice(q);
      const method = req.method ?? 'GET';

      const route = options.routes[path];
      if (route) {
        if (method !== 'GET' && method !== 'HEAD')
          return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
        const out = await route(req);
        if (out.contentType && typeof out.body === 'string') {
          res.writeHead(out.status, {
            'content-type': out.contentType,
            'content-length': Buffer.byteLength(out.body),
          });
          return void res.end(out.body);
        }
        return sendJson(res, out.status, out.body);
      }
      if (path.startsWith('/graphql/ide/') && options.ide) {
        const asset = ideAsset(path.slice('/graphql/ide/'.length));
        if (!asset) return sendJson(res, 404, { error: 'not found' });
        res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
        return void res.end(asset.body);
      }
      if (path !== '/graphql')
        return sendJson(res, 404, { error: `no route ${path}; GraphQL is served at /graphql` });

      if (method === 'GET' && options.ide && !search && (req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return void res.end(idePage('/graphql'));
      }

      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      let body: unknown;
      if (method === 'POST') {
        let text: string;
        try {
          // Drained, not stopped: a client that is still sending when the 413 is decided must be able to
          // read it (see ReadBodyOptions.overflow in @tollgate/kit/http).
          text = (await readBody(req, { limit: maxBodyBytes, overflow: 'drain' })).toString('utf8');
        } catch (error) {
          if (error instanceof HttpError && error.status === 413)
            return badRequest(res, error.status, error.message, { limit: 'bodySize', max: maxBodyBytes });
          throw error;
        }
        const type = headers.get('content-type') ?? '';
        if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
          try {
            body = text.length ? JSON.parse(text) : undefined;
          } catch (error) {
            return badRequest(res, 400, `Malformed JSON body: ${(error as Error).message}`);
          }
          const maxBatch = options.maxBatchSize ?? 0;
          if (Array.isArray(body) && maxBatch === 0)
            return badRequest(
              res,
              400,
              'Batched requests (a JSON array of operations) are turned off (server.batching); send one operation per request',
              { limit: 'batchSize', actual: body.length, max: 0 },
            );
          if (Array.isArray(body) && body.length > maxBatch)
            return badRequest(
              res,
              400,
              `Batch exceeds the batchSize limit: ${body.length} > ${maxBatch} operations`,
              { limit: 'batchSize', actual: body.length, max: maxBatch },
            );
          if (typeof body !== 'object' || body === null) {
            return badRequest(res, 400, 'The body must be a JSON object with a "query" string');
          }
        } else {
          body = text;
        }
      }
      const request = options.rewriteRequest?.({ search, body }) ?? { search, body };
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: method.toUpperCase(),
          headers,
          search: request.search,
          body: request.body,
        },
        context: () => options.context(req),
      });
      await writeGraphQLResponse(res, response);
    } catch (error) {
      if (!res.headersSent) {
        sendJson(res, 500, {
          errors: [{ message: 'Unexpected error.', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }],
        });
      } else {
        res.destroy(error as Error);
      }
    }
  };
}
