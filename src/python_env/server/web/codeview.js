// Code with line numbers: a read-only view whose lines can be selected and marked, an editor (a
// textarea over a highlighted copy of its text), and a line diff for edits.
import { appendPieces, highlightLines } from "./highlight.js";

let dragging = null; // the code view whose lines are being dragged over, if any
window.addEventListener("mouseup", () => { dragging = null; });

/** Shorthand for document.createElement with a class and text. */
export function el(tag, cls = "", text = "") {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== "") node.textContent = text;
  return node;
}

/**
 * Render `source` into `container` as numbered lines.
 * options.marks: [{start, end, cls, title}] classes added to lines start..end (1-based).
 * options.onSelect(start, end): makes lines selectable (click, shift-click or drag).
 * options.changed: Set of line numbers to flag as changed (an edit).
 * options.reveal: scroll the first marked or changed line into view.
 * options.first: the number of the first line (a slice of a file; default 1).
 * options.plain: no Python highlighting (a file that is not Python).
 * Line numbers in marks, changed, onSelect and select() are the file's.
 * Returns {select(start, end), clear()}.
 */
export function renderCode(container, source, options = {}) {
  container.replaceChildren();
  const first = options.first || 1;
  const lines = options.plain ? source.split("\n").map((text) => (text ? [["", text]] : [])) : highlightLines(source);
  if (lines.length > 1 && lines[lines.length - 1].length === 0 && source.endsWith("\n")) lines.pop();
  const rows = lines.map((pieces, i) => {
    const row = el("div", "line");
    row.dataset.line = String(first + i);
    row.appendChild(el("span", "ln", String(first + i)));
    const src = el("span", "src");
    appendPieces(src, pieces);
    if (!pieces.length) src.textContent = " ";
    row.appendChild(src);
    if (options.changed && options.changed.has(first + i)) row.classList.add("changed");
    container.appendChild(row);
    return row;
  });
  for (const mark of options.marks || []) {
    for (let n = Math.max(mark.start, first); n <= Math.min(mark.end, first + rows.length - 1); n++) {
      const row = rows[n - first];
      row.classList.add(mark.cls);
      if (mark.title) row.title = row.title ? `${row.title}\n${mark.title}` : mark.title;
    }
    const labelled = rows[mark.start - first];
    if (mark.label && labelled) labelled.appendChild(el("span", `tag ${mark.cls}`, mark.label));
  }
  if (options.reveal) { // scroll the first marked or changed line into view, in the box only
    const first = rows.find((row) => row.classList.contains("changed") || [...row.classList].some((c) => c.startsWith("mark-")));
    if (first) container.scrollTop = Math.max(0, first.offsetTop - container.clientHeight / 3);
  }
  const view = { select() {}, clear() {} };
  if (!options.onSelect) return view;

  container.classList.add("selectable");
  let anchor = null;
  const paint = (a, b) => rows.forEach((row, i) => row.classList.toggle("sel", first + i >= a && first + i <= b));
  const finish = (a, b) => {
    const [start, end] = a <= b ? [a, b] : [b, a];
    paint(start, end);
    options.onSelect(start, end);
  };
  const lineOf = (event) => {
    const row = event.target.closest(".line");
    return row && container.contains(row) ? Number(row.dataset.line) : null;
  };
  container.onmousedown = (event) => {
    const n = lineOf(event);
    if (n === null || event.button !== 0) return;
    event.preventDefault(); // no text selection while picking lines
    if (event.shiftKey && anchor !== null) { finish(anchor, n); return; }
    anchor = n;
    dragging = container;
    finish(n, n);
  };
  container.onmouseover = (event) => {
    const n = lineOf(event);
    if (dragging === container && n !== null) finish(anchor, n);
  };
  view.select = (a, b) => { anchor = a; finish(a, b); };
  view.clear = () => { anchor = null; paint(0, -1); };
  return view;
}

/** An editor in `root`: {value, setValue(text), onChange(fn)}. */
export function makeEditor(root) {
  root.replaceChildren();
  const gutter = el("pre", "gutter");
  const stack = el("div", "stack");
  const shadow = el("pre", "shadow");
  const area = el("textarea", "area");
  area.spellcheck = false;
  area.wrap = "off";
  area.setAttribute("aria-label", "code editor");
  stack.append(shadow, area);
  root.append(gutter, stack);
  let listener = () => {};

  const paint = () => {
    const lines = highlightLines(area.value);
    shadow.replaceChildren();
    lines.forEach((pieces, i) => {
      if (i > 0) shadow.appendChild(document.createTextNode("\n"));
      appendPieces(shadow, pieces);
    });
    shadow.appendChild(document.createTextNode("\n ")); // room for the last line's caret
    gutter.textContent = lines.map((_, i) => String(i + 1)).join("\n") + "\n ";
    sync();
  };
  const sync = () => {
    shadow.scrollTop = area.scrollTop;
    shadow.scrollLeft = area.scrollLeft;
    gutter.scrollTop = area.scrollTop;
  };
  let pending = 0; // one repaint per frame however many input events (a big file is slow to paint)
  area.addEventListener("input", () => {
    if (!pending) pending = requestAnimationFrame(() => { pending = 0; paint(); });
    listener(area.value);
  });
  area.addEventListener("scroll", sync);
  area.addEventListener("keydown", (event) => {
    if (event.key !== "Tab" || event.shiftKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault(); // keep focus in the editor; indent like the code does
    area.setRangeText("    ", area.selectionStart, area.selectionEnd, "end");
    area.dispatchEvent(new Event("input"));
  });
  return {
    get value() { return area.value; },
    setValue(text) { area.value = text; cancelAnimationFrame(pending); pending = 0; paint(); },
    onChange(fn) { listener = fn; },
    textarea: area,
  };
}

/** Line numbers of `after` that are new or changed relative to `before` (LCS of lines). */
export function changedLines(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  const changed = new Set();
  if (a.length * b.length > 4_000_000) { // too big to diff here: flag every line
    b.forEach((_, i) => changed.add(i + 1));
    return changed;
  }
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * width + j] = a[i] === b[j]
        ? table[(i + 1) * width + j + 1] + 1
        : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (j < b.length) {
    if (i < a.length && a[i] === b[j]) { i++; j++; }
    else if (i < a.length && table[(i + 1) * width + j] >= table[i * width + j + 1]) i++;
    else { changed.add(j + 1); j++; }
  }
  return changed;
}
