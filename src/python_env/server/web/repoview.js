// Repository tasks, the parts without state: what list_files, read_file and search put in the
// observation's `output`, parsed; what is known of a file, line by line; diffs as DOM nodes.
// All of it is the project's text, untrusted: it only ever goes into textContent.
import { el } from "./codeview.js";

const NUMBERED = /^ *(\d+) \| ([\s\S]*)$/; // read_file: "   12 | code"
const READ_NOTE = /^\[lines (\d+)-(\d+) of (\d+)/; // read_file, on a slice: "[lines 1-400 of 912; …]"
const LIST_NOTE = /^\[[\d,]+ more not shown.*\]$/; // list_files, when the listing was capped
const MATCH = /^(.+?):(\d+): ([\s\S]*)$/; // search: "path:line: text"
const NOTE = /^\[.*\]$/; // a note the server adds after the results

/** The rows of `output`, without the empty string after its last newline. */
function rowsOf(output) {
  const rows = (output || "").split("\n");
  if (rows[rows.length - 1] === "") rows.pop();
  return rows;
}

/** list_files output: {paths, note}. */
export function parseListing(output) {
  const paths = rowsOf(output);
  const note = paths.length && LIST_NOTE.test(paths[paths.length - 1]) ? paths.pop().slice(1, -1) : "";
  return { paths, note };
}

/** read_file output: {start, lines, total, truncated} (lines without their newline). */
export function parseRead(output) {
  const lines = [];
  let start = null;
  let total = null;
  let truncated = false;
  for (const row of rowsOf(output)) {
    const numbered = NUMBERED.exec(row);
    if (numbered) {
      if (start === null) start = Number(numbered[1]);
      lines.push(numbered[2]);
      continue;
    }
    const note = READ_NOTE.exec(row);
    if (note) { total = Number(note[3]); truncated = row.includes("read on"); }
  }
  start = start ?? 1;
  return { start, lines, total: total ?? start - 1 + lines.length, truncated };
}

/** search output: {matches: [{path, line, text}], note}. */
export function parseSearch(output) {
  const matches = [];
  const notes = [];
  for (const row of rowsOf(output)) {
    const match = NOTE.test(row) ? null : MATCH.exec(row);
    if (match) matches.push({ path: match[1], line: Number(match[2]), text: match[3] });
    else notes.push(row.replace(/^\[|\]$/g, ""));
  }
  return { matches, note: notes.join(" ") };
}

/** The files a unified diff names on its ---/+++ lines (a/ and b/ dropped). */
export function diffPaths(diff) {
  const paths = new Set();
  for (const row of rowsOf(diff)) {
    const named = /^(?:---|\+\+\+) (?:[ab]\/)?([^\t]+)/.exec(row);
    if (named && named[1] !== "/dev/null") paths.add(named[1].trim());
  }
  return paths;
}

/** What is known of one file: some of its lines (1-based; reads leave holes) and how many. */
export class FileText {
  constructor() {
    this.lines = [];
    this.total = null;
  }

  /** A file known whole, from its text. */
  static of(text) {
    const known = new FileText();
    known.lines = rowsOf(text);
    known.total = known.lines.length;
    return known;
  }

  /** Add a parsed read (parseRead). */
  merge(slice) {
    slice.lines.forEach((line, i) => { this.lines[slice.start - 1 + i] = line; });
    this.total = slice.total;
    this.lines.length = Math.min(this.lines.length, slice.total);
  }

  has(n) {
    return n >= 1 && this.lines[n - 1] !== undefined;
  }

  /** Every line is known. */
  get complete() {
    if (this.total === null) return false;
    for (let n = 1; n <= this.total; n++) if (!this.has(n)) return false;
    return true;
  }

  /** The first line not known, or null. */
  get firstMissing() {
    for (let n = 1; n <= (this.total ?? 1); n++) if (!this.has(n)) return n;
    return null;
  }

  /** [a, b]: the run of known lines around `line` (else the first run); [1, 0] if none. */
  run(line = null) {
    let at = line !== null && this.has(line) ? line : this.lines.findIndex((l) => l !== undefined) + 1;
    if (at === 0) return [1, 0];
    let end = at;
    while (this.has(at - 1)) at--;
    while (this.has(end + 1)) end++;
    return [at, end];
  }

  /** Lines a..b as text, each ending with a newline. */
  text(a = 1, b = this.total ?? 0) {
    return this.lines.slice(a - 1, b).map((line) => `${line}\n`).join("");
  }
}

/** A unified diff into `box`, one row per line, coloured by what the line does. */
export function renderDiff(box, diff) {
  box.replaceChildren();
  for (const row of rowsOf(diff)) {
    let cls = "";
    if (/^(diff |--- |\+\+\+ |new file|deleted file|index )/.test(row)) cls = "diff-file";
    else if (row.startsWith("@@")) cls = "diff-hunk";
    else if (row.startsWith("+")) cls = "diff-add";
    else if (row.startsWith("-")) cls = "diff-del";
    box.appendChild(el("div", `line ${cls}`.trim(), row || " "));
  }
  if (!box.childNodes.length) box.appendChild(el("div", "muted", "(empty diff)"));
}

/** A list of buttons, one per item: label(item) as text, onClick(item), cls(item) classes. */
export function buttonList(list, items, label, onClick, cls = () => "") {
  list.replaceChildren();
  for (const item of items) {
    const button = el("button", `link ${cls(item)}`.trim());
    button.type = "button";
    label(item, button);
    button.onclick = () => onClick(item);
    const row = el("li");
    row.appendChild(button);
    list.appendChild(row);
  }
}
