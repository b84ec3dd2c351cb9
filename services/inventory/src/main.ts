import { runSubgraph } from '@tollgate/kit';
import * as inventory from './server.ts';

await runSubgraph(inventory);
