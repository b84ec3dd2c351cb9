// @defer over a plain JSON request: the gateway answers once, with the whole result.
export { subgraphs } from '../skip-include/subgraphs.ts';
