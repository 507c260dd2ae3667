"""The `make bench` machinery (benchmarks/), checked without timing anything for real."""

import json
from pathlib import Path

import nntrain.torch as nt
import pytest
from torch import nn

from benchmarks import batched_trials, checks, twins
from benchmarks.report import CALIBRATE, Report

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench" / "calibrate.py"


@pytest.mark.skipif(not SHARED.exists(), reason="the workplace's shared/ is not beside this clone")
def test_calibration_script_is_the_workplace_s():
    assert CALIBRATE.read_text() == SHARED.read_text()


def test_records_targets_and_exit_status(tmp_path, capsys):
    report = Report(unit_seconds=2.0)
    report.time("chapter", 20.0, budget_units=15)
    report.add("twin", 1.2, "x", at_most=1.5)
    report.add("speed-up", 1.1, "x", at_least=1.5)
    report.add("info", "#3 1.0 s", "")
    path = tmp_path / "results.json"
    assert report.finish(path) == 1
    records = json.loads(path.read_text())
    assert all(set(r) == {"name", "value", "unit", "target", "met"} for r in records)
    by_name = {r["name"]: r for r in records}
    assert by_name["chapter (units)"]["value"] == 10.0 and by_name["chapter (units)"]["met"]
    assert by_name["chapter (seconds)"]["met"] is None
    assert by_name["twin"]["met"] is True and by_name["speed-up"]["met"] is False
    assert by_name["speed-up"]["target"] == ">= 1.5 x"
    table = capsys.readouterr().out
    assert "| speed-up | 1.1 | x | >= 1.5 x | **no** |" in table
    assert "1 targets missed: speed-up" in table
    met = Report(unit_seconds=1.0)
    met.add("twin", 1.2, "x", at_most=1.5)
    assert met.finish(tmp_path / "ok.json") == 0


def test_every_twin_module_with_a_built_in_is_benchmarked():
    modules = {
        name
        for name in nt.__all__
        if isinstance(getattr(nt, name), type) and issubclass(getattr(nt, name), nn.Module)
    }
    without_built_in = {"Maxout", "FullyConnectedNet"}
    timed = {type(twin).__name__ for _, twin, _, _ in twins.pairs()}
    assert timed == modules - without_built_in


def test_built_ins_compute_what_the_twins_compute():
    import torch

    for name, twin, builtin, make in twins.pairs():
        if "Affine" in name or "BatchNorm" in name or "PReLU" in name:
            continue  # their parameters start differently; the equivalence tests cover them
        if name == "Dropout":
            continue  # each draws its own mask; test_regularization.py gives both one mask
        inputs = make(torch.Generator().manual_seed(0))
        torch.testing.assert_close(twin(*inputs), builtin(*inputs), msg=name)


def test_flop_count_of_one_epoch():
    # 64 -> 100 -> 10: 2 * (6400 + 1000) per example and pass; 3 passes for training and 1
    # for the evaluation of both splits
    per_example = 2 * (64 * 100 + 100 * 10)
    assert batched_trials.training_flops([64, 100, 10], 1000, 300, 50, 1) == (
        3 * per_example * 1000 + per_example * 1300
    )


def test_twin_exceptions_name_benchmarked_pairs_and_say_why():
    names = {name for name, *_ in twins.pairs()}
    assert set(twins.EXCEPTIONS) <= names
    report = Report(unit_seconds=1.0)
    limit, why = twins.EXCEPTIONS["GELU"]
    record = report.add("twin GELU", limit + 0.1, "x", at_most=limit, why=why)
    assert record["met"] is False and record["target"] == f"<= {limit:g} x ({why})"


def test_check_lines_are_counted(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        '''"""Docstring."""


def f(x, n):
    """Docstring."""
    check.ndarray("x", x)  # a check
    if n < 0:
        raise ValueError(
            "n must be >= 0"
        )
    # the math
    return x * n
'''
    )
    # executable: def, the check, the if block (4 lines), return; checks: 5 of them
    assert checks.check_share(module) == (7, 5)


def test_every_reference_module_reads_math_first():
    shares = checks.shares()
    assert {"activations", "init", "losses", "normalization", "preprocessing"} <= set(shares)
    over = {name: round(share, 3) for name, share in shares.items() if share > checks.LIMIT}
    assert not over, f"reference modules with more than {checks.LIMIT:.0%} of lines on checks"


def test_stopped_share_times_both_runs_and_checks_they_stop_at_iteration_2():
    class Result:
        def __init__(self, trial):
            self.stop_iteration = 2 if trial["learning_rate"] == 1e3 else None

    calls = []

    def batched(trials):
        calls.append(trials[0]["learning_rate"])
        return [Result(t) for t in trials]

    report = Report(unit_seconds=1.0)
    space = [{"learning_rate": 0.01, "weight_scale": 0.01}] * 4
    batched_trials.stopped_share(report, "4 trials", batched, space, repeat=2)
    assert calls == [0.01, 1e3, 0.01, 1e3]  # side by side, in alternation
    count, share = report.records[-2:]
    assert count["value"] == 4 and count["met"] is True and count["target"] == ">= 4"
    assert share["target"] == f"<= {batched_trials.STOPPED_SHARE:g} x"
    assert "4 trials stopped at iteration 2 / 4 that run to the end" in share["name"]


def test_the_gpu_part_is_skipped_with_a_record_without_cuda(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    report = Report(unit_seconds=1.0)

    def batched(*args):
        raise AssertionError("nothing runs without a GPU")

    batched_trials.gpu_speed_up(report, "4 trials, cpu", batched, [], torch.float64, 1e9, 1.0, 1)
    assert report.records[-1]["value"] == "skipped: no CUDA GPU"
    assert report.records[-1]["met"] is None


def test_chapter_times_are_the_median_of_runs_with_their_spread_and_cpu(monkeypatch, capsys):
    """`make bench` runs every chapter RUNS times and reports the median (the budget), the
    spread, and the CPU time summed over the kernel and its workers, in units."""
    from benchmarks import chapters

    names = ["00_network", "01_activations"]
    walls = iter([10.0, 4.0, 30.0, 5.0, 12.0, 6.0])  # run 1: 00, 01; run 2: 00, 01; ...
    cpus = iter([18.0, 4.0, 40.0, 5.0, 20.0, 6.0])

    def fake_run(path):
        wall = next(walls)
        return {1: wall / 2, 3: wall / 2}, {"frames": [0.1, 0.2]}, next(cpus)

    monkeypatch.setattr(chapters, "run_chapter", fake_run)
    monkeypatch.setattr(chapters, "chapters", lambda: [Path(f"{n}.ipynb") for n in names])
    report = Report(unit_seconds=2.0)
    chapters.measure(report, runs=3)  # every chapter: the book line is reported
    by_name = {r["name"]: r for r in report.records}
    zero = "00_network: execution, median of 3"
    assert by_name[f"{zero} (units)"]["value"] == 6.0  # median of 10, 30, 12 s, in units
    assert by_name[f"{zero} (units)"]["met"] is True
    assert by_name["00_network: execution, spread of 3 runs"]["value"] == "5.0 to 15.0"
    assert by_name["00_network: CPU, median of 3 (kernel and workers)"]["value"] == 10.0
    assert by_name["01_activations: slowest cells"]["value"] == "#0 2.5 s, #2 2.5 s"
    # the book: the median of the runs' totals (14, 35, 18 s), not the sum of medians
    assert by_name["book: all chapters, median of 3 (units)"]["value"] == 9.0
    assert by_name["book: CPU, median of 3"]["value"] == 13.0
