import { execFileSync } from 'node:child_process';
import { which } from '../../chaos/lib/processes.ts';

/**
 * Hosts of the cluster scenarios: one network namespace per gateway, each joined to a bridge in the root
 * namespace by a veth pair, all on one private /24 that nothing else on the machine routes. The root
 * namespace holds the bridge's address (HAProxy's source address, the subgraph replicas, the Redis
 * relay); each namespace holds only its own veth address and its loopback.
 */
export const NET = {
  prefix: 'tgc',
  bridge: 'tgc-br0',
  subnet: '10.231.7.0/24',
  /** The root namespace's address on the bridge. */
  host: '10.231.7.1',
} as const;

export interface Host {
  /** Namespace name, e.g. `tgc-gw1`. */
  netns: string;
  /** Its veth address on the bridge. */
  address: string;
}

/** Why the cluster scenarios cannot run here, or undefined when they can. */
export function clusterUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!which('ip')) return '`ip` (iproute2) is not on PATH';
  // root without CAP_NET_ADMIN (some containers) lists namespaces but cannot make one: try it
  const probe = `${NET.prefix}-probe`;
  try {
    tryIp('netns', 'del', probe);
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
  } catch (error) {
    return `\`ip netns add\` does not work here: ${firstLine(error)}`;
  }
  if (!which('haproxy')) return 'haproxy is not on PATH (apt-get install -y haproxy)';
  return undefined;
}

const ip = (...args: string[]) =>
  execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

const hostName = (i: number) => `${NET.prefix}-gw${i + 1}`;

/**
 * Removes what an earlier run with these names left behind: processes still inside the namespaces
 * (SIGKILL, by the pids `ip netns pids` lists), the namespaces, their veths and the bridge.
 */
export function removeNetwork(count: number): void {
  const existing = new Set(
    ip('netns', 'list')
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter(Boolean),
  );
  for (let i = 0; i < count; i++) {
    const name = hostName(i);
    if (existing.has(name)) {
      for (const pid of ip('netns', 'pids', name).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
      ip('netns', 'del', name);
    }
    // the root end of the pair; deleting it deletes its peer too
    tryIp('link', 'del', `${name}-h`);
  }
  tryIp('link', 'del', NET.bridge);
}

/** Creates the bridge and `count` namespaces on it (after removing leftovers of an earlier run). */
export function createNetwork(count: number): Host[] {
  removeNetwork(count);
  const base = NET.host.split('.').slice(0, 3).join('.');
  ip('link', 'add', NET.bridge, 'type', 'bridge');
  ip('addr', 'add', `${NET.host}/24`, 'dev', NET.bridge);
  ip('link', 'set', NET.bridge, 'up');
  const hosts: Host[] = [];
  for (let i = 0; i < count; i++) {
    const netns = hostName(i);
    const address = `${base}.${11 + i}`;
    ip('netns', 'add', netns);
    ip('link', 'add', `${netns}-h`, 'type', 'veth', 'peer', 'name', `${netns}-n`);
    ip('link', 'set', `${netns}-n`, 'netns', netns);
    ip('link', 'set', `${netns}-h`, 'master', NET.bridge);
    ip('link', 'set', `${netns}-h`, 'up');
    ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', `${netns}-n`);
    ip('-n', netns, 'link', 'set', `${netns}-n`, 'up');
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    hosts.push({ netns, address });
  }
  return hosts;
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // not there
  }
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: Buffer | string }).stderr;
  const text = stderr ? stderr.toString() : error instanceof Error ? error.message : String(error);
  return text.trim().split('\n')[0] ?? '';
}
