import { describe, expect, it } from 'vitest';
import { boxAround, FOCUS_LIMITS, focusViewbox, type Box } from '../../../src/modeler/focus.ts';

/** The box on screen, in pixels, of a diagram box shown through a viewbox on a canvas of the given width. */
function onScreen(viewbox: Box, canvasWidth: number, box: Box): Box {
  const scale = canvasWidth / viewbox.width;
  return { x: (box.x - viewbox.x) * scale, y: (box.y - viewbox.y) * scale, width: box.width * scale, height: box.height * scale };
}

function inside(box: Box, canvas: { width: number; height: number }): boolean {
  const eps = 1e-6;
  return box.x >= -eps && box.y >= -eps && box.x + box.width <= canvas.width + eps && box.y + box.height <= canvas.height + eps;
}

// Where the default lifecycle (processes/order-lifecycle.bpmn) waits for payment: the gateway and its label,
// the note on it up and to the left (with its association line), and its neighbours.
const gateway = { x: 735, y: 275, width: 50, height: 50 };
const gatewayLabel = { x: 688, y: 330, width: 64, height: 27 };
const note = { x: 450, y: 150, width: 200, height: 110 };
const association = { waypoints: [{ x: 743, y: 292 }, { x: 650, y: 230 }] };
const neighbours = [gateway, { x: 635, y: 535, width: 50, height: 50 }, { x: 842, y: 282, width: 36, height: 36 }, { x: 842, y: 402, width: 36, height: 36 }, { x: 842, y: 162, width: 36, height: 36 }];
const step = boxAround([gateway, gatewayLabel])!;
const notes = boxAround([note, association])!;
const near = boxAround(neighbours)!;

describe('focusViewbox', () => {
  it('given room for the step, its note and its neighbours, when focused, then all of them are in view, at most life size', () => {
    const canvas = { width: 900, height: 600 };
    const view = focusViewbox(canvas, { step, notes, near });
    expect(canvas.width / view.width).toBeLessThanOrEqual(FOCUS_LIMITS.maxScale);
    for (const box of [step, notes, near]) expect(inside(onScreen(view, canvas.width, box), canvas)).toBe(true);
  });

  it('given a card too narrow for the neighbours at a readable size, when focused, then the note stays whole beside the step', () => {
    // 330 px: the neighbours would need less than 0.7; the step with its note fits.
    const canvas = { width: 330, height: 304 };
    const view = focusViewbox(canvas, { step, notes, near });
    const scale = canvas.width / view.width;
    expect(scale).toBeGreaterThanOrEqual(FOCUS_LIMITS.minScale);
    expect(inside(onScreen(view, canvas.width, notes), canvas)).toBe(true);
    expect(inside(onScreen(view, canvas.width, step), canvas)).toBe(true);
  });

  it('given a card too small even for the step and its note, when focused, then the step is whole and centred at the smallest readable size', () => {
    const canvas = { width: 240, height: 300 };
    const view = focusViewbox(canvas, { step, notes, near });
    expect(canvas.width / view.width).toBeCloseTo(FOCUS_LIMITS.minScale);
    const shown = onScreen(view, canvas.width, step);
    expect(inside(shown, canvas)).toBe(true);
    expect(shown.x + shown.width / 2).toBeCloseTo(canvas.width / 2);
    expect(shown.y + shown.height / 2).toBeCloseTo(canvas.height / 2);
  });

  it('given a small step with no note, when focused in a large card, then it is shown at life size, not blown up', () => {
    const canvas = { width: 1200, height: 800 };
    const task = { x: 100, y: 100, width: 100, height: 80 };
    const view = focusViewbox(canvas, { step: task, near: task });
    expect(canvas.width / view.width).toBe(1);
    const shown = onScreen(view, canvas.width, task);
    expect(shown.x + shown.width / 2).toBeCloseTo(600);
  });
});

describe('boxAround', () => {
  it('takes connection lines by their waypoints and shapes by their boxes, and answers null for nothing', () => {
    expect(boxAround([note, association])).toEqual({ x: 450, y: 150, width: 293, height: 142 });
    expect(boxAround([])).toBeNull();
  });
});
