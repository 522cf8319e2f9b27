import type { Observation } from './observations.js';

/**
 * What counts as a mention of each observation: phrases matched as substrings of the cleaned, lower-cased
 * sentence (so "effusion" also finds "effusions"), and exclusion phrases whose match, where it overlaps a
 * mention, cancels it ("pericardial effusion" is not a pleural effusion). Written from the clinical meaning of
 * each observation.
 *
 * The "No Finding" entry lists other abnormalities (not among the 13 observations) whose positive or uncertain
 * mention rules out No Finding.
 */
export interface ObservationLexicon {
  mentions: string[];
  exclusions: string[];
  /** Mentions that only suggest the observation: when not negated they read as uncertain. */
  suggestive?: string[];
}

export const LEXICON: Record<Observation, ObservationLexicon> = {
  'No Finding': {
    mentions: [
      'emphysema',
      'blunt',
      'hernia',
      'calcif',
      'granulom',
      'scoliosis',
      'degenerat',
      'tortuous',
      'hyperinflat',
      'hyperexpansion',
      'eventration',
      'deformity',
      'flattening',
      'density',
      'densities',
      'prominen',
      'elevation',
      'sequela',
      'wedging',
      'atheroscler',
      'ectatic',
      'lymph',
      'kyphosis',
      'pneumomediastinum',
      'pneumoperitoneum',
      'bronchiectasis',
      'foreign body',
      'bulla',
      'volume loss',
      'bullet',
      'tracheostomy',
      'osteodystrophy',
    ],
    exclusions: [],
  },
  'Enlarged Cardiomediastinum': {
    mentions: [
      'cardiomediastinal silhouette',
      'mediastinal silhouette',
      'contour',
      'mediastinal configuration',
      'cardiomediastinum',
      'enlarged mediastin',
      'widened mediastin',
      ' mediastinum',
    ],
    exclusions: [],
  },
  Cardiomegaly: {
    mentions: [
      'cardiomegaly',
      'the heart',
      'heart size',
      'cardiac enlargement',
      'cardiac size',
      'cardiac shadow',
      'cardiac contour',
      'cardiac silhouette',
      'enlarged heart',
      'heart enlarge',
    ],
    exclusions: [
      'over the cardiac silhouette',
      'overlying the cardiac silhouette',
      'over the heart',
      'behind the heart',
    ],
  },
  'Lung Lesion': {
    mentions: [
      'mass',
      'nodule',
      'nodular densit',
      'nodular opaci',
      'lump',
      'cavitary lesion',
      'carcinoma',
      'neoplasm',
      'tumor',
      'metasta',
    ],
    exclusions: ['calcified nodul', 'massive'],
  },
  'Lung Opacity': {
    mentions: [
      'opaci',
      'infiltrat',
      'airspace disease',
      'air space disease',
      'air-space disease',
      'increased density',
      'reticula',
      'interstitial marking',
      'interstitial pattern',
      'interstitial lung',
      'scar',
      'peribronchial thickening',
      'wall thickening',
    ],
    exclusions: ['pleural scar'],
  },
  Edema: {
    mentions: [
      'edema',
      'heart failure',
      'chf',
      'vascular congestion',
      'pulmonary congestion',
      'indistinctness',
      'vascular prominence',
    ],
    exclusions: [],
    suggestive: ['vascular congestion', 'vascular prominence'],
  },
  Consolidation: { mentions: ['consolidat'], exclusions: [] },
  Pneumonia: { mentions: ['pneumonia', 'infection', 'infectious'], exclusions: [] },
  Atelectasis: { mentions: ['atelecta', 'collapse'], exclusions: [] },
  Pneumothorax: { mentions: ['pneumothora'], exclusions: [] },
  'Pleural Effusion': {
    mentions: ['effusion', 'pleural fluid'],
    exclusions: ['pericardial effusion'],
  },
  'Pleural Other': {
    mentions: [
      'pleural thickening',
      'fibrothorax',
      'fibrosis',
      'pleural scar',
      'pleural parenchymal scar',
      'pleuroparenchymal scar',
      'pleuro-parenchymal scar',
    ],
    exclusions: [],
  },
  Fracture: { mentions: ['fracture'], exclusions: [] },
  'Support Devices': {
    mentions: [
      'line',
      'tube',
      'plate',
      'pacer',
      'pacemaker',
      'picc',
      'catheter',
      'wire',
      'valve',
      'hardware',
      'device',
      'drain',
      'coil',
      'filter',
      'screw',
      'electrode',
      'cath',
      'defibrillator',
      'aicd',
      'port-a',
      'portacath',
      'sheath',
      'marker',
      'arthroplasty',
    ],
    exclusions: ['midline', 'borderline', 'curvilinear', 'baseline', 'outline', 'midclavicular line'],
  },
};
