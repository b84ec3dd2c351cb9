#!/usr/bin/env node
// `npm run build`: the TypeScript sources compiled to JavaScript, so that `npm start`, `npx tollgate` and
// the images run plain `node` with no TypeScript loader (and no writable /tmp for one).
//   gateway/src          -> gateway/dist            (the `tollgate` bin runs gateway/dist/cli/main.js)
//   services/<name>/src  -> services/<name>/dist    (the kit and every subgraph; `main.js` is the entry)
//   scripts, infra/bin   -> dist/scripts, dist/infra/bin   (the `npm start` launcher, the migration job)
// Each file is transpiled on its own (what `isolatedModules` guarantees is safe); type checking is
// `npm run typecheck`, one program over the whole repo. Relative `.ts` specifiers become `.js`. A file is
// rewritten only when its source is newer, and outputs whose source is gone are removed, so a second run
// takes well under a second. Plain JavaScript on purpose: it must run before anything is built.
//   node scripts/build.mjs [--quiet] [--clean] [<package dir>…]
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every tree that is compiled: where its sources are, where the JavaScript goes, which files count. */
export function buildTargets(root = ROOT) {
  const services = join(root, 'services');
  const targets = [{ src: join(root, 'gateway', 'src'), out: join(root, 'gateway', 'dist') }];
  for (const entry of existsSync(services) ? readdirSync(services, { withFileTypes: true }) : []) {
    const src = join(services, entry.name, 'src');
    if ((entry.isDirectory() || entry.isSymbolicLink()) && existsSync(src)) {
      targets.push({ src, out: join(services, entry.name, 'dist') });
    }
  }
  targets.push({ src: join(root, 'scripts'), out: join(root, 'dist', 'scripts'), flat: true });
  targets.push({ src: join(root, 'infra', 'bin'), out: join(root, 'dist', 'infra', 'bin'), flat: true });
  return targets;
}

const isSource = (name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !/\.test\.ts$/.test(name);

function* sourcesOf(dir, flat) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      // root script folders hold templates and fixtures beside the scripts: only their own files count
      if (!flat && entry.name !== 'node_modules') yield* sourcesOf(path, flat);
    } else if (isSource(entry.name)) yield path;
  }
}

function* outputsOf(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* outputsOf(path);
    else if (entry.name.endsWith('.js')) yield path;
  }
}

/** Compiles every target (or the ones under `only`); returns how many files were written and removed. */
export async function build({ root = ROOT, only = [], clean = false } = {}) {
  let ts; // loaded only when a file needs compiling: an up-to-date tree builds in ~50 ms
  const options = () => ({
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2022,
    verbatimModuleSyntax: true,
    rewriteRelativeImportExtensions: true,
    useDefineForClassFields: true,
  });
  let written = 0;
  let removed = 0;
  const failures = [];
  const wanted = only.map((p) => resolve(root, p));
  const targets = buildTargets(root);
  // a service folder outside this repo (a test's scaffold, say) is built the same way when named
  for (const dir of wanted) {
    if (!targets.some((t) => t.src.startsWith(`${dir}/`) || t.src === dir) && existsSync(join(dir, 'src'))) {
      targets.push({ src: join(dir, 'src'), out: join(dir, 'dist') });
    }
  }
  for (const { src, out, flat } of targets) {
    if (wanted.length && !wanted.some((w) => src === w || src.startsWith(`${w}/`))) continue;
    if (clean) rmSync(out, { recursive: true, force: true });
    const expected = new Set();
    for (const file of sourcesOf(src, flat)) {
      const target = join(out, relative(src, file)).replace(/\.ts$/, '.js');
      expected.add(target);
      if (existsSync(target) && statSync(target).mtimeMs >= statSync(file).mtimeMs) continue;
      ts ??= (await import('typescript')).default;
      const result = ts.transpileModule(readFileSync(file, 'utf8'), {
        compilerOptions: options(),
        fileName: file,
        reportDiagnostics: true,
      });
      for (const d of result.diagnostics ?? []) {
        failures.push(`${relative(root, file)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      }
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, result.outputText);
      written++;
    }
    for (const stale of outputsOf(out)) {
      if (!expected.has(stale)) {
        rmSync(stale);
        removed++;
      }
    }
  }
  if (failures.length) throw new Error(`build failed:\n${failures.join('\n')}`);
  return { written, removed };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  const started = performance.now();
  try {
    const { written, removed } = await build({
      clean: args.includes('--clean'),
      only: args.filter((a) => !a.startsWith('--')),
    });
    const ms = Math.round(performance.now() - started);
    if (!quiet || written) console.error(`build: ${written} file(s) compiled, ${removed} removed (${ms} ms)`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
