import { runSubgraph } from '@tollgate/kit';
import * as products from './server.ts';

await runSubgraph(products);
