/**
 * What the pages that load the bundles need from their Content-Security-Policy (importable by the server).
 *
 * The bundles need no inline script, no eval and no other origin. bpmn-js-properties-panel writes two inline
 * style attributes (its container's `height: 100%` and its header's `flex: none; height: auto`); a policy
 * with `style-src 'self'` blocks them and ordo.css sets the same styles from the stylesheet, so the page
 * works either way. These hashes, with 'unsafe-hashes' in style-src-attr, allow them and keep the console
 * free of violation reports.
 */
export const PROPERTIES_PANEL_STYLE_ATTR_HASHES = [
  "'sha256-nR5hyLltSjfvi2rqC26RbcredWrJvTaPA1yqPX96jpY='",
  "'sha256-LIWyuNLBDBQuKJLr4mOx2cFEzHX9lM0BrbfcAAzCvSU='",
] as const;

/** CSP directives under which the viewer and modeler bundles run (the e2e test serves its pages with them). */
export const BUNDLE_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'style-src-attr': ["'unsafe-hashes'", ...PROPERTIES_PANEL_STYLE_ATTR_HASHES],
  // bpmn-js draws its "powered by" logo and some palette icons as data: images.
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'frame-ancestors': ["'none'"],
});
