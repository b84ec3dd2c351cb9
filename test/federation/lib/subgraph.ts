// A federation subgraph over real HTTP: buildSubgraphSchema and graphql-js behind node:http, on port 0.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';
import type { SubgraphDef } from './types.ts';

export interface RunningSubgraph {
  url: string;
  stop(): Promise<void>;
}

/** A replica URL nothing listens on (port 9, discard), for subgraphs that are down. */
export const DEAD_URL = 'http://127.0.0.1:9/graphql';

export async function startSubgraph(def: SubgraphDef): Promise<RunningSubgraph> {
  const schema = buildSubgraphSchema([{ typeDefs: parse(def.sdl), resolvers: def.resolvers }]);
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', async () => {
      let result: unknown;
      try {
        const { query, variables, operationName } = JSON.parse(body) as {
          query: string;
          variables?: Record<string, unknown>;
          operationName?: string;
        };
        result = await graphql({ schema, source: query, variableValues: variables, operationName });
      } catch (error) {
        result = { errors: [{ message: `bad request: ${(error as Error).message}` }] };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
