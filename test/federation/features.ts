// Every feature of the corpus; a new folder is added here (README.md).
import { cases as keysCases } from './keys/cases.ts';
import { subgraphs as keysSubgraphs } from './keys/subgraphs.ts';
import type { Feature } from './lib/types.ts';
import { cases as providesCases } from './provides/cases.ts';
import { subgraphs as providesSubgraphs } from './provides/subgraphs.ts';
import { cases as requiresCases } from './requires/cases.ts';
import { subgraphs as requiresSubgraphs } from './requires/subgraphs.ts';

export const FEATURES: Feature[] = [
  { name: 'keys', subgraphs: keysSubgraphs, cases: keysCases },
  { name: 'requires', subgraphs: requiresSubgraphs, cases: requiresCases },
  { name: 'provides', subgraphs: providesSubgraphs, cases: providesCases },
];
