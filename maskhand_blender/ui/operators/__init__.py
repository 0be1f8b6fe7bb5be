"""The add-on's operators: capture and re-sample (modal), cleanup, bone maps, rig, backend set-up."""
