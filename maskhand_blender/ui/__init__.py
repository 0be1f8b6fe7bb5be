"""The add-on's interface: properties, preferences, panels, the operators and the modal job that runs the backend."""
