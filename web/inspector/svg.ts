/**
 * @module svg: building SVG elements from the page's scripts. Attributes
 * only, never `style`: the Content-Security-Policy forbids inline styles, and
 * the look comes from inspector.css classes.
 */

export const SVG_NS = 'http://www.w3.org/2000/svg';

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  ...children: (Node | string)[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** An arrowhead marker, defined once per drawing and referenced by `marker-end`. */
export function arrowMarker(id: string, className: string): SVGMarkerElement {
  return s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse', class: className },
    s('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
}
