// Where a plan node works: the objects at a Flatten path (fields, `'@'` list elements, type conditions)
// and, only when an error needs them, those objects' paths in the response.
import { EACH, type PathStep, type TypeCondition } from '../planner/index.ts';

type ResultMap = Record<string, unknown>;
type Path = (string | number)[];

const hasOwn = Object.prototype.hasOwnProperty;

function getOwn(obj: object, key: string | number): unknown {
  return hasOwn.call(obj, key) ? (obj as Record<string | number, unknown>)[key] : undefined;
}

/** The objects a node works on, and how to find their paths in the response when an error needs one. */
export interface Cursor {
  readonly objects: readonly ResultMap[];
  /** Each object's path in the response (computed only when an error needs it). */
  paths(): readonly Path[];
}

/** Whether an object passes a type condition; `untyped` answers for an object without `__typename`. */
export function matches(obj: ResultMap, condition: TypeCondition, untyped: boolean): boolean {
  const typename = obj.__typename;
  return typeof typename === 'string' ? condition.types.has(typename) : untyped;
}

/**
 * The objects at `steps` below `value`, in response order: a field step goes into that field (of every
 * element, when the value is a list), `'@'` into every element, a type condition keeps matching objects.
 * Nulls and non-objects are left out. With `paths`, each object's path (`current` is `value`'s) is kept.
 */
function collect(
  value: unknown,
  steps: readonly PathStep[],
  from: number,
  out: ResultMap[],
  paths: Path[] | undefined,
  current: Path,
): void {
  if (value === null || value === undefined || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const spread = from === steps.length || steps[from] !== EACH ? from : from + 1;
    for (let i = 0; i < value.length; i++) {
      current.push(i);
      collect(value[i], steps, spread, out, paths, current);
      current.pop();
    }
    return;
  }
  if (from === steps.length) {
    out.push(value as ResultMap);
    paths?.push(current.slice());
    return;
  }
  const step = steps[from]!;
  if (step === EACH) {
    collect(value, steps, from + 1, out, paths, current); // not a list: as is
    return;
  }
  if (typeof step === 'string') {
    current.push(step);
    collect(getOwn(value, step), steps, from + 1, out, paths, current);
    current.pop();
    return;
  }
  if (matches(value as ResultMap, step, false)) collect(value, steps, from + 1, out, paths, current);
}

export function moveInto(cursor: Cursor, steps: readonly PathStep[]): Cursor {
  const objects: ResultMap[] = [];
  for (const o of cursor.objects) collect(o, steps, 0, objects, undefined, []);
  let paths: Path[] | undefined;
  return {
    objects,
    paths() {
      if (!paths) {
        paths = [];
        const again: ResultMap[] = [];
        const parents = cursor.paths();
        cursor.objects.forEach((o, i) => {
          collect(o, steps, 0, again, paths, parents[i]!.slice());
        });
      }
      return paths;
    },
  };
}

export function rootCursor(data: ResultMap): Cursor {
  const paths: Path[] = [[]];
  return { objects: [data], paths: () => paths };
}

/** The objects of `cursor` at `indexes`, with their paths. */
export function subCursor(cursor: Cursor, indexes: readonly number[]): Cursor {
  const objects = indexes.map((i) => cursor.objects[i]!);
  return {
    objects,
    paths() {
      const all = cursor.paths();
      return indexes.map((i) => all[i]!);
    },
  };
}
