import { readFileSync } from 'node:fs';

/** The gateway package's version. src/cli and dist/cli are both two levels below gateway/package.json. */
export function gatewayVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
