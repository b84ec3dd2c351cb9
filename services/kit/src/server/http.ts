import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readBody, sendJson } from '../http/index.ts';

/**
 * Reads a JSON request body: `raw` holds its exact bytes (what the gateway signed), `body` the parsed
 * value. Non-JSON bodies are not read and come back empty and `undefined`, which Apollo answers with
 * its own 400. Bodies over `limit` bytes fail with 413 as soon as they are known to be too large,
 * without buffering or draining the rest (`sendGraphQLError` then drops the socket).
 */
export async function readJsonBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ raw: Buffer; body: unknown }> {
  if (req.method !== 'POST' || !isJson(req.headers['content-type']))
    return { raw: Buffer.alloc(0), body: undefined };
  const raw = await readBody(req, { limit, overflow: 'stop' });
  const text = raw.toString('utf8');
  if (text.trim() === '') return { raw, body: undefined };
  try {
    return { raw, body: JSON.parse(text) };
  } catch (err) {
    throw new HttpError(400, 'BAD_REQUEST', `Malformed JSON body: ${(err as Error).message}`);
  }
}

/** A GraphQL-shaped error body, so clients that only read `errors[0].extensions.code` cope. */
export function sendGraphQLError(res: ServerResponse, status: number, code: string, message: string): void {
  // An unread oversized body would otherwise be drained to keep the socket alive; drop the socket.
  const headers: Record<string, string> = status === 413 ? { connection: 'close' } : {};
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}
