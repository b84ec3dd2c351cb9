/** A count of open things per key, with a cap; `acquire` refuses past it, `release` undoes one. */
export class OpenCounter {
  readonly #max: number;
  readonly #open = new Map<string, number>();

  constructor(max: number) {
    this.#max = max;
  }

  /** Counts one more under `key`; false (and nothing counted) when `key` is at the cap. */
  acquire(key: string): boolean {
    const n = this.#open.get(key) ?? 0;
    if (n >= this.#max) return false;
    this.#open.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.#open.get(key) ?? 0;
    if (n <= 1) this.#open.delete(key);
    else this.#open.set(key, n - 1);
  }

  /** Open things under `key`. */
  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }

  /** Open things in all. */
  get total(): number {
    let sum = 0;
    for (const n of this.#open.values()) sum += n;
    return sum;
  }
}
