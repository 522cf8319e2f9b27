/**
 * Reads a SentencePiece `tokenizer.model` (a serialised `sentencepiece.ModelProto`) without a .proto file:
 * only the fields that encoding and decoding need, with the schema's defaults for absent ones.
 * Field numbers are those of sentencepiece_model.proto.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs/minimal.js';
import { inputError } from '../errors.js';

/** `ModelProto.SentencePiece.Type`. */
export enum PieceType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Byte = 6,
  Unused = 5,
}

export interface SentencePiece {
  piece: string;
  score: number;
  type: PieceType;
}

/** `TrainerSpec.ModelType`. */
export enum ModelType {
  Unigram = 1,
  Bpe = 2,
  Word = 3,
  Char = 4,
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  modelType: ModelType;
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  /** What `decode` prints for the unknown piece (SentencePiece default " \u2047 "). */
  unkSurface: string;
  treatWhitespaceAsSuffix: boolean;
  normalizer: {
    name: string;
    /** Non-empty for NFKC-style models; only the identity normaliser is supported. */
    precompiledCharsmapBytes: number;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

// Field numbers (sentencepiece_model.proto).
const MODEL = { pieces: 1, trainerSpec: 2, normalizerSpec: 3 } as const;
const PIECE = { piece: 1, score: 2, type: 3 } as const;
const TRAINER = {
  modelType: 3,
  treatWhitespaceAsSuffix: 24,
  byteFallback: 35,
  unkId: 40,
  bosId: 41,
  eosId: 42,
  padId: 43,
  unkSurface: 44,
} as const;
const NORMALIZER = {
  name: 1,
  precompiledCharsmap: 2,
  addDummyPrefix: 3,
  removeExtraWhitespaces: 4,
  escapeWhitespaces: 5,
} as const;

const WIRE_VARINT = 0;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

type Reader = protobuf.Reader;

/** Visit every field of one message; `visit` returns true when it consumed the value. */
function eachField(bytes: Uint8Array, visit: (field: number, wire: number, r: Reader) => boolean): void {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (!visit(field, wire, r)) r.skipType(wire);
  }
}

function readPiece(bytes: Uint8Array): SentencePiece {
  const p: SentencePiece = { piece: '', score: 0, type: PieceType.Normal };
  eachField(bytes, (field, wire, r) => {
    if (field === PIECE.piece && wire === WIRE_LENGTH) p.piece = r.string();
    else if (field === PIECE.score && wire === WIRE_FIXED32) p.score = r.float();
    else if (field === PIECE.type && wire === WIRE_VARINT) p.type = r.int32();
    else return false;
    return true;
  });
  return p;
}

function readTrainer(bytes: Uint8Array, m: SentencePieceModel): void {
  eachField(bytes, (field, wire, r) => {
    if (wire === WIRE_VARINT) {
      const v = r.int32();
      if (field === TRAINER.modelType) m.modelType = v;
      else if (field === TRAINER.treatWhitespaceAsSuffix) m.treatWhitespaceAsSuffix = v !== 0;
      else if (field === TRAINER.byteFallback) m.byteFallback = v !== 0;
      else if (field === TRAINER.unkId) m.unkId = v;
      else if (field === TRAINER.bosId) m.bosId = v;
      else if (field === TRAINER.eosId) m.eosId = v;
      else if (field === TRAINER.padId) m.padId = v;
      return true;
    }
    if (field === TRAINER.unkSurface && wire === WIRE_LENGTH) {
      m.unkSurface = r.string();
      return true;
    }
    return false;
  });
}

function readNormalizer(bytes: Uint8Array, m: SentencePieceModel): void {
  const n = m.normalizer;
  eachField(bytes, (field, wire, r) => {
    if (field === NORMALIZER.name && wire === WIRE_LENGTH) n.name = r.string();
    else if (field === NORMALIZER.precompiledCharsmap && wire === WIRE_LENGTH)
      n.precompiledCharsmapBytes = r.bytes().length;
    else if (field === NORMALIZER.addDummyPrefix && wire === WIRE_VARINT) n.addDummyPrefix = r.bool();
    else if (field === NORMALIZER.removeExtraWhitespaces && wire === WIRE_VARINT)
      n.removeExtraWhitespaces = r.bool();
    else if (field === NORMALIZER.escapeWhitespaces && wire === WIRE_VARINT) n.escapeWhitespaces = r.bool();
    else return false;
    return true;
  });
}

/** The schema's defaults, for fields a model file leaves out (no pieces). */
export function emptyModel(): SentencePieceModel {
  return {
    pieces: [],
    modelType: ModelType.Unigram,
    byteFallback: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkSurface: ' \u2047 ',
    treatWhitespaceAsSuffix: false,
    normalizer: {
      name: '',
      precompiledCharsmapBytes: 0,
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    },
  };
}

/** Parse a ModelProto; `file` names the source in errors. */
export function parseSentencePieceModel(bytes: Uint8Array, file = '<buffer>'): SentencePieceModel {
  const m = emptyModel();
  try {
    eachField(bytes, (field, wire, r) => {
      if (wire !== WIRE_LENGTH) return false;
      if (field === MODEL.pieces) m.pieces.push(readPiece(r.bytes()));
      else if (field === MODEL.trainerSpec) readTrainer(r.bytes(), m);
      else if (field === MODEL.normalizerSpec) readNormalizer(r.bytes(), m);
      else return false;
      return true;
    });
  } catch (e) {
    throw inputError('tokenizer.invalid_model', `not a SentencePiece model (${(e as Error).message})`, {
      file,
      cause: e,
    });
  }
  if (m.pieces.length === 0)
    throw inputError('tokenizer.invalid_model', 'not a SentencePiece model: no pieces', { file });
  return m;
}

export function readSentencePieceModel(path: string): SentencePieceModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw inputError('tokenizer.missing', `cannot read the tokenizer model (${(e as Error).message})`, {
      file: path,
      cause: e,
    });
  }
  return parseSentencePieceModel(bytes, path);
}
