"""Synthetic identity documents for tests and the OCR figure: ID card front and back, driving licence.

Every card is a made-up person (random name, address, a real-shaped ID number with a valid check
character) drawn with Pillow in the product's CJK font, laid out like the real card, and marked
样本 / SPECIMEN. ``noise`` 0–3 adds what a phone photo adds: a few degrees of rotation, blur, JPEG
compression and a brightness change. Everything is deterministic by seed.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from assistant.documents.application import id_number_valid
from assistant.documents.fonts import find_face
from assistant.errors import ConfigurationError
from assistant.intake.kinds import DocumentKind

CARD_SIZE = (856, 540)  # 85.6 × 54 mm at 10 px/mm (ISO/IEC 7810 ID-1)
WATERMARK = "样本 SPECIMEN"

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰海燕子豪梓涵浩宇欣怡俊杰雨萱思远佳"
    "琪文博晓东春梅德胜振华立新永强建平丹凤海波宏伟淑珍"
)
_ETHNICITIES = ("汉",) * 12 + ("回", "满", "壮", "蒙古", "苗", "土家", "维吾尔", "藏", "彝", "朝鲜")
# (region code, province, city, district, issuing police office)
_REGIONS = (
    ("110105", "北京市", "", "朝阳区", "北京市公安局朝阳分局"),
    ("110108", "北京市", "", "海淀区", "北京市公安局海淀分局"),
    ("310115", "上海市", "", "浦东新区", "上海市公安局浦东分局"),
    ("310104", "上海市", "", "徐汇区", "上海市公安局徐汇分局"),
    ("440106", "广东省", "广州市", "天河区", "广州市公安局天河区分局"),
    ("440305", "广东省", "深圳市", "南山区", "深圳市公安局南山分局"),
    ("330106", "浙江省", "杭州市", "西湖区", "杭州市公安局西湖区分局"),
    ("320102", "江苏省", "南京市", "玄武区", "南京市公安局玄武分局"),
    ("510107", "四川省", "成都市", "武侯区", "成都市公安局武侯区分局"),
    ("420106", "湖北省", "武汉市", "武昌区", "武汉市公安局武昌分局"),
    ("370202", "山东省", "青岛市", "市南区", "青岛市公安局市南分局"),
    ("610113", "陕西省", "西安市", "雁塔区", "西安市公安局雁塔分局"),
)
_ROADS = ("建国路", "中山路", "人民路", "解放路", "长江路", "和平街", "文化路", "新华路", "朝阳路", "胜利街", "学府路",
          "光明路", "滨江大道", "东风路")
_ESTATES = ("幸福小区", "阳光花园", "锦绣家园", "翠湖苑", "金色家园", "绿洲花园", "东方明珠苑", "百合新村")
LICENCE_CLASSES = ("C1", "C1", "C1", "C2", "B1", "B2", "A1", "A2", "C1D", "C1E")


@dataclass(frozen=True)
class Person:
    """Everything the three cards print about one made-up person."""

    name: str
    sex: str
    ethnicity: str
    birth: dt.date
    address: str
    id_number: str
    issuer: str
    id_valid_from: dt.date
    id_valid_to: dt.date | None  # None: 长期 (no end)
    licence_class: str
    licence_valid_from: dt.date
    licence_valid_to: dt.date | None


def check_character(first17: str) -> str:
    """The GB 11643 check character for 17 digits (found with the one validator the product has)."""
    for candidate in "0123456789X":
        if id_number_valid(first17 + candidate):
            return candidate
    raise ValueError(f"not a valid ID number stem: {first17}")


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def random_person(rng: random.Random, *, today: dt.date = dt.date(2026, 1, 1)) -> Person:
    """A consistent made-up person: the ID number encodes the region, birth date and sex."""
    code, province, city, district, issuer = rng.choice(_REGIONS)
    sex = rng.choice("男女")
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 44))
    sequence = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if sex == "男" else (0, 2, 4, 6, 8))
    stem = f"{code}{birth:%Y%m%d}{sequence:03d}"
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    road = rng.choice(_ROADS)
    address = f"{province}{city}{district}{road}{rng.randrange(1, 300)}号"
    if rng.random() < 0.6:
        address += f"{rng.choice(_ESTATES)}{rng.randrange(1, 30)}栋{rng.randrange(1, 30)}0{rng.randrange(1, 5)}室"
    age = (today - birth).days // 365
    issued = today - dt.timedelta(days=rng.randrange(30, 365 * 12))
    # GB/T: under 26 → 10 years, 26–45 → 20 years, over 46 → long-term.
    id_to = None if age >= 46 else _years_later(issued, 20 if age >= 26 else 10)
    licensed = today - dt.timedelta(days=rng.randrange(30, 365 * 9))
    licence_to = rng.choice((_years_later(licensed, 6), _years_later(licensed, 10), None))
    return Person(name=rng.choice(_SURNAMES) + given, sex=sex, ethnicity=rng.choice(_ETHNICITIES), birth=birth,
                  address=address, id_number=stem + check_character(stem), issuer=issuer, id_valid_from=issued,
                  id_valid_to=id_to, licence_class=rng.choice(LICENCE_CLASSES), licence_valid_from=licensed,
                  licence_valid_to=licence_to)


def person_for_seed(seed: int) -> Person:
    """The person of ``seed`` (the same seed, the same person)."""
    return random_person(random.Random(seed))


def expected_fields(kind: DocumentKind, person: Person) -> dict[str, str]:
    """What a perfect read of ``kind`` gives, in the parser's normal form (dates ISO, 长期 for no end)."""
    if kind is DocumentKind.ID_CARD_FRONT:
        return {"name": person.name, "sex": person.sex, "ethnicity": person.ethnicity,
                "birth_date": person.birth.isoformat(), "address": person.address, "id_number": person.id_number}
    if kind is DocumentKind.ID_CARD_BACK:
        return {"issuer": person.issuer, "valid_from": person.id_valid_from.isoformat(),
                "valid_to": person.id_valid_to.isoformat() if person.id_valid_to else "长期"}
    if kind is DocumentKind.DRIVING_LICENCE:
        return {"name": person.name, "licence_number": person.id_number, "vehicle_class": person.licence_class,
                "valid_from": person.licence_valid_from.isoformat(),
                "valid_to": person.licence_valid_to.isoformat() if person.licence_valid_to else "长期"}
    raise ValueError(f"no synthetic card for {kind.value}")


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    for family in ("Noto Sans CJK SC", "Noto Serif CJK SC"):
        face = find_face(family, "Bold" if bold else "Regular")
        if face is not None:
            return ImageFont.truetype(str(face[0]), size, index=face[1])
    raise ConfigurationError("未找到中文字体（Noto CJK），无法生成样本证件：apt-get install fonts-noto-cjk",
                             "no CJK font (Noto Sans/Serif CJK SC) to draw specimen cards: install fonts-noto-cjk")


_LABEL = (40, 90, 150)
_INK = (20, 20, 20)
_RED = (200, 30, 30)


def _background(rng: random.Random, tint: tuple[int, int, int]) -> Image.Image:
    img = Image.new("RGB", CARD_SIZE, tint)
    draw = ImageDraw.Draw(img)
    # The guilloche-like wave lines of the real card, faint enough not to read as text.
    for i in range(14):
        y0 = 30 + i * 38 + rng.randrange(-6, 6)
        shade = tuple(max(0, c - 18) for c in tint)
        points = [(x, y0 + 10 * ((x // 40) % 2)) for x in range(0, CARD_SIZE[0] + 40, 40)]
        draw.line(points, fill=shade, width=1)
    draw.rounded_rectangle((2, 2, CARD_SIZE[0] - 3, CARD_SIZE[1] - 3), radius=28, outline=(150, 150, 150), width=2)
    return img


def _watermark(draw: ImageDraw.ImageDraw, xy: tuple[int, int]) -> None:
    draw.text(xy, WATERMARK, font=_font(22, bold=True), fill=_RED)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)] or [""]


def _photo(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    """A grey silhouette where the portrait goes (no face: a specimen)."""
    x0, y0, x1, y1 = box
    draw.rectangle(box, fill=(215, 220, 225))
    cx = (x0 + x1) // 2
    draw.ellipse((cx - 45, y0 + 40, cx + 45, y0 + 150), fill=(170, 175, 185))
    draw.pieslice((x0 + 20, y0 + 160, x1 - 20, y1 + 120), 180, 360, fill=(170, 175, 185))


def _date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def draw_id_front(person: Person, rng: random.Random) -> Image.Image:
    """The portrait side: 姓名, 性别/民族, 出生, 住址 (wrapped at 11 characters), 公民身份号码."""
    img = _background(rng, (238, 240, 236))
    draw = ImageDraw.Draw(img)
    label, value, number = _font(24), _font(28), _font(32, bold=True)
    x_label, x_value = 60, 150
    draw.text((x_label, 60), "姓名", font=label, fill=_LABEL)
    draw.text((x_value, 56), person.name, font=value, fill=_INK)
    draw.text((x_label, 125), "性别", font=label, fill=_LABEL)
    draw.text((x_value, 121), person.sex, font=value, fill=_INK)
    draw.text((250, 125), "民族", font=label, fill=_LABEL)
    draw.text((330, 121), person.ethnicity, font=value, fill=_INK)
    draw.text((x_label, 190), "出生", font=label, fill=_LABEL)
    draw.text((x_value, 186), _date_zh(person.birth), font=value, fill=_INK)
    draw.text((x_label, 255), "住址", font=label, fill=_LABEL)
    for i, line in enumerate(_wrap(person.address, 11)[:3]):
        draw.text((x_value, 251 + i * 40), line, font=value, fill=_INK)
    draw.text((x_label, 440), "公民身份号码", font=label, fill=_LABEL)
    draw.text((245, 434), person.id_number, font=number, fill=_INK)
    _photo(draw, (600, 70, 800, 330))
    _watermark(draw, (610, 350))
    return img


def draw_id_back(person: Person, rng: random.Random) -> Image.Image:
    """The emblem side: 中华人民共和国 居民身份证, 签发机关, 有效期限."""
    img = _background(rng, (236, 238, 242))
    draw = ImageDraw.Draw(img)
    draw.ellipse((60, 50, 180, 170), outline=_RED, width=6)  # where the national emblem is printed
    draw.text((260, 70), "中华人民共和国", font=_font(44, bold=True), fill=_INK)
    draw.text((300, 140), "居民身份证", font=_font(52, bold=True), fill=_INK)
    label, value = _font(24), _font(28)
    draw.text((150, 340), "签发机关", font=label, fill=_LABEL)
    draw.text((280, 336), person.issuer, font=value, fill=_INK)
    end = f"{person.id_valid_to:%Y.%m.%d}" if person.id_valid_to else "长期"
    draw.text((150, 410), "有效期限", font=label, fill=_LABEL)
    draw.text((280, 406), f"{person.id_valid_from:%Y.%m.%d}-{end}", font=value, fill=_INK)
    _watermark(draw, (620, 470))
    return img


def draw_driving_licence(person: Person, rng: random.Random) -> Image.Image:
    """The main page of the licence: 证号, 姓名/性别/国籍, 住址, 出生日期, 初次领证日期, 准驾车型, 有效期限."""
    img = _background(rng, (232, 238, 246))
    draw = ImageDraw.Draw(img)
    draw.text((170, 24), "中华人民共和国机动车驾驶证", font=_font(34, bold=True), fill=_INK)
    label, value = _font(22), _font(26)
    rows = [
        (90, "证号", person.id_number),
        (140, "姓名", person.name),
        (240, "出生日期", f"{person.birth:%Y-%m-%d}"),
        (290, "初次领证日期", f"{person.licence_valid_from:%Y-%m-%d}"),
        (340, "准驾车型", person.licence_class),
    ]
    for y, text, val in rows:
        draw.text((40, y + 3), text, font=label, fill=_LABEL)
        draw.text((190, y), val, font=value, fill=_INK)
    draw.text((360, 143), "性别", font=label, fill=_LABEL)
    draw.text((420, 140), person.sex, font=value, fill=_INK)
    draw.text((40, 193), "住址", font=label, fill=_LABEL)
    draw.text((190, 190), person.address[:18], font=value, fill=_INK)
    end = f"{person.licence_valid_to:%Y-%m-%d}" if person.licence_valid_to else "长期"
    draw.text((40, 393), "有效期限", font=label, fill=_LABEL)
    draw.text((190, 390), f"{person.licence_valid_from:%Y-%m-%d}至{end}", font=value, fill=_INK)
    _photo(draw, (640, 240, 800, 440))
    _watermark(draw, (640, 470))
    return img


_DRAW = {DocumentKind.ID_CARD_FRONT: draw_id_front, DocumentKind.ID_CARD_BACK: draw_id_back,
         DocumentKind.DRIVING_LICENCE: draw_driving_licence}
CARD_KINDS = tuple(_DRAW)


def apply_noise(img: Image.Image, level: int, rng: random.Random) -> Image.Image:
    """A phone photo of the card: level 0 clean, 1–3 more rotation, blur, brightness change, JPEG loss."""
    if level <= 0:
        return img
    angle = rng.uniform(-1.5, 1.5) * level
    canvas = Image.new("RGB", (img.width + 80, img.height + 80), (90, 90, 95))  # the table under the card
    canvas.paste(img, (40, 40))
    out = canvas.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(90, 90, 95))
    out = out.filter(ImageFilter.GaussianBlur(radius=0.5 * level))
    out = ImageEnhance.Brightness(out).enhance(1 + rng.uniform(-0.12, 0.12) * level)
    buffer = io.BytesIO()
    out.save(buffer, format="JPEG", quality=max(30, 85 - 18 * level))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def render_card(kind: DocumentKind, person: Person, *, noise: int = 0, seed: int = 0) -> Image.Image:
    """The card image of ``kind`` for ``person`` with noise ``level`` (deterministic by ``seed``)."""
    rng = random.Random(f"{kind.value}:{seed}")
    return apply_noise(_DRAW[kind](person, rng), noise, rng)


def card_bytes(img: Image.Image, fmt: str = "JPEG", quality: int = 92) -> bytes:
    """The image as an upload would carry it (JPEG by default, PNG or WebP on request)."""
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **({"quality": quality} if fmt in {"JPEG", "WEBP"} else {}))
    return buffer.getvalue()
