"""Add MaskHand Hand: the built-in hand, from the operator and the Add > Armature menu."""
from __future__ import annotations

import bpy

from ...blender.rig import add_hand


class MASKHAND_OT_add_hand(bpy.types.Operator):
    """Add the built-in MANO-layout hand: an armature with a skinned mesh"""

    bl_idname = "maskhand.add_hand"
    bl_label = "Add MaskHand Hand"
    bl_options = {"REGISTER", "UNDO"}

    side: bpy.props.EnumProperty(name="Side", items=(("right", "Right", ""), ("left", "Left", "")))

    def execute(self, context):
        rig = add_hand(context, self.side)
        for obj in context.view_layer.objects.selected:
            obj.select_set(False)
        rig.select_set(True)
        context.view_layer.objects.active = rig
        if context.scene.maskhand.target is None:
            context.scene.maskhand.target = rig
        self.report({"INFO"}, f"added '{rig.name}'")
        return {"FINISHED"}


def menu_add_hand(self, context):
    self.layout.operator(MASKHAND_OT_add_hand.bl_idname, icon="VIEW_PAN")


classes = (MASKHAND_OT_add_hand,)
