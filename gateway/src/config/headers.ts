import { z } from 'zod';
import { HEADER_NAME, HEADER_VALUE, reservedProblem } from '../headers/index.ts';

// The `headers` section of the one config schema (schema.ts takes it as is). The rule shapes follow
// Apollo Router's `headers.all.request[]` / `headers.subgraphs.<name>.request[]`.

const name = z.string().regex(HEADER_NAME, 'expected a header name (an RFC 9110 token)');
/** A header a rule sets or removes: never one the gateway owns or one tied to a single connection. */
const settable = name.superRefine((n, ctx) => {
  const problem = reservedProblem(n);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const value = z
  .string()
  .regex(HEADER_VALUE, 'expected a header value: visible ASCII and inner spaces (RFC 9110 §5.5)');
const pattern = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source, 'i');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(error as Error).message}` });
  }
});

function exactlyOne(keys: readonly string[], rule: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const given = keys.filter((k) => rule[k] !== undefined);
  if (given.length !== 1)
    ctx.addIssue({
      code: 'custom',
      message: given.length ? `give one of ${given.join(', ')}, not both` : `give ${keys.join(' or ')}`,
    });
}

const propagate = z
  .object({
    named: name
      .optional()
      .describe(
        'The client header to forward. Credentials (authorization, cookie, proxy-authorization, x-api-key) are forwarded only by a rule naming them.',
      ),
    rename: settable.optional().describe('Send it under this name instead.'),
    default: value.optional().describe('Send this value when the client sent none.'),
    matching: pattern
      .optional()
      .describe(
        'Forward every client header whose name matches this regular expression (case-insensitive), except hop-by-hop, framing, credential and gateway headers.',
      ),
  })
  .strict()
  .superRefine((p, ctx) => {
    exactlyOne(['named', 'matching'], p, ctx);
    if (p.matching !== undefined && (p.rename !== undefined || p.default !== undefined))
      ctx.addIssue({ code: 'custom', message: 'rename and default go with named, not matching' });
    if (p.named !== undefined && p.rename === undefined) {
      const problem = reservedProblem(p.named);
      if (problem) ctx.addIssue({ code: 'custom', path: ['named'], message: problem });
    }
  });

const insert = z
  .object({
    name: settable.describe('The header to set; it replaces one an earlier rule set.'),
    value: value.optional().describe('A fixed value.'),
    claim: z
      .string()
      .min(1)
      .optional()
      .describe(
        "A claim of the caller's token (`sub`; `org.id` reads a nested claim unless a claim has that exact name). Strings, numbers, booleans and lists of them; otherwise the header is left out.",
      ),
    default: value.optional().describe('With claim: the value when the token has no such claim.'),
  })
  .strict()
  .superRefine((i, ctx) => {
    exactlyOne(['value', 'claim'], i, ctx);
    if (i.default !== undefined && i.claim === undefined)
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'default goes with claim' });
  });

const remove = z
  .object({
    named: settable.optional().describe('Take out the header of this name that an earlier rule added.'),
    matching: pattern
      .optional()
      .describe('Take out every header an earlier rule added whose name matches (case-insensitive).'),
  })
  .strict()
  .superRefine((r, ctx) => exactlyOne(['named', 'matching'], r, ctx));

const rule = z
  .object({
    propagate: propagate
      .optional()
      .describe('Forward a client header (`named`, optional `rename` and `default`) or all `matching` ones.'),
    insert: insert.optional().describe('Set a header to a fixed `value` or to a token `claim`.'),
    remove: remove.optional().describe('Take out headers earlier rules added (`named` or `matching`).'),
  })
  .strict()
  .superRefine((r, ctx) => exactlyOne(['propagate', 'insert', 'remove'], r, ctx));

const rules = z
  .object({
    request: z.array(rule).default([]).describe('Rules for the requests to subgraphs, applied in order.'),
  })
  .strict();

export const headersSchema = z
  .object({
    all: rules.default({}).describe('Rules for every subgraph fetch, applied first.'),
    subgraphs: z
      .record(rules)
      .default({})
      .describe("Rules per subgraph name, applied after `all` to that subgraph's fetches."),
  })
  .strict()
  .default({})
  .describe(
    'Headers on subgraph fetches: `propagate` client headers, `insert` fixed or claim values, `remove` (docs/headers.md). None by default. Signed with the fetch when auth.signing is on.',
  );
