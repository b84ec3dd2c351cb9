// Who the client is behind proxies: `Forwarded` / `X-Forwarded-For` read only through trusted hops
// (`server.trustedProxies`). Pure: no HTTP server here, only a request's socket address and headers.
export { canonicalIp, networkProblem } from './ip.ts';
export {
  type ClientAddressHeader,
  type ClientAddressOf,
  type ClientAddressOptions,
  type ClientRequestLike,
  createClientAddressResolver,
  resolveClientAddress,
} from './resolve.ts';
