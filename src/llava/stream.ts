/**
 * Incremental detokenisation for streaming: text appears token by token and equals, once finished, the
 * decode of all the ids at once.
 * - Byte-fallback pieces of one character arrive as several tokens (`<0xF0>` `<0x9F>` ...); while such a run
 *   is incomplete the decode ends in U+FFFD, which is held back until the character completes.
 * - Text that could be the start of a stop string is held back until it is known not to be one.
 */

/** What streaming needs from a tokenizer (LlamaTokenizer provides it). */
export interface Detokenizer {
  readonly eosTokenId: number;
  /** Ids that `skipSpecialTokens` removes. */
  readonly specialIds: ReadonlySet<number>;
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  isByteToken(id: number): boolean;
}

const REPLACEMENT_CHARACTER = '\ufffd';

export class StreamDecoder {
  private readonly ids: number[] = [];
  private readonly tokenizer: Detokenizer;
  private readonly stopStrings: readonly string[];
  /** Decoded text that no later token can change. */
  private stable = '';
  /**
   * Only a short window of ids is re-decoded per token: `stable` covers ids[0, readOffset), and the window
   * starts at `prefixOffset`, an ordinary piece: not a byte piece (so no byte run straddles it) and not a
   * special token (which decodes to nothing, so the dummy-prefix rule would fall on the piece after it).
   * Decoding ids[prefixOffset, n) and ids[prefixOffset, readOffset) treats that first piece alike, so the
   * difference is exactly the new text of the full decode.
   */
  private prefixOffset = 0;
  private readOffset = 0;
  /** Characters of `stable` already handed out. */
  private emitted = 0;
  private stopAt = -1;

  constructor(tokenizer: Detokenizer, stopStrings: readonly string[] = []) {
    this.tokenizer = tokenizer;
    this.stopStrings = stopStrings.filter((s) => s.length > 0);
  }

  /** The stop string was seen; `text` ends just before it. */
  get stopped(): boolean {
    return this.stopAt >= 0;
  }

  /** Everything decoded so far (cut before a stop string once one is seen). */
  get text(): string {
    return this.stopAt >= 0 ? this.stable.slice(0, this.stopAt) : this.stable;
  }

  /** Add one generated token; returns the text that became final with it (often ''). */
  push(id: number): string {
    this.ids.push(id);
    if (this.stopped) return '';
    this.advance(false);
    return this.release(this.stopped ? 0 : this.partialStopLength());
  }

  /** End of generation: hand out whatever is held back (an unfinished byte run decodes to U+FFFD). */
  finish(): string {
    if (!this.stopped) this.advance(true);
    return this.release(0);
  }

  private advance(final: boolean): void {
    const decode = (to: number) =>
      this.tokenizer.decode(this.ids.slice(this.prefixOffset, to), { skipSpecialTokens: true });
    const last = this.ids.length - 1;
    const window = decode(this.ids.length);
    // Special tokens vanish from the decode, so a byte run can continue across one.
    const visible = this.ids.findLast((t) => !this.tokenizer.specialIds.has(t));
    const pending = visible !== undefined && this.tokenizer.isByteToken(visible);
    if (!final && pending && window.endsWith(REPLACEMENT_CHARACTER)) return;
    this.stable += window.slice(decode(this.readOffset).length);
    this.readOffset = this.ids.length;
    const id = this.ids[last]!;
    if (!this.tokenizer.isByteToken(id) && !this.tokenizer.specialIds.has(id)) this.prefixOffset = last;
    this.findStop();
  }

  private release(holdBack: number): string {
    const end = Math.max(this.emitted, this.text.length - holdBack);
    const out = this.text.slice(this.emitted, end);
    this.emitted = end;
    return out;
  }

  private findStop(): void {
    if (this.stopped) return;
    const longest = Math.max(0, ...this.stopStrings.map((s) => s.length));
    // Only the tail that was not searched before can hold a new match.
    const from = Math.max(0, this.emitted - longest);
    let best = -1;
    for (const s of this.stopStrings) {
      const at = this.stable.indexOf(s, from);
      if (at >= 0 && (best < 0 || at < best)) best = at;
    }
    this.stopAt = best;
  }

  /** Length of the longest suffix of the text that is a proper prefix of some stop string. */
  private partialStopLength(): number {
    const text = this.text;
    let hold = 0;
    for (const s of this.stopStrings) {
      for (let n = Math.min(s.length - 1, text.length); n > hold; n--) {
        if (text.endsWith(s.slice(0, n))) {
          hold = n;
          break;
        }
      }
    }
    return hold;
  }
}

const LEADING_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const TRAILING_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/**
 * Streams what the user will finally see: the generated text with the reference's post-processing applied as
 * it arrives (no leading whitespace; trailing whitespace and a trailing `</s>` held back until more text shows
 * they are not the end). The printed text is always a prefix of `postprocessFindings(all text)`.
 */
export class FindingsStream {
  private raw = '';
  private printed = 0;

  constructor(private readonly trailingMarker: string) {}

  push(delta: string): string {
    this.raw += delta;
    const text = this.raw.replace(LEADING_SPACE, '');
    let safe = text.replace(TRAILING_SPACE, '');
    for (let n = Math.min(this.trailingMarker.length, safe.length); n > 0; n--) {
      if (safe.endsWith(this.trailingMarker.slice(0, n))) {
        safe = safe.slice(0, -n).replace(TRAILING_SPACE, '');
        break;
      }
    }
    if (safe.length <= this.printed) return '';
    const out = safe.slice(this.printed);
    this.printed = safe.length;
    return out;
  }

  /** The rest of the final findings text. */
  end(findings: string): string {
    return findings.slice(this.printed);
  }
}
