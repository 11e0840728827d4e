import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def simulate(*args):
    return subprocess.run(
        [sys.executable, "-m", "spine3d._cli.main", "simulate", *args],
        capture_output=True,
        text=True,
    )


def test_simulate_json_runs_every_panel():
    r = simulate(str(ROOT / "scenes" / "hvla_vs_self_twist.toml"), "--json")
    assert r.returncode == 0, r.stderr
    thrust, twist = json.loads(r.stdout)["panels"]
    assert thrust["panel"].startswith("Panel 1: HVLA") and twist["panel"].startswith("Panel 2")
    assert thrust["maneuver"] == "hvla" and 0 < thrust["specificity"] < 1
    assert {
        "t_ms": thrust["events"][0]["t_ms"],
        "type": "cavitation",
        "segment": "L4-L5",
        "side": "left",
        "session": 0,
    } == thrust["events"][0]
    # The second panel is a self-twist: it pops mobile neighbours, never L4-L5.
    assert twist["maneuver"] == "self_twist" and twist["specificity"] is None
    popped = {e["segment"] for e in twist["events"] if e["type"] == "cavitation"}
    assert popped and "L4-L5" not in popped


def test_simulate_one_panel_json_is_the_run(tmp_path):
    scene = tmp_path / "one.toml"
    scene.write_text('[maneuver]\nkind = "hvla"\ntarget = "L4-L5"\n')
    d = json.loads(simulate(str(scene), "--json").stdout)
    assert d["maneuver"] == "hvla" and "panels" not in d


def test_simulate_tables():
    r = simulate("hvla_vs_self_twist")  # a shipped scene, by name
    assert r.returncode == 0, r.stderr
    assert "cavitation" in r.stdout and "Specificity" in r.stdout
    assert "Panel 1: HVLA" in r.stdout and "Panel 2: Quick self-twist" in r.stdout


def test_time_series_csv_and_mot(tmp_path):
    csv, mot = tmp_path / "t.csv", tmp_path / "t.mot"
    r = simulate("hvla_vs_self_twist", "--csv", str(csv), "--mot", str(mot))
    assert r.returncode == 0, r.stderr
    rows = [line.split(",") for line in csv.read_text().splitlines()]
    head, body = rows[0], rows[1:]
    assert head[0] == "t_ms" and "p1_L4-L5_rotation_deg" in head and "p2_guarding" in head
    t = [float(row[0]) for row in body]
    assert t[:3] == [0.0, 1.0, 2.0]  # one row per millisecond
    assert all(len(row) == len(head) for row in body)
    from spine3d.scene import load_scene
    from spine3d.scene.describe import simulate_scene

    runs = [simulate_scene(load_scene("hvla_vs_self_twist"), i) for i in (0, 1)]
    assert len(body) == max(len(r.t_ms) for r in runs)
    # The shorter run's cells are empty after its last step; the longer's are not.
    short = min((0, 1), key=lambda i: len(runs[i].t_ms))
    cells = [row[head.index(f"p{short + 1}_L4-L5_rotation_deg")] for row in body]
    assert cells[len(runs[short].t_ms) - 1] != "" and cells[-1] == ""
    assert body[-1][head.index(f"p{2 - short}_L4-L5_rotation_deg")] != ""
    # The target turns under the thrust, the same numbers as the simulation.
    run = runs[0]
    thrust = [row[head.index("p1_L4-L5_rotation_deg")] for row in body]
    i = run.model.segment_names.index("L4-L5")
    k = int(run.t_ms.searchsorted(150.0))
    assert float(thrust[k]) == pytest.approx(run.rotation_deg[k, i], abs=1e-5)

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
    j = labels.index(f"p{short + 1}_L4_L5_rotation")
    assert data[-1][j] == pytest.approx(runs[short].rotation_deg[-1, i], abs=1e-5)


def test_schedule_lists_every_sessions_pops(tmp_path):
    scene = tmp_path / "sched.toml"
    scene.write_text(
        '[spine]\nmobility = { "L4-L5" = "restricted" }\n'
        '[maneuver]\nkind = "self_twist"\ntwist_deg = 35\nduration_ms = 120\n'
        "[schedule]\nsessions = 3\ninterval_min = 30\n"
    )
    d = json.loads(simulate(str(scene), "--json").stdout)
    sessions = {e["session"] for e in d["events"]}
    # 30 min apart: past the 20 min refractory period, every session pops again.
    assert sessions == {0, 1, 2}
    r = simulate(str(scene))
    rows = [line for line in r.stdout.splitlines() if "│" in line and "left" in line]
    assert {line.split("│")[1].strip() for line in rows} == {"1", "2", "3"}
    # 10 min apart: the second session falls in the 20 min refractory period, the
    # third (20 min after the first pops) does not.
    scene.write_text(scene.read_text().replace("interval_min = 30", "interval_min = 10"))
    d = json.loads(simulate(str(scene), "--json").stdout)
    assert {e["session"] for e in d["events"]} == {0, 2}


@pytest.mark.parametrize("flag", ["", "--json"])
def test_broken_pipe_is_quiet(flag):
    # A reader that stops at once: the rest of the output meets a closed pipe.
    cmd = [sys.executable, "-m", "spine3d._cli.main", "simulate", "self_cracking"]
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


@pytest.mark.parametrize(
    ("maneuver", "needle"),
    [
        ('kind = "hvla"\ntarget = "L4-L9"', 'target = "L4-L9": expected a segment'),
        ('kind = "self_twist"\ntwist_deg = 30\nduration_ms = -5', "duration_ms = -5"),
        ('kind = "hvla"\ntarget = "L4-L5"\nthrust_n = 1e6', "thrust_n = 1000000.0: expected"),
        ('kind = "hvla"\ntarget = "L4-L5"\nforce = 3', "unknown key [maneuver] force"),
        ('target = "L4-L5"', "kind is required"),
    ],
)
def test_bad_maneuver_is_one_line(tmp_path, maneuver, needle):
    scene = tmp_path / "bad.toml"
    scene.write_text(f"[maneuver]\n{maneuver}\n")
    r = simulate(str(scene))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {scene}: ") and needle in lines[0]


def test_no_maneuver(tmp_path):
    scene = tmp_path / "still.toml"
    scene.write_text('title = "x"\n')
    r = simulate(str(scene))
    assert r.returncode == 2 and "no [maneuver] table" in r.stderr


def test_schedule_progress_bar_on_a_terminal(tmp_path):
    import os
    import pty
    import threading

    scene = tmp_path / "long.toml"
    scene.write_text(
        '[[panel]]\n[[panel]]\n[maneuver]\nkind = "self_twist"\ntwist_deg = 30\n'
        "[schedule]\nsessions = 300\n"
    )
    main, child = pty.openpty()
    p = subprocess.Popen(
        [sys.executable, "-m", "spine3d._cli.main", "simulate", str(scene), "--json"],
        stdout=subprocess.PIPE,
        stderr=child,
    )
    os.close(child)
    chunks = []

    def drain():  # read the terminal as it fills, or the bar would block on a full pty
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = p.communicate(timeout=300)
    reader.join(10)
    os.close(main)
    said = b"".join(chunks)
    assert p.returncode == 0
    assert b"Simulating panel 1" in said and b"Simulating panel 2" in said
    assert len(json.loads(out)["panels"]) == 2  # stdout holds only the JSON
    # Not on a terminal: no bar at all.
    r = simulate(str(scene), "--json")
    assert r.returncode == 0 and "Simulating" not in r.stderr
