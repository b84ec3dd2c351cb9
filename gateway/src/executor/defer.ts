// @defer: each deferred fragment of the operation shaped on its own, once the data it needs has arrived.
// The initial part is the operation shaped without its active deferred fragments (shape.ts, `deferring`);
// each deferred part is the fragment's selections applied to every object it reaches, at that object's
// path, in the incremental delivery format (`incremental: [{ data, path, label }]`). Parts are delivered
// outer before inner: a fragment inside another deferred fragment waits for the enclosing one.
import type { CompositeType } from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';
import type { IncrementalItem } from '../incremental/index.ts';
import { applySelectionSet, deferActive, fragmentApplies, outputObject, type Run } from './shape.ts';
import type { DeferFragment } from './shape-compile.ts';

type Data = Record<string, unknown>;
type Path = (string | number)[];

function isObject(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The parts of one deferred fragment: one item per object the fragment applies to. `raw` is the unshaped
 * data fetched so far; `delivered` is what the client holds (the initial part plus the parts sent), which
 * decides where the fragment's objects still exist (an object nulled by propagation gets no part).
 */
export function shapeDeferred(
  run: Run,
  root: CompositeType,
  defer: DeferFragment,
  raw: Data,
  delivered: Data,
): IncrementalItem[] {
  const items: IncrementalItem[] = [];
  const walk = (step: number, input: unknown, output: unknown, parentType: CompositeType, path: Path) => {
    if (!isObject(input) && !Array.isArray(input)) return;
    if (output === null || output === undefined) return;
    if (Array.isArray(input)) {
      if (!Array.isArray(output)) return;
      for (let i = 0; i < input.length; i++) {
        path.push(i);
        walk(step, input[i], output[i], parentType, path);
        path.pop();
      }
      return;
    }
    const typename = typeof input.__typename === 'string' ? input.__typename : undefined;
    if (step === defer.chain.length) {
      const fragment = defer.fragment;
      if (!fragmentApplies(run, fragment, typename, parentType)) return;
      const errorsBefore = run.errors.length;
      const data = outputObject(run) as Data;
      const bubble = applySelectionSet(
        run,
        input,
        fragment.selections,
        data,
        path,
        fragment.typeCondition ?? parentType,
      );
      const errors = run.errors.splice(errorsBefore);
      items.push({
        data: bubble ? null : data,
        path: path.slice(),
        ...(defer.label === undefined ? {} : { label: defer.label }),
        ...(errors.length ? { errors } : {}),
      });
      return;
    }
    const s = defer.chain[step]!;
    if (s.kind === 'field') {
      path.push(s.responseName);
      walk(step + 1, input[s.responseName], (output as Data)[s.responseName], s.type, path);
      path.pop();
    } else if (fragmentApplies(run, s.fragment, typename, parentType)) {
      walk(step + 1, input, output, s.fragment.typeCondition ?? parentType, path);
    }
  };
  walk(0, raw, delivered, root, []);
  return items;
}

/** The active deferred fragments of a request, and which have been delivered. */
export class DeferTracker {
  private readonly pending: DeferFragment[];
  private readonly delivered = new Set<number>();

  constructor(run: Run, defers: readonly DeferFragment[]) {
    this.pending = [];
    for (const d of defers) {
      if (deferActive(run, d)) this.pending.push(d);
      else this.delivered.add(d.index); // inactive: shaped in place, so its children may go any time
    }
  }

  get active(): boolean {
    return this.pending.length > 0;
  }

  /** Fragments ready to send: `label` matches (any, when undefined) and the enclosing ones are out. */
  take(label: string | undefined, all: boolean): DeferFragment[] {
    const out: DeferFragment[] = [];
    for (let i = 0; i < this.pending.length; ) {
      const d = this.pending[i]!;
      const ready =
        (all || (label !== undefined && d.label === label)) &&
        d.ancestors.every((a) => this.delivered.has(a));
      if (ready) {
        out.push(d);
        this.delivered.add(d.index);
        this.pending.splice(i, 1);
      } else i++;
    }
    return out;
  }
}

/** Puts each error on the part whose path contains it (else the first part). */
export function attachErrors(items: IncrementalItem[], errors: readonly GraphQLError[]): void {
  if (!errors.length || !items.length) return;
  for (const error of errors) {
    const path = error.path ?? [];
    let best = items[0]!;
    let bestLength = -1;
    for (const item of items) {
      if (item.path.length > path.length || item.path.length <= bestLength) continue;
      if (item.path.every((p, i) => p === path[i])) {
        best = item;
        bestLength = item.path.length;
      }
    }
    (best as { errors?: GraphQLError[] }).errors = [...(best.errors ?? []), error];
  }
}
