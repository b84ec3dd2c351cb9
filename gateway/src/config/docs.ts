import { z } from 'zod';
import { GatewayConfigObject } from './schema.ts';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

function unwrap(schema: z.ZodTypeAny): { inner: z.ZodTypeAny; def: unknown; hasDefault: boolean } {
  let inner = schema;
  let def: unknown;
  let hasDefault = false;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      if (!hasDefault) def = inner._def.defaultValue();
      hasDefault = true;
      inner = inner._def.innerType;
    } else if (inner instanceof z.ZodOptional || inner instanceof z.ZodNullable) {
      inner = inner._def.innerType;
    } else if (inner instanceof z.ZodEffects) {
      inner = inner._def.schema;
    } else {
      return { inner, def, hasDefault };
    }
  }
}

function typeName(schema: z.ZodTypeAny): string {
  const { inner } = unwrap(schema);
  if (inner instanceof z.ZodString) return 'string';
  if (inner instanceof z.ZodNumber) return 'number';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  if (inner instanceof z.ZodEnum) return (inner.options as string[]).map((o) => `\`${o}\``).join(' \\| ');
  if (inner instanceof z.ZodArray) return `${typeName(inner.element)}[]`;
  if (inner instanceof z.ZodUnion) return (inner.options as z.ZodTypeAny[]).map(typeName).join(' \\| ');
  if (inner instanceof z.ZodRecord) return 'map';
  if (inner instanceof z.ZodObject) return 'object';
  return 'value';
}

function rows(schema: z.ZodTypeAny, prefix: string, out: Row[]): void {
  const { inner, def, hasDefault } = unwrap(schema);
  if (prefix) {
    const scalarDefault =
      hasDefault && (typeof def !== 'object' || Array.isArray(def) || inner instanceof z.ZodRecord);
    out.push({
      key: prefix,
      type: typeName(schema),
      default: scalarDefault ? `\`${JSON.stringify(def)}\`` : '',
      description: (schema.description ?? inner.description ?? '').replace(/\|/g, '\\|'),
    });
  }
  if (inner instanceof z.ZodObject) {
    for (const [k, v] of Object.entries(inner.shape as Record<string, z.ZodTypeAny>))
      rows(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (inner instanceof z.ZodArray) {
    const element = unwrap(inner.element).inner;
    if (element instanceof z.ZodObject) {
      for (const [k, v] of Object.entries(element.shape as Record<string, z.ZodTypeAny>))
        rows(v, `${prefix}[].${k}`, out);
    }
  }
}

/** docs/config.md, generated from the schema's `.describe()` texts so it cannot drift from the code. */
export function configReference(): string {
  const out: Row[] = [];
  rows(GatewayConfigObject, '', out);
  const lines = [
    '# Gateway configuration reference',
    '',
    'Generated from `gateway/src/config/schema.ts` by `npm run docs:config`; a test fails when it is stale.',
    'Set keys in `gateway.config.yaml` (or `--config <file>`); `GATEWAY_<SECTION>_<KEY>` environment variables',
    'override the file, and CLI flags override both. In a variable name `_` starts a camelCase word and `__` goes',
    'one level down: `GATEWAY_POOL_TIMEOUT_MS` sets `pool.timeoutMs`, `GATEWAY_POOL_CIRCUIT_BREAKER__MIN_REQUESTS`',
    'sets `pool.circuitBreaker.minRequests`. A `GATEWAY_` variable that names no section is ignored with a warning',
    '(`GATEWAY_CONFIG` and the `GATEWAY_SERVICE_*`/`GATEWAY_PORT*` variables Kubernetes sets are not config).',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's ${VAR} syntax, documented
    'String values in the file may use `${VAR}` and `${VAR:-default}` (`$${` is a literal `${`); an unset variable',
    'without a default stops start-up naming the key.',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...out.map((r) => `| \`${r.key}\` | ${r.type} | ${r.default} | ${r.description} |`),
    '',
  ];
  return lines.join('\n');
}
