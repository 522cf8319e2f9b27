/** Unit checks of the labeler's individual rules: text cleaning, mentions, negation/uncertainty scope, aggregation. */
import { describe, expect, it } from 'vitest';
import {
  cleanReport,
  type Labels14,
  labelReport,
  splitSentences,
} from '../../../src/eval/labels/chexpert/index.js';

/** The non-blank labels of a report, for compact expectations. */
function mentioned(text: string): Partial<Labels14> {
  return Object.fromEntries(Object.entries(labelReport(text)).filter(([, v]) => v !== null));
}

describe('text preparation', () => {
  it('lower-cases, reads a/b as "a or b", spaces punctuation and splits sentences', () => {
    expect(cleanReport('Atelectasis/Scarring..  No  effusion,pneumothorax')).toBe(
      'atelectasis or scarring. no effusion, pneumothorax',
    );
    expect(splitSentences('no effusion. 1. stable heart. 2. clear lungs.')).toEqual([
      'no effusion.',
      '1. stable heart.',
      '2. clear lungs.',
    ]);
  });
});

describe('mentions and exclusions', () => {
  it('does not read a pericardial effusion as a pleural effusion', () => {
    expect(labelReport('Small pericardial effusion.')['Pleural Effusion']).toBeNull();
    expect(labelReport('Small pleural effusion.')['Pleural Effusion']).toBe(1);
  });

  it('does not read the midline trachea or a borderline heart as support devices', () => {
    expect(labelReport('The trachea is midline.')['Support Devices']).toBeNull();
    expect(labelReport('Right PICC line with tip in the SVC.')['Support Devices']).toBe(1);
  });

  it('does not count a calcified nodule as a lung lesion', () => {
    expect(labelReport('Calcified nodule in the left upper lobe.')['Lung Lesion']).toBeNull();
    expect(labelReport('Noncalcified nodule in the left upper lobe.')['Lung Lesion']).toBeNull();
    expect(labelReport('Spiculated nodule in the left upper lobe.')['Lung Lesion']).toBe(1);
  });
});

describe('negation scope', () => {
  it('negates every item of a list after "no"', () => {
    expect(mentioned('No focal consolidation, pneumothorax, or pleural effusion.')).toEqual({
      'No Finding': 1,
      Consolidation: 0,
      Pneumothorax: 0,
      'Pleural Effusion': 0,
    });
  });

  it('stops at a clause break', () => {
    const l = labelReport('No pneumothorax, but there is a small right pleural effusion.');
    expect(l.Pneumothorax).toBe(0);
    expect(l['Pleural Effusion']).toBe(1);
  });

  it('negates the subject of a negative predicate, and only that subject', () => {
    expect(labelReport('Heart size and mediastinal contour are within normal limits.').Cardiomegaly).toBe(0);
    expect(labelReport('Pneumothorax is no longer seen.').Pneumothorax).toBe(0);
    const l = labelReport('There is cardiomegaly and the lungs are clear.');
    expect(l.Cardiomegaly).toBe(1);
  });

  it('reaches into one infinitive, not a second one, and none in a sentence without a verb', () => {
    const l = labelReport(
      'There is no pleural line to suggest pneumothorax or blunting to suggest pleural effusion.',
    );
    expect(l.Pneumothorax).toBe(0);
    expect(l['Pleural Effusion']).toBe(1);
    expect(labelReport('There is no focal opacity to suggest a pneumonia.').Pneumonia).toBe(0);
    expect(labelReport('No focal airspace consolidation to suggest pneumonia.').Pneumonia).toBe(1);
  });

  it('does not negate what changed nothing ("no change in ...")', () => {
    expect(labelReport('No change in the right middle lobe opacity.')['Lung Opacity']).toBe(1);
  });

  it('reads "normal heart size" and "normal in size and contour" as negative', () => {
    expect(labelReport('Normal heart size.').Cardiomegaly).toBe(0);
    expect(mentioned('The heart is normal in size and contour.')).toEqual({
      'No Finding': 1,
      'Enlarged Cardiomediastinum': 0,
      Cardiomegaly: 0,
    });
  });
});

describe('uncertainty', () => {
  it('treats possible / may / suspicious for as uncertain', () => {
    expect(labelReport('Possible small left effusion.')['Pleural Effusion']).toBe(-1);
    expect(labelReport('There may be a small pneumothorax.').Pneumothorax).toBe(-1);
    expect(labelReport('Opacity suspicious for pneumonia.').Pneumonia).toBe(-1);
  });

  it('does not treat "likely" or "probably" alone as cues, but "less likely" is one', () => {
    expect(labelReport('Opacity, likely atelectasis.').Atelectasis).toBe(1);
    expect(labelReport('Pneumonia is less likely.').Pneumonia).toBe(-1);
  });

  it('ranks "cannot be excluded" above the negation in it', () => {
    expect(labelReport('Small effusion cannot be excluded.')['Pleural Effusion']).toBe(-1);
    expect(labelReport('Cannot exclude a small pneumothorax.').Pneumothorax).toBe(-1);
    expect(labelReport('No new consolidation.').Consolidation).toBe(-1);
    expect(labelReport('No consolidation.').Consolidation).toBe(0);
  });

  it('reads alternatives ("atelectasis or scarring") as uncertain, but not a negated list', () => {
    expect(labelReport('Left basilar opacity, atelectasis or scarring.').Atelectasis).toBe(-1);
    expect(labelReport('No pneumothorax or effusion.').Pneumothorax).toBe(0);
  });

  it('labels a stable or unchanged cardiomediastinal silhouette uncertain, not stable cardiomegaly', () => {
    expect(labelReport('Stable cardiomediastinal silhouette.')['Enlarged Cardiomediastinum']).toBe(-1);
    expect(labelReport('Heart size is unchanged.').Cardiomegaly).toBe(-1);
    expect(labelReport('Stable mild cardiomegaly.').Cardiomegaly).toBe(1);
    expect(
      labelReport('The cardiomediastinal silhouette is normal and stable.')['Enlarged Cardiomediastinum'],
    ).toBe(0);
  });
});

describe('aggregation across mentions', () => {
  it('gives uncertain when a negative and an uncertain mention meet, even with a positive one', () => {
    expect(labelReport('No effusion on the right. Possible small left effusion.')['Pleural Effusion']).toBe(
      -1,
    );
    expect(
      labelReport('Small right effusion. No effusion on the left. Possible small left effusion.')[
        'Pleural Effusion'
      ],
    ).toBe(-1);
  });

  it('lets a positive mention win over a negative one', () => {
    expect(labelReport('Small left pleural effusion. No right effusion.')['Pleural Effusion']).toBe(1);
  });

  it('marks the overlapping mentions of one phrase alike ("the heart size", "nodular opacity")', () => {
    expect(labelReport('The heart size is normal.').Cardiomegaly).toBe(0);
    const l = labelReport('Possible nodular opacity in the right upper lobe.');
    expect(l['Lung Lesion']).toBe(-1);
    expect(l['Lung Opacity']).toBe(-1);
  });

  it('makes Cardiomegaly uncertain on heart failure', () => {
    const l = labelReport('Findings suggest congestive heart failure.');
    expect(l.Edema).toBe(1);
    expect(l.Cardiomegaly).toBe(-1);
    expect(labelReport('No evidence of CHF.').Cardiomegaly).toBeNull();
  });
});

describe('No Finding', () => {
  it('is 1 when nothing is found, whatever is negated', () => {
    expect(labelReport('Lungs are clear. No pneumothorax. Heart size normal.')['No Finding']).toBe(1);
  });

  it('is blank when an observation is positive or uncertain', () => {
    expect(labelReport('Possible small effusion.')['No Finding']).toBeNull();
  });

  it('ignores support devices', () => {
    const l = labelReport('Pacemaker in place. Lungs are clear. No effusion.');
    expect(l['Support Devices']).toBe(1);
    expect(l['No Finding']).toBe(1);
  });

  it('is blank when another abnormality is mentioned positively, not when negated', () => {
    expect(labelReport('Calcified granuloma. No effusion.')['No Finding']).toBeNull();
    expect(labelReport('Mild thoracic scoliosis. No effusion.')['No Finding']).toBeNull();
    expect(labelReport('No hiatal hernia. No effusion.')['No Finding']).toBe(1);
  });

  it('is 1 for an empty report (nothing found), never 0', () => {
    expect(labelReport('')['No Finding']).toBe(1);
  });
});

describe('bad input', () => {
  it('labels a 480 kB report without a sentence break in linear time', () => {
    const text =
      'no pleural effusion or pneumothorax, stable cardiomediastinal silhouette, heart size normal, '.repeat(
        5000,
      );
    const t0 = performance.now();
    const l = labelReport(text);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(l['Pleural Effusion']).toBe(0);
    expect(l.Pneumothorax).toBe(0);
  });

  it('handles text with no words at all', () => {
    expect(labelReport('... ,,, ;;').Cardiomegaly).toBeNull();
  });
});
