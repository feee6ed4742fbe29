"""Reading a YAML input strictly, and saying what is wrong with it in the user's terms.

- decimals are read from their text into Decimal, never via a float (R1);
- a key given twice in one mapping is an error naming both lines (YAML would let the last win);
- pydantic's first error becomes (key path, what is expected), with a "did you mean" for a
  misspelt key and values shown as the user wrote them (no `Decimal('…')`).
"""
from __future__ import annotations

import os
import re
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path

from typing import get_args

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import InputError

from .countries import suggest

# Spellings a reader of US documentation will type for this project's British keys.
US_SPELLINGS = {"licenses": "licences", "license": "licence"}


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with exact decimals and no duplicate keys."""

    def construct_mapping(self, node, deep=False):
        first: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                line = first.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:          # an unhashable key: SafeLoader reports it below
                continue
            if line != key_node.start_mark.line + 1:
                raise DuplicateKey(key, line, key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep)


class DuplicateKey(Exception):
    def __init__(self, key, first: int, again: int):
        super().__init__(key)
        self.key, self.first, self.again = key, first, again


def _decimal(loader, node):
    text = loader.construct_scalar(node)
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        return yaml.SafeLoader.construct_yaml_float(loader, node)    # .inf, .nan: left to the schema
    return value


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _int(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:             # past Python's 4,300-digit limit for int()
        raise yaml.constructor.ConstructorError(None, None, f"a whole number of {len(node.value):,} digits is "
                                                "too large", node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _int)


_OFFSET_MINUTES = re.compile(r"[+-]\d{1,2}:?(\d\d)$")


def _timestamp(loader, node):
    offset = _OFFSET_MINUTES.search(str(node.value).strip())
    if offset and int(offset.group(1)) > 59:    # +05:99 would be read as +06:39
        raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not a real date or time (its UTC "
                                                "offset's minutes are past 59)", node.start_mark)
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as e:   # 2027-02-29, T24:00, +25:00: shaped like a time, none is
        why = "its UTC offset is not within 24 hours" if "offset" in str(e) else e
        raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not a real date or time ({why})",
                                                node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


MAX_STREAM = 256 * 2**20      # bytes read from a pipe or a device at most (/dev/zero never ends)


def read_input(path: Path, what: str) -> bytes:
    """The bytes of an input file, or of a pipe or device (`<(...)`, /dev/stdin: `read_stream`);
    InputError naming it when it is missing, a folder, or a socket."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(str(path), f"cannot read the {what}: it is a folder; name a file")
        if stat.S_ISREG(mode):
            return path.read_bytes()
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            return read_stream(path, what)
        raise InputError(str(path), f"cannot read the {what}: not a file, pipe or device")
    except OSError as e:
        raise InputError(str(path), f"cannot read the {what} ({e.__class__.__name__}: "
                                    f"{e.strerror or e})") from None


def read_stream(path: Path, what: str) -> bytes:
    """A pipe or device read to its end. Opened without waiting for a writer, so that a FIFO nobody
    writes to reads as empty instead of blocking for ever; at most MAX_STREAM bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > MAX_STREAM:
                raise InputError(str(path), f"cannot read the {what}: more than {MAX_STREAM // 2**20} MB from a "
                                            "pipe or device; save it to a file and name that")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def decode_error(path: Path, data: bytes, e: UnicodeDecodeError) -> InputError:
    """Where a file stops being UTF-8: its line and column, not just the file."""
    line = data.count(b"\n", 0, e.start) + 1
    column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
    return InputError(f"{path}:{line}:{column}", f"byte 0x{data[e.start]:02x} is not UTF-8 text; save the file "
                                                 "as UTF-8")


def read_yaml(path: Path, what: str):
    """The YAML document of `path`; InputError naming the file and line on any fault."""
    data = read_input(path, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise decode_error(path, data, e) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except DuplicateKey as e:
        raise InputError(f"{path}:{e.again}", f"key `{e.key}` is given twice in one mapping (first on line "
                                              f"{e.first}); remove one") from None
    except yaml.reader.ReaderError as e:       # a character YAML refuses (NUL, other controls)
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        raise InputError(f"{path}:{line}:{column}", f"not valid YAML (character U+{e.character:04X} is not "
                                                    "allowed in a YAML file; remove it)") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = " ".join(str(getattr(e, "problem", None) or e).split())
        raise InputError(where, f"not valid YAML ({problem})") from None
    except RecursionError:
        raise InputError(str(path), "not valid YAML for this program: lists or mappings nested too deeply") from None


def clip(text, most: int = 40) -> str:
    """A value for a message: a 5,000-digit number or a 200 kB cell cut to its start."""
    text = str(text)
    return text if len(text) <= most else f"{text[:most]}... ({len(text):,} characters)"


def shown(value) -> str:
    """A value as the user wrote it: 0.5 not Decimal('0.5'), text quoted."""
    if isinstance(value, Decimal):
        return str(value)
    return repr(value)


def _loc(err, tags) -> list:
    # pydantic adds validator and union-branch names to the path; the user never wrote them.
    return [x for x in err["loc"]
            if not (isinstance(x, str) and ("[" in x or x.startswith("function") or x in tags))]


def model_keys(model) -> set[str]:
    """Every key a pydantic model and the models nested in it accept (for "did you mean")."""
    keys: set[str] = set()
    todo, seen = [model], set()
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        if isinstance(t, type) and issubclass(t, BaseModel):
            for name, f in t.model_fields.items():
                keys.add(name)
                todo.append(f.annotation)
        else:
            todo.extend(get_args(t))
    return keys


def describe_validation_error(e: ValidationError, tags=frozenset(), keys=frozenset()) -> tuple[str, str]:
    """The most telling error as (key path, what is expected), pydantic's jargon trimmed.

    An unknown key comes first: a misspelt key also makes its correct name "missing", and
    "unknown key `licenses`; did you mean `licences`?" says what to do.
    """
    errors = e.errors(include_url=False)
    err = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    loc = _loc(err, tags)
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err["type"] == "extra_forbidden":
        word = str(loc[-1]) if loc else ""
        missing = [str(_loc(x, tags)[-1]) for x in errors
                   if x["type"] == "missing" and _loc(x, tags)[:-1] == loc[:-1]]
        hint = f"; did you mean `{US_SPELLINGS[word.lower()]}`?" if word.lower() in US_SPELLINGS else \
            suggest(word, missing) or suggest(word, keys)
        seen = word if word.isprintable() else word.encode("unicode_escape").decode("ascii")   # da\u200bys
        invisible = "" if seen == word else " (it holds an invisible character)"
        msg = f"unknown key `{seen}`{invisible}{hint}"
        loc = loc[:-1] + [seen]
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif "input" in err and err["type"] not in ("value_error",) and not isinstance(err["input"], (dict, list)):
        msg = f"{msg}, got {shown(err['input'])}"
    if not loc and (m := re.match(r"^([\w.]+): (.*)$", msg, re.S)):
        loc, msg = m.group(1).split("."), m.group(2)      # a model-level check naming its key
    msg = re.sub(r"Decimal\('([^']*)'\)", r"\1", msg)
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ".".join(str(x) for x in loc) or "(top level)", msg
