/**
 * cxr's CheXprompt prompt, written for this project: the instructions, the six error types, clinical
 * significance, and worked examples whose report texts we made up (nothing from credentialed datasets).
 *
 * Template syntax (also for `--prompt-file`): an optional `[[system]]` section and a `[[user]]` section (a file
 * without section markers is all user message), with named placeholders `{{reference}}` and `{{candidate}}`
 * (required) and `{{output_format}}` and `{{examples}}` (optional; filled for the chosen answer format).
 */

export const DEFAULT_TEMPLATE = `[[system]]
You are an experienced radiologist who checks chest X-ray reports for factual errors. You compare a candidate
findings section with a reference findings section written for the same study, count the candidate's errors,
and answer only in the format you are asked for.

[[user]]
Compare the CANDIDATE findings with the REFERENCE findings of the same chest radiograph. The reference is correct
by definition. Count the errors in the candidate, giving each error exactly one of these six types:

A. False finding: the candidate reports a finding that the reference does not support.
B. Omitted finding: the candidate leaves out an abnormal finding, device or other positive observation that the
   reference reports.
C. Wrong location or position: the candidate puts a finding on the wrong side or in the wrong part of the chest,
   or describes a tube, line or other device in the wrong position.
D. Wrong severity: the candidate misstates how large, extensive or severe a finding is.
E. Unsupported comparison: the candidate compares with a prior study (new, unchanged, improved, worse) where the
   reference makes no such comparison.
F. Omitted comparison: the candidate leaves out a comparison from the reference that describes a change since a
   prior study.

Then decide for every error whether it is clinically significant or clinically insignificant. An error is
clinically significant when it could plausibly change the patient's treatment, management or outcome, such as a
missed pneumothorax, an invented consolidation, a tube called well placed when it is not, or an effusion put on
the wrong side. It is clinically insignificant when it would not, such as a missed mention of mild degenerative
change of the spine or a small misstatement about a stable, benign finding.

Rules:
- Wording, order and style that keep the meaning are not errors.
- Leaving out a purely negative statement (such as "no pneumothorax") is not an error; stating a finding the
  reference rules out is a false finding.
- Count an error once, under the one type that fits best.
- "XXXX" marks a word removed for privacy; ignore it.

{{output_format}}

{{examples}}

REFERENCE: {{reference}}
CANDIDATE: {{candidate}}
`;

/** A worked example: report texts we wrote, and the counts we would give. */
export interface PromptExample {
  reference: string;
  candidate: string;
  significant: Partial<Record<'A' | 'B' | 'C' | 'D' | 'E' | 'F', number>>;
  insignificant: Partial<Record<'A' | 'B' | 'C' | 'D' | 'E' | 'F', number>>;
}

export const DEFAULT_EXAMPLES: PromptExample[] = [
  {
    reference: 'Heart size is normal. There is a small left pleural effusion. No pneumothorax.',
    candidate: 'Normal heart size. Moderate right pleural effusion. No pneumothorax.',
    significant: { C: 1 },
    insignificant: { D: 1 },
  },
  {
    reference:
      'The lungs are clear. The cardiomediastinal silhouette is within normal limits. Mild degenerative changes of the thoracic spine.',
    candidate:
      'The heart and mediastinum are normal. Right lower lobe consolidation, new compared with the prior study.',
    significant: { A: 1 },
    insignificant: { B: 1, E: 1 },
  },
  {
    reference:
      'Endotracheal tube tip 4 cm above the carina. Bilateral perihilar opacities have increased since the prior study, consistent with worsening pulmonary edema. Small bilateral pleural effusions.',
    candidate:
      'Endotracheal tube in standard position. Bilateral perihilar opacities consistent with pulmonary edema. Small bilateral pleural effusions.',
    significant: { F: 1 },
    insignificant: {},
  },
  {
    reference: 'No focal consolidation, pleural effusion or pneumothorax. Heart size is normal.',
    candidate:
      'The lungs are clear without effusion or pneumothorax. The cardiac silhouette is not enlarged.',
    significant: {},
    insignificant: {},
  },
];
