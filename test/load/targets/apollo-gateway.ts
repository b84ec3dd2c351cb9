// Target C, the reference: plain @apollo/gateway + @apollo/server `startStandaloneServer`, all defaults,
// on the same supergraph file as Tollgate. Nothing here is tuned on purpose: it is what a team gets
// from Apollo's getting-started guide. Prints one JSON ready line: {"ready":true,"url":…}.
// Usage: node --import tsx test/load/targets/apollo-gateway.ts --supergraph <file> [--port <n>]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { type DirectiveNode, Kind, parse, print, visit } from 'graphql';
import { stopWithParent } from '../lib/child.ts';

// This file runs under tsx, which turns on source-mapped stack traces; plain `node gateway.mjs` (the way
// Apollo Gateway is deployed, and how docs/design.md#performance measured it) has them off. Its default fetcher builds an
// Error stack on every subgraph request, so leaving them on would overstate Apollo's CPU per request.
process.setSourceMapsEnabled(false);

const { values } = parseArgs({
  options: { supergraph: { type: 'string' }, port: { type: 'string', default: '0' } },
});
if (!values.supergraph) {
  console.error('apollo-gateway: --supergraph <file> is required');
  process.exit(2);
}

const SECURITY_SPECS = /\/\/specs\.apollo\.dev\/(authenticated|requiresScopes|policy)\//;
const linkUrl = (node: DirectiveNode): string => {
  const arg = node.arguments?.find((a) => a.name.value === 'url')?.value;
  return arg?.kind === Kind.STRING ? arg.value : '';
};

/**
 * @apollo/gateway refuses a supergraph whose @authenticated/@requiresScopes/@policy links say
 * `for: SECURITY` (only Apollo Router enforces them). Dropping that argument is what a team on plain
 * Apollo Gateway has to do to load such a supergraph; the directives are then ignored, so this target
 * does no authorization work at all.
 */
function loadableByApolloGateway(supergraphSdl: string): string {
  if (!SECURITY_SPECS.test(supergraphSdl)) return supergraphSdl;
  return print(
    visit(parse(supergraphSdl), {
      Directive(node) {
        if (node.name.value !== 'link' || !SECURITY_SPECS.test(linkUrl(node))) return undefined;
        return { ...node, arguments: node.arguments?.filter((a) => a.name.value !== 'for') };
      },
    }),
  );
}

const gateway = new ApolloGateway({
  supergraphSdl: loadableByApolloGateway(readFileSync(values.supergraph, 'utf8')),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(values.port), host: '127.0.0.1' },
});
stopWithParent(() => server.stop());
process.stdout.write(`${JSON.stringify({ ready: true, url })}\n`);
