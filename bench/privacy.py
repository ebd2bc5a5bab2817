"""Benchmark: the cost of redaction on ingest, and key rotation throughput.

1. Ingest of review pages (50 a statement, as the sync writes them) with every detector on,
   beside the same ingest with redaction switched off, in the same run (target: redaction
   costs under 20 % of ingest), and redaction alone in items/s.
2. Re-encrypting N encrypted values under a new key (`plaudit keys rotate`): values/s.

    .venv/bin/python bench/privacy.py [--items 20000] [--values 1000000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import configure_environment, recreate_database


def texts(count: int) -> list[str]:
    from connectors.sandbox import texts as corpus

    rng = random.Random(3)
    translated = [
        f"(Translated by Google) {en}\n\n(Original)\n{orig}" for en, orig in corpus.TRANSLATED
    ]
    pool = [*corpus.ENGLISH, *corpus.EMOJI, *corpus.RIGHT_TO_LEFT, *translated]
    out = []
    for n in range(count):
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 4)))
        if n % 20 == 0:  # some people do type their details
            text += " Call me on +44 20 7946 0958 or mail ann@example.com"
        out.append(text)
    return out


def ingest(organisation_id: int, connection_id: int, samples: list[str]) -> float:
    from connectors.records import ItemRecord
    from models.db import session_scope
    from services.items.upsert import upsert_items

    now = datetime.now(UTC)
    records = [
        ItemRecord(kind="review", external_id=f"r{n}", posted_at=now, provider_updated_at=now,
                   rating=5, text=t)
        for n, t in enumerate(samples)
    ]  # fmt: skip
    started = time.perf_counter()
    for start in range(0, len(records), 50):
        with session_scope() as session:
            upsert_items(
                session,
                organisation_id=organisation_id,
                connection_id=connection_id,
                location_id=None,
                source="google",
                records=records[start : start + 50],
            )
    return time.perf_counter() - started


def setup_tenant(name: str, *, redaction: bool) -> tuple[int, int]:
    from core.redaction import KINDS
    from models import Connection, Organisation, RedactionPolicy
    from models.db import session_scope

    with session_scope() as session:
        organisation = Organisation(name=name)
        session.add(organisation)
        session.flush()
        if not redaction:
            session.add(
                RedactionPolicy(
                    organisation_id=organisation.id, disabled_detectors=list(KINDS), patterns=[]
                )
            )
        connection = Connection(
            organisation_id=organisation.id, provider="google", status="active", capabilities={}
        )
        session.add(connection)
        session.flush()
        return organisation.id, connection.id


def bench_redaction(count: int) -> None:
    from core.redaction import redact

    samples = texts(count)
    started = time.perf_counter()
    for text in samples:
        redact(text)
    alone = time.perf_counter() - started
    off = ingest(*setup_tenant("off", redaction=False), samples)
    on = ingest(*setup_tenant("on", redaction=True), samples)
    print(
        f"redaction alone: {count / alone:,.0f} items/s with every detector\n"
        f"ingest of {count:,} items: {off:.2f}s without redaction, {on:.2f}s with it "
        f"-> redaction costs {100 * (on - off) / off:.1f}% of ingest (target < 20%)"
    )


def bench_rotation(count: int) -> None:
    from cryptography.fernet import Fernet
    from sqlalchemy import text

    from core import crypto
    from models.db import get_engine, session_scope
    from services.privacy.keys import rotate_all
    from tests.support import set_env

    value = crypto.encrypt("someone@example.com")
    with get_engine().begin() as conn:
        # Two encrypted columns a user (address and name), so count/2 users make count values;
        # the same ciphertext each time: rotation decrypts and re-encrypts every one.
        conn.execute(
            text(
                "INSERT INTO users (email, email_index, name, password_hash) "
                "SELECT :v, 'bench-' || n, :v, 'x' FROM generate_series(1, :n) AS n"
            ),
            {"v": value, "n": count // 2},
        )
    old = crypto.keyring()
    set_env(encryption_keys=Fernet.generate_key().decode() + "," + _key_of(old))
    started = time.perf_counter()
    with session_scope() as session:
        done = rotate_all(session)
    elapsed = time.perf_counter() - started
    print(f"key rotation: {done:,} values in {elapsed:.1f}s = {done / elapsed:,.0f} values/s")


def _key_of(ring) -> str:
    import os

    return os.environ["PLAUDIT_ENCRYPTION_KEYS"].split(",")[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--values", type=int, default=1_000_000)
    args = parser.parse_args()
    configure_environment()
    recreate_database()
    bench_redaction(args.items)
    bench_rotation(args.values)


if __name__ == "__main__":
    main()
