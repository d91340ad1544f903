"""`acuerdo ask`: one question, or one per stdin line, as text or JSON lines.

Every line gets exactly one JSON object, in order; a line that cannot be decoded or answered
gets an object with an `error` field, and the batch goes on.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from acuerdo.bot.render import answer_text
from acuerdo.bot.terminal import NOT_UTF8, json_line, printable, undecodable
from acuerdo.index import AcuerdoError, EmptyQuestionError, Library, Settings

MAX_K = 50


def _open(settings: Settings) -> Library:
    return Library.open(settings, notice=lambda message: print(message, file=sys.stderr))


def _answer_json(library: Library, question: str, k: int) -> dict[str, object]:
    answer = library.ask(question, k=k)
    return {
        "question": answer.question,
        "answered": answer.answered,
        "tentative": answer.outcome == "tentative",
        "confidence": round(answer.confidence, 4),
        "results": [
            {
                "passage_id": h.passage_id,
                "document": h.document_title,
                "text": h.text,
                "score": round(h.score, 6),
            }
            for h in answer.hits
        ],
    }


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """`acuerdo ask QUESTION` or, with `-`, one question per stdin line."""
    if undecodable(args.question):
        return bad_argument("la pregunta", as_json=args.json)
    library = _open(settings)
    if args.question != "-":
        return _ask_one(library, args.question, args.k, as_json=args.json)
    for line in sys.stdin:  # decoded with surrogateescape: a bad line is reported, not fatal
        question = line.rstrip("\r\n")
        if args.json:
            print(json_line(_line_record(library, question, args.k)), flush=True)
        elif undecodable(question):
            print(f"(línea ignorada: {NOT_UTF8})", flush=True)
        else:
            try:
                _print_answer(library, question, args.k, sys.stdout)
            except EmptyQuestionError:
                print("(pregunta vacía)", flush=True)
            except AcuerdoError as exc:
                print(f"Error: {exc}", flush=True)
    return 0


def _ask_one(library: Library, question: str, k: int, *, as_json: bool) -> int:
    """One question from the command line: an unanswerable one (empty, only control characters)
    is an error, exit code 1, whatever way it is empty."""
    try:
        if as_json:
            print(json_line(_answer_json(library, question, k)))
        else:
            _print_answer(library, question, k, sys.stdout)
    except AcuerdoError as exc:
        if as_json:
            print(json_line(_error_record(question, str(exc))))
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


def _line_record(library: Library, question: str, k: int) -> dict[str, object]:
    """The JSON object for one stdin line; errors are objects too, so the batch goes on."""
    if undecodable(question):
        shown = question.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return _error_record(shown, f"La línea {NOT_UTF8}: no la he procesado.")
    try:
        return _answer_json(library, question, k)
    except EmptyQuestionError:  # a blank line, or one of only control characters: nothing asked
        return _empty_record(question)
    except AcuerdoError as exc:
        return _error_record(question, str(exc))


def _empty_record(question: str) -> dict[str, object]:
    return {
        "question": question,
        "answered": False,
        "tentative": False,
        "confidence": 0.0,
        "results": [],
    }


def _error_record(question: str, error: str) -> dict[str, object]:
    return {**_empty_record(question), "error": error}


def bad_argument(what: str, *, as_json: bool) -> int:
    """Report an undecodable argument (also as a JSON error object with --json); exit code 1."""
    message = f"{what} {NOT_UTF8}; escríbala de nuevo."
    if as_json:
        print(json_line(_error_record("", message[0].upper() + message[1:])))
    print(f"Error: {message}", file=sys.stderr)
    return 1


def _print_answer(library: Library, question: str, k: int, out: TextIO) -> None:
    print(printable(answer_text(library.ask(question, k=k))), file=out)
