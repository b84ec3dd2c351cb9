import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServiceInfo {
  /** Folder name; also the service's PostgreSQL schema. */
  name: string;
  /** Service root: what `migrate` and `seed` take as `dir`. */
  dir: string;
  /** The TypeScript entry point; `npm run build` compiles it to `<dir>/dist/main.js`, which processes run. */
  main: string;
}

// services/kit/src/registry → services/
const SERVICES_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Every subgraph under `services/`, sorted by name: a folder counts when it has a
 * `schema.graphql` and a `src/main.ts`, so a freshly scaffolded service shows up without a list
 * to edit.
 */
export function listServices(servicesDir: string = SERVICES_DIR): ServiceInfo[] {
  return (
    readdirSync(servicesDir, { withFileTypes: true })
      // a linked folder counts too (a test or a monorepo tool may link services in)
      .filter((entry) => (entry.isDirectory() || entry.isSymbolicLink()) && !entry.name.startsWith('.'))
      .map((entry) => {
        const dir = join(servicesDir, entry.name);
        return { name: entry.name, dir, main: join(dir, 'src', 'main.ts') };
      })
      .filter((s) => existsSync(join(s.dir, 'schema.graphql')) && existsSync(s.main))
      .sort((a, b) => a.name.localeCompare(b.name))
  );
}
