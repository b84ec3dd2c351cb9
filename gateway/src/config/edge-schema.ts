// The edge's keys of the config schema (schema.ts): CORS, TLS, replica labels, routing rules, subgraphs.
import { z } from 'zod';
import { originProblem } from '../cors/index.ts';
import { bool, list, url } from './primitives.ts';

export const corsSchema = z
  .object({
    origins: list
      .default([])
      .describe(
        'Origins whose pages may call the gateway and read its answers: exact (`https://app.example.com`), a subdomain pattern (`https://*.example.com`) or `*` (any origin, only without credentials). Empty: no cross-origin access, and WebSocket upgrades from another origin are refused. See docs/cors.md.',
      ),
    credentials: bool
      .default(false)
      .describe(
        'Let pages of those origins send cookies and HTTP auth (`fetch(…, { credentials: "include" })`): answers `Access-Control-Allow-Credentials: true`. Not with origins `*`.',
      ),
    allowedHeaders: list
      .default([
        'accept',
        'authorization',
        'content-type',
        'x-api-key',
        'apollo-require-preflight',
        'x-apollo-operation-name',
        'apollographql-client-name',
        'apollographql-client-version',
        'traceparent',
        'tracestate',
        'baggage',
      ])
      .describe(
        'Request headers a page may send (Access-Control-Allow-Headers of a preflight); `*` also allows whatever a preflight asks for.',
      ),
    exposedHeaders: list
      .default(['traceparent', 'ratelimit', 'ratelimit-policy', 'retry-after'])
      .describe(
        'Response headers a page may read beyond the CORS-safelisted ones (Access-Control-Expose-Headers).',
      ),
    maxAgeSeconds: z.coerce
      .number()
      .int()
      .min(0)
      .default(600)
      .describe(
        'How long a browser may reuse a preflight answer (Access-Control-Max-Age); Chromium caps it at 7200.',
      ),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const [i, origin] of c.origins.entries()) {
      const problem = originProblem(origin);
      if (problem) ctx.addIssue({ code: 'custom', path: ['origins', i], message: problem });
    }
    if (c.credentials && c.origins.includes('*'))
      ctx.addIssue({
        code: 'custom',
        path: ['credentials'],
        message: 'cannot be true with origins ["*"]: list the origins allowed to send credentials',
      });
  });
// `server.tls` and `subgraphs[].tls` (gateway/src/tls/ reads the files and reloads them on change).
export const pemFile = (what: string) => z.string().min(1).describe(what);
export const ServerTlsSchema = z
  .object({
    certFile: pemFile(
      'PEM certificate the gateway presents, followed by any intermediate CA certificates (a fullchain.pem). Re-read without a restart when it changes.',
    ),
    keyFile: pemFile('PEM private key of certFile (unencrypted). Re-read without a restart when it changes.'),
    caFile: pemFile(
      'PEM CA bundle that client certificates must chain to: set, every client must present one (mutual TLS at the edge, health probes included). Not the chain sent to clients: that goes in certFile.',
    ).optional(),
    minVersion: z
      .enum(['TLSv1.2', 'TLSv1.3'])
      .default('TLSv1.2')
      .describe('Oldest TLS version a client may negotiate.'),
  })
  .strict();
export const SubgraphTlsSchema = z
  .object({
    certFile: pemFile(
      "PEM client certificate the gateway presents to this subgraph's replicas (mTLS).",
    ).optional(),
    keyFile: pemFile('PEM private key of certFile (unencrypted).').optional(),
    caFile: pemFile(
      "PEM CA bundle the replicas' certificates must chain to, instead of the system's public CAs (for a private CA on https:// replica URLs).",
    ).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    // A client certificate goes with its key; either alone is a mistake, not a choice.
    if (t.certFile && !t.keyFile)
      ctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'required with a client certificate' });
    if (t.keyFile && !t.certFile)
      ctx.addIssue({ code: 'custom', path: ['certFile'], message: 'required with a client key' });
  });

// Kubernetes-style label keys and values: what routing rules select replicas by.
export const labelName = z
  .string()
  .regex(/^[A-Za-z0-9]([A-Za-z0-9_./-]*[A-Za-z0-9])?$/, 'expected a label name');
export const labelsSchema = z.record(labelName, z.string().max(63));

export const ReplicaObjectSchema = z
  .object({
    url: url.describe('Replica URL, or a `dns://` entry.'),
    labels: labelsSchema
      .default({})
      .describe('Labels of the replica (of every address of a `dns://` entry), e.g. `{ track: canary }`.'),
  })
  .strict();

export const RoutingRuleSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected letters, digits, _ . : -')
      .optional()
      .describe('Shown on spans and metrics. Default: `rules[<index>]`.'),
    header: z
      .object({
        name: z.string().min(1).describe('Client request header (case-insensitive).'),
        value: z.string().optional().describe('Exact value; without it the header only has to be there.'),
      })
      .strict()
      .optional()
      .describe('Condition: a client request header, e.g. `{ name: x-canary, value: "1" }`.'),
    claim: z
      .object({
        name: z.string().min(1).describe('Claim of the verified token (or API key metadata).'),
        // a number or boolean in YAML (`value: 2`) is compared as its text
        value: z
          .preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string())
          .optional()
          .describe(
            'Value (an array claim matches when it holds it); without it the claim only has to be there.',
          ),
      })
      .strict()
      .optional()
      .describe("Condition: a claim of the caller's token, e.g. `{ name: tenant, value: acme }`."),
    weight: z.coerce
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe(
        'Condition: this share of callers, in percent, sticky per caller (a hash of the principal id, or the client address of anonymous callers, with the rule name).',
      ),
    subgraphs: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Subgraphs whose fetches `select` routes (case-insensitive). Default: every subgraph.'),
    select: labelsSchema
      .optional()
      .describe(
        "Label selector: the matching requests' fetches to those subgraphs go to the replicas carrying all these labels, e.g. `{ track: canary }`.",
      ),
    activate: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Progressive-override labels (`@override(label:)`) turned on for the matching requests.'),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (!rule.header && !rule.claim && rule.weight === undefined)
      ctx.addIssue({ code: 'custom', message: 'a rule needs a condition: header, claim or weight' });
    if (!rule.select && !rule.activate)
      ctx.addIssue({ code: 'custom', message: 'a rule needs an action: select or activate' });
  });

export const SubgraphSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/i, 'expected a name of letters, digits, - and _')
      .describe('Subgraph name, as in the supergraph (join__Graph name, case-insensitive).'),
    replicas: z
      .array(
        z.union([url, ReplicaObjectSchema], {
          errorMap: (issue, ctx) =>
            issue.code === 'invalid_union'
              ? { message: 'expected a replica URL, or { url, labels } with text label values' }
              : { message: ctx.defaultError },
        }),
      )
      .min(1)
      .describe(
        'Replicas of this subgraph (the replica pool): each a URL (http(s), or `dns://name:port/path` for every address the name resolves to), or `{ url, labels }` with labels that routing rules select by, e.g. `{ url: http://p-canary:4001/graphql, labels: { track: canary } }`.',
      ),
    schemaFile: z
      .string()
      .optional()
      .describe(
        'SDL file of this subgraph, used to compose the supergraph at start. Without it the gateway asks a replica for `_service { sdl }`.',
      ),
    tls: SubgraphTlsSchema.optional().describe(
      "TLS to this subgraph's https:// replicas: a client certificate for mutual TLS and/or a private CA to trust. Absent: the system CAs, no client certificate.",
    ),
  })
  .strict();
