// Every feature of the corpus; a new folder is added here (README.md).
import type { Feature } from './lib/types.ts';
import { cases as keysCases } from './keys/cases.ts';
import { subgraphs as keysSubgraphs } from './keys/subgraphs.ts';

export const FEATURES: Feature[] = [{ name: 'keys', subgraphs: keysSubgraphs, cases: keysCases }];
