"""The Textual app behind `finops tui` (the only package that imports textual).

`app.FinopsApp` is the chat-first screen; `backend.CoreBackend` is its seam onto the core;
`screens` holds help, the registry tool views and the policy review queue.
"""
