"""One Georgian term per concept, across every Georgian text a user sees.

The concepts are curated by hand from shared/GLOSSARY.md (the fund's own words)
and the Georgian language review (shared/reviews/georgian-language-review.md):
where a text's English twin names a concept, its Georgian must use that
concept's one Georgian term, and never one of the other names the review found
for it (e.g. „სანდოობა“ for validity, „პროცენტული რანგი“ for percentile rank).
Some names are never right anywhere. The texts: reports/strings, the web UI's
strings, the templates' literal text, the newest instrument definitions and
the catalogues in data/.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import instruments
import reports
from api.web import core

ROOT = Path(__file__).resolve().parents[1]
REPORT_STRINGS = Path(reports.__file__).parent / "strings"
WEB = Path(core.__file__).parent
TEMPLATES = [*(WEB / "templates").rglob("*.html"), *(Path(reports.__file__).parent / "templates").glob("*.j2")]
GEORGIAN = re.compile("[\u10d0-\u10ff]")


@dataclass(frozen=True)
class Concept:
    name: str
    en: str
    """Regex on the English twin (case-insensitive)."""
    ka: str
    """Regex the Georgian must match when the English names the concept."""
    wrong: tuple[str, ...] = ()
    """Other Georgian names found for this concept: wrong where the English names it."""


CONCEPTS = (
    # the users' own terms (GLOSSARY.md)
    Concept("beneficiary", r"\bbeneficiar(y|ies)\b", "ბენეფიციარ"),
    Concept("social worker", r"\bsocial workers?\b", r"სოციალურ\w* მუშაკ"),
    Concept("psychologist", r"\bpsychologists?\b", "ფსიქოლოგ"),
    Concept("victim", r"\bvictims?\b", "მსხვერპლ"),
    Concept("the fund", r"\bthe fund\b", "ფონდ"),
    Concept(
        "employment programmes department", r"employment programmes department", "დასაქმების პროგრამების დეპარტამენტ"
    ),
    Concept("case-management plan", r"case-management plan", "შემთხვევის მართვის გეგმ"),
    Concept("career-development plan", r"career-development plan\b", "კარიერის განვითარების გეგმ"),
    Concept("individual action plan", r"individual action plan", "ინდივიდუალური სამოქმედო გეგმ"),
    Concept("packet information", r"packet information", "პაკეტური ინფორმაცი"),
    Concept(
        "primary career-orientation profile",
        r"primary career-orientation profile",
        "პროფესიული ორიენტაციის პირველადი პროფილ",
    ),
    Concept("consent", r"\bconsents?\b", "თანხმობ"),
    Concept("registry", r"\bregistry\b", "რეესტრ"),
    Concept("addressee", r"\baddressee", "ადრესატ"),
    Concept("sender", r"\bsender\b", "გამგზავნ"),
    Concept("assessment questionnaire", r"assessment questionnaire", "შეფასების კითხვარ"),
    Concept(
        "vocational decision questionnaire",
        r"vocational decision questionnaire",
        "პროფესიული გადაწყვეტილების მიღების კითხვარ",
    ),
    Concept("Holland self-directed search", r"holland self-directed search", "ჰოლანდის თვითსაკვლევი კითხვარ"),
    Concept(
        "personality inventory for career counselling",
        r"personality inventory for career counselling",
        "პიროვნების საკვლევი კითხვარი კარიერული კონსულტაციისათვის",
    ),
    Concept("statement", r"\bstatements?\b", "დებულებ"),
    Concept("retraining", r"\bretraining\b", "გადამზადებ"),
    Concept("self-employment", r"\bself-employment\b", "თვითდასაქმებ"),
    Concept("micro-business", r"\bmicro-business", "მიკრო ბიზნეს", ("მიკრობიზნეს",)),
    Concept("soft skills", r"\bsoft skills\b", "რბილი უნარ"),
    Concept("hard skills", r"\bhard skills\b", r"ტექნიკური \(პროფესიული\) უნარ"),
    Concept("job seeker", r"\bjob[- ]seeker", "სამუშაოს მაძიებ"),
    Concept("supported employment", r"\bsupported employment\b", "მხარდაჭერითი დასაქმებ", ("მხარდაჭერილი დასაქმებ",)),
    Concept("economic rehabilitation", r"economic rehabilitation|economic-rehabilitation", "ეკონომიკური რეაბილიტაცი"),
    Concept("crisis intervention", r"crisis intervention", "კრიზისის ინტერვენცი"),
    Concept("social inclusion", r"social inclusion", "სოციალური ჩართულობ"),
    # psychometric terms: one name in the reports and in the web UI (review #87-#89)
    Concept("validity", r"\bvalidity\b", "ვალიდობ", ("სანდოობ",)),
    Concept("reliability", r"\breliability\b", "სანდოობ", ("საიმედოობ",)),
    Concept("reliable change", r"\breliable change\b", "სანდო ცვლილებ"),
    Concept("percentile rank", r"\bpercentile rank\b", "პროცენტილური რანგ", ("პროცენტული",)),
    Concept("percentile", r"\bpercentiles?\b", "პროცენტილ", ("პროცენტული",)),
    Concept("stanine", r"\bstanine\b", "სტანაინ"),
    Concept("norm table", r"\bnorm tables?\b", "ნორმატიული ცხრილ"),
    Concept("ipsative", r"\bipsative\b", "იპსატიურ", ("იფსატიურ",)),
    Concept("salient barrier", r"\bsalient\b", "გამოკვეთილ", ("მნიშვნელოვან",)),
    Concept("total indecision", r"\btotal indecision\b", "გადაუწყვეტლობის საერთო მაჩვენებ", ("გაურკვევლობ",)),
    Concept("coherence", r"\bcoherence\b", "ერთგვაროვნებ", ("შეთანხმებულობ",)),
    Concept("consistency", r"\bconsistency\b", "თანმიმდევრულობ"),
    Concept("differentiation", r"\bdifferentiation\b", "დიფერენციაცი"),
    Concept("elevation", r"\belevation\b", "საერთო დონ", ("სიმაღლ",)),
    Concept("clarity", r"\bclarity\b", "გამოხატულობ", ("სიცხად",)),
    Concept("90 % interval", r"\b90 % (band|interval)", "90 %-იანი ინტერვალ", ("ზღვრებ",)),
    Concept("scoring engine", r"\bscoring engine\b|\bengine version\b", "ქულების დათვლის ძრავ", ("ძრავის ვერსი",)),
    Concept("administration (a filling-in)", r"\badministrations?\b", "შევსებ", ("ადმინისტრირებ",)),
    Concept("withdraw consent", r"\bwithdraw", "გამოხმობ|გამოიხმ", ("გაუქმ",)),
    Concept("rank", r"^rank$", "^რანგი$", ("რიგი",)),
    Concept("interpretation", r"\binterpretation\b", "ინტერპრეტაცი"),
    Concept("balanced (bipolar)", r"^balanced\b", "გაწონასწორებულ", ("დაბალანსებულ",)),
    # answers
    Concept("like", r"“like”|^like$", "მომწონს"),
    Concept("I can", r"“I can”|^I can$|\bor I can\b", "შემიძლია"),
    Concept("no right or wrong answers", r"no right or wrong answers", "აქ სწორი და არასწორი პასუხები არ არსებობს"),
    Concept("yes", r"^yes$", "^დიახ$", ("^კი$",)),
    Concept("product name", r"^career guidance$", "^პროფესიული ორიენტაცია$"),
    # occupations named two ways (review #27-#29, #63-#66)
    Concept("pharmacist", r"\bpharmacist\b", "ფარმაცევტ"),
    Concept("pharmacy technician", r"pharmacy technician", "ფარმაცევტის ასისტენტ"),
    Concept("dietitian", r"\bdietitian\b", "დიეტოლოგ"),
    Concept("receptionist", r"\breceptionist\b", "რესეფშენ|ადმინისტრატორ|რეგისტრატორ", ("რეცეფციონისტ", "მიმღებ")),
    Concept("housekeeper", r"\bhousekeep", "სასტუმრო|ოფის", ("^დიასახლისი$",)),
    Concept("manicurist", r"\bmanicurist\b", "მანიკურის სპეციალისტ"),
    Concept("playground supervisor", r"playground supervisor", "მეთვალყურე", ("ზედამხედველ",)),
)

NEVER = {  # names that are wrong anywhere, whatever the English says
    "პროცენტული რანგ": "percentile rank is „პროცენტილური რანგი“ (review #88)",
    "იფსატიურ": "ipsative is „იპსატიური“ (review #69)",
    "მხარდაჭერილი დასაქმებ": "the users' term is „მხარდაჭერითი დასაქმება“ (review #66)",
    "ადმინისტრირებ": "a filling-in of a questionnaire is „შევსება“ (review #90)",
    "პროფორიენტაცი": "the product is „პროფესიული ორიენტაცია“ (review #93)",
    "სწორი ან არასწორი პასუხი": "one wording: „აქ სწორი და არასწორი პასუხები არ არსებობს“ (review #3)",
    "რეცეფციონისტ": "job ads write „რესეფშენისტი“ (review #64)",
    "დაბალანსებულ": "„გაწონასწორებული“ (review #41)",
    "გიხდებათ": "„გიხდებათ“ is about clothes suiting someone (review #30, #83)",
    "გემართებათ": "descriptions do not „happen to“ a person (review #30)",
}
NEVER_EXACT = {
    "კი": "„დიახ“ in forms and reports (review #93)",
    "დიასახლისი": "not an occupation by itself (#63)",
    "Hard skills": "English in the Georgian text (review #92)",
}


# -- the texts ----------------------------------------------------------------------------------------


def _flat(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(prefix: str, node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[prefix] = str(node)

    walk("", tomllib.loads(path.read_text(encoding="utf-8")))
    return out


def _string_pairs(folder: Path, label: str) -> Iterator[tuple[str, str, str]]:
    ka, en = _flat(folder / "ka.toml"), _flat(folder / "en.toml")
    for key in sorted(set(ka) & set(en)):
        yield f"{label} {key}", ka[key], en[key]


def _text_pairs(where: str, obj: object) -> Iterator[tuple[str, str, str]]:
    """Every ka/en pair inside a definition object (pydantic model, dataclass, list, tuple)."""
    if obj is None or isinstance(obj, str | int | float | bool | Path):
        return
    ka, en = getattr(obj, "ka", None), getattr(obj, "en", None)
    if isinstance(ka, str) and isinstance(en, str):
        yield where, ka, en
    if isinstance(obj, list | tuple):
        for k, x in enumerate(obj):
            yield from _text_pairs(f"{where}[{k}]", x)
        return
    fields = getattr(type(obj), "model_fields", None) or getattr(obj, "__dataclass_fields__", {})
    for name in fields:
        if name not in ("ka", "en", "path"):
            yield from _text_pairs(f"{where}.{name}", getattr(obj, name))


def _instrument_pairs() -> Iterator[tuple[str, str, str]]:
    for iid in sorted({i for i, _ in instruments.available()}):
        inst = instruments.load(iid)  # the newest version
        yield from _text_pairs(inst.ref, inst)


def _catalogue_pairs() -> Iterator[tuple[str, str, str]]:
    for a in instruments.activities():
        yield from _text_pairs(f"activities.toml {a.id}", a)
    with (instruments.data_dir() / "occupations.csv").open(encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            yield f"occupations.csv row {n}", row["name_ka"], row["name_en"]


def all_pairs() -> list[tuple[str, str, str]]:
    return [
        *_string_pairs(REPORT_STRINGS, "reports/strings"),
        *_string_pairs(WEB / "strings", "api/web/strings"),
        *_instrument_pairs(),
        *_catalogue_pairs(),
    ]


def template_texts() -> list[tuple[str, str]]:
    """Georgian literal text in the templates (no English twin: checked against NEVER only)."""
    out = []
    for path in TEMPLATES:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if GEORGIAN.search(line):
                out.append((f"{path.name} line {n}", line))
    return out


# -- the check ------------------------------------------------------------------------------------------


def problems(pairs: list[tuple[str, str, str]], literal: list[tuple[str, str]] = ()) -> list[str]:
    """Every place where a concept gets another Georgian name than its one term."""
    out = []
    for where, ka, en in pairs:
        named = [c for c in CONCEPTS if re.search(c.en, en.strip(), re.IGNORECASE)]
        allowed = {c.ka for c in named}
        for c in named:
            if not re.search(c.ka, ka.strip()):
                out.append(f"{where}: the English names {c.name!r} but the Georgian lacks „{c.ka}“: {ka!r}")
            for w in c.wrong:
                if re.search(w, ka.strip()) and not any(re.search(w, a) for a in allowed if a != c.ka):
                    out.append(f"{where}: {c.name!r} is called „{w}“ here; the one term is „{c.ka}“: {ka!r}")
    for where, text in [*((w, ka) for w, ka, _ in pairs), *literal]:
        for bad, why in NEVER.items():
            if bad in text:
                out.append(f"{where}: „{bad}“: {why}")
        if text.strip() in NEVER_EXACT:
            out.append(f"{where}: „{text.strip()}“: {NEVER_EXACT[text.strip()]}")
    return out


def test_every_concept_has_one_georgian_name_everywhere():
    pairs = all_pairs()
    sources = {where.split(" ")[0].split(".")[0] for where, _, _ in pairs}  # every source was read
    assert {
        "reports/strings",
        "api/web/strings",
        "vdq@1",
        "sds@1",
        "ppi@1",
        "intake@1",
        "activities",
        "occupations",
    } <= sources, sources
    assert len(pairs) > 1400
    found = problems(pairs, template_texts())
    assert found == [], "\n".join(found)


def test_the_curated_concepts_are_all_in_use():
    """A concept no English text names any more is a stale row: remove or fix it."""
    english = [en for _, _, en in all_pairs()]
    unused = [c.name for c in CONCEPTS if not any(re.search(c.en, e.strip(), re.IGNORECASE) for e in english)]
    assert unused == []


@pytest.mark.parametrize(
    "ka,en,expected",
    [
        ("პასუხების სანდოობა", "Validity of the answers", "'validity' is called „სანდოობ“"),
        ("პროცენტული რანგი", "Percentile rank", "lacks „პროცენტილური რანგ“"),
        ("90 % ზღვრები (SEM)", "90 % band (SEM)", "„ზღვრებ“"),
        ("საერთო გაურკვევლობა", "Total indecision", "'total indecision'"),
        ("მნიშვნელოვანი ბარიერები", "Salient barriers", "'salient barrier' is called „მნიშვნელოვან“"),
        ("Hard skills", "Hard skills", "„Hard skills“"),
        ("კი", "yes", "„კი“"),
        ("აქ არ არის სწორი ან არასწორი პასუხი.", "There are no right or wrong answers.", "one wording"),
        ("მხარდაჭერილი დასაქმება", "Supported employment", "„მხარდაჭერილი დასაქმებ“"),
        ("ორი ადმინისტრირების შედარება", "Comparison of two administrations", "'administration (a filling-in)'"),
    ],
)
def test_the_check_finds_a_second_name(ka, en, expected):
    found = "\n".join(problems([("test", ka, en)]))
    assert expected in found, found


def test_the_check_accepts_the_one_name_and_two_concepts_in_one_text():
    pairs = [
        ("a", "პასუხების ვალიდობა", "Validity of the answers"),
        ("b", "სანდოობა (r) და ვალიდობა", "reliability (r) and validity"),  # each named by its own term
        ("c", "პროცენტილური რანგი", "Percentile rank"),
    ]
    assert problems(pairs) == []


def test_template_literals_are_checked():
    assert problems([], [("x.html line 3", "<p>პროფორიენტაცია</p>")])
    assert any("ქართული" in text for _, text in template_texts())


@pytest.mark.parametrize("folder", [REPORT_STRINGS, WEB / "strings"], ids=["reports", "web"])
def test_georgian_and_english_have_the_same_keys(folder):
    ka, en = _flat(folder / "ka.toml"), _flat(folder / "en.toml")
    assert sorted(set(ka) - set(en)) == [] and sorted(set(en) - set(ka)) == []
