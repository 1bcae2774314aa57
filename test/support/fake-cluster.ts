/**
 * @module fake-cluster: an in-memory {@link ClusterBus} for machine tests: one
 * sequencer shared by several fake nodes, whose deliveries wait until the
 * test hands them out, so a test decides exactly when each node hears what
 * (and can lose a message on its way, or take the cluster away).
 */
import type { ClaimInput, ClaimOutcome } from '../../machines/claims.js';
import type { ClusterBus, ClusterListener, ClusterReadResult, PresenceNotice, SequencedEvent, SequenceRequest } from '../../machines/cluster.js';
import type { ReadQuery } from '../../machines/history.js';

export class FakeCluster {
  up = true;
  epoch = 'fake-epoch';
  readonly buses: FakeBus[] = [];
  private readonly offsets = new Map<string, number>();
  readonly streams = new Map<string, SequencedEvent[]>();
  readonly nicks = new Map<string, string>();
  /** Deliveries on their way: nothing arrives until {@link deliver}. */
  private inFlight: { to: FakeBus; run: () => void }[] = [];

  bus(node: string): FakeBus {
    const bus = new FakeBus(this, node);
    this.buses.push(bus);
    return bus;
  }

  /** Hands every node what is on its way to it, oldest first; `lose` drops the deliveries it picks. */
  deliver(lose: (to: FakeBus, index: number) => boolean = () => false): void {
    const batch = this.inFlight;
    this.inFlight = [];
    batch.forEach((delivery, index) => {
      if (!lose(delivery.to, index)) delivery.run();
    });
  }

  /** As a Redis restarted empty: offsets start again in a new epoch, and every node is told the cluster is back. */
  loseData(epoch: string): void {
    this.epoch = epoch;
    this.offsets.clear();
    this.streams.clear();
    for (const bus of this.buses) bus.listener?.resumed();
  }

  sequence(node: string, request: SequenceRequest): number {
    if (!this.up) throw new Error('the cluster is away');
    const offset = (this.offsets.get(request.channel) ?? 0) + 1;
    this.offsets.set(request.channel, offset);
    const event: SequencedEvent = {
      channel: request.channel,
      offset,
      time: 1_000 + offset,
      data: `${request.head},"offset":${offset},"time":${1_000 + offset}}`,
      kind: request.kind,
      node,
      member: request.member,
      disconnected: request.disconnected,
    };
    const stream = this.streams.get(request.channel) ?? [];
    stream.push(event);
    this.streams.set(request.channel, stream);
    for (const bus of this.buses) {
      if (bus.subscribed.has(request.channel)) this.inFlight.push({ to: bus, run: () => bus.listener?.event(event) });
    }
    return offset;
  }

  presence(notice: PresenceNotice): void {
    for (const bus of this.buses) this.inFlight.push({ to: bus, run: () => bus.listener?.presence(notice) });
  }

  read(query: ReadQuery): ClusterReadResult {
    if (!this.up) throw new Error('the cluster is away');
    const all = this.streams.get(query.channel) ?? [];
    const last = this.offsets.get(query.channel) ?? 0;
    const events = all.filter((event) => event.offset > (query.after ?? 0) && event.offset < (query.before ?? Infinity)).slice(-query.limit);
    return { events, first: all[0]?.offset ?? last + 1, last };
  }
}

export class FakeBus implements ClusterBus {
  listener: ClusterListener | undefined;
  readonly subscribed = new Set<string>();
  readonly forgotten: string[] = [];

  constructor(
    private readonly cluster: FakeCluster,
    readonly node: string,
  ) {}

  get epoch(): string {
    return this.cluster.epoch;
  }

  listen(listener: ClusterListener): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }

  async subscribe(channel: string): Promise<void> {
    if (!this.cluster.up) throw new Error('the cluster is away');
    this.subscribed.add(channel);
  }

  unsubscribe(channel: string): void {
    this.subscribed.delete(channel);
  }

  async sequence(request: SequenceRequest): Promise<number> {
    return this.cluster.sequence(this.node, request);
  }

  async read(query: ReadQuery): Promise<ClusterReadResult> {
    return this.cluster.read(query);
  }

  async announce(notice: Omit<PresenceNotice, 'node'>): Promise<void> {
    if (!this.cluster.up) throw new Error('the cluster is away');
    this.cluster.presence({ ...notice, node: this.node });
  }

  async users(): Promise<string[]> {
    return [...this.cluster.nicks.values()];
  }

  async members(channel: string): Promise<string[]> {
    return (this.cluster.streams.get(channel) ?? []).filter((event) => event.kind === 'join').map((event) => JSON.parse(event.data).user);
  }

  forget(id: string): void {
    this.forgotten.push(id);
  }

  readonly restored: { channel: string; members: readonly { id: string; user: string }[] }[] = [];

  async restoreMembers(channel: string, members: readonly { id: string; user: string }[]): Promise<void> {
    this.restored.push({ channel, members });
  }

  async claim(input: ClaimInput): Promise<ClaimOutcome> {
    const key = input.nick.toLowerCase();
    if (this.cluster.nicks.has(key) && !input.owner) return { ok: false, code: 'nick_taken' };
    this.cluster.nicks.set(key, input.nick);
    return { ok: true };
  }
}
