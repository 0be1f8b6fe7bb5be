"""The capture settings and state the panel shows, stored on the scene (``scene.maskhand``)."""
import bpy

PRESETS = (
    ("BUILTIN", "MaskHand Hand", "The built-in MANO-layout hand (Add MaskHand Hand); made for you when the target "
                                  "has no hand for a side"),
    ("RIGIFY", "Rigify", "FK finger controls of a rig generated with Rigify"),
    ("MIXAMO", "Mixamo", "Bone names of rigs from mixamo.com"),
    ("CUSTOM", "Custom Map", "The bone map edited in the panel (load and save it as JSON)"),
)


def _is_armature(self, obj):
    return obj.type == "ARMATURE"


class MaskHandBoneMapEntry(bpy.types.PropertyGroup):
    """One row of the custom bone map: a MANO joint and the bone that follows it ({side} for the side)."""

    joint: bpy.props.StringProperty(name="Joint")
    bone: bpy.props.StringProperty(name="Bone", description="Bone name; {side} stands for the side's spelling")


class MaskHandTrack(bpy.types.PropertyGroup):
    """A track of the last capture that the capture did not key (a second right hand, ...); ``name`` is the track's."""

    frames_found: bpy.props.IntProperty(name="Frames With a Hand")
    mean_score: bpy.props.FloatProperty(name="Mean Score", description="MediaPipe's mean confidence in the hand's "
                                        "side (left or right), over the frames where it was found")


class MaskHandCaptureSettings(bpy.types.PropertyGroup):
    footage: bpy.props.StringProperty(name="Footage", subtype="FILE_PATH",
                                      description="Video (or still image) of your hands")
    frame_start: bpy.props.IntProperty(name="Start", min=0, default=0, description="First footage frame to capture")
    frame_end: bpy.props.IntProperty(name="End", min=0, default=0,
                                     description="Footage frame to stop before; 0 captures to the end")
    hands: bpy.props.EnumProperty(name="Hands", default="BOTH", items=(
        ("BOTH", "Both", "Left and right hands"), ("RIGHT", "Right", "The right hand only"),
        ("LEFT", "Left", "The left hand only")))
    max_hands: bpy.props.IntProperty(
        name="Hands in View", min=1, max=8, default=2,
        description="The most hands to look for in a frame, of any side: 3 or more when several people's hands "
                    "are in view. Hands beyond the right and left ones are listed under Last Capture to key")
    mirrored: bpy.props.BoolProperty(name="Mirrored Footage", description="Selfie-camera footage, flipped left-right")
    target: bpy.props.PointerProperty(name="Target", type=bpy.types.Object, poll=_is_armature,
                                      description="Armature to key; empty with the MaskHand Hand preset builds hands")
    preset: bpy.props.EnumProperty(name="Rig", items=PRESETS, default="BUILTIN")
    custom_bones: bpy.props.CollectionProperty(type=MaskHandBoneMapEntry)
    custom_right: bpy.props.StringProperty(name="Right", default="R", description="How the rig spells the right side")
    custom_left: bpy.props.StringProperty(name="Left", default="L", description="How the rig spells the left side")
    custom_key_wrist: bpy.props.BoolProperty(name="Key Wrist", description="Give the hand bone the capture's wrist "
                                             "rotation (a standalone hand); off for a character whose arm places it")
    samples: bpy.props.IntProperty(name="Samples", min=0, max=64, default=0,
                                   description="Hypotheses per hand and frame: more gives better uncertainty; 0 uses "
                                               "the checkpoint's own")
    iterations: bpy.props.IntProperty(
        name="Iterations", min=0, max=64, default=0,
        description="Decoding iterations: quality against speed; 0 uses the checkpoint's own. Hypotheses differ "
                    "through the tokens early iterations commit, so too few make them coincide")
    temporal: bpy.props.BoolProperty(
        name="Temporal", default=True,
        description="Choose each frame's hypothesis with its neighbours, for steadier motion; the backend skips it "
                    "(with a warning) where the hypotheses coincide")
    add_camera: bpy.props.BoolProperty(name="Reference Camera", default=True,
                                       description="Add a camera with the footage as its background")

    # The last capture, shown by the panel (saved with the file).
    last_result: bpy.props.StringProperty(name="Last Result", subtype="FILE_PATH")
    last_summary: bpy.props.StringProperty(name="Summary")
    last_warnings: bpy.props.StringProperty(name="Warnings")
    last_source: bpy.props.StringProperty(name="Source", options={"HIDDEN"},
                                          description="The last capture's footage and backend request, as JSON: a "
                                                      "track keyed later remembers them, to re-sample its spans")
    tracks: bpy.props.CollectionProperty(type=MaskHandTrack)
    active_track: bpy.props.IntProperty(name="Track")
    track_target: bpy.props.PointerProperty(name="Track Target", type=bpy.types.Object, poll=_is_armature,
                                            description="Armature to key the chosen track onto; with the MaskHand "
                                                        "Hand preset, empty (or one without a hand of the track's "
                                                        "side) builds a hand")
    log_path: bpy.props.StringProperty(name="Backend Log", subtype="FILE_PATH")


class MaskHandJobState(bpy.types.PropertyGroup):
    """The running backend job, on the window manager: never saved in a file, never undone."""

    running: bpy.props.BoolProperty()
    cancel_requested: bpy.props.BoolProperty()
    progress: bpy.props.FloatProperty(name="Progress", subtype="PERCENTAGE", min=0, max=100)
    stage: bpy.props.StringProperty()
