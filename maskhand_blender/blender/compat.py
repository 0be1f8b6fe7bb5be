"""What differs between the Blender versions the extension supports (4.5 LTS to 5.3), in one place."""
from __future__ import annotations

import bpy


def shader_nodes(block):
    """The shader node tree of a new material or world. Blender 4.5 makes it when asked (``use_nodes``);
    from 5.0 every material and world has one and the flag is deprecated (it warns on use)."""
    if bpy.app.version < (5, 0, 0):
        block.use_nodes = True
    return block.node_tree
