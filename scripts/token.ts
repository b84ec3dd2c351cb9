// `npm run token -- --sub alice --scope read:email [--scope x] [--plan standard] [--ttl 3600] [--keys dir]`:
// prints an access token the dev stack (`npm start`) trusts, signed with its dev key. Development only.
import { resolve } from 'node:path';
import { loadDevSigningKey, signDevToken } from '../gateway/src/auth/index.ts';
import { parseCli, scopesOf } from './cli.ts';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_TOKEN_TYPE, devKeysDir } from './dev-auth.ts';

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

const key = await loadDevSigningKey(keys);
const token = await signDevToken(
  { sub: values.sub.trim(), scopes, plan: values.plan, ttlSec },
  { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, key, typ: DEV_TOKEN_TYPE },
);
console.log(token);
