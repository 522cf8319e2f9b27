export {
  type AdditiveStats,
  additiveCount,
  type BootstrapOptions,
  bootstrapAdditive,
  bootstrapDistribution,
  bootstrapEstimate,
  bootstrapMany,
  bootstrapMean,
  bootstrapSignature,
  DEFAULT_CONFIDENCE,
  DEFAULT_RESAMPLES,
  DEFAULT_SEED,
  type Estimate,
  pointValue,
  type ReportConvention,
  type RngKind,
  resampleIndices,
  resolveBootstrap,
  summarise,
  sumRows,
} from './bootstrap.js';
export {
  approximateRandomisation,
  comparePaired,
  DEFAULT_RANDOMISATION_TRIALS,
  type PairedDifference,
  type PairedOptions,
  pairedBootstrap,
} from './paired.js';
export { Pcg64 } from './pcg64.js';
export { mean, median, pairwiseSum, percentile } from './quantile.js';
export { Mt19937 } from './rng.js';
