import { BODY_MEMORY_FACTOR } from '../src/admission';
import type { Model } from '../src/model';
import {
  FEATURES,
  get,
  inferBody,
  loadTestModel,
  openSocket,
  outcome,
  post,
  postHead,
  readResponse,
  rows,
  startServer,
  writeFirst,
  type Running,
} from './helpers';

const INFER = '/v2/models/demo/infer';
let model: Model;

beforeAll(async () => {
  model = await loadTestModel();
});

afterAll(async () => {
  await model.close();
});

async function withServer(env: Record<string, string>, body: (srv: Running) => Promise<void>) {
  const srv = await startServer(model, env);
  try {
    await body(srv);
  } finally {
    srv.server.app.server.closeAllConnections();
    await srv.close();
  }
}

/** A valid one-row request padded with trailing spaces (valid JSON) to exactly `bytes`. */
function paddedBody(bytes: number, seed = 1): Buffer {
  const json = JSON.stringify(inferBody(rows(1, seed)));
  return Buffer.from(json + ' '.repeat(bytes - json.length));
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an oversized body is answered 413, and a client that writes it all before reading gets that answer', () => {
  it('413 by declared length: the rest of the body is read and dropped, the JSON error arrives, the connection stays usable', async () => {
    await withServer({ MAX_BODY_BYTES: String(256 * 1024) }, async (srv) => {
      // Larger than loopback's socket buffers, so the client is still writing when the answer is sent.
      const big = Buffer.alloc(1536 * 1024, 0x20);
      const r = await writeFirst(srv.url, postHead(INFER, big.length), big);
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(413);
      expect(r.text).toContain('larger than the 262144-byte limit (MAX_BODY_BYTES)');
      expect(r.text.toLowerCase()).not.toContain('connection: close');
    });
  });

  it('413 on a chunked body that grows past the limit', async () => {
    await withServer({ MAX_BODY_BYTES: String(64 * 1024) }, async (srv) => {
      // 256 KiB in all: past the 64 KiB limit, within the 8 x 64 KiB the server reads and drops.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const chunked = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      const body = Buffer.concat([...Array(4).fill(chunked), Buffer.from('0\r\n\r\n')]);
      const head = `POST ${INFER} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const r = await writeFirst(srv.url, head, body);
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(413);
    });
  });

  it('closes at once when the declared body is more than 8 bodies of MAX_BODY_BYTES, rather than read it all', async () => {
    await withServer({ MAX_BODY_BYTES: String(16 * 1024) }, async (srv) => {
      const socket = await openSocket(srv.url);
      const done = outcome(socket);
      socket.write(postHead(INFER, 64 * 1024 * 1024));
      // Keeps writing far past 8 x 16 KiB; the server must end it rather than read forever.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 64 && !socket.destroyed; i++) {
        socket.write(chunk);
        await sleep(2);
      }
      const r = await done;
      expect(statusOf(r.text)).toBe(413);
      expect(r.ms).toBeLessThan(5000);
    });
  });
});

describe('body byte budget (BODY_BUDGET_BYTES)', () => {
  // A body is charged BODY_MEMORY_FACTOR (8) x its size: 8 MiB holds two 400 KiB bodies (6.4 MiB) but not a third.
  const BUDGET = 8 * 1024 * 1024;
  // The padded bodies look like many rows to the queue's estimate of arriving work; a roomy queue keeps that out of it.
  const limits = { MAX_BODY_BYTES: String(512 * 1024), BODY_BUDGET_BYTES: String(BUDGET), REQUEST_TIMEOUT_MS: '20000', MAX_QUEUE_ROWS: '1000000' };

  it('answers 503 + Retry-After to a body that does not fit while others are being received, then admits again', async () => {
    await withServer(limits, async (srv) => {
      const size = 400 * 1024;
      // Two bodies started and held open take their share of the budget at their first chunk.
      const held = await Promise.all([openSocket(srv.url), openSocket(srv.url)]);
      const heldAnswers = held.map((s) => readResponse(s));
      const bodies = [paddedBody(size, 1), paddedBody(size, 2)];
      held.forEach((s, i) => s.write(Buffer.concat([Buffer.from(postHead(INFER, size)), bodies[i].subarray(0, 1024)])));
      while (srv.server.bodyBudget.inUse < 2 * BODY_MEMORY_FACTOR * size) await sleep(5);

      const refused = await writeFirst(srv.url, postHead(INFER, size), paddedBody(size, 3));
      expect(refused.error).toBeUndefined();
      expect(refused.status).toBe(503);
      expect(refused.text.toLowerCase()).toContain('retry-after: 1');
      expect(refused.text).toContain('BODY_BUDGET_BYTES');

      // The held ones finish and are served; their budget comes back.
      held.forEach((s, i) => s.write(bodies[i].subarray(1024)));
      for (const a of await Promise.all(heldAnswers)) expect(a.status).toBe(200);
      held.forEach((s) => s.destroy());
      await sleep(20);
      expect(srv.server.bodyBudget.inUse).toBe(0);
      expect(srv.server.bodyBudget.peak).toBe(2 * BODY_MEMORY_FACTOR * size);
      expect((await post(`${srv.url}${INFER}`, paddedBody(size, 4).toString())).status).toBe(200);
      const metrics = (await get(`${srv.url}/metrics`)).text;
      expect(metrics).toMatch(/modelship_inference_rejected_total\{reason="body_budget"\} 1/);
    });
  });

  it('never holds more than the budget under 24 concurrent large bodies, and every client gets an answer', async () => {
    await withServer(limits, async (srv) => {
      const size = 300 * 1024;
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) => writeFirst(srv.url, postHead(INFER, size), paddedBody(size, i))),
      );
      for (const a of answers) {
        expect(a.error).toBeUndefined();
        expect([200, 503]).toContain(a.status);
      }
      expect(answers.some((a) => a.status === 200)).toBe(true);
      expect(srv.server.bodyBudget.peak).toBeLessThanOrEqual(BUDGET);
      expect(srv.server.bodyBudget.inUse).toBe(0);
    });
  });
});

describe('slow and idle clients', () => {
  const timeouts = { REQUEST_TIMEOUT_MS: '800', HEADERS_TIMEOUT_MS: '400', KEEP_ALIVE_TIMEOUT_MS: '300' };

  it('cuts a client trickling its body after REQUEST_TIMEOUT_MS, and serves others meanwhile', async () => {
    await withServer(timeouts, async (srv) => {
      const socket = await openSocket(srv.url);
      const done = outcome(socket);
      socket.write(postHead(INFER, 10_000));
      const trickle = setInterval(() => !socket.destroyed && socket.write(' '), 50);
      try {
        expect((await post(`${srv.url}${INFER}`, inferBody(rows(1, 1)))).status).toBe(200);
        const r = await done;
        expect(r.ms).toBeLessThan(2500);
        expect(r.ms).toBeGreaterThanOrEqual(600);
        expect(statusOf(r.text)).toBe(408);
      } finally {
        clearInterval(trickle);
      }
    });
  });

  it('cuts a client trickling its headers after HEADERS_TIMEOUT_MS', async () => {
    await withServer(timeouts, async (srv) => {
      const socket = await openSocket(srv.url);
      const done = outcome(socket);
      socket.write('GET /v2/health/live HTTP/1.1\r\n');
      const trickle = setInterval(() => !socket.destroyed && socket.write('X-Slow: y\r\n'), 50);
      try {
        const r = await done;
        expect(r.ms).toBeLessThan(1500);
        expect(statusOf(r.text)).toBe(408);
      } finally {
        clearInterval(trickle);
      }
    });
  });

  it('closes an idle kept-alive connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
    await withServer(timeouts, async (srv) => {
      const socket = await openSocket(srv.url);
      const done = outcome(socket);
      socket.write('GET /v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n');
      const r = await done;
      expect(statusOf(r.text)).toBe(200);
      expect(r.ms).toBeLessThan(2500);
    });
  });

  it('refuses connections beyond MAX_CONNECTIONS at once and accepts again when one closes', async () => {
    await withServer({ MAX_CONNECTIONS: '4' }, async (srv) => {
      const open = await Promise.all(Array.from({ length: 4 }, () => openSocket(srv.url)));
      await sleep(50);
      const extra = await openSocket(srv.url);
      const r = await outcome(extra, 3000);
      expect(r.text).toBe('');
      expect(r.ms).toBeLessThan(1000);
      open[0].destroy();
      await sleep(50);
      expect((await get(`${srv.url}/v2/health/live`)).status).toBe(200);
      open.forEach((s) => s.destroy());
    });
  });
});

describe('queueing is bounded in rows', () => {
  it('answers 503 + Retry-After once MAX_QUEUE_ROWS rows wait, however few requests that is', async () => {
    // The first requests wait 1.5 s for company, so the queue stays full while the rest arrive.
    await withServer({ MAX_BATCH_SIZE: '64', MAX_REQUEST_ROWS: '4', MAX_QUEUE_ROWS: '8', MAX_QUEUE_DELAY_MS: '1500' }, async (srv) => {
      const url = `${srv.url}${INFER}`;
      const queued = [post(url, inferBody(rows(4, 1))), post(url, inferBody(rows(4, 2)))];
      while (srv.server.batcher!.rowsQueued < 8) await sleep(5);
      const refused = await post(url, inferBody(rows(1, 3)));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.json.error).toMatch(/8 rows waiting, MAX_QUEUE_ROWS 8/);
      // Refused before its body is read: a body that is not even JSON gets the 503, not a 400.
      const unread = await post(url, '{"inputs": [');
      expect(unread.status).toBe(503);
      expect(unread.json.error).toMatch(/queue is full/);
      expect((await Promise.all(queued)).map((r) => r.status)).toEqual([200, 200]);
    });
  });

  it('keeps a per-request row limit when MAX_BATCH_SIZE=1', async () => {
    await withServer({ MAX_BATCH_SIZE: '1' }, async (srv) => {
      const r = await post(`${srv.url}${INFER}`, inferBody(rows(2, 1)));
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/batch dimension 2 exceeds the 1-row limit per request \(MAX_REQUEST_ROWS\)/);
      const big = await post(`${srv.url}${INFER}`, { inputs: [{ name: 'input', shape: [16000, FEATURES], datatype: 'FP32', data: [] }] });
      expect(big.status).toBe(400);
    });
  });
});

describe('inference bodies being received count as queued work', () => {
  it('refuses before reading when the rows estimated from arriving bodies would overflow MAX_QUEUE_ROWS', async () => {
    // Until requests show their size, a row is assumed to take 2 bytes per element (512 for the demo model).
    await withServer({ MAX_QUEUE_ROWS: '64', MAX_BODY_BYTES: String(512 * 1024), REQUEST_TIMEOUT_MS: '20000' }, async (srv) => {
      const size = 40 * 1024; // about 80 rows by that estimate
      const first = await openSocket(srv.url);
      const answer = readResponse(first);
      first.write(Buffer.concat([Buffer.from(postHead(INFER, size)), paddedBody(size, 1).subarray(0, 1024)]));
      while (srv.server.bodyBudget.inUse === 0) await sleep(5);
      const second = await writeFirst(srv.url, postHead(INFER, size), paddedBody(size, 2));
      expect(second.status).toBe(503);
      expect(second.text).toMatch(/0 rows waiting and about \d+ more being received, MAX_QUEUE_ROWS 64/);
      first.write(paddedBody(size, 1).subarray(1024));
      expect((await answer).status).toBe(200);
      first.destroy();
    });
  });
});

