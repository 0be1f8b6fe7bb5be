"""Add-on preferences: where the backend is and how it runs."""

import bpy

from ..blender.backend_environment import ADDON, backend_paths


class MaskHandPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON

    backend_folder: bpy.props.StringProperty(
        name="Backend Folder", subtype="DIR_PATH",
        description="A MaskHand checkout (it holds backend/ and tools/bootstrap.py); empty uses the backend the "
                    "extension carries")
    backend_python: bpy.props.StringProperty(
        name="Backend Python", subtype="FILE_PATH",
        description="Python of the backend environment; empty uses the one Create Backend Environment makes "
                    "(in the extension's user folder, or a checkout's .venv). Never Blender's own")
    environment_python: bpy.props.StringProperty(
        name="Environment Python", subtype="FILE_PATH",
        description="The Python 3.11 or 3.13 that Create Backend Environment makes the environment with; empty "
                    "uses Blender's own (only its interpreter: nothing is installed into Blender)")
    checkpoint: bpy.props.StringProperty(
        name="Checkpoint", subtype="DIR_PATH",
        description="A MaskHand checkpoint folder (config.json + model.safetensors); empty uses the bundled default")
    mano_folder: bpy.props.StringProperty(
        name="MANO Folder", subtype="DIR_PATH",
        description="Folder holding MANO_RIGHT.pkl and MANO_LEFT.pkl, downloaded by you from "
                    "mano.is.tue.mpg.de. Leave empty to use the built-in hand")
    device: bpy.props.EnumProperty(
        name="Device", description="Where the backend runs the network", default="AUTO",
        items=(("AUTO", "Automatic", "CUDA when the backend finds a GPU, else the CPU"),
               ("CUDA", "CUDA", "An NVIDIA GPU; falls back to the CPU with a warning when none is found"),
               ("CPU", "CPU", "The processor")))
    last_hello: bpy.props.StringProperty(name="Backend", options={"SKIP_SAVE"})
    # What the last hello said about sampling (core.sampling.BackendSampling as JSON), for the panel.
    last_sampling: bpy.props.StringProperty(name="Sampling", options={"SKIP_SAVE", "HIDDEN"})
    environment_status: bpy.props.StringProperty(name="Environment", options={"SKIP_SAVE"})

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "backend_folder")
        folder, python = backend_paths(self)
        if not self.backend_folder:
            layout.label(text=f"Using {folder or 'no backend: the extension carries none; set Backend Folder'}")
        layout.prop(self, "backend_python")
        if not self.backend_python and folder:
            layout.label(text=f"Using {python}")
        layout.prop(self, "environment_python")
        layout.prop(self, "checkpoint")
        layout.prop(self, "mano_folder")
        layout.prop(self, "device")
        row = layout.row()
        row.operator("maskhand.create_environment", icon="CONSOLE")
        row.operator("maskhand.test_backend", icon="PLAY")
        for text in (self.environment_status, self.last_hello):
            if text:
                layout.label(text=text)
