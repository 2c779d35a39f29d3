"""Pure, vectorized scoring of career-guidance instruments.

Responses come in as a 2-D array (one row per administration); scores, codes,
indices and validity flags come out as arrays. No I/O, no database, no texts:
``scoring`` imports neither ``api`` nor ``reports``.
"""

from ._bipolar import BipolarScores, type_string
from ._decision import LEVELS, STATUSES, DecisionScores
from ._engine import ScoreResult, score
from ._errors import BadAnswer, ProforientError, ResponseValidationError, ScoringError
from ._holland import (
    CANDIDATES,
    COHERENCE,
    CONSISTENCY,
    LETTERS,
    HollandScores,
    aspiration_indices,
    brown_gore_c,
    code_strings,
    hexagon_distance,
    iachan_m,
    zener_schnuelle,
)
from ._holland_indices import (
    DIFFERENTIATION,
    coherence,
    consistency,
    differentiation_indices,
    elevation,
    healy_mourton,
)
from ._intake import GROUPS, FieldSpec, IntakeSpec, parse_field, parse_intake, score_intake
from ._missing import MissingPolicy
from ._parse import answer_lookup, as_codes, parse_block, parse_responses
from ._record import (
    SCHEMA_VERSION as RECORD_SCHEMA_VERSION,
)
from ._record import (
    Aspired,
    BipolarRecord,
    Congruence,
    DecisionRecord,
    Flag,
    GenericRecord,
    HollandRecord,
    IntakeRecord,
    ScoreRecord,
    intake_records,
    read_record,
    record_schema,
    records_of,
)
from ._record import Provenance as RecordProvenance
from ._record import ScaleScore as RecordScale
from ._scales import ScaleBlock
from ._spec import ENGINE_VERSION, MISSING, InstrumentSpec, ItemKey, ScaleSpec

__all__ = [
    "Aspired",
    "BadAnswer",
    "BipolarRecord",
    "Congruence",
    "DecisionRecord",
    "Flag",
    "GenericRecord",
    "HollandRecord",
    "IntakeRecord",
    "RECORD_SCHEMA_VERSION",
    "RecordProvenance",
    "RecordScale",
    "ScoreRecord",
    "intake_records",
    "read_record",
    "record_schema",
    "records_of",
    "BipolarScores",
    "CANDIDATES",
    "COHERENCE",
    "CONSISTENCY",
    "DIFFERENTIATION",
    "DecisionScores",
    "ENGINE_VERSION",
    "FieldSpec",
    "GROUPS",
    "HollandScores",
    "IntakeSpec",
    "InstrumentSpec",
    "ItemKey",
    "LETTERS",
    "LEVELS",
    "MissingPolicy",
    "MISSING",
    "ProforientError",
    "ResponseValidationError",
    "STATUSES",
    "ScaleBlock",
    "ScaleSpec",
    "ScoreResult",
    "ScoringError",
    "answer_lookup",
    "as_codes",
    "aspiration_indices",
    "brown_gore_c",
    "code_strings",
    "coherence",
    "consistency",
    "differentiation_indices",
    "elevation",
    "healy_mourton",
    "hexagon_distance",
    "iachan_m",
    "parse_field",
    "parse_block",
    "parse_intake",
    "parse_responses",
    "score",
    "score_intake",
    "type_string",
    "zener_schnuelle",
]
