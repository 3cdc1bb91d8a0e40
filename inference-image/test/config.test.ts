import { ConfigError, DEMO_MODEL_PATH, loadConfig } from '../src/config';

describe('loadConfig', () => {
  it('has documented defaults that point at the demo model', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      modelPath: DEMO_MODEL_PATH,
      modelName: 'demo',
      modelVersion: '1',
      host: '0.0.0.0',
      port: 8080,
      device: 'auto',
      maxBatchSize: 64,
      maxQueueDelayMs: 0,
      maxQueueSize: 256,
      maxBodyBytes: 8 * 1024 * 1024,
      drainTimeoutMs: 25000,
      intraOpThreads: 0,
      interOpThreads: 1,
      maxRequestRows: 64,
      maxQueueRows: 256,
      maxQueueWaitMs: 0,
      bodyBudgetBytes: 128 * 1024 * 1024,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 72_000,
      maxConnections: 1024,
      requestLogLevel: 'info',
      requestIdHeader: 'x-request-id',
    });
  });

  it('derives the row bounds from MAX_BATCH_SIZE unless they are set', () => {
    expect(loadConfig({ MAX_BATCH_SIZE: '1' })).toMatchObject({ maxRequestRows: 1, maxQueueRows: 256 });
    expect(loadConfig({ MAX_BATCH_SIZE: '128' })).toMatchObject({ maxRequestRows: 128, maxQueueRows: 512 });
    expect(loadConfig({ MAX_BATCH_SIZE: '1', MAX_REQUEST_ROWS: '16', MAX_QUEUE_ROWS: '64' })).toMatchObject({ maxRequestRows: 16, maxQueueRows: 64 });
    expect(loadConfig({ MAX_QUEUE_WAIT_MS: '1500' })).toMatchObject({ maxQueueWaitMs: 1500 });
  });

  it('reads the connection and request settings', () => {
    const c = loadConfig({
      BODY_BUDGET_BYTES: '1048576',
      MAX_BODY_BYTES: '131072',
      REQUEST_TIMEOUT_MS: '5000',
      HEADERS_TIMEOUT_MS: '2000',
      KEEP_ALIVE_TIMEOUT_MS: '1000',
      MAX_CONNECTIONS: '10',
      REQUEST_LOG_LEVEL: 'debug',
      REQUEST_ID_HEADER: 'X-Correlation-ID',
    });
    expect(c).toMatchObject({
      bodyBudgetBytes: 1048576,
      requestTimeoutMs: 5000,
      headersTimeoutMs: 2000,
      keepAliveTimeoutMs: 1000,
      maxConnections: 10,
      requestLogLevel: 'debug',
      requestIdHeader: 'x-correlation-id',
    });
  });

  it.each([
    [{ MAX_REQUEST_ROWS: '100', MAX_QUEUE_ROWS: '50' }, /MAX_QUEUE_ROWS=50 is below MAX_REQUEST_ROWS=100.*raise MAX_QUEUE_ROWS/],
    [{ BODY_BUDGET_BYTES: '16384', MAX_BODY_BYTES: '4096' }, /BODY_BUDGET_BYTES=16384 is below 8 x MAX_BODY_BYTES=4096.*raise BODY_BUDGET_BYTES/],
    [{ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' }, /HEADERS_TIMEOUT_MS=5000 is above REQUEST_TIMEOUT_MS=1000/],
  ])('refuses settings that contradict each other: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads every variable and treats empty strings as unset', () => {
    const c = loadConfig({
      MODEL_PATH: '/models/m.onnx',
      MODEL_NAME: 'resnet-50',
      PORT: '9000',
      DEVICE: 'cuda',
      MAX_BATCH_SIZE: '8',
      MAX_QUEUE_DELAY_MS: '0.5',
      MAX_QUEUE_SIZE: '10',
      MAX_BODY_BYTES: '2048',
      DRAIN_TIMEOUT_MS: '100',
      ORT_INTRA_OP_THREADS: '',
    });
    expect(c).toMatchObject({
      modelPath: '/models/m.onnx',
      modelName: 'resnet-50',
      port: 9000,
      device: 'cuda',
      maxBatchSize: 8,
      maxQueueDelayMs: 0.5,
      maxQueueSize: 10,
      maxBodyBytes: 2048,
      drainTimeoutMs: 100,
      intraOpThreads: 0,
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DEVICE', 'tpu'],
    ['MAX_BATCH_SIZE', '0'],
    ['MAX_QUEUE_SIZE', '-1'],
    ['MAX_QUEUE_DELAY_MS', 'soon'],
    ['MODEL_NAME', 'has space'],
    ['LOG_LEVEL', 'loud'],
    ['REQUEST_LOG_LEVEL', 'chatty'],
    ['REQUEST_ID_HEADER', 'x request id'],
    ['MAX_CONNECTIONS', '0'],
    ['REQUEST_TIMEOUT_MS', '0'],
    ['BODY_BUDGET_BYTES', '10'],
    ['MAX_QUEUE_ROWS', '0'],
    ['MAX_QUEUE_WAIT_MS', '-5'],
  ])('rejects %s=%s with a message naming the variable', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(`${key}="${value}"`));
  });
});
