import { z } from 'zod';

const url = z.string().url();
// Env values arrive as strings: 'false' must mean false (z.coerce.boolean would say true).
const bool = z.preprocess((v) => (v === 'false' || v === '0' ? false : v === 'true' || v === '1' ? true : v), z.boolean());

const SubgraphSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/i, 'expected a name of letters, digits, - and _')
      .describe('Subgraph name, as in the supergraph (join__Graph name, case-insensitive).'),
    replicas: z
      .array(url)
      .min(1)
      .describe('Replica URLs of this subgraph; each fetch goes to the next one (the replica pool).'),
    schemaFile: z
      .string()
      .optional()
      .describe('SDL file of this subgraph, used to compose the supergraph at start. Without it the gateway asks a replica for `_service { sdl }`.'),
  })
  .strict();

const GatewayConfigObject = z
  .object({
    server: z
      .object({
        host: z.string().default('0.0.0.0').describe('Address the gateway listens on.'),
        port: z.coerce.number().int().min(0).max(65535).default(4000).describe('Port the gateway listens on (0 = any free port).'),
        maxBodyBytes: z.coerce.number().int().positive().default(1_000_000).describe('Largest request body accepted, in bytes; larger bodies get 413 BAD_REQUEST.'),
        ide: bool.default(true).describe('Serve GraphiQL (from local files) to browsers that GET /graphql.'),
        shutdownGraceMs: z.coerce.number().int().min(0).default(10_000).describe('On SIGTERM, how long in-flight requests may take before the process exits.'),
      })
      .strict()
      .default({})
      .describe('The HTTP endpoint.'),
    supergraph: z
      .object({
        file: z.string().optional().describe('A composed supergraph SDL file (as Apollo Router --supergraph). Without it the gateway composes `subgraphs` at start.'),
      })
      .strict()
      .default({})
      .describe('Where the supergraph comes from.'),
    subgraphs: z
      .array(SubgraphSchema)
      .default([])
      .describe('Subgraphs and their replicas. With a supergraph file, entries here override the routing URL of the subgraph of the same name.'),
    pool: z
      .object({
        timeoutMs: z.coerce.number().int().positive().default(30_000).describe('Per-subgraph-fetch timeout.'),
        connectionsPerReplica: z.coerce.number().int().positive().default(64).describe('Keep-alive connections kept per replica.'),
        keepAliveTimeoutMs: z.coerce.number().int().positive().default(30_000).describe('How long an idle keep-alive connection to a replica is kept.'),
      })
      .strict()
      .default({})
      .describe('Subgraph traffic: the replica pool.'),
    health: z
      .object({
        probeIntervalMs: z.coerce.number().int().positive().default(2_000).describe('How often replicas are probed for /health/ready.'),
        probeTimeoutMs: z.coerce.number().int().positive().default(1_000).describe('Timeout of one replica probe.'),
      })
      .strict()
      .default({})
      .describe('Readiness probing of replicas.'),
    auth: z
      .object({
        anonymous: z
          .object({
            enabled: bool.default(true).describe('Serve requests that carry no credentials, as the anonymous principal.'),
            plan: z.string().default('anonymous').describe('Rate-limit plan of anonymous callers.'),
          })
          .strict()
          .default({})
          .describe('Callers without credentials. Turn off in production to require a token or an API key.'),
        jwt: z
          .object({
            jwksUrl: url.optional().describe('JWKS endpoint of the identity provider (cached; refetched on an unknown kid at most once per cooldown).'),
            jwksFile: z.string().optional().describe('A local JWKS file, instead of jwksUrl.'),
            hs256Secret: z.string().min(32).optional().describe('Shared secret for HS256 tokens; HS256 is refused without it.'),
            issuer: z.string().describe('Required `iss`.'),
            audience: z.union([z.string(), z.array(z.string()).min(1)]).describe('Required `aud` (one of these).'),
            algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'])).min(1).default(['RS256', 'ES256', 'EdDSA']).describe('Algorithms accepted (always passed to jose).'),
            clockToleranceSec: z.coerce.number().int().min(0).default(30).describe('Leeway on exp/nbf, in seconds.'),
            typ: z.string().optional().describe('Required JWT `typ` header, e.g. at+jwt.'),
            scopeClaim: z.string().default('scope').describe('Claim holding the scopes (space-separated or array).'),
            planClaim: z.string().default('plan').describe('Claim naming the rate-limit plan.'),
            defaultPlan: z.string().default('free').describe('Plan of a token without the plan claim.'),
          })
          .strict()
          .refine((j) => Boolean(j.jwksUrl || j.jwksFile || j.hs256Secret), { message: 'give jwksUrl, jwksFile or hs256Secret' })
          .optional()
          .describe('Bearer JWTs (Authorization header or cookie). Without this section bearer tokens are refused.'),
        cookieName: z.string().optional().describe('Cookie carrying the JWT for browser clients.'),
        apiKeys: z
          .object({
            file: z.string().optional().describe('File of API key records (hashes only), as written by `npm run apikey:new`.'),
            redis: bool.default(false).describe('Keep API key records in Redis (REDIS_URL) instead of the file.'),
          })
          .strict()
          .optional()
          .describe('API keys in the x-api-key header. Without this section API keys are refused.'),
      })
      .strict()
      .default({})
      .describe('Who is calling: JWT, API key or anonymous.'),
    cost: z
      .object({
        mode: z.enum(['enforce', 'measure']).default('enforce').describe('enforce rejects over-limit queries; measure only reports the cost (for rolling out limits).'),
        maxCost: z.coerce.number().positive().default(1000).describe('Largest estimated cost one operation may have.'),
        defaultListSize: z.coerce.number().int().min(0).default(10).describe('Assumed size of a list field without @listSize.'),
      })
      .strict()
      .default({})
      .describe('Query cost from @cost/@listSize in the supergraph.'),
    ratelimit: z
      .object({
        enabled: bool.default(true).describe('Charge each operation\'s cost to its caller\'s budget.'),
        plans: z
          .record(
            z
              .object({
                capacity: z.coerce.number().positive().describe('Budget size in cost points (the largest burst).'),
                restoreRate: z.coerce.number().positive().describe('Points restored per second.'),
              })
              .strict(),
          )
          .default({
            anonymous: { capacity: 1000, restoreRate: 50 },
            free: { capacity: 1000, restoreRate: 50 },
            standard: { capacity: 5000, restoreRate: 250 },
            enterprise: { capacity: 20000, restoreRate: 1000 },
          })
          .describe('Budgets by plan name; a principal names its plan.'),
        defaultPlan: z.string().default('free').describe('Plan used when a principal names a plan not listed here.'),
        failureMode: z.enum(['open', 'closed']).default('open').describe('When Redis fails: open answers from a local per-instance budget, closed answers 503.'),
        redisTimeoutMs: z.coerce.number().int().positive().default(50).describe('Timeout of one Redis limiter call.'),
        fallbackShare: z.coerce.number().gt(0).max(1).default(1).describe('Share of each budget the local fallback allows per instance while Redis is down.'),
        keyPrefix: z.string().default('tollgate:rl:').describe('Prefix of the budget keys in Redis.'),
      })
      .strict()
      .default({})
      .describe('Rate limiting by cost budget per client (Redis when REDIS_URL is set, in-process otherwise).'),
    redis: z
      .object({ url: z.string().optional().describe('Redis URL (REDIS_URL). Without it, in-process stores are used.') })
      .strict()
      .default({})
      .describe('Shared state.'),
    development: bool.default(false).describe('Show stack traces and internal error messages (NODE_ENV=development).'),
  })
  .strict();

/** Top-level sections, for the GATEWAY_<SECTION>_<KEY> environment variables. */
export const CONFIG_SECTIONS = Object.keys(GatewayConfigObject.shape);

export const GatewayConfigSchema = GatewayConfigObject.superRefine((c, ctx) => {
    if (!c.ratelimit.plans[c.ratelimit.defaultPlan]) {
    ctx.addIssue({ code: 'custom', path: ['ratelimit', 'defaultPlan'], message: `no plan named ${c.ratelimit.defaultPlan} in ratelimit.plans` });
  }
});

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
export type SubgraphConfig = z.infer<typeof SubgraphSchema>;
