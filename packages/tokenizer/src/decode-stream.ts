// Streaming decode for generation: text comes out as soon as it forms whole
// characters; a character split across tokens is held back until complete.
import type { DecodeStream } from './types.js';

/** For tokenizers whose tokens are byte strings: UTF-8 decoding in streaming mode does the holding back. */
export class ByteDecodeStream implements DecodeStream {
  // ignoreBOM: a U+FEFF the tokens encode is text (decode() keeps it), not a byte-order mark to drop.
  private decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  constructor(private readonly bytesOf: (id: number) => Uint8Array | null) {}

  push(id: number): string {
    const bytes = this.bytesOf(id);
    if (bytes === null || bytes.length === 0) return '';
    return this.decoder.decode(bytes, { stream: true });
  }

  flush(): string {
    const rest = this.decoder.decode();
    this.decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    return rest;
  }
}

/**
 * For any tokenizer: decodes a window of recent ids and emits what the new id
 * added, holding back text that ends in U+FFFD (an incomplete character) —
 * the approach of HF's `DecodeStream`.
 */
export class PrefixDecodeStream implements DecodeStream {
  private ids: number[] = [];
  private prefixIndex = 0;
  private readIndex = 0;
  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly check: (id: number) => void,
  ) {}

  push(id: number): string {
    this.check(id);
    this.ids.push(id);
    const prefix = this.decode(this.ids.slice(this.prefixIndex, this.readIndex));
    const full = this.decode(this.ids.slice(this.prefixIndex));
    if (full.length > prefix.length && !full.endsWith('\ufffd') && full.startsWith(prefix)) {
      const piece = full.slice(prefix.length);
      this.prefixIndex = this.readIndex;
      this.readIndex = this.ids.length;
      // Keep the window short: only ids after prefixIndex are ever decoded again.
      if (this.prefixIndex > 64) {
        this.ids = this.ids.slice(this.prefixIndex);
        this.readIndex -= this.prefixIndex;
        this.prefixIndex = 0;
      }
      return piece;
    }
    return '';
  }

  flush(): string {
    const prefix = this.decode(this.ids.slice(this.prefixIndex, this.readIndex));
    const full = this.decode(this.ids.slice(this.prefixIndex));
    this.ids = [];
    this.prefixIndex = 0;
    this.readIndex = 0;
    return full.startsWith(prefix) ? full.slice(prefix.length) : full;
  }
}
