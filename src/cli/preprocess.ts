import { resolve } from 'node:path';
import sharp from 'sharp';
import { inputError } from '../errors.js';
import {
  checkSize,
  type DicomRenderOptions,
  LLAVA_RAD_IMAGE_SIZE,
  loadImage,
  preprocessImage,
} from '../image/index.js';
import { encodeNpy } from '../util/npy.js';
import { type Command, flag, int, str } from './command.js';
import { writeAtomic } from './output.js';

const VOI_MODES = ['auto', 'window', 'lut', 'minmax', 'bits'] as const;

function voiMode(value: string | undefined): DicomRenderOptions['voi'] {
  if (value === undefined) return undefined;
  if (!(VOI_MODES as readonly string[]).includes(value))
    throw inputError('cli.bad_option', 'unknown VOI mode', {
      field: '--voi',
      expected: VOI_MODES.join(', '),
      found: value,
    });
  return value as DicomRenderOptions['voi'];
}

export const preprocessCommand: Command = {
  name: 'preprocess',
  summary:
    'Turn an image into the LLaVA-Rad model input: a float32 [1,3,S,S] tensor (.npy) and its 8-bit crop.',
  usage: 'IMAGE --out FILE.npy [--image-size 518] [--png CROP.png]',
  options: {
    out: { type: 'string', valueName: 'FILE.npy', description: 'write the float32 tensor here' },
    png: { type: 'string', valueName: 'FILE.png', description: 'write the 8-bit S x S crop as a PNG' },
    'image-size': {
      type: 'string',
      valueName: 'S',
      description: 'output side in pixels (tiny test models use 56 or 70)',
      default: String(LLAVA_RAD_IMAGE_SIZE),
    },
    'allow-lateral': {
      type: 'boolean',
      description: 'accept a lateral view (the model saw none in training)',
    },
    'allow-non-chest': {
      type: 'boolean',
      description: 'accept anything that decodes (CT, multi-frame, ...)',
    },
    voi: {
      type: 'string',
      valueName: 'MODE',
      description: `DICOM grey mapping: ${VOI_MODES.join(' | ')}`,
      default: 'auto',
    },
    'window-index': {
      type: 'string',
      valueName: 'N',
      description: 'which DICOM window to use',
      default: '0',
    },
    'keep-monochrome1': { type: 'boolean', description: 'do not invert MONOCHROME1 DICOMs' },
    equalize: {
      type: 'boolean',
      description: 'histogram-equalise DICOM output (unverified MIMIC-CXR-JPG step)',
    },
  },
  details: `Steps (SPEC.md §2): decode to 8-bit grey (DICOM: rescale, VOI window / VOI LUT / min-max, invert
MONOCHROME1), resize the shorter side to S with PIL's bicubic filter, centre-crop S x S (offsets rounded half to
even), scale to [0,1] and normalise with the OpenAI CLIP mean and std.`,
  async run(args, io) {
    const [image, ...extra] = args.positionals;
    const out = str(args, 'out');
    if (!image || extra.length > 0 || !out) {
      io.stderr('cxr preprocess: give exactly one IMAGE and --out FILE.npy (see --help)\n');
      return 2;
    }
    const imageSize = int(args, 'image-size', LLAVA_RAD_IMAGE_SIZE);
    checkSize(imageSize, '--image-size'); // before decoding a large image for nothing
    const loaded = await loadImage(resolve(io.cwd, image), {
      allowLateral: flag(args, 'allow-lateral'),
      allowNonChest: flag(args, 'allow-non-chest'),
      voi: voiMode(str(args, 'voi')),
      windowIndex: int(args, 'window-index', 0),
      invertMonochrome1: !flag(args, 'keep-monochrome1'),
      equalize: flag(args, 'equalize'),
    });
    const result = preprocessImage(loaded.raster, { imageSize });
    await writeAtomic(resolve(io.cwd, out), [
      encodeNpy({ dtype: 'float32', shape: result.shape, data: result.pixels }),
    ]);
    const png = str(args, 'png');
    if (png) {
      const bytes = await sharp(result.crop, { raw: { width: imageSize, height: imageSize, channels: 3 } })
        .png()
        .toBuffer();
      await writeAtomic(resolve(io.cwd, png), [bytes]);
    }
    const { width, height, top, left } = result.resized;
    const grey = loaded.metadata.rendering ? ` (${loaded.metadata.rendering})` : '';
    io.stderr(
      `${image}: ${loaded.metadata.width}x${loaded.metadata.height}${grey} -> ${width}x${height}, crop at (${top}, ${left}) -> [1,3,${imageSize},${imageSize}] ${out}\n`,
    );
    return 0;
  },
};
