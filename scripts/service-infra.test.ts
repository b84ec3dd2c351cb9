import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InfraLayoutError, registerInfra } from './service-infra.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('registerInfra', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });
  const copy = () => {
    root = mkdtempSync(join(tmpdir(), 'tollgate-service-infra-'));
    cpSync(join(ROOT, 'infra'), join(root, 'infra'), { recursive: true });
    mkdirSync(join(root, 'services', 'gift-cards'), { recursive: true });
    writeFileSync(
      join(root, 'services', 'gift-cards', 'package.json'),
      JSON.stringify({
        name: '@tollgate/service-gift-cards',
        version: '0.1.0',
        dependencies: { '@tollgate/kit': '*' },
      }),
    );
    cpSync(join(ROOT, 'package-lock.json'), join(root, 'package-lock.json'));
    return root;
  };

  it('adds Compose, gateway config, Kubernetes and lock entries that parse and name the service', () => {
    const dir = copy();
    const files = registerInfra(dir, 'gift-cards');
    expect(files).toContain('infra/k8s/base/subgraphs/gift-cards.yaml');
    const compose = parse(readFileSync(join(dir, 'infra/docker-compose.yml'), 'utf8'), { merge: true });
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['gift-cards-migrate', 'gift-cards-1', 'gift-cards-2']),
    );
    expect(compose.services['gift-cards-2'].build.args.SERVICE).toBe('gift-cards');
    expect(Object.keys(compose.services['gateway-1'].depends_on)).toContain('gift-cards-2');
    for (const config of ['infra/compose/gateway.config.yaml', 'infra/k8s/base/gateway.config.yaml']) {
      const names = parse(readFileSync(join(dir, config), 'utf8')).subgraphs.map(
        (s: { name: string }) => s.name,
      );
      expect(names, config).toContain('gift-cards');
    }
    expect(parse(readFileSync(join(dir, 'infra/k8s/base/kustomization.yaml'), 'utf8')).resources).toContain(
      'subgraphs/gift-cards.yaml',
    );
    const manifest = readFileSync(join(dir, 'infra/k8s/base/subgraphs/gift-cards.yaml'), 'utf8');
    expect(manifest).not.toMatch(/\bproducts\b(?!\.yaml)/);
    expect(manifest).toContain('name: gift-cards-migrate');
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
    expect(lock.packages['services/gift-cards']).toEqual({
      name: '@tollgate/service-gift-cards',
      version: '0.1.0',
      dependencies: { '@tollgate/kit': '*' },
    });
    expect(lock.packages['node_modules/@tollgate/service-gift-cards']).toEqual({
      resolved: 'services/gift-cards',
      link: true,
    });
  });

  it('writes nothing when a file is not laid out as expected', () => {
    const dir = copy();
    const compose = join(dir, 'infra/docker-compose.yml');
    writeFileSync(compose, 'services: {}\n');
    const before = readFileSync(join(dir, 'infra/k8s/base/kustomization.yaml'), 'utf8');
    expect(() => registerInfra(dir, 'gift-cards')).toThrow(InfraLayoutError);
    expect(readFileSync(join(dir, 'infra/k8s/base/kustomization.yaml'), 'utf8')).toBe(before);
    expect(readFileSync(compose, 'utf8')).toBe('services: {}\n');
  });
});
