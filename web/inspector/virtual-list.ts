/**
 * @module virtual-list: a scrolling list that keeps only the rows in view in
 * the DOM, so ten thousand sessions or events cost a screenful of elements.
 *
 * Rows have one fixed height; spacers above and below stand in for the rest.
 * Heights are set through the CSSOM (`element.style`), which the page's
 * Content-Security-Policy allows, unlike inline `style` attributes.
 */
import { h } from '../dom.js';

const OVERSCAN = 8;

export class VirtualList<T> {
  private items: readonly T[] = [];
  private readonly before = h('div', { class: 'spacer', 'aria-hidden': 'true' });
  private readonly after = h('div', { class: 'spacer', 'aria-hidden': 'true' });
  private readonly rows: HTMLElement;
  private frame = 0;

  constructor(
    readonly scroller: HTMLElement,
    /** A function, so that rows can grow when the layout changes (two lines on a phone). */
    private readonly rowHeightOf: () => number,
    private readonly renderRow: (item: T, index: number) => HTMLElement,
    rowsElement: HTMLElement = h('div', { class: 'rows' }),
  ) {
    this.rows = rowsElement;
    scroller.replaceChildren(this.before, this.rows, this.after);
    scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
  }

  private get rowHeight(): number {
    return this.rowHeightOf();
  }

  get length(): number {
    return this.items.length;
  }

  /** Replaces the items; `follow` keeps the view at the bottom if it was there (a live log). */
  setItems(items: readonly T[], follow = false): void {
    const atBottom = this.scroller.scrollTop + this.scroller.clientHeight >= this.scroller.scrollHeight - this.rowHeight;
    this.items = items;
    this.render();
    if (follow && atBottom) {
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.render();
    }
  }

  /** Scrolls so that item `index` is in view. */
  reveal(index: number): void {
    const top = index * this.rowHeight;
    if (top < this.scroller.scrollTop || top + this.rowHeight > this.scroller.scrollTop + this.scroller.clientHeight) {
      this.scroller.scrollTop = Math.max(0, top - this.scroller.clientHeight / 2);
    }
    this.render();
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render(): void {
    const visible = Math.ceil((this.scroller.clientHeight || 400) / this.rowHeight);
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / this.rowHeight) - OVERSCAN);
    const last = Math.min(this.items.length, first + visible + 2 * OVERSCAN);
    this.before.style.height = `${first * this.rowHeight}px`;
    this.after.style.height = `${(this.items.length - last) * this.rowHeight}px`;
    const rows: HTMLElement[] = [];
    for (let index = first; index < last; index += 1) rows.push(this.renderRow(this.items[index]!, index));
    this.rows.replaceChildren(...rows);
  }
}
