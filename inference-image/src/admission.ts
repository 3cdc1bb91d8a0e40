import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { HttpError } from './errors';

/**
 * Memory one body byte costs at the peak of its request: the received chunks, their joined copy, the decoded string
 * and the parsed JSON (a number of 2-6 characters becomes an 8-byte slot, or a 16-byte heap number plus its slot, and
 * V8 holds a temporary list of them while parsing). Measured with `npm run bench:memory`: about 8.
 */
export const BODY_MEMORY_FACTOR = 8;

/**
 * Memory that request bodies may hold at once (being received, parsed or served), counted as BODY_MEMORY_FACTOR x
 * their bytes. A body takes its share at its first chunk (for its declared Content-Length, or chunk by chunk when it
 * has none) and gives it back when its response is done, so memory stays bounded whatever the concurrency.
 */
export class BodyBudget {
  private used = 0;
  /** Highest `inUse` so far; the benchmark and tests read it. */
  peak = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes` if they fit; false (and nothing taken) otherwise. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

export const budgetExhausted = (limit: number) =>
  new HttpError(503, `server is receiving too much request data at once (BODY_BUDGET_BYTES ${limit}); retry later`, {
    'retry-after': '1',
  });

/**
 * The body stream a request is parsed from: it passes chunks through and takes budget as they come. Whatever it
 * took is given back once, by `release` (call it when the response is over).
 */
export function budgetedBody(raw: IncomingMessage, budget: BodyBudget, onRefused: () => void) {
  const declared = Number(raw.headers['content-length']);
  let held = 0;
  let seen = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      seen += chunk.length;
      // At the first chunk the whole declared length, so a body that cannot fit is refused before it is read;
      // a chunked body (no length) takes its bytes as they come.
      const want = BODY_MEMORY_FACTOR * Math.max(Number.isFinite(declared) ? declared : 0, seen) - held;
      if (want > 0) {
        if (!budget.tryTake(want)) {
          onRefused();
          done(budgetExhausted(budget.limit));
          return;
        }
        held += want;
      }
      done(null, chunk);
    },
  });
  raw.pipe(stream);
  const release = () => {
    budget.give(held);
    held = 0;
  };
  return { stream, release };
}

/**
 * With an early answer (413, 503) to a request whose body is still arriving, read and drop the rest of it instead of
 * closing under a client that writes its whole body before reading (Python http.client, requests, tritonclient):
 * closing with unread data sends a reset that destroys the answer in flight. Past `maxBytes` the connection is cut.
 */
export function discardRest(raw: IncomingMessage, maxBytes: number): void {
  if (raw.complete || raw.destroyed) return;
  let discarded = 0;
  raw.unpipe();
  raw.removeAllListeners('data');
  raw.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxBytes) raw.socket.destroy();
  });
  raw.resume();
}
