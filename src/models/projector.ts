/**
 * LLaVA's `mlp2x_gelu` adapter (SPEC.md §1): rows = Linear2(GELU(Linear1(features))), applied to every image token.
 */
import { type Graph, Scope } from '../onnx/graph.js';
import * as op from '../onnx/ops.js';
import type { ProjectorConfig, TensorSource } from '../weights/types.js';
import { expectShape, floatTensor, matrix, type VisionDtype } from './weights.js';

export const PROJECTOR_WEIGHTS = {
  fc1Weight: '0.weight', // [hidden, input]
  fc1Bias: '0.bias',
  fc2Weight: '2.weight', // [hidden, hidden]
  fc2Bias: '2.bias',
} as const;

/** features [1, P, input] -> rows [1, P, hidden]. */
export function projectorGraph(
  g: Graph,
  features: string,
  cfg: ProjectorConfig,
  w: TensorSource,
  dtype: VisionDtype,
): string {
  const n = PROJECTOR_WEIGHTS;
  expectShape(w, n.fc1Weight, [cfg.hiddenSize, cfg.inputSize]);
  expectShape(w, n.fc2Weight, [cfg.hiddenSize, cfg.hiddenSize]);
  const s = new Scope(g, '/projector');
  const fc1 = s.child('0');
  const h = op.linear(fc1, features, matrix(w, n.fc1Weight), {
    format: dtype,
    bias: floatTensor(fc1, w, n.fc1Bias),
  });
  const act = op.gelu(s.child('1'), h);
  const fc2 = s.child('2');
  return op.linear(fc2, act, matrix(w, n.fc2Weight), { format: dtype, bias: floatTensor(fc2, w, n.fc2Bias) });
}
