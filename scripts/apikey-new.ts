// `npm run apikey:new -- --name ci-bot --scope read:reviews --plan standard [--file path] [--redis]`:
// creates an API key, prints it once on stdout, and stores only its SHA-256 (in the file the dev gateway
// reads, or in Redis at REDIS_URL with --redis).
import { resolve } from 'node:path';
import {
  type ApiKeyStore,
  createApiKeyManager,
  createFileApiKeyStore,
  createRedisApiKeyStore,
} from '../gateway/src/auth/index.ts';
import { parseCli, scopesOf } from './cli.ts';
import { apiKeysFile } from './dev-auth.ts';

const USAGE =
  'usage: npm run apikey:new -- --name <label> [--scope <scope>]... [--plan <plan>] [--file <path> | --redis]';

const cli = parseCli<{
  name?: string;
  scope?: string[];
  plan?: string;
  file?: string;
  redis?: boolean;
}>('apikey:new', USAGE, {
  name: { type: 'string' },
  scope: { type: 'string', multiple: true },
  plan: { type: 'string', default: 'free' },
  file: { type: 'string' },
  redis: { type: 'boolean', default: false },
});
const { values } = cli;
// annotated so that TypeScript narrows after a call (assertion-style `never`)
const fail: (message: string) => never = cli.fail;
if (!values.name?.trim()) fail('--name is required');
if (values.redis && values.file) fail('give --file or --redis, not both');
const scopes = scopesOf(values.scope);

let store: ApiKeyStore;
let where: string;
if (values.redis) {
  const url = process.env.REDIS_URL;
  if (!url) fail('--redis needs REDIS_URL');
  store = createRedisApiKeyStore({ redis: url });
  where = 'Redis (REDIS_URL)';
} else {
  // npm runs scripts from the repo root; a relative --file means the folder the user typed it in.
  where = values.file ? resolve(process.env.INIT_CWD ?? process.cwd(), values.file) : apiKeysFile();
  store = await createFileApiKeyStore({ path: where, watch: false });
}

const manager = createApiKeyManager({ store });
try {
  const { key, record } = await manager.createApiKey({
    name: values.name,
    scopes,
    plan: values.plan ?? 'free',
  });
  // stderr for people, stdout for the key alone, so `KEY=$(npm run -s apikey:new -- …)` works.
  console.error(
    `created API key ${record.id} (${record.name}, plan ${record.plan}, scopes ${record.scopes.join(' ') || 'none'}); its hash is stored in ${where}. The key is shown only now:`,
  );
  console.log(key);
} catch (error) {
  console.error(`apikey:new: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await manager.close();
}
