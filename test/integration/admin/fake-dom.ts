// Just enough of a browser DOM to run the dashboard's inline script in node:vm and read back
// what it drew: elements with children, text nodes, classes, datasets and listeners. Text nodes
// are never parsed, like the real createTextNode; innerHTML does not exist here, so a script
// that used it would throw.

export class FakeText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

type Child = FakeElement | FakeText;

export class FakeElement {
  readonly tagName: string;
  className = '';
  id = '';
  type = '';
  disabled = false;
  value = '';
  title = '';
  min = '';
  max = '';
  readonly dataset: Record<string, string> = {};
  readonly attributes: Record<string, string> = {};
  children: Child[] = [];
  parent: FakeElement | undefined;
  readonly listeners = new Map<string, ((e: unknown) => unknown)[]>();

  constructor(tagName: string) {
    this.tagName = tagName.toUpperCase();
  }

  appendChild(c: Child): Child {
    if (c instanceof FakeElement) {
      c.parent?.removeChild(c);
      c.parent = this;
    }
    this.children.push(c);
    return c;
  }
  append(...kids: (Child | string)[]): void {
    for (const k of kids) this.appendChild(typeof k === 'string' ? new FakeText(k) : k);
  }
  removeChild(c: Child): void {
    this.children = this.children.filter((x) => x !== c);
  }
  replaceChildren(...kids: Child[]): void {
    for (const c of this.children) if (c instanceof FakeElement) c.parent = undefined;
    this.children = [];
    for (const k of kids) this.appendChild(k);
  }
  set textContent(t: string) {
    this.replaceChildren(new FakeText(t));
  }
  get textContent(): string {
    return this.children.map((c) => (c instanceof FakeText ? c.text : c.textContent)).join('');
  }
  set innerHTML(_html: string) {
    throw new Error('the dashboard must not parse markup (innerHTML)');
  }
  setAttribute(k: string, v: string): void {
    this.attributes[k] = v;
  }
  addEventListener(type: string, fn: (e: unknown) => unknown): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  click(): void {
    for (const fn of this.listeners.get('click') ?? []) fn({});
  }
  focus(): void {}
  setSelectionRange(): void {}
  /** Every element below this one, depth first. */
  *all(): Generator<FakeElement> {
    for (const c of this.children) {
      if (c instanceof FakeElement) {
        yield c;
        yield* c.all();
      }
    }
  }
}

export class FakeDocument {
  readonly body = new FakeElement('body');
  activeElement: FakeElement | undefined = undefined;

  constructor(ids: string[]) {
    for (const id of ids) {
      const e = new FakeElement('div');
      e.id = id;
      this.body.appendChild(e);
    }
  }
  getElementById(id: string): FakeElement | null {
    for (const e of this.body.all()) if (e.id === id) return e;
    return null;
  }
  createElement(tag: string): FakeElement {
    return new FakeElement(tag);
  }
  createElementNS(_ns: string, tag: string): FakeElement {
    return new FakeElement(tag);
  }
  createTextNode(t: string): FakeText {
    return new FakeText(t);
  }
  querySelectorAll(): FakeElement[] {
    return [];
  }
}
