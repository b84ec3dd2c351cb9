// The check before any load: every query once on every target; status 200, no errors, and data
// byte-identical across targets (and, in the static profile, equal to the data computed from the
// fixtures). Anything else stops the bench.
import { buildData, expectedFlatProducts, expectedTopProducts } from '../subgraphs/data.ts';
import { type BenchQuery, requestBody } from './queries.ts';
import type { RunningTarget, VariantId } from './targets.ts';

export interface Checked {
  query: BenchQuery['id'];
  /** JSON.stringify(data), identical for every target. */
  data: string;
  /** Bytes of each target's whole response body. */
  bytes: Record<string, number>;
  /** What each target's response shows of its features: extensions keys and telling headers. */
  observed: Record<string, { extensions: string[]; headers: string[] }>;
}

const TELLING_HEADERS = [
  'traceparent',
  'ratelimit',
  'ratelimit-policy',
  'x-ratelimit-remaining',
  'retry-after',
];

export async function checkTargets(
  targets: readonly RunningTarget[],
  queries: readonly BenchQuery[],
  profile: 'static' | 'real',
): Promise<Checked[]> {
  const data = profile === 'static' ? buildData() : undefined;
  const out: Checked[] = [];
  const problems: string[] = [];
  for (const q of queries) {
    const expected = data
      ? JSON.stringify(
          q.shape === 'flat' ? expectedFlatProducts(data, q.first) : expectedTopProducts(data, q.first),
        )
      : undefined;
    const seen: { target: VariantId; data: string }[] = [];
    const bytes: Record<string, number> = {};
    const observed: Checked['observed'] = {};
    for (const t of targets) {
      const res = await fetch(t.url, { method: 'POST', headers: t.prepared.headers, body: requestBody(q) });
      const text = await res.text();
      bytes[t.prepared.id] = Buffer.byteLength(text);
      let body: { data?: unknown; errors?: unknown[]; extensions?: Record<string, unknown> } | undefined;
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = undefined;
      }
      const where = `${q.id} on ${t.prepared.id}`;
      if (res.status !== 200) problems.push(`${where}: status ${res.status}: ${text.slice(0, 300)}`);
      else if (!body) problems.push(`${where}: not JSON: ${text.slice(0, 300)}`);
      else if (body.errors?.length)
        problems.push(`${where}: errors: ${JSON.stringify(body.errors).slice(0, 300)}`);
      else if (body.data == null) problems.push(`${where}: no data`);
      else seen.push({ target: t.prepared.id, data: JSON.stringify(body.data) });
      observed[t.prepared.id] = {
        extensions: Object.keys(body?.extensions ?? {}),
        headers: TELLING_HEADERS.filter((h) => res.headers.has(h)),
      };
    }
    const reference = expected ?? seen[0]?.data;
    for (const s of seen) {
      if (s.data !== reference) {
        problems.push(
          `${q.id} on ${s.target}: data differs from ${expected ? 'the expected data' : seen[0]!.target} (${s.data.length} vs ${reference?.length} bytes)`,
        );
      }
    }
    if (reference !== undefined) out.push({ query: q.id, data: reference, bytes, observed });
  }
  if (problems.length) throw new Error(`response check failed before load:\n  ${problems.join('\n  ')}`);
  return out;
}
