import { lookup } from 'node:dns/promises';

/** Resolves a host name to its addresses (A and AAAA). Injectable so tests need no DNS server. */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

/** `dns.lookup` with `all: true`: what the OS resolver (and /etc/hosts, and a Kubernetes headless Service) gives. */
export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true })).map((a) => a.address);

/** A `dns://name:port/path` replica entry: every address `name` resolves to is one replica. */
export interface DnsEntry {
  entry: string;
  hostname: string;
  port: string;
  path: string;
}

export function isDnsEntry(url: string): boolean {
  return /^dns:\/\//i.test(url);
}

/** Parses `dns://name:port/path` (path defaults to /graphql); throws TypeError on anything else. */
export function parseDnsEntry(url: string): DnsEntry {
  if (!isDnsEntry(url)) throw new TypeError(`not a dns:// replica entry: ${url}`);
  const parsed = new URL(url);
  if (!parsed.hostname) throw new TypeError(`dns:// replica entry without a host name: ${url}`);
  const path =
    parsed.pathname && parsed.pathname !== '/'
      ? `${parsed.pathname}${parsed.search}`
      : `/graphql${parsed.search}`;
  return { entry: url, hostname: parsed.hostname, port: parsed.port, path };
}

/** The replica URL for one resolved address (plain HTTP: the address is an IP, there is no name to verify). */
export function replicaUrl(entry: DnsEntry, address: string): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}${entry.port ? `:${entry.port}` : ''}${entry.path}`;
}

export interface DiscoveryChange {
  /** New replica URLs, each with the entry it came from. */
  added: { url: string; entry: string }[];
  removed: string[];
  /** Entries that failed to resolve this round; they keep their previous replicas. */
  errors: { entry: string; error: unknown }[];
}

/**
 * Keeps the replica set of `dns://` entries in step with DNS (the Kubernetes headless-Service case).
 * A name that fails to resolve, or resolves to nothing, keeps its last known replicas: a DNS blip must
 * not empty a pool of replicas that are still serving.
 */
export class DnsDiscovery {
  readonly #entries = new Map<string, DnsEntry>();
  readonly #resolver: Resolver;
  readonly #known = new Map<string, ReadonlySet<string>>();

  constructor(entries: readonly DnsEntry[], resolver: Resolver = systemResolver) {
    for (const e of entries) this.#entries.set(e.entry, e);
    this.#resolver = resolver;
  }

  /** The `dns://` entries followed. */
  get entries(): string[] {
    return [...this.#entries.keys()];
  }

  /** Follows one more entry from the next `refresh` on. */
  add(entry: DnsEntry): void {
    this.#entries.set(entry.entry, entry);
  }

  /** Stops following an entry; returns the replica URLs no other entry provides (to be removed). */
  remove(entry: string): string[] {
    const urls = this.#known.get(entry) ?? new Set<string>();
    this.#entries.delete(entry);
    this.#known.delete(entry);
    const still = new Set(this.urls());
    return [...urls].filter((u) => !still.has(u));
  }

  /** Replica URLs currently known, over all entries. */
  urls(): string[] {
    return [...new Set([...this.#known.values()].flatMap((s) => [...s]))];
  }

  async refresh(): Promise<DiscoveryChange> {
    const errors: DiscoveryChange['errors'] = [];
    const answers = await Promise.all(
      [...this.#entries.values()].map(async (entry) => {
        try {
          const addresses = await this.#resolver(entry.hostname);
          if (addresses.length) return { entry, urls: new Set(addresses.map((a) => replicaUrl(entry, a))) };
          errors.push({ entry: entry.entry, error: new Error(`${entry.hostname} resolved to no address`) });
        } catch (error) {
          errors.push({ entry: entry.entry, error });
        }
        return undefined;
      }),
    );
    // applied after every lookup settled, so an entry removed meanwhile is not brought back
    const before = new Set(this.urls());
    for (const a of answers)
      if (a && this.#entries.has(a.entry.entry)) this.#known.set(a.entry.entry, a.urls);
    const added: DiscoveryChange['added'] = [];
    for (const [entry, urls] of this.#known) {
      for (const url of urls)
        if (!before.has(url) && !added.some((a) => a.url === url)) added.push({ url, entry });
    }
    const after = new Set(this.urls());
    const removed = [...before].filter((u) => !after.has(u));
    return { added, removed, errors };
  }
}
