import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import { BodyBudget, budgetedBody, discardRest } from './admission';
import { Batcher } from './batcher';
import type { Config } from './config';
import { HttpError } from './errors';
import { Metrics } from './metrics';
import { type Model, warmUp } from './model';
import { PACKAGE_ROOT } from './paths';
import { type InferResponse, parseInferRequest, quote, toResponseTensor } from './protocol';

export const SERVER_NAME = 'modelship-inference';

/** Longest error message sent back; a longer one is cut, so no input is ever echoed unbounded. */
export const MAX_ERROR_CHARS = 1024;
/** After an early 413/503, how much more of the body is read and dropped (in bodies of MAX_BODY_BYTES) before the connection is cut. */
const DISCARD_BODIES = 8;
/** Methods that keep their own metrics label; any other method the HTTP parser accepts shares one. */
const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
export const OTHER_METHOD = 'OTHER';
/** A client's request id is used only if it is this tame; otherwise the server makes one. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** How long, once accepted work is done, requests still arriving on open connections get a 503 before the rest are cut. */
const DRAIN_GRACE_MS = 100;

export const methodLabel = (method: string) => (METHOD_LABELS.has(method) ? method : OTHER_METHOD);

export function capMessage(message: string): string {
  return message.length <= MAX_ERROR_CHARS ? message : `${message.slice(0, MAX_ERROR_CHARS)}… (truncated)`;
}

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
  /** Called once if the attached model stops serving for good (its worker died); readiness is already 503 then. */
  onModelFailure?: (err: Error) => void;
}

export interface InferenceServer {
  readonly app: FastifyInstance;
  /** The separate /metrics listener when METRICS_PORT is set (callers listen on it); undefined otherwise. */
  readonly metricsApp: FastifyInstance | undefined;
  readonly metrics: Metrics;
  /** Present once a model is attached. */
  readonly batcher: Batcher | undefined;
  readonly ready: boolean;
  readonly draining: boolean;
  /** Memory charged to request bodies held at once; see BODY_BUDGET_BYTES. */
  readonly bodyBudget: BodyBudget;
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
  let failed: Error | undefined;
  let inFlight = 0;
  /** Requests whose body is in and whose response is not finished: what a drain waits for. */
  let active = 0;
  let idle: (() => void) | undefined;
  const budget = new BodyBudget(config.bodyBudgetBytes);
  // Inference bodies admitted and not yet parsed are queued work too (a burst is admitted faster than it is parsed);
  // their rows are estimated from their length and the bytes per row seen so far.
  let arrivingBytes = 0;
  let bytesPerRow: number | undefined;
  const arriving = new WeakMap<FastifyRequest, number>();
  const settleArrival = (request: FastifyRequest) => {
    arrivingBytes -= arriving.get(request) ?? 0;
    arriving.delete(request);
  };
  const requestLog = (config.requestLogLevel === 'silent' ? undefined : config.requestLogLevel) as
    | 'fatal'
    | 'error'
    | 'warn'
    | 'info'
    | 'debug'
    | 'trace'
    | undefined;

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.maxBodyBytes,
    // fastify's own two lines per request serialise whole requests; ours (onResponse below) is one compact line.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    requestIdHeader: false,
    genReqId: (req) => {
      const id = req.headers[config.requestIdHeader];
      return typeof id === 'string' && CLIENT_REQUEST_ID.test(id) ? id : randomUUID();
    },
  });
  app.server.maxConnections = config.maxConnections;

  // Clients of this protocol do not all send application/json (curl -d sends a form type); parse everything as JSON.
  app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  /**
   * fastify answers a body it will not read with `Connection: close`, and the socket then closes under a client still
   * writing, which reads a reset instead of the answer. Keep the connection and read and drop the rest of the body,
   * up to DISCARD_BODIES bodies (a declared length beyond that is closed at once) and REQUEST_TIMEOUT_MS.
   */
  const discardLimit = DISCARD_BODIES * config.maxBodyBytes;
  const answerBeforeBody = (request: FastifyRequest, reply: FastifyReply) => {
    if (draining || Number(request.headers['content-length']) > discardLimit) {
      reply.header('connection', 'close');
      return;
    }
    reply.removeHeader('connection');
    discardRest(request.raw, discardLimit);
  };

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      if (!request.raw.complete) answerBeforeBody(request, reply);
      return reply.code(err.statusCode).headers(err.headers).send({ error: capMessage(err.message) });
    }
    const code = (err as FastifyError).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      answerBeforeBody(request, reply);
      return reply.code(413).send({ error: `request body is larger than the ${config.maxBodyBytes}-byte limit (MAX_BODY_BYTES)` });
    }
    if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return reply.code(400).send({ error: capMessage(`malformed JSON body: ${err.message}`) });
    }
    if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.code(400).send({ error: 'request body is empty; expected a JSON inference request' });
    }
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: capMessage(err.message) });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal server error' });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: capMessage(`no route for ${request.method} ${request.url.split('?')[0]}`) });
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header(config.requestIdHeader, request.id);
  });

  // Budget is taken as body bytes arrive and given back when the response is over (the parsed body lives until then).
  app.addHook('preParsing', async (request, reply, payload) => {
    const declared = Number(request.headers['content-length']);
    // A full queue turns inference requests away before their body is parsed, so overload costs no parsing.
    if (batcher && !draining && request.routeOptions.url?.endsWith('/infer')) {
      // A body over MAX_BODY_BYTES is answered 413 unread, so it is not arriving work.
      const bytes = Number.isFinite(declared) && declared <= config.maxBodyBytes ? declared : 0;
      const refused = batcher.refusal(bytesPerRow ? Math.ceil(arrivingBytes / bytesPerRow) : 0);
      if (refused) throw refused;
      arrivingBytes += bytes;
      arriving.set(request, bytes);
      reply.raw.once('close', () => settleArrival(request));
    }
    // fastify answers 413 to that without reading it.
    if (declared > config.maxBodyBytes) return payload;
    const { stream, release } = budgetedBody(request.raw, budget, () => metrics.rejected.inc({ reason: 'body_budget' }));
    reply.raw.once('close', release);
    return stream;
  });

  app.addHook('preHandler', async (_request, reply) => {
    active++;
    reply.raw.once('close', () => {
      active--;
      if (active === 0 && idle) idle();
    });
  });

  app.addHook('onSend', async (_request, reply) => {
    // Once draining, no response invites another request on its connection.
    if (draining) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: methodLabel(request.method), route, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    if (requestLog) {
      request.log[requestLog]({ method: request.method, route, status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 100) / 100 }, 'request');
    }
  });

  const notReady = (reply: FastifyReply) =>
    reply.code(503).send({
      error: draining ? 'not ready: server is shutting down' : failed ? 'not ready: the model stopped serving; this server is restarting' : 'not ready: model is loading',
    });

  /** Resolves the model a URL names, or throws the 404 that says what is served. */
  function lookup(params: ModelParams): Model | undefined {
    if (params.name !== config.modelName) {
      throw new HttpError(404, `unknown model ${quote(params.name)}; this server serves "${config.modelName}"`);
    }
    if (params.version !== undefined && params.version !== config.modelVersion) {
      throw new HttpError(404, `unknown version ${quote(params.version)} of model ${quote(params.name)}; available: "${config.modelVersion}"`);
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

  const infer = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    settleArrival(request);
    const m = lookup(request.params);
    if (draining || !ready || !m || !batcher) {
      metrics.rejected.inc({ reason: draining ? 'draining' : 'not_ready' });
      reply.header('retry-after', '1');
      return notReady(reply);
    }
    const req = parseInferRequest(request.body, m, config.maxRequestRows);
    const length = Number(request.headers['content-length']);
    if (length > 0) bytesPerRow = bytesPerRow === undefined ? length / req.rows : 0.9 * bytesPerRow + (0.1 * length) / req.rows;
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
    }
  };
  app.post<{ Params: ModelParams }>('/v2/models/:name/infer', infer);
  app.post<{ Params: ModelParams }>('/v2/models/:name/versions/:version/infer', infer);

  // With METRICS_PORT, /metrics lives on its own listener only: the serving port then has nothing for a scraper, and a
  // NetworkPolicy can admit clients to one port and the scraper alone to the other.
  const metricsApp = config.metricsPort === undefined ? undefined : Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  (metricsApp ?? app).get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  metrics.ready.set(0);

  return {
    app,
    metricsApp,
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
    bodyBudget: budget,
    async attachModel(m: Model) {
      const ms = await warmUp(m);
      m.onFailure?.((err) => {
        failed = err;
        ready = false;
        metrics.ready.set(0);
        logger.fatal({ err: err.message }, 'model stopped serving; readiness is now 503');
        options.onModelFailure?.(err);
      });
      model = m;
      batcher = new Batcher(m, config, metrics);
      // Until requests show their real size, assume the tightest JSON ("0," per element), which overestimates rows.
      bytesPerRow = 2 * m.inputs.reduce((n, spec) => n + spec.shape.slice(1).reduce((a, d) => a * Math.max(1, d), 1), 0);
      ready = !draining && !failed;
      metrics.ready.set(ready ? 1 : 0);
      logger.info({ warmUpMs: Math.round(ms * 10) / 10, executionProvider: m.executionProvider }, 'warm-up inference done; ready');
    },
    async drain(timeoutMs: number) {
      draining = true;
      ready = false;
      metrics.ready.set(0);
      logger.info({ inFlight, active }, 'draining: readiness is now 503, finishing accepted requests');
      let clean = true;
      if (active > 0) {
        clean = await new Promise<boolean>((done) => {
          const timer = setTimeout(() => done(false), timeoutMs);
          idle = () => {
            clearTimeout(timer);
            done(true);
          };
        });
      }
      // Stops listening and closes idle connections; a request still arriving on an open one gets 503 + close.
      const closed = app.close();
      // Then cut what is left: requests half-sent (never accepted) or, past the bound, the ones that did not finish.
      const cut = setTimeout(() => app.server.closeAllConnections(), clean ? DRAIN_GRACE_MS : 0);
      await closed;
      clearTimeout(cut);
      // Scraped until the end, so the drain itself shows on the dashboards.
      await metricsApp?.close();
      logger.info({ clean, inFlight }, 'drained');
      return clean;
    },
  };
}
