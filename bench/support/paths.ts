/**
 * Where the benches find ../shared (fixtures and real data beside the checkout; never copied into the repository).
 * bench/support holds what the benches share with the test suite, so neither the benches import from test/ nor
 * test-only code ships in the published package.
 */
import { join, resolve } from 'node:path';

export const SHARED = resolve(import.meta.dirname, '..', '..', '..', 'shared');
export const FIXTURES = join(SHARED, 'fixtures');
export const DATA = join(SHARED, 'data');
