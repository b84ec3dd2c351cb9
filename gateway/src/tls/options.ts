import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { GatewayConfig } from '../config/index.ts';
import { readTlsMaterial, type TlsMaterial } from './material.ts';

type ServerTls = NonNullable<GatewayConfig['server']['tls']>;
type SubgraphTls = NonNullable<GatewayConfig['subgraphs'][number]['tls']>;

/** The secure context of the HTTPS listener: what `setSecureContext` takes again on each rotation. */
export function serverSecureContext(tls: ServerTls, material: TlsMaterial): SecureContextOptions {
  return {
    cert: material.cert,
    key: material.key,
    ...(material.ca && { ca: material.ca }),
    minVersion: tls.minVersion,
  };
}

/**
 * The options of `https.createServer`. With a caFile, client certificates are required and must chain
 * to it (mutual TLS at the edge); without one, none is asked for. ALPN offers only `http/1.1`: the
 * gateway does not speak HTTP/2 (docs/tls.md says why), and a client offering `h2` falls back to it.
 */
export function serverTlsOptions(tls: ServerTls, material: TlsMaterial): TlsOptions {
  return {
    ...serverSecureContext(tls, material),
    requestCert: Boolean(material.ca),
    rejectUnauthorized: Boolean(material.ca),
    ALPNProtocols: ['http/1.1'],
  };
}

/** What the replica pool's connections to one subgraph present and trust (undici's `connect` options). */
export interface SubgraphTlsOptions {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
}

/**
 * Reads `subgraphs[].tls` of one subgraph (`at` names it in errors, as `subgraphs.products.tls`); a
 * file that cannot be used is a ConfigError naming its key. Undefined without a tls section.
 */
export function subgraphTlsOptions(tls: SubgraphTls | undefined, at: string): SubgraphTlsOptions | undefined {
  if (!tls) return undefined;
  const material = readTlsMaterial(tls, at);
  return {
    ...(material.cert && { cert: material.cert }),
    ...(material.key && { key: material.key }),
    ...(material.ca && { ca: material.ca }),
  };
}
