"""View3D > Sidebar > MaskHand > Cleanup: where the capture is unsure, and the fixes."""
import bpy

from .panels import SidebarPanel


class MASKHAND_UL_spans(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_property, index=0, flt_flag=0):
        row = layout.row(align=True)
        worst = f"{item.worst:.0f}°" if item.worst >= 0 else "no hand"
        row.operator("maskhand.jump_to_span", text=f"{item.frame_start:.0f}-{item.frame_end:.0f}",
                     emboss=False, icon="TIME").index = index
        row.label(text=f"{item.bone} {worst}")


class MASKHAND_PT_cleanup(SidebarPanel, bpy.types.Panel):
    bl_label = "Cleanup"

    def draw(self, context):
        cleanup = context.scene.maskhand_cleanup
        layout = self.layout
        row = layout.row(align=True)
        row.prop(cleanup, "threshold")
        row.prop(cleanup, "show_colours", text="", icon="COLOR")
        layout.operator("maskhand.find_spans", icon="VIEWZOOM")
        layout.template_list("MASKHAND_UL_spans", "", cleanup, "spans", cleanup, "active_span", rows=4)
        layout.prop(cleanup, "scope", expand=True)
        column = layout.column(align=True)
        column.operator("maskhand.select_unsure_keys", icon="RESTRICT_SELECT_OFF")
        row = column.row(align=True)
        row.operator("maskhand.smooth_unsure", icon="MOD_SMOOTH")
        row.prop(cleanup, "smooth_strength", text="")
        column.operator("maskhand.fill_gaps", icon="IPO_LINEAR")
        column.operator("maskhand.resample_span", icon="FILE_REFRESH")
        column.operator("maskhand.delete_unsure_keys", icon="TRASH")


classes = (MASKHAND_UL_spans, MASKHAND_PT_cleanup)
