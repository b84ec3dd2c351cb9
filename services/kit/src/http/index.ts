// HTTP plumbing the gateway and the subgraphs share (also `@tollgate/kit/http`): reading a request body
// under a size limit, and answering with JSON.
export { HttpError } from './http-error.ts';
export { type ReadBodyOptions, readBody } from './read-body.ts';
export { sendJson } from './send-json.ts';
