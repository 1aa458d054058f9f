import { BpmnModdle } from 'bpmn-moddle';
import ordoDescriptor from './ordo.json' with { type: 'json' };

/**
 * Parsing BPMN XML into moddle elements, with the `ordo:` extension known.
 *
 * Input comes from analysts' uploads and other tools (the MIWG files are ISO-8859-1), so this is where
 * encodings are decoded and hostile XML is refused before any parser sees it.
 */

/** A moddle element as bpmn-moddle hands it out. Loosely typed on purpose: the compiler narrows it. */
export interface ModdleElement {
  $type: string;
  id?: string;
  name?: string;
  $parent?: ModdleElement;
  $attrs?: Record<string, string>;
  [key: string]: unknown;
}

export interface ParseWarning {
  elementId: string | null;
  message: string;
}

export interface ParsedDefinitions {
  definitions: ModdleElement;
  warnings: ParseWarning[];
  /** The XML as text, decoded from whatever encoding it declared. */
  xml: string;
}

export class BpmnParseError extends Error {
  readonly code = 'BPMN_UNREADABLE' as const;
  constructor(
    message: string,
    readonly line: number | null = null,
  ) {
    super(message);
  }
}

/** Analysts' diagrams are a few hundred kB at most; past this a file is refused before parsing. */
export const MAX_BPMN_BYTES = 5 * 1024 * 1024;

export const ORDO_NAMESPACE = ordoDescriptor.uri;
export { ordoDescriptor };

export function createModdle() {
  return new BpmnModdle({ ordo: ordoDescriptor });
}

/** Decode bytes honouring a BOM or the XML declaration's encoding; UTF-8 otherwise. */
export function decodeXml(input: string | Uint8Array): string {
  if (typeof input === 'string') return input.replace(/^\uFEFF/, '');
  const bytes = input;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
  const encoding = declared ?? 'utf-8';
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    throw new BpmnParseError(`The XML declares the encoding "${declared}", which Ordo cannot read.`);
  }
  try {
    return decoder.decode(bytes);
  } catch {
    const at = encoding === 'utf-8' || encoding === 'utf8' ? firstInvalidUtf8(bytes) : -1;
    if (at < 0) throw new BpmnParseError(`The file is not valid ${encoding.toUpperCase()} text, although ${declared ? 'its XML declaration says so' : 'XML without a declaration must be'}.`);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    const hex = bytes[at]!.toString(16).toUpperCase().padStart(2, '0');
    throw new BpmnParseError(`The file is not valid UTF-8 text, although ${declared ? 'its XML declaration says so' : 'XML without a declaration must be'}: byte 0x${hex} at offset ${at} cannot start or continue a character. Save it as UTF-8, or declare its real encoding (e.g. encoding="ISO-8859-1").`, line);
  }
}

/** Offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF), or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const [n, min, max] = b < 0x80 ? [0, 0, 0] : b >= 0xc2 && b <= 0xdf ? [1, 0x80, 0xbf] : b === 0xe0 ? [2, 0xa0, 0xbf] : b === 0xed ? [2, 0x80, 0x9f] : b >= 0xe1 && b <= 0xef ? [2, 0x80, 0xbf] : b === 0xf0 ? [3, 0x90, 0xbf] : b >= 0xf1 && b <= 0xf3 ? [3, 0x80, 0xbf] : b === 0xf4 ? [3, 0x80, 0x8f] : [-1, 0, 0];
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? min : 0x80) || c > (k === 1 ? max : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

/** Deeply nested sub-processes and extension elements stay far below this; 100,000 levels is an attack. */
export const MAX_XML_DEPTH = 200;

// Comments, CDATA and processing instructions are skipped; a tag's attributes are quoted, so a ">" inside one does not end it.
// An unterminated comment or CDATA runs to the end of the text (`$`), or every later "<!--" would rescan it.
const XML_TAGS = /<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<\?[\s\S]*?(?:\?>|$)|<(\/?)[A-Za-z_][\w.:-]*(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>/g;

/** Offset of the first element nested deeper than MAX_XML_DEPTH, or null; one linear scan, before any parser. */
function firstTooDeep(xml: string): number | null {
  let depth = 0;
  for (const m of xml.matchAll(XML_TAGS)) {
    if (m[0].startsWith('<!') || m[0].startsWith('<?')) continue;
    if (m[1] === '/') depth--;
    else if (m[2] !== '/' && ++depth > MAX_XML_DEPTH) return m.index;
  }
  return null;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Parse BPMN XML. Throws BpmnParseError (with a message an analyst can act on) for input that is not
 * BPMN at all; returns moddle's warnings (unknown elements, unresolved references) for the caller to judge.
 */
export async function parseBpmn(input: string | Uint8Array): Promise<ParsedDefinitions> {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > MAX_BPMN_BYTES) {
    throw new BpmnParseError(`The file is ${Math.ceil(size / 1024)} kB; diagrams larger than ${MAX_BPMN_BYTES / 1024 / 1024} MB are refused.`);
  }
  // Once decoded, the text is Unicode whatever the declaration said; say so, or moddle warns about it.
  const xml = decodeXml(input).replace(/^(\s*<\?xml[^>]*encoding\s*=\s*)(["'])[A-Za-z0-9._-]+\2/, '$1$2UTF-8$2');
  if (xml.trim() === '') throw new BpmnParseError('The file is empty.');
  // DTDs serve no purpose in BPMN and are how entity-expansion bombs and external entities get in.
  const doctype = /<!DOCTYPE|<!ENTITY/i.exec(xml);
  if (doctype) {
    throw new BpmnParseError('The file contains a DOCTYPE or ENTITY declaration; BPMN files must not, and Ordo refuses them.', lineOf(xml, doctype.index));
  }
  const tooDeep = firstTooDeep(xml);
  if (tooDeep !== null) {
    throw new BpmnParseError(`Elements are nested more than ${MAX_XML_DEPTH} levels deep; no diagram needs that, and the modeler and the engine walk them recursively.`, lineOf(xml, tooDeep));
  }
  let result: { rootElement: ModdleElement; warnings: Array<{ message: string; element?: ModdleElement; error?: Error }> };
  try {
    result = (await createModdle().fromXML(xml, 'bpmn:Definitions')) as unknown as typeof result;
  } catch (err) {
    const e = err as Error & { warnings?: unknown[] };
    const message = (e.message || 'unreadable XML').split('\n')[0]!.replace(/\s+/g, ' ').trim();
    const line = /line:\s*(\d+)/i.exec(e.message ?? '')?.[1];
    throw new BpmnParseError(`The file is not a BPMN 2.0 document: ${message}`, line ? Number(line) : null);
  }
  const warnings = result.warnings.map((w) => ({
    elementId: (w.element && typeof w.element.id === 'string' ? w.element.id : null) ?? null,
    message: w.message.split('\n')[0]!.trim(),
  }));
  return { definitions: result.rootElement, warnings, xml };
}
