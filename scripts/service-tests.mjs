// Lists the test files whose outcome can depend on a real PostgreSQL or Redis: those that read
// DATABASE_URL or REDIS_URL from the environment, themselves or through a test helper they import
// (relative imports and @tollgate/kit/testing, followed transitively). CI runs every test once on the
// embedded defaults, then only these again against the real servers: running the rest twice tests
// nothing new and costs minutes. Found from the sources each time, so a new test cannot be left out.
// usage: node scripts/service-tests.mjs   (prints one path per line, relative to the repository root)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reads = /process\.env\.(DATABASE_URL|REDIS_URL)\b|process\.env\[['"](DATABASE_URL|REDIS_URL)['"]\]/;
const testFile = /\.(test|int\.test|e2e|chaos|cluster)\.ts$/;
const packages = { '@tollgate/kit/testing': join(root, 'services/kit/src/testing.ts') };

const tests = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (testFile.test(name)) tests.push(path);
  }
};
for (const top of ['gateway', 'services', 'scripts', 'test']) walk(join(root, top));

const resolveImport = (from, spec) => {
  if (packages[spec]) return packages[spec];
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  return [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')].find(
    (p) => existsSync(p) && statSync(p).isFile(),
  );
};
const memo = new Map();
const touchesServices = (file, seen = new Set()) => {
  if (memo.has(file)) return memo.get(file);
  if (seen.has(file)) return false;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  let found = reads.test(source);
  // Product code (gateway/src, services/*/src) reads its environment through its own config, which
  // every test gets explicitly; only test-side files decide whether the real servers are used.
  for (const m of source.matchAll(
    /(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    if (found) break;
    const next = resolveImport(file, m[1] ?? m[2]);
    const product = next && /\/(gateway|services\/[^/]+)\/src\//.test(next) && !next.endsWith('testing.ts');
    if (next && !product && !testFile.test(next)) found = touchesServices(next, seen);
  }
  memo.set(file, found);
  return found;
};

for (const file of tests.sort()) if (touchesServices(file)) console.log(relative(root, file));
