import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.ts';

export interface ReadBodyOptions {
  /** The largest body accepted, in bytes; a larger one fails with a 413 `HttpError`. */
  limit: number;
  /**
   * What becomes of the rest of a body once it is known to be too large. Nothing of it is kept either way.
   *
   * - `'drain'`: keep reading and drop it. The gateway, which faces any client, does this: most clients
   *   send their whole body before they read the answer, and a server that stops reading (or destroys the
   *   socket) has the connection reset before the client reads the 413, so the client never learns why.
   * - `'stop'`: pause the request. The subgraphs, which serve only the gateway, do this and answer the 413
   *   with `connection: close`, so an oversized body is neither buffered nor drained: the socket is dropped.
   */
  overflow: 'drain' | 'stop';
}

/**
 * Reads a request body to its exact bytes. A declared `content-length` over `limit` fails at once,
 * before anything is read; a body that grows past it fails as soon as it does, without buffering the rest.
 * A client that hangs up mid-body fails it with 400 "Request body was cut short".
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { limit, overflow } = options;
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  // Listeners rather than `for await`: leaving an async iterator early destroys the request and
  // with it the socket, and then the client never sees the 413.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      // Already over the limit ('drain'): keep reading, keep nothing.
      if (size > limit) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        if (overflow === 'stop') {
          cleanup();
          req.pause();
        }
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    // A client that hangs up mid-body gets no answer, but the promise must still settle.
    const onClose = () => onError(new HttpError(400, 'BAD_REQUEST', 'Request body was cut short'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'BAD_REQUEST', `Request body is larger than ${limit} bytes`);
}
