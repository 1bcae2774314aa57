/**
 * @module diagram: draws a statechart the server has laid out (see
 * src/inspection/layout.ts) as SVG: states as nested boxes, transitions as
 * arrows labelled with event and guard, transitions that stay put as lines
 * inside their state, the current state highlighted and the transitions just
 * taken marked live.
 */
import { arrowMarker, s } from './svg.js';
import type { Diagram, Point } from './types.js';

export interface Highlight {
  /** Dotted paths of the active states. */
  active: Set<string>;
  /** Ids of the transitions the last event took. */
  taken: Set<string>;
}

const polyline = (points: Point[]) => points.map((point, index) => `${index === 0 ? 'M' : 'L'} ${point.x} ${point.y}`).join(' ');

export function renderDiagram(diagram: Diagram, highlight: Highlight): SVGSVGElement {
  const svg = s('svg', {
    class: 'diagram',
    viewBox: `0 0 ${Math.ceil(diagram.width)} ${Math.ceil(diagram.height)}`,
    width: Math.ceil(diagram.width),
    height: Math.ceil(diagram.height),
    role: 'group',
    'aria-label': `Statechart of the ${diagram.machine} machine`,
  });
  svg.append(s('defs', {}, arrowMarker('arrow', 'arrowhead'), arrowMarker('arrow-live', 'arrowhead live')));

  for (const node of diagram.nodes) {
    const root = node.path === '';
    const current = !root && highlight.active.has(node.path);
    const classes = ['state', root ? 'machine' : '', current ? 'current' : '', node.type === 'final' ? 'final' : ''].filter(Boolean).join(' ');
    const group = s('g', {
      class: classes,
      'data-state': root ? node.key : node.path,
      role: 'group',
      'aria-label': root ? `machine ${node.key}` : `state ${node.key}${current ? ' (current)' : ''}${node.type === 'final' ? ' (final)' : ''}`,
      ...(current ? { 'aria-current': 'true' } : {}),
    });
    group.append(s('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 8, ry: 8 }));
    if (node.type === 'final') group.append(s('rect', { class: 'final-inner', x: node.x + 3, y: node.y + 3, width: node.width - 6, height: node.height - 6, rx: 6, ry: 6 }));
    group.append(s('text', { class: 'state-name', x: node.x + 10, y: node.y + 18 }, root ? `machine ${node.key}` : node.key));
    node.lines.forEach((line, index) => {
      const live = highlight.taken.has(line.id);
      group.append(s('text', { class: `internal${live ? ' live' : ''}`, x: node.x + 10, y: node.y + 26 + 16 * index + 12, 'data-transition': line.id }, `${live ? '▶ ' : ''}${line.text}`));
    });
    svg.append(group);
  }

  for (const entry of diagram.entries) {
    const [first] = entry.points;
    if (!first) continue;
    svg.append(s('g', { class: 'entry', 'aria-hidden': 'true' },
      s('circle', { cx: first.x - 4, cy: first.y, r: 4 }),
      s('path', { d: polyline(entry.points), 'marker-end': 'url(#arrow)' })));
  }

  for (const edge of diagram.edges) {
    const live = highlight.taken.has(edge.id);
    const group = s('g', {
      class: `edge${live ? ' live' : ''}`,
      'data-transition': edge.id,
      role: 'img',
      'aria-label': `${edge.label}: ${edge.source || 'machine'} → ${edge.target}${live ? ' (just taken)' : ''}`,
    });
    group.append(s('path', { d: polyline(edge.points), 'marker-end': `url(#${live ? 'arrow-live' : 'arrow'})` }));
    if (edge.labelAt) {
      const { x, y, width, height } = edge.labelAt;
      group.append(s('rect', { class: 'label-back', x, y, width, height, rx: 3, ry: 3 }));
      group.append(s('text', { class: 'edge-label', x: x + 3, y: y + height - 4 }, edge.label));
    }
    svg.append(group);
  }
  return svg;
}
