// One POST to a replica and its whole body as text, through undici's dispatcher API directly. The
// `request()` API wraps every response in a Readable stream, a promise chain and an AbortSignal per call;
// a subgraph answer is one small JSON body read in full, so a handler that collects the chunks does the
// same work with a fraction of the objects (issue 10: the subgraph client is the largest CPU cost left).
import type { Dispatcher } from 'undici';

export interface PostResult {
  statusCode: number;
  /** The content-type header ('' when absent). */
  contentType: string;
  body: string;
}

export interface PostOptions {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The attempt fails with `timeoutError()` after this many milliseconds… */
  timeoutMs: number;
  /**
   * …unless this, asked when that time is up, gives more (ms): the wait goes on that long and the
   * question is asked again. 0 ends it.
   */
  extendMs?: (() => number) | undefined;
  timeoutError: () => Error;
  /** Aborts the attempt with the signal's reason (the incoming request went away). */
  signal?: AbortSignal | undefined;
}

const CONTENT_TYPE = 'content-type';

/** undici's legacy dispatch handler (what its clients call internally, so nothing wraps it). */
class CollectHandler {
  readonly #resolve: (r: PostResult) => void;
  readonly #reject: (e: unknown) => void;
  readonly #signal: AbortSignal | undefined;
  #abort: ((reason?: Error) => void) | undefined;
  /** Set when the attempt was abandoned before undici handed us its abort function. */
  #pending: Error | undefined;
  #timer: NodeJS.Timeout;
  #done = false;
  #statusCode = 0;
  #contentType = '';
  #chunks: Buffer[] = [];
  #length = 0;
  readonly #onSignal: (() => void) | undefined;

  constructor(options: PostOptions, resolve: (r: PostResult) => void, reject: (e: unknown) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
    const arm = (ms: number): NodeJS.Timeout =>
      setTimeout(
        () => {
          const more = options.extendMs?.() ?? 0;
          if (more > 0 && !this.#done) this.#timer = arm(more);
          else this.#cancel(options.timeoutError());
        },
        Math.max(1, ms),
      );
    this.#timer = arm(options.timeoutMs);
    this.#signal = options.signal;
    if (options.signal) {
      this.#onSignal = () => this.#cancel(options.signal?.reason as Error);
      options.signal.addEventListener('abort', this.#onSignal, { once: true });
    }
  }

  #cancel(reason: Error): void {
    if (this.#done) return;
    if (this.#abort) {
      this.#abort(reason); // undici calls onError(reason)
      return;
    }
    // Still queued for a connection: settle now; undici aborts it when it gets one (onConnect).
    this.#pending = reason;
    this.onError(reason);
  }

  #finish(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    if (this.#onSignal) this.#signal?.removeEventListener('abort', this.#onSignal);
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.#pending) {
      abort(this.#pending);
      return;
    }
    this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.#statusCode = statusCode;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length === CONTENT_TYPE.length && name.toString('latin1').toLowerCase() === CONTENT_TYPE) {
        this.#contentType = rawHeaders[i + 1]!.toString('latin1');
        break;
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    return true;
  }

  onComplete(): void {
    if (this.#done) return;
    this.#finish();
    const chunks = this.#chunks;
    const body =
      chunks.length === 1
        ? chunks[0]!.toString('utf8')
        : chunks.length === 0
          ? ''
          : Buffer.concat(chunks, this.#length).toString('utf8');
    this.#resolve({ statusCode: this.#statusCode, contentType: this.#contentType, body });
  }

  onError(error: Error): void {
    if (this.#done) return;
    this.#finish();
    this.#reject(error);
  }
}

/** POSTs `body` and resolves with the status, content type and full text of the answer. */
export function post(dispatcher: Dispatcher, options: PostOptions): Promise<PostResult> {
  return new Promise<PostResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const handler = new CollectHandler(options, resolve, reject);
    try {
      dispatcher.dispatch(
        { path: options.path, method: 'POST', headers: options.headers, body: options.body },
        handler as unknown as Dispatcher.DispatchHandler,
      );
    } catch (error) {
      handler.onError(error as Error);
    }
  });
}
