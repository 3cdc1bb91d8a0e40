import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import pino, { type Logger } from 'pino';
import { Batcher } from './batcher';
import type { Config } from './config';
import { HttpError } from './errors';
import { Metrics } from './metrics';
import { type Model, warmUp } from './model';
import { PACKAGE_ROOT } from './paths';
import { type InferResponse, parseInferRequest, toResponseTensor } from './protocol';

export const SERVER_NAME = 'modelship-inference';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export interface ServerOptions {
  config: Config;
  logger?: Logger;
  /** Off in tests that start many servers in one process. */
  defaultMetrics?: boolean;
}

export interface InferenceServer {
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  /** Present once a model is attached. */
  readonly batcher: Batcher | undefined;
  readonly ready: boolean;
  readonly draining: boolean;
  /** Warms the model up, then turns readiness on. */
  attachModel(model: Model): Promise<void>;
  /**
   * Readiness goes 503 at once and new inference requests are refused; the
   * promise resolves once every accepted request has been answered (or the
   * timeout passed) and the listener is closed. Resolves true if nothing was cut off.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

interface ModelParams {
  name: string;
  version?: string;
}

/**
 * Builds the Open Inference Protocol (v2) HTTP server. It does not listen;
 * callers (main.ts, tests) choose the address.
 */
export function buildServer(options: ServerOptions): InferenceServer {
  const { config } = options;
  const logger = options.logger ?? pino({ level: config.logLevel });
  const metrics = new Metrics(options.defaultMetrics ?? true);
  const version = packageVersion();
  let model: Model | undefined;
  let batcher: Batcher | undefined;
  let ready = false;
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.maxBodyBytes,
    // Per-request logs at info would cost more than the inference at load; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });

  // Clients of this protocol do not all send application/json (curl -d sends a form type); parse everything as JSON.
  app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).headers(err.headers).send({ error: err.message });
    }
    const code = (err as FastifyError).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: `request body is larger than the ${config.maxBodyBytes}-byte limit (MAX_BODY_BYTES)` });
    }
    if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return reply.code(400).send({ error: `malformed JSON body: ${err.message}` });
    }
    if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.code(400).send({ error: 'request body is empty; expected a JSON inference request' });
    }
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: err.message });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal server error' });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });

  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  const notReady = (reply: FastifyReply) =>
    reply.code(503).send({ error: draining ? 'not ready: server is shutting down' : 'not ready: model is loading' });

  /** Resolves the model a URL names, or throws the 404 that says what is served. */
  function lookup(params: ModelParams): Model | undefined {
    if (params.name !== config.modelName) {
      throw new HttpError(404, `unknown model "${params.name}"; this server serves "${config.modelName}"`);
    }
    if (params.version !== undefined && params.version !== config.modelVersion) {
      throw new HttpError(404, `unknown version "${params.version}" of model "${params.name}"; available: "${config.modelVersion}"`);
    }
    return model;
  }

  app.get('/v2/health/live', async () => ({ live: true }));

  app.get('/v2/health/ready', async (_request, reply) => (ready && !draining ? { ready: true } : notReady(reply)));

  app.get('/v2', async () => ({ name: SERVER_NAME, version, extensions: [] }));

  const modelMetadata = async (request: { params: ModelParams }, reply: FastifyReply) => {
    const m = lookup(request.params);
    if (!m) return notReady(reply);
    return {
      name: config.modelName,
      versions: [config.modelVersion],
      platform: 'onnxruntime_onnx',
      inputs: m.inputs,
      outputs: m.outputs,
    };
  };
  app.get<{ Params: ModelParams }>('/v2/models/:name', modelMetadata);
  app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version', modelMetadata);

  const modelReady = async (request: { params: ModelParams }, reply: FastifyReply) => {
    lookup(request.params);
    return ready && !draining ? { name: config.modelName, ready: true } : notReady(reply);
  };
  app.get<{ Params: ModelParams }>('/v2/models/:name/ready', modelReady);
  app.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version/ready', modelReady);

  const infer = async (request: { params: ModelParams; body: unknown }, reply: FastifyReply) => {
    const m = lookup(request.params);
    if (draining || !ready || !m || !batcher) {
      metrics.rejected.inc({ reason: draining ? 'draining' : 'not_ready' });
      reply.header('retry-after', '1');
      return notReady(reply);
    }
    const req = parseInferRequest(request.body, m, config.maxBatchSize);
    inFlight++;
    metrics.inFlight.inc();
    try {
      const outputs = await batcher.submit(req);
      const response: InferResponse = {
        model_name: config.modelName,
        model_version: config.modelVersion,
        ...(req.id !== undefined ? { id: req.id } : {}),
        outputs: Object.values(outputs).map(toResponseTensor),
      };
      return response;
    } finally {
      inFlight--;
      metrics.inFlight.dec();
      if (inFlight === 0 && idle) idle();
    }
  };
  app.post<{ Params: ModelParams }>('/v2/models/:name/infer', infer);
  app.post<{ Params: ModelParams }>('/v2/models/:name/versions/:version/infer', infer);

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  metrics.ready.set(0);

  return {
    app,
    metrics,
    get batcher() {
      return batcher;
    },
    get ready() {
      return ready;
    },
    get draining() {
      return draining;
    },
    async attachModel(m: Model) {
      const ms = await warmUp(m);
      model = m;
      batcher = new Batcher(m, config, metrics);
      ready = !draining;
      metrics.ready.set(ready ? 1 : 0);
      logger.info({ warmUpMs: Math.round(ms * 10) / 10, executionProvider: m.executionProvider }, 'warm-up inference done; ready');
    },
    async drain(timeoutMs: number) {
      draining = true;
      ready = false;
      metrics.ready.set(0);
      logger.info({ inFlight }, 'draining: readiness is now 503, finishing accepted requests');
      let clean = true;
      if (inFlight > 0) {
        clean = await new Promise<boolean>((done) => {
          const timer = setTimeout(() => done(false), timeoutMs);
          idle = () => {
            clearTimeout(timer);
            done(true);
          };
        });
      }
      // Give answered requests a moment to flush their bytes before sockets close.
      await new Promise((r) => setImmediate(r));
      // Past the bound, cut what is left rather than let close() wait on it.
      if (!clean) app.server.closeAllConnections();
      await app.close();
      logger.info({ clean, inFlight }, 'drained');
      return clean;
    },
  };
}
