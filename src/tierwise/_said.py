"""Messages the core builds in English that the web app and the CLI say in zh or en.

The scheme checks and the import notes are made far from any page, so they cannot pick a
language; they do not read the web catalogue either (`tierwise.web._i18n` sits above the core).
A `Said` is the English text as before — it compares, prints and serialises as that text, so
callers and tests that read strings still work — plus the catalogue ``key`` and ``params`` that
the edges hand to `say` in the user's language. A parameter may itself be a `Said` (a rule's
reason inside "rule error at column 5"); it is said in the same language.

Example::

    >>> note = Said('file is empty', key="import.note.file_empty")
    >>> note == "file is empty", note.key
    (True, 'import.note.file_empty')
    >>> say(note, "zh", {"import.note.file_empty": {"zh": "文件为空", "en": "file is empty"}})
    '文件为空'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Said(str):
    """English text that names its catalogue entry: ``key`` and the ``params`` it formats with.

    Keyword-only ``key``, so that ``tests/test_error_catalogue.py`` finds every literal key.
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, text: str, *, key: str, **params: Any) -> Said:
        self = super().__new__(cls, text)
        self.key = key
        self.params = params
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # copy, deepcopy and pickle keep key and params
        return (_rebuild, (type(self), str(self), self.key, self.params, self.__dict__))

    def to_dict(self) -> dict[str, Any]:
        """``{"key", "params", "text"}`` as JSON data; a parameter that is a `Said` nests as one."""
        params = {k: _data(v) for k, v in self.params.items()}
        return {"key": self.key, "params": params, "text": str(self)}


def _rebuild(cls: type[Said], text: str, key: str, params: dict[str, Any],
             state: dict[str, Any]) -> Said:  # fmt: skip
    said = cls.__new__(cls, text, key=key, **params)
    said.__dict__.update(state)
    return said


def _data(value: Any) -> Any:
    if isinstance(value, Said):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_data(v) for v in value]
    return value


def said_of(data: Any) -> Said | None:
    """The `Said` of `Said.to_dict` data (as stored in a JSON report); None if it is not one."""
    if not isinstance(data, Mapping) or not isinstance(data.get("key"), str):
        return None
    raw = data.get("params")
    params = {str(k): said_of(v) or v for k, v in (raw if isinstance(raw, Mapping) else {}).items()}
    return Said(str(data.get("text") or data["key"]), key=data["key"], **params)


def say(value: Any, lang: str, texts: Mapping[str, Mapping[str, str]]) -> str:
    """``value`` in ``lang``: in English its own text (the catalogue's ``en`` repeats it), else
    the catalogue ``texts`` (key → {zh, en}) filled with its parameters, said in ``lang`` too.
    A `Said` whose key is not there, or whose text needs a parameter it lacks, stays English;
    plain text stays as it is."""
    if not isinstance(value, Said) or lang == "en":
        return str(value)
    text = texts.get(value.key, {}).get(lang)
    if not text:
        return str(value)
    params = {k: say(v, lang, texts) if isinstance(v, Said) else v for k, v in value.params.items()}
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return str(value)


__all__ = ["Said", "said_of", "say"]
