import { statSync } from 'node:fs';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import type { GatewayConfig } from '../config/index.ts';
import {
  BadRequestError,
  PersistedQueryNotFoundError,
  PersistedQueryNotInListError,
} from '../errors/index.ts';
import { documentIdToExtensions, type RawGraphQLRequest } from './document-id.ts';
import { PersistedManifestError } from './errors.ts';
import { loadManifest } from './manifest.ts';
import { createMemoryDocumentStore } from './memory-store.ts';
import { createRedisDocumentStore } from './redis-store.ts';
import { createTieredStore, type DocumentStore } from './store.ts';
import { createTrustedDocuments, type TrustedDocuments } from './trusted-documents.ts';

/** The `persistedQueries` section of the gateway config. */
export type PersistedQueriesOptions = GatewayConfig['persistedQueries'];

export interface PersistedQueriesDeps {
  /** Shared store of APQ texts; without it they are kept in process only. */
  redisUrl?: string;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface PersistedQueries<TContext extends BaseContext> {
  /** Apollo Server's `persistedQueries` option: the APQ store, or false when APQ is off. */
  readonly apolloOption: false | { cache: DocumentStore; ttl: number };
  /** Enforces trusted documents (absent without a manifest). Put it before the cost and rate-limit plugins. */
  readonly plugin: ApolloServerPlugin<TContext> | undefined;
  /** Registered operations in the manifest now serving (0 without one). */
  readonly manifestSize: number;
  /** For the HTTP handler: a `documentId` (body field or GET parameter) becomes extensions.persistedQuery. */
  rewriteRequest(request: RawGraphQLRequest): RawGraphQLRequest;
  close(): Promise<void>;
}

// What a refused request runs instead, so Apollo Server neither parses nor validates the refused text:
// plugins cannot end a request before didResolveOperation, where the refusal is thrown.
const PLACEHOLDER = '{ __typename }';
const AUDIT_MEMORY = 1_000;
const ERROR_LOG_INTERVAL_MS = 10_000;

/** What tells a changed manifest file from the one read (replaced, rewritten or resized). */
interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}
const stampOf = (path: string): FileStamp | undefined => {
  try {
    const { ino, size, mtimeMs } = statSync(path);
    return { ino, size, mtimeMs };
  } catch {
    return undefined; // gone for now (a deploy replacing it): the serving list stays
  }
};
const sameStamp = (a: FileStamp | undefined, b: FileStamp | undefined) =>
  !a || (b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function trustPlugin<TContext extends BaseContext>(
  current: () => TrustedDocuments,
  enforce: boolean,
  log: PersistedQueriesDeps['log'],
): ApolloServerPlugin<TContext> {
  const audited = new Set<string>();
  const audit = (what: string, key: string) => {
    if (audited.has(key)) return;
    if (audited.size >= AUDIT_MEMORY) audited.clear();
    audited.add(key);
    log?.(`trusted documents (audit): ${what}`, { key: key.slice(0, 200) });
  };
  return {
    async requestDidStart({ request }) {
      const extensions = request.extensions;
      const pq = extensions?.persistedQuery as unknown;
      const id = isRecord(pq) && typeof pq.sha256Hash === 'string' ? pq.sha256Hash : undefined;
      const dropPersistedQuery = () => {
        if (!extensions) return;
        const { persistedQuery: _dropped, ...rest } = extensions;
        request.extensions = rest;
      };
      const decision = current().check({ query: request.query, id });
      let refusal: GraphQLError;
      switch (decision.kind) {
        case 'listed':
          // The registered text runs; the id need not be its SHA-256, so Apollo's APQ must not check it.
          request.query = decision.query;
          dropPersistedQuery();
          return undefined;
        case 'listed-text':
          return undefined;
        case 'mismatch':
          refusal = new BadRequestError('The query text differs from the registered operation of that id', {
            extensions: { persistedQueryId: id },
          });
          break;
        case 'unknown-id':
          if (!enforce) return undefined; // APQ (when on) may know it
          refusal = new PersistedQueryNotFoundError('PersistedQueryNotFound');
          break;
        case 'not-listed':
          if (!enforce) {
            audit('an operation not in the manifest ran', request.query ?? '');
            return undefined;
          }
          refusal = new PersistedQueryNotInListError(
            'Only registered operations are accepted here (trusted documents); this one is not in the list',
          );
          break;
      }
      request.query = PLACEHOLDER;
      request.operationName = undefined;
      request.variables = undefined;
      dropPersistedQuery();
      return {
        async didResolveOperation() {
          throw refusal;
        },
      };
    },
  };
}

/**
 * Persisted queries: automatic persisted queries (Apollo's APQ protocol) over an in-process LRU, in front
 * of Redis when there is one, and trusted documents (only operations in a manifest run).
 */
export function createPersistedQueries<TContext extends BaseContext>(
  options: PersistedQueriesOptions,
  deps: PersistedQueriesDeps = {},
): PersistedQueries<TContext> {
  const trustedConfig = options.trustedDocuments;
  let trusted: TrustedDocuments | undefined;
  let manifestFile: FileStamp | undefined;
  try {
    if (trustedConfig) {
      manifestFile = stampOf(trustedConfig.manifest);
      trusted = createTrustedDocuments(loadManifest(trustedConfig.manifest));
    }
  } catch (error) {
    // start-up stops here: say which key to fix, as config errors do
    if (error instanceof PersistedManifestError)
      throw new PersistedManifestError(`persistedQueries.trustedDocuments.manifest: ${error.message}`);
    throw error;
  }
  // Hot reload: a changed file is read again; a list that cannot be used leaves the serving one in place.
  let lastReloadError: string | undefined;
  const watcher =
    trustedConfig?.watch && trusted
      ? setInterval(() => {
          const stamp = stampOf(trustedConfig.manifest);
          if (sameStamp(stamp, manifestFile)) return;
          try {
            const next = createTrustedDocuments(loadManifest(trustedConfig.manifest));
            trusted = next;
            manifestFile = stamp;
            lastReloadError = undefined;
            deps.log?.('trusted documents manifest reloaded', { operations: next.size });
          } catch (error) {
            const message = (error as Error).message;
            if (message !== lastReloadError)
              deps.log?.('trusted documents manifest refused; the previous list keeps serving', {
                error: message,
              });
            lastReloadError = message;
          }
        }, trustedConfig.pollIntervalMs)
      : undefined;
  watcher?.unref();
  const local = createMemoryDocumentStore({ maxBytes: options.maxMemoryBytes });
  const remote =
    options.apq && deps.redisUrl
      ? createRedisDocumentStore({
          url: deps.redisUrl,
          keyPrefix: options.keyPrefix,
          timeoutMs: options.redisTimeoutMs,
        })
      : undefined;
  let lastErrorLog = 0;
  const store = remote
    ? createTieredStore({
        local,
        remote,
        onError: (error) => {
          const now = Date.now();
          if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
          lastErrorLog = now;
          deps.log?.('persisted query store (Redis) failing; answering from memory', {
            error: (error as Error).message,
          });
        },
      })
    : local;
  return {
    apolloOption: options.apq ? { cache: store, ttl: options.ttlSeconds } : false,
    plugin: trusted
      ? trustPlugin<TContext>(() => trusted!, trustedConfig?.mode === 'enforce', deps.log)
      : undefined,
    get manifestSize() {
      return trusted?.size ?? 0;
    },
    rewriteRequest: documentIdToExtensions,
    async close() {
      clearInterval(watcher);
      await remote?.close();
    },
  };
}
