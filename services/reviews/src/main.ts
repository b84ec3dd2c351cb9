import { runSubgraph } from '@tollgate/kit';
import * as reviews from './server.ts';

await runSubgraph(reviews);
