import type { Model } from '../src/model';
import { expectClose, get, inferBody, loadTestModel, metricValue, post, reference, rows, startServer } from './helpers';

let model: Model;

beforeAll(async () => {
  model = await loadTestModel();
});

afterAll(async () => {
  await model.close();
});

/** Sends every request at once and returns the answers in order. */
function fire(url: string, bodies: unknown[]) {
  return Promise.all(bodies.map((b) => post(`${url}/v2/models/demo/infer`, b)));
}

describe('dynamic batching', () => {
  it('merges concurrent requests into fewer runs and gives each caller exactly its own rows', async () => {
    const srv = await startServer(model, { MAX_BATCH_SIZE: '16', MAX_QUEUE_DELAY_MS: '50' });
    try {
      // Mixed request sizes (1-3 rows) so the split has to honour offsets, not just count requests.
      const sizes = Array.from({ length: 40 }, (_, i) => (i % 3) + 1);
      const data = sizes.map((n, i) => rows(n, 1000 + i));
      const answers = await fire(
        srv.url,
        data.map((d, i) => inferBody(d, { id: `r${i}` })),
      );
      const ref = await reference(data.flat());

      let offset = 0;
      answers.forEach((a, i) => {
        expect(a.status).toBe(200);
        expect(a.json.id).toBe(`r${i}`);
        const n = sizes[i];
        const [probs, label] = a.json.outputs;
        expect(probs.shape).toEqual([n, 10]);
        expect(label.shape).toEqual([n]);
        const mine = ref.slice(offset, offset + n);
        expectClose(probs.data, mine.flatMap((x) => x.probabilities));
        expect(label.data).toEqual(mine.map((x) => x.label));
        offset += n;
      });

      const runs = srv.server.batcher!.runs;
      const totalRows = sizes.reduce((a, b) => a + b, 0);
      // 40 requests / 80 rows in batches of at most 16 rows: at least 5 runs, far fewer than 40.
      expect(runs).toBeLessThan(answers.length / 2);
      expect(runs).toBeGreaterThanOrEqual(Math.ceil(totalRows / 16));
      const metrics = (await get(`${srv.url}/metrics`)).text;
      expect(metricValue(metrics, 'modelship_inference_batch_size_count')).toBe(runs);
      expect(metricValue(metrics, 'modelship_inference_batch_size_sum')).toBe(totalRows);
      expect(metricValue(metrics, 'modelship_inference_queue_depth')).toBe(0);
      expect(metricValue(metrics, 'modelship_inference_requests_in_flight')).toBe(0);
    } finally {
      await srv.close();
    }
  });

  it('merges requests that ask for different outputs', async () => {
    const srv = await startServer(model, { MAX_BATCH_SIZE: '8', MAX_QUEUE_DELAY_MS: '50' });
    try {
      const data = [rows(1, 1), rows(2, 2), rows(1, 3)];
      const [a, b, c] = await fire(srv.url, [
        { ...inferBody(data[0]), outputs: [{ name: 'label' }] },
        inferBody(data[1]),
        { ...inferBody(data[2]), outputs: [{ name: 'probabilities' }] },
      ]);
      expect(srv.server.batcher!.runs).toBe(1);
      const ref = await reference(data.flat());
      expect(a.json.outputs.map((o: { name: string }) => o.name)).toEqual(['label']);
      expect(a.json.outputs[0].data).toEqual([ref[0].label]);
      expect(b.json.outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities', 'label']);
      expect(b.json.outputs[1].data).toEqual([ref[1].label, ref[2].label]);
      expect(c.json.outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities']);
      expectClose(c.json.outputs[0].data, ref[3].probabilities);
    } finally {
      await srv.close();
    }
  });

  it('runs every request alone when MAX_BATCH_SIZE is 1', async () => {
    const srv = await startServer(model, { MAX_BATCH_SIZE: '1', MAX_QUEUE_DELAY_MS: '0' });
    try {
      const answers = await fire(
        srv.url,
        Array.from({ length: 12 }, (_, i) => inferBody(rows(1, i))),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(srv.server.batcher!.runs).toBe(12);
    } finally {
      await srv.close();
    }
  });
});

describe('overload', () => {
  it('answers 503 with Retry-After at once when the queue is full, and still serves the queued', async () => {
    // The first request waits 1.5 s for company, so the queue stays full while the rest arrive.
    const srv = await startServer(model, { MAX_QUEUE_SIZE: '2', MAX_BATCH_SIZE: '64', MAX_QUEUE_DELAY_MS: '1500' });
    try {
      const url = `${srv.url}/v2/models/demo/infer`;
      const started = Date.now();
      const queued = [post(url, inferBody(rows(1, 1))), post(url, inferBody(rows(1, 2)))];
      // Wait until both are really queued before overflowing it.
      while (srv.server.batcher!.depth < 2) await new Promise((r) => setTimeout(r, 5));
      const rejected = await Promise.all(Array.from({ length: 4 }, (_, i) => post(url, inferBody(rows(1, 10 + i)))));
      const rejectedAfter = Date.now() - started;
      for (const r of rejected) {
        expect(r.status).toBe(503);
        expect(r.headers.get('retry-after')).toBe('1');
        expect(r.json.error).toMatch(/queue is full/);
      }
      // "At once": well before the queued batch is even allowed to start.
      expect(rejectedAfter).toBeLessThan(1000);
      const ok = await Promise.all(queued);
      expect(ok.map((r) => r.status)).toEqual([200, 200]);
      expect(srv.server.batcher!.runs).toBe(1);
      const metrics = (await get(`${srv.url}/metrics`)).text;
      expect(metrics).toMatch(/modelship_inference_rejected_total\{reason="queue_full"\} 4/);
      expect(metrics).toMatch(/modelship_http_requests_total\{method="POST",route="\/v2\/models\/:name\/infer",status="503"\} 4/);
    } finally {
      await srv.close();
    }
  });
});
