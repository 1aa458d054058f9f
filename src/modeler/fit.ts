/**
 * Fitting the diagram into the part of the canvas nothing covers. bpmn-js's `zoom('fit-viewport')` fits it
 * into the whole container, under the palette (top left) and the lint button (bottom centre): the first steps
 * of a lifecycle, drawn at its left edge, end up beneath the palette and their context pad on top of it.
 */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixels of the container, from each side, that controls cover. */
export interface Insets {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * The viewbox (diagram coordinates) that shows `inner` whole, centred in the container's free area (`outer`
 * in pixels less `insets`), no larger than 1:1, as fit-viewport would. When the insets leave too little room,
 * they are dropped and the whole container is used.
 */
export function viewboxFitting(inner: Box, outer: { width: number; height: number }, insets: Insets, maxScale = 1): Box {
  let free = { left: insets.left, top: insets.top, width: outer.width - insets.left - insets.right, height: outer.height - insets.top - insets.bottom };
  if (free.width < outer.width / 3 || free.height < outer.height / 3) free = { left: 0, top: 0, width: outer.width, height: outer.height };
  const fits = [maxScale];
  if (inner.width > 0) fits.push(free.width / inner.width);
  if (inner.height > 0) fits.push(free.height / inner.height);
  const scale = Math.max(Math.min(...fits), 1e-3);
  const left = free.left + (free.width - inner.width * scale) / 2;
  const top = free.top + (free.height - inner.height * scale) / 2;
  return { x: inner.x - left / scale, y: inner.y - top / scale, width: outer.width / scale, height: outer.height / scale };
}

/** Gap, in pixels, between the diagram and the controls or the container's edge. */
export const FIT_GAP_PX = 16;

/**
 * What the palette and the lint button cover of the canvas container, measured in the page: the palette's
 * right edge is the free area's left, the lint button's top its bottom.
 */
export function coveredInsets(container: Element, gap = FIT_GAP_PX): Insets {
  const frame = container.getBoundingClientRect();
  const insets: Insets = { left: gap, top: gap, right: gap, bottom: gap };
  const palette = container.querySelector('.djs-palette');
  if (palette) {
    const box = palette.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) insets.left = Math.max(insets.left, box.right - frame.left + gap);
  }
  const lintButton = container.querySelector('.bjsl-button');
  if (lintButton) {
    const box = lintButton.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) insets.bottom = Math.max(insets.bottom, frame.bottom - box.top + gap / 2);
  }
  return insets;
}

/**
 * Whose view the canvas shows: the page's fit, or the analyst's own zoom and scroll. While it is the fit, a
 * resize of the canvas fits the diagram again (a narrower window would otherwise cut it off); once the analyst
 * zooms or scrolls, a resize leaves their view alone until the next diagram is opened and fitted.
 *
 * bpmn-js reports every change of the viewbox alike (`canvas.viewbox.changed`, fired while the change is made),
 * so the page's own fit is told apart by running it through `fit`.
 */
export class FittedView {
  private isFitted = false;
  private fitting = false;

  /** The view is the page's fit, to be redone when the canvas changes size. */
  get fitted(): boolean {
    return this.isFitted;
  }

  /**
   * Runs the page's fit. The view counts as fitted even when the canvas has no size yet to fit into (a hidden
   * container): the fit is then made when it gets one.
   */
  fit(apply: () => void): void {
    this.fitting = true;
    try {
      apply();
    } finally {
      this.fitting = false;
    }
    this.isFitted = true;
  }

  /**
   * The canvas changed size: bpmn-js is told, and a view that is still the page's fit (or `always`) is fitted
   * again with `refit`. Told inside the fit: bpmn-js answers a resize by scrolling a selection it hid back
   * into view, and that scroll is nobody's own.
   */
  resized(canvas: { resized(): void }, refit: () => void, always = false): void {
    if (!this.isFitted && !always) return canvas.resized();
    this.fit(() => {
      canvas.resized();
      refit();
    });
  }

  /** A change of the viewbox: the analyst's own, unless it comes from `fit`. */
  viewboxChanged(): void {
    if (!this.fitting) this.isFitted = false;
  }
}
