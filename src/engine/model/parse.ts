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
    throw new BpmnParseError(`The file is not valid ${encoding.toUpperCase()} text, although its XML declaration says so.`);
  }
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
