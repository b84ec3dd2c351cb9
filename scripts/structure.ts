// The source tree's shape rules, as data a test can assert: no import cycle, a folder is imported only
// through its `index.ts`, and no source file grows past a size where it holds more than one concern.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Sources only: tests, declaration files and build output are not part of the import graph. */
const isSource = (name: string) =>
  /\.(ts|mts)$/.test(name) && !/\.(test|int\.test|e2e|chaos)\.ts$/.test(name) && !name.endsWith('.d.ts');

export function listSources(dirs: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'node_modules' && name !== 'dist') walk(path);
      } else if (isSource(name)) files.push(resolve(path));
    }
  };
  for (const dir of dirs) if (existsSync(dir)) walk(dir);
  return files.sort();
}

const importPattern =
  /(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** Relative imports of each file, resolved to files of the set (type-only imports included: a cycle of types is still a cycle of concerns). */
export function importGraph(files: readonly string[]): Map<string, Set<string>> {
  const known = new Set(files);
  const target = (from: string, spec: string) => {
    const base = resolve(dirname(from), spec);
    return [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')].find((c) =>
      known.has(c),
    );
  };
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const out = new Set<string>();
    for (const m of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const t = target(file, (m[1] ?? m[2])!);
      if (t) out.add(t);
    }
    graph.set(file, out);
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan), each sorted. */
export function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/**
 * Imports that reach past a folder's `index.ts`: a file outside a folder that has an `index.ts` may
 * import only that index from it, so the index stays the folder's whole public surface.
 */
export function deepImports(graph: ReadonlyMap<string, ReadonlySet<string>>): [string, string][] {
  const found: [string, string][] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      // the innermost folder of `to` that has an index and does not contain `from`
      let dir = dirname(to);
      while (dir !== dirname(dir)) {
        const inside = `${dirname(from)}${sep}`.startsWith(`${dir}${sep}`);
        if (inside) break;
        if (existsSync(join(dir, 'index.ts')) && to !== join(dir, 'index.ts')) {
          found.push([from, to]);
          break;
        }
        dir = dirname(dir);
      }
    }
  }
  return found;
}

export function longFiles(files: readonly string[], maxLines: number): [string, number][] {
  return files
    .map((f): [string, number] => [f, readFileSync(f, 'utf8').split('\n').length])
    .filter(([, n]) => n > maxLines);
}

export const relativeTo = (root: string) => (path: string) => relative(root, path);
