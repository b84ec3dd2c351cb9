import { zodToJsonSchema } from 'zod-to-json-schema';
import { GatewayConfigSchema } from '../config/index.ts';

type Node = Record<string, unknown>;

/** A string holding a `${VAR}` or `${VAR:-default}` reference, which the loader expands before checking. */
const VARIABLE_REFERENCE = { type: 'string', pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}' };

/**
 * Numbers and booleans are typed as the YAML file writes them, and may also be a `${VAR}` reference
 * (expanded, then coerced, by the loader), so `port: ${PORT:-4000}` is as valid to an editor as to the
 * gateway. Walks every sub-schema.
 */
function allowReferences(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowReferences);
  if (node === null || typeof node !== 'object') return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node as Node)) {
    out[key] = key === 'default' || key === 'enum' || key === 'const' ? value : allowReferences(value);
  }
  const type = out.type;
  if (type === 'integer' || type === 'number' || type === 'boolean') {
    const { description, default: fallback, ...rest } = out;
    return {
      ...(description === undefined ? {} : { description }),
      ...(fallback === undefined ? {} : { default: fallback }),
      anyOf: [rest, VARIABLE_REFERENCE],
    };
  }
  return out;
}

/**
 * The JSON Schema (draft-07) of gateway.config.yaml, generated from the config's zod schema with every
 * key's description and default. Keys with a default are not `required`: a file may leave any of them out.
 */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema, ...schema } = zodToJsonSchema(GatewayConfigSchema, {
    target: 'jsonSchema7',
    $refStrategy: 'none',
  }) as Record<string, unknown>;
  return {
    $schema,
    title: 'Tollgate gateway configuration',
    description:
      'gateway.config.yaml of the Tollgate gateway (`tollgate config schema`). Every key is listed in docs/config.md; environment variables and CLI flags override the file.',
    ...(allowReferences(schema) as Node),
  };
}
