"""What the backend says about sampling in its hello: the checkpoint's own samples and iterations, and its rule
for when a frame's hypotheses differ. bpy-free.

The backend owns both (a request's samples and iterations left out mean the checkpoint's own); the add-on
only shows them and, for a re-sample that must have differing hypotheses, asks for at least the rule's minimums.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

KEYS = ("samples", "iterations")


@dataclass(frozen=True)
class BackendSampling:
    checkpoint: dict | None   # the checkpoint's own {"samples", "iterations", "temperature"}; None: unreadable
    minimums: dict | None     # {"samples", "iterations"} that make hypotheses differ; None: a backend that says not

    @classmethod
    def of_hello(cls, hello: dict) -> "BackendSampling":
        rule = hello.get("differing_hypotheses")
        return cls(hello.get("sampling"),
                   {key: rule[f"min_{key}"] for key in KEYS} if rule else None)

    @classmethod
    def from_json(cls, text: str) -> "BackendSampling":
        """What ``to_json`` wrote; for an empty string (no hello yet), nothing known."""
        return cls(**json.loads(text)) if text else cls(None, None)

    def to_json(self) -> str:
        return json.dumps({"checkpoint": self.checkpoint, "minimums": self.minimums})

    def effective(self, key: str, chosen: int | None) -> int | None:
        """The samples or iterations a job runs with: the chosen number, or for 0 / None the checkpoint's own."""
        return chosen or (self.checkpoint or {}).get(key)

    def label(self) -> str:
        """What 0 means in the panel's Samples and Iterations."""
        if not self.checkpoint:  # no hello yet, an unreadable checkpoint, or a backend that does not say
            return "0: the checkpoint's own samples and iterations"
        return f"0: the checkpoint's {self.checkpoint['samples']} samples, {self.checkpoint['iterations']} iterations"

    def below_rule(self, key: str, chosen: int | None) -> bool:
        """Whether the samples or iterations a job runs with are too few for differing hypotheses (False where
        the backend gave no rule, or the checkpoint's numbers are unknown)."""
        value = self.effective(key, chosen)
        return bool(self.minimums) and value is not None and value < self.minimums[key]

    def hypotheses_coincide(self, samples: int | None, iterations: int | None) -> bool:
        """Whether these samples and iterations make every hypothesis of a frame the same, by the backend's rule."""
        return self.below_rule("samples", samples) or self.below_rule("iterations", iterations)

    def raise_to_rule(self, request: dict) -> None:
        """Raise the request's samples and iterations to the rule's minimums, so its hypotheses differ."""
        for key in KEYS:
            if self.below_rule(key, request.get(key)):
                request[key] = self.minimums[key]
