"""How an operator ends: one report, of what it did or of the error that stopped it."""
from __future__ import annotations

from ..blender.curves import NoCaptureError
from ..blender.settings import CaptureSetupError
from ..core.backend_client import BackendError
from ..core.bone_maps import BoneMapError
from ..core.result_file import ResultFileError
from ..core.retarget import RetargetError

# What stops an operator with a message that names the setting or file and what to do; anything else is a bug.
USER_ERRORS = (BackendError, BoneMapError, CaptureSetupError, NoCaptureError, ResultFileError, RetargetError)


def report_outcome(operator, work, failure: str = "", errors: tuple = USER_ERRORS, success=frozenset({"FINISHED"})) -> set:
    """Run ``work()``; report the message it returns (none for None) and return ``success``, or report the error
    it raised (one of ``errors``, after ``failure``) and return CANCELLED."""
    try:
        message = work()
    except errors as error:
        operator.report({"ERROR"}, f"{failure}{error}")
        return {"CANCELLED"}
    if message:
        operator.report({"INFO"}, message)
    return set(success)
