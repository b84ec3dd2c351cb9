// What the dev stack (`npm start`), `npm run token` and `npm run apikey:new` agree on: where the keys
// live and which issuer and audience the dev gateway trusts. For development only.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root, from scripts/ (tsx, tests) or from dist/scripts/ (npm start runs the compiled launcher). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'turbo.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
export const ROOT = repoRoot();
/** The launcher's state folder when none is given. */
export const DEFAULT_STATE_DIR = join(ROOT, '.tollgate');
export const DEV_ISSUER = 'tollgate-dev';
export const DEV_AUDIENCE = 'tollgate';
/** The `typ` the dev gateway requires and `npm run token` writes (RFC 9068 access tokens). */
export const DEV_TOKEN_TYPE = 'at+jwt';

/** The dev JWT key pair folder (`loadDevSigningKey`). */
export const devKeysDir = (stateDir: string = DEFAULT_STATE_DIR): string => join(stateDir, 'dev-keys');
/** The API key records file (hashes only) the dev gateway reads. */
export const apiKeysFile = (stateDir: string = DEFAULT_STATE_DIR): string => join(stateDir, 'api-keys.json');

const SECRET_FILE = 'signing-secret';

/**
 * The gateway → subgraph signing secret of this state folder: read when present, else created (32 random
 * bytes, base64url, mode 0600). Published with link(2), so launchers starting at once agree on one secret.
 */
export async function loadSigningSecret(stateDir: string = DEFAULT_STATE_DIR): Promise<string> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, SECRET_FILE);
  let secret = await readSecret(file);
  if (secret === undefined) {
    const temp = join(stateDir, `.${SECRET_FILE}.${randomUUID()}.tmp`);
    await writeFile(temp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await rm(temp, { force: true });
    }
    secret = await readSecret(file);
  }
  if (secret === undefined || secret.length < 32) {
    // Never print the value: say where it is and how to get a new one.
    throw new Error(
      `${file}: expected a secret of at least 32 characters; delete the file to generate a new one`,
    );
  }
  // A copied or restored file may have come back readable by others.
  await chmod(file, 0o600);
  return secret;
}

async function readSecret(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
