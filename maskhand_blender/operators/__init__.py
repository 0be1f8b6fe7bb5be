"""The add-on's operators: capture (modal), rig, backend set-up."""
