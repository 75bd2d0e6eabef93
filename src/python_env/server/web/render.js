// Renderers shared by the play and replay views: findings, test reports, score components and
// the final evaluation (with the marks it puts on the original code).
import { el } from "./codeview.js";

const FIX_WORDS = {
  none: "no fix suggested", pending: "fix not checked yet", verified: "suggested fix verified",
  failed: "suggested fix did not fix it", skipped: "fix not checked (over the budget)",
  uncheckable: "no fix can be checked for this issue",
};

export const fmt = (x) => (typeof x === "number" ? x.toFixed(4) : "—");
export const signed = (x) => (typeof x === "number" ? (x >= 0 ? "+" : "") + x.toFixed(4) : "—");

/** A number shown to 4 decimals, its exact value kept in data-value. */
export function num(x, cls = "") {
  const node = el("span", `num ${cls}`.trim(), fmt(x));
  node.dataset.value = String(x);
  return node;
}

export function spanText(f) {
  const span = f.start_line === f.end_line ? `line ${f.start_line}` : `lines ${f.start_line}–${f.end_line}`;
  return f.path ? `${f.path} ${span}` : span; // a repository task's finding names its file
}

/** One <li> per finding: span, category/severity, message, and its suggested fix if any. */
export function renderFindings(list, findings, onRemove = null) {
  list.replaceChildren();
  findings.forEach((f, i) => {
    const item = el("li", "finding");
    item.appendChild(el("strong", "", spanText(f)));
    item.appendChild(el("span", `badge cat-${f.category}`, f.category));
    item.appendChild(el("span", `badge sev-${f.severity}`, f.severity));
    if (f.rule_id) item.appendChild(el("code", "", f.rule_id));
    item.appendChild(el("div", "msg", f.message));
    if (f.suggested_fix) item.appendChild(el("pre", "fix mono", f.suggested_fix));
    if (onRemove) {
      const remove = el("button", "link", "remove");
      remove.type = "button";
      remove.onclick = () => onRemove(i);
      item.appendChild(remove);
    }
    list.appendChild(item);
  });
  if (!findings.length) list.appendChild(el("li", "muted", "none"));
}

/** A test report: one row per verdict, then skipped tests, import errors and output. */
export function renderTestReport(report, title = "") {
  const box = el("div", "test-report");
  if (!report) { box.appendChild(el("span", "muted", "not run yet")); return box; }
  const passed = report.verdicts.filter((v) => v.passed).length;
  const head = `${title ? title + ": " : ""}${passed} passed, ${report.verdicts.length - passed} failed` +
    (report.exit_reason !== "ok" ? ` (run ended: ${report.exit_reason})` : "");
  box.appendChild(el("div", "report-head", head));
  const table = el("table", "grid verdicts");
  for (const v of report.verdicts) {
    const row = el("tr", v.passed ? "pass" : "fail");
    row.dataset.test = v.name;
    const name = el("td", "mono", v.name);
    if (v.message) name.appendChild(el("div", "msg small", v.message));
    row.append(el("td", "verdict", v.passed ? "✓ pass" : "✗ fail"), name,
      el("td", "muted kind", v.kind === "fail_to_pass" ? "fail→pass" : "pass→pass"));
    table.appendChild(row);
  }
  box.appendChild(table);
  if (report.skipped && report.skipped.length) box.appendChild(el("div", "muted", `skipped (by the reference too): ${report.skipped.join(", ")}`));
  if (report.error) box.appendChild(el("pre", "error mono", report.error));
  if (report.stdout) box.append(el("div", "muted", "stdout"), el("pre", "mono small", report.stdout));
  if (report.stderr) box.append(el("div", "muted", "stderr"), el("pre", "mono small", report.stderr));
  return box;
}

/** "review 0.5000 · tests 1.0000" for a components dict. */
export function renderComponents(components, weights = null) {
  const box = el("span", "components");
  for (const [name, value] of Object.entries(components || {})) {
    const part = el("span", "component");
    part.dataset.component = name;
    part.append(`${name} `, num(value));
    if (weights && name in weights) part.append(` × ${weights[name]}`);
    box.appendChild(part);
  }
  if (!box.childNodes.length) box.textContent = "no component scored yet";
  return box;
}

/** Marks for the original code: issues matched (green) or missed (red), unmatched findings.
 * With `path` (a repository task), only the issues and findings of that file. */
export function evaluationMarks(evaluation, findings, path = null) {
  const review = evaluation.review;
  const hit = new Set((review ? review.matched : []).map((m) => m.issue_id));
  const paths = evaluation.issue_paths || {};
  const marks = [];
  for (const issue of evaluation.issues || []) {
    if (path !== null && paths[issue.id] !== path) continue;
    const cls = hit.has(issue.id) ? "mark-hit" : "mark-miss";
    const title = `${issue.id} (${issue.category}, ${issue.severity}): ${issue.explanation}`;
    marks.push({ start: issue.start_line, end: issue.end_line, cls, title, label: issue.id });
  }
  for (const index of review ? review.unmatched_findings : []) {
    const f = findings[index];
    if (f && (path === null || f.path === path)) marks.push({ start: f.start_line, end: f.end_line, cls: "mark-false", title: `finding #${index + 1}: ${f.message}` });
  }
  return marks;
}

/** The final evaluation: score, components, review matches, answer key, hidden tests, speed. */
export function renderEvaluation(box, evaluation, findings) {
  box.replaceChildren(el("h2", "", "Evaluation"));
  const head = el("div", "final");
  head.append("final score ", num(evaluation.score, "big"));
  head.querySelector(".num").id = "final-score";
  box.append(head, el("div", "meta", "components (score × weight):"), renderComponents(evaluation.components, evaluation.weights));

  const review = evaluation.review;
  if (review) {
    box.appendChild(el("h3", "", "Review"));
    const stats = el("div", "meta");
    stats.append("precision ", num(review.precision), " · recall ", num(review.recall), " · F1 ", num(review.f1));
    box.appendChild(stats);
    const matched = el("ul", "matches");
    for (const m of review.matched) {
      const f = findings[m.finding_index];
      const where = f ? ` (${spanText(f)})` : "";
      matched.appendChild(el("li", "mark-hit", `finding #${m.finding_index + 1}${where} → ${m.issue_id}: credit ${fmt(m.credit)}, ${FIX_WORDS[m.fix] || m.fix}`));
    }
    for (const index of review.unmatched_findings) {
      const f = findings[index];
      matched.appendChild(el("li", "mark-false", `finding #${index + 1}${f ? ` (${spanText(f)})` : ""} matched no planted issue`));
    }
    for (const id of review.missed_issues) matched.appendChild(el("li", "mark-miss", `missed: ${id}`));
    box.appendChild(matched);
  }

  if (evaluation.issues && evaluation.issues.length) {
    box.appendChild(el("h3", "", "Answer key"));
    const hit = new Set((review ? review.matched : []).map((m) => m.issue_id));
    const list = el("ul", "issues");
    for (const issue of evaluation.issues) {
      const spans = [[issue.start_line, issue.end_line], ...(issue.alt_spans || [])]
        .map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(", ");
      const cats = [issue.category, ...(issue.alt_categories || [])].join("/");
      const item = el("li", hit.has(issue.id) || !review ? "" : "missed");
      const where = (evaluation.issue_paths || {})[issue.id];
      item.append(el("strong", "", issue.id), where ? " " : "");
      if (where) item.appendChild(el("code", "issue-path", where));
      item.append(` lines ${spans} · ${cats} · ${issue.severity}` + (issue.rule_id ? ` · ${issue.rule_id}` : ""));
      item.appendChild(el("div", "msg", issue.explanation));
      list.appendChild(item);
    }
    box.appendChild(list);
  }

  if (evaluation.tests) {
    const t = evaluation.tests;
    box.appendChild(el("h3", "", "Hidden tests"));
    const line = el("div", "meta");
    line.append("tests component ", num(t.score), ` · fail→pass ${t.fail_to_pass[0]}/${t.fail_to_pass[1]} · pass→pass ${t.pass_to_pass[0]}/${t.pass_to_pass[1]}`);
    box.appendChild(line);
  }
  if (evaluation.hidden_tests) {
    if (!evaluation.tests) box.appendChild(el("h3", "", "Hidden tests"));
    const report = renderTestReport(evaluation.hidden_tests, "hidden");
    report.id = "hidden-tests";
    box.appendChild(report);
  }
  if (evaluation.performance) {
    const p = evaluation.performance;
    box.appendChild(el("h3", "", "Performance"));
    const line = el("div", "meta");
    line.append("performance component ", num(p.score),
      ` · counted cost: original ${p.baseline_cost}, reference ${p.reference_cost}, yours ${p.candidate_cost ?? "failed"}`);
    box.appendChild(line);
    if (p.note) box.appendChild(el("div", "muted", p.note));
  }
}
