"""Cleanup settings and the spans list, on the scene (``scene.maskhand_cleanup``)."""
import bpy

from . import display


def _threshold_changed(self, context):
    display.refresh_spans(context)
    display.colour_bones(context.scene)


def _colours_toggled(self, context):
    display.set_colour_handler(self.show_colours)
    display.colour_bones(context.scene)


class MaskHandSpan(bpy.types.PropertyGroup):
    frame_start: bpy.props.FloatProperty(name="Start")
    frame_end: bpy.props.FloatProperty(name="End")
    bone: bpy.props.StringProperty(name="Worst Bone")
    worst: bpy.props.FloatProperty(name="Worst", description="Highest uncertainty in the span, degrees; -1: no hand")


class MaskHandCleanupSettings(bpy.types.PropertyGroup):
    # The uncertainty is a typical angle error per joint (backend.maskhand.sampling.calibrated_error). 16 degrees
    # on a hand's worst joint flags about the worst quarter of validation hands (seed 777, 600 hands).
    threshold: bpy.props.FloatProperty(name="Threshold", default=16.0, min=0.1, max=180.0,
                                       update=_threshold_changed,
                                       description="Uncertainty (degrees) above which a frame counts as unsure")
    show_colours: bpy.props.BoolProperty(name="Colour Bones", update=_colours_toggled,
                                         description="Colour captured bones from sure (green) to unsure (red)")
    scope: bpy.props.EnumProperty(name="Act On", default="ACTIVE", items=(
        ("ACTIVE", "Selected Span", "The span selected in the list"),
        ("ALL", "All Spans", "Every span above the threshold")))
    smooth_strength: bpy.props.FloatProperty(name="Strength", default=4.0, min=0.1, max=1000.0,
                                             description="How strongly unsure frames are pulled to a smooth path")
    spans: bpy.props.CollectionProperty(type=MaskHandSpan)
    active_span: bpy.props.IntProperty(name="Span")
