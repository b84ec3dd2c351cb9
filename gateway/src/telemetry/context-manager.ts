// The gateway's OpenTelemetry context manager: the active context is what the innermost `context.with`
// on the current synchronous call stack set, and nothing crosses an `await`. The SDK's default,
// AsyncLocalStorageContextManager, carries the context through every promise, which on Node 20 means a
// promise hook on every promise of every request: about 0.1 ms of CPU per request on the one-subgraph
// query, a third of what the whole request costs (issue 10). The gateway does not need it: it passes its
// trace contexts explicitly (the request record in spans.ts, `traceContext` of pool sends), and what does
// read the active context (span start, log lines, Redis command spans) does so synchronously inside the
// `context.with` of its stage.
import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api';

export class SyncContextManager implements ContextManager {
  #active: Context = ROOT_CONTEXT;

  active(): Context {
    return this.#active;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.#active;
    this.#active = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#active = previous;
    }
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return function bound(this: unknown, ...args: unknown[]) {
      return manager.with(context, () => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.#active = ROOT_CONTEXT;
    return this;
  }
}
