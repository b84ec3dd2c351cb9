import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HttpError, readBody } from './index.ts';

function request(chunks: string[], headers: Record<string, string> = {}): IncomingMessage {
  return Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), {
    headers,
  }) as unknown as IncomingMessage;
}

describe('readBody', () => {
  it.each(['drain', 'stop'] as const)('reads the exact bytes (%s)', async (overflow) => {
    const body = await readBody(request(['{"a":', '"é"}']), { limit: 100, overflow });
    expect(body.toString('utf8')).toBe('{"a":"é"}');
  });

  it.each(['drain', 'stop'] as const)('refuses a declared length over the limit (%s)', async (overflow) => {
    const error = await readBody(request(['x'], { 'content-length': '11' }), { limit: 10, overflow }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 413, message: 'Request body is larger than 10 bytes' });
  });

  it('drains the rest of an oversized body, and stops reading it', async () => {
    const drained = request(['12345', '67890', 'abc', 'def']);
    await expect(readBody(drained, { limit: 8, overflow: 'drain' })).rejects.toMatchObject({ status: 413 });
    if (!drained.readableEnded) await new Promise((resolve) => drained.once('end', resolve));
    expect(drained.readableEnded).toBe(true);

    const stopped = request(['12345', '67890', 'abc', 'def']);
    await expect(readBody(stopped, { limit: 8, overflow: 'stop' })).rejects.toMatchObject({ status: 413 });
    expect(stopped.isPaused()).toBe(true);
    expect(stopped.readableEnded).toBe(false);
  });
});
