"""The CJK font check: PDFs are refused at startup rather than printed as boxes of tofu.

The print CSS asks for Noto Serif CJK SC (宋体-style body text, as Chinese contracts are set) and Noto Sans
CJK SC (黑体-style headings), both from Debian's ``fonts-noto-cjk``. WeasyPrint finds fonts through
fontconfig, so the check asks fontconfig (``fc-list``) which Chinese-capable families exist.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from assistant.errors import ConfigurationError
from assistant.logs import get_logger

log = get_logger(__name__)

CJK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
              Path.home() / ".local/share/fonts")
_FILE_HINTS = {"NotoSerifCJK": "Noto Serif CJK SC", "NotoSansCJK": "Noto Sans CJK SC"}


def _families_from_fontconfig() -> set[str] | None:
    binary = shutil.which("fc-list")
    if binary is None:
        return None
    try:
        out = subprocess.run([binary, ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=20,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    families: set[str] = set()
    for line in out.splitlines():
        families.update(part.strip() for part in line.split(",") if part.strip())
    return families


def _families_from_files() -> set[str]:
    found: set[str] = set()
    for directory in _FONT_DIRS:
        if not directory.is_dir():
            continue
        for path in directory.rglob("*CJK*"):
            for hint, family in _FILE_HINTS.items():
                if path.name.startswith(hint):
                    found.add(family)
    return found


def available_cjk_families() -> list[str]:
    """The families of :data:`CJK_FAMILIES` installed on this machine, in CSS preference order."""
    families = _families_from_fontconfig()
    if families is None:
        families = _families_from_files()
    return [family for family in CJK_FAMILIES if family in families]


@lru_cache(maxsize=1)
def require_cjk_font() -> tuple[str, ...]:
    """The installed CJK families; a :class:`ConfigurationError` with the fix when there are none."""
    found = available_cjk_families()
    if not found:
        raise ConfigurationError(
            "未找到中文字体（Noto CJK），无法生成PDF文件。请安装：apt-get install fonts-noto-cjk",
            "no CJK font found (Noto Serif/Sans CJK SC), PDFs would print boxes instead of Chinese: "
            "install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk)",
        )
    return tuple(found)


# --------------------------------------------------------------------------------------------------
# A compact document font. Noto CJK faces hold ~65,000 glyphs in 20–27 MB collections; WeasyPrint copies
# and subsets the whole face for every PDF, which is most of the PDF step and makes 400 KB files. One
# HarfBuzz subset per machine — ASCII, Latin-1, punctuation, symbols and the 6,763 GB 2312 hanzi, about
# 8,000 glyphs — makes each PDF ~2× faster to write and ~2× smaller. Characters outside it (rare
# characters in names) fall back to the full Noto face named next in the CSS, so nothing turns to tofu.
# --------------------------------------------------------------------------------------------------

SUBSET_FAMILY = "Doc Serif SC"
_SUBSET_VERSION = "1"
_RANGES = ((0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2100, 0x218F), (0x2190, 0x21FF), (0x2460, 0x24FF),
           (0x2500, 0x257F), (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x3000, 0x303F), (0xFF00, 0xFFEF))
# Layout tables pull in thousands of alternates (vertical forms, variants) that horizontal documents
# never use; dropping them halves the font.
_DROP_TABLES = (b"GSUB", b"GPOS", b"GDEF", b"vhea", b"vmtx", b"VORG", b"BASE")
_HB_SUBSET_FLAGS = 0x1 | 0x4  # NO_HINTING | DESUBROUTINIZE
_HB_SETS_DROP_TABLE_TAG = 3
_CDEF = """
typedef struct hb_blob_t hb_blob_t; typedef struct hb_face_t hb_face_t; typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t; typedef uint32_t hb_codepoint_t;
hb_blob_t *hb_blob_create_from_file_or_fail(const char *file_name);
void hb_blob_destroy(hb_blob_t *blob);
hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
void hb_face_destroy(hb_face_t *face);
hb_blob_t *hb_face_reference_blob(hb_face_t *face);
const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
void hb_set_add_range(hb_set_t *set, hb_codepoint_t first, hb_codepoint_t last);
void hb_set_add(hb_set_t *set, hb_codepoint_t codepoint);
hb_subset_input_t *hb_subset_input_create_or_fail(void);
void hb_subset_input_destroy(hb_subset_input_t *input);
hb_set_t *hb_subset_input_unicode_set(hb_subset_input_t *input);
hb_set_t *hb_subset_input_set(hb_subset_input_t *input, int set_type);
void hb_subset_input_set_flags(hb_subset_input_t *input, unsigned value);
hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);
"""
_BUILT: dict[str, bytes] = {}  # source key -> subset bytes, so each process builds a face once


def _gb2312_codepoints() -> list[int]:
    """Every character GB 2312 encodes (6,763 hanzi plus its symbols), from Python's codec."""
    points: set[int] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return sorted(points)


def find_face(family: str, style: str) -> tuple[Path, int] | None:
    """The font file and face index fontconfig uses for ``family`` in ``style`` (None if it is missing)."""
    binary = shutil.which("fc-match")
    if binary is None:
        return None
    try:
        out = subprocess.run([binary, "-f", "%{file}|%{index}|%{family}", f"{family}:style={style}"],
                             capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.strip().split("|")
    if len(parts) != 3 or family not in parts[2].split(","):
        return None
    return Path(parts[0]), int(parts[1] or 0)


def _subset_bytes(source: Path, index: int) -> bytes:
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    hb = ffi.dlopen("libharfbuzz.so.0")
    hb_subset = ffi.dlopen("libharfbuzz-subset.so.0")
    blob = hb.hb_blob_create_from_file_or_fail(str(source).encode())
    if blob == ffi.NULL:
        raise OSError(f"cannot read {source}")
    face = hb.hb_face_create(blob, index)
    plan = hb_subset.hb_subset_input_create_or_fail()
    try:
        unicodes = hb_subset.hb_subset_input_unicode_set(plan)
        for first, last in _RANGES:
            hb.hb_set_add_range(unicodes, first, last)
        for point in _gb2312_codepoints():
            hb.hb_set_add(unicodes, point)
        drop = hb_subset.hb_subset_input_set(plan, _HB_SETS_DROP_TABLE_TAG)
        for tag in _DROP_TABLES:
            hb.hb_set_add(drop, int.from_bytes(tag, "big"))
        hb_subset.hb_subset_input_set_flags(plan, _HB_SUBSET_FLAGS)
        result = hb_subset.hb_subset_or_fail(face, plan)
        if result == ffi.NULL:
            raise OSError(f"HarfBuzz could not subset {source}")
        out_blob = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        data = ffi.unpack(hb.hb_blob_get_data(out_blob, length), length[0])
        hb.hb_blob_destroy(out_blob)
        hb.hb_face_destroy(result)
    finally:
        hb_subset.hb_subset_input_destroy(plan)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)
    if not data:
        raise OSError(f"empty subset of {source}")
    return data


def document_fonts(cache_dir: Path) -> list[tuple[Path, int]]:
    """The compact Noto Serif CJK SC faces (regular 400, bold 700) under ``cache_dir``, built if missing.

    Returns ``[(path, weight)]``, or ``[]`` when they cannot be built (no HarfBuzz-subset, no Noto Serif):
    documents then use the installed Noto faces directly, slower but identical in content.
    """
    faces: list[tuple[Path, int]] = []
    for style, weight in (("Regular", 400), ("Bold", 700)):
        source = find_face("Noto Serif CJK SC", style)
        if source is None:
            return []
        path, index = source
        stat = path.stat()
        key = f"{path}|{index}|{stat.st_size}|{int(stat.st_mtime)}|{_SUBSET_VERSION}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        target = cache_dir / f"doc-serif-sc-{weight}-{digest}.otf"
        if not target.is_file():
            try:
                data = _BUILT.get(key) or _subset_bytes(path, index)
            except (OSError, ImportError, AttributeError) as exc:
                log.warning("document_font_subset_failed", error=str(exc))
                return []
            _BUILT[key] = data
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".tmp-{target.name}-{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        faces.append((target, weight))
    return faces


def font_face_css(faces: list[tuple[Path, int]]) -> str:
    """``@font-face`` rules for the compact faces and a root font stack that falls back to full Noto."""
    if not faces:
        return ""
    rules = [f'@font-face {{ font-family: "{SUBSET_FAMILY}"; src: url("{path.resolve().as_uri()}"); '
             f"font-weight: {weight}; }}" for path, weight in faces]
    stack = f'"{SUBSET_FAMILY}", "Noto Serif CJK SC", "Noto Sans CJK SC", serif'
    rules.append(f"html, body, h1, h2, h3, .preview {{ font-family: {stack}; }}")
    return "\n".join(rules) + "\n"
