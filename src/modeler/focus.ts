/**
 * Where the operators' diagram looks when it is focused on a step (the ticket page's lifecycle): pure
 * geometry, kept apart from bpmn-js so that it can be tested without a browser.
 */

import type { Box } from './fit.ts';

export type { Box };

/** A drawn element as far as its place goes: a shape's box, or a connection's waypoints. */
export interface Placed {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  waypoints?: ReadonlyArray<{ x: number; y: number }>;
}

export interface FocusLimits {
  /** Never zoomed in past this (life size). */
  maxScale: number;
  /** Never zoomed out past this: a task (100 units wide) stays about 70 px wide, readable. */
  minScale: number;
  /** Room kept around what is shown, in diagram units. */
  padding: number;
}

export const FOCUS_LIMITS: FocusLimits = { maxScale: 1, minScale: 0.7, padding: 40 };

/** The smallest box around the shapes and connection lines given; null when there is nothing placed. */
export function boxAround(elements: readonly Placed[]): Box | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const e of elements) {
    if (e.waypoints) {
      for (const p of e.waypoints) {
        xs.push(p.x);
        ys.push(p.y);
      }
    } else if (typeof e.x === 'number' && typeof e.y === 'number') {
      xs.push(e.x, e.x + (e.width ?? 0));
      ys.push(e.y, e.y + (e.height ?? 0));
    }
  }
  if (xs.length === 0) return null;
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

function union(boxes: ReadonlyArray<Box | null | undefined>): Box | null {
  return boxAround(boxes.filter((b): b is Box => !!b));
}

/**
 * The viewbox (diagram units) for a canvas of `size` pixels focused on `step` (the focused elements and
 * their labels). Tried in turn, the first that fits within the limits wins, centred: the step with its notes
 * (text annotations joined to it, and their association lines) and its neighbours; the step with its notes
 * (a note says something about the step itself, a neighbour is only context); else the step alone at the
 * smallest readable size, whole and in the middle, whatever is cut around it.
 */
export function focusViewbox(size: { width: number; height: number }, areas: { step: Box; notes?: Box | null; near?: Box | null }, limits: FocusLimits = FOCUS_LIMITS): Box {
  const candidates = [union([areas.step, areas.notes, areas.near]), union([areas.step, areas.notes])];
  let scale = limits.minScale;
  let centre = { x: areas.step.x + areas.step.width / 2, y: areas.step.y + areas.step.height / 2 };
  for (const area of candidates) {
    if (!area) continue;
    const padded = { width: area.width + 2 * limits.padding, height: area.height + 2 * limits.padding };
    const fits = Math.min(size.width / padded.width, size.height / padded.height, limits.maxScale);
    if (fits >= limits.minScale) {
      scale = fits;
      centre = { x: area.x + area.width / 2, y: area.y + area.height / 2 };
      break;
    }
  }
  const width = size.width / scale;
  const height = size.height / scale;
  return { x: centre.x - width / 2, y: centre.y - height / 2, width, height };
}
