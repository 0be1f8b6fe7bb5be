"""Run by tests/test_blender_capture.py: the capture in real Blender against the real backend.

argv: extension zip, MaskHand folder, sample clip. Prints one JSON line of observations.
Modal operators need a window, which background Blender lacks; the operator is a thin shell
over ``BackendSession``, which this script drives the way the operator's timer does.
"""
import dataclasses
import json
import sys
import time
from pathlib import Path

import bpy
import numpy as np

from addon import install, report, submodule
from tests.result_files import track_arrays, write_result_file

zip_path, repo, clip = sys.argv[1:4]
install(zip_path)
capture_ops = submodule("ui.operators.capture")
setup = submodule("blender.settings")
capture_apply = submodule("blender.capture_apply")
panels = submodule("ui.panels")
preferences = bpy.context.preferences.addons["bl_ext.user_default.maskhand"].preferences
preferences.backend_folder, preferences.backend_python, preferences.device = repo, sys.executable, "CPU"
# The bundled checkpoint named in Preferences: the backend serves it (--checkpoint) and its hello describes it.
preferences.checkpoint = str(Path(repo) / "backend" / "weights" / "maskhand-k")
results = {}


class RecordingLayout:
    """Stands in for UILayout (background Blender draws no UI): checks every property and operator drawn exists."""

    def __init__(self, drawn):
        self.drawn = drawn
        self.labels = []
        self.use_property_split = self.use_property_decorate = False

    def prop(self, data, name, **_):
        assert name in data.bl_rna.properties, f"panel draws unknown property {name!r}"
        self.drawn.append(name)

    def operator(self, idname, **_):
        module, name = idname.split(".")
        assert hasattr(getattr(bpy.ops, module), name), f"panel draws unknown operator {idname!r}"
        self.drawn.append(idname)
        return type("Properties", (), {})()

    def operator_menu_enum(self, idname, _property, **_):
        self.operator(idname)

    def row(self, **_):
        return self

    column = row

    def label(self, text="", **_):
        self.labels.append(text)
        self.drawn.append(text)

    def template_list(self, list_type, _list_id, data, collection, active_data, active_name, **_):
        """Draws each item with the registered UIList's own draw_item, recording its labels as one line."""
        assert collection in data.bl_rna.properties and active_name in active_data.bl_rna.properties
        self.drawn.append(list_type)
        for index, item in enumerate(getattr(data, collection)):
            row = RecordingLayout(self.drawn)
            getattr(bpy.types, list_type).draw_item(None, bpy.context, row, data, item, 0, active_data, active_name,
                                                   index)
            self.drawn.append(" | ".join(row.labels))

    def progress(self, **_):
        self.drawn.append("progress")


def draw_panels():
    drawn = []
    for panel in (cls for cls in panels.classes if issubclass(cls, bpy.types.Panel)):
        panel.draw(type("Panel", (), {"layout": RecordingLayout(drawn)})(), bpy.context)
    return drawn


def scene_state():
    return {"objects": sorted(obj.name for obj in bpy.data.objects), "actions": sorted(a.name for a in bpy.data.actions)}


def run_session(cancel_at_stage=None, timeout=600):
    session = capture_ops.capture_session(bpy.context)
    arguments = session.job.backend.process.args
    results["serve_arguments"] = arguments[arguments.index("serve") + 1:]
    deadline = time.monotonic() + timeout
    while not session.step(bpy.context):
        if cancel_at_stage and bpy.context.window_manager.maskhand_job.stage == cancel_at_stage:
            bpy.context.window_manager.maskhand_job.cancel_requested = True
        assert time.monotonic() < deadline, "capture did not end"
        time.sleep(0.05)
    return session.finish(bpy.context), session.job.stages


bpy.ops.wm.read_homefile(use_factory_startup=True)
results["test_backend"] = sorted(bpy.ops.maskhand.test_backend())
results["hello"] = preferences.last_hello
settings = bpy.context.scene.maskhand
settings.footage, settings.hands = clip, "BOTH"
results["panel_defaults"] = draw_panels()
results["default_request"] = setup.panel_request(settings, preferences)
settings.samples, settings.iterations = 4, 1
results["panel_coinciding"] = draw_panels()
settings.samples, settings.iterations = 4, 2
results["panel_idle"] = draw_panels()
bpy.context.window_manager.maskhand_job.running = True
results["panel_running"] = draw_panels()
bpy.context.window_manager.maskhand_job.running = False

# A capture that works.
before = scene_state()
(level, message, outcome), progress = run_session()
results["capture"] = {"level": level, "message": message, "outcome": outcome,
                      "stages": list(dict.fromkeys(stage for stage, _ in progress)),
                      "progress_monotonic": all(a[1] <= b[1] for a, b in zip(progress, progress[1:])
                                                if a[0] == b[0])}
rigs = [obj for obj in bpy.data.objects if obj.type == "ARMATURE" and obj.animation_data]
results["keyed"] = {rig.name: {"action": rig.animation_data.action.name,
                               "curves": len(rig.animation_data.action.layers[0].strips[0].channelbags[0].fcurves),
                               "keys": max(len(c.keyframe_points) for c in
                                           rig.animation_data.action.layers[0].strips[0].channelbags[0].fcurves)}
                    for rig in rigs}
results["new_objects"] = sorted(set(scene_state()["objects"]) - set(before["objects"]))
results["last_result"] = settings.last_result

# Re-sample one span of the right hand: only that span's keys change.
cleanup_ops = submodule("ui.operators.cleanup")
curves_module = submodule("blender.curves")
right = bpy.data.objects["MaskHand Right"]
for obj in bpy.context.view_layer.objects:
    obj.select_set(False)
bpy.context.view_layer.objects.active = right
curves = curves_module.HandCurves.of(right)
frames, found = curves.grid()
_, uncertainty = curves.uncertainty_at(frames, found)
cleanup = bpy.context.scene.maskhand_cleanup
cleanup.threshold = float(np.median(uncertainty.max(1)[found]))
# The worst span with a hand, as an animator would fix first. (Not one of the clip's first frames alone: MediaPipe
# labels the hand left in both, and a re-sample of those two frames alone has nothing to outvote that; a known gap.)
later = [i for i, item in enumerate(cleanup.spans) if item.worst >= 0 and item.frame_end > 3]
assert later, f"no unsure span with a hand after frame 3: {[(s.frame_start, s.frame_end) for s in cleanup.spans]}"
cleanup.active_span = max(later, key=lambda i: cleanup.spans[i].worst)
span = cleanup.spans[cleanup.active_span]
results["resample_span"] = [span.frame_start, span.frame_end]
before = {bone: curves.quaternions(bone) for bone in curves.rotations}
session = cleanup_ops.resample_session(bpy.context)
while not session.step(bpy.context):
    time.sleep(0.05)
results["resample_request"] = {k: session.job.request.get(k) for k in ("frame_start", "frame_end", "hands", "samples",
                                                                       "iterations", "temporal")}
results["resample"] = list(session.finish(bpy.context))
after = curves_module.HandCurves.of(right)
outside_same, inside_changed = True, False
for bone, (old_frames, old) in before.items():
    new_frames, new = after.quaternions(bone)
    out_old = (old_frames < span.frame_start) | (old_frames > span.frame_end)
    out_new = (new_frames < span.frame_start) | (new_frames > span.frame_end)
    outside_same &= bool(np.array_equal(old_frames[out_old], new_frames[out_new]) and np.allclose(old[out_old], new[out_new]))
    inside_changed |= not (np.array_equal(old_frames[~out_old], new_frames[~out_new])
                           and np.allclose(old[~out_old], new[~out_new]))
results["resample_outside_unchanged"], results["resample_inside_changed"] = outside_same, inside_changed

# One undo step: the capture's scene changes all happen inside one operator with UNDO, so Blender records
# them as one step. (Background Blender has no window, so ed.undo cannot be called here.)
state = scene_state()
results["import_operator"] = sorted(bpy.ops.maskhand.import_result(filepath=settings.last_result))
results["import_added"] = sorted(set(scene_state()["objects"]) - set(state["objects"]))
results["undo_flags"] = {op.__name__: sorted(getattr(op, "bl_options", ())) for op in capture_ops.classes}

# A custom bone map: filled from a preset, saved as JSON, loaded back, drawn, and used to key a rig.
settings.preset = "CUSTOM"
bpy.ops.maskhand.bone_map_from_preset(preset="BUILTIN")
map_file = Path(bpy.app.tempdir or "/tmp") / "my map.json"
results["save_map"] = sorted(bpy.ops.maskhand.save_bone_map(filepath=str(map_file)))
settings.custom_bones.clear()
results["load_map"] = sorted(bpy.ops.maskhand.load_bone_map(filepath=str(map_file)))
results["custom_rows"] = len(settings.custom_bones)
results["panel_custom"] = draw_panels()
settings.target, settings.hands = bpy.data.objects["MaskHand Right"], "RIGHT"
results["custom_import"] = sorted(bpy.ops.maskhand.import_result(filepath=settings.last_result))
settings.preset, settings.target, settings.hands = "BUILTIN", None, "BOTH"

# Cancel in the middle: the scene stays as it was.
state = scene_state()
(level, message, outcome), _ = run_session(cancel_at_stage="loading")
results["cancel"] = {"level": level, "message": message, "outcome": outcome, "unchanged": scene_state() == state}

# A failing backend: bad footage, then a wrong interpreter. One clear message each, scene unchanged.
bad = Path(bpy.app.tempdir or "/tmp") / "not a video.mp4"
bad.write_text("this is text, not video")
settings.footage = str(bad)
(level, message, outcome), _ = run_session()
results["bad_footage"] = {"level": level, "message": message, "outcome": outcome, "unchanged": scene_state() == state}
settings.footage = clip
preferences.backend_python = "/nonexistent/python"
try:
    capture_ops.capture_session(bpy.context)
    results["wrong_python"] = "started"
except setup.CaptureSetupError as error:
    results["wrong_python"] = str(error)
results["wrong_python_unchanged"] = scene_state() == state

# Bad settings: each stops the capture before the backend starts, with a message naming the setting.
preferences.backend_python = sys.executable


def setup_error(**changes):
    saved = {name: getattr(settings, name) for name in changes}
    for name, value in changes.items():
        setattr(settings, name, value)
    try:
        capture_ops.capture_session(bpy.context)
        return "started"
    except setup.CaptureSetupError as error:
        return str(error)
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


results["settings_errors"] = {
    "no_footage": setup_error(footage=""),
    "missing_footage": setup_error(footage="/nowhere/clip.mp4"),
    "empty_range": setup_error(frame_start=10, frame_end=5),
    "rigify_without_target": setup_error(preset="RIGIFY"),
    "rigify_on_builtin_rig": setup_error(preset="RIGIFY", target=bpy.data.objects["MaskHand Right"]),
}
settings.custom_bones.clear()
results["settings_errors"]["empty_custom_map"] = setup_error(preset="CUSTOM")
bpy.ops.maskhand.bone_map_from_preset(preset="BUILTIN")
settings.custom_bones[7].bone = ""
results["settings_errors"]["custom_map_without_pinky1"] = setup_error(preset="CUSTOM")
preferences.backend_folder = "/nowhere"
results["settings_errors"]["wrong_backend_folder"] = setup_error()
results["settings_unchanged"] = scene_state() == state


# A result with three tracks (schema 2, written with plain numpy), in a fresh scene: the import keys right and left
# onto their hands and lists right_2; the panel keys right_2 onto a second armature, which already plays an action.
def operator_outcome(operator, **properties):
    """What an operator returned, or the error it reported (bpy.ops raises it as RuntimeError)."""
    try:
        return sorted(operator(**properties))
    except RuntimeError as error:
        return str(error)


def action_state(rig):
    """The action a rig plays, its keys per curve, and its NLA tracks."""
    animation = rig.animation_data
    if animation is None or animation.action is None:
        return None
    bag = animation.action.layers[0].strips[0].channelbag(animation.action_slot)
    return {"action": animation.action.name, "keys": {f"{c.data_path}[{c.array_index}]": len(c.keyframe_points)
                                                      for c in bag.fcurves},
            "nla": [track.name for track in animation.nla_tracks]}


bpy.ops.wm.read_homefile(use_factory_startup=True)
settings = bpy.context.scene.maskhand
folder = Path(bpy.app.tempdir or "/tmp")
frames, some = np.arange(10), np.arange(10) >= 2
three = write_result_file(folder / "three tracks.npz", {
    "right": track_arrays(frames, np.ones(10, bool), bend=0.3), "left": track_arrays(frames, np.ones(10, bool)),
    "right_2": track_arrays(frames, some, score=0.6, bend=-0.4)})
results["key_track_before_a_capture"] = operator_outcome(bpy.ops.maskhand.key_track)
second = submodule("blender.rig").add_hand(bpy.context, "right", "Second Hand")
second.animation_data_create().action = bpy.data.actions.new("Wave")
second.keyframe_insert("location", frame=1)
results["three_import"] = operator_outcome(bpy.ops.maskhand.import_result, filepath=str(three))
rig = bpy.data.objects["MaskHand Right"]
results["three_keyed"] = {name: action_state(bpy.data.objects[name]) for name in ("MaskHand Right", "MaskHand Left")}
results["three_listed"] = [(item.name, item.frames_found, round(item.mean_score, 3)) for item in settings.tracks]
results["three_summary"] = settings.last_summary
results["panel_tracks"] = draw_panels()
first_before, second_before = action_state(rig), action_state(second)
settings.track_target = second
results["key_track"] = operator_outcome(bpy.ops.maskhand.key_track)
results["key_track_first_unchanged"] = action_state(rig) == first_before
results["key_track_second_before"], results["key_track_second"] = second_before, action_state(second)
results["key_track_wave_unchanged"] = (bpy.data.actions["Wave"].layers[0].strips[0].channelbags[0]
                                       .fcurves[0].keyframe_points[0].co[0] == 1.0)
source = json.loads(second.animation_data.action[submodule("blender.capture_import").CAPTURE_PROPERTY])
span = type("Span", (), {"frame_start": 3.0, "frame_end": 5.0})()
request, _ = submodule("blender.resample").resample_request(bpy.context, second, span)
results["key_track_source"] = {"track": source["track"], "resample_hands": request["hands"]}
source["side"] = source.pop("track")  # an action keyed before tracks had names
second.animation_data.action[submodule("blender.capture_import").CAPTURE_PROPERTY] = json.dumps(source)
results["resample_side_only"] = submodule("blender.resample").resample_request(bpy.context, second, span)[0]["hands"]

# The same track again: with no target (MaskHand Hand preset) onto a new hand; onto the rig that plays the right
# track, with its own detected flag; and what stops it, each with a clear message.
settings.track_target = None
results["key_track_new_hand"] = operator_outcome(bpy.ops.maskhand.key_track)
results["key_track_new_hand_action"] = action_state(bpy.data.objects["MaskHand Right 2"])["action"]
settings.track_target = rig
results["key_track_same_side"] = operator_outcome(bpy.ops.maskhand.key_track)
results["same_side_flags"] = sorted(key for key in rig.keys() if key.startswith("maskhand_detected_"))
settings.preset, settings.track_target = "RIGIFY", second
results["key_track_errors"] = {"armature_lacks_bones": operator_outcome(bpy.ops.maskhand.key_track)}
settings.track_target = None
results["key_track_errors"]["rigify_without_target"] = operator_outcome(bpy.ops.maskhand.key_track)
settings.preset, settings.active_track = "BUILTIN", 5
results["key_track_errors"]["no_track_chosen"] = operator_outcome(bpy.ops.maskhand.key_track)
settings.active_track = 0
one_track = write_result_file(folder / "one track.npz", {"right": track_arrays(frames, np.ones(10, bool))})
settings.last_result = str(one_track)
results["key_track_errors"]["track_gone"] = operator_outcome(bpy.ops.maskhand.key_track)

# The headless job keys every track, one built-in hand each.
state = scene_state()
plan = dataclasses.replace(capture_apply.capture_plan(settings), every_track=True)
results["every_track"] = capture_apply.apply_capture(bpy.context, plan, str(three))
results["every_track_added"] = sorted(set(scene_state()["objects"]) - set(state["objects"]))

# Both hands onto one armature (a character): one import keys the right hand as its action and the left as an
# NLA strip, and the summary names both.
bpy.ops.wm.read_homefile(use_factory_startup=True)
settings = bpy.context.scene.maskhand
hands = [submodule("blender.rig").add_hand(bpy.context, side) for side in ("right", "left")]
bpy.ops.object.select_all(action="DESELECT")
for hand in hands:
    hand.select_set(True)
bpy.context.view_layer.objects.active = hands[0]
bpy.ops.object.join()
character = bpy.context.view_layer.objects.active
character.name = "Character"
settings.target = character
results["one_rig_import"] = operator_outcome(bpy.ops.maskhand.import_result, filepath=str(three))
results["one_rig_summary"] = settings.last_summary
results["one_rig_nla"] = [track.name for track in character.animation_data.nla_tracks]
results["one_rig_armatures"] = sorted(obj.name for obj in bpy.context.scene.objects if obj.type == "ARMATURE")

# A schema 1 result (one track per side, header "sides") still imports through the operator.
state = scene_state()
version_1 = write_result_file(folder / "version one.npz", {"left": track_arrays(frames, some),
                                                           "right": track_arrays(frames, np.ones(10, bool))},
                              schema_version=1)
results["version_1_import"] = operator_outcome(bpy.ops.maskhand.import_result, filepath=str(version_1))
results["version_1_actions"] = sorted(set(scene_state()["actions"]) - set(state["actions"]))
results["version_1_listed"] = len(settings.tracks)
report(results)
