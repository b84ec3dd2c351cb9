import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP failure decided before GraphQL runs (too large, malformed). */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

/**
 * Reads a JSON request body: `raw` holds its exact bytes (what the gateway signed), `body` the parsed
 * value. Non-JSON bodies are not read and come back empty and `undefined`, which Apollo answers with
 * its own 400. Bodies over `limit` bytes fail with 413 as soon as they are known to be too large,
 * without buffering the rest.
 */
export async function readJsonBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ raw: Buffer; body: unknown }> {
  if (req.method !== 'POST' || !isJson(req.headers['content-type']))
    return { raw: Buffer.alloc(0), body: undefined };
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(limit);
  const raw = await readRaw(req, limit);
  const text = raw.toString('utf8');
  if (text.trim() === '') return { raw, body: undefined };
  try {
    return { raw, body: JSON.parse(text) };
  } catch (err) {
    throw new HttpError(400, 'BAD_REQUEST', `Malformed JSON body: ${(err as Error).message}`);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** A GraphQL-shaped error body, so clients that only read `errors[0].extensions.code` cope. */
export function sendGraphQLError(res: ServerResponse, status: number, code: string, message: string): void {
  // An unread oversized body would otherwise be drained to keep the socket alive; drop the socket.
  const headers: Record<string, string> = status === 413 ? { connection: 'close' } : {};
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

// Listeners rather than `for await`: leaving an async iterator early destroys the request and
// with it the socket, and then the client never sees the 413.
function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
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

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'BAD_REQUEST', `Request body is larger than ${limit} bytes`);
}
