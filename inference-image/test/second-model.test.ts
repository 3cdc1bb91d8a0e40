/**
 * The second model (scripts/make-second-model.ts) served natively: INT64 rank-3 input "tokens" with dynamic batch and
 * sequence dims, two outputs of different datatypes. Nothing in the server may assume the demo's shapes.
 */
import { existsSync } from 'node:fs';
import { secondReference, SECOND } from '../scripts/make-second-model';
import { loadModel, type Model } from '../src/model';
import { SECOND_MODEL_PATH } from '../src/paths';
import { get, post, silent, startServer, testConfig, type Running } from './helpers';

const NAME = 'second';
let model: Model;
let srv: Running;

const body = (tokens: number[][][], extra: Record<string, unknown> = {}) => ({
  ...extra,
  inputs: [{ name: SECOND.input, datatype: 'INT64', shape: [tokens.length, tokens[0].length, SECOND.slots], data: tokens.flat(2) }],
});
const output = (json: any, name: string) => json.outputs.find((o: { name: string }) => o.name === name);

/** Deterministic token ids in [0, 50). */
function tokens(batch: number, seq: number, seed: number): number[][][] {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) % 50;
  return Array.from({ length: batch }, () => Array.from({ length: seq }, () => Array.from({ length: SECOND.slots }, next)));
}

beforeAll(async () => {
  if (!existsSync(SECOND_MODEL_PATH)) throw new Error(`second model missing at ${SECOND_MODEL_PATH}; run "npm run build" first`);
  model = await loadModel(testConfig({ MODEL_PATH: SECOND_MODEL_PATH, MODEL_NAME: NAME }), silent);
  srv = await startServer(model, { MODEL_NAME: NAME, MAX_QUEUE_DELAY_MS: '20' });
});

afterAll(async () => {
  await srv?.close();
  await model?.close();
});

describe('the second model', () => {
  it('describes its INT64 rank-3 input with two dynamic dims and its two outputs', async () => {
    const res = await get(`${srv.url}/v2/models/${NAME}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      name: NAME,
      inputs: [{ name: 'tokens', datatype: 'INT64', shape: [-1, -1, 3] }],
      outputs: [
        { name: 'total', datatype: 'INT64', shape: [-1] },
        { name: 'score', datatype: 'FP32', shape: [-1, 2] },
      ],
    });
  });

  it('answers a hand-checked row: tokens [[7,2,3],[4,5,6]] -> total 27, score [6, 0.25]', async () => {
    // pooled = [11, 7, 9]; score = [11 + 3.5 - 9 + 0.5, -22 + 21 + 2.25 - 1]
    const res = await post(`${srv.url}/v2/models/${NAME}/infer`, body([[[7, 2, 3], [4, 5, 6]]]));
    expect(res.status).toBe(200);
    expect(output(res.json, 'total')).toEqual({ name: 'total', datatype: 'INT64', shape: [1], data: [27] });
    expect(output(res.json, 'score')).toEqual({ name: 'score', datatype: 'FP32', shape: [1, 2], data: [6, 0.25] });
  });

  it('infers what the model definition computes, for a batch of 3 sequences of 5', async () => {
    const t = tokens(3, 5, 42);
    const expected = secondReference(t);
    const res = await post(`${srv.url}/v2/models/${NAME}/infer`, body(t));
    expect(res.status).toBe(200);
    expect(output(res.json, 'total')).toMatchObject({ shape: [3], data: expected.total });
    expect(output(res.json, 'score')).toMatchObject({ shape: [3, 2], data: expected.score.flat() });
    expect(expected.total.some((v) => v !== 0)).toBe(true);
  });

  it('returns only the output asked for', async () => {
    const res = await post(`${srv.url}/v2/models/${NAME}/infer`, body(tokens(1, 2, 7), { outputs: [{ name: 'score' }] }));
    expect(res.status).toBe(200);
    expect(res.json.outputs.map((o: { name: string }) => o.name)).toEqual(['score']);
  });

  it('serves concurrent requests of different sequence lengths correctly (never stacked together)', async () => {
    const batches = [tokens(1, 1, 1), tokens(2, 4, 2), tokens(1, 7, 3), tokens(2, 4, 4)];
    const answers = await Promise.all(batches.map((t) => post(`${srv.url}/v2/models/${NAME}/infer`, body(t))));
    answers.forEach((res, i) => {
      expect(res.status).toBe(200);
      const expected = secondReference(batches[i]);
      expect(output(res.json, 'total').data).toEqual(expected.total);
      expect(output(res.json, 'score').data).toEqual(expected.score.flat());
    });
  });

  it.each([
    ['the demo input name', { inputs: [{ name: 'input', datatype: 'INT64', shape: [1, 1, 3], data: [1, 2, 3] }] }, /unknown input "input"; model inputs are "tokens"/],
    ['FP32 data', { inputs: [{ name: 'tokens', datatype: 'FP32', shape: [1, 1, 3], data: [1, 2, 3] }] }, /datatype FP32 does not match the model's INT64/],
    ['rank 2', { inputs: [{ name: 'tokens', datatype: 'INT64', shape: [1, 3], data: [1, 2, 3] }] }, /shape \[1, 3\] does not match the model's \[-1, -1, 3\]/],
    ['rank 4', { inputs: [{ name: 'tokens', datatype: 'INT64', shape: [1, 1, 1, 3], data: [1, 2, 3] }] }, /shape/],
    ['a wrong fixed dim', { inputs: [{ name: 'tokens', datatype: 'INT64', shape: [1, 1, 4], data: [1, 2, 3, 4] }] }, /shape/],
    ['a fractional INT64 value', { inputs: [{ name: 'tokens', datatype: 'INT64', shape: [1, 1, 3], data: [1, 2.5, 3] }] }, /expected an integer for INT64/],
  ])('rejects %s with a 400 that says what is wrong', async (_what, request, message) => {
    const res = await post(`${srv.url}/v2/models/${NAME}/infer`, request);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(message);
  });
});
