// Every feature of the corpus; a new folder is added here (README.md).
import * as abstract from './abstract/cases.ts';
import * as abstractSg from './abstract/subgraphs.ts';
import * as keys from './keys/cases.ts';
import * as keysSg from './keys/subgraphs.ts';
import type { Feature } from './lib/types.ts';
import * as override from './override/cases.ts';
import * as overrideSg from './override/subgraphs.ts';
import * as provides from './provides/cases.ts';
import * as providesSg from './provides/subgraphs.ts';
import * as requires from './requires/cases.ts';
import * as requiresSg from './requires/subgraphs.ts';
import * as shareable from './shareable/cases.ts';
import * as shareableSg from './shareable/subgraphs.ts';

export const FEATURES: Feature[] = [
  { name: 'keys', subgraphs: keysSg.subgraphs, cases: keys.cases },
  { name: 'requires', subgraphs: requiresSg.subgraphs, cases: requires.cases },
  { name: 'provides', subgraphs: providesSg.subgraphs, cases: provides.cases },
  { name: 'override', subgraphs: overrideSg.subgraphs, cases: override.cases },
  { name: 'shareable', subgraphs: shareableSg.subgraphs, cases: shareable.cases },
  { name: 'abstract', subgraphs: abstractSg.subgraphs, cases: abstract.cases },
];
