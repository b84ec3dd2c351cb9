// CORS for browser apps on other origins (docs/cors.md): the pure decision (cors.ts) and its adapter around
// the gateway's request and upgrade handlers (cors-handler.ts). The config schema checks origins with
// `originProblem`, so this folder imports nothing of the gateway's.
export { CorsConfigError, type CorsOptions, originProblem } from './cors.ts';
export { guardUpgrade, withCors } from './cors-handler.ts';
