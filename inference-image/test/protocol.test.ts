import type { Model } from '../src/model';
import { MAX_RANK, describeValue, flatten, parseInferRequest, quote } from '../src/protocol';
import { HttpError } from '../src/errors';
import { MAX_ERROR_CHARS, capMessage } from '../src/server';

// Only the metadata parseInferRequest reads; no ONNX Runtime needed.
const model = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'out', datatype: 'FP32', shape: [-1, 2] }],
  batchable: true,
} as unknown as Model;

const body = (patch: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...patch }],
});

/** The 400 that parsing throws, or a failure saying none was thrown. */
function rejection(b: unknown, maxRows = 64): HttpError {
  try {
    parseInferRequest(b, model, maxRows);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  }
  throw new Error('expected a 400');
}

const nested = (depth: number, leaf: unknown): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('flatten', () => {
  it('flattens row-major data nested as deep as the rank', () => {
    expect(flatten('x', [[1, 2], [3, 4]], 2)).toEqual([1, 2, 3, 4]);
    expect(flatten('x', [[[1], [2]], [[3], [4]]], 3)).toEqual([1, 2, 3, 4]);
  });

  it('walks 100,000 levels without overflowing the stack and refuses nesting deeper than the rank', () => {
    const deep = nested(100_000, 1) as unknown[];
    expect(() => flatten('x', deep, 100_001)).not.toThrow();
    expect(flatten('x', deep, 100_001)).toEqual([1]);
    expect(() => flatten('x', deep, 2)).toThrow(/nested more than 2 levels deep/);
  });
});

describe('error messages never echo unbounded input', () => {
  it('quotes at most 64 characters of a string', () => {
    expect(quote('abc')).toBe('"abc"');
    const q = quote('x'.repeat(1_000_000));
    expect(q.length).toBeLessThan(120);
    expect(q).toContain('(1000000 characters)');
  });

  it('describes any element in bounded space, even an object nested 5,000 levels deep', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    expect(describeValue(deep)).toBe('an object');
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1])).toBe('an array');
    expect(describeValue('y'.repeat(10_000)).length).toBeLessThan(120);
    expect(describeValue(1.5)).toBe('1.5');
  });

  it('caps any message at MAX_ERROR_CHARS', () => {
    expect(capMessage('short')).toBe('short');
    expect(capMessage('z'.repeat(3_000_000)).length).toBeLessThanOrEqual(MAX_ERROR_CHARS + 20);
  });
});

describe('hostile requests are 400s with short messages, never a crash', () => {
  it.each<[string, unknown, RegExp]>([
    ['data nested 10,000 levels deep', body({ data: nested(10_000, 1) }), /nested more than 2 levels deep/],
    ['an element that is an object nested 5,000 levels deep', body({ data: [JSON.parse('{"a":'.repeat(5000) + '1' + '}'.repeat(5000)), 2, 3, 4] }), /data\[0\] is an object, expected a number/],
    ['a 2 MB shape', body({ shape: Array(1_000_000).fill(1) }), /shape: Too big/],
    ['a rank above MAX_RANK', body({ shape: Array(MAX_RANK + 1).fill(1) }), /shape: Too big/],
    ['a huge declared shape', body({ shape: [2 ** 40, 4] }), /exceeds the 64-row limit/],
    ['a shape whose size overflows', body({ shape: [1, 2 ** 52] }), /does not match the model's \[-1, 4\]/],
    ['a 1 MB input name', body({ name: 'n'.repeat(1_000_000) }), /unknown input "n+"… \(1000000 characters\)/],
    ['a 1 MB datatype', body({ datatype: 'D'.repeat(1_000_000) }), /unknown datatype "D+"… \(1000000 characters\)/],
    ['a 1 MB string element', body({ data: ['s'.repeat(1_000_000), 2, 3, 4] }), /data\[0\] is "s+"… \(1000000 characters\), expected a number/],
    ['a datatype named after an Object.prototype key', body({ datatype: 'toString' }), /unknown datatype "toString"/],
    ['an input named __proto__', body({ name: '__proto__' }), /unknown input "__proto__"/],
  ])('%s', (_label, b, message) => {
    const err = rejection(b);
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(message);
    expect(err.message.length).toBeLessThan(400);
  });
});

describe('row limit per request', () => {
  it('holds whatever the batch size, including MAX_BATCH_SIZE=1 (limit 1)', () => {
    const two = { inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: Array(8).fill(0) }] };
    expect(rejection(two, 1).message).toMatch(/batch dimension 2 exceeds the 1-row limit per request \(MAX_REQUEST_ROWS\)/);
    expect(parseInferRequest(two, model, 2).rows).toBe(2);
  });
});
