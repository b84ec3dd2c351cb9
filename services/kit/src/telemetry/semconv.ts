// What the instrumentations we load do not name after the stable OpenTelemetry conventions by
// themselves: the SQL span's name (database spans), the subgraph's HTTP route (HTTP server spans), and
// the `service.version` of a process's resource. Pure functions; bootstrap.ts wires them in.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Longest `db.query.summary` (the conventions recommend at most 255 characters). */
const MAX_SUMMARY = 255;

// SQL keywords that name an operation in a summary, those after which a table name follows, and the
// words that may sit between the two (`JOIN LATERAL (…)`, `FROM ONLY t`).
const OPERATIONS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'COPY',
]);
const TABLE_AFTER = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'TABLE']);
const SKIPPED = new Set(['LATERAL', 'ONLY', 'IF', 'EXISTS', 'NOT']);
const TOKEN =
  /"[^"]+"(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?|[A-Za-z_][\w$]*(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?|\(/g;
const WORD = /^[A-Za-z_"]/;

/**
 * A low-cardinality summary of a SQL statement in the shape `db.query.summary` describes: each
 * operation in order, followed by the tables it reads or writes (`SELECT products.products`,
 * `INSERT reviews.reviews`; `WITH e AS (INSERT INTO t …) SELECT … FROM e` gives `INSERT t SELECT e`).
 * A function call after FROM (`FROM unnest($1)`) is no table. Undefined when the text names no
 * operation it knows (`BEGIN`, `SET …`): the caller names the span another way. Literals and
 * parameters never appear in it.
 */
export function summarizeQuery(text: string): string | undefined {
  const cleaned = text
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, ' ');
  const tokens = cleaned.match(TOKEN) ?? [];
  const parts: string[] = [];
  let last = '';
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i]!.toUpperCase();
    if (OPERATIONS.has(word)) {
      // the same operation twice with no table between (`SELECT … FROM f() … (SELECT`) is one
      if (last !== word) parts.push(word);
      last = word;
    }
    if (!TABLE_AFTER.has(word)) continue;
    let j = i + 1;
    while (j < tokens.length && SKIPPED.has(tokens[j]!.toUpperCase())) j++;
    const name = tokens[j];
    if (!name || !WORD.test(name) || OPERATIONS.has(name.toUpperCase()) || name.toUpperCase() === 'SET')
      continue;
    // `FROM unnest($1)` calls a function; `INSERT INTO t (a, b)` lists columns
    if ((word === 'FROM' || word === 'JOIN') && tokens[j + 1] === '(') continue;
    if (parts[parts.length - 1] !== name) parts.push(name);
    last = name;
    i = j;
  }
  if (parts.length === 0) return undefined;
  const summary = parts.join(' ');
  return summary.length > MAX_SUMMARY ? summary.slice(0, MAX_SUMMARY) : summary;
}

/** The first word of a statement, upper-cased (`db.operation.name` as instrumentation-pg derives it). */
function operationOf(text: string): string {
  const word = text.trim().split(/\s+/, 1)[0] ?? '';
  return word.replace(/;$/, '').toUpperCase();
}

/**
 * The name of a SQL span by the stable database conventions: `{db.query.summary}` when there is one,
 * else `{db.operation.name} {db.namespace}`, else the namespace, else `postgresql` (the system name).
 */
export function sqlSpanName(text: string | undefined, namespace: string | undefined): string {
  const summary = text ? summarizeQuery(text) : undefined;
  if (summary) return summary;
  const operation = text ? operationOf(text) : '';
  if (operation && namespace) return `${operation} ${namespace}`;
  return namespace || operation || 'postgresql';
}

/** The route a subgraph serves GraphQL on: its server spans are `POST /graphql` with `http.route`. */
export const GRAPHQL_ROUTE = '/graphql';

/** `http.route` of an incoming request's URL, when it is a route we serve; undefined otherwise. */
export function routeOf(url: string | undefined): string | undefined {
  const path = (url ?? '').split('?', 1)[0];
  return path === GRAPHQL_ROUTE ? GRAPHQL_ROUTE : undefined;
}

/**
 * The `version` of the nearest package.json above `from` (a file or folder) that has a name and a
 * version: the process's own package when `from` is its entry script. Undefined when there is none.
 */
export function packageVersionOf(from: string | undefined): string | undefined {
  if (!from) return undefined;
  let dir = resolve(from);
  if (!isDirectory(dir)) dir = dirname(dir);
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (typeof pkg.name === 'string' && typeof pkg.version === 'string' && pkg.version)
          return pkg.version;
      } catch {
        // an unreadable manifest says nothing about the version
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
