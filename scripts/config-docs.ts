// `npm run docs:config`: writes docs/config.md from the config schema's descriptions.
import { writeFileSync } from 'node:fs';
import { configReference } from '../gateway/src/config/docs.ts';

writeFileSync(new URL('../docs/config.md', import.meta.url), configReference());
console.log('wrote docs/config.md');
