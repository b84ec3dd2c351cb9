import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageVersionOf, routeOf, sqlSpanName, summarizeQuery } from './semconv.ts';

describe('summarizeQuery (db.query.summary)', () => {
  it.each([
    ['SELECT id, username FROM accounts.users WHERE id = ANY($1)', 'SELECT accounts.users'],
    [
      `SELECT t.top, p.upc FROM unnest($1::int[]) AS t(top)
       CROSS JOIN LATERAL (SELECT upc, name FROM products.products ORDER BY upc LIMIT t.top) AS p`,
      'SELECT products.products',
    ],
    [
      'INSERT INTO reviews.reviews (product_upc, author_id, body) VALUES ($1, $2, $3) RETURNING id',
      'INSERT reviews.reviews',
    ],
    [
      `WITH e AS (INSERT INTO pubsub.events (topic, payload) VALUES ($2, $3) RETURNING id)
       SELECT pg_notify($1, e.id::text) FROM e`,
      'INSERT pubsub.events SELECT e',
    ],
    ["DELETE FROM t WHERE created_at < now() - interval '1 day'", 'DELETE t'],
    ['UPDATE accounts.users SET name = $1 WHERE id = $2', 'UPDATE accounts.users'],
    ['SELECT a FROM x JOIN y ON x.id = y.id', 'SELECT x y'],
    ['select 1', 'SELECT'],
    ["SELECT 'FROM secret' AS s -- FROM comment", 'SELECT'],
    ['BEGIN', undefined],
    ['SET application_name = $1', undefined],
  ])('%s → %s', (sql, summary) => {
    expect(summarizeQuery(sql)).toBe(summary);
  });

  it('never carries literals, and stays within 255 characters', () => {
    expect(summarizeQuery("SELECT * FROM t WHERE name = 'alice'")).toBe('SELECT t');
    const wide = `SELECT * FROM ${Array.from({ length: 80 }, (_, i) => `table_${i}`).join(' JOIN ')}`;
    expect(summarizeQuery(wide)!.length).toBeLessThanOrEqual(255);
  });
});

describe('sqlSpanName', () => {
  it('is the summary, else operation and namespace, else the namespace or the system', () => {
    expect(sqlSpanName('SELECT upc FROM inventory.stock', 'test')).toBe('SELECT inventory.stock');
    expect(sqlSpanName('BEGIN', 'test')).toBe('BEGIN test');
    expect(sqlSpanName(undefined, 'test')).toBe('test');
    expect(sqlSpanName(undefined, undefined)).toBe('postgresql');
  });
});

describe('routeOf (http.route)', () => {
  it('names the GraphQL route, with or without a query string, and nothing else', () => {
    expect(routeOf('/graphql')).toBe('/graphql');
    expect(routeOf('/graphql?query={a}')).toBe('/graphql');
    expect(routeOf('/health')).toBeUndefined();
    expect(routeOf('/graphql/x')).toBeUndefined();
    expect(routeOf(undefined)).toBeUndefined();
  });
});

describe('packageVersionOf (service.version)', () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-version-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("finds the nearest named package's version above a file, skipping a private root without one", () => {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'root', private: true }));
    mkdirSync(join(root, 'services', 'x', 'src'), { recursive: true });
    writeFileSync(
      join(root, 'services', 'x', 'package.json'),
      JSON.stringify({ name: 'x', version: '1.2.3' }),
    );
    writeFileSync(join(root, 'services', 'x', 'src', 'main.ts'), '');
    expect(packageVersionOf(join(root, 'services', 'x', 'src', 'main.ts'))).toBe('1.2.3');
    expect(packageVersionOf(join(root, 'services', 'x', 'src'))).toBe('1.2.3');
    expect(packageVersionOf(join(root, 'services'))).toBeUndefined();
    expect(packageVersionOf(undefined)).toBeUndefined();
  });

  it("reads this repository's kit version", () => {
    expect(packageVersionOf(import.meta.filename)).toMatch(/^\d+\.\d+\.\d+/);
  });
});
