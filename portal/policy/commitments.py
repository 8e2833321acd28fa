"""The commitment catalogue (告知承诺事项目录): which items accept a commitment instead of a proof, and the
notice an applicant confirms for each, versioned (portal/policy/data/commitments.yaml).

A notice version's text never changes once in use; its hash is taken over the text of both languages, so the
evidence kept with a commitment (version + hash) names exactly what was shown, whichever language was read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from portal.policy.errors import ParameterNotDefined

DATA_FILE = Path(__file__).parent / "data" / "commitments.yaml"
NOTICE_FIELDS = ("item", "basis", "replaces", "conditions", "verification", "liability")
LANGUAGES = ("zh_CN", "en")


class CatalogueError(ValueError):
    """The catalogue file is malformed."""


@dataclass(frozen=True)
class NoticeVersion:
    item: str
    version: str
    effective: date
    source: str
    confidence: str
    kinds: tuple[str, ...]
    texts: dict[str, dict[str, str]]  # language → field → text

    @property
    def sha256(self) -> str:
        canonical = json.dumps({"item": self.item, "version": self.version, "notice": self.texts},
                               ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def text(self, locale: str) -> dict[str, str]:
        return self.texts["en" if locale.lower().startswith("en") else "zh_CN"]


def parse(data: object) -> dict[str, tuple[NoticeVersion, ...]]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), dict):
        raise CatalogueError("the catalogue needs an `items` mapping")
    catalogue = {}
    for code, entry in data["items"].items():
        kinds = tuple(entry.get("kinds") or ())
        if not kinds:
            raise CatalogueError(f"{code}: `kinds` is required")
        versions = []
        for raw in entry.get("versions") or ():
            texts = raw.get("notice") or {}
            if set(texts) != set(LANGUAGES):
                raise CatalogueError(f"{code} {raw.get('version')}: the notice needs {LANGUAGES}")
            for language in LANGUAGES:
                missing = [f for f in NOTICE_FIELDS if not str(texts[language].get(f) or "").strip()]
                if missing:
                    raise CatalogueError(f"{code} {raw.get('version')} {language}: missing {missing}")
            if not isinstance(raw.get("effective"), date) or not str(raw.get("source") or "").strip():
                raise CatalogueError(f"{code}: each version needs an `effective` date and a `source`")
            versions.append(NoticeVersion(
                item=str(code), version=str(raw["version"]), effective=raw["effective"], source=str(raw["source"]),
                confidence=str(entry.get("confidence") or "unsourced"), kinds=kinds,
                texts={lang: {f: str(texts[lang][f]).strip() for f in NOTICE_FIELDS} for lang in LANGUAGES}))
        if not versions:
            raise CatalogueError(f"{code}: no versions")
        catalogue[str(code)] = tuple(sorted(versions, key=lambda v: v.effective))
    return catalogue


@cache
def catalogue() -> dict[str, tuple[NoticeVersion, ...]]:
    with open(DATA_FILE, encoding="utf-8") as f:
        return parse(yaml.safe_load(f))


def notice(item: str, on: date) -> NoticeVersion:
    """The notice of ``item`` in force on ``on``."""
    versions = [v for v in catalogue().get(item, ()) if v.effective <= on]
    if not versions:
        raise ParameterNotDefined(f"commitment item {item!r} has no notice in force on {on}")
    return versions[-1]


def version(item: str, version_code: str) -> NoticeVersion | None:
    return next((v for v in catalogue().get(item, ()) if v.version == version_code), None)


def items_for(kind: str) -> tuple[str, ...]:
    return tuple(code for code, versions in catalogue().items() if kind in versions[-1].kinds)
