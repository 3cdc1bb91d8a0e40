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
    });
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
  ])('rejects %s=%s with a message naming the variable', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(`${key}="${value}"`));
  });
});
