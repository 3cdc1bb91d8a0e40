import { HttpError } from './errors';
import type { Metrics } from './metrics';
import type { Model, NamedTensor, TensorData } from './model';
import type { InferRequest } from './protocol';

export interface BatcherOptions {
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueueSize: number;
  /** Rows waiting; the wait a request can face is about this over maxBatchSize session runs. */
  maxQueueRows: number;
  /** Expected time to answer a new request (rows ahead of it and its own, at the measured speed); beyond it 503. 0 = off. */
  maxQueueWaitMs?: number;
}

/** Weight of the latest run in the moving average of milliseconds per row. */
const SPEED_SMOOTHING = 0.2;

interface Pending {
  req: InferRequest;
  enqueuedAt: number;
  resolve(outputs: Record<string, NamedTensor>): void;
  reject(err: unknown): void;
}

type Typed = Exclude<TensorData, string[]>;

function concat(parts: TensorData[]): TensorData {
  if (Array.isArray(parts[0])) return ([] as string[]).concat(...(parts as string[][]));
  const first = parts[0] as Typed;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const Ctor = first.constructor as new (n: number) => Typed;
  const out = new Ctor(total);
  let offset = 0;
  for (const p of parts as Typed[]) {
    (out as { set(src: ArrayLike<unknown>, at: number): void }).set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Requests can share a run only if every input has the same non-leading dims (a model may leave them dynamic, e.g. a
 * sequence length): stacking rows of different widths would feed the model garbage.
 */
export function shapeKey(req: InferRequest): string {
  return Object.keys(req.inputs)
    .sort()
    .map((name) => `${name}:${req.inputs[name].shape.slice(1).join('x')}`)
    .join(';');
}

function rowsOf(data: TensorData, start: number, end: number): TensorData {
  return Array.isArray(data) ? data.slice(start, end) : (data as Typed).subarray(start, end);
}

/**
 * Dynamic batching: requests that arrive while the model is busy, or within
 * MAX_QUEUE_DELAY_MS of each other, are stacked along the leading dim into one
 * session run and the outputs are cut back into each caller's rows.
 *
 * Only one run is in flight at a time: ONNX Runtime already spreads a run
 * over the intra-op threads, and two concurrent runs would just fight for
 * them. The queue is bounded so overload turns into fast 503s, not memory.
 */
export class Batcher {
  private readonly queue: Pending[] = [];
  private queuedRows = 0;
  private running = false;
  private runningRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private starting: NodeJS.Immediate | undefined;
  private readonly maxRows: number;
  /** Milliseconds a row has cost in recent runs; undefined until the first. */
  private msPerRow: number | undefined;
  /** Session runs so far; tests compare it with the number of requests. */
  runs = 0;

  constructor(
    private readonly model: Model,
    private readonly options: BatcherOptions,
    private readonly metrics: Metrics,
  ) {
    this.maxRows = model.batchable ? options.maxBatchSize : 1;
  }

  get depth(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  get rowsQueued(): number {
    return this.queuedRows;
  }

  /** Why a request of `rows` rows cannot be queued now, or undefined if it can. */
  private fullFor(rows: number, arriving = 0): string | undefined {
    // Bounded in rows as well as requests: 512 requests of 64 rows are 512 runs' worth of waiting, not 512 units.
    if (this.queue.length >= this.options.maxQueueSize) return `${this.queue.length} requests waiting, MAX_QUEUE_SIZE ${this.options.maxQueueSize}`;
    if (this.queuedRows + arriving + rows > this.options.maxQueueRows) {
      const also = arriving > 0 ? ` and about ${arriving} more being received` : '';
      return `${this.queuedRows} rows waiting${also}, MAX_QUEUE_ROWS ${this.options.maxQueueRows}`;
    }
    // Rows are a proxy for time; when runs slow down (a busy CPU, a larger model) the wait a row bound allows grows
    // with them. An idle server always takes a request, so a model slower than the limit still serves.
    const limitMs = this.options.maxQueueWaitMs ?? 0;
    const idle = !this.running && this.queue.length === 0 && arriving === 0;
    const expectedMs = this.expectedWaitMs(rows + arriving);
    if (limitMs > 0 && !idle && expectedMs !== undefined && expectedMs > limitMs) {
      return `about ${Math.round(expectedMs)} ms of work ahead, MAX_QUEUE_WAIT_MS ${limitMs}`;
    }
    return undefined;
  }

  /**
   * Milliseconds until `rows` more rows would be answered at the speed of recent runs (the run in progress counted
   * whole); undefined before the first run.
   */
  expectedWaitMs(rows: number): number | undefined {
    return this.msPerRow === undefined ? undefined : (this.runningRows + this.queuedRows + rows) * this.msPerRow;
  }

  /**
   * The 503 for a request that could not be queued even with one row, counting `arriving` rows of requests already
   * admitted and not yet parsed; checked before its body is read, so overload costs no parsing. Undefined when there
   * is room.
   */
  refusal(arriving = 0): HttpError | undefined {
    return this.refuse(this.fullFor(1, arriving));
  }

  private refuse(full: string | undefined): HttpError | undefined {
    if (!full) return undefined;
    this.metrics.rejected.inc({ reason: 'queue_full' });
    return new HttpError(503, `inference queue is full (${full}); retry later`, { 'retry-after': '1' });
  }

  submit(req: InferRequest): Promise<Record<string, NamedTensor>> {
    const refused = this.refuse(this.fullFor(req.rows));
    if (refused) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.queue.push({ req, enqueuedAt: performance.now(), resolve, reject });
      this.queuedRows += req.rows;
      this.metrics.queueDepth.set(this.queue.length);
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.starting || this.queue.length === 0) return;
    const waited = performance.now() - this.queue[0].enqueuedAt;
    if (this.queuedRows >= this.maxRows || waited >= this.options.maxQueueDelayMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      // Starting on the next turn lets requests already read in this turn join the batch.
      this.starting = setImmediate(() => {
        this.starting = undefined;
        if (!this.running && this.queue.length > 0) void this.runNext();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.options.maxQueueDelayMs - waited);
    }
  }

  private take(): Pending[] {
    const batch: Pending[] = [this.queue.shift()!];
    let rows = batch[0].req.rows;
    const key = shapeKey(batch[0].req);
    // In arrival order: a request of another shape ends the batch and starts the next one.
    while (this.queue.length > 0 && rows + this.queue[0].req.rows <= this.maxRows && shapeKey(this.queue[0].req) === key) {
      const next = this.queue.shift()!;
      rows += next.req.rows;
      batch.push(next);
    }
    this.queuedRows -= rows;
    this.metrics.queueDepth.set(this.queue.length);
    return batch;
  }

  private async runNext(): Promise<void> {
    this.running = true;
    const batch = this.take();
    this.runningRows = batch.reduce((n, p) => n + p.req.rows, 0);
    const started = performance.now();
    for (const p of batch) this.metrics.queueWait.observe((started - p.enqueuedAt) / 1000);
    try {
      if (batch.length === 1) {
        const { req } = batch[0];
        batch[0].resolve(await this.timedRun(req.rows, req.inputs, req.outputs));
      } else {
        await this.runMerged(batch);
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running = false;
      this.runningRows = 0;
      this.kick();
    }
  }

  private async timedRun(rows: number, feeds: Record<string, NamedTensor>, outputs: string[]) {
    this.runs++;
    this.metrics.batchSize.observe(rows);
    const end = this.metrics.inferenceDuration.startTimer();
    const started = performance.now();
    try {
      const result = await this.model.run(feeds, outputs);
      const perRow = (performance.now() - started) / rows;
      this.msPerRow = this.msPerRow === undefined ? perRow : (1 - SPEED_SMOOTHING) * this.msPerRow + SPEED_SMOOTHING * perRow;
      return result;
    } finally {
      end();
    }
  }

  private async runMerged(batch: Pending[]): Promise<void> {
    const rows = batch.reduce((n, p) => n + p.req.rows, 0);
    const feeds: Record<string, NamedTensor> = {};
    for (const spec of this.model.inputs) {
      const parts = batch.map((p) => p.req.inputs[spec.name]);
      feeds[spec.name] = {
        name: spec.name,
        datatype: spec.datatype,
        shape: [rows, ...parts[0].shape.slice(1)],
        data: concat(parts.map((t) => t.data)),
      };
    }
    // One caller wanting all outputs means all; otherwise the union.
    const wanted = batch.some((p) => p.req.outputs.length === 0) ? [] : [...new Set(batch.flatMap((p) => p.req.outputs))];
    const outputs = await this.timedRun(rows, feeds, wanted);

    let offset = 0;
    for (const p of batch) {
      const mine: Record<string, NamedTensor> = {};
      const names = p.req.outputs.length > 0 ? p.req.outputs : Object.keys(outputs);
      for (const name of names) {
        const t = outputs[name];
        const perRow = t.data.length / rows;
        mine[name] = {
          name,
          datatype: t.datatype,
          shape: [p.req.rows, ...t.shape.slice(1)],
          data: rowsOf(t.data, offset * perRow, (offset + p.req.rows) * perRow),
        };
      }
      offset += p.req.rows;
      p.resolve(mine);
    }
  }
}
