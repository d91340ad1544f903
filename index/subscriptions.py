"""Who follows what: `/seguir`, `/siguiendo`, `/dejar` and the counts admins see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from acuerdo.index.db import SessionFactory, guarded, rowcount
from acuerdo.index.errors import NotFoundError, TopicError
from acuerdo.index.lexical import fold
from acuerdo.index.models import Notification, Subscription
from acuerdo.index.question_text import clean_question

MAX_TOPIC_CHARS = 200
MAX_TOPICS_PER_CHAT = 10
EVERYTHING = "todo"
_EVERYTHING_KEY = "*"  # no folded topic equals it: a topic needs a letter or a digit


@dataclass(frozen=True)
class Followed:
    """One subscription as its chat sees it; `number` is its place in `/siguiendo`."""

    id: int
    number: int
    topic: str
    everything: bool


@dataclass(frozen=True)
class FollowCounts:
    """For admins: chats subscribed, distinct topics, subscriptions, chats following all."""

    subscribers: int
    topics: int
    subscriptions: int
    everything: int
    pending: int


def clean_topic(raw: str) -> str:
    """The topic as it will be searched and shown; TopicError when it cannot be followed."""
    # Cleaned like a question: a zero-width or bidi mark inside a word would split it when the
    # topic is searched, and make "fenta\u200bnilo" a second subscription to the same topic.
    topic = clean_question(raw)
    if not topic:
        raise TopicError(
            "Escriba el tema después del comando, por ejemplo: /seguir tráfico de armas"
        )
    if len(topic) > MAX_TOPIC_CHARS:
        raise TopicError(
            f"Ese tema es demasiado largo ({len(topic)} caracteres): use como mucho "
            f"{MAX_TOPIC_CHARS}, unas pocas palabras bastan."
        )
    if not any(ch.isalnum() for ch in topic):
        raise TopicError("El tema necesita al menos una palabra, por ejemplo: /seguir fentanilo")
    return topic


def topic_key(topic: str) -> str:
    """Topics equal once case and accents are folded are the same subscription."""
    return _EVERYTHING_KEY if fold(topic) == EVERYTHING else fold(topic)[:MAX_TOPIC_CHARS]


class Subscriptions:
    """Subscriptions stored in the database, keyed by chat."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def follow(self, chat_id: int, raw_topic: str) -> Followed:
        """Subscribe `chat_id` to a topic ("todo": every new document)."""
        topic = clean_topic(raw_topic)
        key = topic_key(topic)
        everything = key == _EVERYTHING_KEY
        try:
            with guarded(self._sessions) as session, session.begin():
                present = (
                    session.execute(
                        select(Subscription.topic_key).where(Subscription.chat_id == chat_id)
                    )
                    .scalars()
                    .all()
                )
                if key in present:
                    raise TopicError(
                        "Ya sigue todos los documentos nuevos."
                        if everything
                        else f"Ya sigue «{topic}». Vea sus temas con /siguiendo."
                    )
                if len(present) >= MAX_TOPICS_PER_CHAT:
                    raise TopicError(
                        f"Ya sigue {MAX_TOPICS_PER_CHAT} temas, el máximo. Deje alguno con "
                        "/dejar <número> (vea los números con /siguiendo)."
                    )
                row = Subscription(
                    chat_id=chat_id,
                    topic=EVERYTHING if everything else topic,
                    topic_key=key,
                    everything=everything,
                )
                session.add(row)
                session.flush()
                return Followed(row.id, len(present) + 1, row.topic, everything)
        except IntegrityError as exc:  # the same topic sent twice at once
            raise TopicError(f"Ya sigue «{topic}». Vea sus temas con /siguiendo.") from exc

    def followed(self, chat_id: int) -> list[Followed]:
        """The chat's subscriptions, oldest first, numbered from 1."""
        with guarded(self._sessions) as session:
            rows = session.execute(
                select(Subscription)
                .where(Subscription.chat_id == chat_id)
                .order_by(Subscription.id)
            ).scalars()
            return [
                Followed(row.id, number, row.topic, row.everything)
                for number, row in enumerate(rows, start=1)
            ]

    def stop_number(self, chat_id: int, number: int) -> Followed:
        """`/dejar <n>`: remove the chat's n-th subscription as `/siguiendo` lists them."""
        listed = self.followed(chat_id)
        if not 1 <= number <= len(listed):
            raise NotFoundError(
                "No sigue ningún tema con ese número. Vea sus temas con /siguiendo."
                if listed
                else "No sigue ningún tema. Empiece con /seguir <tema>."
            )
        return self.stop(chat_id, listed[number - 1].id)

    def stop(self, chat_id: int, subscription_id: int) -> Followed:
        """Remove one subscription, only if it belongs to `chat_id` (NotFoundError otherwise:
        the same answer for somebody else's id as for one that never existed)."""
        with guarded(self._sessions) as session, session.begin():
            row = session.get(Subscription, subscription_id)
            if row is None or row.chat_id != chat_id:
                raise NotFoundError("Ya no seguía ese tema.")
            followed = Followed(row.id, 0, row.topic, row.everything)
            session.delete(row)
        return followed

    def forget_chat(self, chat_id: int) -> int:
        """A chat that blocked the bot: every subscription and pending message of it goes."""
        with guarded(self._sessions) as session, session.begin():
            removed = rowcount(
                session.execute(delete(Subscription).where(Subscription.chat_id == chat_id))
            )
            session.execute(
                update(Notification)
                .where(Notification.chat_id == chat_id, Notification.status == "pending")
                .values(status="dropped", last_error="blocked")
            )
        return removed

    def counts(self) -> FollowCounts:
        with guarded(self._sessions) as session:
            subscribers = session.scalar(select(func.count(func.distinct(Subscription.chat_id))))
            topics = session.scalar(
                select(func.count(func.distinct(Subscription.topic_key))).where(
                    Subscription.everything.is_(False)
                )
            )
            subscriptions = session.scalar(select(func.count(Subscription.id)))
            everything = session.scalar(
                select(func.count(Subscription.id)).where(Subscription.everything.is_(True))
            )
            pending = session.scalar(
                select(func.count(Notification.id)).where(Notification.status == "pending")
            )
        return FollowCounts(
            subscribers or 0, topics or 0, subscriptions or 0, everything or 0, pending or 0
        )
