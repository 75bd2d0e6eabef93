// The play view: pick a task, review the original code, edit, run the visible tests, submit
// (or, on a pull-request task, approve).
// Every move is one step of this tab's own WebSocket session (session.js). Repository tasks
// (a whole project, read file by file) are played through repo.js.
import { changedLines, el, makeEditor, renderCode } from "./codeview.js";
import {
  evaluationMarks, fmt, num, renderComponents, renderEvaluation, renderFindings, renderTestReport, signed,
} from "./render.js";
import { RepoPlay, isRepoTask } from "./repo.js";
import { setupReplay } from "./replay.js";
import { serverUrl, Session, observationOf } from "./session.js";

const $ = (id) => document.getElementById(id);
const MAX_OPTIONS = 1000; // a <select> of 7,000 generated tasks helps nobody: filter or type an id
const session = new Session();
const state = {
  tasks: [], obs: null, original: "", draft: [], selection: null, steps: [], busy: false, score: 0,
};
let reviewView = null;
const editor = makeEditor($("editor"));
const repo = new RepoPlay({
  step: (label, action) => step(label, action),
  rerender: () => render(state.obs),
  showPane: (name) => showPane(name),
  select: (start, end) => select(start, end),
  clearSelection: () => { state.selection = null; $("f-lines").textContent = "—"; },
  status: (text, isError) => status(text, isError),
  editor,
});

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function getJson(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(serverUrl(path), init);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// --- picking a task ------------------------------------------------------------------------

async function loadSplits() {
  const splits = await getJson("python_env/splits");
  const select = $("pick-split");
  select.replaceChildren(...splits.map((s) => el("option", "", s.name)));
  select.value = splits.some((s) => s.name === "curated") ? "curated" : splits[0]?.name;
  await loadTasks();
}

async function loadTasks() {
  status("Loading tasks…");
  const body = await getJson("python_env/tasks", { split: $("pick-split").value });
  state.tasks = body.tasks;
  fillTasks();
  status("");
}

function fillTasks() {
  const kind = $("pick-kind").value;
  const difficulty = $("pick-difficulty").value;
  const category = $("pick-category").value;
  const repoTasks = $("pick-repo").checked;
  const matching = state.tasks.filter((t) => (!kind || t.kinds.includes(kind)) && isRepoTask(t) === repoTasks
    && (!difficulty || t.difficulty === difficulty) && (!category || t.categories.includes(category)));
  const options = [el("option", "", "— seeded pick among the matching tasks —")];
  options[0].value = "";
  for (const t of matching.slice(0, MAX_OPTIONS)) {
    const option = el("option", "", `${t.id} · ${t.title} · ${t.kinds.join("+")} · ${t.difficulty}`);
    option.value = t.id;
    options.push(option);
  }
  $("pick-task").replaceChildren(...options);
  const shown = Math.min(matching.length, MAX_OPTIONS);
  $("pick-count").textContent = `${matching.length} task(s) match` + (shown < matching.length ? `; first ${shown} listed` : "")
    + (repoTasks && !matching.length ? " (repository tasks are in the train and test splits)" : "");
}

function resetOptions() {
  const options = {};
  const id = $("pick-id").value.trim() || $("pick-task").value;
  const seed = $("pick-seed").value.trim();
  if (seed !== "") options.seed = Number(seed);
  if (id) { options.task_id = id; return options; }
  options.split = $("pick-split").value;
  if ($("pick-repo").checked) options.repo = true;
  for (const name of ["kind", "difficulty", "category"]) {
    const value = $(`pick-${name}`).value;
    if (value) options[name] = value;
  }
  return options;
}

async function start(event) {
  event.preventDefault();
  await act("reset", async () => {
    const envelope = await session.reset(resetOptions());
    const obs = observationOf(envelope);
    Object.assign(state, { obs, original: obs.code, draft: [], selection: null, steps: [], score: obs.score });
    editor.setValue(obs.code);
    repo.start(obs);
    $("episode").hidden = false;
    $("evaluation").hidden = true;
    showPane("review");
    render(obs);
    status(`Episode started on ${obs.task.id}. ${obs.feedback}`);
  });
}

// --- one move ------------------------------------------------------------------------------

async function act(label, run) {
  if (state.busy) return;
  state.busy = true;
  document.body.classList.add("busy");
  status(label === "reset" ? "Starting…" : `Running ${label}…`);
  try {
    return await run();
  } catch (error) {
    status(error.message, true);
  } finally {
    state.busy = false;
    document.body.classList.remove("busy");
    updateButtons();
  }
  return null;
}

/** Play one action; resolves to the new observation, or null if the server refused it. */
function step(label, action) {
  return act(label, async () => {
    const obs = observationOf(await session.step(action));
    state.steps.push({ label, reward: obs.reward, score: obs.score, note: obs.error || obs.feedback, error: Boolean(obs.error) });
    state.obs = obs;
    state.score = obs.score;
    render(obs);
    status(obs.error ? `Refused: ${obs.error}` : obs.feedback, Boolean(obs.error));
    return obs;
  });
}

function render(obs) {
  const t = obs.task;
  $("task-title").textContent = `${t.title}`;
  $("task-meta").textContent = `${t.id} · ${t.split} · ${t.kinds.join(", ")} · ${t.difficulty} · ` +
    (t.setting === "pull_request" ? "pull request to review" :
      `${t.categories.join(", ")} · ${t.num_issues} planted issue(s)`) + ` · ${t.max_steps} steps`;
  $("instructions").textContent = obs.instructions;
  $("score").replaceWith(Object.assign(num(obs.score), { id: "score" }));
  $("components").replaceChildren(renderComponents(obs.score_components));
  $("steps-left").textContent = String(obs.steps_left);
  $("feedback").textContent = obs.error ? `✗ ${obs.error}` : obs.feedback;
  $("feedback").classList.toggle("error", Boolean(obs.error));
  renderFindings($("recorded"), obs.findings);
  $("test-report").replaceChildren(renderTestReport(obs.test_report, "visible"));
  renderSteps();
  renderDraft();
  if (repo.active) {
    reviewView = repo.render(obs);
  } else {
    const marks = obs.evaluation
      ? evaluationMarks(obs.evaluation, obs.findings)
      : obs.findings.map((f, i) => ({ start: f.start_line, end: f.end_line, cls: "mark-finding", title: `finding #${i + 1}: ${f.message}` }));
    reviewView = renderCode($("code-review"), state.original, { marks, onSelect: obs.done ? null : select });
  }
  if (state.selection && reviewView && !obs.done) reviewView.select(...state.selection);
  renderCode($("code-tests"), obs.visible_tests);
  $("legend").hidden = !obs.evaluation;
  if (obs.evaluation) {
    showPane("review"); // where the matched and missed issues are marked
    renderEvaluation($("evaluation"), obs.evaluation, obs.findings);
    $("evaluation").hidden = false;
    if (obs.code !== state.original) {
      const edited = el("div", "code");
      renderCode(edited, obs.code, { changed: changedLines(state.original, obs.code) });
      $("evaluation").append(el("h3", "", "Submitted code (changed lines marked)"), edited);
    }
  }
  updateButtons();
}

function renderSteps() {
  const body = $("steps").tBodies[0];
  body.replaceChildren();
  state.steps.forEach((s, i) => {
    const row = el("tr", s.error ? "fail" : "");
    const reward = el("td", "reward", signed(s.reward));
    reward.dataset.value = String(s.reward);
    const score = el("td", "", fmt(s.score));
    score.dataset.value = String(s.score);
    row.append(el("td", "", String(i + 1)), el("td", "mono", s.label), reward, score, el("td", "note", s.note));
    body.appendChild(row);
  });
}

function updateButtons() {
  const live = Boolean(state.obs) && !state.obs.done && !state.busy;
  $("f-add").disabled = !live || !state.selection;
  $("f-copy").disabled = !live || !state.selection;
  $("send-review").disabled = !live || state.draft.length === 0;
  $("send-review").textContent = `Send review (${state.draft.length} finding${state.draft.length === 1 ? "" : "s"})`;
  $("save-edit").disabled = !live || (repo.active ? !repo.canSave() : editor.value === state.obs.code);
  $("run-tests").disabled = !live;
  $("submit").disabled = !live;
  $("approve").disabled = !live;
  repo.enable(live);
  $("start").disabled = state.busy;
}

// --- findings ------------------------------------------------------------------------------

function select(start, end) {
  state.selection = [start, end];
  $("f-lines").textContent = start === end ? `${start}` : `${start}–${end}`;
  updateButtons();
}

function addFinding(event) {
  event.preventDefault();
  if (!state.selection) return;
  const message = $("f-message").value.trim();
  if (!message) { status("A finding needs a message.", true); $("f-message").focus(); return; }
  const [start, end] = state.selection;
  const finding = { start_line: start, end_line: end, category: $("f-category").value, severity: $("f-severity").value, message };
  const rule = $("f-rule").value.trim();
  if (rule) finding.rule_id = rule;
  if ($("f-fix").value.trim()) finding.suggested_fix = $("f-fix").value;
  if (repo.active) {
    finding.path = $("f-path").value.trim();
    if (!finding.path) { status("A finding on a repository task names its file.", true); $("f-path").focus(); return; }
  }
  state.draft.push(finding);
  $("f-message").value = "";
  $("f-fix").value = "";
  $("f-rule").value = "";
  renderDraft();
  updateButtons();
}

function renderDraft() {
  renderFindings($("draft"), state.draft, (i) => { state.draft.splice(i, 1); renderDraft(); updateButtons(); });
}

function copySelection() {
  if (!state.selection) return;
  const [start, end] = state.selection;
  $("f-fix").value = repo.active ? repo.linesOf(start, end) : state.original.split("\n").slice(start - 1, end).join("\n");
}

// --- panes and views -----------------------------------------------------------------------

function showPane(name) {
  for (const pane of ["review", "edit", "tests", "patch", "output"]) {
    $(`pane-${pane}`).hidden = pane !== name;
    $(`pane-${pane}-btn`).classList.toggle("active", pane === name);
  }
}

function showView(name) {
  for (const view of ["play", "replay"]) {
    $(`view-${view}`).hidden = view !== name;
    $(`nav-${view}`).classList.toggle("active", view === name);
  }
}

function wire() {
  $("picker").addEventListener("submit", start);
  $("pick-split").addEventListener("change", () => loadTasks().catch((e) => status(e.message, true)));
  for (const name of ["kind", "difficulty", "category", "repo"]) $(`pick-${name}`).addEventListener("change", fillTasks);
  $("finding-form").addEventListener("submit", addFinding);
  $("f-copy").addEventListener("click", copySelection);
  $("send-review").addEventListener("click", () => {
    const findings = state.draft;
    step(`review(${findings.length})`, { kind: "review", findings }).then((obs) => {
      if (obs && !obs.error) { state.draft = []; renderDraft(); updateButtons(); }
    });
  });
  $("save-edit").addEventListener("click", () => (repo.active ? repo.save() : step("edit", { kind: "edit", code: editor.value })));
  $("run-tests").addEventListener("click", () => (repo.active ? repo.runTests() : step("run_tests", { kind: "run_tests" })));
  $("submit").addEventListener("click", () => step("submit", { kind: "submit" }));
  $("approve").addEventListener("click", () => step("approve", { kind: "approve" }));
  editor.onChange(updateButtons);
  document.querySelectorAll(".subtab").forEach((b) => b.addEventListener("click", () => showPane(b.dataset.pane)));
  document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => showView(b.dataset.view)));
  window.addEventListener("hashchange", fromHash);
}

/** `#task=ID&seed=N` (the replay view's "play this task" link) fills in the picker. */
function fromHash() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  if (params.get("task")) { $("pick-id").value = params.get("task"); showView("play"); }
  if (params.get("seed")) $("pick-seed").value = params.get("seed");
}

wire();
setupReplay(showView);
fromHash();
updateButtons();
loadSplits().catch((error) => status(`Cannot list tasks: ${error.message}`, true));
