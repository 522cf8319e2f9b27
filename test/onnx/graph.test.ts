import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { float16Bits, float16ToFloat32, Graph, op } from '../../src/onnx/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** y = gelu(x W^T) with W [out = 300, in = 4]: one initializer large enough for the external data file. */
function smallGraph(read: () => Promise<Float32Array>) {
  const g = new Graph('small');
  const x = g.input('x', 'float32', [1, 'S', 4]);
  const s = g.root('/model/layers.0/mlp');
  const h = op.linear(s.child('up_proj'), x, { out: 300, in: 4, read }, { format: 'fp32' });
  g.output(op.gelu(s.child('act'), h), 'y', 'float32', [1, 'S', 300]);
  return g;
}

const weights = Float32Array.from({ length: 1200 }, (_, i) => Math.sin(i));
const input = new ort.Tensor('float32', Float32Array.of(0.5, -1, 2, 0.25), [1, 1, 4]);

describe('graph builder', () => {
  it('names nodes as paths and numbers repeats', () => {
    const g = smallGraph(async () => weights);
    const names = g.nodes.map((n) => n.name);
    expect(names).toContain('/model/layers.0/mlp/up_proj/MatMul');
    expect(names).toContain('/model/layers.0/mlp/act/Mul');
    expect(names).toContain('/model/layers.0/mlp/act/Mul_1');
    expect(g.nodes.find((n) => n.name === '/model/layers.0/mlp/up_proj/MatMul')!.outputs).toEqual([
      '/model/layers.0/mlp/up_proj/MatMul/output_0',
    ]);
  });

  it('writes external data tensor by tensor and the saved model computes what the in-memory one does', async () => {
    let reads = 0;
    const g = smallGraph(async () => {
      reads++;
      return weights;
    });
    const files = await g.save(dir, 'small');
    expect(files).toEqual(['small.onnx', 'small.onnx.data']);
    expect(reads).toBe(1);
    expect(statSync(join(dir, 'small.onnx.data')).size).toBe(1200 * 4); // the weight; constants stay inline
    expect(statSync(join(dir, 'small.onnx')).size).toBeLessThan(2000);
    const fromFile = await ort.InferenceSession.create(join(dir, 'small.onnx'));
    const inMemory = await ort.InferenceSession.create(await smallGraph(async () => weights).toBytes());
    const a = (await fromFile.run({ x: input })).y!.data as Float32Array;
    const b = (await inMemory.run({ x: input })).y!.data as Float32Array;
    expect(a.length).toBe(300);
    expect(Array.from(a)).toEqual(Array.from(b));
    // exact GELU of the first output: x W^T then 0.5 x (1 + erf(x / sqrt 2))
    const z = 0.5 * weights[0]! - weights[1]! + 2 * weights[2]! + 0.25 * weights[3]!;
    expect(a[0]).toBeCloseTo(0.5 * z * (1 + erf(z / Math.SQRT2)), 5);
    expect(readFileSync(join(dir, 'small.onnx')).includes(Buffer.from('small.onnx.data'))).toBe(true);
  });

  it('rejects a producer that returns the wrong number of bytes, naming the tensor', async () => {
    const g = smallGraph(async () => new Float32Array(3));
    await expect(g.toBytes()).rejects.toThrow(/up_proj\/weight/);
  });
});

describe('float16', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [65504, 0x7bff],
    [65520, 0x7c00], // rounds up to infinity
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie to even: zero
    [1 + 2 ** -11, 0x3c00], // tie to even: down
    [1 + 3 * 2 ** -11, 0x3c02], // tie to even: up
  ])('%f -> 0x%s', (x, bits) => {
    expect(float16Bits(x)).toBe(bits);
  });

  it('round-trips every finite half value', () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x7c00; h++) if (float16Bits(float16ToFloat32(h)) !== h) bad.push(h);
    expect(bad).toEqual([]);
  });
});

/** erf by its Maclaurin series (exact to double precision for the small |x| used here). */
function erf(x: number): number {
  let sum = x;
  let term = x;
  for (let n = 1; n < 60; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
