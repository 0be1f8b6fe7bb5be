"""The capture service the add-on runs: the protocol and its server, and a capture job's stages
(footage, tracking, estimation, choice, outputs) with the method steps they call (temporal choice,
refinement, evidence) and the result and preview files they write."""
