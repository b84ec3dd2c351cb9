import { runSubgraph } from '@tollgate/kit';
import * as accounts from './server.ts';

await runSubgraph(accounts);
