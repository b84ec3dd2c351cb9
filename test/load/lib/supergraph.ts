// The one supergraph every target serves: composed here, once per run, from the SDL files of
// services/*/schema.graphql (so the benchmark subgraphs and the real ones can never drift apart) and
// the URLs of whichever subgraphs this profile runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

export function composeBenchSupergraph(root: string, urls: Readonly<Record<string, string>>): string {
  const services = Object.entries(urls).map(([name, url]) => ({
    name,
    url,
    typeDefs: parse(readFileSync(join(root, 'services', name, 'schema.graphql'), 'utf8')),
  }));
  const result = composeServices(services);
  if (result.errors)
    throw new Error(`composition failed:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}
