"""GRPO on python_env with TRL's OpenEnv integration (``GRPOTrainer(environment_factory=...)``).

TRL creates one ``PythonEnvTools`` per concurrent rollout (each holds one WebSocket session),
calls ``reset(**row)`` for every rollout — the returned observation is appended to the prompt —
exposes the public methods (``report_finding``, ``edit_code``, ``run_tests``, ``submit``) to the
model as tools, and asks ``get_reward()`` for the episode's reward: the final task score. With
``--repo`` the rollouts are repository tasks (each row a seeded pick, ``reset(repo=True)``) and
``PythonRepoTools`` adds the tools ``list_files``, ``read_file``, ``search``, ``edit_file``,
``apply_patch`` and ``approve`` (the verdict on a pull request with no problem), and findings
name their file (``report_finding(path, ...)``).

Set-up (CPU torch wheel first, so pip does not fetch a CUDA build)::

    pip install torch==2.13.0 && pip install -e ".[train]"

Runs::

    python examples/train_trl_grpo.py                   # tiny model built locally, 2 steps, CPU
    python examples/train_trl_grpo.py --model Qwen/Qwen3-0.6B --max-steps 200   # a real model
    python examples/train_trl_grpo.py --repo --split train   # repository tasks (the server's)

The default model is built on the spot — a 2-layer Qwen3-architecture network with random weights
and a byte-level BPE tokenizer trained on local Python sources, using TRL's bundled Qwen3 chat
template — so the example runs with no Hub download. It shows the wiring, not learning: a random
model never emits a well-formed tool call, so its reward is 0. Without ``--env-url`` a python_env
server is started on 127.0.0.1 for the run; with several (``--env-url A --env-url B``, or
comma-separated), the rollouts' sessions are spread over those replicas by a ``PythonEnvPool``.
"""

from __future__ import annotations

import argparse
import inspect
import time
import weakref
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from python_env.agents.launcher import embedded_server, list_tasks
from python_env.agents.prompting import render_observation
from python_env.environment.models import CodeReviewAction, CodeReviewObservation
from python_env.pool import PythonEnvPool, split_urls

# Set in main(): one server, or several replicas comma-separated. TRL calls the factory without
# arguments, so the sessions come from a module-level pool (one per value of ENV_URL).
ENV_URL = "http://127.0.0.1:8000"
_POOLS: dict[str, Any] = {}
MAX_TOOL_OUTPUT = 8_000  # characters of a listing, read or search a tool returns
REPO_ROWS = 64  # seeded picks in a --repo dataset (at least: one per prompt of the run)
INSTRUCTION = (
    "You review and repair Python code with tools: report_finding for each problem (line "
    "numbers of the original code), edit_code with the complete fixed file, run_tests, and "
    "submit when done."
)


REPO_INSTRUCTION = (
    "You review and repair a whole Python project with tools: list_files, read_file and search "
    "to find your way, report_finding for each problem (its file's path and line numbers as at "
    "the start), edit_file or apply_patch to fix the code, run_tests, and submit when done; on "
    "a pull request with no problem, approve instead."
)
# Dataset columns for reset ("repo": a seeded pick among the split's repository tasks).
RESET_COLUMNS = ("seed", "split", "kind", "difficulty", "category", "repo")


def env_pool() -> Any:
    """The blocking ``PythonEnvPool`` over ``ENV_URL``'s servers: a session goes to the replica
    with the fewest open ones; a full or unreachable replica is skipped."""
    if ENV_URL not in _POOLS:
        _POOLS[ENV_URL] = PythonEnvPool(ENV_URL).sync()
    return _POOLS[ENV_URL]


class PythonEnvTools:
    """One python_env episode at a time, driven by the model's tool calls.

    Holds one WebSocket session (one of a server's MAX_CONCURRENT_ENVS), from ``env_pool()``,
    until it is collected (TRL makes one per concurrent rollout, so the rollouts spread over the
    replicas; its public methods other than ``reset`` are tools).
    """

    def __init__(self) -> None:
        self._env = env_pool().acquire()
        self._closer = weakref.finalize(self, self._env.close)  # the session ends with us
        self._obs: CodeReviewObservation | None = None
        self._original = ""

    def reset(self, task_id: str | None = None, **row: Any) -> str:
        """Start an episode from the dataset row's columns: ``task_id``, or a seeded pick with
        ``seed``, ``split``, ``kind``, ``difficulty``, ``category``; the text joins the prompt."""
        options = {k: row[k] for k in RESET_COLUMNS if row.get(k) is not None}
        self._obs = self._env.reset(task_id=task_id, **options).observation
        self._original = self._obs.code
        return "\n\n" + render_observation(self._obs, self._original).rsplit("\n\n", 1)[0]

    def _act(self, **action: Any) -> str:
        if self._obs is None or self._obs.done:
            return "The episode is over."
        try:
            step = self._env.step(CodeReviewAction.model_validate(action))
        except ValidationError as exc:  # a malformed call is the model's mistake: tell it why
            return f"Invalid action: {exc.errors()[0]['msg']}"
        self._obs = step.observation
        text = self._obs.error or self._obs.feedback
        # Repository tasks: what a listing, read or search showed (capped for the context).
        shown = f"\n{self._obs.output[:MAX_TOOL_OUTPUT]}" if self._obs.output else ""
        return (
            f"{text} Score so far: {self._obs.score:.2f}. Steps left: {self._obs.steps_left}."
            + shown
        )

    def report_finding(
        self,
        start_line: int,
        end_line: int,
        category: str,
        severity: str,
        message: str,
        suggested_fix: str = "",
    ) -> str:
        """Report one problem in the original code.

        Args:
            start_line: First line of the problem, 1-based, in the original code.
            end_line: Last line of the problem, inclusive.
            category: One of bug, security, performance, maintainability, style.
            severity: One of low, medium, high, critical.
            message: What is wrong and why.
            suggested_fix: Optional replacement for lines start_line..end_line, indented as in
                the file; a fix that works doubles the finding's credit.

        Returns:
            The environment's feedback.
        """
        finding = {
            "start_line": start_line, "end_line": end_line, "category": category,
            "severity": severity, "message": message, "suggested_fix": suggested_fix,
        }  # fmt: skip
        return self._act(kind="review", findings=[finding])

    def edit_code(self, code: str) -> str:
        """Replace the whole file with a new version.

        Args:
            code: The complete new source of the file.

        Returns:
            The environment's feedback.
        """
        return self._act(kind="edit", code=code)

    def run_tests(self) -> str:
        """Run the visible tests against the current code.

        Returns:
            How many tests passed and failed.
        """
        return self._act(kind="run_tests")

    def submit(self) -> str:
        """End the episode: the hidden tests run and the final score is computed.

        Returns:
            The final feedback with the score.
        """
        return self._act(kind="submit")

    def get_reward(self) -> float:
        """The episode's final task score (submitting first if the model never did)."""
        if self._obs is not None and not self._obs.done:
            self._act(kind="submit")
        if self._obs is None or self._obs.evaluation is None:
            return 0.0
        return float(self._obs.evaluation.score)


class PythonRepoTools(PythonEnvTools):
    """``PythonEnvTools`` for repository tasks: the navigation and change tools, and findings
    that name their file (``--repo``). ``edit_code`` stays, and is refused on these tasks."""

    def list_files(self, pattern: str = "**/*") -> str:
        """List the project's files matching a glob.

        Args:
            pattern: A glob such as "src/**/*.py"; "*.py" matches at any depth.

        Returns:
            The feedback and the matching paths, one per line.
        """
        return self._act(kind="list_files", pattern=pattern)

    def read_file(self, path: str, start_line: int = 1, end_line: int = 0) -> str:
        """Read a file of the project, with line numbers (at most 400 lines a call).

        Args:
            path: The file, relative to the project root.
            start_line: First line to show (1-based).
            end_line: Last line to show (0: to the end).

        Returns:
            The feedback and the numbered lines.
        """
        return self._act(
            kind="read_file", path=path, start_line=start_line, end_line=end_line or None
        )

    def search(self, pattern: str, path_glob: str = "") -> str:
        """Search the project's files for a regular expression, line by line.

        Args:
            pattern: A Python regular expression.
            path_glob: Optional glob: search only the files matching it.

        Returns:
            The feedback and the matches as path:line: text.
        """
        return self._act(kind="search", pattern=pattern, path_glob=path_glob or None)

    def edit_file(self, path: str, start_line: int, end_line: int, new_text: str) -> str:
        """Replace lines of a file of the project.

        Args:
            path: The file, relative to the project root.
            start_line: First line replaced (1-based, in the file as it is now).
            end_line: Last line replaced, inclusive (start_line - 1 inserts before start_line).
            new_text: The new lines ('' deletes them).

        Returns:
            The feedback and the diff of the change.
        """
        return self._act(
            kind="edit_file", path=path, start_line=start_line, end_line=end_line,
            new_text=new_text,
        )  # fmt: skip

    def apply_patch(self, diff: str) -> str:
        """Apply a unified diff to the project (all or nothing).

        Args:
            diff: The unified diff, paths relative to the project root.

        Returns:
            The feedback and the diff applied, or why it does not apply.
        """
        return self._act(kind="apply_patch", diff=diff)

    def approve(self) -> str:
        """End a pull-request review with the verdict that the change has no problem.

        Returns:
            The final feedback with the score (an error on a task that is not a pull request).
        """
        return self._act(kind="approve")

    def report_finding(  # type: ignore[override]  # findings on a project name their file
        self,
        path: str,
        start_line: int,
        end_line: int,
        category: str,
        severity: str,
        message: str,
    ) -> str:
        """Report one problem in a file of the project.

        Args:
            path: The file the problem is in, relative to the project root.
            start_line: First line of the problem, 1-based, in the file as it was at the start.
            end_line: Last line of the problem, inclusive.
            category: One of bug, security, performance, maintainability, style.
            severity: One of low, medium, high, critical.
            message: What is wrong and why.

        Returns:
            The environment's feedback.
        """
        finding = {
            "path": path, "start_line": start_line, "end_line": end_line, "category": category,
            "severity": severity, "message": message,
        }  # fmt: skip
        return self._act(kind="review", findings=[finding])


def build_tiny_model(path: Path) -> Path:
    """A tiny random Qwen3-style model and tokenizer, saved to ``path`` (no download)."""
    import json
    import textwrap

    import torch
    import trl
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    if (path / "config.json").exists():
        return path
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>",
               "<tool_response>", "</tool_response>", "<think>", "</think>"]  # fmt: skip
    # Local text only: Python sources shipped with the interpreter, and the prompt's own words.
    corpus = [inspect.getsource(m) for m in (argparse, json, textwrap, inspect)]
    corpus += [INSTRUCTION, REPO_INSTRUCTION, inspect.getsource(PythonRepoTools)]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=2_000,
            special_tokens=special,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    # TRL's copy of the Qwen3 template: TRL knows how to parse its tool calls.
    template = Path(trl.__file__).parent / "chat_templates" / "qwen3.jinja"
    tokenizer.chat_template = template.read_text()
    torch.manual_seed(0)
    config = Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=16_384,
        tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
    )  # fmt: skip
    Qwen3ForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def dataset_rows(args: argparse.Namespace, env_url: str) -> list[dict[str, Any]]:
    """The training rows: one per task of the split (of ``--kind``), or with ``--repo`` one
    seeded pick of a repository task per row (the server picks: a listing does not tell them
    apart), as many as the run can use."""
    listed = list_tasks(split_urls(env_url)[0], args.split)  # every replica serves the same
    if args.repo:
        prompt = [{"role": "user", "content": REPO_INSTRUCTION}]
        count = max(REPO_ROWS, args.max_steps * args.batch_size)
        pick = {"split": args.split, "repo": True, **({"kind": args.kind} if args.kind else {})}
        return [{"prompt": prompt, **pick, "seed": seed} for seed in range(count)]
    tasks = [t for t in listed if args.kind is None or args.kind in t.kinds]
    prompt = [{"role": "user", "content": INSTRUCTION}]
    return [{"prompt": prompt, "task_id": t.id} for t in tasks]


def train(args: argparse.Namespace, env_url: str) -> dict[str, Any]:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    global ENV_URL
    ENV_URL = env_url
    dataset = Dataset.from_list(dataset_rows(args, env_url))
    model = args.model or str(build_tiny_model(Path(args.output_dir) / "tiny-qwen3"))
    config = GRPOConfig(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        num_generations=args.num_generations,
        max_completion_length=args.max_completion_length,
        max_tool_calling_iterations=args.max_tool_calls,
        learning_rate=args.learning_rate,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=not args.gpu,
        bf16=False,
        chat_template_kwargs={"enable_thinking": False},
        seed=args.seed,
    )
    tools = PythonRepoTools if args.repo else PythonEnvTools
    trainer = GRPOTrainer(
        model=model, train_dataset=dataset, args=config, environment_factory=tools
    )
    started = time.perf_counter()
    trainer.train()
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    return {
        "model": model,
        "optimizer_steps": trainer.state.global_step,
        "train_s": round(time.perf_counter() - started, 1),
        "mean_reward_per_step": rewards,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model id or path (default: tiny local)")
    parser.add_argument(
        "--env-url", action="append", default=None,
        help="a running server; repeat it (or separate with commas) for several replicas "
        "(default: start one)",
    )  # fmt: skip
    parser.add_argument("--split", default="curated")
    parser.add_argument("--kind", default=None, help="only tasks of this kind (review, ...)")
    parser.add_argument(
        "--repo", action="store_true",
        help="repository tasks: rows are seeded picks (reset repo=true) and the tools navigate",
    )  # fmt: skip
    parser.add_argument("--max-steps", type=int, default=2, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--num-generations", type=int, default=2)
    parser.add_argument("--max-completion-length", type=int, default=64)
    parser.add_argument("--max-tool-calls", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    parser.add_argument("--output-dir", default="outputs/grpo-python-env")
    parser.add_argument("--gpu", action="store_true", help="use the GPU (default: CPU)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.env_url:
        result = train(args, ",".join(args.env_url))
    else:
        sessions = args.batch_size * args.num_generations + 2  # TRL pools one env per rollout
        with embedded_server(max_concurrent_envs=max(8, sessions)) as url:
            result = train(args, url)
    print(result)


if __name__ == "__main__":
    main()
