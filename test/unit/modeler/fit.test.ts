import { describe, expect, it } from 'vitest';
import { FittedView, viewboxFitting } from '../../../src/modeler/fit.ts';

/** Where a diagram point lands on screen, in pixels, for a viewbox in a container of the given width. */
function toScreen(viewbox: { x: number; y: number; width: number }, outerWidth: number, point: { x: number; y: number }) {
  const scale = outerWidth / viewbox.width;
  return { x: (point.x - viewbox.x) * scale, y: (point.y - viewbox.y) * scale };
}

describe('viewboxFitting', () => {
  const outer = { width: 1000, height: 600 };
  const insets = { left: 130, top: 16, right: 16, bottom: 60 };

  it('given a wide diagram, when fitted, then it spans the free width right of the palette', () => {
    const inner = { x: 134, y: 80, width: 2735, height: 660 };
    const box = viewboxFitting(inner, outer, insets);
    const topLeft = toScreen(box, outer.width, inner);
    const bottomRight = toScreen(box, outer.width, { x: inner.x + inner.width, y: inner.y + inner.height });
    expect(topLeft.x).toBeCloseTo(130);
    expect(bottomRight.x).toBeCloseTo(1000 - 16);
    expect(topLeft.y).toBeGreaterThanOrEqual(16);
    expect(bottomRight.y).toBeLessThanOrEqual(600 - 60);
  });

  it('given a small diagram, when fitted, then it stays at 1:1, centred in the free area', () => {
    const inner = { x: 150, y: 100, width: 200, height: 80 };
    const box = viewboxFitting(inner, outer, insets);
    expect(outer.width / box.width).toBe(1);
    const topLeft = toScreen(box, outer.width, inner);
    expect(topLeft.x).toBeCloseTo(130 + (1000 - 130 - 16 - 200) / 2);
    expect(topLeft.y).toBeCloseTo(16 + (600 - 16 - 60 - 80) / 2);
  });

  it('given controls that leave too little room, when fitted, then the whole container is used', () => {
    const inner = { x: 0, y: 0, width: 400, height: 400 };
    const box = viewboxFitting(inner, { width: 300, height: 600 }, { left: 250, top: 0, right: 0, bottom: 0 });
    expect(300 / box.width).toBeCloseTo(300 / 400);
  });

  it('given an empty diagram, when fitted, then it is shown at 1:1', () => {
    const box = viewboxFitting({ x: 0, y: 0, width: 0, height: 0 }, outer, insets);
    expect(box.width).toBe(outer.width);
  });
});

describe('FittedView', () => {
  /** A stand-in for bpmn-js's canvas: setting the viewbox reports the change at once, as bpmn-js does. */
  function canvasOf(view: FittedView) {
    return { viewbox: () => view.viewboxChanged() };
  }

  it('given a page just opened, when nothing was fitted yet, then a resize has no fit to redo', () => {
    expect(new FittedView().fitted).toBe(false);
  });

  it("given a fit, when it changes the viewbox, then the view is still the page's fit", () => {
    const view = new FittedView();
    const canvas = canvasOf(view);
    view.fit(() => canvas.viewbox());
    expect(view.fitted).toBe(true);
  });

  it("given a fitted view, when the analyst zooms or scrolls, then it is theirs until the next fit", () => {
    const view = new FittedView();
    const canvas = canvasOf(view);
    view.fit(() => canvas.viewbox());
    canvas.viewbox();
    expect(view.fitted).toBe(false);
    view.fit(() => canvas.viewbox());
    expect(view.fitted).toBe(true);
  });

  it('given a canvas with no size to fit into, when fitted, then the view awaits the fit of its first size', () => {
    const view = new FittedView();
    view.fit(() => {});
    expect(view.fitted).toBe(true);
  });

  it("given a fit that fails, when the analyst then zooms, then the zoom is still told apart as theirs", () => {
    const view = new FittedView();
    const canvas = canvasOf(view);
    expect(() =>
      view.fit(() => {
        throw new Error('no canvas');
      }),
    ).toThrow('no canvas');
    view.fit(() => canvas.viewbox());
    canvas.viewbox();
    expect(view.fitted).toBe(false);
  });

  /** The canvas as a resize sees it: told of the new size, which makes bpmn-js scroll (a viewbox change). */
  function resizable(view: FittedView, calls: string[]) {
    return { resized: () => (calls.push('resized'), view.viewboxChanged()), viewbox: () => (calls.push('refit'), view.viewboxChanged()) };
  }

  it('given the fitted view, when the canvas is resized, then bpmn-js is told and the diagram fitted again, still the fit', () => {
    const view = new FittedView();
    const calls: string[] = [];
    const canvas = resizable(view, calls);
    view.fit(() => canvas.viewbox());
    view.resized(canvas, () => canvas.viewbox());
    expect(calls).toEqual(['refit', 'resized', 'refit']);
    expect(view.fitted).toBe(true);
  });

  it("given the analyst's own zoom, when the canvas is resized, then bpmn-js is told and the zoom stays theirs; unless asked to fit", () => {
    const view = new FittedView();
    const calls: string[] = [];
    const canvas = resizable(view, calls);
    view.fit(() => canvas.viewbox());
    canvas.viewbox();
    view.resized(canvas, () => canvas.viewbox());
    expect(calls).toEqual(['refit', 'refit', 'resized']);
    expect(view.fitted).toBe(false);
    view.resized(canvas, () => canvas.viewbox(), true);
    expect(view.fitted).toBe(true);
  });
});
