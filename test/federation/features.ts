// Every feature of the corpus, in the order they run; a new folder is added here (README.md).
import * as abstract from './abstract/cases.ts';
import * as abstractSg from './abstract/subgraphs.ts';
import * as defer from './defer/cases.ts';
import * as deferSg from './defer/subgraphs.ts';
import * as enums from './enums-inputs/cases.ts';
import * as enumsSg from './enums-inputs/subgraphs.ts';
import * as inaccessible from './inaccessible/cases.ts';
import * as inaccessibleSg from './inaccessible/subgraphs.ts';
import * as keys from './keys/cases.ts';
import * as keysSg from './keys/subgraphs.ts';
import * as mashup from './keys-mashup/cases.ts';
import * as mashupSg from './keys-mashup/subgraphs.ts';
import type { Feature } from './lib/types.ts';
import * as mutations from './mutations/cases.ts';
import * as mutationsSg from './mutations/subgraphs.ts';
import * as nulls from './nulls/cases.ts';
import * as nullsSg from './nulls/subgraphs.ts';
import * as override from './override/cases.ts';
import * as overrideSg from './override/subgraphs.ts';
import * as provides from './provides/cases.ts';
import * as providesSg from './provides/subgraphs.ts';
import * as requires from './requires/cases.ts';
import * as requiresSg from './requires/subgraphs.ts';
import * as shareable from './shareable/cases.ts';
import * as shareableSg from './shareable/subgraphs.ts';
import * as skipInclude from './skip-include/cases.ts';
import * as skipIncludeSg from './skip-include/subgraphs.ts';
import * as typename from './typename/cases.ts';
import * as typenameSg from './typename/subgraphs.ts';

export const FEATURES: Feature[] = [
  { name: 'keys', subgraphs: keysSg.subgraphs, cases: keys.cases },
  { name: 'keys-mashup', subgraphs: mashupSg.subgraphs, cases: mashup.cases },
  { name: 'requires', subgraphs: requiresSg.subgraphs, cases: requires.cases },
  { name: 'provides', subgraphs: providesSg.subgraphs, cases: provides.cases },
  { name: 'override', subgraphs: overrideSg.subgraphs, cases: override.cases },
  { name: 'shareable', subgraphs: shareableSg.subgraphs, cases: shareable.cases },
  { name: 'abstract', subgraphs: abstractSg.subgraphs, cases: abstract.cases },
  { name: 'inaccessible', subgraphs: inaccessibleSg.subgraphs, cases: inaccessible.cases },
  { name: 'typename', subgraphs: typenameSg.subgraphs, cases: typename.cases },
  { name: 'enums-inputs', subgraphs: enumsSg.subgraphs, cases: enums.cases },
  { name: 'nulls', subgraphs: nullsSg.subgraphs, cases: nulls.cases },
  { name: 'mutations', subgraphs: mutationsSg.subgraphs, cases: mutations.cases },
  { name: 'skip-include', subgraphs: skipIncludeSg.subgraphs, cases: skipInclude.cases },
  { name: 'defer', subgraphs: deferSg.subgraphs, cases: defer.cases },
];
