// GPT-2's reversible byte ↔ printable-character map: every byte gets a visible
// character so BPE vocabularies can be stored as JSON strings.

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Array<string>(256);
  for (const b of printable) table[b] = String.fromCharCode(b);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + next++);
  }
  return table;
}

/** byte → its byte-level character. */
export const byteToChar: readonly string[] = buildByteToChar();

/** byte-level character code → byte, or -1 for characters outside the map. */
export const charCodeToByte: Int16Array = (() => {
  const table = new Int16Array(0x144).fill(-1);
  for (let b = 0; b < 256; b++) table[byteToChar[b].charCodeAt(0)] = b;
  return table;
})();

/**
 * The bytes a byte-level token stands for, or null when one of its characters
 * is outside the map (added tokens such as `<|eot_id|>` are mostly inside it).
 */
export function byteLevelTokenToBytes(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const b = code < charCodeToByte.length ? charCodeToByte[code] : -1;
    if (b < 0) return null;
    out[i] = b;
  }
  return out;
}
