"""Trace replay: read measured task times (CSV or Parquet) and build a replayed `TimeModel`.

A trace has one row per measured task, with columns

    worker,time[,round]

* `worker`: either integer ids 0..n−1 (every id in that range must have rows) or names
  (any other non-empty text), numbered 0..n−1 in order of first appearance. The first data
  row decides which: a trace that mixes ids and names is an error.
* `time`: the task's duration, a finite number ≥ 0 in any unit (the simulator's times are in
  the trace's unit); each worker needs a positive mean.
* `round` (optional): an integer ≥ 0 naming the recorded round (e.g. the synchronous SGD
  step) in which the task ran. A worker's times are replayed in order of round, then of row.

CSV: UTF-8 text, a header line naming the columns (any order, no other columns), blank lines
skipped. Parquet (needs pyarrow, `pip install ata-jax[traces]`): the same columns, integer or
string workers, numeric times. Every bad value is an error that names the file and the line
(CSV, counting the header as line 1) or row (Parquet, the first data row is row 1): nothing is
silently dropped.

The model (`trace_model`) replays worker i's recorded times by bootstrap (i.i.d. draws from
its empirical distribution) or in recorded order (`ata_jax.replay` gives the exact rules).
Its true means μ_i and ψ1 norms α_i are those of worker i's empirical distribution, so
ATA's α and ATA-Empirical's η default to the trace's own values.

    ata-jax simulate --time-model trace.csv --trace-order recorded
"""

from __future__ import annotations

import csv
import dataclasses
import math
import pathlib
import re
from importlib import resources
from typing import Any, Iterator, Sequence

import numpy as np

from ata_jax import psi1
from ata_jax.limits import MAX_TABLE_ENTRIES, MAX_TRACE_ROWS, MAX_WORKERS
from ata_jax.replay import REPLAY_ORDERS, ReplayTable
from ata_jax.timemodels import (FAMILIES, MAX_TIME, MIN_TIME, NUM_PARAMS, ModelError,
                                TimeModel)

TRACE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet")
REQUIRED_COLUMNS: tuple[str, ...] = ("worker", "time")
OPTIONAL_COLUMNS: tuple[str, ...] = ("round",)
ROUND_LIMIT = 2**62
SHIPPED_TRACES: tuple[str, ...] = ("mlp-2cpu",)
"""Traces shipped with the package (`shipped_trace(name)`); see experiments/record_trace.py."""


class TraceError(ModelError):
    """A trace file that does not define task times for every worker."""


@dataclasses.dataclass(frozen=True)
class RecordedTrace:
    """A validated trace (host, float64).

    Attributes:
      path: the file it came from.
      workers: the n worker labels, worker i's label at index i ("0".."n−1" for integer ids).
      times: n arrays float64[m_i], worker i's task times in replay order (time units).
      rounds: n arrays int64[m_i], the recorded round of each time (non-decreasing), or None
        when the trace has no round column.
    """

    path: str
    workers: tuple[str, ...]
    times: tuple[np.ndarray, ...]
    rounds: tuple[np.ndarray, ...] | None

    @property
    def size(self) -> int:
        """n, the number of workers."""
        return len(self.workers)


def is_trace_path(name: str) -> bool:
    """Whether a `--time-model` name is a trace file (by its suffix, case-insensitive)."""
    return str(name).lower().endswith(TRACE_SUFFIXES)


def shipped_trace(name: str = "mlp-2cpu") -> pathlib.Path:
    """The path of a trace shipped as package data (works from a checkout and when installed)."""
    if name not in SHIPPED_TRACES:
        raise TraceError(f"unknown shipped trace {name!r}; shipped: {', '.join(SHIPPED_TRACES)}")
    resource = resources.files("ata_jax") / "data" / "traces" / f"{name}.csv"
    return pathlib.Path(str(resource))


# ----------------------------------------------------------------------------- reading

CsvRows = tuple[list[str], Iterator[tuple[str, list[str]]]]
"""(column names, iterator of (location, fields))."""


def csv_rows(path: str, what: str = "trace", header: str = "worker,time[,round]",
             error_type: type[Exception] | None = None, max_rows: int | None = None) -> CsvRows:
    """(column names, lower-cased, iterator of (location "line N", fields)) of a CSV file of
    UTF-8 text with a header line, blank lines skipped. what, header: the file's kind and
    columns, for the errors (error_type, default TraceError), each naming the file and line.
    max_rows: refuse a file of more data rows before parsing any (its lines are counted)."""
    error_type = error_type or TraceError
    try:
        text = pathlib.Path(path).read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise error_type(f"{path}: cannot read {what}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise error_type(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") \
            from None
    lines = text.splitlines(keepends=True)
    if max_rows is not None and len(lines) > max_rows + 1:  # blank lines do not count
        data_rows = sum(1 for line in lines if line.strip()) - 1
        if data_rows > max_rows:
            raise error_type(f"{path}: {data_rows} rows is more than {max_rows} (each is "
                             "parsed on the host): keep a sample of the trace")
    reader = csv.reader(lines, strict=True)

    def rows():
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise error_type(f"{path}: line {reader.line_num}: not valid CSV: {error}") \
                    from None
            if fields and not (len(fields) == 1 and not fields[0].strip()):  # not blank
                yield f"line {reader.line_num}", fields

    iterator = rows()
    first = next(iterator, None)
    if first is None:
        raise error_type(f"{path}: empty {what}; expected a header line {header}")
    return [field.strip().lower() for field in first[1]], iterator


def _parquet_rows(path: str) -> tuple[list[str], Iterator[tuple[str, list[Any]]]]:
    """(column names, iterator of (location, values)) of a Parquet trace."""
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise TraceError(f"{path}: reading Parquet traces needs pyarrow "
                         "(pip install 'ata-jax[traces]' or pip install pyarrow)") from None
    try:
        table = parquet.read_table(path)
    except OSError as error:
        raise TraceError(f"{path}: cannot read Parquet trace: {error}") from None
    except Exception as error:  # pyarrow's ArrowInvalid and friends
        raise TraceError(f"{path}: not a readable Parquet file: {error}") from None
    names = [str(name).strip().lower() for name in table.column_names]
    try:
        columns = [table.column(index).to_pylist() for index in range(table.num_columns)]
    except Exception as error:
        raise TraceError(f"{path}: cannot convert the Parquet columns: {error}") from None
    rows = ((f"row {index + 1}", list(values)) for index, values in enumerate(zip(*columns)))
    return names, rows


def _check_header(path: str, columns: list[str]) -> None:
    expected = "worker,time[,round]"
    if any(parse_number(name) is not None for name in columns):
        raise TraceError(f"{path}: line 1: missing header; expected a header line {expected}, "
                         f"got {','.join(columns)}")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise TraceError(f"{path}: line 1: column(s) {', '.join(repeated)} appear twice")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    unknown = [name for name in columns if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        problems = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
            [f"unknown column(s) {', '.join(repr(name) for name in unknown)}"] if unknown
            else [])
        raise TraceError(f"{path}: line 1: {'; '.join(problems)}; a trace has the columns "
                         f"{expected}")


def parse_number(value: Any) -> float | None:
    """A float from a number or numeric text, None if it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def parse_integer(value: Any) -> int | None:
    """An int from an integer or integer text ("7", not "7.0"), None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?[0-9]+", text):
            return int(text)
    return None


def _parse_time(path: str, where: str, value: Any) -> float:
    number = parse_number(value)
    if number is None:
        shown = "an empty field" if value is None or str(value).strip() == "" else repr(value)
        raise TraceError(f"{path}: {where}: time must be a number, got {shown}")
    if math.isnan(number):
        raise TraceError(f"{path}: {where}: time is NaN")
    if math.isinf(number) or number > MAX_TIME:
        raise TraceError(f"{path}: {where}: time must be finite and at most {MAX_TIME:g} "
                         f"(rescale the time unit), got {value!r}")
    if number < 0:
        raise TraceError(f"{path}: {where}: time must be >= 0, got {value!r}")
    return number


def _parse_round(path: str, where: str, value: Any) -> int:
    number = parse_integer(value)
    if number is None:
        shown = "an empty field" if value is None or str(value).strip() == "" else repr(value)
        raise TraceError(f"{path}: {where}: round must be an integer >= 0, got {shown}")
    if not 0 <= number < ROUND_LIMIT:
        raise TraceError(f"{path}: {where}: round must be an integer >= 0 (and below "
                         f"{ROUND_LIMIT}), got {number}")
    return number


def read_trace(path: str | pathlib.Path) -> RecordedTrace:
    """Read and validate a CSV or Parquet trace (the format by suffix: .parquet or CSV)."""
    path = str(path)
    parquet = path.lower().endswith(".parquet")
    columns, rows = (_parquet_rows(path) if parquet
                     else csv_rows(path, max_rows=MAX_TRACE_ROWS))
    _check_header(path, columns)
    position = {name: columns.index(name) for name in columns}
    has_rounds = "round" in position
    labels: dict[Any, int] = {}          # worker label -> index (names mode) or id -> id
    first_line: dict[int, str] = {}      # worker -> location of its first row
    integer_ids: bool | None = None
    times: dict[int, list[float]] = {}
    rounds: dict[int, list[int]] = {}
    for row_count, (where, fields) in enumerate(rows, start=1):
        if row_count > MAX_TRACE_ROWS:
            raise TraceError(f"{path}: {where}: more than {MAX_TRACE_ROWS} rows (each is parsed "
                             "on the host): keep a sample of the trace")
        if len(fields) != len(columns):
            raise TraceError(f"{path}: {where}: expected {len(columns)} fields "
                             f"({','.join(columns)}), got {len(fields)}")
        raw_worker = fields[position["worker"]]
        if raw_worker is None or str(raw_worker).strip() == "":
            raise TraceError(f"{path}: {where}: empty worker")
        if isinstance(raw_worker, float):
            raise TraceError(f"{path}: {where}: worker must be an integer id or a name, "
                             f"got the number {raw_worker!r}")
        worker_id = parse_integer(raw_worker)
        if integer_ids is None:
            integer_ids = worker_id is not None
        if integer_ids:
            if worker_id is None:
                raise TraceError(f"{path}: {where}: worker {raw_worker!r} is not an integer id "
                                 "(the first row's worker is an id, so every worker must be)")
            if not 0 <= worker_id < MAX_WORKERS:
                raise TraceError(f"{path}: {where}: worker id must lie in [0, {MAX_WORKERS}), "
                                 f"got {worker_id}")
            worker = worker_id
        else:
            if worker_id is not None:
                raise TraceError(f"{path}: {where}: worker {raw_worker!r} is an integer id but "
                                 "the first row's worker is a name; use ids or names, not both")
            worker = labels.setdefault(str(raw_worker).strip(), len(labels))
            if worker >= MAX_WORKERS:
                raise TraceError(f"{path}: {where}: more than {MAX_WORKERS} workers")
        first_line.setdefault(worker, where)
        times.setdefault(worker, []).append(_parse_time(path, where, fields[position["time"]]))
        if has_rounds:
            rounds.setdefault(worker, []).append(
                _parse_round(path, where, fields[position["round"]]))
    if not times:
        raise TraceError(f"{path}: no task times after the header")
    num_workers = max(times) + 1
    if integer_ids:
        missing = []  # the first few ids without rows (found within len(times) + 5 steps)
        for worker in range(num_workers):
            if worker not in times:
                missing.append(worker)
                if len(missing) == 6:
                    break
        if missing:
            shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
            raise TraceError(f"{path}: {first_line[num_workers - 1]}: worker ids go up to "
                             f"{num_workers - 1} but worker(s) {shown} have no rows "
                             "(integer ids must be 0..n-1, each with task times)")
        names = tuple(str(worker) for worker in range(num_workers))
    else:
        names = tuple(labels)
    worker_times, worker_rounds = [], []
    for worker in range(num_workers):
        values = np.asarray(times[worker], np.float64)
        if not values.mean() >= MIN_TIME:
            raise TraceError(f"{path}: {first_line[worker]}: worker {names[worker]} has a mean "
                             f"time below {MIN_TIME:g}; every worker needs a positive mean time "
                             "(rescale the time unit)")
        if has_rounds:
            order = np.argsort(np.asarray(rounds[worker]), kind="stable")
            values = values[order]
            worker_rounds.append(np.asarray(rounds[worker], np.int64)[order])
        worker_times.append(values)
    return RecordedTrace(path=path, workers=names, times=tuple(worker_times),
                         rounds=tuple(worker_rounds) if has_rounds else None)


# ----------------------------------------------------------------------------- the model

def replay_table(trace: RecordedTrace, order: str = "bootstrap") -> ReplayTable:
    """The padded float32 table [n, max m_i] (and round starts) of a trace."""
    if order not in REPLAY_ORDERS:
        raise TraceError(f"unknown trace order {order!r}; valid orders: "
                         f"{', '.join(REPLAY_ORDERS)}")
    counts = np.array([values.size for values in trace.times], np.int32)
    if trace.size * int(counts.max()) > MAX_TABLE_ENTRIES:
        raise TraceError(f"{trace.path}: {trace.size} workers x {int(counts.max())} rows of the "
                         f"busiest worker pass the replay table's {MAX_TABLE_ENTRIES} entries "
                         "(a 32-bit index): keep fewer rows of the busiest workers")
    table = np.zeros((trace.size, int(counts.max())), np.float32)
    for worker, values in enumerate(trace.times):
        table[worker, :values.size] = values
    round_start = None
    if trace.rounds is not None and order == "recorded":
        recorded_rounds = np.unique(np.concatenate(trace.rounds))
        if trace.size * recorded_rounds.size > MAX_TABLE_ENTRIES:
            raise TraceError(f"{trace.path}: {trace.size} workers x {recorded_rounds.size} "
                             f"recorded rounds pass {MAX_TABLE_ENTRIES} round starts: replay "
                             "it in bootstrap order or keep fewer rounds")
        round_start = np.stack([np.searchsorted(rounds, recorded_rounds, side="left")
                                for rounds in trace.rounds]).astype(np.int32)
    return ReplayTable(times=table, count=counts, round_start=round_start, order=order)


def trace_model(trace: RecordedTrace, order: str = "bootstrap") -> TimeModel:
    """A `TimeModel` that replays `trace` (`order`: "bootstrap" or "recorded").

    mean and psi1 are worker i's empirical mean and ‖X − μ‖_ψ1 under its empirical
    distribution (float64, from the recorded values).
    """
    table = replay_table(trace, order)
    mean = np.array([values.mean() for values in trace.times])
    norm = np.array([psi1.empirical_norm(values) for values in trace.times])
    return TimeModel(family=np.full(trace.size, FAMILIES.index("constant"), np.int32),
                     params=np.zeros((trace.size, NUM_PARAMS)), mean=mean, psi1=norm,
                     families=(), replay=table)


def load_trace_model(path: str | pathlib.Path, order: str = "bootstrap") -> TimeModel:
    """`trace_model(read_trace(path), order)`."""
    if order not in REPLAY_ORDERS:
        raise TraceError(f"unknown trace order {order!r}; valid orders: "
                         f"{', '.join(REPLAY_ORDERS)}")
    return trace_model(read_trace(path), order)


def worker_summary(trace: RecordedTrace) -> list[dict]:
    """Per worker: label, count, mean, std, min, max and ψ1 norm of its recorded times."""
    return [{"worker": label, "count": int(values.size), "mean": float(values.mean()),
             "std": float(values.std()), "min": float(values.min()),
             "max": float(values.max()), "psi1": psi1.empirical_norm(values)}
            for label, values in zip(trace.workers, trace.times)]


def write_parquet(trace_rows: Sequence[tuple], path: str | pathlib.Path,
                  columns: Sequence[str] = ("worker", "time", "round")) -> None:
    """Write rows (worker, time[, round]) as a Parquet trace (needs pyarrow)."""
    import pyarrow as arrow
    import pyarrow.parquet as parquet

    data = {name: [row[index] for row in trace_rows] for index, name in enumerate(columns)}
    parquet.write_table(arrow.table(data), str(path))
