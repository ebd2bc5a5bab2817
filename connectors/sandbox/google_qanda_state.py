"""Q&A questions and answers as the sandbox keeps them (PROVIDERS.md §B)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox import texts
from connectors.sandbox.page_tokens import PageTokenCodec
from connectors.sandbox.timestamps import Clock, format_rfc3339

QUESTIONS = (
    "Do you have parking nearby for customers?",
    "Are you open on public holidays this year?",
    "Is the place accessible with a wheelchair?",
    "Can I bring my dog inside with me?",
)


@dataclass
class Answer:
    name: str
    text: str
    author: dict[str, str]
    time_ns: int

    def resource(self) -> dict[str, Any]:
        stamp = format_rfc3339(self.time_ns, 6)
        return {
            "name": self.name,
            "author": self.author,
            "upvoteCount": 0,
            "text": self.text,
            "createTime": stamp,
            "updateTime": stamp,
        }


@dataclass
class Question:
    name: str
    text: str
    author: dict[str, str]
    create_ns: int
    update_ns: int
    answers: list[Answer] = field(default_factory=list)

    def resource(self, answers: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "author": self.author,
            "text": self.text,
            "createTime": format_rfc3339(self.create_ns, 6),
            "updateTime": format_rfc3339(self.update_ns, 6),
        }
        if self.answers:
            data["topAnswers"] = [a.resource() for a in self.answers[:answers]]
            data["totalAnswerCount"] = len(self.answers)
        return data


class QandaState:
    def __init__(self, lock: threading.RLock, clock: Clock, codec: PageTokenCodec) -> None:
        self.lock, self.clock, self.codec = lock, clock, codec
        self.questions: dict[str, list[Question]] = {}  # by location id, newest-updated first
        self.discontinued: str | None = None
        self._serial = 0

    def populate(self, location_ids: list[str], per_location: int, seed: int) -> None:
        rng = random.Random(f"plaudit-sandbox-qanda:{seed}")
        for location_id in location_ids:
            for n in range(per_location):
                question = self.ask(location_id, QUESTIONS[n % len(QUESTIONS)], _user(rng))
                if n % 3 == 1:
                    self.answer(question, "Yes, right behind the shop.", MERCHANT)
                elif n % 3 == 2:
                    self.answer(question, "I think so, it was last time.", _user(rng))

    def ask(self, location_id: str, text: str, author: dict[str, str]) -> Question:
        with self.lock:
            self._serial += 1
            now = self.clock.now_ns()
            question = Question(
                f"locations/{location_id}/questions/q{self._serial:06d}", text, author, now, now
            )
            self.questions.setdefault(location_id, []).insert(0, question)
            return question

    def answer(self, question: Question, text: str, author: dict[str, str]) -> Answer:
        """answers.upsert for the merchant: one answer of theirs, replaced in place."""
        with self.lock:
            now = self.clock.now_ns()
            mine = next((a for a in question.answers if a.author == author), None)
            if mine is None or author != MERCHANT:
                self._serial += 1
                mine = Answer(f"{question.name}/answers/a{self._serial:06d}", text, author, now)
                question.answers.insert(0, mine)
            mine.text, mine.time_ns = text, now
            self._touch(question, now)
            return mine

    def delete_answer(self, question: Question) -> None:
        with self.lock:
            question.answers = [a for a in question.answers if a.author != MERCHANT]
            self._touch(question, self.clock.now_ns())

    def find(self, location_id: str, question_id: str) -> Question | None:
        name = f"locations/{location_id}/questions/{question_id}"
        with self.lock:
            return next((q for q in self.questions.get(location_id, []) if q.name == name), None)

    def merchant_answers(self) -> list[dict[str, str]]:
        with self.lock:
            return [
                {"question": q.name, "text": a.text}
                for qs in self.questions.values()
                for q in qs
                for a in q.answers
                if a.author == MERCHANT
            ]

    def _touch(self, question: Question, now: int) -> None:
        question.update_ns = now
        listed = self.questions[question.name.split("/")[1]]
        listed.remove(question)
        listed.insert(0, question)


MERCHANT = {"displayName": "The owner", "type": "MERCHANT"}


def _user(rng: random.Random) -> dict[str, str]:
    first = texts.FIRST_NAMES[rng.randrange(len(texts.FIRST_NAMES))]
    return {"displayName": first, "type": "REGULAR_USER"}
