export interface CorpusDocument {
  file: string;
  text: string;
}
export function corpusGroups(): string[][];
export function buildCorpus(maxBytes: number, options?: { maxDocumentChars?: number }): { documents: CorpusDocument[]; bytes: number };
export function shortLines(texts: readonly string[], options?: { count?: number; stride?: number }): string[];
