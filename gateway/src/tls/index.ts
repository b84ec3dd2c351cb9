// TLS material: the certificate files of `server.tls` and `subgraphs[].tls`, read and checked, and the
// reloader that puts a rotated certificate in service without a restart.
export {
  checkTlsMaterial,
  readTlsMaterial,
  type TlsFiles,
  type TlsMaterial,
  type TlsProblem,
} from './material.ts';
export {
  type SubgraphTlsOptions,
  serverSecureContext,
  serverTlsOptions,
  subgraphTlsOptions,
} from './options.ts';
export {
  createTlsReloader,
  type TlsCheckOutcome,
  type TlsReloader,
  type TlsReloaderOptions,
} from './reloader.ts';
