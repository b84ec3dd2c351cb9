import { randomUUID } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { type ApiKeyRecord, type ApiKeyStore, apiKeyRecordSchema } from './api-key.ts';

export interface FileApiKeyStoreOptions {
  /**
   * The records file: YAML when it ends in `.yaml`/`.yml`, JSON otherwise, shaped `{ keys: [record…] }`.
   * A missing file is an empty store; it is created (mode 0600) on the first write.
   */
  path: string;
  /**
   * Reload when the file changes on disk (another process, such as the key CLI, wrote it).
   * @default true
   */
  watch?: boolean;
  /**
   * Called when a reload finds an unreadable file; the last good records stay in use.
   * @default process.emitWarning
   */
  onReloadError?: (error: Error) => void;
}

const fileSchema = z.object({ keys: z.array(apiKeyRecordSchema).default([]) });

// A single-writer store for one gateway instance and the dev stack; several instances share keys through
// the Redis store instead. Every write re-reads the file first, so edits made by another process are not
// lost, and replaces it atomically (write a temp file, then rename).
class FileStore implements ApiKeyStore {
  #path: string;
  #yaml: boolean;
  #byHash = new Map<string, ApiKeyRecord>();
  #writes: Promise<unknown> = Promise.resolve();
  #watcher: FSWatcher | undefined;
  #reloadTimer: NodeJS.Timeout | undefined;
  #onReloadError: (error: Error) => void;

  constructor(options: FileApiKeyStoreOptions) {
    this.#path = options.path;
    this.#yaml = ['.yaml', '.yml'].includes(extname(options.path).toLowerCase());
    this.#onReloadError = options.onReloadError ?? ((error) => process.emitWarning(error));
  }

  async start(watchFile: boolean): Promise<void> {
    this.#apply(await this.#read());
    if (!watchFile) return;
    const dir = dirname(this.#path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Watch the directory, not the file: an atomic replace gives the file a new inode, which a file
    // watcher would no longer see.
    const name = basename(this.#path);
    this.#watcher = watch(dir, { persistent: false }, (_event, filename) => {
      if (filename === null || filename === name) this.#scheduleReload();
    });
    this.#watcher.on('error', (error) => this.#onReloadError(error));
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.#byHash.get(hash);
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.#mutate((records) => {
      if (records.some((r) => r.id === record.id || r.hash === record.hash)) {
        throw new Error('api key store: duplicate id or hash');
      }
      return [...records, record];
    });
  }

  async revoke(id: string, revokedAt: string): Promise<ApiKeyRecord | undefined> {
    const records = await this.#mutate((current) =>
      current.map((r) => (r.id === id && r.revokedAt === undefined ? { ...r, revokedAt } : r)),
    );
    return records.find((r) => r.id === id);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...this.#byHash.values()];
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    clearTimeout(this.#reloadTimer);
    await this.#writes;
  }

  #mutate(change: (records: ApiKeyRecord[]) => ApiKeyRecord[]): Promise<ApiKeyRecord[]> {
    const run = this.#writes.then(async () => {
      const next = change(await this.#read());
      await this.#write(next);
      this.#apply(next);
      return next;
    });
    this.#writes = run.catch(() => undefined);
    return run;
  }

  async #read(): Promise<ApiKeyRecord[]> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    if (text.trim() === '') return [];
    let data: unknown;
    try {
      data = this.#yaml ? parseYaml(text) : JSON.parse(text);
    } catch {
      throw new Error(`api key store: ${this.#path} is not valid ${this.#yaml ? 'YAML' : 'JSON'}`);
    }
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`api key store: ${this.#path}: ${issue?.path.join('.')}: ${issue?.message}`);
    }
    return parsed.data.keys;
  }

  async #write(records: ApiKeyRecord[]): Promise<void> {
    // Spell the fields out so nothing but the record (never a key) can reach the file.
    const keys = records.map(({ id, name, hash, scopes, plan, createdAt, revokedAt }) => ({
      id,
      name,
      hash,
      scopes: [...scopes],
      plan,
      createdAt,
      ...(revokedAt === undefined ? {} : { revokedAt }),
    }));
    const text = this.#yaml ? stringifyYaml({ keys }) : `${JSON.stringify({ keys }, null, 2)}\n`;
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    const temp = `${this.#path}.${randomUUID()}.tmp`;
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
    try {
      await rename(temp, this.#path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  #apply(records: readonly ApiKeyRecord[]): void {
    this.#byHash = new Map(
      records.map((r) => [r.hash, Object.freeze({ ...r, scopes: Object.freeze([...r.scopes]) })]),
    );
  }

  // Editors and renames fire several events per change: coalesce them into one read.
  #scheduleReload(): void {
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => {
      // Run behind pending writes so a reload never applies a file older than our own last write.
      this.#writes = this.#writes.then(async () => {
        try {
          this.#apply(await this.#read());
        } catch (err) {
          this.#onReloadError(err as Error);
        }
      });
    }, 25);
    this.#reloadTimer.unref();
  }
}

/** An API key store in one JSON or YAML file, read at start and again whenever the file changes. */
export async function createFileApiKeyStore(options: FileApiKeyStoreOptions): Promise<ApiKeyStore> {
  const store = new FileStore(options);
  await store.start(options.watch ?? true);
  return store;
}
