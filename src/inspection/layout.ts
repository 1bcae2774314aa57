/**
 * @module layout: a machine's statechart laid out as a diagram with ELK's
 * layered algorithm (elkjs), on the server, once per machine.
 *
 * The page receives finished coordinates and only draws them, so it needs no
 * layout library, nothing from a CDN, and no script beyond its own. States
 * nest where the machine nests; a transition that changes state is an arrow
 * labelled with its event and guard; one that only runs actions is listed
 * inside its state, as Stately's visualiser does, so busy states stay legible.
 */
import ELKModule from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { AnyStateMachine } from 'xstate';
import { statesOf, transitionsOf, type TransitionInfo } from './transitions.js';

export interface DiagramLine {
  /** The transition's id (see transitions.ts), for highlighting the one just taken. */
  id: string;
  text: string;
}

export interface DiagramNode {
  path: string;
  key: string;
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The state a parent enters first; drawn with an entry dot. */
  initial: boolean;
  /** Transitions that stay in this state (actions only), one line each. */
  lines: DiagramLine[];
}

export interface DiagramEdge {
  /** The transition's id; one transition with several targets has one edge each. */
  id: string;
  source: string;
  target: string;
  label: string;
  points: { x: number; y: number }[];
  labelAt: { x: number; y: number; width: number; height: number } | null;
}

export interface Diagram {
  machine: string;
  width: number;
  height: number;
  /** Outermost first, so drawing in order puts children on top of their parents. */
  nodes: DiagramNode[];
  edges: DiagramEdge[];
  /** Where each compound state's entry dot is, with the arrow to its initial state. */
  entries: { parent: string; points: { x: number; y: number }[] }[];
}

/** The page draws in a 12 px monospace font, so text width follows from its length. */
export const CHAR_WIDTH = 7.3;
export const LINE_HEIGHT = 16;
const TITLE_HEIGHT = 26;
const PAD = 10;
const ENTRY = '__entry';
export const LIVE_MARK = '▶ ';

const textWidth = (text: string) => Math.ceil(text.length * CHAR_WIDTH);
export const transitionText = (transition: Pick<TransitionInfo, 'label' | 'guard'>) =>
  transition.guard ? `${transition.label} [${transition.guard}]` : transition.label;
const elkId = (path: string) => `s:${path}`;

// The bundle is CommonJS; under NodeNext its default import is the module object, whose default is the class.
const ELK = (ELKModule as unknown as { default?: typeof ELKModule }).default ?? ELKModule;
const elk = new (ELK as unknown as new () => { layout(graph: ElkNode): Promise<ElkNode> })();

export async function layoutMachine(machine: AnyStateMachine): Promise<Diagram> {
  const states = statesOf(machine);
  const transitions = transitionsOf(machine);
  const lines = new Map<string, DiagramLine[]>();
  const arrows: TransitionInfo[] = [];
  for (const transition of transitions) {
    if (transition.targets.length === 0) {
      const list = lines.get(transition.source) ?? [];
      list.push({ id: transition.id, text: transitionText(transition) });
      lines.set(transition.source, list);
    } else arrows.push(transition);
  }
  const byPath = new Map(states.map((state) => [state.path, state]));
  const initials = new Set(states.map((state) => state.initial).filter((path): path is string => path !== null));

  const build = (path: string): ElkNode => {
    const state = byPath.get(path)!;
    const own = lines.get(path) ?? [];
    const title = path === '' ? `machine ${machine.id}` : state.key;
    // Room for the `▶ ` the page puts before a line whose transition was just taken.
    const width = Math.max(textWidth(title) + 8, ...own.map((line) => textWidth(`${LIVE_MARK}${line.text}`))) + 2 * PAD;
    const header = TITLE_HEIGHT + own.length * LINE_HEIGHT;
    if (state.states.length === 0) return { id: elkId(path), width, height: header + PAD };
    const children = state.states.map(build);
    if (state.initial !== null) children.unshift({ id: elkId(`${path}${ENTRY}`), width: 10, height: 10 });
    return {
      id: elkId(path),
      // A compound state's own lines sit above its children, so its top padding makes room for them.
      layoutOptions: { 'elk.padding': `[top=${header + PAD},left=${PAD * 2},bottom=${PAD * 2},right=${PAD * 2}]`, 'elk.nodeSize.minimum': `(${width},${header})`, 'elk.nodeSize.constraints': 'MINIMUM_SIZE' },
      children,
    };
  };

  const edges: ElkExtendedEdge[] = [];
  for (const transition of arrows) {
    transition.targets.forEach((target, index) => {
      const text = transitionText(transition);
      edges.push({
        id: `${transition.id}|${index}`,
        sources: [elkId(transition.source)],
        targets: [elkId(target)],
        labels: [{ text, width: textWidth(text) + 6, height: LINE_HEIGHT }],
      });
    });
  }
  for (const state of states) {
    if (state.initial !== null) edges.push({ id: `entry|${state.path}`, sources: [elkId(`${state.path}${ENTRY}`)], targets: [elkId(state.initial)] });
  }

  const graph = await elk.layout({
    id: 'graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '30',
      'elk.spacing.edgeLabel': '4',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.padding': '[top=4,left=4,bottom=4,right=4]',
    },
    children: [build('')],
    edges,
  });

  // ELK gives coordinates relative to each parent (and each edge's container): make them absolute.
  const offsets = new Map<string, { x: number; y: number }>([['graph', { x: 0, y: 0 }]]);
  const nodes: DiagramNode[] = [];
  const entryDots = new Map<string, { x: number; y: number }>();
  const walk = (node: ElkNode, originX: number, originY: number) => {
    const x = originX + (node.x ?? 0);
    const y = originY + (node.y ?? 0);
    offsets.set(node.id, { x, y });
    const path = node.id.slice(2);
    if (path.endsWith(ENTRY)) entryDots.set(path.slice(0, -ENTRY.length), { x: x + 5, y: y + 5 });
    else {
      const state = byPath.get(path)!;
      nodes.push({
        path,
        key: path === '' ? machine.id : state.key,
        type: state.type,
        x, y,
        width: node.width ?? 0,
        height: node.height ?? 0,
        initial: initials.has(path),
        lines: lines.get(path) ?? [],
      });
    }
    for (const child of node.children ?? []) walk(child, x, y);
  };
  for (const child of graph.children ?? []) walk(child, 0, 0);

  const laidOut: DiagramEdge[] = [];
  const entries: Diagram['entries'] = [];
  for (const edge of (graph.edges ?? []) as (ElkExtendedEdge & { container?: string })[]) {
    const origin = offsets.get(edge.container ?? 'graph') ?? { x: 0, y: 0 };
    const section = edge.sections?.[0];
    if (!section) continue;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((point) => ({
      x: point.x + origin.x,
      y: point.y + origin.y,
    }));
    if (edge.id.startsWith('entry|')) {
      entries.push({ parent: edge.id.slice('entry|'.length), points });
      continue;
    }
    const label = edge.labels?.[0];
    const [transitionIdPart, targetIndex] = [edge.id.slice(0, edge.id.lastIndexOf('|')), Number(edge.id.slice(edge.id.lastIndexOf('|') + 1))];
    const transition = arrows.find((candidate) => candidate.id === transitionIdPart)!;
    laidOut.push({
      id: transition.id,
      source: transition.source,
      target: transition.targets[targetIndex]!,
      label: label?.text ?? '',
      points,
      labelAt: label ? { x: (label.x ?? 0) + origin.x, y: (label.y ?? 0) + origin.y, width: label.width ?? 0, height: label.height ?? 0 } : null,
    });
  }
  void entryDots;
  return { machine: machine.id, width: graph.width ?? 0, height: graph.height ?? 0, nodes, edges: laidOut, entries };
}
