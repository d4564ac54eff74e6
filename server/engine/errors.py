"""The one error the queue engine raises: a refusal with a stable code the wire contract knows."""

from __future__ import annotations


class QueueError(Exception):
    """A request the queue refuses. `code` is a key of `common.contract.REJECTIONS` (the engine does not
    import the contract: adapters turn the code into the Thai and English message); `detail` is an
    English sentence for logs and staff screens."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
