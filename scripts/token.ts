// `npm run token -- --sub 1 --scope read:email [--scope x] [--plan standard] [--ttl 3600] [--keys dir]`:
// prints an access token the dev stack (`npm start`) trusts, signed with its dev key. Development only.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDevSigningKey, signDevToken } from '../gateway/src/auth/index.ts';
import { SEED_SIZES } from '../services/kit/src/db/index.ts';
import { parseCli, scopesOf } from './cli.ts';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_TOKEN_TYPE, devKeysDir, ROOT } from './dev-auth.ts';

const USAGE =
  'usage: npm run token -- --sub <user id> [--scope <scope>]... [--plan <plan>] [--ttl <seconds>] [--keys <dir>]';

const cli = parseCli<{
  sub?: string;
  scope?: string[];
  plan?: string;
  ttl?: string;
  keys?: string;
}>('token', USAGE, {
  sub: { type: 'string' },
  scope: { type: 'string', multiple: true },
  plan: { type: 'string' },
  ttl: { type: 'string', default: '3600' },
  keys: { type: 'string' },
});
const { values } = cli;
// annotated so that TypeScript narrows after a call (assertion-style `never`)
const fail: (message: string) => never = cli.fail;
if (!values.sub?.trim()) fail('--sub is required');
const ttlSec = Number(values.ttl);
if (!Number.isInteger(ttlSec) || ttlSec <= 0) fail('--ttl: expected a positive number of seconds');
const scopes = scopesOf(values.scope);
// npm runs scripts from the repo root; a relative --keys means the folder the user typed it in.
const keys = values.keys ? resolve(process.env.INIT_CWD ?? process.cwd(), values.keys) : devKeysDir();

/**
 * The user ids services/accounts/seed.sql creates (`generate_series(1, {{users}})`: '1'..'100', or
 * '1'..'2000' with SEED_SIZE=bench), or undefined when the file is not there or seeds users otherwise.
 */
function seededUserIds(): { max: number } | undefined {
  let sql: string;
  try {
    sql = readFileSync(join(ROOT, 'services', 'accounts', 'seed.sql'), 'utf8');
  } catch {
    return undefined;
  }
  if (!/generate_series\(\s*1\s*,\s*\{\{\s*users\s*\}\}\s*\)/.test(sql)) return undefined;
  const size = process.env.SEED_SIZE === 'bench' ? 'bench' : 'small';
  return { max: SEED_SIZES[size].users };
}

const sub = values.sub.trim();
const seeded = seededUserIds();
// A token for a user the accounts service does not know still authenticates, but `me` is null and
// `addReview` stores a review by nobody: say so (stderr, so `TOKEN=$(npm run -s token …)` still works).
if (seeded && !(/^[1-9]\d*$/.test(sub) && Number(sub) <= seeded.max)) {
  console.error(
    `token: warning: --sub ${sub} is not a seeded account (services/accounts/seed.sql seeds ids 1..${seeded.max}${process.env.SEED_SIZE === 'bench' ? '' : ', 1..2000 with SEED_SIZE=bench'}); \`me\` will be null and mutations will act as an unknown user`,
  );
}

const key = await loadDevSigningKey(keys);
const token = await signDevToken(
  { sub, scopes, plan: values.plan, ttlSec },
  { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, key, typ: DEV_TOKEN_TYPE },
);
console.log(token);
