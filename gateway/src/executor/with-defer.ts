// The API schema Apollo Server validates against, with the `@defer` directive: ApolloGateway builds its
// graphql-js schema without it, so Apollo Server would refuse every `@defer` with "Unknown directive".
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import {
  DirectiveLocation,
  GraphQLBoolean,
  GraphQLDirective,
  GraphQLNonNull,
  GraphQLSchema,
  GraphQLString,
} from 'graphql';

/** graphql-js 17's GraphQLDeferDirective, which graphql 16 does not ship. */
const DEFER = new GraphQLDirective({
  name: 'defer',
  description: 'Delivers the fragment after the rest of the response (incremental delivery).',
  locations: [DirectiveLocation.FRAGMENT_SPREAD, DirectiveLocation.INLINE_FRAGMENT],
  args: {
    label: { type: GraphQLString },
    if: { type: new GraphQLNonNull(GraphQLBoolean), defaultValue: true },
  },
});

const cache = new WeakMap<GraphQLSchema, GraphQLSchema>();

export function schemaWithDefer(schema: GraphQLSchema): GraphQLSchema {
  if (schema.getDirective('defer')) return schema;
  let out = cache.get(schema);
  if (!out) {
    const config = schema.toConfig();
    out = new GraphQLSchema({ ...config, directives: [...config.directives, DEFER] });
    cache.set(schema, out);
  }
  return out;
}

/** The gateway, announcing its schema with `@defer` declared (Apollo Server takes it from these updates). */
export function withDefer(gateway: GatewayInterface): GatewayInterface {
  return {
    load: (options) => gateway.load(options),
    onSchemaLoadOrUpdate: (callback) =>
      gateway.onSchemaLoadOrUpdate((update) =>
        callback({ ...update, apiSchema: schemaWithDefer(update.apiSchema) }),
      ),
    stop: () => gateway.stop(),
  };
}
