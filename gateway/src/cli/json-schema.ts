import { zodToJsonSchema } from 'zod-to-json-schema';
import { GatewayConfigSchema } from '../config/index.ts';

/**
 * The JSON Schema (draft-07) of gateway.config.yaml, generated from the config's zod schema with every
 * key's description and default. Keys with a default are not `required`: a file may leave any of them out.
 * Numbers and booleans are typed as the YAML file writes them (the loader also accepts strings from env).
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
    ...schema,
  };
}
