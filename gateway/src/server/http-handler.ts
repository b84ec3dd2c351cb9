import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { HttpError, readBody, sendJson } from '@tollgate/kit/http';
import type { Admission } from '../admission/index.ts';
import { ErrorCode } from '../errors/index.ts';
import {
  acceptsMultipart,
  cancelStream,
  encodePart,
  type FormatError,
  type FormatOptions,
  type FormattedResult,
  type FormattedSubsequentPayload,
  formatErrors,
  formatPayload,
  type IncrementalStream,
  MULTIPART_CONTENT_TYPE,
  mergeIncremental,
  prepareIncremental,
  takeIncremental,
  takeIncrementalPerOperation,
} from '../incremental/index.ts';
import {
  type HttpSubscriptionTransport,
  parseSubscriptionRequest,
  wantsSubscriptionTransport,
} from '../transports/index.ts';
import { type Routes, sendRoute } from './admin.ts';
import type { DirectExecution } from './direct-execution.ts';
import { ideAsset, idePage } from './ide.ts';

export interface HttpHandlerOptions<TContext extends BaseContext> {
  server: ApolloServer<TContext>;
  /** The path GraphQL is served on (its IDE assets under `${path}/ide/`). @default '/graphql' */
  path?: string;
  context: (req: IncomingMessage) => Promise<TContext>;
  maxBodyBytes: number;
  ide: boolean;
  /**
   * Admission of GraphQL requests (adaptive limit, queue, event-loop guard; 503 beyond them), and the
   * count of every refusal this handler answers.
   */
  admission: Pick<Admission, 'admit' | 'watch' | 'noteBody' | 'shed' | 'overloaded'>;
  /** Operations accepted in one batched (JSON array) request; 0 refuses batches with 400. @default 0 */
  maxBatchSize?: number;
  /** Rewrites a request before Apollo Server sees it (persisted queries: `documentId`). */
  rewriteRequest?: (request: { search: string; body: unknown }) => { search: string; body: unknown };
  /** Extra GET routes: path → handler returning status and JSON body. */
  /**
   * Formats the errors of deferred payloads (@defer): pass Apollo Server's own formatError so they read
   * like the initial result's. @default errors as graphql-js prints them
   */
  formatError?: FormatError;
  /** As Apollo Server's includeStacktraceInErrorResponses, for deferred payloads. @default false */
  includeStacktraceInErrorResponses?: boolean;
  routes: Routes;
  /** Subscriptions over SSE and multipart HTTP (undefined: such requests go to Apollo Server, which refuses them). */
  subscriptions?: { sse: HttpSubscriptionTransport; multipart: HttpSubscriptionTransport } | undefined;
  /** Runs the operations Apollo Server already prepared without its pipeline (undefined: all go to it). */
  direct?: Pick<DirectExecution<TContext>, 'match' | 'run'> | undefined;
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
 * Apollo's answer parsed, if it is a successful single result an incremental response can continue: status
 * 200, a complete JSON object body with `data` that is not null. Anything else (a 4xx/5xx, a request error,
 * `data: null`) is written unchanged and the deferred rest cancelled.
 */
function initialResult(response: HTTPGraphQLResponse): FormattedResult | undefined {
  if ((response.status ?? 200) !== 200 || response.body.kind !== 'complete') return undefined;
  try {
    const parsed: unknown = JSON.parse(response.body.string);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const result = parsed as FormattedResult;
    return result.data && typeof result.data === 'object' ? result : undefined;
  } catch {
    return undefined;
  }
}

/** Apollo's headers without the body's own (content-type, content-length), which the caller sets. */
function headersOf(response: HTTPGraphQLResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of response.headers) {
    if (k !== 'content-length' && k !== 'content-type') headers[k] = v;
  }
  return headers;
}

/**
 * Reads a stream to its end (or its `hasNext: false` payload), formatting each payload. Stops, cancelling
 * the stream, if `cancelled()` turns true (the client went away). A stream that throws ends with one
 * INTERNAL_SERVER_ERROR error item at the root, so the client learns its result is incomplete.
 */
async function drain(
  stream: IncrementalStream,
  format: FormatOptions,
  cancelled: () => boolean,
): Promise<FormattedSubsequentPayload[]> {
  const payloads: FormattedSubsequentPayload[] = [];
  try {
    for (;;) {
      if (cancelled()) {
        cancelStream(stream);
        break;
      }
      const next = await stream.next();
      if (next.done) break;
      payloads.push(formatPayload(next.value, format));
      if (!next.value.hasNext) break;
    }
  } catch (error) {
    cancelStream(stream);
    payloads.push({
      incremental: [{ data: null, path: [], errors: formatErrors([error], format) }],
      hasNext: false,
    });
  }
  return payloads;
}

/** JSON-only client: the whole result at once, with Apollo's status and content-type. */
async function writeMerged(
  res: ServerResponse,
  response: HTTPGraphQLResponse,
  stream: IncrementalStream,
  format: FormatOptions,
): Promise<void> {
  const initial = initialResult(response);
  if (!initial) {
    cancelStream(stream);
    return writeGraphQLResponse(res, response);
  }
  let gone = false;
  const onClose = () => {
    gone = true;
    cancelStream(stream);
  };
  res.once('close', onClose);
  const payloads = await drain(stream, format, () => gone);
  res.off('close', onClose);
  if (gone) return;
  writeMergedJson(res, response, mergeIncremental(initial, payloads));
}

/** The merged result as one JSON response, with Apollo's headers and content type. */
function writeMergedJson(res: ServerResponse, response: HTTPGraphQLResponse, merged: unknown): void {
  const body = JSON.stringify(merged);
  res.writeHead(200, {
    ...headersOf(response),
    'content-type': response.headers.get('content-type') ?? 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/**
 * A batch (one context for all its operations): never multipart (Apollo Server refuses incremental
 * delivery in batches too); each operation that deferred gets its rest merged into its own result, as a
 * JSON-only client's would. Streams are matched to operations by the order Apollo copied the context, so
 * when the number of copies is not the batch's length the match cannot be trusted: every stream is
 * cancelled and the batch answered with a 500 rather than with results silently missing their deferred
 * fields or carrying another operation's.
 */
async function writeBatchWithIncremental(
  res: ServerResponse,
  response: HTTPGraphQLResponse,
  streams: Map<number, IncrementalStream>,
  batch: { operations: number; copies: number; format: FormatOptions },
): Promise<void> {
  const cancelAll = () => {
    for (const s of streams.values()) cancelStream(s);
  };
  if ((response.status ?? 200) !== 200 || response.body.kind !== 'complete') {
    cancelAll();
    return writeGraphQLResponse(res, response);
  }
  let results: unknown;
  try {
    results = JSON.parse(response.body.string);
  } catch {
    results = undefined;
  }
  if (!Array.isArray(results) || results.length !== batch.operations || batch.copies !== batch.operations) {
    cancelAll();
    return sendJson(res, 500, {
      errors: [
        {
          message: 'Could not match the deferred results of a batched request to its operations',
          extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
        },
      ],
    });
  }
  let gone = false;
  const onClose = () => {
    gone = true;
    cancelAll();
  };
  res.once('close', onClose);
  const merged = await Promise.all(
    results.map(async (result: unknown, i) => {
      const stream = streams.get(i);
      if (!stream) return result;
      const r = result as FormattedResult | null;
      if (!r || typeof r !== 'object' || !r.data || typeof r.data !== 'object') {
        cancelStream(stream);
        return result;
      }
      return mergeIncremental(r, await drain(stream, batch.format, () => gone));
    }),
  );
  res.off('close', onClose);
  if (gone) return;
  writeMergedJson(res, response, merged);
}

/**
 * Multipart client: the initial result first (Apollo's body plus `hasNext: true`), then each payload as
 * it arrives, then the closing delimiter (wire format: gateway/src/incremental/wire.ts). A client that
 * goes away cancels the stream (`return()`) at once, even while a payload is being awaited. A stream that
 * throws after the headers are out aborts the response (no closing delimiter), which clients report as a
 * network error, as Apollo Server does.
 */
async function writeMultipart(
  res: ServerResponse,
  response: HTTPGraphQLResponse,
  stream: IncrementalStream,
  format: FormatOptions,
): Promise<void> {
  const initial = initialResult(response);
  if (!initial) {
    cancelStream(stream);
    return writeGraphQLResponse(res, response);
  }
  let gone = false;
  let finished = false;
  const onClose = () => {
    if (finished) return;
    gone = true;
    cancelStream(stream);
  };
  res.once('close', onClose);
  const write = async (chunk: string) => {
    if (!res.write(chunk) && !gone) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  };
  try {
    res.writeHead(200, { ...headersOf(response), 'content-type': MULTIPART_CONTENT_TYPE });
    await write(encodePart({ ...initial, hasNext: true }, { first: true, last: false }));
    for (;;) {
      if (gone) return;
      const next = await stream.next();
      if (gone) return;
      const payload = next.done ? { hasNext: false } : formatPayload(next.value, format);
      if (!payload.hasNext) {
        finished = true;
        res.end(encodePart(payload, { first: false, last: true }));
        return;
      }
      await write(encodePart(payload, { first: false, last: false }));
    }
  } catch (error) {
    finished = true;
    cancelStream(stream);
    res.destroy(error as Error);
  } finally {
    res.off('close', onClose);
  }
}

/**
 * The gateway's HTTP front: a plain node:http handler (no express: a performance choice) that serves
 * health and admin routes, the IDE, and hands GraphQL requests to Apollo Server.
 */
export function createHttpHandler<TContext extends BaseContext>(options: HttpHandlerOptions<TContext>) {
  const { server, maxBodyBytes } = options;
  const { admission } = options;
  const format: FormatOptions = {
    formatError: options.formatError,
    includeStacktrace: options.includeStacktraceInErrorResponses,
  };
  const graphqlPath = options.path ?? '/graphql';
  const idePrefix = `${graphqlPath.replace(/\/$/, '')}/ide/`;
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const graphql = (req.url ?? '').startsWith(graphqlPath) && !(req.url ?? '').startsWith(idePrefix);
    // A subscription stream may stay open for hours: it takes no slot of maxConcurrent (its own caps are
    // subscriptions.*), but an overloaded process refuses new ones too.
    const subscription =
      graphql && options.subscriptions ? wantsSubscriptionTransport(req.method, req.headers) : undefined;
    // refusals of GraphQL requests are counted; a readiness 503 is an answer, not a refusal
    if (graphql) admission.watch(res);
    if (subscription && admission.overloaded?.()) return admission.shed(res, 'event_loop');
    // the context built for a GraphQL request, to take what the executor attached to it
    let contextValue: TContext | undefined;
    try {
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
      const search = q === -1 ? '' : rawUrl.slice(q);
      const method = req.method ?? 'GET';

      const route = options.routes[path];
      if (route) return await sendRoute(req, res, route);
      if (path.startsWith(idePrefix) && options.ide) {
        const asset = ideAsset(path.slice(idePrefix.length));
        if (!asset) return sendJson(res, 404, { error: 'not found' });
        res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
        return void res.end(asset.body);
      }
      if (path !== graphqlPath)
        return sendJson(res, 404, { error: `no route ${path}; GraphQL is served at ${graphqlPath}` });

      if (method === 'GET' && options.ide && !search && (req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return void res.end(idePage(graphqlPath.replace(/\/$/, '')));
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
      // before the @defer path: a subscriptionSpec multipart Accept is a multipart one too
      if (subscription && options.subscriptions) {
        const parsed = parseSubscriptionRequest(method, request.search, request.body);
        if ('error' in parsed) return badRequest(res, 400, parsed.error);
        return await options.subscriptions[subscription].handle(req, res, parsed.request);
      }
      // Incremental delivery (@defer): the executor can give Apollo Server only the initial result and
      // attaches the rest to the context (gateway/src/incremental); how it will be delivered is decided
      // here, before execution, so the executor can read it (incrementalDelivery).
      const batch = method === 'POST' && Array.isArray(request.body);
      const delivery = batch ? 'batch' : acceptsMultipart(headers.get('accept')) ? 'multipart' : 'json';
      // A multipart-only Accept would make Apollo Server refuse (406) the initial result it renders as
      // JSON; JSON is offered to it at the lowest preference (the client still gets multipart/mixed).
      const accept = headers.get('accept') ?? '';
      if (delivery === 'multipart' && !/application\/(json|graphql-response\+json|\*)|\*\/\*/i.test(accept))
        headers.set('accept', `${accept}, application/json;q=0.001`);
      // Overload: a short queue at most, then 503, so admitted requests keep their latency. Only now,
      // with the whole body read: a client trickling its body (until server.requestTimeoutMs) must not
      // hold a slot, or a few hundred slow sockets would refuse everyone else. Probes never wait here.
      const admitted = admission.admit(res);
      if (admitted !== true && !(await admitted)) return;
      const httpGraphQLRequest = {
        method: method.toUpperCase(),
        headers,
        search: request.search,
        body: request.body,
      };
      const context = async () => {
        const built = await options.context(req);
        prepareIncremental(built, delivery);
        contextValue = built;
        return built;
      };
      // a JSON POST of an operation Apollo Server has prepared before runs without its pipeline
      const directPath = method === 'POST' && !batch ? options.direct : undefined;
      const direct = directPath?.match(request.body, headers.get('accept'));
      const response =
        directPath && direct
          ? await directPath.run(server, direct, httpGraphQLRequest, context)
          : await server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context });
      // a refusal's reason (401, 429, 503) is its error code
      if (response.body.kind === 'complete')
        admission.noteBody(res, response.status ?? 200, response.body.string);
      if (contextValue !== undefined) {
        if (batch) {
          const { operations, streams } = takeIncrementalPerOperation(contextValue);
          if (streams.size)
            return await writeBatchWithIncremental(res, response, streams, {
              operations: (request.body as unknown[]).length,
              copies: operations,
              format,
            });
        } else {
          const stream = takeIncremental(contextValue);
          if (stream) {
            if (delivery === 'multipart') return await writeMultipart(res, response, stream, format);
            return await writeMerged(res, response, stream, format);
          }
        }
      }
      await writeGraphQLResponse(res, response);
    } catch (error) {
      // a deferred rest nobody will deliver now: cancel it
      if (contextValue !== undefined)
        for (const stream of takeIncrementalPerOperation(contextValue).streams.values()) cancelStream(stream);
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
