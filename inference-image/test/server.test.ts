import type { Model } from '../src/model';
import { request as httpRequest } from 'node:http';
import { OTHER_METHOD, buildServer } from '../src/server';
import {
  CLASSES,
  capturingLogger,
  FEATURES,
  expectClose,
  get,
  inferBody,
  loadTestModel,
  metricValue,
  post,
  reference,
  rows,
  silent,
  startServer,
  testConfig,
  type Running,
} from './helpers';

let model: Model;
let srv: Running;
let infer: string;

beforeAll(async () => {
  model = await loadTestModel();
  srv = await startServer(model, { MAX_BODY_BYTES: String(64 * 1024), MAX_BATCH_SIZE: '4' });
  infer = `${srv.url}/v2/models/demo/infer`;
});

afterAll(async () => {
  await srv.close();
  await model.close();
});

describe('health and metadata', () => {
  it('GET /v2/health/live', async () => {
    const r = await get(`${srv.url}/v2/health/live`);
    expect(r.status).toBe(200);
  });

  it('GET /v2/health/ready', async () => {
    const r = await get(`${srv.url}/v2/health/ready`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ready: true });
  });

  it('GET /v2 returns server metadata', async () => {
    const r = await get(`${srv.url}/v2`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ name: 'modelship-inference', version: expect.any(String), extensions: [] });
  });

  it('GET /v2/models/{name} returns model metadata from the ONNX graph', async () => {
    const r = await get(`${srv.url}/v2/models/demo`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      name: 'demo',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, FEATURES] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
    });
    const versioned = await get(`${srv.url}/v2/models/demo/versions/1`);
    expect(versioned.json).toEqual(r.json);
  });

  it('GET /v2/models/{name}/ready', async () => {
    expect((await get(`${srv.url}/v2/models/demo/ready`)).json).toEqual({ name: 'demo', ready: true });
    expect((await get(`${srv.url}/v2/models/demo/versions/1/ready`)).status).toBe(200);
  });

  it('unknown model or version is a 404 naming it', async () => {
    for (const path of ['/v2/models/nope', '/v2/models/nope/ready', '/v2/models/demo/versions/7']) {
      const r = await get(`${srv.url}${path}`);
      expect(r.status).toBe(404);
      expect(r.json.error).toMatch(/unknown (model "nope"|version "7")/);
    }
    const r = await post(`${srv.url}/v2/models/nope/infer`, inferBody(rows(1, 1)));
    expect(r.status).toBe(404);
    expect(r.json.error).toContain('unknown model "nope"');
  });

  it('unknown route is a JSON 404', async () => {
    const r = await get(`${srv.url}/v3/whatever`);
    expect(r.status).toBe(404);
    expect(r.json.error).toContain('/v3/whatever');
  });

  it('is not ready until a model is attached and warmed up', async () => {
    const config = testConfig();
    const server = buildServer({ config, logger: silent, defaultMetrics: false });
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect((await get(`${url}/v2/health/live`)).status).toBe(200);
      expect((await get(`${url}/v2/health/ready`)).status).toBe(503);
      const r = await post(`${url}/v2/models/demo/infer`, inferBody(rows(1, 1)));
      expect(r.status).toBe(503);
      await server.attachModel(model);
      expect((await get(`${url}/v2/health/ready`)).status).toBe(200);
    } finally {
      await server.app.close();
    }
  });
});

describe('inference', () => {
  it('answers with the rows ONNX Runtime computes, echoing id', async () => {
    const data = rows(3, 42);
    const r = await post(infer, inferBody(data, { id: 'req-1' }));
    expect(r.status).toBe(200);
    expect(r.json.model_name).toBe('demo');
    expect(r.json.model_version).toBe('1');
    expect(r.json.id).toBe('req-1');
    const [probs, label] = r.json.outputs;
    expect(probs).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, CLASSES] });
    expect(label).toMatchObject({ name: 'label', datatype: 'INT64', shape: [3] });
    const ref = await reference(data);
    expectClose(probs.data, ref.flatMap((x) => x.probabilities));
    expect(label.data).toEqual(ref.map((x) => x.label));
  });

  it('omits id when none was sent', async () => {
    const r = await post(infer, inferBody(rows(1, 1)));
    expect(r.status).toBe(200);
    expect(r.json).not.toHaveProperty('id');
  });

  it('accepts nested data and returns only the requested outputs', async () => {
    const data = rows(2, 7);
    const body = {
      inputs: [{ name: 'input', shape: [2, FEATURES], datatype: 'FP32', data }],
      outputs: [{ name: 'label' }],
    };
    const r = await post(infer, body);
    expect(r.status).toBe(200);
    expect(r.json.outputs.map((o: { name: string }) => o.name)).toEqual(['label']);
    expect(r.json.outputs[0].data).toEqual((await reference(data)).map((x) => x.label));
  });

  it('serves the versioned infer path', async () => {
    const r = await post(`${srv.url}/v2/models/demo/versions/1/infer`, inferBody(rows(1, 3)));
    expect(r.status).toBe(200);
  });

  it('exposes Prometheus metrics', async () => {
    await post(infer, inferBody(rows(1, 5)));
    const r = await get(`${srv.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    for (const name of [
      'modelship_http_requests_total',
      'modelship_http_request_duration_seconds_bucket',
      'modelship_inference_requests_in_flight',
      'modelship_inference_queue_depth',
      'modelship_inference_batch_size_bucket',
      'modelship_inference_duration_seconds_bucket',
      'modelship_inference_queue_wait_seconds_bucket',
      'modelship_model_ready',
    ]) {
      expect(r.text).toContain(name);
    }
    expect(r.text).toMatch(/modelship_http_requests_total\{method="POST",route="\/v2\/models\/:name\/infer",status="200"\} \d+/);
    expect(r.text).toMatch(/modelship_http_request_duration_seconds_count\{method="POST",route="\/v2\/models\/:name\/infer",status="404"\} \d+/);
    expect(metricValue(r.text, 'modelship_inference_batch_size_count')).toBeGreaterThan(0);
    expect(metricValue(r.text, 'modelship_model_ready')).toBe(1);
    expect(metricValue(r.text, 'modelship_inference_requests_in_flight')).toBe(0);
  });
});

describe('bad input is a 4xx naming the problem, never a 500 or a crash', () => {
  const good = () => inferBody(rows(1, 9));
  const withInput = (patch: Record<string, unknown>) => {
    const b = good();
    return { inputs: [{ ...b.inputs[0], ...patch }] };
  };

  it.each<[string, unknown, number, RegExp]>([
    ['malformed JSON', '{"inputs": [', 400, /malformed JSON/],
    ['empty body', '', 400, /empty/],
    ['body not an object', '[1,2,3]', 400, /JSON object/],
    ['missing inputs', { id: 'x' }, 400, /inputs/],
    ['inputs empty', { inputs: [] }, 400, /inputs/],
    ['id not a string', { ...good(), id: 5 }, 400, /id/],
    ['unknown input name', withInput({ name: 'pixels' }), 400, /unknown input "pixels".*"input"/],
    ['missing shape', withInput({ shape: undefined }), 400, /shape/],
    ['negative dim', withInput({ shape: [-1, FEATURES] }), 400, /shape/],
    ['unknown datatype', withInput({ datatype: 'FLOAT32' }), 400, /unknown datatype "FLOAT32"/],
    ['wrong datatype', withInput({ datatype: 'FP64' }), 400, /datatype FP64 does not match the model's FP32/],
    ['wrong rank', withInput({ shape: [FEATURES] }), 400, /shape \[256\] does not match the model's \[-1, 256\]/],
    ['wrong feature dim', withInput({ shape: [1, 255], data: rows(1, 1)[0].slice(0, 255) }), 400, /shape \[1, 255\] does not match/],
    ['data shorter than shape', withInput({ shape: [2, FEATURES] }), 400, /data has 256 elements but shape \[2, 256\] needs 512/],
    ['data longer than shape', withInput({ data: [...rows(1, 1)[0], 0.5] }), 400, /data has 257 elements/],
    ['data not an array', withInput({ data: 'abc' }), 400, /data must be an array/],
    ['non-numeric element', withInput({ data: [...rows(1, 1)[0].slice(0, 10), 'x', ...rows(1, 1)[0].slice(11)] }), 400, /data\[10\] is "x", expected a number/],
    ['null element', withInput({ data: [null, ...rows(1, 1)[0].slice(1)] }), 400, /data\[0\] is null/],
    ['batch dim zero', withInput({ shape: [0, FEATURES], data: [] }), 400, /batch dimension must be at least 1/],
    ['batch over MAX_REQUEST_ROWS (defaults to MAX_BATCH_SIZE)', inferBody(rows(5, 1)), 400, /batch dimension 5 exceeds the 4-row limit per request \(MAX_REQUEST_ROWS\)/],
    ['duplicate input', { inputs: [good().inputs[0], good().inputs[0]] }, 400, /given more than once/],
    ['unknown output', { ...good(), outputs: [{ name: 'logits' }] }, 400, /unknown output "logits"/],
    ['body over the limit', inferBody(rows(20, 1)), 413, /larger than the 65536-byte limit/],
  ])('%s', async (_label, body, status, message) => {
    const r = await post(infer, body);
    expect(r.status).toBe(status);
    expect(r.json).toEqual({ error: expect.stringMatching(message) });
  });

  it('answers a body sent without a JSON content type', async () => {
    const r = await post(infer, inferBody(rows(1, 2)), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(200);
  });

  it('is still healthy and answering after all of that', async () => {
    const r = await post(infer, inferBody(rows(1, 11)));
    expect(r.status).toBe(200);
    const m = await get(`${srv.url}/metrics`);
    expect(m.text).not.toMatch(/status="5\d\d"/);
  });
});

describe('hostile input over HTTP is a short 400, never a 500', () => {
  const deepData = (depth: number) => `{"inputs":[{"name":"input","shape":[1,${FEATURES}],"datatype":"FP32","data":${'['.repeat(depth)}1${']'.repeat(depth)}}]}`;

  it.each<[string, string, RegExp]>([
    ['data nested 10,000 levels deep', deepData(10_000), /nested more than 2 levels deep/],
    ['data nested 30,000 levels deep', deepData(30_000), /nested more than 2 levels deep/],
    [
      'an element that is an object nested 5,000 levels deep',
      `{"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},1]}]}`,
      /shape \[1, 2\] does not match|data\[0\] is an object/,
    ],
    ['a 10,000-dim shape', `{"inputs":[{"name":"input","shape":[${Array(10_000).fill(1).join(',')}],"datatype":"FP32","data":[1]}]}`, /shape: Too big/],
    ['a 30,000-character input name', `{"inputs":[{"name":"${'n'.repeat(30_000)}","shape":[1,${FEATURES}],"datatype":"FP32","data":[1]}]}`, /unknown input "n+"… \(30000 characters\)/],
  ])('%s', async (_label, body, message) => {
    const r = await post(infer, body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(message);
    expect(r.text.length).toBeLessThan(1200);
  });

  it('the metrics show no 5xx after them', async () => {
    expect((await get(`${srv.url}/metrics`)).text).not.toMatch(/status="5\d\d"/);
  });
});

describe('the method label of the request metrics', () => {
  /** Sends a request with any method the HTTP parser knows and resolves with its status. */
  const send = (method: string) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${srv.url}/v2/health/live`, { method }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });

  it('folds every method outside the standard few into one value, so probes cannot grow /metrics', async () => {
    const exotic = ['PROPFIND', 'MKCOL', 'LOCK', 'UNLOCK', 'PURGE', 'REPORT', 'SEARCH', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE'];
    for (const m of exotic) expect(await send(m)).toBe(404);
    const text = (await get(`${srv.url}/metrics`)).text;
    const methods = new Set([...text.matchAll(/modelship_http_requests_total\{method="([^"]+)"/g)].map((m) => m[1]));
    for (const m of exotic) expect(methods.has(m)).toBe(false);
    expect(methods.has(OTHER_METHOD)).toBe(true);
    expect([...methods].every((m) => ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', OTHER_METHOD].includes(m))).toBe(true);
  });
});

describe('request ids and the request log line', () => {
  it('echoes a client X-Request-Id and puts it on the one log line per request, with method, route, status and duration', async () => {
    const { logger, lines } = capturingLogger('info');
    const own = await startServer(model, { REQUEST_LOG_LEVEL: 'info' }, logger);
    try {
      const r = await post(`${own.url}/v2/models/demo/infer`, inferBody(rows(1, 1)), { 'x-request-id': 'client-abc.123' });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-request-id')).toBe('client-abc.123');
      const mine = lines.filter((l) => l.reqId === 'client-abc.123');
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ msg: 'request', level: 30, method: 'POST', route: '/v2/models/:name/infer', status: 200, durationMs: expect.any(Number) });
    } finally {
      await own.close();
    }
  });

  it('makes an id when none (or an unusable one) is sent, and logs errors about a request with its id', async () => {
    const { logger, lines } = capturingLogger('info');
    const own = await startServer(model, {}, logger);
    try {
      const none = await post(`${own.url}/v2/models/demo/infer`, '{"inputs": [');
      const id = none.headers.get('x-request-id')!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines.find((l) => l.reqId === id)).toMatchObject({ status: 400, msg: 'request' });
      const bad = await post(`${own.url}/v2/models/demo/infer`, inferBody(rows(1, 1)), { 'x-request-id': `${'x'.repeat(200)}` });
      expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const injected = await post(`${own.url}/v2/models/demo/infer`, inferBody(rows(1, 1)), { 'x-request-id': 'a"b{c}' });
      expect(injected.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await own.close();
    }
  });

  it('honours REQUEST_ID_HEADER and REQUEST_LOG_LEVEL', async () => {
    const { logger, lines } = capturingLogger('info');
    const own = await startServer(model, { REQUEST_ID_HEADER: 'X-Correlation-Id', REQUEST_LOG_LEVEL: 'debug' }, logger);
    try {
      const r = await get(`${own.url}/v2/health/live`);
      expect(r.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers.get('x-request-id')).toBeNull();
      // debug is below the logger's info: no request line.
      expect(lines.filter((l) => l.msg === 'request')).toHaveLength(0);
    } finally {
      await own.close();
    }
  });
});

