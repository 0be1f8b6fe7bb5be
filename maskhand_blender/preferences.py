"""Add-on preferences: where the backend's Python is, which hand model and device it uses."""
import bpy


class MaskHandPreferences(bpy.types.AddonPreferences):
    # An extension's package name is "bl_ext.<repository>.maskhand": take it from the package itself.
    bl_idname = __package__

    backend_python: bpy.props.StringProperty(
        name="Backend Python",
        description="Python interpreter of the MaskHand backend environment (a venv with torch, "
                    "MediaPipe and ONNX Runtime). Never Blender's own Python",
        subtype="FILE_PATH",
    )
    mano_folder: bpy.props.StringProperty(
        name="MANO Folder",
        description="Folder holding MANO_RIGHT.pkl and MANO_LEFT.pkl, downloaded by you from "
                    "mano.is.tue.mpg.de. Leave empty to use the built-in hand",
        subtype="DIR_PATH",
    )
    device: bpy.props.EnumProperty(
        name="Device",
        description="Where the backend runs the network",
        items=(
            ("AUTO", "Automatic", "CUDA when the backend finds a GPU, else the CPU"),
            ("CUDA", "CUDA", "An NVIDIA GPU; falls back to the CPU with a warning when none is found"),
            ("CPU", "CPU", "The processor"),
        ),
        default="AUTO",
    )

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "backend_python")
        layout.prop(self, "mano_folder")
        layout.prop(self, "device")
