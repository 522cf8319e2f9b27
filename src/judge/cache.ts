/**
 * A persistent answer cache in SQLite, so a rerun costs nothing and an interrupted run resumes where it stopped.
 * Each answer is committed the moment it arrives (WAL mode); the key hashes everything that could change it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { inputError } from '../errors.js';
import type { JudgeAnswer, JudgeParams } from './types.js';

/**
 * The slice of better-sqlite3's API used here. The package ships no types and @types/better-sqlite3 tracks an
 * older major; typing our few calls locally keeps the dependency list as it is.
 */
interface SqliteStatement<Row> {
  get(...params: unknown[]): Row | undefined;
  run(...params: unknown[]): unknown;
}
interface SqliteDatabase {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  prepare<Row = unknown>(source: string): SqliteStatement<Row>;
  close(): void;
}
type SqliteConstructor = new (path: string) => SqliteDatabase;
const Database = createRequire(import.meta.url)('better-sqlite3') as SqliteConstructor;

/** Bump when the stored row's meaning changes; old rows then simply stop matching. */
const CACHE_SCHEMA_VERSION = 1;

export interface CacheKeyParts {
  /** Judge family (`openai`, `azure`, `http`, `gguf`) and, for HTTP judges, the base URL. */
  judge: string;
  model: string;
  promptHash: string;
  params: JudgeParams;
  /** Output format asked for (list or json): the same prompt in another format is another question. */
  format: string;
  candidate: string;
  reference: string;
}

export function cacheKey(parts: CacheKeyParts): string {
  const { temperature, maxTokens, seed } = parts.params;
  const canonical = JSON.stringify([
    CACHE_SCHEMA_VERSION,
    parts.judge,
    parts.model,
    parts.promptHash,
    parts.format,
    { temperature, maxTokens, seed: seed ?? null },
    parts.candidate,
    parts.reference,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

interface CachedRow {
  text: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
}

export class AnswerCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, writes: 0 };
  private readonly getStmt: SqliteStatement<CachedRow>;
  private readonly putStmt: SqliteStatement<never>;

  private constructor(private readonly db: SqliteDatabase) {
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS answers (
      key TEXT PRIMARY KEY, judge TEXT NOT NULL, model TEXT NOT NULL, text TEXT NOT NULL,
      prompt_tokens INTEGER, completion_tokens INTEGER, created TEXT NOT NULL)`);
    this.getStmt = db.prepare<CachedRow>(
      'SELECT text, prompt_tokens, completion_tokens FROM answers WHERE key = ?',
    );
    this.putStmt = db.prepare('INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  /** Open (creating) the cache file; `:memory:` keeps it for this process only. */
  static open(path: string): AnswerCache {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      return new AnswerCache(new Database(path));
    } catch (e) {
      throw inputError('judge.cache_unusable', `cannot open the answer cache: ${(e as Error).message}`, {
        file: path,
        expected: 'a writable SQLite file',
      });
    }
  }

  get(key: string): JudgeAnswer | undefined {
    const row = this.getStmt.get(key);
    if (!row) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    const usage =
      row.prompt_tokens === null || row.completion_tokens === null
        ? undefined
        : { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens };
    return { text: row.text, usage };
  }

  put(key: string, answer: JudgeAnswer, source: { judge: string; model: string }): void {
    this.putStmt.run(
      key,
      source.judge,
      source.model,
      answer.text,
      answer.usage?.promptTokens ?? null,
      answer.usage?.completionTokens ?? null,
      new Date().toISOString(),
    );
    this.stats.writes++;
  }

  close(): void {
    this.db.close();
  }
}
