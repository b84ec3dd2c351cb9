// `npm run reset`: deletes the dev stack's data (the embedded database in .tollgate/pgdata, or
// TOLLGATE_DATA_DIR) and what `npm start` writes again at every start (its gateway config and
// supergraph), so the next `npm start` migrates and seeds an empty database. Stop `npm start` first.
// Kept: the signing secret, the dev JWT keys and the API key records (.tollgate/signing-secret,
// dev-keys/, api-keys.json), so tokens and API keys already handed out keep working; `rm -rf .tollgate`
// removes those too.
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_STATE_DIR } from './dev-auth.ts';

const dataDirEnv = process.env.TOLLGATE_DATA_DIR;
// Relative to the repo root, where npm runs scripts, as `npm start` reads it.
const dataDir =
  dataDirEnv && dataDirEnv !== 'memory' ? resolve(dataDirEnv) : join(DEFAULT_STATE_DIR, 'pgdata');
const targets = [
  dataDir,
  join(DEFAULT_STATE_DIR, 'stack.gateway.yaml'),
  join(DEFAULT_STATE_DIR, 'supergraph.graphql'),
];
const removed = targets.filter((p) => existsSync(p));
for (const p of removed) rmSync(p, { recursive: true, force: true });
console.log(
  removed.includes(dataDir)
    ? `reset: deleted ${dataDir} (the dev database); the next npm start seeds it afresh (signing secret, dev keys and API keys kept)`
    : `reset: nothing to delete (no ${dataDir}); the next npm start seeds a fresh database`,
);
