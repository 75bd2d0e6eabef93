// Play one python_env episode over the raw OpenEnv WebSocket protocol, from Node (npm "ws").
//
//   npm ci && node play.mjs http://127.0.0.1:8000
//
// No OpenEnv client library: every frame is plain JSON, as the README's "Wire protocol" section
// describes. The episode: reset, one deliberately invalid step (the server answers with an error
// frame and the session goes on), review, edit, run_tests, submit, state, close. Each line it
// prints starts with a fixed word (tests/examples/test_node_client.py checks them). Exit status 0
// when every frame was what the protocol promises, 1 otherwise.
import WebSocket from "ws";

const base = process.argv[2] ?? process.env.PYTHON_ENV_URL ?? "http://127.0.0.1:8000";
const url = base.replace(/^http/, "ws").replace(/\/$/, "") + "/ws";
const TASK_ID = "http-retry-backoff";

function fail(message) {
  console.error(`FAILED: ${message}`);
  process.exit(1);
}

// One connection, one session; frames are strictly request/response, one at a time.
const ws = new WebSocket(url, { maxPayload: 16 * 1024 * 1024 });
const replies = [];
let waiting = null;
ws.on("message", (data) => {
  const frame = JSON.parse(data.toString());
  if (waiting) {
    const resolve = waiting;
    waiting = null;
    resolve(frame);
  } else {
    replies.push(frame);
  }
});
ws.on("error", (err) => fail(`WebSocket error: ${err.message}`));

function send(frame) {
  ws.send(JSON.stringify(frame));
  return new Promise((resolve) => {
    if (replies.length) resolve(replies.shift());
    else waiting = resolve;
  });
}

async function step(action) {
  const reply = await send({ type: "step", data: action });
  if (reply.type !== "observation") fail(`${action.kind}: ${JSON.stringify(reply.data)}`);
  const { observation, reward, done } = reply.data;
  if (observation.error) fail(`${action.kind} refused: ${observation.error}`);
  return { observation, reward, done };
}

await new Promise((resolve) => ws.once("open", resolve));
console.log(`connected: ${url}`);

// reset: the data object holds reset()'s keyword arguments.
const reset = await send({
  type: "reset",
  data: { task_id: TASK_ID, seed: 7, episode_id: "node-example" },
});
if (reset.type !== "observation") fail(`reset: ${JSON.stringify(reset.data)}`);
let { observation } = reset.data;
const lines = observation.code.replace(/\n$/, "").split("\n").length;
console.log(`reset: task=${observation.task.id} lines=${lines} steps_left=${observation.steps_left}`);

// An invalid action: a review needs findings. The server answers with an error frame.
const bad = await send({ type: "step", data: { kind: "review" } });
if (bad.type !== "error") fail(`expected an error frame, got ${JSON.stringify(bad)}`);
console.log(`error: code=${bad.data.code} kind=${bad.data.kind} message=${bad.data.message}`);

const rewards = [];
const finding = {
  start_line: 1,
  end_line: lines,
  category: "bug",
  severity: "medium",
  message: "The retry delays are wrong somewhere in here.",
};
let result = await step({ kind: "review", findings: [finding] });
rewards.push(result.reward);
console.log(`step: review reward=${result.reward} done=${result.done}`);

result = await step({ kind: "edit", code: observation.code + "\n# reviewed from Node\n" });
rewards.push(result.reward);
console.log(`step: edit reward=${result.reward} done=${result.done}`);

result = await step({ kind: "run_tests" });
rewards.push(result.reward);
const verdicts = result.observation.test_report.verdicts;
const passed = verdicts.filter((v) => v.passed).length;
console.log(`step: run_tests reward=${result.reward} passed=${passed}/${verdicts.length}`);

result = await step({ kind: "submit" });
rewards.push(result.reward);
observation = result.observation;
const score = observation.evaluation.score;
console.log(`step: submit reward=${result.reward} done=${result.done} score=${score}`);
const total = rewards.reduce((a, b) => a + b, 0);
if (!result.done || Math.abs(total - score) > 1e-6) fail(`rewards sum to ${total}, score ${score}`);
console.log(`rewards: sum=${total.toFixed(6)} equals the score`);

const state = await send({ type: "state" });
if (state.type !== "state") fail(`state: ${JSON.stringify(state.data)}`);
console.log(`state: episode_id=${state.data.episode_id} step_count=${state.data.step_count}`);

ws.send(JSON.stringify({ type: "close" }));
ws.close();
console.log("closed");
