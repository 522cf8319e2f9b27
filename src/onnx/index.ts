/** onnx/: a small ONNX graph builder, typed op helpers and block quantisation. */
export { byteSize, type Dim, Graph, OPSETS, PROTO_LIMIT_BYTES, Scope, type TensorBytes } from './graph.js';
export * as op from './ops.js';
export {
  type AccuracyLevel,
  DEFAULT_ACCURACY_LEVEL,
  type LinearOptions,
  type MatrixSource,
  type WeightFormat,
} from './ops.js';
export { OnnxDataType, type OnnxDtype } from './proto.js';
export {
  type BlockQuantized,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_INT4_BLOCK_SIZE,
  dequantizeBlockwise,
  INT4_BLOCK_SIZES,
  type Int4BlockSize,
  type QuantBits,
  quantizeBlockwise,
} from './quantize.js';
export { float16Bits, float16ToFloat32, toFloat16 } from './tensor.js';
