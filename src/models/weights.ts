/** The bridge from named checkpoint tensors (TensorSource) to graph initializers. */
import { inputError } from '../errors.js';
import type { Scope } from '../onnx/graph.js';
import type { MatrixSource } from '../onnx/ops.js';
import { bytesOf } from '../onnx/tensor.js';
import type { TensorSource } from '../weights/types.js';

export type VisionDtype = 'fp32' | 'fp16';
export type DecoderDtype = 'fp32' | 'fp16' | 'int8' | 'int4';

/**
 * A float32 initializer holding checkpoint tensor `name`, read when the graph is written. Named
 * `<top scope>.<name>` (`vision.blocks.0.ls1.gamma`) so that the checkpoint name stays visible in the model file;
 * added once per graph.
 */
export function floatTensor(s: Scope, w: TensorSource, name: string, shape?: number[]): string {
  const init = `${s.path.split('/')[1]}.${name}`;
  if (s.graph.hasInitializer(init)) return init;
  const info = w.info(name);
  const dims = shape ?? info.shape;
  if (dims.reduce((a, b) => a * b, 1) !== info.shape.reduce((a, b) => a * b, 1)) {
    throw shapeError(w, name, dims, info.shape);
  }
  return s.graph.initializer(init, 'float32', dims, async () => bytesOf(await w.readFloat32(name)));
}

/** A Linear weight [out, in] of the checkpoint, read on demand. */
export function matrix(w: TensorSource, name: string): MatrixSource {
  const shape = w.info(name).shape;
  if (shape.length !== 2) throw shapeError(w, name, ['out', 'in'], shape);
  return { out: shape[0]!, in: shape[1]!, read: () => w.readFloat32(name) };
}

/** Fails early, naming the tensor, when a checkpoint tensor does not have the shape the config implies. */
export function expectShape(w: TensorSource, name: string, expected: number[]): void {
  const found = w.info(name).shape;
  if (found.length !== expected.length || found.some((d, i) => d !== expected[i])) {
    throw shapeError(w, name, expected, found);
  }
}

function shapeError(w: TensorSource, name: string, expected: (number | string)[], found: number[]) {
  return inputError('weights.shape', 'tensor has an unexpected shape', {
    file: w.origin,
    field: name,
    expected: `[${expected.join(', ')}]`,
    found: `[${found.join(', ')}]`,
  });
}
