// Repository tasks in the play view: list, read and search the project's files, edit the open
// file or paste a patch, choose the visible tests to run, report findings on a file. Each of
// these is one step of the episode (app.js's step); what was read is kept, so looking at a file
// again costs no step. Paths, file contents and matches are untrusted: textContent only.
import { el, renderCode } from "./codeview.js";
import { evaluationMarks } from "./render.js";
import { FileText, buttonList, diffPaths, parseListing, parseRead, parseSearch, renderDiff } from "./repoview.js";

const $ = (id) => document.getElementById(id);
const READ_LINES = 400; // the most lines one read_file shows (the server's cap)
const CONTEXT = 20; // lines read above a search match that lies past the first read

/** Repository tasks ship as data (source "repo:<project>"); single-file ones never start so. */
export const isRepoTask = (info) => (info.source || "").startsWith("repo");

export class RepoPlay {
  /** ctx: {step(label, action), rerender(), showPane(name), select(start, end),
   *  clearSelection(), status(text, isError), editor} */
  constructor(ctx) {
    this.ctx = ctx;
    this.active = false;
    this.pending = null; // the action in flight: render() reads its output
    this.target = undefined; // the line open() wants shown once its read comes back
    this.clear();
    this.wire();
  }

  clear() {
    this.obs = null;
    this.files = { paths: [], note: "" }; // the last listing
    this.found = { matches: [], note: "" }; // the last search
    this.atStart = new Map(); // path -> FileText as it was at the start (the findings' lines)
    this.now = new Map(); // path -> FileText as it is in the tree now (what the editor edits)
    this.path = null; // the open file
    this.focus = null; // the line to show (a search match)
    this.edited = null; // the FileText the editor was filled from
  }

  /** A new episode: repository mode if its observation has a workspace. */
  start(obs) {
    this.clear();
    this.active = Boolean(obs.workspace);
    document.querySelectorAll("[data-repo]").forEach((node) => {
      node.hidden = (node.dataset.repo === "only") !== this.active;
    });
    document.querySelectorAll("[data-repo-label]").forEach((node) => {
      if (!("fileLabel" in node.dataset)) node.dataset.fileLabel = node.textContent;
      node.textContent = this.active ? node.dataset.repoLabel : node.dataset.fileLabel;
    });
    $("pull-request").hidden = !obs.pull_request;
    $("approve").hidden = !obs.pull_request; // the verdict exists on pull-request tasks only
    this.ctx.editor.textarea.readOnly = false; // a repository file is editable once read whole
    if (!this.active) return;
    $("f-path").value = "";
    $("list-note").textContent = "List the project's files (one step), or search them.";
    $("search-note").textContent = "";
    this.renderTestPicks(obs.test_ids);
    if (obs.pull_request) {
      $("pr-title").textContent = obs.pull_request.title;
      $("pr-description").textContent = obs.pull_request.description;
      renderDiff($("pr-diff"), obs.pull_request.diff);
    }
  }

  /** Play `action` (one at a time); its output is taken in by render(). `target`: the line
   * a read_file should show when it comes back (undefined: keep the view where it is). */
  async send(label, action, target = undefined) {
    if (this.pending) return null;
    this.pending = action;
    this.target = target;
    try {
      return await this.ctx.step(label, action);
    } finally {
      this.pending = null;
      this.target = undefined;
    }
  }

  /** Called by app.js for every observation; returns the code view (for selections). */
  render(obs) {
    this.obs = obs;
    if (this.pending && !obs.error) this.absorb(this.pending, obs);
    const w = obs.workspace;
    $("workspace").textContent = `${w.project} ${w.version} · ${w.files} files · ` +
      (w.changed.length ? `changed: ${w.changed.join(", ")}` : "nothing changed yet");
    const changed = new Set(w.changed);
    buttonList($("file-list"), this.files.paths, (p, b) => { b.textContent = p; b.dataset.path = p; },
      (p) => this.open(p), (p) => `${p === this.path ? "open" : ""} ${changed.has(p) ? "changed" : ""}`);
    buttonList($("search-results"), this.found.matches, (m, b) => {
      b.dataset.path = m.path;
      b.append(el("span", "where", `${m.path}:${m.line}`), el("code", "", m.text));
    }, (m) => this.open(m.path, m.line));
    this.renderOutput(obs);
    this.renderEditor();
    return this.renderFile(obs);
  }

  /** What a successful action changed: listings, matches, what is known of the files. */
  absorb(action, obs) {
    if (action.kind === "list_files") {
      this.files = parseListing(obs.output);
      $("list-note").textContent = `${obs.feedback}${this.files.note ? ` (${this.files.note})` : ""}`;
    } else if (action.kind === "search") {
      this.found = parseSearch(obs.output);
      $("search-note").textContent = `${obs.feedback}`;
    } else if (action.kind === "read_file") {
      const slice = parseRead(obs.output);
      const known = (map) => map.get(action.path) || map.set(action.path, new FileText()).get(action.path);
      if (!obs.workspace.changed.includes(action.path)) known(this.atStart).merge(slice);
      known(this.now).merge(slice);
      this.show(action.path);
      if (this.target !== undefined) this.focus = this.target; // else: more of the same view
    } else if (action.kind === "edit_file") {
      this.now.set(action.path, FileText.of(action.content));
    } else if (action.kind === "apply_patch") {
      for (const path of new Set([...diffPaths(action.diff), ...diffPaths(obs.output)])) this.now.delete(path);
      $("patch-text").value = "";
    }
  }

  /** Make `path` the open file (a new file clears the selection; findings default to it). */
  show(path) {
    if (path === this.path) return;
    this.path = path;
    this.ctx.clearSelection();
    $("f-path").value = path;
  }

  /** Show `path` (at `line`), reading it first unless that part of it is known. */
  open(path, line = null) {
    const known = this.atStart.get(path) || this.now.get(path);
    if (known && (known.has(line ?? 1) || known.total === 0)) {
      this.focus = line;
      this.show(path);
      this.ctx.showPane("review");
      this.ctx.rerender();
      return;
    }
    if (this.obs.done) { this.ctx.status("The episode is over: no file can be read now.", true); return; }
    const from = line !== null && line > READ_LINES - CONTEXT ? line - CONTEXT : null;
    this.read(path, from, null, line).then((obs) => { if (obs && !obs.error) this.ctx.showPane("review"); });
  }

  read(path, from = null, to = null, target = undefined) {
    const action = { kind: "read_file", path };
    if (from !== null) action.start_line = from;
    if (to !== null) action.end_line = to;
    const range = from === null ? "" : `:${from}${to === null ? "" : `-${to}`}`;
    return this.send(`read_file ${path}${range}`, action, target);
  }

  /** The open file in the review pane: as it was at the start when that is known (the line
   * numbers findings use), else as it is now. */
  renderFile(obs) {
    const box = $("code-review");
    const head = $("file-head");
    head.replaceChildren();
    if (!this.path) {
      box.replaceChildren(el("div", "muted pad", "No file open: list the files or search, then click one."));
      return null;
    }
    const start = this.atStart.get(this.path);
    const fromStart = Boolean(start) && (this.focus === null || start.has(this.focus));
    const known = fromStart ? start : this.now.get(this.path);
    if (!known) { // a patch changed it after it was read as it was then
      head.append(el("strong", "mono", this.path), " · changed by a patch ", this.button("read it again", () => this.read(this.path)));
      box.replaceChildren();
      return null;
    }
    const [a, b] = known.run(this.focus);
    head.append(el("strong", "mono", this.path),
      ` · lines ${a}–${b} of ${known.total}` + (fromStart ? "" : " · as it is now"));
    if (a > 1) head.appendChild(this.button("earlier lines", () => this.read(this.path, Math.max(1, a - READ_LINES), a - 1)));
    if (b < known.total) head.appendChild(this.button("more lines", () => this.read(this.path, b + 1)));
    if (!fromStart && obs.workspace.changed.includes(this.path)) {
      head.appendChild(el("div", "error", "Changed since the start and not read before: findings use the start's line numbers, which may differ."));
    }
    if (!known.total) { box.replaceChildren(el("div", "muted pad", "(empty file)")); return null; }
    const marks = obs.evaluation
      ? evaluationMarks(obs.evaluation, obs.findings, this.path)
      : obs.findings.filter((f) => f.path === this.path).map((f) => ({ start: f.start_line, end: f.end_line, cls: "mark-finding", title: f.message }));
    const view = renderCode(box, known.text(a, b), {
      first: a, plain: !/\.pyi?$/.test(this.path), marks, onSelect: obs.done ? null : this.ctx.select,
    });
    const target = this.focus !== null && box.querySelector(`.line[data-line="${this.focus}"]`);
    if (target) {
      target.classList.add("focus");
      box.scrollTop = Math.max(0, target.offsetTop - box.clientHeight / 3);
    }
    return view;
  }

  /** Lines a..b of the open file as the review pane shows them (a finding's fix starts so). */
  linesOf(a, b) {
    const known = this.atStart.get(this.path) || this.now.get(this.path);
    return known ? known.text(a, b).replace(/\n$/, "") : "";
  }

  /** The editor holds the open file as it is now, once all of it has been read. */
  renderEditor() {
    const known = this.path ? this.now.get(this.path) : null;
    const whole = Boolean(known && known.complete);
    const hint = !this.path ? "Open a file to edit it; “Save file” sends it whole (edit_file)."
      : whole ? `${this.path}: “Save file” sends the whole file (edit_file). Tab inserts four spaces.`
        : `${this.path}: read all of it as it is now to edit it here, or paste a patch.`;
    $("edit-hint").textContent = hint;
    $("edit-read").hidden = !this.path || whole;
    $("edit-read").textContent = known && !whole ? `read on from line ${known.firstMissing}` : "read it";
    this.ctx.editor.textarea.readOnly = !whole;
    const source = whole ? known : null; // what is known of a file only grows in place
    if (source === this.edited) return; // so typing is kept across other actions
    this.edited = source;
    this.ctx.editor.setValue(source ? source.text() : "");
  }

  /** Enable the navigation buttons while the episode is live and nothing is in flight. */
  enable(live) {
    for (const id of ["list-files", "search", "apply-patch", "edit-read"]) $(id).disabled = !live;
  }

  /** True when the editor holds a change to save. */
  canSave() {
    const known = this.path ? this.now.get(this.path) : null;
    return Boolean(known && known.complete) && this.ctx.editor.value !== known.text();
  }

  save() {
    const action = { kind: "edit_file", path: this.path, content: this.ctx.editor.value };
    return this.send(`edit_file ${this.path}`, action);
  }

  /** run_tests on the ticked test ids (all of them: no selection sent). */
  runTests() {
    const boxes = [...$("test-picks").querySelectorAll("input[data-test]")];
    const ticked = boxes.filter((b) => b.checked).map((b) => b.dataset.test);
    if (boxes.length && !ticked.length) { this.ctx.status("Tick at least one test to run.", true); return null; }
    if (ticked.length === boxes.length) return this.send("run_tests", { kind: "run_tests" });
    return this.send(`run_tests(${ticked.length})`, { kind: "run_tests", tests: ticked });
  }

  renderTestPicks(ids) {
    const list = $("test-picks");
    list.replaceChildren();
    for (const id of ids) {
      const label = el("label", "check mono small");
      const box = el("input");
      box.type = "checkbox";
      box.checked = true;
      box.dataset.test = id;
      label.append(box, id);
      list.appendChild(label);
    }
    if (!ids.length) list.appendChild(el("div", "muted", "This task has no visible tests."));
    $("tests-all").checked = true;
  }

  renderOutput(obs) {
    const box = $("output");
    const kind = this.pending ? this.pending.kind : null;
    if (!obs.output) {
      box.replaceChildren(el("div", "muted pad", "The last action produced no output."));
    } else if (kind === "edit_file" || kind === "apply_patch") {
      renderDiff(box, obs.output);
    } else {
      box.replaceChildren(el("pre", "mono pad", obs.output));
    }
  }

  button(text, onClick) {
    const button = el("button", "link", text);
    button.type = "button";
    button.disabled = Boolean(this.obs && this.obs.done);
    button.onclick = onClick;
    return button;
  }

  wire() {
    $("list-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const pattern = $("list-glob").value.trim();
      this.send(`list_files ${pattern || "**/*"}`, pattern ? { kind: "list_files", pattern } : { kind: "list_files" });
    });
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const pattern = $("search-pattern").value;
      if (!pattern) { this.ctx.status("Type a regular expression to search for.", true); return; }
      const action = { kind: "search", pattern };
      const glob = $("search-glob").value.trim();
      if (glob) action.path_glob = glob;
      this.send(`search ${pattern}`, action);
    });
    $("apply-patch").addEventListener("click", () => {
      const diff = $("patch-text").value;
      if (!diff.trim()) { this.ctx.status("Paste a unified diff first.", true); return; }
      this.send("apply_patch", { kind: "apply_patch", diff });
    });
    $("edit-read").addEventListener("click", () => {
      const known = this.now.get(this.path);
      this.read(this.path, known ? known.firstMissing : null);
    });
    $("tests-all").addEventListener("change", (event) => {
      $("test-picks").querySelectorAll("input[data-test]").forEach((b) => { b.checked = event.target.checked; });
    });
  }
}
