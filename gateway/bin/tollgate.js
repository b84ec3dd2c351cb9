#!/usr/bin/env node
// The `tollgate` command: the compiled gateway in gateway/dist (`npm run build` writes it; `npm install`
// runs the build), with plain `node` and no TypeScript loader.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('tollgate: the gateway is not built (gateway/dist is missing): run `npm run build`');
  process.exit(1);
}
await import(entry.href);
