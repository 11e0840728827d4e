"""``spine3d simulate``: manoeuvres, their reports, schedules and virtual cohorts.

The manoeuvres here are short (a 100 ms positioning, a step preload): what they test is
the structure and consistency of what the command reports, never which joint pops.
"""

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from spine3d._cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(Path(sys.executable).with_name("spine3d"))

THRUST = """\
[spine]
mobility = { "L4-L5" = "restricted" }
[maneuver]
kind = "hvla"
target = "L4-L5"
position_ms = 100
preload_ms = 0
duration_ms = 100
"""
TWIST = '{ kind = "self_twist", twist_deg = 30, duration_ms = 60 }'
PHASES = {"positioning", "preload", "settle", "thrust", "hold", "release"}


def cli(*args) -> tuple[int, str, str]:
    """Run the command line in this process: status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def simulate(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", "simulate", *map(str, args)],
        capture_output=True,
        text=True,
        **kw,
    )


@pytest.fixture(scope="module")
def thrust(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("thrust") / "thrust.toml"
    p.write_text(THRUST)
    return p


@pytest.fixture(scope="module")
def single(thrust) -> dict:
    status, out, err = cli("simulate", thrust, "--json")
    assert status == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def cohort(thrust) -> str:
    """The JSON of a cohort of two, run in this process."""
    status, out, err = cli(
        "simulate", thrust, "--json", "--population", 2, "--seed", 3, "--workers", 1
    )
    assert status == 0, err
    return out


def _cavitations(events, model="any"):
    return [
        e for e in events if e["type"] == "cavitation" and (model == "any" or e["model"] == model)
    ]


# --- one model ----------------------------------------------------------------------


def test_thrust_reports_posture_events_and_peaks(single):
    d = single
    assert d["maneuver"] == "hvla" and d["position"] == "side_posture" and d["target"] == "L4-L5"
    # The defaults a practitioner would take: lying on the left, the right side up, a
    # push on L4's spinous process toward the table.
    assert d["upside"] == "right"
    assert d["contact"] == {
        "process": "spinous",
        "level": "L4",
        "side": None,
        "direction": [0.0, 0.0, -1.0],
    }
    assert set(d["posture"]["moment_nm"]) == {"flexion", "lateral", "axial"}
    assert set(d["posture"]["locked"]) <= {s["name"] for s in d["segments"]}
    assert d["peak_force_n"] == pytest.approx(400.0, rel=1e-3)
    names = [s["name"] for s in d["segments"]]
    assert names[0] == "T1-T2" and names[-1] == "L5-S1" and len(names) == 17
    for s in d["segments"]:
        assert set(s["peak_rotation_deg"]) == {"flexion", "lateral", "axial"}
        assert set(s["peak_gapping_mm"]) == {"left", "right"}
        assert all(
            v >= 0 for v in [*s["peak_rotation_deg"].values(), *s["peak_gapping_mm"].values()]
        )
        assert set(s["cavitated"]) <= {"left", "right"}
    for e in d["events"]:
        assert {"t_ms", "type", "segment", "side", "session", "model", "phase"} <= set(e)
        assert e["type"] in ("cavitation", "reflex") and e["model"] is None
        assert e["segment"] in names and e["side"] in ("left", "right") and e["phase"] in PHASES
        if e["type"] == "reflex":
            assert e["duration_ms"] > 0 and e["group"]
    assert [e["t_ms"] for e in d["events"]] == sorted(e["t_ms"] for e in d["events"])
    # The log and the peaks agree; the specificity is the target's share of the pops.
    popped = {(e["segment"], e["side"]) for e in _cavitations(d["events"])}
    assert popped == {(s["name"], side) for s in d["segments"] for side in s["cavitated"]}
    pops = len(_cavitations(d["events"]))
    at_target = sum(e["segment"] == "L4-L5" for e in _cavitations(d["events"]))
    expect = None if pops == 0 else round(at_target / pops, 4)
    assert d["specificity"] == expect
    assert 0 <= d["target_gap_share"] <= 1


def test_tables_say_events_peaks_and_posture(thrust, single):
    status, out, _ = cli("simulate", thrust)
    assert status == 0
    assert "hvla on L4-L5, side posture, lying on the left (right side up)" in out
    assert "spinous process of L4" in out and "locking moment" in out and "locked:" in out
    for column in ("phase", "flex °", "lat °", "axial °", "gapping L mm", "gapping R mm"):
        assert column in out
    kinds = {e["type"] for e in single["events"]}
    assert all(k in out for k in kinds) and "Specificity:" in out


def test_positioning_only_prone_and_a_self_twist_beside_it(tmp_path):
    scene = tmp_path / "two.toml"
    scene.write_text(
        '[[panel]]\nmaneuver = { kind = "hvla", target = "T6-T7", thrust_n = 0, '
        "position_ms = 100, preload_ms = 0 }\n"
        f"[[panel]]\nmaneuver = {TWIST}\n"
        "[population]\nsize = 1\n"
    )
    status, out, err = cli("simulate", scene, "--json", "--workers", 1)
    assert status == 0, err
    prone, twist = json.loads(out)["panels"]
    # Above T12-L1 a thrust is prone: a push on the left transverse process, anterior.
    assert prone["position"] == "prone" and "upside" not in prone and "posture" not in prone
    assert prone["contact"] == {
        "process": "transverse",
        "level": "T6",
        "side": "left",
        "direction": [1.0, 0.0, 0.0],
    }
    # thrust_n = 0: positioning and preload only, nothing happens in a thrust phase.
    assert prone["peak_force_n"] == pytest.approx(100.0, rel=1e-3)
    assert all(e["phase"] != "thrust" for e in prone["events"])
    # The population runs the thrust only; the self-twist beside it runs on its own.
    assert prone["population"]["size"] == 1 and prone["population"]["upside_share"] is None
    assert "population" not in twist and twist["position"] == "standing"
    assert all(e["model"] is None for e in twist["events"])
    assert {e["model"] for e in prone["events"]} <= {None, 0}


# --- a virtual cohort -----------------------------------------------------------------


def test_population_json_is_consistent(cohort, single):
    d = json.loads(cohort)
    pop = d["population"]
    assert {
        "size",
        "seed",
        "upside_share",
        "target_zone_share",
        "target_zone",
        "pops_per_thrust",
        "positioning_only_share",
        "specificity",
        "pops",
        "distributions",
    } <= set(pop)
    assert (pop["size"], pop["seed"]) == (2, 3)
    assert pop["target_zone"] == ["L3-L4", "L4-L5", "L5-S1"]
    # Beside the cohort, the scene's own model, as without a population.
    assert {k: v for k, v in d.items() if k not in ("population", "events")} == {
        k: v for k, v in single.items() if k != "events"
    }
    own = [e for e in d["events"] if e["model"] is None]
    assert own == single["events"]
    members = [e for e in d["events"] if e["model"] is not None]
    assert {e["model"] for e in members} <= {0, 1}
    for e in members:
        assert {"t_ms", "type", "segment", "side", "session", "model"} <= set(e)
    # Every share is the count of the members' cavitation events it describes.
    pops = _cavitations(members)
    n = len(pops)
    assert pop["pops_per_thrust"] == round(n / 2, 4)
    assert sum(c["left"] + c["right"] for c in pop["pops"].values()) == n
    for seg, c in pop["pops"].items():
        for side in ("left", "right"):
            assert c[side] == sum(e["segment"] == seg and e["side"] == side for e in pops)

    def share(hits):
        return None if n == 0 else round(hits / n, 4)

    assert pop["upside_share"] == share(sum(e["side"] == "right" for e in pops))
    assert pop["specificity"] == share(sum(e["segment"] == "L4-L5" for e in pops))
    zone = sum(e["segment"] in pop["target_zone"] for e in pops)
    assert pop["target_zone_share"] == share(zone)
    early = {e["model"] for e in pops if e["phase"] in ("positioning", "preload", "settle")}
    assert pop["positioning_only_share"] == round(len(early) / 2, 4)


def test_command_line_overrides_the_scenes_population(thrust, cohort, tmp_path):
    scene = tmp_path / "pop.toml"
    scene.write_text(THRUST + "[population]\nsize = 2\nseed = 3\n")
    assert cli("simulate", scene, "--json", "--workers", 1)[1] == cohort
    scene.write_text(THRUST + "[population]\nsize = 7\nseed = 1\n")
    status, out, _ = cli(
        "simulate", scene, "--json", "--population", 2, "--seed", 3, "--workers", 1
    )
    assert status == 0 and out == cohort


def test_population_tables(thrust, cohort):
    status, out, _ = cli("simulate", thrust, "--population", 2, "--seed", 3, "--workers", 1)
    assert status == 0
    d = json.loads(cohort)["population"]
    assert "Population: 2 models (seed 3), hvla on L4-L5" in out
    assert "on the upper side (right)" in out and "in the target zone (L3-L4, L4-L5, L5-S1)" in out
    assert f"{d['pops_per_thrust']:.2f}" in out and "Pops by joint and side over 2 models" in out
    assert "Events: hvla" in out  # the scene's own model comes first


def test_population_series_are_the_single_models(thrust, cohort, tmp_path):
    alone, with_cohort = tmp_path / "alone.csv", tmp_path / "cohort.csv"
    assert cli("simulate", thrust, "--csv", alone)[0] == 0
    args = ("--population", 2, "--seed", 3, "--workers", 1, "--csv", with_cohort)
    assert cli("simulate", thrust, *args)[0] == 0
    assert with_cohort.read_text() == alone.read_text()


_DEFAULT_CTRL_C = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)
"""Run a program with Ctrl-C acting as on a terminal, also where the tests run with it
ignored (as a background job does)."""


def _in_a_terminal(argv, until=None, signum=None, group=False, timeout=120):
    """Run ``spine3d`` with stderr on a terminal; optionally signal it once ``until``.

    ``until`` is a callable of (process id, terminal text so far); returns the process,
    its stdout and the terminal's text.
    """
    import pty

    main_fd, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", _DEFAULT_CTRL_C, SCRIPT, *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=child,
        start_new_session=True,
    )
    os.close(child)
    said = []

    def drain():  # read the terminal as it fills, or the bar would block on a full pty
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            said.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        if until is not None:
            deadline = time.time() + timeout
            while not until(proc.pid, b"".join(said)):
                assert time.time() < deadline and proc.poll() is None, b"".join(said)
                time.sleep(0.05)
            (os.killpg if group else os.kill)(proc.pid, signum)
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        reader.join(10)
        os.close(main_fd)
    return proc, out, b"".join(said).decode(errors="replace")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except FileNotFoundError:
        return False


def test_population_is_the_same_with_workers_and_shows_its_progress(thrust, cohort):
    args = ["simulate", thrust, "--json", "--population", 2, "--seed", 3, "--workers", 2]
    proc, out, said = _in_a_terminal(args)
    assert proc.returncode == 0, said
    assert out.decode() == cohort  # stdout holds only the JSON: the same seed, the same cohort
    assert "Panel 1: 2 models" in said


@pytest.mark.parametrize(
    ("signum", "group", "status"),
    [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)],
    ids=["ctrl-c", "sigterm"],
)
def test_population_can_be_interrupted(thrust, tmp_path, signum, group, status):
    csv = tmp_path / "series.csv"
    args = ["simulate", thrust, "--population", 40, "--workers", 2, "--csv", csv]
    workers = []

    def running(pid, said):  # both workers forked and at work
        workers[:] = _children(pid)
        return len(workers) >= 2 and b"40 models" in said

    proc, out, said = _in_a_terminal(args, running, signum, group)
    assert proc.returncode == status and out == b""
    assert f"Error: interrupted ({signal.Signals(signum).name})" in said
    assert "Traceback" not in said and "Error" not in said.replace("Error: interrupted", "")
    assert not csv.exists() and sorted(p.name for p in tmp_path.iterdir()) == []
    deadline = time.time() + 5
    while any(_alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)


# --- schedules, files and pipes ---------------------------------------------------


def test_schedule_reports_laxity_and_cavitations_per_session(tmp_path):
    scene = tmp_path / "sched.toml"
    scene.write_text(f"maneuver = {TWIST}\n[schedule]\nsessions = 2\ninterval_min = 30\n")
    status, out, err = cli("simulate", scene, "--json")
    assert status == 0, err
    d = json.loads(out)
    assert d["sessions"] == 2 and len(d["day"]) == 2
    assert len(d["laxity_deg"]) == 17 and all(len(v) == 2 for v in d["laxity_deg"].values())
    assert all(v > 0 for lax in d["laxity_deg"].values() for v in lax)
    assert {e["session"] for e in d["events"]} <= {0, 1}
    for seg, n in d["cavitations"].items():
        assert n == sum(e["segment"] == seg for e in d["events"])
    status, out, _ = cli("simulate", scene)
    assert status == 0 and "laxity first °" in out and "Cavitations in 2 sessions" in out


def test_time_series_csv_and_mot(tmp_path):
    scene = tmp_path / "two.toml"
    scene.write_text(
        '[[panel]]\nmaneuver = { kind = "hvla", target = "L4-L5", position_ms = 100, '
        "preload_ms = 0, duration_ms = 100 }\n"
        f"[[panel]]\nmaneuver = {TWIST}\n"
    )
    csv, mot = tmp_path / "t.csv", tmp_path / "t.mot"
    status, _, err = cli("simulate", scene, "--csv", csv, "--mot", mot)
    assert status == 0, err
    rows = [line.split(",") for line in csv.read_text().splitlines()]
    head, body = rows[0], rows[1:]
    assert head[:2] == ["t_ms", "p1_force_n"] and "p2_guarding" in head
    for column in ("flexion_deg", "lateral_deg", "rotation_deg", "gap_left_mm", "gap_right_mm"):
        assert f"p1_L4-L5_{column}" in head and f"p2_T1-T2_{column}" in head
    t = [float(row[0]) for row in body]
    assert t[:3] == [0.0, 1.0, 2.0]  # one row per millisecond
    assert all(len(row) == len(head) for row in body)
    from spine3d.scene import load_scene
    from spine3d.scene.describe import simulate_scene

    runs = [simulate_scene(load_scene(scene), i) for i in (0, 1)]
    assert len(body) == max(len(r.t_ms) for r in runs)
    # The shorter run (the self-twist)'s cells are empty after its last step.
    cells = [row[head.index("p2_L4-L5_rotation_deg")] for row in body]
    assert cells[len(runs[1].t_ms) - 1] != "" and cells[-1] == ""
    # The very numbers of the simulation.
    run, i = runs[0], runs[0].model.segment_names.index("L4-L5")
    k = len(body) // 2
    assert float(body[k][head.index("p1_L4-L5_rotation_deg")]) == pytest.approx(
        run.rotation_deg[k, i], abs=1e-5
    )
    assert float(body[k][head.index("p1_force_n")]) == pytest.approx(run.force_n[k], rel=1e-5)

    lines = mot.read_text().splitlines()
    end = lines.index("endheader")
    header = dict(x.split("=") for x in lines[1:end])
    labels = lines[end + 1].split("\t")
    data = [list(map(float, x.split("\t"))) for x in lines[end + 2 :]]
    assert header["inDegrees"] == "yes" and int(header["nRows"]) == len(data) == len(body)
    assert int(header["nColumns"]) == len(labels) == 1 + 2 * 17
    assert labels[0] == "time" and "p1_L4_L5_rotation" in labels
    assert data[1][0] == pytest.approx(0.001)  # seconds
    # A motion has no gaps: the shorter run holds its last pose.
    j = labels.index("p2_L4_L5_rotation")
    assert data[-1][j] == pytest.approx(runs[1].rotation_deg[-1, i], abs=1e-5)


@pytest.mark.parametrize("flag", ["", "--json"])
def test_broken_pipe_is_quiet(tmp_path, flag):
    scene = tmp_path / "twist.toml"
    scene.write_text(f"maneuver = {TWIST}\n")
    # A reader that stops at once: the rest of the output meets a closed pipe.
    cmd = [sys.executable, "-m", "spine3d._cli.main", "simulate", str(scene)]
    p = subprocess.Popen(
        cmd + ([flag] if flag else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    p.stdout.read(10)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(120) in (0, 1)
    assert err == ""


def test_no_maneuver(tmp_path):
    scene = tmp_path / "still.toml"
    scene.write_text('title = "x"\n')
    r = simulate(scene)
    assert r.returncode == 2 and "no [maneuver] table" in r.stderr


def test_schedule_progress_bar_on_a_terminal(tmp_path):
    scene = tmp_path / "long.toml"
    scene.write_text(f"maneuver = {TWIST}\n[[panel]]\n[[panel]]\n[schedule]\nsessions = 3\n")
    proc, out, said = _in_a_terminal(["simulate", scene, "--json"])
    assert proc.returncode == 0, said
    assert "Simulating panel 1" in said and "Simulating panel 2" in said
    assert len(json.loads(out)["panels"]) == 2  # stdout holds only the JSON
    # Not on a terminal: no bar at all.
    r = simulate(scene, "--json")
    assert r.returncode == 0 and "Simulating" not in r.stderr
