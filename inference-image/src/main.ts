// First: sets ORT_DISABLE_TELEMETRY before onnxruntime-node (imported by ./model) loads.
import { telemetry } from './telemetry';
import pino from 'pino';
import { ConfigError, loadConfig } from './config';
import { loadModel, type Model } from './model';
import { buildServer } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`modelship-inference: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'modelship-inference', model: config.modelName } });
  let model: Model | undefined;
  let stopping = false;
  // A dead model worker is not restarted here: the process answers what it holds (500s), exits 1, and the
  // orchestrator starts a fresh replica, as it would after any other crash.
  const server = buildServer({ config, logger, onModelFailure: () => stop('model failure', true) });

  // Leaving while the worker is inside a session run aborts the process (ONNX Runtime's addon cannot be torn down
  // mid-run), so every exit first closes the model: the run in progress (one batch) ends, then the thread.
  const exit = (code: number) => {
    void (model?.close() ?? Promise.resolve()).finally(() => process.exit(code));
  };

  const stop = (reason: string, failure = false) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason, drainTimeoutMs: config.drainTimeoutMs }, 'shutdown requested');
    // The hard bound: whatever happens in the drain, the process is gone by then.
    setTimeout(() => {
      logger.error('drain timed out; exiting with requests still open');
      exit(1);
    }, config.drainTimeoutMs + 1000).unref();
    server
      .drain(config.drainTimeoutMs)
      .then((clean) => exit(clean && !failure ? 0 : 1))
      .catch((err) => {
        logger.error({ err }, 'drain failed');
        exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // Listen before loading so liveness answers while a large model loads; readiness stays 503 until warm.
  const address = await server.app.listen({ host: config.host, port: config.port });
  const metricsAddress = await server.metricsApp?.listen({ host: config.host, port: config.metricsPort });
  logger.info({ address, metricsAddress, config: { ...config }, ortTelemetry: telemetry.optedIn ? 'on (ORT_DISABLE_TELEMETRY=0)' : 'off' }, 'listening');
  try {
    model = await loadModel(config, logger);
    if (stopping) return;
    await server.attachModel(model);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'model failed to load');
    process.exit(1);
  }
}

main().catch((err) => {
  process.stderr.write(`modelship-inference: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
