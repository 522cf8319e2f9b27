/** The hint `cxr findings` and `cxr import` add when the released weights are missing. */
import { inputError, isCxrError } from '../errors.js';

export const PULL_HINT = 'get the released weights with `cxr pull`';

/** Add the `cxr pull` hint to a missing-weights error. */
export async function withPullHint<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isCxrError(e) && e.code.startsWith('weights.missing'))
      throw inputError(e.code, `${e.message}; ${PULL_HINT}`, { cause: e });
    throw e;
  }
}
