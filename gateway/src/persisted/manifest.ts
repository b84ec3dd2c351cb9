import { readFileSync } from 'node:fs';
import { PersistedManifestError } from './errors.ts';

/** One registered operation of a manifest. */
export interface ManifestOperation {
  readonly id: string;
  readonly body: string;
  readonly name?: string;
  readonly type?: string;
}

/** Registered operations by id. */
export type Manifest = ReadonlyMap<string, ManifestOperation>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a persisted query manifest: Apollo's format
 * (`{format: "apollo-persisted-query-manifest", version: 1, operations: [{id, body, name, type}]}`, as
 * written by `@apollo/generate-persisted-query-manifest`) or a plain JSON object of id → document (Relay,
 * Hive and graphql-codegen write those). Throws PersistedManifestError naming the problem and `source`.
 */
export function parseManifest(json: unknown, source = 'manifest'): Manifest {
  const fail: (why: string) => never = (why) => {
    throw new PersistedManifestError(`${source}: ${why}`);
  };
  const out = new Map<string, ManifestOperation>();
  const add = (op: ManifestOperation, where: string) => {
    if (!op.id) fail(`${where}: empty id`);
    if (!op.body.trim()) fail(`${where}: empty body`);
    const seen = out.get(op.id);
    if (seen && seen.body !== op.body) fail(`${where}: id ${op.id} is listed twice with different bodies`);
    out.set(op.id, op);
  };
  if (!isRecord(json)) return fail('expected a JSON object');
  if ('format' in json || 'operations' in json) {
    if (json.format !== 'apollo-persisted-query-manifest')
      fail(`unknown format ${JSON.stringify(json.format)} (expected "apollo-persisted-query-manifest")`);
    if (json.version !== 1) fail(`unsupported version ${JSON.stringify(json.version)} (expected 1)`);
    if (!Array.isArray(json.operations)) fail('operations: expected an array');
    for (const [i, op] of (json.operations as unknown[]).entries()) {
      const where = `operations[${i}]`;
      if (!isRecord(op)) fail(`${where}: expected an object`);
      if (typeof op.id !== 'string') fail(`${where}.id: expected a string`);
      if (typeof op.body !== 'string') fail(`${where}.body: expected a string`);
      add(
        {
          id: op.id as string,
          body: op.body as string,
          ...(typeof op.name === 'string' ? { name: op.name } : {}),
          ...(typeof op.type === 'string' ? { type: op.type } : {}),
        },
        where,
      );
    }
  } else {
    for (const [id, body] of Object.entries(json)) {
      if (typeof body !== 'string') fail(`${id}: expected the document as a string`);
      add({ id, body: body as string }, id);
    }
  }
  return out;
}

/** Reads and parses a manifest file; PersistedManifestError names the file when it is unusable. */
export function loadManifest(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PersistedManifestError(`${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PersistedManifestError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseManifest(json, path);
}
