// The replay view: read a `python-env rollouts` JSONL file (one line per turn: the observation
// the agent saw, its action, the reward) or a `python-env eval` report (one summary row per
// episode) in the browser, and step through an episode.
import { changedLines, el, renderCode } from "./codeview.js";
import { fmt, num, renderComponents, renderFindings, renderTestReport, signed } from "./render.js";

const $ = (id) => document.getElementById(id);
const replay = { episodes: [], episode: null, at: 0 };

/** Parse a file's text: {kind: "report", report} or {kind: "rollouts", episodes}. */
export function parseReplay(text) {
  const trimmed = text.trim();
  if (!trimmed) throw new Error("The file is empty.");
  let whole = null;
  try { whole = JSON.parse(trimmed); } catch { /* not one JSON document: JSONL */ }
  if (whole && !Array.isArray(whole) && Array.isArray(whole.episodes) && whole.aggregate) {
    return { kind: "report", report: whole };
  }
  const rows = trimmed.split("\n").filter((line) => line.trim()).map((line, i) => {
    let row;
    try { row = JSON.parse(line); } catch { throw new Error(`Line ${i + 1} is not JSON.`); }
    if (!row || typeof row !== "object" || !("episode" in row) || !row.observation) {
      throw new Error(`Line ${i + 1} is not a rollouts turn (no episode/observation): is this a python-env rollouts or eval file?`);
    }
    return row;
  });
  const byEpisode = new Map();
  for (const row of rows) {
    if (!byEpisode.has(row.episode)) byEpisode.set(row.episode, []);
    byEpisode.get(row.episode).push(row);
  }
  const episodes = [...byEpisode.entries()].map(([id, turns]) => {
    turns.sort((a, b) => a.step - b.step);
    let running = 0;
    const scores = turns.map((t) => (running += t.reward || 0));
    return { id, turns, scores, seed: id.split(":").pop(), task: turns[0].task_id, agent: turns[0].agent };
  });
  return { kind: "rollouts", episodes };
}

export function actionLabel(action) {
  if (!action) return "invalid";
  if (action.kind === "review") return `review(findings=${(action.findings || []).length})`;
  if (action.kind === "edit") return `edit(chars=${(action.code || "").length})`;
  return `${action.kind}()`;
}

function playLink(task, seed) {
  const link = el("a", "", "play");
  link.href = `#task=${encodeURIComponent(task)}` + (seed !== undefined && seed !== "" ? `&seed=${encodeURIComponent(seed)}` : "");
  return link;
}

function status(text, isError = false) {
  $("replay-status").textContent = text;
  $("replay-status").classList.toggle("error", isError);
}

function table(headers, rows) {
  const t = el("table", "grid");
  const head = el("tr");
  headers.forEach((h) => head.appendChild(el("th", "", h)));
  t.appendChild(el("thead")).appendChild(head);
  const body = t.appendChild(el("tbody"));
  rows.forEach((cells) => {
    const tr = body.appendChild(el("tr"));
    for (const cell of cells) {
      const td = tr.appendChild(el("td"));
      if (cell instanceof Node) td.appendChild(cell);
      else td.textContent = String(cell ?? "—");
    }
  });
  return t;
}

function showReport(report) {
  const box = $("replay-summary");
  const run = report.run || {};
  const overall = (report.aggregate || {}).overall || {};
  box.replaceChildren(
    el("h2", "", `Eval report: ${report.label || report.agent} on ${report.split}`),
    el("div", "meta", `created ${report.created || "?"} · python_env ${report.python_env || "?"} · ${run.episodes ?? "?"} episodes, ${run.errors ?? 0} failed · ${run.wall_s ?? "?"} s`),
    el("div", "meta", `mean score ${fmt(overall.mean_score)} ± ${fmt(overall.score_ci95)} · solved ${overall.solved ?? "—"} · mean reward sum ${fmt(overall.mean_reward_sum)} · mean steps ${overall.mean_steps ?? "—"} · invalid-action rate ${fmt(overall.invalid_rate)}`),
    el("p", "hint", "An eval report keeps one summary row per episode, not its steps. To step through episodes, export them with python-env rollouts (same options) and load that file."),
    table(["task", "seed", "score", "reward sum", "steps", "invalid", "components", "findings F1", "tests f→p / p→p", "error", ""],
      report.episodes.map((e) => [e.task_id, e.seed, num(e.score), num(e.reward_sum), e.steps, e.invalid_actions,
        renderComponents(e.components), e.findings ? fmt(e.findings.f1) : "—",
        e.tests ? `${e.tests.fail_to_pass.join("/")} · ${e.tests.pass_to_pass.join("/")}` : "—", e.error || "", playLink(e.task_id, e.seed)])),
  );
  $("replay-episode").hidden = true;
}

function showRollouts(episodes) {
  replay.episodes = episodes;
  const rows = episodes.map((e, i) => {
    const open = el("button", "link", "replay");
    open.type = "button";
    open.dataset.episode = String(i);
    open.onclick = () => openEpisode(i);
    const last = e.turns[e.turns.length - 1];
    return [open, e.task, e.agent, e.seed, e.turns.length, e.turns.filter((t) => !t.action).length,
      num(e.scores[e.scores.length - 1]), num(last.episode_score)];
  });
  $("replay-summary").replaceChildren(
    el("h2", "", `Rollouts: ${episodes.length} episode(s)`),
    table(["", "task", "agent", "seed", "turns", "invalid", "reward sum", "episode score"], rows),
  );
  openEpisode(0);
}

function openEpisode(index) {
  replay.episode = replay.episodes[index];
  replay.at = 0;
  $("replay-episode").hidden = false;
  showStep();
}

function go(at) {
  if (!replay.episode) return;
  replay.at = Math.max(0, Math.min(at, replay.episode.turns.length - 1));
  showStep();
}

function showStep() {
  const e = replay.episode;
  const turn = e.turns[replay.at];
  const next = e.turns[replay.at + 1];
  const obs = turn.observation;
  const original = e.turns[0].observation.code;
  const action = turn.action;
  $("r-step").textContent = String(replay.at + 1);
  $("r-total").textContent = String(e.turns.length);
  $("r-episode").textContent = `${e.agent} on ${e.task} · seed ${e.seed}`;
  $("r-play").href = playLink(e.task, e.seed).getAttribute("href");

  // Code: an edit shows its new code (changed lines marked); otherwise the original code, where
  // findings are placed, with this action's findings and the ones recorded before it.
  if (action && action.kind === "edit") {
    $("r-code-title").textContent = "Code after this edit (changed lines marked)";
    renderCode($("r-code"), action.code, { changed: changedLines(obs.code, action.code), reveal: true });
  } else {
    $("r-code-title").textContent = "Original code (findings are placed on it)";
    const marks = obs.findings.map((f) => ({ start: f.start_line, end: f.end_line, cls: "mark-old", title: f.message }));
    for (const f of (action && action.findings) || []) marks.push({ start: f.start_line, end: f.end_line, cls: "mark-finding", title: f.message });
    renderCode($("r-code"), original, { marks, reveal: true });
  }

  const actionBox = $("r-action");
  actionBox.replaceChildren(el("div", "mono", actionLabel(action) + (turn.forced ? " — forced: the step budget was used up" : "")));
  if (!action) actionBox.appendChild(el("div", "error", `invalid, never sent: ${turn.error || ""}`));
  if (action && action.kind === "review") {
    const list = el("ol", "findings");
    renderFindings(list, action.findings);
    actionBox.appendChild(list);
  }

  const result = $("r-result");
  const line = el("div", "meta");
  line.append("reward ", Object.assign(num(turn.reward), { id: "r-reward" }), " · running score ",
    Object.assign(num(e.scores[replay.at]), { id: "r-running" }), turn.done ? " · done" : "");
  line.querySelector("#r-reward").textContent = signed(turn.reward);
  result.replaceChildren(line);
  if (turn.error && action) result.appendChild(el("div", "error", turn.error));
  if (next) {
    result.appendChild(el("div", "", `after it: ${next.observation.error || next.observation.feedback}`));
    if (action && action.kind === "run_tests") result.appendChild(renderTestReport(next.observation.test_report, "visible"));
  } else {
    const final = el("div", "final");
    final.append("episode score in the file ", Object.assign(num(turn.episode_score), { id: "r-final" }));
    result.appendChild(final);
    const gap = Math.abs(e.scores[replay.at] - turn.episode_score);
    result.appendChild(el("div", gap < 1e-6 ? "muted" : "error", gap < 1e-6
      ? "The rewards sum to the episode score."
      : `The rewards sum to ${fmt(e.scores[replay.at])}, not the episode score (differs by ${fmt(gap)}).`));
  }

  const seen = $("r-obs");
  const head = el("div", "meta");
  head.append(`steps left ${obs.steps_left} · score `, num(obs.score), " · ", renderComponents(obs.score_components));
  const recorded = el("ol", "findings");
  renderFindings(recorded, obs.findings);
  seen.replaceChildren(head, el("div", obs.error ? "error" : "", obs.error || obs.feedback),
    el("div", "muted", "findings recorded so far"), recorded, renderTestReport(obs.test_report, "last visible run"));
  $("r-prompt").textContent = turn.prompt || "(no prompt in this file)";

  const body = $("r-steps").tBodies[0];
  body.replaceChildren();
  e.turns.forEach((t, i) => {
    const tr = el("tr", i === replay.at ? "current" : "");
    const reward = el("td", "reward", signed(t.reward));
    reward.dataset.value = String(t.reward);
    const score = el("td", "", fmt(e.scores[i]));
    score.dataset.value = String(e.scores[i]);
    tr.append(el("td", "", String(i + 1)), el("td", "mono", actionLabel(t.action)), reward, score, el("td", "note", t.error || ""));
    tr.onclick = () => go(i);
    body.appendChild(tr);
  });
}

async function load(file) {
  try {
    const parsed = parseReplay(await file.text());
    if (parsed.kind === "report") showReport(parsed.report);
    else showRollouts(parsed.episodes);
    status(`Loaded ${file.name}.`);
  } catch (error) {
    status(`${file.name}: ${error.message}`, true);
  }
}

/** Wire the replay view; `showView(name)` switches between the play and replay views. */
export function setupReplay(showView) {
  $("replay-file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) load(file);
  });
  $("r-first").onclick = () => go(0);
  $("r-prev").onclick = () => go(replay.at - 1);
  $("r-next").onclick = () => go(replay.at + 1);
  $("r-last").onclick = () => go(Number.MAX_SAFE_INTEGER);
  document.addEventListener("keydown", (event) => {
    if ($("view-replay").hidden || event.target.closest("input, textarea, select")) return;
    if (event.key === "ArrowRight") go(replay.at + 1);
    if (event.key === "ArrowLeft") go(replay.at - 1);
  });
  $("r-play").addEventListener("click", () => showView("play"));
}
