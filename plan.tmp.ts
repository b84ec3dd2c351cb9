import { composeSupergraph, gatewaySafeSdl } from './gateway/src/supergraph/index.ts';
import { loadHivePlanner } from './gateway/src/planner/index.ts';
const mod = await import(`./test/federation/${process.argv[2]}/subgraphs.ts`);
const subs = Object.values(mod).find(Array.isArray) as { name: string; sdl: string }[];
const sdl = gatewaySafeSdl(composeSupergraph(subs.map((s) => ({ name: s.name, url: `http://${s.name}`, sdl: s.sdl }))));
const H = (await loadHivePlanner(console.warn))!;
const p = new H(sdl);
console.log(JSON.stringify(p.plan(process.argv[3]!, null, new Set(), 0), null, 1));
