import { OrderSchema } from '../../../orders/schema.ts';
import { formatPath, getPath, parsePath, type FieldChange, type PathSegment } from '../../../tickets/fields.ts';

/**
 * The ticket page's Fix form: only the fields the ticket's issues point at, as inputs whose kind comes
 * from the order schema (text, whole number, yes/no, one of a list). An issue about a whole object
 * (`shippingAddress`, `invoice.address`, `payment`, `lines[2]`) shows that object's fields. Form values
 * come back as `v.<path>` and are turned into typed values for a merge patch.
 */

export const FIELD_PREFIX = 'v.';

type SchemaNode = {
  type?: string;
  anyOf?: SchemaNode[];
  const?: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  maxLength?: number;
  patternProperties?: unknown;
};

/** Fields that identify the order, or are the channel's own: never edited from a ticket. */
const NOT_EDITABLE = new Set(['channel', 'externalId', 'metadata', 'placedAt']);

/** A node without its `null` alternative; a union of constants becomes an enumeration. */
function unwrap(node: SchemaNode | undefined): SchemaNode | null {
  if (!node) return null;
  if (!node.anyOf) return node;
  const members = node.anyOf.filter((m) => m.type !== 'null');
  if (members.length > 0 && members.every((m) => m.const !== undefined)) return { type: 'enum', anyOf: members };
  if (members.length === 1) return unwrap(members[0]);
  return members.find((m) => m.type === 'object') ?? null;
}

function schemaAt(segments: readonly PathSegment[]): SchemaNode | null {
  let node = unwrap(OrderSchema as unknown as SchemaNode);
  for (const s of segments) {
    if (!node) return null;
    if (typeof s === 'number') node = node.type === 'array' ? unwrap(node.items) : null;
    else node = node.type === 'object' && node.properties && !node.patternProperties ? unwrap(node.properties[s]) : null;
  }
  return node;
}

type InputKind = 'text' | 'integer' | 'boolean' | 'enum';

function inputKind(node: SchemaNode | null): InputKind | null {
  if (!node) return null;
  if (node.type === 'enum') return 'enum';
  if (node.type === 'string') return 'text';
  if (node.type === 'integer' || node.type === 'number') return 'integer';
  if (node.type === 'boolean') return 'boolean';
  return null;
}

const LEAF_LABELS: Record<string, string> = {
  name: 'Name',
  email: 'E-mail',
  phone: 'Phone',
  method: 'Method',
  lockerId: 'Parcel locker id',
  storeId: 'Store id',
  company: 'Company',
  companyName: 'Company name',
  street: 'Street and number',
  postalCode: 'Postal code',
  city: 'City',
  region: 'Region',
  country: 'Country code',
  requested: 'Invoice wanted',
  taxId: 'Tax id',
  sku: 'SKU',
  quantity: 'Quantity',
  unitPrice: 'Unit price',
  taxRate: 'Tax rate',
  subtotal: 'Subtotal',
  shipping: 'Shipping',
  tax: 'Tax',
  grandTotal: 'Grand total',
  status: 'Status',
  amount: 'Amount',
  currency: 'Currency',
  reference: 'Reference',
};

const GROUP_LABELS: Record<string, string> = {
  customer: 'Customer',
  delivery: 'Delivery',
  shippingAddress: 'Shipping address',
  invoice: 'Invoice',
  'invoice.address': 'Invoice address',
  totals: 'Totals',
  payment: 'Payment',
  lines: 'Lines',
};

const HINTS: Record<string, string> = {
  phone: 'with the country code, e.g. +48 601 234 567',
  postalCode: 'as the post writes it, e.g. 00-838',
  country: 'two letters, e.g. PL',
  lockerId: 'e.g. WAW01M',
  storeId: 'e.g. WAW-01',
  taxId: 'with the country prefix, e.g. PL5260250274',
  amount: 'e.g. 1299.00',
  unitPrice: 'e.g. 49.95',
  currency: 'e.g. PLN',
  reference: "as the provider's panel shows it",
};

export function groupLabel(path: string): string {
  const segments = parsePath(path);
  if (!segments) return path;
  const last = segments[segments.length - 1];
  if (typeof last === 'number') return `Line ${last + 1}`;
  return GROUP_LABELS[formatPath(segments.filter((s) => typeof s === 'string'))] ?? GROUP_LABELS[last as string] ?? humanizeKey(last as string);
}

function humanizeKey(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** "Postal code" for shippingAddress.postalCode; the group says whose. */
export function fieldLabel(path: string): string {
  const segments = parsePath(path);
  const last = segments?.[segments.length - 1];
  if (typeof last === 'number') return `Line ${last + 1}`;
  return typeof last === 'string' ? (LEAF_LABELS[last] ?? humanizeKey(last)) : path;
}

/** A field in words with its context: "Postal code (Shipping address)". */
export function fieldInWords(path: string): string {
  const segments = parsePath(path);
  if (!segments) return path;
  if (segments.length === 1) return fieldLabel(path);
  return `${fieldLabel(path)} (${groupLabel(formatPath(segments.slice(0, -1)))})`;
}

/** A value as a timeline shows it: text in quotes, nothing as "empty". */
function shownValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'empty';
  return typeof value === 'string' ? `“${value}”` : JSON.stringify(value);
}

/** A patch's changes, field by field: "Postal code (Shipping address): “0083” → “00-838”". */
export function changesInWords(changes: unknown): string {
  if (!Array.isArray(changes)) return '';
  const text = changes
    .filter((c): c is { path: string; before?: unknown; after?: unknown } => !!c && typeof c === 'object' && typeof (c as { path?: unknown }).path === 'string')
    .map((c) => `${fieldInWords(c.path)}: ${shownValue(c.before)} → ${shownValue(c.after)}`)
    .join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

export function fieldId(path: string): string {
  return path.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '');
}

function display(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface FixInput {
  path: string;
  id: string;
  name: string;
  label: string;
  kind: InputKind;
  /** HTML input type for text: tel, email, text. */
  type: string;
  hint: string | null;
  value: string;
  options: Array<{ value: string; label: string; selected: boolean }>;
  maxLength: number | null;
  /** Messages about this field (the ticket's issues, or what the last check said). */
  messages: string[];
  ok: boolean;
  /** The operator's value was just judged by the step and found right ("✓ looks right"). */
  checked: boolean;
}

export interface FixGroup {
  path: string;
  id: string;
  heading: string | null;
  /** Messages about the object as a whole ("the address is missing"). */
  messages: string[];
  inputs: FixInput[];
}

export interface FieldMessage {
  field?: string;
  message?: string;
  code?: string;
}

function leafPaths(segments: PathSegment[], node: SchemaNode, depth = 0): PathSegment[][] {
  if (inputKind(node)) return [segments];
  if (depth > 1 || node.type !== 'object' || !node.properties || node.patternProperties) return [];
  return Object.entries(node.properties).flatMap(([key, child]) => {
    if (depth === 0 && segments.length === 0 && NOT_EDITABLE.has(key)) return [];
    const c = unwrap(child);
    return c ? leafPaths([...segments, key], c, depth + 1) : [];
  });
}

/** The editable leaf at a path (its schema), or null: objects, arrays and identity fields are not. */
export function editableLeaf(path: string): { segments: PathSegment[]; kind: InputKind; node: SchemaNode } | null {
  const segments = parsePath(path);
  if (!segments || NOT_EDITABLE.has(String(segments[0]))) return null;
  const node = schemaAt(segments);
  const kind = inputKind(node);
  return kind && node ? { segments, kind, node } : null;
}

/**
 * The form's groups for these fields. `paths` in the order issues name them; a path inside another
 * listed path joins that group. `values` are the operator's typed values (kept when the form comes
 * back), `messages` what to show by each field.
 */
export function fixGroups(
  paths: readonly string[],
  order: unknown,
  values: Readonly<Record<string, string>> = {},
  messages: readonly FieldMessage[] = [],
  opts: { judged?: boolean } = {},
): FixGroup[] {
  const unique = [...new Set(paths)].filter((p) => parsePath(p));
  const tops = unique.filter((p) => !unique.some((q) => q !== p && (p.startsWith(`${q}.`) || p.startsWith(`${q}[`))));
  const groups: FixGroup[] = [];
  for (const path of tops) {
    const segments = parsePath(path)!;
    if (NOT_EDITABLE.has(String(segments[0]))) continue;
    const node = schemaAt(segments);
    if (!node) continue;
    const leaves = leafPaths(segments, node);
    if (leaves.length === 0) continue;
    const isObject = !inputKind(node);
    const inputs = leaves.map((leafSegments): FixInput => {
      const leafPath = formatPath(leafSegments);
      const leaf = schemaAt(leafSegments)!;
      const kind = inputKind(leaf)!;
      const key = String(leafSegments[leafSegments.length - 1]);
      const value = Object.prototype.hasOwnProperty.call(values, leafPath) ? values[leafPath]! : display(getPath(order, leafSegments));
      const own = messages.filter((m) => m.field === leafPath).map((m) => m.message ?? m.code ?? '');
      const options =
        kind === 'enum'
          ? (leaf.anyOf ?? []).map((m) => String(m.const)).map((v) => ({ value: v, label: v.replace(/_/g, ' '), selected: v === value }))
          : kind === 'boolean'
            ? ['yes', 'no'].map((v) => ({ value: v, label: v, selected: v === value }))
            : [];
      return {
        path: leafPath,
        id: fieldId(leafPath),
        name: FIELD_PREFIX + leafPath,
        label: fieldLabel(leafPath),
        kind,
        type: key === 'phone' ? 'tel' : key === 'email' ? 'email' : 'text',
        hint: HINTS[key] ?? null,
        value,
        options,
        maxLength: leaf.maxLength ?? null,
        messages: own,
        ok: own.length === 0,
        checked: !!opts.judged && own.length === 0 && Object.prototype.hasOwnProperty.call(values, leafPath),
      };
    });
    const covered = new Set(inputs.map((i) => i.path));
    groups.push({
      path,
      id: fieldId(path),
      heading: isObject ? groupLabel(path) : null,
      messages: messages.filter((m) => m.field !== undefined && !covered.has(m.field) && (m.field === path || m.field.startsWith(`${path}.`) || m.field.startsWith(`${path}[`))).map((m) => m.message ?? m.code ?? ''),
      inputs,
    });
  }
  return groups;
}

/**
 * The paths the Fix form shows, in an order that does not change while the ticket is worked: the fields
 * the ticket was opened for (its first issues), then any its later retries found, then what the operator
 * typed into. A field fixed by a partial save stays where it was, with its value.
 */
export function fixPaths(openedIssues: readonly FieldMessage[], issues: readonly FieldMessage[], values: Readonly<Record<string, string>>): string[] {
  const fields = [...openedIssues, ...issues].map((i) => i.field).filter((f): f is string => !!f);
  return [...new Set([...fields.flatMap((f) => [f, ...(COMPANIONS[f] ?? [])]), ...Object.keys(values)])];
}

/**
 * Fields that are corrected together with the one at fault: a payment's status comes from one attempt at
 * the provider, and a later attempt that succeeded has its own reference (the instructions ask for both).
 */
const COMPANIONS: Record<string, readonly string[]> = {
  'payment.status': ['payment.reference'],
};

/** The issues a ticket was opened with, from its history's first "opened" event. */
export function openedIssues(history: ReadonlyArray<{ kind: string; data: unknown }>): FieldMessage[] {
  const opened = history.find((h) => h.kind === 'opened');
  const issues = (opened?.data as { issues?: unknown } | null | undefined)?.issues;
  return Array.isArray(issues) ? issues.filter((i): i is FieldMessage => !!i && typeof i === 'object') : [];
}

/** The `v.<path>` values of a posted form (the last one when a name repeats). */
export function postedValues(body: Record<string, unknown> | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body) return out;
  for (const [key, raw] of Object.entries(body)) {
    if (!key.startsWith(FIELD_PREFIX)) continue;
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (typeof value === 'string' && value.length <= 2000) out[key.slice(FIELD_PREFIX.length)] = value;
  }
  return out;
}

/**
 * Typed changes for a merge patch from the posted values: blank empties the field, whole numbers and
 * yes/no become numbers and booleans, a list field must hold one of its values. Paths that are not an
 * editable field of the order are ignored, never patched.
 */
export function readFixForm(values: Readonly<Record<string, string>>): { changes: FieldChange[]; errors: Array<{ field: string; message: string }> } {
  const changes: FieldChange[] = [];
  const errors: Array<{ field: string; message: string }> = [];
  for (const [path, raw] of Object.entries(values)) {
    const leaf = editableLeaf(path);
    if (!leaf) continue;
    const text = raw.trim();
    if (text === '') {
      changes.push({ path, value: null });
      continue;
    }
    switch (leaf.kind) {
      case 'integer':
        if (/^-?\d{1,15}$/.test(text)) changes.push({ path, value: Number(text) });
        else errors.push({ field: path, message: 'Enter a whole number.' });
        break;
      case 'boolean':
        if (text === 'yes' || text === 'true') changes.push({ path, value: true });
        else if (text === 'no' || text === 'false') changes.push({ path, value: false });
        else errors.push({ field: path, message: 'Choose yes or no.' });
        break;
      case 'enum': {
        const options = (leaf.node.anyOf ?? []).map((m) => String(m.const));
        if (options.includes(text)) changes.push({ path, value: text });
        else errors.push({ field: path, message: `Choose one of: ${options.join(', ')}.` });
        break;
      }
      default:
        changes.push({ path, value: text });
    }
  }
  return { changes, errors };
}
