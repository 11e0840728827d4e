"""``[maneuver]`` and ``[population]``: what a scene's keys become, and what they default to."""

import re
from pathlib import Path

import pytest

from spine3d.mechanics import maneuver as mechanics
from spine3d.mechanics.cohort import cohort_inputs
from spine3d.mechanics.params import timedomain
from spine3d.scene import SCHEMA, PopulationSpec, load_scene, parse_scene
from spine3d.scene.schema import CONTACTS, MANEUVERS, POSITIONS

ROOT = Path(__file__).resolve().parents[2]


def maneuver(text: str, where: str = "test.toml"):
    import tomllib

    return parse_scene(tomllib.loads(text), where).maneuver


def test_schema_names_the_mechanics_choices():
    assert MANEUVERS == mechanics.KINDS
    assert POSITIONS == mechanics.POSITIONS and CONTACTS == mechanics.CONTACTS
    keys = SCHEMA["maneuver"]
    assert keys["kind"].choices == mechanics.KINDS and keys["position"].choices == POSITIONS


def test_a_lumbar_thrust_takes_a_practitioners_defaults():
    mv = maneuver('[maneuver]\nkind = "hvla"\ntarget = "L4-L5"\n')
    assert (mv.position, mv.lying_on, mv.upside) == ("side_posture", "left", "right")
    assert (mv.contact, mv.contact_level, mv.direction) == ("spinous", "L4", (0.0, 0.0, -1.0))
    assert mv.preload_n == timedomain()["side_posture_preload_n"]
    assert (mv.thrust_n, mv.duration_ms, mv.preload_ms, mv.position_ms) == (400, 120, 600, 1000)
    # Lying on the right: the left side is up, and the push still goes toward the table.
    mv = maneuver('[maneuver]\nkind = "hvla"\ntarget = "L4-L5"\nlying_on = "right"\n')
    assert mv.upside == "left" and mv.direction == (0.0, 0.0, 1.0)
    mv = maneuver(
        '[maneuver]\nkind = "hvla"\ntarget = "L4-L5"\ncontact = "transverse"\n'
        'contact_level = "L5"\ndirection = [2, 0, -2]\n'
    )
    assert (mv.contact, mv.contact_level, mv.contact_side) == ("transverse", "L5", "right")
    assert mv.direction == pytest.approx((0.5**0.5, 0.0, -(0.5**0.5)))


def test_a_thoracic_thrust_is_prone_and_the_others_keep_theirs():
    mv = maneuver('[maneuver]\nkind = "hvla"\ntarget = "T6-T7"\n')
    assert (mv.position, mv.contact, mv.contact_side) == ("prone", "transverse", "left")
    assert mv.direction == (1.0, 0.0, 0.0) and mv.preload_n == timedomain()["prone_preload_n"]
    mv = maneuver('[maneuver]\nkind = "mobilisation"\ntarget = "T6-T7"\nthrust_n = 0\n')
    assert mv.duration_ms == 2000 and mv.thrust_n == 0
    mv = maneuver('[maneuver]\nkind = "self_twist"\ntwist_deg = 30\nposition = "standing"\n')
    assert (mv.position, mv.duration_ms) == ("standing", 150)


def test_defaults_in_words_say_the_numbers_the_model_takes():
    keys = SCHEMA["maneuver"]
    td = timedomain()
    assert keys["preload_n"].default_text.startswith(
        f"{td['side_posture_preload_n']:g} side posture, {td['prone_preload_n']:g} prone"
    )
    durations = {
        "self_twist": mechanics.Maneuver("self_twist", twist_deg=1.0).duration_ms,
        "hvla": mechanics.Maneuver("hvla", target="L4-L5").duration_ms,
        "mobilisation": mechanics.Maneuver("mobilisation", target="L4-L5").duration_ms,
    }
    assert keys["duration_ms"].default_text == ", ".join(f"{v:g} {k}" for k, v in durations.items())
    plain = mechanics.Maneuver("hvla", target="L4-L5")
    for name in ("lying_on", "thrust_n", "preload_ms", "position_ms"):
        assert getattr(plain, name) == keys[name].default, name


def test_population_is_read_with_its_default_seed(tmp_path):
    scene = tmp_path / "pop.toml"
    scene.write_text('[maneuver]\nkind = "hvla"\ntarget = "L4-L5"\n[population]\nsize = 12\n')
    assert load_scene(scene).population == PopulationSpec(12, 0)
    scene.write_text(scene.read_text() + "seed = 4294967295\n")
    assert load_scene(scene).population == PopulationSpec(12, 2**32 - 1)
    assert load_scene(ROOT / "scenes" / "hvla_vs_self_twist.toml").population is None


def test_docs_state_the_cohorts_distributions():
    text = (ROOT / "docs" / "scenes.md").read_text()
    words = {"uniform": "uniform", "normal": "normal, mean", "lognormal": "lognormal, median"}
    for key, d in cohort_inputs().items():
        row = next(ln for ln in text.splitlines() if f"| `{key}` |" in ln)
        assert words[d["distribution"]] in row, row
        numbers = [float(x.replace("−", "-")) for x in re.findall(r"[−-]?\d+(?:\.\d+)?", row)]
        assert d["a"] in numbers and d["b"] in numbers, row
