"""Add-on preferences: where the backend is and how it runs."""
from pathlib import Path

import bpy

from .backend_client import default_python


def _checkout_folder() -> str:
    """The MaskHand folder when the add-on runs from a checkout (the headless job, development)."""
    parent = Path(__file__).resolve().parent.parent
    return str(parent) if (parent / "backend" / "__main__.py").is_file() else ""


class MaskHandPreferences(bpy.types.AddonPreferences):
    # An extension's package name is "bl_ext.<repository>.maskhand": take it from the package itself.
    bl_idname = __package__

    backend_folder: bpy.props.StringProperty(
        name="Backend Folder", subtype="DIR_PATH", default=_checkout_folder(),
        description="The MaskHand folder: it holds backend/ and tools/bootstrap.py")
    backend_python: bpy.props.StringProperty(
        name="Backend Python", subtype="FILE_PATH",
        description="Python of the backend environment; empty uses the Backend Folder's .venv. Never Blender's own")
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
    environment_status: bpy.props.StringProperty(name="Environment", options={"SKIP_SAVE"})

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "backend_folder")
        row = layout.row()
        row.prop(self, "backend_python")
        if not self.backend_python and self.backend_folder:
            layout.label(text=f"Using {default_python(bpy.path.abspath(self.backend_folder))}")
        layout.prop(self, "checkpoint")
        layout.prop(self, "mano_folder")
        layout.prop(self, "device")
        row = layout.row()
        row.operator("maskhand.create_environment", icon="CONSOLE")
        row.operator("maskhand.test_backend", icon="PLAY")
        for text in (self.environment_status, self.last_hello):
            if text:
                layout.label(text=text)
