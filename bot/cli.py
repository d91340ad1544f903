"""The `acuerdo` command: index, ask, chat, eval, stats and bot, over the same `Library`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from acuerdo.bot.asking import MAX_K, bad_argument, cmd_ask
from acuerdo.bot.render import answer_text, clipped
from acuerdo.bot.terminal import (
    NOT_UTF8,
    configure_streams,
    printable,
    progress_bar,
    undecodable,
)
from acuerdo.index import (
    AcuerdoError,
    Library,
    Settings,
    evaluate,
    format_report,
    formats_listed,
    load_settings,
)

log = logging.getLogger("acuerdo")


def _notice(message: str) -> None:
    print(message, file=sys.stderr)


def _open(settings: Settings) -> Library:
    return Library.open(settings, notice=_notice)


def cmd_index_add(args: argparse.Namespace, settings: Settings) -> int:
    if args.title is not None and undecodable(args.title):
        return bad_argument("el título", as_json=False)
    library = _open(settings)
    failed = 0
    for raw in args.paths:
        path = Path(raw)
        label = printable(path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        try:  # each file on its own: one bad file neither stops nor undoes the others
            prepared = library.prepare_path(path, title=args.title)
            result = library.add_prepared(prepared, progress=progress_bar(label))
        except AcuerdoError as exc:
            failed += 1
            print(f"Error: «{label}» no se ha añadido: {exc}", file=sys.stderr)
            continue
        doc = result.document
        verb = "añadido" if result.created else "ya estaba indexado (sin cambios)"
        print(f"[{doc.id}] {printable(doc.title)}: {doc.passages} pasajes, {verb}")
        if result.notifications:
            print(
                f"    {result.notifications} avisos para quienes siguen sus temas: esperan en la "
                "base de datos hasta que un bot en marcha los envíe"
            )
    return 1 if failed else 0


def cmd_index_list(args: argparse.Namespace, settings: Settings) -> int:
    documents = _open(settings).documents()
    if not documents:
        print("No hay documentos indexados.")
    for doc in documents:
        title = printable(doc.title)
        print(f"{doc.id}\t{doc.passages} pasajes\t{doc.added_at:%Y-%m-%d}\t{title}")
    return 0


def cmd_index_remove(args: argparse.Namespace, settings: Settings) -> int:
    info = _open(settings).remove_document(args.id)
    print(f"Eliminado [{info.id}] {printable(info.title)} ({info.passages} pasajes).")
    return 0


def cmd_index_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    library = _open(settings)
    count = library.rebuild(progress=progress_bar("re-embebiendo"))
    print(f"Índice reconstruido: {count} pasajes con {library.embedder.model_id}.")
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    library = _open(settings)
    print("Pregunte sobre los documentos («otro» muestra el siguiente pasaje; «salir» termina).")
    answer = None
    position = 0
    while True:
        try:
            line = input("\n> ")
        except EOFError:
            print()
            return 0
        if undecodable(line):
            print(f"Esa línea {NOT_UTF8}; escríbala de nuevo, por favor.")
            continue
        text = line.strip()
        if not text:
            continue
        if text.lower().lstrip("/").rstrip(".!") in {"salir", "exit", "quit"}:
            return 0
        if text.lower() in {"otro", "otro pasaje", "más", "mas"} and answer is not None:
            position += 1
            if position >= len(answer.hits):
                print("No hay más pasajes para esa pregunta.")
                continue
            print(printable(answer_text(answer, position=position)))
            continue
        try:
            answer = library.ask(text, channel="chat")
        except AcuerdoError as exc:
            print(exc)
            continue
        position = 0
        print(printable(answer_text(answer)))


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    report = evaluate(_open(settings), Path(args.qa), Path(args.keys), k=args.k)
    print(format_report(report, verbose=args.verbose))
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    stats = _open(settings).stats(top=args.top)
    print(f"Documentos: {stats.documents} ({stats.passages} pasajes)")
    print(
        f"Preguntas: {stats.questions}; respondidas: {stats.answered} "
        f"({stats.answered_share:.0%}); con lo más cercano: {stats.tentative}; "
        f"sin resultado: {stats.nothing}"
    )
    print(f"Valoraciones: útiles {stats.helpful}, no útiles {stats.not_helpful}")
    print(
        f"Suscriptores: {stats.subscribers}; temas distintos: {stats.topics}; siguen todo: "
        f"{stats.following_everything}; avisos pendientes: {stats.notifications_pending}"
    )
    if stats.top_unanswered:
        print("Preguntas sin respuesta más frecuentes:")
        for item in stats.top_unanswered:
            print(f"  {item.count}× {printable(clipped(item.question))}")
    return 0


def cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    from acuerdo.bot.app import run_bot

    return run_bot(settings, webhook=args.webhook)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The main job: the Telegram bot when a token is configured, else the terminal chat."""
    if settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value():
        args.webhook = False
        return cmd_bot(args, settings)
    return cmd_chat(args, settings)


def passage_count(text: str) -> int:
    """argparse type for --k and --top: a whole number from 1 to MAX_K."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_K:
        raise argparse.ArgumentTypeError(
            f"debe ser un número entero entre 1 y {MAX_K}, no «{printable(text)}»"
        )
    return value


MAX_ID = 2**63 - 1  # the database's integer columns are 64-bit


def document_id(text: str) -> int:
    """argparse type for document ids: a positive whole number the database can hold."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(
            f"debe ser el id de un documento (un número entero positivo, véase «acuerdo index "
            f"list»), no «{printable(text)}»"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acuerdo", description="Citas textuales de documentos públicos."
    )
    parser.add_argument(
        "--debug", action="store_true", help="muestra trazas completas de los errores"
    )
    parser.set_defaults(handler=cmd_run)
    commands = parser.add_subparsers(dest="command")

    index = commands.add_parser("index", help="gestiona los documentos indexados")
    index_commands = index.add_subparsers(dest="index_command", required=True)
    add = index_commands.add_parser("add", help=f"añade documentos ({formats_listed(last=', ')})")
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--title", help="título del documento (por defecto, el del archivo)")
    add.set_defaults(handler=cmd_index_add)
    index_commands.add_parser("list", help="lista los documentos").set_defaults(
        handler=cmd_index_list
    )
    remove = index_commands.add_parser("remove", help="elimina un documento")
    remove.add_argument("id", type=document_id)
    remove.set_defaults(handler=cmd_index_remove)
    rebuild = index_commands.add_parser("rebuild", help="vuelve a calcular todos los embeddings")
    rebuild.set_defaults(handler=cmd_index_rebuild)

    ask = commands.add_parser("ask", help="responde una pregunta («-» lee una por línea de stdin)")
    ask.add_argument("question")
    ask.add_argument(
        "--k", type=passage_count, default=3, help=f"cuántos pasajes devolver (1–{MAX_K}; 3)"
    )
    ask.add_argument("--json", action="store_true", help="una línea JSON por pregunta")
    ask.set_defaults(handler=cmd_ask)

    commands.add_parser("chat", help="preguntas y respuestas en la terminal").set_defaults(
        handler=cmd_chat
    )

    evaluation = commands.add_parser(
        "eval", help="mide la recuperación sobre un conjunto de preguntas"
    )
    evaluation.add_argument("qa", metavar="QA.jsonl")
    evaluation.add_argument("--keys", required=True, metavar="KEYS.json")
    evaluation.add_argument("--k", type=passage_count, default=5)
    evaluation.add_argument("--verbose", action="store_true", help="muestra cada pregunta")
    evaluation.set_defaults(handler=cmd_eval)

    stats = commands.add_parser("stats", help="uso: preguntas, respuestas, valoraciones")
    stats.add_argument("--top", type=passage_count, default=10)
    stats.set_defaults(handler=cmd_stats)

    bot = commands.add_parser("bot", help="ejecuta el bot de Telegram")
    bot.add_argument(
        "--webhook", action="store_true", help="servidor webhook en vez de long polling"
    )
    bot.set_defaults(handler=cmd_bot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    configure_streams()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        return int(args.handler(args, settings) or 0)
    except AcuerdoError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`acuerdo ask … | head`): nothing left to say to anyone. Point
        # stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for the same situation
    except Exception as exc:  # the CLI promises one clear line, never a traceback
        if args.debug:
            raise
        print(f"Error inesperado: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
