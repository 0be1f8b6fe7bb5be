"""View3D > Sidebar > MaskHand: footage, rig, quality, Capture with progress, the last result and its further tracks."""
import bpy

from ..blender.backend_process import known_sampling
from ..core.result_file import track_label


class SidebarPanel:
    """Where every MaskHand panel lives: View3D > Sidebar > MaskHand."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "MaskHand"


class MASKHAND_PT_capture(SidebarPanel, bpy.types.Panel):
    bl_label = "Capture"

    def draw(self, context):
        settings = context.scene.maskhand
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(settings, "footage")
        row = layout.row(align=True)
        row.prop(settings, "frame_start")
        row.prop(settings, "frame_end")
        layout.prop(settings, "hands", expand=True)
        layout.prop(settings, "max_hands")
        layout.prop(settings, "mirrored")
        layout.prop(settings, "preset")
        layout.prop(settings, "target")
        column = layout.column(align=True)
        column.prop(settings, "samples")
        column.prop(settings, "iterations")
        sampling = known_sampling(context)
        column.label(text=sampling.label())
        if settings.samples == 1:
            column.label(text="One sample: fastest, no uncertainty for Cleanup", icon="INFO")
        elif sampling.hypotheses_coincide(settings.samples, settings.iterations):
            column.label(text=f"Hypotheses coincide below {sampling.minimums['samples']} samples and "
                              f"{sampling.minimums['iterations']} iterations: no temporal choice", icon="INFO")
        column.prop(settings, "temporal")
        layout.prop(settings, "add_camera")
        job = context.window_manager.maskhand_job
        if job.running:
            layout.progress(factor=job.progress / 100, type="BAR", text=f"{job.stage} {job.progress:.0f} %")
            layout.operator("maskhand.cancel_capture", icon="CANCEL")
        else:
            layout.operator("maskhand.capture", icon="REC")
        layout.operator("maskhand.add_hand", icon="VIEW_PAN")


class MASKHAND_PT_custom_map(SidebarPanel, bpy.types.Panel):
    bl_label = "Custom Bone Map"
    bl_parent_id = "MASKHAND_PT_capture"

    @classmethod
    def poll(cls, context):
        return context.scene.maskhand.preset == "CUSTOM"

    def draw(self, context):
        settings = context.scene.maskhand
        layout = self.layout
        row = layout.row(align=True)
        row.operator_menu_enum("maskhand.bone_map_from_preset", "preset")
        row.operator("maskhand.load_bone_map", text="", icon="FILEBROWSER")
        row.operator("maskhand.save_bone_map", text="", icon="FILE_TICK")
        row = layout.row(align=True)
        row.prop(settings, "custom_right")
        row.prop(settings, "custom_left")
        layout.prop(settings, "custom_key_wrist")
        bones = settings.target.data.bones if settings.target else None
        for entry in settings.custom_bones:
            row = layout.row(align=True)
            name = entry.bone.replace("{side}", settings.custom_right)
            found = bones is not None and name in bones
            row.prop(entry, "bone", text=entry.joint, icon="CHECKMARK" if found else "BONE_DATA")


class MASKHAND_UL_tracks(bpy.types.UIList):
    """The last capture's further tracks: which hand, on how many frames, how sure MediaPipe was of its side."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_property, index=0, flt_flag=0):
        row = layout.row(align=True)
        row.label(text=track_label(item.name), icon="VIEW_PAN")
        row.label(text=f"{item.frames_found} frames")
        row.label(text=f"score {item.mean_score:.2f}")


class MASKHAND_PT_last_result(SidebarPanel, bpy.types.Panel):
    bl_label = "Last Capture"
    bl_parent_id = "MASKHAND_PT_capture"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.maskhand
        layout = self.layout
        if not settings.last_result:
            layout.label(text="No capture yet")
        else:
            layout.label(text=settings.last_summary)
            layout.prop(settings, "last_result", text="Result")
        if settings.last_warnings:
            layout.label(text=settings.last_warnings, icon="ERROR")
        if settings.tracks:
            layout.label(text="Further tracks, not keyed by the capture:")
            layout.template_list("MASKHAND_UL_tracks", "", settings, "tracks", settings, "active_track", rows=2)
            layout.prop(settings, "track_target")
            layout.operator("maskhand.key_track", icon="KEYINGSET")
        if settings.log_path:
            layout.operator("wm.path_open", text="Open Backend Log", icon="TEXT").filepath = settings.log_path
        layout.operator("maskhand.import_result", icon="IMPORT")


classes = (MASKHAND_PT_capture, MASKHAND_PT_custom_map, MASKHAND_UL_tracks, MASKHAND_PT_last_result)
